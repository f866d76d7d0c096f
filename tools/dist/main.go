// Command dist builds telegraf-chrony's release artifacts from a checkout:
// a static binary for each target, a .deb and an .rpm for each, and
// SHA256SUMS. `make dist` runs it with the version, the commit time and the
// linker flags of `make build`.
//
// It lives in a module of its own so that the packaging library (nfpm) and
// its dependencies never enter the command's module graph: they cannot
// change a version the command builds with, nor what `go install` fetches.
package main

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

const name = "telegraf-chrony"

// target is one platform of the release.
type target struct {
	goarch, goarm string
	suffix        string      // in the binary's name: telegraf-chrony-linux-<suffix>
	nfpmArch      string      // nfpm's name, mapped to the deb and rpm names
	machine       elf.Machine // what the binary's ELF header must say
}

var targets = []target{
	{goarch: "amd64", suffix: "amd64", nfpmArch: "amd64", machine: elf.EM_X86_64},
	{goarch: "arm64", suffix: "arm64", nfpmArch: "arm64", machine: elf.EM_AARCH64},
	// ARMv7 with a hardware FPU: the boards that often run chrony.
	{goarch: "arm", goarm: "7", suffix: "armv7", nfpmArch: "arm7", machine: elf.EM_ARM},
}

func (t target) binary() string { return name + "-linux-" + t.suffix }

type options struct {
	root, out, version, ldflags string
	mtime                       time.Time
}

func main() {
	var o options
	var epoch int64
	flag.StringVar(&o.root, "root", "../..", "the repository's top directory")
	flag.StringVar(&o.out, "out", "", "output directory, emptied first (default <root>/dist)")
	flag.StringVar(&o.version, "version", "", "version of the release, as scripts/version.sh prints it")
	flag.StringVar(&o.ldflags, "ldflags", "", "go build -ldflags, as make build passes them")
	flag.Int64Var(&epoch, "mtime", 0, "time of the packaged files and the man page, in Unix seconds (the commit's time)")
	flag.Parse()
	if o.version == "" || epoch == 0 {
		fmt.Fprintln(os.Stderr, "dist: -version and -mtime are required (make dist passes them)")
		os.Exit(2)
	}
	if o.out == "" {
		o.out = filepath.Join(o.root, "dist")
	}
	o.mtime = time.Unix(epoch, 0).UTC()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "dist: %v\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if err := os.RemoveAll(o.out); err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	stage, err := os.MkdirTemp("", "telegraf-chrony-dist")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)

	for _, t := range targets {
		start := time.Now()
		if err := build(o, t); err != nil {
			return err
		}
		fmt.Printf("built %s in %.1fs\n", filepath.Join(o.out, t.binary()), time.Since(start).Seconds())
	}
	host, err := hostBinary(o.out)
	if err != nil {
		return err
	}
	files, err := stageFiles(o, host, stage)
	if err != nil {
		return err
	}
	for _, t := range targets {
		for _, format := range []string{"deb", "rpm"} {
			path, err := writePackage(o, t, format, files)
			if err != nil {
				return err
			}
			fmt.Printf("packed %s\n", path)
		}
	}
	return writeSums(o.out)
}

// build compiles a static binary for t and checks its ELF header.
func build(o options, t target) error {
	out, err := filepath.Abs(filepath.Join(o.out, t.binary()))
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", o.ldflags, "-o", out, "./cmd/telegraf-chrony")
	cmd.Dir = o.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+t.goarch, "GOARM="+t.goarm)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building %s: %w", t.binary(), err)
	}
	return checkELF(out, t.machine)
}

func checkELF(path string, want elf.Machine) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if f.Machine != want {
		return fmt.Errorf("%s is built for %v, want %v", path, f.Machine, want)
	}
	return nil
}

// hostBinary is the binary this machine can run, for --help and
// --sample-config.
func hostBinary(out string) (string, error) {
	for _, t := range targets {
		if runtime.GOOS == "linux" && t.goarch == runtime.GOARCH {
			return filepath.Abs(filepath.Join(out, t.binary()))
		}
	}
	return "", fmt.Errorf("none of the targets runs on %s/%s, so the man page cannot be made from --help", runtime.GOOS, runtime.GOARCH)
}

// writeSums writes SHA256SUMS in the format of sha256sum, so that
// `sha256sum -c SHA256SUMS` checks a download.
func writeSums(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), e.Name())
	}
	if b.Len() == 0 {
		return errors.New("nothing to checksum")
	}
	return os.WriteFile(filepath.Join(dir, "SHA256SUMS"), b.Bytes(), 0o644)
}

// output runs the binary with args and returns its stdout.
func output(bin string, args ...string) (string, error) {
	var stderr strings.Builder
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", bin, strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}
