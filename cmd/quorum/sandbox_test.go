package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/bot"
	"quorum/config"
	"quorum/member"
	"quorum/store"
)

// Failure guards only: nothing below asserts how long anything takes. The
// first start may build Dendrite (minutes on a cold Go cache).
const (
	firstStartGuard = 10 * time.Minute
	startGuard      = 3 * time.Minute
	stopGuard       = time.Minute
)

// The bot's decrypted answer to !help, as the transcript shows it.
var helpReply = regexp.MustCompile("(?m)^  quorum: Quorum — direct democracy for this room\\.\n +Motions: !motion !motions !poll !vote ")

// TestSandbox runs `quorum sandbox` three times on one folder: a first start
// that sets everything up, a second that must reuse it all, and one with
// --no-bot where the bot is `quorum run --config DIR/quorum.yaml`. Each is
// stopped with SIGINT and must exit 0 leaving no Dendrite behind.
func TestSandbox(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sandbox") // created by the command
	var all []*process                           // every run's output, searched for secrets at the end

	// First run.
	first := startProcess(t, "sandbox", "--dir", dir)
	all = append(all, first)
	out := first.waitFor(t, firstStartGuard, "Ctrl-C to stop.", 0)
	info := parseLoginInfo(t, out)
	transcript := strings.Index(out, "  organiser: !help\n")
	if transcript < 0 || !helpReply.MatchString(out[transcript:]) {
		t.Fatalf("no transcript of !help and the bot's decrypted answer:\n%s", out)
	}
	if strings.Contains(out, "NOT encrypted") {
		t.Errorf("the bot's answer was not encrypted:\n%s", out)
	}
	if transcript > strings.Index(out, "Homeserver  ") {
		t.Errorf("the transcript comes after the login instructions:\n%s", out)
	}
	for _, w := range []string{
		"sign in with the custom homeserver\n" + info.url,
		"quorum run --config " + filepath.Join(dir, "quorum.yaml"),
		filepath.Join(dir, "quorum.log"),
	} {
		if !strings.Contains(out, w) {
			t.Errorf("the output does not say %q:\n%s", w, out)
		}
	}
	var sec sandboxSecrets
	secretsData := readFile(t, filepath.Join(dir, "secrets.yaml"))
	if err := yaml.Unmarshal(secretsData, &sec); err != nil {
		t.Fatal(err)
	}
	if info.user != "@organiser:localhost" || info.password != sec.OrganiserPassword || sec.OrganiserPassword == "" {
		t.Errorf("printed user %q password %q; want @organiser:localhost and the password in secrets.yaml", info.user, info.password)
	}
	if saved := strings.TrimSpace(string(readFile(t, filepath.Join(dir, "room-id")))); saved != info.room {
		t.Errorf("printed room %s, room-id file has %s", info.room, saved)
	}
	if saved := strings.TrimSpace(string(readFile(t, filepath.Join(dir, "organiser.recovery-key")))); saved != info.recoveryKey {
		t.Errorf("printed recovery key %q, organiser.recovery-key has %q", info.recoveryKey, saved)
	}
	// The printed instructions work: a client signs in with them, and a
	// session verified with the printed recovery key is obeyed.
	checkLogin(t, info)
	checkNewcomer(t, info, filepath.Join(dir, "quorum.log"))
	if pids := dendritesIn(t, dir); len(pids) != 1 {
		t.Fatalf("%d Dendrite processes run in %s, want 1", len(pids), dir)
	}
	first.interrupt(t)
	checkStopped(t, first, dir, 1)

	// Second run: the same room, accounts and passwords.
	second := startProcess(t, "sandbox", "--dir", dir)
	all = append(all, second)
	out = second.waitFor(t, startGuard, "Ctrl-C to stop.", 0)
	again := parseLoginInfo(t, out)
	if again.room != info.room || again.user != info.user || again.password != info.password || again.recoveryKey != info.recoveryKey {
		t.Errorf("second run printed room %s, %s / %s / %s; the first printed %s, %s / %s / %s",
			again.room, again.user, again.password, again.recoveryKey, info.room, info.user, info.password, info.recoveryKey)
	}
	if !helpReply.MatchString(out) {
		t.Errorf("second run: no decrypted answer to !help:\n%s", out)
	}
	if !bytes.Equal(readFile(t, filepath.Join(dir, "secrets.yaml")), secretsData) {
		t.Error("the second run changed secrets.yaml")
	}
	second.interrupt(t)
	checkStopped(t, second, dir, 2)
	// One bot device for life.
	devices := regexp.MustCompile(`Logged in device_id=(\S+) user_id=@quorum:localhost`).FindAllStringSubmatch(string(readFile(t, filepath.Join(dir, "quorum.log"))), -1)
	if len(devices) != 2 || devices[0][1] != devices[1][1] {
		t.Errorf("bot logins in the log: %q; want two with the same device", devices)
	}

	// Third run: the operator runs the bot with quorum run and the sandbox's
	// config; the organiser waits for it.
	third := startProcess(t, "sandbox", "--dir", dir, "--no-bot")
	all = append(all, third)
	out = third.waitFor(t, startGuard, "Ctrl-C to stop.", 0)
	if !strings.Contains(out, "start it with:\n  quorum run --config "+filepath.Join(dir, "quorum.yaml")) {
		t.Errorf("--no-bot does not say how to start the bot:\n%s", out)
	}
	if helpReply.MatchString(out) {
		t.Fatalf("an answer came with no bot running:\n%s", out)
	}
	run := startProcess(t, "run", "--config", filepath.Join(dir, "quorum.yaml"))
	all = append(all, run)
	out = third.waitFor(t, startGuard, "  quorum: Quorum", len(out))
	if !helpReply.MatchString(out) || strings.Contains(out, "NOT encrypted") {
		t.Errorf("the bot run with quorum run did not answer !help encrypted:\n%s", out)
	}
	run.interrupt(t)
	third.interrupt(t)
	checkStopped(t, third, dir, 3)

	checkSecrets(t, dir, sec, all)
	checkBackupOfRealBot(t, filepath.Join(dir, "quorum.yaml"))
}

