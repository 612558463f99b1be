package minutes

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/commands/motions"
	"quorum/msg"
	"quorum/record"
)

var (
	keyOnce sync.Once
	testKey *record.Key
	keyErr  error
)

// signingKey is a key generated once for the package's tests (generating
// and unlocking one takes a few hundred milliseconds).
func signingKey(t *testing.T) *record.Key {
	t.Helper()
	keyOnce.Do(func() {
		const pass = "correct horse battery"
		var priv []byte
		if priv, keyErr = record.GenerateKey("Quorum test", "quorum@example.org", pass, time.Now().Add(-time.Hour)); keyErr == nil {
			testKey, keyErr = record.LoadKey(priv, pass)
		}
	})
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return testKey
}

// newHarness is motions and minutes in the test room with ana, ben and chi,
// signing with the test key (withKey) or with none.
func newHarness(t *testing.T, withKey bool) *Harness {
	t.Helper()
	h := NewHarness(t, func(env *commands.Env, log zerolog.Logger) []commands.Feature {
		return []commands.Feature{motions.New(env, log), New(env)}
	}, Ana, Ben, Chi)
	h.Env.Config.Motions.Settle = "0s" // a motion everyone voted on closes at once
	if withKey {
		h.Env.Key = signingKey(t)
	}
	return h
}

// minutesFile sends body as ana and returns the file it posts.
func minutesFile(t *testing.T, h *Harness, body string) msg.File {
	t.Helper()
	evt := h.Send(Ana, body)
	out := h.Drain()
	if len(out) != 1 || out[0].Kind != commands.KindFile {
		t.Fatalf("%s: want one file, got:%s", body, Bodies(out))
	}
	var f msg.File
	if err := json.Unmarshal(out[0].Payload, &f); err != nil {
		t.Fatal(err)
	}
	if f.ReplyTo != evt || f.MimeType != "text/markdown" {
		t.Errorf("%s: file %q of type %q in reply to %s", body, f.Name, f.MimeType, f.ReplyTo)
	}
	return f
}

// pass has the room vote on motion n, just proposed as text: ana and ben
// yes, chi abstains, which closes it.
func pass(h *Harness, n int, text string) {
	h.Send(Ana, "!motion "+text)
	num := strconv.Itoa(n)
	h.Send(Ana, "!vote "+num+" yes")
	h.Send(Ben, "!vote "+num+" yes")
	h.Send(Chi, "!vote "+num+" abstain")
	h.Drain()
}

func TestMinutes(t *testing.T) {
	h := newHarness(t, true)
	pass(h, 1, "Pay the rent")
	h.Clock.Advance(48 * time.Hour) // Friday 27 November
	pass(h, 2, "Join the federation")
	h.Clock.Advance(time.Hour)

	f := minutesFile(t, h, "!minutes")
	if f.Name != "minutes-2026-11-27.md" {
		t.Errorf("name %q", f.Name)
	}
	for _, want := range []string{"Minutes: 2 decisions, signed by " + h.Env.Key.Fingerprint() + ".",
		"`quorum verify minutes-2026-11-27.md --key key.asc`", "`gpg --output checked.md --verify minutes-2026-11-27.md`"} {
		if !strings.Contains(f.Caption, want) {
			t.Errorf("caption lacks %q: %q", want, f.Caption)
		}
	}
	pub, err := h.Env.Key.ArmoredPublic()
	if err != nil {
		t.Fatal(err)
	}
	report, err := record.VerifyMinutes(f.Data, pub)
	if err != nil {
		t.Fatalf("the minutes do not verify: %v", err)
	}
	if report.Entries != 2 || report.FirstSeq != 1 || report.LastSeq != 2 {
		t.Errorf("report: %d entries, %d..%d", report.Entries, report.FirstSeq, report.LastSeq)
	}
	if !report.From.Equal(time.Unix(0, 0)) || !report.To.Equal(h.Clock.Now().Add(time.Second)) {
		t.Errorf("period %v to %v, want the whole record to now", report.From, report.To)
	}
	for _, want := range []string{
		"Motion #1 (motion): Carried 2–0, 1 abstention; 3 of 3 voted, quorum 0,",
		"Pay the rent", "Motion #2 (motion): Carried 2–0", "Join the federation",
	} {
		if !strings.Contains(string(f.Data), want) {
			t.Errorf("the minutes lack %q", want)
		}
	}

	// A period: the day of the second motion alone, then the first alone.
	for _, tc := range []struct {
		args string
		want []string
	}{
		{"from 2026-11-27", []string{"Join the federation"}},
		{"to 2026-11-25", []string{"Pay the rent"}},
		{"to 26 nov 2026 from 25 nov 2026", []string{"Pay the rent"}},
		{"from friday to friday", []string{"Join the federation"}},
		{"from 2026-11-26 to 2026-11-26", nil},
	} {
		f := minutesFile(t, h, "!minutes "+tc.args)
		report, err := record.VerifyMinutes(f.Data, pub)
		if err != nil {
			t.Fatalf("%s: %v", tc.args, err)
		}
		if report.Entries != len(tc.want) {
			t.Errorf("%s: %d entries, want %d", tc.args, report.Entries, len(tc.want))
		}
		for _, want := range tc.want {
			if !strings.Contains(string(f.Data), want) {
				t.Errorf("%s: the minutes lack %q", tc.args, want)
			}
		}
		if want := commands.Plural(len(tc.want), "decision", "decisions"); !strings.Contains(f.Caption, "Minutes: "+want+",") {
			t.Errorf("%s: caption %q, want %s", tc.args, f.Caption, want)
		}
	}
}

