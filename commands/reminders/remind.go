package reminders

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
)

// Reminders of every kind (store.ReminderDuty, ReminderPersonal,
// ReminderSession) share one table and one scheduler, here.
//
// Reliability: a reminder is marked sent in the transaction that queues its
// message in the outbox, so it is delivered exactly once whatever crashes.
// One that fell due while the bot was down is sent when it starts, marked
// late, unless its EndsAt has passed (the turn is over): then it is dropped
// and counted in the log, never its text. A recurring reminder is one row
// whose due time moves on to the next occurrence (computed on the
// wall-clock in its zone, so 09:00 stays 09:00 across DST); if several
// occurrences passed while the bot was down, only the latest is sent.
const (
	// reminderGrace is how late a reminder may be delivered without being
	// marked late (the scheduler wakes at least once a minute).
	reminderGrace = 2 * time.Minute
	// personalLateWindow is how long after its time a one-off personal
	// reminder missed while the bot was down is still worth delivering.
	personalLateWindow   = 7 * 24 * time.Hour
	maxPersonalReminders = 50
	maxReminderText      = 500
	dueBatch             = 100
	// reminderRetention is how long sent reminders are kept (for "already
	// sent" checks) after their turn ended.
	reminderRetention = 30 * 24 * time.Hour
	// MaxLead is how far ahead of what it is about a reminder may be asked
	// for (duty and session reminders).
	MaxLead = 30 * 24 * time.Hour
)

// Feature is reminders: the scheduler every feature that reminds uses
// (Schedule, Cancel), and members' own reminders and timezone (!remind,
// !tz).
type Feature struct {
	*commands.Env
	log zerolog.Logger
	// prunedAt is when sent reminders were last pruned (in memory: pruning
	// is housekeeping, and doing it again after a restart is harmless).
	prunedAt time.Time
	// followUps run after a reminder of their kind was sent or dropped.
	followUps map[string]FollowUp
	// notes add a feature's lines to !remind list.
	notes []Note
	// subjects render what reminders of their kind are about.
	subjects map[string]Subject
}

// FollowUp runs, in the same transaction, after a reminder of its kind was
// sent or dropped: rosters plan the reminder of the member's next turn.
type FollowUp func(ctx context.Context, rem *store.Reminder, now time.Time) error

// Subject says, when a reminder of its kind is sent, what it is about
// (in the reader's language: rem.Text is stored in English) and which room
// it comes from (a member who chose no language reads its DM in that
// room's). ok is false when what it was about is gone: rem.Text is used.
type Subject func(ctx context.Context, rem *store.Reminder) (about msg.Text, room id.RoomID, ok bool, err error)

// Note adds a feature's lines about user's reminders to m (!remind list).
type Note func(ctx context.Context, r *commands.Request, m msg.Message) (msg.Message, error)

// New makes the reminders feature over env.
func New(env *commands.Env, log zerolog.Logger) *Feature {
	return &Feature{Env: env, log: log, followUps: map[string]FollowUp{}, subjects: map[string]Subject{}}
}

// OnSent registers fn to follow up each reminder of kind.
func (f *Feature) OnSent(kind string, fn FollowUp) { f.followUps[kind] = fn }

// OnSubject registers fn to say what reminders of kind are about.
func (f *Feature) OnSubject(kind string, fn Subject) { f.subjects[kind] = fn }

// AddNote registers a feature's lines for !remind list.
func (f *Feature) AddNote(n Note) { f.notes = append(f.notes, n) }

// Group implements commands.Feature.
func (f *Feature) Group() string { return "Reminders" }

// Commands implements commands.Feature.
func (f *Feature) Commands() []*commands.Command {
	return []*commands.Command{f.remindCommand(), f.tzCommand()}
}

// RefuseLead refuses a lead time longer than MaxLead, with example.
func RefuseLead(example string) error {
	return commands.Refusef("I can remind you at most %s ahead, e.g. `%s`.", timespec.Remaining(MaxLead), example)
}

