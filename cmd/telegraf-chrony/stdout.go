package main

import "io"

// stdoutWriter keeps the first error writing to stdout, and writes nothing
// after it: a report cut short (a full disk, a reader gone) must end in an
// error, as execd's loop ends, not in success.
type stdoutWriter struct {
	w   io.Writer
	err error
}

func (s *stdoutWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	s.err = err
	return n, err
}
