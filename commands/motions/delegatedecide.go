package motions

import (
	"context"
	"fmt"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
)

// What the three kinds of motion do once decided. Each consequence goes
// through one function (elect, recalled, lapse, ratified), the place to
// record it elsewhere too (the signed record).

// Kinds of history entries.
const (
	eventElected      = "elected"
	eventReport       = "report"
	eventRatification = "ratification"
	eventRecallVote   = "recall"   // a recall that did not end the mandate
	eventRecalled     = "recalled" // a recall that did
	eventLapsed       = "lapsed"
	eventLeft         = "left"
)

func (d *Delegates) electionDecided(ctx context.Context, fx *commands.Effects, m *store.Motion, outcome Outcome) error {
	if outcome != Carried {
		return nil // no mandate; the motion's result says why
	}
	p, err := decodePayload[delegationPayload](m)
	if err != nil {
		return err
	}
	return d.elect(ctx, fx, m, p)
}

// elect gives the mandate motion m carried.
func (d *Delegates) elect(ctx context.Context, fx *commands.Effects, m *store.Motion, p delegationPayload) error {
	st := d.Store
	active, err := st.Delegations().Active(ctx, m.Room)
	if err != nil {
		return err
	}
	var others []*store.Delegation // the member's other mandates here
	for _, del := range active {
		if del.User != p.User {
			continue
		}
		if del.Role == p.Role { // cannot happen: !delegate refuses it
			fx.Say(m.Room, msg.F("%s already holds the mandate as %s (delegation #%d), so motion #%d changes nothing.", p.User, p.Role, del.Number, m.Number))
			return nil
		}
		others = append(others, del)
	}
	now := m.ClosedAt
	del := &store.Delegation{Room: m.Room, User: p.User, Role: p.Role, Mandate: p.Mandate, Motion: m.ID,
		Since: now, TermEnds: now.Add(time.Duration(p.TermMinutes) * time.Minute), ElectionNumber: m.Number}
	// A reminder that would fall due before the mandate began says nothing.
	if !del.TermEnds.Add(-reminderWeek).After(now) {
		del.WeekReminded = now
	}
	if !del.TermEnds.Add(-reminderDay).After(now) {
		del.DayReminded = now
	}
	power, note, err := d.grant(ctx, del, others)
	if err != nil {
		return err
	}
	if err := st.Delegations().Create(ctx, del); err != nil {
		return err
	}
	err = st.Delegations().AddEvent(ctx, store.DelegationEvent{Delegation: del.ID, At: now, Kind: eventElected, Motion: m.ID})
	if err != nil {
		return err
	}
	if err := d.setResult(ctx, m, p, del); err != nil {
		return err
	}
	prefix := d.Cmd("")
	loc := d.Config.Location(m.Room)
	said := msg.F("**%s is now %s** (delegation #%d) until %s, with the mandate of motion #%d.", msg.Pill(del.User), del.Role, del.Number,
		timespec.Human(del.TermEnds, loc), m.Number).
		Append("They convey the assembly's decisions. Any member can recall them at any time: `%s`.", prefix+"recall "+del.User.String()+" "+del.Role)
	said, err = d.RecordChange(ctx, m.Room, "delegation.granted", map[string]any{"delegation": fieldOf(del), "motion": m.Number}, said)
	if err != nil {
		return err
	}
	d.say(fx, del, said.Mention(del.User))
	fx.DM(del.User, d.with(msg.F("**You were elected %s** by the assembly in %s (motion #%d), until %s.", del.Role, commands.RoomLink(del.Room), m.Number,
		timespec.Human(del.TermEnds, loc)).
		Append("**Your mandate:**").
		Append("%s", del.Mandate).
		Append("You carry the assembly's decisions, not your own, and it can recall you at any time. "+
			"Report back in the room with `%s`; bring proposals back for the assembly to ratify with `%s`.",
			prefix+"report "+del.Role+" : <text>", prefix+"ratify "+del.Role+" : <proposal>"), del))
	if note != nil {
		fx.Say(m.Room, msg.FromText(*note))
	}
	if power != nil {
		fx.Power(m.Room, *power)
	}
	return d.changed(ctx, fx, del)
}

