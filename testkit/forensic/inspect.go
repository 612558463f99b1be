package forensic

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Ballot is what a test knows of a secret ballot it played, and looks for
// in the files it left.
type Ballot struct {
	// Voters names each member of the electorate by every string that ties
	// a file to them: their user ID, and what the homeserver ties to them
	// (their direct room with the bot, the ID of their !vote, their device).
	Voters [][]string
	// Codes are every receipt code given.
	Codes []string
	// CastTimes are when ballots came (the votes' and the receipts' times).
	CastTimes []time.Time
	// VoterTimes are, by voter (as Voters), when their ballot came; a
	// record that names a voter must hold no time within two seconds of it.
	VoterTimes [][]time.Time
	// Key is the seal key, when the seizer holds it (the bot's host); nil
	// for what holds no seal key (an export).
	Key []byte
	// MaxMotion bounds the motion IDs a sealed value may be bound to.
	MaxMotion int64
}

// ChoiceWords are how a choice could be stored.
var ChoiceWords = []string{"yes", "no", "abstain", "y", "n", "a"}

// Inspect reads every file in dir (db names the database) as a seizer
// would, with the seal key if b has it, and fails t for anything that links
// a voter to a choice or keeps when a ballot came:
//   - a receipt code anywhere but in the whole published list, sorted;
//   - a record (a cell of any page image, WAL frames included) that holds
//     a voter and a choice, or some but not all receipt codes;
//   - with the seal key, a sealed ballot box or roll, or a sealed value
//     naming a receipt code;
//   - the time of a ballot, in any encoding SQLite or JSON would use.
//
// It returns what it read and where each voter's names lie, for
// SameLayout and CastOrder.
func Inspect(t testing.TB, what, dir, db string, b Ballot) (*Files, []Hit) {
	t.Helper()
	f, err := Read(dir, db)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	voters := slices.Concat(b.Voters...)
	all := slices.Sorted(slices.Values(b.Codes))
	read := 0
	for _, data := range f.Raw {
		read += len(data)
	}
	t.Logf("%s: %d files, %d bytes, %d page images (%d from the WAL)", what, len(f.Raw), read, len(f.Images), f.Frames())

	// Receipt codes appear only as the whole published list, in the order
	// of the codes (the result's record entry): never one alone, never in
	// the order they were given.
	byFile := map[string][]string{}
	for _, h := range f.Find(all...) {
		byFile[h.File] = append(byFile[h.File], h.Needle)
	}
	for file, seq := range byFile {
		if !wholeLists(seq, all) {
			t.Errorf("%s: %s holds receipt codes other than as the sorted list of all: %v", what, file, seq)
		}
	}

	// No record links a voter to a choice or to some receipt codes.
	for _, c := range f.Cells() {
		var text []string
		hasChoice := false
		for _, v := range c.Values {
			switch v := v.(type) {
			case string:
				text = append(text, v)
				hasChoice = hasChoice || slices.Contains(ChoiceWords, v)
			case []byte:
				text = append(text, string(v))
			}
		}
		joined := strings.Join(text, "\x00")
		nCodes, voter := 0, ""
		for _, code := range all {
			if strings.Contains(joined, code) {
				nCodes++
			}
		}
		for _, v := range voters {
			if strings.Contains(joined, v) {
				voter = v
			}
		}
		for v, names := range b.Voters {
			if v >= len(b.VoterTimes) || !slices.ContainsFunc(names, func(n string) bool { return strings.Contains(joined, n) }) {
				continue
			}
			for _, val := range c.Values {
				x, ok := val.(int64)
				if !ok {
					continue
				}
				for _, at := range b.VoterTimes[v] {
					if near(x, at.UnixMilli(), 2000) || near(x, at.Unix(), 2) {
						t.Errorf("%s: %s at %d holds %s and %d, within two seconds of their ballot: %.200q", what, c.Image, c.Offset, names[0], x, joined)
					}
				}
			}
		}
		if nCodes > 0 && nCodes < len(all) {
			t.Errorf("%s: %s at %d holds %d of %d receipt codes: %.200q", what, c.Image, c.Offset, nCodes, len(all), joined)
		}
		if voter != "" && hasChoice {
			t.Errorf("%s: %s at %d holds %s and a choice: %.200q", what, c.Image, c.Offset, voter, joined)
		}
		if b.Key == nil {
			continue
		}
		// With the seal key, as the bot's host: nothing sealed opens to a
		// ballot box or roll, or to anything naming a voter's code but the
		// whole published list (the result, still in the outbox when the
		// bot stopped, to be sent when it starts again).
		for _, v := range c.Values {
			blob, ok := v.([]byte)
			if !ok {
				continue
			}
			if purpose, plain, ok := Open(b.Key, blob, b.MaxMotion); ok {
				if purpose == "ballot roll" || purpose == "ballot box" {
					t.Errorf("%s: %s at %d holds a %s that opens with the seal key", what, c.Image, c.Offset, purpose)
				}
				var seq []string
				for _, h := range find(purpose, plain, all) {
					seq = append(seq, h.Needle)
				}
				if !wholeLists(seq, all) {
					t.Errorf("%s: %s at %d holds a sealed %s with receipts %v", what, c.Image, c.Offset, purpose, seq)
				}
			}
		}
	}

	// No file holds the time of a ballot, in any encoding SQLite or JSON
	// would use.
	for i, at := range b.CastTimes {
		var needles []string
		for _, v := range []int64{at.UnixMilli(), at.Unix()} {
			needles = append(needles, Integers(v)...)
		}
		needles = append(needles, at.UTC().Format(time.RFC3339), at.UTC().Format("2006-01-02T15:04:05.000"))
		for _, h := range f.Find(needles...) {
			t.Errorf("%s: %s at %d holds the time of ballot %d (%q)", what, h.File, h.Offset, i+1, h.Needle)
		}
	}
	return f, f.Find(voters...)
}

