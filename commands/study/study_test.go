package study

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/commands/reminders"
	"quorum/msg"
	"quorum/store"
)

// newSession creates a session as ana and returns its announcement; a
// redaction of the command (a private place) is kept in h.Last.
func newSession(t *testing.T, h *Harness, args string) Sent {
	t.Helper()
	cmd := h.Send(Ana, "!study new "+args)
	announcements := keepRedactions(t, h, cmd, args, h.Drain())
	if len(announcements) != 1 || announcements[0].Msg.Anchor == nil || announcements[0].Msg.Anchor.Kind != anchorSession {
		t.Fatalf("want one session announcement, got %+v", announcements)
	}
	return announcements[0]
}

// keepRedactions keeps the redactions among out, caused by the `study new`
// command cmd with args, in h.Last and returns the rest. There must be one,
// of cmd, exactly when args keep a place private.
func keepRedactions(t *testing.T, h *Harness, cmd id.EventID, args string, out []Sent) []Sent {
	t.Helper()
	h.Last = nil
	var rest []Sent
	for _, o := range out {
		if o.Kind == commands.KindRedact {
			var r msg.Redaction
			unmarshal(t, o.Payload, &r)
			if r.Event != cmd {
				t.Fatalf("redacted %s, not the command %s", r.Event, cmd)
			}
			h.Last = append(h.Last, o)
			continue
		}
		rest = append(rest, o)
	}
	if private := strings.Contains(args, "private-location") && strings.Contains(args, " where "); private != (len(h.Last) == 1) {
		t.Fatalf("private place %v, but %d redactions of the command", private, len(h.Last))
	}
	return rest
}

func sessionField(t *testing.T, m msg.Message) map[string]any {
	t.Helper()
	f, ok := m.Fields["quorum.session"].(map[string]any)
	if !ok {
		t.Fatalf("no quorum.session in %+v", m)
	}
	for k, v := range f {
		if n, ok := v.(float64); ok {
			f[k] = int(n)
		}
	}
	return f
}

// dmsTo returns the bodies of the DMs to user among out.
func dmsTo(out []Sent, user id.UserID) []string {
	var bodies []string
	for _, o := range out {
		if o.DMUser == user {
			bodies = append(bodies, o.Msg.Body)
		}
	}
	return bodies
}

// lastEdit is the body and quorum.session of the last edit among out.
func lastEdit(t *testing.T, out []Sent) (string, map[string]any) {
	t.Helper()
	for i := len(out) - 1; i >= 0; i-- {
		if out[i].Msg.Edit != nil {
			return out[i].Msg.Body, sessionField(t, out[i].Msg)
		}
	}
	t.Fatalf("no edit in %+v", out)
	return "", nil
}

func TestStudyNewAndAnnouncement(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	a := newSession(t, h, "Reading circle at friday 18:00 where the back room topic Capital")
	f := sessionField(t, a.Msg)
	// The harness clock is Wed 25 Nov 2026 12:00 UTC.
	if f["id"] != 1 || f["title"] != "Reading circle" || f["starts_at"] != "2026-11-27T18:00:00Z" || f["status"] != "scheduled" ||
		f["going"] != 0 || f["maybe"] != 0 || f["not_going"] != 0 || f["location"] != "the back room" || f["topic"] != "Capital" {
		t.Errorf("quorum.session = %v", f)
	}
	if !strings.Contains(a.Msg.Body, "Fri 27 Nov 18:00") || !strings.Contains(a.Msg.Body, "✅ going") {
		t.Errorf("announcement = %q", a.Msg.Body)
	}
	if list := h.Reply(Ben, "!study list"); !strings.Contains(list, "#1 Fri 27 Nov 18:00 — Reading circle — 0 going") {
		t.Errorf("list = %q", list)
	}
}

