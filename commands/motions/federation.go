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
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
)

// Federation is branch assemblies federating in councils: a council room
// (!council on) admits branches' bots; a branch joins a council only by its
// own vote (!affiliate, a motion of kind affiliation), and its bot then
// announces it there. Everything between bots is an encrypted Matrix event
// in the council room.
type Federation struct {
	*commands.Env
	motions *Feature
}

// kindAffiliation is the kind of a motion that affiliates the room (a
// branch) with a council.
const kindAffiliation = "affiliation"

// kindDisaffiliation is the kind of a motion that takes the branch out of a
// council.
const kindDisaffiliation = "disaffiliation"

// AdmitReason is the reason of a council's invite to a branch's bot
// (!council admit). A bot that reads it in an invite keeps the invite until
// its branch's affiliation carries; anyone can write a reason, so it is
// never a reason to trust the inviter: the bot joins only on the invite of
// the council's bot that the affiliation motion named (--bot).
const AdmitReason = "quorum.council: admission of a branch's bot" // a protocol string, never translated: not for members

// maxElectorate bounds a branch's announced electorate, so that the
// council's sums of members' votes cannot overflow.
const maxElectorate = 10_000_000

// maxKeptInvites bounds the admissions kept waiting for a branch's vote.
const maxKeptInvites = 50

// Council rules: how a council decides a federal motion.
var councilRules = []string{"branches", "members", "unanimous"}

// affiliationPayload is an affiliation motion's payload.
type affiliationPayload struct {
	Council id.RoomID `json:"council"`
	Name    string    `json:"name"`
	// Bot is the council's bot, named in the motion the branch voted on.
	Bot id.UserID `json:"bot,omitempty"`
}

// branchAnnouncement is quorum.branch: a branch's bot telling its council
// which branch it speaks for.
type branchAnnouncement struct {
	Council    id.RoomID `json:"council"`
	Room       id.RoomID `json:"room"`
	Name       string    `json:"name"`
	Bot        id.UserID `json:"bot"`
	Electorate int       `json:"electorate"`
	// VotingSeconds is the least voting time of a federal motion in the
	// branch (its standing orders' voting_time): the council's deadline
	// leaves it that much.
	VotingSeconds int64          `json:"voting_time_seconds,omitempty"`
	Affiliation   map[string]any `json:"affiliation"`
}

// NewFederation adds councils and affiliations to the motions m.
func NewFederation(m *Feature) *Federation {
	f := &Federation{Env: m.Env, motions: m}
	m.kinds[kindAffiliation] = motionKind{decided: f.affiliationDecided, fields: affiliationField}
	m.kinds[kindDisaffiliation] = motionKind{decided: f.disaffiliationDecided, fields: affiliationField}
	m.kinds[kindFederal] = motionKind{decided: f.federalDecided, inMotion: federalField}
	m.federal = f.openFederal
	m.mandate = f.mandateChanged
	return f
}

// Group implements commands.Feature.
func (f *Federation) Group() string { return "Federation" }

// Commands implements commands.Feature.
func (f *Federation) Commands() []*commands.Command {
	return []*commands.Command{
		{
			Name:    "council",
			Usage:   "council",
			Summary: "show this council: its rule and its branches",
			Help: "A council is a room of branches: each branch keeps its own room, server and bot, and joins only by its own vote (`affiliate`). " +
				"Motions opened in a council are decided by the branches.",
			Examples: []string{"council", "council on Regional council", "council admit @quorum:branch.example.org"},
			Handler:  f.show,
			Subcommands: []*commands.Command{
				{
					Name:     "on",
					Usage:    "on [--rule branches|members|unanimous] [name]",
					Summary:  "make this room a council (moderators); the rule decides federal motions: a majority of branches (default), all members' votes summed, or every branch",
					Examples: []string{"council on Regional council", "council on --rule members Industry federation"},
					Handler:  f.on,
				},
				{
					Name:     "admit",
					Usage:    "admit <bot user ID>",
					Summary:  "invite a branch's bot into this council (moderators); it joins once its branch has voted to affiliate",
					Examples: []string{"council admit @quorum:branch.example.org"},
					Handler:  f.admit,
				},
			},
		},
		{
			Name:    "affiliate",
			Usage:   "affiliate [--closes WHEN] --bot <council bot user ID> <council room ID or alias> [branch name]",
			Summary: "propose that this branch joins a council whose bot is the one named (a motion under the room's standing orders)",
			Help: "If carried, I join the council as this branch's bot once the council's moderators admit me (`council admit`), in either order, " +
				"and announce the branch there. I accept the invite only from the council's bot named in the motion, and bring here federal motions only from it: " +
				"ask the council for its bot's ID (it answers `council` there). It needs what a ratification needs (`threshold`, `election_voting_time`).",
			Examples: []string{"affiliate --bot @quorum:council.example.org !AbCd:council.example.org Riverside branch",
				"affiliate --bot @quorum:council.example.org #regional:council.example.org Riverside"},
			Prepare: f.resolveCouncil,
			Handler: f.affiliate,
		},
		{
			Name:     "disaffiliate",
			Usage:    "disaffiliate [--closes WHEN] <council room ID>",
			Summary:  "propose that this branch leaves a council (a motion, as for `affiliate`)",
			Help:     "If carried, I tell the council that the branch has left, with the record of the vote, and leave it.",
			Examples: []string{"disaffiliate !AbCd:council.example.org"},
			Handler:  f.disaffiliate,
		},
	}
}

