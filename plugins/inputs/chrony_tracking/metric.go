package chrony_tracking

import (
	"fmt"
	"hash"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/influxdata/telegraf"
)

// tagRoom and fieldRoom size a point's own storage: the schema's 4 tags and
// 16 fields, and room for the tags an agent adds (host, global tags).
const (
	tagRoom   = 8
	fieldRoom = 16
)

// point is the telegraf.Metric of one result. Its tags and fields live in
// the struct itself, so a point costs one allocation besides its boxed
// values, where telegraf/metric's costs one per tag and per field and more
// for the growth of their lists. It behaves as telegraf/metric's does, which
// TestPointBehavesLikeTelegrafMetric checks operation by operation: tags
// sorted by key, fields in the order they were added, values converted to
// Telegraf's field types. Once its own storage is used up, a tag or field
// is allocated on its own.
type point struct {
	name   string
	tm     time.Time
	tp     telegraf.ValueType
	tags   []*telegraf.Tag
	fields []*telegraf.Field

	tagsUsed, fieldsUsed int // entries of the stores handed out
	tagStore             [tagRoom]telegraf.Tag
	tagPtrs              [tagRoom]*telegraf.Tag
	fieldStore           [fieldRoom]telegraf.Field
	fieldPtrs            [fieldRoom]*telegraf.Field
}

var (
	_ telegraf.Metric         = (*point)(nil)
	_ telegraf.TemplateMetric = (*point)(nil)
)

func newPoint(name string, tm time.Time) *point {
	p := &point{name: name, tm: tm, tp: telegraf.Untyped}
	p.tags = p.tagPtrs[:0]
	p.fields = p.fieldPtrs[:0]
	return p
}

func (p *point) newTag(key, value string) *telegraf.Tag {
	if p.tagsUsed == tagRoom {
		return &telegraf.Tag{Key: key, Value: value}
	}
	t := &p.tagStore[p.tagsUsed]
	p.tagsUsed++
	t.Key, t.Value = key, value
	return t
}

func (p *point) newField(key string, value any) *telegraf.Field {
	if p.fieldsUsed == fieldRoom {
		return &telegraf.Field{Key: key, Value: value}
	}
	f := &p.fieldStore[p.fieldsUsed]
	p.fieldsUsed++
	f.Key, f.Value = key, value
	return f
}

func (p *point) Name() string                 { return p.name }
func (p *point) Time() time.Time              { return p.tm }
func (p *point) Type() telegraf.ValueType     { return p.tp }
func (p *point) SetName(name string)          { p.name = name }
func (p *point) AddPrefix(prefix string)      { p.name = prefix + p.name }
func (p *point) AddSuffix(suffix string)      { p.name += suffix }
func (p *point) SetTime(t time.Time)          { p.tm = t }
func (p *point) SetType(t telegraf.ValueType) { p.tp = t }
func (p *point) TagList() []*telegraf.Tag     { return p.tags }
func (p *point) FieldList() []*telegraf.Field { return p.fields }

// Accept, Reject and Drop do nothing: a point is not a tracking metric.
func (*point) Accept() {}
func (*point) Reject() {}
func (*point) Drop()   {}

func (p *point) Tags() map[string]string {
	m := make(map[string]string, len(p.tags))
	for _, t := range p.tags {
		m[t.Key] = t.Value
	}
	return m
}

func (p *point) Fields() map[string]any {
	m := make(map[string]any, len(p.fields))
	for _, f := range p.fields {
		m[f.Key] = f.Value
	}
	return m
}

