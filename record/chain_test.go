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
	if err := Verify(entries); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	for i, e := range entries {
		if e.Seq != int64(i+1) {
			t.Errorf("entry %d has Seq %d", i+1, e.Seq)
		}
		if i == 0 && e.Prev != "" {
			t.Errorf("genesis Prev = %q, want empty", e.Prev)
		}
		if i > 0 && e.Prev != entries[i-1].Hash {
			t.Errorf("entry %d Prev does not link to entry %d", e.Seq, i)
		}
		if e.Time.Location() != time.UTC || e.Time.Nanosecond() != 0 {
			t.Errorf("entry %d time %v is not whole-second UTC", e.Seq, e.Time)
		}
		if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(e.Short()) || !strings.HasPrefix(e.Hash, e.Short()) {
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
		{"genesis with a prev", func(es []Entry) []Entry {
			es[0].Prev = es[1].Hash
			rehash(&es[0])
			return es
		}, "entry 1: the first entry of the chain has a previous hash"},
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
			err := Verify(entries)
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
	first, err := Next(nil, "roster.change", map[string]int{"members": 41}, at)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 2, 18, 30, 0, 0, time.UTC); !first.Time.Equal(want) || first.Time.Location() != time.UTC {
		t.Errorf("Time = %v, want %v in UTC", first.Time, want)
	}
	if first.Seq != 1 || first.Prev != "" || string(first.Content) != `{"members":41}` {
		t.Errorf("genesis = %+v", first)
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
	} {
		if _, err := Next(tc.prev, tc.kind, tc.content, tc.at); err == nil {
			t.Errorf("%s: Next succeeded", tc.name)
		}
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
