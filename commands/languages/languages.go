// Package languages is !lang: the language the bot speaks in a room, set
// by a moderator, and in a member's direct chat, set by the member.
package languages

import (
	"context"
	"strings"

	"quorum/commands"
	"quorum/locale"
	"quorum/msg"
)

// Feature is !lang.
type Feature struct{ env *commands.Env }

// New makes the feature.
func New(env *commands.Env) *Feature { return &Feature{env: env} }

// Group implements commands.Feature.
func (f *Feature) Group() string { return "Language" }

// Commands implements commands.Feature.
func (f *Feature) Commands() []*commands.Command {
	return []*commands.Command{{
		Name:    "lang",
		Aliases: []string{"language", "idioma", "sprache"},
		Usage:   "lang [<code> | reset]",
		Summary: "show or set the language I speak here",
		Help: "In a room, a moderator sets the language of everything I say there. In our direct chat, you set " +
			"your own: ballots, receipts and reminders come in it. Commands are the same in every language.",
		Examples: []string{"lang", "lang es", "lang reset"},
		Handler:  f.lang,
	}}
}

// names are the shipped languages as a sentence names them, in the
// reader's language ("hablo español", "ich spreche Englisch"); lists show
// each language's own name.
var names = map[string]msg.Text{
	"de": msg.T("German"),
	"en": msg.T("English"),
	"es": msg.T("Spanish"),
}

// named is the language code as a sentence names it.
func named(code string) msg.Text { return names[code] }

// available lists the shipped languages as "`de` Deutsch, `en` English…".
func available() msg.Text {
	var items []any
	for _, l := range locale.Languages {
		items = append(items, msg.T("`%s` %s", l.Code, l.Name))
	}
	return msg.List(", ", items...)
}

func (f *Feature) lang(ctx context.Context, r *commands.Request) error {
	arg := strings.TrimSpace(r.Args)
	if r.InDM {
		return f.own(ctx, r, arg)
	}
	current, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	if arg == "" {
		l, _ := locale.Lookup(current)
		r.Replyf("I speak %s here. I can speak %s; a moderator changes it with `%s`.", named(l.Code), available(), r.Cmd("lang es"))
		return nil
	}
	if ok, err := r.IsModerator(ctx, r.Room, r.Sender); err != nil {
		return err
	} else if !ok {
		return commands.Refusef("Only a moderator can change the language I speak in this room. You can choose your own for our direct chat: send `%s` there.", r.Cmd("lang "+arg))
	}
	code, err := parse(r, arg)
	if err != nil {
		return err
	}
	if err := r.Store.Rooms().SetLanguage(ctx, r.Room, code); err != nil {
		return err
	}
	now, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	l, _ := locale.Lookup(now)
	r.Replyf("OK, from now on I speak %s in this room. Commands stay the same.", named(l.Code))
	return nil
}

// own is !lang in a member's direct chat: their own language.
func (f *Feature) own(ctx context.Context, r *commands.Request, arg string) error {
	if arg == "" {
		current, err := r.Lang(ctx)
		if err != nil {
			return err
		}
		l, _ := locale.Lookup(current)
		r.Replyf("I speak %s with you. I can speak %s; choose with `%s`.", named(l.Code), available(), r.Cmd("lang es"))
		return nil
	}
	code, err := parse(r, arg)
	if err != nil {
		return err
	}
	if err := r.Store.Users().SetLanguage(ctx, r.Sender, code); err != nil {
		return err
	}
	now, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	l, _ := locale.Lookup(now)
	r.Replyf("OK, from now on I speak %s with you.", named(l.Code))
	return nil
}

// parse reads a language code, or "reset" (""), refusing one not shipped.
func parse(r *commands.Request, arg string) (string, error) {
	if strings.EqualFold(arg, "reset") {
		return "", nil
	}
	l, ok := locale.Lookup(arg)
	if !ok {
		return "", commands.Refusef("I don't speak %q yet. I can speak %s; for example `%s`.", commands.Shorten(arg, 20), available(), r.Cmd("lang es"))
	}
	return l.Code, nil
}
