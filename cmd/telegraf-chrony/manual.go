package main

// manual is the --help text, laid out like a man page.
const manual = `NAME
    telegraf-chrony - chronyd's reports as Telegraf metrics

SYNOPSIS
    telegraf-chrony [--config FILE] [--poll_interval DURATION | --poll_interval_disabled] [--debug]
    telegraf-chrony --once [--format influx|json|text] [--config FILE]
                    [--server URL] [--timeout DURATION] [--retries N] [--metrics LIST]
    telegraf-chrony --diagnose [--config FILE] [--server URL] [--timeout DURATION]
                    [--retries N] [--metrics LIST] [--max-error DURATION]
    telegraf-chrony --sample-config | --version | --help

DESCRIPTION
    Asks chronyd for its tracking report (what "chronyc tracking" shows) over
    chrony's own command protocol, without running chronyc, and writes it as a
    chrony_tracking point in InfluxDB line protocol on stdout.

    Without --once it runs as an external plugin of Telegraf's inputs.execd:
    it gathers every poll interval (or, with --poll_interval_disabled, on
    each newline on stdin and each SIGHUP, SIGUSR1 or SIGUSR2), writes
    each gather's points at once, and exits within a second on SIGTERM,
    SIGINT or the end of stdin, removing its client socket. Log lines go to stderr with the level prefixes E!, W!, I!
    and D! that inputs.execd files at the matching level.

    A server that does not answer is data, not a crash: its point carries
    the tags server and result (a word) and the field result_code (a number,
    0 for success) and no measurements, and one warning says what to do. A
    long outage logs that warning once, repeats at debug level, and an info
    line when chronyd answers again.

OPTIONS
    --config FILE
        Options for the plugin: one [[inputs.chrony_tracking]] table (see
        --sample-config), read as Telegraf reads its config. Unknown keys are
        an error. Durations are strings such as "500ms" or numbers of
        seconds. In string values ${VAR} and $VAR are replaced with the
        environment variable VAR, ${VAR:-default} with a default when it is
        unset or empty, $$ with $; an unset variable without a default is an
        error. FILE must be a regular file of at most 1 MiB. Without it, the
        defaults are used: chronyc's address order, timeout 1s, 2 retries.

    --poll_interval DURATION
        Time between gathers, such as 10s (default 1s). With inputs.execd's
        signal = "none", set it to the agent's interval.

    --poll_interval_disabled
        Gather only when a line arrives on stdin or a SIGHUP, SIGUSR1 or
        SIGUSR2 arrives: for signal = "STDIN" (preferred), "SIGHUP",
        "SIGUSR1" or "SIGUSR2". With a poll interval these signals are
        ignored, with a warning the first time. Neither poll flag goes
        with the other, nor with --once.

    --once
        Gather once, print the point(s) on stdout and exit: status 0 when
        every server answered, 1 when one did not, with the error and the
        advice on stderr. Combines with --config or the flags below.

    --format influx|json|text
        Output of --once: line protocol (default), Telegraf's JSON (as its
        serializer writes it by default: timestamp in seconds), or each
        report in chronyc's layout: tracking as "chronyc tracking"
        with the derived values (reference time age, clock error bound,
        synchronised), sources and sourcestats as "chronyc -N sources -a"
        and "chronyc -N sourcestats -a", activity and serverstats as
        chronyc prints them; each report of each server a paragraph of its
        own, ending with its server and result.

    --server URL
        chronyd's command address, overriding the config file's server and
        servers: unixgram:///run/chrony/chronyd.sock, udp://127.0.0.1:323,
        udp://[::1]:323 or udp://HOST[:PORT].

    --timeout DURATION
        Wait for the first reply (default 1s); each retry waits twice as
        long as the one before. Every DURATION is written as in the config
        file: 500ms, 2s, or a number of seconds (2, 0.5).

    --retries N
        Requests sent again after a wait without a reply (default 2, 0..30).
        One server takes at most timeout x (2^(N+1) - 1): 7s by default.

    --metrics LIST
        The reports to read, comma-separated, overriding the config file's
        metrics: tracking, sources, sourcestats, serverstats, activity
        (default tracking). Each is a measurement of its own (chrony_sources
        and so on); a report that fails is a point with its result, and the
        others still come. serverstats needs chronyd's unix socket.

    --diagnose
        Check this host the way a support engineer would and print a report
        on stdout, one line per finding, each OK, INFO, WARN or FAIL with
        what to do: chronyd installed and running (its version, user and
        command addresses), which addresses answer tracking, whether this
        user can create its client socket where chronyd can write back
        (user, groups, modes; Debian's _chrony or RHEL's chrony group),
        SELinux or AppArmor enforcing, protocol version, synchronisation,
        the clock error bound against --max-error, the plugin's verdict on
        the options (what they resolve to, or the key and value at fault:
        a FAIL line, and the other checks run on the defaults), and the
        [[inputs.execd]] table that runs exactly the options checked (the
        --config file by its absolute path, every flag, restart_delay).
        Exit status 0 when there is no WARN and no FAIL, 1 otherwise.
        Takes --config and the flags --server, --timeout and --retries as
        a gather would.

    --max-error DURATION
        With --diagnose: the largest acceptable clock error bound,
        |system time| + root dispersion + root delay/2 (default 100ms).

    --debug
        Also log debug lines (D!).

    --sample-config
        Print the documented configuration and exit.

    --version
        Print the version and exit.

    --help
        Print this text and exit.

EXIT STATUS
    0   success (with --once: every server answered)
    1   --once: at least one server did not answer with a report;
        --diagnose: at least one WARN or FAIL
    2   bad command line or configuration (config_error: the message names
        the key and value, as --diagnose does)
    3   the plugin could not run, or stdout could not be written (a full
        disk, a closed pipe): an E! line on stderr says so

    --once and --diagnose stop on SIGINT, SIGTERM or SIGHUP, removing their
    client sockets, and say "interrupted" (status 1). --once over UDP only
    binds no socket file, and ends as the signal says.

RESULT CODES
    0 success, 1 service_unavailable, 2 timeout, 3 permission_denied,
    4 version_mismatch, 5 incomplete_reply, 6 invalid_data, 7 chronyd_error,
    8 dns_error, 9 config_error. The plugin's README explains each one and
    what to do about it.

EXAMPLES
    Check the local chronyd:
        telegraf-chrony --once --format text

    Ask a chronyd over UDP with a short timeout:
        telegraf-chrony --once --server udp://127.0.0.1:323 --timeout 200ms --retries 0

    Check the host before installing, with the config Telegraf will use:
        telegraf-chrony --diagnose --config /etc/telegraf/telegraf-chrony.conf

    In a file of /etc/telegraf/telegraf.d (the packages install this one as
    /etc/telegraf/telegraf.d/chrony_tracking.conf):
        [[inputs.execd]]
          command = ["/usr/bin/telegraf-chrony",
                     "--config", "/etc/telegraf/telegraf-chrony.conf",
                     "--poll_interval_disabled"]
          signal = "STDIN"
          restart_delay = "10s"
          data_format = "influx"

FILES
    /etc/telegraf/telegraf-chrony.conf
        The plugin's configuration, for --config (a copy of --sample-config
        in the packages; an upgrade keeps your edits).

    /etc/telegraf/telegraf.d/chrony_tracking.conf
        The [[inputs.execd]] table that makes Telegraf run this command.

    /run/chrony/chronyd.sock
        chronyd's command socket. The client creates its own socket next to
        it (or in socket_dir); chronyd's user must be able to write it.

SEE ALSO
    chronyc(1), chronyd(8), chrony.conf(5), telegraf(1)
`
