package rosters

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
//   - Members take turns in their order, cycling. A member who is away when
//     the cycle comes to them is passed over and is owed a turn: the next
//     member in order takes this one, and the owed member takes the first
//     turn they are free for; then the cycle goes on where it was. So a
//     week's absence exchanges two turns (B A C, not B C A), and nobody else
//     moves.
//   - A member away for several cycles is owed one turn, not one per cycle:
//     being away is not a debt. If the cycle comes to them just as they take
//     their owed turn, that was their turn, so they do not serve twice.
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
	var owed []id.UserID // passed over while away, in order
	var lastPos int64    // the order position the cycle came to last
	rot.each(func(at, end time.Time) bool {
		if rot.Skips[at.UnixMilli()] {
			return true
		}
		active := rot.active(at)
		owed = slices.DeleteFunc(owed, func(u id.UserID) bool { return !activeUser(active, u) })
		free := func(u id.UserID) bool { return !rot.away(u, at) }
		t := Turn{At: at, End: end}
		if i := slices.IndexFunc(owed, free); i >= 0 {
			t.User = owed[i]
			owed = slices.Delete(owed, i, i+1)
			if next := nextInOrder(active, lastPos); next.User == t.User {
				lastPos = next.Pos
			}
		} else {
			for range active {
				m := nextInOrder(active, lastPos)
				lastPos = m.Pos
				if free(m.User) {
					t.User = m.User
					break
				}
				if !slices.Contains(owed, m.User) {
					owed = append(owed, m.User)
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
// from the first, until fn returns false, the series ends, or timespec.MaxReplay.
func (rot rotation) each(fn func(at, end time.Time) bool) {
	const batch = 256
	cursor := rot.Start
	for done := 0; done < timespec.MaxReplay; {
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
			if done++; !fn(at, end) || done >= timespec.MaxReplay {
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

// nextInOrder is the first active member after order position lastPos,
// cycling round; active must not be empty.
func nextInOrder(active []store.RosterMember, lastPos int64) store.RosterMember {
	for _, m := range active {
		if m.Pos > lastPos {
			return m
		}
	}
	return active[0]
}
