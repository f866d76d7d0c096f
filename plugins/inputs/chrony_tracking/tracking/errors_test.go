package tracking

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
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
