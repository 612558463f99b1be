package motions

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/record"
)

var receiptRE = regexp.MustCompile("receipt code is `([2-9A-Z]{10})`")

func TestSecretBallot(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	h.Send(Ana, "!motion --secret --closes 1h Strike on Friday")
	out := h.Drain()
	var notice Sent
	ballots := map[id.UserID]bool{}
	for _, o := range out {
		switch {
		case o.Msg.Anchor != nil:
			notice = o
		case o.DMUser != "" && strings.Contains(o.Msg.Body, "Secret ballot: motion #1"):
			ballots[o.DMUser] = true
		}
	}
	if len(ballots) != 3 {
		t.Fatalf("ballots went to %v, want ana, ben and chi", ballots)
	}
	f := motionField(t, notice.Msg)
	if _, shown := f["yes"]; shown || f["secret"] != true {
		t.Errorf("open secret motion shows %v", f)
	}

	// Reactions and room votes are refused.
	h.React(Ben, notice.EventID, "👍")
	if got := tally(t, h, 1); got != (Tally{}) {
		t.Fatalf("reaction counted on a secret ballot: %+v", got)
	}
	if dm := h.Drain(); len(dm) != 1 || dm[0].DMUser != Ben || !strings.Contains(dm[0].Msg.Body, "secret ballot") {
		t.Fatalf("ben should be told privately: %+v", dm)
	}
	if got := h.Reply(Ben, "!vote 1 yes"); !strings.Contains(got, "send your vote to me in our direct chat") {
		t.Errorf("room vote on a secret ballot: %q", got)
	}

	codes := map[id.UserID]string{}
	for user, vote := range map[id.UserID]string{Ana: "yes", Ben: "no"} {
		got := h.SendDM(user, "!vote 1 "+vote)
		m := receiptRE.FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("no receipt in %q", got)
		}
		codes[user] = m[1]
	}
	if got := h.SendDM(Ana, "!vote 1 no"); !strings.Contains(got, "already voted") {
		t.Errorf("second secret vote: %q", got)
	}
	if got := h.SendDM(Ana, "!vote 2 no"); !strings.Contains(got, "no open secret ballot numbered #2") {
		t.Errorf("unknown ballot: %q", got)
	}

	// The store keeps no link between a member and a choice.
	assertNoVoterChoiceLink(t, h)

	h.SendDM(Chi, "!vote 1 yes") // the last voter: the motion closes
	if got := status(t, h, 1); got != Carried {
		t.Fatalf("status = %s", got)
	}
	var result Sent
	for _, o := range h.Last {
		if o.Msg.ReplyToAnchor != nil {
			result = o
		}
	}
	f = motionField(t, result.Msg)
	receipts, _ := f["receipts"].(map[string]any)
	if len(receipts) != 3 || receipts[codes[Ana]] != "yes" || receipts[codes[Ben]] != "no" {
		t.Fatalf("receipts = %v, codes %v", receipts, codes)
	}
	if f["yes"] != 2 || f["no"] != 1 {
		t.Errorf("result = %v", f)
	}
	// Element shows no content fields: the receipts are in the text too.
	for user, code := range codes {
		if !strings.Contains(result.Msg.Body, code+" "+map[id.UserID]string{Ana: "yes", Ben: "no"}[user]) {
			t.Errorf("%s's receipt %s is not in the result text: %q", user, code, result.Msg.Body)
		}
	}
	if _, ok := result.Msg.Fields["quorum.record"]; !ok || !strings.Contains(result.Msg.Body, "chain head") {
		t.Errorf("result without the record head: %q", result.Msg.Body)
	}
}

