package study

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
	"go.mau.fi/util/random"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/motions"
	"quorum/commands/reminders"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
)

// Study sessions: confidential study circles, one-off or a series.
//
// Decisions:
//   - A series has one current occurrence at a time (its "round"). Answers
//     (✅ ❔ ❌ or !rsvp) are for the current occurrence: when it ends the
//     series moves on, a new announcement is posted for the next one, and
//     everyone answers afresh. A reaction on an earlier round's
//     announcement is not counted (the member is told why, by DM).
//   - Each announcement is anchored as kind "session" with the ref
//     sessionAnchorRef(id, round), so edits and replies go to the right one.
//   - A member's latest answer counts; redacting it brings back the one
//     before, if any (as with votes on motions). Answers close when the
//     session starts.
//   - `move` of a series moves the series: the next session and every one
//     after it keep the interval from the new time. `cancel` cancels the
//     whole series.
//   - A private place is never posted in the room nor in a room .ics: it is
//     sent by DM to each member when they answer yes, when the session moves,
//     and with their DM reminder.
//   - Sessions last sessionDuration (for calendars; the grammar has no end).
const (
	anchorSession    = "session"
	sessionDuration  = 2 * time.Hour
	sessionEditDelay = 2 * time.Second
	maxUpcoming      = 100
	maxReadings      = 50
	maxReadingText   = 500
	maxCancelReason  = 300
	// sessionRounds separates session and round in an anchor's ref.
	sessionRounds = 1 << 20
)

// Feature is study sessions: confidential reading circles with answers,
// private places, reminders (through package reminders) and calendar files.
type Feature struct {
	*commands.Env
	log       zerolog.Logger
	reminders *reminders.Feature
	// polls asks the room for a session's time (AskWith); nil: one time only.
	polls *motions.Feature
}

// New makes the study sessions feature; its reminders go through rem.
func New(env *commands.Env, log zerolog.Logger, rem *reminders.Feature) *Feature {
	f := &Feature{Env: env, log: log, reminders: rem}
	rem.OnSubject(store.ReminderSession, f.reminderSubject)
	return f
}

// Group implements commands.Feature.
func (f *Feature) Group() string { return "Study sessions" }

func sessionAnchorRef(s *store.Session) int64 {
	return s.ID*sessionRounds + int64(s.Round%sessionRounds)
}

func sessionAnchor(s *store.Session) *msg.Anchor {
	return &msg.Anchor{Kind: anchorSession, Ref: sessionAnchorRef(s)}
}

