package chrony_tracking

import (
	"sync"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// autoLabel is the server tag of a failure in chronyc's order that no
// default address can be blamed for (the gather was cancelled first).
const autoLabel = "auto"

// target is one configured server: its client, and what was last logged
// about it so that a long outage logs one warning, not one per gather.
type target struct {
	url    string // the configured address; "" in chronyc's order
	client *cmdmon.Client

	// What was last logged, per report: one report of a server can fail
	// (serverstats over UDP) while the others succeed.
	mu       sync.Mutex
	lastCode [numKinds]cmdmon.Code
	failures [numKinds]int // consecutive failed gathers
}

// newTargets makes one target per configured address, or one that tries
// chronyc's default addresses in turn.
func newTargets(s Settings) []*target {
	// A single target is polled inline by the gathering goroutine (see
	// Poll), so its client may wait for replies in a blocking system call;
	// a fleet's clients wait in the network poller, which holds no thread
	// per request in flight.
	c := s.Client
	c.WaitInSyscall = s.Auto || len(s.Addresses) == 1
	if s.Auto {
		return []*target{{client: cmdmon.NewClient(c, s.Addresses...)}}
	}
	ts := make([]*target, len(s.Addresses))
	for i, a := range s.Addresses {
		ts[i] = &target{url: a.String(), client: cmdmon.NewClient(c, a)}
	}
	return ts
}

// label is the server tag when the client does not name an address.
func (t *target) label() string {
	if t.url == "" {
		return autoLabel
	}
	return t.url
}

func closeTargets(ts []*target) {
	for _, t := range ts {
		t.client.Close()
	}
}

// transition records the outcome of a gather of report k and returns how
// many failed gathers of it preceded it and the code of the previous one.
func (t *target) transition(k Kind, code cmdmon.Code) (prev cmdmon.Code, failures int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	prev, failures = t.lastCode[k], t.failures[k]
	t.lastCode[k] = code
	if code == cmdmon.CodeSuccess {
		t.failures[k] = 0
	} else {
		t.failures[k]++
	}
	return prev, failures
}
