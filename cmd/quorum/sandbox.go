package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/bot"
	"quorum/config"
	"quorum/member"
	"quorum/sandbox"
)

// What the sandbox keeps in its folder. Everything is reused on the next
// run, so the accounts, the room and the bot's device persist.
const (
	sandboxDendriteDir = "dendrite"               // the homeserver's data (sandbox.Start)
	sandboxConfigFile  = "quorum.yaml"            // the bot's configuration
	sandboxSecretsFile = "secrets.yaml"           // generated passwords (0600)
	sandboxRoomFile    = "room-id"                // the demo room
	sandboxLogFile     = "quorum.log"             // the bot's and the organiser's log
	sandboxMemberStore = "organiser.db"           // the organiser's device
	sandboxRecoveryKey = "organiser.recovery-key" // the organiser's cross-signing recovery key
	sandboxBotDatabase = "quorum.db"              // relative to the config file
	sandboxRoomName    = "Quorum sandbox"         // shown in clients' room lists
)

const (
	botLocalpart       = "quorum"
	organiserLocalpart = "organiser"
	// sandboxTimeout bounds each wait on the bot (ready, joined, answering)
	// when the sandbox runs the bot itself.
	sandboxTimeout = 60 * time.Second
)

// demoScript is what the organiser says on every start; the bot's answers
// are printed after each line.
var demoScript = []string{"!help"}

type sandboxFlags struct {
	dir     string
	port    int
	logJSON bool
	noBot   bool
	prepare bool
}

func sandboxCommand() *cobra.Command {
	var f sandboxFlags
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Try Quorum on a private homeserver on this machine",
		Long: "Start a private Matrix homeserver (Dendrite " + sandbox.DendriteVersion + ", built and cached on the first run)\n" +
			"on 127.0.0.1 with federation off, register the bot and a demo organiser, create an\n" +
			"encrypted room with both, start the bot and show a short encrypted exchange. Then it\n" +
			"keeps running and prints how to sign in from any Matrix client. Ctrl-C stops it all.\n\n" +
			"Everything lives in --dir and is reused next time: accounts, passwords, room, and the\n" +
			"bot's device. The bot's configuration is written there too (quorum.yaml), so that with\n" +
			"--no-bot you can run the bot yourself: quorum run --config DIR/quorum.yaml.",
		Example: "  quorum sandbox\n" +
			"  quorum sandbox --dir /tmp/assembly --port 8008\n" +
			"  quorum sandbox --no-bot   # then, in another terminal: quorum run --config .sandbox/quorum.yaml",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.port < 0 || f.port > 65535 {
				return usageError{fmt.Errorf("--port %d is not a TCP port; use 0 to pick one", f.port)}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if f.prepare {
				bin, err := sandbox.EnsureDendrite(ctx, cmd.OutOrStdout())
				if err == nil {
					fmt.Fprintf(cmd.OutOrStdout(), "Dendrite %s is ready: %s\n", sandbox.DendriteVersion, bin)
				}
				return err
			}
			return runSandbox(ctx, cmd.OutOrStdout(), f)
		},
	}
	cmd.Flags().StringVar(&f.dir, "dir", "./.sandbox", "folder for the homeserver's data, the bot's database and the demo accounts")
	cmd.Flags().IntVar(&f.port, "port", 0, "loopback port of the homeserver (0: the previous one if free, else any)")
	cmd.Flags().BoolVar(&f.logJSON, "log-json", false, "write the bot's log file as JSON lines")
	cmd.Flags().BoolVar(&f.noBot, "no-bot", false, "do not run the bot; run it yourself with quorum run --config DIR/quorum.yaml")
	cmd.Flags().BoolVar(&f.prepare, "prepare", false, "only build (or find in the cache) the pinned Dendrite, then exit")
	return cmd
}