// Schedule stores r for delivery at r.DueAt, in the caller's
// transaction; the scheduler (Due) sends it. It is the API for every
// feature that reminds (study sessions: Kind store.ReminderSession).
//
//   - Exactly one of r.User (a DM, in the encrypted direct room the bot
//     shares with them) and r.Room (a notice in that room) is set.
//   - r.Text is what it is about, shown as "⏰ Reminder: <Text>" and, if
//     r.About is set, ", <About> (in 3h)." in the reader's timezone (the
//     member's own for a DM, r.Zone in a room). It may be user content: it
//     is never logged.
//   - r.EndsAt (optional): a reminder that could not be sent on time (the
//     bot was down) is sent late until then, and dropped after.
//   - r.Ref (optional) says what it is about, e.g. "session:7:"; with the
//     kind and recipient it is unique, so scheduling the same reminder again
//     does nothing (ok is false), even after it was sent. End refs with a
//     separator so that Cancel's prefixes cannot match another
//     ("session:7:" is not a prefix of "session:70:").
//   - r.RRule (optional, timespec.Recurrence.RRule) repeats it, from
//     r.SeriesStart (default r.DueAt) on the wall-clock of r.Zone.
//
// The message carries quorum.reminder: {"kind", "due_at", "late"}.
func (f *Feature) Schedule(ctx context.Context, r store.Reminder) (saved store.Reminder, ok bool, err error) {
	if (r.User == "") == (r.Room == "") || r.Kind == "" || r.DueAt.IsZero() {
		return r, false, errors.New("reminder needs a kind, a due time, and a user or a room")
	}
	if r.Zone == "" {
		r.Zone = "UTC"
	}
	if _, err := time.LoadLocation(r.Zone); err != nil {
		return r, false, fmt.Errorf("reminder zone: %w", err)
	}
	if r.RRule != "" {
		if _, err := timespec.ParseRRule(r.RRule); err != nil {
			return r, false, err
		}
		if r.SeriesStart.IsZero() {
			r.SeriesStart = r.DueAt
		}
	}
	r.CreatedAt = f.Clock.Now()
	ok, err = f.Store.Reminders().Add(ctx, &r)
	return r, ok, err
}

// Cancel deletes the unsent reminders of kind whose Ref starts with
// refPrefix, for user, or for every recipient if user is empty.
func (f *Feature) Cancel(ctx context.Context, kind string, user id.UserID, refPrefix string) error {
	return f.Store.Reminders().CancelUnsent(ctx, kind, user, refPrefix)
}

func (f *Feature) remindCommand() *commands.Command {
	return &commands.Command{
		Name:    "remind",
		Summary: "private reminders by direct message: your own, or of your roster turns",
		Help:    "<when> is a time (`friday 18:00`, `in 2h`) or a repeat (`every monday 9:00`), in your timezone (see `tz`).",
		Examples: []string{
			"remind me friday 18:00 : call the landlord",
			"remind me every monday 9:00 : bins out",
			"remind list",
			"remind cancel 2",
		},
		Subcommands: []*commands.Command{
			{Name: "me", Usage: "me <when> : <text>", Summary: "a reminder of your own", Handler: f.remindMe},
			{Name: "list", Usage: "list", Summary: "your reminders, by direct message", Handler: f.remindList},
			{Name: "cancel", Usage: "cancel N", Summary: "cancel one of your reminders", Handler: f.remindCancel},
		},
	}
}

func (f *Feature) remindMe(ctx context.Context, r *commands.Request) error {
	args := r.Args
	example := r.Cmd("remind me friday 18:00 : call the landlord") // a command: not for members to read translated
	when, text, ok := commands.SplitColon(args)
	if !ok || when == "" {
		return commands.Refusef("Say when, then what after a colon, e.g. `%s`.", example)
	}
	if text == "" {
		return commands.Refusef("What should I remind you of? Put it after the colon, e.g. `%s`.", example)
	}
	if utf8.RuneCountInString(text) > maxReminderText {
		return commands.Refusef("That's too long for a reminder; keep it under %d characters.", maxReminderText)
	}
	if list, err := r.Store.Reminders().Pending(ctx, r.Sender, store.ReminderPersonal); err != nil {
		return err
	} else if len(list) >= maxPersonalReminders {
		return commands.Refusef("You have %d reminders, the most I keep; cancel one first (`%s`).", len(list), r.Cmd("remind list"))
	}
	now, loc := r.Clock.Now(), r.UserLocation(ctx)
	rem := store.Reminder{Kind: store.ReminderPersonal, User: r.Sender, Text: text, Zone: loc.String()}
	var rule timespec.Recurrence
	if strings.EqualFold(strings.Fields(when)[0], "every") {
		s, err := commands.ParseSeries(when, now, loc)
		if err != nil {
			return err
		}
		if !s.End.IsZero() {
			// a command: not for members to read translated
			return commands.Refusef("Repeating reminders go on until you cancel them; leave out `for …`, e.g. `%s`.", r.Cmd("remind me every monday 9:00 : bins out"))
		}
		rule = s.Rule
		rem.SeriesStart, rem.RRule = s.Start, s.Rule.RRule()
		rem.DueAt = s.Rule.Occurrences(s.Start, s.Start, 1)[0]
	} else {
		t, err := timespec.Moment(when, now, loc)
		if err != nil {
			return err
		}
		rem.DueAt, rem.EndsAt = t, t.Add(personalLateWindow)
	}
	saved, _, err := f.Schedule(ctx, rem)
	if err != nil {
		return err
	}
	m := msg.F("OK, I'll remind you by direct message %s (in %s).", UserTime(r, saved.DueAt, loc), timespec.Remaining(saved.DueAt.Sub(now)))
	if !rule.IsZero() {
		m = msg.F("OK, I'll remind you by direct message %s, first %s.", rule, UserTime(r, saved.DueAt, loc))
	}
	r.Reply(m.Append("To cancel: `%s`.", r.Cmd(fmt.Sprintf("remind cancel %d", saved.Number)))) // a command: not for members to read translated
	return nil
}

