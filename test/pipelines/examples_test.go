package pipelines

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// repoRoot is the repository, seen from this package's directory.
const repoRoot = "../.."

// dropIn is the [[inputs.execd]] table the packages install in
// /etc/telegraf/telegraf.d, named as example reads it: the pipelines run it.
const dropIn = "../packaging/chrony_tracking.conf"

// timeScale divides every duration of the examples: the tests run at a
// 1 s agent interval where the examples assume Telegraf's default 10 s.
const timeScale = 10

// example reads a file under examples/.
func example(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// durationLit is a duration as TOML strings, Prometheus YAML and InfluxQL
// write it: digits and a unit, not inside a word.
var durationLit = regexp.MustCompile(`\b(\d+)(ms|s|m|h)\b`)

// scaled divides every duration in text by timeScale, keeping a form that
// Telegraf, Prometheus and InfluxQL all read (30s, 3s, 1500ms; never Go's
// "1m0s").
func scaled(text string) string {
	return durationLit.ReplaceAllStringFunc(text, func(lit string) string {
		d, err := time.ParseDuration(lit)
		if err != nil {
			panic(fmt.Sprintf("scaled: %q matched but does not parse: %v", lit, err))
		}
		return durationString(d / timeScale)
	})
}

func durationString(d time.Duration) string {
	switch {
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
}

// substitute replaces each old by its new, failing the test unless each
// old occurs exactly once: the example must still say what the test
// replaces, or the test would run something else than the docs show.
func substitute(t testing.TB, text string, oldNew ...string) string {
	t.Helper()
	for i := 0; i+1 < len(oldNew); i += 2 {
		if n := strings.Count(text, oldNew[i]); n != 1 {
			t.Fatalf("the example has %q %d times, want once:\n%s", oldNew[i], n, text)
		}
		text = strings.Replace(text, oldNew[i], oldNew[i+1], 1)
	}
	return text
}

func TestScaled(t *testing.T) {
	for in, want := range map[string]string{
		`restart_delay = "10s"`:                `restart_delay = "1s"`,
		`for: 5m`:                              `for: 30s`,
		`WHERE time > now() - 1m GROUP BY`:     `WHERE time > now() - 6s GROUP BY`,
		`expiration_interval = "15s"`:          `expiration_interval = "1500ms"`,
		`scrape_interval: 10m`:                 `scrape_interval: 1m`,
		`listen = ":9273"`:                     `listen = ":9273"`,
		`> 0.1 and 1..15, 10 s, 5 minutes v2s`: `> 0.1 and 1..15, 10 s, 5 minutes v2s`,
	} {
		if got := scaled(in); got != want {
			t.Errorf("scaled(%q) = %q, want %q", in, got, want)
		}
	}
}
