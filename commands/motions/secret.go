package motions

import (
	"context"
	"errors"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/locale"
	"quorum/msg"
	"quorum/store"
)

// receiptPad is the length every receipt is padded to once encrypted
// (msg.Message.PadTo): the homeserver sees the length of each ciphertext,
// and it must not vary with the voter or anything else.
const receiptPad = 2048

// sendBallots sends each member of the electorate their ballot, in their
// direct chat (in their language, else the room's). The ballot asks for
// one-letter answers: the homeserver sees how long a member's encrypted
// `!vote` is, and `y`, `n` and `a` (`s`, `n`, `a` in Spanish…) are the same
// length where `yes`, `no` and `abstain` are not.
func (f *Feature) sendBallots(fx *commands.Effects, m *store.Motion, electorate []id.UserID, prefix string) {
	vote := func(c Choice) voteCommand {
		return voteCommand{prefix: prefix, ref: m.BallotCode, choices: []Choice{c}, letter: true}
	}
	for _, u := range electorate {
		fx.DM(u, msg.F("**Secret ballot: motion #%d** in %s (ballot `%s`)\n%s\n"+
			"Reply here with `%s` (yes), `%s` (no) or `%s` (abstain). Use these one-letter answers: the homeserver sees how long your encrypted reply is, and these three are the same length. "+
			"Your vote is stored apart from your name and cannot be changed; you will get a receipt code to check the result with.",
			m.Number, m.Room.String(), m.BallotCode, m.Text, vote(Yes), vote(No), vote(Abstain)).
			With("quorum.ballot", map[string]any{"motion": m.Number, "room_id": m.Room, "text": m.Text, "code": m.BallotCode}))
	}
}

// BallotAgain implements commands.Balloter for every kind of motion but
// contested elections (package elections).
func (f *Feature) BallotAgain(_ context.Context, fx *commands.Effects, m *store.Motion, user id.UserID) (bool, error) {
	if m.Kind == store.KindContested {
		return false, nil
	}
	fx.From(m.Room)
	f.sendBallots(fx, m, []id.UserID{user}, f.Config.CommandPrefixes[0])
	return true, nil
}

// castSecret takes a secret ballot sent in the voter's direct room. ref
// names the ballot: its ballot code, unique across rooms, or its motion
// number when only one open secret ballot of the voter's has it. word is
// the vote, in English or in the language of the ballot or of its room.
// The receipt comes in the ballot's language.
func (f *Feature) castSecret(ctx context.Context, r *commands.Request, ref, word string) error {
	m, err := f.secretBallot(ctx, r, ref)
	if err != nil {
		return err
	}
	// Every shipped language's words count, whatever the room and the
	// member speak now: had the room's language changed since the ballot
	// was sent, its letter for one choice would be refused and the others
	// counted, and the homeserver, which sees the length of each answer,
	// would learn who tried which. No word means two choices in two
	// languages (TestVoteWordsNeverCollide).
	choice, ok := parseChoice(word, locale.Codes()...)
	if !ok {
		return notAVote(word, voteCommand{prefix: r.Prefix, ref: m.BallotCode, choices: []Choice{Yes}, letter: true})
	}
	if m.Status != store.MotionOpen || r.Time.After(m.ClosesAt) {
		return commands.Refusef("Motion #%d closed before your vote arrived, so it was not counted.", m.Number)
	}
	code := store.RandomCode(store.ReceiptLen)
	cast, err := r.Store.Secret().Cast(ctx, m.ID, r.Sender, string(choice), code)
	if errors.Is(err, store.ErrNotElector) {
		return commands.Refusef("You have no secret ballot `%s`: only the members of the room when motion #%d opened can vote on it.", m.BallotCode, m.Number)
	} else if err != nil {
		return err
	}
	if !cast {
		return commands.Refusef("You have already voted on motion #%d. A secret ballot can't be changed: that would need a link between you and your vote.", m.Number)
	}
	// The receipt does not repeat the choice, and is padded: neither its
	// text nor its length tells anything about the vote.
	receipt := msg.F("Your secret ballot on motion #%d (ballot `%s`) is counted. Your receipt code is `%s`: when the result is posted it lists every code with its vote, so you can check yours was counted as cast. Keep it to yourself.",
		m.Number, m.BallotCode, code).With("quorum.receipt", map[string]any{"motion": m.Number, "code": code})
	receipt.ReplyTo, receipt.PadTo = r.Event, receiptPad
	// The vote is about m's room: what is said to the voter alone comes in
	// their language, else that room's, as their ballot did.
	r.From(m.Room)
	lost := msg.F("Your secret ballot on motion #%d (ballot `%s`) is counted, but I restarted before its receipt went out, and I keep no copy of a receipt: with your name, it would tie you to your vote. This one is lost.",
		m.Number, m.BallotCode)
	lost.ReplyTo, lost.PadTo = r.Event, receiptPad
	r.DMUnkept(r.Sender, receipt, lost)
	return f.changed(ctx, &r.Effects, m, r.Time)
}

