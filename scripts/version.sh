#!/usr/bin/env bash
# Prints the version of the checked-out commit the way the go command names
# module versions, so `make build`, `make dist` and `go install ...@version`
# agree:
#   v1.2.3                                   HEAD is tagged v1.2.3
#   v1.2.4-0.20261129085840-04429d06c18e     3 commits after the tag v1.2.3
#   v0.0.0-20261129085840-04429d06c18e       no tag yet
# with "+dirty" appended when the work tree has uncommitted changes.
# (Go stamps this itself with -buildvcs, but not in a git worktree:
# golang/go#58218; so make passes it with -ldflags.) Prints "devel" outside
# a git checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! git rev-parse --verify -q HEAD >/dev/null 2>&1; then
	echo devel
	exit 0
fi
dirty=
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || dirty=+dirty
if tag=$(git describe --tags --exact-match --match 'v[0-9]*.[0-9]*.[0-9]*' HEAD 2>/dev/null); then
	echo "$tag$dirty"
	exit 0
fi
stamp=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S HEAD)
hash=$(git rev-parse --short=12 HEAD)
if base=$(git describe --tags --abbrev=0 --match 'v[0-9]*.[0-9]*.[0-9]*' HEAD 2>/dev/null); then
	if [[ "$base" == *-* ]]; then
		# v1.2.3-rc.1 -> v1.2.3-rc.1.0.<stamp>-<hash>
		echo "$base.0.$stamp-$hash$dirty"
	else
		# v1.2.3 -> v1.2.4-0.<stamp>-<hash>
		IFS=. read -r major minor patch <<<"${base%%+*}"
		echo "$major.$minor.$((patch + 1))-0.$stamp-$hash$dirty"
	fi
else
	echo "v0.0.0-$stamp-$hash$dirty"
fi
