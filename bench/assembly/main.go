// Command assembly measures a big assembly: N member devices (default 200,
// each a real E2EE device from package member) in one encrypted room with
// the bot vote on one motion by reaction within a few seconds (👍 👎 🤷 in
// turn, every second one encrypted). It reports how long until the
// notice's live tally (its edits' quorum.motion) shows all N votes, and
// how long from the last vote to the result, and checks that the result
// and the bot's database count every vote exactly as cast. With -channel
// poll every member answers the motion's poll instead (encrypted poll
// responses); with both, every second member does.
//
// The voters are lightweight: they do not sync (only the proposer, ana,
// does, and she reads only the bot's and her own events), and an
// encrypting voter shares its megolm session with the bot alone, before the
// vote, as a client that has talked in the room before already would have.
// What is measured is the bot's work, not N² key sharing among members.
//
//	CGO_ENABLED=0 go run -tags goolm ./bench/assembly -n 200
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/bench/internal/benchkit"
	"quorum/store"
)

func main() {
	n := flag.Int("n", 200, "member devices, the proposer included; all of them vote")
	window := flag.Duration("window", 9*time.Second, "the votes are spread evenly over this time")
	workers := flag.Int("workers", 8, "member devices registered and logged in at once")
	dir := flag.String("dir", "", "work folder (default: a new temporary folder, removed afterwards)")
	channel := flag.String("channel", "reaction", "how members vote: reaction, poll (the motion's poll), or both (in turn)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the joins and the vote (bot and members; the bot's samples carry the label side=bot) to this file")
	flag.Parse()
	switch *channel {
	case "reaction", "poll", "both":
	default:
		fmt.Fprintln(os.Stderr, "assembly: -channel must be reaction, poll or both")
		os.Exit(2)
	}
	voteBy = *channel
	if *n < 2 {
		fmt.Fprintln(os.Stderr, "assembly: -n must be at least 2")
		os.Exit(2)
	}
	if err := run(*n, *window, *workers, *dir, *cpuProfile); err != nil {
		fmt.Fprintln(os.Stderr, "assembly: FAIL:", err)
		os.Exit(1)
	}
}

var choices = []string{"yes", "no", "abstain"}
var keys = map[string]string{"yes": "👍", "no": "👎", "abstain": "🤷"}

// seen is a bot message as ana's device received it.
type seen struct {
	at  time.Time
	evt *event.Event
}

// edit is an edit of the motion's notice: when ana saw it (since the
// first vote) and how many it showed as having voted.
type edit struct {
	at    time.Duration
	voted int
}

// voteBy is -channel.
var voteBy string

// byPoll says whether voter i answers the poll rather than reacting.
func byPoll(i int) bool { return voteBy == "poll" || voteBy == "both" && i%2 == 1 }