// UserTime shows a time in the member's own zone, naming it when the room
// shows times in another.
func UserTime(r *commands.Request, t time.Time, loc *time.Location) msg.Text {
	if r.InDM || loc.String() == r.Location().String() {
		return msg.T("%s", timespec.Human(t, loc))
	}
	return msg.T("%s %s", timespec.Human(t, loc), loc.String())
}

// remindList sends the member their reminders, by DM: personal reminders
// may have been set in private, so their text never goes to a room.
func (f *Feature) remindList(ctx context.Context, r *commands.Request) error {
	st, loc := r.Store.Reminders(), r.UserLocation(ctx)
	list, err := st.Pending(ctx, r.Sender, store.ReminderPersonal)
	if err != nil {
		return err
	}
	m := msg.F("**Your reminders** (times in %s):", loc.String())
	if len(list) == 0 {
		m = m.Append("None. Set one with `%s`.", r.Cmd("remind me friday 18:00 : call the landlord")) // a command: not for members to read translated
	}
	for _, rem := range list {
		if rule, err := timespec.ParseRRule(rem.RRule); err == nil && rem.RRule != "" {
			m = m.Append("%d. %s (%s) — %s", rem.Number, timespec.Human(rem.DueAt, loc), rule, rem.Text)
			continue
		}
		m = m.Append("%d. %s — %s", rem.Number, timespec.Human(rem.DueAt, loc), rem.Text)
	}
	for _, note := range f.notes {
		if m, err = note(ctx, r, m); err != nil {
			return err
		}
	}
	if r.InDM {
		r.Reply(m)
		return nil
	}
	r.DM(r.Sender, m)
	r.Replyf("I've sent your reminders to our direct chat.")
	return nil
}

func (f *Feature) remindCancel(ctx context.Context, r *commands.Request) error {
	words := strings.Fields(r.Args)
	n := 0
	if len(words) == 1 {
		n, _ = strconv.Atoi(words[0])
	}
	if n < 1 {
		return commands.Refusef("Which one? e.g. `%s`; `%s` shows their numbers.", r.Cmd("remind cancel 2"), r.Cmd("remind list")) // a command: not for members to read translated
	}
	if ok, err := r.Store.Reminders().CancelNumber(ctx, r.Sender, n); err != nil {
		return err
	} else if !ok {
		return commands.Refusef("You have no reminder number %d; `%s` shows yours.", n, r.Cmd("remind list"))
	}
	r.Replyf("Cancelled reminder %d.", n)
	return nil
}

// due sends the reminders that are due, each in its own transaction, and
// returns when the next one is.
func (f *Feature) Due(ctx context.Context, now time.Time) (time.Time, error) {
	st := f.Store
	if now.Sub(f.prunedAt) > time.Hour {
		if err := st.Reminders().Prune(ctx, now.Add(-reminderRetention)); err != nil {
			return time.Time{}, err
		}
		f.prunedAt = now
	}
	ids, err := st.Reminders().Due(ctx, now, dueBatch)
	if err != nil {
		return time.Time{}, err
	}
	dropped := map[string]int{}
	var failed error
	for _, rid := range ids {
		err := f.InTx(ctx, func(ctx context.Context, fx *commands.Effects) error {
			kind, n, err := f.fire(ctx, fx, rid, now)
			dropped[kind] += n
			return err
		})
		if err != nil {
			f.log.Error().Err(err).Int64("reminder", rid).Msg("Sending a reminder failed; retrying later")
			failed = err
		}
	}
	for kind, n := range dropped {
		if n > 0 {
			f.log.Info().Str("kind", kind).Int("count", n).Msg("Dropped reminders that fell due while the bot was down and are over")
		}
	}
	if failed != nil {
		return time.Time{}, failed // retried in a minute, not in a busy loop
	}
	if len(ids) == dueBatch {
		return now, nil // more are due
	}
	return st.Reminders().NextDue(ctx)
}

