// Package freeport picks loopback TCP ports for servers that a test starts
// and that must be told their port in a config file (influxd, prometheus,
// Telegraf's outputs.prometheus_client).
package freeport

import "net"

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