// checkSecrets: the bot's access token, pickle key, recovery key and PGP
// passphrase appear in no output and not in the log, no password is in the
// log, and the files that hold secrets are private.
func checkSecrets(t *testing.T, dir string, sec sandboxSecrets, runs []*process) {
	database := filepath.Join(dir, "quorum.db")
	st, err := store.Open(t.Context(), database)
	if err != nil {
		t.Fatal(err)
	}
	token, err := st.Meta().Get(t.Context(), "access_token")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	log := string(readFile(t, filepath.Join(dir, "quorum.log")))
	if !strings.Contains(log, "Ready") {
		t.Fatalf("the bot's log has no Ready line:\n%s", log)
	}
	never := map[string]string{
		"access token":   token,
		"pickle key":     strings.TrimSpace(string(readFile(t, bot.PickleKeyPath(database)))),
		"recovery key":   strings.TrimSpace(string(readFile(t, bot.RecoveryKeyPath(database)))),
		"PGP passphrase": strings.TrimSpace(string(readFile(t, bot.PGPPassphrasePath(database)))),
	}
	for name, secret := range never {
		if secret == "" {
			t.Fatalf("the %s is empty: the check would prove nothing", name)
		}
		if strings.Contains(log, secret) {
			t.Errorf("the log contains the bot's %s", name)
		}
		for _, p := range runs {
			if stdout, stderr := p.output(); strings.Contains(stdout+stderr, secret) {
				t.Errorf("quorum %s printed the bot's %s", strings.Join(p.cmd.Args[1:], " "), name)
			}
		}
	}
	for name, pw := range map[string]string{"bot": sec.BotPassword, "organiser": sec.OrganiserPassword} {
		if strings.Contains(log, pw) {
			t.Errorf("the log contains the %s's password", name)
		}
	}
	for _, name := range []string{"secrets.yaml", "quorum.yaml", "quorum.db", "organiser.db", "organiser.recovery-key", "quorum.log", "room-id"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
		} else if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
		}
	}
}

// TestSandboxSecondInstance: a second sandbox on a folder in use stops at
// once with an error and leaves the first one running. The first one logs
// JSON lines.
func TestSandboxSecondInstance(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := startProcess(t, "sandbox", "--dir", dir, "--log-json")
	first.waitFor(t, firstStartGuard, "Ctrl-C to stop.", 0)
	ready := false
	for line := range bytes.Lines(readFile(t, filepath.Join(dir, "quorum.log"))) {
		var entry struct{ Message string }
		if err := json.Unmarshal(line, &entry); err != nil {
			t.Fatalf("--log-json: the log has a line that is not JSON: %q", line)
		}
		ready = ready || entry.Message == "Ready"
	}
	if !ready {
		t.Error("--log-json: no Ready entry in the log")
	}
	_, stderr, code := quorum(t, "sandbox", "--dir", dir)
	if code != 1 || !strings.Contains(stderr, "already running") {
		t.Errorf("second sandbox: status %d, stderr %q; want 1 and \"already running\"", code, stderr)
	}
	if !first.running() {
		t.Fatal("the first sandbox stopped")
	}
	first.interrupt(t)
	checkStopped(t, first, dir, 1)
}

