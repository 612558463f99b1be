package testkit

import (
	"context"
	"time"

	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/id"
)

// LoseRoomKeys deletes what the device holds of the megolm sessions of
// room sent by owner's device, as if their keys had never come, and asks
// that device for them again, as a client does when it cannot decrypt. It
// waits up to timeout for the answers and returns, by session, the first
// message index the forwarded key decrypts from (-1 if none came).
func (c *Client) LoseRoomKeys(room id.RoomID, owner id.UserID, device id.DeviceID, timeout time.Duration) map[id.SessionID]int {
	c.t.Helper()
	ctx := context.Background()
	mach := c.crypto.Machine()
	senderKey := c.identityOf(owner, device)
	db := mach.CryptoStore.(*crypto.SQLCryptoStore).DB
	rows, err := db.Query(ctx, "SELECT session_id FROM crypto_megolm_inbound_session WHERE room_id=$1 AND sender_key=$2", room, senderKey)
	if err != nil {
		c.t.Fatal(err)
	}
	var sessions []id.SessionID
	for rows.Next() {
		var s id.SessionID
		if err := rows.Scan(&s); err != nil {
			c.t.Fatal(err)
		}
		sessions = append(sessions, s)
	}
	if err := rows.Close(); err != nil || len(sessions) == 0 {
		c.t.Fatalf("%s holds no session of %s in %s (%v)", c.UserID, owner, room, err)
	}
	got := map[id.SessionID]int{}
	for _, s := range sessions {
		if _, err := db.Exec(ctx, "DELETE FROM crypto_megolm_inbound_session WHERE session_id=$1", s); err != nil {
			c.t.Fatal(err)
		}
		// Three requests at once, as a client that asks again before an
		// answer comes: the owner gets them in one batch.
		for range 3 {
			if err := mach.SendRoomKeyRequest(ctx, room, senderKey, s, "", map[id.UserID][]id.DeviceID{owner: {device}}); err != nil {
				c.t.Fatal(err)
			}
		}
		got[s] = -1
		if mach.WaitForSession(ctx, room, senderKey, s, timeout) {
			if sess, err := mach.CryptoStore.GetGroupSession(ctx, room, s); err == nil && sess != nil {
				got[s] = int(sess.Internal.FirstKnownIndex())
			}
		}
	}
	return got
}

// AskKeyAs asks owner's device for the key of session, naming room as the
// session's room, whether or not it is: a hostile client's request.
func (c *Client) AskKeyAs(room id.RoomID, session id.SessionID, owner id.UserID, device id.DeviceID) {
	c.t.Helper()
	ctx := context.Background()
	if err := c.crypto.Machine().SendRoomKeyRequest(ctx, room, c.identityOf(owner, device), session, "", map[id.UserID][]id.DeviceID{owner: {device}}); err != nil {
		c.t.Fatal(err)
	}
}

// identityOf is the identity key of owner's device, as c knows it.
func (c *Client) identityOf(owner id.UserID, device id.DeviceID) id.IdentityKey {
	c.t.Helper()
	devices, err := c.crypto.Machine().CryptoStore.GetDevices(context.Background(), owner)
	if err != nil || devices[device] == nil {
		c.t.Fatalf("%s does not know %s's device %s (%v)", c.UserID, owner, device, err)
	}
	return devices[device].IdentityKey
}
