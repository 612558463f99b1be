package motions

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
)

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
	for range 2 {
		if answer, out := invite(t, h, councilRoom, "@mod:council.test", AdmitReason); answer != commands.InviteKept || len(out) != 0 {
			t.Fatalf("admission before the vote: %v, %q", answer, Bodies(out))
		}
	}
	// Any other invite is left to allowed_inviters.
	if answer, _ := invite(t, h, "!party:evil.test", "@mod:evil.test", ""); answer != commands.InviteUsual {
		t.Errorf("ordinary invite: %v", answer)
	}
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!affiliate #council:council.test", Want: "Give the council's room ID"},
		{From: Ana, Cmd: "!affiliate " + string(Room), Want: "A room can't affiliate with itself."},
	})
	open := One(t, h.SendAndDrain(Ana, "!affiliate "+string(councilRoom)+" Riverside branch"), "Motion #1")
	mf := open.Msg.Fields["quorum.motion"].(map[string]any)
	if mf["kind"] != kindAffiliation || open.Msg.Fields["quorum.affiliation"].(map[string]any)["council"] != string(councilRoom) {
		t.Errorf("affiliation notice fields: %v", open.Msg.Fields)
	}
	if got := h.Reply(Ben, "!affiliate "+string(councilRoom)); !strings.Contains(got, "Motion #1 already proposes that") {
		t.Errorf("second proposal: %q", got)
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
	if got := h.Reply(Ana, "!affiliate "+string(councilRoom)); !strings.Contains(got, "affiliated with that council already") {
		t.Errorf("again: %q", got)
	}
}

func TestAffiliationVoteFirst(t *testing.T) {
	h := newFedHarness(t, Ana, Ben)
	h.SendAndDrain(Ana, "!affiliate "+string(councilRoom)+" Riverside")
	h.SendAndDrain(Ana, "!vote 1 yes")
	out := h.SendAndDrain(Ben, "!vote 1 yes")
	if joined, _ := joins(out); len(joined) != 0 {
		t.Fatalf("joined before any invite: %v", joined)
	}
	One(t, out, "I join it as soon as its moderators admit me")
	// The carried affiliation is the branch's permission, whoever invites
	// (the council's bot need not be in allowed_inviters).
	answer, out := invite(t, h, councilRoom, "@quorum:council.test", "")
	joined, announced := joins(out)
	if answer != commands.InviteAccepted || len(joined) != 1 || len(announced) != 1 {
		t.Fatalf("invite after the vote: %v, joined %v, announced %v", answer, joined, announced)
	}
}

func TestAffiliationLost(t *testing.T) {
	h := newFedHarness(t, Ana, Ben)
	h.SendAndDrain(Ana, "!affiliate "+string(councilRoom))
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
	One(t, h.SendAndDrain(Ana, "!affiliate "+string(councilRoom)), "Motion #2")
}
