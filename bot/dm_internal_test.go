package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/store"
)

// TestDMVerdict: a direct room is private only with the bot joined and the
// member joined or invited, and no one else joined, invited or knocking.
func TestDMVerdict(t *testing.T) {
	const bot, ana, eve = id.UserID("@quorum:x"), id.UserID("@ana:x"), id.UserID("@eve:x")
	for _, tc := range []struct {
		name    string
		members map[id.UserID]event.Membership
		want    dmState
	}{
		{"member joined", map[id.UserID]event.Membership{bot: "join", ana: "join"}, dmPrivate},
		{"member invited", map[id.UserID]event.Membership{bot: "join", ana: "invite"}, dmPrivate},
		{"someone left long ago", map[id.UserID]event.Membership{bot: "join", ana: "join", eve: "leave"}, dmPrivate},
		{"someone banned", map[id.UserID]event.Membership{bot: "join", ana: "join", eve: "ban"}, dmPrivate},
		{"someone invited", map[id.UserID]event.Membership{bot: "join", ana: "join", eve: "invite"}, dmIntruded},
		{"someone joined", map[id.UserID]event.Membership{bot: "join", ana: "join", eve: "join"}, dmIntruded},
		{"someone knocking", map[id.UserID]event.Membership{bot: "join", ana: "join", eve: "knock"}, dmIntruded},
		{"someone joined, member gone", map[id.UserID]event.Membership{bot: "join", ana: "leave", eve: "join"}, dmIntruded},
		{"member never invited", map[id.UserID]event.Membership{bot: "join"}, dmNotInvited},
		{"member left", map[id.UserID]event.Membership{bot: "join", ana: "leave"}, dmAbandoned},
		{"member banned", map[id.UserID]event.Membership{bot: "join", ana: "ban"}, dmAbandoned},
		{"bot not joined", map[id.UserID]event.Membership{bot: "leave", ana: "join"}, dmAbandoned},
		{"bot only invited", map[id.UserID]event.Membership{bot: "invite", ana: "join"}, dmAbandoned},
	} {
		if got := dmVerdict(bot, ana, tc.members); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestSafeError: errors about a direct room are described without quoting
// them (a request's URL names the room).
func TestSafeError(t *testing.T) {
	urlErr := &url.Error{Op: "Put", URL: "http://hs/_matrix/client/v3/rooms/!secret:hs/send/x", Err: errors.New("connection refused")}
	forbidden := mautrix.HTTPError{
		Request:   &http.Request{Method: "PUT", URL: &url.URL{Path: "/_matrix/client/v3/rooms/!secret:hs/send"}},
		Response:  &http.Response{StatusCode: 403},
		RespError: &mautrix.RespError{ErrCode: "M_FORBIDDEN", Err: "user !secret:hs"},
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{urlErr, "request failed"},
		{fmt.Errorf("create: %w", urlErr), "request failed"},
		{fmt.Errorf("leave: %w", forbidden), "HTTP 403 M_FORBIDDEN"},
		{fmt.Errorf("%w: decode queued message: bad !secret:hs", errCannotSucceed), errCannotSucceed.Error()},
		{fmt.Errorf("%w (poll 3)", errOriginalMissing), errOriginalMissing.Error()},
		{context.Canceled, "canceled"},
	} {
		got := safeError(tc.err)
		if got != tc.want || strings.Contains(got, "secret") {
			t.Errorf("safeError(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestDMQuota: five direct rooms a day for one member, then none until the
// first is a day old; other members are not held up.
func TestDMQuota(t *testing.T) {
	var q dmQuota
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for i := range maxDMCreations {
		if !q.take("@ana:x", start.Add(time.Duration(i)*time.Hour)) {
			t.Fatalf("creation %d refused", i+1)
		}
	}
	if q.take("@ana:x", start.Add(23*time.Hour)) {
		t.Fatal("a sixth direct room within the day")
	}
	if !q.take("@ben:x", start.Add(23*time.Hour)) {
		t.Fatal("another member was held up")
	}
	if q.take("@ana:x", start.Add(dmCreationWindow-time.Nanosecond)) {
		t.Fatal("the first creation counted for less than a day")
	}
	if !q.take("@ana:x", start.Add(dmCreationWindow)) {
		t.Fatal("the first creation still counted a day later")
	}
	if q.take("@ana:x", start.Add(dmCreationWindow)) {
		t.Fatal("the room just counted was not counted")
	}
}

// TestBotToBot: the rooms and senders whose undecryptable messages the bot
// does not answer: a council it sits in for a branch, and a branch's bot in
// its own council; a member there, or anyone in another room, is answered.
func TestBotToBot(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := &Bot{st: st}
	now := time.Now()
	const council, other, branchRoom = id.RoomID("!council:x"), id.RoomID("!other-council:x"), id.RoomID("!branch:x")
	if err := st.Federation().SetCouncil(ctx, store.Council{Room: council, Name: "C", Rule: "branches", CreatedBy: "@mod:x", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Federation().Admit(ctx, council, "@branchbot:y", "@mod:x", now); err != nil {
		t.Fatal(err)
	}
	if err := st.Federation().SetAffiliation(ctx, store.Affiliation{Branch: branchRoom, Council: other, Status: store.AffiliationJoined, CouncilBot: "@councilbot:z", Joined: true}, now); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		room   id.RoomID
		sender id.UserID
		want   bool
	}{
		{council, "@branchbot:y", true},
		{council, "@member:x", false},
		{other, "@councilbot:z", true},
		{other, "@member:x", true},
		{branchRoom, "@branchbot:y", false},
		{branchRoom, "@member:x", false},
	} {
		if got, err := b.botToBot(ctx, tc.room, tc.sender); err != nil || got != tc.want {
			t.Errorf("botToBot(%s, %s) = %v %v, want %v", tc.room, tc.sender, got, err, tc.want)
		}
	}
}
