#!/usr/bin/env bash
# Installs the system packages the integration tests need, or says which
# are missing when not root.
set -euo pipefail
need=()
command -v chronyd >/dev/null 2>&1 || [ -x /usr/sbin/chronyd ] || need+=(chrony)
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
command -v influx >/dev/null 2>&1 || need+=(influxdb-client)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "missing system packages: ${need[*]}" >&2
	echo "install them as root: apt-get install -y ${need[*]}   (Debian/Ubuntu)" >&2
	exit 1
fi
echo "installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# chrony's postinst must not start a system chronyd: the tests run private
# ones that never touch the clock. policy-rc.d stops invoke-rc.d starting it.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod +x "$policy"
	made_policy=1
fi
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
[ "$made_policy" -eq 1 ] && rm -f "$policy"
exit 0