func TestStudyBadInput(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	for _, tc := range []struct{ in, want string }{
		{"!study", "study new"},
		{"!study new", "title"},
		{"!study new Reading circle", "`at`"},
		{"!study new Reading circle at", "`at`"},
		{"!study new Reading circle at fridya 18:00", "fridya"},
		{"!study new Reading at friday 18:00 where", "after `where`"},
		{"!study new Reading at friday 18:00 every fortnightly-ish", "fortnightly"},
		{"!study new Reading at friday 18:00 --private-location", "needs a place"},
		{"!study new " + strings.Repeat("x", 201) + " at friday 18:00", "too long"},
		{"!study 9", "no study session #9"},
		{"!study bogus", "don't know"},
		{"!rsvp 1", "rsvp 3 yes"},
		{"!rsvp 1 perhapsnot", "rsvp 3 yes"},
	} {
		got := h.Reply(Ana, tc.in)
		if !strings.Contains(got, tc.want) {
			t.Errorf("%q: got %q, want it to contain %q", tc.in, got, tc.want)
		}
	}
	if list := h.Reply(Ana, "!study list"); !strings.Contains(list, "No study sessions") {
		t.Errorf("a bad command created something: %q", list)
	}
}

func TestStudyRSVPByReaction(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi, Dan)
	a := newSession(t, h, "Reading circle at friday 18:00 where the back room")
	benYes := h.React(Ben, a.EventID, "✅")
	h.React(Chi, a.EventID, "❔")
	danNo := h.React(Dan, a.EventID, "❌️") // with a variation selector
	h.React(Ben, a.EventID, "🎉")           // not an answer
	benNo := h.React(Ben, a.EventID, "❌")  // Ben changes his mind...
	h.Redact(Ben, benNo)                   // ...and back: his ✅ stands
	h.Redact(Chi, danNo)                   // not Chi's to withdraw
	if out := h.Drain(); len(out) != 0 {
		t.Fatalf("edits are batched, want nothing yet, got %+v", out)
	}
	h.Clock.Advance(sessionEditDelay)
	h.Due()
	out := h.Drain()
	_, f := lastEdit(t, out)
	if f["going"] != 1 || f["maybe"] != 1 || f["not_going"] != 1 {
		t.Errorf("after reactions: %v", f)
	}
	if got := h.Reply(Chi, "!rsvp 1 no"); !strings.Contains(got, "not going") {
		t.Errorf("rsvp reply = %q", got)
	}
	if show := h.Reply(Ana, "!study 1"); !strings.Contains(show, "Going: @ben:test") || strings.Contains(show, "Maybe: @chi") {
		t.Errorf("show = %q", show)
	}
	h.AdvanceTo(h.Clock.Now().Add(sessionEditDelay)) // Chi's no shown
	h.Redact(Ben, benYes)                            // withdrawn: Ben has no answer left
	if _, f := lastEdit(t, h.AdvanceTo(h.Clock.Now().Add(sessionEditDelay))); f["going"] != 0 || f["not_going"] != 2 {
		t.Errorf("after ben's ✅ was redacted: %v", f)
	}
	h.Clock.Advance(3 * 24 * time.Hour) // the session has started
	if got := h.Reply(Ana, "!rsvp 1 yes"); !strings.Contains(got, "already started") {
		t.Errorf("late rsvp = %q", got)
	}
}

