package main

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"syscall"
)

// maxConfigSize bounds a config file. A real one is a few KiB (the sample
// with every comment is 3 KiB); the bound keeps a wrong path such as
// /dev/zero or a log file from filling memory before the parser refuses it.
const maxConfigSize = 1 << 20

// readConfigFile reads path if it is a regular file of at most
// maxConfigSize bytes. The file is opened non-blocking so that a FIFO is
// refused at once instead of waiting for a writer, and checked after
// opening, so what is read is what was checked. It makes the system calls
// itself: an *os.File would set up the network poller (an epoll instance
// and an eventfd, and a thread that then waits in it), which nothing else
// in a --once over UDP needs.
func readConfigFile(path string) ([]byte, error) {
	fd, err := retryEINTR(func() (int, error) {
		return syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	})
	if err != nil {
		return nil, readError(path, err)
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, readError(path, err)
	}
	mode := fileMode(st.Mode)
	if !mode.IsRegular() {
		return nil, fileError(fmt.Sprintf("%s is %s, not a regular file", path, fileKind(mode)),
			"give the path of a TOML file such as the output of --sample-config", nil)
	}
	if st.Size > maxConfigSize {
		return nil, tooBig(path)
	}
	// The size can change after Fstat (a growing file, or one of /proc's,
	// which report 0): read one byte past the limit to notice.
	b := make([]byte, 0, min(st.Size, maxConfigSize)+1)
	for len(b) <= maxConfigSize {
		if len(b) == cap(b) {
			b = slices.Grow(b, 4096)
		}
		n, err := retryEINTR(func() (int, error) { return syscall.Read(fd, b[len(b):min(cap(b), maxConfigSize+1)]) })
		if err != nil {
			return nil, readError(path, err)
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
	}
	return nil, tooBig(path)
}

// retryEINTR calls f until a signal does not interrupt it.
func retryEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// fileMode is the fs.FileMode of a stat(2) st_mode's file type.
func fileMode(m uint32) fs.FileMode {
	switch m & syscall.S_IFMT {
	case syscall.S_IFREG:
		return 0
	case syscall.S_IFDIR:
		return fs.ModeDir
	case syscall.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		return fs.ModeDevice
	case syscall.S_IFIFO:
		return fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		return fs.ModeSocket
	}
	return fs.ModeIrregular
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
