package motions

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/msg"
)

// electIn opens "!delegate args" in a room of ana and ben and carries it.
func electIn(t *testing.T, h *Harness, args string) []Sent {
	t.Helper()
	notice := propose(t, h, Ana, "!delegate "+args)
	n := motionField(t, notice.Msg)["id"].(int)
	return votes(t, h, n, string(Ana)+" yes", string(Ben)+" yes")
}

// delegateRequests returns the quorum.council_delegate notices in out,
// checking they are posted in the council.
func delegateRequests(t *testing.T, out []Sent) []map[string]any {
	t.Helper()
	var list []map[string]any
	for _, s := range out {
		if cd, ok := s.Msg.Fields["quorum.council_delegate"].(map[string]any); ok {
			if s.Room != councilRoom {
				t.Errorf("council delegate request posted in %s", s.Room)
			}
			list = append(list, cd)
		}
	}
	return list
}

// TestCouncilDelegateFromBranch: the branch's bot asks its council to
// seat the member elected to the council's role, and to unseat them when
// recalled or when the term lapses; another role asks nothing.
func TestCouncilDelegateFromBranch(t *testing.T) {
	h := branchInCouncil(t)
	h.Drain()
	if got := delegateRequests(t, electIn(t, h, "@ana:test negotiator : Negotiate the rota")); len(got) != 0 {
		t.Errorf("a negotiator was seated in the council: %v", got)
	}
	out := electIn(t, h, "@ben:test Council --term 30d : Carry our votes")
	got := delegateRequests(t, out)
	if len(got) != 1 {
		t.Fatalf("seat requests: %v\n%s", got, Bodies(out))
	}
	rec, _ := got[0]["record"].(map[string]any)
	if got[0]["branch"] != string(Room) || got[0]["user"] != string(Ben) || got[0]["delegation"] != 2.0 || got[0]["action"] != "seat" ||
		got[0]["reason"] != nil || rec["seq"] == nil || rec["hash"] == "" {
		t.Errorf("seat request = %v", got[0])
	}
	One(t, out, `The branch "Riverside" (`+string(Room)+`) elected @ben:test to sit in this council (its delegation #2)`)
	if told := One(t, out, "I asked the council "+string(councilRoom)+" to seat @ben:test"); told.Room != Room {
		t.Errorf("the branch was told in %s", told.Room)
	}

	propose(t, h, Ana, "!recall @ben:test council : Voted against the mandate")
	got = delegateRequests(t, votes(t, h, 4, string(Ana)+" yes", string(Ben)+" yes"))
	if len(got) != 1 || got[0]["action"] != "unseat" || got[0]["reason"] != "recalled" || got[0]["user"] != string(Ben) || got[0]["delegation"] != 2.0 {
		t.Errorf("unseat on recall = %v", got)
	}

	electIn(t, h, "@ana:test council --term 2d : Carry our votes")
	h.Clock.Advance(3 * aDay)
	h.Due()
	got = delegateRequests(t, h.Drain())
	if len(got) != 1 || got[0]["action"] != "unseat" || got[0]["reason"] != "lapsed" || got[0]["user"] != string(Ana) || got[0]["delegation"] != 3.0 {
		t.Errorf("unseat on lapse = %v", got)
	}
}

// TestCouncilDelegateBeforeJoining: the council delegates elected before
// the branch's bot joined the council, each of them, are seated when it
// joins, after the branch's announcement; the configured role is the one
// that sits.
func TestCouncilDelegateBeforeJoining(t *testing.T) {
	h := newFedHarness(t, Ana, Ben)
	h.Env.Config.Council.DelegateRole = "federal"
	electIn(t, h, "@ben:test federal : Carry our votes")
	electIn(t, h, "@ana:test federal : Carry our votes")
	h.SendAndDrain(Ana, affiliateCmd+string(councilRoom)+" Riverside")
	h.SendAndDrain(Ana, "!vote 3 yes")
	h.SendAndDrain(Ben, "!vote 3 yes")
	_, out := invite(t, h, councilRoom, councilBot, AdmitReason)
	var order []string
	for _, s := range out {
		if s.Room != councilRoom || s.Kind != commands.KindMessage {
			continue
		}
		switch {
		case s.Msg.Fields["quorum.branch"] != nil:
			order = append(order, "branch")
		case s.Msg.Fields["quorum.council_delegate"] != nil:
			order = append(order, "delegate")
		}
	}
	if strings.Join(order, ",") != "branch,delegate,delegate" {
		t.Errorf("council queue: %v\n%s", order, Bodies(out))
	}
}

