// Command ballots measures a secret ballot's distribution: N member devices
// (real E2EE devices from package member, each syncing) in one encrypted
// room with the bot; the proposer opens `!motion --secret`, the bot sends
// every member their ballot in an encrypted direct room of its own making,
// and each member answers there with the one-letter vote (`!vote CODE
// y|n|a`, in turn) and waits for its receipt. It reports how long after the
// motion the ballots arrived (every member's, and the spread), how long
// after the votes the receipts arrived, and the result; it fails unless
// every member got exactly one ballot and one receipt, the result counts
// all N as cast, and the receipts it lists (past a few hundred, in the
// messages after it) give each member's code with the vote they cast. With
// -restart-at K the bot is stopped and started again once K members have
// their ballot: nobody may get a second one.
//
//	CGO_ENABLED=0 go run -tags goolm ./bench/ballots -n 100
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/bench/internal/benchkit"
	"quorum/bot"
)

func main() {
	n := flag.Int("n", 100, "member devices, the proposer included; all of them vote")
	workers := flag.Int("workers", 8, "member devices registered, joined or voting at once")
	dir := flag.String("dir", "", "work folder (default: a new temporary folder, removed afterwards)")
	restartAt := flag.Int("restart-at", 0, "stop and restart the bot once this many members have their ballot (0: never)")
	ballotWait = flag.Duration("ballot-wait", 30*time.Minute, "how long to wait for every ballot; then what each member without one was given is listed, as with -receipt-wait")
	receiptWait = flag.Duration("receipt-wait", 30*time.Minute, "how long to wait for every receipt; then the direct room of each member without one is read back and decrypted with their keys, and what their device gave up undecrypted is listed")
	again := flag.Bool("again", false, "then open a second secret motion and time its ballots, sent into the direct rooms made for the first")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the distribution and the vote (bot and members; the bot's samples carry the label side=bot) to this file")
	flag.Parse()
	if *n < 2 || *restartAt < 0 || *restartAt >= *n {
		fmt.Fprintln(os.Stderr, "ballots: -n must be at least 2, -restart-at below -n")
		os.Exit(2)
	}
	if err := run(*n, *workers, *restartAt, *dir, *cpuProfile, *again); err != nil {
		fmt.Fprintln(os.Stderr, "ballots: FAIL:", err)
		os.Exit(1)
	}
}

var receiptWait, ballotWait *time.Duration

// voter is what one member's device received from the bot.
type voter struct {
	ballots   map[id.EventID]bool // ballot notices (not edits)
	ballotAt  time.Time
	code      string
	dm        id.RoomID
	receipts  map[id.EventID]bool
	voteAt    time.Time
	receipt   time.Time
	receiptOf string              // the receipt's code
	keyWait   time.Duration       // the receipt's arrival, encrypted → decrypted (its room key late)
	again     map[id.EventID]bool // ballots of the second motion (-again)
	againAt   time.Time
	againDM   id.RoomID
	redeliver int  // events the device was given again (a sync repeated)
	sentAgain bool // the bot sent the ballot again: the device had asked for a key it no longer holds
}

// tracker records, per member, the bot's ballots and receipts as they
// arrive.
type tracker struct {
	mu        sync.Mutex
	voters    []voter
	room      id.RoomID // the assembly's room
	result    *event.Event
	resultAt  time.Time
	listed    map[string]string // receipt code → vote, as the result and the messages after it list them
	listedAt  time.Time         // when listed came to hold a code for every member
	parts     []string          // each message of receipts after the result as ana's device had it: its part, when, its key's wait
	ballots   atomic.Int32      // members with a ballot
	again     atomic.Int32      // members with a ballot of the second motion (-again)
	receipts  atomic.Int32      // members with a receipt
	sentAgain atomic.Int32      // members sent their ballot again (their device asked for a key the bot no longer holds)
}

func (t *tracker) watch(i int, m *benchkit.Member, botID id.UserID) {
	m.OnMessage = func(evt *event.Event) {
		if evt.Sender != botID {
			return
		}
		c := evt.Content.AsMessage()
		if c.RelatesTo.GetReplaceID() != "" {
			return
		}
		now := time.Now()
		t.mu.Lock()
		defer t.mu.Unlock()
		v := &t.voters[i]
		switch {
		case evt.RoomID == t.room:
			if i != 0 {
				break
			}
			if t.result == nil && strings.HasPrefix(c.Body, "Motion #1:") {
				t.result, t.resultAt = evt, now
				t.list(evt.Content.Raw["quorum.motion"])
			} else if part, ok := evt.Content.Raw["quorum.receipts"]; ok {
				t.list(part)
				f, _ := part.(map[string]any)
				keyWait := time.Duration(0)
				if at := m.EncryptedAt(evt.ID); !at.IsZero() {
					keyWait = now.Sub(at)
				}
				t.parts = append(t.parts, fmt.Sprintf("%v of %v %s after the result (key %s)", f["part"], f["parts"], benchkit.Secs(now.Sub(t.resultAt)), benchkit.Secs(keyWait)))
			}
		case strings.Contains(c.Body, "Secret ballot: motion #1"):
			if first := len(v.ballots) == 0; !v.note(&v.ballots, evt.ID) && first {
				v.ballotAt, v.dm = now, evt.RoomID
				v.code, _ = evt.Content.Raw["quorum.ballot"].(map[string]any)["code"].(string)
				t.ballots.Add(1)
			}
		case strings.Contains(c.Body, "Secret ballot: motion #2"):
			if first := len(v.again) == 0; !v.note(&v.again, evt.ID) && first {
				v.againAt, v.againDM = now, evt.RoomID
				t.again.Add(1)
			}
		case strings.Contains(c.Body, "asked me for the key of earlier messages"):
			if !v.sentAgain {
				v.sentAgain = true
				t.sentAgain.Add(1)
			}
		case strings.Contains(c.Body, "receipt code is"):
			if first := len(v.receipts) == 0; !v.note(&v.receipts, evt.ID) && first {
				v.receipt = now
				v.receiptOf, _ = evt.Content.Raw["quorum.receipt"].(map[string]any)["code"].(string)
				if at := m.EncryptedAt(evt.ID); !at.IsZero() {
					v.keyWait = now.Sub(at)
				}
				t.receipts.Add(1)
			}
		}
	}
}

// list notes the receipts a result, or a message of receipts after it,
// lists in its field.
func (t *tracker) list(field any) {
	f, _ := field.(map[string]any)
	receipts, _ := f["receipts"].(map[string]any)
	if t.listed == nil {
		t.listed = map[string]string{}
	}
	for code, vote := range receipts {
		t.listed[code], _ = vote.(string)
	}
	if len(t.listed) >= len(t.voters) && t.listedAt.IsZero() {
		t.listedAt = time.Now()
	}
}

// await polls done (under t.mu) until it holds or 15 minutes passed since
// from, and reports whether it held; diagnose runs once, after 2 minutes.
func (t *tracker) await(from time.Time, done func() bool, diagnose func()) bool {
	for diagnosed := false; time.Since(from) < 15*time.Minute; time.Sleep(20 * time.Millisecond) {
		t.mu.Lock()
		ok := done()
		t.mu.Unlock()
		if ok {
			return true
		}
		if time.Since(from) > 2*time.Minute && !diagnosed {
			diagnosed = true
			diagnose()
		}
	}
	return false
}

// note adds evt to set and reports whether it was there already (the same
// event given again by a repeated sync, counted apart: it is the device's
// sync, not the bot, that repeated it).
func (v *voter) note(set *map[id.EventID]bool, evt id.EventID) (again bool) {
	if *set == nil {
		*set = map[id.EventID]bool{}
	}
	if (*set)[evt] {
		v.redeliver++
		return true
	}
	(*set)[evt] = true
	return false
}

// waitFor waits until count reaches n, printing progress.
func waitFor(what string, count *atomic.Int32, n int, timeout time.Duration) error {
	start, last := time.Now(), time.Now()
	for int(count.Load()) < n {
		if time.Since(start) > timeout {
			return fmt.Errorf("%d of %d %s within %s", count.Load(), n, what, timeout)
		}
		if time.Since(last) > 10*time.Second {
			fmt.Fprintf(os.Stderr, "ballots: %d/%d %s (%s)\n", count.Load(), n, what, time.Since(start).Round(time.Second))
			last = time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func run(n, workers, restartAt int, dir, cpuProfile string, again bool) error {
	ctx := context.Background()
	requests := benchkit.TimeBotRequests()
	bench, closeBench, err := benchkit.NewBench(ctx, "quorum-ballots-", dir)
	if err != nil {
		return err
	}
	defer closeBench()
	s, b, botID := bench.Server, bench.Bot, bench.BotID
	if err := b.Start(ctx); err != nil {
		return err
	}
	setupStart := time.Now()
	ms, err := benchkit.NewMembers(ctx, s, bench.Dir, "ballots", n, workers)
	if err != nil {
		return err
	}
	defer benchkit.CloseMembers(ms)

	ana := ms[0]
	room, err := ana.CreateRoom(ctx, botID)
	if err != nil {
		return err
	}
	if err := benchkit.JoinAll(ctx, ana, room, ms[1:], workers, "ballots"); err != nil {
		return err
	}
	// ana has spoken in the room before: her olm sessions with every
	// member exist. Made here 100 members at a time: one claim of 1,000
	// devices' one-time keys, made while the 1,000 started their syncs,
	// took Dendrite longer than mautrix's 180 s.
	if err := openOlmSessions(ctx, ana, room, ms[1:], 100); err != nil {
		return err
	}
	t := &tracker{voters: make([]voter, n), room: room}
	var synced atomic.Int32
	for i, m := range ms {
		var once sync.Once
		m.Syncer.OnSync(func(context.Context, *mautrix.RespSync, string) bool {
			once.Do(func() { synced.Add(1) })
			return true
		})
		// Each reads only the bot's events and its own, and the members
		// it shares rooms with only as far as they speak; but ana, who
		// writes in the room, knows its members as a client does before it
		// sends there (it gives them the message's key): a 1,000-member
		// room's lazy-loaded state left the bot out of hers.
		if i > 0 {
			m.Syncer.FilterJSON.Room.Timeline.Senders = []id.UserID{botID, m.UserID}
			m.Syncer.FilterJSON.Room.State = &mautrix.FilterPart{LazyLoadMembers: true}
		}
		t.watch(i, m, botID)
		m.Start()
	}
	if err := ana.WaitJoined(ctx, room, 15*time.Minute, botID); err != nil {
		return err
	}
	time.Sleep(3 * time.Second) // the bot sees every join
	// The members' clients are online and idle when the motion comes: their
	// first syncs are done.
	if err := waitFor("first syncs", &synced, n, 45*time.Minute); err != nil {
		return err
	}
	setup := time.Since(setupStart)
	fmt.Fprintf(os.Stderr, "ballots: %d members in the room after %s\n", n, setup.Round(time.Second))

	stopProfile, err := benchkit.CPUProfile(cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	requests.Reset()
	motionAt := time.Now()
	if _, err := ana.Say(ctx, room, "!motion --secret --closes 2h A secret ballot of the whole assembly"); err != nil {
		return err
	}
	var restarted chan error
	if restartAt > 0 {
		restarted = make(chan error, 1)
		go func() {
			for int(t.ballots.Load()) < restartAt {
				time.Sleep(5 * time.Millisecond)
			}
			if err := b.Stop(); err != nil {
				restarted <- fmt.Errorf("stop the bot: %w", err)
				return
			}
			fmt.Fprintf(os.Stderr, "ballots: bot stopped after %d ballots\n", t.ballots.Load())
			restarted <- b.Start(ctx)
		}()
	}
	if err := waitFor("ballots", &t.ballots, n, *ballotWait); err != nil {
		diagnoseBallots(ctx, t, ms, motionAt)
		return err
	}
	allBallots := time.Since(motionAt)
	var waited strings.Builder
	requests.Print(&waited, 6)
	fmt.Fprintf(os.Stderr, "ballots: the bot's requests during the distribution:\n%s", waited.String())
	if restarted != nil {
		if err := <-restarted; err != nil {
			return err
		}
	}

	// Every member votes in their direct room, workers at a time.
	choices := []string{"y", "n", "a"}
	voteStart := time.Now()
	if err := benchkit.Pool(n, workers, func(i int) error {
		t.mu.Lock()
		v := t.voters[i]
		t.mu.Unlock()
		if v.code == "" {
			return fmt.Errorf("%s: the ballot has no code", ms[i].UserID)
		}
		at := time.Now()
		if _, err := ms[i].Say(ctx, v.dm, fmt.Sprintf("!vote %s %s", v.code, choices[i%len(choices)])); err != nil {
			return fmt.Errorf("%s: vote: %w", ms[i].UserID, err)
		}
		t.mu.Lock()
		t.voters[i].voteAt = at
		t.mu.Unlock()
		return nil
	}); err != nil {
		return err
	}
	votesSent := time.Since(voteStart)
	var problems []string
	if err := waitFor("receipts", &t.receipts, n, *receiptWait); err != nil {
		diagnose(ctx, t, ms, botID)
		return err
	}
	allReceipts := time.Since(voteStart)
	lastReceipt := time.Now()
	// The result, and past a few hundred voters the messages of receipts
	// after it, are waited for 15 minutes, so that a late one is measured,
	// not only missed; after 2 minutes, what ana's device holds is printed.
	if !t.await(lastReceipt, func() bool { return t.result != nil }, func() {
		fmt.Fprintf(os.Stderr, "diagnose %s: no result 2 minutes after the last receipt; the room as her device reads it:\n", ana.UserID)
		printGivenUp(ana, voteStart, "the first vote")
		readBack(ctx, ana, room)
	}) {
		return errors.New("no result within 15 minutes of the last receipt")
	}
	if late := t.resultAt.Sub(lastReceipt); late > 2*time.Minute {
		problems = append(problems, fmt.Sprintf("the result came %s after the last receipt", late.Round(time.Second)))
	}
	t.await(t.resultAt, func() bool { return !t.listedAt.IsZero() }, func() {
		t.mu.Lock()
		parts := strings.Join(t.parts, "; ")
		t.mu.Unlock()
		fmt.Fprintf(os.Stderr, "diagnose %s: not every receipt listed 2 minutes after the result; the messages of receipts so far: %s; the room as her device reads it:\n", ana.UserID, parts)
		printGivenUp(ana, t.resultAt, "the result")
		readBack(ctx, ana, room)
	})
	stopProfile()
	time.Sleep(3 * time.Second) // a second ballot or receipt would have come by now
	var allAgain time.Duration
	var waitedAgain strings.Builder
	againAt := time.Now()
	if again {
		requests.Reset()
		if _, err := ana.Say(ctx, room, "!motion --secret --closes 2h A second secret ballot"); err != nil {
			return err
		}
		if err := waitFor("second ballots", &t.again, n, 30*time.Minute); err != nil {
			return err
		}
		allAgain = time.Since(againAt)
		requests.Print(&waitedAgain, 6)
		time.Sleep(3 * time.Second)
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	var toBallot, toReceipt, toAgain []time.Duration
	redelivered, unlisted := 0, 0
	votes := map[string]string{"y": "yes", "n": "no", "a": "abstain"}
	for i, v := range t.voters {
		if t.listed[v.receiptOf] != votes[choices[i%len(choices)]] {
			unlisted++
		}
		if ballots := len(v.ballots); (ballots != 1 && !(v.sentAgain && ballots == 2)) || len(v.receipts) != 1 {
			problems = append(problems, fmt.Sprintf("%s got %d ballots and %d receipts", ms[i].UserID, len(v.ballots), len(v.receipts)))
		}
		redelivered += v.redeliver
		toBallot = append(toBallot, v.ballotAt.Sub(motionAt))
		toReceipt = append(toReceipt, v.receipt.Sub(v.voteAt))
		if again && (len(v.again) != 1 || v.againDM != v.dm) {
			problems = append(problems, fmt.Sprintf("%s got %d second ballots, in its first direct room: %t", ms[i].UserID, len(v.again), v.againDM == v.dm))
		}
		if again {
			toAgain = append(toAgain, v.againAt.Sub(againAt))
		}
	}
	if unlisted > 0 || len(t.listed) != n {
		problems = append(problems, fmt.Sprintf("the receipts listed after the close hold %d codes; %d members' codes are missing or with another vote", len(t.listed), unlisted))
	}
	got, err := benchkit.TallyOf(t.result)
	if err != nil {
		return err
	}
	want := benchkit.Tally{Yes: (n + 2) / 3, No: (n + 1) / 3, Abstain: n / 3, Status: got.Status, ClosesAt: got.ClosesAt}
	if got != want {
		problems = append(problems, fmt.Sprintf("result %s, want %s", got, want))
	}

	restart := ""
	if restartAt > 0 {
		restart = fmt.Sprintf("; the bot stopped and restarted after %d ballots", restartAt)
	}
	fmt.Printf("Secret ballot (%s, %d CPUs): %d E2EE member devices, one motion --secret%s\n", benchkit.Machine(), runtime.NumCPU(), n, restart)
	fmt.Printf("  set-up: %d devices registered, logged in, joined and syncing in %s (%d at a time)\n", n, setup.Round(time.Second), workers)
	fmt.Println()
	pct := func(ds []time.Duration) string {
		return fmt.Sprintf("p50 %s · p90 %s · max %s", benchkit.Secs(benchkit.Percentile(ds, 50)), benchkit.Secs(benchkit.Percentile(ds, 90)), benchkit.Secs(benchkit.Percentile(ds, 100)))
	}
	fmt.Printf("  motion → every member has their ballot: %s (%.1f ballots/s)\n", benchkit.Secs(allBallots), float64(n)/allBallots.Seconds())
	fmt.Printf("    per member, motion → ballot: %s\n", pct(toBallot))
	fmt.Printf("    the bot's requests meanwhile, by time waited (the long poll of /sync left out):\n%s", waited.String())
	fmt.Printf("  votes sent (%d at a time): %s; first vote → every receipt: %s\n", workers, benchkit.Secs(votesSent), benchkit.Secs(allReceipts))
	fmt.Printf("    per member, vote → receipt: %s\n", pct(toReceipt))
	listed := fmt.Sprintf("not within 15 minutes of the result (%d of %d codes)", len(t.listed), n)
	if !t.listedAt.IsZero() {
		listed = benchkit.Secs(t.listedAt.Sub(lastReceipt))
	}
	fmt.Printf("  first vote → result in the room: %s; last receipt → result: %s, → every receipt listed with its vote: %s\n", benchkit.Secs(t.resultAt.Sub(voteStart)), benchkit.Secs(t.resultAt.Sub(lastReceipt)), listed)
	if again {
		fmt.Printf("  second motion → every member has its ballot, in the direct room made for the first: %s (%.1f ballots/s)\n", benchkit.Secs(allAgain), float64(n)/allAgain.Seconds())
		fmt.Printf("    per member: %s\n    the bot's requests meanwhile:\n%s", pct(toAgain), waitedAgain.String())
	}
	fmt.Printf("  result: %s\n", got)
	if len(t.parts) > 0 {
		fmt.Printf("    the receipts after it, at ana's device: %s\n", strings.Join(t.parts, "; "))
	}
	var keyWaits []time.Duration
	late, givenUp := 0, 0
	for i, v := range t.voters {
		keyWaits = append(keyWaits, v.keyWait)
		if v.keyWait > time.Second {
			late++
		}
		givenUp += len(ms[i].GivenUp())
	}
	fmt.Printf("    receipt's room key late (encrypted event → decrypted): %s; over 1 s: %d; events given up undecrypted by the members: %d\n", pct(keyWaits), late, givenUp)
	if redelivered > 0 {
		fmt.Printf("  (the members' devices were given %d of these events a second time by their sync; not counted twice)\n", redelivered)
	}
	if n := t.sentAgain.Load(); n > 0 {
		fmt.Printf("  members whose device asked for a key the bot no longer holds, sent their ballot again: %d\n", n)
	}
	return benchkit.Verdict(problems, fmt.Sprintf("every member got one ballot (two if their device asked for its key again) and one receipt; the result counts all %d as cast and lists each member's receipt code with their vote", n))
}

// snapshot copies what the members' devices received so far.
func (t *tracker) snapshot() []voter {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]voter(nil), t.voters...)
}

// printGivenUp lists the events m's device gave up undecrypted, each with
// when it came after since (the time of what), and why.
func printGivenUp(m *benchkit.Member, since time.Time, what string) {
	for e, err := range m.GivenUp() {
		fmt.Fprintf(os.Stderr, "  given up undecrypted: %s (came %s after %s): %v\n", e, m.EncryptedAt(e).Sub(since).Round(time.Millisecond), what, err)
	}
}

// diagnose reads, for every member without a receipt, their direct room
// (from the ballot on) as their device sees it now, and prints what the bot
// sent there and whether it decrypts.
func diagnose(ctx context.Context, t *tracker, ms []*benchkit.Member, botID id.UserID) {
	voters := t.snapshot()
	for i, v := range voters {
		if len(v.receipts) > 0 {
			continue
		}
		m := ms[i]
		var ballot id.EventID
		for e := range v.ballots {
			ballot = e
		}
		fmt.Fprintf(os.Stderr, "diagnose %s: no receipt; ballot %s in %s; voted %s ago\n", m.UserID, ballot, v.dm, time.Since(v.voteAt).Round(time.Second))
		printGivenUp(m, v.voteAt, "the vote")
		if joined, err := m.JoinedRooms(ctx); err == nil {
			fmt.Fprintf(os.Stderr, "  joined rooms: %d\n", len(joined.JoinedRooms))
		}
		readBack(ctx, m, v.dm)
	}
}

// diagnoseBallots lists, for each member without a ballot, what their
// device gave up undecrypted and what the rooms it is in (other than the
// assembly) hold, decrypted with its keys now.
func diagnoseBallots(ctx context.Context, t *tracker, ms []*benchkit.Member, motionAt time.Time) {
	voters := t.snapshot()
	for i, v := range voters {
		if len(v.ballots) > 0 {
			continue
		}
		m := ms[i]
		fmt.Fprintf(os.Stderr, "diagnose %s: no ballot\n", m.UserID)
		printGivenUp(m, motionAt, "the motion")
		joined, err := m.JoinedRooms(ctx)
		if err != nil {
			continue
		}
		for _, room := range joined.JoinedRooms {
			if room != t.room {
				fmt.Fprintf(os.Stderr, "  room %s:\n", room)
				readBack(ctx, m, room)
			}
		}
	}
}

// readBack prints the last events of room as m's device reads them now.
func readBack(ctx context.Context, m *benchkit.Member, room id.RoomID) {
	token, _ := m.Store.LoadNextBatch(ctx, m.UserID)
	resp, err := m.Messages(ctx, room, token, "", mautrix.DirectionBackward, nil, 50)
	if err != nil {
		fmt.Fprintf(os.Stderr, "  read: %v\n", err)
		return
	}
	for j := len(resp.Chunk) - 1; j >= 0; j-- {
		evt := resp.Chunk[j]
		bot.ParseFetched(room, evt)
		line := fmt.Sprintf("  %s %s %s", evt.ID, evt.Sender, evt.Type.Type)
		if evt.Type == event.EventEncrypted {
			enc := evt.Content.AsEncrypted()
			line += fmt.Sprintf(" session %s", enc.SessionID)
			if dec, err := m.Crypto.Decrypt(ctx, evt); err != nil {
				line += fmt.Sprintf(" UNDECRYPTABLE: %v", err)
			} else {
				body := dec.Content.AsMessage().Body
				line += fmt.Sprintf(" → %.60q", body)
			}
		} else if evt.Type == event.StateMember {
			line += fmt.Sprintf(" %s %s", evt.GetStateKey(), evt.Content.AsMember().Membership)
		}
		fmt.Fprintln(os.Stderr, line)
	}
}

// openOlmSessions has from open an olm session with every device of ms,
// chunk members at a time: it shares a megolm session of room with each
// chunk and then forgets it (the olm sessions stay).
func openOlmSessions(ctx context.Context, from *benchkit.Member, room id.RoomID, ms []*benchkit.Member, chunk int) error {
	mach := from.Crypto.Machine()
	for i := 0; i < len(ms); i += chunk {
		var users []id.UserID
		for _, m := range ms[i:min(i+chunk, len(ms))] {
			users = append(users, m.UserID)
		}
		if err := mach.ShareGroupSession(ctx, room, users); err != nil {
			return fmt.Errorf("open olm sessions with members %d–%d: %w", i+1, i+len(users), err)
		}
		if err := mach.CryptoStore.RemoveOutboundGroupSession(ctx, room); err != nil {
			return err
		}
	}
	return nil
}
