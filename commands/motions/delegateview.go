package motions

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
)

// How much of a mandate's history and texts one reply shows.
const (
	historyShown = 10
	shortText    = 80
	entryText    = 200
)

// list is !delegates [@user | history <role>].
func (d *Delegates) list(ctx context.Context, r *commands.Request) error {
	words := strings.Fields(r.Args)
	switch {
	case len(words) == 0:
		return d.current(ctx, r)
	case len(words) == 1 && (strings.HasPrefix(words[0], "@") || strings.HasPrefix(words[0], "https://matrix.to/")):
		known, err := d.knownUsers(ctx, r)
		if err != nil {
			return err
		}
		user, err := parseUser(r, words[0], known)
		if err != nil {
			return err
		}
		return d.member(ctx, r, user)
	case len(words) == 2 && strings.EqualFold(words[0], "history"):
		role, ok := parseRole(words[1])
		if !ok {
			return roleError(r, words[1])
		}
		return d.roleHistory(ctx, r, role)
	case len(words) == 1:
		if n, ok := commands.ParseNumber(words[0]); ok {
			return d.showNumber(ctx, r, n)
		}
	}
	return commands.Refusef("Try `%s`, `%s` or `%s`.", r.Cmd("delegates"), r.Cmd("delegates "+userExample(r)),
		r.Cmd("delegates history negotiator")) // a command, English everywhere: not for members
}

// current lists the active mandates, one or two lines each.
func (d *Delegates) current(ctx context.Context, r *commands.Request) error {
	active, err := r.Store.Delegations().Active(ctx, r.Room)
	if err != nil {
		return err
	}
	if len(active) == 0 {
		r.Replyf("No one holds a mandate now. Elect a delegate with `%s`.",
			r.Cmd("delegate "+userExample(r)+" <role> : <mandate>")) // a command, English everywhere: not for members
		return nil
	}
	members, err := r.Rooms.Members(ctx, r.Room)
	if err != nil {
		return err
	}
	loc, now := r.Location(), r.Clock.Now()
	out := msg.F("**Delegates**")
	for _, del := range active {
		out = out.Append("#%d **%s**: %s since %s, term ends %s (in %s)", del.Number, del.Role, msg.Pill(del.User),
			date(del.Since, loc), timespec.Human(del.TermEnds, loc), timespec.Remaining(del.TermEnds.Sub(now))).
			Append("    Mandate: %s", commands.Shorten(del.Mandate, shortText))
		if !slices.Contains(members, del.User) {
			out = out.Append("    Not in the room now: the mandate stands until it is recalled or lapses.")
		}
	}
	r.Reply(out.Append("In full: `%s`.", r.Cmd("delegate N")))
	return nil
}

func (d *Delegates) showNumber(ctx context.Context, r *commands.Request, n int) error {
	del, ok, err := r.Store.Delegations().ByNumber(ctx, r.Room, n)
	if err != nil {
		return err
	}
	if !ok {
		return commands.Refusef("There is no delegation #%d in this room. `%s` lists the current ones.", n, r.Cmd("delegates"))
	}
	out, err := d.full(ctx, r, del)
	if err != nil {
		return err
	}
	r.Reply(out)
	return nil
}

// member shows user's active mandates in full, or lists their past ones.
func (d *Delegates) member(ctx context.Context, r *commands.Request, user id.UserID) error {
	all, err := r.Store.Delegations().OfUser(ctx, r.Room, user)
	if err != nil {
		return err
	}
	var out msg.Message
	for _, del := range all {
		if del.Status != store.DelegationActive {
			continue
		}
		full, err := d.full(ctx, r, del)
		if err != nil {
			return err
		}
		if out.Body != "" {
			full = out.Append("").AppendMessage(full)
		}
		out = full
	}
	if out.Body != "" {
		r.Reply(out)
		return nil
	}
	if len(all) == 0 {
		r.Replyf("%s has held no mandate in this room.", user)
		return nil
	}
	out = msg.F("%s holds no mandate now. Before:", msg.Pill(user))
	for _, del := range all[:min(len(all), historyShown)] {
		out = out.Append("#%d %s, %s", del.Number, del.Role, d.span(del, r.Location()))
	}
	r.Reply(out.Append("In full: `%s`.", r.Cmd(fmt.Sprintf("delegate %d", all[0].Number))))
	return nil
}