func TestStudyPrivateLocation(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	a := newSession(t, h, "Strike history at friday 18:00 where 12 Secret Street --private-location")
	if strings.Contains(a.Msg.Body, "Secret") || strings.Contains(a.Msg.HTML, "Secret") {
		t.Fatalf("the private place was posted in the room: %q", a.Msg.Body)
	}
	if _, ok := sessionField(t, a.Msg)["location"]; ok {
		t.Fatal("quorum.session has a location for a private place")
	}
	if len(h.Last) != 1 {
		t.Fatal("the command naming the private place was not redacted")
	}
	h.React(Ben, a.EventID, "✅")
	h.React(Chi, a.EventID, "❌")
	out := h.Drain()
	if dms := dmsTo(out, Ben); len(dms) != 1 || !strings.Contains(dms[0], "12 Secret Street") {
		t.Errorf("ben (yes) got %q", dms)
	}
	if dms := dmsTo(out, Chi); len(dms) != 0 {
		t.Errorf("chi (no) got %q", dms)
	}
	for _, o := range out {
		if o.DMUser == "" && strings.Contains(o.Msg.Body, "Secret") {
			t.Errorf("the place leaked to the room: %q", o.Msg.Body)
		}
	}
	// By command: the place, and the reply saying it was sent, only for a yes.
	if out := h.SendAndDrain(Chi, "!rsvp 1 maybe"); len(out) != 1 || strings.Contains(out[0].Msg.Body, "sent you the place") {
		t.Errorf("chi (maybe):%s", Bodies(out))
	}
	out = h.SendAndDrain(Chi, "!rsvp 1 yes")
	if dms := dmsTo(out, Chi); len(dms) != 1 || !strings.Contains(dms[0], "12 Secret Street") || len(Saying(out, "I've sent you the place by direct message.")) != 1 {
		t.Errorf("chi (yes):%s", Bodies(out))
	}
	// The calendar file is posted in the room: it says the place is private
	// and leaves it out.
	ics := h.Send(Ana, "!study 1 ics")
	out = h.Drain()
	if len(out) != 1 || out[0].Kind != commands.KindFile {
		t.Fatalf("want one file, got:%s", Bodies(out))
	}
	var file msg.File
	unmarshal(t, out[0].Payload, &file)
	data := string(file.Data)
	if file.ReplyTo != ics || strings.Contains(data, "Secret") || strings.Contains(data, "LOCATION") ||
		!strings.Contains(data, "BEGIN:VEVENT") || !strings.Contains(data, "The place is private") {
		t.Errorf("ics file %q in reply to %s:\n%s", file.Name, file.ReplyTo, data)
	}
}

