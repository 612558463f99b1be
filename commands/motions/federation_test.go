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
	"quorum/store"
)

// TestCouncilName: a council is named "Council" unless named, in up to
// 100 characters.
func TestCouncilName(t *testing.T) {
	h := newFedHarness(t, Ana)
	h.Rooms.Power[Ana] = 50
	for _, tc := range []struct{ cmd, name string }{{"!council on", "Council"}, {"!council on " + strings.Repeat("x", 100), strings.Repeat("x", 100)}} {
		out := h.SendAndDrain(Ana, tc.cmd)
		for _, s := range out {
			if c, ok := s.Msg.Fields["quorum.council"].(map[string]any); ok && c["name"] != tc.name {
				t.Errorf("%s: council named %v", tc.cmd, c["name"])
			}
		}
		if c, ok, err := h.Env.Store.Federation().Council(context.Background(), Room); err != nil || !ok || c.Name != tc.name {
			t.Errorf("%s: council %v (%v), want it named %q: %s", tc.cmd, c, err, tc.name, Bodies(out))
		}
	}
}

// newFedHarness is motions, delegates and federation in the test room.
func newFedHarness(t *testing.T, members ...id.UserID) *Harness {
	t.Helper()
	h := NewHarness(t, func(env *commands.Env, log zerolog.Logger) []commands.Feature {
		m := New(env, log)
		return []commands.Feature{m, NewDelegates(m), NewFederation(m)}
	}, members...)
	h.Env.Config.Motions.Ballot = []string{ChannelReactions}
	h.Env.Config.Motions.Settle = "0s"
	return h
}

const (
	branchBot  = id.UserID("@quorum:branch.test")
	otherBot   = id.UserID("@quorum:other.test")
	branchRoom = id.RoomID("!branch:branch.test")
)

// announce has sender post a quorum.branch notice in the test room and
// returns what it caused.
func announce(t *testing.T, h *Harness, sender id.UserID, ann map[string]any) []Sent {
	t.Helper()
	raw, _ := json.Marshal(ann)
	err := h.A.HandleNotice(context.Background(), commands.Notice{Room: Room, Sender: sender, Event: h.NextEvent(), Time: h.Clock.Now(),
		Fields: map[string]json.RawMessage{"quorum.branch": raw}})
	if err != nil {
		t.Fatal(err)
	}
	return h.Drain()
}

func branchesOf(t *testing.T, s Sent) []any {
	t.Helper()
	c, ok := s.Msg.Fields["quorum.council"].(map[string]any)
	if !ok {
		t.Fatalf("no quorum.council in %q", s.Msg.Body)
	}
	return c["branches"].([]any)
}

func TestCouncil(t *testing.T) {
	h := newFedHarness(t, Ana, Ben)
	h.Rooms.Power[Ana] = 50
	ExpectReplies(t, h, []ReplyCase{
		{From: Ben, Cmd: "!council", Want: "This room is not a council. A moderator makes it one with `!council on [name]`."},
		{From: Ben, Cmd: "!council on Regional", Want: "Only a moderator can make this room a council."},
		{From: Ana, Cmd: "!council on --rule most Regional", Want: "The rule is one of `branches`, `members`, `unanimous`"},
		{From: Ana, Cmd: "!council on --rule", Want: "The rule is one of `branches`, `members`, `unanimous`"},
		{From: Ana, Cmd: "!council on " + strings.Repeat("x", 101), Want: "That name is too long for a council (at most 100 characters)."},
		{From: Ana, Cmd: "!council admit " + branchBot.String(), Want: "This room is not a council."},
	})
	on := One(t, h.SendAndDrain(Ana, "!council on Regional council"), "a council now")
	c := on.Msg.Fields["quorum.council"].(map[string]any)
	if c["room"] != string(Room) || c["name"] != "Regional council" || c["rule"] != "branches" || len(c["branches"].([]any)) != 0 {
		t.Errorf("quorum.council = %v", c)
	}
	if on.Msg.Fields["quorum.record"] == nil {
		t.Error("council.on was not recorded")
	}
	ExpectReplies(t, h, []ReplyCase{
		{From: Ben, Cmd: "!council admit " + branchBot.String(), Want: "Only a moderator can admit a branch."},
		{From: Ana, Cmd: "!council admit quorum", Want: "Write the branch bot's full Matrix ID"},
		{From: Ana, Cmd: "!council admit " + Bot.String(), Want: "I am this council's bot"},
	})
	out := h.SendAndDrain(Ana, "!council admit "+branchBot.String())
	var invites int
	for _, s := range out {
		if s.Kind == commands.KindMembership {
			invites++
			if !strings.Contains(string(s.Payload), AdmitReason) || !strings.Contains(string(s.Payload), branchBot.String()) {
				t.Errorf("invite = %s", s.Payload)
			}
		}
	}
	if invites != 1 {
		t.Fatalf("admit made %d invites: %s", invites, Bodies(out))
	}
	if got := h.Reply(Ana, "!council admit "+branchBot.String()); !strings.Contains(got, "admitted already") {
		t.Errorf("second admit: %q", got)
	}
	h.SendAndDrain(Ana, "!council admit "+otherBot.String())

	good := map[string]any{"council": Room, "room": branchRoom, "name": "Riverside", "bot": branchBot, "electorate": 7,
		"affiliation": map[string]any{"motion": 2}}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k2, v2 := range good {
			m[k2] = v2
		}
		m[k] = v
		return m
	}
	// Forgeries: a member posing as a branch bot, a bot not admitted (an
	// account another server's admin made), a bot naming another bot.
	for _, tc := range []struct {
		sender id.UserID
		ann    map[string]any
		want   string
	}{
		{Ben, with("bot", Ben), "@ben:test was not admitted to this council"},
		{"@quorum:evil.test", with("bot", "@quorum:evil.test"), "was not admitted"},
		{otherBot, good, "names another bot"},
		{branchBot, with("council", "!elsewhere:test"), "names another bot or another council"},
		{branchBot, with("room", Room), "not valid"},
	} {
		out := announce(t, h, tc.sender, tc.ann)
		if len(out) != 1 || !strings.Contains(out[0].Msg.Body, tc.want) {
			t.Errorf("announcement from %s: %q, want %q", tc.sender, Bodies(out), tc.want)
		}
	}
	if got := branchesOf(t, One(t, h.SendAndDrain(Ben, "!council"), "Regional")); len(got) != 0 {
		t.Fatalf("a forged announcement made a branch: %v", got)
	}

	out = announce(t, h, branchBot, good)
	b := branchesOf(t, One(t, out, "Welcome to the branch \"Riverside\""))
	if len(b) != 1 || b[0].(map[string]any)["room"] != string(branchRoom) || b[0].(map[string]any)["bot"] != string(branchBot) ||
		b[0].(map[string]any)["electorate"] != 7.0 || b[0].(map[string]any)["name"] != "Riverside" {
		t.Errorf("branches = %v", b)
	}
	// The branch's bot cannot speak for another branch, and another bot
	// cannot take over the branch.
	if out := announce(t, h, branchBot, with("room", "!other:branch.test")); !strings.Contains(Bodies(out), "speaks for the branch !branch:branch.test here, not another") {
		t.Errorf("second branch: %q", Bodies(out))
	}
	if out := announce(t, h, otherBot, with("bot", otherBot)); !strings.Contains(Bodies(out), "has its bot here already") {
		t.Errorf("taken branch: %q", Bodies(out))
	}
	if got := branchesOf(t, One(t, h.SendAndDrain(Ben, "!council"), "Regional")); len(got) != 1 {
		t.Errorf("branches after refusals: %v", got)
	}
}

