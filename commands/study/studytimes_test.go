package study

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/commands/motions"
	"quorum/commands/reminders"
)

// newTimesHarness is study sessions that can ask for their time in a poll
// (with motions, which runs the polls), in the test room with members.
func newTimesHarness(t *testing.T, members ...id.UserID) *Harness {
	t.Helper()
	return NewHarness(t, func(env *commands.Env, log zerolog.Logger) []commands.Feature {
		rem := reminders.New(env, log)
		mot := motions.New(env, log)
		stu := New(env, log, rem)
		stu.AskWith(mot)
		return []commands.Feature{mot, rem, stu}
	}, members...)
}

// askTimes sends a time poll as ana and returns the poll's event ID; a
// redaction of the command (a private place) is kept in h.Last.
func askTimes(t *testing.T, h *Harness, args string) id.EventID {
	t.Helper()
	cmd := h.Send(Ana, "!study new "+args)
	out := keepRedactions(t, h, cmd, args, h.Drain())
	polls := Polls(out, motions.PollStartType)
	if len(polls) != 1 || len(Saying(out, "When can you come to")) != 1 {
		t.Fatalf("want a notice and a poll:%s", Bodies(out))
	}
	return polls[0].EventID
}

// TestTimePoll: `study new … at <time> | <time> | <time>` asks in a poll
// (one answer a time, several allowed); at the decision time (a day before
// the first time by default) the session is scheduled at the time most can
// come to, with its announcement and reminders.
func TestTimePoll(t *testing.T) {
	h := newTimesHarness(t, Ana, Ben, Chi) // Wednesday 25 November 2026, 12:00 UTC
	p := askTimes(t, h, "Reading circle at friday 18:00 | saturday 11:00 | sunday 17:00 where the back room every week topic Capital")
	h.Respond(Ana, p, "1", "2")
	h.Respond(Ben, p, "2")
	h.Respond(Chi, p, "3")
	h.Respond(Chi, p, "3", "2") // chi can come on Saturday too: the latest counts
	ctx := context.Background()
	if up, _ := h.Env.Store.Sessions().Upcoming(ctx, Room, h.Clock.Now()); len(up) != 0 {
		t.Fatalf("a session was scheduled before the decision: %d", len(up))
	}
	out := h.AdvanceTo(time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC)) // a day before Friday 18:00
	One(t, out, "Poll #1 closed")
	ann := One(t, out, "Study session #1: Reading circle")
	if f := sessionField(t, ann.Msg); f["starts_at"] != "2026-11-28T11:00:00Z" || f["location"] != "the back room" || f["topic"] != "Capital" || f["rrule"] != "FREQ=WEEKLY" {
		t.Errorf("the session = %v, want Saturday 11:00 every week", f)
	}
	if len(Polls(out, motions.PollEndType)) != 1 {
		t.Errorf("the poll was not ended:%s", Bodies(out))
	}
	up, _ := h.Env.Store.Sessions().Upcoming(ctx, Room, h.Clock.Now())
	if len(up) != 1 || !up[0].StartsAt.Equal(time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)) || up[0].CreatedBy != Ana {
		t.Fatalf("upcoming = %+v", up)
	}
	// The room's reminder comes a day before, as for any session.
	if out := h.AdvanceTo(time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC)); len(Saying(out, "Reading circle")) == 0 {
		t.Errorf("no reminder a day before:%s", Bodies(out))
	}
}

// TestTimePollTiesAndClose: equal counts go to the earliest time; the
// author closes it early with `close N`; a poll nobody answered schedules
// nothing.
func TestTimePollTiesAndClose(t *testing.T) {
	h := newTimesHarness(t, Ana, Ben)
	p := askTimes(t, h, "Strike history at saturday 11:00 | friday 18:00 --decide 2h where the union hall") // the longest time after --decide: 2h
	h.Respond(Ana, p, "2")                                                                                  // Saturday (answers are in time order: 1 is Friday)
	h.Respond(Ben, p, "1")
	Expect(t, h, Ben, "!close 1", "Only the member who asked poll #1")
	out := h.SendAndDrain(Ana, "!close 1")
	if f := sessionField(t, One(t, out, "Study session #1: Strike history").Msg); f["starts_at"] != "2026-11-27T18:00:00Z" || f["location"] != "the union hall" {
		t.Errorf("a tie should go to the earliest, Friday, in the union hall: %v", f)
	}
	askTimes(t, h, "Nobody at saturday 11:00 | sunday 11:00 --decide 1h")
	out = h.AdvanceTo(h.Clock.Now().Add(time.Hour))
	One(t, out, "no time ahead that anyone can come to, so I scheduled nothing")
	if len(Saying(out, "Study session")) != 0 {
		t.Errorf("something was scheduled:%s", Bodies(out))
	}
}

