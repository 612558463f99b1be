package rosters

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
)

// maxSwapsPerDay bounds the swaps one member asks for in a room in a day:
// each sends the asked member a DM.
const maxSwapsPerDay = 5

// anchorSwap is the anchor kind of a swap request, in the room and in the
// asked member's direct chat: ✅ or ❌ on either answers it.
const anchorSwap = "swap"

// Reaction keys that answer a swap request, normalised.
var (
	swapYes = []string{"✅", "✔"}
	swapNo  = []string{"❌", "✖"}
)

func (d *Feature) swapCommand() *commands.Command {
	return &commands.Command{
		Name:    "swap",
		Usage:   "swap <roster> <date> @user",
		Summary: "ask someone to take your turn in exchange for their next one",
		Help: "I ask @user in the room and by direct message. Only they can answer: `swap accept N` or ✅ on the request, " +
			"`swap decline N` or ❌. A request lapses when the earlier of the two turns begins.",
		Examples: []string{"swap minutes 2026-12-07 @ben", "swap accept 1", "swap decline 1"},
		Handler:  d.ask,
		Subcommands: []*commands.Command{
			{Name: "accept", Usage: "accept N", Summary: "take the turn offered in swap request N", Handler: d.answer},
			{Name: "decline", Usage: "decline N", Summary: "say no to swap request N", Handler: d.answer},
		},
	}
}

func (d *Feature) Reactions() map[string]commands.ReactionHandler {
	return map[string]commands.ReactionHandler{anchorSwap: d.swapReaction}
}

func (d *Feature) ask(ctx context.Context, r *commands.Request) error {
	words := strings.Fields(r.Args)
	example := r.Cmd("swap minutes 2026-12-07 @ben") // a command: not for members to read translated
	if r.InDM {
		return commands.Refusef("Ask for swaps in the roster's room, e.g. `%s`.", example)
	}
	var who, date []string
	for _, w := range words[min(1, len(words)):] {
		if commands.IsMention(w) {
			who = append(who, w)
		} else {
			date = append(date, w)
		}
	}
	if len(who) != 1 || len(date) == 0 {
		return commands.Refusef("Say the roster, the day of your turn and who you ask, e.g. `%s`.", example)
	}
	ro, rot, err := d.find(ctx, r, words[0])
	if err != nil {
		return err
	}
	target, err := r.Env.ResolveMember(ctx, r.Room, who[0])
	if err != nil {
		return err
	}
	if target == r.Sender {
		return commands.Refusef("That's you! Ask someone else, e.g. `%s`.", example)
	}
	mine, err := d.turnOn(r, ro, rot, strings.Join(date, " "))
	if err != nil {
		return err
	}
	loc := rot.Start.Location()
	if mine.User != r.Sender {
		return commands.Refusef("The **%s** turn of %s isn't yours. `%s` shows your turns.", ro.Name, timespec.Human(mine.At, loc), r.Cmd("duty"))
	}
	now := r.Clock.Now()
	upcoming := rot.turns(now, turnHorizon)
	i := slices.IndexFunc(upcoming, func(t Turn) bool { return t.User == target && !t.At.Equal(mine.At) })
	if i < 0 {
		return commands.Refusef("%s has no upcoming **%s** turn to exchange with yours.", target.String(), ro.Name)
	}
	theirs := upcoming[i]
	if asked, err := r.Store.Swaps().RequestedSince(ctx, r.Room, r.Sender, now.Add(-commands.DMLimitWindow)); err != nil {
		return err
	} else if asked >= maxSwapsPerDay {
		return commands.Refusef("You have asked for %d swaps here in the last day, the most I send for one member; ask again tomorrow.", asked)
	}
	sw := &store.Swap{Room: r.Room, RosterID: ro.ID, Requester: r.Sender, Target: target, RequesterTurn: mine.At,
		TargetTurn: theirs.At, CreatedAt: now, ExpiresAt: mine.At}
	if theirs.At.Before(mine.At) {
		sw.ExpiresAt = theirs.At
	}
	if err := r.Store.Swaps().Create(ctx, sw); err != nil {
		return err
	}
	proposed := rosterField(ro.Name, []Turn{{At: mine.At, User: target}, {At: theirs.At, User: r.Sender}})
	accept, decline := r.Cmd(fmt.Sprintf("swap accept %d", sw.Number)), r.Cmd(fmt.Sprintf("swap decline %d", sw.Number)) // commands: not for members to read translated
	notice := msg.F("%s, %s asks you to take their **%s** turn on %s; in exchange they take yours on %s.",
		msg.Pill(target), r.Sender.String(), ro.Name, timespec.Human(mine.At, loc), timespec.Human(theirs.At, loc)).
		Append("Accept with `%s` or ✅, decline with `%s` or ❌ (swap %d).", accept, decline, sw.Number).
		Mention(target).With("quorum.roster", proposed)
	notice.Anchor = &msg.Anchor{Kind: anchorSwap, Ref: sw.ID}
	r.Reply(notice)

	tloc := r.MemberLocation(ctx, target, r.Room)
	dm := msg.F("**Swap request** from %s in %s: will you take their **%s** turn on %s, and they take yours on %s?",
		r.Sender.String(), commands.RoomLink(r.Room), ro.Name, timespec.Human(mine.At, tloc), timespec.Human(theirs.At, tloc)).
		Append("React ✅ to accept or ❌ to decline, or send `%s` here or in the room.", accept).
		With("quorum.roster", proposed)
	dm.Anchor = notice.Anchor
	r.DM(target, dm)
	return nil
}