func (f *Feature) Commands() []*commands.Command {
	return []*commands.Command{
		{
			Name:    "study",
			Usage:   "study N",
			Summary: "schedule study sessions, with answers, reminders and calendar files",
			Help: "Members answer by reacting on the announcement: ✅ going · ❔ maybe · ❌ not going, or with `rsvp N yes|maybe|no`. " +
				"With `--private-location` the place is never posted here: I send it by direct message to those who answer yes. " +
				"`study N move <when>` and `study N cancel [: reason]` tell everyone who answered yes or maybe by direct message. " +
				"`study N ics` and `study ics` post a calendar file. `study remind on [lead]` (or `remind sessions on`) sends you a direct message before the sessions you're coming to.",
			Examples: []string{
				studyExample,
				"study new Strike history at 2026-12-03 19:00 where Ana's flat --private-location",
				"study list",
				"study 3",
				"study 3 reading Capital ch. 10, https://example.org/ch10",
				"study 3 move thursday 19:00",
				"study 3 cancel : venue unavailable",
				"study 3 ics",
				"study 3 attended @ana @ben",
				"study stats",
				"study remind on 3h",
			},
			Handler: f.study,
			Target:  "N",
			Subcommands: []*commands.Command{
				{Name: "new", Usage: "new <title> at <when> [| <when> …] [--decide WHEN] [where <place>] [every <interval>] [topic <topic>] [--private-location]",
					Summary: "schedule a session, or ask in a poll which of 2 to 10 times suits (decided at `--decide`)", Handler: f.create},
				{Name: "list", Usage: "list", Summary: "the upcoming sessions", Handler: f.list},
				{Name: "ics", Usage: "ics", Summary: "a calendar file of the upcoming sessions", Handler: f.icsAll},
				{Name: "stats", Usage: "stats", Summary: "who came to how many sessions", Handler: f.stats},
				{Name: "remind", Usage: "remind on|off [<lead time>]", Summary: "a direct message before the sessions you're coming to",
					Handler: f.remindPref},
			},
			Actions: []*commands.Command{
				{Name: "reading", Usage: "reading <text>", Summary: "set the reading", Handler: f.onSession(f.reading)},
				{Name: "move", Usage: "move <when>", Summary: "move the session; those coming are told", Handler: f.onSession(f.move)},
				{Name: "cancel", Usage: "cancel [: <reason>]", Summary: "cancel the session; those coming are told", Handler: f.onSession(f.cancel)},
				{Name: "ics", Usage: "ics", Summary: "a calendar file of the session", Handler: f.onSession(f.icsOne)},
				{Name: "attended", Usage: "attended @members", Summary: "record who came", Handler: f.onSession(f.attended)},
			},
		},
		{
			Name:     "rsvp",
			Usage:    "rsvp N yes|maybe|no",
			Summary:  "say whether you're coming to study session N",
			Help:     "Your latest answer counts. For a series, it's for the next session.",
			Examples: []string{"rsvp 3 yes", "rsvp 3 maybe"},
			Handler:  f.rsvp,
		},
		{
			Name: "remind",
			Subcommands: []*commands.Command{{
				Name: "sessions", Usage: "sessions on|off [<lead time>]",
				Summary: "a direct message before the study sessions you're coming to", Handler: f.remindPref,
			}},
		},
	}
}

func (f *Feature) Reactions() map[string]commands.ReactionHandler {
	return map[string]commands.ReactionHandler{anchorSession: f.react}
}

// study shows session N; everything else is a subcommand or an action.
func (f *Feature) study(ctx context.Context, r *commands.Request) error {
	words := strings.Fields(r.Args)
	if len(words) == 0 {
		return commands.Refusef("Try `%s` or `%s`.", r.Cmd(studyExample), r.Cmd("study list"))
	}
	n, ok := commands.ParseNumber(words[0])
	if !ok {
		return r.Unknown("", words[0])
	}
	s, err := f.find(ctx, r, n)
	if err != nil {
		return err
	}
	if len(words) > 1 {
		return r.Unknown(words[0], words[1])
	}
	return f.show(ctx, r, s)
}

// onSession adapts an action to the session the request's target numbers.
func (f *Feature) onSession(fn func(ctx context.Context, r *commands.Request, s *store.Session) error) func(context.Context, *commands.Request) error {
	return func(ctx context.Context, r *commands.Request) error {
		n, ok := commands.ParseNumber(r.Target)
		if !ok {
			return r.Unknown("", r.Target)
		}
		s, err := f.find(ctx, r, n)
		if err != nil {
			return err
		}
		return fn(ctx, r, s)
	}
}

// find returns session #n of the request's room or a friendly error.
func (f *Feature) find(ctx context.Context, r *commands.Request, n int) (*store.Session, error) {
	s, ok, err := r.Store.Sessions().ByNumber(ctx, r.Room, n)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, commands.Refusef("There is no study session #%d here. `%s` lists them.", n, r.Cmd("study list"))
	}
	return s, nil
}

// mayManage refuses a change of s to anyone but its creator or a moderator.
func (f *Feature) mayManage(ctx context.Context, r *commands.Request, s *store.Session, what msg.Text) error {
	if r.Sender == s.CreatedBy {
		return nil
	}
	mod, err := r.Env.IsModerator(ctx, r.Room, r.Sender)
	if err != nil || mod {
		return err
	}
	return commands.Refusef("Only whoever scheduled session #%d or a room moderator can %s.", s.Number, what)
}

