// Command rooms measures one bot serving many rooms: the bot in R
// encrypted rooms (default 100) with M distinct members (default 1,000,
// spread evenly). The members are lightweight (registered and joined by API,
// with no device keys); one E2EE member, ana, is in every room and sends the
// commands (past 50 rooms, more E2EE members set the reminders: a member
// keeps at most 50). It reports the restart time to ready in R rooms; the lateness of
// a motion deadline in every room and of a reminder for every room (due at
// once, -due after they were set), split at the homeserver's timestamp of the
// bot's message into the bot's part ("sent") and the delivery to ana's device
// ("delivered"); and the catch-up after -down of downtime: a motion closes
// and a reminder falls due in every room meanwhile (about half-way), and ana sends
// a command in every room; the time from the restart to ready, to the last
// answer and to each result and reminder is printed. It fails unless every
// deadline and reminder was processed and every command answered exactly
// once.
//
//	CGO_ENABLED=0 go run -tags goolm ./bench/rooms -rooms 100 -members 1000 -down 1h
package main

import (
	"context"
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
)

func main() {
	rooms := flag.Int("rooms", 100, "encrypted rooms the bot is in")
	members := flag.Int("members", 1000, "distinct lightweight members, spread evenly over the rooms")
	workers := flag.Int("workers", 8, "requests of the set-up made at once")
	due := flag.Duration("due", 3*time.Minute, "the motions close and the reminders are due this long after they are set")
	down := flag.Duration("down", 2*time.Minute, "how long the bot is down for the catch-up; a motion closes and a reminder falls due in every room meanwhile (set before the stop, due after half of it, in whole minutes)")
	dir := flag.String("dir", "", "work folder (default: a new temporary folder, removed afterwards)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the minute before the deadlines and reminders and their processing (bot and ana; the bot's samples carry the label side=bot) to this file")
	flag.Parse()
	if *rooms < 1 || *members < 0 || *due < time.Minute || *due%time.Minute != 0 || *down < 2*time.Minute {
		fmt.Fprintln(os.Stderr, "rooms: -rooms must be at least 1, -due whole minutes, -down at least 2m")
		os.Exit(2)
	}
	if err := run(*rooms, *members, *workers, *due, *down, *dir, *cpuProfile); err != nil {
		fmt.Fprintln(os.Stderr, "rooms: FAIL:", err)
		os.Exit(1)
	}
}

// perMember is how many reminders one member may keep (the reminders
// feature's limit).
const perMember = 50

// arrival is a bot message as ana's device (or a reminding member's)
// received it.
type arrival struct {
	at  time.Time
	evt *event.Event
}

