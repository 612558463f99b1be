package motions

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/timespec"
)

// The grammar of !delegate, !recall, !report and !ratify: a few words,
// then a colon, then free text (a mandate, a reason, a report).
//
//	delegate @user <role> [--term 90d] [--closes WHEN] [--quorum Q] [--threshold T] : <mandate>
//	recall   @user [role] [--secret] [: reason]
//	report   <role> : <text>
//	ratify   <role> [@user] [--secret] : <proposal>
//
// The colon that separates is found by splitColon (series.go): the colons
// in a user ID (@ana:example.org) and in a time (18:00) never split. The
// free text is kept as written, line breaks included.

const (
	maxRoleLen  = 32
	maxMandate  = 1500
	maxProposal = 1500
	maxReason   = 500
	maxReport   = 4000
)

// parseRole reads a role: one word of letters, digits, '-' and '_',
// starting with a letter, at most 32 characters, compared in lower case.
// "history" is taken by `delegates history <role>`.
func parseRole(s string) (string, bool) {
	role := strings.ToLower(s)
	if role == "" || role == "history" || utf8.RuneCountInString(role) > maxRoleLen {
		return "", false
	}
	for i, c := range role {
		ok := unicode.IsLetter(c) || i > 0 && (unicode.IsDigit(c) || c == '-' || c == '_')
		if !ok {
			return "", false
		}
	}
	return role, true
}

// echo is what a reply quotes of what someone typed: short enough that a
// huge argument never makes a reply too large to send.
func echo(s string) string { return commands.Shorten(s, 40) }

// userExample is a user ID for examples in replies, on the sender's server.
func userExample(r *commands.Request) string {
	return "@name:" + r.Sender.Homeserver()
}

func roleError(r *commands.Request, s string) error {
	return commands.Refusef("%q can't be a role: use one word such as `negotiator` or `federation-delegate`. For example: `%s`",
		echo(s), r.Cmd("delegate "+userExample(r)+" negotiator : Negotiate the new rota")) // a command example, English everywhere: not for members
}

