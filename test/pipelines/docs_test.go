package pipelines

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the documents' example blocks from the files they show")

// docFiles show the examples: the README the packaged drop-in, and
// docs/pipelines.md every pipeline's tables, alerts and dashboards.
var docFiles = []string{"README.md", "docs/pipelines.md"}

func readDoc(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docs is what the documents say, for the tests that run or look up what
// they show.
func docs(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, f := range docFiles {
		b.WriteString(readDoc(t, f))
	}
	return b.String()
}

// exampleBlock is a fenced block of a document that shows a file: the line
// before it is <!-- example: PATH -->, PATH relative to examples/.
var exampleBlock = regexp.MustCompile("(?m)^<!-- example: (\\S+) -->\n```(\\w*)\n((?s:.*?))```\n")

// The documents show each file of examples/telegraf, the configs the
// pipeline tests run, and the packaged drop-in, as they are (make examples,
// that is go test ./test/pipelines -run TestDocsShowExamples -update,
// rewrites the blocks), and name every alert and dashboard.
func TestDocsShowExamples(t *testing.T) {
	shown := map[string]bool{}
	for _, doc := range docFiles {
		text := readDoc(t, doc)
		fixed := exampleBlock.ReplaceAllStringFunc(text, func(block string) string {
			m := exampleBlock.FindStringSubmatch(block)
			name, lang, body := m[1], m[2], m[3]
			shown[name] = true
			want := example(t, name)
			if body != want {
				t.Errorf("%s's block for examples/%s differs from the file", doc, name)
			}
			return fmt.Sprintf("<!-- example: %s -->\n```%s\n%s```\n", name, lang, want)
		})
		if *update && fixed != text {
			if err := os.WriteFile(filepath.Join(repoRoot, doc), []byte(fixed), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s rewritten", doc)
		}
	}
	files, err := filepath.Glob(filepath.Join(repoRoot, "examples", "telegraf", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples/telegraf files: %v", err)
	}
	for _, f := range files {
		if name := "telegraf/" + filepath.Base(f); !shown[name] {
			t.Errorf("no document shows examples/%s", name)
		}
	}
	if !shown[dropIn] {
		t.Errorf("the README does not show the packaged drop-in (examples/%s)", dropIn)
	}
	text := docs(t)
	for _, r := range promRules(t, example(t, "prometheus/chrony.rules.yml")) {
		if !strings.Contains(text, "`"+r.Alert+"`") {
			t.Errorf("the docs do not name the alert %s", r.Alert)
		}
	}
	for _, f := range []string{"chrony-influxdb.json", "chrony-prometheus.json", "chrony.rules.yml", "alerts.influxql"} {
		if !strings.Contains(text, f) {
			t.Errorf("the docs do not mention %s", f)
		}
	}
}
