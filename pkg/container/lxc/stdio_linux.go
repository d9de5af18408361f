//go:build linux

package lxc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vr-paas/vr/pkg/container"
)

// stdio connects container.Streams to an attached process. The process always gets pipes
// (or a pty slave) created here, never the caller's own files: liblxc's attach chowns and
// chmods the stdio it is handed to the target user, which must not happen to the caller's
// terminal or log file.
type stdio struct {
	// child are the process's stdin, stdout and stderr, handed to attach and closed in
	// this process once the process has been started.
	child [3]*os.File
	// stdinW is the writing end of the stdin pipe (nil with a pty or no stdin).
	stdinW *os.File
	// readers are our reading ends (stdout and stderr pipes, or the pty master).
	readers []*os.File
	copiers sync.WaitGroup
	// cleanups run at the end, last first (terminal mode restore, SIGWINCH stop).
	cleanups []func()
	// stopIn stops reading the caller's stdin (nil when there is nothing to stop).
	stopIn func()
}

// stdinReader returns what the stdin copier reads from in, and a function that stops the
// reading once the process has exited.
//
// A copier blocked reading the caller's stdin would otherwise outlive the process and
// swallow the next chunk written to it (lost, since nobody reads its end any more), e.g.
// the input of the next Exec reading the same pipe. For an *os.File the copier reads a
// non-blocking duplicate of the descriptor driven by the runtime poller, which stop
// closes, interrupting a pending Read without consuming anything. O_NONBLOCK belongs to
// the open file description, which the duplicate shares with the caller's file: stop puts
// the original mode back. Other readers cannot be interrupted: their copier still ends
// only at its next read (whose data is lost) or when in reaches EOF.
func stdinReader(in io.Reader) (io.Reader, func()) {
	f, ok := in.(*os.File)
	if !ok {
		return in, func() {}
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return in, func() {}
	}
	// Control, unlike Fd, leaves a file the runtime poller drives in non-blocking mode.
	nfd, flags := -1, 0
	cerr := rc.Control(func(fd uintptr) {
		var err error
		if flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0); err != nil {
			return
		}
		nfd, _ = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	})
	if cerr != nil || nfd < 0 {
		return in, func() {}
	}
	blocking := flags&unix.O_NONBLOCK == 0
	if blocking {
		if err := unix.SetNonblock(nfd, true); err != nil {
			_ = unix.Close(nfd)
			return in, func() {}
		}
	}
	dup := os.NewFile(uintptr(nfd), f.Name())
	var once sync.Once
	return dup, func() {
		once.Do(func() {
			// Close waits for a pending Read to return (the poller wakes it up).
			_ = dup.Close()
			if blocking {
				_ = rc.Control(func(fd uintptr) { _ = unix.SetNonblock(int(fd), false) })
			}
		})
	}
}

// openStdio prepares the plumbing. ptmx opens a pty master and returns its file descriptor
// (only called with tty).
func openStdio(s container.Streams, tty bool, ptmx func() (int, error)) (_ *stdio, err error) {
	st := &stdio{}
	defer func() {
		if err != nil {
			st.closeAll()
		}
	}()
	if tty {
		return st, st.openTTY(s, ptmx)
	}

	// Stdin: /dev/null, or a pipe fed from s.In.
	if s.In == nil {
		f, err := os.Open(os.DevNull)
		if err != nil {
			return nil, err
		}
		st.child[0] = f
	} else {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		st.child[0], st.stdinW = r, w
		// Not waited for: reading a non-file s.In may block long after the process is
		// gone (see stdinReader). Closing w ends it at its next write.
		in, stop := stdinReader(s.In)
		st.stopIn = stop
		go func() {
			_, _ = io.Copy(w, in)
			_ = w.Close()
		}()
	}

	// Stdout and stderr: pipes drained into s.Out and s.Err. One writer for both is
	// written by two goroutines, so its writes are serialised.
	out, errw := s.Out, s.Err
	if sameWriter(out, errw) {
		w := &lockedWriter{w: out}
		out, errw = w, w
	}
	for i, dst := range []io.Writer{out, errw} {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		st.child[i+1] = w
		st.readers = append(st.readers, r)
		st.copy(dst, r)
	}
	return st, nil
}

func (st *stdio) openTTY(s container.Streams, ptmx func() (int, error)) error {
	mfd, err := ptmx()
	if err != nil {
		return fmt.Errorf("open pty: %w", err)
	}
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		_ = unix.Close(mfd)
		return fmt.Errorf("unlock pty: %w", err)
	}
	// TIOCGPTPEER opens the slave through the master, so it works for a pty of the
	// container's devpts instance, whose /dev/pts/N path does not exist on the host.
	sfd, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(mfd), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		_ = unix.Close(mfd)
		return fmt.Errorf("open pty slave: %w", errno)
	}
	slave := os.NewFile(sfd, "pty-slave")
	// Non-blocking before os.NewFile, so that the runtime poller drives the master and
	// Close interrupts a pending Read.
	if err := unix.SetNonblock(mfd, true); err != nil {
		_ = unix.Close(mfd)
		_ = slave.Close()
		return err
	}
	m := os.NewFile(uintptr(mfd), "pty-master")
	st.child = [3]*os.File{slave, slave, slave}
	st.readers = append(st.readers, m)

	// A terminal on our side: raw mode, and the window size follows along.
	if in, ok := s.In.(*os.File); ok && isTerminal(int(in.Fd())) {
		ifd := int(in.Fd())
		if restore, err := makeRaw(ifd); err == nil {
			st.cleanups = append(st.cleanups, restore)
		}
		copyWinsize(ifd, mfd)
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, unix.SIGWINCH)
		done := make(chan struct{})
		go func() {
			for {
				select {
				case <-winch:
					copyWinsize(ifd, mfd)
				case <-done:
					return
				}
			}
		}()
		st.cleanups = append(st.cleanups, func() { signal.Stop(winch); close(done) })
	}
	if s.In != nil {
		// Not waited for, as for a stdin pipe. EOF on s.In is not passed on: closing
		// the master would hang up the terminal.
		in, stop := stdinReader(s.In)
		st.stopIn = stop
		go func() { _, _ = io.Copy(m, in) }()
	}
	st.copy(s.Out, m)
	return nil
}

