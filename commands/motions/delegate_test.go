package motions

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/config"
	"quorum/msg"
	"quorum/store"
)

const aDay = 24 * time.Hour

// delegateHarness is a room of ana, ben and chi where the role negotiator
// brings power level 50 and the bot has level 100.
func delegateHarness(t *testing.T) *Harness {
	t.Helper()
	h := newHarness(t, Ana, Ben, Chi)
	h.Env.Config.Delegates.PowerLevels = map[string]int{"negotiator": 50}
	h.Rooms.Power[Bot] = 100
	return h
}

// propose sends body and returns the one motion notice it opened.
func propose(t *testing.T, h *Harness, sender id.UserID, body string) Sent {
	t.Helper()
	h.Send(sender, body)
	out := h.Drain()
	if len(out) != 1 || out[0].Msg.Anchor == nil || out[0].Msg.Anchor.Kind != anchorMotion {
		t.Fatalf("%s: want one motion notice, got %s", body, Bodies(out))
	}
	return out[0]
}

// votes casts "!vote n choice" for each voter (in order) and returns
// everything said from the first vote on.
func votes(t *testing.T, h *Harness, n int, ballots ...string) []Sent {
	t.Helper()
	for _, b := range ballots {
		voter, choice, _ := strings.Cut(b, " ")
		h.Send(id.UserID(voter), fmt.Sprintf("!vote %d %s", n, choice))
	}
	return h.Drain()
}

// elect opens an election of ben as negotiator and carries it 3–0; it
// returns what the decision said.
func elect(t *testing.T, h *Harness, args string) []Sent {
	t.Helper()
	notice := propose(t, h, Ana, "!delegate "+args)
	n := motionField(t, notice.Msg)["id"].(int)
	out := votes(t, h, n, string(Ana)+" yes", string(Ben)+" yes", string(Chi)+" yes")
	if got := status(t, h, n); got != Carried {
		t.Fatalf("election #%d: status %s", n, got)
	}
	return out
}

// powers returns the power level changes in out.
func powers(t *testing.T, out []Sent) []msg.PowerLevel {
	t.Helper()
	var list []msg.PowerLevel
	for _, o := range out {
		if o.Kind == commands.KindPower {
			var p msg.PowerLevel
			if err := json.Unmarshal(o.Payload, &p); err != nil {
				t.Fatal(err)
			}
			list = append(list, p)
		}
	}
	return list
}

