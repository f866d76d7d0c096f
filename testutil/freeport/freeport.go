// Package freeport picks loopback TCP ports for servers that a test starts
// and that must be told their port in a config file (influxd, prometheus,
// Telegraf's outputs.prometheus_client).
package freeport

import (
	"errors"
	"fmt"
	"net"
)

// TCP asks the kernel for n distinct free ports on 127.0.0.1. They are
// released before returning, so another process may take one before the
// server binds it: a caller that can, retries with fresh ports.
func TCP(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Attempts is how often Retry starts a server: enough that losing a port
// to another process between TCP and the server's bind is no failure.
const Attempts = 3

// Retry calls start, which picks fresh ports each time, until it succeeds
// or has failed Attempts times, and returns its result or every attempt's
// error.
func Retry[S any](start func() (S, error)) (S, error) {
	var errs []error
	for attempt := 1; attempt <= Attempts; attempt++ {
		s, err := start()
		if err == nil {
			return s, nil
		}
		errs = append(errs, fmt.Errorf("attempt %d: %w", attempt, err))
	}
	var zero S
	return zero, errors.Join(errs...)
}
