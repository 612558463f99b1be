package bot

import (
	"fmt"
	"strings"

	"maunium.net/go/mautrix/crypto/canonicaljson"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// padField is the content field that pads an event (msg.Message.PadTo).
const padField = "quorum.pad"

// megolmPlaintext is what mautrix encrypts for a room event (its
// rawMegolmEvent): the length of the ciphertext follows the length of this,
// serialised as canonical JSON.
type megolmPlaintext struct {
	RoomID   id.RoomID  `json:"room_id"`
	Type     event.Type `json:"type"`
	StateKey *string    `json:"state_key,omitempty"`
	Content  any        `json:"content"`
}

// pad adds padField to content so that the encrypted plaintext of an
// m.room.message in room is exactly to bytes long, or the next multiple of
// to when the content is longer: then the ciphertext's length tells the
// homeserver nothing of what the content says or whom it is for.
func pad(content map[string]any, room id.RoomID, to int) error {
	content[padField] = ""
	plain, err := canonicaljson.Marshal(&megolmPlaintext{RoomID: room, Type: event.EventMessage, Content: content})
	if err != nil {
		return fmt.Errorf("pad: %w", err)
	}
	target := (len(plain) + to - 1) / to * to
	content[padField] = strings.Repeat(" ", target-len(plain))
	return nil
}

// paddedLength is the length pad aims at: what mautrix will encrypt.
func paddedLength(content map[string]any, room id.RoomID) (int, error) {
	plain, err := canonicaljson.Marshal(&megolmPlaintext{RoomID: room, Type: event.EventMessage, Content: content})
	return len(plain), err
}