// assertNoVoterChoiceLink checks the secret tables: voters without choices,
// choices without voters.
func assertNoVoterChoiceLink(t *testing.T, h *Harness) {
	t.Helper()
	ctx := context.Background()
	for table, forbidden := range map[string]string{"secret_voters": "choice", "secret_ballots": "voter"} {
		has, err := h.Env.Store.DB.ColumnExists(ctx, table, forbidden)
		if err != nil {
			t.Fatal(err)
		}
		if has {
			t.Errorf("%s has a %s column", table, forbidden)
		}
	}
	var acts int
	if err := h.Env.Store.DB.QueryRow(ctx, "SELECT COUNT(*) FROM vote_acts").Scan(&acts); err != nil || acts != 0 {
		t.Errorf("secret votes left %d open vote acts (%v)", acts, err)
	}
}

func TestRecordChain(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	for i := range 3 {
		h.Send(Ana, "!motion Motion number "+string(rune('A'+i)))
		h.Send(Ana, "!vote "+string(rune('1'+i))+" yes")
		h.Send(Ben, "!vote "+string(rune('1'+i))+" no")
	}
	h.Drain()
	entries, err := h.Env.Store.Records().Between(context.Background(), Room, h.Clock.Now().Add(-time.Hour), h.Clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("%d entries, want 3", len(entries))
	}
	if err := record.Verify(entries); err != nil {
		t.Fatalf("chain does not verify: %v", err)
	}
	if !strings.Contains(string(entries[2].Content), `"text":"Motion number C"`) || entries[2].Kind != "motion.result" {
		t.Errorf("entry = %s %s", entries[2].Kind, entries[2].Content)
	}
}

// TestSecretBallotLimit: one member cannot make the bot DM everyone without
// limit; the limit is per member and day.
func TestSecretBallotLimit(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	for i := range maxSecretPerDay {
		h.Send(Ana, fmt.Sprintf("!motion --secret Question %d", i+1))
		if dms := len(Saying(h.Drain(), "Secret ballot: motion")); dms != 2 {
			t.Fatalf("secret ballot %d sent %d ballots, want 2", i+1, dms)
		}
	}
	Expect(t, h, Ana, "!motion --secret One too many", "You have opened 3 secret ballots here in the last day")
	if dms := len(Saying(h.SendAndDrain(Ben, "!motion --secret Ben's own"), "Secret ballot: motion")); dms != 2 {
		t.Fatalf("another member's secret ballot sent %d ballots, want 2", dms)
	}
	h.Clock.Advance(commands.DMLimitWindow + time.Minute)
	h.Send(Ana, "!motion --secret A day later")
	if dms := len(Saying(h.Drain(), "Secret ballot: motion")); dms != 2 {
		t.Fatalf("a day later: %d ballots, want 2", dms)
	}
}

// TestSecretFlagAsTyped: --secret counts wherever it stands and however a
// phone typed it; a near-miss opens nothing and gives the command to copy.
func TestSecretFlagAsTyped(t *testing.T) {
	for _, cmd := range []string{"!motion Strike on Friday --secret", "!motion —secret Strike on Friday", "!motion Strike –secret on Friday"} {
		h := newHarness(t, Ana, Ben)
		out := h.SendAndDrain(Ana, cmd)
		notice := One(t, out, "Motion #1")
		if f := motionField(t, notice.Msg); f["secret"] != true || f["text"] != "Strike on Friday" {
			t.Errorf("%s: quorum.motion %v, want a secret ballot on \"Strike on Friday\"", cmd, f)
		}
		if n := len(Saying(out, "Secret ballot: motion #1")); n != 2 {
			t.Errorf("%s: %d ballots, want 2", cmd, n)
		}
	}
	h := newHarness(t, Ana, Ben)
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!motion Strike on Friday -secret", Want: "Did you mean `--secret`? I did nothing, so that the vote is not open by mistake. Send: `!motion --secret Strike on Friday`"},
		{From: Ana, Cmd: "!motion --secert Strike on Friday", Want: "Send: `!motion --secret Strike on Friday`"},
		{From: Ana, Cmd: "!recall @ben:test -secret", Want: "Did you mean `--secret`?"},
	})
	if list, err := h.Env.Store.Motions().Pending(t.Context(), Room); err != nil || len(list) != 0 {
		t.Fatalf("a near-miss opened a motion: %v %v", list, err)
	}
}
