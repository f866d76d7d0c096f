package chrony_tracking

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking/tracking"
)

// How long a reverse lookup is remembered. A failure is retried sooner so
// that a resolver outage heals, but not on every gather, which would spend
// the timeout each time.
const (
	nameTTL     = time.Hour
	negativeTTL = time.Minute
)

// nameCache resolves reference addresses to host names for dns_lookup.
type nameCache struct {
	lookup func(ctx context.Context, addr string) ([]string, error)

	mu      sync.Mutex
	entries map[netip.Addr]nameEntry
}

type nameEntry struct {
	name    string // empty: the lookup failed
	expires time.Time
}

func newNameCache() *nameCache {
	return &nameCache{lookup: net.DefaultResolver.LookupAddr, entries: make(map[netip.Addr]nameEntry)}
}

// name returns the host name of the report's reference, or the name chronyd
// gave (its IP address) when there is no address to resolve or the lookup
// fails or does not finish by deadline.
func (c *nameCache) name(ctx context.Context, r tracking.Report, deadline time.Time) string {
	if !r.ReferenceAddr.IsValid() {
		return r.ReferenceName
	}
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[r.ReferenceAddr]
	c.mu.Unlock()
	if !ok || now.After(e.expires) {
		e = c.resolve(ctx, r.ReferenceAddr, deadline)
		c.mu.Lock()
		c.entries[r.ReferenceAddr] = e
		c.mu.Unlock()
	}
	if e.name == "" {
		return r.ReferenceName
	}
	return e.name
}

func (c *nameCache) resolve(ctx context.Context, a netip.Addr, deadline time.Time) nameEntry {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	names, err := c.lookup(ctx, a.String())
	if err != nil || len(names) == 0 {
		return nameEntry{expires: time.Now().Add(negativeTTL)}
	}
	return nameEntry{name: strings.TrimSuffix(names[0], "."), expires: time.Now().Add(nameTTL)}
}
