package influxlab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxErrorBody keeps a failing response's body readable in test output.
const maxErrorBody = 4 << 10

// Series is one series of a query result as InfluxDB 1.x returns it.
// Values are decoded with json.Number for numbers, so integers and floats
// keep the exact text InfluxDB sent (1 vs 1.5; no float64 rounding of
// large integers); times are RFC 3339 strings unless the query asks for
// an epoch.
type Series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags,omitempty"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// Rows pairs each row's values with the column names, which reads better
// in assertions than positional indexes.
func (s Series) Rows() []map[string]any {
	rows := make([]map[string]any, 0, len(s.Values))
	for _, v := range s.Values {
		row := make(map[string]any, len(s.Columns))
		for i, c := range s.Columns {
			if i < len(v) {
				row[c] = v[i]
			}
		}
		rows = append(rows, row)
	}
	return rows
}

type queryResponse struct {
	Results []struct {
		StatementID int      `json:"statement_id"`
		Series      []Series `json:"series"`
		Error       string   `json:"error"`
	} `json:"results"`
	Error string `json:"error"`
}

// Query runs a read-only query (SELECT, SHOW) with GET /query and returns
// the series of all its statements in order. A statement's error is
// returned as an error, since InfluxDB reports it with status 200.
func (s *Server) Query(db, q string) ([]Series, error) {
	v := url.Values{"q": {q}}
	if db != "" {
		v.Set("db", db)
	}
	resp, err := s.client.Get(s.URL + "/query?" + v.Encode())
	if err != nil {
		return nil, err
	}
	return decodeQuery(resp, q)
}

// exec runs a statement that changes state; InfluxDB 1.x wants those as
// POST, and warns or refuses on GET.
func (s *Server) exec(db, q string) error {
	v := url.Values{"q": {q}}
	if db != "" {
		v.Set("db", db)
	}
	resp, err := s.client.PostForm(s.URL+"/query", v)
	if err != nil {
		return err
	}
	_, err = decodeQuery(resp, q)
	return err
}

func decodeQuery(resp *http.Response, q string) ([]Series, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("query %q: reading response: %w", q, err)
	}
	var r queryResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("query %q: %s: %s", q, resp.Status, truncate(body))
	}
	if r.Error != "" {
		return nil, fmt.Errorf("query %q: %s", q, r.Error)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("query %q: %s: %s", q, resp.Status, truncate(body))
	}
	var series []Series
	for _, res := range r.Results {
		if res.Error != "" {
			return nil, fmt.Errorf("query %q: statement %d: %s", q, res.StatementID, res.Error)
		}
		series = append(series, res.Series...)
	}
	return series, nil
}

// CreateDatabase creates name (a no-op if it exists) with the default
// autogen retention policy.
func (s *Server) CreateDatabase(name string) error {
	return s.exec("", "CREATE DATABASE "+QuoteIdent(name))
}

// Write posts line protocol to db with POST /write, timestamps in
// nanoseconds as Telegraf sends them.
func (s *Server) Write(db, lines string) error {
	v := url.Values{"db": {db}, "precision": {"ns"}}
	resp, err := s.client.Post(s.URL+"/write?"+v.Encode(), "text/plain; charset=utf-8", strings.NewReader(lines))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return fmt.Errorf("write to %s: %s: %s", db, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// QuoteIdent quotes an identifier for InfluxQL, so test names with dashes
// or dots work as database and measurement names.
func QuoteIdent(name string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(name) + `"`
}

func truncate(b []byte) string {
	if len(b) > maxErrorBody {
		return string(b[:maxErrorBody]) + "..."
	}
	return string(b)
}
