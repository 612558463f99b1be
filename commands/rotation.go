package commands

import (
	"fmt"
	"slices"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands/timespec"
	"quorum/store"
)

// rotation is everything that decides a roster's turns: the series (first
// turn, repeat, optional end) and the schedule (members in order with the
// periods they belong, skipped turns, absences, swapped turns). Turns are
// always computed from it, never stored, so a change to any input is
// reflected in every later turn and nothing can drift.
//
// The rules, applied turn by turn from the first one:
//
//   - A skipped turn does not take place and uses nobody's turn.
//   - Members take turns in their order, a round at a time. Within a round,
//     each turn goes to the first member who has not had their turn in it
//     and is not away; so a member who is away is passed over and keeps their
//     place: they take the next turn they are free for, and the rotation then
//     goes on where it was.
//   - A new round begins when nobody left in the current one is free: it
//     adds every member not still owed a turn, in order, starting after the
//     member who served last. A member who is away for several rounds is owed
//     one turn, not one per round: being away is not a debt.
//   - Members added later join at the end of the order; members removed
//     leave it (and any turn they were owed). Both apply from the moment of
//     the change, so earlier turns stay as they were.
//   - If every member is away, the turn has nobody (User is empty).
//   - A swapped turn (override) goes to the member it was swapped to, on top
//     of the rotation, which goes on as if it had not been swapped: so a swap
//     exchanges two turns and changes nobody else's. An override to someone
//     who is no longer a member, or is away then, is ignored.
type rotation struct {
	Start time.Time // the first turn, in the roster's zone
	Rule  timespec.Recurrence
	End   time.Time // no turns at or after End; zero: open-ended
	store.Schedule
}

// Turn is one turn of a roster.
type Turn struct {
	At      time.Time
	End     time.Time // when the series' next turn would start
	User    id.UserID // empty if everyone was away
	Swapped bool      // given by a swap rather than the rotation
}

// maxReplay bounds how many turns are replayed from the start: a daily
// roster for 27 years. Past it, no more turns are given.
const maxReplay = 10000

// newRotation reads a stored roster's series and schedule.
func newRotation(r *store.Roster, s *store.Schedule) (rotation, error) {
	loc, err := time.LoadLocation(r.Zone)
	if err != nil {
		return rotation{}, fmt.Errorf("roster %d: zone: %w", r.ID, err)
	}
	rule, err := timespec.ParseRRule(r.RRule)
	if err != nil {
		return rotation{}, fmt.Errorf("roster %d: %w", r.ID, err)
	}
	return rotation{Start: r.Start.In(loc), Rule: rule, End: r.End, Schedule: *s}, nil
}

// turns returns up to n turns that start at or after from, in order.
func (rot rotation) turns(from time.Time, n int) []Turn {
	var out []Turn
	if n <= 0 {
		return nil
	}
	var pending []id.UserID // owed a turn in the current round, in order
	var lastPos int64       // the order position of the member who served last
	rot.each(func(at, end time.Time) bool {
		if rot.Skips[at.UnixMilli()] {
			return true
		}
		active := rot.active(at)
		pending = slices.DeleteFunc(pending, func(u id.UserID) bool { return !activeUser(active, u) })
		free := func(u id.UserID) bool { return !rot.away(u, at) }
		i := slices.IndexFunc(pending, free)
		if i < 0 {
			pending = append(pending, nextRound(active, lastPos, pending)...)
			i = slices.IndexFunc(pending, free)
		}
		t := Turn{At: at, End: end}
		if i >= 0 {
			t.User = pending[i]
			pending = slices.Delete(pending, i, i+1)
			for _, m := range active {
				if m.User == t.User {
					lastPos = m.Pos
				}
			}
		}
		if u, ok := rot.Overrides[at.UnixMilli()]; ok && u != t.User && activeUser(active, u) && free(u) {
			t.User, t.Swapped = u, true
		}
		if !at.Before(from) {
			out = append(out, t)
		}
		return len(out) < n
	})
	return out
}

// each calls fn with every turn's start and the start of the one after,
// from the first, until fn returns false, the series ends, or maxReplay.
func (rot rotation) each(fn func(at, end time.Time) bool) {
	const batch = 256
	cursor := rot.Start
	for done := 0; done < maxReplay; {
		occ := rot.Rule.Occurrences(rot.Start, cursor, batch+1)
		if len(occ) == 0 {
			return
		}
		for i, at := range occ {
			if i == batch {
				break
			}
			if !rot.End.IsZero() && !at.Before(rot.End) {
				return
			}
			end := at
			if i+1 < len(occ) {
				end = occ[i+1]
			} else if next, ok := rot.Rule.Next(rot.Start, at); ok {
				end = next
			}
			if done++; !fn(at, end) || done >= maxReplay {
				return
			}
		}
		if len(occ) <= batch {
			return
		}
		cursor = occ[batch]
	}
}

// active lists the members taking part in a turn at t, in order.
func (rot rotation) active(t time.Time) []store.RosterMember {
	var out []store.RosterMember
	for _, m := range rot.Members {
		if m.Active(t) {
			out = append(out, m)
		}
	}
	return out
}

func (rot rotation) away(u id.UserID, t time.Time) bool {
	for _, a := range rot.Aways {
		if a.User == u && !t.Before(a.From) && t.Before(a.To) {
			return true
		}
	}
	return false
}

func activeUser(active []store.RosterMember, u id.UserID) bool {
	return slices.ContainsFunc(active, func(m store.RosterMember) bool { return m.User == u })
}

// nextRound lists the active members not in pending, in order, starting
// after position lastPos.
func nextRound(active []store.RosterMember, lastPos int64, pending []id.UserID) []id.UserID {
	first := slices.IndexFunc(active, func(m store.RosterMember) bool { return m.Pos > lastPos })
	if first < 0 {
		first = 0
	}
	var out []id.UserID
	for k := range active {
		m := active[(first+k)%len(active)]
		if !slices.Contains(pending, m.User) {
			out = append(out, m.User)
		}
	}
	return out
}
