package testutil

import (
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSyncBuffer(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				_, _ = b.Write([]byte("x"))
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if got := b.String(); got != strings.Repeat("x", 800) {
		t.Errorf("got %d bytes, want 800", len(got))
	}
}

func TestFreePort(t *testing.T) {
	p := FreePort(t)
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		t.Fatalf("port %d not free: %v", p, err)
	}
	l.Close()
}

func TestEventually(t *testing.T) {
	n := 0
	Eventually(t, time.Second, func() bool { n++; return n == 3 }, func() string { return "never" })
	if n != 3 {
		t.Errorf("cond called %d times, want 3", n)
	}
}

// fatalTB records the message of Fatalf, which ends the goroutine as testing's does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestEventuallyTimeout(t *testing.T) {
	f := &fatalTB{TB: t}
	last := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		Eventually(f, 50*time.Millisecond, func() bool { last++; return false }, func() string { return fmt.Sprint("last ", last) })
	}()
	<-done
	if want := fmt.Sprintf("after 50ms: last %d", last); f.msg != want || last < 2 {
		t.Errorf("message %q, want %q (after more than one call)", f.msg, want)
	}
}

func TestBuildBinary(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	defer RemoveBinaries()
	const pkg = "github.com/vr-paas/vr/pkg/testutil/internal/hello"
	p := BuildBinary(t, pkg)
	if again := BuildBinary(t, pkg); again != p {
		t.Errorf("second build at %s, first at %s", again, p)
	}
	out, err := exec.Command(p).Output()
	if err != nil || string(out) != "hello\n" {
		t.Errorf("%s: %q, %v", p, out, err)
	}
}