func run(n int, window time.Duration, workers int, dir, cpuProfile string) error {
	ctx := context.Background()
	bench, closeBench, err := benchkit.NewBench(ctx, "quorum-assembly-", dir)
	if err != nil {
		return err
	}
	defer closeBench()
	s, b, botID, dir := bench.Server, bench.Bot, bench.BotID, bench.Dir
	if err := b.Start(ctx); err != nil {
		return err
	}

	// Register and log in N devices, a few at a time.
	loginStart := time.Now()
	ms, err := benchkit.NewMembers(ctx, s, dir, "assembly", n, workers)
	if err != nil {
		return err
	}
	defer benchkit.CloseMembers(ms)
	loginTime := time.Since(loginStart)

	// ana proposes, watches, and votes like everyone else. She reads only
	// the bot's events and her own, so that N voters do not flood her.
	ana := ms[0]
	ana.Syncer.FilterJSON.Room.Timeline.Senders = []id.UserID{botID, ana.UserID}
	var seenMu sync.Mutex
	var fromBot []seen
	ana.OnMessage = func(evt *event.Event) {
		if evt.Sender == botID {
			seenMu.Lock()
			fromBot = append(fromBot, seen{time.Now(), evt})
			seenMu.Unlock()
		}
	}
	ana.Start()

	stopProfile, err := benchkit.CPUProfile(cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	joinStart := time.Now()
	room, err := ana.CreateRoom(ctx, botID)
	if err != nil {
		return err
	}
	if err := benchkit.JoinAll(ctx, ana, room, ms[1:], workers, "assembly"); err != nil {
		return err
	}
	if err := ana.WaitJoined(ctx, room, 2*time.Minute, botID); err != nil {
		return err
	}
	joinTime := time.Since(joinStart)

	// Voters give the bot their room key now (as a client that has spoken
	// in the room before has already done).
	var retried atomic.Int32
	if err := benchkit.Pool(n, workers, func(i int) error {
		tries, err := shareWithBot(ctx, ms[i], room, botID)
		if err != nil {
			return fmt.Errorf("%s: share the room key with the bot: %w", ms[i].UserID, err)
		}
		if tries > 1 {
			retried.Add(1)
		}
		return nil
	}); err != nil {
		return err
	}
	time.Sleep(3 * time.Second) // let the bot receive the keys before the vote

	if _, err := ana.Say(ctx, room, "!motion --closes 1h A big assembly decides by reaction"); err != nil {
		return err
	}
	notice, err := ana.FindNotice(ctx, room, botID, "Motion #1", time.Minute)
	if err != nil {
		return err
	}
	if f, _ := notice.Content.Raw["quorum.motion"].(map[string]any); f == nil || f["electorate"] != float64(n) {
		return fmt.Errorf("the motion's electorate is not the %d members: %v", n, notice.Content.Raw["quorum.motion"])
	}
	var poll id.EventID
	if voteBy != "reaction" {
		for deadline := time.Now().Add(time.Minute); poll == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			for _, evt := range ana.Events() {
				if evt.Sender == botID && evt.RoomID == room && evt.Type == event.EventUnstablePollStart {
					poll = evt.ID
				}
			}
		}
		if poll == "" {
			return errors.New("the motion opened no poll")
		}
	}

	// The vote: voter i reacts at i·window/N, all at once in flight.
	var want benchkit.Tally
	for i := range n {
		switch choices[i%len(choices)] {
		case "yes":
			want.Yes++
		case "no":
			want.No++
		default:
			want.Abstain++
		}
	}
	voteStart := time.Now()
	// editsOf lists the notice's edits as ana saw them, each with the
	// time since the first vote and how many had voted.
	editsOf := func() []edit {
		seenMu.Lock()
		defer seenMu.Unlock()
		var edits []edit
		for _, s := range fromBot {
			if s.evt.Content.AsMessage().RelatesTo.GetReplaceID() == notice.ID {
				edits = append(edits, edit{s.at.Sub(voteStart), votedIn(s.evt)})
			}
		}
		return edits
	}
	var mu sync.Mutex
	var lastSent time.Time
	var sendErrs []error
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(voteStart.Add(window * time.Duration(i) / time.Duration(n))))
			var err error
			if byPoll(i) {
				_, err = m.Answer(ctx, room, poll, choices[i%len(choices)])
			} else {
				_, err = m.React(ctx, room, notice.ID, keys[choices[i%len(choices)]])
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				sendErrs = append(sendErrs, fmt.Errorf("%s: vote: %w", m.UserID, err))
			} else if now := time.Now(); now.After(lastSent) {
				lastSent = now
			}
		}()
	}
	wg.Wait()
	if len(sendErrs) > 0 {
		return errors.Join(sendErrs...)
	}
	voteSpan := lastSent.Sub(voteStart)

	// Wait for the result (a reply to the notice, not an edit).
	var result seen
	deadline := time.Now().Add(3 * time.Minute)
	for result.evt == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		seenMu.Lock()
		for _, s := range fromBot {
			c := s.evt.Content.AsMessage()
			if c.RelatesTo.GetReplaceID() == "" && c.RelatesTo.GetNonFallbackReplyTo() == notice.ID && strings.HasPrefix(c.Body, "Motion #1:") {
				result = s
				break
			}
		}
		seenMu.Unlock()
	}
	if result.evt == nil {
		// Say how far the bot got: what it stored, and what it last showed.
		lastShown := -1
		if edits := editsOf(); len(edits) > 0 {
			lastShown = edits[len(edits)-1].voted
		}
		_ = b.Stop()
		acts, err := countActs(b.Config.Database)
		return fmt.Errorf("no result within 3 minutes of the vote: %d votes in the bot's database (%v), the last edit of the notice ana saw showed %d voted", acts, err, lastShown)
	}
	got, err := benchkit.TallyOf(result.evt)
	if err != nil {
		return err
	}
	want.Status = got.Status
	time.Sleep(2 * time.Second) // the notice's last edit

	// The live tally: the notice's edits as ana saw them.
	edits := editsOf()
	var allCounted time.Time
	for _, e := range edits {
		if e.voted == n {
			allCounted = voteStart.Add(e.at)
			break
		}
	}

	if err := b.Stop(); err != nil {
		return err
	}
	acts, err := countActs(b.Config.Database)
	if err != nil {
		return err
	}

	var problems []string
	if got.Yes != want.Yes || got.No != want.No || got.Abstain != want.Abstain {
		problems = append(problems, fmt.Sprintf("result %s, want %s", got, want))
	}
	if acts != n {
		problems = append(problems, fmt.Sprintf("%d votes in the bot's database, want %d", acts, n))
	}
	if allCounted.IsZero() {
		problems = append(problems, fmt.Sprintf("no edit of the notice showed all %d votes", n))
	}

	how := map[string]string{"reaction": "encrypted reaction", "poll": "encrypted poll answer", "both": "encrypted reaction or poll answer, in turn"}[voteBy]
	fmt.Printf("Big assembly (%s, %d CPUs): %d E2EE member devices, one motion, every member votes by %s\n",
		benchkit.Machine(), runtime.NumCPU(), n, how)
	fmt.Printf("  set-up: %d devices registered and logged in in %s (%d at a time); room joined by all in %s\n",
		n, loginTime.Round(time.Millisecond), workers, joinTime.Round(time.Millisecond))
	fmt.Printf("  %d devices found no one-time key of the bot's and gave it their room key on a later try\n", retried.Load())
	fmt.Println()
	fmt.Println("  | measure                                      | value      |")
	fmt.Println("  |----------------------------------------------|------------|")
	fmt.Printf("  | votes sent (first send → last accepted)      | %-10s |\n", benchkit.Secs(voteSpan))
	if !allCounted.IsZero() {
		fmt.Printf("  | live tally shows all %3d (from first vote)   | %-10s |\n", n, benchkit.Secs(allCounted.Sub(voteStart)))
		fmt.Printf("  | live tally shows all %3d (from last vote)    | %-10s |\n", n, benchkit.Secs(allCounted.Sub(lastSent)))
	}
	fmt.Printf("  | last vote accepted → result received        | %-10s |\n", benchkit.Secs(result.at.Sub(lastSent)))
	fmt.Printf("  | notice edits seen                            | %-10d |\n", len(edits))
	fmt.Printf("  | result (want)                                | %d/%d/%d (%d/%d/%d) |\n", got.Yes, got.No, got.Abstain, want.Yes, want.No, want.Abstain)
	fmt.Printf("  | votes in the bot's database                  | %-10d |\n", acts)
	fmt.Println()
	var progress []string
	for _, e := range edits {
		progress = append(progress, fmt.Sprintf("%s: %d", benchkit.Secs(e.at), e.voted))
	}
	fmt.Printf("  live tally (time since first vote: votes shown): %s\n", strings.Join(progress, ", "))
	fmt.Printf("  result: %s\n", got)
	return benchkit.Verdict(problems, fmt.Sprintf("every vote counted: result and database match the %d votes cast", n))
}