const councilRoom = id.RoomID("!council:council.test")

func invite(t *testing.T, h *Harness, room id.RoomID, by id.UserID, reason string) (commands.InviteAnswer, []Sent) {
	t.Helper()
	answer, err := h.A.HandleInvite(context.Background(), commands.Invite{Room: room, Inviter: by, Reason: reason, Time: h.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return answer, h.Drain()
}

// joins returns the joins among out, and the announcements.
func joins(out []Sent) (joined []id.RoomID, announced []map[string]any) {
	for _, s := range out {
		if s.Kind == commands.KindMembership && !strings.Contains(string(s.Payload), "user") {
			joined = append(joined, s.Room)
		}
		if a, ok := s.Msg.Fields["quorum.branch"].(map[string]any); ok {
			announced = append(announced, a)
		}
	}
	return
}

func TestAffiliationInviteFirst(t *testing.T) {
	h := newFedHarness(t, Ana, Ben)
	// An invite that says it is a council's admission, before any vote: kept
	// waiting, not joined. So is a second one.
	for _, by := range []id.UserID{"@mod:council.test", councilBot} {
		if answer, out := invite(t, h, councilRoom, by, AdmitReason); answer != commands.InviteKept || len(out) != 0 {
			t.Fatalf("admission before the vote: %v, %q", answer, Bodies(out))
		}
	}
	// Any other invite is left to allowed_inviters.
	if answer, _ := invite(t, h, "!party:evil.test", "@mod:evil.test", ""); answer != commands.InviteUsual {
		t.Errorf("ordinary invite: %v", answer)
	}
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: affiliateCmd + "#council:council.test", Want: "Give the council's room ID"},
		{From: Ana, Cmd: affiliateCmd + string(Room), Want: "A room can't affiliate with itself."},
		{From: Ana, Cmd: "!affiliate " + string(councilRoom) + " --bot", Want: "`--bot` is the council's bot's full Matrix ID"},
		{From: Ana, Cmd: affiliateCmd + string(councilRoom) + " " + strings.Repeat("x", 101), Want: "That branch name is too long (at most 100 characters)."},
	})
	open := One(t, h.SendAndDrain(Ana, affiliateCmd+string(councilRoom)+" Riverside branch"), "Motion #1")
	mf := open.Msg.Fields["quorum.motion"].(map[string]any)
	if mf["kind"] != kindAffiliation || open.Msg.Fields["quorum.affiliation"].(map[string]any)["council"] != string(councilRoom) {
		t.Errorf("affiliation notice fields: %v", open.Msg.Fields)
	}
	if got := h.Reply(Ben, affiliateCmd+string(councilRoom)); !strings.Contains(got, "Motion #1 already proposes that") {
		t.Errorf("second proposal: %q", got)
	}
	// While the vote is open, the council's bot's invite is kept, whatever
	// its reason.
	if answer, out := invite(t, h, councilRoom, councilBot, ""); answer != commands.InviteKept || len(out) != 0 {
		t.Errorf("invite by the council's bot during the vote: %v; %q", answer, Bodies(out))
	}
	h.SendAndDrain(Ana, "!vote 1 yes")
	out := h.SendAndDrain(Ben, "!vote 1 yes")
	joined, announced := joins(out)
	if len(joined) != 1 || joined[0] != councilRoom || len(announced) != 1 {
		t.Fatalf("carried with the invite waiting: joined %v, announced %v\n%s", joined, announced, Bodies(out))
	}
	a := announced[0]
	if a["council"] != string(councilRoom) || a["room"] != string(Room) || a["bot"] != string(Bot) || a["name"] != "Riverside branch" || a["electorate"] != 2.0 {
		t.Errorf("announcement = %v", a)
	}
	// The join comes before the announcement in the council's queue.
	var order []string
	for _, s := range out {
		if s.Room == councilRoom {
			order = append(order, s.Kind)
		}
	}
	if strings.Join(order, ",") != "membership,message" {
		t.Errorf("council queue: %v", order)
	}
	if got := h.Reply(Ana, affiliateCmd+string(councilRoom)); !strings.Contains(got, "affiliated with that council already") {
		t.Errorf("again: %q", got)
	}
}

// TestAffiliationProposedAgain: a branch name of up to 100 characters is
// taken; an affiliation that failed can be proposed again, not one that
// awaits a second.
func TestAffiliationProposedAgain(t *testing.T) {
	h := newFedHarness(t, Ana, Ben)
	One(t, h.SendAndDrain(Ana, affiliateCmd+string(councilRoom)+" "+strings.Repeat("x", 100)), "Motion #1")
	h.SendAndDrain(Ana, "!vote 1 no")
	One(t, h.SendAndDrain(Ben, "!vote 1 no"), "Motion #1: Failed")
	h.Env.Config.Motions.RequireSecond = true
	One(t, h.SendAndDrain(Ana, affiliateCmd+string(councilRoom)+" Riverside"), "Motion #2")
	if got := h.Reply(Ben, affiliateCmd+string(councilRoom)); !strings.Contains(got, "Motion #2 already proposes that") {
		t.Errorf("while motion #2 awaits a second: %q", got)
	}
}

func TestAffiliationVoteFirst(t *testing.T) {
	h := newFedHarness(t, Ana, Ben)
	h.SendAndDrain(Ana, affiliateCmd+string(councilRoom)+" Riverside")
	h.SendAndDrain(Ana, "!vote 1 yes")
	out := h.SendAndDrain(Ben, "!vote 1 yes")
	if joined, _ := joins(out); len(joined) != 0 {
		t.Fatalf("joined before any invite: %v", joined)
	}
	One(t, out, "I join it as soon as its moderators admit me")
	// The carried affiliation is the branch's permission for the council's
	// bot it named (which need not be in allowed_inviters).
	answer, out := invite(t, h, councilRoom, "@quorum:council.test", "")
	joined, announced := joins(out)
	if answer != commands.InviteAccepted || len(joined) != 1 || len(announced) != 1 {
		t.Fatalf("invite after the vote: %v, joined %v, announced %v", answer, joined, announced)
	}
}