// TestCouncilDelegateInTwoCouncils: a branch in two councils asks each of
// them to seat its council delegate.
func TestCouncilDelegateInTwoCouncils(t *testing.T) {
	h := branchInCouncil(t)
	const east = id.RoomID("!east:council.test")
	h.SendAndDrain(Ana, affiliateCmd+string(east)+" Riverside")
	h.SendAndDrain(Ana, "!vote 2 yes")
	h.SendAndDrain(Ben, "!vote 2 yes")
	if answer, _ := invite(t, h, east, councilBot, AdmitReason); answer != commands.InviteAccepted {
		t.Fatalf("invite to the second council: %v", answer)
	}
	out := electIn(t, h, "@ben:test council : Carry our votes")
	asked := map[id.RoomID]int{}
	for _, s := range out {
		if s.Msg.Fields["quorum.council_delegate"] != nil {
			asked[s.Room]++
		}
	}
	if len(asked) != 2 || asked[councilRoom] != 1 || asked[east] != 1 {
		t.Errorf("seat requests by council: %v\n%s", asked, Bodies(out))
	}
}

// delegateNotice has sender post a quorum.council_delegate notice in the
// council (the test room) and returns what it caused.
func delegateNotice(t *testing.T, h *Harness, sender id.UserID, cd map[string]any) []Sent {
	t.Helper()
	raw, _ := json.Marshal(cd)
	err := h.A.HandleNotice(context.Background(), commands.Notice{Room: Room, Sender: sender, Event: h.NextEvent(), Time: h.Clock.Now(),
		Fields: map[string]json.RawMessage{"quorum.council_delegate": raw}})
	if err != nil {
		t.Fatal(err)
	}
	return h.Drain()
}

// memberships decodes the invites and kicks in out.
func memberships(t *testing.T, out []Sent) []msg.Membership {
	t.Helper()
	var list []msg.Membership
	for _, s := range out {
		if s.Kind == commands.KindMembership {
			var m msg.Membership
			if err := json.Unmarshal(s.Payload, &m); err != nil {
				t.Fatal(err)
			}
			list = append(list, m)
		}
	}
	return list
}

const (
	dana = id.UserID("@dana:branch.test")
	hill = id.RoomID("!hill:other.test")
)

func seatOf(branch id.RoomID, user id.UserID, delegation int) map[string]any {
	return map[string]any{"branch": branch, "user": user, "delegation": delegation, "action": "seat", "record": map[string]any{"seq": 7, "hash": "ab"}}
}

func unseatOf(branch id.RoomID, user id.UserID, delegation int, reason string) map[string]any {
	return map[string]any{"branch": branch, "user": user, "delegation": delegation, "action": "unseat", "reason": reason}
}

