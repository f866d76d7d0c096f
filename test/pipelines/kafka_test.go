package pipelines

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/kafkalab"
)

// topic is one Kafka output of the examples and how its messages read.
type topic struct {
	name     string
	consumer *kafkalab.Consumer
	json     bool
}

func (p *pipeline) topics() []topic {
	return []topic{{topicLP, p.kafkaLP, false}, {topicJSON, p.kafkaJSON, true}}
}

// decode reads each message as one point and checks its key is the
// point's server tag (routing_tag = "server").
func (tp topic) decode(t testing.TB, recs []kafkalab.Record) []point {
	t.Helper()
	out := make([]point, 0, len(recs))
	for _, r := range recs {
		var pt point
		if tp.json {
			pt = parseJSON(t, r.Value)
		} else {
			ps := parseLP(t, r.Value)
			if len(ps) != 1 || bytes.Count(bytes.TrimSpace(r.Value), []byte("\n")) != 0 {
				t.Fatalf("%s: a message of %d points, want one: %s", tp.name, len(ps), r.Value)
			}
			pt = ps[0]
		}
		if string(r.Key) != pt.Tags["server"] {
			t.Fatalf("%s: message key %q, want the server tag %q", tp.name, r.Key, pt.Tags["server"])
		}
		out = append(out, pt)
	}
	return out
}

// latest is the newest tracking point of server with result, and how
// many there are.
func latest(ps []point, url, result string) (last point, n int) {
	for _, pt := range ps {
		if pt.Name == measurement && pt.Tags["server"] == url && pt.Tags["result"] == result {
			last, n = pt, n+1
		}
	}
	return last, n
}

// waitPoints waits until the topic holds min points of server with result
// and returns the newest.
func (tp topic) waitPoints(t *testing.T, url, result string, min int) point {
	t.Helper()
	var last point
	tp.consumer.Wait(t, flowWait, fmt.Sprintf("%d %s point(s) of %s", min, result, url), func(recs []kafkalab.Record) bool {
		var n int
		last, n = latest(tp.decode(t, recs), url, result)
		return n >= min
	})
	return last
}

// Every tag and field of the newest message from each server is what
// telegraf-chrony --once prints for that chronyd, in both formats.
func (p *pipeline) checkKafka(t *testing.T) {
	for _, tp := range p.topics() {
		t.Run(tp.name, func(t *testing.T) {
			for _, s := range p.servers() {
				tp.waitPoints(t, s.url, "success", 2)
				want := once(t, s.url)
				got, _ := latest(tp.decode(t, tp.consumer.Records()), s.url, "success")
				if diffs := sameReading(got, want, s.tol, !tp.json); len(diffs) > 0 {
					t.Errorf("%s (%s): the message differs from --once:\n  %s", s.role, s.url, strings.Join(diffs, "\n  "))
				}
			}
			recs := tp.consumer.Records()
			for i := len(recs) - 1; i >= 0; i-- {
				if string(recs[i].Key) == p.healthy.url {
					t.Logf("a message of %s, key %s: %s", tp.name, recs[i].Key, bytes.TrimSpace(recs[i].Value))
					break
				}
			}
		})
	}
}

// During the outage the failure points arrive: the result tag and
// result_code, nothing else, as --once prints them.
func (p *pipeline) checkKafkaOutage(t *testing.T) {
	for _, tp := range p.topics() {
		t.Run(tp.name, func(t *testing.T) {
			got := tp.waitPoints(t, p.healthy.url, "service_unavailable", 2)
			want := once(t, p.healthy.url)
			if want.Tags["result"] != "service_unavailable" {
				t.Fatalf("--once during the outage: %v", want)
			}
			if diffs := sameReading(got, want, exactlyButAge, !tp.json); len(diffs) > 0 {
				t.Errorf("the failure message differs from --once:\n  %s", strings.Join(diffs, "\n  "))
			}
			t.Logf("failure point: tags %v, fields %v", got.Tags, got.Fields)
		})
	}
}