// runSandbox runs until ctx is done (Ctrl-C), then stops the organiser, the
// bot and the homeserver, in that order. An interrupt is a clean stop.
func runSandbox(ctx context.Context, out io.Writer, f sandboxFlags) (err error) {
	dir, err := makeSandboxDir(f.dir)
	if err != nil {
		return err
	}
	// A clean stop on Ctrl-C, whatever step it interrupted.
	defer func() {
		if ctx.Err() != nil {
			if err != nil {
				fmt.Fprintln(out, "interrupted")
			}
			err = nil
		}
	}()

	// The homeserver first: it also locks the folder, so a second sandbox
	// on the same folder stops here without touching anything.
	srv, err := sandbox.Start(ctx, sandbox.Options{Dir: filepath.Join(dir, sandboxDendriteDir), Port: f.port, Progress: out})
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := srv.Stop(); stopErr != nil && err == nil {
			err = stopErr
		}
		fmt.Fprintln(out, "stopped")
	}()
	s := &sandboxRun{out: out, flags: f, dir: dir, srv: srv}
	return s.run(ctx)
}

// makeSandboxDir creates the sandbox folder if need be, for its owner only
// since it keeps passwords, and returns its absolute path.
func makeSandboxDir(path string) (string, error) {
	dir, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("sandbox dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create sandbox dir: %w", err)
	}
	return dir, nil
}

// sandboxRun is one run of the sandbox once its homeserver is up: what the
// steps of runSandbox share, filled in as they go.
type sandboxRun struct {
	out   io.Writer
	flags sandboxFlags
	dir   string // flags.dir, absolute
	srv   *sandbox.Server

	sec          *sandboxSecrets // from register
	botID, orgID id.UserID       // from register
	cfg          *config.Config  // from run
	log          zerolog.Logger  // from run: the log file
}

// show names a file in the sandbox folder for the person at the terminal:
// under the folder as they wrote it, which is shorter than the absolute path.
func (s *sandboxRun) show(name string) string { return filepath.Join(s.flags.dir, name) }

