// Command catchup measures how the bot catches up after downtime: with the
// bot stopped, members send N events (commands `!vote 1 …` and reactions on
// the motion's notice, encrypted and plain) to an open motion; the bot is
// started again and the program reports how long it took until every
// command was answered, then checks exactly-once: every command answered
// once (also after one more restart), every vote recorded once in the bot's
// database, and the tally equal to each voter's last vote.
//
//	CGO_ENABLED=0 go run -tags goolm ./bench/catchup -n 500
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/bench/internal/benchkit"
	"quorum/store"
)

func main() {
	n := flag.Int("n", 500, "events sent while the bot is down (3 in 5 commands, 2 in 5 reactions)")
	dir := flag.String("dir", "", "work folder (default: a new temporary folder, removed afterwards)")
	flag.Parse()
	if err := run(*n, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "catchup: FAIL:", err)
		os.Exit(1)
	}
}

var choices = []string{"yes", "no", "abstain"}
var keys = map[string]string{"yes": "👍", "no": "👎", "abstain": "🤷"}

func run(n int, dir string) error {
	ctx := context.Background()
	bench, closeBench, err := benchkit.NewBench(ctx, "quorum-catchup-", dir)
	if err != nil {
		return err
	}
	defer closeBench()
	s, b, botID, dir := bench.Server, bench.Bot, bench.BotID, bench.Dir
	if err := b.Start(ctx); err != nil {
		return err
	}

	// ana proposes and never votes, so the motion stays open (it closes
	// early once the whole electorate has voted).
	names := []string{"ana", "ben", "chi", "dan"}
	ms := make([]*benchkit.Member, len(names))
	for i, name := range names {
		if ms[i], err = benchkit.NewMember(ctx, s, dir, name); err != nil {
			return err
		}
		ms[i].Start()
		defer ms[i].Close()
	}
	ana, voters := ms[0], ms[1:]
	invite := []id.UserID{botID}
	for _, v := range voters {
		invite = append(invite, v.UserID)
	}
	room, err := ana.CreateRoom(ctx, invite...)
	if err != nil {
		return err
	}
	if err := ana.WaitJoined(ctx, room, time.Minute, invite...); err != nil {
		return err
	}
	for _, v := range voters { // each voter's session keys reach the bot now
		if err := v.WaitJoined(ctx, room, time.Minute, botID); err != nil {
			return err
		}
		sent, err := v.Say(ctx, room, "!help")
		if err != nil {
			return err
		}
		if _, err := v.WaitReply(ctx, sent, 30*time.Second); err != nil {
			return err
		}
	}
	if _, err := ana.Say(ctx, room, "!motion --closes 24h Catch up after downtime"); err != nil {
		return err
	}
	notice, err := ana.FindNotice(ctx, room, botID, "Motion #1", 30*time.Second)
	if err != nil {
		return err
	}
	if err := b.Stop(); err != nil {
		return err
	}

	// While the bot is down.
	var commands []id.EventID
	last := map[id.UserID]string{}
	sendStart := time.Now()
	for i := 0; i < n; i++ {
		v := voters[i%len(voters)]
		choice := choices[(i/len(voters))%len(choices)]
		if i%5 < 3 {
			evt, err := v.Say(ctx, room, fmt.Sprintf("!vote 1 %s", choice))
			if err != nil {
				return fmt.Errorf("send %d: %w", i, err)
			}
			commands = append(commands, evt)
		} else if _, err := v.React(ctx, room, notice.ID, keys[choice]); err != nil {
			return fmt.Errorf("react %d: %w", i, err)
		}
		last[v.UserID] = choice
	}
	sendTime := time.Since(sendStart)

	start := time.Now()
	if err := b.Start(ctx); err != nil {
		return err
	}
	ready := time.Since(start)
	// The replies come in order: the last one's arrival is the end.
	if _, err := voters[0].WaitReply(ctx, commands[len(commands)-1], 5*time.Minute); err != nil {
		return fmt.Errorf("the last command was not answered: %w", err)
	}
	allAnswered := time.Since(start)
	tally, err := ana.AskTally(ctx, room, 1, time.Minute)
	if err != nil {
		return err
	}
	want := benchkit.Tally{Status: "open"}
	for _, c := range last {
		switch c {
		case "yes":
			want.Yes++
		case "no":
			want.No++
		case "abstain":
			want.Abstain++
		}
	}

	// Once more: a restart must not answer or count anything again.
	if err := b.Stop(); err != nil {
		return err
	}
	if err := b.Start(ctx); err != nil {
		return err
	}
	sentinel, err := ana.Say(ctx, room, "!help")
	if err != nil {
		return err
	}
	if _, err := ana.WaitReply(ctx, sentinel, time.Minute); err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // let any duplicate reach the members
	if err := b.Stop(); err != nil {
		return err
	}
	var problems []error
	history, err := ana.History(ctx, room, notice.ID)
	if err != nil {
		return err
	}
	replies := benchkit.RepliesIn(history, botID)
	for i, evt := range commands {
		if got := replies[evt]; got != 1 {
			problems = append(problems, fmt.Errorf("command %d (%s) answered %d times", i+1, evt, got))
		}
	}
	acts, err := countActs(b.Config.Database)
	if err != nil {
		return err
	}
	if acts != n {
		problems = append(problems, fmt.Errorf("%d votes recorded in the database, want %d", acts, n))
	}
	if tally.Yes != want.Yes || tally.No != want.No || tally.Abstain != want.Abstain || tally.Status != want.Status {
		problems = append(problems, fmt.Errorf("tally %s, want %s", tally, want))
	}

	fmt.Printf("Catch-up after downtime (%s, %d CPUs)\n", benchkit.Machine(), runtime.NumCPU())
	fmt.Printf("  sent while down:     %d events (%d commands, %d reactions) in %s\n", n, len(commands), n-len(commands), sendTime.Round(time.Millisecond))
	fmt.Printf("  restart to ready:    %s\n", ready.Round(time.Millisecond))
	fmt.Printf("  restart to last reply: %s (%.0f events/s)\n", allAnswered.Round(time.Millisecond), float64(n)/allAnswered.Seconds())
	fmt.Printf("  tally: %s (want %s); votes in database: %d\n", tally, want, acts)
	for _, p := range problems[:min(len(problems), 20)] {
		fmt.Println("  PROBLEM:", p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d problems", len(problems))
	}
	fmt.Printf("  exactly once: every command answered once, every vote recorded once, after two restarts\n")
	return nil
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
		return 0, errors.Join(errors.New("count votes"), err)
	}
	return count, nil
}
