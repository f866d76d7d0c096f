package telegraftoml

import (
	"fmt"
	"strconv"
	"strings"
)

// Parse reads data into its top-level table. An error is a *LineError.
func Parse(data string) (*Table, error) {
	p := &parser{buf: []rune(data), deep: -1}
	ok := p.toml()
	switch {
	case p.deep >= 0:
		return nil, &LineError{Line: lineOf(p.buf, p.deep), Err: errTooDeep}
	case !ok:
		return nil, &LineError{Line: lineOf(p.buf, p.max), Err: errSyntax}
	}
	s := &state{buf: p.buf, line: 1}
	s.root = s.newTable("")
	s.cur = s.root
	for _, e := range p.events {
		if err := s.run(e); err != nil {
			return nil, &LineError{Line: s.line, Err: err}
		}
	}
	return s.root, nil
}

// lineOf is the line of the rune at pos, counting a newline at pos itself;
// a position past the end is line 1, as influxdata/toml reports it.
func lineOf(buf []rune, pos int) int {
	if pos > len(buf) {
		return 1
	}
	line := 1
	for _, c := range buf[:min(pos+1, len(buf))] {
		if c == '\n' {
			line++
		}
	}
	return line
}

type array struct {
	parent *array
	value  *Value
}

type frame struct {
	key   string
	table *Table
}

// state is what the grammar's actions build.
type state struct {
	buf       []rune
	line      int
	root, cur *Table
	key       string
	tableKeys []string
	val       *Value
	arr       *array
	stack     []frame
	skip      bool // the key of an inline table is no key/value
	s         string
}

func (s *state) text(e event) string { return string(s.buf[e.begin:e.end]) }

func (s *state) run(e event) error {
	switch e.act {
	case actLines:
		s.line += e.end - e.begin
	case actSetTableString:
		s.cur.explicit = true
	case actKey:
		return s.setKey(s.text(e))
	case actTableKey:
		s.tableKeys = append(s.tableKeys, s.key)
	case actKeyValue:
		return s.addKeyValue()
	case actTime:
		s.val = &Value{Kind: Datetime, Text: s.text(e), Source: s.text(e)}
	case actBool:
		s.val = &Value{Kind: Boolean, Text: s.text(e), Source: s.text(e)}
	case actFloat:
		s.val = &Value{Kind: Float, Text: strings.ReplaceAll(s.text(e), "_", ""), Source: s.text(e)}
	case actInt:
		s.val = &Value{Kind: Integer, Text: strings.ReplaceAll(s.text(e), "_", ""), Source: s.text(e)}
	case actString:
		s.val = &Value{Kind: String, Text: s.s, Source: s.text(e)}
		s.s = ""
	case actArrayStart:
		s.arr = &array{parent: s.arr, value: &Value{Kind: Array}}
	case actArrayVal:
		s.arr.value.Elems = append(s.arr.value.Elems, s.val)
	case actArrayEnd:
		s.arr.value.Source = s.text(e)
		s.val, s.arr = s.arr.value, s.arr.parent
	case actStdTable, actArrayTable:
		names := s.tableKeys
		s.tableKeys = nil
		return s.setTable(s.root, s.text(e), names, e.act == actArrayTable)
	case actInlineStart:
		s.skip = false
		s.stack = append(s.stack, frame{s.key, s.cur})
		return s.setTable(s.cur, s.key, []string{s.key}, s.arr != nil)
	case actInlineEnd:
		f := s.stack[len(s.stack)-1]
		s.key, s.cur = f.key, f.table
		s.stack = s.stack[:len(s.stack)-1]
		s.skip = true
	default:
		return s.runString(e)
	}
	return nil
}

func (s *state) runString(e event) error {
	var err error
	switch e.act {
	case actBasicString:
		s.s, err = strconv.Unquote(s.text(e))
	case actMultiBasic:
		s.s, err = strconv.Unquote(`"` + mlEscaper.Replace(strings.TrimLeft(s.s, "\r\n")) + `"`)
	case actMultiBasicBody:
		s.s += s.text(e)
	case actLiteral:
		s.s = s.text(e)
	case actMultiLiteral:
		s.s = strings.TrimLeft(s.text(e), "\r\n")
	}
	return err
}

// mlEscaper is influxdata/toml's, a backspace turned into \n included.
var mlEscaper = strings.NewReplacer("\b", `\n`, "\f", `\f`, "\n", `\n`, "\r", `\r`, "\t", `\t`)

func (s *state) setKey(k string) error {
	if len(k) > 0 && k[0] == '"' {
		var err error
		if k, err = strconv.Unquote(k); err != nil {
			return err
		}
	}
	s.key = k
	return nil
}

func (s *state) newTable(name string) *Table {
	return &Table{Name: name, Line: s.line, Fields: make(map[string]any)}
}

func (s *state) addKeyValue() error {
	if s.skip {
		s.skip = false
		return nil
	}
	switch v := s.cur.Fields[s.key].(type) {
	case *Table:
		return fmt.Errorf("key `%s' is in conflict with table in line %d", s.key, v.Line)
	case *KeyValue:
		return fmt.Errorf("key `%s' is in conflict with line %d", s.key, v.Line)
	case []*Table:
		return fmt.Errorf("BUG: key `%s' is in conflict but it's unknown type `[]*ast.Table'", s.key)
	}
	s.cur.Fields[s.key] = &KeyValue{Key: s.key, Value: s.val, Line: s.line}
	return nil
}

func (s *state) setTable(parent *Table, name string, names []string, isArray bool) error {
	parent, err := s.lookup(parent, names[:len(names)-1])
	if err != nil {
		return err
	}
	last := names[len(names)-1]
	tbl := s.newTable(last)
	kind := "table"
	if isArray {
		kind = "array table"
	}
	switch v := parent.Fields[last].(type) {
	case nil:
		if isArray {
			parent.Fields[last] = []*Table{tbl}
		} else {
			parent.Fields[last] = tbl
		}
	case []*Table:
		if !isArray {
			return fmt.Errorf("table `%s' is in conflict with array table in line %d", name, v[0].Line)
		}
		parent.Fields[last] = append(v, tbl)
	case *Table:
		if isArray || v.explicit {
			return fmt.Errorf("%s `%s' is in conflict with table in line %d", kind, name, v.Line)
		}
		// A table only implied by an earlier header is now defined.
		tbl.Fields = v.Fields
		parent.Fields[last] = tbl
	case *KeyValue:
		return fmt.Errorf("%s `%s' is in conflict with line %d", kind, name, v.Line)
	}
	s.cur = tbl
	return nil
}

func (s *state) lookup(t *Table, keys []string) (*Table, error) {
	for _, k := range keys {
		switch v := t.Fields[k].(type) {
		case nil:
			tbl := s.newTable(k)
			t.Fields[k] = tbl
			t = tbl
		case *Table:
			t = v
		case []*Table:
			t = v[len(v)-1]
		case *KeyValue:
			return nil, fmt.Errorf("key `%s' is in conflict with line %d", k, v.Line)
		}
	}
	return t, nil
}
