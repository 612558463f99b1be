package bot_test

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/testkit"
)

// Attacks on the bot's keeping of megolm sessions (session.go), from an
// attack review: whoever left, was kicked or lost a device must not get the
// key of what the bot says next.

// askSession asks !help as c and returns the bot's reply and its session.
func askSession(t *testing.T, c *testkit.Client, r id.RoomID) (*event.Event, id.SessionID) {
	t.Helper()
	reply := c.Ask(r, "!help")
	return reply, sessionOf(t, c, r, reply.ID)
}

// TestSessionKickedAndReinvited: ben held the bot's session, is kicked, the
// bot speaks while ben is out, ben is invited back and joins. The session
// the bot used while ben was out must never reach ben, and the session ben
// holds from before must not be reused after the kick.
func TestSessionKickedAndReinvited(t *testing.T) {
	t.Parallel()
	_, b, r, ana, ben := anaAndBen(t)
	_, before := askSession(t, ana, r)
	benReply := ben.Ask(r, "!help") // ben holds the session
	if has, _ := ben.RoomKey(raw(t, ben, r, benReply.ID)); !has {
		t.Fatal("ben lacks the session before the kick")
	}
	if _, err := ana.KickUser(context.Background(), r, &mautrix.ReqKickUser{UserID: ben.UserID, Reason: "probe"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the bot's sync sees the kick
	outReply, out := askSession(t, ana, r)
	if out == before {
		t.Errorf("the bot kept session %s across ben's kick", before)
	}
	ana.Invite(r, ben.UserID)
	ana.WaitJoined(r, ben.UserID, wait)
	time.Sleep(2 * time.Second)
	_, after := askSession(t, ana, r)
	if after == out {
		t.Errorf("session %s used while ben was kicked was kept after his rejoin", out)
	}
	ben.WaitFor(wait, "the bot's reply after rejoin", func(evt *event.Event) bool {
		return evt.RoomID == r && evt.Sender == b.Client().UserID && evt.Timestamp > outReply.Timestamp
	})
	if has, _ := ben.RoomKey(raw(t, ben, r, outReply.ID)); has {
		t.Errorf("ben, kicked, holds the key of the message sent while he was out")
	}
}

// TestSessionDeletedDeviceRotates: a member's second device gets the
// session, then is deleted (a seized phone logged out remotely). The bot's
// next message must use a session that device never got.
func TestSessionDeletedDeviceRotates(t *testing.T) {
	t.Parallel()
	_, _, r, ana, ben := anaAndBen(t)
	phone := ben.OtherDevice()
	if err := phone.Member.Crypto.Machine().VerifyWithRecoveryKey(context.Background(), ben.Member.RecoveryKey); err != nil {
		t.Fatalf("verify the phone: %v", err)
	}
	var held id.SessionID
	for deadline := time.Now().Add(wait); ; {
		reply, sess := askSession(t, ana, r)
		time.Sleep(2 * time.Second)
		if has, _ := phone.RoomKey(raw(t, phone, r, reply.ID)); has {
			held = sess
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the phone never got the bot's key")
		}
	}
	// Logging the phone out deletes the device and its keys (UIA for
	// DELETE /devices is not driven here).
	if _, err := phone.Logout(context.Background()); err != nil {
		t.Fatalf("delete device: %v", err)
	}
	deadline := time.Now().Add(wait)
	for {
		_, now := askSession(t, ana, r)
		if now != held {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bot still uses session %s, held by a deleted device", held)
		}
		time.Sleep(time.Second)
	}
}

// TestSessionRevokedDeviceStopsGettingKeys: with cross-signing required,
// ben's second device (a phone, verified) gets the bot's keys; the phone is
// seized and ben resets his identity from his first device, so the phone is
// no longer signed by it. The bot's later messages must use a session the
// phone never got (renewSessions must see the phone is no longer
// entitled).
func TestSessionRevokedDeviceStopsGettingKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := testkit.StartHomeserver(t)
	b := testkit.NewBot(t, s)
	b.Config.RequireCrossSigning = true
	b.Start()
	r, cs := assembly(t, s, b, "ana", "ben")
	ana, ben := cs[0], cs[1]
	phone := ben.OtherDevice()
	if err := phone.Member.Crypto.Machine().VerifyWithRecoveryKey(ctx, ben.Member.RecoveryKey); err != nil {
		t.Fatalf("verify the phone: %v", err)
	}
	for deadline := time.Now().Add(wait); ; {
		reply, _ := askSession(t, ana, r)
		time.Sleep(2 * time.Second)
		if has, _ := phone.RoomKey(raw(t, phone, r, reply.ID)); has {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the verified phone never got the bot's key")
		}
	}
	if _, err := ben.Member.ResetIdentity(ctx); err != nil {
		t.Fatalf("reset identity: %v", err)
	}
	time.Sleep(3 * time.Second)
	for deadline := time.Now().Add(wait); ; {
		reply, _ := askSession(t, ana, r)
		time.Sleep(2 * time.Second)
		if has, _ := phone.RoomKey(raw(t, phone, r, reply.ID)); !has {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the phone, no longer signed by ben's identity, still gets the bot's keys")
		}
	}
}

// TestSessionBotKickedWhileAwayKeepsNoStaleSession: ben holds the bot's
// session; the bot is stopped, kicked, ben leaves, the bot is invited back
// and starts again. keepSession keeps a session on the bot's own first
// invite/join (no prev_content: invite_state events have none) whoever
// holds it; the bot's next message must not use the session ben, who left,
// holds.
func TestSessionBotKickedWhileAwayKeepsNoStaleSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, b, r, ana, ben := anaAndBen(t)
	botID := b.Client().UserID
	reply := ben.Ask(r, "!help")
	held := sessionOf(t, ben, r, reply.ID)
	b.Stop()
	if _, err := ana.KickUser(ctx, r, &mautrix.ReqKickUser{UserID: botID}); err != nil {
		t.Fatal(err)
	}
	if _, err := ben.LeaveRoom(ctx, r); err != nil {
		t.Fatal(err)
	}
	ana.Invite(r, botID)
	b.Start()
	ana.WaitJoined(r, botID, wait)
	time.Sleep(2 * time.Second)
	_, now := askSession(t, ana, r)
	if now == held {
		t.Errorf("after its kick and return the bot reused session %s, held by ben, who left", held)
	}
}