func TestAffiliationLost(t *testing.T) {
	h := newFedHarness(t, Ana, Ben)
	h.SendAndDrain(Ana, affiliateCmd+string(councilRoom))
	if answer, _ := invite(t, h, councilRoom, "@mod:council.test", ""); answer != commands.InviteKept {
		t.Errorf("invite during the vote: %v", answer)
	}
	h.SendAndDrain(Ana, "!vote 1 no")
	out := h.SendAndDrain(Ben, "!vote 1 no")
	if joined, announced := joins(out); len(joined)+len(announced) != 0 {
		t.Fatalf("a lost affiliation joined: %v %v", joined, announced)
	}
	if answer, out := invite(t, h, councilRoom, "@mod:council.test", AdmitReason); answer != commands.InviteKept || len(out) != 0 {
		t.Errorf("admission after a lost vote: %v %q", answer, Bodies(out))
	}
	// It can be proposed again.
	One(t, h.SendAndDrain(Ana, affiliateCmd+string(councilRoom)), "Motion #2")
}

func TestFederalOutcome(t *testing.T) {
	res := func(status string, yes, no int) *store.BranchResult {
		return &store.BranchResult{Status: status, Yes: yes, No: no}
	}
	for _, tc := range []struct {
		rule     string
		branches int
		results  []*store.BranchResult
		want     Outcome
	}{
		{"branches", 2, []*store.BranchResult{res("carried", 5, 1), res("failed", 1, 9)}, Failed},
		{"branches", 3, []*store.BranchResult{res("carried", 5, 1), res("failed", 1, 9), res("carried", 2, 1)}, Carried},
		{"branches", 3, []*store.BranchResult{res("carried", 5, 1), res("no_quorum", 0, 0)}, Failed},
		{"branches", 3, []*store.BranchResult{res("carried", 5, 1)}, Carried}, // one of one that reported
		{"branches", 2, nil, Failed},
		{"members", 2, []*store.BranchResult{res("carried", 5, 1), res("failed", 1, 9)}, Failed},
		{"members", 2, []*store.BranchResult{res("carried", 9, 1), res("failed", 1, 2)}, Carried},
		{"members", 2, []*store.BranchResult{res("carried", 3, 3)}, Failed},
		{"unanimous", 2, []*store.BranchResult{res("carried", 5, 1), res("carried", 2, 1)}, Carried},
		{"unanimous", 3, []*store.BranchResult{res("carried", 5, 1), res("carried", 2, 1)}, Failed}, // one did not report
		{"unanimous", 2, []*store.BranchResult{res("carried", 5, 1), res("failed", 1, 2)}, Failed},
		{"unanimous", 0, nil, Failed}, // every branch left
	} {
		if got := FederalOutcome(tc.rule, tc.branches, tc.results); got != tc.want {
			t.Errorf("%s, %d branches, %d results: %s, want %s", tc.rule, tc.branches, len(tc.results), got, tc.want)
		}
	}
}

// councilWithBranches is a council in the test room with two announced
// branches.
func councilWithBranches(t *testing.T) *Harness {
	t.Helper()
	h := newFedHarness(t, Ana, Ben)
	h.Rooms.Power[Ana] = 50
	h.SendAndDrain(Ana, "!council on Regional")
	h.SendAndDrain(Ana, "!council admit "+branchBot.String())
	h.SendAndDrain(Ana, "!council admit "+otherBot.String())
	announce(t, h, branchBot, map[string]any{"council": Room, "room": branchRoom, "name": "Riverside", "bot": branchBot, "electorate": 3})
	announce(t, h, otherBot, map[string]any{"council": Room, "room": "!hill:other.test", "name": "Hillside", "bot": otherBot, "electorate": 2})
	return h
}

func report(t *testing.T, h *Harness, sender id.UserID, res map[string]any) []Sent {
	t.Helper()
	raw, _ := json.Marshal(res)
	err := h.A.HandleNotice(context.Background(), commands.Notice{Room: Room, Sender: sender, Event: h.NextEvent(), Time: h.Clock.Now(),
		Fields: map[string]json.RawMessage{"quorum.branch_result": raw}})
	if err != nil {
		t.Fatal(err)
	}
	return h.Drain()
}

func TestFederalMotionInCouncil(t *testing.T) {
	h := councilWithBranches(t)
	open := One(t, h.SendAndDrain(Ben, "!motion Strike on Monday"), "Federal motion #1")
	qm := open.Msg.Fields["quorum.motion"].(map[string]any)
	if qm["kind"] != kindFederal || qm["status"] != "open" || qm["id"] != 1.0 || qm["text"] != "Strike on Monday" || len(qm["branches"].([]any)) != 2 {
		t.Errorf("quorum.motion = %v", qm)
	}
	if got := h.Reply(Ben, "!vote 1 yes"); !strings.Contains(got, "no motion #1") {
		t.Errorf("a member voted in the council: %q", got)
	}
	riverside := map[string]any{"council_motion": 1, "branch": branchRoom, "status": "carried", "yes": 2, "no": 1, "abstain": 0, "electorate": 3,
		"record": map[string]any{"seq": 4, "hash": "ab"}}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k2, v2 := range riverside {
			m[k2] = v2
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		sender id.UserID
		res    map[string]any
		want   string
	}{
		{Ben, riverside, "@ben:test is not the bot of a branch"},
		{"@quorum:evil.test", riverside, "is not the bot of a branch"},
		{otherBot, riverside, "speaks for the branch !hill:other.test, not !branch:branch.test"},
		{branchBot, with("yes", 9), "not valid"},
		{branchBot, with("status", "open"), "not valid"},
		{branchBot, with("council_motion", 7), "no federal motion #7"},
	} {
		if out := report(t, h, tc.sender, tc.res); !strings.Contains(Bodies(out), tc.want) {
			t.Errorf("result from %s: %q, want %q", tc.sender, Bodies(out), tc.want)
		}
	}
	if out := report(t, h, branchBot, riverside); len(out) != 0 {
		t.Fatalf("the first result was answered: %q", Bodies(out))
	}
	if out := report(t, h, branchBot, with("status", "failed")); !strings.Contains(Bodies(out), "the first report stands") {
		t.Errorf("second report: %q", Bodies(out))
	}
	out := report(t, h, otherBot, map[string]any{"council_motion": 1, "branch": "!hill:other.test", "status": "failed", "yes": 0, "no": 2, "abstain": 0, "electorate": 2,
		"record": map[string]any{"seq": 9, "hash": "cd"}})
	result := One(t, out, "Federal motion #1: Failed")
	qm = result.Msg.Fields["quorum.motion"].(map[string]any)
	if qm["status"] != "failed" || qm["yes"] != 2.0 || qm["no"] != 3.0 || qm["electorate"] != 5.0 || len(qm["branches"].([]any)) != 2 || result.Msg.Fields["quorum.record"] == nil {
		t.Errorf("result quorum.motion = %v", qm)
	}
	if out := report(t, h, otherBot, map[string]any{"council_motion": 1, "branch": "!hill:other.test", "status": "carried", "yes": 2, "no": 0, "electorate": 2}); !strings.Contains(Bodies(out), "decided already") {
		t.Errorf("late report: %q", Bodies(out))
	}
}