// TestStudyLeaver: a member who leaves is no longer counted, told of
// changes, sent the private place or reminded, in every upcoming session.
func TestStudyLeaver(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	a := newSession(t, h, "Strike history at friday 18:00 where 12 Secret Street --private-location")
	b := newSession(t, h, "Reading circle at saturday 11:00")
	h.Reply(Ben, "!study remind on 1h")
	h.React(Ben, a.EventID, "✅")
	if dms := dmsTo(h.Drain(), Ben); len(dms) != 1 {
		t.Fatalf("ben (yes) got %q", dms)
	}
	h.React(Ben, b.EventID, "✅")
	h.AdvanceTo(h.Clock.Now().Add(sessionEditDelay)) // the announcements count him
	h.Rooms.Joined[Room] = []id.UserID{Bot, Ana, Chi}
	if err := h.A.HandleLeave(context.Background(), Room, Ben, h.NextEvent(), h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	edited := map[int]int{}
	for _, o := range h.AdvanceTo(h.Clock.Now().Add(sessionEditDelay)) {
		if o.Msg.Edit != nil {
			f := sessionField(t, o.Msg)
			edited[f["id"].(int)] = f["going"].(int)
		}
	}
	if len(edited) != 2 || edited[1] != 0 || edited[2] != 0 {
		t.Errorf("after ben left, going by session = %v, want 0 in both", edited)
	}
	h.SendAndDrain(Ana, "!study 1 move saturday 18:00")
	out := h.AdvanceTo(time.Date(2026, 11, 28, 17, 30, 0, 0, time.UTC))
	for _, o := range out {
		if o.DMUser == Ben {
			t.Errorf("ben, who left, was sent %q", o.Msg.Body)
		}
	}
}

func TestStudyMoveAndCancel(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi, Dan)
	for _, u := range []id.UserID{Ben, Chi, Dan} {
		h.Reply(u, "!study remind on 1h")
	}
	a := newSession(t, h, "Reading circle at friday 18:00 where Ana's flat --private-location")
	h.React(Ben, a.EventID, "✅")
	h.React(Chi, a.EventID, "❔")
	h.React(Dan, a.EventID, "❌")
	h.Drain()
	if got := h.Reply(Ben, "!study 1 move saturday 18:00"); !strings.Contains(got, "Only whoever scheduled") {
		t.Errorf("ben moved it: %q", got)
	}
	h.Send(Ana, "!study 1 move saturday 17:00")
	out := h.Drain()
	if dms := dmsTo(out, Ben); len(dms) != 1 || !strings.Contains(dms[0], "Sat 28 Nov 17:00") || !strings.Contains(dms[0], "Ana's flat") {
		t.Errorf("ben (yes) got %q", dms)
	}
	if dms := dmsTo(out, Chi); len(dms) != 1 || !strings.Contains(dms[0], "Sat 28 Nov 17:00") || strings.Contains(dms[0], "Ana's flat") {
		t.Errorf("chi (maybe) got %q", dms)
	}
	if dms := dmsTo(out, Dan); len(dms) != 0 {
		t.Errorf("dan (no) got %q", dms)
	}
	if _, f := lastEdit(t, out); f["status"] != "moved" || f["starts_at"] != "2026-11-28T17:00:00Z" {
		t.Errorf("after move: %v", f)
	}
	// The reminders moved too: the room's a day before, Ben's and Chi's an
	// hour before (Dan is not coming), and none at the old times.
	for _, tc := range []struct {
		at time.Time
		to []id.UserID // "" is the room
	}{
		{time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC), []id.UserID{""}},
		{time.Date(2026, 11, 28, 16, 0, 0, 0, time.UTC), []id.UserID{Ben, Chi}},
	} {
		var to []id.UserID
		for _, o := range Saying(h.AdvanceTo(tc.at), "Reminder") {
			to = append(to, o.DMUser)
		}
		if slices.Sort(to); !slices.Equal(to, tc.to) {
			t.Errorf("reminded by %s: %q, want %q", tc.at, to, tc.to)
		}
	}
	h.Send(Ana, "!study 1 cancel : the flat is flooded")
	out = h.Drain()
	for _, u := range []id.UserID{Ben, Chi} {
		if dms := dmsTo(out, u); len(dms) != 1 || !strings.Contains(dms[0], "cancelled") || !strings.Contains(dms[0], "flooded") || strings.Contains(dms[0], "Ana's flat") {
			t.Errorf("%s got %q", u, dms)
		}
	}
	if _, f := lastEdit(t, out); f["status"] != "cancelled" {
		t.Errorf("after cancel: %v", f)
	}
	if got := h.Reply(Ben, "!rsvp 1 yes"); !strings.Contains(got, "cancelled") {
		t.Errorf("rsvp to a cancelled session: %q", got)
	}
	if got := h.Reply(Ana, "!study 1 cancel"); !strings.Contains(got, "already cancelled") {
		t.Errorf("cancel twice: %q", got)
	}
}

func TestStudyReminders(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi, Dan)
	if got := h.Reply(Ben, "!study remind on 3h"); !strings.Contains(got, "3h before") {
		t.Fatalf("opt-in: %q", got)
	}
	if got := h.Reply(Dan, "!study remind on"); !strings.Contains(got, "1 day before") {
		t.Fatalf("opt-in: %q", got)
	}
	if got := h.Reply(Dan, "!study remind sideways"); !strings.Contains(got, "remind sessions on") {
		t.Fatalf("bad opt-in: %q", got)
	}
	a := newSession(t, h, "Reading circle at friday 18:00 where Ana's flat --private-location")
	h.React(Ben, a.EventID, "✅") // opted in
	h.React(Chi, a.EventID, "✅") // not opted in
	h.React(Dan, a.EventID, "❌") // opted in, not coming
	h.Clock.Advance(sessionEditDelay)
	h.Due()
	h.Drain()
	// The room reminder: Thursday 18:00, 24h before, without the place.
	h.Clock.Advance(30*time.Hour - sessionEditDelay)
	h.Due()
	out := h.Drain()
	if len(out) != 1 || out[0].Room != Room || !strings.Contains(out[0].Msg.Body, "Reading circle") || strings.Contains(out[0].Msg.Body, "Ana's flat") {
		t.Fatalf("room reminder: %+v", out)
	}
	// Ben's: Friday 15:00, with the place.
	h.Clock.Advance(21 * time.Hour)
	h.Due()
	out = h.Drain()
	if len(out) != 1 || out[0].DMUser != Ben || !strings.Contains(out[0].Msg.Body, "Ana's flat") {
		t.Fatalf("ben's reminder: %+v", out)
	}
	h.Clock.Advance(6 * time.Hour)
	h.Due()
	if out := h.Drain(); len(out) != 0 {
		t.Errorf("more reminders than asked for: %+v", out)
	}
}

