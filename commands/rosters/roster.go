package rosters

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/reminders"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
)

// Feature is duty rosters that rotate administrative tasks, swaps of turns
// by mutual consent, and reminders of one's turns by DM. Its files:
// roster.go (the rosters), rotation.go (who has which turn), swap.go and
// duty.go (the reminders of turns, through package reminders).
//
// Who may do what: any member may create a roster, add members, skip a
// turn and ask for swaps; taking someone off a roster or marking them away
// is for that member or a moderator, deleting a roster for its creator or
// a moderator. Every change is said in the room.
type Feature struct {
	*commands.Env
	reminders *reminders.Feature
}

// New makes the rosters feature; its duty reminders go through rem.
func New(env *commands.Env, rem *reminders.Feature) *Feature {
	d := &Feature{Env: env, reminders: rem}
	rem.OnSent(store.ReminderDuty, d.planNext)
	rem.OnSubject(store.ReminderDuty, d.dutySubject)
	rem.AddNote(d.dutyNote)
	return d
}

// Group implements commands.Feature.
func (d *Feature) Group() string { return "Rosters" }

// Limits against floods, typos and hostile input.
const (
	maxRostersPerRoom = 50
	maxRosterMembers  = 100
	defaultShownTurns = 6
	maxShownTurns     = 30
	// turnHorizon is how many turns ahead a member's turn is looked for.
	turnHorizon = 500
)

func (d *Feature) Commands() []*commands.Command {
	return []*commands.Command{
		{
			Name:    "roster",
			Usage:   "roster <name> [<number of turns>]",
			Summary: "duty rotas: create one, show its next turns, add, remove, skip, away",
			Help: "Turns rotate in order; times are in the room's timezone and keep their wall-clock time across DST. " +
				"A member who is away is passed over and takes the next turn they are free for. " +
				"`roster new … for 12 weeks` ends it.",
			Examples: []string{
				"roster new minutes every week from monday 18:00 : @ana @ben @chi",
				"roster new kitchen every 2 weeks on friday for 12 weeks : @ana @ben",
				"roster minutes",
				"roster minutes add @dan",
				"roster minutes skip 2026-12-28",
				"roster minutes away @ben 2026-12-01 2026-12-14",
			},
			Handler: d.roster,
			Target:  "<name>",
			Subcommands: []*commands.Command{{
				Name:    "new",
				Usage:   "new <name> every <interval> [from <when>] [for <duration>] : @members",
				Summary: "create a roster",
				Handler: d.create,
			}},
			Actions: []*commands.Command{
				{Name: "add", Usage: "add @user", Summary: "add a member at the end of the order",
					Handler: d.onRoster(func(ctx context.Context, r *commands.Request, ro *store.Roster, _ rotation) error {
						return d.add(ctx, r, ro, strings.Fields(r.Args))
					})},
				{Name: "remove", Aliases: []string{"rm"}, Usage: "remove @user", Summary: "take a member off the rotation",
					Handler: d.onRoster(func(ctx context.Context, r *commands.Request, ro *store.Roster, _ rotation) error {
						return d.remove(ctx, r, ro, strings.Fields(r.Args))
					})},
				{Name: "skip", Usage: "skip <date>", Summary: "skip the turn on a day (a holiday)",
					Handler: d.onRoster(func(ctx context.Context, r *commands.Request, ro *store.Roster, rot rotation) error {
						return d.skip(ctx, r, ro, rot, r.Args)
					})},
				{Name: "away", Usage: "away @user <from> <to>", Summary: "pass a member over while they are away",
					Handler: d.onRoster(func(ctx context.Context, r *commands.Request, ro *store.Roster, _ rotation) error {
						return d.away(ctx, r, ro, strings.Fields(r.Args))
					})},
				{Name: "delete", Usage: "delete", Summary: "delete the roster (its creator only)",
					Handler: d.onRoster(func(ctx context.Context, r *commands.Request, ro *store.Roster, _ rotation) error {
						return d.delete(ctx, r, ro)
					})},
			},
		},
		{
			Name:     "rosters",
			Usage:    "rosters",
			Summary:  "list this room's duty rosters",
			Examples: []string{"rosters"},
			Handler:  d.rosters,
		},
		{
			Name:     "duty",
			Usage:    "duty",
			Summary:  "your upcoming turns on this room's rosters",
			Examples: []string{"duty"},
			Handler:  d.duty,
		},
		d.swapCommand(),
		{
			Name: "remind",
			Subcommands: []*commands.Command{{
				Name: "duty", Usage: "duty on|off [<lead time>]",
				Summary: "a direct message before each of your roster turns (24h ahead unless you give another time)",
				Handler: d.remindDuty,
			}},
		},
	}
}