// delegationOf returns m's quorum.delegation (nil if none) as JSON
// would give it to a client.
func delegationOf(t *testing.T, m msg.Message) map[string]any {
	t.Helper()
	v, ok := m.Fields["quorum.delegation"]
	if !ok {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func delegation(t *testing.T, h *Harness, n int) *store.Delegation {
	t.Helper()
	del, ok, err := h.Env.Store.Delegations().ByNumber(context.Background(), Room, n)
	if err != nil || !ok {
		t.Fatalf("delegation #%d: %v %v", n, ok, err)
	}
	return del
}

func TestDelegateLifecycle(t *testing.T) {
	h := delegateHarness(t)
	start := h.Clock.Now()
	notice := propose(t, h, Ana, "!delegate @ben:test negotiator --term 30d : Negotiate the rota.\nNo pay cuts.")
	f := motionField(t, notice.Msg)
	if f["kind"] != kindElection || f["status"] != "open" {
		t.Errorf("election notice quorum.motion = %v", f)
	}
	if !strings.Contains(notice.Msg.Body, "Elect @ben:test as negotiator for 30 days with this mandate: Negotiate the rota.\nNo pay cuts.") {
		t.Errorf("election notice = %q", notice.Msg.Body)
	}
	if delegationOf(t, notice.Msg) != nil {
		t.Error("quorum.delegation before the election was decided")
	}

	out := votes(t, h, 1, "@ana:test yes", "@ben:test yes", "@chi:test no")
	result := One(t, out, "Motion #1: Carried 2–1")
	want := map[string]any{"id": 1.0, "role": "negotiator", "user_id": "@ben:test", "status": "active",
		"mandate": "Negotiate the rota.\nNo pay cuts.", "term_ends": start.Add(30 * aDay).UTC().Format(time.RFC3339)}
	for _, m := range []Sent{result, One(t, out, "is now negotiator")} {
		if got := delegationOf(t, m.Msg); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("quorum.delegation = %v\nwant %v", got, want)
		}
	}
	for _, o := range out {
		if o.Msg.Edit != nil && delegationOf(t, o.Msg)["status"] != "active" {
			t.Errorf("the notice's final edit lacks quorum.delegation: %+v", o.Msg.Fields)
		}
	}
	dm := One(t, out, "You were elected negotiator")
	if dm.DMUser != Ben || !strings.Contains(dm.Msg.Body, "Negotiate the rota.\nNo pay cuts.") {
		t.Errorf("mandate DM to %s: %q", dm.DMUser, dm.Msg.Body)
	}
	if got := powers(t, out); len(got) != 1 || got[0].User != Ben || got[0].Level != 50 {
		t.Errorf("power changes = %+v, want ben to 50", got)
	}
	if i, j := strings.Index(Bodies(out), "Motion #1: Carried"), strings.Index(Bodies(out), "is now negotiator"); i > j {
		t.Errorf("the consequences were said before the result:%s", Bodies(out))
	}
	h.Rooms.Power[Ben] = 50 // the homeserver applied it

	if got := h.Reply(Chi, "!delegates"); !strings.Contains(got, "#1 negotiator: @ben:test since 25 Nov 2026, term ends Fri 25 Dec 12:00 (in 30 days)") ||
		!strings.Contains(got, "Mandate: Negotiate the rota. No pay cuts.") || strings.Contains(got, "Not in the room") {
		t.Errorf("!delegates = %q", got)
	}
	Expect(t, h, Ben, "!report negotiator : Management offered 2%.", "Thank you")
	Expect(t, h, Chi, "!report negotiator : I am not the delegate", "Only a delegate holding negotiator")

	// Ratification: the assembly's vote decides, and the delegate, though a
	// moderator now, cannot close it.
	notice = propose(t, h, Ben, "!ratify negotiator : Accept 3% from January")
	if f := motionField(t, notice.Msg); f["kind"] != kindRatification || !strings.Contains(f["text"].(string), "@ben:test brought back as negotiator") {
		t.Errorf("ratification quorum.motion = %v", f)
	}
	Expect(t, h, Ben, "!close 2", "You can't close the ratification")
	out = votes(t, h, 2, "@ana:test yes", "@ben:test yes", "@chi:test abstain")
	if delegationOf(t, One(t, out, "Motion #2: Carried").Msg)["status"] != "active" {
		t.Error("ratification result lacks quorum.delegation")
	}
	if dm := One(t, out, "ratified"); dm.DMUser != Ben || !strings.Contains(dm.Msg.Body, "Accept 3% from January") {
		t.Errorf("ratification DM: %+v", dm)
	}
	full := h.Reply(Chi, "!delegate 1")
	for _, want := range []string{"Delegation #1: negotiator", "(active)", "Negotiate the rota.\nNo pay cuts.", "Elected by motion #1",
		"elected by motion #1", "report by @ben:test: Management offered 2%.", "ratification, motion #2 carried: Accept 3% from January",
		"Power level while it lasts: 50."} {
		if !strings.Contains(full, want) {
			t.Errorf("!delegate 1 lacks %q:\n%s", want, full)
		}
	}

	// The term's end: a week and a day before, once each, then the lapse.
	h.Clock.Advance(23*aDay - time.Minute)
	if next := h.Due(); !next.Equal(start.Add(23 * aDay)) {
		t.Errorf("next due %v, want the week's reminder at %v", next, start.Add(23*aDay))
	}
	if out := h.Drain(); len(Saying(out, "Reminder")) != 0 {
		t.Fatalf("reminded early:%s", Bodies(out))
	}
	h.Clock.Advance(time.Minute)
	if next := h.Due(); !next.Equal(start.Add(29 * aDay)) {
		t.Errorf("after the week's reminder, next due %v, want the day's", next)
	}
	h.Due()
	if got := One(t, h.Drain(), "Reminder").Msg.Body; !strings.Contains(got, "ends Fri 25 Dec 12:00, in 7 days") {
		t.Errorf("week reminder: %q", got)
	}
	h.Clock.Advance(6 * aDay)
	if next := h.Due(); !next.Equal(start.Add(30 * aDay)) {
		t.Errorf("after the day's reminder, next due %v, want the term's end", next)
	}
	h.Due()
	if got := One(t, h.Drain(), "Reminder").Msg.Body; !strings.Contains(got, "in 1 day") || !strings.Contains(got, "!delegates history negotiator") {
		t.Errorf("day reminder: %q", got)
	}
	h.Clock.Advance(aDay)
	h.Due()
	if next := h.Due(); !next.IsZero() {
		t.Errorf("still scheduled after the lapse: %v", next)
	}
	out = h.Drain()
	lapsed := One(t, out, "the mandate has lapsed")
	if delegationOf(t, lapsed.Msg)["status"] != "lapsed" {
		t.Errorf("lapse quorum.delegation = %v", delegationOf(t, lapsed.Msg))
	}
	if got := powers(t, out); len(got) != 1 || got[0].User != Ben || got[0].Level != 0 {
		t.Errorf("power changes at the lapse = %+v, want ben back to 0", got)
	}
	if del := delegation(t, h, 1); del.Status != store.DelegationLapsed || !del.EndedAt.Equal(start.Add(30*aDay)) {
		t.Errorf("after the term: %s, ended %v", del.Status, del.EndedAt)
	}
	Expect(t, h, Ana, "!delegates", "No one holds a mandate now")
	Expect(t, h, Ana, "!delegates history negotiator", "#1 @ben:test, 25 Nov 2026 – 25 Dec 2026 (lapsed)")
}

func TestRecall(t *testing.T) {
	h := delegateHarness(t)
	elect(t, h, "@ben:test negotiator : Negotiate the rota")
	h.Rooms.Power[Ben] = 50
	notice := propose(t, h, Chi, "!recall @ben:test : Agreed to Sunday shifts")
	if f := motionField(t, notice.Msg); f["kind"] != kindRecall || f["threshold"] != "majority" || f["text"] != "Recall @ben:test as negotiator (delegation #1). Reason: Agreed to Sunday shifts" {
		t.Errorf("recall quorum.motion = %v", f)
	}
	Expect(t, h, Ana, "!recall @ben:test negotiator", "There is already a recall of @ben:test as negotiator: motion #2. Vote on it with `!vote 2 yes`.")
	Expect(t, h, Ben, "!close 2", "You can't close the recall of your own mandate")
	Expect(t, h, Chi, "!withdraw 2", "can't be withdrawn once voting has started")
	// The delegate's vote counts once, like anyone's.
	h.Send(Ben, "!vote 2 no")
	h.Send(Ben, "!vote 2 no")
	out := votes(t, h, 2, "@ana:test yes", "@chi:test yes")
	if got := tally(t, h, 2); got != (Tally{2, 1, 0}) {
		t.Fatalf("tally = %+v", got)
	}
	result := One(t, out, "Motion #2: Carried 2–1")
	if f := delegationOf(t, result.Msg); f["status"] != "recalled" || f["user_id"] != "@ben:test" || f["ended_at"] == nil {
		t.Errorf("recall result quorum.delegation = %v", f)
	}
	if said := One(t, out, "is no longer negotiator"); said.Room != Room {
		t.Errorf("recall said in %q", said.Room)
	}
	if dm := One(t, out, "recalled you as negotiator"); dm.DMUser != Ben || !strings.Contains(dm.Msg.Body, "Reason given: Agreed to Sunday shifts") {
		t.Errorf("recall DM: %+v", dm)
	}
	if got := powers(t, out); len(got) != 1 || got[0].User != Ben || got[0].Level != 0 {
		t.Errorf("power changes = %+v, want ben back to 0", got)
	}
	if del := delegation(t, h, 1); del.Status != store.DelegationRecalled || del.RecallNumber != 2 {
		t.Errorf("after the recall: %+v", del)
	}
	if got := h.Reply(Ana, "!delegates @ben:test"); !strings.Contains(got, "holds no mandate now") || !strings.Contains(got, "#1 negotiator, 25 Nov 2026 – 25 Nov 2026 (recalled)") {
		t.Errorf("!delegates @ben: %q", got)
	}
	Expect(t, h, Ana, "!recall @ben:test", "holds no mandate now, so there is nothing to recall: their last one, as negotiator (#1), recalled on")
	// Nothing happens at the old term's end.
	h.Clock.Advance(365 * aDay)
	if next := h.Due(); !next.IsZero() {
		t.Errorf("a recalled mandate is still scheduled: %v", next)
	}
	if out := h.Drain(); len(out) != 0 {
		t.Errorf("said after the recall:%s", Bodies(out))
	}
}

func TestRecallFails(t *testing.T) {
	h := delegateHarness(t)
	elect(t, h, "@ben:test negotiator : Negotiate the rota")
	propose(t, h, Chi, "!recall @ben")
	out := votes(t, h, 2, "@ana:test no", "@ben:test no", "@chi:test yes")
	if f := delegationOf(t, One(t, out, "Motion #2: Failed 1–2").Msg); f["status"] != "active" {
		t.Errorf("failed recall quorum.delegation = %v", f)
	}
	if len(powers(t, out)) != 0 || len(Saying(out, "no longer")) != 0 {
		t.Errorf("a failed recall had effects:%s", Bodies(out))
	}
	if del := delegation(t, h, 1); del.Status != store.DelegationActive {
		t.Errorf("status %s after a failed recall", del.Status)
	}
	Expect(t, h, Ana, "!delegate 1", "recall, motion #2 failed")
	// A new recall may be opened now that the first is decided.
	propose(t, h, Chi, "!recall @ben:test negotiator")
}

func TestRecallAfterLapse(t *testing.T) {
	h := delegateHarness(t)
	elect(t, h, "@ben:test negotiator --term 2d : Negotiate the rota")
	h.Rooms.Power[Ben] = 50
	propose(t, h, Chi, "!recall @ben:test")
	h.Clock.Advance(2 * aDay)
	h.Due()
	out := h.Drain()
	One(t, out, "the mandate has lapsed")
	h.Rooms.Power[Ben] = 0
	out = votes(t, h, 2, "@ana:test yes", "@ben:test no", "@chi:test yes")
	One(t, out, "The recall carried, but @ben:test's mandate as negotiator (delegation #1) had already lapsed on Fri 27 Nov 12:00")
	if f := delegationOf(t, One(t, out, "Motion #2: Carried").Msg); f["status"] != "lapsed" {
		t.Errorf("quorum.delegation = %v", f)
	}
	if len(powers(t, out)) != 0 || len(Saying(out, "recalled you")) != 0 {
		t.Errorf("a recall after the lapse acted again:%s", Bodies(out))
	}
	if del := delegation(t, h, 1); del.Status != store.DelegationLapsed || del.EndedBy != 0 {
		t.Errorf("after: %+v", del)
	}
}

// TestLapseWhileDown: a term that ended while the bot was down lapses
// once, dated at the term's end, without the reminders it missed.
func TestLapseWhileDown(t *testing.T) {
	h := delegateHarness(t)
	start := h.Clock.Now()
	elect(t, h, "@ben:test negotiator --term 10d : Negotiate the rota")
	h.Clock.Advance(40 * aDay)
	h.Due()
	h.Due()
	out := h.Drain()
	if said := Saying(out, ""); len(said) != 1 || !strings.Contains(said[0].Msg.Body, "ended Sat 5 Dec 12:00: the mandate has lapsed") {
		t.Fatalf("want just the lapse, got:%s", Bodies(out))
	}
	if del := delegation(t, h, 1); !del.EndedAt.Equal(start.Add(10 * aDay)) {
		t.Errorf("ended at %v, want the term's end", del.EndedAt)
	}
}

// TestRemindersCatchUp: a week's reminder missed while the bot was down is
// superseded by the day's; a short term gets no pointless reminder.
func TestRemindersCatchUp(t *testing.T) {
	h := delegateHarness(t)
	elect(t, h, "@ben:test negotiator --term 30d : Negotiate")
	elect(t, h, "@chi:test treasurer --term 3d : Keep the books")
	h.Due()
	if out := h.Drain(); len(out) != 0 {
		t.Fatalf("reminded at once:%s", Bodies(out))
	}
	h.Clock.Advance(29*aDay + time.Hour)
	h.Due()
	out := h.Drain()
	if len(Saying(out, "Reminder")) != 1 || len(Saying(out, "in 23h")) != 1 {
		t.Errorf("want only the day's reminder for negotiator:%s", Bodies(out))
	}
	One(t, out, "@chi:test's term as treasurer (delegation #2) ended")
}

func TestElectionRefusals(t *testing.T) {
	h := delegateHarness(t)
	h.Env.Config.IgnoredUsers = []string{"@otherbot:test"}
	h.Rooms.Joined[Room] = append(h.Rooms.Joined[Room], "@otherbot:test")
	for _, tc := range []struct{ body, want string }{
		{"!delegate @dan:test negotiator : Negotiate", "@dan:test is not in this room"},
		{"!delegate @quorum:test negotiator : Negotiate", "I can't be a delegate"},
		{"!delegate @otherbot:test negotiator : Negotiate", "not a voting member"},
		{"!delegate @ben:test negotiator Negotiate the rota", "the mandate after a colon. For example: `!delegate @name:test negotiator --term 60d : "},
		{"!delegate @ben:test negotiator :", "What is the mandate?"},
		{"!delegate @ben:test : Negotiate", "Say who, which role"},
		{"!delegate ben negotiator : Negotiate", "\"ben\" is not a member"},
		{"!delegate @ben:test 3rd : Negotiate", "\"3rd\" can't be a role"},
		{"!delegate @ben:test history : Negotiate", "\"history\" can't be a role"},
		{"!delegate @ben:test negotiator --term 2y : Negotiate", "`--term` needs a length of at most 365 days"},
		{"!delegate @ben:test negotiator --term 400d : Negotiate", "`--term` needs a length of at most 365 days"},
		{"!delegate @ben:test negotiator --term : Negotiate", "`--term` needs a length"},
		{"!delegate @ben:test negotiator --frobnicate : Negotiate", "I don't know the option `--frobnicate`"},
		{"!delegate @ben:test negotiator please : Negotiate", "I don't understand `please` before the colon"},
		{"!delegate @ben:test negotiator : " + strings.Repeat("x", maxMandate+1), "the limit is 1500"},
		{"!delegate 9", "There is no delegation #9"},
	} {
		Expect(t, h, Ana, tc.body, tc.want)
	}
	if got := h.SendDM(Ana, "!delegate @ben:test negotiator : Negotiate"); !strings.Contains(got, "in the assembly's room") {
		t.Errorf("in a DM: %q", got)
	}
	if pending, _ := h.Env.Store.Motions().Pending(context.Background(), Room); len(pending) != 0 {
		t.Fatalf("a refused !delegate opened %d motions", len(pending))
	}
	propose(t, h, Ana, "!delegate @ben negotiator --closes 48h --quorum 2 : Negotiate")
	Expect(t, h, Chi, "!delegate @ben:test negotiator : Something else", "There is already an election of @ben:test as negotiator: motion #1")
	votes(t, h, 1, "@ana:test yes", "@ben:test yes", "@chi:test yes")
	Expect(t, h, Chi, "!delegate @ben:test negotiator : Again", "@ben:test already holds the mandate as negotiator (delegation #1)")
	// A different role is fine, and so is another member in the same role.
	propose(t, h, Chi, "!delegate @ben:test treasurer : Keep the books")
	propose(t, h, Chi, "!delegate @chi:test NEGOTIATOR : Negotiate too")
}

func TestElectionOptions(t *testing.T) {
	h := delegateHarness(t)
	notice := propose(t, h, Ana, "!delegate @ben:test negotiator --term 6 weeks --closes friday 18:00 --quorum 2 --threshold 2/3: Negotiate")
	f := motionField(t, notice.Msg)
	if f["threshold"] != "2/3" || f["quorum"] != 2 || f["closes_at"] != "2026-11-27T18:00:00Z" || !strings.Contains(f["text"].(string), "for 42 days") {
		t.Errorf("quorum.motion = %v", f)
	}
	// A failed election gives no mandate and no quorum.delegation.
	out := votes(t, h, 1, "@ana:test yes", "@ben:test no", "@chi:test no")
	if f := delegationOf(t, One(t, out, "Motion #1: Failed").Msg); f != nil {
		t.Errorf("failed election has quorum.delegation %v", f)
	}
	if len(Saying(out, "is now")) != 0 || len(powers(t, out)) != 0 {
		t.Errorf("a failed election had effects:%s", Bodies(out))
	}
}

func TestRecallRefusals(t *testing.T) {
	h := delegateHarness(t)
	elect(t, h, "@ben:test negotiator : Negotiate")
	elect(t, h, "@ben:test treasurer : Keep the books")
	for _, tc := range []struct{ body, want string }{
		{"!recall @chi:test", "@chi:test holds no mandate here, so there is nothing to recall"},
		{"!recall @ben:test", "@ben:test holds 2 mandates (negotiator, treasurer). Say which, for example `!recall @ben:test negotiator`"},
		{"!recall @ben:test secretary", "@ben:test holds no mandate as secretary; they are negotiator, treasurer"},
		{"!recall", "Say whom to recall"},
		{"!recall @ben:test negotiator extra", "Say whom to recall"},
		{"!recall @ben:test negotiator : " + strings.Repeat("x", maxReason+1), "the limit is 500"},
		{"!recall @zed", "I can't find @zed here"},
		{"!recall @ben:test negotiator --quorum 0", "`--quorum` can't be used here"},
		{"!recall @ben:test --closes 1y negotiator", "`--closes` can't be used here"},
	} {
		Expect(t, h, Ana, tc.body, tc.want)
	}
	if got := h.Reply("@outsider:test", "!recall @ben:test negotiator"); !strings.Contains(got, "Only voting members") {
		t.Errorf("outsider: %q", got)
	}
	if pending, _ := h.Env.Store.Motions().Pending(context.Background(), Room); len(pending) != 0 {
		t.Fatalf("a refused !recall opened %d motions", len(pending))
	}
	// While a recall awaits a second, a second recall points to it.
	h.Env.Config.Motions.RequireSecond = true
	propose(t, h, Chi, "!recall @ben:test treasurer")
	Expect(t, h, Ana, "!recall @ben:test treasurer", "motion #3. It needs a second: `!second 3`")
	// Before voting starts, its proposer may withdraw it.
	h.Send(Chi, "!withdraw 3")
	if got := status(t, h, 3); got != store.MotionWithdrawn {
		t.Errorf("withdraw awaiting second: %s", got)
	}
}

func TestRatifyRefusals(t *testing.T) {
	h := delegateHarness(t)
	Expect(t, h, Ana, "!ratify negotiator : Accept", "No one holds the mandate as negotiator now")
	elect(t, h, "@ben:test negotiator : Negotiate")
	elect(t, h, "@chi:test negotiator : Negotiate too")
	for _, tc := range []struct{ body, want string }{
		{"!ratify negotiator : Accept", "2 members hold negotiator. Say whose proposal it is"},
		{"!ratify negotiator @ana:test : Accept", "@ana:test does not hold the mandate as negotiator now"},
		{"!ratify negotiator", "Say which role, then the text after a colon"},
		{"!ratify negotiator :", "Say which role, then the text after a colon"},
	} {
		Expect(t, h, Ana, tc.body, tc.want)
	}
	// Named, or the sender's own: the other delegate of the role can't
	// close it either.
	notice := propose(t, h, Ana, "!ratify negotiator @chi : Accept")
	if !strings.Contains(motionField(t, notice.Msg)["text"].(string), "@chi:test brought back") {
		t.Errorf("ratification of chi's: %q", notice.Msg.Body)
	}
	h.Rooms.Power[Ben] = 50
	Expect(t, h, Ben, "!close 3", "You can't close the ratification")
	h.Rooms.Power[Ana] = 50
	h.Send(Ana, "!close 3")
	if got := status(t, h, 3); got != Failed {
		t.Errorf("a moderator not concerned closes it as usual: %s", got)
	}
	h.Drain()
	notice = propose(t, h, Ben, "!ratify negotiator : Counter-offer")
	if !strings.Contains(motionField(t, notice.Msg)["text"].(string), "@ben:test brought back") {
		t.Errorf("ratification by a delegate of the role: %q", notice.Msg.Body)
	}
}

func TestCloseOwnElection(t *testing.T) {
	h := delegateHarness(t)
	propose(t, h, Ana, "!delegate @ben:test negotiator : Negotiate")
	h.Rooms.Power[Ben] = 50
	Expect(t, h, Ben, "!close 1", "You can't close your own election early")
}

func TestDelegateLeaves(t *testing.T) {
	h := delegateHarness(t)
	elect(t, h, "@ben:test negotiator : Negotiate")
	h.Rooms.Joined[Room] = []id.UserID{Bot, Ana, Chi}
	if err := h.A.HandleLeave(context.Background(), Room, Ben, h.NextEvent(), h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	left := One(t, h.Drain(), "left the room")
	if !strings.Contains(left.Msg.Body, "stands until it is recalled or its term ends") {
		t.Errorf("leave notice: %q", left.Msg.Body)
	}
	Expect(t, h, Ana, "!delegates", "Not in the room now: the mandate stands until it is recalled or lapses")
	if del := delegation(t, h, 1); del.Status != store.DelegationActive {
		t.Errorf("leaving ended the mandate: %s", del.Status)
	}
	Expect(t, h, Ana, "!delegate 1", "left the room")
	// A bare @localpart still finds the delegate who left, and the recall
	// needs only those who remain.
	propose(t, h, Chi, "!recall @ben : Gone quiet")
	out := votes(t, h, 2, "@ana:test yes", "@chi:test yes")
	if del := delegation(t, h, 1); del.Status != store.DelegationRecalled {
		t.Errorf("status %s", del.Status)
	}
	// Who left is not sent the room's business, the reason included.
	for _, o := range out {
		if o.DMUser == Ben {
			t.Errorf("the delegate who left was sent a DM: %s", o.Msg.Body)
		}
	}
	One(t, out, "Recall")
}

func TestDelegatePowerLevels(t *testing.T) {
	t.Run("bot too weak to take it back", func(t *testing.T) {
		h := delegateHarness(t)
		h.Rooms.Power[Bot] = 50
		out := elect(t, h, "@ben:test negotiator : Negotiate")
		if len(powers(t, out)) != 0 {
			t.Errorf("granted a level the bot could not take back:%s", Bodies(out))
		}
		One(t, out, "my own level (50) must be above it")
		propose(t, h, Chi, "!recall @ben")
		if out := votes(t, h, 2, "@ana:test yes", "@chi:test yes", "@ben:test yes"); len(powers(t, out)) != 0 {
			t.Errorf("lowered a level it never gave:%s", Bodies(out))
		}
	})
	t.Run("already higher", func(t *testing.T) {
		h := delegateHarness(t)
		h.Rooms.Power[Ben] = 100
		if out := elect(t, h, "@ben:test negotiator : Negotiate"); len(powers(t, out)) != 0 {
			t.Errorf("lowered or set an admin:%s", Bodies(out))
		}
		propose(t, h, Chi, "!recall @ben")
		if out := votes(t, h, 2, "@ana:test yes", "@chi:test yes", "@ben:test yes"); len(powers(t, out)) != 0 {
			t.Errorf("touched an admin's level:%s", Bodies(out))
		}
	})
	t.Run("only if unchanged", func(t *testing.T) {
		// Both changes are conditional on the level found: the bot leaves
		// alone a level someone changed meanwhile (bot/delegate_test.go).
		h := delegateHarness(t)
		h.Rooms.Power[Ben] = 10
		grant := powers(t, elect(t, h, "@ben:test negotiator : Negotiate"))
		if len(grant) != 1 || grant[0].From == nil || *grant[0].From != 10 {
			t.Fatalf("grant %+v, want it conditional on ben's level 10", grant)
		}
		propose(t, h, Chi, "!recall @ben")
		undo := powers(t, votes(t, h, 2, "@ana:test yes", "@chi:test yes", "@ben:test yes"))
		if len(undo) != 1 || undo[0].Level != 10 || undo[0].From == nil || *undo[0].From != 50 {
			t.Errorf("release %+v, want 50 back to 10 only if still 50", undo)
		}
	})
	t.Run("two mandates", func(t *testing.T) {
		// The room's levels are read once (before the first grant, as if
		// no change had synced since): each change follows from the last.
		h := delegateHarness(t)
		h.Env.Config.Delegates.PowerLevels["treasurer"] = 60
		h.Rooms.Power[Ben] = 10
		for _, step := range []struct {
			body     string
			n        int
			from, to int
		}{
			{"!delegate @ben:test negotiator : Negotiate", 1, 10, 50},
			{"!delegate @ben:test treasurer : Keep the books", 2, 50, 60},
			{"!recall @ben treasurer", 3, 60, 50},
			{"!recall @ben negotiator", 4, 50, 10},
		} {
			propose(t, h, Chi, step.body)
			got := powers(t, votes(t, h, step.n, "@ana:test yes", "@chi:test yes", "@ben:test yes"))
			if len(got) != 1 || got[0].Level != step.to || got[0].From == nil || *got[0].From != step.from {
				t.Fatalf("%s: %+v, want %d → %d", step.body, got, step.from, step.to)
			}
		}
	})
}

func TestDelegatesViews(t *testing.T) {
	h := delegateHarness(t)
	Expect(t, h, Ana, "!delegates", "No one holds a mandate now. Elect a delegate with `!delegate @name:test <role> : <mandate>`")
	Expect(t, h, Ana, "!delegates history negotiator", "No one has held negotiator")
	Expect(t, h, Ana, "!delegates @ben:test", "has held no mandate")
	Expect(t, h, Ana, "!delegates everything", "Try `!delegates`")
	// Rotation: ben holds negotiator twice, chi once in between.
	for i, who := range []string{"@ben:test", "@chi:test", "@ben:test"} {
		elect(t, h, who+" negotiator --term 10d : Negotiate")
		h.Clock.Advance(10 * aDay)
		h.Due()
		h.Drain()
		_ = i
	}
	elect(t, h, "@ben:test negotiator --term 10d : Negotiate")
	h.Clock.Advance(5 * aDay)
	got := h.Reply(Ana, "!delegates history negotiator")
	for _, want := range []string{"Who held negotiator\n", "#1 @ben:test, 25 Nov 2026 – 5 Dec 2026 (lapsed)", "#2 @chi:test",
		"#4 @ben:test, since 25 Dec 2026 (active)", "4 mandates, 2 people.", "@ben:test held it 3 times, 25 days in all."} {
		if !strings.Contains(got, want) {
			t.Errorf("history lacks %q:\n%s", want, got)
		}
	}
	if got := h.Reply(Ana, "!delegates @ben:test"); !strings.Contains(got, "Delegation #4: negotiator") || strings.Contains(got, "Delegation #1") {
		t.Errorf("!delegates @ben shows the active one in full: %q", got)
	}
}

func TestCheckDelegatesConfig(t *testing.T) {
	cfg := Config(t)
	if err := CheckConfig(cfg); err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
	good := cfg.Delegates
	for _, bad := range []config.Delegates{
		{Term: "forever", RecallThreshold: "majority"},
		{Term: "400d", RecallThreshold: "majority"},
		{Term: "90d", RecallThreshold: "most"},
		{Term: "90d", RecallThreshold: "majority", PowerLevels: map[string]int{"two words": 50}},
		{Term: "90d", RecallThreshold: "majority", PowerLevels: map[string]int{"negotiator": 500}},
	} {
		cfg.Delegates = bad
		if err := CheckConfig(cfg); err == nil || !strings.Contains(err.Error(), "delegates.") {
			t.Errorf("%+v: want a delegates config error, got %v", bad, err)
		}
	}
	cfg.Delegates = good
	for _, level := range []int{1, 50, 100} {
		cfg.Delegates.PowerLevels = map[string]int{"negotiator": level}
		if err := CheckConfig(cfg); err != nil {
			t.Errorf("power level %d rejected: %v", level, err)
		}
	}
	for _, level := range []int{0, 101, -1} {
		cfg.Delegates.PowerLevels = map[string]int{"negotiator": level}
		if err := CheckConfig(cfg); err == nil || !strings.Contains(err.Error(), "is not a power level from 1 to 100") {
			t.Errorf("power level %d: %v", level, err)
		}
	}
	cfg.Delegates = good
	for _, role := range []string{"", "two words", "history"} {
		cfg.Council.DelegateRole = role
		if err := CheckConfig(cfg); err == nil || !strings.Contains(err.Error(), "council.delegate_role") {
			t.Errorf("council.delegate_role %q: %v", role, err)
		}
	}
}

// TestDelegateGrammarLimits: each limit of the grammar, exactly at it and
// one over.
func TestDelegateGrammarLimits(t *testing.T) {
	h := delegateHarness(t)
	h.Rooms.Joined[Room] = append(h.Rooms.Joined[Room], "@b:test") // a one-letter localpart
	role32 := strings.Repeat("r", maxRoleLen)
	for _, tc := range []struct{ body, want string }{
		{"!delegate @ben:test " + role32 + "x : Negotiate", "can't be a role"},
		{"!delegate @ben:test negotiator --term 366d : Negotiate", "`--term` needs a length of at most 365 days"},
		{"!delegate @ : Negotiate", "Say who, which role"},
		{"!delegate @ negotiator : Negotiate", "\"@\" is not a member"},
		{"!recall @ben:test : " + strings.Repeat("x", maxReason+1), "That reason is 501 characters long; the limit is 500."},
		{"!ratify negotiator : " + strings.Repeat("x", maxProposal+1), "That is 1501 characters long; the limit is 1500."},
		{"!delegate @ben:test negotiator : " + strings.Repeat("x", maxMandate+1), "That mandate is 1501 characters long; the limit is 1500."},
	} {
		Expect(t, h, Ana, tc.body, tc.want)
	}
	for _, tc := range []struct{ body, want string }{
		{"!delegate @ben:test " + role32 + " : Negotiate", "as " + role32},
		{"!delegate @b negotiator : Negotiate", "@b:test as negotiator"},
		{"!delegate @ben:test treasurer --term 365d : Keep the books", "for 365 days"},
		{"!delegate @chi:test negotiator --quorum 2 --term 30d : Negotiate", "for 30 days"},
		{"!delegate @chi:test treasurer --term 12h : " + strings.Repeat("m", maxMandate), "for 12h"},
	} {
		notice := propose(t, h, Ana, tc.body)
		if f := motionField(t, notice.Msg); !strings.Contains(f["text"].(string), tc.want) {
			t.Errorf("%.60s: text %q, want %q", tc.body, f["text"], tc.want)
		}
	}
	if f := motionField(t, propose(t, h, Chi, "!delegate @ben:test clerk --quorum 2 --term 30d : x").Msg); f["quorum"] != 2 {
		t.Errorf("--quorum before --term: %v", f)
	}
}

// TestRecallRatifyLimits: a reason and a proposal of exactly their limit
// are taken.
func TestRecallRatifyLimits(t *testing.T) {
	h := delegateHarness(t)
	elect(t, h, "@ben:test negotiator : Negotiate")
	reason := strings.Repeat("r", maxReason)
	if f := motionField(t, propose(t, h, Chi, "!recall @ben:test negotiator : "+reason).Msg); !strings.Contains(f["text"].(string), reason) {
		t.Errorf("recall text %q", f["text"])
	}
	proposal := strings.Repeat("p", maxProposal)
	if f := motionField(t, propose(t, h, Ben, "!ratify negotiator : "+proposal).Msg); !strings.Contains(f["text"].(string), proposal) {
		t.Errorf("ratification text %q", f["text"])
	}
}

// TestShortTermReminders: a term of a day or less gets no reminder (its
// last day is all of it), a term of a week or less no week's reminder.
func TestShortTermReminders(t *testing.T) {
	h := delegateHarness(t)
	elect(t, h, "@ben:test negotiator --term 1d : Negotiate")
	elect(t, h, "@chi:test treasurer --term 7d : Keep the books")
	for _, step := range []time.Duration{0, time.Hour, 22 * time.Hour} {
		h.Clock.Advance(step)
		h.Due()
		if out := h.Drain(); len(Saying(out, "Reminder")) != 0 {
			t.Fatalf("a pointless reminder after %v:%s", step, Bodies(out))
		}
	}
	h.Clock.Advance(time.Hour) // a day after the election
	h.Due()
	out := h.Drain()
	One(t, out, "@ben:test's term as negotiator (delegation #1) ended")
	if len(Saying(out, "Reminder")) != 0 {
		t.Errorf("a reminder with the lapse:%s", Bodies(out))
	}
	h.Clock.Advance(5 * aDay) // a day before the treasurer's term ends
	h.Due()
	if got := One(t, h.Drain(), "Reminder").Msg.Body; !strings.Contains(got, "treasurer") || !strings.Contains(got, "in 1 day") {
		t.Errorf("the day's reminder: %q", got)
	}
}

// FuzzDelegateArgs: no input crashes the grammar, every refusal is a
// friendly user error, and what is accepted is well-formed.
func FuzzDelegateArgs(f *testing.F) {
	for _, s := range []string{
		"@ben:test negotiator --term 30d : Negotiate the rota",
		"@ben negotiator --closes friday 18:00 --quorum 2 : x",
		"@ben:test negotiator : Agreed to Sunday shifts",
		"negotiator @ben : Accept 3%",
		"@ben:test:", ": :", "--term --term : x", "@ä:ö Ü : ü", "https://matrix.to/#/@ben:test negotiator : x",
		// Edges: nothing, a colon alone, roles at and over their length,
		// reserved and malformed roles, users that are not, terms at and
		// beyond their limits, texts at and over theirs, line breaks.
		"", ":", " : ", "@ben", "@ben negotiator", "@ben negotiator :", "@ben negotiator : ",
		"@ben " + strings.Repeat("r", maxRoleLen) + " : x", "@ben " + strings.Repeat("r", maxRoleLen+1) + " : x",
		"@ben history : x", "@ben 1st : x", "@ben n_2-x : x", "@ben -x : x", "@ : x", "@b negotiator : x", "ben negotiator : x",
		"@ben:test negotiator --term 0d : x", "@ben:test negotiator --term 1m : x", "@ben:test negotiator --term 365d : x",
		"@ben:test negotiator --term 366d : x", "@ben:test negotiator --term : x", "@ben:test negotiator --frobnicate : x",
		"@ben:test negotiator --secret : x", "@ben:test negotiator --threshold 2/3 --quorum 100% : x",
		"@ben:test negotiator extra words : x", "@ben:test negotiator : " + strings.Repeat("m", maxMandate),
		"@ben:test negotiator : " + strings.Repeat("m", maxMandate+1), "@ben : " + strings.Repeat("r", maxReason),
		"@ben : " + strings.Repeat("r", maxReason+1), "negotiator : " + strings.Repeat("p", maxProposal+1),
		"@ben:test negotiator : line one\nline two", "@ben:test negotiator 18:00 : x", "@ben:test\tnegotiator\t:\tx",
	} {
		f.Add(s)
	}
	// The grammar needs only the configuration and the clock.
	for key, value := range map[string]string{"HOMESERVER": "http://127.0.0.1:1", "USER_ID": Bot.String(), "PASSWORD": "x", "DATABASE": "x.db"} {
		f.Setenv("QUORUM_"+key, value)
	}
	cfg, err := config.Load("")
	if err != nil {
		f.Fatal(err)
	}
	env := &commands.Env{Config: cfg, Clock: NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))}
	known := []id.UserID{Ana, Ben, Chi}
	f.Fuzz(func(t *testing.T, args string) {
		r := &commands.Request{Env: env, Room: Room, Sender: Ana, Prefix: "!"}
		check := func(err error, user id.UserID, role, text string, limit int) {
			if err != nil {
				if _, ok := commands.AsRefusal(err); !ok {
					t.Fatalf("%q: not a user error: %v", args, err)
				}
				return
			}
			if user != "" {
				if _, _, err := user.ParseAndValidateRelaxed(); err != nil {
					t.Fatalf("%q: accepted user %q", args, user)
				}
			}
			if role != "" {
				if got, ok := parseRole(role); !ok || got != role {
					t.Fatalf("%q: accepted role %q", args, role)
				}
			}
			if len(text) > limit || strings.TrimSpace(text) != text || !strings.Contains(args, text) {
				t.Fatalf("%q: text %q", args, text)
			}
		}
		spec, _ := (&Feature{}).defaults(r)
		e, err := parseElection(r, args, known, spec, 90*aDay)
		check(err, e.user, e.role, e.mandate, maxMandate)
		if err == nil && (e.mandate == "" || e.role == "" || e.term <= 0 || e.term > maxTerm) {
			t.Fatalf("%q: accepted %+v", args, e)
		}
		a, err := parseRecall(r, args, known)
		check(err, a.user, a.role, a.reason, maxReason)
		rt, err := parseRoleText(r, args, known, true, maxProposal, "ratify x : y")
		check(err, rt.user, rt.role, rt.text, maxProposal)
		if err == nil && rt.text == "" {
			t.Fatalf("%q: accepted an empty text", args)
		}
	})
}