// copy drains r into dst (discarding when dst is nil) in the background. A pty master
// reports the end with EIO once no slave is open; that is not an error here.
func (st *stdio) copy(dst io.Writer, r *os.File) {
	if dst == nil {
		dst = io.Discard
	}
	st.copiers.Add(1)
	go func() {
		defer st.copiers.Done()
		_, _ = io.Copy(dst, r)
	}()
}

// lockedWriter serialises the writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// sameWriter reports whether a and b are the same non-nil writer. Writers of types that
// cannot be compared are taken to be different.
func sameWriter(a, b io.Writer) bool {
	if a == nil || b == nil {
		return false
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta.Comparable() && a == b
}

// started closes the process's ends in this process, so that the readers see EOF when
// the process (and its children) close theirs.
func (st *stdio) started() {
	closed := map[*os.File]bool{}
	for _, f := range st.child {
		if f != nil && !closed[f] {
			_ = f.Close()
			closed[f] = true
		}
	}
}

// finish ends the plumbing after the process exited: it stops feeding stdin, waits for the
// output to be drained (at most drain when drain > 0, for background processes that still
// hold the pipes), then closes everything and restores the terminal.
func (st *stdio) finish(drain time.Duration) {
	st.stopStdin()
	done := make(chan struct{})
	go func() {
		st.copiers.Wait()
		close(done)
	}()
	if drain > 0 {
		t := time.NewTimer(drain)
		select {
		case <-done:
		case <-t.C:
		}
		t.Stop()
	} else {
		<-done
	}
	st.closeAll()
	<-done
}

// stopStdin stops reading the caller's stdin and closes the process's stdin pipe.
func (st *stdio) stopStdin() {
	if st.stopIn != nil {
		st.stopIn()
	}
	if st.stdinW != nil {
		_ = st.stdinW.Close()
	}
}

func (st *stdio) closeAll() {
	st.started()
	st.stopStdin()
	for _, r := range st.readers {
		_ = r.Close()
	}
	for i := len(st.cleanups) - 1; i >= 0; i-- {
		st.cleanups[i]()
	}
	st.cleanups = nil
}

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// makeRaw puts a terminal in raw mode (as cfmakeraw does) and returns the restore function.
func makeRaw(fd int) (func(), error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	t := *old
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return nil, err
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}

func copyWinsize(from, to int) {
	ws, err := unix.IoctlGetWinsize(from, unix.TIOCGWINSZ)
	if err == nil {
		_ = unix.IoctlSetWinsize(to, unix.TIOCSWINSZ, ws)
	}
}

// exitCode turns a wait status into a shell-style exit code.
func exitCode(ws unix.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	default:
		return -1
	}
}

// waitGone waits until process pid has exited (a zombie counts as exited) or timeout
// passes. check, when set, is called once the process is pinned by a pidfd; returning
// false means pid is not the process expected (it already went away), so there is nothing
// to wait for.
func waitGone(pid int, timeout time.Duration, check func(pid int) bool) error {
	pfd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return waitGonePolling(pid, timeout)
	}
	defer unix.Close(pfd)
	if check != nil && !check(pid) {
		return nil
	}
	deadline := time.Now().Add(timeout)
	for {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms <= 0 {
			return fmt.Errorf("process %d still running after %v", pid, timeout)
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(pfd), Events: unix.POLLIN}}, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
}

// waitGonePolling is waitGone for kernels without pidfd_open (before 5.3).
func waitGonePolling(pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if !alive(pid) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d still running after %v", pid, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name, which may contain spaces.
	for i := len(data) - 1; i > 0; i-- {
		if data[i] == ')' {
			return i+2 < len(data) && data[i+2] != 'Z' && data[i+2] != 'X'
		}
	}
	return true
}

// groupDescendants returns the live descendants of pid that are in pid's process group.
func groupDescendants(pid int) []int {
	type proc struct{ ppid, pgid int }
	procs := map[int]proc{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		ppid, err1 := strconv.Atoi(f[1])
		pgid, err2 := strconv.Atoi(f[2])
		if err1 == nil && err2 == nil {
			procs[p] = proc{ppid, pgid}
		}
	}
	root, ok := procs[pid]
	if !ok {
		return nil
	}
	children := map[int][]int{}
	for p, pr := range procs {
		children[pr.ppid] = append(children[pr.ppid], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			if procs[c].pgid == root.pgid {
				out = append(out, c)
				queue = append(queue, c)
			}
		}
	}
	return out
}