func (d *Delegates) recallDecided(ctx context.Context, fx *commands.Effects, m *store.Motion, outcome Outcome) error {
	p, err := decodePayload[delegationPayload](m)
	if err != nil {
		return err
	}
	st := d.Store
	del, err := d.concerned(ctx, m, p)
	if err != nil {
		return err
	}
	if outcome == Carried && del.Status == store.DelegationActive {
		return d.recalled(ctx, fx, m, p, del)
	}
	err = st.Delegations().AddEvent(ctx, store.DelegationEvent{Delegation: del.ID, At: m.ClosedAt, Kind: eventRecallVote,
		Motion: m.ID, Outcome: string(outcome), Text: p.Reason})
	if err != nil {
		return err
	}
	if outcome == Carried {
		ended := timespec.Human(del.EndedAt, d.Config.Location(del.Room))
		said := msg.F("The recall carried, but %s's mandate as %s (delegation #%d) had already lapsed on %s, so there is nothing more to end.",
			msg.Pill(del.User), del.Role, del.Number, ended)
		if del.Status == store.DelegationRecalled {
			said = msg.F("The recall carried, but %s's mandate as %s (delegation #%d) had already recalled on %s, so there is nothing more to end.",
				msg.Pill(del.User), del.Role, del.Number, ended)
		}
		d.say(fx, del, said)
	}
	return d.setResult(ctx, m, p, del)
}

// recalled ends del by the assembly's vote on recall motion m.
func (d *Delegates) recalled(ctx context.Context, fx *commands.Effects, m *store.Motion, p delegationPayload, del *store.Delegation) error {
	st := d.Store
	if _, err := st.Delegations().End(ctx, del.ID, store.DelegationRecalled, m.ClosedAt, m.ID); err != nil {
		return err
	}
	del.Status, del.EndedAt, del.EndedBy, del.RecallNumber = store.DelegationRecalled, m.ClosedAt, m.ID, m.Number
	err := st.Delegations().AddEvent(ctx, store.DelegationEvent{Delegation: del.ID, At: m.ClosedAt, Kind: eventRecalled,
		Motion: m.ID, Outcome: string(Carried), Text: p.Reason})
	if err != nil {
		return err
	}
	if err := d.setResult(ctx, m, p, del); err != nil {
		return err
	}
	said, err := d.RecordChange(ctx, m.Room, "delegation.recalled", map[string]any{"delegation": fieldOf(del), "motion": m.Number, "reason": p.Reason},
		msg.F("**%s is no longer %s**: the assembly recalled them (motion #%d). Delegation #%d has ended.",
			msg.Pill(del.User), del.Role, m.Number, del.Number))
	if err != nil {
		return err
	}
	d.say(fx, del, said.Mention(del.User))
	dm := msg.F("The assembly in %s **recalled you as %s** (motion #%d). Your mandate has ended: please stop acting on it.",
		commands.RoomLink(del.Room), del.Role, m.Number)
	if p.Reason != "" {
		dm = dm.Append("Reason given: %s", p.Reason)
	}
	if err := d.dmIfMember(ctx, fx, del, d.with(dm, del)); err != nil {
		return err
	}
	if err := d.release(ctx, fx, del); err != nil {
		return err
	}
	return d.changed(ctx, fx, del)
}

func (d *Delegates) ratificationDecided(ctx context.Context, fx *commands.Effects, m *store.Motion, outcome Outcome) error {
	p, err := decodePayload[delegationPayload](m)
	if err != nil {
		return err
	}
	del, err := d.concerned(ctx, m, p)
	if err != nil {
		return err
	}
	return d.ratified(ctx, fx, m, p, del, outcome)
}

// concerned is the mandate a recall or ratification is about.
func (d *Delegates) concerned(ctx context.Context, m *store.Motion, p delegationPayload) (*store.Delegation, error) {
	del, ok, err := d.Store.Delegations().Get(ctx, p.Delegation)
	if err == nil && !ok {
		err = fmt.Errorf("delegation %d not found", p.Delegation)
	}
	if err != nil {
		return nil, fmt.Errorf("%s motion %d: %w", m.Kind, m.ID, err)
	}
	return del, nil
}

// ratified keeps the assembly's answer to a proposal del brought back, and
// tells the delegate, who is to convey it (if the mandate still stands).
func (d *Delegates) ratified(ctx context.Context, fx *commands.Effects, m *store.Motion, p delegationPayload, del *store.Delegation, outcome Outcome) error {
	err := d.Store.Delegations().AddEvent(ctx, store.DelegationEvent{Delegation: del.ID, At: m.ClosedAt, Kind: eventRatification,
		Motion: m.ID, Outcome: string(outcome), Text: p.Proposal})
	if err != nil {
		return err
	}
	if err := d.setResult(ctx, m, p, del); err != nil {
		return err
	}
	_, _, err = d.RecordDecision(ctx, m.Room, "ratification", map[string]any{"delegation": fieldOf(del), "motion": m.Number,
		"proposal": p.Proposal, "outcome": string(outcome)})
	if err != nil {
		return err
	}
	if del.Status != store.DelegationActive {
		return nil // nobody to convey it any more
	}
	room := commands.RoomLink(del.Room)
	answer := msg.F("The assembly in %s **could not decide (no quorum) on** the proposal you brought back as %s (motion #%d):", room, del.Role, m.Number)
	switch outcome {
	case Carried:
		answer = msg.F("The assembly in %s **ratified** the proposal you brought back as %s (motion #%d):", room, del.Role, m.Number)
	case Failed:
		answer = msg.F("The assembly in %s **rejected** the proposal you brought back as %s (motion #%d):", room, del.Role, m.Number)
	}
	return d.dmIfMember(ctx, fx, del, d.with(answer.
		Append("%s", p.Proposal).
		Append("Convey its decision as it stands."), del))
}

