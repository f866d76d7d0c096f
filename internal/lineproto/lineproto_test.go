package lineproto

import (
	"math"
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/metric"
	"github.com/influxdata/telegraf/plugins/serializers/influx"
	"github.com/stretchr/testify/require"
)

// telegrafLine is what Telegraf's own serializer writes for m, or nil.
func telegrafLine(t testing.TB, m telegraf.Metric) []byte {
	s := &influx.Serializer{}
	require.NoError(t, s.Init())
	b, err := s.Serialize(m)
	if err != nil {
		return nil
	}
	return b
}

func TestAppend(t *testing.T) {
	tm := time.Unix(1700000000, 123456789)
	tests := []struct {
		name string
		m    telegraf.Metric
		want string
	}{
		{"a point", metric.New("chrony_tracking",
			map[string]string{"server": "unixgram:///run/chrony dir/a,b=c.sock", "result": "success"},
			map[string]any{"stratum": int64(3)}, tm),
			`chrony_tracking,result=success,server=unixgram:///run/chrony\ dir/a\,b\=c.sock stratum=3i 1700000000123456789` + "\n"},
		{"escapes", metric.New("m e,a=s\tt",
			map[string]string{"k\n": "v\\", "empty": "", "\\": "x"},
			map[string]any{"f=1": 1.5, "s": "a\"b\\c\nd", "u": uint64(math.MaxUint64), "b": true}, tm),
			""},
		{"no writable field", metric.New("m", nil, map[string]any{"nan": math.NaN(), "inf": math.Inf(1)}, tm), ""},
		{"no name", metric.New("", nil, map[string]any{"v": 1.0}, tm), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := telegrafLine(t, tt.m)
			if tt.want != "" {
				require.Equal(t, tt.want, string(want), "the expectation is Telegraf's")
			}
			got, err := Append([]byte("kept"), tt.m)
			if want == nil {
				require.Error(t, err)
				require.Equal(t, "kept", string(got), "nothing appended on error")
				return
			}
			require.NoError(t, err)
			require.Equal(t, "kept"+string(want), string(got))
		})
	}
}

// FuzzAppend: for any metric, Append writes exactly what Telegraf's influx
// serializer writes, or fails where it fails.
func FuzzAppend(f *testing.F) {
	f.Add("chrony_tracking", "server", "udp://127.0.0.1:323", "system_time", "s", 1.5e-6, int64(-3), uint64(7), true, int64(1700000000123456789))
	f.Add("a b,c=d", "k=e y", "v\\", "f,g h", "q\"u\\o\nte", math.NaN(), int64(0), uint64(math.MaxUint64), false, int64(-1))
	f.Add("", "", "", "", "", math.Inf(-1), int64(math.MinInt64), uint64(0), false, int64(0))
	f.Fuzz(func(t *testing.T, name, tagKey, tagValue, fieldKey, str string, fl float64, i int64, u uint64, b bool, ns int64) {
		m := metric.New(name,
			map[string]string{tagKey: tagValue, "t2": tagValue + "\\"},
			map[string]any{fieldKey: fl, "str": str, "int": i, "uint": u, "bool": b}, time.Unix(0, ns))
		want := telegrafLine(t, m)
		got, err := Append(nil, m)
		if want == nil {
			if err == nil {
				t.Fatalf("Append wrote %q where Telegraf fails", got)
			}
			return
		}
		if err != nil || string(got) != string(want) {
			t.Fatalf("Append = %q, %v\nTelegraf: %q", got, err, want)
		}
	})
}
