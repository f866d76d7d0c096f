package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// maxConfigSize bounds a config file. A real one is a few KiB (the sample
// with every comment is 3 KiB); the bound keeps a wrong path such as
// /dev/zero or a log file from filling memory before the parser refuses it.
const maxConfigSize = 1 << 20

// readConfigFile reads path if it is a regular file of at most
// maxConfigSize bytes. The file is opened non-blocking so that a FIFO is
// refused at once instead of waiting for a writer, and checked after
// opening, so what is read is what was checked.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, readError(path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, readError(path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fileError(fmt.Sprintf("%s is %s, not a regular file", path, fileKind(fi.Mode())),
			"give the path of a TOML file such as the output of --sample-config", nil)
	}
	if fi.Size() > maxConfigSize {
		return nil, tooBig(path)
	}
	// The size can change after Stat (a growing file, or one of /proc's,
	// which report 0): read one byte past the limit to notice.
	b, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, readError(path, err)
	}
	if len(b) > maxConfigSize {
		return nil, tooBig(path)
	}
	return b, nil
}

func tooBig(path string) error {
	return fileError(fmt.Sprintf("%s is larger than the limit of %d MiB for a config file", path, maxConfigSize>>20),
		"give the path of the file holding [[inputs.chrony_tracking]], a few KiB", nil)
}

// readError names the file once: the errno without its *PathError.
func readError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fileError("cannot read "+path, "", err)
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "of mode " + m.Type().String()
}
