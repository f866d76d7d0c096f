#!/usr/bin/env bash
# Measures telegraf-chrony against Telegraf's inputs.chrony, chronyc and the
# loopback echo floor, in one run against one private chronyd (chronylab),
# and a gather of every report against inputs.chrony with the same metrics
# on a second one with eight sources, and prints ONE markdown table on
# stdout. Progress goes to a log file.
#
#   BENCHTIME  -benchtime of each gather benchmark and round (default 5000x)
#   BENCH_ROUNDS, BENCH_ONCE_N, BENCH_GATHERS: see bench/table_test.go
#
# Nothing is left behind: the lab, the binaries and the configs live in a
# temporary directory removed on exit; only processes started here are
# stopped (the lab stops its own chronyd daemons).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
benchtime=${BENCHTIME:-5000x}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/telegraf-chrony-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log=$tmp/progress.log
fail() {
	echo "bench: $*" >&2
	[ -s "$log" ] && tail -n 40 "$log" >&2
	exit 1
}

# GNU time gives the peak RSS of --once and chronyc; install it when root.
if [ ! -x /usr/bin/time ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	apt-get install -y -qq time >>"$log" 2>&1 || true
fi

export CGO_ENABLED=0
strip=(-trimpath -ldflags '-s -w')
echo "bench: building" >&2
ours=""
if [ -f cmd/telegraf-chrony/main.go ]; then
	go build "${strip[@]}" -o "$tmp/telegraf-chrony" ./cmd/telegraf-chrony >>"$log" 2>&1 ||
		fail "building cmd/telegraf-chrony failed"
	ours=$tmp/telegraf-chrony
fi
# The shim build of the built-in plugin is a module of its own, with the
# dependency versions Telegraf v1.37.2 chose.
# It and the benchmarks belong to the test wing's module (test/).
(
	cd test
	go build "${strip[@]}" -o "$tmp/chronyshim" ./bench/chronyshim >>"$log" 2>&1 ||
		fail "building test/bench/chronyshim failed"
	go build "${strip[@]}" -o "$tmp/gohello" ./bench/internal/gohello >>"$log" 2>&1 || fail "building gohello failed"
	CGO_ENABLED=1 go test -c -o "$tmp/bench.test" ./bench >>"$log" 2>&1 || fail "building the benchmarks failed"
)

echo "bench: measuring (a few minutes)" >&2
out=$tmp/table.txt
# chronyd's socket directory is /run/chrony, a tmpfs, on real hosts; the
# lab's (which holds the clients' sockets and their private directories)
# goes on one too when there is one, or directory operations on a disk
# file system would be measured instead of the exchange.
labtmp=${TMPDIR:-/tmp}
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	labtmp=/dev/shm
fi
(
	cd "$tmp"
	TMPDIR=$labtmp BENCH_TABLE=1 BENCH_OURS_BIN="$ours" BENCH_SHIM_BIN="$tmp/chronyshim" BENCH_HELLO_BIN="$tmp/gohello" \
		./bench.test -test.run '^TestTable$' -test.benchtime "$benchtime" -test.timeout 60m >"$out" 2>>"$log"
) || { cat "$out" >>"$log"; fail "measurement failed"; }
grep '^|' "$out" || fail "no table produced"
cd "$root"
