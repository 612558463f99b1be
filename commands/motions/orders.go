package motions

import (
	"context"
	"fmt"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/timespec"
	"quorum/config"
	"quorum/msg"
	"quorum/store"
)

// Standing orders are a room's rules of procedure: the least threshold,
// quorum and voting time a proposer may ask for, by kind of motion, and
// whether a motion needs a second. They start as configured
// (standing_orders, and the room's motions.require_second) and change only
// by a vote of the room (!rules set, a motion of kind "rules" that needs
// rules_threshold). A proposer may make a motion stricter, never looser;
// nothing goes below a simple majority. Elections follow the rules of
// recalls.

// kindRules is the kind of a motion that changes a standing order.
const kindRules = "rules"

// maxVotingTime bounds a voting-time rule: longer would block the room.
const maxVotingTime = 30 * 24 * time.Hour

// rule is one standing order.
type rule struct {
	name  string
	about msg.Text
	// read checks a value and returns its canonical spelling.
	read func(s string) (string, error)
	// configured is the rule's value before the room changed it.
	configured func(cfg *config.Config, room id.RoomID) string
}

var rules = []rule{
	{"threshold", msg.T("the least threshold of a motion or a ratification"), readThreshold,
		func(c *config.Config, _ id.RoomID) string { return c.StandingOrders.Threshold }},
	{"election_threshold", msg.T("the least threshold of an election or a recall"), readThreshold,
		func(c *config.Config, _ id.RoomID) string { return c.StandingOrders.ElectionThreshold }},
	{"rules_threshold", msg.T("the threshold of a change of these rules"), readThreshold,
		func(c *config.Config, _ id.RoomID) string { return c.StandingOrders.RulesThreshold }},
	{"quorum", msg.T("the least quorum of any motion"), readQuorum,
		func(c *config.Config, _ id.RoomID) string { return c.StandingOrders.Quorum }},
	{"voting_time", msg.T("the least voting time of a motion"), readVotingTime,
		func(c *config.Config, _ id.RoomID) string { return c.StandingOrders.VotingTime }},
	{"election_voting_time", msg.T("the least voting time of an election, a recall, a ratification or a change of these rules"), readVotingTime,
		func(c *config.Config, _ id.RoomID) string { return c.StandingOrders.ElectionVotingTime }},
	{"seconding", msg.T("whether a motion needs a second before it opens"), readOnOff,
		func(c *config.Config, room id.RoomID) string { return onOff(c.MotionDefaults(room).RequireSecond) }},
}

func readThreshold(s string) (string, error) {
	th, err := ParseThreshold(s)
	if err != nil {
		return "", err
	}
	if !th.AtLeast(Majority) {
		return "", commands.Refusef("Nothing here can pass with less than a simple majority, so %s can't be a threshold.", th)
	}
	return th.String(), nil
}

func readQuorum(s string) (string, error) {
	q, err := ParseQuorum(s)
	return q.String(), err
}

func readVotingTime(s string) (string, error) {
	d, err := timespec.Duration(s)
	if err != nil {
		return "", err
	}
	if d > maxVotingTime {
		return "", commands.Refusef("A voting time of more than %s would block the room.", timespec.Remaining(maxVotingTime))
	}
	return timespec.Remaining(d).String(), nil
}

func readOnOff(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "on", "yes", "true", "required":
		return "on", nil
	case "off", "no", "false":
		return "off", nil
	}
	return "", commands.Refusef("Say `on` or `off`.")
}

