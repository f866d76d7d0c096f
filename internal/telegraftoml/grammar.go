package telegraftoml

import (
	"errors"
	"strconv"
)

// The grammar is influxdata/toml's PEG, rule for rule: a rule either
// matches and moves on, or restores the position and drops the actions it
// recorded. The actions run once the whole file has matched (exec.go), as
// the PEG parser runs them.

var errSyntax = errors.New("invalid TOML syntax")

// maxDepth bounds how deep arrays and inline tables nest. The grammar
// recurses once per level, and a file of a million '[' would overflow
// the stack (a fatal error, not a config error); influxdata/toml reads
// such a file, but refuses it for Telegraf's plugins as for ours, since
// no option holds more than an array of strings: only the text of that
// refusal differs.
const maxDepth = 1000

var errTooDeep = errors.New("arrays and inline tables nested more than " + strconv.Itoa(maxDepth) +
	" deep: a config needs two or three levels")

type action uint8

const (
	actLines action = iota // n in end-begin
	actSetTableString
	actKey
	actTableKey
	actKeyValue
	actTime
	actFloat
	actInt
	actString
	actBool
	actArrayStart
	actArrayVal
	actArrayEnd
	actStdTable
	actArrayTable
	actInlineStart
	actInlineEnd
	actBasicString
	actMultiBasic
	actMultiBasicBody
	actLiteral
	actMultiLiteral
)

type event struct {
	act        action
	begin, end int
}

type parser struct {
	buf    []rune
	pos    int
	max    int // the end of the farthest non-empty rule match: a syntax error's line
	events []event
	depth  int
	deep   int // where maxDepth was passed, or -1
}

// rule runs f as one grammar rule.
func (p *parser) rule(f func() bool) bool {
	pos, n := p.pos, len(p.events)
	if p.deep >= 0 || !f() {
		p.pos, p.events = pos, p.events[:n]
		return false
	}
	if p.pos != pos && p.pos > p.max {
		p.max = p.pos
	}
	return true
}

func (p *parser) emit(a action, begin, end int) { p.events = append(p.events, event{a, begin, end}) }

func (p *parser) peek() rune {
	if p.pos < len(p.buf) {
		return p.buf[p.pos]
	}
	return -1
}

// class matches one rune that in accepts.
func (p *parser) class(in func(rune) bool) bool {
	if c := p.peek(); c >= 0 && in(c) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) lit(s string) bool {
	pos := p.pos
	for _, c := range s {
		if p.peek() != c {
			p.pos = pos
			return false
		}
		p.pos++
	}
	return true
}

func (p *parser) star(f func() bool) bool {
	for p.rule(f) {
	}
	return true
}

func (p *parser) opt(f func() bool) bool { p.rule(f); return true }

func (p *parser) seq(fs ...func() bool) bool {
	for _, f := range fs {
		if !f() {
			return false
		}
	}
	return true
}

func (p *parser) alt(fs ...func() bool) bool {
	for _, f := range fs {
		if p.rule(f) {
			return true
		}
	}
	return false
}

func (p *parser) toml() bool {
	return p.rule(func() bool {
		return p.seq(p.expression, func() bool {
			return p.star(func() bool { return p.seq(p.newline, p.expression) })
		}, func() bool { return p.opt(p.newline) }, func() bool { return p.pos == len(p.buf) })
	})
}

func (p *parser) expression() bool {
	return p.rule(func() bool {
		return p.alt(func() bool {
			begin := p.pos
			ok := p.seq(p.ws, p.table, p.ws, p.optComment, func() bool {
				return p.star(func() bool { return p.seq(p.wsnl, p.keyval, p.ws, p.optComment) })
			})
			if ok {
				p.emit(actSetTableString, begin, p.pos)
			}
			return ok
		}, func() bool {
			return p.seq(p.ws, p.keyval, p.ws, p.optComment)
		}, func() bool {
			return p.seq(p.ws, p.optComment)
		}, p.ws)
	})
}

func (p *parser) optComment() bool { return p.opt(p.comment) }

func (p *parser) newline() bool {
	return p.rule(func() bool {
		begin := p.pos
		if !p.class(isNewline) {
			return false
		}
		for p.class(isNewline) {
		}
		p.emit(actLines, begin, p.pos)
		return true
	})
}

