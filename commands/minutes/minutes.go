package minutes

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"quorum/commands"
	"quorum/commands/elections"
	"quorum/commands/motions"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/record"
	"quorum/store"
	"quorum/stv"
)

// Feature is the assembly's memory that members can check: the bot's
// OpenPGP key (!key) and the signed minutes (!minutes) of the hash-chained
// record every decision is appended to (package record).
type Feature struct {
	*commands.Env
	// asked is when each member asked for minutes in each room lately. In
	// memory: a restart forgetting a rate limit is harmless.
	mu    sync.Mutex
	asked map[[2]string][]time.Time
}

// Bounds on !minutes: rendering and signing a long record is work, and the
// file goes through the outbox.
const (
	maxMinutesEntries = 2000
	maxMinutesAsked   = 10 // by one member in a room, per minutesWindow
	minutesWindow     = time.Hour
)

// New makes the minutes feature.
func New(env *commands.Env) *Feature { return &Feature{Env: env, asked: map[[2]string][]time.Time{}} }

// Group implements commands.Feature.
func (t *Feature) Group() string { return "Minutes" }

func (t *Feature) Commands() []*commands.Command {
	return []*commands.Command{
		{
			Name:    "key",
			Usage:   "key",
			Summary: "show the bot's OpenPGP key, which signs the minutes",
			Help: "Keep a copy of the key and compare its fingerprint with another member's. With it, anyone can check signed minutes later: " +
				"`quorum verify minutes.md --key key.asc`, or `gpg --output checked.md --verify minutes.md` and then read only checked.md " +
				"(`gpg --verify` alone also reports a good signature when unsigned text was added around the signed part). " +
				"Restoring a backup needs it too: `quorum import … --signed-by key.asc`.",
			Handler: t.key,
		},
		{
			Name:    "minutes",
			Usage:   "minutes [from <date>] [to <date>]",
			Summary: "post the signed record of decisions for a period",
			Help: "Posts the record as a Markdown document clear-signed with the bot's key, as an encrypted attachment. " +
				"Every entry carries the hash of the one before, so a rewritten record shows.",
			Examples: []string{"minutes", "minutes from 2026-11-01", "minutes from 2026-11-01 to 2026-11-30"},
			Prepare:  t.prepareMinutes,
			Handler:  t.minutes,
		},
	}
}

func (t *Feature) key(_ context.Context, r *commands.Request) error {
	if r.Key == nil {
		return commands.Refusef("This bot has no signing key configured.")
	}
	pub, err := r.Key.ArmoredPublic()
	if err != nil {
		return err
	}
	r.Reply(msg.F("**Quorum's signing key**\nFingerprint: `%s`\n%s", r.Key.Fingerprint(), string(pub)).
		With("quorum.key", map[string]any{"fingerprint": strings.ReplaceAll(r.Key.Fingerprint(), " ", ""), "armored": string(pub)}))
	return nil
}

// signedMinutes is the document prepared for a !minutes.
type signedMinutes struct {
	name    string
	data    []byte
	entries int
}

// prepareMinutes renders and signs the minutes before the command's
// transaction, so that a long record does not hold the database.
func (t *Feature) prepareMinutes(ctx context.Context, r *commands.Request) error {
	if r.Key == nil {
		return commands.Refusef("This bot has no signing key configured, so it cannot sign minutes.")
	}
	loc, now := r.Location(), r.Clock.Now()
	if n := t.recentlyAsked(r, now); n >= maxMinutesAsked {
		return commands.Refusef("You have asked for the minutes %d times in the last hour; the last file above is current. Ask again later.", n)
	}
	from, to, err := period(r.Args, now, loc)
	if err != nil {
		return err
	}
	entries, err := r.Store.Records().Between(ctx, r.Room, from, to)
	if err != nil {
		return err
	}
	if len(entries) > maxMinutesEntries {
		return commands.Refusef("That period holds %d decisions; I sign at most %d in one document. Ask for a shorter period, e.g. `%s`.",
			len(entries), maxMinutesEntries, r.Cmd("minutes from "+entries[len(entries)-maxMinutesEntries].Time.In(loc).AddDate(0, 0, 1).Format("2006-01-02"))) // a command: not for members to read translated
	}
	// The minutes' text for people is in the language of the room that
	// asked; what is signed and verified is the same in every language.
	lang, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	doc := record.RenderMinutes(record.Minutes{Room: r.Room.String(), From: from, To: to, Entries: entries, Generated: now, Lang: lang},
		func(e record.Entry) string { return describeEntry(lang, e) })
	signed, err := r.Key.ClearSign(doc)
	if err != nil {
		return err
	}
	r.Prepared = signedMinutes{name: fmt.Sprintf("minutes-%s.md", now.In(loc).Format("2006-01-02")), data: signed, entries: len(entries)}
	return nil
}