func TestStudySeries(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	a := newSession(t, h, "Theory night at thursday 19:00 every week topic Lenin")
	if f := sessionField(t, a.Msg); f["rrule"] != "FREQ=WEEKLY" || f["starts_at"] != "2026-11-26T19:00:00Z" {
		t.Fatalf("series: %v", f)
	}
	h.React(Ben, a.EventID, "✅")
	h.Clock.Advance(31*time.Hour + 30*time.Minute) // Thursday 19:30: under way
	h.Due()
	h.Drain()
	if got := h.Reply(Ana, "!study 1 attended @ben @ana"); !strings.Contains(got, "2 attendees") {
		t.Fatalf("attended: %q", got)
	}
	h.Clock.Advance(2 * time.Hour) // it ended: the series moves on
	h.Due()
	out := h.Drain()
	var next *Sent
	for i := range out {
		if out[i].Msg.Anchor != nil {
			next = &out[i]
		}
	}
	if next == nil {
		t.Fatalf("no announcement of the next session: %+v", out)
	}
	if f := sessionField(t, next.Msg); f["starts_at"] != "2026-12-03T19:00:00Z" || f["going"] != 0 {
		t.Errorf("next: %v", f)
	}
	h.React(Ben, a.EventID, "✅") // on last week's announcement
	if out := h.Drain(); len(out) != 1 || out[0].DMUser != Ben || !strings.Contains(out[0].Msg.Body, "earlier session") {
		t.Errorf("old announcement: %+v", out)
	}
	h.React(Ben, next.EventID, "✅")
	h.Clock.Advance(sessionEditDelay)
	h.Due()
	if _, f := lastEdit(t, h.Drain()); f["going"] != 1 {
		t.Errorf("this week: %v", f)
	}
	if got := h.Reply(Ana, "!study 1 attended @ben"); !strings.Contains(got, "0 attendees") || !strings.Contains(got, "Thu 26 Nov") {
		t.Errorf("attended again (last week): %q", got)
	}
	if got := h.Reply(Ben, "!study stats"); !strings.Contains(got, "Lenin — 1 session, average 2.0 (26 Nov: 2)") {
		t.Errorf("stats: %q", got)
	}
	// In the room and to Ben, who is coming.
	if out := h.SendAndDrain(Ana, "!study 1 cancel"); len(Saying(out, "The study series #1 (Theory night, Thu 3 Dec 19:00 (every week)) is cancelled.")) != 2 {
		t.Errorf("cancel the series:%s", Bodies(out))
	}
}

// TestStudySeriesAfterDowntime: a series whose session ended while the bot
// was offline moves on to its first session that has not ended, even one
// under way; the bot wakes when that one ends, to move on again.
func TestStudySeriesAfterDowntime(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	newSession(t, h, "Theory night at thursday 19:00 every week")
	h.Clock.Advance(time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC).Sub(h.Clock.Now())) // offline until the next one is under way
	wake := h.Due()
	if f := sessionField(t, One(t, h.Drain(), "Study session #1").Msg); f["starts_at"] != "2026-12-03T19:00:00Z" {
		t.Errorf("after the downtime: %v, want the session under way", f)
	}
	if !wake.Equal(time.Date(2026, 12, 3, 21, 0, 0, 0, time.UTC)) {
		t.Errorf("next wake-up %v, want the session's end", wake)
	}
	if f := sessionField(t, One(t, h.AdvanceTo(wake), "Study session #1").Msg); f["starts_at"] != "2026-12-10T19:00:00Z" {
		t.Errorf("after it ended: %v, want the next week's", f)
	}
}