// councilField is quorum.council: the council and its announced branches,
// each with the delegates it seats there; and the delegates by branch room.
func (f *Federation) councilField(ctx context.Context, c *store.Council) (map[string]any, []*store.Branch, map[id.RoomID][]id.UserID, error) {
	list, err := f.Store.Federation().Branches(ctx, c.Room)
	if err != nil {
		return nil, nil, nil, err
	}
	seats, err := f.Store.Federation().Seats(ctx, c.Room)
	if err != nil {
		return nil, nil, nil, err
	}
	seated := map[id.RoomID][]id.UserID{}
	for _, s := range seats {
		seated[s.Branch] = append(seated[s.Branch], s.User)
	}
	branches := []map[string]any{}
	for _, b := range list {
		if b.Room != "" {
			branches = append(branches, map[string]any{"room": b.Room, "name": b.Name, "bot": b.Bot, "electorate": b.Electorate,
				"delegates": append([]id.UserID{}, seated[b.Room]...)})
		}
	}
	return map[string]any{"room": c.Room, "name": c.Name, "rule": c.Rule, "branches": branches}, list, seated, nil
}

// councilNotice describes the council, with quorum.council.
func (f *Federation) councilNotice(ctx context.Context, c *store.Council, head msg.Message) (msg.Message, error) {
	field, list, seated, err := f.councilField(ctx, c)
	if err != nil {
		return head, err
	}
	out := head.Append("**%s**: a council deciding by %s.", c.Name, ruleWords(c.Rule))
	if len(list) == 0 {
		out = out.Append("No branch yet: a moderator admits a branch's bot with `%s`.",
			f.Cmd("council admit <bot user ID>")) // a command, English everywhere: not for members
	}
	for _, b := range list {
		if b.Room == "" {
			out = out.Append("• %s: admitted, waiting for its branch's vote to affiliate", b.Bot.String())
		} else {
			out = out.Append("• %s (%s, %s), bot %s", b.Name, b.Room.String(), msg.N(b.Electorate, "%d member", "%d members"), b.Bot.String())
			if users := seated[b.Room]; len(users) > 0 {
				out = out.Append("  ↳ council delegates: %s", commands.UserList(users))
			}
		}
	}
	return out.With("quorum.council", field), nil
}

// ruleWords is how a council's rule reads in a sentence ("deciding by …").
func ruleWords(rule string) msg.Text {
	switch rule {
	case "members":
		return msg.T("all members' votes summed")
	case "unanimous":
		return msg.T("every branch")
	}
	return msg.T("a majority of branches")
}

func (f *Federation) show(ctx context.Context, r *commands.Request) error {
	if strings.TrimSpace(r.Args) != "" {
		word, _, _ := strings.Cut(strings.TrimSpace(r.Args), " ")
		return r.Unknown("", word)
	}
	c, ok, err := r.Store.Federation().Council(ctx, r.Room)
	if err != nil {
		return err
	}
	if !ok {
		return commands.Refusef("This room is not a council. A moderator makes it one with `%s`.",
			r.Cmd("council on [name]")) // a command, English everywhere: not for members
	}
	m, err := f.councilNotice(ctx, c, msg.Message{})
	m = m.Append("I am this council's bot: a branch affiliates by its vote on `%s`.", r.Cmd("affiliate --bot "+r.Bot.String()+" "+c.Room.String()+" <branch name>"))
	r.Reply(m)
	return err
}

