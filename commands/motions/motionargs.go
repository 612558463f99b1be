package motions

import (
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/timespec"
	"quorum/config"
)

// motionSpec is a motion as proposed: everything !motion (or !delegate,
// !recall, !ratify) decided before it is stored.
type motionSpec struct {
	Kind      string
	Payload   string
	Text      string
	Threshold Threshold
	Quorum    Quorum
	// Exactly one of Closes (absolute) and Duration (from the opening) is set.
	Closes   time.Time
	Duration time.Duration
	Secret   bool
	// chose says which of the room's defaults the proposer set: the
	// standing orders raise the others to their least, and refuse these
	// when looser.
	chose struct{ threshold, quorum, closes bool }
}

// maxMotionText bounds a motion's wording; longer belongs in a document.
const maxMotionText = 2000

// deadline reads --closes: a duration counts from the opening (which, for a
// motion awaiting a second, is later); anything else is a moment.
func deadline(s string, now time.Time, loc *time.Location) (time.Time, time.Duration, error) {
	if d, err := timespec.Duration(s); err == nil {
		return time.Time{}, d, nil
	}
	t, err := timespec.Moment(s, now, loc)
	if err != nil {
		return time.Time{}, 0, err
	}
	return t, 0, nil
}

// parseMotionArgs reads `[--threshold T] [--quorum Q] [--closes WHEN]
// [--secret] [:] <text>`. The options may stand anywhere, written as phones
// type them (—secret); --closes takes the longest run of up to four words
// that reads as a time ("--closes friday 18:00 Pay the rent"); a lone ":"
// may separate leading options from the text when that is ambiguous.
// Options may also be written --name=value. A near-miss of --secret is
// refused with the command corrected: a mistyped flag must never open an
// open vote on what was meant to be secret.
func parseMotionArgs(r *commands.Request, args string, spec motionSpec) (motionSpec, error) {
	words := strings.Fields(args)
	now, loc := r.Clock.Now(), r.Location()
	var text []string
	for i := 0; i < len(words); {
		w := words[i]
		name, value, hasValue, isOption := commands.Option(w)
		if !isOption || optionExample[name] == "" && name != "secret" {
			switch {
			case commands.NearMiss(w, "secret"):
				corrected := slices.Concat([]string{"motion", "--secret"}, words[:i], words[i+1:])
				return spec, commands.Refusef("Did you mean `--secret`? I did nothing, so that the vote is not open by mistake. Send: `%s`", r.Cmd(strings.Join(corrected, " ")))
			case isOption && len(text) == 0:
				return spec, commands.Refusef("I don't know the option `--%s`. Options: `--threshold`, `--quorum`, `--closes`, `--secret`.", name)
			case w == ":" && len(text) == 0 && i > 0:
			default:
				text = append(text, w)
			}
			i++
			continue
		}
		used, err := takeOption(r, &spec, name, value, hasValue, words[i+1:], now, loc)
		if err != nil {
			return spec, err
		}
		i += 1 + used
	}
	spec.Text = strings.Join(text, " ")
	if spec.Text == "" {
		// not for members to translate: a command, the same in every language
		return spec, commands.Refusef("What is the motion? For example: `%s`", r.Cmd("motion --closes 48h Pay the rent from the strike fund"))
	}
	if len(spec.Text) > maxMotionText {
		return spec, commands.Refusef("That motion is %d characters long; the limit is %d. Put the details in a document and link it.", len(spec.Text), maxMotionText)
	}
	return spec, nil
}

