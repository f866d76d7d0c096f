package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronybuild"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// bracketTries bounds the reads of a report that changes with every
// sample: chronyd polls a lab's sources every 1/4 s, so a read falls
// between two samples within a few tries.
const bracketTries = 60

// TestOnceTextMatchesChronyc: against a real chronyd with sources of
// every kind, --once --format text prints sources, sourcestats and
// activity exactly as the same release's chronyc prints them (sources and
// sourcestats with -N and -a from 4.0: the names chronyd was given, every
// source), taken when chronyc read the same before and after; serverstats
// with chronyc's labels and each counter between chronyc's two readings.
func TestOnceTextMatchesChronyc(t *testing.T) {
	chronylab.Require(t)
	l := chronylab.Start(t, chronylab.Options{AllSources: true})
	if _, err := l.WaitAllSources(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	names := chronybuild.CompareVersions(l.Release, "4.0") >= 0
	chronyc := func(report string) func() (string, error) {
		args := []string{report}
		if names && (report == "sources" || report == "sourcestats") {
			args = []string{"-N", report, "-a"}
		}
		return func() (string, error) { return l.ChronycUnix(args...) }
	}
	for _, report := range []string{"sources", "sourcestats", "activity"} {
		t.Run(report, func(t *testing.T) {
			ours := func() (string, error) { return onceText(t, l.UnixURL(), report) }
			got := bracketed(t, chronyc(report), ours)
			t.Logf("--once --format text --metrics %s, as chronyc %s prints it:\n%s", report, l.Release, got)
		})
	}
	t.Run("serverstats", func(t *testing.T) {
		before, err := chronyc("serverstats")()
		require.NoError(t, err)
		got, err := onceText(t, l.UnixURL(), "serverstats")
		require.NoError(t, err)
		after, err := chronyc("serverstats")()
		require.NoError(t, err)
		b, o, a := strings.Split(before, "\n"), strings.Split(got, "\n"), strings.Split(after, "\n")
		require.Len(t, o, len(b), "ours:\n%s\nchronyc:\n%s", got, before)
		for i := range o {
			label, ov := counterLine(t, o[i])
			blabel, bv := counterLine(t, b[i])
			_, av := counterLine(t, a[i])
			assert.Equal(t, blabel, label)
			assert.True(t, bv <= ov && ov <= av, "%s: %d, chronyc %d then %d", label, ov, bv, av)
		}
		t.Logf("ours:\n%s", got)
	})
}

// onceText runs --once --format text for one report of url and returns
// the report's lines without the Report, Server and Result lines.
func onceText(t *testing.T, url, report string) (string, error) {
	code, out, errOut := runCLI("--once", "--format", "text", "--server", url, "--timeout", timing.ReplyWait.String(), "--metrics", report)
	if code != exitOK {
		return "", fmt.Errorf("--once %s: exit %d: %s", report, code, errOut)
	}
	end := strings.Index(out, "\nReport          : "+report+"\n")
	if end < 0 {
		return "", fmt.Errorf("--once %s: no Report line in\n%s", report, out)
	}
	return out[:end], nil
}

// bracketed reads chronyc, ours and chronyc again until the two chronyc
// readings agree, and wants ours equal to them then; it returns ours.
func bracketed(t *testing.T, chronyc, ours func() (string, error)) string {
	t.Helper()
	var last string
	for range bracketTries {
		before, err := chronyc()
		require.NoError(t, err)
		got, err := ours()
		require.NoError(t, err)
		after, err := chronyc()
		require.NoError(t, err)
		if before == after && got == before {
			return got
		}
		if before == after {
			last = fmt.Sprintf("ours:\n%s\nchronyc before and after:\n%s", got, before)
		}
	}
	t.Fatalf("no read in %d where ours matched chronyc's two equal readings; last such:\n%s", bracketTries, last)
	return ""
}

// counterLine splits a serverstats line into chronyc's label and count.
func counterLine(t *testing.T, line string) (string, uint64) {
	t.Helper()
	label, value, ok := strings.Cut(line, ": ")
	require.True(t, ok, "serverstats line %q", line)
	n, err := strconv.ParseUint(value, 10, 64)
	require.NoError(t, err, "serverstats line %q", line)
	return label, n
}