func (f *Federation) on(ctx context.Context, r *commands.Request) error {
	if r.InDM {
		return commands.Refusef("A council is a room of branches; send this in that room.")
	}
	if ok, err := r.IsModerator(ctx, r.Room, r.Sender); err != nil {
		return err
	} else if !ok {
		return commands.Refusef("Only a moderator can make this room a council.")
	}
	if in, err := r.Store.Federation().IsBranchIn(ctx, r.Room); err != nil {
		return err
	} else if in {
		return commands.Refusef("I sit in this room as a branch's bot; the council's own bot runs it.")
	}
	rule := "branches"
	words := strings.Fields(r.Args)
	if len(words) > 0 {
		if name, value, hasValue, isOption := commands.Option(words[0]); isOption && name == "rule" {
			words = words[1:]
			if !hasValue && len(words) > 0 {
				value, words = words[0], words[1:]
			}
			if !slices.Contains(councilRules, value) {
				return commands.Refusef("The rule is one of `branches`, `members`, `unanimous`, e.g. `%s`.",
					r.Cmd("council on --rule branches Regional council")) // a command, English everywhere: not for members
			}
			rule = value
		}
	}
	name := strings.Join(words, " ")
	if name == "" {
		name = "Council"
	}
	if len(name) > 100 {
		return commands.Refusef("That name is too long for a council (at most 100 characters).")
	}
	c, exists, err := r.Store.Federation().Council(ctx, r.Room)
	if err != nil {
		return err
	}
	if exists {
		if c.Rule != rule && strings.Contains(r.Args, "rule") {
			return commands.Refusef("A council's rule is set when it is made; this one decides by %s.", ruleWords(c.Rule))
		}
		c.Name = name
	} else {
		c = &store.Council{Room: r.Room, Name: name, Rule: rule, CreatedBy: r.Sender, CreatedAt: r.Clock.Now()}
	}
	if err := r.Store.Federation().SetCouncil(ctx, *c); err != nil {
		return err
	}
	m, err := f.councilNotice(ctx, c, msg.F("This room is a council now."))
	if err != nil {
		return err
	}
	m, err = f.RecordChange(ctx, r.Room, "council.on", map[string]any{"name": c.Name, "rule": c.Rule, "by": r.Sender}, m)
	r.Reply(m)
	return err
}

func (f *Federation) admit(ctx context.Context, r *commands.Request) error {
	c, ok, err := r.Store.Federation().Council(ctx, r.Room)
	if err != nil {
		return err
	}
	if !ok {
		return commands.Refusef("This room is not a council. A moderator makes it one with `%s`.",
			r.Cmd("council on [name]")) // a command, English everywhere: not for members
	}
	if ok, err := r.IsModerator(ctx, r.Room, r.Sender); err != nil {
		return err
	} else if !ok {
		return commands.Refusef("Only a moderator can admit a branch.")
	}
	bot := id.UserID(strings.TrimSpace(r.Args))
	if _, _, err := bot.Parse(); err != nil || strings.ContainsAny(string(bot), " \t") {
		return commands.Refusef("Write the branch bot's full Matrix ID, e.g. `%s`.",
			r.Cmd("council admit @quorum:branch.example.org")) // a command, English everywhere: not for members
	}
	if bot == r.Bot {
		return commands.Refusef("I am this council's bot; admit the branches' bots.")
	}
	fresh, err := r.Store.Federation().Admit(ctx, c.Room, bot, r.Sender, r.Clock.Now())
	if err != nil {
		return err
	}
	if !fresh {
		return commands.Refusef("%s is admitted already.", bot.String())
	}
	m, err := f.RecordChange(ctx, r.Room, "council.admit", map[string]any{"bot": bot, "by": r.Sender},
		msg.F("I invited %s. It joins once its branch has voted to affiliate with this council naming me as its bot (`%s`), and then announces the branch here.",
			bot.String(), r.Cmd("affiliate --bot "+r.Bot.String()+" "+c.Room.String()+" <branch name>")))
	if err != nil {
		return err
	}
	r.Invite(r.Room, bot, AdmitReason, "")
	r.Reply(m)
	return nil
}

