// Command federation measures a federal motion: one council and N branch
// assemblies (default 50) on one homeserver, each branch with its own
// Quorum bot (in-process, with its own account and database, as the
// council's bot) and one member device. The council's moderator opens a
// motion in the council; every branch's bot opens it in its branch room,
// where the member votes as soon as the notice arrives (yes, or no in every
// fourth branch); each bot reports its branch's result to the council,
// whose bot decides once all have reported. It prints the time from the
// opening to the council's result beside the time to the slowest branch's
// vote and to the last branch result, and checks the result and every
// branch's report against the votes cast.
//
// Set-up (N+1 bots started, N members logged in, N branch rooms, N
// admissions and N affiliation motions carried) runs -workers branches at a
// time and is timed apart.
//
//	CGO_ENABLED=0 go run -tags goolm ./bench/federation -branches 50
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/bench/internal/benchkit"
)

func main() {
	n := flag.Int("branches", 50, "branch assemblies, each with its own bot and one member device")
	workers := flag.Int("workers", 8, "branches set up at once")
	dir := flag.String("dir", "", "work folder (default: a new temporary folder, removed afterwards)")
	flag.Parse()
	if *n < 1 {
		fmt.Fprintln(os.Stderr, "federation: -branches must be at least 1")
		os.Exit(2)
	}
	if err := run(*n, *workers, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "federation: FAIL:", err)
		os.Exit(1)
	}
}

// wait bounds every wait for a bot's answer.
const wait = 5 * time.Minute

// branch is one branch assembly: its room, its bot and its member, and
// what the member saw and did during the federal motion.
type branch struct {
	name   string
	room   id.RoomID
	bot    *benchkit.InProcess
	botID  id.UserID
	member *benchkit.Member
	no     bool // its member votes no

	mu       sync.Mutex
	noticeAt time.Time // the federal motion's notice reached the member
	votedAt  time.Time // the homeserver accepted the member's vote
	voteErr  error
	resultAt time.Time // its result reached the council's moderator
}

// votesNo says which branches vote no: every fourth, so that most carry.
func votesNo(i int) bool { return i%4 == 1 }

// federation is the council, its moderator and the branches.
type federation struct {
	bench    *benchkit.Bench
	mod      *benchkit.Member
	council  id.RoomID
	branches []*branch
	byBot    map[id.UserID]*branch

	modMu sync.Mutex // the moderator sends one command at a time

	mu       sync.Mutex
	openedAt time.Time    // the council's notice of the federal motion
	result   *event.Event // the council's result
	resultAt time.Time
	// others counts the branch bots' messages in the council that are
	// neither announcements nor results (such as a bot saying it could not
	// decrypt another's message).
	others int
}

func run(n, workers int, dir string) error {
	ctx := context.Background()
	bench, closeBench, err := benchkit.NewBench(ctx, "quorum-federation-", dir)
	if err != nil {
		return err
	}
	defer closeBench()
	f := &federation{bench: bench, byBot: map[id.UserID]*branch{}}
	defer f.close()

	setupStart := time.Now()
	if err := f.openCouncil(ctx); err != nil {
		return err
	}
	f.branches = make([]*branch, n)
	var done atomic.Int32
	if err := benchkit.Pool(n, workers, func(i int) error {
		if err := f.affiliate(ctx, i); err != nil {
			return fmt.Errorf("branch %d: %w", i, err)
		}
		if d := done.Add(1); d%10 == 0 || int(d) == n {
			fmt.Fprintf(os.Stderr, "federation: %d/%d branches affiliated (%s)\n", d, n, time.Since(setupStart).Round(time.Second))
		}
		return nil
	}); err != nil {
		f.mu.Lock()
		others := f.others
		f.mu.Unlock()
		return fmt.Errorf("%w (the branches' bots sent %d other messages in the council; peak RSS %s)", err, others, peakRSS())
	}
	if err := f.checkCouncil(ctx, n); err != nil {
		return err
	}
	setup := time.Since(setupStart)

	// The measure: T0, the moderator opens the motion; T1, the council's
	// result reaches the moderator.
	t0 := time.Now()
	if _, err := f.say(ctx, "!motion Strike on Monday"); err != nil {
		return err
	}
	if !until(10*time.Minute, func() bool { return f.result != nil }, &f.mu) {
		return f.report(n, setup, t0, errors.New("no council result within 10 minutes of the opening"))
	}
	// The last vote's send may return after the bot has counted it.
	for _, br := range f.branches {
		until(10*time.Second, func() bool { return !br.votedAt.IsZero() || br.voteErr != nil }, &br.mu)
	}
	return f.report(n, setup, t0, nil)
}

