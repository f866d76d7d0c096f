#!/usr/bin/env bash
# Installs the system packages a make target needs, or names them.
#
#   scripts/deps.sh demo   chrony (chronyd, chronyc): all make demo needs
#   scripts/deps.sh test   the above, InfluxDB 1.x (influxd, influx),
#                          prometheus (with promtool) for the pipeline tests,
#                          rpm (to inspect the .rpm), man-db (man, for the
#                          package test) and qemu-user-static (to run the
#                          arm64 and armv7 builds: their unit tests and the
#                          release binaries): what make test needs; with
#                          TELEGRAF_CHRONY_CHRONY_SRC set, a C compiler and
#                          make too, to build chrony releases
#
# As root on a host with apt-get it says what it will install, then installs
# it. The packages' postinst scripts would start system services (a system
# chronyd sets the clock); the tests and the demo run private chronyd,
# influxd and prometheus processes on loopback ports of their own, so while
# apt-get runs a /usr/sbin/policy-rc.d refuses every start (invoke-rc.d,
# deb-systemd-invoke). One that is already there is left alone. It is
# removed on every exit path, a failed apt-get included: left behind, it
# would stop every service on the host from starting. As another user, or
# on a host without apt-get, it names what to install and exits 1.
set -euo pipefail
purpose=${1:-test}
policy=${POLICY_RC_D:-/usr/sbin/policy-rc.d}

# has PROGRAM: on PATH or in the sbin directories PATH often lacks.
has() {
	PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1
}

need=()
case "$purpose" in
demo) has chronyd && has chronyc || need+=(chrony) ;;
test)
	has chronyd && has chronyc || need+=(chrony)
	has influxd || need+=(influxdb)
	has influx || need+=(influxdb-client)
	has prometheus && has promtool || need+=(prometheus)
	has rpm || need+=(rpm)
	has man || need+=(man-db)
	has qemu-aarch64-static && has qemu-arm-static || need+=(qemu-user-static)
	# Building chrony releases for the compatibility matrix (test/compat).
	if [ -n "${TELEGRAF_CHRONY_CHRONY_SRC:-}" ]; then
		has cc || need+=(gcc libc6-dev)
		has make || need+=(make)
	fi
	;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac
[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	rpm_names=()
	for p in "${need[@]}"; do
		case "$p" in
		influxdb | influxdb-client | prometheus) ;; # not in RHEL's repositories
		*) rpm_names+=("$p") ;;
		esac
	done
	tool=dnf
	command -v dnf >/dev/null 2>&1 || { command -v yum >/dev/null 2>&1 && tool=yum; }
	echo "deps: missing for make $purpose: ${need[*]}, and this host has no apt-get." >&2
	[ ${#rpm_names[@]} -gt 0 ] && echo "deps: on RHEL or Fedora: sudo $tool install -y ${rpm_names[*]}" >&2
	[[ " ${need[*]} " == *" influxdb"* ]] && echo "deps: InfluxDB 1.x (influxd, influx) comes from InfluxData's repository there." >&2
	[[ " ${need[*]} " == *" prometheus "* ]] && echo "deps: prometheus and promtool come from Prometheus' releases there." >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing for make $purpose: ${need[*]}" >&2
	echo "deps: install them as root: sudo apt-get install -y ${need[*]}" >&2
	exit 1
fi

made_policy=0
cleanup() {
	local status=$?
	trap - EXIT INT TERM
	if [ "$made_policy" -eq 1 ]; then
		rm -f "$policy"
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "deps: make $purpose needs ${need[*]}: installing with apt-get (apt-get update first)."
if [ ! -e "$policy" ]; then
	echo "deps: services stay stopped meanwhile ($policy, removed afterwards)."
	made_policy=1
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod +x "$policy"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "deps: installed ${need[*]}."