func (f *Federation) affiliate(ctx context.Context, r *commands.Request) error {
	if r.InDM {
		return commands.Refusef("A branch affiliates by its room's vote; send this in that room.")
	}
	spec, err := f.motions.defaults(r)
	if err != nil {
		return err
	}
	spec.Kind = kindAffiliation
	councilBot, args, err := takeBotOption(r, r.Args)
	if err != nil {
		return err
	}
	if spec, err = parseMotionArgs(r, args, spec); err != nil {
		return err
	}
	if councilBot == "" {
		return commands.Refusef("Name the council's bot, so that the branch votes on whom I take federal motions from: `%s` (the council's `council` shows its bot).",
			r.Cmd("affiliate --bot @quorum:council.example.org !AbCd:council.example.org Riverside branch")) // a command, English everywhere: not for members
	}
	if councilBot == r.Bot {
		return commands.Refusef("I am this branch's bot; `--bot` names the council's bot.")
	}
	target, name, _ := strings.Cut(strings.TrimSpace(spec.Text), " ")
	council := id.RoomID(target)
	if strings.HasPrefix(target, "#") {
		resolved, ok := r.Prepared.(id.RoomID)
		if !ok {
			return commands.Refusef("I couldn't find the room %s points to. Give the council's room ID (Element: Room settings → Advanced) instead.", target)
		}
		council = resolved
	}
	if !strings.HasPrefix(string(council), "!") || !strings.Contains(string(council), ":") {
		return commands.Refusef("Give the council's room ID (Element: Room settings → Advanced) or alias, e.g. `%s`.",
			r.Cmd("affiliate !AbCd:council.example.org Riverside branch")) // a command, English everywhere: not for members
	}
	if council == r.Room {
		return commands.Refusef("A room can't affiliate with itself.")
	}
	if _, isCouncil, err := r.Store.Federation().Council(ctx, r.Room); err != nil {
		return err
	} else if isCouncil {
		return commands.Refusef("This room is a council; a branch's room affiliates with it.")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = r.Room.String()
	}
	if len(name) > 100 {
		return commands.Refusef("That branch name is too long (at most 100 characters).")
	}
	if a, ok, err := r.Store.Federation().AffiliationOf(ctx, r.Room, council); err != nil {
		return err
	} else if ok {
		switch a.Status {
		case store.AffiliationCarried, store.AffiliationJoined:
			// One carried before --bot, not joined, names no council's bot:
			// it is voted again, naming it.
			if a.Status == store.AffiliationJoined || a.CouncilBot != "" {
				return commands.Refusef("This branch is affiliated with that council already.")
			}
		case store.AffiliationProposed:
			if m, found, err := r.Store.Motions().Get(ctx, a.Motion); err != nil {
				return err
			} else if found && (m.Status == store.MotionOpen || m.Status == store.MotionAwaitingSecond) {
				return commands.Refusef("Motion #%d already proposes that.", m.Number)
			}
		}
	}
	spec.Payload = encodePayload(affiliationPayload{Council: council, Name: name, Bot: councilBot})
	// The wording is stored: it reads in the room's language as it is now.
	lang, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	spec.Text = msg.T("Affiliate this branch, as %q, with the council %s, whose bot is %s (the only one whose federal motions I will bring here)",
		name, council, councilBot).In(lang)
	m, err := f.motions.propose(ctx, r, spec)
	if err != nil {
		return err
	}
	return r.Store.Federation().SetAffiliation(ctx, store.Affiliation{Branch: r.Room, Council: council, Motion: m.ID, Status: store.AffiliationProposed}, r.Clock.Now())
}

