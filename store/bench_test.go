package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

// BenchmarkIngestVotes casts 100,000 votes across 1,000 motions of 100
// voters each, then checks every tally (untimed: BenchmarkReadTally measures
// reads). Reported per vote. The goal: the whole 100k in under a
// second. Votes go in transactions of 1,000 so that this measures the
// store's work for a vote; the bot commits each event on its own, which the
// assembly benchmark (bench/assembly) measures end to end over real
// encrypted clients.
func BenchmarkIngestVotes(b *testing.B) {
	const motions, perMotion = 1000, 100
	voters := make([]id.UserID, perMotion)
	for i := range voters {
		voters[i] = id.UserID(fmt.Sprintf("@v%d:x", i))
	}
	choices := []string{"yes", "no", "abstain"}
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		st := open(b)
		ids := make([]int64, motions)
		for i := range ids {
			ids[i] = newMotion(b, st, "!r", voters).ID
		}
		want := make([]tally, motions)
		b.StartTimer()
		n := 0
		for batch := 0; batch < motions*perMotion/1000; batch++ {
			err := st.Tx(ctx, func(ctx context.Context) error {
				for range 1000 {
					m, v := n/perMotion, n%perMotion
					_, err := st.Votes().Cast(ctx, Act{Motion: ids[m], Voter: voters[v], Choice: choices[n%3], Event: id.EventID(fmt.Sprintf("$%d", n)), Time: time.UnixMilli(int64(n))})
					if err != nil {
						return err
					}
					want[m][n%3]++
					n++
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		for i, mid := range ids {
			if m, _, err := st.Motions().Get(ctx, mid); err != nil || (tally{m.Yes, m.No, m.Abstain}) != want[i] {
				b.Fatalf("motion %d: %d/%d/%d, want %v (%v)", mid, m.Yes, m.No, m.Abstain, want[i], err)
			}
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*motions*perMotion), "ns/vote")
}

// tally is yes, no and abstain, in the order of the benchmark's choices.
type tally [3]int

// BenchmarkReadTally reads one motion's tally after N votes: the cost must
// not grow with N (the tally is a stored counter, not a scan).
func BenchmarkReadTally(b *testing.B) {
	for _, votes := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("votes=%d", votes), func(b *testing.B) {
			ctx := context.Background()
			st := open(b)
			voters := make([]id.UserID, votes)
			for i := range voters {
				voters[i] = id.UserID(fmt.Sprintf("@v%d:x", i))
			}
			m := newMotion(b, st, "!r", voters)
			err := st.Tx(ctx, func(ctx context.Context) error {
				for i, v := range voters {
					if _, err := st.Votes().Cast(ctx, Act{Motion: m.ID, Voter: v, Choice: "yes", Event: id.EventID(fmt.Sprintf("$%d", i)), Time: time.UnixMilli(int64(i))}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				got, _, err := st.Motions().Get(ctx, m.ID)
				if err != nil || got.Yes != votes {
					b.Fatalf("tally %+v %v", got, err)
				}
			}
		})
	}
}
