// Package bot is Quorum's Matrix side: login, end-to-end encryption, sync,
// and sending. It turns Matrix events into calls on the assembly's rules
// (package commands) and delivers what the rules queue in the outbox.
//
// Reliability rests on four things, all in the one SQLite file:
//   - the sync token is saved only after a response was fully processed
//     (syncStore), so a crash replays rather than skips events;
//   - every event is applied together with the record that it was handled
//     (commands), so a replay changes nothing twice;
//   - every message is queued in the same transaction and sent with a
//     transaction ID derived from its queue position, so a resend after a
//     crash is dropped by the homeserver instead of posted twice, and one
//     whose send timed out waits for its echo a while before it is sent
//     again (echoWait);
//   - an encrypted event whose key has not come yet is noted before the
//     token is saved, and decrypted again on start if it was not handled
//     (latekeys.go).
package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/id"

	"quorum/assembly"
	"quorum/commands"
	"quorum/config"
	"quorum/store"
)

// Options are what tests and the sandbox may change; the zero value is what
// `quorum run` uses.
type Options struct {
	// Clock replaces the system clock for the rules.
	Clock commands.Clock
	// Transport, when set, carries the requests to the homeserver (tests:
	// a homeserver that answers after the bot stopped waiting).
	Transport http.RoundTripper
}

// Bot is one running Quorum.
type Bot struct {
	cfg    *config.Config
	log    zerolog.Logger
	clock  commands.Clock
	st     *store.Store
	cli    *mautrix.Client
	crypto *cryptohelper.CryptoHelper
	asm    *commands.Dispatcher
	env    *commands.Env // for the language of rooms and members
	syncer *syncer

	transport http.RoundTripper // Options.Transport
	// doubts holds the outbox entries whose send may have reached the
	// homeserver unheard (see doubt), syncs how many syncs were processed.
	doubts sync.Map
	syncs  atomic.Int64
	// sentAgain holds, by member, when and how often they were sent again
	// what their device could not read (sendagain.go).
	sentAgain sync.Map

	queryMu sync.Mutex // one first key query at a time (keyquery.go)

	wakeSender    chan struct{}
	wakeScheduler chan struct{}
	ready         chan struct{}
	readyOnce     sync.Once

	// warnedSessions remembers megolm sessions the bot already said it cannot
	// decrypt, so that one missing key gives one message.
	warnedMu       sync.Mutex
	warnedSessions map[id.SessionID]bool

	// awaiting holds the IDs of events noted as awaiting their key
	// (latekeys.go), so that only those are looked up to be forgotten.
	awaiting sync.Map
	// late holds the events given up on for want of their key, until it
	// comes (givenup.go).
	late givenUp
	// givenUp counts the outbox entries given up on (send.go).
	givenUp atomic.Int64
	// dmLocks holds a mutex per member, taken by what touches their direct
	// room (send.go, dm.go).
	dmLocks sync.Map
	// dmQuota bounds the direct rooms created for one member (dm.go).
	dmQuota dmQuota
	// directMu serialises the read-modify-write of m.direct (dm.go): the
	// send workers create direct rooms side by side.
	directMu sync.Mutex
	// stop is closed when Run's context is done.
	stop <-chan struct{}
}

// New opens the database. Run does the rest.
func New(ctx context.Context, cfg *config.Config, log zerolog.Logger, opts Options) (*Bot, error) {
	if err := assembly.CheckConfig(cfg); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	st.Log = &log
	clock := opts.Clock
	if clock == nil {
		clock = commands.SystemClock{}
	}
	return &Bot{
		cfg:            cfg,
		log:            log,
		clock:          clock,
		transport:      opts.Transport,
		st:             st,
		wakeSender:     make(chan struct{}, 1),
		wakeScheduler:  make(chan struct{}, 1),
		ready:          make(chan struct{}),
		warnedSessions: map[id.SessionID]bool{},
	}, nil
}

// Ready is closed once the bot has caught up with everything that happened
// while it was down and is answering.
func (b *Bot) Ready() <-chan struct{} { return b.ready }

// Client is the bot's Matrix client, valid once Ready (the sandbox and the
// tests use it to know the bot's device and token).
func (b *Bot) Client() *mautrix.Client { return b.cli }

