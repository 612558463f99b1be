package motions

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/timespec"
	"quorum/config"
	"quorum/msg"
	"quorum/store"
)

// Mandated delegates. When the assembly needs representation (a
// negotiation, a federation meeting) it elects a member to carry a written
// mandate for a term. The delegate conveys the assembly's decisions, not
// their own: they report back (!report), bring proposals back for the
// assembly to ratify (!ratify), and can be recalled at any moment (!recall).
//
// Elections, recalls and ratifications are motions of their own kinds:
// voting, tally and closing are the motions' (motion.go, motionvote.go),
// through the motionKind hooks. This feature proposes them and gives them
// consequences (delegatedecide.go), runs the term's reminders and its end
// (delegatedue.go) and shows the mandates and their history
// (delegateview.go).
//
// Decisions, beyond the text:
//   - A recall and a ratification take no voting option but --secret: they
//     always have the room's quorum and deadline, and a recall the
//     configured delegates.recall_threshold. Otherwise a delegate, or a
//     friend, could open one with --quorum 0 --closes 5m at night, or block
//     recalls with one that needs unanimity and closes in a year (only one
//     recall of a mandate may be open at a time). An election takes the
//     usual options.
//   - Nobody can close early a motion about themselves: a candidate their
//     election, a delegate their recall or the ratification of their role's
//     proposal, even as a room moderator (a role may confer that power).
//     A recall cannot be withdrawn once voting has started, so that opening
//     and withdrawing recalls cannot stall one indefinitely.
//   - A role is one word, compared in lower case. Several members may hold
//     the same role (a negotiating team), but not the same member twice.
//   - A term starts when the election carries, and is at most 365 days.
//   - Power levels: the role's level (delegates.power_levels) is given only
//     if it raises the member's level and the bot's own level is above it
//     (otherwise the bot could not take it back on recall; it says so). When
//     the mandate ends, the level goes back to what it was before, or to
//     what the member's other mandates confer. Both changes are made only
//     if the level is, when sent, what the bot expects (msg.PowerLevel.From):
//     a level someone changed by hand meanwhile is left alone.
//   - A delegate who leaves the room keeps the mandate until it is recalled
//     or lapses; the room is told, and !delegates says so.
//   - A recall that carries after the term lapsed changes nothing more; the
//     room is told, and quorum.delegation says "lapsed".
//   - Reminders a week and a day before the term's end, each at most once.
//     One missed while the bot was down comes late with the time left, or
//     not at all if superseded (the day's supersedes the week's, the lapse
//     both); one that would fall before the mandate began is skipped.
//   - quorum.delegation on a motion's notices is the mandate as that motion
//     left it (stored in the motion's payload when it was decided).
type Delegates struct {
	*commands.Env
	motions *Feature
}

// Group implements commands.Feature.
func (d *Delegates) Group() string { return "Delegates" }

// Motion kinds of this feature, as in quorum.motion's kind.
const (
	kindElection     = "election"
	kindRecall       = "recall"
	kindRatification = "ratification"
)

// NewDelegates makes the delegates feature and gives the motions m its
// three kinds: elections, recalls and ratifications.
func NewDelegates(m *Feature) *Delegates {
	d := &Delegates{Env: m.Env, motions: m}
	for kind, decided := range map[string]func(context.Context, *commands.Effects, *store.Motion, Outcome) error{
		kindElection:     d.electionDecided,
		kindRecall:       d.recallDecided,
		kindRatification: d.ratificationDecided,
	} {
		m.kinds[kind] = motionKind{decided: decided, mayClose: d.mayClose, mayWithdraw: d.mayWithdraw, fields: d.fields}
	}
	return d
}