// run registers the accounts and writes the bot's configuration, then runs
// the demo with the log file open: the bot and the organiser both log there
// until they have stopped.
func (s *sandboxRun) run(ctx context.Context) error {
	if err := s.register(ctx); err != nil {
		return err
	}
	cfg, err := botConfig(s.dir, s.srv.URL, s.botID, s.sec.BotPassword)
	if err != nil {
		return err
	}
	if s.flags.logJSON {
		cfg.LogFormat = "json"
	}
	logFile, err := os.OpenFile(filepath.Join(s.dir, sandboxLogFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	defer logFile.Close()
	s.cfg, s.log = cfg, fileLogger(logFile, cfg)
	s.log.Info().Str("homeserver", s.srv.URL).Msg("Sandbox starting")
	return s.demo(ctx)
}

// register signs up the bot and the organiser with the passwords kept in
// the folder, so that every run uses the same two accounts.
func (s *sandboxRun) register(ctx context.Context) (err error) {
	s.sec, err = loadSecrets(filepath.Join(s.dir, sandboxSecretsFile))
	if err != nil {
		return err
	}
	s.botID, err = s.srv.Register(ctx, botLocalpart, s.sec.BotPassword, false)
	if err != nil {
		return err
	}
	s.orgID, err = s.srv.Register(ctx, organiserLocalpart, s.sec.OrganiserPassword, false)
	return err
}

// demo starts the bot and the organiser, plays demoScript in the demo room,
// then keeps them running until ctx is done or the bot stops by itself.
func (s *sandboxRun) demo(ctx context.Context) (err error) {
	// Whatever fails in the background (the bot stopping) cancels runCtx
	// with the reason, which every wait below returns.
	runCtx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	stopBot, err := s.maybeStartBot(runCtx, fail)
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := stopBot(); stopErr != nil && err == nil {
			err = stopErr
		}
	}()
	org, err := loginOrganiser(runCtx, s.srv.URL, s.orgID, s.sec, filepath.Join(s.dir, sandboxMemberStore), filepath.Join(s.dir, sandboxRecoveryKey), s.log)
	if err != nil {
		return err
	}
	defer func() {
		if closeErr := org.Close(); closeErr != nil && err == nil {
			err = closeErr
		}
	}()
	room, err := org.ensureRoom(runCtx, filepath.Join(s.dir, sandboxRoomFile), s.botID)
	if err != nil {
		return err
	}
	if err := s.playDemo(runCtx, org, room); err != nil {
		return err
	}
	return s.untilStopped(ctx, runCtx)
}

// maybeStartBot starts the bot in this process unless the operator runs it
// (--no-bot). stop is then a no-op, so that the caller stops either alike.
func (s *sandboxRun) maybeStartBot(ctx context.Context, fail context.CancelCauseFunc) (stop func() error, err error) {
	if s.flags.noBot {
		return func() error { return nil }, nil
	}
	stop, err = startBot(ctx, fail, s.cfg, s.log, s.show(sandboxLogFile))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(s.out, "bot %s is running; its log: %s\n", s.botID, s.show(sandboxLogFile))
	return stop, nil
}

// playDemo has the organiser say demoScript and prints how to sign in:
// after the exchange, so that it is the last thing on screen, unless the
// operator is to start the bot (--no-bot) and needs it first.
func (s *sandboxRun) playDemo(ctx context.Context, org *organiser, room id.RoomID) error {
	login := loginInfo{URL: s.srv.URL, Organiser: s.orgID, Password: s.sec.OrganiserPassword, Room: room,
		RecoveryKey: org.RecoveryKey, RecoveryFile: s.show(sandboxRecoveryKey),
		Secrets: s.show(sandboxSecretsFile), Log: s.show(sandboxLogFile), Config: s.show(sandboxConfigFile), Dir: s.flags.dir}
	timeout := sandboxTimeout
	if s.flags.noBot {
		// The operator starts the bot when they are ready: no time limit.
		timeout = 0
		login.print(s.out, true)
	}
	if err := org.play(ctx, s.out, room, s.botID, timeout, s.show(sandboxLogFile)); err != nil {
		return err
	}
	if !s.flags.noBot {
		login.print(s.out, false)
	}
	return nil
}

// untilStopped waits until runCtx is done. It returns nil if that is Ctrl-C
// (ctx is done too), else why runCtx ended: the bot stopped by itself.
func (s *sandboxRun) untilStopped(ctx, runCtx context.Context) error {
	<-runCtx.Done()
	fmt.Fprintln(s.out, "stopping…")
	if ctx.Err() != nil {
		return nil // Ctrl-C
	}
	return context.Cause(runCtx) // the bot stopped by itself
}

// botConfig writes the bot's configuration file in dir (see writeBotConfig)
// and loads it as `quorum run --config` would.
func botConfig(dir, url string, botID id.UserID, password string) (*config.Config, error) {
	path := filepath.Join(dir, sandboxConfigFile)
	owned := []keyValue{
		{"homeserver", url},
		{"user_id", botID.String()},
		{"password", password},
		{"database", sandboxBotDatabase},
	}
	if err := writeBotConfig(path, owned); err != nil {
		return nil, err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	// QUORUM_* variables may tune the bot (QUORUM_LOG_LEVEL) but must not
	// send it to another server or database.
	cfg.Homeserver, cfg.UserID, cfg.Password, cfg.AccessToken = url, botID.String(), password, ""
	cfg.Database = filepath.Join(dir, sandboxBotDatabase)
	return cfg, nil
}

// fileLogger logs to the sandbox's log file at the configured level, as
// text without colours unless JSON was asked for.
func fileLogger(w io.Writer, cfg *config.Config) zerolog.Logger {
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		level = zerolog.InfoLevel
	}
	if cfg.LogFormat != "json" {
		w = zerolog.ConsoleWriter{Out: w, NoColor: true, TimeFormat: time.DateTime}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// startBot runs the bot until ctx is done and waits until it is ready. If it
// stops by itself, it calls fail with the reason. stop cancels it and waits.
func startBot(ctx context.Context, fail context.CancelCauseFunc, cfg *config.Config, log zerolog.Logger, logPath string) (stop func() error, err error) {
	b, err := bot.New(ctx, cfg, log, bot.Options{})
	if err != nil {
		return nil, err
	}
	botCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		err := b.Run(botCtx)
		if botCtx.Err() == nil {
			if err == nil {
				err = errors.New("without an error")
			}
			fail(fmt.Errorf("the bot stopped: %w (its log: %s)", err, logPath))
		}
		done <- err
	}()
	stop = func() error {
		cancel()
		if err := <-done; err != nil && ctx.Err() == nil {
			return fmt.Errorf("the bot stopped: %w", err)
		}
		return nil
	}
	select {
	case <-b.Ready():
		return stop, nil
	case <-ctx.Done():
		_ = stop()
		return nil, context.Cause(ctx)
	case <-time.After(sandboxTimeout):
		_ = stop()
		return nil, fmt.Errorf("the bot was not ready after %s; see its log: %s", sandboxTimeout, logPath)
	}
}

// organiser is the demo member: a real encrypted client whose view of the
// room the sandbox waits on.
type organiser struct {
	*member.Client
	changed chan struct{} // a nudge after every event it sees

	mu      sync.Mutex
	replies map[id.EventID]*event.Event // first reply by someone else to each event
}

// loginOrganiser signs the organiser in with the device kept in storePath,
// cross-signed by the organiser's identity (created on the first run, its
// recovery key kept in recoveryPath), since the bot obeys only such devices.
func loginOrganiser(ctx context.Context, url string, user id.UserID, sec *sandboxSecrets, storePath, recoveryPath string, log zerolog.Logger) (*organiser, error) {
	log = log.With().Str("component", "organiser").Logger()
	if log.GetLevel() < zerolog.InfoLevel {
		log = log.Level(zerolog.InfoLevel) // mautrix logs request bodies, passwords included, below info
	}
	m, err := member.Login(ctx, member.Account{
		Homeserver: url,
		UserID:     user,
		Password:   sec.OrganiserPassword,
		Store:      storePath,
		PickleKey:  []byte(sec.OrganiserPickleKey),
		DeviceName: "Quorum sandbox",
		Log:        log,

		RecoveryKeyFile: recoveryPath,
	})
	if errors.Is(err, mautrix.MForbidden) {
		return nil, fmt.Errorf("%w (was %s replaced? delete the sandbox folder to start again)", err, sandboxSecretsFile)
	}
	if err != nil {
		return nil, err
	}
	if !m.CrossSigned || m.RecoveryKey == "" {
		_ = m.Close()
		return nil, fmt.Errorf("the organiser's device is not verified and its recovery key (%s) is missing, so the bot would not obey it; delete the sandbox folder to start again", recoveryPath)
	}
	o := &organiser{Client: m, changed: make(chan struct{}, 1), replies: map[id.EventID]*event.Event{}}
	m.Syncer.OnEvent(o.onEvent)
	m.Start()
	return o, nil
}

// onEvent runs after the crypto helper's state-store handler (registered at
// login), so a nudge means the state store is up to date too. Decrypted
// events come here as well.
func (o *organiser) onEvent(_ context.Context, evt *event.Event) {
	if evt.Type == event.EventMessage && evt.Sender != o.UserID {
		if to := evt.Content.AsMessage().RelatesTo.GetNonFallbackReplyTo(); to != "" {
			o.mu.Lock()
			if o.replies[to] == nil {
				o.replies[to] = evt
			}
			o.mu.Unlock()
		}
	}
	select {
	case o.changed <- struct{}{}:
	default:
	}
}

func (o *organiser) reply(to id.EventID) *event.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.replies[to]
}

// errTimeout marks a wait that ran out of time.
var errTimeout = errors.New("timed out")

// until waits until cond holds, checking it again after every event the
// organiser sees; timeout 0 waits as long as ctx lasts.
func (o *organiser) until(ctx context.Context, timeout time.Duration, cond func() bool) error {
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	for !cond() {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-expired:
			return errTimeout
		case <-o.changed:
		}
	}
	return nil
}