func (p *point) GetTag(key string) (string, bool) {
	for _, t := range p.tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

func (p *point) HasTag(key string) bool { _, ok := p.GetTag(key); return ok }

func (p *point) Tag(key string) string { v, _ := p.GetTag(key); return v }

// AddTag sets a tag, keeping the list sorted by key.
func (p *point) AddTag(key, value string) {
	i, found := slices.BinarySearchFunc(p.tags, key, func(t *telegraf.Tag, k string) int { return strings.Compare(t.Key, k) })
	if found {
		p.tags[i].Value = value
		return
	}
	p.tags = slices.Insert(p.tags, i, p.newTag(key, value))
}

func (p *point) RemoveTag(key string) {
	p.tags = slices.DeleteFunc(p.tags, func(t *telegraf.Tag) bool { return t.Key == key })
}

func (p *point) GetField(key string) (any, bool) {
	for _, f := range p.fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return nil, false
}

func (p *point) HasField(key string) bool { _, ok := p.GetField(key); return ok }

func (p *point) Field(key string) any { v, _ := p.GetField(key); return v }

// AddField sets a field, replacing one of the same key in place and
// appending a new one, with its value converted to one of Telegraf's field
// types (float64, int64, uint64, string, bool).
func (p *point) AddField(key string, value any) {
	value = fieldValue(value)
	for i, f := range p.fields {
		if f.Key == key {
			p.fields[i] = p.newField(key, value)
			return
		}
	}
	p.fields = append(p.fields, p.newField(key, value))
}

// addField appends a field of the schema: its keys are distinct and its
// values already of Telegraf's types.
func (p *point) addField(key string, value any) {
	p.fields = append(p.fields, p.newField(key, value))
}

func (p *point) RemoveField(key string) {
	p.fields = slices.DeleteFunc(p.fields, func(f *telegraf.Field) bool { return f.Key == key })
}

// Copy returns a point with copies of the tags and fields.
func (p *point) Copy() telegraf.Metric {
	c := newPoint(p.name, p.tm)
	c.tp = p.tp
	for _, t := range p.tags {
		c.tags = append(c.tags, c.newTag(t.Key, t.Value))
	}
	for _, f := range p.fields {
		c.fields = append(c.fields, c.newField(f.Key, f.Value))
	}
	return c
}

// HashID identifies the series: the name and the tags, hashed as
// telegraf/metric does so that both kinds of metric of one series agree.
func (p *point) HashID() uint64 { return p.seriesHash(nil).Sum64() }

func (p *point) HashIDWithFieldsFiltered(excludedTags, excludedFields []string) uint64 {
	h := p.seriesHash(excludedTags)
	keys := make([]string, 0, len(p.fields))
	for _, f := range p.fields {
		if !slices.Contains(excludedFields, f.Key) {
			keys = append(keys, f.Key)
		}
	}
	slices.Sort(keys)
	h.Write([]byte(strings.Join(keys, "\n")))
	return h.Sum64()
}

func (p *point) seriesHash(excludedTags []string) hash.Hash64 {
	h := fnv.New64a()
	h.Write([]byte(p.name))
	h.Write([]byte("\n"))
	for _, t := range p.tags {
		if slices.Contains(excludedTags, t.Key) {
			continue
		}
		h.Write([]byte(t.Key))
		h.Write([]byte("\n"))
		h.Write([]byte(t.Value))
		h.Write([]byte("\n"))
	}
	return h
}

func (p *point) String() string {
	return fmt.Sprintf("%s %v %v %d", p.name, p.Tags(), p.Fields(), p.tm.UnixNano())
}

// fieldValue converts v to the type Telegraf stores for it, nil when it has
// none: signed integers to int64, unsigned to uint64, float32 to float64,
// []byte to string, and pointers to what they point to.
func fieldValue(v any) any {
	switch v := v.(type) {
	case float64, int64, uint64, string, bool:
		return v
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case int16:
		return int64(v)
	case int8:
		return int64(v)
	case uint:
		return uint64(v)
	case uint32:
		return uint64(v)
	case uint16:
		return uint64(v)
	case uint8:
		return uint64(v)
	case float32:
		return float64(v)
	case []byte:
		return string(v)
	case *float64:
		return deref(v)
	case *int64:
		return deref(v)
	case *uint64:
		return deref(v)
	case *string:
		return deref(v)
	case *bool:
		return deref(v)
	case *int:
		return derefAs(v, func(x int) any { return int64(x) })
	case *int32:
		return derefAs(v, func(x int32) any { return int64(x) })
	case *int16:
		return derefAs(v, func(x int16) any { return int64(x) })
	case *int8:
		return derefAs(v, func(x int8) any { return int64(x) })
	case *uint:
		return derefAs(v, func(x uint) any { return uint64(x) })
	case *uint32:
		return derefAs(v, func(x uint32) any { return uint64(x) })
	case *uint16:
		return derefAs(v, func(x uint16) any { return uint64(x) })
	case *uint8:
		return derefAs(v, func(x uint8) any { return uint64(x) })
	case *float32:
		return derefAs(v, func(x float32) any { return float64(x) })
	case *[]byte:
		return derefAs(v, func(x []byte) any { return string(x) })
	}
	return nil
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func derefAs[T any](p *T, conv func(T) any) any {
	if p == nil {
		return nil
	}
	return conv(*p)
}
