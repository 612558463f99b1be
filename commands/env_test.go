package commands_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/msg"
	"quorum/record"
)

func TestResolveMember(t *testing.T) {
	h, _, _, _ := toyHarness(t)
	ctx := context.Background()
	// A second "ana" on another server, and the bot, are in the room too.
	h.Rooms.Joined[Room] = append(h.Rooms.Joined[Room], "@ana:other.org", "@ben2:test")
	for _, tc := range []struct{ word, want, refusal string }{
		{"@ben:test", "@ben:test", ""},
		{"@ben:test,", "@ben:test", ""},
		{"@ben:test.;:", "@ben:test", ""},
		{"@ben", "@ben:test", ""},
		{"@BEN", "@ben:test", ""},
		{"@ben2", "@ben2:test", ""},
		{"@ana:other.org", "@ana:other.org", ""},
		{"@ana", "", "I can't tell who @ana is here; write their full Matrix ID, e.g. `@ana:example.org`."},
		{"@chi", "", "I can't tell who @chi is here"},
		{"@quorum", "", "I can't tell who @quorum is here"},
		{"@quorum:test", "", "@quorum:test isn't a member of this room."},
		{"@chi:test", "", "@chi:test isn't a member of this room."},
		{"@ben:", "@ben:test", ""}, // a trailing colon is punctuation
		{"ben:test", "", "ben:test isn't a Matrix ID; write it like `@ana:example.org`."},
		{"@", "", "@ isn't a member; write their Matrix ID, e.g. `@ana:example.org`."},
		{"@b", "", "I can't tell who @b is here"},
		{"@ben test", "", "isn't a member; write their Matrix ID"},
		{" @ben", "", "isn't a member; write their Matrix ID"},
		{"@" + strings.Repeat("a", 255), "", "isn't a member; write their Matrix ID"},
	} {
		got, err := h.Env.ResolveMember(ctx, Room, tc.word)
		if tc.refusal == "" {
			if err != nil || string(got) != tc.want {
				t.Errorf("ResolveMember(%q) = %q, %v; want %q", tc.word, got, err, tc.want)
			}
			continue
		}
		ue, ok := commands.AsRefusal(err)
		if got != "" || !ok || !strings.Contains(ue.Message.Body, tc.refusal) {
			t.Errorf("ResolveMember(%q) = %q, %v; want a refusal %q", tc.word, got, err, tc.refusal)
		}
	}
	// The longest word accepted: 255 characters.
	long := id.UserID("@" + strings.Repeat("a", 249) + ":test")
	h.Rooms.Joined[Room] = append(h.Rooms.Joined[Room], long)
	if got, err := h.Env.ResolveMember(ctx, Room, string(long)); err != nil || got != long {
		t.Errorf("a 255-character ID: %q, %v", got, err)
	}
}

func TestIsModerator(t *testing.T) {
	h, _, _, _ := toyHarness(t)
	ctx := context.Background()
	for level, want := range map[int]bool{0: false, 49: false, 50: true, 100: true} {
		h.Rooms.Power[Ana] = level
		if got, err := h.Env.IsModerator(ctx, Room, Ana); err != nil || got != want {
			t.Errorf("level %d: moderator %v, %v", level, got, err)
		}
	}
	failing := &commands.Env{Rooms: failingRooms{}}
	if _, err := failing.IsModerator(ctx, Room, Ana); err == nil || !strings.Contains(err.Error(), "read power levels: no state") {
		t.Errorf("error: %v", err)
	}
	if _, err := failing.ResolveMember(ctx, Room, "@ana"); err == nil || err.Error() != "no state" {
		t.Errorf("error: %v", err)
	}
}

type failingRooms struct{}

func (failingRooms) Members(context.Context, id.RoomID) ([]id.UserID, error) {
	return nil, errors.New("no state")
}

func (failingRooms) PowerLevel(context.Context, id.RoomID, id.UserID) (int, int, error) {
	return 0, 0, errors.New("no state")
}