// rosterUsage is the reply to a !roster the bot cannot read.
func rosterUsage(r *commands.Request) error {
	return commands.Refusef("Try `%s` to see a roster, or `%s`.", r.Cmd("roster minutes"),
		r.Cmd("roster new minutes every week from monday 18:00 : @ana @ben")) // a command: not for members to read translated
}

// roster shows a roster's next turns: `roster minutes`, `roster minutes 10`.
// Creating one and changing it are its subcommand and actions.
func (d *Feature) roster(ctx context.Context, r *commands.Request) error {
	words := strings.Fields(r.Args)
	if len(words) == 0 {
		return rosterUsage(r)
	}
	ro, rot, err := d.find(ctx, r, words[0])
	if err != nil {
		return err
	}
	if len(words) == 1 {
		return d.show(r, ro, rot, defaultShownTurns)
	}
	if n, err := strconv.Atoi(words[1]); err == nil && len(words) == 2 {
		if n < 1 || n > maxShownTurns {
			return commands.Refusef("I can show 1 to %d turns, e.g. `%s`.", maxShownTurns, r.Cmd("roster "+ro.Name+" 10"))
		}
		return d.show(r, ro, rot, n)
	}
	return r.Unknown(ro.Name, words[1])
}

// onRoster adapts an action to the roster the request's target names.
func (d *Feature) onRoster(fn func(ctx context.Context, r *commands.Request, ro *store.Roster, rot rotation) error) func(context.Context, *commands.Request) error {
	return func(ctx context.Context, r *commands.Request) error {
		ro, rot, err := d.find(ctx, r, r.Target)
		if err != nil {
			return err
		}
		return fn(ctx, r, ro, rot)
	}
}

// find loads the roster called name in the request's room.
func (d *Feature) find(ctx context.Context, r *commands.Request, name string) (*store.Roster, rotation, error) {
	key, ok := rosterName(name)
	var ro *store.Roster
	var err error
	if ok {
		ro, ok, err = r.Store.Rosters().Get(ctx, r.Room, key)
		if err != nil {
			return nil, rotation{}, err
		}
	}
	if !ok {
		return nil, rotation{}, commands.Refusef("There's no roster called %q here. `%s` lists them.", name, r.Cmd("rosters"))
	}
	rot, err := d.load(ctx, ro)
	return ro, rot, err
}

// load reads a roster's schedule.
func (d *Feature) load(ctx context.Context, ro *store.Roster) (rotation, error) {
	s, err := d.Store.Rosters().Schedule(ctx, ro.ID)
	if err != nil {
		return rotation{}, err
	}
	return newRotation(ro, s)
}

