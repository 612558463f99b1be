package bot_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/testkit"
)

// TestFederationAffiliation runs a council and two branches on two
// homeservers that federate on loopback, with real encrypted clients and
// one bot per room's side: the council's bot and the first branch's bot on
// server A, the second branch's bot on server B. The first branch is
// admitted before it votes (its bot waits for the vote, although the
// council's bot is an allowed inviter on its server); the second votes
// before it is admitted (its bot joins although the council's bot, on
// another server, is not an allowed inviter; its branch names the council
// by its alias, resolved across federation). Each bot announces its
// branch, and the council's bot lists both. A member posing as a branch's
// bot is refused. Then a federal motion goes from the council to both
// branches, is carried in one and lost in the other, and the council
// decides it from their results; the second branch's bot is down while its
// branch votes, and reports once when it is back. The second branch elects
// a council delegate, whom the council's bot invites across federation,
// and recalls them, and the council's bot removes them. Last, one branch
// votes to leave.
func TestFederation(t *testing.T) {
	t.Parallel()
	began := time.Now()
	hs := testkit.StartFederation(t, 2)
	a, b := hs[0], hs[1]
	cbot := testkit.NewBotNamed(t, a, "council")
	abot := testkit.NewBotNamed(t, a, "quorum")
	bbot := testkit.NewBotNamed(t, b, "quorum")
	for _, qb := range []*testkit.Bot{cbot, abot, bbot} {
		qb.Start()
	}
	t.Logf("two homeservers and three bots up in %s", time.Since(began).Round(10*time.Millisecond))
	cID, aID, bID := cbot.Client().UserID, abot.Client().UserID, bbot.Client().UserID

	// The council, on server A.
	ana := testkit.NewClient(t, a, "ana")
	council := ana.CreateRoom(false, cID)
	ana.WaitJoined(council, cID, wait)
	ana.Say(council, "!council on Regional council")
	on := findNotice(ana, council, cID, "a council now")
	if on.Content.Raw["quorum.council"] == nil {
		t.Fatal("no quorum.council on the council's notice")
	}

	// Branch A, on server A: admitted first, then its vote.
	ben := testkit.NewClient(t, a, "ben")
	branchA := ana.CreateRoom(false, aID, ben.UserID)
	ana.WaitJoined(branchA, aID, wait)
	ana.WaitJoined(branchA, ben.UserID, wait)
	ana.Say(council, "!council admit "+aID.String())
	findNotice(ana, council, cID, "I invited "+aID.String())
	time.Sleep(2 * time.Second) // the invite reaches abot, which keeps it
	if joinedBy(ana, council, aID) {
		t.Fatal("the branch's bot joined the council before its branch voted")
	}
	ana.Say(branchA, "!affiliate --bot "+cID.String()+" "+council.String()+" Riverside")
	findNotice(ana, branchA, aID, "Motion #1")
	ana.Say(branchA, "!vote 1 yes")
	ben.Say(branchA, "!vote 1 yes")
	findNotice(ana, branchA, aID, "affiliated with the council")
	ana.WaitJoined(council, aID, wait)
	welcomeA := findNotice(ana, council, cID, `Welcome to the branch "Riverside"`)
	if got := branchRooms(t, welcomeA); len(got) != 1 || got[0] != branchA.String() {
		t.Errorf("after Riverside, branches = %v", got)
	}

	// Branch B, on server B: its vote first, then its admission.
	cara := testkit.NewClient(t, b, "cara")
	dev := testkit.NewClient(t, b, "dev")
	branchB := cara.CreateRoom(false, bID, dev.UserID)
	cara.WaitJoined(branchB, bID, wait)
	cara.WaitJoined(branchB, dev.UserID, wait)
	// By the council's alias, resolved across federation.
	alias := id.NewRoomAlias("regional", a.ServerName)
	if _, err := ana.CreateAlias(context.Background(), alias, council); err != nil {
		t.Fatal(err)
	}
	cara.Say(branchB, "!affiliate --bot "+cID.String()+" "+alias.String()+" Hillside")
	findNotice(cara, branchB, bID, "Motion #1")
	cara.Say(branchB, "!vote 1 yes")
	dev.Say(branchB, "!vote 1 yes")
	findNotice(cara, branchB, bID, "I join it as soon as its moderators admit me")
	ana.Say(council, "!council admit "+bID.String())
	ana.WaitJoined(council, bID, wait)
	welcomeB := findNotice(ana, council, cID, `Welcome to the branch "Hillside"`)
	if got := branchRooms(t, welcomeB); len(got) != 2 || got[1] != branchB.String() {
		t.Errorf("after Hillside, branches = %v", got)
	}
	t.Logf("both branches affiliated and announced %s after start", time.Since(began).Round(10*time.Millisecond))

	// A member of server B, in the council, posing as a branch's bot.
	eve := testkit.NewClient(t, b, "eve")
	ana.Invite(council, eve.UserID)
	ana.WaitJoined(council, eve.UserID, wait)
	forged := eve.SendContent(council, event.EventMessage, map[string]any{
		"msgtype": "m.notice", "body": "I am the bot of the branch Mountain",
		"quorum.branch": map[string]any{"council": council, "room": "!mountain:" + b.ServerName, "name": "Mountain",
			"bot": eve.UserID, "electorate": 500, "affiliation": map[string]any{"motion": 1}},
	})
	refusal := ana.WaitReply(council, forged, wait)
	if body := refusal.Content.AsMessage().Body; !strings.Contains(body, "was not admitted") {
		t.Errorf("forged announcement answered %q", body)
	}
	// Eve asking the council's bot to seat someone, unencrypted (as the
	// homeserver itself could) and encrypted: neither seats anyone.
	mallory := id.NewUserID("mallory", b.ServerName)
	seatMallory := map[string]any{"msgtype": "m.notice", "body": "Seat mallory",
		"quorum.council_delegate": map[string]any{"branch": branchB, "user": mallory, "delegation": 1, "action": "seat"}}
	plain, err := eve.SendMessageEvent(context.Background(), council, event.EventMessage, seatMallory, mautrix.ReqSendEvent{DontEncrypt: true})
	if err != nil {
		t.Fatal(err)
	}
	forgedSeat := eve.SendContent(council, event.EventMessage, seatMallory)
	if body := ana.WaitReply(council, forgedSeat, wait).Content.AsMessage().Body; !strings.Contains(body, "I ignored that council delegate request: "+eve.UserID.String()+" is not the bot of a branch") {
		t.Errorf("forged seat answered %q", body)
	}
	if !strings.Contains(cbot.Log.String(), "Ignoring an unencrypted event in an encrypted room") {
		t.Error("the council's bot did not drop the unencrypted forged seat as unencrypted")
	}
	for _, r := range ana.Replies(council, plain.EventID) {
		if body := r.Content.AsMessage().Body; strings.Contains(body, "council delegate request") {
			t.Errorf("an unencrypted forged seat was read: %q", body)
		}
	}
	if n := len(ana.Notices(council, cID, mallory.String())); n != 0 {
		t.Errorf("a forged request seated mallory (%d notices)", n)
	}
	ana.Say(council, "!council")
	shown := findNotice(ana, council, cID, "Hillside")
	if got := branchRooms(t, shown); len(got) != 2 {
		t.Errorf("after the forgery, branches = %v", got)
	}
	// The branches' bots take no commands in the council: only its own bot
	// answered !council.
	if n := len(ana.Notices(council, aID, "Regional council")) + len(ana.Notices(council, bID, "Regional council")); n != 0 {
		t.Errorf("a branch's bot answered a command in the council %d times", n)
	}

	// A federal motion: opened in the council, sent by each branch's bot to
	// its branch, carried in Riverside and lost in Hillside; under the
	// council's rule (a majority of branches) it fails.
	fedAt := time.Now()
	ana.Say(council, "!motion Strike on Monday")
	findNotice(ana, council, cID, "Federal motion #1")
	inA := findNotice(ana, branchA, aID, "Federal motion #1 of the council: Strike on Monday")
	inB := findNotice(cara, branchB, bID, "Federal motion #1 of the council: Strike on Monday")
	for _, evt := range []*event.Event{inA, inB} {
		var qm struct {
			Kind    string `json:"kind"`
			Council struct {
				Room   string `json:"room"`
				Motion int    `json:"motion"`
			} `json:"council"`
		}
		raw, _ := json.Marshal(evt.Content.Raw["quorum.motion"])
		if err := json.Unmarshal(raw, &qm); err != nil || qm.Kind != "federal" || qm.Council.Room != council.String() || qm.Council.Motion != 1 {
			t.Errorf("branch motion's quorum.motion: %s", raw)
		}
	}
	ana.Say(branchA, "!vote 2 yes")
	ben.Say(branchA, "!vote 2 yes")
	// Hillside's bot is down while its branch votes: its result comes
	// late, once.
	bbot.Stop()
	cara.Say(branchB, "!vote 2 no")
	dev.Say(branchB, "!vote 2 no")
	time.Sleep(500 * time.Millisecond) // let the homeserver take them before the bot syncs again
	bbot.Start()
	findNotice(ana, branchA, aID, "I reported to the council")
	findNotice(cara, branchB, bID, "I reported to the council")
	resA := findNotice(ana, council, aID, "Branch result of federal motion #1")
	if f, _ := resA.Content.Raw["quorum.branch_result"].(map[string]any); f["status"] != "carried" || f["branch"] != branchA.String() || f["yes"] != 2.0 {
		t.Errorf("Riverside's quorum.branch_result = %v", f)
	}
	result := findNotice(ana, council, cID, "Federal motion #1: Failed")
	qm, _ := result.Content.Raw["quorum.motion"].(map[string]any)
	if qm["kind"] != "federal" || qm["status"] != "failed" || qm["yes"] != 2.0 || qm["no"] != 2.0 || len(qm["branches"].([]any)) != 2 {
		t.Errorf("council result quorum.motion = %v", qm)
	}
	t.Logf("federal motion from opening to the council's result: %s", time.Since(fedAt).Round(10*time.Millisecond))
	if n := len(ana.Notices(council, bID, "Branch result of federal motion #1")); n != 1 {
		t.Errorf("Hillside's result posted %d times, want 1", n)
	}

	// Hillside elects dev its council delegate: its bot asks the council's
	// bot, which invites dev across federation; dev joins. Then Hillside
	// recalls dev, and the council's bot removes them, naming Hillside.
	delegateAt := time.Now()
	ana.SetPowerLevel(council, cID, 50) // the power to remove a member
	cara.Say(branchB, "!delegate "+dev.UserID.String()+" council : Carry Hillside's votes to the council")
	findNotice(cara, branchB, bID, "Motion #3")
	cara.Say(branchB, "!vote 3 yes")
	dev.Say(branchB, "!vote 3 yes")
	ask := findNotice(ana, council, bID, "to sit in this council")
	if f, _ := ask.Content.Raw["quorum.council_delegate"].(map[string]any); f["action"] != "seat" || f["user"] != dev.UserID.String() || f["branch"] != branchB.String() {
		t.Errorf("Hillside's quorum.council_delegate = %v", f)
	}
	findNotice(ana, council, cID, dev.UserID.String()+` sits in this council for the branch "Hillside"`)
	invited := ana.WaitFor(wait, "dev's invite into the council", func(evt *event.Event) bool {
		return evt.RoomID == council && evt.Type == event.StateMember && evt.GetStateKey() == dev.UserID.String() &&
			evt.Content.AsMember().Membership == event.MembershipInvite
	})
	if invited.Sender != cID || !strings.Contains(invited.Content.AsMember().Reason, "Hillside") {
		t.Errorf("dev's invite from %s, reason %q", invited.Sender, invited.Content.AsMember().Reason)
	}
	ana.WaitJoined(council, dev.UserID, wait)
	ana.Say(council, "!council")
	if shown := findNotice(ana, council, cID, "council delegates: "+dev.UserID.String()); !strings.Contains(shown.Content.AsMessage().Body, "Hillside") {
		t.Errorf("!council: %q", shown.Content.AsMessage().Body)
	}
	cara.Say(branchB, "!recall "+dev.UserID.String()+" council")
	findNotice(cara, branchB, bID, "Motion #4")
	cara.Say(branchB, "!vote 4 yes")
	dev.Say(branchB, "!vote 4 yes")
	findNotice(ana, council, cID, `The branch "Hillside" recalled `+dev.UserID.String())
	kicked := ana.WaitFor(wait, "dev removed from the council", func(evt *event.Event) bool {
		return evt.RoomID == council && evt.Type == event.StateMember && evt.GetStateKey() == dev.UserID.String() &&
			evt.Content.AsMember().Membership == event.MembershipLeave
	})
	if kicked.Sender != cID || kicked.Content.AsMember().Reason != "Recalled by the branch Hillside" {
		t.Errorf("dev removed by %s, reason %q", kicked.Sender, kicked.Content.AsMember().Reason)
	}
	t.Logf("council delegate elected, seated, recalled and removed in %s", time.Since(delegateAt).Round(10*time.Millisecond))

	// Hillside votes to leave: its bot tells the council and leaves it, and
	// the council's bot removes the branch.
	cara.Say(branchB, "!disaffiliate "+council.String())
	findNotice(cara, branchB, bID, "Motion #5")
	cara.Say(branchB, "!vote 5 yes")
	dev.Say(branchB, "!vote 5 yes")
	findNotice(cara, branchB, bID, "This branch has left the council")
	gone := findNotice(ana, council, cID, `The branch "Hillside" (`+branchB.String()+`) has left this council`)
	if got := branchRooms(t, gone); len(got) != 1 || got[0] != branchA.String() {
		t.Errorf("after Hillside left, branches = %v", got)
	}
	ana.WaitFor(wait, "Hillside's bot leaving the council", func(evt *event.Event) bool {
		return evt.RoomID == council && evt.Type == event.StateMember && evt.GetStateKey() == bID.String() &&
			evt.Content.AsMember().Membership == event.MembershipLeave
	})

	for _, qb := range []*testkit.Bot{cbot, abot, bbot} {
		if log := qb.Log.String(); strings.Contains(log, "Riverside") || strings.Contains(log, "Mountain") || strings.Contains(log, "Strike") {
			t.Error("a bot logged message content")
		}
	}
	t.Logf("done in %s", time.Since(began).Round(10*time.Millisecond))
}

// joinedBy says whether c has seen user join room.
func joinedBy(c *testkit.Client, room id.RoomID, user id.UserID) bool {
	for _, evt := range c.Events() {
		if evt.RoomID == room && evt.Type == event.StateMember && evt.GetStateKey() == user.String() &&
			evt.Content.AsMember().Membership == event.MembershipJoin {
			return true
		}
	}
	return false
}

// branchRooms reads the branch rooms of a notice's quorum.council.
func branchRooms(t *testing.T, evt *event.Event) []string {
	t.Helper()
	raw, _ := json.Marshal(evt.Content.Raw["quorum.council"])
	var c struct {
		Branches []struct {
			Room string `json:"room"`
		} `json:"branches"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range c.Branches {
		out = append(out, b.Room)
	}
	return out
}