// shown is a rule's canonical value as members read it: a voting time and
// a threshold's name in their language; 2/3, 50% and on/off as they are.
func shown(rule, value string) any {
	switch rule {
	case "voting_time", "election_voting_time":
		if d, err := timespec.Duration(value); err == nil {
			return timespec.Remaining(d)
		}
	case "threshold", "election_threshold", "rules_threshold":
		return thresholdName(value)
	}
	return value
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// orders is a room's standing orders, read.
type orders struct {
	values                                       map[string]string // canonical, by rule
	threshold, electionThreshold, rulesThreshold Threshold
	quorum                                       Quorum
	votingTime, electionVotingTime               time.Duration
	seconding                                    bool
}

// ordersOf reads room's standing orders: as configured, and as the room
// changed them.
func (f *Feature) ordersOf(ctx context.Context, room id.RoomID) (orders, error) {
	changed, err := f.Store.StandingOrders().Of(ctx, room)
	if err != nil {
		return orders{}, err
	}
	o := orders{values: map[string]string{}}
	for _, ru := range rules {
		v, ok := changed[ru.name]
		if !ok {
			v = ru.configured(f.Config, room)
		}
		if o.values[ru.name], err = ru.read(v); err != nil {
			return orders{}, fmt.Errorf("standing order %s %q: %w", ru.name, v, err)
		}
	}
	// The values were read above, so these cannot fail.
	o.threshold, _ = ParseThreshold(o.values["threshold"])
	o.electionThreshold, _ = ParseThreshold(o.values["election_threshold"])
	o.rulesThreshold, _ = ParseThreshold(o.values["rules_threshold"])
	o.quorum, _ = ParseQuorum(o.values["quorum"])
	o.votingTime, _ = timespec.Duration(o.values["voting_time"])
	o.electionVotingTime, _ = timespec.Duration(o.values["election_voting_time"])
	o.seconding = o.values["seconding"] == "on"
	return o, nil
}

// least is what the orders ask of a motion of kind at the least: its
// threshold and voting time, with the rules that set them.
func (o orders) least(kind string) (th Threshold, thRule string, voting time.Duration, votingRule string) {
	switch kind {
	case kindElection, kindRecall:
		return o.electionThreshold, "election_threshold", o.electionVotingTime, "election_voting_time"
	case kindRatification, kindAffiliation:
		return o.threshold, "threshold", o.electionVotingTime, "election_voting_time"
	case kindRules:
		return o.rulesThreshold, "rules_threshold", o.electionVotingTime, "election_voting_time"
	}
	return o.threshold, "threshold", o.votingTime, "voting_time"
}

// apply makes spec follow the orders for an electorate of n: what the
// proposer left to the defaults is raised to the least the orders allow;
// what they chose looser is refused, naming the room's rule.
func (o orders) apply(r *commands.Request, spec motionSpec, n int) (motionSpec, error) {
	th, thRule, least, leastRule := o.least(spec.Kind)
	rulesHint := r.Cmd("rules")
	switch {
	case spec.Kind == kindRules:
		spec.Threshold = th
	case !spec.Threshold.AtLeast(th) && spec.chose.threshold:
		return spec, commands.Refusef("This room's standing orders need a threshold of at least %s here (`%s`), so `%s` can't be used. `%s` shows the rules.",
			thresholdName(th.String()), thRule, spec.Threshold, rulesHint)
	case !spec.Threshold.AtLeast(th):
		spec.Threshold = th
	}
	switch {
	case spec.Quorum.Of(n) >= o.quorum.Of(n):
	case spec.chose.quorum:
		return spec, commands.Refusef("This room's standing orders need a quorum of at least %s (`quorum`), so `%s` can't be used. `%s` shows the rules.",
			o.quorum, spec.Quorum, rulesHint)
	default:
		spec.Quorum = o.quorum
	}
	voting := spec.Duration
	if voting == 0 {
		voting = spec.Closes.Sub(r.Clock.Now())
	}
	switch {
	case voting >= least:
	case spec.chose.closes:
		return spec, commands.Refusef("This room's standing orders give a vote like this at least %s (`%s`): make it close later. `%s` shows the rules.",
			timespec.Remaining(least), leastRule, rulesHint)
	default:
		spec.Closes, spec.Duration = time.Time{}, least
	}
	return spec, nil
}

// rulesPayload is what a rules motion changes.
type rulesPayload struct {
	Rule  string `json:"rule"`
	From  string `json:"from"`
	Value string `json:"value"`
}

func (f *Feature) rulesCommand() *commands.Command {
	return &commands.Command{
		Name:    "rules",
		Usage:   "rules",
		Summary: "this room's standing orders: the least threshold, quorum and voting time, and seconding",
		Help: "A proposer may make a motion stricter than the rules, never looser, and nothing passes with less than a simple majority. " +
			"The room changes a rule by a vote.",
		Examples: []string{"rules", "rules set quorum 30%", "rules set election_voting_time 48h"},
		Handler:  f.showRules,
		Subcommands: []*commands.Command{{
			Name: "set", Usage: "set <rule> <value>", Summary: "put a change of a rule to the room's vote",
			Handler: f.setRule,
		}},
	}
}

func (f *Feature) showRules(ctx context.Context, r *commands.Request) error {
	if r.Args != "" {
		word, _, _ := strings.Cut(r.Args, " ")
		return r.Unknown("", word)
	}
	o, err := f.ordersOf(ctx, r.Room)
	if err != nil {
		return err
	}
	m := msg.F("**Standing orders of this room**")
	for _, ru := range rules {
		m = m.Append("`%s` %s — %s", ru.name, shown(ru.name, o.values[ru.name]), ru.about)
	}
	r.Reply(m.Append("A motion may be stricter, never looser. To change a rule: `%s` (a vote needing %s).",
		r.Cmd("rules set <rule> <value>"), thresholdName(o.values["rules_threshold"])).With("quorum.rules", o.values)) // not for members to translate: a command
	return nil
}

func (f *Feature) setRule(ctx context.Context, r *commands.Request) error {
	example := r.Cmd("rules set quorum 30%") // not for members to translate: a command
	name, value, _ := strings.Cut(strings.TrimSpace(r.Args), " ")
	name, value = strings.ToLower(name), strings.TrimSpace(value)
	var ru *rule
	for i := range rules {
		if rules[i].name == name {
			ru = &rules[i]
		}
	}
	if ru == nil {
		names := make([]string, len(rules))
		for i, x := range rules {
			names[i] = x.name
		}
		return commands.Refusef("Which rule? One of %s, e.g. `%s`.", strings.Join(names, ", "), example)
	}
	if value == "" {
		return commands.Refusef("Give the new value of `%s`, e.g. `%s`.", ru.name, example)
	}
	canonical, err := ru.read(value)
	if err != nil {
		return err
	}
	o, err := f.ordersOf(ctx, r.Room)
	if err != nil {
		return err
	}
	if o.values[ru.name] == canonical {
		return commands.Refusef("`%s` is %s already.", ru.name, shown(ru.name, canonical))
	}
	spec, err := f.defaults(r)
	if err != nil {
		return err
	}
	p := rulesPayload{Rule: ru.name, From: o.values[ru.name], Value: canonical}
	spec.Kind, spec.Payload = kindRules, encodePayload(p)
	// The wording is stored: it is written in the room's language now.
	lang, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	spec.Text = msg.T("Change the standing order %s (%s) from %s to %s", ru.name, ru.about, shown(ru.name, p.From), shown(ru.name, p.Value)).In(lang)
	_, err = f.propose(ctx, r, spec)
	return err
}

// rulesDecided changes the rule of a carried rules motion and records it.
func (f *Feature) rulesDecided(ctx context.Context, fx *commands.Effects, m *store.Motion, outcome Outcome) error {
	if outcome != Carried {
		return nil
	}
	p, err := decodePayload[rulesPayload](m)
	if err != nil {
		return err
	}
	if err = f.Store.StandingOrders().Set(ctx, m.Room, p.Rule, p.Value, m.ID, f.Clock.Now()); err != nil {
		return err
	}
	said, err := f.RecordChange(ctx, m.Room, "rules.change", p,
		msg.F("Standing order `%s` is now %s (it was %s), by motion #%d.", p.Rule, shown(p.Rule, p.Value), shown(p.Rule, p.From), m.Number))
	if err != nil {
		return err
	}
	fx.Say(m.Room, said)
	return nil
}

// rulesField is quorum.rules_change on a rules motion's notices.
func rulesField(m *store.Motion) map[string]any {
	p, err := decodePayload[rulesPayload](m)
	if err != nil {
		return nil
	}
	return map[string]any{"quorum.rules_change": p}
}
