// Package cmdmon speaks chrony's command and monitoring protocol (cmdmon),
// the protocol chronyc speaks, for any Go program: it asks chronyd for its
// reports and returns them structured and validated, or an *Error with a
// stable code. It imports neither Telegraf nor the plugin built on it.
//
// No chronyc subprocess is involved: a Client holds one datagram socket,
// unixgram (chronyd's local socket, full access) or UDP (port 323, open to
// loopback and to hosts chronyd lists in cmdallow), and exchanges
// fixed-size requests and replies (104 bytes each for tracking).
//
// # What a Client guarantees
//
//   - Every exchange has a deadline: the first attempt waits Config.Timeout,
//     each retry twice as long as the one before (chronyc's schedule), so a
//     call never takes longer than Config.Bound.
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
// and the addresses to try, or a config_error naming the Config field and
// its value (Error.Key, Error.Value: "Timeout", "-1s"). Messages and hints
// name fields as "Config.SocketDir" and so on, so that a program
// configured in other terms can reword them (the Telegraf plugin names its
// TOML keys). NewClient makes Clients from them
// without checking again: one per address, or one that tries chronyc's
// default addresses in turn.
//
// # What we take from github.com/facebook/time/ntp/chrony
//
// Its protocol constants and names: the reply type RpyTracking, the status
// names (StatusDesc) and RefidToString for refclock reference IDs. We pin
// the version Telegraf's own inputs.chrony is built with, so both can be
// measured in one binary. We do not use its Client: it has no deadline,
// no sequence check, returns untyped status errors and its decoder maps the
// "unspecified" address family to a nil IP, losing the difference between a
// local reference and an unsynchronised clock. Its decoder also goes through
// encoding/binary reflection and allocates per packet; ours reads the fixed
// offsets of the 104-byte reply directly. The tests use its decoder as an
// independent oracle for ours.
package cmdmon
