package bot

import (
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
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