// TestMotionOutsideCouncils: with federation on, a room that is no council
// opens an ordinary motion.
func TestMotionOutsideCouncils(t *testing.T) {
	h := newFedHarness(t, Ana, Ben)
	if qm := motionField(t, openMotion(t, h, "Buy a banner").Msg); qm["kind"] != "motion" || qm["text"] != "Buy a banner" {
		t.Errorf("quorum.motion = %v", qm)
	}
}

// TestFederalDeadline: a federal motion closes at its deadline, given as a
// moment, with the branches that reported.
func TestFederalDeadline(t *testing.T) {
	h := councilWithBranches(t)
	closes := h.Clock.Now().Add(48 * time.Hour).Truncate(time.Minute)
	One(t, h.SendAndDrain(Ben, "!motion --closes "+closes.UTC().Format("2006-01-02T15:04")+" Strike on Monday"), "Federal motion #1")
	if next := h.Due(); !next.Equal(closes) {
		t.Errorf("next wake-up %s, want the deadline %s", next, closes)
	}
	report(t, h, branchBot, map[string]any{"council_motion": 1, "branch": branchRoom, "status": "carried", "yes": 2, "no": 1, "electorate": 3})
	out := h.AdvanceTo(h.Clock.Now().Add(49 * time.Hour))
	result := One(t, out, "Federal motion #1: Carried")
	if !strings.Contains(result.Msg.Body, "Not reported by the deadline: Hillside.") {
		t.Errorf("result: %q", result.Msg.Body)
	}
}

// branchInCouncil is a branch in the test room whose bot joined the
// council councilRoom, invited by the council's bot.
func branchInCouncil(t *testing.T) *Harness {
	t.Helper()
	h := newFedHarness(t, Ana, Ben)
	h.SendAndDrain(Ana, affiliateCmd+string(councilRoom)+" Riverside")
	h.SendAndDrain(Ana, "!vote 1 yes")
	h.SendAndDrain(Ben, "!vote 1 yes")
	if answer, _ := invite(t, h, councilRoom, councilBot, AdmitReason); answer != commands.InviteAccepted {
		t.Fatalf("invite: %v", answer)
	}
	return h
}

const councilBot = id.UserID("@quorum:council.test")

// affiliateCmd proposes affiliating with a council whose bot is councilBot.
const affiliateCmd = "!affiliate --bot " + string(councilBot) + " "

func councilNotice(t *testing.T, h *Harness, sender id.UserID, qm map[string]any) []Sent {
	t.Helper()
	raw, _ := json.Marshal(qm)
	err := h.A.HandleNotice(context.Background(), commands.Notice{Room: councilRoom, Sender: sender, Event: h.NextEvent(), Time: h.Clock.Now(),
		Fields: map[string]json.RawMessage{"quorum.motion": raw}})
	if err != nil {
		t.Fatal(err)
	}
	return h.Drain()
}

func TestFederalMotionInBranch(t *testing.T) {
	h := branchInCouncil(t)
	qm := map[string]any{"id": 1, "kind": "federal", "status": "open", "text": "Strike on Monday", "closes_at": h.Clock.Now().Add(72 * time.Hour)}
	// Only the council's bot opens federal motions here, and only with an ID.
	for _, sender := range []id.UserID{Ana, "@council:evil.test"} {
		if out := councilNotice(t, h, sender, qm); len(out) != 0 {
			t.Errorf("a federal motion from %s: %q", sender, Bodies(out))
		}
	}
	if out := councilNotice(t, h, councilBot, map[string]any{"id": 0, "kind": "federal", "status": "open", "text": "Strike on Monday"}); len(out) != 0 {
		t.Errorf("a federal motion without an ID: %q", Bodies(out))
	}
	out := councilNotice(t, h, councilBot, qm)
	open := One(t, out, "Federal motion #1 of the council: Strike on Monday")
	if open.Room != Room {
		t.Errorf("opened in %s", open.Room)
	}
	m := open.Msg.Fields["quorum.motion"].(map[string]any)
	c, _ := m["council"].(map[string]any)
	if m["kind"] != kindFederal || c["room"] != string(councilRoom) || c["motion"] != 1.0 || m["threshold"] != "majority" {
		t.Errorf("quorum.motion = %v", m)
	}
	if out := councilNotice(t, h, councilBot, qm); len(out) != 0 {
		t.Errorf("the same federal motion opened twice: %q", Bodies(out))
	}
	h.SendAndDrain(Ana, "!vote 2 yes")
	out = h.SendAndDrain(Ben, "!vote 2 no")
	var res map[string]any
	for _, s := range out {
		if r, ok := s.Msg.Fields["quorum.branch_result"].(map[string]any); ok {
			if s.Room != councilRoom {
				t.Errorf("branch result posted in %s", s.Room)
			}
			res = r
		}
	}
	if res == nil {
		t.Fatalf("no branch result: %q", Bodies(out))
	}
	rec, _ := res["record"].(map[string]any)
	if res["council_motion"] != 1.0 || res["branch"] != string(Room) || res["status"] != "failed" || res["yes"] != 1.0 || res["no"] != 1.0 ||
		res["abstain"] != 0.0 || res["electorate"] != 2.0 || rec["seq"] == nil || rec["hash"] == "" {
		t.Errorf("quorum.branch_result = %v", res)
	}
	One(t, out, "I reported to the council that this branch's vote on its federal motion #1")
	// A text up to the length of a command is taken.
	long := map[string]any{"id": 2, "kind": "federal", "status": "open", "text": strings.Repeat("x", commands.MaxCommand+1)}
	if out := councilNotice(t, h, councilBot, long); len(out) != 0 {
		t.Errorf("a federal motion longer than a command: %d messages", len(out))
	}
	long["text"] = strings.Repeat("x", commands.MaxCommand)
	One(t, councilNotice(t, h, councilBot, long), "Federal motion #2 of the council: xxx")
}