// ensureRoom returns the demo room: the one remembered in path, or a new
// encrypted room (remembered there). The bot is invited if it is not in it.
func (o *organiser) ensureRoom(ctx context.Context, path string, botID id.UserID) (id.RoomID, error) {
	data, err := os.ReadFile(path)
	room := id.RoomID(strings.TrimSpace(string(data)))
	switch {
	case err == nil && room == "":
		return "", fmt.Errorf("%s is empty; delete it to create a new room", path)
	case err == nil:
		// Ask the server, not the local state store: this run's first sync
		// may not have been processed yet.
		var state event.MemberEventContent
		err := o.StateEvent(ctx, room, event.StateMember, botID.String(), &state)
		if err != nil && !errors.Is(err, mautrix.MNotFound) {
			return "", fmt.Errorf("read the demo room %s (delete %s to create a new one): %w", room, path, err)
		}
		if state.Membership != event.MembershipJoin && state.Membership != event.MembershipInvite {
			if _, err := o.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: botID}); err != nil {
				return "", fmt.Errorf("invite the bot to %s again: %w", room, err)
			}
		}
		return room, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read room ID: %w", err)
	}
	resp, err := o.CreateRoom(ctx, &mautrix.ReqCreateRoom{
		Preset: "private_chat",
		Name:   sandboxRoomName,
		Topic:  "Try Quorum here: send !help",
		Invite: []id.UserID{botID},
		InitialState: []*event.Event{{
			Type:    event.StateEncryption,
			Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}},
		}},
	})
	if err != nil {
		return "", fmt.Errorf("create the demo room: %w", err)
	}
	if err := writeFileAtomic(path, []byte(resp.RoomID.String()+"\n")); err != nil {
		return "", fmt.Errorf("remember the demo room: %w", err)
	}
	return resp.RoomID, nil
}