// Run logs in, sets up encryption and runs until asked is done. It returns
// nil on a clean stop.
func (b *Bot) Run(asked context.Context) error {
	// What the bot runs ends when it is asked to stop, and also when the
	// sync ends on its own (a login the homeserver no longer accepts): Run
	// must return then, not wait for a stop nobody will ask for.
	ctx, end := context.WithCancel(asked)
	defer end()
	b.stop = ctx.Done()
	defer b.st.Close()
	if err := b.login(ctx); err != nil {
		return err
	}
	defer func() {
		// Before the crypto helper closes the shared database: forget what
		// the crypto store keeps of when members last wrote, and empty the
		// WAL (forget.go).
		b.forgetOnStop()
		_ = b.crypto.Close()
	}()
	if err := b.ensureCrossSigning(ctx); err != nil {
		// The bot still works for clients that share keys with unverified
		// devices; say how to fix it rather than refuse to start.
		b.log.Warn().Err(err).Msg("Could not set up cross-signing; clients that only talk to verified devices will not see the bot's messages")
	}
	key, err := b.signingKey(ctx)
	if err != nil {
		return err
	}
	env := &commands.Env{
		Key:    key,
		Store:  b.st,
		Config: b.cfg,
		Clock:  b.clock,
		Rooms:  roomState{b.cli},
		Bot:    b.cli.UserID,
		// Sending waits for the bot to be ready (sendLoop).
		Committed: b.signalSender,
	}
	b.env = env
	rulesLog := b.log.With().Str("component", "rules").Logger()
	// The assembly's rules, and !trust, which works on the crypto store
	// (trust.go).
	asm, err := commands.New(env, rulesLog, append(assembly.Features(env, rulesLog), trustFeature{b})...)
	if err != nil {
		return err
	}
	b.asm = asm
	b.register()

	send, unsendable := context.WithCancel(b.draining(ctx))
	defer unsendable()
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); b.sendLoop(send) }()
	go func() { defer wg.Done(); b.scheduleLoop(ctx) }()
	go func() { defer wg.Done(); b.describeLoop(ctx) }()
	err = b.syncLoop(ctx)
	if asked.Err() == nil {
		unsendable() // the login is refused: no receipt can go out
	}
	end()
	wg.Wait()
	if errors.Is(err, context.Canceled) || asked.Err() != nil {
		b.log.Info().Msg("Stopped")
		return nil
	}
	return err
}

// syncLoop syncs until ctx is done, restarting after fatal sync errors with
// backoff (a homeserver restart must not stop the bot).
func (b *Bot) syncLoop(ctx context.Context) error {
	backoff := time.Second
	for {
		began := time.Now()
		err := b.cli.SyncWithContext(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Since(began) > time.Minute {
			backoff = time.Second // it ran fine for a while: this is a new outage
		}
		if errors.Is(err, mautrix.MUnknownToken) {
			return fmt.Errorf("the homeserver no longer accepts the bot's login (was its device deleted?): %w", err)
		}
		b.log.Warn().Err(err).Dur("retry_in", backoff).Msg("Sync stopped; restarting")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Minute)
	}
}

func (b *Bot) markReady() {
	b.readyOnce.Do(func() {
		close(b.ready)
		b.log.Info().Stringer("user_id", b.cli.UserID).Stringer("device_id", b.cli.DeviceID).Msg("Ready")
		b.wake()
	})
}

// Wake makes the bot look at its schedule and outbox now (after a test
// moved its clock, for instance).
func (b *Bot) Wake() { b.wake() }

// wake nudges the sender and the scheduler after something changed.
func (b *Bot) wake() {
	for _, ch := range []chan struct{}{b.wakeSender, b.wakeScheduler} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// scheduleLoop runs due work (motion deadlines, reminders) once the bot has
// caught up, so that votes cast before a deadline while the bot was down are
// counted before the motion closes.
func (b *Bot) scheduleLoop(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-b.ready:
	}
	for {
		next := commands.Sooner(b.asm.RunDue(ctx), b.sendAgainDue(ctx))
		b.signalSender()
		wait := time.Minute
		if !next.IsZero() {
			wait = min(max(next.Sub(b.clock.Now()), 10*time.Millisecond), time.Minute)
		}
		select {
		case <-ctx.Done():
			return
		case <-b.wakeScheduler:
			// Let the reply to the event that woke us go out first, and let
			// a burst of votes make one pass rather than many.
			select {
			case <-ctx.Done():
				return
			case <-time.After(schedulerDelay):
			}
		case <-time.After(wait):
		}
	}
}

// schedulerDelay is how long the scheduler waits after being woken by an
// event before it looks for due work.
const schedulerDelay = 100 * time.Millisecond

func (b *Bot) signalSender() {
	select {
	case b.wakeSender <- struct{}{}:
	default:
	}
}
