package bot_test

import (
	"bytes"
	"strings"
	"testing"

	ics "github.com/arran4/golang-ical"
	"maunium.net/go/mautrix/event"

	"quorum/testkit"
)

// TestStudySessionEndToEnd: a session with a private place is announced
// without it; ben answers yes and chi no by encrypted reactions; only ben
// is sent the place; the .ics attachment downloads, decrypts and parses;
// the cancellation reaches ben by DM; chi never sees the place.
func TestStudySessionEndToEnd(t *testing.T) {
	t.Parallel()
	_, b, r, cs := startAssembly(t, "ana", "ben", "chi")
	ana, ben, chi := cs[0], cs[1], cs[2]
	botID := b.Client().UserID
	const place = "12 Secret Street"

	ana.Say(r, "!study new Strike school at friday 18:00 where "+place+" --private-location")
	notice := findNotice(ana, r, botID, "Study session #1")
	fields, _ := notice.Content.Raw["quorum.session"].(map[string]any)
	if fields == nil || fields["title"] != "Strike school" || fields["status"] != "scheduled" {
		t.Fatalf("quorum.session = %v", notice.Content.Raw["quorum.session"])
	}
	if _, ok := fields["location"]; ok || strings.Contains(notice.Content.AsMessage().Body, "Secret") {
		t.Fatal("the private place is in the room's announcement")
	}

	ben.React(r, notice.ID, "✅", true)
	chi.React(r, notice.ID, "❌", true)
	ben.WaitFor(wait, "the place by DM", func(evt *event.Event) bool {
		return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, place)
	})
	ana.WaitFor(wait, "the tally edit", func(evt *event.Event) bool {
		return isEditOf(evt, notice.ID, "1 going · 0 maybe · 1 not going")
	})

	cmd := ana.Say(r, "!study 1 ics")
	file := ana.WaitFor(wait, "the calendar file", func(evt *event.Event) bool {
		return testkit.IsReply(evt, r, cmd) && evt.Content.AsMessage().MsgType == event.MsgFile
	})
	if file.Content.AsMessage().URL != "" {
		t.Fatal("the calendar was uploaded unencrypted")
	}
	data, err := ana.Download(file)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(data))
	if err != nil || len(cal.Events()) != 1 {
		t.Fatalf("calendar does not parse (%v):\n%s", err, data)
	}
	ev := cal.Events()[0]
	if ev.Id() != fields["uid"] || ev.GetProperty(ics.ComponentPropertySummary).Value != "Strike school" ||
		ev.GetProperty(ics.ComponentPropertyDtStart).ICalParameters["TZID"][0] != "UTC" || strings.Contains(string(data), "Secret") {
		t.Errorf("calendar:\n%s", data)
	}

	ana.Say(r, "!study 1 cancel : the venue fell through")
	ben.WaitFor(wait, "the cancellation by DM", func(evt *event.Event) bool {
		return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "the venue fell through")
	})
	// chi's answer to a cancelled session is refused by DM: once that has
	// arrived, everything sent to chi before it has too.
	chi.React(r, notice.ID, "✅", true)
	chi.WaitFor(wait, "the refusal by DM", func(evt *event.Event) bool {
		return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "is cancelled, so your answer was not recorded")
	})
	for _, evt := range chi.Events() {
		if evt.Sender == botID && evt.Type == event.EventMessage && strings.Contains(evt.Content.AsMessage().Body, "Secret") {
			t.Errorf("chi, who said no, saw the place in %s: %q", evt.RoomID, evt.Content.AsMessage().Body)
		}
		if evt.RoomID != r && evt.Sender == botID && strings.Contains(evt.Content.AsMessage().Body, "cancelled") &&
			!strings.Contains(evt.Content.AsMessage().Body, "your answer") {
			t.Errorf("chi, who said no, was sent the cancellation: %q", evt.Content.AsMessage().Body)
		}
	}
}
