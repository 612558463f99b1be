package motions

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
)

// Council delegates are the branches' delegates. When a branch elects a
// member to the role that sits in its councils (council.delegate_role),
// its bot asks each council's bot, by a quorum.council_delegate notice in
// the council, to seat them; when the mandate is recalled or lapses, to
// unseat them. The council's bot takes the request only from that
// branch's admitted bot, invites the member, and removes them once no
// branch seats them any more, naming the branch. A council delegate speaks
// and proposes in the council like any member there; federal motions are
// decided by the branches' results, never by votes in the council.
//
// Decisions, beyond the text:
//   - A member several branches elected sits once, and is removed only when
//     the last of them unseats them.
//   - A member who was in the council before being seated (a council
//     moderator, say) is never removed by an unseat: the bot removes only
//     whom it invited for a seat.
//   - A branch that joins a council after electing its council delegates
//     seats them on joining; a branch that leaves takes its seats with it.
//   - A request repeated (the outbox sends once, but a branch's bot may
//     rejoin) changes nothing, and an unseat names the delegation it ends,
//     so that a late one never ends a newer seat.

// councilDelegate is quorum.council_delegate, a branch's bot asking its
// council's bot to seat or unseat a member the branch elected.
type councilDelegate struct {
	Branch     id.RoomID `json:"branch"`
	User       id.UserID `json:"user"`
	Delegation int       `json:"delegation"`
	Action     string    `json:"action"`
	// Reason is why an unseat: recalled or lapsed.
	Reason string `json:"reason,omitempty"`
	// Record is the request's entry in the branch's hash chain.
	Record map[string]any `json:"record,omitempty"`
}

// quorum.council_delegate actions, and an unseat's reason when the branch
// left the council (its seats go with it).
const (
	actionSeat   = "seat"
	actionUnseat = "unseat"
	branchLeft   = "left"
)

// mandateChanged asks the councils the branch sits in to seat or unseat
// del, when its role is the council's.
func (f *Federation) mandateChanged(ctx context.Context, fx *commands.Effects, del *store.Delegation) error {
	if !strings.EqualFold(del.Role, f.Config.Council.DelegateRole) {
		return nil
	}
	affs, err := f.Store.Federation().JoinedCouncils(ctx, del.Room)
	if err != nil {
		return err
	}
	for _, a := range affs {
		if err := f.askCouncil(ctx, fx, a, del); err != nil {
			return err
		}
	}
	return nil
}

// seatDelegates asks a's council, which the branch has just joined, to
// seat the branch's council delegates elected before.
func (f *Federation) seatDelegates(ctx context.Context, fx *commands.Effects, a *store.Affiliation) error {
	active, err := f.Store.Delegations().Active(ctx, a.Branch)
	if err != nil {
		return err
	}
	for _, del := range active {
		if strings.EqualFold(del.Role, f.Config.Council.DelegateRole) {
			if err := f.askCouncil(ctx, fx, a, del); err != nil {
				return err
			}
		}
	}
	return nil
}

// askCouncil posts in a's council the request to seat del (active) or
// unseat it (ended), recorded in the branch's hash chain.
func (f *Federation) askCouncil(ctx context.Context, fx *commands.Effects, a *store.Affiliation, del *store.Delegation) error {
	m, ok, err := f.Store.Motions().Get(ctx, a.Motion)
	if err != nil || !ok {
		return fmt.Errorf("affiliation motion %d: %w", a.Motion, err)
	}
	p, err := decodePayload[affiliationPayload](m)
	if err != nil {
		return err
	}
	cd := councilDelegate{Branch: del.Room, User: del.User, Delegation: del.Number, Action: actionSeat}
	if del.Status != store.DelegationActive {
		cd.Action, cd.Reason = actionUnseat, del.Status
	}
	entry, rec, err := f.RecordDecision(ctx, del.Room, "federation.council_delegate", map[string]any{"council": a.Council, "user": del.User,
		"delegation": del.Number, "action": cd.Action, "reason": cd.Reason})
	if err != nil {
		return err
	}
	cd.Record = rec
	text := msg.F("The branch %q (%s) elected %s to sit in this council (its delegation #%d): I ask this council's bot to seat them. %s",
		p.Name, del.Room.String(), msg.Pill(del.User), del.Number, commands.RecordLine(entry))
	switch cd.Reason {
	case store.DelegationRecalled:
		text = msg.F("The branch %q (%s) recalled %s (its delegation #%d): I ask this council's bot to remove them from this council. %s",
			p.Name, del.Room.String(), msg.Pill(del.User), del.Number, commands.RecordLine(entry))
	case store.DelegationLapsed:
		text = msg.F("The mandate of %s from the branch %q (%s) has lapsed (its delegation #%d): I ask this council's bot to remove them from this council. %s",
			msg.Pill(del.User), p.Name, del.Room.String(), del.Number, commands.RecordLine(entry))
	}
	fx.Say(a.Council, text.With("quorum.council_delegate", cd))
	told := msg.F("I asked the council %s to seat %s there as this branch's council delegate.", a.Council.String(), msg.Pill(del.User))
	if cd.Action == actionUnseat {
		told = msg.F("I asked the council %s to remove %s, whose mandate as this branch's council delegate has ended.", a.Council.String(), msg.Pill(del.User))
	}
	fx.Say(del.Room, told)
	return nil
}

