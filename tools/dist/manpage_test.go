package main

import (
	"strings"
	"testing"
)

func TestManPage(t *testing.T) {
	tests := []struct {
		name, help string
		want       []string // consecutive lines of the page, in order
	}{
		{
			name: "heading and name line for whatis",
			help: "NAME\n    tool - does things\n",
			want: []string{".SH NAME", `tool \- does things`},
		},
		{
			name: "synopsis kept as laid out",
			help: "SYNOPSIS\n    tool [--a]\n         [--b X]\n",
			want: []string{".SH SYNOPSIS", ".nf", `tool [\-\-a]`, `     [\-\-b X]`, ".fi"},
		},
		{
			name: "paragraphs filled",
			help: "DESCRIPTION\n    One line\n    and another.\n\n    Second.\n",
			want: []string{".PP", "One line", "and another.", ".PP", "Second."},
		},
		{
			name: "option with argument and description",
			help: "OPTIONS\n    --format influx|json\n        Output of --once.\n\n    --debug\n        Also debug.\n",
			want: []string{".TP", `\fB\-\-format\fR \fIinflux|json\fR`, `Output of \-\-once.`, ".TP", `\fB\-\-debug\fR`, "Also debug."},
		},
		{
			name: "file entry",
			help: "FILES\n    /run/x.sock\n        The socket.\n",
			want: []string{".TP", `\fB/run/x.sock\fR`, "The socket."},
		},
		{
			name: "example after its introduction, indentation kept",
			help: "EXAMPLES\n    In a.conf:\n        [[a]]\n          b = 1\n",
			want: []string{".PP", "In a.conf:", ".RS", ".nf", "[[a]]", "  b = 1", ".fi", ".RE"},
		},
		{
			name: "columns are not filled",
			help: "EXIT STATUS\n    0   fine\n    1   not: --once\n        or --x\n",
			want: []string{".PP", ".nf", "0   fine", `1   not: \-\-once`, `    or \-\-x`, ".fi"},
		},
		{
			name: "roff control characters and backslashes escaped",
			help: "DESCRIPTION\n    .starts with a dot\n    'quote, and a \\ backslash\n",
			want: []string{`\&.starts with a dot`, `\&'quote, and a \e backslash`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := manPage(tt.help, "tool", "v1.2.3", "2026-11-29")
			if !strings.HasPrefix(page, ".TH TOOL 1 \"2026-11-29\" \"v1.2.3\" \"User Commands\"\n.ad l\n.nh\n") {
				t.Fatalf("page does not start with the title:\n%s", page)
			}
			if !strings.Contains(page, strings.Join(tt.want, "\n")+"\n") {
				t.Errorf("want the lines\n%s\nin\n%s", strings.Join(tt.want, "\n"), page)
			}
		})
	}
}