func TestTimePollRefusals(t *testing.T) {
	h := newTimesHarness(t, Ana, Ben)
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!study new Circle at friday 18:00 | friday 18:00", Want: "is there twice"},
		{From: Ana, Cmd: "!study new Circle at friday 18:00 |", Want: "A time poll needs from 2 to 10 times separated by `|` (I read 1)"},
		{From: Ana, Cmd: "!study new Circle at friday 18:00 | saturday 18:00 --decide saturday 12:00", Want: "Decide before the first time"},
		{From: Ana, Cmd: "!study new Circle at friday 18:00 --decide thursday 12:00", Want: "`--decide` is for a poll on several times"},
		{From: Ana, Cmd: "!study new Circle at friday 18:00 | saturday 18:00 --decide", Want: "`--decide` needs a time"},
		{From: Ana, Cmd: "!study new Circle at friday 18:00 | saturday 18:00 --decide fridya", Want: "I couldn't read \"fridya\" as a time"},
		{From: Ana, Cmd: "!study new Circle at friday 18:00 | saturday 18:00 --decide fridya where the pub", Want: "I couldn't read \"fridya\" as a time"}, // the word after it
		{From: Ana, Cmd: "!study new Circle at fridya 18:00 | saturday 18:00", Want: "fridya"},
		{From: Ana, Cmd: "!study new Circle topic at friday 18:00 | saturday 18:00", Want: "Say something after `topic`"},
	})
	if n := strings.Count(h.Reply(Ana, "!motions"), "poll:"); n != 0 {
		t.Errorf("%d polls were opened by refused commands", n)
	}
	// A | in the place is no poll.
	newSession(t, h, "Circle at friday 18:00 where the pub | back room")
}

// TestTimePollSeries: a time poll reads a series as `study new` does: the
// first word is the title's, even "At" or "Every"; a weekday repeat starts
// on the first such day at or after the time chosen.
func TestTimePollSeries(t *testing.T) {
	h := newTimesHarness(t, Ana, Ben) // Wednesday 25 November 2026, 12:00 UTC
	for _, tc := range []struct{ title, every, startsAt, rrule string }{
		{"At the barricades", "week", "2026-11-28T18:00:00Z", "FREQ=WEEKLY"},
		{"Every voice", "sunday", "2026-11-29T18:00:00Z", "FREQ=WEEKLY;BYDAY=SU"},
	} {
		p := askTimes(t, h, tc.title+" at friday 18:00 | saturday 18:00 every "+tc.every+" --decide 1h")
		h.Respond(Ben, p, "2") // Saturday
		ann := One(t, h.AdvanceTo(h.Clock.Now().Add(time.Hour)), "Study session")
		if f := sessionField(t, ann.Msg); f["title"] != tc.title || f["starts_at"] != tc.startsAt || f["rrule"] != tc.rrule {
			t.Errorf("%s every %s: %v", tc.title, tc.every, f)
		}
	}
}

// TestTimePollBounds: a poll takes up to ten times, and decides by default
// a day before the first, or halfway there when that day has begun.
func TestTimePollBounds(t *testing.T) {
	h := newTimesHarness(t, Ana, Ben) // Wednesday 25 November 2026, 12:00 UTC
	var times []string
	for hour := 10; hour <= 20; hour++ {
		times = append(times, fmt.Sprintf("thursday %d:00", hour))
	}
	Expect(t, h, Ana, "!study new Circle at "+strings.Join(times, " | "), "A time poll needs from 2 to 10 times separated by `|` (I read 11)")
	p := askTimes(t, h, "Circle at "+strings.Join(times[:maxTimes], " | "))
	h.Respond(Ben, p, "2")
	// Thursday 10:00 is 22 hours away: decided at 23:00, halfway there.
	if out := h.AdvanceTo(time.Date(2026, 11, 25, 22, 59, 0, 0, time.UTC)); len(Saying(out, "Study session")) != 0 {
		t.Errorf("decided early:%s", Bodies(out))
	}
	out := h.AdvanceTo(time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC))
	if f := sessionField(t, One(t, out, "Study session #1: Circle").Msg); f["starts_at"] != "2026-11-26T11:00:00Z" {
		t.Errorf("scheduled at %v, want Thursday 11:00", f["starts_at"])
	}
}

// TestTimePollPrivatePlace: a time poll on a session whose place is private
// takes the command out of the room and shows the place neither there nor
// once decided; then it goes to each member who says they are coming.
func TestTimePollPrivatePlace(t *testing.T) {
	h := newTimesHarness(t, Ana, Ben)
	p := askTimes(t, h, "Strike committee at saturday 11:00 | sunday 11:00 where Ana's kitchen --private-location --decide=2h")
	h.Respond(Ben, p, "2")
	out := h.AdvanceTo(h.Clock.Now().Add(2 * time.Hour))
	ann := One(t, out, "Study session #1: Strike committee")
	if strings.Contains(Bodies(out), "kitchen") {
		t.Errorf("the place was shown in the room:%s", Bodies(out))
	}
	h.React(Ben, ann.EventID, "✅")
	if dms := dmsTo(h.Drain(), Ben); len(dms) != 1 || !strings.Contains(dms[0], "Ana's kitchen") {
		t.Errorf("ben (coming) was sent %q; want the place", dms)
	}
}