// councilDelegateNotice seats or unseats a branch's delegate, on the word
// of that branch's admitted bot only.
func (f *Federation) councilDelegateNotice(ctx context.Context, fx *commands.Effects, n commands.Notice, c *store.Council, raw json.RawMessage) (bool, error) {
	refuse := ignoring(fx, n, msg.T("council delegate request"))
	var cd councilDelegate
	if err := json.Unmarshal(raw, &cd); err != nil {
		return refuse(msg.T("it does not read as one."))
	}
	b, admitted, err := f.Store.Federation().Branch(ctx, c.Room, n.Sender)
	if err != nil {
		return false, err
	}
	_, _, userErr := cd.User.Parse()
	switch {
	case !admitted || b.Room == "":
		return refuse(msg.T("%s is not the bot of a branch of this council.", n.Sender.String()))
	case cd.Branch != b.Room:
		return refuse(msg.T("%s speaks for the branch %s, not %s.", n.Sender.String(), b.Room.String(), cd.Branch.String()))
	case userErr != nil || !strings.HasPrefix(string(cd.User), "@") || cd.User == f.Bot || cd.Delegation <= 0 ||
		!(cd.Action == actionSeat && cd.Reason == "" ||
			cd.Action == actionUnseat && slices.Contains([]string{store.DelegationRecalled, store.DelegationLapsed}, cd.Reason)):
		return refuse(msg.T("its member, delegation or action is not valid."))
	}
	if cd.Action == actionSeat {
		// A branch's bot is no delegate: seated, it could be unseated, and
		// kicked, by another branch's word.
		if _, isBot, err := f.Store.Federation().Branch(ctx, c.Room, cd.User); err != nil {
			return false, err
		} else if isBot {
			return refuse(msg.T("%s is the bot of a branch, not a delegate.", cd.User.String()))
		}
		return true, f.seat(ctx, fx, c, b, cd, n.Time)
	}
	seat, seated, err := f.Store.Federation().Unseat(ctx, c.Room, b.Room, cd.User, cd.Delegation)
	if err != nil || !seated {
		return true, err // not seated (any more): nothing to change
	}
	return true, f.unseat(ctx, fx, c, b, seat, cd.Reason)
}

// seat seats the member cd names for branch b, inviting them unless they
// are in the council already.
func (f *Federation) seat(ctx context.Context, fx *commands.Effects, c *store.Council, b *store.Branch, cd councilDelegate, at time.Time) error {
	member, err := f.IsMember(ctx, c.Room, cd.User)
	if err != nil {
		return err
	}
	fresh, err := f.Store.Federation().Seat(ctx, store.Seat{Council: c.Room, Branch: b.Room, User: cd.User, Bot: b.Bot,
		Delegation: cd.Delegation, Invited: !member, Since: at})
	if err != nil || !fresh {
		return err // seated already: nothing changes
	}
	said := msg.F("%s sits in this council for the branch %q, which elected them (its delegation #%d). "+
		"A council delegate speaks and proposes motions here; the branches decide them.", msg.Pill(cd.User), b.Name, cd.Delegation)
	said, err = f.RecordChange(ctx, c.Room, "council.delegate_seated", map[string]any{"branch": b.Room, "bot": b.Bot, "user": cd.User,
		"delegation": cd.Delegation, "record": cd.Record}, said)
	if err != nil {
		return err
	}
	if !member {
		// An invite's reason is no message: it is in the council's language.
		lang, err := f.Lang(ctx, c.Room)
		if err != nil {
			return err
		}
		fx.Invite(c.Room, cd.User, msg.T("Elected by the branch %s to sit in this council", b.Name).In(lang),
			msg.T("I couldn't invite %s into this council: I lack the power to invite here, or they are banned. A moderator can invite them.", cd.User.String()).In(lang))
	}
	fx.Say(c.Room, said)
	return nil
}

