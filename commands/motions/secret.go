package motions

import (
	"context"
	"crypto/rand"
	"strings"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
)

// castSecret takes a secret ballot sent in the voter's direct room. The
// motion is found by number among the open secret ballots the voter may
// vote on, in any room.
func (f *Feature) castSecret(ctx context.Context, r *commands.Request, n int, choice Choice) error {
	candidates, err := r.Store.Secret().OpenByNumber(ctx, r.Sender, n)
	if err != nil {
		return err
	}
	switch {
	case len(candidates) == 0:
		return commands.Refusef("You have no open secret ballot numbered #%d. Open votes are cast in the room, by reaction or `%s`.", n, r.Cmd("vote N yes"))
	case len(candidates) > 1:
		return commands.Refusef("Two of your rooms have an open secret ballot #%d; I can't tell which one you mean. Ask the room to number them apart.", n)
	}
	m := candidates[0]
	if r.Time.After(m.ClosesAt) {
		return commands.Refusef("Motion #%d closed before your vote arrived, so it was not counted.", m.Number)
	}
	code := receiptCode()
	cast, err := r.Store.Secret().Cast(ctx, m.ID, r.Sender, string(choice), code)
	if err != nil {
		return err
	}
	if !cast {
		return commands.Refusef("You have already voted on motion #%d. A secret ballot can't be changed: that would need a link between you and your vote.", m.Number)
	}
	r.Reply(msg.F("Your secret ballot on motion #%d is cast: %s. Your receipt code is `%s`: when the result is posted it lists every code with its vote, so you can check yours was counted as cast. Keep it to yourself.",
		m.Number, string(choice), code).With("quorum.receipt", map[string]any{"motion": m.Number, "code": code}))
	return f.changed(ctx, &r.Effects, m)
}

// receiptCode is a random code of 10 characters from an alphabet without
// look-alikes (about 50 bits: guessing another voter's code is hopeless).
func receiptCode() string {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	const unbiased = 256 - 256%len(alphabet) // reject bytes that would favour the first letters
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < 10 {
		_, _ = rand.Read(buf)
		if int(buf[0]) < unbiased {
			b.WriteByte(alphabet[int(buf[0])%len(alphabet)])
		}
	}
	return b.String()
}

// recount derives a motion's final tally from what was cast: the acts of an
// open vote, or the anonymous ballots of a secret one (with their receipts).
func (f *Feature) recount(ctx context.Context, m *store.Motion) (yes, no, abstain int, receipts map[string]string, err error) {
	if !m.Secret {
		yes, no, abstain, err = f.Store.Votes().Recount(ctx, m.ID)
		return yes, no, abstain, nil, err
	}
	receipts, err = f.Store.Secret().Receipts(ctx, m.ID)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	var t Tally
	for _, c := range receipts {
		t.Add(Choice(c), 1)
	}
	return t.Yes, t.No, t.Abstain, receipts, nil
}