func (f *Feature) create(ctx context.Context, r *commands.Request) error {
	args := r.Args
	now, loc := r.Clock.Now(), r.Location()
	args, decide, decideSet, err := takeDecide(args, now, loc)
	var times []time.Time
	several := false
	if err == nil {
		times, several, err = candidateTimes(args, now, loc, r.Cmd)
	}
	if err == nil && several {
		err = f.askTimes(ctx, r, args, times, decide, decideSet)
		if err == nil {
			return nil
		}
	} else if err == nil && decideSet {
		err = commands.Refusef("`--decide` is for a poll on several times: `%s`.", r.Cmd(timesExample))
	}
	var spec sessionSpec
	if err == nil {
		spec, err = parseStudyNew(args, now, loc, r.Cmd)
	}
	if err != nil && privateIntent(args) {
		// The command may name the private place: it leaves the room even
		// though nothing was scheduled.
		lang, lerr := r.Lang(ctx)
		if lerr != nil {
			return lerr
		}
		return commands.RedactCommand(err, msg.Redaction{Reason: "private location",
			IfRefused: msg.T("Your message above may show a private place: please delete it (I don't have the power to).").In(lang)})
	}
	if err != nil {
		return err
	}
	upcoming, err := r.Store.Sessions().Upcoming(ctx, r.Room, now)
	if err != nil {
		return err
	}
	if len(upcoming) >= maxUpcoming {
		return commands.Refusef("This room has %d upcoming sessions, the most I keep; cancel one first.", len(upcoming))
	}
	s := &store.Session{
		Room: r.Room, UID: "study-" + strings.ToLower(random.String(20)) + "@quorum", Title: spec.Title,
		Topic: spec.Topic, Place: spec.Place, PrivatePlace: spec.Private, Zone: loc.String(), RRule: spec.Rule.RRule(),
		SeriesStart: spec.Start, StartsAt: spec.Start, Duration: sessionDuration, Status: store.SessionScheduled,
		CreatedBy: r.Sender, CreatedAt: now, UpdatedAt: now,
	}
	if err := r.Store.Sessions().Create(ctx, s); err != nil {
		return err
	}
	r.Say(r.Room, f.notice(ctx, s, r.Prefix))
	if s.PrivatePlace && s.Place != "" {
		// The command itself names the place: take it out of the room.
		if err := redactPlace(ctx, r); err != nil {
			return err
		}
	}
	return f.planAll(ctx, s)
}

// redactPlace takes the member's command, which names a private place, out
// of the room; if the bot may not, it asks them to, in the room's language.
func redactPlace(ctx context.Context, r *commands.Request) error {
	lang, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	r.Redact(r.Room, msg.Redaction{Event: r.Event, Reason: "private location",
		IfRefused: msg.T("Your message above shows the private place: please delete it (I don't have the power to).").In(lang)})
	return nil
}

// counts is how many answered what for the current round.
func (f *Feature) counts(ctx context.Context, s *store.Session) (answers map[id.UserID]string, going, maybe, notGoing int) {
	answers, err := f.Store.Sessions().Answers(ctx, s.ID, s.Round)
	if err != nil {
		f.log.Error().Err(err).Int64("session", s.ID).Msg("Reading answers failed")
	}
	for _, a := range answers {
		switch a {
		case store.RSVPYes:
			going++
		case store.RSVPMaybe:
			maybe++
		case store.RSVPNo:
			notGoing++
		}
	}
	return answers, going, maybe, notGoing
}

// fields is the content of quorum.session; it has no location when the
// place is private.
func (f *Feature) fields(ctx context.Context, s *store.Session) map[string]any {
	_, going, maybe, notGoing := f.counts(ctx, s)
	fields := map[string]any{
		"id":               s.Number,
		"title":            s.Title,
		"starts_at":        s.StartsAt.UTC().Format(time.RFC3339),
		"ends_at":          s.EndsAt().UTC().Format(time.RFC3339),
		"status":           s.Status,
		"going":            going,
		"maybe":            maybe,
		"not_going":        notGoing,
		"private_location": s.PrivatePlace,
		"uid":              s.UID,
	}
	if s.Topic != "" {
		fields["topic"] = s.Topic
	}
	if s.RRule != "" {
		fields["rrule"] = s.RRule
	}
	if !s.PrivatePlace && s.Place != "" {
		fields["location"] = s.Place
	}
	return fields
}

