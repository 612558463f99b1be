package rosters

import (
	"context"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/reminders"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
)

// defaultDutyLead is the lead time of duty reminders when neither the member
// nor the configuration (reminders.duty_lead) gives one.
const defaultDutyLead = 24 * time.Hour

// dutyNote is this feature's line in !remind list.
func (d *Feature) dutyNote(ctx context.Context, r *commands.Request, m msg.Message) (msg.Message, error) {
	lead, on, err := r.Store.Reminders().Lead(ctx, r.Sender, store.ReminderDuty)
	if err != nil {
		return m, err
	}
	if on {
		return m.Append("Duty reminders: on, %s before your turns.", timespec.Remaining(lead)), nil
	}
	return m.Append("Duty reminders: off (`%s`).", r.Cmd("remind duty on")), nil // a command: not for members to read translated
}

// defaultLead is the configured duty reminder lead time (reminders.duty_lead).
func (d *Feature) defaultLead() time.Duration {
	if lead, err := timespec.Duration(d.Config.Reminders.DutyLead); err == nil {
		return lead
	}
	return defaultDutyLead
}

func (d *Feature) remindDuty(ctx context.Context, r *commands.Request) error {
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
		// commands: not for members to read translated
		return commands.Refusef("Say `%s` (or with a lead time, `%s`) or `%s`.", r.Cmd("remind duty on"), r.Cmd("remind duty on 12h"), r.Cmd("remind duty off"))
	}
	lead := d.defaultLead()
	if len(words) > 1 {
		var err error
		if lead, err = timespec.Duration(strings.Join(words[1:], " ")); err != nil {
			return err
		}
		if lead > reminders.MaxLead {
			return reminders.RefuseLead(r.Cmd("remind duty on 2d")) // a command: not for members to read translated
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
		m = m.Append("Your next turn is %s.", reminders.UserTime(r, first.About, r.UserLocation(ctx)))
	}
	r.Reply(m)
	return nil
}

// dutyRefPrefix starts the Ref of every duty reminder of a roster; the
// turn's start (ms) follows.
func dutyRefPrefix(rosterID int64) string { return "roster:" + strconv.FormatInt(rosterID, 10) + ":" }

// planRoster re-plans the duty reminders of a roster after it changed: for
// every member who asked for them, the next turn not yet reminded of.
func (d *Feature) planRoster(ctx context.Context, ro *store.Roster, now time.Time) error {
	if err := d.reminders.Cancel(ctx, store.ReminderDuty, "", dutyRefPrefix(ro.ID)); err != nil {
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
func (d *Feature) planUser(ctx context.Context, user id.UserID, now time.Time) error {
	if err := d.reminders.Cancel(ctx, store.ReminderDuty, user, "roster:"); err != nil {
		return err
	}
	list, err := d.Store.Rosters().OfUser(ctx, user)
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
func (d *Feature) planDuty(ctx context.Context, ro *store.Roster, upcoming []Turn, user id.UserID, now time.Time) error {
	lead, on, err := d.Store.Reminders().Lead(ctx, user, store.ReminderDuty)
	if err != nil || !on {
		return err
	}
	for _, t := range upcoming {
		if t.User != user || !t.At.After(now) {
			continue
		}
		ref := dutyRefPrefix(ro.ID) + strconv.FormatInt(t.At.UnixMilli(), 10)
		if sent, err := d.Store.Reminders().Sent(ctx, store.ReminderDuty, user, ref); err != nil {
			return err
		} else if sent {
			continue
		}
		_, _, err := d.reminders.Schedule(ctx, store.Reminder{
			Kind: store.ReminderDuty, User: user, Ref: ref, Zone: ro.Zone,
			Text:  dutyText(ro).String(),
			About: t.At, DueAt: commands.Latest(t.At.Add(-lead), now), EndsAt: t.End,
		})
		return err
	}
	return nil
}

// dutyText is what a duty reminder is about.
func dutyText(ro *store.Roster) msg.Text { return msg.T("your turn on the %s roster", ro.Name) }

// rosterOf is the roster of a duty reminder, if it is still there.
func (d *Feature) rosterOf(ctx context.Context, rem *store.Reminder) (*store.Roster, bool, error) {
	parts := strings.Split(rem.Ref, ":")
	if len(parts) != 3 {
		return nil, false, nil // not a roster turn's reminder
	}
	rosterID, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil, false, nil
	}
	return d.Store.Rosters().ByID(ctx, rosterID)
}

// dutySubject renders a duty reminder in the language of its member or
// roster's room, when it is sent.
func (d *Feature) dutySubject(ctx context.Context, rem *store.Reminder) (msg.Text, id.RoomID, bool, error) {
	ro, ok, err := d.rosterOf(ctx, rem)
	if err != nil || !ok {
		return msg.Text{}, "", false, err
	}
	return dutyText(ro), ro.Room, true, nil
}

// planNext plans the member's next duty reminder on the roster of one that
// was just sent or dropped.
func (d *Feature) planNext(ctx context.Context, rem *store.Reminder, now time.Time) error {
	ro, ok, err := d.rosterOf(ctx, rem)
	if err != nil || !ok {
		return err
	}
	rot, err := d.load(ctx, ro)
	if err != nil {
		return err
	}
	return d.planDuty(ctx, ro, rot.turns(now, turnHorizon), rem.User, now)
}