// TestCouncilBotNamedByVote: the branch's bot joins only on the invite of
// the council's bot that the affiliation motion named, and takes federal
// motions only from it, whoever invited first or later and whatever their
// invite's reason says.
func TestCouncilBotNamedByVote(t *testing.T) {
	const mallory = id.UserID("@mallory:council.test")
	genuine := map[string]any{"id": 1, "kind": "federal", "status": "open", "text": "Strike on Monday"}
	forged := map[string]any{"id": 1, "kind": "federal", "status": "open", "text": "Call off the strike"}

	// Invites first: a council member's before the council bot's.
	h := newFedHarness(t, Ana, Ben)
	invite(t, h, councilRoom, mallory, AdmitReason)
	invite(t, h, councilRoom, councilBot, AdmitReason)
	open := One(t, h.SendAndDrain(Ana, affiliateCmd+string(councilRoom)+" Riverside"), "Motion #1")
	if !strings.Contains(open.Msg.Body, "whose bot is "+string(councilBot)) || open.Msg.Fields["quorum.affiliation"].(map[string]any)["bot"] != string(councilBot) {
		t.Errorf("the motion does not show the council's bot it names: %q %v", open.Msg.Body, open.Msg.Fields["quorum.affiliation"])
	}
	h.SendAndDrain(Ana, "!vote 1 yes")
	out := h.SendAndDrain(Ben, "!vote 1 yes")
	if joined, _ := joins(out); len(joined) != 1 {
		t.Fatalf("the named bot's kept invite was not used: %q", Bodies(out))
	}
	if out := councilNotice(t, h, mallory, forged); len(out) != 0 {
		t.Errorf("a council member who invited first opened a federal motion: %q", Bodies(out))
	}
	One(t, councilNotice(t, h, councilBot, genuine), "Federal motion #1 of the council: Strike on Monday")
	// A later invite from someone else replaces nothing.
	if answer, _ := invite(t, h, councilRoom, mallory, AdmitReason); answer == commands.InviteAccepted {
		t.Errorf("a later invite from %s was accepted", mallory)
	}

	// Vote first: a plain member's invite is not accepted, the named bot's is.
	h2 := newFedHarness(t, Ana, Ben)
	h2.SendAndDrain(Ana, affiliateCmd+string(councilRoom)+" Riverside")
	h2.SendAndDrain(Ana, "!vote 1 yes")
	h2.SendAndDrain(Ben, "!vote 1 yes")
	if answer, out := invite(t, h2, councilRoom, mallory, AdmitReason); answer == commands.InviteAccepted || len(out) != 0 {
		t.Errorf("vote first: a member's invite was accepted: %v %q", answer, Bodies(out))
	}
	if out := councilNotice(t, h2, mallory, forged); len(out) != 0 {
		t.Errorf("vote first: a member opened a federal motion: %q", Bodies(out))
	}
	if answer, _ := invite(t, h2, councilRoom, councilBot, ""); answer != commands.InviteAccepted {
		t.Errorf("vote first: the named bot's invite: %v", answer)
	}
	One(t, councilNotice(t, h2, councilBot, genuine), "Federal motion #1 of the council: Strike on Monday")

	// The council's bot must be named.
	ExpectReplies(t, h2, []ReplyCase{
		{From: Ana, Cmd: "!affiliate !other:council.test Riverside", Want: "Name the council's bot"},
		{From: Ana, Cmd: "!affiliate --bot quorum !other:council.test", Want: "`--bot` is the council's bot's full Matrix ID"},
	})
}

func TestDisaffiliate(t *testing.T) {
	h := branchInCouncil(t)
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!disaffiliate !other:council.test", Want: "This branch is not affiliated with !other:council.test"},
	})
	One(t, h.SendAndDrain(Ana, "!disaffiliate "+string(councilRoom)), "Motion #2")
	if got := h.Reply(Ben, "!disaffiliate "+string(councilRoom)); !strings.Contains(got, "Motion #2 already proposes that") {
		t.Errorf("second proposal: %q", got)
	}
	h.SendAndDrain(Ana, "!vote 2 yes")
	out := h.SendAndDrain(Ben, "!vote 2 yes")
	var order []string
	var left map[string]any
	for _, s := range out {
		if s.Room == councilRoom {
			order = append(order, s.Kind)
			if l, ok := s.Msg.Fields["quorum.branch_left"].(map[string]any); ok {
				left = l
			}
		}
	}
	if strings.Join(order, ",") != "message,membership" || left["room"] != string(Room) || left["bot"] != string(Bot) {
		t.Fatalf("council queue %v, quorum.branch_left %v", order, left)
	}
	One(t, out, "This branch has left the council")
	// Gone: the council's federal motions open nothing here any more.
	if out := councilNotice(t, h, councilBot, map[string]any{"id": 1, "kind": "federal", "status": "open", "text": "Strike"}); len(out) != 0 {
		t.Errorf("a federal motion after leaving: %q", Bodies(out))
	}
	if in, err := h.Env.Store.Federation().IsBranchIn(context.Background(), councilRoom); err != nil || in {
		t.Errorf("still a branch in the council: %v %v", in, err)
	}
	// Nor does an invite into it join it again: the council's bot's is kept
	// (for a new vote), anyone else's goes the usual way.
	for _, tc := range []struct {
		by   id.UserID
		want commands.InviteAnswer
	}{{councilBot, commands.InviteKept}, {"@mod:council.test", commands.InviteUsual}} {
		if answer, out := invite(t, h, councilRoom, tc.by, ""); answer != tc.want || len(out) != 0 {
			t.Errorf("invite by %s after leaving: %v, want %v; %q", tc.by, answer, tc.want, Bodies(out))
		}
	}
}

// TestDisaffiliateBeforeJoining: an affiliation carried but not yet joined
// can be undone; a disaffiliation awaiting a second is not proposed twice.
func TestDisaffiliateBeforeJoining(t *testing.T) {
	h := newFedHarness(t, Ana, Ben)
	h.SendAndDrain(Ana, affiliateCmd+string(councilRoom)+" Riverside")
	h.SendAndDrain(Ana, "!vote 1 yes")
	One(t, h.SendAndDrain(Ben, "!vote 1 yes"), "Motion #1: Carried")
	h.Env.Config.Motions.RequireSecond = true
	One(t, h.SendAndDrain(Ana, "!disaffiliate "+string(councilRoom)), "Motion #2")
	if got := h.Reply(Ben, "!disaffiliate "+string(councilRoom)); !strings.Contains(got, "Motion #2 already proposes that") {
		t.Errorf("while motion #2 awaits a second: %q", got)
	}
}

func TestBranchLeftInCouncil(t *testing.T) {
	h := councilWithBranches(t)
	send := func(sender id.UserID, room id.RoomID) []Sent {
		raw, _ := json.Marshal(map[string]any{"council": Room, "room": room, "bot": sender, "motion": 3})
		if err := h.A.HandleNotice(context.Background(), commands.Notice{Room: Room, Sender: sender, Event: h.NextEvent(), Time: h.Clock.Now(),
			Fields: map[string]json.RawMessage{"quorum.branch_left": raw}}); err != nil {
			t.Fatal(err)
		}
		return h.Drain()
	}
	for _, tc := range []struct {
		sender id.UserID
		room   id.RoomID
	}{{Ben, branchRoom}, {otherBot, branchRoom}} {
		if out := send(tc.sender, tc.room); !strings.Contains(Bodies(out), "only a branch's own bot") {
			t.Errorf("%s: %q", tc.sender, Bodies(out))
		}
	}
	out := send(branchBot, branchRoom)
	if got := branchesOf(t, One(t, out, `The branch "Riverside" (!branch:branch.test) has left`)); len(got) != 1 {
		t.Errorf("branches after Riverside left: %v", got)
	}
}