// TestSecretRecallAndRatification: --secret is the one option a recall or
// a ratification takes.
func TestSecretRecallAndRatification(t *testing.T) {
	h := delegateHarness(t)
	elect(t, h, "@ben:test negotiator : Negotiate")
	h.Send(Chi, "!recall @ben --secret : Agreed to Sunday shifts")
	if f := motionField(t, One(t, h.Drain(), "Motion #2").Msg); f["kind"] != kindRecall || f["secret"] != true {
		t.Errorf("secret recall quorum.motion = %v", f)
	}
	h.Send(Chi, "!ratify negotiator --secret : Accept 3%")
	if f := motionField(t, One(t, h.Drain(), "Motion #3").Msg); f["kind"] != kindRatification || f["secret"] != true {
		t.Errorf("secret ratification quorum.motion = %v", f)
	}
	Expect(t, h, Chi, "!ratify negotiator --threshold 10% : Accept", "`--threshold` can't be used here")
	Expect(t, h, Ben, "!report negotiator --secret : Hi", "Say which role, then the text after a colon")
}

// TestRoleHistoryLong: a long history shows its latest mandates and counts
// them all.
func TestRoleHistoryLong(t *testing.T) {
	h := delegateHarness(t)
	n := historyShown + 2
	for i := range n {
		who := []string{"@ana:test", "@ben:test", "@chi:test"}[i%3]
		elect(t, h, who+" negotiator --term 1d : Negotiate")
		h.Clock.Advance(aDay)
		h.Due()
		h.Drain()
	}
	got := h.Reply(Chi, "!delegates history negotiator")
	if !strings.Contains(got, "(2 earlier mandates not shown)") || strings.Contains(got, "#2 ") || !strings.Contains(got, "#3 @chi:test") ||
		!strings.Contains(got, fmt.Sprintf("%d mandates, 3 people.", n)) || !strings.Contains(got, fmt.Sprintf("@ana:test held it %d times, %d days in all.", (n+2)/3, (n+2)/3)) {
		t.Errorf("long history:\n%s", got)
	}
}