// affiliationDecided records a carried affiliation and, if the council's
// invite is waiting, joins it and announces the branch there.
func (f *Federation) affiliationDecided(ctx context.Context, fx *commands.Effects, m *store.Motion, outcome Outcome) error {
	p, err := decodePayload[affiliationPayload](m)
	if err != nil {
		return err
	}
	now := f.Clock.Now()
	if outcome != Carried {
		return f.Store.Federation().SetAffiliation(ctx, store.Affiliation{Branch: m.Room, Council: p.Council, Motion: m.ID, Status: string(outcome)}, now)
	}
	if p.Bot == "" {
		// An affiliation opened before --bot: nobody named, nobody trusted.
		fx.Say(m.Room, msg.F("Motion #%d carried, but it names no council's bot, so I can't tell whose federal motions to bring here. "+
			"Propose it again with `%s`.", m.Number, f.Cmd("affiliate --bot <council bot user ID> "+p.Council.String()))) // a command: not for members
		return f.Store.Federation().SetAffiliation(ctx, store.Affiliation{Branch: m.Room, Council: p.Council, Motion: m.ID, Status: string(Failed)}, now)
	}
	said, err := f.RecordChange(ctx, m.Room, "federation.affiliate", map[string]any{"council": p.Council, "name": p.Name, "bot": p.Bot, "motion": m.Number},
		msg.F("This branch is affiliated with the council %s, whose bot is %s, by motion #%d.", p.Council.String(), p.Bot.String(), m.Number))
	if err != nil {
		return err
	}
	invited, err := f.Store.Federation().PendingInvite(ctx, p.Council, p.Bot)
	if err != nil {
		return err
	}
	status := store.AffiliationCarried
	if invited {
		status = store.AffiliationJoined
		said = said.Append("The council's bot %s has admitted me: I am joining the council to announce the branch.", p.Bot.String())
	} else {
		said = said.Append("I join it as soon as its moderators admit me (`council admit %s` there), on the invite of %s only.", f.Bot.String(), p.Bot.String())
	}
	a := store.Affiliation{Branch: m.Room, Council: p.Council, Motion: m.ID, Status: status, CouncilBot: p.Bot}
	if err := f.Store.Federation().SetAffiliation(ctx, a, now); err != nil {
		return err
	}
	fx.Say(m.Room, said)
	if invited {
		fx.Join(a.Council)
		return f.announceBranch(ctx, fx, &a, false, 0)
	}
	return nil
}

// announceBranch queues the branch's announcement in a's council, after
// the bot's join; again (update) when its electorate has grown, since the
// council takes no branch result with an electorate larger than announced
// (atLeast, a federal motion's electorate, raises the count announced).
func (f *Federation) announceBranch(ctx context.Context, fx *commands.Effects, a *store.Affiliation, update bool, atLeast int) error {
	m, ok, err := f.Store.Motions().Get(ctx, a.Motion)
	if err != nil || !ok {
		return fmt.Errorf("affiliation motion %d: %w", a.Motion, err)
	}
	p, err := decodePayload[affiliationPayload](m)
	if err != nil {
		return err
	}
	members, err := f.motions.electorate(ctx, a.Branch)
	if err != nil {
		return err
	}
	size := max(len(members), atLeast) // atLeast: a federal motion's electorate, from when it opened
	o, err := f.motions.ordersOf(ctx, a.Branch)
	if err != nil {
		return err
	}
	_, _, voting, _ := o.least(kindFederal)
	kind := "federation.join"
	if update {
		kind = "federation.electorate"
	}
	seconds := int64(voting / time.Second)
	entry, recField, err := f.RecordDecision(ctx, a.Branch, kind, map[string]any{"council": a.Council, "motion": m.Number, "electorate": size,
		"voting_time_seconds": seconds})
	if err != nil {
		return err
	}
	if err := f.Store.Federation().SetAnnounced(ctx, a.Branch, a.Council, size); err != nil {
		return err
	}
	a.Electorate = size
	ann := branchAnnouncement{
		Council: a.Council, Room: a.Branch, Name: p.Name, Bot: f.Bot, Electorate: size, VotingSeconds: seconds,
		Affiliation: map[string]any{"motion": m.Number, "record": recField},
	}
	text := msg.F("I am the bot of the branch %q (%s, %s): it voted to affiliate with this council by its motion #%d. %s",
		p.Name, a.Branch.String(), msg.N(size, "%d member", "%d members"), m.Number, commands.RecordLine(entry))
	if update {
		text = msg.F("The branch %q (%s) now has %s, and gives a motion at least %s. %s", p.Name, a.Branch.String(),
			msg.N(size, "%d member", "%d members"), timespec.Remaining(voting), commands.RecordLine(entry))
	}
	fx.Say(a.Council, text.With("quorum.branch", ann))
	if update {
		return nil
	}
	return f.seatDelegates(ctx, fx, a)
}