type loginDetails struct{ url, user, password, room, recoveryKey string }

var (
	loginLine       = regexp.MustCompile(`(?m)^  (Homeserver|User|Password|Room) +(\S+)`)
	recoveryKeyLine = regexp.MustCompile(`(?m)^  Recovery key +(\S.*)$`)
)

func parseLoginInfo(t *testing.T, out string) loginDetails {
	t.Helper()
	found := map[string]string{}
	for _, m := range loginLine.FindAllStringSubmatch(out, -1) {
		found[m[1]] = m[2]
	}
	l := loginDetails{url: found["Homeserver"], user: found["User"], password: found["Password"], room: found["Room"]}
	if m := recoveryKeyLine.FindStringSubmatch(out); m != nil {
		l.recoveryKey = strings.TrimSpace(m[1])
	}
	if !strings.HasPrefix(l.url, "http://127.0.0.1:") || l.user == "" || l.password == "" || !strings.HasPrefix(l.room, "!") || l.recoveryKey == "" {
		t.Fatalf("no complete login instructions (got %+v) in:\n%s", l, out)
	}
	return l
}

// checkLogin signs in with the printed details, then signs out again.
func checkLogin(t *testing.T, l loginDetails) {
	t.Helper()
	cli, err := mautrix.NewClient(l.url, "", "")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Login(t.Context(), &mautrix.ReqLogin{
		Type:             mautrix.AuthTypePassword,
		Identifier:       mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: l.user},
		Password:         l.password,
		StoreCredentials: true,
	})
	if err != nil {
		t.Fatalf("sign in with the printed details: %v", err)
	}
	if resp.UserID.String() != l.user {
		t.Errorf("signed in as %s, want %s", resp.UserID, l.user)
	}
	if joined, err := cli.JoinedRooms(t.Context()); err != nil || len(joined.JoinedRooms) != 1 || joined.JoinedRooms[0].String() != l.room {
		t.Errorf("the organiser's rooms: %v, %v; want only %s", joined, err, l.room)
	}
	if _, err := cli.Logout(t.Context()); err != nil {
		t.Errorf("sign out: %v", err)
	}
}

