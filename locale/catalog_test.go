package locale_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"quorum/locale"
)

// memberFacing are the packages whose text members read. The others speak
// to the operator (cmd, config), to developers (testkit, bench) or not at
// all (store).
var memberFacing = []string{"assembly", "bot", "commands", "member", "msg", "record", "stv"}

// message is a text found in the code: a catalog key.
type message struct {
	key string // the format; for a plural, its "other" form
	one string // a plural's English "one" form
	at  string // file:line
}

// localizing are the calls whose first argument is a format that is
// looked up in the catalogs.
var localizing = map[string]bool{"F": true, "T": true, "Append": true, "Refusef": true, "Replyf": true}

// notForMembers are calls whose string arguments members never read: log
// lines, internal errors, SQL.
var notForMembers = map[string]bool{
	"Errorf": true, "New": true, "Msg": true, "Msgf": true, "Str": true, "Stringer": true, "Int": true,
	"Int64": true, "Bool": true, "Dur": true, "Err": true, "Exec": true, "QueryRow": true, "Query": true,
	"Panic": true, "Wrap": true, "AnErr": true, "Time": true, "Strs": true, "Any": true,
}

// scan finds every localizable text in the member-facing packages, and
// every other string literal that reads like prose (three words or more):
// text a member would read in English whatever their language.
func scan(t *testing.T) (found []message, prose []message) {
	t.Helper()
	fset := token.NewFileSet()
	for _, dir := range memberFacing {
		err := filepath.WalkDir(filepath.Join("..", dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			if strings.Contains(path, "commandstest") {
				return nil
			}
			file, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
			if err != nil {
				return err
			}
			f, p := scanFile(t, fset, file)
			found, prose = append(found, f...), append(prose, p...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return found, prose
}

func scanFile(t *testing.T, fset *token.FileSet, file *ast.File) (found, prose []message) {
	handled := map[ast.Expr]bool{}
	// A literal on a line marked "not for members" (or after one) is for
	// logs, the operator or the protocol.
	marked := map[int]bool{}
	for _, group := range file.Comments {
		for _, c := range group.List {
			if strings.Contains(c.Text, "not for members") {
				line := fset.Position(c.Pos()).Line
				marked[line], marked[line+1] = true, true
			}
		}
	}
	where := func(n ast.Node) string {
		p := fset.Position(n.Pos())
		return p.Filename + ":" + strconv.Itoa(p.Line)
	}
	key := func(e ast.Expr) (string, bool) {
		s, ok := constString(e)
		if ok {
			markHandled(handled, e)
		}
		return s, ok
	}
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			name := calleeName(n.Fun)
			switch {
			case name == "N" && len(n.Args) >= 3:
				one, ok1 := key(n.Args[1])
				other, ok2 := key(n.Args[2])
				if !ok1 || !ok2 {
					t.Errorf("%s: msg.N's forms must be constant strings", where(n))
				}
				found = append(found, message{key: other, one: one, at: where(n)})
			case localizing[name] && len(n.Args) >= 1:
				if s, ok := key(n.Args[0]); ok {
					found = append(found, message{key: s, at: where(n)})
				} else if !isForwarded(n.Args[0]) {
					t.Errorf("%s: the format of %s must be a constant string, the key of its translations", where(n), name)
				}
			case notForMembers[name]:
				for _, a := range n.Args {
					markHandled(handled, a)
				}
			}
		case *ast.KeyValueExpr:
			if id, ok := n.Key.(*ast.Ident); ok {
				switch id.Name {
				case "Summary", "Help":
					if s, ok := key(n.Value); ok && s != "" {
						found = append(found, message{key: s, at: where(n)})
					}
				case "Usage", "Name", "Examples", "Aliases", "Target":
					markHandled(handled, n.Value) // commands are the same in every language
				}
			}
		case *ast.FuncDecl:
			// A feature's Group() is the heading of its commands in !help.
			if n.Name.Name == "Group" && n.Body != nil && len(n.Body.List) == 1 {
				if ret, ok := n.Body.List[0].(*ast.ReturnStmt); ok && len(ret.Results) == 1 {
					if s, ok := key(ret.Results[0]); ok && s != "" {
						found = append(found, message{key: s, at: where(n)})
					}
				}
			}
		case *ast.BasicLit:
			if n.Kind == token.STRING && !handled[n] && !marked[fset.Position(n.Pos()).Line] {
				if s, err := strconv.Unquote(n.Value); err == nil && readsLikeProse(s) {
					prose = append(prose, message{key: s, at: where(n)})
				}
			}
		}
		return true
	})
	return found, prose
}

// isForwarded allows a format that is a function's own parameter, passed
// on (Refusef's format to msg.F): its callers' formats are found instead.
func isForwarded(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "format"
}

func markHandled(handled map[ast.Expr]bool, e ast.Expr) {
	ast.Inspect(e, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok {
			handled[lit] = true
		}
		return true
	})
}

