package motions

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/store"
	"quorum/testkit/forensic"
)

// The forensic tests play a secret ballot through the real rules and the
// real store, in a known order with known choices, and then read every
// byte of every file left behind (database, WAL, SHM, journal, seal key),
// parsing SQLite pages and WAL frames themselves, as whoever seizes the
// files would. They check that no file links a voter to a choice, and that
// the order ballots came in cannot be recovered: the same ballot played in
// another order leaves every voter's ID at the same place in every file.

// electors are the members of the room; all but the last vote.
var electors = []id.UserID{Ana, Ben, Chi, Dan, "@eve:test", "@fay:test", "@gus:test", "@hal:test", "@ivy:test", "@jon:test"}

// choiceOf is each voter's choice, whatever the order they vote in.
var choiceOf = map[id.UserID]string{Ana: "y", Ben: "n", Chi: "a", Dan: "y", "@eve:test": "n", "@fay:test": "y", "@gus:test": "y", "@hal:test": "a", "@ivy:test": "n"}

// play is one way of playing the ballot.
type play struct {
	order  []id.UserID // who votes, in the order they vote
	kill   int         // after this many ballots, go on from a copy of the files taken without closing (as a kill -9 leaves them)
	export int         // after this many ballots, take a snapshot as quorum export does
}

// played is what a play left and what the test knows of it.
type played struct {
	dir       string               // the files after the clean stop
	killed    string               // the copy taken at the kill, as it was
	exported  string               // the export's directory
	sealKey   []byte               // the seal key (the host has it; an export does not)
	codes     map[id.UserID]string // receipt codes, by voter
	castTimes []time.Time
}

// dmRoom and voteEvent are v's direct room and the ID of v's !vote.
func dmRoom(v id.UserID) id.RoomID     { return id.RoomID("!dm-" + v.Localpart() + ":test") }
func voteEvent(v id.UserID) id.EventID { return id.EventID("$dm-vote-" + v.Localpart()) }

func forensicFeatures(env *commands.Env, log zerolog.Logger) []commands.Feature {
	m := New(env, log)
	return []commands.Feature{m, NewDelegates(m)}
}

// playBallot opens a secret motion in a room of the electors and plays p.
func playBallot(t *testing.T, p play) played {
	t.Helper()
	ctx := context.Background()
	out := played{dir: t.TempDir(), codes: map[id.UserID]string{}}
	h := NewHarnessIn(t, out.dir, forensicFeatures, electors...)
	h.Send(Ana, "!motion --secret --closes 2h Strike on Friday")
	var code string
	for _, o := range h.Drain() {
		if f, ok := o.Msg.Fields["quorum.ballot"].(map[string]any); ok {
			code = f["code"].(string)
		}
	}
	if code == "" {
		t.Fatal("no ballot sent")
	}
	closes := h.Clock.Now().Add(2 * time.Hour)
	for i, v := range p.order {
		// Irregular gaps, the same in every play: the nth ballot comes at
		// the same time whoever casts it.
		h.Clock.Advance(time.Duration(61+37*i)*time.Second + time.Duration(i*113)*time.Millisecond)
		out.castTimes = append(out.castTimes, h.Clock.Now())
		_, err := h.A.HandleMessage(ctx, commands.Message{Room: dmRoom(v), Sender: v, Event: voteEvent(v),
			Time: h.Clock.Now(), Body: "!vote " + code + " " + choiceOf[v], InDM: true})
		if err != nil {
			t.Fatal(err)
		}
		sent := h.Drain() // the receipt goes out
		m := receiptRE.FindStringSubmatch(One(t, sent, "receipt code is").Msg.Body)
		if m == nil {
			t.Fatalf("%s got no receipt:%s", v, Bodies(sent))
		}
		out.codes[v] = m[1]
		if i+1 == p.export {
			out.exported = t.TempDir()
			if _, err := h.Env.Store.DB.Exec(ctx, "VACUUM INTO ?", filepath.Join(out.exported, "quorum.db")); err != nil {
				t.Fatal(err)
			}
		}
		if i+1 == p.kill {
			// Copy the files as they are, without closing: what a kill -9
			// (or a power cut) leaves. Then go on from the copy, as a
			// restart would.
			out.killed = t.TempDir()
			forensic.CopyFiles(t, out.dir, out.killed)
			out.dir = t.TempDir()
			forensic.CopyFiles(t, out.killed, out.dir)
			now := h.Clock.Now()
			h = NewHarnessIn(t, out.dir, forensicFeatures, electors...)
			h.Clock.Advance(now.Sub(h.Clock.Now()))
		}
	}
	result := h.AdvanceTo(closes.Add(time.Minute))
	One(t, result, "Motion #1: ")
	if err := h.Env.Store.Close(); err != nil {
		t.Fatal(err)
	}
	out.sealKey = forensic.ReadSealKey(t, out.dir, "quorum.db")
	return out
}