// when says when s is, in the room's time, with its repeat.
func (f *Feature) when(s *store.Session) msg.Text {
	at := timespec.Human(s.StartsAt, f.Config.Location(s.Room))
	if rule, err := timespec.ParseRRule(s.RRule); err == nil && s.RRule != "" {
		return msg.T("%s (%s)", at, rule)
	}
	return msg.T("%s", at)
}

// where says where s is, for the room.
func (f *Feature) where(s *store.Session) msg.Text {
	switch {
	case s.PrivatePlace:
		return msg.T("sent privately to those coming")
	case s.Place == "":
		return msg.T("to be announced")
	}
	return msg.T("%s", s.Place)
}

// notice is the announcement of the current round of s.
func (f *Feature) notice(ctx context.Context, s *store.Session, prefix string) msg.Message {
	_, going, maybe, notGoing := f.counts(ctx, s)
	out := msg.F("📚 **Study session #%d**: %s", s.Number, s.Title)
	if s.Topic != "" {
		out = out.Append("Topic: %s", s.Topic)
	}
	out = out.Append("When: %s · Where: %s", f.when(s), f.where(s))
	switch s.Status {
	case store.SessionCancelled:
		out = out.Append("**Cancelled.**")
	default:
		if s.Status == store.SessionMoved {
			out = out.Append("**Moved** to the time above.")
		}
		out = out.Append("Coming? React ✅ going · ❔ maybe · ❌ not going, or send `%s`.", rsvpCommand(prefix, s.Number))
	}
	out = out.Append("%d going · %d maybe · %d not going", going, maybe, notGoing)
	out.Anchor = sessionAnchor(s)
	return out.With("quorum.session", f.fields(ctx, s))
}

// edit is the announcement of s as an edit of the one sent.
func (f *Feature) edit(ctx context.Context, s *store.Session) msg.Message {
	e := f.notice(ctx, s, f.Cmd(""))
	e.Edit, e.Anchor = e.Anchor, nil
	return e
}

func (f *Feature) list(ctx context.Context, r *commands.Request) error {
	upcoming, err := r.Store.Sessions().Upcoming(ctx, r.Room, r.Clock.Now())
	if err != nil {
		return err
	}
	if len(upcoming) == 0 {
		r.Replyf("No study sessions coming up. Schedule one with `%s`.", r.Cmd(studyExample))
		return nil
	}
	out := msg.F("**Upcoming study sessions**")
	for _, s := range upcoming {
		_, going, maybe, _ := f.counts(ctx, s)
		out = out.Append("#%d %s — %s — %d going · %d maybe", s.Number, f.when(s), clip(s.Title, 60), going, maybe)
	}
	r.Reply(out.Append("Details: `%s`", r.Cmd("study N")))
	return nil
}

// clip shortens text to n characters.
func clip(text string, n int) string {
	if utf8.RuneCountInString(text) > n {
		return string([]rune(text)[:n-1]) + "…"
	}
	return text
}

func (f *Feature) show(ctx context.Context, r *commands.Request, s *store.Session) error {
	answers, _, _, _ := f.counts(ctx, s)
	out := f.notice(ctx, s, r.Prefix)
	out.Anchor = nil
	for _, a := range []struct {
		answer string
		label  msg.Text
	}{{store.RSVPYes, msg.T("Going")}, {store.RSVPMaybe, msg.T("Maybe")}} {
		var who []string
		for u, x := range answers {
			if x == a.answer {
				who = append(who, u.String())
			}
		}
		slices.Sort(who)
		if len(who) > 0 {
			out = out.Append("%s: %s", a.label, strings.Join(who, ", "))
		}
	}
	readings, err := r.Store.Sessions().Readings(ctx, s.ID)
	if err != nil {
		return err
	}
	if len(readings) == 0 {
		out = out.Append("Reading list: empty (`%s`).", r.Cmd(fmt.Sprintf("study %d reading <text or link>", s.Number))) // a command: not for members to read translated
	} else {
		out = out.Append("**Reading list**")
		for i, rd := range readings {
			out = out.Append("%d. %s", i+1, rd.Text)
		}
	}
	r.Reply(out)
	return nil
}

