package commands

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	prefixes := []string{"!", "/"}
	for _, tc := range []struct {
		body, name, args string
		ok               bool
	}{
		{"!help", "help", "", true},
		{"  /help motion ", "help", "motion", true},
		{"!Motion --closes 48h Pay the rent\nsecond line", "motion", "--closes 48h Pay the rent\nsecond line", true},
		{"!", "", "", false},
		{"! help", "", "", false},
		{"!!help", "", "", false},
		{"hello !help", "", "", false},
		{"!-x", "", "", false},
		{"!héllo", "", "", false},
		{"!" + strings.Repeat("a", 33), "", "", false},
	} {
		name, args, ok := Parse(tc.body, prefixes)
		if name != tc.name || args != tc.args || ok != tc.ok {
			t.Errorf("Parse(%q) = %q, %q, %v; want %q, %q, %v", tc.body, name, args, ok, tc.name, tc.args, tc.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"!help", "/motion --closes 48h x", "!", "!\x00", "!vote 1 yes"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		name, args, ok := Parse(body, []string{"!", "/"})
		if !ok {
			return
		}
		if !isWord(name) || name != strings.ToLower(name) {
			t.Fatalf("bad name %q", name)
		}
		if !strings.Contains(strings.ToLower(body), name) || !strings.Contains(body, args) {
			t.Fatalf("parts not from body: %q %q", name, args)
		}
	})
}

func TestRegistry(t *testing.T) {
	noop := func(context.Context, *Request) error { return nil }
	_, err := NewRegistry(&Command{Name: "a", Handler: noop}, &Command{Name: "b", Aliases: []string{"a"}, Handler: noop})
	if err == nil {
		t.Fatal("duplicate alias accepted")
	}
	reg, err := NewRegistry(&Command{Name: "motion", Aliases: []string{"m"}, Handler: noop}, &Command{Name: "motions", Handler: noop}, &Command{Name: "help", Handler: noop})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := reg.Lookup("M"); !ok || c.Name != "motion" {
		t.Errorf("alias lookup failed: %v %v", c, ok)
	}
	for _, tc := range []struct{ typed, want string }{
		{"motoin", "motion"},
		{"helpp", "help"},
		{"hlp", "help"},
		{"mot", "motion"},
		{"xyzzy", ""},
		{"z", ""},
	} {
		got, ok := reg.Suggest(tc.typed)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Suggest(%q) = %q, %v; want %q", tc.typed, got, ok, tc.want)
		}
	}
}

func TestSooner(t *testing.T) {
	var none time.Time
	early, late := time.Unix(100, 0), time.Unix(200, 0)
	for _, tc := range []struct{ a, b, want time.Time }{
		{none, none, none}, {none, late, late}, {early, none, early}, {early, late, early}, {late, early, early},
	} {
		if got := Sooner(tc.a, tc.b); !got.Equal(tc.want) {
			t.Errorf("Sooner(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