// unseat says that branch b no longer seats seat's member (why: recalled,
// lapsed or left), and removes them if no branch seats them now and the
// bot invited them for a seat.
func (f *Federation) unseat(ctx context.Context, fx *commands.Effects, c *store.Council, b *store.Branch, seat *store.Seat, why string) error {
	others, err := f.Store.Federation().SeatsOf(ctx, c.Room, seat.User)
	if err != nil {
		return err
	}
	lang, err := f.Lang(ctx, c.Room)
	if err != nil {
		return err
	}
	said := msg.F("%s no longer sits in this council for the branch %q, which has left it.", msg.Pill(seat.User), b.Name)
	reason := msg.T("The branch %s has left this council", b.Name)
	switch why {
	case store.DelegationRecalled:
		said = msg.F("The branch %q recalled %s (its delegation #%d): they no longer sit in this council for it.", b.Name, msg.Pill(seat.User), seat.Delegation)
		reason = msg.T("Recalled by the branch %s", b.Name)
	case store.DelegationLapsed:
		said = msg.F("The mandate of %s from the branch %q has lapsed (its delegation #%d): they no longer sit in this council for it.", msg.Pill(seat.User), b.Name, seat.Delegation)
		reason = msg.T("Their mandate from the branch %s has lapsed", b.Name)
	}
	moderator, err := f.IsModerator(ctx, c.Room, seat.User)
	if err != nil {
		return err
	}
	switch {
	case len(others) > 0:
		names := make([]string, len(others))
		for i, o := range others {
			names[i] = f.branchNameIn(ctx, c.Room, o)
		}
		said = said.Append("They still sit here for %s.", commands.JoinAnd(names))
	case !seat.Invited:
		said = said.Append("They were in this room before they were seated, so I leave them in it.")
	case moderator:
		// Whoever invited them, a branch's word never removes a moderator.
		said = said.Append("They are a moderator of this council, so I leave them in it.")
	default:
		said = said.Append("I am removing them from this room.")
		fx.Kick(c.Room, seat.User, reason.In(lang),
			msg.T("I couldn't remove %s from this council: I lack the power here. A moderator should remove them, or raise my level.", seat.User.String()).In(lang))
	}
	said, err = f.RecordChange(ctx, c.Room, "council.delegate_unseated", map[string]any{"branch": b.Room, "bot": b.Bot, "user": seat.User,
		"delegation": seat.Delegation, "reason": why}, said)
	if err != nil {
		return err
	}
	fx.Say(c.Room, said)
	return nil
}

// branchNameIn is the name of the branch that gives seat in council (its
// room if it is gone).
func (f *Federation) branchNameIn(ctx context.Context, council id.RoomID, seat *store.Seat) string {
	if b, ok, err := f.Store.Federation().Branch(ctx, council, seat.Bot); err == nil && ok && b.Room == seat.Branch {
		return b.Name
	}
	return seat.Branch.String()
}

// unseatBranch unseats every delegate of branch b, which left council c.
func (f *Federation) unseatBranch(ctx context.Context, fx *commands.Effects, c *store.Council, b *store.Branch) error {
	seats, err := f.Store.Federation().BranchSeats(ctx, c.Room, b.Room)
	if err != nil {
		return err
	}
	for _, s := range seats {
		seat, ok, err := f.Store.Federation().Unseat(ctx, c.Room, b.Room, s.User, s.Delegation)
		if err != nil {
			return err
		}
		if ok {
			if err := f.unseat(ctx, fx, c, b, seat, branchLeft); err != nil {
				return err
			}
		}
	}
	return nil
}
