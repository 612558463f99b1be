package bot

import (
	"fmt"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

const lateRoom = id.RoomID("!room:test")

// encrypted is the n-th event of sender under session, sent at ts.
func encrypted(sender id.UserID, session id.SessionID, n int, ts int64) *event.Event {
	return &event.Event{
		ID:        id.EventID(fmt.Sprintf("$%s-%s-%d", sender.Localpart(), session, n)),
		RoomID:    lateRoom,
		Sender:    sender,
		Timestamp: ts,
		Content:   event.Content{Parsed: &event.EncryptedEventContent{SessionID: session}},
	}
}

// TestGivenUpBounded: the events kept for a late key come back by session
// and room, in the order they were sent, once, even if kept twice; past
// maxGivenUp the oldest is dropped.
func TestGivenUpBounded(t *testing.T) {
	var g givenUp
	late, early := encrypted("@ana:test", "s1", 1, 20), encrypted("@ana:test", "s1", 2, 10)
	if d := g.keep(late); d != nil {
		t.Fatalf("dropped %s with room to spare", d.ID)
	}
	g.keep(encrypted("@ben:test", "s2", 1, 15))
	g.keep(early)
	g.keep(late) // given up on again
	if got := g.take("!other:test", "s1"); len(got) != 0 {
		t.Fatalf("the session's key in another room gave back %d events", len(got))
	}
	got := g.take(lateRoom, "s1")
	if len(got) != 2 || got[0] != early || got[1] != late {
		t.Fatalf("take(s1) = %v, want the two events of s1, earliest first, once", got)
	}
	if again := g.take(lateRoom, "s1"); len(again) != 0 {
		t.Fatalf("take(s1) again = %d events, want none", len(again))
	}
	for i := 2; i <= maxGivenUp; i++ {
		sender := id.UserID(fmt.Sprintf("@m%d:test", i%100))
		if d := g.keep(encrypted(sender, "s3", i, int64(i))); d != nil {
			t.Fatalf("dropped %s at %d events kept", d.ID, i)
		}
	}
	d := g.keep(encrypted("@new:test", "s3", maxGivenUp+1, 0))
	if d == nil || d.ID != "$ben-s2-1" {
		t.Fatalf("past the bound dropped %v, want the oldest, $ben-s2-1", d)
	}
	if len(g.take(lateRoom, "s2")) != 0 {
		t.Error("the dropped event is still kept")
	}
	if n := len(g.take(lateRoom, "s3")); n != maxGivenUp {
		t.Errorf("take(s3) = %d events, want %d", n, maxGivenUp)
	}
	if len(g.order) != 0 || len(g.session) != 0 {
		t.Errorf("%d events, %d sessions left after taking all", len(g.order), len(g.session))
	}
}

// TestGivenUpPerSender: one sender's flood of events under sessions that
// never come pushes out only their own, not another member's.
func TestGivenUpPerSender(t *testing.T) {
	var g givenUp
	ana := encrypted("@ana:test", "real", 1, 1)
	g.keep(ana)
	var first *event.Event
	for i := range maxGivenUp {
		evt := encrypted("@mallory:test", id.SessionID(fmt.Sprintf("junk%d", i)), i, int64(i+2))
		if i == 0 {
			first = evt
		}
		d := g.keep(evt)
		switch {
		case i < maxGivenUpPerSender && d != nil:
			t.Fatalf("dropped %s at mallory's event %d", d.ID, i)
		case i == maxGivenUpPerSender && d != first:
			t.Fatalf("at mallory's event %d dropped %v, want mallory's oldest", i, d)
		case d == ana:
			t.Fatalf("mallory's event %d pushed out ana's", i)
		}
	}
	if got := g.take(lateRoom, "real"); len(got) != 1 || got[0] != ana {
		t.Errorf("ana's event after mallory's flood: %v", got)
	}
	if len(g.order) != maxGivenUpPerSender {
		t.Errorf("%d events kept, want mallory's last %d", len(g.order), maxGivenUpPerSender)
	}
}