func (p *parser) ws() bool {
	return p.rule(func() bool {
		for p.class(isBlank) {
		}
		return true
	})
}

func (p *parser) wsnl() bool {
	return p.rule(func() bool {
		for {
			switch c := p.peek(); {
			case isBlank(c):
				p.pos++
			case isNewline(c):
				p.pos++
				p.emit(actLines, p.pos-1, p.pos)
			default:
				return true
			}
		}
	})
}

func (p *parser) comment() bool {
	return p.rule(func() bool {
		if !p.lit("#") {
			return false
		}
		for p.class(isCommentChar) {
		}
		return true
	})
}

func (p *parser) keyval() bool {
	return p.rule(func() bool {
		ok := p.seq(p.key, p.ws, func() bool { return p.lit("=") }, p.ws, p.val)
		if ok {
			p.emit(actKeyValue, 0, 0)
		}
		return ok
	})
}

func (p *parser) key() bool { return p.rule(func() bool { return p.alt(p.bareKey, p.quotedKey) }) }

func (p *parser) bareKey() bool {
	return p.rule(func() bool {
		begin := p.pos
		for p.class(isBareKeyChar) {
		}
		if p.pos == begin {
			return false
		}
		p.emit(actKey, begin, p.pos)
		return true
	})
}

func (p *parser) quotedKey() bool {
	return p.rule(func() bool {
		begin := p.pos
		if !p.quoted(p.basicChar) {
			return false
		}
		p.emit(actKey, begin, p.pos)
		return true
	})
}

// quoted matches '"' char* '"'.
func (p *parser) quoted(char func() bool) bool {
	return p.seq(func() bool { return p.lit(`"`) }, func() bool { return p.star(char) }, func() bool { return p.lit(`"`) })
}

func (p *parser) val() bool {
	if p.depth++; p.depth > maxDepth {
		p.deep = p.pos
	}
	defer func() { p.depth-- }()
	return p.rule(func() bool {
		return p.alt(p.captured(p.datetime, actTime), p.captured(p.float, actFloat), p.captured(p.integer, actInt),
			p.captured(p.str, actString), p.captured(p.boolean, actBool), p.captured(p.array, actArrayEnd), p.inlineTable)
	})
}

// captured matches f and records a with the text it matched.
func (p *parser) captured(f func() bool, a action) func() bool {
	return func() bool {
		begin := p.pos
		if !f() {
			return false
		}
		p.emit(a, begin, p.pos)
		return true
	}
}

func (p *parser) table() bool { return p.rule(func() bool { return p.alt(p.stdTable, p.arrayTable) }) }

func (p *parser) stdTable() bool { return p.header("[", "]", actStdTable) }

func (p *parser) arrayTable() bool { return p.header("[[", "]]", actArrayTable) }

func (p *parser) header(open, close string, a action) bool {
	return p.rule(func() bool {
		if !p.lit(open) || !p.ws() {
			return false
		}
		begin := p.pos
		if !p.tableKey() {
			return false
		}
		end := p.pos
		if !p.ws() || !p.lit(close) {
			return false
		}
		p.emit(a, begin, end)
		return true
	})
}

func (p *parser) inlineTable() bool {
	return p.rule(func() bool {
		if !p.lit("{") {
			return false
		}
		p.emit(actInlineStart, 0, 0)
		if !p.seq(p.ws, p.inlineTableKeyValues, p.ws, func() bool { return p.lit("}") }) {
			return false
		}
		p.emit(actInlineEnd, 0, 0)
		return true
	})
}

func (p *parser) inlineTableKeyValues() bool {
	return p.rule(func() bool {
		return p.star(func() bool { return p.seq(p.keyval, func() bool { return p.opt(p.inlineTableValSep) }) })
	})
}

func (p *parser) tableKey() bool {
	return p.rule(func() bool {
		return p.seq(p.tableKeyComp, func() bool { return p.star(func() bool { return p.seq(p.tableKeySep, p.tableKeyComp) }) })
	})
}

