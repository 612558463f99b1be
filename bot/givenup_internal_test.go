package bot

import (
	"fmt"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

func encrypted(session id.SessionID, n int, ts int64) *event.Event {
	return &event.Event{
		ID:        id.EventID(fmt.Sprintf("$%s-%d", session, n)),
		Timestamp: ts,
		Content:   event.Content{Parsed: &event.EncryptedEventContent{SessionID: session}},
	}
}

// TestGivenUpBounded: the events kept for a late key come back by session,
// in the order they were sent, once; past maxGivenUp the oldest is dropped.
func TestGivenUpBounded(t *testing.T) {
	var g givenUp
	late, early := encrypted("s1", 1, 20), encrypted("s1", 2, 10)
	if d := g.keep(late); d != nil {
		t.Fatalf("dropped %s with room to spare", d.ID)
	}
	g.keep(encrypted("s2", 1, 15))
	g.keep(early)
	got := g.take("s1")
	if len(got) != 2 || got[0] != early || got[1] != late {
		t.Fatalf("take(s1) = %v, want the two events of s1, earliest first", got)
	}
	if again := g.take("s1"); len(again) != 0 {
		t.Fatalf("take(s1) again = %d events, want none", len(again))
	}
	for i := 2; i <= maxGivenUp; i++ {
		if d := g.keep(encrypted("s3", i, int64(i))); d != nil {
			t.Fatalf("dropped %s at %d events kept", d.ID, i)
		}
	}
	d := g.keep(encrypted("s3", maxGivenUp+1, 0))
	if d == nil || d.ID != "$s2-1" {
		t.Fatalf("past the bound dropped %v, want the oldest, $s2-1", d)
	}
	if len(g.take("s2")) != 0 {
		t.Error("the dropped event is still kept")
	}
	if n := len(g.take("s3")); n != maxGivenUp {
		t.Errorf("take(s3) = %d events, want %d", n, maxGivenUp)
	}
	if len(g.order) != 0 || len(g.session) != 0 {
		t.Errorf("%d events, %d sessions left after taking all", len(g.order), len(g.session))
	}
}
