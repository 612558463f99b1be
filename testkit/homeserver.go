package testkit

import (
	"bytes"
	"context"
	"testing"
	"time"

	"quorum/sandbox"
)

// StartHomeserver starts a homeserver in tb.TempDir() for an integration
// test of any package, stops it when the test ends, and puts the end of the
// Dendrite log in the test output if the test failed, so that each test
// package needs one line to get a real homeserver. It fails the test if the
// server cannot start.
func StartHomeserver(tb testing.TB) *sandbox.Server {
	tb.Helper()
	// The first run on a clean machine builds Dendrite (about 90 s).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := sandbox.Start(ctx, sandbox.Options{Dir: tb.TempDir(), Progress: testWriter{tb}})
	if err != nil {
		tb.Fatalf("start sandbox homeserver: %v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("end of %s:\n%s", s.LogPath(), s.LogTail(40))
		}
		if err := s.Stop(); err != nil {
			tb.Errorf("stop sandbox homeserver: %v", err)
		}
	})
	return s
}

// testWriter sends progress lines to the test log.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log("sandbox: " + string(bytes.TrimSuffix(p, []byte("\n"))))
	return len(p), nil
}
