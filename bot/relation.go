package bot

import (
	"maunium.net/go/mautrix/event"
)

// dropCleartextRelation forgets the relation an encrypted event carries
// outside its ciphertext, before it is decrypted. Matrix keeps a copy of
// m.relates_to in the clear so that servers can aggregate, and mautrix,
// when the plaintext has none of its own, copies that clear one in: but the
// homeserver writes the clear one, and could move a member's encrypted
// poll answer or reaction to another motion, or change its emoji. Current
// clients (mautrix, the Rust crypto of Element Web, Desktop and X) encrypt
// the relation along with the content; what only older clients sent, a
// relation outside the ciphertext alone, is then no relation, and a
// reaction or poll answer without one is not a vote.
func dropCleartextRelation(evt *event.Event) {
	if content, ok := evt.Content.Parsed.(*event.EncryptedEventContent); ok {
		content.RelatesTo = nil
	}
}
