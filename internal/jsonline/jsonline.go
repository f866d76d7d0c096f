// Package jsonline writes a metric as Telegraf's JSON serializer does with
// its defaults, one object per line, without that serializer's JSONata
// engine (a tenth of the command's binary). The test wing compares it with
// the serializer of a real agent (test/e2e).
package jsonline

import (
	"encoding/json"
	"time"

	"github.com/influxdata/telegraf"
)

// Marshal returns m as one line of JSON: fields, name, tags and the
// timestamp in json_timestamp_units of 1s, the serializer's division of
// nanoseconds.
func Marshal(m telegraf.Metric) ([]byte, error) {
	b, err := json.Marshal(struct {
		Fields    map[string]any    `json:"fields"`
		Name      string            `json:"name"`
		Tags      map[string]string `json:"tags"`
		Timestamp int64             `json:"timestamp"`
	}{m.Fields(), m.Name(), m.Tags(), m.Time().UnixNano() / int64(time.Second)})
	return append(b, '\n'), err
}