// secretBallot finds the secret motion ref names for the sender: by ballot
// code, or by number if that is unambiguous among their open ballots.
func (f *Feature) secretBallot(ctx context.Context, r *commands.Request, ref string) (*store.Motion, error) {
	if n, isNumber := commands.ParseNumber(ref); isNumber {
		list, err := r.Store.Secret().OpenByNumber(ctx, r.Sender, n)
		if err != nil {
			return nil, err
		}
		switch len(list) {
		case 0:
			return nil, commands.Refusef("You have no open secret ballot numbered #%d. Open votes are cast in the room, by reaction or `%s`.", n,
				voteCommand{prefix: r.Prefix, ref: "N", choices: []Choice{Yes}})
		case 1:
			return list[0], nil
		}
		var which []any
		for _, m := range list {
			which = append(which, msg.T("`%s` for motion #%d in %s", voteSecret(r.Prefix, m.BallotCode), m.Number, m.Room.String()))
		}
		return nil, commands.Refusef("%d of your rooms have an open secret ballot #%d. Vote with the ballot's code instead: %s.", len(list), n, msg.List("; ", which...))
	}
	m, ok, err := r.Store.Secret().ByCode(ctx, ref)
	if err != nil {
		return nil, err
	}
	if ok {
		if ok, err = r.Store.Motions().InElectorate(ctx, m.ID, r.Sender); err != nil {
			return nil, err
		}
	}
	if !ok {
		return nil, commands.Refusef("You have no secret ballot `%s`. Your ballot message gives its code, as in `%s`.", commands.Shorten(ref, 12),
			voteCommand{prefix: r.Prefix, ref: "K3P7", choices: []Choice{Yes}, letter: true})
	}
	return m, nil
}

// unopenable ends a secret motion whose box does not open with the seal
// key beside the database (restored without it, or replaced): its ballots
// cannot be counted, and the motion must not stay open for ever. It is
// withdrawn, saying why; nothing of it is published.
func (f *Feature) unopenable(ctx context.Context, fx *commands.Effects, m *store.Motion, now time.Time, why error) error {
	f.log.Error().Err(why).Int64("motion", m.ID).Msg("A secret ballot's box cannot be opened; the motion is withdrawn uncounted")
	if err := f.Store.Motions().Close(ctx, m.ID, store.MotionWithdrawn, now, 0, 0, 0); err != nil {
		return err
	}
	m.Status, m.ClosedAt = store.MotionWithdrawn, now
	electorate, err := f.Store.Motions().ElectorateSize(ctx, m.ID)
	if err != nil {
		return err
	}
	return f.announce(ctx, fx, m, f.withFields(msg.F("Motion #%d could not be counted: its sealed ballot box does not open with the key beside my database "+
		"(it was restored without it, or the key was replaced). Nothing of it is published; propose it again to vote anew.", m.Number), m, electorate))
}

// recount derives a motion's final tally from what was cast: the acts of an
// open vote, or the sealed box of a secret one (with its receipts).
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
