#!/usr/bin/env bash
# Installs the system packages the integration tests need, or says which
# are missing when not root.
set -euo pipefail
need=()
command -v chronyd >/dev/null 2>&1 || [ -x /usr/sbin/chronyd ] || need+=(chrony)
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
command -v influx >/dev/null 2>&1 || need+=(influxdb-client)
# prometheus brings promtool too.
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || need+=(prometheus)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "missing system packages: ${need[*]}" >&2
	echo "install them as root: apt-get install -y ${need[*]}   (Debian/Ubuntu)" >&2
	exit 1
fi
# The packages' postinst scripts must not start system services: the tests
# run private chronyd, influxd and prometheus processes on loopback ports of
# their own, and a system chronyd would set the clock. A policy-rc.d that
# refuses every start stops invoke-rc.d and deb-systemd-invoke. One that is
# already there is left alone; ours is removed on every exit path.
policy=/usr/sbin/policy-rc.d
made_policy=0
cleanup() {
	if [ "$made_policy" -eq 1 ]; then
		rm -f "$policy"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "installing ${need[*]} with apt-get; services are not started$([ -e "$policy" ] || echo " (a temporary $policy refuses them)")"
if [ ! -e "$policy" ]; then
	made_policy=1
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod +x "$policy"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
