package proc

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// readyPoll is how often waitHTTP asks again.
const readyPoll = 50 * time.Millisecond

// waitHTTP polls url with GET until it answers status, the child exits,
// or timeout passes: how a server child (influxd's /ping, prometheus'
// /-/ready) says it is ready.
func (p *Proc) waitHTTP(client *http.Client, url string, status int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before %s answered: %v", p.name, url, p.Err())
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == status {
				return nil
			}
			err = fmt.Errorf("%s answered %s", url, resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready within %v: %v", p.name, timeout, last)
		case <-time.After(readyPoll):
		}
	}
}