func (p *parser) tableKeyComp() bool {
	return p.rule(func() bool {
		if !p.key() {
			return false
		}
		p.emit(actTableKey, 0, 0)
		return true
	})
}

func (p *parser) tableKeySep() bool { return p.separator(".") }

func (p *parser) inlineTableValSep() bool { return p.separator(",") }

func (p *parser) separator(s string) bool {
	return p.rule(func() bool { return p.seq(p.ws, func() bool { return p.lit(s) }, p.ws) })
}

func (p *parser) integer() bool {
	return p.rule(func() bool {
		p.class(isSign)
		return p.int()
	})
}

func (p *parser) int() bool {
	return p.rule(func() bool {
		return p.alt(func() bool {
			if !p.class(isNonZero) {
				return false
			}
			n := 0
			for p.rule(p.digitOrUnderscoreDigit) {
				n++
			}
			return n > 0
		}, p.digit)
	})
}

func (p *parser) digitOrUnderscoreDigit() bool {
	return p.alt(p.digit, func() bool { return p.lit("_") && p.digit() })
}

func (p *parser) float() bool {
	return p.rule(func() bool {
		return p.seq(p.integer, func() bool {
			return p.alt(func() bool { return p.frac() && p.opt(p.exp) }, func() bool { return p.opt(p.frac) && p.exp() })
		})
	})
}

func (p *parser) frac() bool {
	return p.rule(func() bool {
		return p.lit(".") && p.digit() && p.star(p.digitOrUnderscoreDigit)
	})
}

func (p *parser) exp() bool {
	return p.rule(func() bool {
		if !p.class(func(c rune) bool { return c == 'e' || c == 'E' }) {
			return false
		}
		p.class(isSign)
		return p.digit() && p.star(p.digitOrUnderscoreDigit)
	})
}

func (p *parser) str() bool {
	return p.rule(func() bool { return p.alt(p.mlLiteralString, p.literalString, p.mlBasicString, p.basicString) })
}

func (p *parser) basicString() bool {
	return p.rule(func() bool {
		begin := p.pos
		if !p.quoted(p.basicChar) {
			return false
		}
		p.emit(actBasicString, begin, p.pos)
		return true
	})
}

func (p *parser) basicChar() bool {
	return p.rule(func() bool { return p.alt(p.basicUnescaped, p.escaped) })
}

func (p *parser) escaped() bool {
	return p.rule(func() bool {
		return p.escape() && p.alt(func() bool { return p.class(isEscapeChar) },
			func() bool { return p.lit("u") && p.hexQuad() },
			func() bool { return p.lit("U") && p.hexQuad() && p.hexQuad() })
	})
}

func (p *parser) basicUnescaped() bool {
	return p.rule(func() bool { return p.class(isBasicUnescaped) })
}