// play waits for the bot to be in the room, then says each line of
// demoScript and prints it with the bot's decrypted answer.
func (o *organiser) play(ctx context.Context, out io.Writer, room id.RoomID, botID id.UserID, timeout time.Duration, logPath string) error {
	// The organiser's state store must know that the bot is in the room and
	// that the room is encrypted: the client encrypts only then, and shares
	// the room key only with members it knows.
	ready := func() bool {
		enc, err := o.StateStore.IsEncrypted(ctx, room)
		return err == nil && enc && o.StateStore.IsInRoom(ctx, room, botID)
	}
	if err := o.until(ctx, timeout, ready); errors.Is(err, errTimeout) {
		return fmt.Errorf("the bot did not join the encrypted room %s within %s; see its log: %s", room, timeout, logPath)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nIn %q (end-to-end encrypted; decrypted here by the organiser's device):\n", sandboxRoomName)
	for _, line := range demoScript {
		fmt.Fprintf(out, "  %s: %s\n", organiserLocalpart, line)
		resp, err := o.SendMessageEvent(ctx, room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: line})
		if err != nil {
			return fmt.Errorf("send %q: %w", line, err)
		}
		var reply *event.Event
		err = o.until(ctx, timeout, func() bool {
			reply = o.reply(resp.EventID)
			return reply != nil
		})
		if errors.Is(err, errTimeout) {
			return fmt.Errorf("no answer from the bot within %s; see its log: %s", timeout, logPath)
		} else if err != nil {
			return err
		}
		printReply(out, reply)
	}
	fmt.Fprintln(out)
	return nil
}

// printReply prints the bot's answer indented under its name, marking it if
// it was not encrypted.
func printReply(out io.Writer, reply *event.Event) {
	content := *reply.Content.AsMessage()
	content.RemoveReplyFallback()
	name := reply.Sender.Localpart()
	if reply.Mautrix.EventSource&event.SourceDecrypted == 0 {
		name += " (NOT encrypted)"
	}
	pad := strings.Repeat(" ", len(name)+4)
	body := strings.ReplaceAll(strings.TrimSpace(content.Body), "\n", "\n"+pad)
	fmt.Fprintf(out, "  %s: %s\n", name, body)
}

// loginInfo is what a person needs to join the sandbox from a client.
type loginInfo struct {
	URL                       string
	Organiser                 id.UserID
	Password                  string
	Room                      id.RoomID
	RecoveryKey, RecoveryFile string
	Secrets, Log, Config, Dir string
}

func (l loginInfo) print(out io.Writer, waiting bool) {
	fmt.Fprintf(out, `The Quorum sandbox is running. It is local to this machine, and its
passwords protect nothing else (they are kept in %s).

  Homeserver    %s
  User          %s
  Password      %s
  Room          %s (%q)
  Recovery key  %s

Open any Matrix client (e.g. Element), sign in with the custom homeserver
%s as %s with the password above, and open
the room %q. A browser client such as app.element.io can reach
127.0.0.1 only if the browser runs on this machine. A new sign-in cannot
decrypt messages sent before it: that is end-to-end encryption at work.

Then verify that new session with the recovery key above (kept in %s),
or the bot will not obey it: it acts only on sessions their owner verified,
and until then answers that the session is not verified (Element shows the
bot's messages as blocked "because your device is unverified"). Element asks
right after you sign in: choose "Use recovery key" (older versions: "Verify
with Security Key") and paste the key. Later: Settings, Sessions, verify.

  Bot log     %s
  Bot config  %s
  Data        %s (delete it to start from scratch)

`, l.Secrets, l.URL, l.Organiser, l.Password, l.Room, sandboxRoomName, l.RecoveryKey,
		l.URL, l.Organiser.Localpart(), sandboxRoomName, l.RecoveryFile, l.Log, l.Config, l.Dir)
	if waiting {
		fmt.Fprintf(out, "Waiting for the bot to join and answer; start it with:\n  quorum run --config %s\n", l.Config)
	} else {
		fmt.Fprintf(out, "To run the bot yourself (a build you are changing, a debugger), start the\n"+
			"sandbox with --no-bot, then: quorum run --config %s\n", l.Config)
	}
	fmt.Fprintln(out, "Ctrl-C to stop.")
}

// sandboxSecrets are the generated passwords, kept so that the next run
// signs in to the same accounts.
type sandboxSecrets struct {
	BotPassword        string `yaml:"bot_password"`
	OrganiserPassword  string `yaml:"organiser_password"`
	OrganiserPickleKey string `yaml:"organiser_pickle_key"`
}

const secretsHeader = "# Generated by `quorum sandbox` on its first run, reused on the next ones.\n" +
	"# Accounts on the sandbox homeserver only. Keep this file with the folder.\n"

// loadSecrets reads path, or generates the secrets and writes them there
// (mode 0600) the first time.
func loadSecrets(path string) (*sandboxSecrets, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		sec := &sandboxSecrets{BotPassword: rand.Text(), OrganiserPassword: rand.Text(), OrganiserPickleKey: rand.Text()}
		body, err := yaml.Marshal(sec)
		if err != nil {
			return nil, err
		}
		if err := writeFileAtomic(path, append([]byte(secretsHeader), body...)); err != nil {
			return nil, fmt.Errorf("write sandbox secrets: %w", err)
		}
		return sec, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read sandbox secrets: %w", err)
	}
	var sec sandboxSecrets
	if err := yaml.Unmarshal(data, &sec); err != nil {
		return nil, fmt.Errorf("read sandbox secrets %s: %w", path, err)
	}
	if sec.BotPassword == "" || sec.OrganiserPassword == "" || sec.OrganiserPickleKey == "" {
		return nil, fmt.Errorf("%s lacks a password or key; delete the sandbox folder to start again", path)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, err
	}
	return &sec, nil
}

