package motions

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	. "quorum/commands/commandstest"
	"quorum/record"
	"quorum/store"
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

// TestSecretBallotAfterDeadline: a DM ballot that arrives after the
// deadline, before the scheduler closed the motion, is refused and not
// counted; one at exactly the deadline counts.
func TestSecretBallotAfterDeadline(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	h.Send(Ana, "!motion --secret --closes 1h Strike on Friday")
	h.Drain()
	deadline := h.Clock.Now().Add(time.Hour)
	h.Clock.Advance(time.Hour)
	if got := h.SendDM(Ana, "!vote 1 yes"); !receiptRE.MatchString(got) {
		t.Fatalf("a ballot at the deadline was refused: %q", got)
	}
	h.Clock.Advance(time.Millisecond)
	if got := h.SendDM(Ben, "!vote 1 no"); !strings.Contains(got, "closed before your vote arrived") {
		t.Errorf("late ballot: %q", got)
	}
	if got := h.SendDM(Chi, "!vote 1 no"); !strings.Contains(got, "closed before your vote arrived") {
		t.Errorf("late ballot: %q", got)
	}
	if got := status(t, h, 1); got != store.MotionOpen {
		t.Fatalf("status = %s before the scheduler ran, want open", got)
	}
	h.Clock.Advance(-time.Millisecond)
	out := h.AdvanceTo(deadline)
	result := One(t, out, "Receipts")
	if f := motionField(t, result.Msg); f["yes"] != 1 || f["no"] != 0 || f["status"] != "carried" {
		t.Errorf("result = %v, want carried 1–0", f)
	}
}

// TestDMVoteOnOpenMotion: a `!vote` in a direct chat is a secret ballot; on
// an open (not secret) motion it is refused and counts nothing, so it can
// neither raise the counters nor close the motion early.
func TestDMVoteOnOpenMotion(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	openMotion(t, h, "Pay the rent")
	h.Send(Ana, "!vote 1 yes")
	h.Drain()
	if got := h.SendDM(Ben, "!vote 1 no"); !strings.Contains(got, "no open secret ballot numbered #1") {
		t.Errorf("DM vote on an open motion: %q", got)
	}
	if got := tally(t, h, 1); got != (Tally{1, 0, 0}) {
		t.Errorf("tally = %+v, want 1/0/0", got)
	}
	if got := status(t, h, 1); got != store.MotionOpen {
		t.Errorf("status = %s, want open", got)
	}
}

// TestReceiptCodeUniform: every letter of the receipt alphabet is equally
// likely (bytes that would favour the first letters are rejected), and a
// code is ten of them.
func TestReceiptCodeUniform(t *testing.T) {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	const codes = 31000
	counts := map[rune]int{}
	for range codes {
		code := receiptCode()
		if len(code) != 10 {
			t.Fatalf("code %q", code)
		}
		for _, c := range code {
			counts[c]++
		}
	}
	if len(counts) != len(alphabet) {
		t.Fatalf("letters used: %d, want %d", len(counts), len(alphabet))
	}
	// Each letter is expected 10,000 times (standard deviation about 100);
	// a bias of one byte in 256 towards a letter adds about 1,250.
	for _, c := range alphabet {
		if n := counts[c]; n < 9400 || n > 10600 {
			t.Errorf("%c came %d times, want about 10000", c, n)
		}
	}
}
