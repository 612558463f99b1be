package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"maunium.net/go/mautrix/id"

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
	maxDutyLead          = 30 * 24 * time.Hour
	defaultDutyLead      = 24 * time.Hour
	dueBatch             = 100
	// reminderRetention is how long sent reminders are kept (for "already
	// sent" checks) after their turn ended.
	reminderRetention = 30 * 24 * time.Hour
)

// scheduleReminder stores r for delivery at r.DueAt, in the caller's
// transaction; the scheduler (duties.due) sends it. It is the API for every
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
//     separator so that cancelReminders' prefixes cannot match another
//     ("session:7:" is not a prefix of "session:70:").
//   - r.RRule (optional, timespec.Recurrence.RRule) repeats it, from
//     r.SeriesStart (default r.DueAt) on the wall-clock of r.Zone.
//
// The message carries quorum.reminder: {"kind", "due_at", "late"}.
func scheduleReminder(ctx context.Context, env *Env, r store.Reminder) (saved store.Reminder, ok bool, err error) {
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
	r.CreatedAt = env.Clock.Now()
	ok, err = env.Store.Reminders().Add(ctx, &r)
	return r, ok, err
}

// cancelReminders deletes the unsent reminders of kind whose Ref starts with
// refPrefix, for user, or for every recipient if user is empty.
func cancelReminders(ctx context.Context, env *Env, kind string, user id.UserID, refPrefix string) error {
	return env.Store.Reminders().CancelUnsent(ctx, kind, user, refPrefix)
}

func (d *duties) remindCommand() *Command {
	return &Command{
		Name:    "remind",
		Summary: "private reminders by direct message: your own, or of your roster turns",
		Help:    "<when> is a time (`friday 18:00`, `in 2h`) or a repeat (`every monday 9:00`), in your timezone (see `tz`).",
		Examples: []string{
			"remind me friday 18:00 : call the landlord",
			"remind me every monday 9:00 : bins out",
			"remind list",
			"remind cancel 2",
		},
		Subcommands: []*Command{
			{Name: "me", Usage: "me <when> : <text>", Summary: "a reminder of your own", Handler: d.remindMe},
			{Name: "list", Usage: "list", Summary: "your reminders, by direct message", Handler: d.remindList},
			{Name: "cancel", Usage: "cancel N", Summary: "cancel one of your reminders", Handler: d.remindCancel},
		},
	}
}

