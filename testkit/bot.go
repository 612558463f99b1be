package testkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"quorum/bot"
	"quorum/config"
	"quorum/sandbox"
)

// Bot runs Quorum in-process against a sandbox homeserver, with its log
// kept in memory so tests can search it (for secrets, above all).
type Bot struct {
	t      testing.TB
	Config *config.Config
	Log    *SafeBuffer
	Opts   bot.Options

	closed *atomic.Bool
	cancel context.CancelFunc
	done   chan error
	*bot.Bot
}

// SafeBuffer is a bytes.Buffer safe for concurrent writes and reads.
type SafeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *SafeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// String returns everything written so far.
func (s *SafeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// NewBot registers the bot's account on s and writes its configuration (a
// database in a temp folder, everyone on the server allowed to invite, a
// motion closing as soon as everyone has voted: motions.settle 0s); change
// b.Config before Start to test other settings.
func NewBot(t testing.TB, s *sandbox.Server) *Bot {
	t.Helper()
	return NewBotNamed(t, s, "quorum")
}

// NewBotNamed is NewBot for a bot account called localpart, for tests with
// several bots on one server (a council's and a branch's).
func NewBotNamed(t testing.TB, s *sandbox.Server, localpart string) *Bot {
	t.Helper()
	if _, err := s.Register(context.Background(), localpart, Password, false); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	yaml := fmt.Sprintf("homeserver: %q\nuser_id: %q\npassword: %q\ndatabase: quorum.db\nallowed_inviters: [%q]\nmotions:\n  settle: 0s\n",
		s.URL, "@"+localpart+":"+s.ServerName, Password, "*:"+s.ServerName)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	b := &Bot{t: t, Config: cfg, Log: &SafeBuffer{}, closed: &atomic.Bool{}}
	t.Cleanup(func() { b.closed.Store(true) })
	return b
}

// Start runs the bot and waits until it is ready.
func (b *Bot) Start() {
	b.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := zerolog.New(zerolog.MultiLevelWriter(b.Log, zerolog.ConsoleWriter{Out: testLogWriter{b.t, b.closed}, NoColor: true})).
		Level(zerolog.InfoLevel).With().Timestamp().Logger()
	qb, err := bot.New(ctx, b.Config, log, b.Opts)
	if err != nil {
		cancel()
		b.t.Fatalf("bot: %v", err)
	}
	b.Bot, b.cancel, b.done = qb, cancel, make(chan error, 1)
	go func() { b.done <- qb.Run(ctx) }()
	select {
	case <-qb.Ready():
	case err := <-b.done:
		cancel()
		b.t.Fatalf("bot stopped before it was ready: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		b.t.Fatal("bot not ready after 60 s")
	}
	b.t.Cleanup(b.stop)
}

// Stop stops the bot cleanly and waits for it.
func (b *Bot) Stop() {
	b.t.Helper()
	b.stop()
}

// Ended waits up to d for the bot to stop on its own and returns what
// Run returned; it fails the test if the bot is still running.
func (b *Bot) Ended(d time.Duration) error {
	b.t.Helper()
	select {
	case err := <-b.done:
		b.cancel()
		b.cancel = nil
		return err
	case <-time.After(d):
		b.t.Fatalf("the bot still runs after %s", d)
		return nil
	}
}

func (b *Bot) stop() {
	if b.cancel == nil {
		return
	}
	b.cancel()
	b.cancel = nil
	select {
	case err := <-b.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			b.t.Errorf("bot stopped with: %v", err)
		}
	case <-time.After(30 * time.Second):
		b.t.Error("bot did not stop within 30 s")
	}
}

// testLogWriter sends the bot's log to the test output (shown on failure
// or with -v).
// Lines written after the test ended (a straggling goroutine) are dropped,
// since testing panics on them.
type testLogWriter struct {
	t      testing.TB
	closed *atomic.Bool
}

func (w testLogWriter) Write(p []byte) (int, error) {
	if !w.closed.Load() {
		w.t.Log(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}
