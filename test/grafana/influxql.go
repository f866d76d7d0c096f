package grafana

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
)

// InfluxQLQuery is a Grafana InfluxDB data source query in raw InfluxQL
// mode. The SDK has no InfluxDB query type (v0.0.22), so this is the one
// its README shows how to add: a Dataquery variant registered for the
// "influxdb" data source type.
type InfluxQLQuery struct {
	RefId        string                `json:"refId"`
	Datasource   *common.DataSourceRef `json:"datasource"`
	Query        string                `json:"query"`
	RawQuery     bool                  `json:"rawQuery"`
	ResultFormat string                `json:"resultFormat"`
	// Alias names each series; "$col" names it after its column (the
	// query's AS), not Grafana's default "measurement.column".
	Alias string `json:"alias,omitempty"`
}

// ImplementsDataqueryVariant marks InfluxQLQuery as a query type.
func (InfluxQLQuery) ImplementsDataqueryVariant() {}

// DataqueryType is the data source plugin's id.
func (InfluxQLQuery) DataqueryType() string { return "influxdb" }

// Validate accepts what Grafana runs as written: a raw InfluxQL query
// returning time series.
func (q InfluxQLQuery) Validate() error {
	var errs []error
	if q.RefId == "" {
		errs = append(errs, errors.New("refId is empty"))
	}
	if q.Query == "" {
		errs = append(errs, errors.New("query is empty"))
	}
	if !q.RawQuery {
		errs = append(errs, errors.New("rawQuery is false: Grafana would build the query from its editor's fields, which are not set"))
	}
	if q.ResultFormat != "time_series" {
		errs = append(errs, errors.New(`resultFormat is not "time_series"`))
	}
	return errors.Join(errs...)
}

// Equals compares two queries.
func (q InfluxQLQuery) Equals(other variants.Dataquery) bool {
	o, ok := other.(InfluxQLQuery)
	if !ok || (q.Datasource == nil) != (o.Datasource == nil) ||
		q.Datasource != nil && !q.Datasource.Equals(*o.Datasource) {
		return false
	}
	q.Datasource, o.Datasource = nil, nil
	return q == o
}

// InfluxQLVariant tells the SDK's runtime how to read InfluxQLQuery back
// from JSON; strictly, an unknown key is an error.
func InfluxQLVariant() variants.DataqueryConfig {
	decode := func(strict bool) func([]byte) (variants.Dataquery, error) {
		return func(raw []byte) (variants.Dataquery, error) {
			var q InfluxQLQuery
			dec := json.NewDecoder(bytes.NewReader(raw))
			if strict {
				dec.DisallowUnknownFields()
			}
			err := dec.Decode(&q)
			return q, err
		}
	}
	return variants.DataqueryConfig{
		Identifier:                 "influxdb",
		DataqueryUnmarshaler:       decode(false),
		StrictDataqueryUnmarshaler: decode(true),
	}
}

// influxQL builds an InfluxQLQuery into a panel's targets.
type influxQL struct{ q InfluxQLQuery }

var _ cog.Builder[variants.Dataquery] = (*influxQL)(nil)

func (b *influxQL) Build() (variants.Dataquery, error) { return b.q, b.q.Validate() }
