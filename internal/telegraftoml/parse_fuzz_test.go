package telegraftoml

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/influxdata/toml"
	"github.com/influxdata/toml/ast"
)

// FuzzParse reads every input with this package and with
// github.com/influxdata/toml, Telegraf's reader: both accept it or both
// refuse it with the same text, and what they accept is the same tree
// (tables, their lines, keys, values as decoded and as written, the lines
// of key/values).
func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		compareParse(t, data)
	})
}

func compareParse(t *testing.T, data string) {
	t.Helper()
	want, werr := toml.Parse([]byte(data))
	got, gerr := Parse(data)
	if errors.Is(gerr, errTooDeep) {
		return // TestParseRefusesDeepNesting
	}
	if fmt.Sprint(werr) != fmt.Sprint(gerr) {
		t.Fatalf("%q: error %v, influxdata/toml's %v", data, gerr, werr)
	}
	if werr != nil {
		return
	}
	if w, g := canonAST(want), canonOurs(got); !reflect.DeepEqual(w, g) {
		t.Fatalf("%q:\n got %v\nwant %v", data, g, w)
	}
}

// parseSeeds: the configs in the repository, and the forms TOML v0.4
// allows around them.
func parseSeeds(f testing.TB) []string {
	seeds := []string{
		"", "\n", "\r\n", "# c\n", "a = 1", "a = -1_000\nb = +0\nc = 01",
		"a = 1.5e-3\nb = 1e3\nc = 3.14_15\nd = 1e999\ne = 0x10\nf = 0o7",
		"a = true\nb = false\nc = truee",
		"a = 1979-05-27T07:32:00Z\nb = 1979-05-27\nc = 07:32:00.5\nd = 1979-05-27T07:32:00-07:00\ne = 1979-13-45",
		`a = "x\ty\"z\\ \u00e9 \U0001F600 \/"`, `a = "\uD800"`, "a = 'C:\\path'\nb = '''\nline\n'''",
		"a = \"\"\"\n  one \\\n   two\"\"\"", "a = \"\"\"a\tb\"\"\"",
		"a = [1, 2,]\nb = [\n \"x\", # c\n \"y\"\n]\nc = []\nd = [[1], [\"a\"]]\ne = [1, \"a\"]",
		"[a]\nb = 1\n[a.c]\n[[d]]\n[[d]]\ne = 1", "[a]\n[a]", "[a.b]\n[a]\n", "a = 1\n[a]", "[[a]]\n[a]", "[a]\n[[a]]",
		"a = {b = 1, c = {d = 2}}", "a = [{b = 1}, {c = 2}]", "a = [{}]\nb = 1", "[x]\ny = [{z = 1}]\n[x.y]",
		"\"quoted key\" = 1\n[\"a.b\" . c]\nd = 1", "a = 1\na = 2", "a = 1\r\nb = 2\r\n[c]\r\nd = 3",
		"[[inputs.chrony_tracking]\n", "[inputs]\nchrony_tracking = [{server = \"x\"}]",
		"\ufeff[a]", "a = \"\xff\"", "a = \"x\x01\"", "a\t=\t1 # c\n\n\n [ b ] # c\n  c = 2",
	}
	for _, glob := range []string{"../../*.conf", "../../plugins/inputs/*/*.conf", "../../examples/*/*.conf", "../../examples/*.conf"} {
		paths, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			seeds = append(seeds, string(b))
		}
	}
	return seeds
}

func canonAST(node any) any {
	switch v := node.(type) {
	case *ast.Table:
		m := map[string]any{"": fmt.Sprintf("table %q line %d", v.Name, v.Line)}
		for k, f := range v.Fields {
			m[k] = canonAST(f)
		}
		return m
	case []*ast.Table:
		var out []any
		for _, t := range v {
			out = append(out, canonAST(t))
		}
		return out
	case *ast.KeyValue:
		return fmt.Sprintf("%q line %d = %s", v.Key, v.Line, canonASTValue(v.Value))
	}
	return fmt.Sprintf("unknown %T", node)
}

func canonASTValue(v ast.Value) string {
	switch v := v.(type) {
	case *ast.String:
		return fmt.Sprintf("string %q (%q)", v.Value, v.Source())
	case *ast.Integer:
		return fmt.Sprintf("integer %q (%q)", v.Value, v.Source())
	case *ast.Float:
		return fmt.Sprintf("float %q (%q)", v.Value, v.Source())
	case *ast.Boolean:
		return fmt.Sprintf("boolean %q (%q)", v.Value, v.Source())
	case *ast.Datetime:
		return fmt.Sprintf("datetime %q (%q)", v.Value, v.Source())
	case *ast.Array:
		var elems []string
		for _, e := range v.Value {
			elems = append(elems, canonASTValue(e))
		}
		return fmt.Sprintf("array [%s] (%q)", strings.Join(elems, ", "), v.Source())
	case nil:
		return "nil"
	}
	return fmt.Sprintf("unknown %T", v)
}

var kindNames = map[Kind]string{String: "string", Integer: "integer", Float: "float", Boolean: "boolean", Datetime: "datetime", Array: "array"}

func canonOurs(node any) any {
	switch v := node.(type) {
	case *Table:
		m := map[string]any{"": fmt.Sprintf("table %q line %d", v.Name, v.Line)}
		for k, f := range v.Fields {
			m[k] = canonOurs(f)
		}
		return m
	case []*Table:
		var out []any
		for _, t := range v {
			out = append(out, canonOurs(t))
		}
		return out
	case *KeyValue:
		return fmt.Sprintf("%q line %d = %s", v.Key, v.Line, canonOursValue(v.Value))
	}
	return fmt.Sprintf("unknown %T", node)
}

func canonOursValue(v *Value) string {
	if v == nil {
		return "nil"
	}
	if v.Kind != Array {
		return fmt.Sprintf("%s %q (%q)", kindNames[v.Kind], v.Text, v.Source)
	}
	var elems []string
	for _, e := range v.Elems {
		elems = append(elems, canonOursValue(e))
	}
	return fmt.Sprintf("array [%s] (%q)", strings.Join(elems, ", "), v.Source)
}

// TestParseMatchesTelegraf runs the seeds, so that plain go test compares
// them too.
func TestParseMatchesTelegraf(t *testing.T) {
	seeds := parseSeeds(t)
	sort.Strings(seeds)
	for _, s := range seeds {
		compareParse(t, s)
	}
}

// Nesting past maxDepth is refused with its own error, not a stack
// overflow; up to it a file reads as influxdata/toml reads it.
func TestParseRefusesDeepNesting(t *testing.T) {
	for _, data := range []string{
		"a = " + strings.Repeat("[", 1<<20-4),
		"a = " + strings.Repeat("{a = ", 1<<18),
		"a = " + strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	} {
		_, err := Parse(data)
		var le *LineError
		if !errors.As(err, &le) || !errors.Is(err, errTooDeep) || le.Line != 1 {
			t.Fatalf("%.20q...: %v", data, err)
		}
	}
	compareParse(t, "a = "+strings.Repeat("[", maxDepth)+strings.Repeat("]", maxDepth))
}