// parseUser reads a member: a full user ID (@ana:example.org, also as a
// matrix.to link) or, if it is unambiguous among known, a bare @localpart.
// It does not check that the user is in the room.
func parseUser(r *commands.Request, s string, known []id.UserID) (id.UserID, error) {
	s = strings.TrimPrefix(s, "https://matrix.to/#/")
	if !strings.HasPrefix(s, "@") || len(s) < 2 {
		return "", commands.Refusef("%q is not a member. Write their Matrix ID, such as `%s`.", echo(s), userExample(r))
	}
	if strings.Contains(s, ":") {
		u := id.UserID(s)
		if _, _, err := u.ParseAndValidateRelaxed(); err != nil {
			return "", commands.Refusef("%q is not a Matrix ID. Write it like `%s`.", echo(s), userExample(r))
		}
		return u, nil
	}
	var found []id.UserID
	for _, u := range known {
		if strings.EqualFold(u.Localpart(), s[1:]) && !slices.Contains(found, u) {
			found = append(found, u)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", commands.Refusef("I can't find %s here. Write their full Matrix ID, such as `%s`.", echo(s), userExample(r))
	}
	return "", commands.Refusef("More than one member is called %s (%s, %s). Write the full Matrix ID.", s, found[0], found[1])
}

// election is a parsed !delegate.
type election struct {
	user    id.UserID
	role    string
	term    time.Duration
	mandate string
	spec    motionSpec
}

// parseElection reads `@user <role> [options] : <mandate>` over the room's
// motion defaults (spec) and the configured term.
func parseElection(r *commands.Request, args string, known []id.UserID, spec motionSpec, term time.Duration) (election, error) {
	example := r.Cmd("delegate " + userExample(r) + " negotiator --term 60d : Negotiate the new rota; no pay cuts") // a command example, English everywhere: not for members
	head, mandate, found := commands.SplitColon(args)
	words := strings.Fields(head)
	if len(words) < 2 || !found {
		return election{}, commands.Refusef("Say who, which role, and the mandate after a colon. For example: `%s`", example)
	}
	e := election{term: term, mandate: mandate}
	var err error
	if e.user, err = parseUser(r, words[0], known); err != nil {
		return election{}, err
	}
	var ok bool
	if e.role, ok = parseRole(words[1]); !ok {
		return election{}, roleError(r, words[1])
	}
	options, err := takeTerm(r, words[2:], &e.term)
	if err != nil {
		return election{}, err
	}
	if len(options) > 0 {
		// The motion options, read by the motions' own parser; anything it
		// does not take as an option would be text, and there is none here.
		const rest = "mandate"
		if spec, err = parseMotionArgs(r, strings.Join(options, " ")+" : "+rest, spec); err != nil {
			return election{}, err
		}
		if spec.Text != rest {
			return election{}, commands.Refusef("I don't understand `%s` before the colon. For example: `%s`", echo(strings.Join(options, " ")), example)
		}
	}
	e.spec = spec
	switch {
	case e.mandate == "":
		return election{}, commands.Refusef("What is the mandate? Write it after the colon. For example: `%s`", example)
	case len(e.mandate) > maxMandate:
		return election{}, commands.Refusef("That mandate is %d characters long; the limit is %d. Put the details in a document and link it.", len(e.mandate), maxMandate)
	}
	return e, nil
}

// takeTerm removes `--term D` (or --term=D; D up to three words, such as
// "90 days") from words, setting *term, and returns the other words.
func takeTerm(r *commands.Request, words []string, term *time.Duration) ([]string, error) {
	var rest []string
	for i := 0; i < len(words); i++ {
		name, value, hasValue, isOption := commands.Option(words[i])
		if !isOption || name != "term" {
			rest = append(rest, words[i])
			continue
		}
		var err error
		if hasValue {
			*term, err = termDuration(value)
		} else {
			n := min(3, len(words)-i-1)
			for ; n >= 1; n-- {
				if *term, err = termDuration(strings.Join(words[i+1:i+1+n], " ")); err == nil {
					break
				}
			}
			if n == 0 {
				*term, err = termDuration("")
			}
			i += n
		}
		if err != nil {
			return nil, err
		}
	}
	return rest, nil
}

// maxTerm bounds a term: delegates are temporary, and rotation is
// encouraged; the assembly can elect the same member again.
const maxTerm = 365 * 24 * time.Hour

func termDuration(s string) (time.Duration, error) {
	d, err := timespec.Duration(s)
	if err != nil || d > maxTerm {
		return 0, commands.Refusef("`--term` needs a length of at most 365 days, such as `90d`, `12w` or `6 weeks`.")
	}
	return d, nil
}

// takeSecret removes --secret from words. A recall or a ratification
// takes no other voting option (see the feature's decisions).
func takeSecret(words []string) ([]string, bool, error) {
	var rest []string
	secret := false
	for _, w := range words {
		name, _, _, isOption := commands.Option(w)
		switch {
		case isOption && name == "secret":
			secret = true
		case commands.NearMiss(w, "secret"):
			return nil, false, commands.Refusef("Did you mean `--secret`? I did nothing, so that the vote is not open by mistake; send it again with `--secret`.")
		case isOption:
			return nil, false, commands.Refusef("`%s` can't be used here: a recall or a ratification always has the room's usual quorum and deadline "+
				"(and a recall the configured threshold), so nobody can rig one. Only `--secret` is allowed.", echo(w))
		default:
			rest = append(rest, w)
		}
	}
	return rest, secret, nil
}

// recallArgs is a parsed !recall.
type recallArgs struct {
	user   id.UserID
	role   string // "" if not given
	reason string
	secret bool
}

// parseRecall reads `@user [role] [--secret] [: reason]`.
func parseRecall(r *commands.Request, args string, known []id.UserID) (recallArgs, error) {
	var a recallArgs
	head, reason, _ := commands.SplitColon(args)
	words, secret, err := takeSecret(strings.Fields(head))
	if err != nil {
		return recallArgs{}, err
	}
	a.secret = secret
	if len(words) == 0 || len(words) > 2 {
		return recallArgs{}, commands.Refusef("Say whom to recall, and optionally the role and a reason. For example: `%s`",
			r.Cmd("recall "+userExample(r)+" negotiator : Agreed to Sunday shifts against the mandate")) // a command example, English everywhere: not for members
	}
	if a.user, err = parseUser(r, words[0], known); err != nil {
		return recallArgs{}, err
	}
	if len(words) == 2 {
		var ok bool
		if a.role, ok = parseRole(words[1]); !ok {
			return recallArgs{}, roleError(r, words[1])
		}
	}
	if len(reason) > maxReason {
		return recallArgs{}, commands.Refusef("That reason is %d characters long; the limit is %d. Say more in the room.", len(reason), maxReason)
	}
	a.reason = reason
	return a, nil
}

// roleText is a parsed !report or !ratify.
type roleText struct {
	role   string
	user   id.UserID // "" if not given
	text   string
	secret bool
}

// parseRoleText reads `<role> : <text>` or, for a ratification,
// `<role> [@user] [--secret] : <text>`; limit bounds the text, example is
// shown on a mistake.
func parseRoleText(r *commands.Request, args string, known []id.UserID, ratification bool, limit int, example string) (roleText, error) {
	var a roleText
	head, text, found := commands.SplitColon(args)
	words := strings.Fields(head)
	maxWords := 1
	if ratification {
		var err error
		if words, a.secret, err = takeSecret(words); err != nil {
			return roleText{}, err
		}
		maxWords = 2
	}
	if !found || text == "" || len(words) == 0 || len(words) > maxWords {
		return roleText{}, commands.Refusef("Say which role, then the text after a colon. For example: `%s`", r.Cmd(example))
	}
	var ok bool
	if a.role, ok = parseRole(words[0]); !ok {
		return roleText{}, roleError(r, words[0])
	}
	if len(words) == 2 {
		var err error
		if a.user, err = parseUser(r, words[1], known); err != nil {
			return roleText{}, err
		}
	}
	if len(text) > limit {
		return roleText{}, commands.Refusef("That is %d characters long; the limit is %d. Put the details in a document and link it.", len(text), limit)
	}
	a.text = text
	return a, nil
}

// knownUsers is whom a bare @localpart may mean: the room's members and
// its active delegates (who may have left).
func (d *Delegates) knownUsers(ctx context.Context, r *commands.Request) ([]id.UserID, error) {
	known, err := r.Rooms.Members(ctx, r.Room)
	if err != nil {
		return nil, err
	}
	active, err := r.Store.Delegations().Active(ctx, r.Room)
	if err != nil {
		return nil, err
	}
	for _, del := range active {
		known = append(known, del.User)
	}
	return known, nil
}