// until polls cond, with mu held, until it holds or timeout passes, and
// says whether it held.
func until(timeout time.Duration, cond func() bool, mu *sync.Mutex) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		ok := cond()
		mu.Unlock()
		if ok || time.Now().After(deadline) {
			return ok
		}
	}
}

// openCouncil starts the council's bot and makes the moderator's room a
// council.
func (f *federation) openCouncil(ctx context.Context) error {
	b := f.bench
	if err := b.Bot.Start(ctx); err != nil {
		return err
	}
	mod, err := benchkit.NewMember(ctx, b.Server, b.Dir, "moderator")
	if err != nil {
		return err
	}
	f.mod = mod
	mod.OnMessage = f.councilEvent
	mod.Start()
	if f.council, err = mod.CreateRoom(ctx, b.BotID); err != nil {
		return err
	}
	if err := mod.WaitJoined(ctx, f.council, wait, b.BotID); err != nil {
		return err
	}
	sent, err := f.say(ctx, "!council on Bench council")
	if err != nil {
		return err
	}
	_, err = mod.WaitReply(ctx, sent, wait)
	return err
}

// say sends a command of the moderator's in the council.
func (f *federation) say(ctx context.Context, cmd string) (id.EventID, error) {
	f.modMu.Lock()
	defer f.modMu.Unlock()
	return f.mod.Say(ctx, f.council, cmd)
}

// affiliate sets up branch i: its bot, its member and their room; the
// council admits its bot, the branch votes to affiliate, and its bot joins
// the council and announces it.
func (f *federation) affiliate(ctx context.Context, i int) error {
	s := f.bench.Server
	localpart := fmt.Sprintf("branch%03d", i)
	dir := filepath.Join(f.bench.Dir, localpart)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	cfg, err := benchkit.WriteBotConfigAs(ctx, s, dir, localpart, benchkit.QuickMotions)
	if err != nil {
		return err
	}
	br := &branch{name: fmt.Sprintf("Branch%03d", i), botID: id.NewUserID(localpart, s.ServerName), no: votesNo(i)}
	if br.bot, err = benchkit.NewInProcess(cfg); err != nil {
		return err
	}
	f.mu.Lock()
	f.branches[i], f.byBot[br.botID] = br, br
	f.mu.Unlock()
	if err := br.bot.Start(ctx); err != nil {
		return err
	}
	if br.member, err = benchkit.NewMember(ctx, s, dir, fmt.Sprintf("member%03d", i)); err != nil {
		return err
	}
	m := br.member
	if br.room, err = m.CreateRoom(ctx, br.botID); err != nil {
		return err
	}
	m.OnMessage = func(evt *event.Event) { br.federalNotice(ctx, evt) }
	m.Start() // after br.room is set: the sync reads it
	if err := m.WaitJoined(ctx, br.room, wait, br.botID); err != nil {
		return err
	}

	admit, err := f.say(ctx, "!council admit "+br.botID.String())
	if err != nil {
		return err
	}
	if _, err := f.mod.WaitReply(ctx, admit, wait); err != nil {
		return err
	}
	if _, err := m.Say(ctx, br.room, fmt.Sprintf("!affiliate --bot %s %s %s", f.bench.BotID, f.council, br.name)); err != nil {
		return err
	}
	if _, err := m.FindNotice(ctx, br.room, br.botID, "Motion #1", wait); err != nil {
		return err
	}
	if _, err := m.Say(ctx, br.room, "!vote 1 yes"); err != nil {
		return err
	}
	_, err = f.mod.FindNotice(ctx, f.council, f.bench.BotID, fmt.Sprintf("Welcome to the branch %q", br.name), wait)
	return err
}

// checkCouncil asks the council's bot for the council and checks that it
// lists every branch. (It also gives every bot the moderator's room key
// before the measure, as a moderator who has spoken there since the last
// branch joined has.)
func (f *federation) checkCouncil(ctx context.Context, n int) error {
	sent, err := f.say(ctx, "!council")
	if err != nil {
		return err
	}
	reply, err := f.mod.WaitReply(ctx, sent, wait)
	if err != nil {
		return err
	}
	c, _ := reply.Content.Raw["quorum.council"].(map[string]any)
	if listed, _ := c["branches"].([]any); len(listed) != n {
		return fmt.Errorf("the council lists %d branches, want %d", len(listed), n)
	}
	return nil
}