// TestCouncilDelegateSeated: the council's bot seats a branch's delegate
// on the word of that branch's bot only, inviting them with a reason that
// names the branch; a repeated request changes nothing; on recall it
// removes them, naming the branch that recalled them.
func TestCouncilDelegateSeated(t *testing.T) {
	h := councilWithBranches(t)
	// Forgeries: a member, a bot not admitted, another branch's bot, and
	// requests that do not read.
	for _, tc := range []struct {
		sender id.UserID
		cd     map[string]any
		want   string
	}{
		{Ben, seatOf(branchRoom, Ben, 1), "@ben:test is not the bot of a branch of this council"},
		{"@quorum:evil.test", seatOf(branchRoom, dana, 1), "is not the bot of a branch"},
		{otherBot, seatOf(branchRoom, dana, 1), "speaks for the branch !hill:other.test, not !branch:branch.test"},
		{branchBot, seatOf(branchRoom, "dana", 1), "not valid"},
		{branchBot, seatOf(branchRoom, Bot, 1), "not valid"},
		{branchBot, seatOf(branchRoom, dana, 0), "not valid"},
		{branchBot, unseatOf(branchRoom, dana, 1, "bored"), "not valid"},
		{branchBot, map[string]any{"branch": branchRoom, "user": dana, "delegation": 1, "action": "crown"}, "not valid"},
	} {
		out := delegateNotice(t, h, tc.sender, tc.cd)
		if !strings.Contains(Bodies(out), "I ignored that council delegate request: ") || !strings.Contains(Bodies(out), tc.want) || len(memberships(t, out)) != 0 {
			t.Errorf("request from %s (%v): %q, want %q", tc.sender, tc.cd, Bodies(out), tc.want)
		}
	}

	out := delegateNotice(t, h, branchBot, seatOf(branchRoom, dana, 1))
	inv := memberships(t, out)
	if len(inv) != 1 || inv[0].User != dana || inv[0].Kick || !strings.Contains(inv[0].Reason, "Riverside") || inv[0].IfRefused == "" {
		t.Errorf("seat's invite = %+v", inv)
	}
	seated := One(t, out, `@dana:branch.test sits in this council for the branch "Riverside"`)
	if seated.Msg.Fields["quorum.record"] == nil {
		t.Error("the seat was not recorded in the council's chain")
	}
	if out := delegateNotice(t, h, branchBot, seatOf(branchRoom, dana, 1)); len(out) != 0 {
		t.Errorf("a repeated seat: %q", Bodies(out))
	}
	h.Rooms.Joined[Room] = append(h.Rooms.Joined[Room], dana)
	shown := One(t, h.SendAndDrain(Ben, "!council"), "Riverside")
	if !strings.Contains(shown.Msg.Body, "↳ council delegates: @dana:branch.test") {
		t.Errorf("!council: %q", shown.Msg.Body)
	}
	for _, b := range branchesOf(t, shown) {
		b := b.(map[string]any)
		if want := b["room"] == string(branchRoom); want != (len(b["delegates"].([]any)) == 1) {
			t.Errorf("quorum.council branch %v", b)
		}
	}

	// An unseat of another delegation, or of someone not seated, does nothing.
	for _, cd := range []map[string]any{unseatOf(branchRoom, dana, 9, "recalled"), unseatOf(branchRoom, Ben, 1, "recalled")} {
		if out := delegateNotice(t, h, branchBot, cd); len(out) != 0 {
			t.Errorf("unseat %v: %q", cd, Bodies(out))
		}
	}
	out = delegateNotice(t, h, branchBot, unseatOf(branchRoom, dana, 1, "recalled"))
	kick := memberships(t, out)
	if len(kick) != 1 || kick[0].User != dana || !kick[0].Kick || kick[0].Reason != "Recalled by the branch Riverside" || kick[0].IfRefused == "" {
		t.Errorf("recall's kick = %+v", kick)
	}
	gone := One(t, out, `The branch "Riverside" recalled @dana:branch.test (its delegation #1)`)
	if !strings.Contains(gone.Msg.Body, "I am removing them from this room.") || gone.Msg.Fields["quorum.record"] == nil {
		t.Errorf("unseat: %q", gone.Msg.Body)
	}
	if out := delegateNotice(t, h, branchBot, unseatOf(branchRoom, dana, 1, "recalled")); len(out) != 0 {
		t.Errorf("a repeated unseat: %q", Bodies(out))
	}
}

// TestCouncilDelegateOfTwoBranches: a member two branches seat is removed
// only when the last unseats them; a member who was in the council before
// is never removed; a branch that leaves takes its seats with it.
func TestCouncilDelegateOfTwoBranches(t *testing.T) {
	h := councilWithBranches(t)
	delegateNotice(t, h, branchBot, seatOf(branchRoom, dana, 1))
	h.Rooms.Joined[Room] = append(h.Rooms.Joined[Room], dana)
	out := delegateNotice(t, h, otherBot, seatOf(hill, dana, 4))
	if len(memberships(t, out)) != 0 {
		t.Errorf("a member in the council already was invited again: %s", out[0].Payload)
	}
	One(t, out, `sits in this council for the branch "Hillside"`)

	// Riverside, whose seat brought dana in, unseats first: Hillside's
	// seat keeps dana, and its end removes them.
	out = delegateNotice(t, h, branchBot, unseatOf(branchRoom, dana, 1, "recalled"))
	if len(memberships(t, out)) != 0 {
		t.Error("a branch unseating removed a member another branch seats")
	}
	if got := One(t, out, `The branch "Riverside" recalled @dana:branch.test`).Msg.Body; !strings.Contains(got, "They still sit here for Hillside.") {
		t.Errorf("unseat: %q", got)
	}
	out = delegateNotice(t, h, otherBot, unseatOf(hill, dana, 4, "lapsed"))
	if kick := memberships(t, out); len(kick) != 1 || !kick[0].Kick || kick[0].Reason != "Their mandate from the branch Hillside has lapsed" {
		t.Errorf("last unseat's kick = %+v", kick)
	}
	One(t, out, `The mandate of @dana:branch.test from the branch "Hillside" has lapsed (its delegation #4)`)

	// Ben was in the council before Hillside seated him: he stays.
	delegateNotice(t, h, otherBot, seatOf(hill, Ben, 5))
	out = delegateNotice(t, h, otherBot, unseatOf(hill, Ben, 5, "recalled"))
	if len(memberships(t, out)) != 0 || !strings.Contains(Bodies(out), "They were in this room before they were seated, so I leave them in it.") {
		t.Errorf("unseating a member who was there before: %q", Bodies(out))
	}

	// Hillside leaves: its delegates go with it, each named as its.
	delegateNotice(t, h, otherBot, seatOf(hill, Chi, 6))
	delegateNotice(t, h, otherBot, seatOf(hill, Dan, 7))
	raw, _ := json.Marshal(map[string]any{"room": hill})
	if err := h.A.HandleNotice(context.Background(), commands.Notice{Room: Room, Sender: otherBot, Event: h.NextEvent(), Time: h.Clock.Now(),
		Fields: map[string]json.RawMessage{"quorum.branch_left": raw}}); err != nil {
		t.Fatal(err)
	}
	out = h.Drain()
	kicks := memberships(t, out)
	if len(kicks) != 2 {
		t.Errorf("kicks when the branch left = %+v", kicks)
	}
	for _, kick := range kicks {
		if kick.User != Chi && kick.User != Dan || kick.Reason != "The branch Hillside has left this council" {
			t.Errorf("kick when the branch left = %+v", kick)
		}
	}
	One(t, out, `@chi:test no longer sits in this council for the branch "Hillside", which has left it.`)
	One(t, out, `@dan:test no longer sits in this council for the branch "Hillside", which has left it.`)
}