// fire delivers reminder rid if it is due and unsent, marking it sent in
// the same transaction; it returns its kind and how many occurrences were
// dropped as too late.
func (f *Feature) fire(ctx context.Context, fx *commands.Effects, rid int64, now time.Time) (string, int, error) {
	st := f.Store
	rem, ok, err := st.Reminders().Get(ctx, rid)
	if err != nil || !ok || !rem.SentAt.IsZero() || rem.DueAt.After(now) {
		return "", 0, err
	}
	dropped := 0
	due, ends := rem.DueAt, rem.EndsAt
	var next time.Time // a recurring reminder's next occurrence
	if rem.RRule != "" {
		rule, err := timespec.ParseRRule(rem.RRule)
		loc, lerr := time.LoadLocation(rem.Zone)
		if err != nil || lerr != nil {
			_, err := st.Reminders().MarkSent(ctx, rid, now, true)
			return rem.Kind, 1, err
		}
		start := rem.SeriesStart.In(loc)
		// The latest occurrence due by now is the one to send; those before
		// it were missed while the bot was down.
		for i := 0; i < timespec.MaxReplay; i++ {
			n, ok := rule.Next(start, due)
			if !ok || n.After(now) {
				break
			}
			due = n
			dropped++
		}
		next, _ = rule.Next(start, due)
		ends = next // superseded by the next occurrence
	}
	sent := ends.IsZero() || now.Before(ends)
	if sent {
		if err := f.deliver(ctx, fx, rem, due, now); err != nil {
			return rem.Kind, dropped, err
		}
	} else {
		dropped++
	}
	if !next.IsZero() {
		about := time.Time{}
		if !rem.About.IsZero() {
			about = next.Add(rem.About.Sub(rem.DueAt))
		}
		err = st.Reminders().Reschedule(ctx, rid, next, about, time.Time{})
	} else {
		_, err = st.Reminders().MarkSent(ctx, rid, now, !sent)
	}
	if err != nil {
		return rem.Kind, dropped, err
	}
	if followUp, ok := f.followUps[rem.Kind]; ok {
		err = followUp(ctx, rem, now)
	}
	return rem.Kind, dropped, err
}

// deliver queues the reminder's message, due at due.
func (f *Feature) deliver(ctx context.Context, fx *commands.Effects, rem *store.Reminder, due, now time.Time) error {
	loc, err := time.LoadLocation(rem.Zone)
	if err != nil {
		loc = time.UTC
	}
	if rem.User != "" {
		if tz, err := f.Store.Users().Timezone(ctx, rem.User); err == nil && tz != "" {
			if l, err := time.LoadLocation(tz); err == nil {
				loc = l
			}
		}
	}
	var about any = rem.Text
	if subject, ok := f.subjects[rem.Kind]; ok {
		t, room, ok, err := subject(ctx, rem)
		if err != nil {
			return err
		}
		if ok {
			about = t
			fx.From(room)
		}
	}
	late := now.Sub(due) > reminderGrace
	head := msg.T("⏰ **Reminder**")
	if late {
		head = msg.T("⏰ **Late reminder** (I was offline when it was due)")
	}
	m := msg.F("%s: %s", head, about)
	if !rem.About.IsZero() {
		rel := msg.T("in %s", timespec.Remaining(rem.About.Sub(now)))
		if !rem.About.After(now) {
			rel = msg.T("began %s ago", timespec.Remaining(now.Sub(rem.About)))
		}
		m = msg.F("%s: %s, %s (%s).", head, about, timespec.Human(rem.About, loc), rel)
	}
	m = m.With("quorum.reminder", map[string]any{"kind": rem.Kind, "due_at": due.UTC().Format(time.RFC3339), "late": late})
	if rem.User != "" {
		fx.DM(rem.User, m)
	} else {
		fx.Say(rem.Room, m)
	}
	return nil
}
