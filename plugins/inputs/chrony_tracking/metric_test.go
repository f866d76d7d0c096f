package chrony_tracking

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/metric"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// metricOp is one operation an agent, a processor or an output may apply.
type metricOp struct {
	name string
	do   func(telegraf.Metric)
}

func randomOps(rng *rand.Rand, n int) []metricOp {
	keys := []string{"host", "server", "a", "zz", "result", "b_1", "Z", "reference_id", "k9", "m", "x", "y", "q"}
	f := 2.5
	i := 7
	var b []byte
	values := []any{1.5, int64(-3), uint64(4), "s", true, 3, int32(-2), int16(5), int8(-1), uint(6), uint32(7),
		uint16(8), uint8(9), float32(0.5), []byte("by"), &f, &i, (*float64)(nil), b, struct{}{}, nil}
	ops := make([]metricOp, n)
	for j := range ops {
		k := keys[rng.IntN(len(keys))]
		s := strconv.Itoa(rng.IntN(5))
		switch rng.IntN(10) {
		case 0, 1:
			ops[j] = metricOp{"AddTag " + k + "=" + s, func(m telegraf.Metric) { m.AddTag(k, s) }}
		case 2:
			ops[j] = metricOp{"RemoveTag " + k, func(m telegraf.Metric) { m.RemoveTag(k) }}
		case 3, 4, 5:
			vi := rng.IntN(len(values))
			ops[j] = metricOp{"AddField " + k + " #" + strconv.Itoa(vi), func(m telegraf.Metric) { m.AddField(k, values[vi]) }}
		case 6:
			ops[j] = metricOp{"RemoveField " + k, func(m telegraf.Metric) { m.RemoveField(k) }}
		case 7:
			ops[j] = metricOp{"name " + s, func(m telegraf.Metric) {
				switch s {
				case "0":
					m.SetName("n")
				case "1":
					m.AddPrefix("p_")
				default:
					m.AddSuffix("_s")
				}
			}}
		case 8:
			tp := telegraf.ValueType(rng.IntN(6))
			ops[j] = metricOp{"SetTime/SetType " + s, func(m telegraf.Metric) {
				m.SetTime(time.Unix(int64(len(s)), 5))
				m.SetType(tp)
			}}
		default:
			ops[j] = metricOp{"Copy", nil} // replaces both metrics by their copies
		}
	}
	return ops
}

type tagKV struct{ K, V string }
type fieldKV struct {
	K string
	V any
}

// state is everything an observer of a metric can see.
func state(m telegraf.Metric) map[string]any {
	var tags []tagKV
	for _, t := range m.TagList() {
		tags = append(tags, tagKV{t.Key, t.Value})
	}
	var fields []fieldKV
	for _, f := range m.FieldList() {
		fields = append(fields, fieldKV{f.Key, f.Value})
	}
	gt, gtOK := m.GetTag("server")
	gf, gfOK := m.GetField("a")
	return map[string]any{
		"name": m.Name(), "time": m.Time(), "type": m.Type(), "tagList": tags, "fieldList": fields,
		"tags": m.Tags(), "fields": m.Fields(), "hash": m.HashID(),
		"hashFiltered": m.HashIDWithFieldsFiltered([]string{"host"}, []string{"a"}),
		"hashAll":      m.HashIDWithFieldsFiltered(nil, nil),
		"getTag":       []any{gt, gtOK, m.HasTag("server")}, "getField": []any{gf, gfOK, m.HasField("a")},
	}
}

// A point behaves as Telegraf's own metric under any sequence of the
// interface's operations, so an agent, its processors and outputs see no
// difference; a copy is independent of its original.
func TestPointBehavesLikeTelegrafMetric(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 2026))
	tm := time.Unix(1700000000, 42)
	for run := 0; run < 200; run++ {
		var ours telegraf.Metric = newPoint("chrony_tracking", tm)
		theirs := metric.New("chrony_tracking", nil, nil, tm)
		var done []string
		for _, op := range randomOps(rng, 60) {
			done = append(done, op.name)
			if op.do == nil {
				oc, tc := ours.Copy(), theirs.Copy()
				ours.AddTag("copied", "original")
				theirs.AddTag("copied", "original")
				ours.AddField("copied", 1.0)
				theirs.AddField("copied", 1.0)
				require.NotEqual(t, state(ours), state(oc), "a copy is independent")
				ours, theirs = oc, tc
			} else {
				op.do(ours)
				op.do(theirs)
			}
			require.Equal(t, state(theirs), state(ours), "after %v", done)
		}
	}
}

// The schema fills a point with as few allocations as its boxed values
// need: one for the point, none per tag or field.
func TestMetricAllocations(t *testing.T) {
	rep := cmdmon.Tracking{Address: "udp://127.0.0.1:323", ReferenceID: 0xC0000211, ReferenceName: "192.0.2.17",
		Stratum: 3, RefTime: time.Unix(1700000000, 5), SystemTime: -1.5e-5, LastOffset: 2e-6, RMSOffset: 3e-6,
		Frequency: -12.5, ResidualFreq: 0.25, Skew: 0.05, RootDelay: 0.02, RootDispersion: 0.001, UpdateInterval: 64.2,
		Synchronised: true, ClockErrorBound: 0.011015, RefTimeAge: 37 * time.Second}
	r := Result{Server: rep.Address, Report: rep, At: time.Unix(1700000037, 0)}
	var m telegraf.Metric
	allocs := testing.AllocsPerRun(100, func() { m = r.Metric() })
	require.Len(t, m.FieldList(), 16)
	// 1 point, 1 reference_id string, 12 boxed floats.
	require.LessOrEqual(t, allocs, 14.0)
}