func (d *Delegates) Commands() []*commands.Command {
	return []*commands.Command{
		{
			Name:    "delegate",
			Usage:   "delegate @user <role> [--term 90d] : <mandate>",
			Summary: "propose electing a delegate with a written mandate (or `delegate N` to show one)",
			Help: "Opens an election: a motion that, if carried, makes @user the room's <role> with this mandate for the term. " +
				"The delegate conveys the assembly's decisions, reports back with `report`, brings proposals back with `ratify`, " +
				"and can be recalled at any time with `recall`. `--closes`, `--quorum` and `--threshold` work as for `motion`.",
			Examples: []string{
				"delegate @ana:example.org negotiator --term 60d : Negotiate the new rota. No pay cuts; weekend shifts stay voluntary.",
				"delegate 3",
			},
			Handler: d.delegate,
		},
		{
			Name:     "delegates",
			Usage:    "delegates [@user | history <role>]",
			Summary:  "list the current delegates, one member's mandates, or who held a role before",
			Examples: []string{"delegates", "delegates @ana:example.org", "delegates history negotiator"},
			Handler:  d.list,
		},
		{
			Name:    "recall",
			Usage:   "recall @user [role] [--secret] [: reason]",
			Summary: "propose recalling a delegate now (any member can)",
			Help: "Opens a recall motion with the room's usual quorum and deadline and the recall threshold of the configuration; " +
				"nobody can change these for one recall. `--secret` makes it a secret ballot. The delegate's vote counts once like anyone's; " +
				"they can't close it, and nobody can withdraw it once voting has started. If it carries, the mandate ends at once.",
			Examples: []string{"recall @ana:example.org", "recall @ana:example.org negotiator : Agreed to Sunday shifts against the mandate"},
			Handler:  d.recall,
		},
		{
			Name:     "report",
			Usage:    "report <role> : <text>",
			Summary:  "as a delegate, report back to the assembly (kept in the mandate's history)",
			Examples: []string{"report negotiator : Management offered 2% from January and nothing for weekends. I said I'd bring it back."},
			Handler:  d.report,
		},
		{
			Name:    "ratify",
			Usage:   "ratify <role> [@user] [--secret] : <proposal>",
			Summary: "put a proposal a delegate brought back to the assembly's vote",
			Help: "Opens a ratification motion with the room's usual threshold, quorum and deadline. Only the vote decides it: " +
				"the delegates of the role can't close it early. Its result goes into the mandate's history and the delegate is told. " +
				"Name the delegate (`@user`) when several hold the role; `--secret` makes it a secret ballot.",
			Examples: []string{"ratify negotiator : Accept 3% from January; weekend shifts stay voluntary"},
			Handler:  d.ratify,
		},
	}
}

// delegationPayload is the motion payload of the three kinds.
type delegationPayload struct {
	User id.UserID `json:"user_id"`
	Role string    `json:"role"`
	// Delegation is the mandate a recall or ratification is about, and the
	// one an election created once it carried.
	Delegation  int64  `json:"delegation_id,omitempty"`
	Mandate     string `json:"mandate,omitempty"`      // election
	TermMinutes int64  `json:"term_minutes,omitempty"` // election
	Reason      string `json:"reason,omitempty"`       // recall
	Proposal    string `json:"proposal,omitempty"`     // ratification
	// Result is quorum.delegation once the motion is decided.
	Result *delegationField `json:"result,omitempty"`
}

// delegationField is quorum.delegation.
type delegationField struct {
	ID       int       `json:"id"`
	Role     string    `json:"role"`
	User     id.UserID `json:"user_id"`
	Status   string    `json:"status"`
	Mandate  string    `json:"mandate"`
	TermEnds string    `json:"term_ends"`
	EndedAt  string    `json:"ended_at,omitempty"`
}

func fieldOf(del *store.Delegation) *delegationField {
	f := &delegationField{ID: del.Number, Role: del.Role, User: del.User, Status: del.Status, Mandate: del.Mandate,
		TermEnds: del.TermEnds.UTC().Format(time.RFC3339)}
	if !del.EndedAt.IsZero() {
		f.EndedAt = del.EndedAt.UTC().Format(time.RFC3339)
	}
	return f
}

