// Command rooms measures one bot serving many rooms: the bot in R
// encrypted rooms (default 100) with M distinct members (default 1,000,
// spread evenly). The members are lightweight (registered and joined by API,
// with no device keys); one E2EE member, ana, is in every room and sends the
// commands (past 50 rooms, more E2EE members set the reminders: a member
// keeps at most 50). It reports the restart time to ready in R rooms; the lateness of
// a motion deadline in every room and of a reminder for every room (due at
// once, -due after they were set), split at the homeserver's timestamp of the
// bot's message into the bot's part ("sent") and the delivery to ana's device
// ("delivered"); and the catch-up after downtime: with the
// bot stopped ana sends a command in every room, and the time from the
// restart to ready and to the last answer is printed. It fails unless every
// deadline and reminder was processed and every command answered exactly
// once.
//
//	CGO_ENABLED=0 go run -tags goolm ./bench/rooms -rooms 100 -members 1000
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
	dir := flag.String("dir", "", "work folder (default: a new temporary folder, removed afterwards)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the minute before the deadlines and reminders and their processing (bot and ana; the bot's samples carry the label side=bot) to this file")
	flag.Parse()
	if *rooms < 1 || *members < 0 || *due < time.Minute || *due%time.Minute != 0 {
		fmt.Fprintln(os.Stderr, "rooms: -rooms must be at least 1, -due whole minutes")
		os.Exit(2)
	}
	if err := run(*rooms, *members, *workers, *due, *dir, *cpuProfile); err != nil {
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

func run(nRooms, nMembers, workers int, due time.Duration, dir, cpuProfile string) error {
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
	dueIn := fmt.Sprintf("%dm", int(due.Minutes())) // the commands take whole minutes
	setAt := make([]time.Time, nRooms)
	if err := benchkit.Pool(nRooms, workers, func(r int) error {
		setAt[r] = time.Now()
		if _, err := ana.Say(ctx, rooms[r], fmt.Sprintf("!motion --closes %s rooms-bench motion %d", dueIn, r)); err != nil {
			return err
		}
		_, err := reminding[r%len(reminding)].Say(ctx, rooms[r], fmt.Sprintf("!remind me in %s : rooms-bench reminder %d", dueIn, r))
		return err
	}); err != nil {
		return err
	}
	stopProfile, err := benchkit.CPUProfile(cpuProfile)
	if err != nil {
		return err
	}
	dueLate, err := waitDue(&mu, &fromBot, rooms, setAt, due)
	stopProfile()
	if err != nil {
		return err
	}

	// Catch-up: a command in every room while the bot is down.
	if err := b.Stop(); err != nil {
		return err
	}
	asked := make([]id.EventID, nRooms)
	if err := benchkit.Pool(nRooms, workers, func(r int) error {
		var err error
		asked[r], err = ana.Say(ctx, rooms[r], "!motion 1")
		return err
	}); err != nil {
		return err
	}
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
	time.Sleep(5 * time.Second) // a second answer would have come by now
	answers := benchkit.RepliesIn(ana.Events(), botID)
	var problems []string
	for r, evt := range asked {
		if answers[evt] != 1 {
			problems = append(problems, fmt.Sprintf("room %d: %d answers to the command sent while the bot was down", r, answers[evt]))
		}
	}

	fmt.Printf("Many rooms (%s, %d CPUs): the bot in %d encrypted rooms with %d lightweight members and ana (E2EE) in each\n",
		benchkit.Machine(), runtime.NumCPU(), nRooms, nMembers)
	fmt.Printf("  set-up: %d members registered and logged in, %d rooms made and joined in %s (%d at a time)\n", nMembers, nRooms, setup.Round(time.Second), workers)
	fmt.Printf("  restart → ready in %d rooms: %s\n", nRooms, benchkit.Secs(ready))
	for _, what := range []string{"motion deadline", "motion deadline, sent", "motion deadline, delivered", "reminder", "reminder, sent", "reminder, delivered"} {
		ds := dueLate[what]
		fmt.Printf("  %s (after due), %d: p50 %s · p90 %s · max %s\n", what, len(ds),
			benchkit.Secs(benchkit.Percentile(ds, 50)), benchkit.Secs(benchkit.Percentile(ds, 90)), benchkit.Secs(benchkit.Percentile(ds, 100)))
	}
	fmt.Printf("  catch-up, %d commands sent while down: restart → ready %s, → last answer %s\n", nRooms, benchkit.Secs(catchReady), benchkit.Secs(last))
	return benchkit.Verdict(problems, "every deadline and reminder processed; every command answered exactly once")
}

// waitDue waits for every room's motion result and reminder and returns,
// for each kind, how long after it was due each arrived. A motion is due at
// the closes_at its notice gave; a reminder due seconds after it was set
// (setAt, read on ana's side a little before the homeserver's timestamp).
func waitDue(mu *sync.Mutex, fromBot *[]arrival, rooms []id.RoomID, setAt []time.Time, due time.Duration) (map[string][]time.Duration, error) {
	index := map[id.RoomID]int{}
	for r, room := range rooms {
		index[room] = r
	}
	deadline := time.Now().Add(due + 5*time.Minute)
	for {
		closes := map[int]time.Time{}
		notices := map[id.EventID]int{}
		results := map[int]arrival{}
		reminded := map[int]arrival{}
		mu.Lock()
		for _, a := range *fromBot {
			c := a.evt.Content.AsMessage()
			if c.RelatesTo.GetReplaceID() != "" {
				continue
			}
			r, inRoom := index[a.evt.RoomID]
			switch {
			case inRoom && strings.Contains(c.Body, "rooms-bench motion"):
				if t, err := benchkit.TallyOf(a.evt); err == nil && !t.ClosesAt.IsZero() {
					closes[r], notices[a.evt.ID] = t.ClosesAt, r
				}
			case !inRoom && strings.Contains(c.Body, "rooms-bench reminder "):
				var k int
				if _, err := fmt.Sscanf(c.Body[strings.Index(c.Body, "rooms-bench reminder "):], "rooms-bench reminder %d", &k); err == nil {
					reminded[k] = a
				}
			}
		}
		for _, a := range *fromBot {
			c := a.evt.Content.AsMessage()
			if r, ok := notices[c.RelatesTo.GetNonFallbackReplyTo()]; ok && strings.HasPrefix(c.Body, "Motion #1:") {
				results[r] = a
			}
		}
		mu.Unlock()
		if len(results) == len(rooms) && len(reminded) == len(rooms) && len(closes) == len(rooms) {
			out := map[string][]time.Duration{}
			// Each lateness is split at the homeserver's timestamp of the
			// bot's message: before it, the bot's own work and its send;
			// after it, the delivery to ana's device.
			late := func(what string, a arrival, due time.Time) {
				sent := time.UnixMilli(a.evt.Timestamp)
				out[what] = append(out[what], a.at.Sub(due))
				out[what+", sent"] = append(out[what+", sent"], sent.Sub(due))
				out[what+", delivered"] = append(out[what+", delivered"], a.at.Sub(sent))
			}
			for r := range rooms {
				late("motion deadline", results[r], closes[r])
				late("reminder", reminded[r], setAt[r].Add(due))
			}
			return out, nil
		}
		if time.Now().After(deadline) {
			last := ""
			if n := len(*fromBot); n > 0 {
				last = (*fromBot)[n-1].evt.Content.AsMessage().Body
			}
			return nil, fmt.Errorf("after the due time: %d of %d motion results, %d reminders (the bot's last message: %.200q)", len(results), len(rooms), len(reminded), last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