// federalNotice votes on the federal motion as soon as its notice reaches
// the branch's member: the bot's notice (not an edit) with a quorum.motion
// of kind federal, open.
func (br *branch) federalNotice(ctx context.Context, evt *event.Event) {
	qm, _ := evt.Content.Raw["quorum.motion"].(map[string]any)
	if evt.Sender != br.botID || evt.RoomID != br.room || qm["kind"] != "federal" || qm["status"] != "open" ||
		evt.Content.AsMessage().RelatesTo.GetReplaceID() != "" {
		return
	}
	br.mu.Lock()
	defer br.mu.Unlock()
	if !br.noticeAt.IsZero() {
		return
	}
	br.noticeAt = time.Now()
	number, _ := qm["id"].(float64)
	choice := "yes"
	if br.no {
		choice = "no"
	}
	go func() { // not on the sync loop
		_, err := br.member.Say(ctx, br.room, fmt.Sprintf("!vote %d %s", int(number), choice))
		br.mu.Lock()
		defer br.mu.Unlock()
		br.votedAt, br.voteErr = time.Now(), err
	}()
}

// councilEvent records, as the moderator sees them, the council's notice
// of the federal motion, each branch's result and the council's result.
func (f *federation) councilEvent(evt *event.Event) {
	if evt.RoomID != f.council || evt.Content.AsMessage().RelatesTo.GetReplaceID() != "" {
		return
	}
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if br := f.byBot[evt.Sender]; br != nil && evt.Content.Raw["quorum.branch_result"] == nil && evt.Content.Raw["quorum.branch"] == nil {
		f.others++
	}
	if _, ok := evt.Content.Raw["quorum.branch_result"]; ok {
		if br := f.byBot[evt.Sender]; br != nil {
			br.mu.Lock()
			if br.resultAt.IsZero() {
				br.resultAt = now
			}
			br.mu.Unlock()
		}
		return
	}
	qm, _ := evt.Content.Raw["quorum.motion"].(map[string]any)
	if evt.Sender != f.bench.BotID || qm["kind"] != "federal" {
		return
	}
	if qm["status"] == "open" {
		f.openedAt = now
	} else if f.result == nil {
		f.result, f.resultAt = evt, now
	}
}

