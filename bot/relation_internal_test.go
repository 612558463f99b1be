package bot

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/crypto/olm"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// TestDropCleartextRelation: a poll answer is decrypted with the relation
// its sender encrypted, never with the one in the clear, which the
// homeserver writes: none when the ciphertext has none.
func TestDropCleartextRelation(t *testing.T) {
	ctx := context.Background()
	log := zerolog.Nop()
	room := id.RoomID("!room:test")
	cli, err := mautrix.NewClient("https://example.invalid", "@bot:test", "tok")
	if err != nil {
		t.Fatal(err)
	}
	cs := crypto.NewMemoryStore(nil)
	mach := crypto.NewOlmMachine(cli, &log, cs, nil)
	if err := mach.Load(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := olm.NewOutboundGroupSession()
	if err != nil {
		t.Fatal(err)
	}
	sess, err := crypto.NewInboundGroupSession("senderkey", "signingkey", room, string(out.Key()), 0, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.PutGroupSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	moved := map[string]any{"rel_type": "m.reference", "event_id": "$motion2"}
	for _, tc := range []struct {
		name  string
		inner map[string]any // the relation in the ciphertext
		want  id.EventID
	}{
		{"relation only in the clear", nil, ""},
		{"relation encrypted, the clear one moved", map[string]any{"rel_type": "m.reference", "event_id": "$motion1"}, "$motion1"},
	} {
		content := map[string]any{"org.matrix.msc3381.poll.response": map[string]any{"answers": []string{"yes"}}}
		if tc.inner != nil {
			content["m.relates_to"] = tc.inner
		}
		plaintext, _ := json.Marshal(map[string]any{"room_id": room, "type": "org.matrix.msc3381.poll.response", "content": content})
		ct, err := out.Encrypt(plaintext)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(map[string]any{"type": "m.room.encrypted", "room_id": room, "sender": "@ben:test",
			"event_id": "$answer-" + tc.name, "origin_server_ts": time.Now().UnixMilli(), "content": map[string]any{
				"algorithm": id.AlgorithmMegolmV1, "ciphertext": string(ct), "session_id": sess.ID(),
				"sender_key": "senderkey", "device_id": "DEV", "m.relates_to": moved,
			}})
		var evt event.Event
		if err := json.Unmarshal(raw, &evt); err != nil {
			t.Fatal(err)
		}
		if err := evt.Content.ParseRaw(evt.Type); err != nil {
			t.Fatal(err)
		}
		dropCleartextRelation(&evt)
		dec, err := mach.DecryptMegolmEvent(ctx, &evt)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := dec.Content.ParseRaw(dec.Type); err != nil && dec.Content.Parsed == nil {
			t.Fatal(err)
		}
		resp, ok := dec.Content.Parsed.(*event.PollResponseEventContent)
		if !ok {
			t.Fatalf("%s: parsed %T", tc.name, dec.Content.Parsed)
		}
		if resp.RelatesTo.EventID != tc.want {
			t.Errorf("%s: the answer refers to %q, want %q", tc.name, resp.RelatesTo.EventID, tc.want)
		}
	}
}
