#!/usr/bin/env bash
# make demo: show telegraf-chrony's output.
#
# If a chronyd answers at chronyc's default addresses (/run/chrony/chronyd.sock,
# 127.0.0.1:323, [::1]:323), the demo reads that one. Otherwise, as root, it
# starts a private lab on the loopback interface: an NTP server chronyd with
# "local stratum 8" and a chronyd under test synchronised to it, both with -x
# (they never touch the system clock), on ports picked at run time, in a
# temporary directory. It then runs the plugin for a few intervals, printing
# line protocol, prints a --once --format text report, and stops the chronyd
# processes it started (by the pids in their pidfiles) and removes the
# directory, also on error or Ctrl-C.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=bin/telegraf-chrony
RUN_SECONDS=${DEMO_SECONDS:-5}

if [ ! -x "$BIN" ]; then
	echo "demo: $BIN is missing: run make build (or make demo)" >&2
	exit 1
fi

say() { printf '\n== %s\n' "$*"; }

# show runs the plugin the way inputs.execd does for RUN_SECONDS (stdin stays
# open while sleep runs; its end stops the plugin), then once as text.
show() {
	say "telegraf-chrony${*:+ $*} --poll_interval 1s, for ${RUN_SECONDS}s (line protocol, as inputs.execd reads it)"
	sleep "$RUN_SECONDS" | "$BIN" "$@" --poll_interval 1s
	say "telegraf-chrony${*:+ $*} --once --format text"
	"$BIN" "$@" --once --format text
}

# 1. A chronyd that already answers here.
if "$BIN" --once --timeout 500ms --retries 1 >/dev/null 2>&1; then
	say "a local chronyd answers; reading it (no lab started)"
	show
	exit 0
fi

# 2. A private lab: root only, since chronyd -u root keeps its privileges.
if [ "$(id -u)" -ne 0 ]; then
	cat >&2 <<-'EOF'
	demo: no chronyd answers at /run/chrony/chronyd.sock, udp://127.0.0.1:323 or
	udp://[::1]:323, and starting a private chronyd lab needs root.
	Either start the system chronyd (sudo systemctl start chrony; on RHEL
	sudo systemctl start chronyd) and run make demo again, or run the demo
	as root: sudo scripts/demo.sh
	EOF
	exit 1
fi

CHRONYD=$(command -v chronyd || true)
[ -z "$CHRONYD" ] && [ -x /usr/sbin/chronyd ] && CHRONYD=/usr/sbin/chronyd
CHRONYC=$(command -v chronyc || true)
[ -z "$CHRONYC" ] && [ -x /usr/bin/chronyc ] && CHRONYC=/usr/bin/chronyc
if [ -z "$CHRONYD" ] || [ -z "$CHRONYC" ]; then
	echo "demo: chronyd and chronyc are needed: apt-get install chrony (Debian/Ubuntu), dnf install chrony (RHEL/Fedora)" >&2
	exit 1
fi

DIR=$(mktemp -d /tmp/telegraf-chrony-demo.XXXXXX)
chmod 0750 "$DIR" # chronyd refuses a socket directory with bits outside 0770