// answer is `swap accept N` and `swap decline N`.
func (d *Feature) answer(ctx context.Context, r *commands.Request) error {
	accept := r.Command.Name == "accept"
	words := strings.Fields(r.Args)
	n, err := 0, error(nil)
	if len(words) == 1 {
		n, err = strconv.Atoi(words[0])
	}
	if len(words) != 1 || err != nil || n < 1 {
		return commands.Refusef("Which swap? Its number is on the request, e.g. `%s`.", r.Cmd("swap "+r.Command.Name+" 1"))
	}
	var sw *store.Swap
	if r.InDM {
		list, err := r.Store.Swaps().ForTarget(ctx, r.Sender, n)
		if err != nil {
			return err
		}
		list = slices.DeleteFunc(list, func(s *store.Swap) bool { return s.Status != store.SwapPending })
		switch len(list) {
		case 0:
			return commands.Refusef("You have no open swap request number %d.", n)
		case 1:
			sw = list[0]
		default:
			return commands.Refusef("Several rooms have an open swap %d for you; answer in the room, or react on the request.", n)
		}
	} else {
		var ok bool
		if sw, ok, err = r.Store.Swaps().ByNumber(ctx, r.Room, n); err != nil {
			return err
		} else if !ok {
			return commands.Refusef("There's no swap request number %d here.", n)
		}
	}
	m, err := d.decide(ctx, sw, r.Sender, accept)
	if err != nil {
		return err
	}
	if r.Room == sw.Room {
		r.Reply(m)
	} else {
		r.Say(sw.Room, m)
		r.Replyf("Done; I've told the room.")
	}
	return nil
}

// swapReaction answers a swap request with ✅ or ❌ from the asked member;
// other reactions, and reactions of anyone else, mean nothing.
func (d *Feature) swapReaction(ctx context.Context, fx *commands.Effects, ref int64, rx commands.Reaction) error {
	key := commands.NormalizeKey(rx.Key)
	accept := slices.Contains(swapYes, key)
	if !accept && !slices.Contains(swapNo, key) {
		return nil
	}
	sw, ok, err := d.Store.Swaps().Get(ctx, ref)
	if err != nil || !ok || rx.Sender != sw.Target {
		return err
	}
	m, err := d.decide(ctx, sw, rx.Sender, accept)
	if ue, ok := commands.AsRefusal(err); ok {
		fx.Say(rx.Room, ue.Message.Mention(rx.Sender))
		return nil
	} else if err != nil {
		return err
	}
	fx.Say(sw.Room, m)
	if rx.Room != sw.Room {
		fx.Say(rx.Room, msg.F("Done; I've told the room."))
	}
	return nil
}