func (d *duties) remindMe(ctx context.Context, r *Request) error {
	args := r.Args
	example := r.Cmd("remind me friday 18:00 : call the landlord")
	when, text, ok := SplitColon(args)
	if !ok || when == "" {
		return Refusef("Say when, then what after a colon, e.g. `%s`.", example)
	}
	if text == "" {
		return Refusef("What should I remind you of? Put it after the colon, e.g. `%s`.", example)
	}
	if utf8.RuneCountInString(text) > maxReminderText {
		return Refusef("That's too long for a reminder; keep it under %d characters.", maxReminderText)
	}
	if list, err := r.Store.Reminders().Pending(ctx, r.Sender, store.ReminderPersonal); err != nil {
		return err
	} else if len(list) >= maxPersonalReminders {
		return Refusef("You have %d reminders, the most I keep; cancel one first (`%s`).", len(list), r.Cmd("remind list"))
	}
	now, loc := r.Clock.Now(), r.UserLocation(ctx)
	rem := store.Reminder{Kind: store.ReminderPersonal, User: r.Sender, Text: text, Zone: loc.String()}
	var rule timespec.Recurrence
	if strings.EqualFold(strings.Fields(when)[0], "every") {
		s, err := ParseSeries(when, now, loc)
		if err != nil {
			return err
		}
		if !s.End.IsZero() {
			return Refusef("Repeating reminders go on until you cancel them; leave out `for …`, e.g. `%s`.", r.Cmd("remind me every monday 9:00 : bins out"))
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
	saved, _, err := scheduleReminder(ctx, r.Env, rem)
	if err != nil {
		return err
	}
	m := msg.F("OK, I'll remind you by direct message %s (in %s).", d.userTime(r, saved.DueAt, loc), timespec.Remaining(saved.DueAt.Sub(now)))
	if !rule.IsZero() {
		m = msg.F("OK, I'll remind you by direct message %s, first %s.", rule.String(), d.userTime(r, saved.DueAt, loc))
	}
	r.Reply(m.Append("To cancel: `%s`.", r.Cmd(fmt.Sprintf("remind cancel %d", saved.Number))))
	return nil
}

// userTime shows a time in the member's own zone, naming it when the room
// shows times in another.
func (d *duties) userTime(r *Request, t time.Time, loc *time.Location) string {
	if r.InDM || loc.String() == r.Location().String() {
		return timespec.Human(t, loc)
	}
	return timespec.Human(t, loc) + " " + loc.String()
}

// remindList sends the member their reminders, by DM: personal reminders
// may have been set in private, so their text never goes to a room.
func (d *duties) remindList(ctx context.Context, r *Request) error {
	st, loc := r.Store.Reminders(), r.UserLocation(ctx)
	list, err := st.Pending(ctx, r.Sender, store.ReminderPersonal)
	if err != nil {
		return err
	}
	lead, on, err := st.Lead(ctx, r.Sender, store.ReminderDuty)
	if err != nil {
		return err
	}
	m := msg.F("**Your reminders** (times in %s):", loc.String())
	if len(list) == 0 {
		m = m.Append("None. Set one with `%s`.", r.Cmd("remind me friday 18:00 : call the landlord"))
	}
	for _, rem := range list {
		repeat := ""
		if rule, err := timespec.ParseRRule(rem.RRule); err == nil && rem.RRule != "" {
			repeat = " (" + rule.String() + ")"
		}
		m = m.Append("%d. %s%s — %s", rem.Number, timespec.Human(rem.DueAt, loc), repeat, rem.Text)
	}
	if on {
		m = m.Append("Duty reminders: on, %s before your turns.", timespec.Remaining(lead))
	} else {
		m = m.Append("Duty reminders: off (`%s`).", r.Cmd("remind duty on"))
	}
	if r.InDM {
		r.Reply(m)
		return nil
	}
	r.DM(r.Sender, m)
	r.Replyf("I've sent your reminders to our direct chat.")
	return nil
}

func (d *duties) remindCancel(ctx context.Context, r *Request) error {
	words := strings.Fields(r.Args)
	n := 0
	if len(words) == 1 {
		n, _ = strconv.Atoi(words[0])
	}
	if n < 1 {
		return Refusef("Which one? e.g. `%s`; `%s` shows their numbers.", r.Cmd("remind cancel 2"), r.Cmd("remind list"))
	}
	if ok, err := r.Store.Reminders().CancelNumber(ctx, r.Sender, n); err != nil {
		return err
	} else if !ok {
		return Refusef("You have no reminder number %d; `%s` shows yours.", n, r.Cmd("remind list"))
	}
	r.Replyf("Cancelled reminder %d.", n)
	return nil
}

// defaultLead is the configured duty reminder lead time (reminders.duty_lead).
func (d *duties) defaultLead() time.Duration {
	if lead, err := timespec.Duration(d.Config.Reminders.DutyLead); err == nil {
		return lead
	}
	return defaultDutyLead
}

func (d *duties) remindDuty(ctx context.Context, r *Request) error {
	words := strings.Fields(r.Args)
	now := r.Clock.Now()
	switch {
	case len(words) == 1 && strings.EqualFold(words[0], "off"):
		if err := r.Store.Reminders().SetLead(ctx, r.Sender, store.ReminderDuty, 0); err != nil {
			return err
		}
		if err := d.planUser(ctx, r.Sender, now); err != nil {
			return err
		}
		r.Replyf("OK, no more reminders of your turns.")
		return nil
	case len(words) == 0 || !strings.EqualFold(words[0], "on"):
		return Refusef("Say `%s` (or with a lead time, `%s`) or `%s`.", r.Cmd("remind duty on"), r.Cmd("remind duty on 12h"), r.Cmd("remind duty off"))
	}
	lead := d.defaultLead()
	if len(words) > 1 {
		var err error
		if lead, err = timespec.Duration(strings.Join(words[1:], " ")); err != nil {
			return err
		}
		if lead > maxDutyLead {
			return Refusef("I can remind you at most 30 days ahead, e.g. `%s`.", r.Cmd("remind duty on 2d"))
		}
	}
	if err := r.Store.Reminders().SetLead(ctx, r.Sender, store.ReminderDuty, lead); err != nil {
		return err
	}
	if err := d.planUser(ctx, r.Sender, now); err != nil {
		return err
	}
	m := msg.F("OK, I'll send you a direct message %s before each of your turns.", timespec.Remaining(lead))
	planned, err := r.Store.Reminders().Pending(ctx, r.Sender, store.ReminderDuty)
	if err != nil {
		return err
	}
	var first *store.Reminder
	for _, p := range planned {
		if first == nil || p.About.Before(first.About) {
			first = p
		}
	}
	if first != nil {
		m = m.Append("Your next turn is %s.", d.userTime(r, first.About, r.UserLocation(ctx)))
	}
	r.Reply(m)
	return nil
}

// dutyRefPrefix starts the Ref of every duty reminder of a roster; the
// turn's start (ms) follows.
func dutyRefPrefix(rosterID int64) string { return "roster:" + strconv.FormatInt(rosterID, 10) + ":" }

// planRoster re-plans the duty reminders of a roster after it changed: for
// every member who asked for them, the next turn not yet reminded of.
func (d *duties) planRoster(ctx context.Context, ro *store.Roster, now time.Time) error {
	env := d.Env
	if err := cancelReminders(ctx, env, store.ReminderDuty, "", dutyRefPrefix(ro.ID)); err != nil {
		return err
	}
	rot, err := d.load(ctx, ro)
	if err != nil {
		return err
	}
	upcoming := rot.turns(now, turnHorizon)
	for _, m := range rot.Members {
		if !m.Removed.IsZero() {
			continue
		}
		if err := d.planDuty(ctx, ro, upcoming, m.User, now); err != nil {
			return err
		}
	}
	return nil
}

// planUser re-plans a member's duty reminders on all their rosters (after
// they turned them on or off).
func (d *duties) planUser(ctx context.Context, user id.UserID, now time.Time) error {
	env := d.Env
	if err := cancelReminders(ctx, env, store.ReminderDuty, user, "roster:"); err != nil {
		return err
	}
	list, err := env.Store.Rosters().OfUser(ctx, user)
	if err != nil {
		return err
	}
	for _, ro := range list {
		rot, err := d.load(ctx, ro)
		if err != nil {
			return err
		}
		if err := d.planDuty(ctx, ro, rot.turns(now, turnHorizon), user, now); err != nil {
			return err
		}
	}
	return nil
}

// planDuty schedules user's reminder of their first upcoming turn (from
// upcoming) that has not started and was not reminded of yet, if they
// asked for duty reminders. A turn nearer than the lead time is reminded of
// now.
func (d *duties) planDuty(ctx context.Context, ro *store.Roster, upcoming []Turn, user id.UserID, now time.Time) error {
	env := d.Env
	lead, on, err := env.Store.Reminders().Lead(ctx, user, store.ReminderDuty)
	if err != nil || !on {
		return err
	}
	for _, t := range upcoming {
		if t.User != user || !t.At.After(now) {
			continue
		}
		ref := dutyRefPrefix(ro.ID) + strconv.FormatInt(t.At.UnixMilli(), 10)
		if sent, err := env.Store.Reminders().Sent(ctx, store.ReminderDuty, user, ref); err != nil {
			return err
		} else if sent {
			continue
		}
		_, _, err := scheduleReminder(ctx, env, store.Reminder{
			Kind: store.ReminderDuty, User: user, Ref: ref, Zone: ro.Zone,
			Text:  "your turn on the " + ro.Name + " roster",
			About: t.At, DueAt: Latest(t.At.Add(-lead), now), EndsAt: t.End,
		})
		return err
	}
	return nil
}

// due sends the reminders that are due, each in its own transaction, and
// returns when the next one is.
func (d *duties) due(ctx context.Context, now time.Time) (time.Time, error) {
	st := d.Store
	if now.Sub(d.prunedAt) > time.Hour {
		if err := st.Reminders().Prune(ctx, now.Add(-reminderRetention)); err != nil {
			return time.Time{}, err
		}
		d.prunedAt = now
	}
	ids, err := st.Reminders().Due(ctx, now, dueBatch)
	if err != nil {
		return time.Time{}, err
	}
	dropped := map[string]int{}
	var failed error
	for _, rid := range ids {
		err := d.InTx(ctx, func(ctx context.Context, fx *Effects) error {
			kind, n, err := d.fire(ctx, fx, rid, now)
			dropped[kind] += n
			return err
		})
		if err != nil {
			d.log.Error().Err(err).Int64("reminder", rid).Msg("Sending a reminder failed; retrying later")
			failed = err
		}
	}
	for kind, n := range dropped {
		if n > 0 {
			d.log.Info().Str("kind", kind).Int("count", n).Msg("Dropped reminders that fell due while the bot was down and are over")
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
func (d *duties) fire(ctx context.Context, fx *Effects, rid int64, now time.Time) (string, int, error) {
	st := d.Store
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
		for i := 0; i < maxReplay; i++ {
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
		d.deliver(ctx, fx, rem, due, now)
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
	if rem.Kind == store.ReminderDuty {
		err = d.planNext(ctx, rem, now)
	}
	return rem.Kind, dropped, err
}

// deliver queues the reminder's message, due at due.
func (d *duties) deliver(ctx context.Context, fx *Effects, rem *store.Reminder, due, now time.Time) {
	loc, err := time.LoadLocation(rem.Zone)
	if err != nil {
		loc = time.UTC
	}
	if rem.User != "" {
		if tz, err := d.Store.Users().Timezone(ctx, rem.User); err == nil && tz != "" {
			if l, err := time.LoadLocation(tz); err == nil {
				loc = l
			}
		}
	}
	late := now.Sub(due) > reminderGrace
	head := "⏰ **Reminder**"
	if late {
		head = "⏰ **Late reminder** (I was offline when it was due)"
	}
	m := msg.F(head+": %s", rem.Text)
	if !rem.About.IsZero() {
		rel := "in " + timespec.Remaining(rem.About.Sub(now))
		if !rem.About.After(now) {
			rel = "began " + timespec.Remaining(now.Sub(rem.About)) + " ago"
		}
		m = msg.F(head+": %s, %s (%s).", rem.Text, timespec.Human(rem.About, loc), rel)
	}
	m = m.With("quorum.reminder", map[string]any{"kind": rem.Kind, "due_at": due.UTC().Format(time.RFC3339), "late": late})
	if rem.User != "" {
		fx.DM(rem.User, m)
	} else {
		fx.Say(rem.Room, m)
	}
}

// planNext plans the member's next duty reminder on the roster of one that
// was just sent or dropped.
func (d *duties) planNext(ctx context.Context, rem *store.Reminder, now time.Time) error {
	parts := strings.Split(rem.Ref, ":")
	rosterID, err := strconv.ParseInt(parts[min(1, len(parts)-1)], 10, 64)
	if len(parts) != 3 || err != nil {
		return nil // not a roster turn's reminder
	}
	ro, ok, err := d.Store.Rosters().ByID(ctx, rosterID)
	if err != nil || !ok {
		return err
	}
	rot, err := d.load(ctx, ro)
	if err != nil {
		return err
	}
	return d.planDuty(ctx, ro, rot.turns(now, turnHorizon), rem.User, now)
}
