// Package cmdmon speaks chrony's command and monitoring protocol (cmdmon),
// the protocol chronyc speaks, for any Go program: it asks chronyd for its
// reports and returns them structured and validated, or an *Error with a
// stable code. It imports neither Telegraf nor the plugin built on it.
//
// No chronyc subprocess is involved: a Client holds one datagram socket,
// unixgram (chronyd's local socket, full access) or UDP (port 323, open to
// loopback and to hosts chronyd lists in cmdallow), and exchanges
// fixed-size requests and replies (104 bytes each for tracking; a request
// is padded to the length of its reply).
//
// # Reports
//
// Tracking, Sources, SourceStats, Activity and ServerStats return what
// chronyc tracking, sources -a, sourcestats -a, activity and serverstats
// print, with chronyc's units and signs. Every request of every report
// goes through one exchange path, so each has the guarantees below.
//
// Sources and SourceStats walk chronyd's table: N_SOURCES, then one
// request per index, and from chrony 4.0 one NTP_SOURCE_NAME per NTP
// source for the name it was given: 1 + 2N requests. Before 4.0 chronyd
// answers that request INVALID (and from 4.7 UNAUTH, where opencommands
// closes it to UDP clients); the client then names sources by their
// address (Ident.NameFrom says so) and stops asking until it dials again.
// A source that disappears during the walk (NOSUCHSOURCE) is left out and
// the rest still come; any other failure fails the whole report. Ident.Key
// is unique and stable per source of one chronyd: the address, a reference
// clock's reference ID, or chronyd's ID of an unresolved source.
//
// ServerStats comes in four reply versions (chrony 3.x, 4.0, 4.2, 4.4);
// ServerStats.Version and Has say which counters this chronyd reported.
// chronyd answers it only on its unix socket unless opencommands opens it.
//
// # What a Client guarantees
//
//   - Every exchange has a deadline: the first attempt waits Config.Timeout,
//     each retry twice as long as the one before (chronyc's schedule), and
//     a whole report, a walk of many requests included, runs under one
//     deadline, so a call never takes longer than Config.Bound. A walk's
//     count is checked against what chronyd can hold (65536 NTP sources
//     plus MaxRefclocks) before anything else is asked, and its result
//     grows only with the replies that come, so an absurd N_SOURCES costs
//     neither time nor memory.
//   - Each attempt carries a new random sequence number. A reply is taken
//     only if its version, packet type, reserved bytes, command and sequence
//     match the request; anything else is discarded while waiting, so a late
//     reply to an earlier request is never taken as the answer to a later one.
//   - After a failed exchange the next call dials again, so a chronyd restart
//     (which recreates its socket) heals by itself.
//   - Replies are validated (ranges, signs, the states chronyd really
//     reports); a reply that fails is an error naming the field and value.
//   - A unixgram client binds its own socket in a private directory chain
//     (<dir>/telegraf-chrony.<pid>/<random>/sock, directories 0711), removes
//     it on every path out, and removes what a killed process of the same
//     user left behind, never anyone else's files.
//   - A Client is safe for concurrent use; exchanges are serialised.
//
// # Configuration
//
// New checks a Config and returns a Client. Config.Resolve is that check
// alone: it returns the Settings a Client runs with, defaults filled in,
// and the addresses to try, or a config_error naming the option and its
// value (Error.Key, Error.Value). NewClient makes Clients from them
// without checking again: one per address, or one that tries chronyc's
// default addresses in turn.
//
// # What we take from github.com/facebook/time/ntp/chrony
//
// Its status names (StatusDesc) and RefidToString for refclock reference
// IDs. We pin
// the version Telegraf's own inputs.chrony is built with, so both can be
// measured in one binary. We do not use its Client: it has no deadline,
// no sequence check, returns untyped status errors and its decoder maps the
// "unspecified" address family to a nil IP, losing the difference between a
// local reference and an unsynchronised clock. Its decoder also goes through
// encoding/binary reflection and allocates per packet; ours reads the fixed
// offsets of each reply directly and allocates nothing to decode one. The tests use its decoder as an
// independent oracle for ours.
package cmdmon