// TestMinutesName: the file is named after the day in the room's zone.
func TestMinutesName(t *testing.T) {
	h := newHarness(t, true)
	h.Env.Config.Timezone = "Pacific/Auckland" // 01:00 on Thursday there
	if f := minutesFile(t, h, "!minutes"); f.Name != "minutes-2026-11-26.md" || !strings.Contains(f.Caption, "Minutes: 0 decisions,") {
		t.Errorf("file %q, caption %q", f.Name, f.Caption)
	}
}

func TestKey(t *testing.T) {
	h := newHarness(t, true)
	got := h.SendAndDrain(Ana, "!key")
	if len(got) != 1 {
		t.Fatalf("want one reply, got:%s", Bodies(got))
	}
	fp := h.Env.Key.Fingerprint()
	pub, _ := h.Env.Key.ArmoredPublic()
	m := got[0].Msg
	if !strings.HasPrefix(m.Body, "Quorum's signing key\nFingerprint: `"+fp+"`\n-----BEGIN PGP PUBLIC KEY BLOCK-----") {
		t.Errorf("key: %q", m.Body)
	}
	field, _ := m.Fields["quorum.key"].(map[string]any)
	if field["fingerprint"] != strings.ReplaceAll(fp, " ", "") || field["armored"] != string(pub) || !strings.Contains(fp, " ") {
		t.Errorf("quorum.key = %v (fingerprint %q)", field, fp)
	}
}

func TestNoKey(t *testing.T) {
	h := newHarness(t, false)
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!key", Want: "This bot has no signing key configured."},
		{From: Ana, Cmd: "!minutes", Want: "This bot has no signing key configured, so it cannot sign minutes."},
	})
}

func TestMinutesMistakes(t *testing.T) {
	h := newHarness(t, true)
	const usage = "Say the period like `minutes from 2026-11-01 to 2026-11-30` (both parts optional)."
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!minutes from", Want: usage},
		{From: Ana, Cmd: "!minutes since 2026-11-01", Want: usage},
		{From: Ana, Cmd: "!minutes 2026-11-01", Want: usage},
		{From: Ana, Cmd: "!minutes from 2026-11-01 to", Want: usage},
		{From: Ana, Cmd: "!minutes from fridya", Want: "fridya"},
		{From: Ana, Cmd: "!minutes to 2026-11-30 blah", Want: "blah"},
		{From: Ana, Cmd: "!minutes from 2026-11-27 to 2026-11-26", Want: "The period ends before it starts."},
		{From: Ana, Cmd: "!minutes from 2026-11-26 to 2026-11-25", Want: "The period ends before it starts."},
		{From: Ana, Cmd: "!minutes from tomorrow", Want: "The period ends before it starts."},
	})
}

func TestPeriod(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, loc) }
	for _, tc := range []struct {
		args     string
		from, to time.Time
	}{
		{"", time.Unix(0, 0), now.Add(time.Second)},
		{"  ", time.Unix(0, 0), now.Add(time.Second)},
		{"from 2026-11-01", day(1), now.Add(time.Second)},
		{"to 2026-11-20", time.Unix(0, 0), day(21)},
		{"FROM 1 Nov 2026 TO 20 nov 2026", day(1), day(21)},
		{"to 20 nov 2026 from 1 nov 2026", day(1), day(21)},
		{"from 2026-11-20 to 2026-11-20", day(20), day(21)},
		{"from 2026-11-01 from 2026-11-10", day(10), now.Add(time.Second)},
		{"from today", day(25), now.Add(time.Second)},
	} {
		from, to, err := period(tc.args, now, loc)
		if err != nil || !from.Equal(tc.from) || !to.Equal(tc.to) {
			t.Errorf("period(%q) = %v, %v, %v; want %v to %v", tc.args, from, to, err, tc.from, tc.to)
		}
	}
	for _, bad := range []string{"from", "to", "from 2026-11-01 to", "on 2026-11-01", "2026-11-01", "from to 2026-11-01",
		"from 2026-11-02 to 2026-11-01", "from 2026-11-21 to 2026-11-20", "from tomorrow"} {
		if from, to, err := period(bad, now, loc); err == nil {
			t.Errorf("period(%q) = %v to %v, want a refusal", bad, from, to)
		}
	}
}

