package motions

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/msg"
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
	assertNoVoterChoiceLink(t, h, codes)

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
	if f["yes"] != 2 || f["no"] != 1 || f["voted"] != 3 || !strings.Contains(result.Msg.Body, "3 of 3 voted") {
		t.Errorf("result = %v: %q", f, result.Msg.Body)
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

// assertNoVoterChoiceLink checks the store while a secret ballot is open:
// no running tally, no open vote acts, and nothing of the ballots in the
// clear in the box's tables (they are sealed; the forensic test reads the
// files themselves).
func assertNoVoterChoiceLink(t *testing.T, h *Harness, codes map[id.UserID]string) {
	t.Helper()
	ctx := context.Background()
	m, _, err := h.Env.Store.Motions().ByNumber(ctx, Room, 1)
	if err != nil || m.Yes+m.No+m.Abstain != 0 || m.Turnout != len(codes) {
		t.Errorf("open secret motion stores counts %d/%d/%d, turnout %d (%v)", m.Yes, m.No, m.Abstain, m.Turnout, err)
	}
	var acts int
	if err := h.Env.Store.DB.QueryRow(ctx, "SELECT COUNT(*) FROM vote_acts").Scan(&acts); err != nil || acts != 0 {
		t.Errorf("secret votes left %d open vote acts (%v)", acts, err)
	}
	rows, err := h.Env.Store.DB.Query(ctx, "SELECT roll, box FROM ballot_rolls JOIN ballot_boxes USING (motion_id)")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var roll, box []byte
		if err := rows.Scan(&roll, &box); err != nil {
			t.Fatal(err)
		}
		n++
		for user, code := range codes {
			for _, b := range [][]byte{roll, box} {
				if strings.Contains(string(b), code) || strings.Contains(string(b), user.String()) || strings.Contains(string(b), "yes") {
					t.Errorf("a ballot box holds %s or %s in the clear", user, code)
				}
			}
		}
	}
	if n != 1 {
		t.Errorf("%d ballot boxes, want 1", n)
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

// openSecret opens a secret motion in room as proposer and returns its
// ballot code and the ballots sent, by member.
func openSecret(t *testing.T, h *Harness, room id.RoomID, proposer id.UserID, text string) (string, map[id.UserID]Sent) {
	t.Helper()
	if _, err := h.A.HandleMessage(context.Background(), commands.Message{Room: room, Sender: proposer, Event: h.NextEvent(), Time: h.Clock.Now(),
		Body: "!motion --secret --closes 1h " + text}); err != nil {
		t.Fatal(err)
	}
	ballots := map[id.UserID]Sent{}
	code := ""
	for _, o := range h.Drain() {
		if o.DMUser == "" {
			continue
		}
		ballots[o.DMUser] = o
		f, _ := o.Msg.Fields["quorum.ballot"].(map[string]any)
		code, _ = f["code"].(string)
	}
	if code == "" {
		t.Fatalf("no ballot with a code for %q", text)
	}
	return code, ballots
}

// TestSecretBallotText: the ballot gives its code and one-letter answers
// (the same length whatever the choice); the receipt neither repeats the
// choice nor varies in length.
func TestSecretBallotText(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	code, ballots := openSecret(t, h, Room, Ana, "Strike on Friday")
	if len(ballots) != 3 {
		t.Fatalf("%d ballots", len(ballots))
	}
	for _, want := range []string{"!vote " + code + " y", "!vote " + code + " n", "!vote " + code + " a"} {
		if !strings.Contains(ballots[Ben].Msg.Body, want) {
			t.Errorf("the ballot does not say %q: %q", want, ballots[Ben].Msg.Body)
		}
	}
	receipts := map[string]Sent{}
	for user, vote := range map[id.UserID]string{Ana: "y", Ben: "n", Chi: "a"} {
		h.SendDM(user, "!vote "+strings.ToLower(code)+" "+vote)
		r := One(t, h.Last, "receipt code is")
		receipts[vote] = r
		if r.Msg.PadTo != receiptPad || r.Msg.ReplyTo == "" || len(r.Msg.Mentions) != 0 {
			t.Errorf("receipt pad %d, reply to %q, mentions %v", r.Msg.PadTo, r.Msg.ReplyTo, r.Msg.Mentions)
		}
		for _, word := range []string{"yes", "no ", "abstain", ": y", ": n", ": a"} {
			if strings.Contains(r.Msg.Body, word) {
				t.Errorf("the receipt repeats the choice (%q): %q", word, r.Msg.Body)
			}
		}
	}
	// Bodies of the same length: only the random code differs.
	if a, b := receipts["y"].Msg.Body, receipts["a"].Msg.Body; len(a) != len(b) || len(receipts["n"].Msg.Body) != len(a) {
		t.Errorf("receipt lengths differ: %d %d %d", len(a), len(receipts["n"].Msg.Body), len(b))
	}
}

// TestSecretWithdrawnShowsNoCounts: a secret motion withdrawn while open
// publishes its turnout but no counts, in the announcement and the edited
// notice; one that closes with a result shows them.
func TestSecretWithdrawnShowsNoCounts(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	code, _ := openSecret(t, h, Room, Ana, "Strike on Friday")
	h.SendDM(Ben, "!vote "+code+" n")
	h.SendDM(Chi, "!vote "+code+" y")
	out := h.SendAndDrain(Ana, "!withdraw 1")
	if len(out) < 2 {
		t.Fatalf("withdrawal said %d things:%s", len(out), Bodies(out))
	}
	for _, o := range out {
		f := motionField(t, o.Msg)
		for _, k := range []string{"yes", "no", "abstain", "receipts"} {
			if _, shown := f[k]; shown {
				t.Errorf("the withdrawal publishes %s=%v: %v", k, f[k], f)
			}
		}
		if f["voted"] != 2 || f["status"] != "withdrawn" {
			t.Errorf("withdrawal fields = %v", f)
		}
		if strings.Contains(o.Msg.Body, "Tally") || strings.Contains(o.Msg.Body, "1–1") || strings.Contains(o.Msg.Body, "1 yes") {
			t.Errorf("the withdrawal shows counts: %q", o.Msg.Body)
		}
	}
	ctx := context.Background()
	m, _, _ := h.Env.Store.Motions().ByNumber(ctx, Room, 1)
	if m.Yes+m.No+m.Abstain != 0 {
		t.Errorf("the withdrawn motion stored counts %d/%d/%d", m.Yes, m.No, m.Abstain)
	}
	if _, err := h.Env.Store.Secret().Receipts(ctx, m.ID); err == nil {
		t.Error("the withdrawn motion's box still opens")
	}

	// Closed with a result, the counts are shown.
	code, _ = openSecret(t, h, Room, Ana, "Picket on Monday")
	for _, u := range []id.UserID{Ana, Ben, Chi} {
		h.SendDM(u, "!vote "+code+" y")
	}
	result := One(t, h.Last, "Motion #2: Carried 3–0")
	if f := motionField(t, result.Msg); f["yes"] != 3 || f["no"] != 0 {
		t.Errorf("result fields = %v", f)
	}
}

// TestSecretBallotCollision: another room's secret motion with the same
// number does not keep a member from voting: the ballot code reaches the
// ballot it names; the number alone is refused with the codes to use; a
// code of a ballot the member has no say in is refused like an unknown one.
func TestSecretBallotCollision(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	const other = id.RoomID("!other:test")
	h.Rooms.Joined[other] = []id.UserID{Bot, Ana, Dan}
	ours, _ := openSecret(t, h, Room, Ben, "Strike on Friday")
	theirs, _ := openSecret(t, h, other, Dan, "Something else")
	if ours == theirs {
		t.Fatal("two rooms' ballots share a code")
	}
	if got := h.SendDM(Ben, "!vote 1 y"); !strings.Contains(got, "receipt code") {
		t.Errorf("an unambiguous number is refused: %q", got)
	}
	got := h.SendDM(Ana, "!vote 1 y")
	if !strings.Contains(got, "2 of your rooms have an open secret ballot #1") || !strings.Contains(got, ours) || !strings.Contains(got, theirs) {
		t.Errorf("an ambiguous number: %q", got)
	}
	if got := h.SendDM(Ana, "!vote "+ours+" n"); !strings.Contains(got, "receipt code") || !strings.Contains(got, "motion #1 (ballot `"+ours+"`)") {
		t.Errorf("vote by code: %q", got)
	}
	if got := h.SendDM(Ana, "!vote "+theirs+" y"); !strings.Contains(got, "ballot `"+theirs+"`") {
		t.Errorf("vote by the other code: %q", got)
	}
	unknown := h.SendDM(Chi, "!vote ZZZZ y")
	notMine := h.SendDM(Chi, "!vote "+theirs+" y")
	if !strings.Contains(unknown, "You have no secret ballot `ZZZZ`") || strings.Replace(notMine, theirs, "ZZZZ", 1) != unknown {
		t.Errorf("unknown code: %q\nsomeone else's code: %q", unknown, notMine)
	}
	ctx := context.Background()
	for room, want := range map[id.RoomID]string{Room: "no", other: "yes"} {
		m, _, _ := h.Env.Store.Motions().ByNumber(ctx, room, 1)
		receipts, err := h.Env.Store.Secret().Receipts(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range receipts {
			if c == want {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: receipts %v, want one %s from ana", room, receipts, want)
		}
	}
}

// TestSecretBallotWithoutItsKey: a database restored without its seal key
// cannot count an open secret ballot; at its deadline the motion is
// withdrawn uncounted, saying why, rather than staying open for ever.
func TestSecretBallotWithoutItsKey(t *testing.T) {
	dir := t.TempDir()
	h := NewHarnessIn(t, dir, forensicFeatures, Ana, Ben, Chi)
	code, _ := openSecret(t, h, Room, Ana, "Strike on Friday")
	h.SendDM(Ben, "!vote "+code+" y")
	if err := h.Env.Store.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "quorum.db")
	if err := os.Remove(store.SealKeyPath(path)); err != nil {
		t.Fatal(err)
	}
	now := h.Clock.Now()
	h = NewHarnessIn(t, dir, forensicFeatures, Ana, Ben, Chi)
	h.Clock.Advance(now.Sub(h.Clock.Now()))
	out := h.AdvanceTo(now.Add(2 * time.Hour))
	said := One(t, out, "could not be counted")
	if f := motionField(t, said.Msg); f["status"] != "withdrawn" || f["yes"] != nil {
		t.Errorf("fields = %v", f)
	}
	if got := status(t, h, 1); got != store.MotionWithdrawn {
		t.Errorf("status = %s", got)
	}
}

// TestSecretTurnoutOnTheMinute: a secret ballot's notice shows the new
// turnout at the next whole minute, not right after the ballot, so that
// neither the room nor the edit queue learns when each ballot came.
func TestSecretTurnoutOnTheMinute(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	code, _ := openSecret(t, h, Room, Ana, "Strike on Friday")
	h.Clock.Advance(17*time.Second + 301*time.Millisecond)
	h.SendDM(Ben, "!vote "+code+" y")
	minute := h.Clock.Now().Truncate(time.Minute).Add(time.Minute)
	if out := h.AdvanceTo(minute.Add(-time.Millisecond)); len(Saying(out, "Turnout: 1 of 3")) != 0 {
		t.Fatalf("the turnout was edited before the minute:%s", Bodies(out))
	}
	if out := h.AdvanceTo(minute); len(Saying(out, "Turnout: 1 of 3")) != 1 {
		t.Fatalf("no turnout edit at the minute:%s", Bodies(out))
	}
}

// TestSecretBallotReceiptsInParts: the receipts of a secret ballot of 300
// do not fit in one message (Matrix refuses an event over 64 KiB: at 1,000
// voters the result was refused and never posted). The result says how many
// messages follow; together they list every code with the vote cast, once,
// in order, each message small enough to send encrypted.
func TestSecretBallotReceiptsInParts(t *testing.T) {
	members := []id.UserID{Ana}
	for i := 1; i < 300; i++ {
		members = append(members, id.UserID(fmt.Sprintf("@member%03d:example.org", i)))
	}
	h := newHarness(t, members...)
	h.Send(Ana, "!motion --secret --closes 1h Strike on Friday")
	h.Drain()
	cast := map[string]string{}
	for i, user := range members {
		vote := []string{"yes", "no", "abstain"}[i%3]
		m := receiptRE.FindStringSubmatch(h.SendDM(user, "!vote 1 "+vote))
		if m == nil {
			t.Fatalf("no receipt for %s", user)
		}
		cast[m[1]] = vote
	}
	var result msg.Message
	var parts []msg.Message
	for _, o := range h.Last {
		if o.Msg.ReplyToAnchor == nil {
			continue
		}
		if _, ok := o.Msg.Fields["quorum.receipts"]; ok {
			parts = append(parts, o.Msg)
		} else {
			result = o.Msg
		}
		// 40,000 bytes, a third longer encrypted, and the event's envelope
		// stay under Matrix's 65,536.
		if size := len(o.Msg.Body) + len(o.Msg.HTML) + len(msg.Marshal(o.Msg.Fields)); size > 40000 {
			t.Errorf("a message of %d bytes, too long to send encrypted: %.80q…", size, o.Msg.Body)
		}
	}
	f := motionField(t, result)
	if _, inline := f["receipts"]; inline || f["receipts_parts"] != len(parts) || len(parts) < 2 ||
		!strings.Contains(result.Body, fmt.Sprintf("in the %d messages after this one", len(parts))) {
		t.Fatalf("result %.120q (receipts in it: %t, receipts_parts %v), then %d parts", result.Body, inline, f["receipts_parts"], len(parts))
	}
	listed := map[string]string{}
	last := ""
	for i, p := range parts {
		share := p.Fields["quorum.receipts"].(map[string]any)
		if share["motion"] != 1.0 || share["part"] != float64(i+1) || share["parts"] != float64(len(parts)) ||
			!strings.Contains(p.Body, fmt.Sprintf("Receipts of motion #1 (%d of %d)", i+1, len(parts))) {
			t.Errorf("part %d: %v, %.80q", i+1, share, p.Body)
		}
		codes := share["receipts"].(map[string]any)
		for code, vote := range codes {
			if _, twice := listed[code]; twice {
				t.Errorf("code %s listed twice", code)
			}
			listed[code] = vote.(string)
			if !strings.Contains(p.Body, code+" "+vote.(string)) {
				t.Errorf("part %d's text lacks %s %s", i+1, code, vote)
			}
			if code <= last {
				t.Errorf("part %d holds %s, after %s in an earlier part", i+1, code, last)
			}
		}
		for code := range codes {
			last = max(last, code)
		}
	}
	if !maps.Equal(listed, cast) {
		t.Errorf("the parts list %d receipts, %d were cast (or with other votes)", len(listed), len(cast))
	}
}
