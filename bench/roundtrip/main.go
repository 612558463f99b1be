// Command roundtrip measures Quorum's command round trip: an encrypted
// `!help` from a real E2EE member device to the decrypted reply, beside the
// floor measured in the same run on the same homeserver: the same member
// talking to a bare echo device (a second mautrix device that answers every
// text message with an encrypted notice). The two are measured alternately,
// so that drift in the machine's load affects both alike.
//
//	CGO_ENABLED=0 go run -tags goolm ./bench/roundtrip -n 200
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/bench/internal/benchkit"
	"quorum/bot"
	"quorum/config"
)

func main() {
	n := flag.Int("n", 200, "commands measured against each of the bot and the echo device")
	warm := flag.Int("warmup", 5, "unmeasured round trips first (key sharing, caches)")
	dir := flag.String("dir", "", "work folder (default: a new temporary folder, removed afterwards)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measured part (bot, members) to this file")
	flag.Parse()
	if err := run(*n, *warm, *dir, *cpuProfile); errors.Is(err, errGoalMissed) {
		os.Exit(3)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "roundtrip:", err)
		os.Exit(1)
	}
}

// errGoalMissed: the measurement ran but Quorum's p50 is more than 1.1×
// the floor's (exit status 3).
var errGoalMissed = errors.New("goal missed")

func run(n, warm int, dir, cpuProfile string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bench, closeBench, err := benchkit.NewBench(ctx, "quorum-roundtrip-", dir)
	if err != nil {
		return err
	}
	defer closeBench()
	s, dir, cfgPath := bench.Server, bench.Dir, bench.Config
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.WarnLevel).With().Timestamp().Logger()
	b, err := bot.New(ctx, cfg, log, bot.Options{})
	if err != nil {
		return err
	}
	botCtx, stopBot := context.WithCancel(ctx)
	botDone := make(chan error, 1)
	go func() { botDone <- b.Run(botCtx) }()
	defer func() { stopBot(); <-botDone }()
	select {
	case <-b.Ready():
	case err := <-botDone:
		return fmt.Errorf("bot stopped before it was ready: %w", err)
	case <-time.After(2 * time.Minute):
		return errors.New("bot not ready after 2 minutes")
	}

	ana, err := benchkit.NewMember(ctx, s, dir, "ana")
	if err != nil {
		return err
	}
	echo, err := benchkit.NewMember(ctx, s, dir, "echo")
	if err != nil {
		return err
	}
	echo.OnMessage = func(evt *event.Event) {
		m := evt.Content.AsMessage()
		if m.MsgType != event.MsgText {
			return
		}
		reply := &event.MessageEventContent{MsgType: event.MsgNotice, Body: "echo: " + m.Body,
			RelatesTo: &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: evt.ID}}}
		// "big N": a reply of N bytes (body and HTML), as large as Quorum's.
		var size int
		if _, err := fmt.Sscanf(m.Body, "big %d", &size); err == nil && size > 0 {
			reply.Body = strings.Repeat("e", size/2)
			reply.Format, reply.FormattedBody = event.FormatHTML, "<p>"+strings.Repeat("h", size-size/2-7)+"</p>"
		}
		if _, err := echo.SendMessageEvent(ctx, evt.RoomID, event.EventMessage, reply); err != nil {
			fmt.Fprintln(os.Stderr, "echo:", err)
		}
	}
	ana.Start()
	echo.Start()
	defer ana.Close()
	defer echo.Close()

	botRoom, err := ana.CreateRoom(ctx, benchkit.BotID(s))
	if err != nil {
		return err
	}
	echoRoom, err := ana.CreateRoom(ctx, echo.UserID)
	if err != nil {
		return err
	}
	if err := ana.WaitJoined(ctx, botRoom, time.Minute, benchkit.BotID(s)); err != nil {
		return err
	}
	if err := ana.WaitJoined(ctx, echoRoom, time.Minute, echo.UserID); err != nil {
		return err
	}

	replySize := map[id.RoomID]int{}
	ask := func(room id.RoomID, body string) (time.Duration, error) {
		start := time.Now()
		sent, err := ana.Say(ctx, room, body)
		if err != nil {
			return 0, err
		}
		reply, err := ana.WaitReply(ctx, sent, 30*time.Second)
		if err != nil {
			return 0, err
		}
		if reply.Mautrix.EventSource&event.SourceDecrypted == 0 {
			return 0, fmt.Errorf("the reply to %s was not encrypted", sent)
		}
		took := time.Since(start)
		m := reply.Content.AsMessage()
		replySize[room] = len(m.Body) + len(m.FormattedBody)
		return took, nil
	}
	for i := 0; i < warm; i++ {
		if _, err := ask(botRoom, "!help"); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		if _, err := ask(echoRoom, fmt.Sprintf("ping warm-up %d", i)); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	stop, err := benchkit.CPUProfile(cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	var quorum, floor, sized []time.Duration
	bigRoom, err := ana.CreateRoom(ctx, echo.UserID)
	if err != nil {
		return err
	}
	if err := ana.WaitJoined(ctx, bigRoom, time.Minute, echo.UserID); err != nil {
		return err
	}
	big := fmt.Sprintf("big %d", replySize[botRoom])
	for i := 0; i < warm; i++ {
		if _, err := ask(bigRoom, big); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	for i := 0; i < n; i++ {
		// Alternate which goes first, so neither always follows the other.
		order := []int{0, 1, 2}
		if i%2 == 1 {
			order = []int{2, 1, 0}
		}
		for _, which := range order {
			room, body, into := botRoom, "!help", &quorum
			switch which {
			case 1:
				room, body, into = echoRoom, fmt.Sprintf("ping %d", i), &floor
			case 2:
				room, body, into = bigRoom, big, &sized
			}
			d, err := ask(room, body)
			if err != nil {
				return fmt.Errorf("round trip %d in %s: %w", i, room, err)
			}
			*into = append(*into, d)
		}
	}

	fmt.Printf("Encrypted round trip, %d each, alternating (%s, %d CPUs, %s)\n", n, benchkit.Machine(), runtime.NumCPU(), runtime.Version())
	fmt.Printf("%-26s %10s %10s %10s %12s\n", "", "p50", "p99", "max", "reply bytes")
	row := func(name string, ds []time.Duration, room id.RoomID) {
		fmt.Printf("%-26s %10s %10s %10s %12d\n", name, benchkit.Ms(benchkit.Percentile(ds, 50)), benchkit.Ms(benchkit.Percentile(ds, 99)),
			benchkit.Ms(benchkit.Percentile(ds, 100)), replySize[room])
	}
	row("floor: bare echo device", floor, echoRoom)
	row("echo, same-size reply", sized, bigRoom)
	row("Quorum: !help", quorum, botRoom)
	fq, fp := benchkit.Percentile(floor, 50), benchkit.Percentile(quorum, 50)
	ratio := float64(fp) / float64(fq)
	verdict := "met"
	if ratio > 1.1 {
		verdict = "NOT met"
	}
	fmt.Printf("p50 ratio Quorum/floor: %.2f× (goal ≤ 1.10×: %s); Quorum/same-size echo: %.2f×\n", ratio, verdict,
		float64(fp)/float64(benchkit.Percentile(sized, 50)))
	if ratio > 1.1 {
		return errGoalMissed
	}
	return nil
}
