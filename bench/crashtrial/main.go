// Command crashtrial kills the bot with SIGKILL at random moments during a
// busy motion and checks, after each restart, that the bot's tally equals
// the ground truth computed from the room's own events: for each member of
// the electorate, their latest vote (reaction on the notice or `!vote`)
// that was not redacted, sent before the deadline. Redactions here are
// always the voter's own.
//
// The bot runs as a separate process (`quorum run --config`), built by
// scripts/crash-trials, against a sandbox Dendrite.
//
//	scripts/crash-trials [-trials 20]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/bench/internal/benchkit"
	"quorum/commands"
	"quorum/commands/motions"
	"quorum/sandbox"
)

func main() {
	trials := flag.Int("trials", 20, "number of trials (one kill -9 each)")
	bin := flag.String("bin", "", "the quorum binary (required)")
	dir := flag.String("dir", "", "work folder (default: a new temporary folder, kept on failure)")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "crashtrial: -bin is required")
		os.Exit(2)
	}
	ok, err := run(*trials, *bin, *dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashtrial:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// proc is the bot's process.
type proc struct {
	bin, cfg, logPath string
	cmd               *exec.Cmd
	starts            int
}

func (p *proc) start() error {
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	p.cmd = exec.Command(p.bin, "run", "--config", p.cfg, "--log-json")
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		return err
	}
	p.starts++
	return nil
}

// waitReady waits for the Ready line of this start in the log.
func (p *proc) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(p.logPath)
		if strings.Count(string(data), `"message":"Ready"`) >= p.starts {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("bot not ready within %s (log: %s)", timeout, p.logPath)
}

func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()
}

func run(trials int, bin, dir string) (bool, error) {
	ctx := context.Background()
	keep := dir != ""
	if dir == "" {
		tmp, err := os.MkdirTemp("", "quorum-crashtrial-")
		if err != nil {
			return false, err
		}
		dir = tmp
	}
	s, err := sandbox.Start(ctx, sandbox.Options{Dir: filepath.Join(dir, "homeserver")})
	if err != nil {
		return false, err
	}
	defer s.Stop()
	cfg, err := benchkit.WriteBotConfig(ctx, s, dir, "log_level: info\n")
	if err != nil {
		return false, err
	}
	bot := &proc{bin: bin, cfg: cfg, logPath: filepath.Join(dir, "bot.log")}
	if err := bot.start(); err != nil {
		return false, err
	}
	defer func() { bot.stop() }()
	if err := bot.waitReady(2 * time.Minute); err != nil {
		return false, err
	}
	botID := benchkit.BotID(s)

	names := []string{"ana", "ben", "chi", "dan", "eve"}
	ms := make([]*benchkit.Member, len(names))
	for i, name := range names {
		if ms[i], err = benchkit.NewMember(ctx, s, dir, name); err != nil {
			return false, err
		}
		ms[i].Start()
		defer ms[i].Close()
	}
	ana, voters := ms[0], ms[1:] // ana proposes and never votes: no motion closes early
	invite := []id.UserID{botID}
	for _, v := range voters {
		invite = append(invite, v.UserID)
	}
	room, err := ana.CreateRoom(ctx, invite...)
	if err != nil {
		return false, err
	}
	if err := ana.WaitJoined(ctx, room, time.Minute, invite...); err != nil {
		return false, err
	}
	for _, v := range voters {
		if err := v.WaitJoined(ctx, room, time.Minute, botID); err != nil {
			return false, err
		}
	}

	matched := 0
	for k := 1; k <= trials; k++ {
		ok, report, err := trial(ctx, bot, room, ana, voters, botID, k)
		if err != nil {
			return false, fmt.Errorf("trial %d: %w (work folder %s)", k, err, dir)
		}
		fmt.Printf("trial %2d: %s\n", k, report)
		if ok {
			matched++
		}
	}
	logData, _ := os.ReadFile(bot.logPath)
	fmt.Printf("bot log over %d starts: %d error lines, %d panics\n", bot.starts,
		strings.Count(string(logData), `"level":"error"`), strings.Count(string(logData), "panicked"))
	// The log is deleted with the work folder: show its errors (the bot
	// logs no message content or secrets).
	for line := range strings.Lines(string(logData)) {
		if strings.Contains(line, `"level":"error"`) {
			fmt.Printf("  %s", line)
		}
	}
	fmt.Printf("%d/%d trials: tally matched\n", matched, trials)
	if matched != trials {
		fmt.Printf("work folder kept for inspection: %s (bot log: %s)\n", dir, bot.logPath)
		return false, nil
	}
	if !keep {
		bot.stop()
		_ = s.Stop()
		_ = os.RemoveAll(dir)
	}
	return true, nil
}

var voteKeys = []string{"👍", "👎", "🤷", "🎉"} // 🎉 is no vote
var choiceWords = []string{"yes", "no", "abstain"}

