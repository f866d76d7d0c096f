// Package kafkalab runs a Kafka cluster for pipeline tests: franz-go's
// kfake, an in-process cluster that speaks the Kafka protocol on loopback
// ports, since no Kafka server is packaged for Debian. Topics are read back
// with franz-go's kgo, a real Kafka client, so a test checks what a
// consumer of the topic would get.
package kafkalab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// Brokers and Partitions make a cluster like a small production one:
	// a producer must follow metadata to each partition's leader.
	Brokers    = 3
	Partitions = 3
	pollTick   = 100 * time.Millisecond
)

// Cluster is a running kfake cluster.
type Cluster struct {
	cluster *kfake.Cluster
	addrs   []string
}

// Start runs a cluster holding topics, each with Partitions partitions,
// on 127.0.0.1 ports the kernel picks. It is closed when the test ends.
func Start(t testing.TB, topics ...string) *Cluster {
	t.Helper()
	c, err := kfake.NewCluster(
		kfake.NumBrokers(Brokers),
		kfake.SeedTopics(Partitions, topics...),
	)
	if err != nil {
		t.Fatalf("kafkalab: starting the cluster: %v", err)
	}
	t.Cleanup(c.Close)
	return &Cluster{cluster: c, addrs: c.ListenAddrs()}
}

// Addrs are the brokers' host:port addresses, for a producer's
// bootstrap list.
func (c *Cluster) Addrs() []string { return slices.Clone(c.addrs) }

// Record is one message as a consumer received it.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	Timestamp time.Time
}

// Consumer reads one topic from its first offset, in the background,
// until the test ends.
type Consumer struct {
	client *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	records []Record
	err     error
}

// Consume starts reading topic from the beginning of every partition.
func (c *Cluster) Consume(t testing.TB, topic string) *Consumer {
	t.Helper()
	client, err := kgo.NewClient(
		kgo.SeedBrokers(c.addrs...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		t.Fatalf("kafkalab: consumer for %s: %v", topic, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Consumer{client: client, cancel: cancel, done: make(chan struct{})}
	go r.run(ctx)
	t.Cleanup(r.close)
	return r
}

func (r *Consumer) run(ctx context.Context) {
	defer close(r.done)
	for {
		fetches := r.client.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		var errs []error
		fetches.EachError(func(topic string, partition int32, err error) {
			errs = append(errs, fmt.Errorf("%s/%d: %w", topic, partition, err))
		})
		r.mu.Lock()
		fetches.EachRecord(func(rec *kgo.Record) {
			r.records = append(r.records, Record{
				Topic:     rec.Topic,
				Partition: rec.Partition,
				Offset:    rec.Offset,
				Key:       slices.Clone(rec.Key),
				Value:     slices.Clone(rec.Value),
				Timestamp: rec.Timestamp,
			})
		})
		if len(errs) > 0 {
			r.err = errors.Join(errs...)
		}
		r.mu.Unlock()
	}
}

func (r *Consumer) close() {
	r.cancel()
	<-r.done
	r.client.Close()
}

// Records returns a copy of what has arrived so far, in arrival order
// (which is offset order within a partition).
func (r *Consumer) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.records)
}

// Wait polls until cond accepts the records received so far and returns
// them; it fails the test after timeout, naming the last fetch error.
func (r *Consumer) Wait(t testing.TB, timeout time.Duration, what string, cond func([]Record) bool) []Record {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		recs := r.Records()
		if cond(recs) {
			return recs
		}
		if time.Now().After(deadline) {
			r.mu.Lock()
			err := r.err
			r.mu.Unlock()
			t.Fatalf("kafkalab: %s: not there after %v (%d records; last fetch error: %v)", what, timeout, len(recs), err)
		}
		time.Sleep(pollTick)
	}
}