func run(nRooms, nMembers, workers int, due, down time.Duration, dir, cpuProfile string) error {
	ctx := context.Background()
	bench, closeBench, err := benchkit.NewBench(ctx, "quorum-rooms-", dir)
	if err != nil {
		return err
	}
	defer closeBench()
	s, b, botID := bench.Server, bench.Bot, bench.BotID
	b.Config.StandingOrders.VotingTime = "1m" // motions that close within -due
	if err := b.Start(ctx); err != nil {
		return err
	}
	setupStart := time.Now()
	ana, err := benchkit.NewMember(ctx, s, bench.Dir, "ana")
	if err != nil {
		return err
	}
	defer ana.Close()
	var mu sync.Mutex
	var fromBot []arrival
	collect := func(evt *event.Event) {
		if evt.Sender == botID {
			mu.Lock()
			fromBot = append(fromBot, arrival{time.Now(), evt})
			mu.Unlock()
		}
	}
	ana.OnMessage = collect
	ana.Start()
	// A member may keep at most 50 reminders of their own (the reminders
	// feature's limit): past 50 rooms, more E2EE members set them, each in
	// their share of the rooms. reminding[r%len] sets room r's.
	reminding := []*benchkit.Member{ana}
	for i := 1; i < (nRooms+perMember-1)/perMember; i++ {
		m, err := benchkit.NewMember(ctx, s, bench.Dir, fmt.Sprintf("rem%d", i))
		if err != nil {
			return err
		}
		defer m.Close()
		m.OnMessage = collect
		m.Start()
		reminding = append(reminding, m)
	}
	clients, err := benchkit.LightMembers(ctx, s, nMembers, workers, "rooms")
	if err != nil {
		return err
	}

	// The rooms, each with the bot and its share of the members.
	rooms := make([]id.RoomID, nRooms)
	var joined atomic.Int32
	if err := benchkit.Pool(nRooms, workers, func(r int) error {
		room, err := benchkit.SpreadRoom(ctx, ana, botID, r, nRooms, clients)
		if err != nil {
			return err
		}
		rooms[r] = room
		if m := reminding[r%len(reminding)]; m != ana {
			if _, err := ana.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: m.UserID}); err != nil {
				return err
			}
			if _, err := m.JoinRoomByID(ctx, room); err != nil {
				return err
			}
			if err := m.WaitJoined(ctx, room, 5*time.Minute, botID); err != nil {
				return err
			}
		}
		if d := joined.Add(1); d%10 == 0 || int(d) == nRooms {
			fmt.Fprintf(os.Stderr, "rooms: %d/%d rooms made and joined (%s)\n", d, nRooms, time.Since(setupStart).Round(time.Second))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, room := range rooms {
		if err := ana.WaitJoined(ctx, room, 5*time.Minute, botID); err != nil {
			return err
		}
	}
	setup := time.Since(setupStart)

	// Restart in R rooms.
	if err := b.Stop(); err != nil {
		return err
	}
	t0 := time.Now()
	if err := b.Start(ctx); err != nil {
		return err
	}
	ready := time.Since(t0)

	// A motion deadline in every room and a reminder for every room, all
	// due at once.
	fmt.Fprintf(os.Stderr, "rooms: setting %d motions and %d reminders, due in %s\n", nRooms, nRooms, due)
	onTime := round{tag: "rooms-bench", motion: 1}
	setAt, _, err := onTime.set(ctx, ana, reminding, rooms, due, workers)
	if err != nil {
		return err
	}
	stopProfile, err := benchkit.CPUProfile(cpuProfile)
	if err != nil {
		return err
	}
	f, err := onTime.wait(&mu, &fromBot, rooms, time.Now().Add(due+5*time.Minute), found.complete)
	stopProfile()
	if err != nil {
		return err
	}
	dueLate := map[string][]time.Duration{}
	for r := range rooms {
		late(dueLate, "motion deadline", f.results[r], f.closes[r])
		late(dueLate, "reminder", f.reminded[r], setAt[r].Add(due))
	}

	// Catch-up after downtime: a motion closes and a reminder falls due in
	// every room while the bot is down, and a command is sent in every
	// room.
	whileDown := round{tag: "rooms-down", motion: 2}
	downDue := max(time.Minute, (down / 2).Truncate(time.Minute))
	downSet := time.Now()
	_, remindedAt, err := whileDown.set(ctx, ana, reminding, rooms, downDue, workers)
	if err != nil {
		return err
	}
	for r, evt := range remindedAt { // the bot took every reminder
		if _, err := reminding[r%len(reminding)].WaitReply(ctx, evt, 5*time.Minute); err != nil {
			return err
		}
	}
	if _, err := whileDown.wait(&mu, &fromBot, rooms, time.Now().Add(5*time.Minute), func(found) bool { return true }); err != nil {
		return err
	}

	if err := b.Stop(); err != nil {
		return err
	}
	stoppedAt := time.Now()
	if stoppedAt.Sub(downSet) >= downDue {
		return fmt.Errorf("the second round fell due %s after it was set, before the bot was stopped (%s): give a longer -down", downDue, stoppedAt.Sub(downSet).Round(time.Second))
	}
	fmt.Fprintf(os.Stderr, "rooms: the bot is down for %s\n", down)
	asked := make([]id.EventID, nRooms)
	if err := benchkit.Pool(nRooms, workers, func(r int) error {
		var err error
		asked[r], err = ana.Say(ctx, rooms[r], "!motion 1")
		return err
	}); err != nil {
		return err
	}
	time.Sleep(time.Until(stoppedAt.Add(down)))
	t0 = time.Now()
	if err := b.Start(ctx); err != nil {
		return err
	}
	catchReady := time.Since(t0)
	var last time.Duration
	for _, evt := range asked {
		if _, err := ana.WaitReply(ctx, evt, 5*time.Minute); err != nil {
			return err
		}
	}
	mu.Lock()
	for _, a := range fromBot {
		for _, evt := range asked {
			if a.evt.Content.AsMessage().RelatesTo.GetNonFallbackReplyTo() == evt {
				last = max(last, a.at.Sub(t0))
			}
		}
	}
	mu.Unlock()
	f, err = whileDown.wait(&mu, &fromBot, rooms, time.Now().Add(10*time.Minute), found.complete)
	if err != nil {
		return err
	}
	// How long after the restart the motions that closed and the
	// reminders that fell due while the bot was down came.
	afterStart := map[string][]time.Duration{}
	for r := range rooms {
		late(afterStart, "motion deadline", f.results[r], t0)
		late(afterStart, "reminder", f.reminded[r], t0)
	}
	time.Sleep(5 * time.Second) // a second answer would have come by now
	answers := benchkit.RepliesIn(ana.Events(), botID)
	var problems []string
	for r := range rooms {
		if f.results[r].at.Before(t0) || f.reminded[r].at.Before(t0) {
			problems = append(problems, fmt.Sprintf("room %d: the second motion's result or reminder came before the restart", r))
		}
	}
	for r, evt := range asked {
		if answers[evt] != 1 {
			problems = append(problems, fmt.Sprintf("room %d: %d answers to the command sent while the bot was down", r, answers[evt]))
		}
	}

	fmt.Printf("Many rooms (%s, %d CPUs): the bot in %d encrypted rooms with %d lightweight members and ana (E2EE) in each\n",
		benchkit.Machine(), runtime.NumCPU(), nRooms, nMembers)
	fmt.Printf("  set-up: %d members registered and logged in, %d rooms made and joined in %s (%d at a time)\n", nMembers, nRooms, setup.Round(time.Second), workers)
	fmt.Printf("  restart → ready in %d rooms: %s\n", nRooms, benchkit.Secs(ready))
	printLate(dueLate, "after due")
	fmt.Printf("  catch-up after %s down, %d commands sent while down: restart → ready %s, → last answer %s\n", down, nRooms, benchkit.Secs(catchReady), benchkit.Secs(last))
	printLate(afterStart, fmt.Sprintf("due while down, %s after being set; after the restart", downDue))
	return benchkit.Verdict(problems, "every deadline and reminder processed; every command answered exactly once")
}

// printLate prints each kind's lateness: p50, p90, max.
func printLate(lateness map[string][]time.Duration, against string) {
	for _, what := range []string{"motion deadline", "motion deadline, sent", "motion deadline, delivered", "reminder", "reminder, sent", "reminder, delivered"} {
		ds := lateness[what]
		fmt.Printf("  %s (%s), %d: p50 %s · p90 %s · max %s\n", what, against, len(ds),
			benchkit.Secs(benchkit.Percentile(ds, 50)), benchkit.Secs(benchkit.Percentile(ds, 90)), benchkit.Secs(benchkit.Percentile(ds, 100)))
	}
}

// late adds how long after since a arrived to lateness[what], split at the
// homeserver's timestamp of the bot's message: before it, the bot's own
// work and its send ("sent"); after it, the delivery to the device
// ("delivered").
func late(lateness map[string][]time.Duration, what string, a arrival, since time.Time) {
	sent := time.UnixMilli(a.evt.Timestamp)
	lateness[what] = append(lateness[what], a.at.Sub(since))
	lateness[what+", sent"] = append(lateness[what+", sent"], sent.Sub(since))
	lateness[what+", delivered"] = append(lateness[what+", delivered"], a.at.Sub(sent))
}

// round is a motion and a reminder in every room, due together: the
// motions say "<tag> motion R" and are number motion in their rooms, the
// reminders say "<tag> reminder R".
type round struct {
	tag    string
	motion int
}

// set opens the round's motion in every room, closing in due, and has a
// member set its reminder, due then. It returns when each was set and the
// reminders' commands.
func (rd round) set(ctx context.Context, ana *benchkit.Member, reminding []*benchkit.Member, rooms []id.RoomID, due time.Duration, workers int) ([]time.Time, []id.EventID, error) {
	dueIn := fmt.Sprintf("%dm", int(due.Minutes())) // the commands take whole minutes
	setAt, reminders := make([]time.Time, len(rooms)), make([]id.EventID, len(rooms))
	err := benchkit.Pool(len(rooms), workers, func(r int) error {
		setAt[r] = time.Now()
		if _, err := ana.Say(ctx, rooms[r], fmt.Sprintf("!motion --closes %s %s motion %d", dueIn, rd.tag, r)); err != nil {
			return err
		}
		var err error
		reminders[r], err = reminding[r%len(reminding)].Say(ctx, rooms[r], fmt.Sprintf("!remind me in %s : %s reminder %d", dueIn, rd.tag, r))
		return err
	})
	return setAt, reminders, err
}

// found is what the bot's messages show of a round, by room: when each
// motion closes (its notice), its result, the reminder.
type found struct {
	closes   map[int]time.Time
	results  map[int]arrival
	reminded map[int]arrival
}

// complete says whether every motion seen came to its result and every
// reminder came.
func (f found) complete() bool {
	return len(f.results) == len(f.closes) && len(f.reminded) == len(f.closes)
}

// wait looks at the bot's messages until every room's motion notice came
// and done says the round is far enough, or fails at until.
func (rd round) wait(mu *sync.Mutex, fromBot *[]arrival, rooms []id.RoomID, until time.Time, done func(found) bool) (found, error) {
	index := map[id.RoomID]int{}
	for r, room := range rooms {
		index[room] = r
	}
	for {
		mu.Lock()
		f := rd.scan(*fromBot, index)
		last := ""
		if n := len(*fromBot); n > 0 {
			last = (*fromBot)[n-1].evt.Content.AsMessage().Body
		}
		mu.Unlock()
		if len(f.closes) == len(rooms) && done(f) {
			return f, nil
		}
		if time.Now().After(until) {
			return f, fmt.Errorf("%s: %d of %d motion notices, %d results, %d reminders (the bot's last message: %.200q)", rd.tag, len(f.closes), len(rooms), len(f.results), len(f.reminded), last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scan reads the round from the bot's messages.
func (rd round) scan(fromBot []arrival, index map[id.RoomID]int) found {
	f := found{closes: map[int]time.Time{}, results: map[int]arrival{}, reminded: map[int]arrival{}}
	notices := map[id.EventID]int{}
	for _, a := range fromBot {
		c := a.evt.Content.AsMessage()
		if c.RelatesTo.GetReplaceID() != "" {
			continue
		}
		r, inRoom := index[a.evt.RoomID]
		switch {
		case inRoom && strings.Contains(c.Body, rd.tag+" motion"):
			if t, err := benchkit.TallyOf(a.evt); err == nil && !t.ClosesAt.IsZero() {
				f.closes[r], notices[a.evt.ID] = t.ClosesAt, r
			}
		case !inRoom && strings.Contains(c.Body, rd.tag+" reminder "):
			var k int
			if _, err := fmt.Sscanf(c.Body[strings.Index(c.Body, rd.tag+" reminder "):], rd.tag+" reminder %d", &k); err == nil {
				f.reminded[k] = a
			}
		}
	}
	result := fmt.Sprintf("Motion #%d:", rd.motion)
	for _, a := range fromBot {
		c := a.evt.Content.AsMessage()
		if r, ok := notices[c.RelatesTo.GetNonFallbackReplyTo()]; ok && strings.HasPrefix(c.Body, result) {
			f.results[r] = a
		}
	}
	return f
}