// trial opens motion #k, lets the voters vote, change and withdraw, kills
// the bot at a random moment and restarts it while the votes keep coming,
// then compares the bot's tally with the room's events.
func trial(ctx context.Context, bot *proc, room id.RoomID, ana *benchkit.Member, voters []*benchkit.Member, botID id.UserID, k int) (bool, string, error) {
	if _, err := ana.Say(ctx, room, fmt.Sprintf("!motion --closes 1h Crash trial %d", k)); err != nil {
		return false, "", err
	}
	notice, err := ana.FindNotice(ctx, room, botID, fmt.Sprintf("Motion #%d", k), time.Minute)
	if err != nil {
		return false, "", err
	}

	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var sentMu sync.Mutex
	sent := 0
	errs := make(chan error, len(voters))
	for i, v := range voters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(k), uint64(i)))
			var mine []id.EventID
			for loadCtx.Err() == nil {
				var err error
				switch r := rng.IntN(100); {
				case r < 50:
					var evt id.EventID
					evt, err = v.React(ctx, room, notice.ID, voteKeys[rng.IntN(len(voteKeys))])
					mine = append(mine, evt)
				case r < 75:
					_, err = v.Say(ctx, room, fmt.Sprintf("!vote %d %s", k, choiceWords[rng.IntN(3)]))
				case len(mine) > 0:
					j := rng.IntN(len(mine))
					if rng.IntN(2) == 0 {
						j = len(mine) - 1 // withdraw the latest vote: an earlier one stands again
					}
					_, err = v.RedactEvent(ctx, room, mine[j])
					mine = append(mine[:j], mine[j+1:]...)
				}
				if err != nil {
					errs <- fmt.Errorf("%s: %w", v.UserID, err)
					return
				}
				sentMu.Lock()
				sent++
				sentMu.Unlock()
				time.Sleep(time.Duration(20+rand.IntN(130)) * time.Millisecond)
			}
		}()
	}
	time.Sleep(time.Duration(200+rand.IntN(2800)) * time.Millisecond)
	bot.kill()
	time.Sleep(time.Duration(rand.IntN(1000)) * time.Millisecond)
	restarted := time.Now()
	if err := bot.start(); err != nil {
		stopLoad()
		return false, "", err
	}
	if err := bot.waitReady(2 * time.Minute); err != nil {
		stopLoad()
		return false, "", err
	}
	ready := time.Since(restarted)
	time.Sleep(time.Duration(500+rand.IntN(1500)) * time.Millisecond)
	stopLoad()
	wg.Wait()
	select {
	case err := <-errs:
		return false, "", err
	default:
	}

	query, err := ana.Say(ctx, room, fmt.Sprintf("!motion %d", k))
	if err != nil {
		return false, "", err
	}
	reply, err := ana.WaitReply(ctx, query, time.Minute)
	if err != nil {
		return false, "", err
	}
	got, err := benchkit.TallyOf(reply)
	if err != nil {
		return false, "", err
	}
	electorate := map[id.UserID]bool{ana.UserID: true}
	for _, v := range voters {
		electorate[v.UserID] = true
	}
	want, err := groundTruth(ctx, ana, room, notice.ID, query, k, electorate, got.ClosesAt)
	if err != nil {
		return false, "", err
	}
	ok := got.Yes == want.Yes && got.No == want.No && got.Abstain == want.Abstain && got.Status == "open"
	verdict := "matched"
	if !ok {
		verdict = "MISMATCH"
	}
	return ok, fmt.Sprintf("%s: bot %s, room events %d yes · %d no · %d abstain; %d events sent, restart to ready %s",
		verdict, got, want.Yes, want.No, want.Abstain, sent, ready.Round(time.Millisecond)), nil
}

// act is one vote found in the room.
type act struct {
	choice motions.Choice
	ts     int64
}

// groundTruth reads the room's events from the motion's notice to the query
// (paging back from ana's sync position and decrypting with her keys) and
// counts, per member of the electorate, the latest vote not redacted and
// sent before the deadline.
func groundTruth(ctx context.Context, ana *benchkit.Member, room id.RoomID, notice, query id.EventID, k int, electorate map[id.UserID]bool, closes time.Time) (benchkit.Tally, error) {
	all, err := ana.History(ctx, room, notice)
	if err != nil {
		return benchkit.Tally{}, err
	}
	var evts []*event.Event // oldest first, up to the query
	reachedQuery := false
	for _, evt := range all {
		if evt.ID == query {
			reachedQuery = true
			break
		}
		evts = append(evts, evt)
	}
	if !reachedQuery {
		return benchkit.Tally{}, errors.New("the query is not in the room's history")
	}
	choices := map[string]motions.Choice{"👍": motions.Yes, "👎": motions.No, "🤷": motions.Abstain}
	standing := map[id.UserID]act{}
	redactionsByOthers := 0
	for _, evt := range evts {
		if evt.Unsigned.RedactedBecause != nil {
			if evt.Unsigned.RedactedBecause.Sender != evt.Sender {
				redactionsByOthers++
			}
			continue
		}
		if !electorate[evt.Sender] || evt.Sender == ana.UserID || time.UnixMilli(evt.Timestamp).After(closes) {
			continue
		}
		switch evt.Type.Type {
		case event.EventReaction.Type:
			_ = evt.Content.ParseRaw(event.EventReaction)
			rel := evt.Content.AsReaction().RelatesTo
			if c, ok := choices[commands.NormalizeKey(rel.Key)]; ok && rel.EventID == notice && rel.Type == event.RelAnnotation {
				if prev, had := standing[evt.Sender]; !had || evt.Timestamp >= prev.ts {
					standing[evt.Sender] = act{c, evt.Timestamp}
				}
			}
		case event.EventMessage.Type:
			_ = evt.Content.ParseRaw(event.EventMessage)
			var n int
			var word string
			if _, err := fmt.Sscanf(evt.Content.AsMessage().Body, "!vote %d %s", &n, &word); err == nil && n == k {
				if c, ok := motions.ParseChoice(word); ok {
					if prev, had := standing[evt.Sender]; !had || evt.Timestamp >= prev.ts {
						standing[evt.Sender] = act{c, evt.Timestamp}
					}
				}
			}
		}
	}
	if redactionsByOthers > 0 {
		return benchkit.Tally{}, fmt.Errorf("%d votes redacted by someone else: the ground truth needs their content", redactionsByOthers)
	}
	var t benchkit.Tally
	for _, a := range standing {
		switch a.choice {
		case motions.Yes:
			t.Yes++
		case motions.No:
			t.No++
		case motions.Abstain:
			t.Abstain++
		}
	}
	return t, nil
}