// CheckDelegatesConfig validates the delegates settings, so that a typo
// stops the bot at start rather than failing every !delegate.
func CheckDelegatesConfig(cfg *config.Config) error {
	c := cfg.Delegates
	if _, err := termDuration(c.Term); err != nil {
		return config.Invalid("config: delegates.term %q: use a length of at most 365 days, such as 90d or 12w", c.Term) // the operator's: not for members
	}
	if _, err := ParseThreshold(c.RecallThreshold); err != nil {
		return config.Invalid("config: delegates.recall_threshold %q: use majority, 2/3, 3/4, unanimous or a percentage such as 60%%", c.RecallThreshold) // the operator's: not for members
	}
	if _, ok := parseRole(cfg.Council.DelegateRole); !ok {
		return config.Invalid("config: council.delegate_role %q: use one word such as `council`", cfg.Council.DelegateRole) // the operator's: not for members
	}
	for role, level := range c.PowerLevels {
		if _, ok := parseRole(role); !ok {
			return config.Invalid("config: delegates.power_levels role %q: use one word such as `negotiator: 50`", role) // the operator's: not for members
		}
		if level < 1 || level > 100 {
			return config.Invalid("config: delegates.power_levels %s: %d is not a power level from 1 to 100; for example `%s: 50`", role, level, role) // the operator's: not for members
		}
	}
	return nil
}

// inAssembly refuses a command that proposes something unless it comes from
// a voting member, in the room rather than a direct chat. It returns the
// electorate and whom a bare @localpart may mean.
func (d *Delegates) inAssembly(ctx context.Context, r *commands.Request) (electorate, known []id.UserID, err error) {
	if r.InDM {
		return nil, nil, commands.Refusef("Send this in the assembly's room, not in our private chat.")
	}
	if electorate, err = d.motions.electorate(ctx, r.Room); err != nil {
		return nil, nil, err
	}
	if !slices.Contains(electorate, r.Sender) {
		return nil, nil, commands.Refusef("Only voting members of this room can do that.")
	}
	known, err = d.knownUsers(ctx, r)
	return electorate, known, err
}

func (d *Delegates) delegate(ctx context.Context, r *commands.Request) error {
	if n, ok := commands.ParseNumber(r.Args); ok {
		return d.showNumber(ctx, r, n)
	}
	electorate, known, err := d.inAssembly(ctx, r)
	if err != nil {
		return err
	}
	spec, err := d.motions.defaults(r)
	if err != nil {
		return err
	}
	term, err := termDuration(r.Config.Delegates.Term)
	if err != nil {
		return fmt.Errorf("config delegates.term: %w", err)
	}
	e, err := parseElection(r, r.Args, known, spec, term)
	if err != nil {
		return err
	}
	if err := d.eligible(ctx, r, e.user, electorate); err != nil {
		return err
	}
	active, err := r.Store.Delegations().Active(ctx, r.Room)
	if err != nil {
		return err
	}
	for _, del := range active {
		if del.User == e.user && del.Role == e.role {
			return commands.Refusef("%s already holds the mandate as %s (delegation #%d) until %s.", e.user, e.role, del.Number,
				timespec.Human(del.TermEnds, r.Location()))
		}
	}
	pending, err := r.Store.Delegations().PendingMotion(ctx, r.Room, kindElection, map[string]any{"user_id": e.user, "role": e.role})
	if err != nil {
		return err
	}
	if pending > 0 {
		return commands.Refusef("There is already an election of %s as %s: motion #%d. Vote on it with `%s`.", e.user, e.role, pending,
			r.Cmd(fmt.Sprintf("vote %d yes|no|abstain", pending))) // a command, English everywhere: not for members
	}
	e.spec.Kind = kindElection
	e.spec.Payload = encodePayload(delegationPayload{User: e.user, Role: e.role, Mandate: e.mandate, TermMinutes: int64(e.term / time.Minute)})
	// The wording is stored: it reads in the room's language as it is now.
	lang, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	e.spec.Text = msg.T("Elect %s as %s for %s with this mandate: %s", e.user, e.role, timespec.Remaining(e.term), e.mandate).In(lang)
	_, err = d.motions.propose(ctx, r, e.spec)
	return err
}