// TestRoleHistoryShown: a history of exactly the shown length hides
// nothing; who held it once gets no line of their own.
func TestRoleHistoryShown(t *testing.T) {
	h := delegateHarness(t)
	for i := range historyShown {
		who := []string{"@ana:test", "@chi:test"}[i%2]
		if i == 0 {
			who = "@ben:test"
		}
		elect(t, h, who+" negotiator --term 1d : Negotiate")
		h.Clock.Advance(aDay)
		h.Due()
		h.Drain()
	}
	got := h.Reply(Chi, "!delegates history negotiator")
	if strings.Contains(got, "earlier mandates") || !strings.Contains(got, "#1 @ben:test") ||
		!strings.Contains(got, fmt.Sprintf("%d mandates, 3 people.", historyShown)) || strings.Contains(got, "@ben:test held it") ||
		!strings.Contains(got, "@chi:test held it 5 times, 5 days in all.") {
		t.Errorf("history of %d:\n%s", historyShown, got)
	}
}

// TestRatificationAfterRecall: the result is kept in the ended mandate's
// history, and the former delegate is not asked to convey it.
func TestRatificationAfterRecall(t *testing.T) {
	h := delegateHarness(t)
	elect(t, h, "@ben:test negotiator : Negotiate")
	propose(t, h, Chi, "!ratify negotiator : Accept 3%")
	propose(t, h, Chi, "!recall @ben")
	votes(t, h, 3, "@ana:test yes", "@chi:test yes", "@ben:test no")
	out := votes(t, h, 2, "@ana:test yes", "@chi:test yes", "@ben:test yes")
	if f := delegationOf(t, One(t, out, "Motion #2: Carried").Msg); f["status"] != "recalled" {
		t.Errorf("quorum.delegation = %v", f)
	}
	if dms := Saying(out, "the proposal you brought back"); len(dms) != 0 {
		t.Errorf("the recalled delegate was asked to convey it:%s", Bodies(dms))
	}
	Expect(t, h, Ana, "!delegate 1", "ratification, motion #2 carried: Accept 3%")
}