func TestMemberLocation(t *testing.T) {
	h, _, _, _ := toyHarness(t)
	ctx := context.Background()
	h.Env.Config.Timezone = "Europe/Berlin"
	if got := h.Env.MemberLocation(ctx, Ana, Room).String(); got != "Europe/Berlin" {
		t.Errorf("without a zone of their own: %s", got)
	}
	if err := h.Env.Store.Users().SetTimezone(ctx, Ana, "America/New_York"); err != nil {
		t.Fatal(err)
	}
	if got := h.Env.MemberLocation(ctx, Ana, Room).String(); got != "America/New_York" {
		t.Errorf("with their own zone: %s", got)
	}
	if err := h.Env.Store.Users().SetTimezone(ctx, Ben, "Mars/Olympus_Mons"); err != nil {
		t.Fatal(err)
	}
	if got := h.Env.MemberLocation(ctx, Ben, Room).String(); got != "Europe/Berlin" {
		t.Errorf("with a zone that no longer exists: %s", got)
	}
}

func TestRecordChange(t *testing.T) {
	h, _, _, _ := toyHarness(t)
	ctx := context.Background()
	var entries []record.Entry
	for i, kind := range []string{"roster.created", "swap.accepted"} {
		m, err := h.Env.RecordChange(ctx, Room, kind, map[string]any{"n": i}, msg.F("Done."))
		if err != nil {
			t.Fatal(err)
		}
		list, err := h.Env.Store.Records().Between(ctx, Room, h.Clock.Now().AddDate(0, 0, -1), h.Clock.Now().AddDate(0, 0, 1))
		if err != nil || len(list) != i+1 {
			t.Fatalf("%d entries, %v", len(list), err)
		}
		e := list[i]
		entries = list
		if want := "Done.\n" + commands.RecordLine(e).String(); m.Body != want {
			t.Errorf("message %q, want %q", m.Body, want)
		}
		if f, _ := m.Fields["quorum.record"].(map[string]any); f["seq"] != e.Seq || f["hash"] != e.Hash || e.Kind != kind {
			t.Errorf("quorum.record %v for entry %d %s %s", f, e.Seq, e.Kind, e.Hash)
		}
	}
	if got := commands.RecordLine(entries[1]).String(); got != "Record entry 2, chain head "+entries[1].Hash[:16]+"." {
		t.Errorf("RecordLine = %q", got)
	}
	if err := record.Verify(entries); err != nil {
		t.Error(err)
	}
}

func TestEachInTx(t *testing.T) {
	h, _, _, _ := toyHarness(t)
	ctx := context.Background()
	var seen []int
	// Committed is told of each item once its transaction commits, while
	// the next ones wait (the bot's sender starts on the first deadline
	// of many), and not of a failed one.
	var committed []int
	h.Env.Committed = func() {
		n := seen[len(seen)-1]
		if out := h.Drain(); len(out) != 1 || out[0].Msg.Body != fmt.Sprintf("item %d", n) {
			t.Errorf("item %d committed with%s queued; want its message", n, Bodies(out))
		}
		committed = append(committed, n)
	}
	err := commands.EachInTx(ctx, h.Env, []int{1, 2, 3, 4}, func(_ context.Context, fx *commands.Effects, n int) error {
		seen = append(seen, n)
		fx.Say(Room, msg.F("item %d", n))
		if n == 3 {
			return errors.New("three")
		}
		return nil
	})
	if err == nil || err.Error() != "three" || len(seen) != 3 {
		t.Errorf("EachInTx: %v after %v; want it to stop at the first error", err, seen)
	}
	if len(committed) != 2 || committed[0] != 1 || committed[1] != 2 {
		t.Errorf("committed %v; want 1 and 2, each after its own transaction", committed)
	}
	h.Env.Committed = nil
	out := h.Drain()
	if len(out) != 0 {
		t.Errorf("kept:%s; want nothing of the failed item", Bodies(out))
	}
}

