package testkit

import (
	"bytes"
	"context"
	"sync"
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
	return StartHomeserverWith(tb, sandbox.Options{})
}

// StartHomeserverWith is StartHomeserver with options (rate limits); the
// folder and progress are the test's.
func StartHomeserverWith(tb testing.TB, opts sandbox.Options) *sandbox.Server {
	tb.Helper()
	opts.Dir, opts.Progress = tb.TempDir(), testWriter{tb}
	return startHomeserver(tb, opts)
}

// StartFederation starts n homeservers (started side by side) that
// federate with each other on loopback: server names 127.0.0.1:<port>,
// self-signed certificates that the others accept. Users, rooms, invites
// and encrypted messages cross between them as between real servers. Each
// is stopped when the test ends, like StartHomeserver's.
func StartFederation(tb testing.TB, n int) []*sandbox.Server {
	tb.Helper()
	out := make([]*sandbox.Server, n)
	errs := make([]error, n)
	dirs := make([]string, n)
	for i := range dirs {
		dirs[i] = tb.TempDir()
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			out[i], errs[i] = sandbox.Start(ctx, sandbox.Options{Dir: dirs[i], Progress: testWriter{tb}, Federation: true})
		}()
	}
	wg.Wait()
	for i, s := range out {
		if s != nil {
			cleanup(tb, s)
		}
		if errs[i] != nil {
			tb.Fatalf("start federating homeserver %d: %v", i, errs[i])
		}
	}
	return out
}

func startHomeserver(tb testing.TB, opts sandbox.Options) *sandbox.Server {
	tb.Helper()
	// The first run on a clean machine builds Dendrite (about 90 s).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := sandbox.Start(ctx, opts)
	if err != nil {
		tb.Fatalf("start sandbox homeserver: %v", err)
	}
	cleanup(tb, s)
	return s
}

// cleanup stops s when the test ends, quoting its log if the test failed.
func cleanup(tb testing.TB, s *sandbox.Server) {
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("end of %s:\n%s", s.LogPath(), s.LogTail(40))
		}
		if err := s.Stop(); err != nil {
			tb.Errorf("stop sandbox homeserver: %v", err)
		}
	})
}

// testWriter sends progress lines to the test log.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log("sandbox: " + string(bytes.TrimSuffix(p, []byte("\n"))))
	return len(p), nil
}
