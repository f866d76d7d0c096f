//go:build !unix

package cmdmon

import (
	"fmt"
	"net"
	"runtime"
)

// clientSocket is never made here: this system has no unixgram sockets.
type clientSocket struct{}

func (*clientSocket) remove() {}

const noUnixHint = "use udp://127.0.0.1:323: chronyd answers tracking over UDP from localhost"

// dialUnix fails: chronyd's unix socket exists only on unix systems.
func (c *Client) dialUnix(a Address) (net.Conn, *clientSocket, *Error) {
	return nil, nil, &Error{Code: CodeUnavailable, Address: a.String(),
		Msg: fmt.Sprintf("unixgram sockets are not available on %s", runtime.GOOS), Hint: noUnixHint}
}

func socketPermissionHint(string) string { return noUnixHint }

// checkSocketDir accepts any directory: no client socket is made here.
func checkSocketDir(string) error { return nil }

// CheckAddress accepts every address: a unixgram one fails when dialled,
// saying that this system has no unixgram sockets.
func (Settings) CheckAddress(Address) error { return nil }