// aliasRooms is the harness's rooms with one alias.
type aliasRooms struct {
	*Rooms
	aliases map[id.RoomAlias]id.RoomID
}

func (a aliasRooms) ResolveAlias(_ context.Context, alias id.RoomAlias) (id.RoomID, error) {
	if room, ok := a.aliases[alias]; ok {
		return room, nil
	}
	return "", fmt.Errorf("no such alias")
}

func TestAffiliateByAlias(t *testing.T) {
	h := newFedHarness(t, Ana, Ben)
	// An alias is up to 255 characters.
	regional := "#" + strings.Repeat("r", 255-len("#:council.test")) + ":council.test"
	h.Env.Rooms = aliasRooms{h.Rooms, map[id.RoomAlias]id.RoomID{id.RoomAlias(regional): councilRoom}}
	if got := h.Reply(Ana, affiliateCmd+"#unknown:council.test"); !strings.Contains(got, "I couldn't find the room #unknown:council.test points to") {
		t.Errorf("unknown alias: %q", got)
	}
	open := One(t, h.SendAndDrain(Ana, "!affiliate --closes 48h --bot "+string(councilBot)+" "+regional+" Riverside"), "Motion #1")
	if got := open.Msg.Fields["quorum.affiliation"].(map[string]any); got["council"] != string(councilRoom) || got["name"] != "Riverside" {
		t.Errorf("quorum.affiliation = %v", got)
	}
}

// TestFederalMotionSentToNone: a federal motion opened before the branches
// it was sent to were recorded is decided by all the announced branches.
func TestFederalMotionSentToNone(t *testing.T) {
	h := councilWithBranches(t)
	now := h.Clock.Now()
	fm := &store.FederalMotion{Council: Room, Text: "Strike on Monday", Proposer: Ben, OpenedAt: now, ClosesAt: now.Add(72 * time.Hour)}
	if err := h.Env.Store.Federation().OpenFederal(context.Background(), fm); err != nil {
		t.Fatal(err)
	}
	if out := report(t, h, branchBot, map[string]any{"council_motion": 1, "branch": branchRoom, "status": "carried", "yes": 2, "no": 0, "abstain": 1, "electorate": 3}); len(out) != 0 {
		t.Fatalf("decided with a branch still to report: %q", Bodies(out))
	}
	out := report(t, h, otherBot, map[string]any{"council_motion": 1, "branch": "!hill:other.test", "status": "failed", "yes": 0, "no": 2, "electorate": 2})
	result := One(t, out, "Federal motion #1: Failed by a majority of branches — 1 of 2 branches carried it")
	if !strings.Contains(result.Msg.Body, "Members' votes: 2 yes, 2 no, 1 abstain.") || strings.Contains(result.Msg.Body, "Not reported") {
		t.Errorf("result: %q", result.Msg.Body)
	}
	if qm := result.Msg.Fields["quorum.motion"].(map[string]any); qm["abstain"] != 1.0 || qm["electorate"] != 5.0 || len(qm["branches"].([]any)) != 2 {
		t.Errorf("result = %v", qm)
	}
}

// TestLeftBranchNoLongerCounts: a branch that reported and then left the
// council neither counts in the result nor stands in for a branch that has
// not reported.
func TestLeftBranchNoLongerCounts(t *testing.T) {
	h := councilWithBranches(t)
	h.SendAndDrain(Ana, "!council admit @quorum:third.test")
	announce(t, h, "@quorum:third.test", map[string]any{"council": Room, "room": "!third:third.test", "name": "Third", "bot": "@quorum:third.test", "electorate": 4})
	h.SendAndDrain(Ben, "!motion Strike on Monday")
	report(t, h, branchBot, map[string]any{"council_motion": 1, "branch": branchRoom, "status": "carried", "yes": 3, "no": 0, "electorate": 3})
	raw, _ := json.Marshal(map[string]any{"council": Room, "room": branchRoom, "bot": branchBot, "motion": 3})
	if err := h.A.HandleNotice(context.Background(), commands.Notice{Room: Room, Sender: branchBot, Event: h.NextEvent(), Time: h.Clock.Now(),
		Fields: map[string]json.RawMessage{"quorum.branch_left": raw}}); err != nil {
		t.Fatal(err)
	}
	h.Drain()
	if out := report(t, h, otherBot, map[string]any{"council_motion": 1, "branch": "!hill:other.test", "status": "failed", "yes": 0, "no": 2, "electorate": 2}); len(out) != 0 {
		t.Fatalf("decided with a branch still to report: %q", Bodies(out))
	}
	out := report(t, h, "@quorum:third.test", map[string]any{"council_motion": 1, "branch": "!third:third.test", "status": "carried", "yes": 3, "no": 1, "electorate": 4})
	result := One(t, out, "Federal motion #1: Failed")
	if qm := result.Msg.Fields["quorum.motion"].(map[string]any); qm["yes"] != 3.0 || qm["no"] != 3.0 || len(qm["branches"].([]any)) != 2 {
		t.Errorf("result = %v", qm)
	}
}

// TestKeptInvitesBounded: invites that say they are admissions are kept
// only up to a bound; past it they go the usual way.
func TestKeptInvitesBounded(t *testing.T) {
	h := newFedHarness(t, Ana)
	for i := range maxKeptInvites {
		if answer, _ := invite(t, h, id.RoomID(fmt.Sprintf("!spam%d:evil.test", i)), "@spam:evil.test", AdmitReason); answer != commands.InviteKept {
			t.Fatalf("invite %d: %v", i, answer)
		}
	}
	if answer, _ := invite(t, h, "!one-more:evil.test", "@spam:evil.test", AdmitReason); answer != commands.InviteUsual {
		t.Errorf("past the bound: %v", answer)
	}
}

