// Package bench measures telegraf-chrony against what a user would run
// instead, in one run against one chronyd: Telegraf's built-in inputs.chrony,
// `chronyc -c tracking`, and a plain loopback echo round trip (the floor).
// A gather of every report (BenchmarkGatherAll) is measured against a
// second chronyd with eight sources, with inputs.chrony reading the same
// metrics.
//
// The benchmarks (cd test && go test -bench . ./bench) work at any -benchtime, 1x
// included. TestTable, run by scripts/bench.sh with BENCH_TABLE=1, drives the
// same benchmarks plus the process-level measurements and prints one table;
// see BENCHMARKS.md.
package bench
