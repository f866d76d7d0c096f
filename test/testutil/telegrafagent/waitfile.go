package telegrafagent

import (
	"os"
	"testing"
	"time"
)

const pollInterval = 100 * time.Millisecond

// WaitForFile polls path until pred accepts its content and returns that
// content; a nil pred accepts any non-empty content. A missing file counts
// as empty, since outputs create their files lazily. The test fails after
// timeout, showing the last content seen.
func WaitForFile(t testing.TB, path string, pred func(content string) bool, timeout time.Duration) string {
	t.Helper()
	if pred == nil {
		pred = func(s string) bool { return s != "" }
	}
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			t.Fatalf("telegrafagent: reading %s: %v", path, err)
		}
		content := string(b)
		if pred(content) {
			return content
		}
		if time.Now().After(deadline) {
			t.Fatalf("telegrafagent: %s did not reach the expected content within %v; last content:\n%s", path, timeout, content)
		}
		time.Sleep(pollInterval)
	}
}