// TestCouncilDelegateProposes: a council delegate proposes a federal
// motion like any member of the council, and neither their vote nor
// anyone's in the council decides it: the branches' results do.
func TestCouncilDelegateProposes(t *testing.T) {
	h := councilWithBranches(t)
	delegateNotice(t, h, branchBot, seatOf(branchRoom, dana, 1))
	h.Rooms.Joined[Room] = append(h.Rooms.Joined[Room], dana)
	open := One(t, h.SendAndDrain(dana, "!motion Strike on Monday"), "Federal motion #1")
	if qm := open.Msg.Fields["quorum.motion"].(map[string]any); qm["kind"] != kindFederal {
		t.Fatalf("quorum.motion = %v", qm)
	}
	for _, who := range []id.UserID{dana, Ana, Ben} {
		if got := h.Reply(who, "!vote 1 yes"); !strings.Contains(got, "no motion #1") {
			t.Errorf("%s voted in the council: %q", who, got)
		}
		h.React(who, open.EventID, "👍")
	}
	if out := h.AdvanceTo(h.Clock.Now().Add(time.Hour)); len(Saying(out, "Federal motion #1:")) != 0 {
		t.Errorf("decided without the branches: %s", Bodies(out))
	}
	report(t, h, branchBot, map[string]any{"council_motion": 1, "branch": branchRoom, "status": "failed", "yes": 0, "no": 3, "electorate": 3})
	out := report(t, h, otherBot, map[string]any{"council_motion": 1, "branch": hill, "status": "failed", "yes": 0, "no": 2, "electorate": 2})
	if r := One(t, out, "Federal motion #1: Failed").Msg.Fields["quorum.motion"].(map[string]any); r["yes"] != 0.0 {
		t.Errorf("council votes counted: %v", r)
	}
}

// TestCouncilDelegateGolden: a council delegate seated, shown by
// `!council`, and removed on recall, with the invite's and the removal's
// reasons, as a council in each language reads them.
func TestCouncilDelegateGolden(t *testing.T) {
	for _, lang := range []string{"en", "es", "de"} {
		t.Run(lang, func(t *testing.T) {
			h := councilWithBranches(t)
			h.SetLang(lang)
			var out []Sent
			out = append(out, delegateNotice(t, h, branchBot, seatOf(branchRoom, dana, 1))...)
			h.Rooms.Joined[Room] = append(h.Rooms.Joined[Room], dana)
			out = append(out, h.SendAndDrain(Ben, "!council")...)
			out = append(out, delegateNotice(t, h, branchBot, unseatOf(branchRoom, dana, 1, "recalled"))...)
			got := transcript(out)
			for _, m := range memberships(t, out) {
				got += "--- membership " + m.User.String() + "\n" + m.Reason + "\n" + m.IfRefused + "\n"
			}
			Golden(t, "council-delegate", lang, got)
		})
	}
}
