package promlab

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"
)

// Sample is one series' value at one time, from an instant query.
type Sample struct {
	Metric map[string]string
	Time   time.Time
	Value  float64
}

// Series is one series of a range query.
type Series struct {
	Metric map[string]string
	Points []Point
}

// Point is one value of a range query's series.
type Point struct {
	Time  time.Time
	Value float64
}

// Alert is one entry of /api/v1/alerts: an alerting rule's instance that
// is pending or firing.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"` // "pending" or "firing"
	ActiveAt    time.Time         `json:"activeAt"`
}

// Target is one scrape target of /api/v1/targets.
type Target struct {
	ScrapeURL string `json:"scrapeUrl"`
	Health    string `json:"health"` // "up", "down", "unknown"
	LastError string `json:"lastError"`
}

// Query runs an instant PromQL query at the server's current time.
func (s *Server) Query(q string) ([]Sample, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := s.get("/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: result type %s, want vector", q, data.ResultType)
	}
	out := make([]Sample, 0, len(data.Result))
	for _, r := range data.Result {
		p, err := point(r.Value)
		if err != nil {
			return nil, fmt.Errorf("query %q: %w", q, err)
		}
		out = append(out, Sample{Metric: r.Metric, Time: p.Time, Value: p.Value})
	}
	return out, nil
}

// QueryRange runs a PromQL range query, as a Grafana panel does.
func (s *Server) QueryRange(q string, start, end time.Time, step time.Duration) ([]Series, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	v := url.Values{
		"query": {q},
		"start": {unix(start)},
		"end":   {unix(end)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
	if err := s.get("/api/v1/query_range", v, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "matrix" {
		return nil, fmt.Errorf("query %q: result type %s, want matrix", q, data.ResultType)
	}
	out := make([]Series, 0, len(data.Result))
	for _, r := range data.Result {
		ser := Series{Metric: r.Metric}
		for _, v := range r.Values {
			p, err := point(v)
			if err != nil {
				return nil, fmt.Errorf("query %q: %w", q, err)
			}
			ser.Points = append(ser.Points, p)
		}
		out = append(out, ser)
	}
	return out, nil
}

// LabelValues lists the values of label on the series that match
// selector, as Grafana's label_values(selector, label) does.
func (s *Server) LabelValues(label, selector string) ([]string, error) {
	var values []string
	err := s.get("/api/v1/label/"+url.PathEscape(label)+"/values", url.Values{"match[]": {selector}}, &values)
	return values, err
}

// Alerts lists the alerts of the loaded rules that are pending or firing.
func (s *Server) Alerts() ([]Alert, error) {
	var data struct {
		Alerts []Alert `json:"alerts"`
	}
	err := s.get("/api/v1/alerts", nil, &data)
	return data.Alerts, err
}

// Targets lists the active scrape targets.
func (s *Server) Targets() ([]Target, error) {
	var data struct {
		ActiveTargets []Target `json:"activeTargets"`
	}
	err := s.get("/api/v1/targets", url.Values{"state": {"active"}}, &data)
	return data.ActiveTargets, err
}

// get calls a GET endpoint of the HTTP API and decodes its data member;
// an error status names Prometheus' errorType and error.
func (s *Server) get(path string, v url.Values, data any) error {
	u := s.URL + path
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	resp, err := s.client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: reading response: %w", path, err)
	}
	var env struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%s: %s: %.500s", path, resp.Status, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("%s %v: %s: %s", path, v, env.ErrorType, env.Error)
	}
	return json.Unmarshal(env.Data, data)
}

// point decodes Prometheus' [unix seconds, "value"] pair.
func point(v [2]any) (Point, error) {
	ts, ok := v[0].(float64)
	if !ok {
		return Point{}, fmt.Errorf("timestamp %v is not a number", v[0])
	}
	str, ok := v[1].(string)
	if !ok {
		return Point{}, fmt.Errorf("value %v is not a string", v[1])
	}
	f, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return Point{}, fmt.Errorf("value %q: %w", str, err)
	}
	sec := int64(ts)
	return Point{Time: time.Unix(sec, int64((ts-float64(sec))*1e9)), Value: f}, nil
}

func unix(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64)
}
