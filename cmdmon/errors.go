package cmdmon

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies a failure. Its number and word are stable: they are what
// the Telegraf plugin records as result_code and result.
type Code uint8

// The codes. Success is 0 so that a result_code field reads like Telegraf's
// other probing inputs (net_response, http_response, dns_query).
const (
	CodeSuccess          Code = iota // the report was read
	CodeUnavailable                  // no chronyd at the address: socket missing, connection refused, unreachable
	CodeTimeout                      // no valid reply after every attempt
	CodePermissionDenied             // socket or directory permissions, or chronyd's UNAUTH
	CodeVersionMismatch              // chronyd speaks another protocol version
	CodeIncompleteReply              // the reply is shorter than the tracking reply
	CodeInvalidData                  // the reply failed validation or is malformed
	CodeServerError                  // chronyd answered with another failure status
	CodeDNSError                     // the server's host name did not resolve
	CodeConfigError                  // the client's configuration is invalid
)

var codeWords = [...]string{
	"success", "service_unavailable", "timeout", "permission_denied",
	"version_mismatch", "incomplete_reply", "invalid_data", "chronyd_error",
	"dns_error", "config_error",
}

// String returns the code's word, as used in the result tag.
func (c Code) String() string {
	if int(c) < len(codeWords) {
		return codeWords[c]
	}
	return fmt.Sprintf("code_%d", c)
}

// Codes lists every code in order, for documentation and tests.
func Codes() []Code {
	cs := make([]Code, len(codeWords))
	for i := range cs {
		cs[i] = Code(i)
	}
	return cs
}

// Error is every failure this package returns.
type Error struct {
	Code Code
	// Address is the chronyd address the failure is about, as a URL; empty
	// when it is about none in particular (a config_error, or a call
	// cancelled before a Client with several addresses chose one).
	Address string
	// Key and Value name the option at fault and its value as written, for
	// a config_error ("timeout", "-1s").
	Key, Value string
	// Status is chronyd's STT_ failure status when it sent one, else 0
	// (STT_SUCCESS never comes with an error).
	Status uint16
	// ReplyVersion is the protocol version of the reply, for a
	// version_mismatch (compare ProtocolVersion); 0 otherwise.
	ReplyVersion uint8
	// Msg says what happened; Hint says what to do about it.
	Msg  string
	Hint string
	// Err is the underlying cause, if any (a syscall error, a DNS error...).
	Err error
}

// Sentinels for errors.Is: an *Error matches the sentinel of its code.
var (
	ErrUnavailable      = &Error{Code: CodeUnavailable}
	ErrTimeout          = &Error{Code: CodeTimeout}
	ErrPermissionDenied = &Error{Code: CodePermissionDenied}
	ErrVersionMismatch  = &Error{Code: CodeVersionMismatch}
	ErrIncompleteReply  = &Error{Code: CodeIncompleteReply}
	ErrInvalidData      = &Error{Code: CodeInvalidData}
	ErrServerError      = &Error{Code: CodeServerError}
	ErrDNS              = &Error{Code: CodeDNSError}
	ErrConfig           = &Error{Code: CodeConfigError}
)

// Error renders "code (address): message. hint", leaving out what is empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code.String())
	if e.Address != "" {
		b.WriteString(" (")
		b.WriteString(e.Address)
		b.WriteString(")")
	}
	if m := e.Message(); m != "" {
		b.WriteString(": ")
		b.WriteString(m)
	}
	if e.Hint != "" {
		b.WriteString(". ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Message says what went wrong without the code, the address and the hint,
// for reports that print those in places of their own: "key = value: " for
// a config_error, Msg, then ": " and the cause.
func (e *Error) Message() string {
	var b strings.Builder
	if e.Key != "" {
		b.WriteString(e.Key)
		if e.Value != "" {
			b.WriteString(" = ")
			b.WriteString(e.Value)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		if e.Msg != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Timeout reports whether the failure is a timeout, as a net.Error does, so
// code that handles network errors by that method handles these too.
func (e *Error) Timeout() bool { return e.Code == CodeTimeout }

// Is makes errors.Is(err, ErrTimeout) and the like work: two *Errors are
// the same kind of failure when their codes are equal.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// CodeOf returns the code of err: CodeSuccess for nil, the code of the
// *Error in its chain, or CodeServerError for an error of another kind.
func CodeOf(err error) Code {
	if err == nil {
		return CodeSuccess
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeServerError
}

// statusError maps a chronyd failure status to its error; version is the
// protocol version of the reply that carried it, report the name of the
// report asked for (empty when unknown).
func statusError(st uint16, version uint8, report string) *Error {
	e := &Error{Code: CodeServerError, Status: st,
		Msg: fmt.Sprintf("chronyd answered status %s (%d)", statusName(st), st)}
	switch st {
	case sttUnauth, sttNoHostAccess:
		e.Code = CodePermissionDenied
		e.Msg = fmt.Sprintf("chronyd refused the %s command from this host (STT_%s)", report, statusName(st))
		e.Hint = "a remote client needs `cmdallow <its address>` in chronyd's chrony.conf (and chronyd must bind its command port to a reachable address with bindcmdaddress); local commands that are not open over UDP need the unix socket"
		if report == cmdServerStats.name {
			// Open over UDP only where an operator lists it in opencommands
			// (chrony 4.7 and later); everywhere else it is socket-only.
			e.Hint = "chronyd answers serverstats only on its unix socket (unixgram:///run/chrony/chronyd.sock) unless chrony.conf opens it with `opencommands` (chrony 4.7 and later)"
		}
	case sttBadPktVersion:
		e.Code = CodeVersionMismatch
		e.ReplyVersion = version
		e.Msg = fmt.Sprintf("chronyd (replying in protocol version %d) rejected this client's version %d (STT_BADPKTVERSION)", version, protoVersion)
		e.Hint = "this chronyd is too old or too new for the client; upgrade chrony to 2.2 or later, or report the chronyd version"
	case sttBadPktLength:
		e.Hint = "chronyd did not accept the request length; report the chronyd version"
	}
	return e
}

// invalidField reports a reply field that failed validation.
func invalidField(field, value, want string) *Error {
	return &Error{Code: CodeInvalidData,
		Msg:  fmt.Sprintf("field %s is %s, want %s", field, value, want),
		Hint: "the reply is corrupt or chronyd is misbehaving; the next reading is taken afresh"}
}
