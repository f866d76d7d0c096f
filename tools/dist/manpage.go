package main

import (
	"fmt"
	"strings"
)

// manPage turns the command's --help text into a roff man page (section
// 1). The help is laid out like a man page: headings in capitals at the
// left margin, text indented by 4, option and file entries at 4 with their
// description indented further, examples indented further than the text
// that introduces them. Aligned text (two spaces inside a line, or a whole
// SYNOPSIS) stays as it is; other paragraphs are left for man to fill.
func manPage(help, name, version, date string) string {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH %s 1 %q %q \"User Commands\"\n", strings.ToUpper(escape(name)), date, version)
	// Ragged right, no hyphenation: flags and paths stay whole.
	b.WriteString(".ad l\n.nh\n")
	for _, sec := range splitSections(help) {
		fmt.Fprintf(&b, ".SH %s\n", sec.title)
		switch sec.title {
		case "NAME": // "name - what it is", as whatis reads it
			fill(&b, trimBlank(sec.lines))
			continue
		case "SYNOPSIS":
			preformatted(&b, sec.lines)
			continue
		}
		for _, blk := range splitBlocks(sec.lines) {
			writeBlock(&b, blk)
		}
	}
	return b.String()
}

type section struct {
	title string
	lines []string
}

// splitSections cuts the help at its headings: non-blank lines that start
// at the margin.
func splitSections(help string) []section {
	var secs []section
	for _, line := range strings.Split(strings.TrimRight(help, "\n"), "\n") {
		line = strings.TrimRight(line, " \t")
		if line != "" && indent(line) == 0 {
			secs = append(secs, section{title: line})
			continue
		}
		if len(secs) == 0 {
			secs = append(secs, section{title: "DESCRIPTION"})
		}
		secs[len(secs)-1].lines = append(secs[len(secs)-1].lines, line)
	}
	return secs
}

// splitBlocks cuts a section at blank lines.
func splitBlocks(lines []string) [][]string {
	var blocks [][]string
	var cur []string
	for _, l := range append(lines, "") {
		if l == "" {
			if len(cur) > 0 {
				blocks = append(blocks, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, l)
	}
	return blocks
}

func writeBlock(b *strings.Builder, blk []string) {
	base := indent(blk[0])
	head, rest := leading(blk, base)
	first := strings.TrimSpace(blk[0])
	switch {
	case len(head) == 1 && len(rest) > 0 && (strings.HasPrefix(first, "-") || strings.HasPrefix(first, "/")):
		// An option or a file, and its description.
		fmt.Fprintf(b, ".TP\n%s\n", term(first))
		fill(b, rest)
	case len(rest) > 0 && minIndent(rest) > base && strings.HasSuffix(head[len(head)-1], ":"):
		// Text that introduces an example ("In telegraf.conf:"), and the
		// example as it is.
		b.WriteString(".PP\n")
		fill(b, head)
		b.WriteString(".RS\n")
		preformatted(b, rest)
		b.WriteString(".RE\n")
	default:
		b.WriteString(".PP\n")
		fill(b, blk)
	}
}

// fill writes lines for man to fill, unless they are laid out in columns
// or indented unevenly, which filling would destroy.
func fill(b *strings.Builder, lines []string) {
	if aligned(lines) || minIndent(lines) != indent(lines[0]) || maxIndent(lines) != indent(lines[0]) {
		preformatted(b, lines)
		return
	}
	for _, l := range lines {
		fmt.Fprintln(b, guard(escape(strings.TrimSpace(l))))
	}
}

// preformatted writes lines unfilled, keeping their indentation relative
// to the least indented one.
func preformatted(b *strings.Builder, lines []string) {
	lines = trimBlank(lines)
	if len(lines) == 0 {
		return
	}
	least := minIndent(lines)
	b.WriteString(".nf\n")
	for _, l := range lines {
		if len(l) >= least {
			l = l[least:]
		}
		fmt.Fprintln(b, guard(escape(l)))
	}
	b.WriteString(".fi\n")
}

// term sets an entry's name in bold and its arguments in italics:
// "--format influx|json|text".
func term(s string) string {
	name, args, _ := strings.Cut(s, " ")
	out := `\fB` + escape(name) + `\fR`
	if args != "" {
		out += ` \fI` + escape(args) + `\fR`
	}
	return guard(out)
}

// leading splits blk into its first lines at indent base and the rest.
func leading(blk []string, base int) (head, rest []string) {
	i := 0
	for i < len(blk) && indent(blk[i]) <= base {
		i++
	}
	return blk[:i], blk[i:]
}

// aligned reports text laid out in columns, which filling would destroy.
func aligned(lines []string) bool {
	for _, l := range lines {
		if strings.Contains(strings.TrimSpace(l), "  ") {
			return true
		}
	}
	return false
}

func trimBlank(lines []string) []string {
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func indent(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

func minIndent(lines []string) int {
	least := -1
	for _, l := range lines {
		if l != "" && (least < 0 || indent(l) < least) {
			least = indent(l)
		}
	}
	return max(least, 0)
}

func maxIndent(lines []string) int {
	most := 0
	for _, l := range lines {
		most = max(most, indent(l))
	}
	return most
}

// escape makes text safe inside a roff line: a backslash is \e, and a
// hyphen is \- so that options print, and copy, as ASCII minus signs.
func escape(s string) string {
	return strings.NewReplacer(`\`, `\e`, `-`, `\-`).Replace(s)
}

// guard puts a zero-width \& before a line that would otherwise start
// with a roff control character.
func guard(s string) string {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		return `\&` + s
	}
	return s
}