// decide accepts or declines a swap for by, and returns the announcement
// for the room. Accepting swaps both turns in one transaction, if they are
// still the two members' turns.
func (d *Feature) decide(ctx context.Context, sw *store.Swap, by id.UserID, accept bool) (msg.Message, error) {
	st, now := d.Store, d.Clock.Now()
	if by != sw.Target {
		return msg.Message{}, commands.Refusef("Only %s can answer swap %d.", sw.Target.String(), sw.Number)
	}
	if sw.Status != store.SwapPending {
		return msg.Message{}, answered(sw)
	}
	ro, ok, err := st.Rosters().ByID(ctx, sw.RosterID)
	if err != nil || !ok {
		return msg.Message{}, fmt.Errorf("roster of swap %d: %w", sw.ID, err)
	}
	rot, err := d.load(ctx, ro)
	if err != nil {
		return msg.Message{}, err
	}
	loc := rot.Start.Location()
	if !now.Before(sw.ExpiresAt) {
		return msg.Message{}, commands.Refusef("Swap %d lapsed when the turn of %s began.", sw.Number, timespec.Human(sw.ExpiresAt, loc))
	}
	status := store.SwapDeclined
	if accept {
		if rot.owner(sw.RequesterTurn) != sw.Requester || rot.owner(sw.TargetTurn) != sw.Target {
			return msg.Message{}, commands.Refusef("The **%s** turns have changed since swap %d was asked, so it no longer fits; %s can ask again.",
				ro.Name, sw.Number, sw.Requester.String())
		}
		status = store.SwapAccepted
	}
	if ok, err := st.Swaps().Decide(ctx, sw.ID, status, now); err != nil {
		return msg.Message{}, err
	} else if !ok {
		return msg.Message{}, commands.Refusef("Swap %d was answered already.", sw.Number)
	}
	if !accept {
		return msg.F("%s declined swap %d: the **%s** turns of %s and %s stay as they were.", sw.Target.String(), sw.Number,
			ro.Name, timespec.Human(sw.RequesterTurn, loc), timespec.Human(sw.TargetTurn, loc)).Mention(sw.Requester), nil
	}
	if err := st.Rosters().Assign(ctx, ro.ID, sw.RequesterTurn, sw.Target, sw.ID); err != nil {
		return msg.Message{}, err
	}
	if err := st.Rosters().Assign(ctx, ro.ID, sw.TargetTurn, sw.Requester, sw.ID); err != nil {
		return msg.Message{}, err
	}
	if err := d.planRoster(ctx, ro, now); err != nil {
		return msg.Message{}, err
	}
	swapped := []Turn{{At: sw.RequesterTurn, User: sw.Target, Swapped: true}, {At: sw.TargetTurn, User: sw.Requester, Swapped: true}}
	return d.RecordChange(ctx, ro.Room, "swap.accepted", map[string]any{"roster": ro.Name, "swap": sw.Number,
		"requester": sw.Requester, "target": sw.Target, "requester_turn": sw.RequesterTurn.UTC().Format(time.RFC3339),
		"target_turn": sw.TargetTurn.UTC().Format(time.RFC3339)},
		msg.F("Swapped on **%s**: %s takes %s, %s takes %s.", ro.Name,
			msg.Pill(sw.Target), timespec.Human(sw.RequesterTurn, loc), msg.Pill(sw.Requester), timespec.Human(sw.TargetTurn, loc)).
			Mention(sw.Target, sw.Requester).With("quorum.roster", rosterField(ro.Name, swapped)))
}

// owner is who has the turn starting at t ("" if none starts then).
func (rot rotation) owner(t time.Time) id.UserID {
	if turns := rot.turns(t, 1); len(turns) == 1 && turns[0].At.Equal(t) {
		return turns[0].User
	}
	return ""
}

// answered refuses to answer sw again.
func answered(sw *store.Swap) error {
	switch sw.Status {
	case store.SwapAccepted:
		return commands.Refusef("Swap %d was accepted already.", sw.Number)
	case store.SwapDeclined:
		return commands.Refusef("Swap %d was declined already.", sw.Number)
	}
	return commands.Refusef("Swap %d was cancelled already.", sw.Number)
}
