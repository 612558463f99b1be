package forensic

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// TestReadsWhatSQLiteWrote: the reader finds the rows SQLite wrote, with
// their rowids, long values across overflow pages, WITHOUT ROWID rows, the
// WAL's frames, and the order rows were inserted in (cells are allocated
// downwards in a page), which is what the secret ballot must not leak.
func TestReadsWhatSQLiteWrote(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	long := strings.Repeat("overflow-", 2000)
	for _, q := range []string{
		"PRAGMA wal_autocheckpoint=0",
		"CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT, data BLOB, n INTEGER, f REAL)",
		"CREATE TABLE b (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID",
		"INSERT INTO a VALUES (7, 'zed', x'0102', -5, 1.5)",
		"INSERT INTO a VALUES (3, 'amy', NULL, 123456789012, 0)",
		"INSERT INTO a VALUES (9, '" + long + "', NULL, 1, 2)",
		"INSERT INTO b VALUES ('mmm', 'first'), ('aaa', 'second')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	f, err := Read(dir, "t.db")
	if err != nil {
		t.Fatal(err)
	}
	if f.WAL == "" {
		t.Fatal("no WAL read")
	}
	var rows []string
	offsets := map[string]int{}
	for _, c := range f.Cells() {
		if c.Image.Frame == 0 {
			continue
		}
		rows = append(rows, fmt.Sprint(c.Rowid, c.Values))
		if len(c.Values) == 2 {
			offsets[c.Values[0].(string)] = c.Offset
		}
		if len(c.Values) == 5 && c.Values[1] == long {
			offsets["long"] = 1
		}
	}
	for _, want := range []string{"7 [<nil> zed [1 2] -5 1.5]", "3 [<nil> amy <nil> 123456789012 0]"} {
		if !slices.Contains(rows, want) {
			t.Errorf("row %q not found in %q", want, rows)
		}
	}
	if offsets["long"] != 1 {
		t.Error("the long value was not read across its overflow pages")
	}
	// 'mmm' went in first, so it lies higher in the page than 'aaa',
	// though it sorts after it.
	if offsets["mmm"] <= offsets["aaa"] {
		t.Errorf("cell offsets %v do not show the insertion order", offsets)
	}
	if hits := f.Find("zed", "amy"); len(hits) < 2 {
		t.Errorf("raw search found %v", hits)
	}
	// The trees, walked from the schema: a in rowid order, b in key order.
	trees := map[string][]string{}
	for _, tr := range f.Trees() {
		for _, c := range tr.Cells {
			trees[tr.Name] = append(trees[tr.Name], fmt.Sprint(c.Rowid, " ", c.Values[0], c.Values[min(1, len(c.Values)-1)]))
		}
	}
	if got := fmt.Sprint(trees["a"]); !strings.HasPrefix(got, "[3 <nil>amy 7 <nil>zed 9 <nil>overflow-") {
		t.Errorf("table a in tree order: %.80s", got)
	}
	if got := fmt.Sprint(trees["b"]); got != "[0 aaasecond 0 mmmfirst]" {
		t.Errorf("table b in tree order: %s", got)
	}
}

// TestLongestRun: a stretch of voters in the order they voted, or in
// reverse, is found however long the sequence around it; repeats count once,
// and a voter who did not vote breaks it.
func TestLongestRun(t *testing.T) {
	rank := map[int]int{5: 0, 1: 1, 7: 2, 3: 3, 8: 4} // 5 voted first, then 1, ...
	for _, tc := range []struct {
		seq  []int
		want []int
	}{
		{[]int{0, 1, 3, 2}, []int{1, 3}},
		{[]int{2, 5, 1, 1, 7, 3, 8, 2}, []int{5, 1, 7, 3, 8}},
		{[]int{8, 3, 7, 1, 5}, []int{8, 3, 7, 1, 5}},
		{[]int{5, 1, 9, 7, 3, 8}, []int{7, 3, 8}},
		{[]int{5, 7, 1, 3}, []int{5, 7}},
	} {
		if got := longestRun(tc.seq, rank); !slices.Equal(got, tc.want) {
			t.Errorf("longestRun(%v) = %v, want %v", tc.seq, got, tc.want)
		}
	}
}

// TestWholeLists: receipt codes pass only as the sorted list of all, once
// or more; one code alone, some of them, or all in another order do not.
func TestWholeLists(t *testing.T) {
	all := []string{"A", "B", "C"}
	text := func(s string) []string {
		var seq []string
		for _, h := range find("", []byte(s), all) {
			seq = append(seq, h.Needle)
		}
		return seq
	}
	for s, want := range map[string]bool{
		"":                      true,
		"result: A, B, C":       true,
		"A B C and again A B C": true,
		"receipt code is B":     false,
		"A B":                   false,
		"B A C":                 false,
		"A B C then A":          false,
	} {
		if got := wholeLists(text(s), all); got != want {
			t.Errorf("wholeLists(%q) = %v, want %v", s, got, want)
		}
	}
}
