//go:build unix

package cmdmon

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon/fsperm"
)

// chainPrefix names this process's directory in the socket directory:
// <dir>/telegraf-chrony.<pid>/<random>/sock. The pid lets a later process
// recognise a dead one's leftovers; the random level, in a directory others
// cannot list (0711), keeps other users from finding a socket chronyd must
// be able to write to.
const (
	chainPrefix  = "telegraf-chrony."
	chainDirMode = 0o711
)

// maxSocketPath is the longest path bind(2) and connect(2) take: sun_path
// less its terminating NUL (107 bytes on Linux, 103 on the BSDs).
var maxSocketPath = len(syscall.RawSockaddrUnix{}.Path) - 1

// chainLen is the most makeChain adds to its base directory:
// /telegraf-chrony.<pid>/<random>/sock with the longest pid Linux gives
// (pid_max is at most 4194304) and os.MkdirTemp's longest name (a uint32).
const chainLen = len("/"+chainPrefix+"4194304") + len("/4294967295") + len("/sock")

// sunPathError says a path is too long for a unix socket.
func sunPathError(key, value, what string, n int, hint string) error {
	return configError(key, value, fmt.Sprintf("%s %d bytes, over the %d-byte limit of a unix socket path (sun_path)", what, n, maxSocketPath), hint)
}

// checkSocketDir refuses a SocketDir under which no client socket fits.
func checkSocketDir(dir string) error {
	if dir == "" || len(dir)+chainLen <= maxSocketPath {
		return nil
	}
	return sunPathError("SocketDir", strconv.Quote(dir),
		fmt.Sprintf("%d bytes, and the client socket under it (%s/telegraf-chrony.<pid>/<random>/sock) up to", len(dir), dir),
		len(dir)+chainLen, fmt.Sprintf("use a directory of at most %d bytes that chronyd's user can traverse, such as /run/telegraf", maxSocketPath-chainLen))
}

// CheckAddress refuses a unixgram address that cannot work with s:
// chronyd's socket path, or the client socket made in its directory when
// SocketDir is empty, longer than a unix socket path can be. The kernel
// would refuse either with EINVAL at every request, which reads as a
// chronyd that is down. The error is a config_error about "Address".
func (s Settings) CheckAddress(a Address) error {
	if a.Network != "unixgram" {
		return nil
	}
	value := strconv.Quote(a.String())
	if len(a.Path) > maxSocketPath {
		return sunPathError("Address", value, "the socket path is", len(a.Path),
			"chronyd cannot bind such a path either: write the path of its socket (bindcmdaddress in chrony.conf)")
	}
	if dir := filepath.Dir(a.Path); s.SocketDir == "" && len(dir)+chainLen > maxSocketPath {
		return sunPathError("Address", value,
			fmt.Sprintf("the client socket in its directory (%s/telegraf-chrony.<pid>/<random>/sock) would be up to", dir),
			len(dir)+chainLen, fmt.Sprintf("set Config.SocketDir to a directory of at most %d bytes that chronyd's user can traverse, such as /run/telegraf", maxSocketPath-chainLen))
	}
	return nil
}

// clientSocket is one bound client socket and the directories made for it.
type clientSocket struct {
	path   string // <dir>/telegraf-chrony.<pid>/<random>/sock
	dir    string // <dir>/telegraf-chrony.<pid>/<random>
	pidDir string
}

// remove deletes the socket and the directories made for it. The pid
// directory goes only once empty: other clients of this process share it.
func (s *clientSocket) remove() {
	if s == nil {
		return
	}
	// Each removed as what it is: os.Remove tries unlink(2) first, which
	// fails on a directory, a system call wasted for each.
	syscall.Unlink(s.path)
	syscall.Rmdir(s.dir)
	syscall.Rmdir(s.pidDir)
}

// maxChainTries bounds makeChain's retries when other clients of this
// process keep emptying and removing the pid directory under it.
const maxChainTries = 100

func (c *Client) dialUnix(a Address) (net.Conn, *clientSocket, *Error) {
	base := c.s.SocketBase(a)
	sweepOnce(base)
	local, err := makeChain(base)
	if err != nil {
		return nil, nil, socketDirError(err, base, a)
	}
	raddr := &net.UnixAddr{Name: a.Path, Net: "unixgram"}
	laddr := &net.UnixAddr{Name: local.path, Net: "unixgram"}
	var conn net.Conn
	if c.inSyscall() {
		conn, err = dialOutside(laddr, raddr)
	} else {
		conn, err = net.DialUnix("unixgram", laddr, raddr)
	}
	if err != nil {
		local.remove()
		return nil, nil, classify(err, a, "connect")
	}
	if err := c.permit(local.path); err != nil {
		conn.Close()
		local.remove()
		var e *Error
		if errors.As(err, &e) {
			e.Address = a.String()
			return nil, nil, e
		}
		return nil, nil, socketDirError(err, base, a)
	}
	return conn, local, nil
}

// permit gives the client socket the configured mode and group, so that
// chronyd, running as its own user, can send the reply.
func (c *Client) permit(path string) error {
	if c.s.SocketGID >= 0 {
		if err := os.Lchown(path, -1, c.s.SocketGID); err != nil {
			// chown(2) to a group the caller is not in is EPERM: the
			// fault is SocketGroup, not SocketDir.
			return &Error{Code: CodePermissionDenied, Err: err,
				Msg:  fmt.Sprintf("cannot give the client socket group %s (Config.SocketGroup)", c.s.SocketGroup),
				Hint: fmt.Sprintf("Config.SocketGroup must name a group this user (uid %d) belongs to: add the user to group %s, or leave Config.SocketGroup empty", os.Geteuid(), c.s.SocketGroup)}
		}
	}
	return os.Chmod(path, c.s.SocketMode)
}