func (f *Feature) reading(ctx context.Context, r *commands.Request, s *store.Session) error {
	text := r.Args
	switch {
	case text == "":
		return commands.Refusef("What should people read? e.g. `%s`.", r.Cmd(fmt.Sprintf("study %d reading Capital ch. 10", s.Number))) // a command: not for members to read translated
	case utf8.RuneCountInString(text) > maxReadingText:
		return commands.Refusef("That's too long for the reading list; keep it under %d characters.", maxReadingText)
	}
	readings, err := r.Store.Sessions().Readings(ctx, s.ID)
	if err != nil {
		return err
	}
	if len(readings) >= maxReadings {
		return commands.Refusef("Session #%d has %d readings, the most I keep.", s.Number, len(readings))
	}
	if err := r.Store.Sessions().AddReading(ctx, s.ID, text, r.Sender, r.Clock.Now()); err != nil {
		return err
	}
	r.Replyf("Added to the reading list of session #%d (%d items).", s.Number, len(readings)+1)
	return nil
}

// tellComing DMs everyone who answered yes or maybe to the current round;
// yes-sayers also get the private place.
func (f *Feature) tellComing(ctx context.Context, fx *commands.Effects, s *store.Session, m msg.Message) {
	answers, _, _, _ := f.counts(ctx, s)
	users := make([]id.UserID, 0, len(answers))
	for u := range answers {
		users = append(users, u)
	}
	slices.Sort(users)
	for _, u := range users {
		switch answers[u] {
		case store.RSVPYes:
			if s.PrivatePlace && s.Status != store.SessionCancelled {
				fx.DM(u, m.Append("📍 Where: %s (private: please don't share it)", s.Place))
				continue
			}
			fx.DM(u, m)
		case store.RSVPMaybe:
			fx.DM(u, m)
		}
	}
}

func (f *Feature) move(ctx context.Context, r *commands.Request, s *store.Session) error {
	when := r.Args
	example := r.Cmd(fmt.Sprintf("study %d move thursday 19:00", s.Number)) // a command: not for members to read translated
	if when == "" {
		return commands.Refusef("Say when to, e.g. `%s`.", example)
	}
	if err := f.mayManage(ctx, r, s, msg.T("move it")); err != nil {
		return err
	}
	if s.Status == store.SessionCancelled {
		return commands.Refusef("Session #%d is cancelled; schedule a new one with `%s`.", s.Number, r.Cmd("study new …")) // a command: not for members to read translated
	}
	now, loc := r.Clock.Now(), r.Location()
	t, err := timespec.Moment(when, now, loc)
	if err != nil {
		return err
	}
	if s.RRule != "" {
		rule, err := timespec.ParseRRule(s.RRule)
		if err != nil {
			return err
		}
		if rule.Days != 0 && !rule.Days.Has(t.In(loc).Weekday()) {
			return commands.Refusef("Session #%d meets %s; move it to one of those days, or cancel it and schedule a new series.", s.Number, rule)
		}
		s.SeriesStart = t
	}
	before := s.StartsAt
	s.StartsAt, s.Status, s.Sequence, s.UpdatedAt = t, store.SessionMoved, s.Sequence+1, now
	if err := r.Store.Sessions().Update(ctx, s); err != nil {
		return err
	}
	loc = f.Config.Location(s.Room)
	note := msg.F("Study session #%d (%s) has moved from %s to **%s**.", s.Number, s.Title, timespec.Human(before, loc), f.when(s)).
		With("quorum.session", f.fields(ctx, s))
	reply := note
	reply.ReplyToAnchor = sessionAnchor(s)
	r.Say(r.Room, reply)
	r.Say(r.Room, f.edit(ctx, s))
	f.tellComing(ctx, &r.Effects, s, note)
	return f.planAll(ctx, s)
}