func (p *parser) escape() bool { return p.rule(func() bool { return p.lit(`\`) }) }

func (p *parser) mlBasicString() bool {
	return p.rule(func() bool {
		ok := p.lit(`"""`) && p.mlBasicBody() && p.lit(`"""`)
		if ok {
			p.emit(actMultiBasic, 0, 0)
		}
		return ok
	})
}

func (p *parser) mlBasicBody() bool {
	return p.rule(func() bool {
		return p.star(func() bool {
			return p.alt(p.captured(func() bool { return p.alt(p.basicChar, p.newline) }, actMultiBasicBody),
				func() bool { return p.escape() && p.newline() && p.wsnl() })
		})
	})
}

func (p *parser) literalString() bool {
	return p.rule(func() bool {
		if !p.lit("'") {
			return false
		}
		begin := p.pos
		p.star(p.literalChar)
		end := p.pos
		if !p.lit("'") {
			return false
		}
		p.emit(actLiteral, begin, end)
		return true
	})
}

func (p *parser) literalChar() bool { return p.rule(func() bool { return p.class(isLiteralChar) }) }

func (p *parser) mlLiteralString() bool {
	return p.rule(func() bool {
		if !p.lit("'''") {
			return false
		}
		begin := p.pos
		p.mlLiteralBody()
		end := p.pos
		if !p.lit("'''") {
			return false
		}
		p.emit(actMultiLiteral, begin, end)
		return true
	})
}

func (p *parser) mlLiteralBody() bool {
	return p.rule(func() bool {
		return p.star(func() bool {
			if p.lit("'''") {
				return false
			}
			return p.alt(p.mlLiteralChar, p.newline)
		})
	})
}

func (p *parser) mlLiteralChar() bool { return p.rule(func() bool { return p.class(isMLLiteralChar) }) }

func (p *parser) hexQuad() bool {
	return p.rule(func() bool {
		for range 4 {
			if !p.rule(func() bool { return p.class(isHex) }) {
				return false
			}
		}
		return true
	})
}

func (p *parser) boolean() bool {
	return p.rule(func() bool { return p.lit("true") || p.lit("false") })
}

func (p *parser) datetime() bool {
	return p.rule(func() bool {
		return p.alt(func() bool {
			return p.fullDate() && p.opt(func() bool { return p.lit("T") && p.fullTime() })
		}, p.partialTime)
	})
}

func (p *parser) fullDate() bool {
	return p.rule(func() bool {
		return p.rule(p.digitQuad) && p.lit("-") && p.rule(p.digitDual) && p.lit("-") && p.rule(p.digitDual)
	})
}

func (p *parser) partialTime() bool {
	return p.rule(func() bool {
		return p.rule(p.digitDual) && p.lit(":") && p.rule(p.digitDual) && p.lit(":") && p.rule(p.digitDual) &&
			p.opt(func() bool { return p.lit(".") && p.digit() && p.star(p.digit) })
	})
}

func (p *parser) fullTime() bool {
	return p.rule(func() bool {
		return p.partialTime() && p.opt(func() bool {
			return p.alt(func() bool { return p.lit("Z") }, func() bool {
				return p.rule(func() bool {
					return p.class(isSign) && p.rule(p.digitDual) && p.lit(":") && p.rule(p.digitDual)
				})
			})
		})
	})
}

func (p *parser) digitDual() bool { return p.rule(func() bool { return p.digit() && p.digit() }) }

func (p *parser) digitQuad() bool {
	return p.rule(func() bool { return p.digitDual() && p.digitDual() })
}

func (p *parser) digit() bool { return p.rule(func() bool { return p.class(isDigit) }) }

func (p *parser) array() bool {
	return p.rule(func() bool {
		if !p.lit("[") {
			return false
		}
		p.emit(actArrayStart, 0, 0)
		return p.wsnl() && p.opt(p.arrayValues) && p.wsnl() && p.lit("]")
	})
}

func (p *parser) arrayValues() bool {
	return p.rule(func() bool {
		if !p.arrayVal() {
			return false
		}
		p.star(func() bool {
			return p.seq(p.wsnl, p.optComment, p.wsnl, p.arraySep, p.wsnl, p.optComment, p.wsnl, p.arrayVal)
		})
		return p.seq(p.wsnl, func() bool { return p.opt(p.arraySep) }, p.wsnl, p.optComment)
	})
}

func (p *parser) arrayVal() bool {
	if !p.val() {
		return false
	}
	p.emit(actArrayVal, 0, 0)
	return true
}

func (p *parser) arraySep() bool { return p.rule(func() bool { return p.lit(",") }) }

func isNewline(c rune) bool       { return c == '\r' || c == '\n' }
func isBlank(c rune) bool         { return c == ' ' || c == '\t' }
func isCommentChar(c rune) bool   { return c == '\t' || c >= ' ' }
func isMLLiteralChar(c rune) bool { return c == '\t' || c >= ' ' }
func isLiteralChar(c rune) bool   { return c == '\t' || c >= ' ' && c != '\'' }
func isBasicUnescaped(c rune) bool {
	return c >= ' ' && c != '"' && c != '\\'
}
func isEscapeChar(c rune) bool {
	return c == 'b' || c == 't' || c == 'n' || c == 'f' || c == 'r' || c == '"' || c == '/' || c == '\\'
}
func isSign(c rune) bool    { return c == '-' || c == '+' }
func isNonZero(c rune) bool { return c >= '1' && c <= '9' }
func isDigit(c rune) bool   { return c >= '0' && c <= '9' }
func isHex(c rune) bool     { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
func isBareKeyChar(c rune) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_'
}
