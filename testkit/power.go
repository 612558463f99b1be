package testkit

import (
	"context"
	"strconv"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// PowerLevels reads room's power levels from the server.
func (c *Client) PowerLevels(room id.RoomID) *event.PowerLevelsEventContent {
	c.t.Helper()
	var pl event.PowerLevelsEventContent
	if err := c.StateEvent(context.Background(), room, event.StatePowerLevels, "", &pl); err != nil {
		c.t.Fatalf("read power levels of %s: %v", room, err)
	}
	return &pl
}

// SetPowerLevel sets user's power level in room, changing the levels as the
// server has them now (the client needs the power: a room's creator has it).
func (c *Client) SetPowerLevel(room id.RoomID, user id.UserID, level int) {
	c.t.Helper()
	pl := c.PowerLevels(room)
	pl.SetUserLevel(user, level)
	if _, err := c.SendStateEvent(context.Background(), room, event.StatePowerLevels, "", pl); err != nil {
		c.t.Fatalf("set power level of %s in %s: %v", user, room, err)
	}
}

// WaitPowerLevel waits for a change of room's power levels sent by sender
// that leaves user at level, and returns it.
func (c *Client) WaitPowerLevel(room id.RoomID, sender, user id.UserID, level int, timeout time.Duration) *event.Event {
	c.t.Helper()
	return c.WaitFor(timeout, "power levels from "+sender.String()+" with "+user.String()+" at "+strconv.Itoa(level), func(evt *event.Event) bool {
		if evt.Type != event.StatePowerLevels || evt.RoomID != room || evt.Sender != sender {
			return false
		}
		pl, parsed := evt.Content.Parsed.(*event.PowerLevelsEventContent)
		return parsed && pl.GetUserLevel(user) == level
	})
}
