package chrony_tracking

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// How long a reverse lookup is remembered. A failure is retried sooner so
// that a resolver outage heals, but not on every gather, which would spend
// the timeout each time.
const (
	nameTTL     = time.Hour
	negativeTTL = time.Minute
)

// dnsCache resolves reference addresses to host names for dns_lookup: a
// reverse DNS cache with a lifetime per entry.
type dnsCache struct {
	lookup func(ctx context.Context, addr string) ([]string, error)

	mu      sync.Mutex
	entries map[netip.Addr]dnsEntry
}

type dnsEntry struct {
	name    string // empty: the lookup failed
	expires time.Time
}

func newDNSCache() *dnsCache {
	return &dnsCache{lookup: net.DefaultResolver.LookupAddr, entries: make(map[netip.Addr]dnsEntry)}
}

// name returns the host name of the report's reference, or the name chronyd
// gave (its IP address) when there is no address to resolve or the lookup
// fails or does not finish by deadline.
func (c *dnsCache) name(ctx context.Context, r cmdmon.Tracking, deadline time.Time) string {
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

func (c *dnsCache) resolve(ctx context.Context, a netip.Addr, deadline time.Time) dnsEntry {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	names, err := c.lookup(ctx, a.String())
	if err != nil || len(names) == 0 {
		return dnsEntry{expires: time.Now().Add(negativeTTL)}
	}
	return dnsEntry{name: strings.TrimSuffix(names[0], "."), expires: time.Now().Add(nameTTL)}
}