func TestStudyReading(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	newSession(t, h, "Reading circle at friday 18:00")
	if got := h.Reply(Ana, "!study 1"); !strings.Contains(got, "\nReading list: empty") || strings.Contains(got, "Going:") || strings.Contains(got, "Maybe:") {
		t.Errorf("show with no reading and no answer: %q", got)
	}
	if got := h.Reply(Ben, "!study 1 reading"); !strings.Contains(got, "What should people read") {
		t.Errorf("empty reading: %q", got)
	}
	if got := h.Reply(Ben, "!study 1 reading Capital ch. 10 https://example.org/c10"); !strings.HasSuffix(got, "(1 items).") {
		t.Errorf("reading: %q", got)
	}
	if got := h.Reply(Ben, "!study 1 reading Capital ch. 11"); !strings.HasSuffix(got, "(2 items).") {
		t.Errorf("second reading: %q", got)
	}
	if got := h.Reply(Ana, "!study 1"); !strings.Contains(got, "\nReading list\n1. Capital ch. 10 https://example.org/c10\n2. Capital ch. 11") {
		t.Errorf("show: %q", got)
	}
}

func unmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func TestRemindSessions(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	h.Env.Config.Study.RoomReminder = "3h" // with no lead of their own, a member's is the room's
	Expect(t, h, Ben, "!remind sessions on", "3h before each study session")
	if got := h.Reply(Ben, "!remind sessions on 2h"); !strings.Contains(got, "2h before each study session") {
		t.Fatalf("remind sessions on: %q", got)
	}
	if lead, on, err := h.Env.Store.Sessions().ReminderLead(t.Context(), Ben); err != nil || !on || lead != 2*time.Hour {
		t.Errorf("stored lead %v %v %v", lead, on, err)
	}
	if got := h.Reply(Ben, "!remind sessions off"); !strings.Contains(got, "no more reminders of study sessions") {
		t.Fatalf("remind sessions off: %q", got)
	}
	if _, on, _ := h.Env.Store.Sessions().ReminderLead(t.Context(), Ben); on {
		t.Error("still on after off")
	}
	// The longest lead, exactly and one minute over.
	if got := h.Reply(Ben, "!remind sessions on 30d"); !strings.Contains(got, "30 days before each study session") {
		t.Errorf("the longest lead: %q", got)
	}
	if got := h.Reply(Ben, "!remind sessions on 30d 1m"); !strings.Contains(got, "at most 30 days ahead") {
		t.Errorf("one minute over the longest lead: %q", got)
	}
}

// TestPrivateFlagAsTyped: --private-location as phones type it keeps the
// place private; a near-miss, or any mistake in a command that names a
// private place, schedules nothing and takes the command out of the room.
func TestPrivateFlagAsTyped(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	a := newSession(t, h, "Strike history at friday 18:00 where 12 Elm St flat 3 —private-location")
	if strings.Contains(a.Msg.Body, "Elm") || len(h.Last) != 1 {
		t.Fatalf("—private-location: place posted or command kept: %q", a.Msg.Body)
	}
	for _, tc := range []struct{ args, want string }{
		{"Strike history at friday 18:00 where 12 Elm St -private-location", "Did you mean `--private-location`? I did nothing and took your message out of the room, so that the place is not posted. Send: `!study new Strike history at friday 18:00 where 12 Elm St --private-location`"},
		{"Strike history at fridya 18:00 where 12 Elm St --private-location", "fridya"},
		{"Strike history at fridya 18:00 where 12 Elm St --private", "fridya"},
	} {
		cmd := h.Send(Ana, "!study new "+tc.args)
		out := h.Drain()
		if len(out) != 2 || !strings.Contains(out[0].Msg.Body, tc.want) || out[1].Kind != commands.KindRedact {
			t.Fatalf("%s: want a refusal with %q and a redaction, got %s", tc.args, tc.want, Bodies(out))
		}
		var r msg.Redaction
		unmarshal(t, out[1].Payload, &r)
		if r.Event != cmd {
			t.Errorf("%s: redacted %s, not the command %s", tc.args, r.Event, cmd)
		}
	}
	if got := h.Reply(Ana, "!study list"); strings.Contains(got, "#2") {
		t.Errorf("a refused command scheduled a session: %s", got)
	}
}

