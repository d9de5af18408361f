package testutil

import (
	"testing"
	"time"
)

// PollInterval is how long Eventually sleeps between two calls of its condition.
const PollInterval = 10 * time.Millisecond

// Eventually calls cond at once and then every PollInterval until it returns true. When it
// has not after timeout, it fails the test with the message msg returns: msg is called only
// then, so it can show the last state cond saw or a log written meanwhile. cond runs in the
// test's goroutine and may fail the test itself.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, msg())
		}
		time.Sleep(PollInterval)
	}
}
