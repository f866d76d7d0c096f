package kafkalab

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestProduceAndConsume(t *testing.T) {
	c := Start(t, "lab-a", "lab-b")
	if got := len(c.Addrs()); got != Brokers {
		t.Fatalf("%d broker addresses, want %d", got, Brokers)
	}
	for _, a := range c.Addrs() {
		host, _, err := net.SplitHostPort(a)
		if err != nil || !net.ParseIP(host).IsLoopback() {
			t.Errorf("broker listens on %s, want loopback", a)
		}
	}
	a, b := c.Consume(t, "lab-a"), c.Consume(t, "lab-b")

	p, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 20
	for i := range n {
		rec := &kgo.Record{Topic: "lab-a", Key: []byte(fmt.Sprint(i % 5)), Value: []byte(fmt.Sprint(i))}
		if err := p.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
	recs := a.Wait(t, 30*time.Second, "20 records", func(r []Record) bool { return len(r) >= n })
	seen := map[string]bool{}
	partitions := map[int32]bool{}
	for _, r := range recs {
		if r.Topic != "lab-a" {
			t.Errorf("record of topic %s on the lab-a consumer", r.Topic)
		}
		seen[string(r.Value)] = true
		partitions[r.Partition] = true
	}
	if len(recs) != n || len(seen) != n {
		t.Errorf("got %d records (%d distinct), want %d distinct", len(recs), len(seen), n)
	}
	if len(partitions) < 2 {
		t.Errorf("5 keys landed in %d partition(s); the topic should have %d", len(partitions), Partitions)
	}
	if got := b.Records(); len(got) != 0 {
		t.Errorf("lab-b received %d records produced to lab-a", len(got))
	}
}
