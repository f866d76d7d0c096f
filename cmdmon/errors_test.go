package cmdmon

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/telegraf-chrony/telegraf-chrony/cmdmon/fsperm"
)

func TestCodesAreStable(t *testing.T) {
	want := []string{"success", "service_unavailable", "timeout", "permission_denied",
		"version_mismatch", "incomplete_reply", "invalid_data", "chronyd_error", "dns_error", "config_error"}
	var got []string
	for i, c := range Codes() {
		assert.EqualValues(t, i, c)
		got = append(got, c.String())
	}
	assert.Equal(t, want, got)
}

func TestErrorsIs(t *testing.T) {
	sentinels := []*Error{ErrUnavailable, ErrTimeout, ErrPermissionDenied, ErrVersionMismatch,
		ErrIncompleteReply, ErrInvalidData, ErrServerError, ErrDNS, ErrConfig}
	for _, s := range sentinels {
		err := fmt.Errorf("gather: %w", &Error{Code: s.Code, Address: "udp://127.0.0.1:323", Msg: "m", Err: syscall.EACCES})
		for _, other := range sentinels {
			assert.Equal(t, s == other, errors.Is(err, other), "%v is %v", s.Code, other.Code)
		}
		assert.True(t, errors.Is(err, os.ErrPermission), "the cause stays inspectable")
		assert.Equal(t, s.Code, CodeOf(err))
	}
	assert.Equal(t, CodeSuccess, CodeOf(nil))
	assert.Equal(t, CodeServerError, CodeOf(errors.New("other")))
}

func TestErrorMessage(t *testing.T) {
	e := &Error{Code: CodeTimeout, Address: "udp://127.0.0.1:323", Msg: "no reply after 3 attempt(s) in 7s", Hint: "start chronyd", Err: errors.New("i/o timeout")}
	assert.Equal(t, "timeout (udp://127.0.0.1:323): no reply after 3 attempt(s) in 7s: i/o timeout. start chronyd", e.Error())
}

// *Error answers Timeout like a net.Error, so generic network code can
// tell a timeout from other failures.
func TestErrorTimeout(t *testing.T) {
	var ne interface{ Timeout() bool }
	require.True(t, errors.As(fmt.Errorf("gather: %w", &Error{Code: CodeTimeout}), &ne))
	assert.True(t, ne.Timeout())
	for _, c := range Codes() {
		assert.Equal(t, c == CodeTimeout, (&Error{Code: c}).Timeout(), c.String())
	}
}

// Each socket failure says each thing once: the operation, the errno, the
// owner and mode of the directory in the way, then the advice.
func TestSocketErrorsSayEachThingOnce(t *testing.T) {
	unix := Address{Network: "unixgram", Path: "/run/chrony/chronyd.sock"}
	udp := Address{Network: "udp", Host: "127.0.0.1", Port: DefaultPort}
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o750))
	n, err := fsperm.Stat(dir)
	require.NoError(t, err)
	for _, tt := range []struct {
		err  *Error
		want string // the message before the advice
	}{
		{classify(syscall.EACCES, unix, "connect"), "permission_denied (unixgram:///run/chrony/chronyd.sock): connect: permission denied. "},
		{classify(syscall.EPERM, udp, "send"), "permission_denied (udp://127.0.0.1:323): send: operation not permitted. "},
		{classify(syscall.ECONNREFUSED, udp, "receive"), "service_unavailable (udp://127.0.0.1:323): receive: connection refused. "},
		{classify(syscall.ENOENT, unix, "connect"), "service_unavailable (unixgram:///run/chrony/chronyd.sock): connect: no such file or directory. "},
		{socketDirError(syscall.EACCES, dir, unix), "permission_denied (unixgram:///run/chrony/chronyd.sock): cannot create the client socket under " + dir + " (" + n.String() + "): permission denied. "},
		{socketDirError(&fs.PathError{Op: "mkdir", Path: dir + "/telegraf-chrony.1", Err: syscall.EACCES}, dir, unix), "permission_denied (unixgram:///run/chrony/chronyd.sock): cannot create the client socket under " + dir + " (" + n.String() + "): permission denied. "},
		{socketDirError(syscall.ENOENT, "/run/none", unix), "service_unavailable (unixgram:///run/chrony/chronyd.sock): cannot create the client socket under /run/none: no such file or directory. "},
	} {
		msg := tt.err.Error()
		assert.True(t, strings.HasPrefix(msg, tt.want), "%q\nwant prefix %q", msg, tt.want)
		assert.NotRegexp(t, `\(\S+:\S+ 0[0-7]*\)$`, tt.err.Hint, "no owner and mode trailing after the advice")
		for _, phrase := range []string{"permission denied", "exist", "no such file", n.String(), dir, "/run/none"} {
			assert.LessOrEqual(t, strings.Count(msg, phrase), 1, "%q says %q twice", msg, phrase)
		}
	}
}

// The library's messages and hints speak of its Config's fields, never of
// the Telegraf plugin's TOML keys: a Go program using it has no such keys.
func TestMessagesNameNoPluginKeys(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	require.NoError(t, err)
	keys := regexp.MustCompile(`socket_dir|socket_group|socket_perms|max_in_flight|dns_lookup|\bset (server|timeout|retries)\b|\(server\)`)
	found := 0
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					found++
					assert.False(t, keys.MatchString(lit.Value), "%s: %s", fset.Position(lit.Pos()), lit.Value)
				}
				return true
			})
		}
	}
	require.Greater(t, found, 100, "the strings were read")
}