func TestEffects(t *testing.T) {
	var fx, later commands.Effects
	fx.Say(Room, msg.F("a"))
	fx.DM(Ana, msg.F("b"))
	later.File(Room, msg.File{Name: "f"})
	later.Power(Room, msg.PowerLevel{User: Ben, Level: 50})
	later.Redact(Room, msg.Redaction{Event: "$x"})
	fx.Then(&later)
	var kinds []string
	for _, o := range fx.Queued() {
		kinds = append(kinds, o.Kind+":"+string(o.Room)+string(o.DMUser))
	}
	want := "message:!room:test message:@ana:test file:!room:test power:!room:test redact:!room:test"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("queued %s, want %s", got, want)
	}
}

// TestReaderLanguage: each message is rendered in its reader's language.
// In a room: the one a moderator set with !lang, else the configured one.
// To a member alone: the one they chose; else that of the room the
// message comes from, remembered for what follows in their direct chat;
// else the configured one.
func TestReaderLanguage(t *testing.T) {
	h, _, _, _ := toyHarness(t)
	ctx := context.Background()
	h.Env.Config.Language = "de"
	anaDM, benDM := id.RoomID("!dm-ana:test"), id.RoomID("!dm-ben:test")
	for user, room := range map[id.UserID]id.RoomID{Ana: anaDM, Ben: benDM} {
		if err := h.Env.Store.DMs().Set(ctx, user, room); err != nil {
			t.Fatal(err)
		}
	}
	m := msg.F("I don't know `%s`. Send `%s` for the list of commands.", "!x", "!help")
	langs := map[string]string{}
	for _, lang := range []string{"en", "de", "es"} {
		langs[m.Localize(lang).Body] = lang
	}
	// read queues m, caused by an event in from, and returns the
	// language its reader gets it in.
	read := func(from id.RoomID, queue func(fx *commands.Effects)) string {
		t.Helper()
		err := h.Env.InTx(ctx, func(_ context.Context, fx *commands.Effects) error {
			fx.From(from)
			queue(fx)
			return nil
		})
		out := h.Drain()
		if err != nil || len(out) != 1 {
			t.Fatalf("%v:%s", err, Bodies(out))
		}
		return langs[out[0].Msg.Body]
	}
	say := func(room id.RoomID) func(fx *commands.Effects) {
		return func(fx *commands.Effects) { fx.Say(room, m) }
	}
	dm := func(user id.UserID) func(fx *commands.Effects) {
		return func(fx *commands.Effects) { fx.DM(user, m) }
	}
	setLang := func(lang string) func() { return func() { h.SetLang(lang) } }
	setUser := func(user id.UserID, lang string) func() {
		return func() {
			if err := h.Env.Store.Users().SetLanguage(ctx, user, lang); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		what, want string
		before     func()
		from       id.RoomID
		queue      func(fx *commands.Effects)
	}{
		{what: "in a room without !lang", want: "de", queue: say(Room)},
		{what: "in a room with !lang", want: "es", before: setLang("es"), queue: say(Room)},
		{what: "in a room with !lang, caused in another", want: "es", from: "!other:test", queue: say(Room)},
		{what: "to a member, caused in no room", want: "de", queue: dm(Ben)},
		{what: "to a member, caused in a room", want: "es", from: Room, queue: dm(Ben)},
		{what: "to that member later, caused in no room", want: "es", queue: dm(Ben)},
		{what: "to that member later, caused in their direct chat", want: "es", from: benDM, queue: dm(Ben)},
		{what: "to that member, caused in a room without !lang", want: "de", from: "!other:test", queue: dm(Ben)},
		{what: "to that member later again", want: "de", queue: dm(Ben)},
		{what: "to a member with their own !lang, caused in a room", want: "en", before: setUser(Ana, "en"), from: Room, queue: dm(Ana)},
		{what: "in a member's direct chat, caused in a room", want: "en", from: Room, queue: say(anaDM)},
	} {
		if tc.before != nil {
			tc.before()
		}
		if got := read(tc.from, tc.queue); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.what, got, tc.want)
		}
	}
}
