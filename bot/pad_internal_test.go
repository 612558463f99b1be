package bot

import (
	"strings"
	"testing"

	"maunium.net/go/mautrix/id"
)

// TestPad: whatever the content and the room, a padded event encrypts a
// plaintext of exactly the length asked for (or the next multiple).
func TestPad(t *testing.T) {
	for _, tc := range []struct {
		room    id.RoomID
		content map[string]any
		to      int
		want    int
	}{
		{"!a:x", map[string]any{"body": "short", "m.mentions": map[string]any{"user_ids": []string{"@a:x"}}}, 2048, 2048},
		{"!a-much-longer-room-id:example.org", map[string]any{"body": "a longer body <b>&</b> with \"quotes\" and ünïcödé", "m.mentions": map[string]any{"user_ids": []string{"@someone-with-a-long-name:example.org"}}}, 2048, 2048},
		{"!a:x", map[string]any{"body": strings.Repeat("x", 3000)}, 2048, 4096},
	} {
		if err := pad(tc.content, tc.room, tc.to); err != nil {
			t.Fatal(err)
		}
		got, err := paddedLength(tc.content, tc.room)
		if err != nil || got != tc.want {
			t.Errorf("%s: padded to %d (%v), want %d", tc.room, got, err, tc.want)
		}
	}
}