func near(x, y, within int64) bool { return x >= y-within && x <= y+within }

// Frames counts the page images read from the WAL.
func (f *Files) Frames() int {
	n := 0
	for _, img := range f.Images {
		if img.Frame > 0 {
			n++
		}
	}
	return n
}

// SameLayout fails unless two plays left every voter's names at the same
// places: then nothing in the files depends on the order of the ballots.
// It suits plays whose files differ in nothing else (the rules and the
// store, played on a fake clock); CastOrder suits a real bot's.
func SameLayout(t testing.TB, what string, a, b []Hit) {
	t.Helper()
	if len(a) == 0 {
		t.Fatalf("%s: no voter ID found at all: the comparison reads nothing", what)
	}
	if !slices.Equal(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Errorf("%s: voter IDs lie differently after ballots in another order: %+v, then %+v (of %d and %d)", what, a[i], b[i], len(a), len(b))
				return
			}
		}
		t.Errorf("%s: %d voter IDs after one order, %d after another", what, len(a), len(b))
	}
}

// Sequence is an order of voters that a reader of the files can see: the
// voters (indexes into Ballot.Voters) in the order their names first appear
// in one place, read one way.
type Sequence struct {
	Where  string
	Voters []int
	// All is set when Voters lists every row in which a voter appears, in
	// order, rather than where each first appears.
	All bool
}

// Sequences lists every order of voters the files show: in each file by
// byte offset (the order of pages, of WAL frames, of log lines), in each
// page image by offset (SQLite allocates a page's cells downwards as rows
// arrive) and by rowid (rowids grow as rows arrive).
func (f *Files) Sequences(voters [][]string) []Sequence {
	voterAt := func(data []byte) []int {
		type hit struct{ at, voter int }
		var hits []hit
		for v, names := range voters {
			first := -1
			for _, n := range names {
				if i := bytes.Index(data, []byte(n)); i >= 0 && (first < 0 || i < first) {
					first = i
				}
			}
			if first >= 0 {
				hits = append(hits, hit{first, v})
			}
		}
		slices.SortFunc(hits, func(a, b hit) int { return a.at - b.at })
		out := make([]int, len(hits))
		for i, h := range hits {
			out[i] = h.voter
		}
		return out
	}
	var out []Sequence
	for _, name := range slices.Sorted(maps.Keys(f.Raw)) {
		out = append(out, Sequence{Where: name + " by offset", Voters: voterAt(f.Raw[name])})
	}
	for _, img := range f.Images {
		out = append(out, Sequence{Where: img.String() + " by offset", Voters: voterAt(img.Data)})
		type row struct {
			rowid int64
			voter int
		}
		var rows []row
		seen := map[int]bool{}
		for _, c := range f.cells(img) {
			if c.Rowid == 0 {
				continue
			}
			text := c.Text()
			for v, names := range voters {
				for _, n := range names {
					if !seen[v] && bytes.Contains(text, []byte(n)) {
						seen[v] = true
						rows = append(rows, row{c.Rowid, v})
					}
				}
			}
		}
		slices.SortFunc(rows, func(a, b row) int { return int(a.rowid - b.rowid) })
		var byRowid []int
		for _, r := range rows {
			byRowid = append(byRowid, r.voter)
		}
		out = append(out, Sequence{Where: img.String() + " by rowid", Voters: byRowid})
	}
	for _, t := range f.Trees() {
		var seq []int
		for _, c := range t.Cells {
			seq = append(seq, voterAt(c.Text())...)
		}
		out = append(out, Sequence{Where: t.Name + " in key order", Voters: seq, All: true})
	}
	return out
}

