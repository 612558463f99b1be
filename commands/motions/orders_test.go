package motions

import (
	"strings"
	"testing"
	"time"

	. "quorum/commands/commandstest"
	"quorum/store"
)

func TestThresholdAtLeast(t *testing.T) {
	for _, tc := range []struct {
		th, least string
		want      bool
	}{
		{"majority", "majority", true},
		{"2/3", "majority", true},
		{"51%", "majority", true},
		{"50%", "majority", false}, // a tie carries at 50%: less than a majority
		{"majority", "50%", true},
		{"1%", "majority", false},
		{"majority", "2/3", false},
		{"66%", "2/3", false},
		{"67%", "2/3", true},
		{"2/3", "66%", true},
		{"3/4", "2/3", true},
		{"unanimous", "3/4", true},
		{"99%", "unanimous", false},
		{"unanimous", "unanimous", true},
	} {
		th, err := ParseThreshold(tc.th)
		if err != nil {
			t.Fatal(err)
		}
		least, err := ParseThreshold(tc.least)
		if err != nil {
			t.Fatal(err)
		}
		if got := th.AtLeast(least); got != tc.want {
			t.Errorf("%s.AtLeast(%s) = %v, want %v", tc.th, tc.least, got, tc.want)
		}
	}
}

// TestSelfElectionRefused: the attack from issue 21, a member electing
// themself with options loose enough to win alone, is refused with the
// room's rule, and nothing is opened.
func TestSelfElectionRefused(t *testing.T) {
	h := delegateHarness(t)
	for _, tc := range []struct{ cmd, want string }{
		{"!delegate @ana:test negotiator --threshold 1% --quorum 0 --closes 1m : Negotiate", "at least majority here (`election_threshold`)"},
		{"!delegate @ana:test negotiator --closes 1m : Negotiate", "at least 1 day (`election_voting_time`)"},
		{"!motion --threshold 50% Pay the rent", "at least majority here (`threshold`), so `50%` can't be used"},
		{"!motion --closes 10m Pay the rent", "at least 1h (`voting_time`)"},
	} {
		Expect(t, h, Ana, tc.cmd, tc.want)
	}
	if list, err := h.Env.Store.Motions().Pending(t.Context(), Room); err != nil || len(list) != 0 {
		t.Fatalf("refused motions were opened: %v %v", list, err)
	}
	// Stricter is always allowed, and a default looser than the rules is
	// raised to them.
	h.Env.Config.Motions.Closes = "10m"
	open := func(cmd string) *store.Motion {
		t.Helper()
		h.SendAndDrain(Ana, cmd)
		list, err := h.Env.Store.Motions().Pending(t.Context(), Room)
		if err != nil || len(list) == 0 {
			t.Fatalf("%s: no motion opened (%v)", cmd, err)
		}
		return list[len(list)-1]
	}
	if m := open("!motion --threshold 2/3 Pay the rent"); m.Threshold != "2/3" || m.Duration != time.Hour {
		t.Errorf("stricter motion: threshold %s, voting time %v; want 2/3 and the 1h least", m.Threshold, m.Duration)
	}
	if m := open("!delegate @ben:test negotiator : Negotiate"); m.Duration != 24*time.Hour {
		t.Errorf("election voting time %v, want the 24h least", m.Duration)
	}
}

// TestRulesChangedByVote: !rules shows the rules; !rules set opens a
// rules motion needing 2/3, which when carried changes the rule, records
// it, and binds the next motion.
func TestRulesChangedByVote(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	shown := h.Reply(Ana, "!rules")
	for _, want := range []string{"`threshold` majority", "`quorum` 0", "`voting_time` 1h", "`election_voting_time` 1 day", "`seconding` off", "(a vote needing 2/3)"} {
		if !strings.Contains(shown, want) {
			t.Errorf("!rules lacks %q:\n%s", want, shown)
		}
	}
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!rules set", Want: "Which rule? One of threshold, election_threshold"},
		{From: Ana, Cmd: "!rules set quorom 30%", Want: "Which rule?"},
		{From: Ana, Cmd: "!rules set threshold 40%", Want: "less than a simple majority"},
		{From: Ana, Cmd: "!rules set quorum", Want: "Give the new value of `quorum`"},
		{From: Ana, Cmd: "!rules set quorum 0", Want: "`quorum` is 0 already."},
		{From: Ana, Cmd: "!rules set voting_time 60d", Want: "would block the room"},
		{From: Ana, Cmd: "!rules frob", Want: "I don't know `!rules frob`"},
	})
	notice := One(t, h.SendAndDrain(Ana, "!rules set quorum 2"), "Change the standing order quorum")
	field := motionField(t, notice.Msg)
	if field["kind"] != kindRules || field["threshold"] != "2/3" {
		t.Fatalf("rules motion: %v", field)
	}
	// Clients read the change from quorum.rules_change, not from the text
	// (which is in the room's language).
	change, _ := notice.Msg.Fields["quorum.rules_change"].(map[string]any)
	if change["rule"] != "quorum" || change["from"] != "0" || change["value"] != "2" {
		t.Errorf("quorum.rules_change = %#v", notice.Msg.Fields["quorum.rules_change"])
	}
	// 2 yes and 1 no is exactly two thirds: carried.
	out := votes(t, h, 1, "@ana:test yes", "@ben:test yes", "@chi:test no")
	changed := One(t, out, "Standing order `quorum` is now 2 (it was 0), by motion #1.")
	if changed.Msg.Fields["quorum.record"] == nil {
		t.Errorf("the change is not in the record: %+v", changed.Msg)
	}
	Expect(t, h, Ana, "!motion --quorum 1 Pay the rent", "need a quorum of at least 2 (`quorum`)")
	if got := h.Reply(Ana, "!rules"); !strings.Contains(got, "`quorum` 2") {
		t.Errorf("!rules after the change: %s", got)
	}
	// The longest voting time allowed is a rule too (60d is refused above).
	One(t, h.SendAndDrain(Ana, "!rules set voting_time 30d"), "Change the standing order voting_time")
}

func TestCheckStandingOrdersConfig(t *testing.T) {
	for key, bad := range map[string]string{"threshold": "40%", "election_threshold": "most", "quorum": "lots", "voting_time": "forever", "election_voting_time": "90d"} {
		t.Run(key, func(t *testing.T) {
			cfg := Config(t)
			if err := CheckConfig(cfg); err != nil {
				t.Fatalf("defaults refused: %v", err)
			}
			switch key {
			case "threshold":
				cfg.StandingOrders.Threshold = bad
			case "election_threshold":
				cfg.StandingOrders.ElectionThreshold = bad
			case "quorum":
				cfg.StandingOrders.Quorum = bad
			case "voting_time":
				cfg.StandingOrders.VotingTime = bad
			case "election_voting_time":
				cfg.StandingOrders.ElectionVotingTime = bad
			}
			if err := CheckConfig(cfg); err == nil || !strings.Contains(err.Error(), "standing_orders."+key) {
				t.Errorf("%s %q: %v, want a standing_orders.%s error", key, bad, err, key)
			}
		})
	}
}
