package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager
)

// Where the packages put their files. The drop-in is what makes a Telegraf
// from InfluxData's packages run the plugin: its service reads every file
// in /etc/telegraf/telegraf.d.
const (
	binPath     = "/usr/bin/telegraf-chrony"
	confPath    = "/etc/telegraf/telegraf-chrony.conf"
	dropInPath  = "/etc/telegraf/telegraf.d/chrony_tracking.conf"
	manPath     = "/usr/share/man/man1/telegraf-chrony.1.gz"
	readmePath  = "/usr/share/doc/telegraf-chrony/README.md"
	dropInInput = "packaging/chrony_tracking.conf"
)

const description = `Telegraf input plugin for chronyd's tracking report
telegraf-chrony reads chronyd's tracking report (what chronyc tracking
shows) over chrony's own command protocol and writes it as Telegraf
metrics: offset, frequency, stratum, leap status, reference, and the
clock error bound. A failure is a point with a result code, never a
crash of the agent. The package installs the command, its configuration
(/etc/telegraf/telegraf-chrony.conf) and an [[inputs.execd]] drop-in in
/etc/telegraf/telegraf.d, so a restart of Telegraf starts it.`

// staged are the files made for the packages from the built command.
type staged struct {
	sampleConf, manPage string
}

// stageFiles writes the sample config (the command's --sample-config) and
// the man page (made from its --help) into dir.
func stageFiles(o options, host, dir string) (staged, error) {
	var s staged
	sample, err := output(host, "--sample-config")
	if err != nil {
		return s, err
	}
	help, err := output(host, "--help")
	if err != nil {
		return s, err
	}
	s.sampleConf = filepath.Join(dir, "telegraf-chrony.conf")
	if err := os.WriteFile(s.sampleConf, []byte(sample), 0o644); err != nil {
		return s, err
	}
	page := manPage(help, name, o.version, o.mtime.Format("2006-01-02"))
	s.manPage = filepath.Join(dir, "telegraf-chrony.1.gz")
	return s, os.WriteFile(s.manPage, gzipped([]byte(page)), 0o644)
}

// gzipped compresses like gzip -9n: no name or time in the header, so the
// same page gives the same bytes.
func gzipped(data []byte) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// packageInfo describes the package of t. It has no maintainer scripts:
// installing it changes no user, group, service or chrony setting.
func packageInfo(o options, t target, f staged) *nfpm.Info {
	file := func(src, dst string, mode os.FileMode, typ string) *files.Content {
		return &files.Content{Source: src, Destination: dst, Type: typ,
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: mode, MTime: o.mtime}}
	}
	dir := func(dst string) *files.Content { return file("", dst, 0o755, files.TypeDir) }
	return nfpm.WithDefaults(&nfpm.Info{
		Name:        name,
		Arch:        t.nfpmArch,
		Platform:    "linux",
		Version:     o.version,
		Release:     "1", // keeps a pseudo-version's hyphen out of the Debian revision
		Section:     "net",
		Priority:    "optional",
		Maintainer:  "telegraf-chrony developers <telegraf-chrony@users.noreply.github.com>",
		Description: description,
		Homepage:    "https://github.com/telegraf-chrony/telegraf-chrony",
		MTime:       o.mtime,
		Overridables: nfpm.Overridables{
			Suggests: []string{"chrony", "telegraf"},
			Contents: files.Contents{
				file(filepath.Join(o.out, t.binary()), binPath, 0o755, files.TypeFile),
				// Conffiles: an upgrade never replaces an edited copy.
				file(f.sampleConf, confPath, 0o644, files.TypeConfigNoReplace),
				file(filepath.Join(o.root, dropInInput), dropInPath, 0o644, files.TypeConfigNoReplace),
				file(f.manPage, manPath, 0o644, files.TypeFile),
				file(filepath.Join(o.root, "README.md"), readmePath, 0o644, files.TypeFile),
				// Owned, so that removing the package removes them when
				// nothing else is in them (a deb owns every parent anyway;
				// an rpm only what it lists).
				dir(filepath.Dir(dropInPath)),
				dir(filepath.Dir(confPath)),
				dir(filepath.Dir(readmePath)),
			},
		},
	})
}

// writePackage writes the deb or rpm of t into o.out under the format's
// conventional name.
func writePackage(o options, t target, format string, f staged) (string, error) {
	p, err := nfpm.Get(format)
	if err != nil {
		return "", err
	}
	info := packageInfo(o, t, f)
	if err := nfpm.Validate(info); err != nil {
		return "", fmt.Errorf("%s %s: %w", format, t.suffix, err)
	}
	path := filepath.Join(o.out, p.ConventionalFileName(info))
	var b bytes.Buffer
	if err := p.Package(info, &b); err != nil {
		return "", fmt.Errorf("%s %s: %w", format, t.suffix, err)
	}
	return path, os.WriteFile(path, b.Bytes(), 0o644)
}