// TestStudyLimits: the most upcoming sessions a room keeps, the most
// readings a session keeps, and the longest reading and cancel reason, each
// exactly at the limit and one over.
func TestStudyLimits(t *testing.T) {
	h := newHarness(t, Ana)
	for range maxUpcoming {
		newSession(t, h, "Reading circle at friday 18:00")
	}
	if got := h.Reply(Ana, "!study new One too many at friday 18:00"); got != "This room has 100 upcoming sessions, the most I keep; cancel one first." {
		t.Errorf("one session over the limit: %q", got)
	}
	if got := h.Reply(Ana, "!study 1 reading "+strings.Repeat("ü", maxReadingText)); !strings.Contains(got, "(1 items)") {
		t.Errorf("a reading of exactly the limit: %q", got)
	}
	if got := h.Reply(Ana, "!study 1 reading "+strings.Repeat("ü", maxReadingText+1)); !strings.Contains(got, "too long") {
		t.Errorf("a reading one over the limit: %q", got)
	}
	for i := 2; i <= maxReadings; i++ {
		h.Reply(Ana, "!study 1 reading x")
	}
	if got := h.Reply(Ana, "!study 1 reading x"); got != "Session #1 has 50 readings, the most I keep." {
		t.Errorf("one reading over the limit: %q", got)
	}
	if got := h.Reply(Ana, "!study 1 cancel : "+strings.Repeat("ü", maxCancelReason+1)); !strings.Contains(got, "Keep the reason under 300") {
		t.Errorf("a reason one over the limit: %q", got)
	}
	reason := strings.Repeat("ü", maxCancelReason)
	if out := h.SendAndDrain(Ana, "!study 1 cancel : "+reason); len(Saying(out, "Study session #1 (Reading circle, Fri 27 Nov 18:00) is cancelled.\nReason: "+reason)) != 1 {
		t.Errorf("a reason of exactly the limit:%s", Bodies(out))
	}
}

// TestStudyListClips: the list shows a title of up to 60 characters whole
// and cuts a longer one to 59 and an ellipsis.
func TestStudyListClips(t *testing.T) {
	h := newHarness(t, Ana)
	whole, long := strings.Repeat("ü", 60), strings.Repeat("b", 61)
	newSession(t, h, whole+" at friday 18:00")
	newSession(t, h, long+" at saturday 18:00")
	list := h.Reply(Ana, "!study list")
	if !strings.Contains(list, "— "+whole+" —") || !strings.Contains(list, "— "+long[:59]+"… —") {
		t.Errorf("list: %q", list)
	}
}

// TestStudyLogsNoError: announcing, answering and showing a session log no
// error (an error line is for the operator to act on).
func TestStudyLogsNoError(t *testing.T) {
	var logged bytes.Buffer
	h := NewHarness(t, func(env *commands.Env, _ zerolog.Logger) []commands.Feature {
		log := zerolog.New(&logged).Level(zerolog.ErrorLevel)
		rem := reminders.New(env, log)
		return []commands.Feature{rem, New(env, log, rem)}
	}, Ana, Ben)
	newSession(t, h, "Reading circle at friday 18:00")
	h.Reply(Ben, "!rsvp 1 yes")
	h.Reply(Ana, "!study 1")
	if logged.Len() > 0 {
		t.Errorf("logged: %s", logged.String())
	}
}

