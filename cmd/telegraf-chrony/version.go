package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version and commit are set by make (scripts/version.sh and git) with
// -ldflags "-X main.version=... -X main.commit=...". A `go install
// ...@version` build leaves them empty and versionInfo takes both from the
// build info the go command embeds.
var version, commit string

const telegrafModule = "github.com/influxdata/telegraf"

// buildVersion is what --version reports.
type buildVersion struct {
	version, commit, goVersion, platform, telegraf string
}

func (b buildVersion) String() string {
	return fmt.Sprintf("telegraf-chrony %s\ncommit:   %s\ngo:       %s %s\ntelegraf: %s",
		b.version, b.commit, b.goVersion, b.platform, b.telegraf)
}

func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return versionInfo(version, commit, bi).String()
}

// versionInfo prefers the values make set, then the build info: the module
// version (a tag or a pseudo-version), the VCS revision a build in a git
// checkout records, or the commit a pseudo-version ends with.
func versionInfo(version, commit string, bi *debug.BuildInfo) buildVersion {
	b := buildVersion{
		version:   version,
		commit:    commit,
		goVersion: runtime.Version(),
		platform:  runtime.GOOS + "/" + runtime.GOARCH,
		telegraf:  "unknown",
	}
	if bi != nil {
		if b.version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.version = bi.Main.Version
		}
		if b.commit == "" {
			b.commit = vcsRevision(bi)
		}
		if b.commit == "" {
			b.commit = pseudoVersionCommit(b.version)
		}
		for _, d := range bi.Deps {
			if d.Path == telegrafModule {
				b.telegraf = d.Version
				if d.Replace != nil {
					b.telegraf += " => " + d.Replace.Path + " " + d.Replace.Version
				}
			}
		}
	}
	if b.version == "" {
		b.version = "devel"
	}
	if b.commit == "" {
		b.commit = "unknown"
	}
	return b
}

// vcsRevision is the commit a build in a git checkout records (not in a git
// worktree: golang/go#58218), marked when the tree had changes.
func vcsRevision(bi *debug.BuildInfo) string {
	var rev string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" && modified {
		rev += " (modified)"
	}
	return rev
}

// pseudoVersionCommit returns the 12-digit commit prefix that ends a
// pseudo-version (v0.0.0-20261129085840-04429d06c18e), or "" for a tag.
func pseudoVersionCommit(v string) string {
	v, _, _ = strings.Cut(v, "+")
	i := strings.LastIndexByte(v, '-')
	if i < 0 {
		return ""
	}
	hash, rest := v[i+1:], v[:i]
	if len(hash) != 12 || strings.Trim(hash, "0123456789abcdef") != "" {
		return ""
	}
	j := strings.LastIndexAny(rest, "-.")
	if j < 0 || len(rest)-j-1 != 14 || strings.Trim(rest[j+1:], "0123456789") != "" {
		return ""
	}
	return hash
}