// TestBranchResultWithinAnnouncement: a branch's bot is trusted for its own
// counts, but not beyond the electorate it announced: under "members" a
// branch announced with 3 members can't outvote one with 200.
func TestBranchResultWithinAnnouncement(t *testing.T) {
	h := newFedHarness(t, Ana, Ben)
	h.Rooms.Power[Ana] = 50
	h.SendAndDrain(Ana, "!council on --rule members Regional")
	h.SendAndDrain(Ana, "!council admit "+branchBot.String())
	h.SendAndDrain(Ana, "!council admit "+otherBot.String())
	announce(t, h, branchBot, map[string]any{"council": Room, "room": branchRoom, "name": "Riverside", "bot": branchBot, "electorate": 3})
	announce(t, h, otherBot, map[string]any{"council": Room, "room": "!hill:other.test", "name": "Hillside", "bot": otherBot, "electorate": 200})
	h.SendAndDrain(Ben, "!motion Strike on Monday")
	One(t, report(t, h, branchBot, map[string]any{"council_motion": 1, "branch": branchRoom, "status": "carried", "yes": 1000000, "no": 0, "electorate": 1000000}),
		"I ignored that branch result: its electorate (1000000) is larger than the 3 members")
	if out := report(t, h, otherBot, map[string]any{"council_motion": 1, "branch": "!hill:other.test", "status": "failed", "yes": 0, "no": 200, "electorate": 200}); len(out) != 0 {
		t.Fatalf("decided without Riverside's valid result: %q", Bodies(out))
	}
	One(t, report(t, h, branchBot, map[string]any{"council_motion": 1, "branch": branchRoom, "status": "carried", "yes": 3, "no": 0, "electorate": 3}),
		"Federal motion #1: Failed")
	// An announcement beyond the bound is refused.
	One(t, announce(t, h, branchBot, map[string]any{"council": Room, "room": branchRoom, "name": "Riverside", "bot": branchBot, "electorate": maxElectorate + 1}),
		"its branch room, name or electorate is not valid")
}

// TestBranchResultCounts: each count is between 0 and the electorate, and
// their sum is checked without overflow; an electorate from 0 up to the
// bound of an announcement is taken.
func TestBranchResultCounts(t *testing.T) {
	h := councilWithBranches(t)
	announce(t, h, branchBot, map[string]any{"council": Room, "room": branchRoom, "name": "Riverside", "bot": branchBot, "electorate": maxElectorate})
	h.SendAndDrain(Ben, "!motion Strike on Monday")
	for _, res := range []map[string]any{
		{"yes": int64(9223372036854775807), "no": 0, "abstain": 1, "electorate": 3},
		{"yes": 2, "no": int64(-9223372036854775807), "abstain": int64(9223372036854775807), "electorate": 3},
		{"yes": 4, "no": 0, "electorate": 3},
		{"yes": 2, "no": 1, "abstain": 1, "electorate": 3},
		{"yes": -1, "no": 0, "electorate": 3},
	} {
		res["council_motion"], res["branch"], res["status"] = 1, branchRoom, "carried"
		One(t, report(t, h, branchBot, res), "its status or counts are not valid")
	}
	if out := report(t, h, branchBot, map[string]any{"council_motion": 1, "branch": branchRoom, "status": "carried", "yes": maxElectorate, "no": 0, "electorate": maxElectorate}); len(out) != 0 {
		t.Errorf("a valid result: %q", Bodies(out))
	}
	out := report(t, h, otherBot, map[string]any{"council_motion": 1, "branch": "!hill:other.test", "status": "failed", "yes": 0, "no": 0, "electorate": 0})
	One(t, out, "Federal motion #1: Failed by a majority of branches — 1 of 2 branches carried it")
}

// TestLateBranchNotCounted: a branch announced after a federal motion
// opened never got it: it neither counts against it under "unanimous" nor
// holds the result until the deadline.
func TestLateBranchNotCounted(t *testing.T) {
	h := newFedHarness(t, Ana, Ben)
	h.Rooms.Power[Ana] = 50
	h.SendAndDrain(Ana, "!council on --rule unanimous Regional")
	h.SendAndDrain(Ana, "!council admit "+branchBot.String())
	announce(t, h, branchBot, map[string]any{"council": Room, "room": branchRoom, "name": "Riverside", "bot": branchBot, "electorate": 3})
	h.SendAndDrain(Ben, "!motion --closes 48h Strike on Monday")
	h.SendAndDrain(Ana, "!council admit "+otherBot.String())
	announce(t, h, otherBot, map[string]any{"council": Room, "room": "!hill:other.test", "name": "Hillside", "bot": otherBot, "electorate": 2})
	One(t, report(t, h, otherBot, map[string]any{"council_motion": 1, "branch": "!hill:other.test", "status": "failed", "yes": 0, "no": 2, "electorate": 2}),
		"federal motion #1 opened before Hillside joined")
	out := report(t, h, branchBot, map[string]any{"council_motion": 1, "branch": branchRoom, "status": "carried", "yes": 3, "no": 0, "electorate": 3})
	result := One(t, out, "Federal motion #1: Carried")
	if !strings.Contains(result.Msg.Body, "1 of 1 branches") || strings.Contains(result.Msg.Body, "Hillside") {
		t.Errorf("result names a branch the motion was not sent to: %q", result.Msg.Body)
	}
}

// TestBranchGrownAnnouncesAgain: a branch that has grown since it announced
// itself announces its electorate again before its result, which the
// council would otherwise refuse.
func TestBranchGrownAnnouncesAgain(t *testing.T) {
	h := branchInCouncil(t)
	h.Rooms.Joined[Room] = append(h.Rooms.Joined[Room], Chi)
	out := councilNotice(t, h, councilBot, map[string]any{"id": 1, "kind": "federal", "status": "open", "text": "Strike on Monday"})
	One(t, out, "Federal motion #1 of the council")
	h.SendAndDrain(Ana, "!vote 2 yes")
	h.SendAndDrain(Ben, "!vote 2 yes")
	out = h.SendAndDrain(Chi, "!vote 2 yes")
	var council []string
	for _, s := range out {
		if s.Room != councilRoom {
			continue
		}
		if a, ok := s.Msg.Fields["quorum.branch"].(map[string]any); ok && a["electorate"] == 3.0 {
			council = append(council, "branch")
		}
		if r, ok := s.Msg.Fields["quorum.branch_result"].(map[string]any); ok && r["electorate"] == 3.0 {
			council = append(council, "result")
		}
	}
	if strings.Join(council, ",") != "branch,result" {
		t.Errorf("council queue: %v\n%s", council, Bodies(out))
	}
	// Once announced, not again.
	out = councilNotice(t, h, councilBot, map[string]any{"id": 2, "kind": "federal", "status": "open", "text": "Ballot on Friday"})
	One(t, out, "Federal motion #2 of the council")
	h.SendAndDrain(Ana, "!vote 3 yes")
	h.SendAndDrain(Ben, "!vote 3 yes")
	for _, s := range h.SendAndDrain(Chi, "!vote 3 yes") {
		if _, ok := s.Msg.Fields["quorum.branch"]; ok {
			t.Errorf("announced again without growing: %q", s.Msg.Body)
		}
	}
}

