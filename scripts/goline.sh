#!/usr/bin/env bash
# Checks that go.mod's go line is the lowest the dependencies allow: the
# highest go line among the modules the build uses. A higher one would shut
# out users of a Go release that can build the command.
set -euo pipefail
cd "$(dirname "$0")/.."
have=$(go list -m -f '{{.GoVersion}}')
need=$(go list -m -f '{{if and (not .Main) .GoVersion}}{{.GoVersion}} {{.Path}}{{end}}' all | sort -V | tail -n 1)
if [ "$have" != "${need%% *}" ]; then
	echo "go.mod says go $have; the dependencies allow go ${need%% *} (${need#* } needs it): run go mod edit -go=${need%% *}" >&2
	exit 1
fi
echo "go.mod: go $have, the lowest the dependencies allow (${need#* })"