// inspect reads every file in dir as a seizer would (forensic.Inspect), with
// key if they hold the seal key. A voter is named by their ID, and by their
// direct room and the ID of their !vote, which the homeserver ties to them.
func inspect(t *testing.T, what, dir string, key []byte, codes map[id.UserID]string, castTimes []time.Time) []forensic.Hit {
	t.Helper()
	b := forensic.Ballot{CastTimes: castTimes, Key: key, MaxMotion: 10}
	for _, v := range electors {
		b.Voters = append(b.Voters, []string{v.String(), dmRoom(v).String(), voteEvent(v).String()})
	}
	for _, c := range codes {
		b.Codes = append(b.Codes, c)
	}
	_, hits := forensic.Inspect(t, what, dir, "quorum.db", b)
	return hits
}

// castOrders are two orders of the same nine ballots: the second reverses the
// first and rotates it.
func castOrders() ([]id.UserID, []id.UserID) {
	first := slices.Clone(electors[:9])
	second := slices.Clone(first)
	slices.Reverse(second)
	second = append(second[3:], second[:3]...)
	return first, second
}

// TestSecretBallotForensics: after a clean stop, the files link no voter to
// a choice and keep no trace of the ballots' order or times, with or
// without the seal key; the WAL and SHM are gone.
func TestSecretBallotForensics(t *testing.T) {
	first, second := castOrders()
	a := playBallot(t, play{order: first})
	b := playBallot(t, play{order: second})
	for _, p := range []played{a, b} {
		for _, name := range []string{"quorum.db-wal", "quorum.db-shm", "quorum.db-journal"} {
			if _, err := os.Stat(filepath.Join(p.dir, name)); err == nil {
				t.Errorf("%s is left after a clean stop", name)
			}
		}
	}
	forensic.SameLayout(t, "after a clean stop",
		inspect(t, "first order", a.dir, a.sealKey, a.codes, a.castTimes),
		inspect(t, "second order", b.dir, b.sealKey, b.codes, b.castTimes))
}

