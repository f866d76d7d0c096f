package main

import (
	"context"
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

// bracketWait bounds the reads of a report that changes with every
// sample: chronyd polls a lab's sources every 1/4 s, so a read falls
// between two samples within a few tries when the machine is idle, and
// within seconds when a dozen labs share two cores.
const bracketWait = 60 * time.Second

// TestOnceTextMatchesChronyc: against a real chronyd with sources of
// every kind, --once --format text prints sources, sourcestats and
// activity exactly as the same release's chronyc prints them (sources and
// sourcestats with -N and -a from 4.0: the names chronyd was given, every
// source), taken when chronyc read the same before and after; serverstats
// with chronyc's labels and each counter between chronyc's two readings.
// The installed chronyd, and every release of chronybuild.SrcEnv.
func TestOnceTextMatchesChronyc(t *testing.T) {
	chronylab.Require(t)
	programs := map[string]chronylab.Options{"installed": {AllSources: true}}
	_, srcs, err := chronybuild.FromEnv()
	require.NoError(t, err)
	for _, b := range chronybuild.Ensure(context.Background(), srcs) {
		require.NoError(t, b.Err)
		programs[b.Version] = chronylab.Options{AllSources: true, Chronyd: b.Chronyd, Chronyc: b.Chronyc}
	}
	for name, opts := range programs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			textMatchesChronyc(t, opts)
		})
	}
}

func textMatchesChronyc(t *testing.T, opts chronylab.Options) {
	l := chronylab.Start(t, opts)
	if _, err := l.WaitAllSources(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	names := chronybuild.CompareVersions(l.Release, "4.0") >= 0
	chronyc := func(report string) func() (string, error) {
		args := []string{report}
		if names && (report == "sources" || report == "sourcestats") {
			args = []string{"-N", report, "-a"}
		}
		return func() (string, error) {
			out, err := l.ChronycUnix(args...)
			// chronyc before 4.0 counts the sources above the table; ours
			// is 4.x's layout, the same table without that line.
			if _, table, ok := strings.Cut(out, "\n"); ok && strings.HasPrefix(out, "210 Number of sources = ") {
				out = table
			}
			return out, err
		}
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
	tries := 0
	for start := time.Now(); time.Since(start) < bracketWait; tries++ {
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
	t.Fatalf("no read in %d (%v) where ours matched chronyc's two equal readings; last such:\n%s", tries, bracketWait, last)
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
