package motions

import (
	"context"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/store"
)

// What contested elections (package elections, ranked ballots counted by
// STV) borrow from motions and delegates: the electorate, the standing
// orders of an election, the rules of roles and terms, and taking office.
// A contested election is a motion of kind store.KindContested with
// statuses of its own, so the motions' commands leave it alone (!vote,
// !close and !withdraw want an open motion).

// Electorate is who may vote in room now: the joined members, less the bot
// and the ignored users.
func (f *Feature) Electorate(ctx context.Context, room id.RoomID) ([]id.UserID, error) {
	return f.electorate(ctx, room)
}

// ElectionOrders is what room's standing orders ask of an election: the
// least voting time, and the quorum.
func (f *Feature) ElectionOrders(ctx context.Context, room id.RoomID) (voting time.Duration, quorum Quorum, err error) {
	o, err := f.ordersOf(ctx, room)
	if err != nil {
		return 0, Quorum{}, err
	}
	_, _, voting, _ = o.least(kindElection)
	return voting, o.quorum, nil
}

// ParseRole reads a role: one word, in lower case.
func ParseRole(s string) (string, bool) { return parseRole(s) }

// TermDuration reads a term of office (at most 365 days).
func TermDuration(s string) (time.Duration, error) { return termDuration(s) }

// TakeOffice gives user the mandate that contested election m elected them
// to, exactly as a carried !delegate election does (mandate DM, term,
// power level, quorum.delegation, recall). m's own payload is kept.
func (d *Delegates) TakeOffice(ctx context.Context, fx *commands.Effects, m *store.Motion, user id.UserID, role, mandate string, term time.Duration) error {
	payload := m.Payload
	err := d.elect(ctx, fx, m, delegationPayload{User: user, Role: role, Mandate: mandate, TermMinutes: int64(term / time.Minute)})
	m.Payload = payload
	if err != nil {
		return err
	}
	return d.Store.Motions().SetPayload(ctx, m.ID, payload)
}

// SettleTime is motions.settle: how long after the whole electorate has
// voted a vote closes early, a change meanwhile counting.
func (f *Feature) SettleTime() time.Duration { return f.settleTime() }