// Invited implements commands.InviteReader: an invite into a council this
// bot's branch affiliated with is accepted from the council's bot that the
// affiliation motion named, and from nobody else (the carried affiliation
// is the branch's permission); an invite that comes before the vote is
// kept waiting for it. The invite's reason is never trusted.
func (f *Federation) Invited(ctx context.Context, fx *commands.Effects, inv commands.Invite) (commands.InviteAnswer, error) {
	affs, err := f.Store.Federation().Affiliations(ctx, inv.Room)
	if err != nil {
		return commands.InviteUsual, err
	}
	joined := false
	for _, a := range affs {
		if a.Status != store.AffiliationCarried && a.Status != store.AffiliationJoined {
			continue
		}
		if a.CouncilBot == "" || a.CouncilBot != inv.Inviter {
			continue // not the council's bot the branch voted for
		}
		a.Status = store.AffiliationJoined
		if err := f.Store.Federation().SetAffiliation(ctx, *a, inv.Time); err != nil {
			return commands.InviteUsual, err
		}
		if !joined {
			fx.Join(inv.Room)
			joined = true
		}
		fx.Say(a.Branch, msg.F("The council %s has admitted me (invited by its bot %s, as this branch voted): I am joining it to announce this branch.",
			inv.Room.String(), inv.Inviter.String()))
		if err := f.announceBranch(ctx, fx, a, false, 0); err != nil {
			return commands.InviteUsual, err
		}
	}
	if joined {
		return commands.InviteAccepted, nil
	}
	if inv.Reason == AdmitReason || slices.ContainsFunc(affs, func(a *store.Affiliation) bool { return a.CouncilBot == "" || a.CouncilBot == inv.Inviter }) {
		// Anyone can write that reason: past a bound, such invites go the
		// usual way (an outsider's is rejected) rather than pile up.
		if n, err := f.Store.Federation().PendingInvites(ctx); err != nil || n >= maxKeptInvites {
			return commands.InviteUsual, err
		}
		return commands.InviteKept, f.Store.Federation().Invited(ctx, inv.Room, inv.Inviter, inv.Time)
	}
	return commands.InviteUsual, nil
}

// Notice implements commands.NoticeReader: in a council, a branch's bot
// announcing its branch, reporting a result, seating its delegates or
// leaving; where this bot sits for its branch, the council's motions.
func (f *Federation) Notice(ctx context.Context, fx *commands.Effects, n commands.Notice) (bool, error) {
	if raw, ok := n.Fields["quorum.motion"]; ok {
		return f.councilMotionNotice(ctx, fx, n, raw)
	}
	c, isCouncil, err := f.Store.Federation().Council(ctx, n.Room)
	if err != nil || !isCouncil {
		return false, err
	}
	if raw, ok := n.Fields["quorum.branch_result"]; ok {
		return f.branchResultNotice(ctx, fx, n, c, raw)
	}
	if raw, ok := n.Fields["quorum.branch_left"]; ok {
		return f.branchLeftNotice(ctx, fx, n, c, raw)
	}
	if raw, ok := n.Fields["quorum.council_delegate"]; ok {
		return f.councilDelegateNotice(ctx, fx, n, c, raw)
	}
	raw, ok := n.Fields["quorum.branch"]
	if !ok {
		return false, nil
	}
	refuse := ignoring(fx, n, msg.T("branch announcement"))
	var ann branchAnnouncement
	if err := json.Unmarshal(raw, &ann); err != nil {
		return refuse(msg.T("it does not read as one."))
	}
	b, admitted, err := f.Store.Federation().Branch(ctx, c.Room, n.Sender)
	if err != nil {
		return false, err
	}
	switch {
	case !admitted:
		return refuse(msg.T("%s was not admitted to this council (`%s`).", n.Sender.String(),
			f.Cmd("council admit <bot user ID>"))) // a command, English everywhere: not for members
	case ann.Bot != n.Sender || ann.Council != c.Room:
		return refuse(msg.T("it names another bot or another council than its sender's and this one."))
	case !strings.HasPrefix(string(ann.Room), "!") || ann.Room == c.Room || ann.Electorate < 0 || ann.Electorate > maxElectorate || len(ann.Name) > 100 ||
		ann.VotingSeconds < 0 || ann.VotingSeconds > int64(maxVotingTime/time.Second):
		return refuse(msg.T("its branch room, name or electorate is not valid."))
	case b.Room != "" && b.Room != ann.Room:
		return refuse(msg.T("%s speaks for the branch %s here, not another.", n.Sender.String(), b.Room.String()))
	}
	list, err := f.Store.Federation().Branches(ctx, c.Room)
	if err != nil {
		return false, err
	}
	for _, other := range list {
		if other.Bot != n.Sender && other.Room == ann.Room {
			return refuse(msg.T("the branch %s has its bot here already (%s).", ann.Room.String(), other.Bot.String()))
		}
	}
	name := ann.Name
	if name == "" {
		name = ann.Room.String()
	}
	nb := store.Branch{Council: c.Room, Bot: n.Sender, Room: ann.Room, Name: name, Electorate: ann.Electorate, VotingTime: time.Duration(ann.VotingSeconds) * time.Second}
	if err := f.Store.Federation().Announce(ctx, nb, n.Time); err != nil {
		return false, err
	}
	head := msg.F("Welcome to the branch %q (%s), represented by its bot %s.", name, ann.Room.String(), n.Sender.String())
	if b.Room == ann.Room {
		head = msg.F("The branch %q (%s) now has %s and gives a motion at least %s, says its bot %s.", name, ann.Room.String(),
			msg.N(ann.Electorate, "%d member", "%d members"), timespec.Remaining(nb.VotingTime), n.Sender.String())
	}
	m, err := f.councilNotice(ctx, c, head)
	if err != nil {
		return false, err
	}
	m, err = f.RecordChange(ctx, c.Room, "council.branch", map[string]any{"room": ann.Room, "name": name, "bot": n.Sender, "electorate": ann.Electorate,
		"voting_time_seconds": ann.VotingSeconds}, m)
	if err != nil {
		return false, err
	}
	fx.Say(c.Room, m)
	return true, nil
}