// CastOrder fails t if any order the files show (Sequences) lists at least
// least voters in the order in which they cast their ballots, or in
// reverse: where each first appears in a file or a page, or one after
// another anywhere in a file, a page or a table. Whoever reads such files
// could tell who voted when. cast lists voters (indexes into b.Voters) in
// the order they voted; choose it far from the orders the files may rightly
// keep (user IDs sorted, the order members joined). Fewer voters in one
// place are not judged: with seven, a random order passes for the order of
// the ballots (or its reverse) once in 2,520 places.
func CastOrder(t testing.TB, what string, f *Files, b Ballot, cast []int, least int) {
	t.Helper()
	rank := make(map[int]int, len(cast))
	for i, v := range cast {
		rank[v] = i
	}
	judged := 0
	for _, s := range f.Sequences(b.Voters) {
		if run := longestRun(s.Voters, rank); len(run) >= least {
			t.Errorf("%s: %s holds %d voters one after another in the order they voted: %s", what, s.Where, len(run), Describe(b.Voters, run))
		}
		if s.All {
			continue
		}
		var ranks []int
		for _, v := range s.Voters {
			if r, ok := rank[v]; ok {
				ranks = append(ranks, r)
			}
		}
		n := len(ranks)
		if n < least {
			continue
		}
		judged++
		inv := 0
		for i := range ranks {
			for j := i + 1; j < n; j++ {
				if ranks[i] > ranks[j] {
					inv++
				}
			}
		}
		if most := n * (n - 1) / 2; inv == 0 || inv == most {
			t.Errorf("%s: %s lists %d voters in the order they voted (%d of %d pairs out of order): %s", what, s.Where, n, inv, most, Describe(b.Voters, s.Voters))
		}
	}
	t.Logf("%s: %d places list %d or more voters, judged against the order of the ballots", what, judged, least)
}

// longestRun returns the longest stretch of seq (repeats of one voter
// counted once) whose voters all voted, one after another or in reverse.
func longestRun(seq []int, rank map[int]int) []int {
	var best, cur []int
	dir := 0
	for _, v := range seq {
		r, ok := rank[v]
		if !ok {
			cur, dir = nil, 0
			continue
		}
		if len(cur) > 0 && cur[len(cur)-1] == v {
			continue
		}
		if len(cur) == 0 {
			cur = []int{v}
			continue
		}
		d := 1
		if r < rank[cur[len(cur)-1]] {
			d = -1
		}
		if dir == 0 || d == dir {
			cur, dir = append(cur, v), d
		} else {
			cur, dir = []int{cur[len(cur)-1], v}, d
		}
		if len(cur) > len(best) {
			best = slices.Clone(cur)
		}
	}
	return best
}

// Describe names voters by index, for messages.
func Describe(voters [][]string, seq []int) string {
	var names []string
	for _, v := range seq {
		names = append(names, voters[v][0])
	}
	return fmt.Sprint(names)
}

// ReadSealKey reads the seal key beside database db in dir, as the bot
// writes it (base64 of 32 bytes).
func ReadSealKey(t testing.TB, dir, db string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, db) + ".seal-key")
	if err != nil {
		t.Fatal(err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		t.Fatalf("%s does not hold a seal key", filepath.Join(dir, db)+".seal-key")
	}
	return key
}

// CopyFiles copies the files of dir (not its folders) into to, byte for
// byte: what a kill -9 or a power cut leaves, kept for reading.
func CopyFiles(t testing.TB, dir, to string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// Text joins a cell's text and blob values, each followed by a zero byte.
func (c Cell) Text() []byte {
	var text []byte
	for _, v := range c.Values {
		switch v := v.(type) {
		case string:
			text = append(text, v...)
		case []byte:
			text = append(text, v...)
		}
		text = append(text, 0)
	}
	return text
}

// wholeLists says whether seq, receipt codes in the order they lie, is the
// sorted list of all codes (the published result) once or more.
func wholeLists(seq, all []string) bool {
	for i := 0; i < len(seq); i += len(all) {
		if i+len(all) > len(seq) || !slices.Equal(seq[i:i+len(all)], all) {
			return false
		}
	}
	return true
}