func (d *Feature) create(ctx context.Context, r *commands.Request) error {
	args := r.Args
	example := r.Cmd("roster new minutes every week from monday 18:00 : @ana @ben") // a command: not for members to read translated
	if r.InDM {
		return commands.Refusef("Rosters belong to a room: create them there, e.g. `%s`.", example)
	}
	now, loc := r.Clock.Now(), r.Location()
	spec, err := parseNewRoster(args, now, loc, example)
	if err != nil {
		return err
	}
	name, s := spec.name, spec.series
	if _, exists, err := r.Store.Rosters().Get(ctx, r.Room, name); err != nil {
		return err
	} else if exists {
		return commands.Refusef("There is a roster called %q here already; pick another name, or see it with `%s`.", name, r.Cmd("roster "+name))
	}
	if list, err := r.Store.Rosters().InRoom(ctx, r.Room); err != nil {
		return err
	} else if len(list) >= maxRostersPerRoom {
		return commands.Refusef("This room has %d rosters, the most I keep; delete one first.", len(list))
	}
	members, err := d.members(ctx, r, spec.members)
	if err != nil {
		return err
	}
	ro := &store.Roster{Room: r.Room, Name: name, Start: s.Start, Zone: loc.String(), RRule: s.Rule.RRule(), End: s.End,
		CreatedBy: r.Sender, CreatedAt: now}
	if err := r.Store.Rosters().Create(ctx, ro, members); err != nil {
		return err
	}
	rot, err := d.load(ctx, ro)
	if err != nil {
		return err
	}
	if err := d.planRoster(ctx, ro, now); err != nil {
		return err
	}
	m := msg.F("Created the **%s** roster: %s, %s, times in %s.", name, s.Rule, msg.N(len(members), "%d member", "%d members"), loc.String())
	if !s.End.IsZero() {
		m = m.Append("It ends %s.", timespec.Human(s.End, loc))
	}
	m = d.turnsMessage(m, ro, rot.turns(now, defaultShownTurns), loc).Mention(members...)
	m, err = d.RecordChange(ctx, r.Room, "roster.change", map[string]any{"roster": name, "change": "created", "by": r.Sender,
		"members": members, "rule": s.Rule.String(), "starts_at": s.Start.UTC().Format(time.RFC3339)}, m)
	if err != nil {
		return err
	}
	r.Reply(m)
	return nil
}

// newRoster is what `roster new` says, before members are resolved.
type newRoster struct {
	name    string
	series  commands.Series
	members []string // as typed, each starting with "@"
}

// parseNewRoster reads "<name> every <interval> [from <when>] [for
// <duration>] : @a @b"; example is shown with mistakes.
func parseNewRoster(args string, now time.Time, loc *time.Location, example string) (newRoster, error) {
	head, tail, ok := commands.SplitColon(args)
	words := strings.Fields(head)
	if !ok || len(words) < 2 {
		return newRoster{}, commands.Refusef("Give a name, how often, and the members after a colon, e.g. `%s`.", example)
	}
	name, ok := rosterName(words[0])
	if !ok || slices.Contains(reservedNames, name) {
		return newRoster{}, commands.Refusef("A roster's name is one word of letters and digits (not %q), e.g. `%s`.", words[0], example)
	}
	s, err := commands.ParseSeries(strings.Join(words[1:], " "), now, loc)
	if err != nil {
		return newRoster{}, err
	}
	members := strings.Fields(strings.ReplaceAll(tail, ",", " "))
	if len(members) == 0 {
		return newRoster{}, commands.Refusef("Name the members after the colon, e.g. `%s`.", example)
	}
	if len(members) > maxRosterMembers {
		return newRoster{}, commands.Refusef("A roster can have at most %d members.", maxRosterMembers)
	}
	for _, w := range members {
		if !commands.IsMention(w) {
			return newRoster{}, commands.Refusef("I expected members like `@ana` after the colon, not %q.", w)
		}
	}
	return newRoster{name: name, series: s, members: members}, nil
}