// TestSecretBallotForensicsAfterKill: files copied mid-ballot without a
// clean close (as a kill -9 leaves them) hold one version of the sealed box
// and nothing in the clear; reopened, the ballot finished and the store
// closed, they are as clean as after an uninterrupted ballot.
func TestSecretBallotForensicsAfterKill(t *testing.T) {
	first, second := castOrders()
	a := playBallot(t, play{order: first, kill: 5})
	b := playBallot(t, play{order: second, kill: 5})
	forensic.SameLayout(t, "killed, restarted and closed",
		inspect(t, "first order", a.dir, a.sealKey, a.codes, a.castTimes),
		inspect(t, "second order", b.dir, b.sealKey, b.codes, b.castTimes))

	// The copy at the kill: the running ballot, sealed, in one version.
	f, err := forensic.Read(a.killed, "quorum.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("at the kill: files %v, %d page images (%d from the WAL)", slices.Sorted(maps.Keys(f.Raw)), len(f.Images), f.Frames())
	versions := map[string]map[string]bool{"ballot roll": {}, "ballot box": {}}
	for _, c := range f.Cells() {
		for _, v := range c.Values {
			blob, ok := v.([]byte)
			if !ok {
				continue
			}
			if purpose, plain, ok := forensic.Open(a.sealKey, blob, 10); ok && versions[purpose] != nil {
				versions[purpose][string(plain)] = true
			}
		}
	}
	for purpose, seen := range versions {
		if len(seen) != 1 {
			t.Errorf("at the kill, the files hold %d versions of the %s, want 1", len(seen), purpose)
		}
		// Even opened, the box keeps the order of the receipt codes only.
		for box := range seen {
			if purpose != "ballot box" {
				continue
			}
			var filled []string
			for slot := range slices.Chunk([]byte(box), store.ReceiptLen+1) {
				if slot[0] != 0 {
					filled = append(filled, string(slot))
				}
			}
			if len(filled) != 5 || !slices.IsSorted(filled) {
				t.Errorf("at the kill, the opened box holds %d ballots in the order %q", len(filled), filled)
			}
		}
	}
	for v, code := range a.codes {
		if hits := f.Find(code); len(hits) > 0 && slices.Index(first, v) < 5 {
			t.Errorf("at the kill, %s's receipt code is in the clear at %+v", v, hits[0])
		}
	}
}

// TestSecretBallotForensicsExport: an export taken mid-ballot (quorum
// export's VACUUM INTO, without the seal key, which is not exported) holds
// no receipt code, no time of a ballot, and puts voters' IDs in the same
// places whatever the order of the ballots so far.
func TestSecretBallotForensicsExport(t *testing.T) {
	first, _ := castOrders()
	// The same five have voted by the export in both plays, in other orders.
	second := append(slices.Clone(first[:5]), first[5:]...)
	slices.Reverse(second[:5])
	a := playBallot(t, play{order: first, export: 5})
	b := playBallot(t, play{order: second, export: 5})
	forensic.SameLayout(t, "export mid-ballot",
		inspect(t, "first order", a.exported, nil, a.codes, a.castTimes),
		inspect(t, "second order", b.exported, nil, b.codes, b.castTimes))
	f, err := forensic.Read(a.exported, "quorum.db")
	if err != nil {
		t.Fatal(err)
	}
	for v, code := range a.codes {
		if hits := f.Find(code); len(hits) > 0 {
			t.Errorf("the export holds %s's receipt code: %+v", v, hits[0])
		}
	}
}

// TestQueuedReceiptUnlinkable: a copy of the files taken while a voter's
// receipt waits in the outbox (a kill, a power cut, a snapshot), seal key
// included, holds their receipt code nowhere the key opens, although the
// opened box holds it with the vote: the receipt is sealed with a key of
// the running bot's alone. Restarted from that copy, the bot tells the
// voter their vote is counted and its receipt lost.
func TestQueuedReceiptUnlinkable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h := NewHarnessIn(t, dir, forensicFeatures, electors...)
	h.Send(Ana, "!motion --secret --closes 2h Strike on Friday")
	var code string
	for _, o := range h.Drain() {
		if f, ok := o.Msg.Fields["quorum.ballot"].(map[string]any); ok {
			code = f["code"].(string)
		}
	}
	if _, err := h.A.HandleMessage(ctx, commands.Message{Room: dmRoom(Ben), Sender: Ben, Event: voteEvent(Ben),
		Time: h.Clock.Now(), Body: "!vote " + code + " n", InDM: true}); err != nil {
		t.Fatal(err)
	}
	queued, err := h.Env.Store.Outbox().Pending(ctx, 10)
	if err != nil || len(queued) != 1 {
		t.Fatalf("%d entries queued (%v), want Ben's receipt", len(queued), err)
	}
	m := receiptRE.FindStringSubmatch(string(queued[0].Payload))
	if m == nil {
		t.Fatalf("the queued entry is no receipt: %s", queued[0].Payload)
	}
	receipt := m[1]

	killed := t.TempDir()
	forensic.CopyFiles(t, dir, killed)
	key := forensic.ReadSealKey(t, killed, "quorum.db")
	f, err := forensic.Read(killed, "quorum.db")
	if err != nil {
		t.Fatal(err)
	}
	inBox := false
	for _, c := range f.Cells() {
		for _, v := range c.Values {
			blob, ok := v.([]byte)
			if !ok {
				continue
			}
			purpose, plain, ok := forensic.Open(key, blob, 10)
			if !ok || !bytes.Contains(plain, []byte(receipt)) {
				continue
			}
			if purpose != "ballot box" {
				t.Errorf("the copy's %s, opened with the seal key, holds Ben's receipt code %s: %q", purpose, receipt, plain)
			}
			inBox = true
		}
	}
	if hits := f.Find(receipt); len(hits) > 0 {
		t.Errorf("the copy holds Ben's receipt code in the clear at %+v", hits[0])
	}
	if !inBox {
		t.Fatal("the opened box does not hold Ben's receipt code: the check looked in the wrong place")
	}

	h = NewHarnessIn(t, killed, forensicFeatures, electors...)
	sent := h.Drain()
	lost := One(t, sent, "I restarted before its receipt went out")
	if lost.DMUser != Ben || strings.Contains(lost.Msg.Body, receipt) || lost.Msg.PadTo != receiptPad {
		t.Fatalf("after the restart, sent %s (pad %d): %q", lost.DMUser, lost.Msg.PadTo, lost.Msg.Body)
	}
}
