package motions

import (
	"testing"

	"quorum/commands"
)

func TestDecide(t *testing.T) {
	must := func(s string) Threshold {
		th, err := ParseThreshold(s)
		if err != nil {
			t.Fatal(err)
		}
		return th
	}
	for _, tc := range []struct {
		name      string
		tally     Tally
		threshold string
		quorum    int
		want      Outcome
	}{
		{"majority carries", Tally{7, 2, 1}, "majority", 6, Carried},
		{"tie fails a majority", Tally{3, 3, 0}, "majority", 0, Failed},
		{"one more yes carries", Tally{4, 3, 0}, "majority", 0, Carried},
		{"zero votes fail", Tally{}, "majority", 0, Failed},
		{"zero votes, quorum 1", Tally{}, "majority", 1, NoQuorum},
		{"abstain only fails", Tally{0, 0, 5}, "majority", 5, Failed},
		{"abstain only meets quorum", Tally{0, 0, 5}, "majority", 6, NoQuorum},
		{"abstentions count for quorum", Tally{2, 1, 3}, "majority", 6, Carried},
		{"one short of quorum", Tally{2, 1, 2}, "majority", 6, NoQuorum},
		{"exactly 2/3 carries", Tally{2, 1, 0}, "2/3", 0, Carried},
		{"just under 2/3 fails", Tally{65, 34, 0}, "2/3", 0, Failed},
		{"10 of 15 is 2/3", Tally{10, 5, 7}, "2/3", 0, Carried},
		{"abstentions do not dilute 2/3", Tally{2, 1, 10}, "2/3", 0, Carried},
		{"exactly 3/4 carries", Tally{3, 1, 0}, "3/4", 0, Carried},
		{"under 3/4 fails", Tally{5, 2, 0}, "3/4", 0, Failed},
		{"unanimous", Tally{9, 0, 2}, "unanimous", 0, Carried},
		{"unanimous with one no", Tally{9, 1, 0}, "unanimous", 0, Failed},
		{"unanimous with no votes", Tally{0, 0, 3}, "unanimous", 0, Failed},
		// With only abstentions nothing carries, whatever the threshold:
		// 0 >= n*0 would otherwise carry any fraction.
		{"2/3 with only abstentions", Tally{0, 0, 3}, "2/3", 0, Failed},
		{"3/4 with only abstentions", Tally{0, 0, 3}, "3/4", 0, Failed},
		{"60% with only abstentions", Tally{0, 0, 3}, "60%", 0, Failed},
		{"1% with only abstentions", Tally{0, 0, 1}, "1%", 1, Failed},
		{"2/3 with no votes at all", Tally{}, "2/3", 0, Failed},
		{"a lone yes carries 2/3", Tally{1, 0, 0}, "2/3", 0, Carried},
		{"a lone no fails 1%", Tally{0, 1, 0}, "1%", 0, Failed},
		{"1 of 100 is 1%", Tally{1, 99, 0}, "1%", 0, Carried},
		{"99% at exactly 99", Tally{99, 1, 0}, "99%", 0, Carried},
		{"99% just under", Tally{98, 1, 0}, "99%", 0, Failed},
		{"unanimous, a lone yes", Tally{1, 0, 0}, "unanimous", 0, Carried},
		{"3/4 just under", Tally{74, 26, 0}, "3/4", 0, Failed},
		{"quorum counts abstentions only", Tally{0, 0, 6}, "majority", 6, Failed},
		{"60% at exactly 60", Tally{3, 2, 0}, "60%", 0, Carried},
		{"60% just under", Tally{59, 41, 0}, "60%", 0, Failed},
		{"50% tie carries (at least half)", Tally{2, 2, 0}, "50%", 0, Carried},
		{"quorum exactly met", Tally{3, 2, 1}, "majority", 6, Carried},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.tally, must(tc.threshold), tc.quorum); got != tc.want {
				t.Errorf("Decide(%+v, %s, %d) = %s, want %s", tc.tally, tc.threshold, tc.quorum, got, tc.want)
			}
		})
	}
}

func TestParseThreshold(t *testing.T) {
	for in, want := range map[string]string{
		"majority": "majority", "2/3": "2/3", "3/4": "3/4", "Unanimous": "unanimous",
		"60%": "60%", " 75 % ": "75%", "100%": "unanimous", "two-thirds": "2/3",
	} {
		th, err := ParseThreshold(in)
		if err != nil || th.String() != want {
			t.Errorf("ParseThreshold(%q) = %v, %v; want %s", in, th, err, want)
		}
		again, err := ParseThreshold(th.String())
		if err != nil || again != th {
			t.Errorf("%q does not round-trip: %v %v", th.String(), again, err)
		}
	}
	for _, bad := range []string{"", "0%", "101%", "1/2", "most", "-5%", "50"} {
		if _, err := ParseThreshold(bad); err == nil {
			t.Errorf("ParseThreshold(%q) accepted", bad)
		}
	}
}