func (f *Feature) cancel(ctx context.Context, r *commands.Request, s *store.Session) error {
	reason := r.Args
	reason = strings.TrimSpace(strings.TrimPrefix(reason, ":"))
	if utf8.RuneCountInString(reason) > maxCancelReason {
		return commands.Refusef("Keep the reason under %d characters.", maxCancelReason)
	}
	if err := f.mayManage(ctx, r, s, msg.T("cancel it")); err != nil {
		return err
	}
	if s.Status == store.SessionCancelled {
		return commands.Refusef("Session #%d is already cancelled.", s.Number)
	}
	now := r.Clock.Now()
	s.Status, s.Sequence, s.UpdatedAt = store.SessionCancelled, s.Sequence+1, now
	if err := r.Store.Sessions().Update(ctx, s); err != nil {
		return err
	}
	note := msg.F("Study session #%d (%s, %s) is **cancelled**.", s.Number, s.Title, f.when(s))
	if s.RRule != "" {
		note = msg.F("The study series #%d (%s, %s) is **cancelled**.", s.Number, s.Title, f.when(s))
	}
	if reason != "" {
		note = note.Append("Reason: %s", reason)
	}
	note = note.With("quorum.session", f.fields(ctx, s))
	reply := note
	reply.ReplyToAnchor = sessionAnchor(s)
	r.Say(r.Room, reply)
	r.Say(r.Room, f.edit(ctx, s))
	f.tellComing(ctx, &r.Effects, s, note)
	return f.reminders.Cancel(ctx, store.ReminderSession, "", sessionRefPrefix(s))
}

func (f *Feature) attended(ctx context.Context, r *commands.Request, s *store.Session) error {
	words := strings.Fields(r.Args)
	if len(words) == 0 {
		return commands.Refusef("Say who came, e.g. `%s`.", r.Cmd(fmt.Sprintf("study %d attended @ana @ben", s.Number))) // a command: not for members to read translated
	}
	if err := f.mayManage(ctx, r, s, msg.T("record attendance of it")); err != nil {
		return err
	}
	now := r.Clock.Now()
	round, held := s.Round, s.StartsAt
	if held.After(now) {
		round, held = s.Round-1, s.PrevAt
	}
	if held.IsZero() || round < 0 || held.After(now) {
		return commands.Refusef("Session #%d hasn't taken place yet; record who came after it starts.", s.Number)
	}
	var users []id.UserID
	for _, w := range words {
		u, err := r.Env.ResolveMember(ctx, r.Room, w)
		if err != nil {
			return err
		}
		if !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	added, err := r.Store.Sessions().Attended(ctx, s.ID, round, held, users)
	if err != nil {
		return err
	}
	r.Replyf("Recorded %s at session #%d on %s.", msg.N(added, "%d attendee", "%d attendees"), s.Number, timespec.Human(held, r.Location()))
	return nil
}

func (f *Feature) stats(ctx context.Context, r *commands.Request) error {
	list, err := r.Store.Sessions().Attendance(ctx, r.Room)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		r.Replyf("No attendance recorded yet. After a session: `%s`.", r.Cmd("study 3 attended @ana @ben")) // a command: not for members to read translated
		return nil
	}
	out := msg.F("**Attendance by topic**")
	for i := 0; i < len(list); {
		j, total := i, 0
		var each []any
		for ; j < len(list) && list[j].Topic == list[i].Topic; j++ {
			total += list[j].Count
			each = append(each, msg.T("%s: %d", timespec.Layout(list[j].HeldAt, r.Location(), "2 Jan"), list[j].Count))
		}
		if len(each) > 6 {
			each = append([]any{"…"}, each[len(each)-6:]...)
		}
		out = out.Append("**%s** — %s, average %s (%s)", clip(list[i].Topic, 60), msg.N(j-i, "%d session", "%d sessions"),
			strconv.FormatFloat(float64(total)/float64(j-i), 'f', 1, 64), msg.List(", ", each...))
		i = j
	}
	r.Reply(out)
	return nil
}

// sessionRefPrefix starts the Ref of every reminder of a session.
func sessionRefPrefix(s *store.Session) string { return "session:" + strconv.FormatInt(s.ID, 10) + ":" }

// sessionRef is the Ref of the reminders of the current round of s at its
// current time (a move makes new reminders, even if the old were sent).
func sessionRef(s *store.Session) string {
	return sessionRefPrefix(s) + strconv.Itoa(s.Round) + ":" + strconv.FormatInt(s.StartsAt.UnixMilli(), 10) + ":"
}
