package cmdmon

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"syscall"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon/fsperm"
)

// classify turns a socket error into an *Error with a code and advice. The
// message is the operation and the errno ("connect: permission denied"):
// the errno says what happened, once, and the hint what to do.
func classify(err error, a Address, op string) *Error {
	// Keep the errno, not the *net.OpError around it: that one repeats the
	// addresses, our private client socket path included, in every message.
	var errno syscall.Errno
	if errors.As(err, &errno) {
		err = errno
	}
	e := &Error{Address: a.String(), Err: err, Code: CodeUnavailable, Msg: op, Hint: unavailableHint(a)}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		// The resolver's own words name the host, the server asked and
		// the answer ("lookup h on 10.0.0.53:53: no such host").
		e.Code, e.Msg, e.Err = CodeDNSError, "", dnsErr
		e.Hint = "check the host name and the resolver; it is resolved again on the next gather"
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		e.Code = CodePermissionDenied
		e.Hint = permissionHint(a)
	}
	return e
}

// ChronydPaths are where distributions install chronyd; it is usually not
// on an unprivileged user's PATH.
var ChronydPaths = []string{"/usr/sbin/chronyd", "/usr/bin/chronyd", "/sbin/chronyd", "/usr/local/sbin/chronyd"}

func chronydInstalled() bool {
	for _, p := range ChronydPaths {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

func unavailableHint(a Address) string {
	where := "or set Config.Address to the address chronyd listens on (bindcmdaddress and cmdport in chrony.conf)"
	if !a.Local() {
		return "check that chronyd runs on that host, binds its command port to a reachable address (bindcmdaddress, cmdport) and that no firewall blocks UDP " + strconv.Itoa(a.Port)
	}
	if !chronydInstalled() {
		return "chronyd is not installed here: install the chrony package (apt-get install chrony, or dnf install chrony) and start it (systemctl start chrony, chronyd on RHEL), " + where
	}
	return "chronyd is installed but not answering here: start it (systemctl start chrony, chronyd on RHEL) " + where
}

// orUDP ends the advice about a unix socket closed to this user: a call
// that found UDP closed too leaves it out.
const orUDP = ", or use udp://127.0.0.1:323 (tracking is open over UDP from localhost)"

func timeoutHint(a Address) string {
	if a.Network == "unixgram" {
		return "chronyd may be stopped or overloaded, or unable to write back to the client socket: its user must be able to traverse Config.SocketDir and write the socket (see Config.SocketGroup and Config.SocketMode), and under systemd chronyd cannot see /tmp or /home"
	}
	return "chronyd may be stopped or overloaded, a firewall may drop UDP " + strconv.Itoa(a.Port) + ", or a remote chronyd may not allow this host (cmdallow)"
}

// permissionHint says what to do about a refused socket operation.
func permissionHint(a Address) string {
	if a.Network != "unixgram" {
		return "binding a UDP socket was refused; check seccomp, SELinux or AppArmor policy for this process"
	}
	return socketPermissionHint(a.Path)
}

// SocketDirAdvice is what to do when the client socket cannot be made
// where chronyd can answer it. The library's errors and the command's
// --diagnose give this advice.
const SocketDirAdvice = "set Config.SocketDir to a directory this user can write and chronyd's user can search, e.g. /run/telegraf (mode 0711)" + orUDP

// socketDirError reports that the client socket could not be created
// where chronyd could answer it.
func socketDirError(err error, base string, a Address) *Error {
	// The message names the directory: keep the errno, not the path of
	// the step that failed below it.
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	e := &Error{Address: a.String(), Err: err, Code: CodeUnavailable,
		Msg: fmt.Sprintf("cannot create the client socket under %s", base)}
	if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EROFS) {
		e.Code = CodePermissionDenied
		if n, err := fsperm.Stat(base); err == nil {
			e.Msg += fmt.Sprintf(" (%s)", n)
		}
		e.Hint = SocketDirAdvice
	} else if errors.Is(err, syscall.ENOENT) {
		e.Hint = "chronyd is not running with its socket there, or set Config.SocketDir to a directory that exists"
	}
	return e
}