// TestFederalDeadlineUnderOrders: a federal motion's deadline follows the
// council room's own standing orders, as any motion's, and leaves every
// branch the least voting time its bot announced, and time to report.
func TestFederalDeadlineUnderOrders(t *testing.T) {
	h := councilWithBranches(t)
	ExpectReplies(t, h, []ReplyCase{
		{From: Ben, Cmd: "!motion --closes 1m Strike on Monday", Want: "This council's standing orders give a motion at least 1h (`voting_time`)"},
	})
	hillside := func(voting time.Duration) {
		announce(t, h, otherBot, map[string]any{"council": Room, "room": "!hill:other.test", "name": "Hillside", "bot": otherBot, "electorate": 2, "voting_time_seconds": voting.Seconds()})
	}
	hillside(2 * time.Hour)
	ExpectReplies(t, h, []ReplyCase{
		{From: Ben, Cmd: "!motion --closes 2h Strike on Monday", Want: "The branch Hillside gives a motion at least 2h, and reports after its vote: make this close at least 2h 20m from now."},
	})
	hillside(96 * time.Hour)
	ExpectReplies(t, h, []ReplyCase{
		{From: Ben, Cmd: "!motion --closes 24h Strike on Monday", Want: "The branch Hillside gives a motion at least 4 days"},
	})
	now := h.Clock.Now()
	open := One(t, h.SendAndDrain(Ben, "!motion Strike on Monday"), "Federal motion #1")
	if !strings.Contains(open.Msg.Body, "leaves Hillside its least voting time of 4 days, and 20m for the motion to reach it") {
		t.Errorf("the raised deadline is not explained: %q", open.Msg.Body)
	}
	closes, _ := time.Parse(time.RFC3339, open.Msg.Fields["quorum.motion"].(map[string]any)["closes_at"].(string))
	if want := now.Add(96*time.Hour + 2*federalMargin); closes.Before(want.Truncate(time.Second)) {
		t.Errorf("closes %s, before %s", closes, want)
	}
	// The probe's case: one branch reports, the deadline is far off.
	report(t, h, branchBot, map[string]any{"council_motion": 1, "branch": branchRoom, "status": "carried", "yes": 2, "no": 1, "electorate": 3})
	if out := h.AdvanceTo(h.Clock.Now().Add(2 * time.Minute)); strings.Contains(Bodies(out), "Federal motion #1: Carried") {
		t.Errorf("carried on one branch's word within minutes: %q", Bodies(out))
	}
}

// TestBranchVoteClosesBeforeCouncil: the branch's vote closes a margin
// before the council's deadline; when its standing orders give longer, it
// warns its room and tells the council how long it votes.
func TestBranchVoteClosesBeforeCouncil(t *testing.T) {
	h := branchInCouncil(t)
	councilCloses := h.Clock.Now().Add(72 * time.Hour).Truncate(time.Second)
	open := One(t, councilNotice(t, h, councilBot, map[string]any{"id": 1, "kind": "federal", "status": "open", "text": "Strike", "closes_at": councilCloses}),
		"Federal motion #1 of the council")
	closes, _ := time.Parse(time.RFC3339, open.Msg.Fields["quorum.motion"].(map[string]any)["closes_at"].(string))
	if !closes.Equal(councilCloses.Add(-federalMargin)) {
		t.Errorf("branch motion closes %s, want %s", closes, councilCloses.Add(-federalMargin))
	}
	// A deadline at the least the council leaves this branch (its 1h), the
	// notice arriving 5 minutes late: no warning.
	tight := h.Clock.Now().Add(time.Hour + 2*federalMargin).Truncate(time.Second)
	h.Clock.Advance(5 * time.Minute)
	out := councilNotice(t, h, councilBot, map[string]any{"id": 3, "kind": "federal", "status": "open", "text": "Picket", "closes_at": tight})
	if open := One(t, out, "Federal motion #3 of the council"); strings.Contains(Bodies(out), "too late") {
		t.Errorf("warned at the least deadline: %q", open.Msg.Body)
	}
	// A council deadline shorter than the branch's voting time (1h).
	out = councilNotice(t, h, councilBot, map[string]any{"id": 2, "kind": "federal", "status": "open", "text": "Ballot", "closes_at": h.Clock.Now().Add(30 * time.Minute)})
	One(t, out, "our result may reach the council too late to count")
	var ann map[string]any
	for _, s := range out {
		if a, ok := s.Msg.Fields["quorum.branch"].(map[string]any); ok && s.Room == councilRoom {
			ann = a
		}
	}
	if ann == nil || ann["voting_time_seconds"] != 3600.0 {
		t.Errorf("the branch's voting time was not announced: %v\n%s", ann, Bodies(out))
	}
}

// TestAffiliationWithoutBotVotedAgain: an affiliation carried before the
// council's bot was named (an older version) is never joined on anyone's
// invite, and the branch can vote on it again, naming the bot.
func TestAffiliationWithoutBotVotedAgain(t *testing.T) {
	h := newFedHarness(t, Ana, Ben)
	if err := h.Env.Store.Federation().SetAffiliation(context.Background(),
		store.Affiliation{Branch: Room, Council: councilRoom, Motion: 1, Status: store.AffiliationCarried}, h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if answer, _ := invite(t, h, councilRoom, "@mallory:council.test", AdmitReason); answer == commands.InviteAccepted {
		t.Errorf("an affiliation naming no bot joined on an invite")
	}
	One(t, h.SendAndDrain(Ana, affiliateCmd+string(councilRoom)+" Riverside"), "Motion #1")
}

// TestFederationEachRoomItsLanguage: a Spanish branch and a German council
// each read the bot's notices in their own language, while what the bots
// read of each other (the quorum.* fields) stays the same.
func TestFederationEachRoomItsLanguage(t *testing.T) {
	h := branchInCouncil(t)
	h.SetLang("es")
	if err := h.Env.Store.Rooms().SetLanguage(context.Background(), councilRoom, "de"); err != nil {
		t.Fatal(err)
	}
	qm := map[string]any{"id": 1, "kind": "federal", "status": "open", "text": "Strike on Monday", "closes_at": h.Clock.Now().Add(72 * time.Hour)}
	open := One(t, councilNotice(t, h, councilBot, qm), "Moción federal #1 del consejo: Strike on Monday")
	if open.Room != Room {
		t.Errorf("opened in %s", open.Room)
	}
	h.SendAndDrain(Ana, "!vote 2 yes")
	out := h.SendAndDrain(Ben, "!vote 2 no")
	told := One(t, out, "Informé al consejo")
	if told.Room != Room {
		t.Errorf("the branch was told in %s", told.Room)
	}
	reported := One(t, out, "Ergebnis der Ortsgruppe zu föderalem Antrag #1")
	if reported.Room != councilRoom {
		t.Errorf("the council was told in %s", reported.Room)
	}
	res, _ := reported.Msg.Fields["quorum.branch_result"].(map[string]any)
	if res["status"] != "failed" || res["council_motion"] != 1.0 || res["yes"] != 1.0 || res["no"] != 1.0 {
		t.Errorf("quorum.branch_result = %v", res)
	}
}
