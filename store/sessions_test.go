package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

var sessionAt = time.UnixMilli(1_800_000_000_000)

// newSession stores a session of room starting at start, lasting an hour.
func newSession(t *testing.T, st *Store, room id.RoomID, start time.Time, rrule string) *Session {
	t.Helper()
	s := &Session{Room: room, UID: fmt.Sprintf("uid-%s-%d", room, start.UnixMilli()), Title: "Reading group", Zone: "UTC",
		RRule: rrule, SeriesStart: start, StartsAt: start, Duration: time.Hour, Status: SessionScheduled,
		CreatedBy: "@ana:x", CreatedAt: sessionAt, UpdatedAt: sessionAt}
	if err := st.Sessions().Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func sessionIDs(list []*Session) []int64 {
	var ids []int64
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}

// TestSessionRoundTrip: what Create and Update write reads back, numbers
// are per room, and zero times stay zero.
func TestSessionRoundTrip(t *testing.T) {
	st, ctx := open(t), context.Background()
	s := &Session{Room: "!r", UID: "u1", Title: "Strike history", Topic: "1912", Place: "Hall 3", PrivatePlace: true,
		Zone: "Europe/Berlin", RRule: "FREQ=WEEKLY", SeriesStart: sessionAt, StartsAt: sessionAt, Duration: 90 * time.Minute,
		Status: SessionScheduled, Sequence: 0, CreatedBy: "@ana:x", CreatedAt: sessionAt.Add(-time.Hour), UpdatedAt: sessionAt.Add(-time.Hour)}
	if err := st.Sessions().Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := st.Sessions().Create(ctx, &Session{Room: "!r", UID: "u1", Title: "x", Zone: "UTC", Status: SessionScheduled, CreatedBy: "@ana:x"}); err == nil {
		t.Error("a second session with the same UID was stored")
	}
	second := newSession(t, st, "!r", sessionAt, "")
	other := newSession(t, st, "!other", sessionAt, "")
	if s.Number != 1 || second.Number != 2 || other.Number != 1 || s.ID == 0 || second.ID == s.ID {
		t.Errorf("numbers %d %d %d, IDs %d %d", s.Number, second.Number, other.Number, s.ID, second.ID)
	}
	got, ok, err := st.Sessions().ByNumber(ctx, "!r", 1)
	if err != nil || !ok {
		t.Fatalf("by number: %v %v", ok, err)
	}
	if got.ID != s.ID || got.UID != "u1" || got.Title != "Strike history" || got.Topic != "1912" || got.Place != "Hall 3" ||
		!got.PrivatePlace || got.Zone != "Europe/Berlin" || got.RRule != "FREQ=WEEKLY" || !got.SeriesStart.Equal(sessionAt) ||
		!got.StartsAt.Equal(sessionAt) || got.Duration != 90*time.Minute || got.Round != 0 || !got.PrevAt.IsZero() ||
		got.Status != SessionScheduled || got.CreatedBy != "@ana:x" || !got.CreatedAt.Equal(s.CreatedAt) ||
		!got.UpdatedAt.Equal(s.UpdatedAt) {
		t.Errorf("read back %+v", got)
	}
	if !got.EndsAt().Equal(sessionAt.Add(90 * time.Minute)) {
		t.Errorf("ends at %v", got.EndsAt())
	}

	s.Place, s.PrivatePlace, s.SeriesStart, s.StartsAt = "Room 9", false, sessionAt.Add(time.Hour), sessionAt.Add(7*24*time.Hour)
	s.Round, s.PrevAt, s.Status, s.Sequence = 1, sessionAt, SessionMoved, 2
	s.UpdatedAt = sessionAt.Add(time.Minute)
	if err := st.Sessions().Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, ok, err = st.Sessions().Get(ctx, s.ID)
	if err != nil || !ok || got.Place != "Room 9" || got.PrivatePlace || !got.SeriesStart.Equal(s.SeriesStart) ||
		!got.StartsAt.Equal(s.StartsAt) || got.Round != 1 || !got.PrevAt.Equal(sessionAt) || got.Status != SessionMoved ||
		got.Sequence != 2 || !got.UpdatedAt.Equal(s.UpdatedAt) || got.Title != "Strike history" {
		t.Errorf("after Update: %+v, %v, %v", got, ok, err)
	}
	if _, ok, err := st.Sessions().Get(ctx, other.ID+1); ok || err != nil {
		t.Errorf("a session that does not exist: %v %v", ok, err)
	}
	all, err := st.Sessions().All(ctx, "!r")
	if ids := sessionIDs(all); err != nil || !equalIDs(ids, []int64{s.ID, second.ID}) {
		t.Errorf("All = %v, %v", ids, err)
	}
}

// TestSessionSchedule: a session is upcoming until it has ended (it ends
// at start + duration, exactly) and a series moves on once its occurrence
// ended; cancelled sessions take part in neither, and the next wake-up is
// the earliest end of a series' occurrence.
func TestSessionSchedule(t *testing.T) {
	st, ctx := open(t), context.Background()
	single := newSession(t, st, "!r", sessionAt, "")                                // ends at +1h
	series := newSession(t, st, "!r", sessionAt.Add(30*time.Minute), "FREQ=WEEKLY") // ends at +1h30
	cancelled := newSession(t, st, "!r", sessionAt.Add(-time.Hour), "FREQ=DAILY")
	cancelled.Status = SessionCancelled
	if err := st.Sessions().Update(ctx, cancelled); err != nil {
		t.Fatal(err)
	}
	elsewhere := newSession(t, st, "!other", sessionAt, "")
	ended := sessionAt.Add(time.Hour)

	for _, tc := range []struct {
		now  time.Time
		want []int64
	}{
		{sessionAt.Add(-time.Hour), []int64{single.ID, series.ID}},
		{ended.Add(-time.Millisecond), []int64{single.ID, series.ID}},
		{ended, []int64{series.ID}},
		{sessionAt.Add(90 * time.Minute), nil},
	} {
		list, err := st.Sessions().Upcoming(ctx, "!r", tc.now)
		if ids := sessionIDs(list); err != nil || !equalIDs(ids, tc.want) {
			t.Errorf("Upcoming at %v: %v, %v; want %v", tc.now.Sub(sessionAt), ids, err, tc.want)
		}
	}
	if list, _ := st.Sessions().Upcoming(ctx, "!other", sessionAt); !equalIDs(sessionIDs(list), []int64{elsewhere.ID}) {
		t.Errorf("Upcoming in another room: %v", sessionIDs(list))
	}

	seriesEnds := sessionAt.Add(90 * time.Minute)
	if list, err := st.Sessions().SeriesDue(ctx, seriesEnds.Add(-time.Millisecond)); err != nil || len(list) != 0 {
		t.Errorf("SeriesDue before the occurrence ended: %v, %v", sessionIDs(list), err)
	}
	if list, err := st.Sessions().SeriesDue(ctx, seriesEnds); err != nil || !equalIDs(sessionIDs(list), []int64{series.ID}) {
		t.Errorf("SeriesDue when the occurrence ended: %v, %v (not the single session, not the cancelled series)", sessionIDs(list), err)
	}
	if next, err := st.Sessions().NextDue(ctx); err != nil || !next.Equal(seriesEnds) {
		t.Errorf("NextDue = %v, %v; want the series' end %v", next, err, seriesEnds)
	}

	empty := open(t)
	if next, err := empty.Sessions().NextDue(ctx); err != nil || !next.IsZero() {
		t.Errorf("NextDue with no sessions = %v, %v", next, err)
	}
}

// TestRSVPs: a member's answer for a round is their latest that stands;
// withdrawing it brings back the one before.
func TestRSVPs(t *testing.T) {
	st, ctx := open(t), context.Background()
	s := newSession(t, st, "!r", sessionAt, "FREQ=WEEKLY")
	other := newSession(t, st, "!r", sessionAt.Add(time.Hour), "")
	answer := func(sess int64, round int, user id.UserID, a string, evt id.EventID) (string, string) {
		t.Helper()
		before, after, err := st.Sessions().Answer(ctx, RSVP{Session: sess, Round: round, User: user, Answer: a, Event: evt, At: sessionAt})
		if err != nil {
			t.Fatal(err)
		}
		return before, after
	}
	if b, a := answer(s.ID, 0, "@ana:x", RSVPYes, "$1"); b != "" || a != RSVPYes {
		t.Errorf("first answer: %q -> %q", b, a)
	}
	if b, a := answer(s.ID, 0, "@ana:x", RSVPNo, "$2"); b != RSVPYes || a != RSVPNo {
		t.Errorf("changed answer: %q -> %q", b, a)
	}
	answer(s.ID, 0, "@ben:x", RSVPMaybe, "$3")
	answer(s.ID, 1, "@ana:x", RSVPMaybe, "$4")   // the next round
	answer(other.ID, 0, "@chi:x", RSVPYes, "$5") // another session
	answers, err := st.Sessions().Answers(ctx, s.ID, 0)
	if err != nil || len(answers) != 2 || answers["@ana:x"] != RSVPNo || answers["@ben:x"] != RSVPMaybe {
		t.Errorf("answers = %v, %v", answers, err)
	}

	act, ok, err := st.Sessions().Act(ctx, "$2")
	if err != nil || !ok || act.Session != s.ID || act.Round != 0 || act.User != "@ana:x" || act.Answer != RSVPNo ||
		act.Event != "$2" || !act.At.Equal(sessionAt) {
		t.Fatalf("act = %+v, %v, %v", act, ok, err)
	}
	before, after, err := st.Sessions().Withdraw(ctx, act)
	if err != nil || before != RSVPNo || after != RSVPYes {
		t.Errorf("withdraw: %q -> %q, %v; want no -> yes (the answer before stands again)", before, after, err)
	}
	if _, ok, err := st.Sessions().Act(ctx, "$2"); ok || err != nil {
		t.Errorf("a withdrawn act is still found: %v %v", ok, err)
	}
	if _, ok, err := st.Sessions().Act(ctx, "$nothing"); ok || err != nil {
		t.Errorf("an event that was no act: %v %v", ok, err)
	}
	act, _, _ = st.Sessions().Act(ctx, "$1")
	if before, after, err := st.Sessions().Withdraw(ctx, act); err != nil || before != RSVPYes || after != "" {
		t.Errorf("withdraw the last: %q -> %q, %v", before, after, err)
	}
	answers, _ = st.Sessions().Answers(ctx, s.ID, 0)
	if len(answers) != 1 || answers["@ben:x"] != RSVPMaybe {
		t.Errorf("answers after withdrawing = %v", answers)
	}
	if a, err := st.Sessions().AnswerOf(ctx, s.ID, 1, "@ana:x"); err != nil || a != RSVPMaybe {
		t.Errorf("round 1 answer = %q, %v", a, err)
	}
}

// TestAnsweredBy: the member's upcoming sessions, in their current round,
// that they answered yes or maybe to.
func TestAnsweredBy(t *testing.T) {
	st, ctx := open(t), context.Background()
	const ana = id.UserID("@ana:x")
	yes := newSession(t, st, "!r", sessionAt.Add(2*time.Hour), "")
	maybe := newSession(t, st, "!r", sessionAt.Add(time.Hour), "")
	no := newSession(t, st, "!r", sessionAt.Add(3*time.Hour), "")
	past := newSession(t, st, "!r", sessionAt.Add(-2*time.Hour), "")
	cancelled := newSession(t, st, "!r", sessionAt.Add(4*time.Hour), "")
	cancelled.Status = SessionCancelled
	if err := st.Sessions().Update(ctx, cancelled); err != nil {
		t.Fatal(err)
	}
	moved := newSession(t, st, "!r", sessionAt.Add(5*time.Hour), "FREQ=WEEKLY") // answered for round 0, now in round 1
	moved.Round = 1
	if err := st.Sessions().Update(ctx, moved); err != nil {
		t.Fatal(err)
	}
	newSession(t, st, "!r", sessionAt.Add(6*time.Hour), "") // not answered
	late := newSession(t, st, "!r", sessionAt.Add(7*time.Hour), "")
	for i, a := range []struct {
		s      *Session
		answer string
	}{{yes, RSVPYes}, {maybe, RSVPMaybe}, {no, RSVPNo}, {past, RSVPYes}, {cancelled, RSVPYes}, {moved, RSVPYes}, {late, RSVPYes}} {
		if _, _, err := st.Sessions().Answer(ctx, RSVP{Session: a.s.ID, User: ana, Answer: a.answer, Event: id.EventID(fmt.Sprint("$", i)), At: sessionAt}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.Sessions().Answer(ctx, RSVP{Session: no.ID, User: "@ben:x", Answer: RSVPYes, Event: "$ben", At: sessionAt}); err != nil {
		t.Fatal(err)
	}
	list, err := st.Sessions().AnsweredBy(ctx, ana, sessionAt)
	if ids := sessionIDs(list); err != nil || !equalIDs(ids, []int64{maybe.ID, yes.ID, late.ID}) {
		t.Errorf("AnsweredBy = %v, %v; want %v (by start)", ids, err, []int64{maybe.ID, yes.ID, late.ID})
	}
}

// TestReadingsAndAttendance: readings in the order added; attendance
// counted once per member and round, listed by topic then time.
func TestReadingsAndAttendance(t *testing.T) {
	st, ctx := open(t), context.Background()
	s := newSession(t, st, "!r", sessionAt, "FREQ=WEEKLY")
	topical := &Session{Room: "!r", UID: "t", Title: "Title", Topic: "A topic", Zone: "UTC", SeriesStart: sessionAt,
		StartsAt: sessionAt, Duration: time.Hour, Status: SessionScheduled, CreatedBy: "@ana:x"}
	if err := st.Sessions().Create(ctx, topical); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"Zinn, ch. 3", "Alinsky, ch. 1"} {
		if err := st.Sessions().AddReading(ctx, s.ID, text, "@ben:x", sessionAt); err != nil {
			t.Fatal(err)
		}
	}
	readings, err := st.Sessions().Readings(ctx, s.ID)
	if err != nil || len(readings) != 2 || readings[0].Text != "Zinn, ch. 3" || readings[1].Text != "Alinsky, ch. 1" || readings[0].AddedBy != "@ben:x" {
		t.Errorf("readings = %+v, %v", readings, err)
	}
	if r, _ := st.Sessions().Readings(ctx, topical.ID); len(r) != 0 {
		t.Errorf("another session's readings: %+v", r)
	}

	for _, tc := range []struct {
		session int64
		round   int
		held    time.Time
		users   []id.UserID
		added   int
	}{
		{s.ID, 0, sessionAt, []id.UserID{"@a:x", "@b:x", "@a:x"}, 2},
		{s.ID, 0, sessionAt, []id.UserID{"@b:x", "@c:x"}, 1},
		{s.ID, 1, sessionAt.Add(7 * 24 * time.Hour), []id.UserID{"@a:x"}, 1},
		{topical.ID, 0, sessionAt.Add(time.Hour), []id.UserID{"@a:x", "@b:x"}, 2},
		{s.ID, 0, sessionAt, nil, 0},
	} {
		if n, err := st.Sessions().Attended(ctx, tc.session, tc.round, tc.held, tc.users); err != nil || n != tc.added {
			t.Errorf("Attended(%d, %d, %v) = %d, %v; want %d new", tc.session, tc.round, tc.users, n, err, tc.added)
		}
	}
	att, err := st.Sessions().Attendance(ctx, "!r")
	if err != nil || len(att) != 3 {
		t.Fatalf("attendance = %+v, %v", att, err)
	}
	want := []Attendance{{"A topic", sessionAt.Add(time.Hour), 2}, {"Reading group", sessionAt, 3}, {"Reading group", sessionAt.Add(7 * 24 * time.Hour), 1}}
	for i, w := range want {
		if att[i].Topic != w.Topic || !att[i].HeldAt.Equal(w.HeldAt) || att[i].Count != w.Count {
			t.Errorf("attendance[%d] = %+v, want %+v", i, att[i], w)
		}
	}
}

// TestSessionReminderLead: off by default, on with a lead, off again with 0.
func TestSessionReminderLead(t *testing.T) {
	st, ctx := open(t), context.Background()
	if _, on, err := st.Sessions().ReminderLead(ctx, "@ana:x"); on || err != nil {
		t.Errorf("on by default: %v %v", on, err)
	}
	for _, lead := range []time.Duration{2 * time.Hour, 30 * time.Minute} {
		if err := st.Sessions().SetReminderLead(ctx, "@ana:x", lead); err != nil {
			t.Fatal(err)
		}
		if got, on, err := st.Sessions().ReminderLead(ctx, "@ana:x"); !on || got != lead || err != nil {
			t.Errorf("lead = %v %v %v, want %v", got, on, err, lead)
		}
	}
	if _, on, _ := st.Sessions().ReminderLead(ctx, "@ben:x"); on {
		t.Error("another member's reminders are on")
	}
	if err := st.Sessions().SetReminderLead(ctx, "@ana:x", 0); err != nil {
		t.Fatal(err)
	}
	if _, on, _ := st.Sessions().ReminderLead(ctx, "@ana:x"); on {
		t.Error("a lead of 0 left reminders on")
	}
}
