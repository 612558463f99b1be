package study

import (
	"context"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/reminders"
	"quorum/commands/timespec"
	"quorum/locale"
	"quorum/msg"
	"quorum/store"
)

// rsvpKeys maps normalised reaction keys to answers.
var rsvpKeys = map[string]string{
	"✅": store.RSVPYes, "✔": store.RSVPYes,
	"❔": store.RSVPMaybe, "❓": store.RSVPMaybe,
	"❌": store.RSVPNo, "✖": store.RSVPNo,
}

// parseAnswer reads an answer typed in !rsvp, in any shipped language
// (rsvpCommand shows the room's words), accents optional.
func parseAnswer(s string) (string, bool) {
	switch locale.Fold(s) {
	case "yes", "y", "going", "✅", "si", "ja":
		return store.RSVPYes, true
	case "maybe", "m", "perhaps", "❔", "quiza", "quizas", "vielleicht":
		return store.RSVPMaybe, true
	case "no", "n", "not", "❌", "nein":
		return store.RSVPNo, true
	}
	return "", false
}

// rsvpCommand is how to answer for session n, with the answers in the
// reader's language.
func rsvpCommand(prefix string, n int) msg.Text {
	return msg.T("%srsvp %d yes|maybe|no", prefix, n)
}

// answer records user's answer to the current round of s. A refused answer
// changes nothing; the refusal is returned.
func (f *Feature) answer(ctx context.Context, fx *commands.Effects, s *store.Session, user id.UserID, answer string, evt id.EventID, at time.Time) (refusal msg.Text, refused bool, err error) {
	switch {
	case s.Status == store.SessionCancelled:
		return msg.T("Study session #%d is cancelled, so your answer was not recorded.", s.Number), true, nil
	case !at.Before(s.StartsAt):
		return msg.T("Study session #%d has already started, so your answer was not recorded.", s.Number), true, nil
	}
	before, after, err := f.Store.Sessions().Answer(ctx, store.RSVP{Session: s.ID, Round: s.Round, User: user, Answer: answer, Event: evt, At: at})
	if err != nil {
		return msg.Text{}, false, err
	}
	return msg.Text{}, false, f.changed(ctx, fx, s, user, before, after)
}

// changed follows up a change of a member's answer: the announcement's
// edit, the private place for a new yes, their DM reminder.
func (f *Feature) changed(ctx context.Context, fx *commands.Effects, s *store.Session, user id.UserID, before, after string) error {
	if before == after {
		return nil
	}
	st := f.Store
	if err := st.Edits().Schedule(ctx, anchorSession, s.ID, f.Clock.Now().Add(sessionEditDelay), 0); err != nil {
		return err
	}
	if after == store.RSVPYes && s.PrivatePlace {
		loc := f.MemberLocation(ctx, user, s.Room)
		fx.DM(user, msg.F("📍 Study session #%d (%s), %s: **%s**\nThe place is private: please don't share it.",
			s.Number, s.Title, timespec.Human(s.StartsAt, loc), s.Place).
			With("quorum.session", f.fields(ctx, s)))
	}
	return f.planUser(ctx, s, user)
}

func (f *Feature) rsvp(ctx context.Context, r *commands.Request) error {
	words := strings.Fields(r.Args)
	usage := commands.Refusef("Say which session and your answer, e.g. `%s`.", r.Cmd("rsvp 3 yes")) // a command: not for members to read translated
	if len(words) != 2 {
		return usage
	}
	n, ok := commands.ParseNumber(words[0])
	answer, ok2 := parseAnswer(words[1])
	if !ok || !ok2 {
		return usage
	}
	s, err := f.find(ctx, r, n)
	if err != nil {
		return err
	}
	refusal, refused, err := f.answer(ctx, &r.Effects, s, r.Sender, answer, r.Event, r.Time)
	if err != nil {
		return err
	}
	if refused {
		return commands.Refusef("%s", refusal)
	}
	words2 := map[string]msg.Text{store.RSVPYes: msg.T("going"), store.RSVPMaybe: msg.T("maybe"), store.RSVPNo: msg.T("not going")}
	m := msg.F("Noted: %s to session #%d, %s.", words2[answer], s.Number, timespec.Human(s.StartsAt, r.Location()))
	if answer == store.RSVPYes && s.PrivatePlace {
		m = m.Append("I've sent you the place by direct message.")
	}
	r.Reply(m)
	return nil
}

// react is a reaction on a session's announcement.
func (f *Feature) react(ctx context.Context, fx *commands.Effects, ref int64, rx commands.Reaction) error {
	answer, ok := rsvpKeys[commands.NormalizeKey(rx.Key)]
	if !ok {
		return nil // another emoji is not an answer
	}
	s, found, err := f.Store.Sessions().Get(ctx, ref/sessionRounds)
	if err != nil || !found || s.Room != rx.Room {
		return err
	}
	if int(ref%sessionRounds) != s.Round%sessionRounds {
		fx.DM(rx.Sender, msg.F("That announcement was for an earlier session #%d; react on the latest one (or send `%s`).",
			s.Number, rsvpCommand(f.Cmd(""), s.Number)))
		return nil
	}
	refusal, refused, err := f.answer(ctx, fx, s, rx.Sender, answer, rx.Event, rx.Time)
	if refused {
		fx.DM(rx.Sender, msg.FromText(refusal))
	}
	return err
}