func TestQuorum(t *testing.T) {
	for _, tc := range []struct {
		in         string
		electorate int
		want       int
	}{
		{"50%", 12, 6}, {"50%", 7, 4}, {"100%", 3, 3}, {"6", 12, 6}, {"0", 12, 0},
		{"none", 12, 0}, {"1%", 12, 1}, {"33%", 3, 1},
	} {
		q, err := ParseQuorum(tc.in)
		if err != nil {
			t.Fatalf("ParseQuorum(%q): %v", tc.in, err)
		}
		if got := q.Of(tc.electorate); got != tc.want {
			t.Errorf("%s of %d = %d, want %d", tc.in, tc.electorate, got, tc.want)
		}
		if again, err := ParseQuorum(q.String()); err != nil || again.Of(tc.electorate) != tc.want {
			t.Errorf("%q does not round-trip", q.String())
		}
	}
	for in, want := range map[string]string{"none": "0", "0%": "0", "00": "0", "6": "6", "100000": "100000", "50%": "50%", "1%": "1%", "100%": "100%"} {
		if q, err := ParseQuorum(in); err != nil || q.String() != want {
			t.Errorf("ParseQuorum(%q) = %v, %v; want %s", in, q, err, want)
		}
	}
	for _, bad := range []string{"", "half", "-1", "150%", "0.5", "100001", "101%", "-1%"} {
		if _, err := ParseQuorum(bad); err == nil {
			t.Errorf("ParseQuorum(%q) accepted", bad)
		}
	}
}

func FuzzThresholdQuorum(f *testing.F) {
	// Every spelling beside every edge of a tally: nothing cast, only
	// abstentions, a lone yes or no, ties, exactly at a threshold and one
	// short of it, and the largest tally the target accepts.
	tallies := [][3]int{
		{0, 0, 0}, {0, 0, 1}, {0, 0, 5}, {1, 0, 0}, {0, 1, 0}, {1, 1, 0},
		{2, 1, 0}, {65, 34, 0}, {3, 1, 0}, {74, 26, 0}, {3, 2, 1},
		{99, 1, 0}, {1, 99, 0}, {1e6, 1e6, 1e6}, {0, 1e6, 0},
	}
	for _, s := range []string{
		"majority", "2/3", "3/4", "unanimous", "60%", "1%", "99%", "100%",
		"50", "0", "100000", "100001", "none", "%", "99 %", "100 %", "+100%", "0%", "101%", "-1", "",
	} {
		for _, tl := range tallies {
			f.Add(s, tl[0], tl[1], tl[2])
		}
	}
	f.Fuzz(func(t *testing.T, s string, yes, no, abstain int) {
		if yes < 0 || no < 0 || abstain < 0 || yes > 1e6 || no > 1e6 || abstain > 1e6 {
			return
		}
		tally := Tally{yes, no, abstain}
		if th, err := ParseThreshold(s); err == nil {
			met := th.Met(tally)
			if met && yes == 0 {
				t.Fatalf("%s carried with no yes votes: %+v", th, tally)
			}
			// Abstentions never count for or against; one more yes never
			// defeats a motion, one more no never carries it.
			if th.Met(Tally{yes, no, abstain + 1}) != met {
				t.Fatalf("%s: one more abstention changed the outcome of %+v", th, tally)
			}
			if met && !th.Met(Tally{yes + 1, no, abstain}) {
				t.Fatalf("%s: one more yes defeated %+v", th, tally)
			}
			if !met && th.Met(Tally{yes, no + 1, abstain}) {
				t.Fatalf("%s: one more no carried %+v", th, tally)
			}
			if again, err := ParseThreshold(th.String()); err != nil || again != th {
				t.Fatalf("threshold %q does not round-trip", th)
			}
		}
		if q, err := ParseQuorum(s); err == nil {
			if n := q.Of(yes); n < 0 || (q.Count < 0 && n > yes) {
				t.Fatalf("quorum %s of %d = %d", q, yes, n)
			}
			// A share of a larger electorate is never smaller.
			if q.Of(yes+1) < q.Of(yes) {
				t.Fatalf("quorum %s of %d is less than of %d", q, yes+1, yes)
			}
		}
	})
}

func TestChoiceKeys(t *testing.T) {
	keys := choiceKeys([]string{"👍", "✋🏽"}, []string{"👎️"}, []string{"🤷"})
	for in, want := range map[string]Choice{"👍🏼": Yes, "✋": Yes, "👎": No, "🤷‍♂️": Abstain} {
		if got := keys[commands.NormalizeKey(in)]; got != want {
			t.Errorf("%q counts as %q, want %q", in, got, want)
		}
	}
	if _, ok := keys[commands.NormalizeKey("🎉")]; ok {
		t.Error("an unknown emoji counts as a vote")
	}
}