type keyValue struct{ key, value string }

const botConfigTemplate = `# Quorum's configuration for the sandbox homeserver, written by
# "quorum sandbox". Every key is explained in config.example.yaml.
# "quorum sandbox" sets homeserver, user_id, password and database on every
# start (the port may change); anything else you edit here is kept.
homeserver: ""
user_id: ""
password: ""
database: ""
# Anyone with an account on the sandbox homeserver may invite the bot.
allowed_inviters: ["*:localhost"]
`

// writeBotConfig writes the bot's configuration file the first time and, on
// later runs, sets only the keys in owned, keeping everything else
// (comments included) as the operator left it.
func writeBotConfig(path string, owned []keyValue) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		data = []byte(botConfigTemplate)
	} else if err != nil {
		return fmt.Errorf("read bot config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("bot config %s: %w", path, err)
	}
	if doc.Kind == 0 { // an empty file
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	top := doc.Content[0]
	if doc.Kind != yaml.DocumentNode || top.Kind != yaml.MappingNode {
		return fmt.Errorf("bot config %s is not a YAML mapping; delete it to have it written again", path)
	}
	for _, kv := range owned {
		setKey(top, kv.key, kv.value)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("bot config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("bot config: %w", err)
	}
	if bytes.Equal(buf.Bytes(), data) {
		return nil
	}
	if err := writeFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("write bot config: %w", err)
	}
	return nil
}

// setKey sets key to a string value in a YAML mapping, adding it if absent.
func setKey(m *yaml.Node, key, value string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			v.Kind, v.Tag, v.Value, v.Style, v.Content = yaml.ScalarNode, "!!str", value, 0, nil
			return
		}
	}
	m.Content = append(m.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value})
}

// writeFileAtomic writes data to path (mode 0600) through a temporary file
// and a rename, so that an interrupted run never leaves half a file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op after the rename
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