// report prints the measures and checks the council's result and every
// branch's report against the votes cast; failed (no result) is reported
// with what did arrive.
func (f *federation) report(n int, setup time.Duration, t0 time.Time, failed error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var problems []string
	if failed != nil {
		problems = append(problems, failed.Error())
	}
	var firstNotice, lastNotice, lastVote, lastResult time.Time
	var voteToResult []time.Duration
	var slowest *branch
	wantCarried := 0
	for _, br := range f.branches {
		br.mu.Lock()
		switch {
		case br.noticeAt.IsZero():
			problems = append(problems, fmt.Sprintf("%s: the federal motion never reached its member", br.name))
		case br.voteErr != nil:
			problems = append(problems, fmt.Sprintf("%s: vote: %v", br.name, br.voteErr))
		case br.votedAt.IsZero():
			problems = append(problems, fmt.Sprintf("%s: its member's vote was not sent", br.name))
		case br.resultAt.IsZero():
			problems = append(problems, fmt.Sprintf("%s: no branch result in the council", br.name))
		default:
			voteToResult = append(voteToResult, br.resultAt.Sub(br.votedAt))
		}
		if !br.noticeAt.IsZero() && (firstNotice.IsZero() || br.noticeAt.Before(firstNotice)) {
			firstNotice = br.noticeAt
		}
		lastNotice = later(lastNotice, br.noticeAt)
		if br.votedAt.After(lastVote) {
			lastVote, slowest = br.votedAt, br
		}
		lastResult = later(lastResult, br.resultAt)
		if !br.no {
			wantCarried++
		}
		br.mu.Unlock()
	}
	problems = append(problems, f.checkResult(wantCarried)...)

	since := func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return benchkit.Secs(t.Sub(t0))
	}
	fmt.Printf("Federation (%s, %d CPUs): a council and %d branches on one homeserver, %d Quorum bots in this process, one member device per branch\n",
		benchkit.Machine(), runtime.NumCPU(), n, n+1)
	fmt.Printf("  set-up: %s (bots started, members logged in, branch rooms made, %d admissions and %d affiliations carried)\n",
		benchkit.Secs(setup), n, n)
	fmt.Printf("  peak RSS of this program (%d bots, %d member devices): %s\n", n+1, n+1, peakRSS())
	fmt.Println()
	fmt.Println("  | from the opening of the federal motion to          | time       |")
	fmt.Println("  |----------------------------------------------------|------------|")
	fmt.Printf("  | the council's notice of it                         | %-10s |\n", since(f.openedAt))
	fmt.Printf("  | the first branch's notice of it (at its member)    | %-10s |\n", since(firstNotice))
	fmt.Printf("  | the last branch's notice of it                     | %-10s |\n", since(lastNotice))
	fmt.Printf("  | the slowest branch's vote (accepted)               | %-10s |\n", since(lastVote))
	fmt.Printf("  | the last branch result in the council              | %-10s |\n", since(lastResult))
	fmt.Printf("  | the council's result                               | %-10s |\n", since(f.resultAt))
	fmt.Println()
	if len(voteToResult) > 0 {
		fmt.Printf("  a branch's vote → its result in the council: p50 %s, max %s (%d branches)\n",
			benchkit.Secs(benchkit.Percentile(voteToResult, 50)), benchkit.Secs(benchkit.Percentile(voteToResult, 100)), len(voteToResult))
	}
	fmt.Printf("  other messages of the branches' bots in the council (set-up and vote): %d\n", f.others)
	if slowest != nil {
		fmt.Printf("  slowest vote: %s (its notice %s after the opening)\n", slowest.name, since(slowest.noticeAt))
	}
	if f.result != nil {
		fmt.Printf("  council's result: %s\n", f.result.Content.AsMessage().Body)
	}
	for _, p := range problems {
		fmt.Println("  PROBLEM:", p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d problems", len(problems))
	}
	fmt.Printf("  every branch reported as it voted: %d carried, %d failed; the council's result matches\n", wantCarried, n-wantCarried)
	return nil
}

// checkResult compares the council's result with the votes cast: its
// status by a majority of branches, the members' votes summed, and each
// branch's status; f.mu is held.
func (f *federation) checkResult(wantCarried int) []string {
	if f.result == nil {
		return nil
	}
	n := len(f.branches)
	want := map[bool]string{true: "carried", false: "failed"}
	qm, _ := f.result.Content.Raw["quorum.motion"].(map[string]any)
	var problems []string
	if qm["status"] != want[2*wantCarried > n] || qm["yes"] != float64(wantCarried) || qm["no"] != float64(n-wantCarried) {
		problems = append(problems, fmt.Sprintf("council's result %v: %v yes, %v no; want %s: %d yes, %d no",
			qm["status"], qm["yes"], qm["no"], want[2*wantCarried > n], wantCarried, n-wantCarried))
	}
	listed, _ := qm["branches"].([]any)
	if len(listed) != n {
		problems = append(problems, fmt.Sprintf("the council's result lists %d branches, want %d", len(listed), n))
	}
	for _, item := range listed {
		b, _ := item.(map[string]any)
		i := slices.IndexFunc(f.branches, func(br *branch) bool { return string(br.room) == b["room"] })
		if i < 0 {
			problems = append(problems, fmt.Sprintf("the council's result lists an unknown branch %v", b["room"]))
		} else if b["status"] != want[!f.branches[i].no] {
			problems = append(problems, fmt.Sprintf("%s: %v in the council's result, want %s", f.branches[i].name, b["status"], want[!f.branches[i].no]))
		}
	}
	return problems
}

// peakRSS is this program's peak resident set size.
func peakRSS() string {
	peak, err := benchkit.ProcStatus(os.Getpid(), "VmHWM")
	if err != nil {
		return err.Error()
	}
	return peak
}

// later is the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// close stops the branches' bots and members and the moderator.
func (f *federation) close() {
	for _, br := range f.branches {
		if br == nil {
			continue
		}
		if br.member != nil {
			_ = br.member.Close()
		}
		_ = br.bot.Stop()
	}
	if f.mod != nil {
		_ = f.mod.Close()
	}
}
