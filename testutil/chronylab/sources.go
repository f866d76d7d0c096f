package chronylab

import (
	"crypto/rand"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// SourceKind is the kind of a source the lab gives the daemon under test.
type SourceKind int

const (
	// SourceSelected is the lab NTP server on 127.0.0.1, configured with
	// prefer, so that the daemon under test selects it (tracking names it)
	// whatever the other sources say.
	SourceSelected SourceKind = iota
	// SourceReachable is a second lab NTP server, on 127.0.0.2 (two
	// sources of one chronyd may not share an address).
	SourceReachable
	// SourceSilent is an address on 127.0.0.3 (and up, with
	// Options.ExtraSilent) whose port the lab holds open and never
	// answers: reachability stays 0.
	SourceSilent
	// SourceUnresolved is a name under .invalid (RFC 6761), which never
	// resolves. From 4.0 chronyd keeps it as a source whose address is of
	// the ID family; before 4.0 it is not a source at all, only counted as
	// unresolved by the activity report while chronyd still tries to
	// resolve it (it stops after a permanent failure such as NXDOMAIN, and
	// tries again after a temporary one such as no DNS server).
	SourceUnresolved
	// SourceRefclock is a reference clock (refclock SOCK) that the lab
	// feeds with a sample every RefclockFeedInterval, RefclockOffset off
	// the system clock.
	SourceRefclock
)

func (k SourceKind) String() string {
	switch k {
	case SourceSelected:
		return "selected"
	case SourceReachable:
		return "reachable"
	case SourceSilent:
		return "silent"
	case SourceUnresolved:
		return "unresolved"
	case SourceRefclock:
		return "refclock"
	}
	return "SourceKind(" + strconv.Itoa(int(k)) + ")"
}

// Source is one source the lab configured for the daemon under test.
type Source struct {
	Kind SourceKind
	// Name is what chrony.conf gives chronyd: an IP address, the
	// unresolvable name, or the reference clock's refid.
	Name string
	// Addr is where the source is polled; the zero value for the
	// unresolved name and the reference clock.
	Addr netip.AddrPort
}

// What an AllSources lab configures.
const (
	// UnresolvedName is the source name that never resolves.
	UnresolvedName = "chronylab-never-resolves.invalid"
	// RefclockRefID is the reference clock's refid, as chronyc prints it.
	RefclockRefID = "LAB"
	// RefclockOffset is the offset of the reference clock's samples from
	// the system clock (true time less system time), in seconds: far
	// enough from the two lab NTP servers (which agree with the system
	// clock to microseconds) that chronyd calls the reference clock a
	// falseticker rather than flapping between states.
	RefclockOffset = 0.001
	// RefclockFeedInterval is how often the lab sends the reference clock a
	// sample: 16 per poll of the reference clock (poll 0, 1 s), where
	// chronyd needs at least 4 per poll.
	RefclockFeedInterval = time.Second / 16
	// allSourcesPoll is the polling interval (log2 s) of an AllSources
	// lab's NTP sources: slow enough that a chronyc read, ours and a
	// second chronyc read often fall between two updates of the sources,
	// fast enough that the lab synchronises in seconds.
	allSourcesPoll = -2
)

var (
	labServerAddr    = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	secondServerAddr = netip.AddrFrom4([4]byte{127, 0, 0, 2})
	silentAddr       = netip.AddrFrom4([4]byte{127, 0, 0, 3})
)

// startAllSources starts what an AllSources lab needs beside the lab NTP
// server (already running): the second server, the silent port and the
// reference clock's feeder, picks the daemon under test's own NTP port,
// and returns the configuration lines of the daemon under test.
func (l *Lab) startAllSources(extraSilent int, unresolved bool) ([]string, error) {
	second, err := l.startNTPServer(&l.second, "second lab NTP server", "server2", secondServerAddr)
	if err != nil {
		return nil, err
	}
	silent, err := l.holdSilent(1 + extraSilent)
	if err != nil {
		return nil, err
	}
	if l.ServePort, err = pickPort(); err != nil {
		return nil, fmt.Errorf("chronylab: %w", err)
	}
	refclock := filepath.Join(l.Dir, "refclock.sock")
	feeder, err := startFeeder(l.tools.chronyd, refclock, RefclockOffset, RefclockFeedInterval)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.feeder = feeder
	l.mu.Unlock()

	l.Configured = []Source{
		{SourceSelected, labServerAddr.String(), netip.AddrPortFrom(labServerAddr, uint16(l.NTPPort))},
		{SourceReachable, secondServerAddr.String(), netip.AddrPortFrom(secondServerAddr, uint16(second))},
	}
	for _, a := range silent {
		l.Configured = append(l.Configured, Source{SourceSilent, a.Addr().String(), a})
	}
	if unresolved {
		l.Configured = append(l.Configured, Source{SourceUnresolved, UnresolvedName, netip.AddrPort{}})
	}
	l.Configured = append(l.Configured, Source{SourceRefclock, RefclockRefID, netip.AddrPort{}})
	var conf []string
	for _, s := range l.Configured {
		switch s.Kind {
		case SourceSelected:
			conf = append(conf, fmt.Sprintf("server %s port %d iburst minpoll %d maxpoll %d prefer", s.Name, s.Addr.Port(), allSourcesPoll, allSourcesPoll))
		case SourceReachable, SourceSilent:
			conf = append(conf, fmt.Sprintf("server %s port %d iburst minpoll %d maxpoll %d", s.Name, s.Addr.Port(), allSourcesPoll, allSourcesPoll))
		case SourceUnresolved:
			conf = append(conf, "server "+s.Name+" iburst")
		case SourceRefclock:
			conf = append(conf, fmt.Sprintf("refclock SOCK %s refid %s poll 0", refclock, s.Name))
		}
	}
	// The daemon under test serves NTP too, so that its serverstats count
	// the clients QueryNTP plays.
	return append(conf,
		fmt.Sprintf("port %d", l.ServePort),
		"bindaddress "+labServerAddr.String(),
		"allow "+labServerAddr.String(),
	), nil
}

// stopAllSourcesLocked stops what startAllSources started; l.mu is held.
func (l *Lab) stopAllSourcesLocked() error {
	var err error
	if l.feeder != nil {
		l.feeder.stop()
		l.feeder = nil
	}
	for _, c := range l.silent {
		_ = c.Close()
	}
	l.silent = nil
	if l.second != nil {
		if _, err = l.second.stop(); err == nil {
			l.second = nil
		}
	}
	return err
}

// holdSilent holds a UDP port on each of n addresses from 127.0.0.3 up,
// where nothing will answer, and returns them.
func (l *Lab) holdSilent(n int) ([]netip.AddrPort, error) {
	var addrs []netip.AddrPort
	ip := silentAddr
	for range n {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			return nil, fmt.Errorf("chronylab: silent source: %w", err)
		}
		l.mu.Lock()
		l.silent = append(l.silent, c)
		l.mu.Unlock()
		addrs = append(addrs, c.LocalAddr().(*net.UDPAddr).AddrPort())
		ip = ip.Next()
	}
	return addrs, nil
}

