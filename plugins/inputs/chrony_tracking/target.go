package chrony_tracking

import (
	"fmt"
	"sync"

	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking/tracking"
)

// autoLabel is the server tag of a failure when no server is configured and
// the client could not say which default address it was about.
const autoLabel = "auto"

// target is one configured server: its client, and what was last logged
// about it so that a long outage logs one warning, not one per gather.
type target struct {
	label  string // the server tag when the client does not name one
	client *tracking.Client

	mu       sync.Mutex
	lastCode tracking.Code
	failures int // consecutive failed gathers
}

func newTarget(cfg tracking.Config, url string) (*target, error) {
	cfg.Address = url
	c, err := tracking.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	label := autoLabel
	if url != "" {
		a, _ := tracking.ParseAddress(url) // checked by settings
		label = a.String()
	}
	return &target{label: label, client: c}, nil
}

func closeTargets(ts []*target) {
	for _, t := range ts {
		t.client.Close()
	}
}

// transition records the outcome of a gather and returns how many failed
// gathers preceded it and the code of the previous one.
func (t *target) transition(code tracking.Code) (prev tracking.Code, failures int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	prev, failures = t.lastCode, t.failures
	t.lastCode = code
	if code == tracking.CodeSuccess {
		t.failures = 0
	} else {
		t.failures++
	}
	return prev, failures
}
