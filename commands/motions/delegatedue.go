package motions

import (
	"context"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
)

// How long before a term's end the room is reminded.
const (
	reminderWeek = 7 * 24 * time.Hour
	reminderDay  = 24 * time.Hour
)

// due posts the reminders before terms end and lapses the mandates whose
// term is over, each exactly once: what fell due while the bot was down is
// done on start (a lapse is dated at the term's end all the same). One
// transaction per mandate.
func (d *Delegates) Due(ctx context.Context, now time.Time) (time.Time, error) {
	active, err := d.Store.Delegations().AllActive(ctx)
	if err != nil {
		return time.Time{}, err
	}
	var next time.Time
	err = commands.EachInTx(ctx, d.Env, active, func(ctx context.Context, fx *commands.Effects, del *store.Delegation) error {
		fresh, ok, err := d.Store.Delegations().Get(ctx, del.ID)
		if err != nil || !ok || fresh.Status != store.DelegationActive {
			return err
		}
		at, err := d.step(ctx, fx, fresh, now)
		next = commands.Sooner(next, at)
		return err
	})
	if err != nil {
		return time.Time{}, err
	}
	return next, nil
}

// step does what is due for del at now and returns when it next has
// something due (zero once it has lapsed).
func (d *Delegates) step(ctx context.Context, fx *commands.Effects, del *store.Delegation, now time.Time) (time.Time, error) {
	st := d.Store.Delegations()
	switch {
	case !now.Before(del.TermEnds):
		return time.Time{}, d.lapse(ctx, fx, del)
	case del.DayReminded.IsZero() && !now.Before(del.TermEnds.Add(-reminderDay)):
		// A week's reminder not yet posted is superseded by the day's.
		if _, err := st.Reminded(ctx, del.ID, true, now); err != nil {
			return time.Time{}, err
		}
		if err := d.remind(ctx, fx, del, false, now); err != nil {
			return time.Time{}, err
		}
		del.WeekReminded, del.DayReminded = now, now
	case del.WeekReminded.IsZero() && !now.Before(del.TermEnds.Add(-reminderWeek)):
		if err := d.remind(ctx, fx, del, true, now); err != nil {
			return time.Time{}, err
		}
		del.WeekReminded = now
	}
	switch {
	case del.WeekReminded.IsZero():
		return del.TermEnds.Add(-reminderWeek), nil
	case del.DayReminded.IsZero():
		return del.TermEnds.Add(-reminderDay), nil
	}
	return del.TermEnds, nil
}

// remind says in the room, once, that del's term ends soon.
func (d *Delegates) remind(ctx context.Context, fx *commands.Effects, del *store.Delegation, week bool, now time.Time) error {
	first, err := d.Store.Delegations().Reminded(ctx, del.ID, week, now)
	if err != nil || !first {
		return err
	}
	prefix := d.Cmd("")
	d.say(fx, del, msg.F("Reminder: %s's mandate as %s (delegation #%d) ends %s, in %s.", msg.Pill(del.User), del.Role, del.Number,
		timespec.Human(del.TermEnds, d.Config.Location(del.Room)), timespec.Remaining(del.TermEnds.Sub(now))).
		Append("To go on, elect a delegate: `%s`. Rotating delegates keeps the role from becoming anyone's: `%s` shows who held it.",
			prefix+"delegate @name:"+del.User.Homeserver()+" "+del.Role+" : <mandate>", prefix+"delegates history "+del.Role).
		Mention(del.User))
	return nil
}

// left notes that a delegate left the room: the mandate stands until it is
// recalled or lapses.
func (d *Delegates) Left(ctx context.Context, fx *commands.Effects, room id.RoomID, user id.UserID, at time.Time) error {
	st := d.Store.Delegations()
	active, err := st.Active(ctx, room)
	if err != nil {
		return err
	}
	for _, del := range active {
		if del.User != user {
			continue
		}
		if err := st.AddEvent(ctx, store.DelegationEvent{Delegation: del.ID, At: at, Kind: eventLeft, User: user}); err != nil {
			return err
		}
		d.say(fx, del, msg.F("%s left the room. Their mandate as %s (delegation #%d) stands until it is recalled or its term ends %s.",
			msg.Pill(del.User), del.Role, del.Number, timespec.Human(del.TermEnds, d.Config.Location(room))).
			Append("To recall it: `%s`.", d.Cmd("recall "+del.User.String()+" "+del.Role)))
	}
	return nil
}
