#!/usr/bin/env bash
# Runs every Go fuzz target of both modules (the root and the test wing,
# test/) for the given time each.
set -euo pipefail
fuzztime=${1:-15s}
cd "$(dirname "$0")/.."
for mod in . test; do
	(
		cd "$mod"
		for dir in $(go list -f '{{.Dir}}' ./...); do
			for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
				echo "fuzz $dir $target for $fuzztime"
				(cd "$dir" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" .)
			done
		done
	)
done