// countActs counts the votes recorded in the bot's database.
func countActs(path string) (int, error) {
	db, err := sql.Open("sqlite", store.DSN(path))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var count int
	if err := db.QueryRow("SELECT count(*) FROM vote_acts").Scan(&count); err != nil {
		return 0, fmt.Errorf("count votes: %w", err)
	}
	return count, nil
}

// votedIn reads how many had voted from an edit of the motion's notice.
func votedIn(evt *event.Event) int {
	nc, _ := evt.Content.Raw["m.new_content"].(map[string]any)
	f, _ := nc["quorum.motion"].(map[string]any)
	voted, _ := f["voted"].(float64)
	return int(voted)
}

// shareWithBot gives the bot m's room key and returns how many tries it
// took. When many devices set up an olm session with the bot at once, they
// can empty the one-time keys its device keeps on the homeserver (mautrix
// keeps 50 there and uploads more at its next sync; it uploads no fallback
// key, and Dendrite v0.13.8 would not serve one): a device that finds none
// withholds the room key from the bot (m.no_olm), and the bot cannot read
// its vote. Such a device tries again with a new session a moment later,
// as a client retries a failed olm session after a while.
func shareWithBot(ctx context.Context, m *benchkit.Member, room id.RoomID, botID id.UserID) (int, error) {
	mach := m.Crypto.Machine()
	db := mach.CryptoStore.(*crypto.SQLCryptoStore).DB
	for tries := 1; ; tries++ {
		if err := mach.ShareGroupSession(ctx, room, []id.UserID{botID}); err != nil {
			return tries, err
		}
		sess, err := mach.CryptoStore.GetOutboundGroupSession(ctx, room)
		if err != nil || sess == nil {
			return tries, fmt.Errorf("read the session just shared: %v", err)
		}
		var held bool
		if err := db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM crypto_megolm_outbound_session_shared WHERE session_id=$1 AND user_id=$2)", sess.ID(), botID).Scan(&held); err != nil {
			return tries, err
		}
		if held {
			return tries, nil
		}
		if tries == 10 {
			return tries, errors.New("the bot had no one-time key left in 10 tries")
		}
		if err := mach.CryptoStore.RemoveOutboundGroupSession(ctx, room); err != nil {
			return tries, err
		}
		time.Sleep(2 * time.Second)
	}
}