func (d *Delegates) recall(ctx context.Context, r *commands.Request) error {
	_, known, err := d.inAssembly(ctx, r)
	if err != nil {
		return err
	}
	a, err := parseRecall(r, r.Args, known)
	if err != nil {
		return err
	}
	del, err := d.heldBy(ctx, r, a.user, a.role)
	if err != nil {
		return err
	}
	pending, err := r.Store.Delegations().PendingMotion(ctx, r.Room, kindRecall, map[string]any{"delegation_id": del.ID})
	if err != nil {
		return err
	}
	if pending > 0 {
		return d.alreadyPending(ctx, r, del, pending)
	}
	spec, err := d.motions.defaults(r)
	if err != nil {
		return err
	}
	if spec.Threshold, err = ParseThreshold(r.Config.Delegates.RecallThreshold); err != nil {
		return fmt.Errorf("config delegates.recall_threshold: %w", err)
	}
	spec.Kind, spec.Secret = kindRecall, a.secret
	spec.Payload = encodePayload(delegationPayload{User: del.User, Role: del.Role, Delegation: del.ID, Reason: a.reason})
	lang, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	wording := msg.T("Recall %s as %s (delegation #%d)", del.User, del.Role, del.Number)
	if a.reason != "" {
		wording = msg.T("Recall %s as %s (delegation #%d). Reason: %s", del.User, del.Role, del.Number, a.reason)
	}
	spec.Text = wording.In(lang)
	_, err = d.motions.propose(ctx, r, spec)
	return err
}

// eligible refuses to elect the bot or anyone not a voting member here.
func (d *Delegates) eligible(ctx context.Context, r *commands.Request, user id.UserID, electorate []id.UserID) error {
	if user == r.Env.Bot {
		return commands.Refusef("I can't be a delegate: I only count the votes.")
	}
	if slices.Contains(electorate, user) {
		return nil
	}
	members, err := r.Rooms.Members(ctx, r.Room)
	if err != nil {
		return err
	}
	if slices.Contains(members, user) {
		return commands.Refusef("%s is not a voting member of this room, so they can't be elected.", user)
	}
	return commands.Refusef("%s is not in this room, so the assembly can't elect them here. Invite them first.", user)
}

// alreadyPending refuses a second recall of del and points to the first.
func (d *Delegates) alreadyPending(ctx context.Context, r *commands.Request, del *store.Delegation, number int) error {
	m, _, err := r.Store.Motions().ByNumber(ctx, r.Room, number)
	if err != nil {
		return err
	}
	how := msg.T("Vote on it with `%s`.", r.Cmd(fmt.Sprintf("vote %d yes", number))) // a command, English everywhere: not for members
	if m != nil && m.Status == store.MotionAwaitingSecond {
		how = msg.T("It needs a second: `%s`.", r.Cmd(fmt.Sprintf("second %d", number)))
	}
	return commands.Refusef("There is already a recall of %s as %s: motion #%d. %s", del.User, del.Role, number, how)
}

// heldBy finds the one active mandate of user (as role, if given) in the
// request's room, or explains why there is none to act on.
func (d *Delegates) heldBy(ctx context.Context, r *commands.Request, user id.UserID, role string) (*store.Delegation, error) {
	all, err := r.Store.Delegations().OfUser(ctx, r.Room, user)
	if err != nil {
		return nil, err
	}
	var held []*store.Delegation
	var roles []string
	slices.SortFunc(all, func(a, b *store.Delegation) int { return strings.Compare(a.Role, b.Role) })
	for _, del := range all {
		if del.Status == store.DelegationActive {
			roles = append(roles, del.Role)
			if role == "" || del.Role == role {
				held = append(held, del)
			}
		}
	}
	switch {
	case len(roles) == 0 && len(all) > 0:
		last := slices.MaxFunc(all, func(a, b *store.Delegation) int { return a.Number - b.Number })
		ended := timespec.Human(last.EndedAt, r.Location())
		if last.Status == store.DelegationRecalled {
			return nil, commands.Refusef("%s holds no mandate now, so there is nothing to recall: their last one, as %s (#%d), recalled on %s.",
				user, last.Role, last.Number, ended)
		}
		return nil, commands.Refusef("%s holds no mandate now, so there is nothing to recall: their last one, as %s (#%d), lapsed on %s.",
			user, last.Role, last.Number, ended)
	case len(roles) == 0:
		return nil, commands.Refusef("%s holds no mandate here, so there is nothing to recall. `%s` lists the delegates.", user, r.Cmd("delegates"))
	case len(held) == 0:
		return nil, commands.Refusef("%s holds no mandate as %s; they are %s.", user, role, strings.Join(roles, ", "))
	case len(held) > 1:
		return nil, commands.Refusef("%s holds %d mandates (%s). Say which, for example `%s`.", user, len(held), strings.Join(roles, ", "),
			r.Cmd(fmt.Sprintf("recall %s %s", user, held[0].Role))) // a command, English everywhere: not for members
	}
	return held[0], nil
}