// affiliationField is quorum.affiliation on an affiliation motion's notices.
func affiliationField(m *store.Motion) map[string]any {
	p, err := decodePayload[affiliationPayload](m)
	if err != nil {
		return nil
	}
	return map[string]any{"quorum.affiliation": p}
}

func (f *Federation) disaffiliate(ctx context.Context, r *commands.Request) error {
	if r.InDM {
		return commands.Refusef("A branch leaves a council by its room's vote; send this in that room.")
	}
	spec, err := f.motions.defaults(r)
	if err != nil {
		return err
	}
	spec.Kind = kindDisaffiliation
	if spec, err = parseMotionArgs(r, r.Args, spec); err != nil {
		return err
	}
	council := id.RoomID(strings.TrimSpace(spec.Text))
	a, ok, err := r.Store.Federation().AffiliationOf(ctx, r.Room, council)
	if err != nil {
		return err
	}
	if !ok || (a.Status != store.AffiliationJoined && a.Status != store.AffiliationCarried && a.Status != store.AffiliationLeaving) {
		return commands.Refusef("This branch is not affiliated with %s. Give the council's room ID, as `affiliate` did.", string(council))
	}
	if a.Status == store.AffiliationLeaving {
		if m, found, err := r.Store.Motions().Get(ctx, a.Motion); err != nil {
			return err
		} else if found && (m.Status == store.MotionOpen || m.Status == store.MotionAwaitingSecond) {
			return commands.Refusef("Motion #%d already proposes that.", m.Number)
		}
	}
	old, found, err := r.Store.Motions().Get(ctx, a.Motion)
	if err != nil || !found {
		return fmt.Errorf("affiliation motion %d: %w", a.Motion, err)
	}
	p, err := decodePayload[affiliationPayload](old)
	if err != nil {
		return err
	}
	spec.Payload = encodePayload(affiliationPayload{Council: council, Name: p.Name})
	lang, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	spec.Text = msg.T("Take this branch out of the council %s", council).In(lang)
	m, err := f.motions.propose(ctx, r, spec)
	if err != nil {
		return err
	}
	// The affiliation stands until the vote carries; the motion that would
	// end it is kept beside it.
	return r.Store.Federation().SetAffiliation(ctx, store.Affiliation{Branch: r.Room, Council: council, Motion: m.ID,
		Status: store.AffiliationLeaving, CouncilBot: a.CouncilBot, Joined: a.Status != store.AffiliationCarried}, r.Clock.Now())
}

// disaffiliationDecided takes the branch out of the council if carried:
// the council is told, with the record of the vote, and the bot leaves.
func (f *Federation) disaffiliationDecided(ctx context.Context, fx *commands.Effects, m *store.Motion, outcome Outcome) error {
	p, err := decodePayload[affiliationPayload](m)
	if err != nil {
		return err
	}
	a, ok, err := f.Store.Federation().AffiliationOf(ctx, m.Room, p.Council)
	if err != nil || !ok {
		return err
	}
	now := f.Clock.Now()
	if outcome != Carried {
		a.Status = store.AffiliationCarried
		if a.Joined {
			a.Status = store.AffiliationJoined
		}
		return f.Store.Federation().SetAffiliation(ctx, *a, now)
	}
	a.Status = store.AffiliationLeft
	if err := f.Store.Federation().SetAffiliation(ctx, *a, now); err != nil {
		return err
	}
	entry, recField, err := f.RecordDecision(ctx, m.Room, "federation.disaffiliate", map[string]any{"council": p.Council, "motion": m.Number})
	if err != nil {
		return err
	}
	fx.Say(m.Room, msg.F("This branch has left the council %s, by motion #%d. %s", p.Council.String(), m.Number, commands.RecordLine(entry)))
	if a.Joined {
		fx.Say(p.Council, msg.F("The branch %q (%s) has voted to leave this council, by its motion #%d. I am leaving.", p.Name, m.Room.String(), m.Number).
			With("quorum.branch_left", map[string]any{"council": p.Council, "room": m.Room, "bot": f.Bot, "motion": m.Number, "record": recField}))
		// A leave's reason is no message: it is in the council's language.
		lang, err := f.Lang(ctx, p.Council)
		if err != nil {
			return err
		}
		fx.Leave(p.Council, msg.T("The branch voted to leave this council.").In(lang))
	}
	return nil
}