// full is one mandate with its history.
func (d *Delegates) full(ctx context.Context, r *commands.Request, del *store.Delegation) (msg.Message, error) {
	loc := r.Location()
	members, err := r.Rooms.Members(ctx, r.Room)
	if err != nil {
		return msg.Message{}, err
	}
	out := msg.F("**Delegation #%d: %s**, %s (%s)", del.Number, del.Role, msg.Pill(del.User), delegationStatus(del.Status)).
		Append("**Mandate:** %s", del.Mandate).
		Append("Elected by motion #%d on %s. %s", del.ElectionNumber, timespec.Human(del.Since, loc), d.ending(del, r))
	if del.PowerLevel > 0 {
		out = out.Append("Power level while it lasts: %d.", del.PowerLevel)
	}
	if del.Status == store.DelegationActive && !slices.Contains(members, del.User) {
		out = out.Append("Not in the room now: the mandate stands until it is recalled or lapses.")
	}
	history, err := r.Store.Delegations().History(ctx, del.ID)
	if err != nil {
		return msg.Message{}, err
	}
	out = out.Append("**History**")
	if len(history) > historyShown {
		out = out.Append("(%d earlier entries not shown)", len(history)-historyShown)
		history = history[len(history)-historyShown:]
	}
	for _, e := range history {
		out = out.Append("%s — %s", timespec.Human(e.At, loc), entryWords(e))
	}
	return out, nil
}

// ending says how a mandate ends or ended.
func (d *Delegates) ending(del *store.Delegation, r *commands.Request) msg.Text {
	loc := r.Location()
	switch del.Status {
	case store.DelegationRecalled:
		return msg.T("Recalled by motion #%d on %s.", del.RecallNumber, timespec.Human(del.EndedAt, loc))
	case store.DelegationLapsed:
		return msg.T("Lapsed at the end of its term, %s.", timespec.Human(del.EndedAt, loc))
	}
	return msg.T("Term ends %s (in %s).", timespec.Human(del.TermEnds, loc), timespec.Remaining(del.TermEnds.Sub(r.Clock.Now())))
}

// delegationStatus is how a mandate's status reads in the reader's
// language (quorum.delegation keeps the English word).
func delegationStatus(status string) msg.Text {
	switch status {
	case store.DelegationActive:
		return msg.T("active")
	case store.DelegationRecalled:
		return msg.T("recalled")
	case store.DelegationLapsed:
		return msg.T("lapsed")
	}
	return msg.List("", status)
}

// entryWords describes one history entry.
func entryWords(e *store.DelegationEvent) msg.Text {
	result := statusWords(store.MotionStatus(e.Outcome))
	switch e.Kind {
	case eventElected:
		return msg.T("elected by motion #%d", e.MotionNumber)
	case eventReport:
		return msg.T("report by %s: %s", e.User, commands.Shorten(e.Text, entryText))
	case eventRatification:
		return msg.T("ratification, motion #%d %s: %s", e.MotionNumber, result, commands.Shorten(e.Text, entryText))
	case eventRecallVote:
		return msg.T("recall, motion #%d %s", e.MotionNumber, result)
	case eventRecalled:
		return msg.T("recalled by motion #%d", e.MotionNumber)
	case eventLapsed:
		return msg.T("term over: lapsed")
	case eventLeft:
		return msg.T("left the room")
	}
	return msg.List("", e.Kind)
}

// roleHistory is !delegates history <role>: who held it, and how often.
func (d *Delegates) roleHistory(ctx context.Context, r *commands.Request, role string) error {
	all, err := r.Store.Delegations().OfRole(ctx, r.Room, role)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		r.Replyf("No one has held %s in this room yet.", role)
		return nil
	}
	loc, now := r.Location(), r.Clock.Now()
	out := msg.F("**Who held %s**", role)
	times := map[id.UserID]int{}
	days := map[id.UserID]int{}
	var order []id.UserID
	if len(all) > historyShown {
		out = out.Append("(%d earlier mandates not shown)", len(all)-historyShown)
	}
	for i, del := range all {
		if i >= len(all)-historyShown {
			out = out.Append("#%d %s, %s", del.Number, msg.Pill(del.User), d.span(del, loc))
		}
		if times[del.User] == 0 {
			order = append(order, del.User)
		}
		times[del.User]++
		end := del.EndedAt
		if del.Status == store.DelegationActive {
			end = now
		}
		days[del.User] += int(end.Sub(del.Since) / (24 * time.Hour))
	}
	out = out.Append("%s, %s.", msg.N(len(all), "%d mandate", "%d mandates"), msg.N(len(order), "%d person", "%d people"))
	for _, u := range order {
		if times[u] > 1 {
			out = out.Append("%s held it %d times, %s in all.", msg.Pill(u), times[u], msg.N(days[u], "%d day", "%d days"))
		}
	}
	r.Reply(out)
	return nil
}

// span is a mandate's dates: "1 Sep – 30 Nov 2026 (lapsed)".
func (d *Delegates) span(del *store.Delegation, loc *time.Location) msg.Text {
	if del.Status == store.DelegationActive {
		return msg.T("since %s (active)", date(del.Since, loc))
	}
	return msg.T("%s – %s (%s)", date(del.Since, loc), date(del.EndedAt, loc), delegationStatus(del.Status))
}

// date is a day with its month's name in the reader's language.
func date(t time.Time, loc *time.Location) timespec.Local {
	return timespec.Layout(t, loc, "2 Jan 2006") // a Go layout: not for members
}
