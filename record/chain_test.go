package record

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestChainVerifies(t *testing.T) {
	entries := buildChain(t, 10)
	if err := VerifyRoom(testRoom, entries); err != nil {
		t.Fatalf("VerifyRoom: %v", err)
	}
	for i, e := range entries {
		if e.Seq != int64(i+1) {
			t.Errorf("entry %d has Seq %d", i+1, e.Seq)
		}
		if i == 0 && e.Prev != Genesis(testRoom) {
			t.Errorf("entry 1 Prev = %q, want the room's genesis %q", e.Prev, Genesis(testRoom))
		}
		if i > 0 && e.Prev != entries[i-1].Hash {
			t.Errorf("entry %d Prev does not link to entry %d", e.Seq, i)
		}
		if e.Time.Location() != time.UTC || e.Time.Nanosecond() != 0 {
			t.Errorf("entry %d time %v is not whole-second UTC", e.Seq, e.Time)
		}
		// 16 hex characters: 64 bits.
		if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(e.Short()) || !strings.HasPrefix(e.Hash, e.Short()) {
			t.Errorf("entry %d Short() = %q, hash %q", e.Seq, e.Short(), e.Hash)
		}
	}
	if err := Verify(nil); err != nil {
		t.Errorf("Verify(nil) = %v, want nil", err)
	}
}

// rehash recomputes an entry's own hash, as a forger who knows the format
// would, leaving its links alone.
func rehash(e *Entry) { e.Hash = e.ComputeHash() }

func TestChainTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func([]Entry) []Entry
		want   string
	}{
		{"edit content", func(es []Entry) []Entry {
			es[3].Content = json.RawMessage(strings.Replace(string(es[3].Content), `"role":"negotiator"`, `"role":"treasurer"`, 1))
			return es
		}, "entry 4: hash does not match its content (edited?)"},
		{"edit time", func(es []Entry) []Entry {
			es[3].Time = es[3].Time.Add(time.Second)
			return es
		}, "entry 4: hash does not match its content (edited?)"},
		{"sub-second time", func(es []Entry) []Entry {
			es[3].Time = es[3].Time.Add(time.Millisecond)
			return es
		}, "entry 4: hash does not match its content (edited?)"},
		{"edit kind", func(es []Entry) []Entry {
			es[6].Kind = "delegation.recalled"
			return es
		}, "entry 7: hash does not match its content (edited?)"},
		{"delete an entry", func(es []Entry) []Entry {
			return slices.Delete(es, 4, 5)
		}, "seq jumps from 4 to 6 (entry deleted?)"},
		{"delete, renumber and rehash", func(es []Entry) []Entry {
			es = slices.Delete(es, 4, 5)
			for i := 4; i < len(es); i++ {
				es[i].Seq--
				rehash(&es[i])
			}
			return es
		}, "entry 5: previous hash does not match entry 4 (deleted or reordered?)"},
		{"reorder two", func(es []Entry) []Entry {
			es[3], es[4] = es[4], es[3]
			return es
		}, "seq goes from 5 back to 4 (entries reordered?)"},
		{"reorder two, renumber and rehash", func(es []Entry) []Entry {
			es[3], es[4] = es[4], es[3]
			es[3].Seq, es[4].Seq = 4, 5
			es[3].Time, es[4].Time = es[4].Time, es[3].Time
			rehash(&es[3])
			rehash(&es[4])
			return es
		}, "entry 4: previous hash does not match entry 3 (deleted or reordered?)"},
		{"change a prev", func(es []Entry) []Entry {
			es[5].Prev = es[3].Hash
			return es
		}, "entry 6: hash does not match its content (edited?)"},
		{"change a prev and rehash", func(es []Entry) []Entry {
			es[5].Prev = es[3].Hash
			rehash(&es[5])
			return es
		}, "entry 6: previous hash does not match entry 5 (deleted or reordered?)"},
		{"duplicate an entry", func(es []Entry) []Entry {
			return slices.Insert(es, 5, es[4])
		}, "seq 5 appears twice (entry duplicated?)"},
		{"genesis of another room", func(es []Entry) []Entry {
			es[0].Prev = Genesis("!other:example.org")
			rehash(&es[0])
			for i := 1; i < len(es); i++ {
				es[i].Prev = es[i-1].Hash
				rehash(&es[i])
			}
			return es
		}, "entry 1: the chain does not begin in room " + testRoom + " (moved from another room?)"},
		{"genesis not a hash", func(es []Entry) []Entry {
			es[0].Prev = "genesis"
			rehash(&es[0])
			return es
		}, "entry 1: the link to the room's genesis is not a hex SHA-256"},
		{"time goes back", func(es []Entry) []Entry {
			es[4].Time = es[3].Time.Add(-time.Hour)
			rehash(&es[4])
			for i := 5; i < len(es); i++ {
				es[i].Prev = es[i-1].Hash
				rehash(&es[i])
			}
			return es
		}, "entry 5: time goes back from 2026-03-02T20:21:00Z to 2026-03-02T19:21:00Z (reordered?)"},
		{"content not canonical", func(es []Entry) []Entry {
			es[2].Content = json.RawMessage(`{"b": 1, "a": 2}`)
			rehash(&es[2])
			for i := 3; i < len(es); i++ {
				es[i].Prev = es[i-1].Hash
				rehash(&es[i])
			}
			return es
		}, "entry 3: content is not canonical JSON"},
		{"malformed hash", func(es []Entry) []Entry {
			es[1].Hash = strings.ToUpper(es[1].Hash)
			return es
		}, "entry 2: hash is missing or not a hex SHA-256"},
		{"empty kind", func(es []Entry) []Entry {
			es[1].Kind = ""
			rehash(&es[1])
			for i := 2; i < len(es); i++ {
				es[i].Prev = es[i-1].Hash
				rehash(&es[i])
			}
			return es
		}, "entry 2: kind is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			entries := tc.tamper(buildChain(t, 10))
			err := VerifyRoom(testRoom, entries)
			if err == nil {
				t.Fatalf("Verify passed, want %q", tc.want)
			}
			if err.Error() != tc.want {
				t.Fatalf("Verify error\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestChainPeriodCut(t *testing.T) {
	entries := buildChain(t, 10)
	period := entries[3:7]
	if err := Verify(period); err != nil {
		t.Fatalf("Verify(entries 4..7) = %v, want nil", err)
	}
	cut := slices.Clone(period)
	cut[0].Prev = ""
	rehash(&cut[0])
	cut[1].Prev = cut[0].Hash
	rehash(&cut[1])
	if err := Verify(cut[:2]); err == nil || err.Error() != "entry 4: previous hash is missing or not a hex SHA-256" {
		t.Fatalf("Verify(period without prev) = %v", err)
	}
}

func TestNext(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	at := time.Date(2026, 3, 2, 19, 30, 0, 987654321, paris)
	first, err := Start(testRoom, "roster.change", map[string]int{"members": 41}, at)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 2, 18, 30, 0, 0, time.UTC); !first.Time.Equal(want) || first.Time.Location() != time.UTC {
		t.Errorf("Time = %v, want %v in UTC", first.Time, want)
	}
	if first.Seq != 1 || first.Prev != Genesis(testRoom) || string(first.Content) != `{"members":41}` {
		t.Errorf("first entry = %+v", first)
	}

	// A clock that steps back must not make the record look reordered.
	second, err := Next(&first, "roster.change", nil, at.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !second.Time.Equal(first.Time) {
		t.Errorf("time after a clock step back = %v, want %v", second.Time, first.Time)
	}
	if second.Seq != 2 || second.Prev != first.Hash || string(second.Content) != "null" {
		t.Errorf("second = %+v", second)
	}
	if err := Verify([]Entry{first, second}); err != nil {
		t.Errorf("Verify: %v", err)
	}

	for _, tc := range []struct {
		name    string
		prev    *Entry
		kind    string
		content any
		at      time.Time
	}{
		{"empty kind", nil, "", 1, at},
		{"invalid utf-8 kind", nil, "motion\xff", 1, at},
		{"zero time", nil, "x", 1, time.Time{}},
		{"content not json", nil, "x", make(chan int), at},
		{"prev without hash", &Entry{Seq: 3}, "x", 1, at},
		{"no prev", nil, "x", 1, at},
	} {
		if _, err := Next(tc.prev, tc.kind, tc.content, tc.at); err == nil {
			t.Errorf("%s: Next succeeded", tc.name)
		}
	}
	for _, tc := range []struct {
		name, room, kind string
		at               time.Time
	}{
		{"empty room", "", "x", at},
		{"empty kind", testRoom, "", at},
		{"zero time", testRoom, "x", time.Time{}},
	} {
		if _, err := Start(tc.room, tc.kind, 1, tc.at); err == nil {
			t.Errorf("%s: Start succeeded", tc.name)
		}
	}
}

// TestChainBoundToRoom: the room ID is in the hash of a room's first entry,
// so the same decisions make different chains in two rooms, and nothing
// moves from one room's chain to another's unnoticed. Chains begun before
// that rule (an empty genesis) still verify.
func TestChainBoundToRoom(t *testing.T) {
	const other = "!dayshift:example.org"
	a, b := buildRoomChain(t, testRoom, 5), buildRoomChain(t, other, 5)
	for i := range a {
		if a[i].Hash == b[i].Hash {
			t.Errorf("entry %d hashes alike in two rooms with the same content", i+1)
		}
		if i > 0 && (a[i].Kind != b[i].Kind || string(a[i].Content) != string(b[i].Content) || !a[i].Time.Equal(b[i].Time)) {
			t.Fatalf("entry %d: the two rooms' content differs, the test proves nothing", i+1)
		}
	}
	if err := VerifyRoom(other, b); err != nil {
		t.Fatalf("VerifyRoom(other room's own chain) = %v", err)
	}

	moved := "entry 1: the chain does not begin in room " + other + " (moved from another room?)"
	for _, tc := range []struct {
		name    string
		entries []Entry
		want    string
	}{
		{"a whole chain moved", a, moved},
		{"its first entry moved", append([]Entry{a[0]}, b[1:]...), "entry 2: previous hash does not match entry 1 (deleted or reordered?)"},
		{"its first entry moved, the next relinked", func() []Entry {
			es := slices.Clone(a[:2])
			es[1].Prev = es[0].Hash
			rehash(&es[1])
			return es
		}(), moved},
		{"a later entry moved", []Entry{b[0], b[1], a[2], b[3]}, "entry 3: previous hash does not match entry 2 (deleted or reordered?)"},
	} {
		if err := VerifyRoom(other, tc.entries); err == nil || err.Error() != tc.want {
			t.Errorf("%s: VerifyRoom = %v, want %q", tc.name, err, tc.want)
		}
	}

	// A chain begun before rooms were bound: entry 1 links to nothing.
	legacy := slices.Clone(a)
	legacy[0].Prev = ""
	rehash(&legacy[0])
	for i := 1; i < len(legacy); i++ {
		legacy[i].Prev = legacy[i-1].Hash
		rehash(&legacy[i])
	}
	for _, room := range []string{testRoom, other} {
		if err := VerifyRoom(room, legacy); err != nil {
			t.Errorf("VerifyRoom(%s, chain begun before rooms were bound) = %v", room, err)
		}
	}
	// A stretch that starts later cannot be placed; its link is shown to
	// members instead (VerifyMinutes).
	if err := VerifyRoom(other, a[2:]); err != nil {
		t.Errorf("VerifyRoom(a later stretch) = %v", err)
	}
}

// TestGenesisEncoding pins the documented genesis hash, as TestHashEncoding
// pins the entry hash.
func TestGenesisEncoding(t *testing.T) {
	var b []byte
	for _, f := range []string{"quorum-genesis-v1", testRoom} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
		b = append(b, f...)
	}
	sum := sha256.Sum256(b)
	if got, want := Genesis(testRoom), hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("Genesis = %s, want %s (the documented encoding)", got, want)
	}
	// Computed independently with Python's hashlib and struct.pack(">Q", ...).
	if got, golden := Genesis(testRoom), "150afca674f73a9c50067d6dc116385cb1c8c523b16e98098836f1deb9053512"; got != golden {
		t.Fatalf("Genesis = %s, want golden %s", got, golden)
	}
	if Genesis("!a:x") == Genesis("!A:x") {
		t.Fatal("room IDs are case-sensitive; their genesis must differ")
	}
}

// TestHashEncoding pins the documented hash encoding, which auditors
// reimplement from the text in the minutes: a change here invalidates every
// record ever written.
func TestHashEncoding(t *testing.T) {
	e := Entry{
		Seq:     42,
		Time:    time.Date(2026, 3, 3, 18, 4, 5, 0, time.UTC),
		Kind:    "motion.result",
		Content: json.RawMessage(`{"for":23}`),
		Prev:    strings.Repeat("ab", 32),
	}
	var b []byte
	for _, f := range []string{"quorum-record-v1", "42", "2026-03-03T18:04:05Z", "motion.result", `{"for":23}`, strings.Repeat("ab", 32)} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
		b = append(b, f...)
	}
	sum := sha256.Sum256(b)
	if got, want := e.ComputeHash(), hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("ComputeHash = %s, want %s (the documented encoding)", got, want)
	}
	// Computed independently with Python's hashlib and struct.pack(">Q", ...).
	if got, golden := e.ComputeHash(), "2ac3fadd0bd912eded9ab249b682069cd96a56d58085f94f9701d8a846a0f1ea"; got != golden {
		t.Fatalf("ComputeHash = %s, want golden %s", got, golden)
	}

	// Without length prefixes these two would hash alike ("x" + "12" vs "x1" + "2").
	a := Entry{Seq: 1, Time: e.Time, Kind: "x", Content: json.RawMessage(`12`)}
	c := Entry{Seq: 1, Time: e.Time, Kind: "x1", Content: json.RawMessage(`2`)}
	if a.ComputeHash() == c.ComputeHash() {
		t.Fatal("field boundaries are ambiguous: different entries hash alike")
	}
}

func BenchmarkVerify1000(b *testing.B) {
	entries := buildChain(b, 1000)
	b.ResetTimer()
	for b.Loop() {
		if err := Verify(entries); err != nil {
			b.Fatal(err)
		}
	}
}
