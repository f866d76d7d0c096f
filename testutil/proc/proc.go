// Package proc runs one child process for a test helper (chronyd, influxd,
// a Telegraf agent) and stops only that process, by its pid.
package proc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// killWait bounds the wait for a process after SIGKILL.
const killWait = 5 * time.Second

// Proc is a started child process.
type Proc struct {
	name    string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has been reaped
	waitErr error         // valid after done

	shutdownOnce sync.Once
	shutdownErr  error
}

// Start starts cmd and reaps it in the background. On Linux and FreeBSD
// the kernel kills the child if the test binary dies (a `go test -timeout`
// panic skips t.Cleanup), so no child outlives its test, even a stopped one.
func Start(name string, cmd *exec.Cmd) (*Proc, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	DieWithParent(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PID is the child's pid.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Done is closed once the child has exited and been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the child has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is the child's exit error; valid once Done is closed.
func (p *Proc) Err() error {
	<-p.done
	if p.waitErr != nil {
		return fmt.Errorf("%s exited: %w", p.name, p.waitErr)
	}
	return nil
}

// Signal sends sig to the child, unless it has exited.
func (p *Proc) Signal(sig syscall.Signal) error {
	err := p.cmd.Process.Signal(sig)
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

// Stop sends SIGTERM (and SIGCONT, in case the child is stopped), waits up
// to grace, then sends SIGKILL. It reports whether SIGKILL was needed; the
// child's own exit status is Err's business.
func (p *Proc) Stop(grace time.Duration) (killed bool, err error) {
	if p.Exited() {
		return false, nil
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return false, fmt.Errorf("SIGTERM %s (pid %d): %w", p.name, p.PID(), err)
	}
	_ = p.Signal(syscall.SIGCONT)
	select {
	case <-p.done:
		return false, nil
	case <-time.After(grace):
	}
	return true, p.Kill()
}

// Shutdown stops the child as Stop does, once: a test's own call and its
// cleanup may both make it, and later calls return the first one's result.
// The error says when SIGKILL was needed; otherwise it is the child's exit
// error, if any.
func (p *Proc) Shutdown(grace time.Duration) error {
	p.shutdownOnce.Do(func() { p.shutdownErr = p.shutdown(grace) })
	return p.shutdownErr
}

func (p *Proc) shutdown(grace time.Duration) error {
	if p.Exited() {
		return p.Err()
	}
	killed, err := p.Stop(grace)
	if err != nil {
		return err
	}
	if killed {
		return fmt.Errorf("%s (pid %d) ignored SIGTERM for %v and was killed", p.name, p.PID(), grace)
	}
	return p.Err()
}

// Kill sends SIGKILL and waits for the child to go.
func (p *Proc) Kill() error {
	if p.Exited() {
		return nil
	}
	_ = p.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(killWait):
		return fmt.Errorf("%s (pid %d) survived SIGKILL for %v", p.name, p.PID(), killWait)
	}
}