// redaction withdraws a redacted answer (a reaction or !rsvp) before the
// session starts; afterwards it stands.
func (f *Feature) Redaction(ctx context.Context, fx *commands.Effects, rd commands.Redaction) (bool, error) {
	st := f.Store
	act, found, err := st.Sessions().Act(ctx, rd.Redacts)
	if err != nil || !found {
		return false, err
	}
	s, ok, err := st.Sessions().Get(ctx, act.Session)
	if err != nil || !ok {
		return true, err
	}
	if rd.Sender != act.User || s.Room != rd.Room || act.Round != s.Round || s.Status == store.SessionCancelled || !rd.Time.Before(s.StartsAt) {
		return true, nil
	}
	before, after, err := st.Sessions().Withdraw(ctx, act)
	if err != nil {
		return true, err
	}
	return true, f.changed(ctx, fx, s, act.User, before, after)
}

// Left ends the answers of a member who left the room: they are no longer
// counted, sent the private place, told of changes or reminded.
func (f *Feature) Left(ctx context.Context, fx *commands.Effects, room id.RoomID, user id.UserID, at time.Time) error {
	upcoming, err := f.Store.Sessions().Upcoming(ctx, room, at)
	if err != nil {
		return err
	}
	for _, s := range upcoming {
		before, err := f.Store.Sessions().AnswerOf(ctx, s.ID, s.Round, user)
		if err != nil {
			return err
		}
		if err := f.Store.Sessions().WithdrawAll(ctx, s.ID, user); err != nil {
			return err
		}
		if err := f.changed(ctx, fx, s, user, before, ""); err != nil {
			return err
		}
	}
	return nil
}

// roomLead is the configured lead time of room reminders.
func (f *Feature) roomLead() time.Duration {
	if lead, err := timespec.Duration(f.Config.Study.RoomReminder); err == nil {
		return lead
	}
	return 24 * time.Hour
}

// reminderText is what a reminder of s says it is about; with place, where.
func reminderText(s *store.Session, place bool) msg.Text {
	if place && s.Place != "" {
		return msg.T("study session #%d “%s” — where: %s", s.Number, s.Title, s.Place)
	}
	return msg.T("study session #%d “%s”", s.Number, s.Title)
}

// reminderSubject renders a session reminder when it is sent, in the
// language of its reader or of the session's room.
func (f *Feature) reminderSubject(ctx context.Context, rem *store.Reminder) (msg.Text, id.RoomID, bool, error) {
	kind, rest, _ := strings.Cut(rem.Ref, ":") // "session:<id>:…"
	number, _, _ := strings.Cut(rest, ":")
	sid, err := strconv.ParseInt(number, 10, 64)
	if kind != "session" || err != nil {
		return msg.Text{}, "", false, nil // not a session's reminder
	}
	s, ok, err := f.Store.Sessions().Get(ctx, sid)
	if err != nil || !ok {
		return msg.Text{}, "", false, err
	}
	place := !s.PrivatePlace
	if rem.User != "" && !place {
		answer, err := f.Store.Sessions().AnswerOf(ctx, s.ID, s.Round, rem.User)
		if err != nil {
			return msg.Text{}, "", false, err
		}
		place = answer == store.RSVPYes
	}
	return reminderText(s, place), s.Room, true, nil
}

// planAll re-plans every reminder of the current round of s: the room's,
// and each member's who answered yes or maybe and asked for them.
func (f *Feature) planAll(ctx context.Context, s *store.Session) error {
	env := f.Env
	if err := f.reminders.Cancel(ctx, store.ReminderSession, "", sessionRefPrefix(s)); err != nil {
		return err
	}
	if s.Status == store.SessionCancelled {
		return nil
	}
	if due := s.StartsAt.Add(-f.roomLead()); due.After(env.Clock.Now()) {
		_, _, err := f.reminders.Schedule(ctx, store.Reminder{
			Kind: store.ReminderSession, Room: s.Room, Ref: sessionRef(s), Zone: s.Zone,
			Text: reminderText(s, !s.PrivatePlace).String(), About: s.StartsAt, DueAt: due, EndsAt: s.StartsAt,
		})
		if err != nil {
			return err
		}
	}
	answers, err := env.Store.Sessions().Answers(ctx, s.ID, s.Round)
	if err != nil {
		return err
	}
	for u := range answers {
		if err := f.planUser(ctx, s, u); err != nil {
			return err
		}
	}
	return nil
}

