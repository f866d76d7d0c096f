package main

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVersionInfo(t *testing.T) {
	telegraf := debug.Module{Path: telegrafModule, Version: "v1.37.2"}
	tests := []struct {
		name            string
		version, commit string // what make sets
		bi              *debug.BuildInfo
		wantVersion     string
		wantCommit      string
		wantTelegraf    string
	}{
		{
			name:    "make build",
			version: "v0.0.0-20261129085840-04429d06c18e", commit: "04429d06c18eee6615e2262741f0a773bd3cee75",
			bi:          &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Deps: []*debug.Module{&telegraf}},
			wantVersion: "v0.0.0-20261129085840-04429d06c18e", wantCommit: "04429d06c18eee6615e2262741f0a773bd3cee75", wantTelegraf: "v1.37.2",
		},
		{
			name:        "go install @tag",
			bi:          &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Deps: []*debug.Module{&telegraf}},
			wantVersion: "v1.2.3", wantCommit: "unknown", wantTelegraf: "v1.37.2",
		},
		{
			name:        "go install @commit",
			bi:          &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261129085840-04429d06c18e"}},
			wantVersion: "v0.0.0-20261129085840-04429d06c18e", wantCommit: "04429d06c18e", wantTelegraf: "unknown",
		},
		{
			name:        "go install @commit after a tag",
			bi:          &debug.BuildInfo{Main: debug.Module{Version: "v1.2.4-0.20261129085840-04429d06c18e"}},
			wantVersion: "v1.2.4-0.20261129085840-04429d06c18e", wantCommit: "04429d06c18e", wantTelegraf: "unknown",
		},
		{
			name: "go build in a clone",
			bi: &debug.BuildInfo{
				Main:     debug.Module{Version: "v0.0.0-20261129085840-04429d06c18e+dirty"},
				Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "04429d06c18eee6615e2262741f0a773bd3cee75"}, {Key: "vcs.modified", Value: "true"}},
				Deps:     []*debug.Module{{Path: telegrafModule, Version: "v1.37.2", Replace: &debug.Module{Path: "../telegraf"}}},
			},
			wantVersion: "v0.0.0-20261129085840-04429d06c18e+dirty", wantCommit: "04429d06c18eee6615e2262741f0a773bd3cee75 (modified)", wantTelegraf: "v1.37.2 => ../telegraf ",
		},
		{
			name:        "go build in a worktree",
			bi:          &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			wantVersion: "devel", wantCommit: "unknown", wantTelegraf: "unknown",
		},
		{name: "no build info", wantVersion: "devel", wantCommit: "unknown", wantTelegraf: "unknown"},
		{
			name:        "tag that merely looks like a pseudo-version",
			bi:          &debug.BuildInfo{Main: debug.Module{Version: "v1.0.0-rc.1-04429d06c18e"}},
			wantVersion: "v1.0.0-rc.1-04429d06c18e", wantCommit: "unknown", wantTelegraf: "unknown",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := versionInfo(tt.version, tt.commit, tt.bi)
			require.Equal(t, buildVersion{
				version: tt.wantVersion, commit: tt.wantCommit,
				goVersion: runtime.Version(), platform: runtime.GOOS + "/" + runtime.GOARCH,
				telegraf: tt.wantTelegraf,
			}, got)
		})
	}
}

func TestVersionOutput(t *testing.T) {
	code, out, _ := runCLI("--version")
	require.Equal(t, exitOK, code)
	require.Regexp(t, `^telegraf-chrony \S+\ncommit:   \S.*\ngo:       go\S+ \w+/\w+\ntelegraf: v1\.\d+\.\d+\n$`, out)
}