func calleeName(fun ast.Expr) string {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	case *ast.IndexExpr:
		return calleeName(f.X)
	}
	return ""
}

// constString evaluates a string literal or a sum of them.
func constString(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, ok1 := constString(e.X)
		b, ok2 := constString(e.Y)
		return a + b, ok1 && ok2
	case *ast.ParenExpr:
		return constString(e.X)
	}
	return "", false
}

// readsLikeProse is a literal of three words or more, starting with a
// letter: not SQL, a layout or a regular expression.
func readsLikeProse(s string) bool {
	if len(strings.Fields(s)) < 3 || strings.ContainsAny(s, "\\^$") {
		return false
	}
	for _, kw := range []string{"SELECT ", "INSERT ", "UPDATE ", "DELETE ", "CREATE ", "DROP ", "ALTER ", " FROM ", "WHERE "} {
		if strings.Contains(s, kw) {
			return false
		}
	}
	return true
}

// TestEveryMessageIsTranslated checks the catalogs against the code: every
// text a member reads has a translation in every shipped language, with the
// same placeholders and markup, and no catalog keeps a text the code no
// longer says.
func TestEveryMessageIsTranslated(t *testing.T) {
	found, _ := scan(t)
	if len(found) < 100 {
		t.Fatalf("found only %d messages in the code: the scan is broken", len(found))
	}
	keys := map[string]message{}
	for _, w := range locale.DateWords() {
		keys[w] = message{key: w, at: "locale/dates.go"}
	}
	for _, m := range found {
		if hasWords(m.key) || m.one != "" {
			keys[m.key] = m
		}
	}
	for _, lang := range locale.Codes() {
		if lang == locale.Default {
			continue
		}
		for k, m := range keys {
			text, forms, ok := locale.Translation(lang, k)
			switch {
			case !ok:
				t.Errorf("%s: no %s translation of %q", m.at, lang, k)
			case m.one != "" && forms == nil:
				t.Errorf("%s: %s translation of the plural %q has no forms", m.at, lang, k)
			case m.one != "":
				if forms["one"] == "" || forms["other"] == "" {
					t.Errorf("%s: %s translation of %q lacks the form one or other", m.at, lang, k)
				}
				for form, s := range forms {
					checkSame(t, m, lang+" "+form, s)
				}
			case forms != nil:
				t.Errorf("%s: %s translation of %q has plural forms; it is not a plural", m.at, lang, k)
			default:
				checkSame(t, m, lang, text)
			}
		}
		for _, k := range locale.Keys(lang) {
			if _, ok := keys[k]; !ok {
				t.Errorf("catalog %s translates %q, which the code no longer says (or which has no words to translate)", lang, k)
			}
		}
	}
}

// hasWords says whether a format has anything to translate: a letter
// outside its placeholders ("%s — %s" has none).
func hasWords(format string) bool {
	rest := placeholderRE.ReplaceAllString(format, "")
	return strings.IndexFunc(rest, unicode.IsLetter) >= 0
}

// placeholderRE matches a placeholder as msg renders them.
var placeholderRE = regexp.MustCompile(`%(\[\d+\])?[a-zA-Z%]`)

// checkSame compares a translation's placeholders and markup with the
// English.
func checkSame(t *testing.T, m message, which, translation string) {
	t.Helper()
	if got, want := locale.Placeholders(translation), locale.Placeholders(m.key); !slices.Equal(got, want) {
		if m.one == "" || !subset(got, want) { // a form "one" may leave the number out ("un voto")
			t.Errorf("%s: %s translation of %q has placeholders %v, want %v", m.at, which, m.key, got, want)
		}
	}
	for _, mark := range []string{"`", "**", "\n"} {
		if strings.Count(translation, mark) != strings.Count(m.key, mark) {
			t.Errorf("%s: %s translation of %q has %d %q, the English %d", m.at, which, m.key,
				strings.Count(translation, mark), mark, strings.Count(m.key, mark))
		}
	}
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// TestNoUntranslatedProse finds text members would read in English
// whatever their language: a literal of three words or more that is not a
// catalog key, a log line, an internal error or SQL. Text that is not for
// members is marked by passing it through one of notForMembers' calls.
func TestNoUntranslatedProse(t *testing.T) {
	_, prose := scan(t)
	for _, p := range prose {
		t.Errorf("%s: %q is not translated (make it a format of msg.F, msg.T or Refusef)", p.at, p.key)
	}
}