# alive: pid exists and is not a zombie (an exited chronyd is reaped by init,
# not by this script).
alive() {
	local state
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# stop_lab stops only the chronyd processes this script started: the pids in
# the lab's pidfiles, and only while they still run chronyd with the lab's
# config (a pid can be reused).
stop_lab() {
	local status=$? name pid i
	trap - EXIT INT TERM
	for name in chronyd server; do
		[ -f "$DIR/$name.pid" ] || continue
		pid=$(cat "$DIR/$name.pid")
		if [[ "$pid" =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR/$name.conf"; then
			kill -TERM "$pid" 2>/dev/null || true
			for i in $(seq 50); do
				alive "$pid" || break
				sleep 0.1
			done
			alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	rm -rf "$DIR"
	exit "$status"
}
trap stop_lab EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_ports prints two UDP ports free on 127.0.0.1.
free_ports() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c '
import socket
socks = []
for _ in range(2):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))'
		return
	fi
	local ports=() p
	while [ ${#ports[@]} -lt 2 ]; do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		[ ${#ports[@]} -eq 1 ] && [ "${ports[0]}" -eq "$p" ] && continue
		if ss -Huln "sport = :$p" | grep -q .; then continue; fi
		ports+=("$p")
	done
	echo "${ports[*]}"
}
read -r NTP_PORT CMD_PORT < <(free_ports) || true
if ! [[ "${NTP_PORT:-}" =~ ^[0-9]+$ && "${CMD_PORT:-}" =~ ^[0-9]+$ ]]; then
	echo "demo: could not pick free UDP ports on 127.0.0.1" >&2
	exit 1
fi

cat >"$DIR/server.conf" <<EOF
# demo: NTP server on 127.0.0.1:$NTP_PORT with a local reference
local stratum 8
allow 127.0.0.1
port $NTP_PORT
bindaddress 127.0.0.1
cmdport 0
bindcmdaddress /
pidfile $DIR/server.pid
driftfile $DIR/server.drift
EOF
cat >"$DIR/chronyd.conf" <<EOF
# demo: the chronyd under test, synchronised to the demo NTP server
server 127.0.0.1 port $NTP_PORT iburst minpoll -6 maxpoll -6
port 0
cmdport $CMD_PORT
bindcmdaddress 127.0.0.1
bindcmdaddress $DIR/chronyd.sock
pidfile $DIR/chronyd.pid
driftfile $DIR/chronyd.drift
EOF

say "no chronyd answers here: starting a private lab in $DIR (chronyd -x: the clock is never touched)"
for name in server chronyd; do
	# chronyd forks into the background once it is set up; it fails here if
	# it cannot start. Its log goes to $DIR/$name.log.
	if ! "$CHRONYD" -x -u root -f "$DIR/$name.conf" -l "$DIR/$name.log"; then
		echo "demo: chronyd ($name) did not start:" >&2
		tail -n 20 "$DIR/$name.log" >&2 2>/dev/null || true
		exit 1
	fi
	for _ in $(seq 50); do
		[ -s "$DIR/$name.pid" ] && break
		sleep 0.1
	done
	[ -s "$DIR/$name.pid" ] || { echo "demo: chronyd ($name) wrote no pidfile" >&2; exit 1; }
	echo "started chronyd ($name) pid $(cat "$DIR/$name.pid")"
done
echo "NTP server: udp 127.0.0.1:$NTP_PORT; chronyd under test: udp://127.0.0.1:$CMD_PORT and unixgram://$DIR/chronyd.sock"

# Wait (at most 30 s) until the chronyd under test has a reference.
printf 'waiting for chronyd to synchronise'
synced=0
for _ in $(seq 60); do
	refid=$("$CHRONYC" -n -c -h 127.0.0.1 -p "$CMD_PORT" tracking 2>/dev/null | cut -d, -f1 || true)
	if [ -n "$refid" ] && [ "$refid" != 00000000 ] && [ "$refid" != 7F7F0101 ]; then
		synced=1
		break
	fi
	printf '.'
	sleep 0.5
done
echo
if [ "$synced" -ne 1 ]; then
	echo "demo: chronyd did not synchronise within 30 s; its log:" >&2
	tail -n 20 "$DIR/chronyd.log" >&2 || true
	exit 1
fi
say "chronyc -h 127.0.0.1 -p $CMD_PORT tracking"
"$CHRONYC" -h 127.0.0.1 -p "$CMD_PORT" tracking

cat >"$DIR/telegraf-chrony.conf" <<EOF
[[inputs.chrony_tracking]]
  server = "unixgram://$DIR/chronyd.sock"
EOF
say "config $DIR/telegraf-chrony.conf"
cat "$DIR/telegraf-chrony.conf"

show --config "$DIR/telegraf-chrony.conf"

say "telegraf-chrony --once --server udp://127.0.0.1:$CMD_PORT (the UDP command port, what a non-root agent uses)"
"$BIN" --once --server "udp://127.0.0.1:$CMD_PORT"

say "done: stopping the lab"