// members resolves typed mentions, without duplicates, to room members.
func (d *Feature) members(ctx context.Context, r *commands.Request, words []string) ([]id.UserID, error) {
	var out []id.UserID
	for _, w := range words {
		if !commands.IsMention(w) {
			return nil, commands.Refusef("I expected members like `@ana`, not %q.", w)
		}
		u, err := r.Env.ResolveMember(ctx, r.Room, w)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

// turnsMessage appends turns as lines, "Mon 30 Nov 18:00 — @ana", and
// quorum.roster.
func (d *Feature) turnsMessage(m msg.Message, ro *store.Roster, turns []Turn, loc *time.Location) msg.Message {
	if len(turns) == 0 {
		m = m.Append("No more turns: the roster has ended.")
	}
	for _, t := range turns {
		switch {
		case t.User == "":
			m = m.Append("%s — nobody (everyone is away)", timespec.Human(t.At, loc))
		case t.Swapped:
			m = m.Append("%s — %s (swapped)", timespec.Human(t.At, loc), msg.Pill(t.User))
		default:
			m = m.Append("%s — %s", timespec.Human(t.At, loc), msg.Pill(t.User))
		}
	}
	return m.With("quorum.roster", rosterField(ro.Name, turns))
}

// rosterField is the machine-readable quorum.roster content field.
func rosterField(name string, turns []Turn) map[string]any {
	list := make([]map[string]any, 0, len(turns))
	for _, t := range turns {
		list = append(list, map[string]any{"user_id": t.User.String(), "starts_at": t.At.UTC().Format(time.RFC3339)})
	}
	return map[string]any{"name": name, "turns": list}
}

func (d *Feature) show(r *commands.Request, ro *store.Roster, rot rotation, n int) error {
	loc := rot.Start.Location()
	m := msg.F("**%s** — %s, times in %s:", ro.Name, rot.Rule, loc.String())
	r.Reply(d.turnsMessage(m, ro, rot.turns(r.Clock.Now(), n), loc))
	return nil
}

func (d *Feature) rosters(ctx context.Context, r *commands.Request) error {
	list, err := r.Store.Rosters().InRoom(ctx, r.Room)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		r.Replyf("No rosters here yet. Create one with `%s`.", r.Cmd("roster new minutes every week from monday 18:00 : @ana @ben")) // a command: not for members to read translated
		return nil
	}
	m := msg.F("**Rosters here** (times in %s):", r.Location().String())
	for _, ro := range list {
		rot, err := d.load(ctx, ro)
		if err != nil {
			return err
		}
		next := rot.turns(r.Clock.Now(), 1)
		switch {
		case len(next) == 0:
			m = m.Append("**%s** — %s; ended", ro.Name, rot.Rule)
		case next[0].User == "":
			m = m.Append("**%s** — %s; next %s, nobody free", ro.Name, rot.Rule, timespec.Human(next[0].At, r.Location()))
		default:
			m = m.Append("**%s** — %s; next %s, %s", ro.Name, rot.Rule, timespec.Human(next[0].At, r.Location()), msg.Pill(next[0].User))
		}
	}
	r.Reply(m)
	return nil
}

// duty lists the sender's next turns: in a room, on its rosters, in its
// zone; in the direct chat, on all their rosters, in their own zone.
func (d *Feature) duty(ctx context.Context, r *commands.Request) error {
	loc := r.Location()
	var list []*store.Roster
	var err error
	if r.InDM {
		loc = r.UserLocation(ctx)
		list, err = r.Store.Rosters().OfUser(ctx, r.Sender)
	} else {
		list, err = r.Store.Rosters().InRoom(ctx, r.Room)
	}
	if err != nil {
		return err
	}
	type mine struct {
		name string
		t    Turn
	}
	var turns []mine
	for _, ro := range list {
		rot, err := d.load(ctx, ro)
		if err != nil {
			return err
		}
		n := 0
		for _, t := range rot.turns(r.Clock.Now(), turnHorizon) {
			if t.User == r.Sender && n < 3 {
				turns = append(turns, mine{ro.Name, t})
				n++
			}
		}
	}
	if len(turns) == 0 {
		r.Replyf("You have no upcoming turns here. `%s` lists the rosters.", r.Cmd("rosters"))
		return nil
	}
	slices.SortStableFunc(turns, func(a, b mine) int { return a.t.At.Compare(b.t.At) })
	m := msg.F("**Your next turns** (times in %s):", loc.String())
	for _, t := range turns[:min(len(turns), 10)] {
		m = m.Append("%s — **%s**", timespec.Human(t.t.At, loc), t.name)
	}
	r.Reply(m)
	return nil
}

// mayActFor says whether the sender may change someone else's place.
func mayActFor(ctx context.Context, r *commands.Request, user id.UserID) error {
	if user == r.Sender {
		return nil
	}
	if ok, err := r.Env.IsModerator(ctx, r.Room, r.Sender); err != nil || ok {
		return err
	}
	return commands.Refusef("Only %s or a moderator can do that.", user.String())
}

func (d *Feature) add(ctx context.Context, r *commands.Request, ro *store.Roster, words []string) error {
	if len(words) == 0 {
		return commands.Refusef("Who should I add? e.g. `%s`.", r.Cmd("roster "+ro.Name+" add @dan"))
	}
	users, err := d.members(ctx, r, words)
	if err != nil {
		return err
	}
	// Turns are duties: nobody is given them without their consent.
	for _, u := range users {
		if err := mayActFor(ctx, r, u); err != nil {
			return commands.Refusef("Only %s or a moderator can put %s on a roster; they can add themselves with `%s`.", u.String(), u.String(), r.Cmd("roster "+ro.Name+" add "+u.String()))
		}
	}
	now := r.Clock.Now()
	s, err := r.Store.Rosters().Schedule(ctx, ro.ID)
	if err != nil {
		return err
	}
	active := 0
	for _, m := range s.Members {
		if m.Removed.IsZero() {
			active++
			if slices.Contains(users, m.User) {
				return commands.Refusef("%s is on the **%s** roster already.", m.User.String(), ro.Name)
			}
		}
	}
	if active+len(users) > maxRosterMembers {
		return commands.Refusef("A roster can have at most %d members.", maxRosterMembers)
	}
	for _, u := range users {
		if err := r.Store.Rosters().AddMember(ctx, ro.ID, u, now); err != nil {
			return err
		}
	}
	return d.changed(ctx, r, ro, msg.F("Added %s to the **%s** roster, at the end of the order.", commands.UserList(users), ro.Name), users...)
}

func (d *Feature) remove(ctx context.Context, r *commands.Request, ro *store.Roster, words []string) error {
	if len(words) != 1 || !commands.IsMention(words[0]) {
		return commands.Refusef("Who should I take off? e.g. `%s`.", r.Cmd("roster "+ro.Name+" remove @ana"))
	}
	// Someone who left the room can still be taken off: read the ID as typed.
	user := id.UserID(strings.TrimRight(words[0], ",;.:"))
	if !strings.Contains(string(user), ":") {
		var err error
		if user, err = r.Env.ResolveMember(ctx, r.Room, words[0]); err != nil {
			return err
		}
	}
	if err := mayActFor(ctx, r, user); err != nil {
		return err
	}
	now := r.Clock.Now()
	ok, err := r.Store.Rosters().RemoveMember(ctx, ro.ID, user, now)
	if err != nil {
		return err
	} else if !ok {
		return commands.Refusef("%s isn't on the **%s** roster.", user.String(), ro.Name)
	}
	if err := r.Store.Swaps().CancelInvolving(ctx, ro.ID, user, now); err != nil {
		return err
	}
	return d.changed(ctx, r, ro, msg.F("Took %s off the **%s** roster.", user.String(), ro.Name))
}

func (d *Feature) skip(ctx context.Context, r *commands.Request, ro *store.Roster, rot rotation, dateText string) error {
	example := r.Cmd("roster " + ro.Name + " skip 2026-12-28")
	if dateText == "" {
		return commands.Refusef("Which day's turn? e.g. `%s`.", example)
	}
	t, err := d.turnOn(r, ro, rot, dateText)
	if err != nil {
		return err
	}
	if err := mayActFor(ctx, r, t.User); err != nil {
		return err
	}
	if _, err := r.Store.Rosters().Skip(ctx, ro.ID, t.At); err != nil {
		return err
	}
	return d.changed(ctx, r, ro, msg.F("Skipped the **%s** turn of %s.", ro.Name, timespec.Human(t.At, rot.Start.Location())))
}

// turnOn finds the turn on the typed day that has not started yet.
func (d *Feature) turnOn(r *commands.Request, ro *store.Roster, rot rotation, dateText string) (Turn, error) {
	now, loc := r.Clock.Now(), rot.Start.Location()
	day, err := timespec.Date(dateText, now, loc)
	if err != nil {
		return Turn{}, err
	}
	// Only the day's first turn can be meant: the roster's turns are at
	// least a day apart.
	if first := rot.turns(day, 1); len(first) == 1 && first[0].At.Before(day.AddDate(0, 0, 1)) {
		t := first[0]
		if !t.At.After(now) {
			return Turn{}, commands.Refusef("The **%s** turn of %s has already started.", ro.Name, timespec.Human(t.At, loc))
		}
		return t, nil
	}
	var days []any
	for _, t := range rot.turns(now, 3) {
		days = append(days, timespec.Layout(t.At, loc, dayLayout))
	}
	if len(days) == 0 {
		return Turn{}, commands.Refusef("There's no **%s** turn on %s: the roster has ended.", ro.Name, timespec.Layout(day, loc, dayLayout))
	}
	return Turn{}, commands.Refusef("There's no **%s** turn on %s. Next turns: %s.", ro.Name, timespec.Layout(day, loc, dayLayout), msg.List(", ", days...))
}

func (d *Feature) away(ctx context.Context, r *commands.Request, ro *store.Roster, words []string) error {
	example := r.Cmd("roster " + ro.Name + " away @ana 2026-12-01 2026-12-14") // a command: not for members to read translated
	if len(words) < 2 || !commands.IsMention(words[0]) {
		return commands.Refusef("Who is away, and when? e.g. `%s`.", example)
	}
	user, err := r.Env.ResolveMember(ctx, r.Room, words[0])
	if err != nil {
		return err
	}
	if err := mayActFor(ctx, r, user); err != nil {
		return err
	}
	now, loc := r.Clock.Now(), r.Location()
	from, to, err := dateRange(words[1:], now, loc, example)
	if err != nil {
		return err
	}
	until := to.AddDate(0, 0, 1)
	if !until.After(now) {
		return commands.Refusef("That's in the past; give the days they will be away, e.g. `%s`.", example)
	}
	if err := r.Store.Rosters().AddAway(ctx, ro.ID, store.Away{User: user, From: commands.Latest(from, now), To: until}); err != nil {
		return err
	}
	return d.changed(ctx, r, ro, msg.F("%s is away from %s to %s: passed over on **%s** and takes the next free turn after.",
		user.String(), timespec.Layout(from, loc, dayLayout), timespec.Layout(to, loc, dayLayout), ro.Name))
}

// dateRange reads "<from> <to>", "<from> to <to>" or a single day; its
// refusals end with example.
func dateRange(words []string, now time.Time, loc *time.Location, example string) (from, to time.Time, err error) {
	date := func(ws []string) (time.Time, error) { return timespec.Date(strings.Join(ws, " "), now, loc) }
	if from, err = date(words); err == nil {
		return from, from, nil
	}
	if i := commands.WordIndex(words, "to"); i < len(words) {
		words = append(words[:i:i], words[i+1:]...)
	}
	found := 0
	for cut := 1; cut < len(words); cut++ {
		f, ferr := date(words[:cut])
		t, terr := date(words[cut:])
		if ferr == nil && terr == nil {
			from, to = f, t
			found++
		}
	}
	switch {
	case found == 0:
		return from, to, commands.Refusef("I couldn't read %q as two dates. e.g. `%s`.", strings.Join(words, " "), example)
	case found > 1:
		return from, to, commands.Refusef("I can read %q more than one way; write the dates as year-month-day. e.g. `%s`.", strings.Join(words, " "), example)
	case to.Before(from):
		return from, to, commands.Refusef("The second date is before the first. e.g. `%s`.", example)
	}
	return from, to, nil
}

func (d *Feature) delete(ctx context.Context, r *commands.Request, ro *store.Roster) error {
	if ro.CreatedBy != r.Sender {
		if ok, err := r.Env.IsModerator(ctx, r.Room, r.Sender); err != nil {
			return err
		} else if !ok {
			return commands.Refusef("Only %s, who created it, or a moderator can delete the **%s** roster.", ro.CreatedBy.String(), ro.Name)
		}
	}
	if err := d.reminders.Cancel(ctx, store.ReminderDuty, "", dutyRefPrefix(ro.ID)); err != nil {
		return err
	}
	if err := r.Store.Rosters().Delete(ctx, ro.ID); err != nil {
		return err
	}
	m, err := d.RecordChange(ctx, r.Room, "roster.change", map[string]any{"roster": ro.Name, "change": "deleted", "by": r.Sender},
		msg.F("Deleted the **%s** roster.", ro.Name))
	if err != nil {
		return err
	}
	r.Reply(m)
	return nil
}

// changed re-plans reminders after a change and replies with what changed
// and the next turns.
func (d *Feature) changed(ctx context.Context, r *commands.Request, ro *store.Roster, what msg.Message, mention ...id.UserID) error {
	if err := d.planRoster(ctx, ro, r.Clock.Now()); err != nil {
		return err
	}
	rot, err := d.load(ctx, ro)
	if err != nil {
		return err
	}
	loc := rot.Start.Location()
	m, err := d.RecordChange(ctx, r.Room, "roster.change", map[string]any{"roster": ro.Name, "change": what.Body, "by": r.Sender},
		d.turnsMessage(what.Append("Next turns:"), ro, rot.turns(r.Clock.Now(), defaultShownTurns), loc).Mention(mention...))
	if err != nil {
		return err
	}
	r.Reply(m)
	return nil
}

// left takes a member who left the room off its rosters, and says so once.
func (d *Feature) Left(ctx context.Context, fx *commands.Effects, room id.RoomID, user id.UserID, at time.Time) error {
	list, err := d.Store.Rosters().InRoom(ctx, room)
	if err != nil {
		return err
	}
	var names []string
	for _, ro := range list {
		ok, err := d.Store.Rosters().RemoveMember(ctx, ro.ID, user, at)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		names = append(names, ro.Name)
		if err := d.Store.Swaps().CancelInvolving(ctx, ro.ID, user, at); err != nil {
			return err
		}
		if err := d.planRoster(ctx, ro, d.Clock.Now()); err != nil {
			return err
		}
	}
	if len(names) > 0 {
		// The record's fields are language-neutral: not for members to read translated.
		m, err := d.RecordChange(ctx, room, "roster.change", map[string]any{"rosters": names, "change": "member left the room", "member": user},
			msg.FromText(msg.N(len(names), "%s left the room, so I took them off the %s roster; the others' turns move up.",
				"%s left the room, so I took them off the %s rosters; the others' turns move up.", user.String(), commands.JoinAnd(names))))
		if err != nil {
			return err
		}
		fx.Say(room, m)
	}
	return nil
}

// maxNameLen bounds roster names.
const maxNameLen = 32

// dayLayout names a day without its time (turns' days in refusals).
const dayLayout = "Mon 2 Jan" // a layout: not for members to read translated

// reservedNames cannot name a roster: they are subcommands.
var reservedNames = []string{"new", "list", "accept", "decline"}

// rosterName checks and lower-cases a roster name: one word of letters,
// digits, "-" and "_".
func rosterName(s string) (string, bool) {
	if s == "" || utf8.RuneCountInString(s) > maxNameLen {
		return "", false
	}
	for _, c := range s {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) && c != '-' && c != '_' {
			return "", false
		}
	}
	return strings.ToLower(s), true
}