// SecondServerPID is the pid of the second lab NTP server of an
// AllSources lab, 0 when there is none running.
func (l *Lab) SecondServerPID() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.second == nil || l.second.Exited() {
		return 0
	}
	return l.second.PID()
}

// sockSampleLen is the size of chrony's struct sock_sample in a 64-bit
// chronyd on Linux: struct timeval (two int64), double offset, int pulse,
// int leap, int _pad, int magic. The layout is chronyd's, not this
// process's: a test built for armv7 and run under qemu feeds the host's
// 64-bit chronyd.
const (
	sockSampleLen = 40
	sockMagic     = 0x534f434b
)

// sockSample encodes one refclock SOCK sample taken at now, in the host's
// byte order as chronyd reads it.
func sockSample(now time.Time, offset float64) []byte {
	b := make([]byte, sockSampleLen)
	ne := binary.NativeEndian
	ne.PutUint64(b[0:], uint64(now.Unix()))
	ne.PutUint64(b[8:], uint64(now.Nanosecond()/1000))
	ne.PutUint64(b[16:], math.Float64bits(offset))
	// pulse, leap and _pad stay 0: a normal sample, no leap second.
	ne.PutUint32(b[36:], sockMagic)
	return b
}

// feeder sends samples to a refclock SOCK socket until stopped.
type feeder struct {
	quit chan struct{}
	wg   sync.WaitGroup
}

