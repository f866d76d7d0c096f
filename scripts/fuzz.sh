#!/usr/bin/env bash
# Runs every Go fuzz target of both modules (the root and the test wing,
# test/) for the given time each.
#
# Minimising an input that found new coverage runs outside -fuzztime, up to
# Go's default of 60 s: FuzzParse's inputs of a thousand bytes kept a worker
# minimising for 26 s with no exec counted, and the run ended on "context
# deadline exceeded". Minimising is bounded to FUZZMINIMIZE (5 s) here. Go's
# coordinator can still end a run that found nothing with that bare message
# when its deadline races a worker's last call (go.dev/issue/75804): such a
# run, and only one that wrote no failing input, is run once more, saying
# so; a second failure fails.
set -euo pipefail
fuzztime=${1:-15s}
minimize=${FUZZMINIMIZE:-5s}
cd "$(dirname "$0")/.."
out=$(mktemp "${TMPDIR:-/tmp}/telegraf-chrony-fuzz.XXXXXX")
trap 'rm -f "$out"' EXIT

# fuzz DIR TARGET: one run; prints its output, returns its status.
fuzz() {
	(cd "$1" && go test -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" .)
}

for mod in . test; do
	(
		cd "$mod"
		for dir in $(go list -f '{{.Dir}}' ./...); do
			for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
				echo "fuzz $dir $target for $fuzztime"
				if fuzz "$dir" "$target" 2>&1 | tee "$out"; then
					continue
				fi
				if grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out"; then
					echo "fuzz: $target ended on Go's coordinator deadline race with no failing input (go.dev/issue/75804); running it once more"
					fuzz "$dir" "$target"
					continue
				fi
				exit 1
			done
		done
	)
done