// recentlyAsked counts sender's !minutes in the room within the window.
func (t *Feature) recentlyAsked(r *commands.Request, now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := [2]string{r.Room.String(), r.Sender.String()}
	t.asked[key] = slices.DeleteFunc(t.asked[key], func(at time.Time) bool { return now.Sub(at) >= minutesWindow })
	return len(t.asked[key])
}

// minutes posts the minutes prepared for the command.
func (t *Feature) minutes(ctx context.Context, r *commands.Request) error {
	m := r.Prepared.(signedMinutes)
	t.mu.Lock()
	key := [2]string{r.Room.String(), r.Sender.String()}
	t.asked[key] = append(t.asked[key], r.Clock.Now())
	t.mu.Unlock()
	// A file's caption is not a message: it is written in the room's language.
	lang, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	r.File(r.Room, msg.File{Name: m.name, MimeType: "text/markdown", Data: m.data, ReplyTo: r.Event,
		Caption: msg.T("Minutes: %s, signed by %s. Check with `quorum verify %s --key key.asc`, or with `gpg --output checked.md --verify %s` and read only checked.md: gpg --verify alone does not notice text added around the signed part.",
			msg.N(m.entries, "%d decision", "%d decisions"), r.Key.Fingerprint(), m.name, m.name).In(lang)})
	return nil
}

// period reads `[from <date>] [to <date>]`: from the start of the record to
// now by default; "to" includes the whole day named.
func period(args string, now time.Time, loc *time.Location) (time.Time, time.Time, error) {
	from, to := time.Unix(0, 0), now.Add(time.Second)
	words := strings.Fields(strings.ToLower(args))
	for len(words) > 0 {
		if len(words) < 2 || (words[0] != "from" && words[0] != "to") {
			return from, to, commands.Refusef("Say the period like `minutes from 2026-11-01 to 2026-11-30` (both parts optional).")
		}
		end := 2
		for end < len(words) && words[end] != "from" && words[end] != "to" {
			end++
		}
		day, err := timespec.Date(strings.Join(words[1:end], " "), now, loc)
		if err != nil {
			return from, to, err
		}
		if words[0] == "from" {
			from = day
		} else {
			to = day.AddDate(0, 0, 1)
		}
		words = words[end:]
	}
	if !from.Before(to) {
		return from, to, commands.Refusef("The period ends before it starts.")
	}
	return from, to, nil
}

// strs reads a JSON list of strings.
func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// describeEntry is the sentence for people beside each entry in the
// minutes, in lang. The entry's fields stay as recorded.
func describeEntry(lang string, e record.Entry) string {
	var c map[string]any
	if err := json.Unmarshal(e.Content, &c); err != nil {
		return e.Kind
	}
	num := func(k string) int { f, _ := c[k].(float64); return int(f) }
	str := func(k string) string { s, _ := c[k].(string); return s }
	switch e.Kind {
	case "motion.result":
		return msg.T("Motion #%d (%s): %s %d–%d, %s; %d of %d voted, quorum %d, threshold %s.\n%s",
			num("id"), str("kind"), motions.Verdict(store.MotionStatus(str("status"))), num("yes"), num("no"),
			msg.N(num("abstain"), "%d abstention", "%d abstentions"), num("yes")+num("no")+num("abstain"),
			num("electorate"), num("quorum"), str("threshold"), str("text")).In(lang)
	case "election.ballot":
		return msg.T("Election #%d (%s, %s): voting opened; ballot order %s, drawn from %s; closes %s.",
			num("id"), str("role"), msg.N(num("seats"), "%d seat", "%d seats"), strings.Join(strs(c["candidates"]), ", "), str("order_seed"), str("closes_at")).In(lang)
	case "election.result":
		status := elections.StatusText(store.MotionStatus(str("status")))
		parts := []any{msg.T("Election #%d (%s, %s): %s; %d of %d ranked.", num("id"), str("role"), msg.N(num("seats"), "%d seat", "%d seats"),
			status, num("ranked"), num("electorate"))}
		if elected := strs(c["elected"]); len(elected) > 0 {
			parts = append(parts, msg.T("Elected %s; quota %v; %s.", strings.Join(elected, ", "), c["quota"], stv.Name(str("method"))))
		}
		if str("why") != "" {
			parts = append(parts, msg.T("%s.", elections.Reason(str("why"))))
		}
		if str("ballots_sha256") != "" {
			parts = append(parts, msg.T("Ballots (BLT) SHA-256 %s; lots seeded by %s.", str("ballots_sha256"), str("seed")))
		}
		return msg.List(" ", parts...).In(lang)
	case "motion.amended":
		return msg.T("Motion #%d amended by amendment #%d; %s cleared.\nWas: %s\nNow: %s",
			num("motion"), num("amendment"), msg.N(num("votes_cleared"), "%d vote", "%d votes"), str("old_text"), str("new_text")).In(lang)
	}
	keys := slices.Sorted(maps.Keys(c))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %v", k, c[k])
	}
	return e.Kind + ": " + strings.Join(parts, "; ")
}