// startFeeder sends a sample to the unix datagram socket at path every
// interval. The socket is chronyd's to create: a send before it exists, or
// while chronyd restarts, fails and is simply tried again next time.
func startFeeder(chronyd, path string, offset float64, interval time.Duration) (*feeder, error) {
	if err := chronyd64(chronyd); err != nil {
		return nil, err
	}
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return nil, fmt.Errorf("chronylab: refclock feeder: %w", err)
	}
	syscall.CloseOnExec(fd)
	f := &feeder{quit: make(chan struct{})}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer syscall.Close(fd)
		to := &syscall.SockaddrUnix{Name: path}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-f.quit:
				return
			case now := <-tick.C:
				_ = syscall.Sendto(fd, sockSample(now, offset), syscall.MSG_DONTWAIT, to)
			}
		}
	}()
	return f, nil
}

// chronyd64 refuses a chronyd that is not a 64-bit program, whose struct
// sock_sample the feeder's samples would not match.
func chronyd64(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("chronylab: reading the reference clock's chronyd: %w", err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 {
		return fmt.Errorf("chronylab: the reference clock's samples are laid out for a 64-bit chronyd on Linux; %s is %v", path, f.Class)
	}
	return nil
}

func (f *feeder) stop() {
	close(f.quit)
	f.wg.Wait()
}

// ntpTimeout bounds the wait for one reply to QueryNTP.
const ntpTimeout = 2 * time.Second

// QueryNTP plays an NTP client of the daemon under test of an AllSources
// lab: n requests to 127.0.0.1:ServePort, one at a time, each answered
// before the next, so that its serverstats count n more NTP packets.
func (l *Lab) QueryNTP(n int) error {
	if l.ServePort == 0 {
		return errors.New("chronylab: QueryNTP: the daemon under test serves NTP only in an AllSources lab")
	}
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(labServerAddr, uint16(l.ServePort))))
	if err != nil {
		return fmt.Errorf("chronylab: QueryNTP: %w", err)
	}
	defer c.Close()
	for i := range n {
		if err := ntpExchange(c); err != nil {
			return fmt.Errorf("chronylab: QueryNTP: request %d of %d to %v: %w", i+1, n, c.RemoteAddr(), err)
		}
	}
	return nil
}

// ntpExchange sends one NTPv4 client request and waits for the server's
// reply to it (its origin timestamp is our transmit timestamp).
func ntpExchange(c *net.UDPConn) error {
	req := make([]byte, 48)
	req[0] = 0<<6 | 4<<3 | 3 // no leap warning, version 4, mode 3 (client)
	if _, err := rand.Read(req[40:48]); err != nil {
		return err
	}
	if _, err := c.Write(req); err != nil {
		return err
	}
	reply := make([]byte, 1024)
	if err := c.SetReadDeadline(time.Now().Add(ntpTimeout)); err != nil {
		return err
	}
	for {
		n, err := c.Read(reply)
		if err != nil {
			return err
		}
		if n >= 48 && reply[0]&7 == 4 && string(reply[24:32]) == string(req[40:48]) {
			return nil
		}
	}
}