// branchLeftNotice removes a branch whose bot says it voted to leave.
func (f *Federation) branchLeftNotice(ctx context.Context, fx *commands.Effects, n commands.Notice, c *store.Council, raw json.RawMessage) (bool, error) {
	var left struct {
		Room id.RoomID `json:"room"`
	}
	_ = json.Unmarshal(raw, &left)
	b, admitted, err := f.Store.Federation().Branch(ctx, c.Room, n.Sender)
	if err != nil {
		return false, err
	}
	if !admitted || b.Room == "" || b.Room != left.Room {
		m := msg.F("I ignored that: only a branch's own bot can say that its branch left.")
		m.ReplyTo = n.Event
		fx.Say(n.Room, m)
		return true, nil
	}
	if err := f.unseatBranch(ctx, fx, c, b); err != nil {
		return false, err
	}
	if err := f.Store.Federation().RemoveBranch(ctx, c.Room, n.Sender); err != nil {
		return false, err
	}
	out, err := f.councilNotice(ctx, c, msg.F("The branch %q (%s) has left this council.", b.Name, b.Room.String()))
	if err != nil {
		return false, err
	}
	out, err = f.RecordChange(ctx, c.Room, "council.branch_left", map[string]any{"room": b.Room, "name": b.Name, "bot": n.Sender}, out)
	if err != nil {
		return false, err
	}
	fx.Say(c.Room, out)
	return true, nil
}

// resolveCouncil finds the room of a council given by its alias, before the
// command's transaction (it asks the homeserver).
func (f *Federation) resolveCouncil(ctx context.Context, r *commands.Request) error {
	resolver, ok := f.Rooms.(commands.AliasResolver)
	if !ok {
		return nil
	}
	for _, w := range strings.Fields(r.Args) {
		if strings.HasPrefix(w, "#") && strings.Contains(w, ":") && len(w) <= 255 {
			if room, err := resolver.ResolveAlias(ctx, id.RoomAlias(w)); err == nil {
				r.Prepared = room
			}
			return nil
		}
	}
	return nil
}

// takeBotOption takes --bot <user ID> (or --bot=<user ID>) out of args: the
// council's bot that an affiliation names.
func takeBotOption(r *commands.Request, args string) (id.UserID, string, error) {
	words := strings.Fields(args)
	for i, w := range words {
		name, value, hasValue, isOption := commands.Option(w)
		if !isOption || name != "bot" {
			continue
		}
		used := 1
		if !hasValue && i+1 < len(words) {
			value, used = words[i+1], 2
		}
		bot := id.UserID(value)
		if _, _, err := bot.Parse(); err != nil || !strings.HasPrefix(value, "@") {
			return "", "", commands.Refusef("`--bot` is the council's bot's full Matrix ID, e.g. `%s`.",
				r.Cmd("affiliate --bot @quorum:council.example.org !AbCd:council.example.org Riverside branch")) // a command, English everywhere: not for members
		}
		rest := slices.Concat(words[:i], words[i+used:])
		return bot, strings.Join(rest, " "), nil
	}
	return "", args, nil
}

// ignoring returns the refusal of a council notice n (a branch's
// announcement or result): a reply saying it was ignored, and why.
func ignoring(fx *commands.Effects, n commands.Notice, what msg.Text) func(why msg.Text) (bool, error) {
	return func(why msg.Text) (bool, error) {
		m := msg.F("I ignored that %s: %s", what, why)
		m.ReplyTo = n.Event
		fx.Say(n.Room, m)
		return true, nil
	}
}
