package msg

import (
	"fmt"
	"html"
	"strconv"
	"strings"

	"quorum/locale"
)

// Default is the language messages are first rendered in: that of the code.
const Default = locale.Default

// Text is a piece of a message in the reader's language: a format and its
// arguments, translated through the catalogs (package locale) when it is
// rendered. The format is the catalog's key, so it must be a constant
// string: the catalog tests find every one in the code.
type Text struct {
	format string
	args   []any
	// one and n make a plural: format is the "other" form.
	one    string
	n      int
	plural bool
	// list makes a list: the args joined by sep.
	list bool
	sep  string
	// plain is text that is not a format: its % are literal (Plain).
	plain bool
}

// T is a localizable piece of text with F's syntax, for an argument of F or
// for text outside messages (In).
func T(format string, args ...any) Text { return Text{format: format, args: args} }

// Plain is text translated like T's format, with its **bold** and `code`,
// but not a format: a % in it is literal. A command's Summary and Help are
// plain ("as a share (`50%`)").
func Plain(text string) Text { return Text{format: text, plain: true} }

// N is a plural: one and other are the English forms ("%d vote", "%d
// votes"), and the reader's language chooses its own form for n (CLDR
// rules). Without args, n is the only argument.
func N(n int, one, other string, args ...any) Text {
	if len(args) == 0 {
		args = []any{n}
	}
	return Text{format: other, one: one, n: n, plural: true, args: args}
}

// List joins items (text, Text, Raw…) with sep, which is not translated
// (", ", " · ").
func List(sep string, items ...any) Text {
	return Text{list: true, sep: sep, args: items}
}

// Localizer is an argument that knows how it reads in each language (a
// time, a duration, a verdict). It renders as literal text.
type Localizer interface {
	Localize(lang string) string
}

// In renders t as plain text in lang: for text that is not a message (a
// poll's question, a power level's reason).
func (t Text) In(lang string) string {
	body, _ := t.render(lang)
	return body
}

// String renders t in English, so that %s of a Text reads well.
func (t Text) String() string { return t.In(Default) }

func (t Text) render(lang string) (body, htm string) {
	if t.list {
		var b, h strings.Builder
		for i, a := range t.args {
			if i > 0 {
				b.WriteString(t.sep)
				h.WriteString(html.EscapeString(t.sep))
			}
			ab, ah := renderArg(lang, "s", a)
			b.WriteString(ab)
			h.WriteString(ah)
		}
		return b.String(), h.String()
	}
	format := locale.Text(lang, t.format)
	if t.plain {
		return render(lang, strings.ReplaceAll(format, "%", "%%"), nil)
	}
	if t.plural {
		format = locale.Plural(lang, t.n, t.one, t.format)
	}
	return render(lang, format, t.args)
}

// renderArg renders one argument for verb: a Raw or a Text keep their
// markup, anything else is literal text.
func renderArg(lang, verb string, arg any) (body, htm string) {
	switch a := arg.(type) {
	case Raw:
		return a.Body, a.HTML
	case Text:
		return a.render(lang)
	case Localizer:
		arg = a.Localize(lang)
	}
	text := Safe(fmt.Sprintf("%"+verb, arg))
	return text, strings.ReplaceAll(html.EscapeString(text), "\n", "<br>")
}

// render expands format: markup comes only from format, text only from
// args. "%[2]s" takes the second argument, so that a translation can put
// the arguments in its own order.
func render(lang, format string, args []any) (body, htm string) {
	var b, h strings.Builder
	bold, code := false, false
	argi := 0
	literal := func(s string) {
		b.WriteString(s)
		h.WriteString(html.EscapeString(s))
	}
	for len(format) > 0 {
		i := strings.IndexAny(format, "*`\n%")
		if i < 0 {
			literal(format)
			break
		}
		literal(format[:i])
		c := format[i]
		format = format[i+1:]
		switch {
		case c == '*' && strings.HasPrefix(format, "*") && !code:
			format = format[1:]
			bold = !bold
			h.WriteString(map[bool]string{true: "<strong>", false: "</strong>"}[bold])
		case c == '*':
			literal("*")
		case c == '`':
			code = !code
			h.WriteString(map[bool]string{true: "<code>", false: "</code>"}[code])
			b.WriteByte('`')
		case c == '\n':
			b.WriteByte('\n')
			h.WriteString("<br>")
		case c == '%' && format == "":
			literal("%")
		case c == '%':
			if format[0] == '[' {
				end := strings.IndexByte(format, ']')
				n, err := strconv.Atoi(format[1:max(end, 1)])
				if end < 0 || err != nil || end+1 >= len(format) {
					literal("%")
					continue
				}
				argi = n - 1
				format = format[end+1:]
			}
			verb := format[0]
			format = format[1:]
			if verb == '%' {
				literal("%")
				continue
			}
			var arg any = "%!(MISSING)"
			if argi >= 0 && argi < len(args) {
				arg = args[argi]
			}
			argi++
			ab, ah := renderArg(lang, string(verb), arg)
			b.WriteString(ab)
			h.WriteString(ah)
		}
	}
	if bold {
		h.WriteString("</strong>")
	}
	if code {
		h.WriteString("</code>")
	}
	return b.String(), h.String()
}
