package bot

import (
	"context"
	"time"

	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/id"

	"quorum/store"
)

// SetDM records room as user's direct room, as the bot did for rooms it
// created before direct rooms were kept to two (the member had the power
// to invite), or for a room it did not create at all.
func (b *Bot) SetDM(user id.UserID, room id.RoomID) error {
	return b.st.DMs().Set(context.Background(), user, room)
}

// DM returns user's direct room as the bot has it recorded.
func (b *Bot) DM(user id.UserID) (id.RoomID, bool, error) {
	return b.st.DMs().Room(context.Background(), user)
}

// Queue adds entries to the outbox, as the rules would, and wakes the
// sender.
func (b *Bot) Queue(entries ...store.Outgoing) error {
	for _, o := range entries {
		if _, err := b.st.Outbox().Add(context.Background(), o, b.clock.Now()); err != nil {
			return err
		}
	}
	b.wake()
	return nil
}

// Queued counts the outbox's entries.
func (b *Bot) Queued() (int, error) {
	list, err := b.st.Outbox().Pending(context.Background(), 1_000_000)
	return len(list), err
}

// SlowDeviceLists makes every store of a user's device list take d longer,
// after the devices are stored and before mautrix stores the user's
// cross-signing keys: it widens the window of a first share's race
// (keyquery.go) so that a test meets it every time.
func (b *Bot) SlowDeviceLists(d time.Duration) {
	mach := b.crypto.Machine()
	mach.CryptoStore = slowDevices{mach.CryptoStore, d}
}

type slowDevices struct {
	crypto.Store
	d time.Duration
}

func (s slowDevices) PutDevices(ctx context.Context, user id.UserID, devices map[id.DeviceID]*id.Device) error {
	err := s.Store.PutDevices(ctx, user, devices)
	time.Sleep(s.d)
	return err
}