// makeChain creates <base>/telegraf-chrony.<pid>/<random>/ and returns
// where the socket goes.
func makeChain(base string) (*clientSocket, error) {
	pidDir := filepath.Join(base, chainPrefix+strconv.Itoa(os.Getpid()))
	var dir string
	for try := 1; ; try++ {
		err := ensureOwnDir(pidDir)
		if err == nil {
			dir, err = os.MkdirTemp(pidDir, "")
		}
		if err == nil {
			break
		}
		// Another client of this process removed the pid directory, empty,
		// while we made sure of it or before we made ours in it: make it
		// again. Once our directory is in it, it is not empty, and stays.
		// A missing base is not that.
		if !errors.Is(err, fs.ErrNotExist) || try == maxChainTries {
			return nil, err
		}
		if _, serr := os.Stat(base); serr != nil {
			return nil, err
		}
	}
	// MkdirTemp makes 0700 and umask may narrow Mkdir: set the mode chronyd
	// needs to traverse explicitly.
	if err := os.Chmod(dir, chainDirMode); err != nil {
		os.Remove(dir)
		return nil, err
	}
	return &clientSocket{path: filepath.Join(dir, "sock"), dir: dir, pidDir: pidDir}, nil
}

// ensureOwnDir creates dir with chainDirMode, or accepts it if it already is
// a real directory of ours: never follow a link planted by someone else.
func ensureOwnDir(dir string) error {
	err := os.Mkdir(dir, chainDirMode)
	if err == nil {
		return os.Chmod(dir, chainDirMode)
	}
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s exists and is not a directory owned by uid %d", dir, os.Geteuid())
	}
	return nil
}

var swept sync.Map // base dir -> struct{}: leftovers are swept once per process

func sweepOnce(base string) {
	if _, done := swept.LoadOrStore(base, struct{}{}); !done {
		sweepLeftovers(base)
	}
}

// sweepLeftovers removes the socket chains of dead processes of this user:
// a SIGKILLed agent cannot clean up after itself. Only directories named
// like ours, owned by our uid, whose pid no longer runs are touched.
func sweepLeftovers(base string) {
	for _, name := range entryNames(base) {
		pid, ok := chainPID(name)
		if !ok || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		p := filepath.Join(base, name)
		fi, err := os.Lstat(p)
		if err != nil || !fi.IsDir() {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == os.Geteuid() {
			os.RemoveAll(p)
		}
	}
}

// entryNames lists base, unsorted; none if it cannot be read. It reads the
// directory itself: os.ReadDir would make and sort an entry for each name
// in chronyd's socket directory, for a sweep that wants a few of them.
func entryNames(base string) []string {
	fd, err := syscall.Open(base, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer syscall.Close(fd)
	var names []string
	buf := make([]byte, 8192)
	for {
		n, err := syscall.ReadDirent(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return names
		}
		_, _, names = syscall.ParseDirent(buf[:n], -1, names)
	}
}

func chainPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, chainPrefix)
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(rest)
	return pid, err == nil && pid > 0
}

// processAlive reports whether pid exists; EPERM means it does, under
// another user.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// socketPermissionHint names the first path on the way to chronyd's socket
// sock that this user cannot use, and who can.
func socketPermissionHint(sock string) string {
	p, need, groupBit, n := blockingPath(sock)
	who := fmt.Sprintf("uid %d", os.Geteuid())
	if u, err := user.Current(); err == nil {
		who = "user " + u.Username
	}
	return fmt.Sprintf("%s cannot %s %s (%s); %s. On SELinux or AppArmor systems check the audit log for denials",
		who, need, p, n, ReachAdvice(who, n, groupBit))
}

// ReachAdvice is what to do when who cannot use a path on the way to
// chronyd's socket, owned and with the mode n says; groupBit is the mode
// bit that would let n's group do it. The library's permission errors and
// the command's --diagnose give this advice.
func ReachAdvice(who string, n fsperm.Node, groupBit os.FileMode) string {
	fix := fmt.Sprintf("run as root, or add %s to the group that owns it (%s)", who, fsperm.GroupName(n.GID))
	if n.Mode.Perm()&groupBit == 0 || n.GID == 0 {
		// Group membership would not help (the mode gives the group
		// nothing), or the group is root's, which no agent should join.
		fix = "run as root or as chronyd's user"
	}
	return fix + orUDP
}

// blockingPath walks from / to the socket and returns the first component
// this process lacks access to by access(2) (search for directories, write
// for the socket; the socket itself if none), what it needs there, the
// mode bit that would grant it to the owning group, and its owner and mode.
func blockingPath(sock string) (path, need string, groupBit os.FileMode, n fsperm.Node) {
	p, n, err := fsperm.Walk(sock, func(p string, _ fsperm.Node, last bool) bool {
		return last || syscall.Access(p, 0x1) == nil // X_OK
	})
	if err == nil && p != "" {
		return p, "enter the directory", 0o010, n
	}
	n, _ = fsperm.Stat(sock)
	return sock, "write to the socket", 0o020, n
}