func TestDescribeEntry(t *testing.T) {
	for _, tc := range []struct {
		kind, content, want string
	}{
		{"motion.result", `{"id":3,"kind":"general","status":"failed","yes":2,"no":5,"abstain":1,"electorate":9,"quorum":4,"threshold":"2/3","text":"Buy a van"}`,
			"Motion #3 (general): Failed 2–5, 1 abstention; 8 of 9 voted, quorum 4, threshold 2/3.\nBuy a van"},
		{"motion.result", `{"id":1,"kind":"recall","status":"no_quorum","yes":0,"no":1,"abstain":2,"electorate":12,"quorum":6,"threshold":"majority","text":"x"}`,
			"Motion #1 (recall): No quorum 0–1, 2 abstentions; 3 of 12 voted, quorum 6, threshold majority.\nx"},
		{"swap.accepted", `{"swap":2,"roster":"minutes","requester":"@ana:test"}`, "swap.accepted: requester: @ana:test; roster: minutes; swap: 2"},
		{"motion.result", `not json`, "motion.result"},
		{"other", `{}`, "other: "},
	} {
		if got := describeEntry("en", record.Entry{Kind: tc.kind, Content: json.RawMessage(tc.content)}); got != tc.want {
			t.Errorf("describeEntry(%s %s)\n got %q\nwant %q", tc.kind, tc.content, got, tc.want)
		}
	}
}

// TestMinutesBounded: one member's requests are limited per hour (another
// member's are not), and a period with more decisions than one document
// holds is refused with a shorter one to ask for.
func TestMinutesBounded(t *testing.T) {
	h := newHarness(t, true)
	pass(h, 1, "Pay the rent")
	for range maxMinutesAsked {
		minutesFile(t, h, "!minutes")
	}
	Expect(t, h, Ana, "!minutes", "You have asked for the minutes 10 times in the last hour")
	if got := h.SendAndDrain(Ben, "!minutes"); len(got) != 1 || got[0].Kind != commands.KindFile {
		t.Fatalf("another member's request was refused:%s", Bodies(got))
	}
	h.Clock.Advance(minutesWindow)
	minutesFile(t, h, "!minutes")

	add := h.Env.Store.Records().Append // a record entry, not a message
	for i := range maxMinutesEntries - 1 {
		if _, err := add(t.Context(), Room, "test", map[string]int{"i": i}, h.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	minutesFile(t, h, "!minutes") // exactly the most: signed
	if _, err := add(t.Context(), Room, "test", map[string]int{"i": maxMinutesEntries}, h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	Expect(t, h, Chi, "!minutes", "That period holds 2001 decisions; I sign at most 2000 in one document. Ask for a shorter period, e.g. `!minutes from ")
}

// TestMinutesInSpanish: the minutes of a Spanish room have their text for
// people in Spanish, and still verify: what is signed and checked (the
// header and entry blocks) is the same in every language.
func TestMinutesInSpanish(t *testing.T) {
	h := newHarness(t, true)
	h.SetLang("es")
	pass(h, 1, "Pagar el alquiler")
	h.Clock.Advance(time.Hour)
	f := minutesFile(t, h, "!minutes")
	doc := string(f.Data)
	for _, want := range []string{"# Acta", "Sala:      !room:test", "## Entrada 1",
		"Moción #1 (motion):", "votaron 3 de 3", "Pagar el alquiler", "## Cómo comprobar esta acta", "quorum verify FILE --key KEY.asc"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the minutes lack %q:\n%s", want, doc)
		}
	}
	for _, english := range []string{"# Minutes", "## Entry 1", "Motion #1", "How to check"} {
		if strings.Contains(doc, english) {
			t.Errorf("the Spanish minutes say %q", english)
		}
	}
	if !strings.HasPrefix(f.Caption, "Acta: 1 decisión, firmada por ") {
		t.Errorf("caption %q", f.Caption)
	}
	pub, err := h.Env.Key.ArmoredPublic()
	if err != nil {
		t.Fatal(err)
	}
	report, err := record.VerifyMinutes(f.Data, pub)
	if err != nil {
		t.Fatalf("the Spanish minutes do not verify: %v", err)
	}
	if report.Entries != 1 {
		t.Errorf("report: %d entries", report.Entries)
	}
}
