package elections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
)

// Secret contested elections: each member of the electorate gets the
// ballot in their direct chat with the bot, ranks there with the ballot's
// code (`!rank K3P7 2 1 3`), once and for good, and gets a receipt code.
// The rankings go into the sealed box of the secret motions (store), with
// nothing that ties one to its voter; the result lists every receipt with
// the ranking counted under it, so that each voter can check theirs.

// sendBallots sends each member of the electorate the ballot.
func (f *Feature) sendBallots(fx *commands.Effects, m *store.Motion, p payload, electorate []id.UserID) {
	var lines []string
	for i, u := range p.Order {
		lines = append(lines, fmt.Sprintf("%d. %s", i+1, u))
	}
	example := f.Cmd(fmt.Sprintf("rank %s %s", m.BallotCode, strings.Join(exampleNumbers(len(p.Order)), " "))) // a command: not for members to read translated
	// Members who chose no language read their ballot in the room's.
	fx.From(m.Room)
	for _, u := range electorate {
		fx.DM(u, msg.F("**Secret ballot: election #%d** in %s (ballot `%s`): %s as %s.\n%s\n"+
			"Reply here with the ballot numbers in your order of preference, as many as you like, your favourite first: `%s`. "+
			"Your ranking is stored apart from your name and cannot be changed; you will get a receipt code to check the result with.",
			m.Number, m.Room.String(), m.BallotCode, msg.N(p.Seats, "%d seat", "%d seats"), p.Role, strings.Join(lines, "\n"), example).
			With("quorum.ballot", map[string]any{"election": m.Number, "room_id": m.Room, "role": p.Role, "candidates": p.Order, "code": m.BallotCode}))
	}
}

// BallotAgain implements commands.Balloter for contested elections.
func (f *Feature) BallotAgain(_ context.Context, fx *commands.Effects, m *store.Motion, user id.UserID) (bool, error) {
	if m.Kind != store.KindContested {
		return false, nil
	}
	p, err := decode(m)
	if err != nil {
		return false, err
	}
	f.sendBallots(fx, m, p, []id.UserID{user})
	return true, nil
}

// exampleNumbers is a ranking to show: the last candidates first, at most
// three.
func exampleNumbers(n int) []string {
	var out []string
	for i := n; i >= 1 && len(out) < 3; i-- {
		out = append(out, fmt.Sprint(i))
	}
	return out
}

// rankSecret takes a secret ranking sent in the voter's direct room.
func (f *Feature) rankSecret(ctx context.Context, r *commands.Request, words []string) error {
	m, err := f.secretElection(ctx, r, words[0])
	if err != nil {
		return err
	}
	p, err := decode(m)
	if err != nil {
		return err
	}
	if m.Status != store.ElectionVoting || r.Time.After(m.ClosesAt) {
		return commands.Refusef("Election #%d closed before your ranking arrived, so it was not counted.", m.Number)
	}
	ranking, err := parseRanking(p.Order, words[1:])
	if err != nil {
		return err
	}
	if len(ranking) == 0 {
		return commands.Refusef("Give the ballot numbers in your order of preference, e.g. `%s`. A secret ranking can't be withdrawn or changed once cast.",
			r.Cmd(fmt.Sprintf("rank %s %s", m.BallotCode, strings.Join(exampleNumbers(len(p.Order)), " ")))) // a command: not for members to read translated
	}
	numbers := make([]int, len(ranking))
	for i, u := range ranking {
		numbers[i] = slices.Index(p.Order, u) + 1
	}
	code := store.RandomCode(store.ReceiptLen)
	cast, err := r.Store.Secret().CastRanking(ctx, m.ID, r.Sender, numbers, code)
	if errors.Is(err, store.ErrNotElector) {
		return commands.Refusef("You have no ballot `%s`: only the members of the room when election #%d opened can rank.", m.BallotCode, m.Number)
	} else if err != nil {
		return err
	}
	if !cast {
		return commands.Refusef("You have already ranked in election #%d. A secret ranking can't be changed: that would need a link between you and your ballot.", m.Number)
	}
	// Neither the text nor the length of the receipt says anything of the
	// ranking.
	receipt := msg.F("Your secret ranking in election #%d (ballot `%s`) is counted. Your receipt code is `%s`: the result lists every code with the ranking counted under it, so you can check yours. Keep it to yourself.",
		m.Number, m.BallotCode, code).With("quorum.receipt", map[string]any{"election": m.Number, "code": code})
	receipt.ReplyTo, receipt.PadTo = r.Event, receiptPad
	lost := msg.F("Your secret ranking in election #%d (ballot `%s`) is counted, but I restarted before its receipt went out, and I keep no copy of a receipt: with your name, it would tie you to your ranking. This one is lost.",
		m.Number, m.BallotCode)
	lost.ReplyTo, lost.PadTo = r.Event, receiptPad
	r.SayUnkept(r.Room, receipt, lost)
	// The turnout moves on whole minutes: an edit right after each ranking
	// would tell the room when each came.
	at := r.Clock.Now().Truncate(time.Minute).Add(time.Minute)
	if err := r.Store.Edits().Schedule(ctx, anchorElection, m.ID, at, time.Minute); err != nil {
		return err
	}
	fresh, ok, err := r.Store.Motions().Get(ctx, m.ID)
	if err != nil || !ok {
		return err
	}
	electorate, err := r.Store.Motions().ElectorateSize(ctx, m.ID)
	if err != nil {
		return err
	}
	return f.settle(ctx, &r.Effects, fresh, p, fresh.Turnout >= electorate, r.Clock.Now())
}

// secretElection finds the secret election ref names for the sender: by
// ballot code, or by number if that is unambiguous among their open ones.
func (f *Feature) secretElection(ctx context.Context, r *commands.Request, ref string) (*store.Motion, error) {
	if n, isNumber := commands.ParseNumber(ref); isNumber {
		list, err := r.Store.Elections().SecretVoting(ctx, r.Sender, n)
		if err != nil {
			return nil, err
		}
		switch len(list) {
		case 0:
			return nil, commands.Refusef("You have no open secret ballot numbered #%d. Open elections are ranked in their room.", n)
		case 1:
			return list[0], nil
		}
		return nil, commands.Refusef("%d of your rooms have an open secret election #%d. Rank with the ballot's code instead, as your ballot shows.", len(list), n)
	}
	m, ok, err := r.Store.Secret().ByCode(ctx, ref)
	if err != nil {
		return nil, err
	}
	if ok && m.Kind == store.KindContested {
		if ok, err = r.Store.Motions().InElectorate(ctx, m.ID, r.Sender); err != nil {
			return nil, err
		}
	} else {
		ok = false
	}
	if !ok {
		return nil, commands.Refusef("You have no ballot `%s`. Your ballot message gives its code, as in `%s`.", commands.Shorten(ref, 12), r.Cmd("rank K3P7 2 1")) // a command: not for members to read translated
	}
	return m, nil
}