// checkNewcomer signs in to the organiser's account with a new session, as
// a person with Element would: the bot does not obey it (its log says so)
// and withholds its keys, until the session is verified with the printed
// recovery key; then the bot answers it, and the session decrypts the answer.
func checkNewcomer(t *testing.T, l loginDetails, logPath string) {
	t.Helper()
	ctx := t.Context()
	c, err := member.Login(ctx, member.Account{Homeserver: l.url, UserID: id.UserID(l.user), Password: l.password,
		Store: filepath.Join(t.TempDir(), "newcomer.db"), PickleKey: []byte("newcomer")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.CrossSigned {
		t.Fatal("the new session was verified without the recovery key")
	}
	replies := make(chan *event.Event, 16)
	c.Syncer.OnEventType(event.EventMessage, func(_ context.Context, evt *event.Event) {
		if evt.Sender != c.UserID && evt.RoomID == id.RoomID(l.room) {
			select {
			case replies <- evt:
			default:
			}
		}
	})
	c.Start()
	room := id.RoomID(l.room)
	deadline := time.Now().Add(time.Minute)
	for enc, _ := c.StateStore.IsEncrypted(ctx, room); !enc; enc, _ = c.StateStore.IsEncrypted(ctx, room) {
		if time.Now().After(deadline) {
			t.Fatal("the new session never learnt that the room is encrypted")
		}
		time.Sleep(100 * time.Millisecond)
	}
	say := func(body string) id.EventID {
		resp, err := c.SendMessageEvent(ctx, room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		return resp.EventID
	}
	say("!help")
	// A deadline of its own: under CI's parallel homeservers the wait for
	// the encryption state above can take most of a minute.
	deadline = time.Now().Add(2 * time.Minute)
	ignored := "Ignoring an event from a session its owner has not verified"
	for !strings.Contains(string(readFile(t, logPath)), ignored) {
		if time.Now().After(deadline) {
			t.Fatalf("the bot's log does not say it ignored the unverified session (%q)", ignored)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(string(readFile(t, logPath)), "device_id="+c.DeviceID.String()) {
		t.Errorf("the bot's log does not name the unverified session %s", c.DeviceID)
	}

	if err := c.Crypto.Machine().VerifyWithRecoveryKey(ctx, l.recoveryKey); err != nil {
		t.Fatalf("verify the session with the printed recovery key: %v", err)
	}
	// The bot learns of the new signature with its next sync.
	time.Sleep(2 * time.Second)
	cmd := say("!help motion")
	timeout := time.After(time.Minute)
	for {
		select {
		case evt := <-replies:
			if evt.Content.AsMessage().RelatesTo.GetNonFallbackReplyTo() != cmd {
				continue
			}
			if evt.Mautrix.EventSource&event.SourceDecrypted == 0 || !strings.Contains(evt.Content.AsMessage().Body, "!motion") {
				t.Errorf("the answer to the verified session: decrypted %v, %q", evt.Mautrix.EventSource&event.SourceDecrypted != 0, evt.Content.AsMessage().Body)
			}
			return
		case <-timeout:
			t.Fatal("the bot did not answer the session verified with the recovery key (or the session could not decrypt it)")
		}
	}
}

// checkStopped checks that a sandbox said it stopped, that Dendrite shut
// down cleanly (rather than being killed with its parent) as many times as
// the sandbox in dir was started, and that no Dendrite is left running.
func checkStopped(t *testing.T, p *process, dir string, runs int) {
	t.Helper()
	if stdout, _ := p.output(); !strings.HasSuffix(stdout, "stopping Dendrite…\nstopped\n") {
		t.Errorf("the sandbox did not say it stopped Dendrite:\n%s", stdout)
	}
	log := readFile(t, filepath.Join(dir, "dendrite", "dendrite.log"))
	if n := bytes.Count(log, []byte(`msg="Dendrite is exiting now"`)); n != runs {
		t.Errorf("Dendrite's log shows %d clean shutdowns, want %d", n, runs)
	}
	if pids := dendritesIn(t, dir); len(pids) != 0 {
		t.Errorf("Dendrite processes %v still run in %s", pids, dir)
	}
}

// dendritesIn lists the processes running in dir's homeserver folder (the
// sandbox starts Dendrite there).
func dendritesIn(t *testing.T, dir string) []string {
	t.Helper()
	want := filepath.Join(dir, "dendrite")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, e := range entries {
		if cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd")); err == nil && cwd == want {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// process is a running quorum whose output the test reads as it comes.
type process struct {
	cmd     *exec.Cmd
	changed chan struct{} // a nudge after output or exit
	done    chan struct{} // closed once it exited
	err     error         // Wait's result, once done

	mu             sync.Mutex
	stdout, stderr bytes.Buffer
}

func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(quorumBin, args...), changed: make(chan struct{}, 1), done: make(chan struct{})}
	p.cmd.Env = quorumEnv()
	p.cmd.Stdout = writerFunc(func(b []byte) (int, error) { return p.write(&p.stdout, b) })
	p.cmd.Stderr = writerFunc(func(b []byte) (int, error) { return p.write(&p.stderr, b) })
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
		p.nudge()
	}()
	t.Cleanup(func() {
		if p.running() {
			_ = p.cmd.Process.Kill() // the kernel then kills its Dendrite (Pdeathsig)
			<-p.done
		}
		if t.Failed() {
			stdout, stderr := p.output()
			t.Logf("quorum %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), stdout, stderr)
		}
	})
	return p
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func (p *process) write(buf *bytes.Buffer, b []byte) (int, error) {
	p.mu.Lock()
	buf.Write(b)
	p.mu.Unlock()
	p.nudge()
	return len(b), nil
}

func (p *process) nudge() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

func (p *process) output() (stdout, stderr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String(), p.stderr.String()
}

func (p *process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// waitFor waits until stdout contains substr at or after byte from and
// returns all of stdout. It fails if the process exits first or guard passes.
func (p *process) waitFor(t *testing.T, guard time.Duration, substr string, from int) string {
	t.Helper()
	timer := time.NewTimer(guard)
	defer timer.Stop()
	for {
		stdout, stderr := p.output()
		if from <= len(stdout) && strings.Contains(stdout[from:], substr) {
			return stdout
		}
		select {
		case <-p.changed:
		case <-p.done:
			stdout, stderr = p.output()
			if !strings.Contains(stdout[min(from, len(stdout)):], substr) {
				t.Fatalf("quorum exited (%v) before printing %q\nstdout:\n%s\nstderr:\n%s", p.err, substr, stdout, stderr)
			}
		case <-timer.C:
			t.Fatalf("no %q after %s\nstdout:\n%s\nstderr:\n%s", substr, guard, stdout, stderr)
		}
	}
}

// interrupt sends SIGINT, as Ctrl-C does, and checks for a clean exit.
func (p *process) interrupt(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("SIGINT: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopGuard)
	defer cancel()
	select {
	case <-p.done:
	case <-ctx.Done():
		t.Fatalf("quorum %s did not stop within %s of SIGINT", strings.Join(p.cmd.Args[1:], " "), stopGuard)
	}
	if p.err != nil {
		_, stderr := p.output()
		t.Fatalf("quorum %s after SIGINT: %v, want exit status 0\nstderr:\n%s", strings.Join(p.cmd.Args[1:], " "), p.err, stderr)
	}
}

// TestBotConfigKeepsEdits: a later run updates only the keys the sandbox
// owns (the port may change) and keeps the operator's edits and comments.
// Not parallel: it clears QUORUM_ variables with t.Setenv.
func TestBotConfigKeepsEdits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quorum.yaml")
	owned := func(url string) []keyValue {
		return []keyValue{{"homeserver", url}, {"user_id", "@quorum:localhost"}, {"password", "pw: with # signs"}, {"database", "quorum.db"}}
	}
	if err := writeBotConfig(path, owned("http://127.0.0.1:1111")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config file mode: %v %v, want 0600", st.Mode().Perm(), err)
	}
	edited := string(readFile(t, path)) + "# my own note\ntimezone: Europe/Madrid\n"
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeBotConfig(path, owned("http://127.0.0.1:2222")); err != nil {
		t.Fatal(err)
	}
	got := string(readFile(t, path))
	for _, w := range []string{"# my own note", "timezone: Europe/Madrid", "homeserver: http://127.0.0.1:2222", `allowed_inviters: ["*:localhost"]`} {
		if !strings.Contains(got, w) {
			t.Errorf("the rewritten config lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "1111") {
		t.Errorf("the old homeserver is still there:\n%s", got)
	}
	// It is a configuration `quorum run` accepts, with the values set.
	clearQuorumEnv(t)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Homeserver != "http://127.0.0.1:2222" || cfg.Password != "pw: with # signs" || cfg.Timezone != "Europe/Madrid" ||
		cfg.Database != filepath.Join(filepath.Dir(path), "quorum.db") || !cfg.InviterAllowed("@organiser:localhost") {
		t.Errorf("loaded %+v", cfg)
	}
}

// clearQuorumEnv hides the developer's QUORUM_ variables from config.Load.
func clearQuorumEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "QUORUM_") {
			t.Setenv(name, "")
			_ = os.Unsetenv(name)
		}
	}
}

// TestSandboxDir: the folder is made with its parents, for its owner only,
// and one that cannot be made is reported as such.
func TestSandboxDir(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	want := filepath.Join(base, "parent", "sandbox")
	dir, err := makeSandboxDir(want)
	if err != nil || dir != want {
		t.Fatalf("makeSandboxDir: %q, %v; want %q", dir, err, want)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
		t.Errorf("sandbox folder: %v, %v; want a folder with mode 0700", st, err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := makeSandboxDir(filepath.Join(file, "sandbox")); err == nil || !strings.HasPrefix(err.Error(), "create sandbox dir: ") {
		t.Errorf("a folder under a file: %v, want a \"create sandbox dir\" error", err)
	}
}

// TestSandboxUntilStopped: once the demo has played, Ctrl-C is a clean
// stop, while the bot stopping by itself is the error the sandbox exits
// with. The integration tests only stop the sandbox with Ctrl-C.
func TestSandboxUntilStopped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cause error // why the bot stopped by itself; nil for Ctrl-C
	}{
		{"Ctrl-C", nil},
		{"the bot stopped", errors.New("the bot stopped: without an error")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, interrupt := context.WithCancel(t.Context())
			defer interrupt()
			runCtx, fail := context.WithCancelCause(ctx)
			defer fail(nil)
			if tc.cause == nil {
				interrupt()
			} else {
				fail(tc.cause)
			}
			var out bytes.Buffer
			if err := (&sandboxRun{out: &out}).untilStopped(ctx, runCtx); !errors.Is(err, tc.cause) {
				t.Errorf("untilStopped: %v, want %v", err, tc.cause)
			}
			if out.String() != "stopping…\n" {
				t.Errorf("untilStopped printed %q, want %q", out.String(), "stopping…\n")
			}
		})
	}
}