// TestPowerBelowZero: a member with a negative power level who also holds
// a role without one is raised by a role with one, and brought back to
// their own level (not to 0) when it ends.
func TestPowerBelowZero(t *testing.T) {
	h := delegateHarness(t)
	h.Rooms.Power[Ben] = -5
	elect(t, h, "@ben:test treasurer --term 10d : Keep the books") // no power level
	out := elect(t, h, "@ben:test negotiator --term 2d : Negotiate")
	if got := powers(t, out); len(got) != 1 || got[0].Level != 50 || got[0].From == nil || *got[0].From != -5 {
		t.Fatalf("grant: %+v", got)
	}
	h.Rooms.Power[Ben] = 50
	h.Clock.Advance(2 * aDay)
	h.Due()
	if got := powers(t, h.Drain()); len(got) != 1 || got[0].Level != -5 || got[0].From == nil || *got[0].From != 50 {
		t.Errorf("release: %+v, want back to -5", got)
	}
}

// TestDelegateView: a member's active mandates are all shown, each with
// its power level if it brings one; one whose holder left says so; the
// history shows its last entries and counts the others.
func TestDelegateView(t *testing.T) {
	h := delegateHarness(t)
	elect(t, h, "@ben:test negotiator : Negotiate")
	elect(t, h, "@ben:test treasurer : Keep the books")
	got := h.Reply(Ana, "!delegates @ben:test")
	if !strings.Contains(got, "Delegation #1: negotiator") || !strings.Contains(got, "Delegation #2: treasurer") ||
		strings.Count(got, "Power level while it lasts") != 1 || !strings.Contains(got, "Power level while it lasts: 50.") {
		t.Errorf("both mandates in full, one with a power level:\n%s", got)
	}
	if strings.Contains(got, "Not in the room now") {
		t.Errorf("ben is in the room:\n%s", got)
	}
	h.Rooms.Joined[Room] = []id.UserID{Bot, Ana, Chi}
	if got := h.Reply(Ana, "!delegate 2"); !strings.Contains(got, "Not in the room now: the mandate stands") || strings.Contains(got, "Power level") {
		t.Errorf("after ben left:\n%s", got)
	}
	// Elected, then reports: exactly as many entries as are shown, then
	// one more.
	for i := 1; i < historyShown; i++ {
		h.Reply(Ben, fmt.Sprintf("!report negotiator : Report %d", i))
	}
	if got := h.Reply(Ana, "!delegate 1"); strings.Contains(got, "earlier entries not shown") || !strings.Contains(got, "— elected by motion #1") || !strings.Contains(got, "Report 9") {
		t.Errorf("%d entries:\n%s", historyShown, got)
	}
	h.Reply(Ben, "!report negotiator : Report last")
	if got := h.Reply(Ana, "!delegate 1"); !strings.Contains(got, "(1 earlier entries not shown)") || !strings.Contains(got, "Report last") {
		t.Errorf("%d entries:\n%s", historyShown+1, got)
	}
}

// TestConcernedMissingMandate: a recall or ratification whose mandate is
// not in the database (a database restored or edited by hand) is an error
// its decision stops on, never a nil mandate the decision would read.
func TestConcernedMissingMandate(t *testing.T) {
	var d *Delegates
	NewHarness(t, func(env *commands.Env, log zerolog.Logger) []commands.Feature {
		m := New(env, log)
		d = NewDelegates(m)
		return []commands.Feature{m, d}
	}, Ana)
	del, err := d.concerned(context.Background(), &store.Motion{ID: 1, Kind: kindRecall}, delegationPayload{Delegation: 999})
	if err == nil || !strings.Contains(err.Error(), "delegation 999 not found") {
		t.Errorf("concerned = %+v, %v; want delegation 999 not found", del, err)
	}
}
