package influxlab

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWriteAndQueryBack(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %s, want a loopback address", s.URL)
	}
	const db = "lab-test.db"
	if err := s.CreateDatabase(db); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(db, "chrony,stratum=3 system_time=0.000123,leap=0i 1700000000000000000\n"); err != nil {
		t.Fatal(err)
	}
	series, err := s.Query(db, `SELECT system_time, leap, stratum FROM chrony`)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 1 || series[0].Name != "chrony" {
		t.Fatalf("series = %+v, want one chrony series", series)
	}
	wantCols := []string{"time", "system_time", "leap", "stratum"}
	if !slices.Equal(series[0].Columns, wantCols) {
		t.Errorf("columns = %q, want %q", series[0].Columns, wantCols)
	}
	rows := series[0].Rows()
	if len(rows) != 1 {
		t.Fatalf("rows = %v, want one", rows)
	}
	want := map[string]any{
		"time":        "2023-11-14T22:13:20Z",
		"system_time": json.Number("0.000123"),
		"leap":        json.Number("0"),
		"stratum":     "3",
	}
	for k, v := range want {
		if rows[0][k] != v {
			t.Errorf("%s = %#v, want %#v", k, rows[0][k], v)
		}
	}

	dbs, err := s.Query("", "SHOW DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	if len(dbs) != 1 || len(dbs[0].Values) != 1 || dbs[0].Values[0][0] != db {
		t.Errorf("SHOW DATABASES = %+v, want only %s", dbs, db)
	}
}

func TestQueryReportsStatementErrors(t *testing.T) {
	s := Start(t)
	if _, err := s.Query("nope", "SELECT * FROM x"); err == nil || !strings.Contains(err.Error(), "database not found") {
		t.Errorf("query on a missing database: err = %v", err)
	}
	if _, err := s.Query("", "SELEKT"); err == nil {
		t.Error("syntax error not reported")
	}
	if err := s.Write("nope", "m v=1"); err == nil {
		t.Error("write to a missing database not reported")
	}
}

// Every listener must be on loopback, and the files must stay in the
// server's directory.
func TestServerIsConfinedToLoopbackAndItsDir(t *testing.T) {
	s := Start(t)
	if err := s.CreateDatabase("confined"); err != nil {
		t.Fatal(err)
	}
	if err := s.Write("confined", "m v=1i\n"); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"meta/meta.db", "data/confined", "wal/confined"} {
		if _, err := os.Stat(filepath.Join(s.Dir(), sub)); err != nil {
			t.Errorf("influxd did not use its own directory: %v", err)
		}
	}
	addrs := listeningAddrs(t, s.PID())
	t.Logf("influxd listens on %v", addrs)
	for _, addr := range addrs {
		host, _, err := net.SplitHostPort(addr)
		if err != nil || !net.ParseIP(host).IsLoopback() {
			t.Errorf("influxd listens on %s", addr)
		}
	}
	if err := s.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

func TestStartTwiceGivesIndependentServers(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.URL == b.URL || a.Dir() == b.Dir() {
		t.Fatalf("servers share %s / %s", a.URL, a.Dir())
	}
	if err := a.CreateDatabase("only_a"); err != nil {
		t.Fatal(err)
	}
	dbs, err := b.Query("", "SHOW DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	if len(dbs) != 1 || len(dbs[0].Values) != 0 {
		t.Errorf("second server sees %+v", dbs)
	}
}