// TestStudyStats: attendance by topic, each with its number of sessions,
// its average, and its last six sessions at most.
func TestStudyStats(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	ctx := context.Background()
	members := []id.UserID{Ana, Ben}
	for n, tc := range []struct {
		topic  string
		counts []int // attendees of each round, held on 1, 2, … December
	}{
		{"Anarchism", []int{2}},
		{"Bakunin", []int{1, 1, 1, 1, 1, 1}},
		{"Capital", []int{2, 1, 1, 1, 1, 1, 1}},
	} {
		newSession(t, h, "Circle at friday 18:00 topic "+tc.topic)
		s, _, err := h.Env.Store.Sessions().ByNumber(ctx, Room, n+1)
		if err != nil {
			t.Fatal(err)
		}
		for round, count := range tc.counts {
			held := time.Date(2026, 12, 1+round, 18, 0, 0, 0, time.UTC)
			if _, err := h.Env.Store.Sessions().Attended(ctx, s.ID, round, held, members[:count]); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := "Attendance by topic\n" +
		"Anarchism — 1 session, average 2.0 (1 Dec: 2)\n" +
		"Bakunin — 6 sessions, average 1.0 (1 Dec: 1, 2 Dec: 1, 3 Dec: 1, 4 Dec: 1, 5 Dec: 1, 6 Dec: 1)\n" +
		"Capital — 7 sessions, average 1.1 (…, 2 Dec: 1, 3 Dec: 1, 4 Dec: 1, 5 Dec: 1, 6 Dec: 1, 7 Dec: 1)"
	if got := h.Reply(Ben, "!study stats"); got != want {
		t.Errorf("stats:\n%s\nwant:\n%s", got, want)
	}
}

// TestStudyRemindersKeepThePlacePrivate: of a session with a private place,
// the reminder of a member coming says where; a member who said maybe and
// the room's reminder do not. Each is in the room's language: what a
// reminder is about is written when it is sent (the text stored with it,
// in English, keeps the place from the same readers, should it be shown).
func TestStudyRemindersKeepThePlacePrivate(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	h.SetLang("es")
	a := newSession(t, h, "Strike history at friday 18:00 where 12 Secret Street --private-location")
	h.Reply(Ben, "!study remind on 1h")
	h.Reply(Chi, "!study remind on 1h")
	h.React(Ben, a.EventID, "✅")
	h.React(Chi, a.EventID, "❔")
	h.Drain()
	for u, want := range map[id.UserID]string{Ben: "study session #1 “Strike history” — where: 12 Secret Street", Chi: "study session #1 “Strike history”"} {
		stored, err := h.Env.Store.Reminders().Pending(t.Context(), u, store.ReminderSession)
		var texts []string
		for _, r := range stored {
			texts = append(texts, r.Text)
		}
		if err != nil || len(texts) != 1 || texts[0] != want {
			t.Errorf("%s's reminders stored: %q (%v); want %q", u, texts, err, want)
		}
	}
	out := h.AdvanceTo(time.Date(2026, 11, 27, 17, 30, 0, 0, time.UTC))
	if dms := dmsTo(out, Ben); len(dms) != 1 || !strings.Contains(dms[0], "sesión de estudio #1 «Strike history» — dónde: 12 Secret Street") {
		t.Errorf("ben (coming) was reminded %q; want the place, in Spanish", dms)
	}
	if dms := dmsTo(out, Chi); len(dms) != 1 || !strings.Contains(dms[0], "sesión de estudio #1 «Strike history»") || strings.Contains(dms[0], "12 Secret Street") {
		t.Errorf("chi (maybe) was reminded %q; want no place, in Spanish", dms)
	}
	if room := Saying(out, "sesión de estudio #1 «Strike history»"); len(room) != 3 || len(dmsTo(room, "")) != 1 {
		t.Errorf("want the reminders of the room, Ben and Chi in Spanish:%s", Bodies(out))
	}
	for _, o := range out {
		if o.DMUser == "" && strings.Contains(o.Msg.Body, "12 Secret Street") {
			t.Errorf("the room was told the place: %q", o.Msg.Body)
		}
	}
}