// dmIfMember tells the delegate m by DM while they are a member of the
// room: the assembly's business is not sent to someone who left it.
func (d *Delegates) dmIfMember(ctx context.Context, fx *commands.Effects, del *store.Delegation, m msg.Message) error {
	member, err := d.IsMember(ctx, del.Room, del.User)
	if err != nil || !member {
		return err
	}
	fx.DM(del.User, m)
	return nil
}

// lapse ends del at the end of its term.
func (d *Delegates) lapse(ctx context.Context, fx *commands.Effects, del *store.Delegation) error {
	st := d.Store
	ended, err := st.Delegations().End(ctx, del.ID, store.DelegationLapsed, del.TermEnds, 0)
	if err != nil || !ended {
		return err
	}
	del.Status, del.EndedAt = store.DelegationLapsed, del.TermEnds
	if err := st.Delegations().AddEvent(ctx, store.DelegationEvent{Delegation: del.ID, At: del.TermEnds, Kind: eventLapsed}); err != nil {
		return err
	}
	said, err := d.RecordChange(ctx, del.Room, "delegation.lapsed", map[string]any{"delegation": fieldOf(del)},
		msg.F("%s's term as %s (delegation #%d) ended %s: the mandate has lapsed.", msg.Pill(del.User), del.Role, del.Number,
			timespec.Human(del.TermEnds, d.Config.Location(del.Room))).
			Append("To go on, elect a delegate: `%s`.", d.Cmd("delegate @name:"+del.User.Homeserver()+" "+del.Role+" : <mandate>")))
	if err != nil {
		return err
	}
	d.say(fx, del, said.Mention(del.User))
	if err := d.release(ctx, fx, del); err != nil {
		return err
	}
	return d.changed(ctx, fx, del)
}

// changed tells what follows a mandate (the councils it sits in) that del
// started or ended.
func (d *Delegates) changed(ctx context.Context, fx *commands.Effects, del *store.Delegation) error {
	if d.motions.mandate == nil {
		return nil
	}
	return d.motions.mandate(ctx, fx, del)
}

// setResult stores del as the decided motion's quorum.delegation, in time
// for the result and the notice's final edit.
func (d *Delegates) setResult(ctx context.Context, m *store.Motion, p delegationPayload, del *store.Delegation) error {
	p.Delegation, p.Result = del.ID, fieldOf(del)
	m.Payload = encodePayload(p)
	return d.Store.Motions().SetPayload(ctx, m.ID, m.Payload)
}

// fields adds quorum.delegation to the notices of a decided motion.
func (d *Delegates) fields(m *store.Motion) map[string]any {
	p, err := decodePayload[delegationPayload](m)
	if err != nil || p.Result == nil {
		return nil
	}
	return map[string]any{"quorum.delegation": p.Result}
}

// mayClose refuses !close to whoever the motion is about.
func (d *Delegates) mayClose(ctx context.Context, m *store.Motion, user id.UserID) error {
	p, err := decodePayload[delegationPayload](m)
	if err != nil {
		return err
	}
	switch {
	case m.Kind == kindElection && p.User == user:
		return commands.Refusef("You can't close your own election early: it closes when everyone has voted or at its deadline.")
	case m.Kind == kindRecall && p.User == user:
		return commands.Refusef("You can't close the recall of your own mandate: it closes when everyone has voted or at its deadline.")
	case m.Kind != kindRatification:
		return nil
	}
	active, err := d.Store.Delegations().Active(ctx, m.Room)
	if err != nil {
		return err
	}
	concerned := p.User == user
	for _, del := range active {
		concerned = concerned || del.Role == p.Role && del.User == user
	}
	if concerned {
		return commands.Refusef("You can't close the ratification of what was brought back as %s: only the assembly's vote decides it, "+
			"when everyone has voted or at its deadline.", p.Role)
	}
	return nil
}