// planUser re-plans user's DM reminder of the current round of s.
func (f *Feature) planUser(ctx context.Context, s *store.Session, user id.UserID) error {
	env := f.Env
	if err := f.reminders.Cancel(ctx, store.ReminderSession, user, sessionRefPrefix(s)); err != nil {
		return err
	}
	lead, on, err := env.Store.Sessions().ReminderLead(ctx, user)
	if err != nil || !on || s.Status == store.SessionCancelled {
		return err
	}
	answer, err := env.Store.Sessions().AnswerOf(ctx, s.ID, s.Round, user)
	if err != nil || answer != store.RSVPYes && answer != store.RSVPMaybe {
		return err
	}
	due := s.StartsAt.Add(-lead)
	if !due.After(env.Clock.Now()) {
		return nil // they just answered, and it is soon: no reminder needed
	}
	_, _, err = f.reminders.Schedule(ctx, store.Reminder{
		Kind: store.ReminderSession, User: user, Ref: sessionRef(s), Zone: s.Zone,
		Text:  reminderText(s, answer == store.RSVPYes || !s.PrivatePlace).String(),
		About: s.StartsAt, DueAt: due, EndsAt: s.StartsAt,
	})
	return err
}

// remindPref is `study remind on [lead]|off` (and `remind sessions …`).
func (f *Feature) remindPref(ctx context.Context, r *commands.Request) error {
	words := strings.Fields(r.Args)
	st, now := r.Store.Sessions(), r.Clock.Now()
	var lead time.Duration
	switch {
	case len(words) == 1 && strings.EqualFold(words[0], "off"):
	case len(words) >= 1 && strings.EqualFold(words[0], "on"):
		lead = f.roomLead()
		if len(words) > 1 {
			var err error
			if lead, err = timespec.Duration(strings.Join(words[1:], " ")); err != nil {
				return err
			}
			if lead > reminders.MaxLead {
				return reminders.RefuseLead(r.Cmd("remind sessions on 2d")) // a command: not for members to read translated
			}
		}
	default:
		// commands: not for members to read translated
		return commands.Refusef("Say `%s` (or with a lead time, `%s`) or `%s`.", r.Cmd("remind sessions on"), r.Cmd("remind sessions on 3h"), r.Cmd("remind sessions off"))
	}
	if err := st.SetReminderLead(ctx, r.Sender, lead); err != nil {
		return err
	}
	sessions, err := st.AnsweredBy(ctx, r.Sender, now)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		if err := f.planUser(ctx, s, r.Sender); err != nil {
			return err
		}
	}
	if lead == 0 {
		r.Replyf("OK, no more reminders of study sessions.")
		return nil
	}
	r.Replyf("OK, I'll send you a direct message %s before each study session you answer yes or maybe to.", timespec.Remaining(lead))
	return nil
}

// due moves series on to their next session once the current one ended
// (announcing it), and makes the pending announcement edits.
func (f *Feature) Due(ctx context.Context, now time.Time) (time.Time, error) {
	st := f.Store
	series, err := st.Sessions().SeriesDue(ctx, now)
	if err != nil {
		return time.Time{}, err
	}
	err = commands.EachInTx(ctx, f.Env, series, func(ctx context.Context, fx *commands.Effects, s *store.Session) error {
		return f.advance(ctx, fx, s.ID, now)
	})
	if err != nil {
		return time.Time{}, err
	}
	return st.Sessions().NextDue(ctx)
}

// NoticeEdits implements commands.NoticeEditor: a session's announcement
// shows who is coming.
func (f *Feature) NoticeEdits() map[string]commands.EditFunc {
	return map[string]commands.EditFunc{anchorSession: f.editAnswers}
}

// editAnswers edits the announcement of session id to show the answers.
func (f *Feature) editAnswers(ctx context.Context, fx *commands.Effects, id int64) error {
	s, ok, err := f.Store.Sessions().Get(ctx, id)
	if err != nil || !ok || s.Status == store.SessionCancelled {
		return err
	}
	fx.Say(s.Room, f.edit(ctx, s))
	return nil
}

// advance moves series sessionID on to its first session that has not
// ended at now, and announces it.
func (f *Feature) advance(ctx context.Context, fx *commands.Effects, sessionID int64, now time.Time) error {
	st := f.Store
	s, ok, err := st.Sessions().Get(ctx, sessionID)
	if err != nil || !ok || s.RRule == "" || s.Status == store.SessionCancelled || s.EndsAt().After(now) {
		return err
	}
	rule, err := timespec.ParseRRule(s.RRule)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(s.Zone)
	if err != nil {
		return err
	}
	next, ok := rule.Next(s.SeriesStart.In(loc), now.Add(-s.Duration))
	if !ok {
		s.Status = store.SessionCancelled // a series without a next session is over
		return st.Sessions().Update(ctx, s)
	}
	s.PrevAt, s.StartsAt, s.Round = s.StartsAt, next, s.Round+1
	s.Status, s.UpdatedAt = store.SessionScheduled, now
	if err := st.Sessions().Update(ctx, s); err != nil {
		return err
	}
	// The new session's announcement shows its own answers: none yet.
	if err := st.Edits().Cancel(ctx, anchorSession, s.ID); err != nil {
		return err
	}
	fx.Say(s.Room, f.notice(ctx, s, f.Cmd("")))
	return f.planAll(ctx, s)
}
