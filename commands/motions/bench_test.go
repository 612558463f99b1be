package motions

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/commandstest"
	"quorum/config"
	"quorum/msg"
	"quorum/store"
)

// BenchmarkIngest measures votes through the rules as the bot applies
// them, each event in a transaction of its own (marked handled, counted,
// its edit scheduled): reactions on the notices beside answers to the
// polls, on 10 motions of 100 voters each. Reported per vote.
func BenchmarkIngest(b *testing.B) {
	const motions, voters = 10, 100
	for _, channel := range []string{"reaction", "poll"} {
		b.Run(channel, func(b *testing.B) {
			keys := []string{"👍", "👎", "🤷"}
			answers := []string{"yes", "no", "abstain"}
			for b.Loop() {
				b.StopTimer()
				d, st, targets, members := ingestSetup(b, motions, voters)
				ctx := context.Background()
				at := time.Date(2026, 11, 25, 12, 0, 1, 0, time.UTC)
				b.StartTimer()
				n := 0
				for m, target := range targets {
					for v, voter := range members {
						evt := id.EventID(fmt.Sprintf("$v%d", n))
						var err error
						if channel == "reaction" {
							err = d.HandleReaction(ctx, commands.Reaction{Room: commandstest.Room, Sender: voter, Event: evt, Target: target.notice, Key: keys[(m+v)%3], Time: at})
						} else {
							err = d.HandlePollResponse(ctx, commands.PollResponse{Room: commandstest.Room, Sender: voter, Event: evt, Target: target.poll, Answers: []string{answers[(m+v)%3]}, Time: at})
						}
						if err != nil {
							b.Fatal(err)
						}
						n++
					}
				}
				b.StopTimer()
				for i := range targets {
					got, _, err := st.Motions().ByNumber(ctx, commandstest.Room, i+1)
					if err != nil || got.Voted() != voters {
						b.Fatalf("motion %d: %d voted (%v)", i+1, got.Voted(), err)
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*motions*voters), "ns/vote")
		})
	}
}

type ingestTarget struct{ notice, poll id.EventID }

// ingestSetup opens motions of voters members on a fresh database, and
// returns the dispatcher, the store, each motion's notice and poll, and
// the members.
func ingestSetup(b *testing.B, motions, voters int) (*commands.Dispatcher, *store.Store, []ingestTarget, []id.UserID) {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "quorum.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	b.Setenv("QUORUM_HOMESERVER", "http://127.0.0.1:1")
	b.Setenv("QUORUM_USER_ID", commandstest.Bot.String())
	b.Setenv("QUORUM_PASSWORD", "x")
	b.Setenv("QUORUM_DATABASE", "unused.db")
	cfg, err := config.Load("")
	if err != nil {
		b.Fatal(err)
	}
	members := make([]id.UserID, voters)
	for i := range members {
		members[i] = id.UserID(fmt.Sprintf("@v%d:test", i))
	}
	rooms := &commandstest.Rooms{Joined: map[id.RoomID][]id.UserID{commandstest.Room: append([]id.UserID{commandstest.Bot}, members...)}, Power: map[id.UserID]int{}}
	env := &commands.Env{Store: st, Config: cfg, Clock: commandstest.NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)), Rooms: rooms, Bot: commandstest.Bot}
	d, err := commands.New(env, zerolog.Nop(), New(env, zerolog.Nop()))
	if err != nil {
		b.Fatal(err)
	}
	targets := make([]ingestTarget, motions)
	for i := range targets {
		if _, err := d.HandleMessage(ctx, commands.Message{Room: commandstest.Room, Sender: members[0], Event: id.EventID(fmt.Sprintf("$m%d", i)), Time: env.Clock.Now(), Body: "!motion Bench"}); err != nil {
			b.Fatal(err)
		}
		// Deliver the notice and the poll, as package bot does.
		list, err := st.Outbox().Pending(ctx, 100)
		if err != nil {
			b.Fatal(err)
		}
		for j, o := range list {
			evt := id.EventID(fmt.Sprintf("$sent%d.%d", i, j))
			var anchored struct{ Anchor *msg.Anchor }
			if err := json.Unmarshal(o.Payload, &anchored); err != nil {
				b.Fatal(err)
			}
			if a := anchored.Anchor; a != nil {
				if err := st.Anchors().Put(ctx, evt, o.Room, store.Anchor(*a)); err != nil {
					b.Fatal(err)
				}
				if a.Kind == anchorMotion {
					targets[i].notice = evt
				} else {
					targets[i].poll = evt
				}
			}
			if err := st.Outbox().Done(ctx, o.ID); err != nil {
				b.Fatal(err)
			}
		}
	}
	return d, st, targets, members
}
