package motions

import (
	"testing"

	. "quorum/commands/commandstest"
)

// TestUnseatNeverKicksModerator: a branch's bot (compromised, or its
// assembly misled) seats a council moderator who happens not to be joined
// at that moment (invited and not yet in, or stepped out), then unseats
// them: the council's bot leaves a moderator in the council, whoever
// invited them (found by review, with this test).
func TestUnseatNeverKicksModerator(t *testing.T) {
	h := councilWithBranches(t)
	const mod = Dan // a council moderator, not joined at this moment
	h.Rooms.Power[mod] = 50
	delegateNotice(t, h, branchBot, seatOf(branchRoom, mod, 1))
	h.Rooms.Joined[Room] = append(h.Rooms.Joined[Room], mod) // comes back
	out := delegateNotice(t, h, branchBot, unseatOf(branchRoom, mod, 1, "recalled"))
	for _, m := range memberships(t, out) {
		if m.Kick && m.User == mod {
			t.Errorf("the council's bot removes a council moderator (power 50) on a branch's word: %+v", m)
		}
	}
}

// TestBranchBotIsNeverSeated: branch Riverside's bot asks to seat
// Hillside's admitted bot while it is not (yet) joined, then to unseat it:
// a branch's bot is no delegate, so neither is done, and the other
// branch's bot is never kicked (it could no longer report its branch's
// results).
func TestBranchBotIsNeverSeated(t *testing.T) {
	h := councilWithBranches(t)
	delegateNotice(t, h, branchBot, seatOf(branchRoom, otherBot, 1))
	h.Rooms.Joined[Room] = append(h.Rooms.Joined[Room], otherBot)
	out := delegateNotice(t, h, branchBot, unseatOf(branchRoom, otherBot, 1, "recalled"))
	for _, m := range memberships(t, out) {
		if m.Kick && m.User == otherBot {
			t.Errorf("one branch's bot made the council's bot kick another branch's admitted bot: %+v", m)
		}
	}
}
