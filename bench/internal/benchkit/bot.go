package benchkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/bot"
	"quorum/config"
	"quorum/sandbox"
)

// InProcess is the bot run inside the measuring program, stopped and
// started again at will (a clean stop: for kill -9, see bench/crashtrial).
type InProcess struct {
	Config *config.Config
	*bot.Bot
	cancel context.CancelFunc
	done   chan error
}

// NewInProcess loads the bot's configuration from path.
func NewInProcess(path string) (*InProcess, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	return &InProcess{Config: cfg}, nil
}

// Start runs the bot and returns once it is ready (caught up and answering).
func (p *InProcess) Start(ctx context.Context) error {
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.WarnLevel).With().Timestamp().Str("bot", p.Config.UserID).Logger()
	b, err := bot.New(ctx, p.Config, log, bot.Options{})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	p.Bot, p.cancel, p.done = b, cancel, make(chan error, 1)
	// Labelled, so that a CPU profile of a program running members beside
	// the bot tells the bot's samples apart (go tool pprof -tagfocus side=bot).
	go pprof.Do(runCtx, pprof.Labels("side", "bot"), func(ctx context.Context) { p.done <- b.Run(ctx) })
	select {
	case <-b.Ready():
		return nil
	case err := <-p.done:
		cancel()
		return fmt.Errorf("bot stopped before it was ready: %w", err)
	case <-time.After(2 * time.Minute):
		cancel()
		return errors.New("bot not ready after 2 minutes")
	}
}

// Stop stops the bot cleanly and waits for it.
func (p *InProcess) Stop() error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	p.cancel = nil
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		return errors.New("bot did not stop within 30 s")
	}
}

// FindNotice waits for the bot's first notice in room (not an edit) whose
// body contains substr.
func (m *Member) FindNotice(ctx context.Context, room id.RoomID, from id.UserID, substr string, timeout time.Duration) (*event.Event, error) {
	deadline := time.Now().Add(timeout)
	for {
		for _, evt := range m.Events() {
			if evt.Type != event.EventMessage || evt.RoomID != room || evt.Sender != from {
				continue
			}
			c := evt.Content.AsMessage()
			if c.MsgType == event.MsgNotice && c.RelatesTo.GetReplaceID() == "" && strings.Contains(c.Body, substr) {
				return evt, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no notice %q within %s", substr, timeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Tally is a motion's count as the bot reports it in quorum.motion.
type Tally struct {
	Yes, No, Abstain int
	Status           string
	ClosesAt         time.Time
}

func (t Tally) String() string {
	return fmt.Sprintf("%d yes · %d no · %d abstain (%s)", t.Yes, t.No, t.Abstain, t.Status)
}

// AskTally sends `!motion n` in room and reads the tally from the reply's
// quorum.motion. The bot handles a room's events in order, so the answer
// counts everything sent before it.
func (m *Member) AskTally(ctx context.Context, room id.RoomID, n int, timeout time.Duration) (Tally, error) {
	sent, err := m.Say(ctx, room, fmt.Sprintf("!motion %d", n))
	if err != nil {
		return Tally{}, err
	}
	reply, err := m.WaitReply(ctx, sent, timeout)
	if err != nil {
		return Tally{}, err
	}
	return TallyOf(reply)
}

// TallyOf reads quorum.motion from a motion notice or reply.
func TallyOf(evt *event.Event) (Tally, error) {
	f, ok := evt.Content.Raw["quorum.motion"].(map[string]any)
	if !ok {
		return Tally{}, fmt.Errorf("no quorum.motion in %s: %q", evt.ID, evt.Content.AsMessage().Body)
	}
	num := func(k string) int { v, _ := f[k].(float64); return int(v) }
	t := Tally{Yes: num("yes"), No: num("no"), Abstain: num("abstain")}
	t.Status, _ = f["status"].(string)
	if s, ok := f["closes_at"].(string); ok {
		t.ClosesAt, _ = time.Parse(time.RFC3339, s)
	}
	return t, nil
}

// Bench is what every measurement starts from: a sandbox homeserver in a
// work folder and a Quorum bot configured for it (not started).
type Bench struct {
	Dir    string
	Server *sandbox.Server
	Config string // the bot's configuration file
	Bot    *InProcess
	BotID  id.UserID
}

// NewBench starts a homeserver in dir (a new temporary folder named after
// prefix when dir is ""), and writes and loads the bot's configuration.
// close stops the bot if it runs, then the homeserver, and removes a
// temporary folder.
func NewBench(ctx context.Context, prefix, dir string) (b *Bench, close func(), err error) {
	var cleanups []func()
	close = func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	defer func() {
		if err != nil {
			close()
		}
	}()
	if dir == "" {
		tmp, err := os.MkdirTemp("", prefix)
		if err != nil {
			return nil, close, err
		}
		cleanups = append(cleanups, func() { _ = os.RemoveAll(tmp) })
		dir = tmp
	}
	s, err := sandbox.Start(ctx, sandbox.Options{Dir: filepath.Join(dir, "homeserver"), Progress: os.Stderr})
	if err != nil {
		return nil, close, err
	}
	cleanups = append(cleanups, func() { _ = s.Stop() })
	cfgPath, err := WriteBotConfig(ctx, s, dir, QuickMotions)
	if err != nil {
		return nil, close, err
	}
	bot, err := NewInProcess(cfgPath)
	if err != nil {
		return nil, close, err
	}
	cleanups = append(cleanups, func() { _ = bot.Stop() })
	return &Bench{Dir: dir, Server: s, Config: cfgPath, Bot: bot, BotID: BotID(s)}, close, nil
}
