package stv

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestWriteBLT(t *testing.T) {
	b := BLT{
		Title:      `Treasurer "2026"`,
		Candidates: []string{"@ana:example.org", "@ben:example.org", "Chi\nnewline"},
		Seats:      1,
		Ballots:    [][]int{{1, 0}, {2}, {}, {1, 0}, {0, 1, 2}, {1, 0}},
	}
	var buf bytes.Buffer
	if err := WriteBLT(&buf, b); err != nil {
		t.Fatal(err)
	}
	// The form OpenSTV reads: numbers from 1, each ballot ending in 0, a
	// line 0, the quoted names, the quoted title. Identical rankings are
	// grouped and the lines sorted; the empty ballot is left out.
	want := `3 1
1 1 2 3 0
3 2 1 0
1 3 0
0
"@ana:example.org"
"@ben:example.org"
"Chi newline"
"Treasurer '2026'"
`
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}

	// The order in which the ballots came leaves no trace.
	b2 := b
	b2.Ballots = slices.Clone(b.Ballots)
	slices.Reverse(b2.Ballots)
	var buf2 bytes.Buffer
	if err := WriteBLT(&buf2, b2); err != nil || buf2.String() != want {
		t.Fatalf("reversed ballots give\n%s", buf2.String())
	}

	// It reads back, and counts the same.
	got, err := ReadBLT(strings.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Treasurer '2026'" || got.Seats != 1 || len(got.Ballots) != 5 || got.Candidates[2] != "Chi newline" {
		t.Fatalf("read back %+v", got)
	}
	orig, _ := Count(Election{Candidates: got.Candidates, Seats: 1, Ballots: b.Ballots, Seed: "s"})
	again, _ := Count(got.Election("s"))
	if !slices.Equal(orig.Elected, again.Elected) || orig.Quota != again.Quota {
		t.Fatalf("recount differs: %v %v", orig.Elected, again.Elected)
	}

	if err := WriteBLT(&buf, BLT{Candidates: []string{"A"}, Seats: 1, Ballots: [][]int{{1}}}); err == nil {
		t.Fatal("a ballot naming a candidate that does not exist was written")
	}
}

// TestBLTRoundTrip writes and reads back the GPUS election: the same
// ballots (as a multiset) and the same count.
func TestBLTRoundTrip(t *testing.T) {
	data, err := os.ReadFile("testdata/gpus2005.blt")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadBLT(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteBLT(&buf, *b); err != nil {
		t.Fatal(err)
	}
	b2, err := ReadBLT(&buf)
	if err != nil {
		t.Fatal(err)
	}
	sorted := func(bs [][]int) [][]int {
		bs = slices.Clone(bs)
		slices.SortFunc(bs, slices.Compare)
		return bs
	}
	if !reflect.DeepEqual(sorted(b.Ballots), sorted(b2.Ballots)) || !slices.Equal(b.Candidates, b2.Candidates) {
		t.Fatal("the ballots changed on the way")
	}
	r1, _ := Count(b.Election("x"))
	r2, _ := Count(b2.Election("x"))
	if !slices.Equal(r1.Elected, r2.Elected) || !reflect.DeepEqual(r1.Rounds[len(r1.Rounds)-1].Counts, r2.Rounds[len(r2.Rounds)-1].Counts) {
		t.Fatal("the recount differs")
	}
}

func TestReadBLT(t *testing.T) {
	withdrawn := "3 1\n-2\n2 1 2 3 0\n1 2 0\n0\n\"A\"\n\"B\"\n\"C\"\n\"T\"\n"
	b, err := ReadBLT(strings.NewReader(withdrawn))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b.Ballots, [][]int{{0, 2}, {0, 2}, nil}) {
		t.Fatalf("withdrawn B: %v", b.Ballots)
	}
	for _, bad := range []string{
		"",
		"3\n",
		"x 1\n0\n",
		"2 1\n1 1 2\n0\n\"A\"\n\"B\"\n",
		"2 1\n1 1 1 0\n0\n\"A\"\n\"B\"\n",
		"2 1\n1 3 0\n0\n\"A\"\n\"B\"\n",
		"2 1\n-1 1 0\n0\n\"A\"\n\"B\"\n",
		"2 1\n1 1 0\n",
		"2 1\n1 1 0\n0\n\"A\"\n",
		"2 1\n1 1 0\n0\nA\nB\n",
		"2 1\n-3\n0\n\"A\"\n\"B\"\n",
		"2 1\n-1 0\n1 1 0\n0\n\"A\"\n\"B\"\n", // 0 is no candidate to withdraw
		"2 1",                                 // nothing after the header
		"0 1\n0\n",                            // no candidates
		"10001 1\n1 1 0\n0\n",                 // more candidates than any election has
	} {
		if _, err := ReadBLT(strings.NewReader(bad)); err == nil {
			t.Errorf("%q read", bad)
		}
	}
}

// TestReadBLTEdges: files at the limits of what is read.
func TestReadBLTEdges(t *testing.T) {
	names := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "\"C%d\"\n", i+1)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, text string
		ballots    [][]int
	}{
		{"a comment line first", "# counted by hand\n2 1\n1 1 0\n0\n" + names(2), [][]int{{0}}},
		{"one candidate", "1 1\n1 1 0\n0\n" + names(1), [][]int{{0}}},
		{"the most candidates", "10000 1\n1 10000 0\n0\n" + names(10000), [][]int{{9999}}},
		{"the last candidate withdrawn", "2 1\n-2\n1 2 1 0\n0\n" + names(2), [][]int{{0}}},
		{"an empty ranking", "2 1\n1 0\n0\n" + names(2), [][]int{nil}},
		{"a ranking of weight 0", "2 1\n0 1 0\n1 2 0\n0\n" + names(2), [][]int{{1}}},
		{"the largest weight", "2 1\n1000000 1 0\n0\n" + names(2), slices.Repeat([][]int{{0}}, 1000000)},
	} {
		b, err := ReadBLT(strings.NewReader(tc.text))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(b.Ballots, tc.ballots) {
			t.Errorf("%s: ballots %v, want %v", tc.name, b.Ballots, tc.ballots)
		}
	}
}

func FuzzReadBLT(f *testing.F) {
	f.Add("3 1\n-2\n2 1 2 3 0\n1 2 0\n0\n\"A\"\n\"B\"\n\"C\"\n\"T\"\n")
	f.Add("2 1\n1 1 0\n0\n\"A\"\n\"B\"\n\"\"\n")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ReadBLT(strings.NewReader(s))
		if err != nil {
			return
		}
		// What reads counts (or is refused as an election) without panic,
		// and writes back to something that reads the same ballots.
		_, _ = Count(b.Election("fuzz"))
		var buf bytes.Buffer
		if err := WriteBLT(&buf, *b); err != nil {
			t.Fatal(err)
		}
		b2, err := ReadBLT(&buf)
		if err != nil {
			t.Fatalf("%q does not read back: %v", buf.String(), err)
		}
		var nonEmpty [][]int
		for _, r := range b.Ballots {
			if len(r) > 0 {
				nonEmpty = append(nonEmpty, r)
			}
		}
		slices.SortFunc(nonEmpty, slices.Compare)
		got := slices.Clone(b2.Ballots)
		slices.SortFunc(got, slices.Compare)
		if len(nonEmpty) != len(got) || (len(got) > 0 && !reflect.DeepEqual(nonEmpty, got)) {
			t.Fatalf("ballots %v became %v", nonEmpty, got)
		}
	})
}