// mayWithdraw keeps a recall from being withdrawn once voting started.
func (d *Delegates) mayWithdraw(_ context.Context, m *store.Motion, _ id.UserID) error {
	if m.Kind == kindRecall && m.Status == store.MotionOpen {
		return commands.Refusef("A recall can't be withdrawn once voting has started: motion #%d is the assembly's to decide.", m.Number)
	}
	return nil
}

// grant works out the power level a new mandate brings: it sets
// del.PowerLevel and del.PowerBase and returns the change to make (nil for
// none) or a note for the room when the bot can't make it (nil for none). The member's
// level is taken from the room for their first mandate, and from their
// mandates after that, so that a grant not yet applied counts.
func (d *Delegates) grant(ctx context.Context, del *store.Delegation, others []*store.Delegation) (*msg.PowerLevel, *msg.Text, error) {
	level := d.roleLevel(del.Role)
	if level == 0 {
		return nil, nil, nil
	}
	rooms := d.Rooms
	current, _, err := rooms.PowerLevel(ctx, del.Room, del.User)
	if err != nil {
		return nil, nil, fmt.Errorf("read power levels: %w", err)
	}
	base, expected := current, current
	for _, o := range others {
		if o.PowerLevel > 0 {
			base = o.PowerBase // the same for all of the member's mandates
			expected = max(base, expected, o.PowerLevel)
		}
	}
	del.PowerBase, del.PowerLevel = base, level
	want := max(expected, level)
	if want == expected {
		return nil, nil, nil // nothing to raise, so nothing to lower later
	}
	own, _, err := rooms.PowerLevel(ctx, del.Room, d.Bot)
	if err != nil {
		return nil, nil, fmt.Errorf("read power levels: %w", err)
	}
	if own <= want {
		del.PowerLevel = 0 // nothing given, nothing to take back
		note := msg.T("The role %s comes with power level %d, but I can't give it to %s: my own level (%d) must be above it "+
			"so that I can take it back on a recall. A room admin can raise my level. The mandate holds either way.",
			del.Role, want, del.User, own)
		return nil, &note, nil
	}
	// The reason is no message: it is said as it is, in the room's language.
	lang, err := d.Lang(ctx, del.Room)
	if err != nil {
		return nil, nil, err
	}
	return &msg.PowerLevel{User: del.User, Level: want, From: &expected, Reason: msg.T(
		"I couldn't give %s power level %d as %s: I lack the power in this room. A room admin can do it, or raise my level.",
		del.User, want, del.Role).In(lang)}, nil, nil
}

// release takes back the power level an ended mandate brought: down to
// the member's level before their mandates, or to what their other
// mandates bring. The change is made only if the level is still what the
// mandates set when it is sent (msg.PowerLevel.From): a level someone
// changed meanwhile, or a grant that never happened, is left alone. It is
// queued after the grant, so a grant still waiting is undone all the same.
func (d *Delegates) release(ctx context.Context, fx *commands.Effects, del *store.Delegation) error {
	if del.PowerLevel == 0 {
		return nil
	}
	active, err := d.Store.Delegations().Active(ctx, del.Room)
	if err != nil {
		return err
	}
	after := del.PowerBase
	for _, o := range active {
		if o.User == del.User && o.PowerLevel > 0 {
			after = max(after, o.PowerLevel)
		}
	}
	before := max(after, del.PowerLevel)
	if before == after {
		return nil // the mandate raised nothing
	}
	lang, err := d.Lang(ctx, del.Room)
	if err != nil {
		return err
	}
	fx.Power(del.Room, msg.PowerLevel{User: del.User, Level: after, From: &before, Reason: msg.T(
		"I couldn't lower %s's power level from %d back to %d now that their mandate as %s has ended: I lack the power in this room. A room admin should do it.",
		del.User, before, after, del.Role).In(lang)})
	return nil
}

// roleLevel is the power level configured for role (0: none). Viper lower-
// cases the map's keys; roles are lower case too, but compare kindly.
func (d *Delegates) roleLevel(role string) int {
	for r, level := range d.Config.Delegates.PowerLevels {
		if strings.EqualFold(r, role) {
			return level
		}
	}
	return 0
}

// say posts m in del's room with quorum.delegation.
func (d *Delegates) say(fx *commands.Effects, del *store.Delegation, m msg.Message) {
	fx.Say(del.Room, d.with(m, del))
}

func (d *Delegates) with(m msg.Message, del *store.Delegation) msg.Message {
	return m.With("quorum.delegation", fieldOf(del))
}