// takeOption applies option name to spec, its value given (--name=value)
// or read from rest; it returns how many words of rest it used.
func takeOption(r *commands.Request, spec *motionSpec, name, value string, hasValue bool, rest []string, now time.Time, loc *time.Location) (int, error) {
	used := 0
	if !hasValue && name != "secret" && name != "closes" {
		if len(rest) == 0 {
			// not for members to translate: a command, the same in every language
			return 0, commands.Refusef("`--%s` needs a value. For example: `%s`", name, r.Cmd("motion --"+name+" "+optionExample[name]+" Pay the rent from the strike fund"))
		}
		value, used = rest[0], 1
	}
	var err error
	switch name {
	case "threshold":
		spec.Threshold, err = ParseThreshold(value)
		spec.chose.threshold = true
	case "quorum":
		spec.Quorum, err = ParseQuorum(value)
		spec.chose.quorum = true
	case "closes":
		if hasValue {
			spec.Closes, spec.Duration, err = deadline(value, now, loc)
		} else {
			spec.Closes, spec.Duration, used, err = longestDeadline(rest, now, loc)
		}
		spec.chose.closes = true
	case "secret":
		spec.Secret = true
	}
	return used, err
}

var optionExample = map[string]string{"threshold": "2/3", "quorum": "50%", "closes": "48h"}

// longestDeadline reads the longest prefix of words (up to four) that is a
// deadline, and how many words it used.
func longestDeadline(words []string, now time.Time, loc *time.Location) (time.Time, time.Duration, int, error) {
	var firstErr error
	for n := min(4, len(words)); n >= 1; n-- {
		t, d, err := deadline(strings.Join(words[:n], " "), now, loc)
		if err == nil {
			return t, d, n, nil
		}
		if n == 1 {
			firstErr = err
		}
	}
	if firstErr == nil {
		return time.Time{}, 0, 0, commands.Refusef("`--closes` needs a time, such as `48h`, `friday 18:00` or `2026-12-01 18:00`.")
	}
	return time.Time{}, 0, 0, firstErr
}

// CheckConfig validates the motion defaults, globally and per room, so that
// a typo in the configuration stops the bot at start rather than failing
// every !motion. Its errors are for the operator, in English.
func CheckConfig(cfg *config.Config) error {
	rooms := []id.RoomID{""}
	for _, r := range cfg.Rooms {
		rooms = append(rooms, id.RoomID(r.ID))
	}
	for _, room := range rooms {
		d := cfg.MotionDefaults(room)
		where := "motions"
		if room != "" {
			// not for members: the operator's
			where = "the motions of room " + string(room)
		}
		if _, err := ParseThreshold(d.Threshold); err != nil {
			// not for members: the operator's
			return config.Invalid("config: threshold %q in %s: use majority, 2/3, 3/4, unanimous or a percentage such as 60%%", d.Threshold, where)
		}
		if _, err := ParseQuorum(d.Quorum); err != nil {
			// not for members: the operator's
			return config.Invalid("config: quorum %q in %s: use a share such as 50%%, a number such as 6, or 0", d.Quorum, where)
		}
		if _, err := timespec.Duration(d.Closes); err != nil {
			// not for members: the operator's
			return config.Invalid("config: closes %q in %s: use a duration such as 72h or 3d", d.Closes, where)
		}
	}
	if err := CheckDelegatesConfig(cfg); err != nil {
		return err
	}
	for _, ru := range rules {
		v := ru.configured(cfg, "")
		if _, err := ru.read(v); err != nil {
			// not for members: the operator's
			return config.Invalid("config: standing_orders.%s %q: %s", ru.name, v, err)
		}
	}
	if err := checkBallot(cfg.Motions.Ballot, cfg.Motions.PollKind); err != nil {
		// not for members: the operator's
		return config.Invalid("config: %s", err)
	}
	if d, err := time.ParseDuration(cfg.Motions.Settle); err != nil || d < 0 || d > maxSettle {
		// not for members: the operator's
		return config.Invalid("config: motions.settle %q: use a duration of at most 10m such as 30s, or 0s to close as soon as everyone has voted", cfg.Motions.Settle)
	}
	for _, list := range [][]string{cfg.Motions.Yes, cfg.Motions.No, cfg.Motions.Abstain} {
		if len(list) == 0 {
			// not for members: the operator's
			return config.Invalid("config: motions.yes, motions.no and motions.abstain each need at least one emoji; for example `yes: [\"👍\"]`")
		}
	}
	return nil
}