func (d *Delegates) report(ctx context.Context, r *commands.Request) error {
	if r.InDM {
		return commands.Refusef("Send your report in the assembly's room, not in our private chat.")
	}
	// Command examples stay English everywhere: not for members.
	a, err := parseRoleText(r, r.Args, nil, false, maxReport, "report negotiator : Management offered 2% from January; I said I'd bring it back.")
	if err != nil {
		return err
	}
	active, err := r.Store.Delegations().Active(ctx, r.Room)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(active, func(del *store.Delegation) bool { return del.User == r.Sender && del.Role == a.role })
	if i < 0 {
		return commands.Refusef("Only a delegate holding %s can report for it, and you don't hold it now. `%s` lists the delegates.", a.role, r.Cmd("delegates"))
	}
	del := active[i]
	err = r.Store.Delegations().AddEvent(ctx, store.DelegationEvent{Delegation: del.ID, At: r.Clock.Now(), Kind: eventReport, User: r.Sender, Text: a.text})
	if err != nil {
		return err
	}
	r.Replyf("Thank you: your report is in the history of delegation #%d (`%s`). To put a proposal to the assembly's vote, send `%s`.",
		del.Number, r.Cmd(fmt.Sprintf("delegate %d", del.Number)), r.Cmd("ratify "+del.Role+" : <proposal>"))
	return nil
}

func (d *Delegates) ratify(ctx context.Context, r *commands.Request) error {
	_, known, err := d.inAssembly(ctx, r)
	if err != nil {
		return err
	}
	// Command examples stay English everywhere: not for members.
	a, err := parseRoleText(r, r.Args, known, true, maxProposal, "ratify negotiator : Accept 3% from January; weekend shifts stay voluntary")
	if err != nil {
		return err
	}
	del, err := d.ratifying(ctx, r, a)
	if err != nil {
		return err
	}
	spec, err := d.motions.defaults(r)
	if err != nil {
		return err
	}
	spec.Kind, spec.Secret = kindRatification, a.secret
	spec.Payload = encodePayload(delegationPayload{User: del.User, Role: del.Role, Delegation: del.ID, Proposal: a.text})
	lang, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	spec.Text = msg.T("Ratify the proposal %s brought back as %s (delegation #%d): %s", del.User, del.Role, del.Number, a.text).In(lang)
	_, err = d.motions.propose(ctx, r, spec)
	return err
}

// ratifying finds the mandate a proposal to ratify came back from: the
// named delegate's, the sender's own, or the role's only one.
func (d *Delegates) ratifying(ctx context.Context, r *commands.Request, a roleText) (*store.Delegation, error) {
	active, err := r.Store.Delegations().Active(ctx, r.Room)
	if err != nil {
		return nil, err
	}
	var holders []*store.Delegation
	for _, del := range active {
		if del.Role == a.role {
			holders = append(holders, del)
		}
	}
	if len(holders) == 0 {
		return nil, commands.Refusef("No one holds the mandate as %s now, so there is nothing to ratify for it. To vote on the proposal anyway, use `%s`.",
			a.role, r.Cmd("motion <text>"))
	}
	for _, want := range []id.UserID{a.user, r.Sender} {
		for _, del := range holders {
			if del.User == want {
				return del, nil
			}
		}
		if a.user != "" {
			return nil, commands.Refusef("%s does not hold the mandate as %s now.", a.user, a.role)
		}
	}
	if len(holders) > 1 {
		return nil, commands.Refusef("%d members hold %s. Say whose proposal it is, for example `%s`.", len(holders), a.role,
			r.Cmd(fmt.Sprintf("ratify %s %s : <proposal>", a.role, holders[0].User))) // a command, English everywhere: not for members
	}
	return holders[0], nil
}
