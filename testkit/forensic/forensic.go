// Package forensic reads what the bot leaves on disk the way someone who
// seized it would: every page of an SQLite database file and every frame
// of its WAL, parsed here without SQLite (the SQL view hides free space,
// deleted cells and old page versions), and every byte of every other file.
// Tests of the secret ballot use it to check that no file links a voter to
// a choice or keeps the order ballots came in.
//
// The formats are those of https://www.sqlite.org/fileformat2.html.
package forensic

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
)

// Image is one version of one page: a page of the database file, or a
// frame of the WAL (which holds a later version of the page).
type Image struct {
	File  string // the file's name
	Page  uint32 // page number, from 1
	Frame int    // 0 for the database file; the frame's number (from 1) in the WAL
	// Txn numbers the WAL's transactions: the frames of one commit share it.
	Txn  int
	Data []byte
}

func (img *Image) String() string {
	if img.Frame == 0 {
		return fmt.Sprintf("%s page %d", img.File, img.Page)
	}
	return fmt.Sprintf("%s frame %d (page %d)", img.File, img.Frame, img.Page)
}

// Cell is a b-tree cell with a payload: a row of a table, or an entry of
// an index (WITHOUT ROWID tables are indexes), with its record decoded.
type Cell struct {
	Image  *Image
	Offset int   // where the cell starts in the page
	Rowid  int64 // for a row of a rowid table
	Values []any // nil, int64, float64, string (TEXT) or []byte (BLOB)
}

// Files is everything found in a directory.
type Files struct {
	PageSize int
	// Raw is every file's bytes by name.
	Raw map[string][]byte
	// Images are the database's pages and the WAL's frames, in file order.
	Images []*Image
	// DB and WAL are the names of the database file and its WAL, if any.
	DB, WAL string
}

// Read reads every file in dir; db names the database file (its WAL is
// db + "-wal").
func Read(dir, db string) (*Files, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	f := &Files{Raw: map[string][]byte{}, DB: db}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		f.Raw[e.Name()] = data
	}
	main := f.Raw[db]
	if len(main) < 100 || !bytes.HasPrefix(main, []byte("SQLite format 3\x00")) {
		return nil, fmt.Errorf("%s is not an SQLite database", db)
	}
	f.PageSize = int(binary.BigEndian.Uint16(main[16:18]))
	if f.PageSize == 1 {
		f.PageSize = 65536
	}
	for i := 0; i+f.PageSize <= len(main); i += f.PageSize {
		f.Images = append(f.Images, &Image{File: db, Page: uint32(i/f.PageSize + 1), Data: main[i : i+f.PageSize]})
	}
	if wal, ok := f.Raw[db+"-wal"]; ok && len(wal) >= 32 {
		f.WAL = db + "-wal"
		size := int(binary.BigEndian.Uint32(wal[8:12]))
		if size != f.PageSize {
			return nil, fmt.Errorf("WAL page size %d, database %d", size, f.PageSize)
		}
		// Every complete frame, valid or left over from before the WAL
		// was last reset: a reader of the file sees them all.
		txn := 1
		for i, n := 32, 1; i+24+size <= len(wal); i, n = i+24+size, n+1 {
			f.Images = append(f.Images, &Image{File: f.WAL, Page: binary.BigEndian.Uint32(wal[i : i+4]), Frame: n, Txn: txn, Data: wal[i+24 : i+24+size]})
			if binary.BigEndian.Uint32(wal[i+4:i+8]) != 0 { // a commit frame ends its transaction
				txn++
			}
		}
	}
	return f, nil
}

// page returns the version of page n that goes with img: the last frame of
// img's transaction that holds it, else the last earlier frame, else the
// database file's.
func (f *Files) page(n uint32, as *Image) []byte {
	if as.Frame > 0 {
		var same, before []byte
		for _, img := range f.Images {
			if img.File != as.File || img.Page != n {
				continue
			}
			if img.Txn == as.Txn {
				same = img.Data
			} else if img.Frame < as.Frame {
				before = img.Data
			}
		}
		if same != nil {
			return same
		}
		if before != nil {
			return before
		}
	}
	for _, img := range f.Images {
		if img.Frame == 0 && img.Page == n {
			return img.Data
		}
	}
	return nil
}

// Cells parses every b-tree page image (leaf and interior, tables and
// indexes) and returns the cells that carry a payload.
func (f *Files) Cells() []Cell {
	var out []Cell
	for _, img := range f.Images {
		out = append(out, f.cells(img)...)
	}
	return out
}

func (f *Files) cells(img *Image) []Cell {
	d := img.Data
	hdr := 0
	if img.Page == 1 {
		hdr = 100
	}
	if len(d) < hdr+8 {
		return nil
	}
	kind := d[hdr]
	var headerLen int
	switch kind {
	case 2, 5:
		headerLen = 12
	case 10, 13:
		headerLen = 8
	default:
		return nil // an overflow, free or pointer-map page, or zeros
	}
	n := int(binary.BigEndian.Uint16(d[hdr+3 : hdr+5]))
	usable := f.PageSize - int(f.reserved())
	var out []Cell
	for i := 0; i < n; i++ {
		at := hdr + headerLen + 2*i
		if at+2 > len(d) {
			break
		}
		off := int(binary.BigEndian.Uint16(d[at : at+2]))
		if off <= 0 || off >= len(d) {
			continue
		}
		c := Cell{Image: img, Offset: off}
		p := off
		if kind == 2 || kind == 5 {
			p += 4 // left child page
		}
		if kind == 5 {
			continue // interior table cells hold a rowid only
		}
		size, k := varint(d[p:])
		p += k
		if kind == 13 {
			rowid, k := varint(d[p:])
			c.Rowid = int64(rowid)
			p += k
		}
		payload := f.payload(img, d, p, int(size), usable, kind == 13)
		vals, err := record(payload)
		if err != nil {
			continue
		}
		c.Values = vals
		out = append(out, c)
	}
	return out
}

// reserved is the reserved space at the end of each page.
func (f *Files) reserved() byte { return f.Raw[f.DB][20] }

// payload gathers a cell's payload, following its overflow pages.
func (f *Files) payload(img *Image, d []byte, at, size, usable int, table bool) []byte {
	maxLocal := usable - 35
	if !table {
		maxLocal = (usable-12)*64/255 - 23
	}
	minLocal := (usable-12)*32/255 - 23
	local := size
	if size > maxLocal {
		local = minLocal + (size-minLocal)%(usable-4)
		if local > maxLocal {
			local = minLocal
		}
	}
	if at+local > len(d) {
		return nil
	}
	out := append([]byte(nil), d[at:at+local]...)
	if local == size || at+local+4 > len(d) {
		return out
	}
	next := binary.BigEndian.Uint32(d[at+local : at+local+4])
	for seen := 0; next != 0 && len(out) < size && seen < 1<<16; seen++ {
		pg := f.page(next, img)
		if len(pg) < usable {
			break
		}
		take := min(size-len(out), usable-4)
		out = append(out, pg[4:4+take]...)
		next = binary.BigEndian.Uint32(pg[:4])
	}
	return out
}

// varint decodes an SQLite varint.
func varint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < 9 && i < len(b); i++ {
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return v, len(b)
}

// record decodes a record.
func record(p []byte) ([]any, error) {
	if len(p) == 0 {
		return nil, errors.New("empty record")
	}
	hsize, k := varint(p)
	if int(hsize) > len(p) || hsize == 0 {
		return nil, errors.New("bad header")
	}
	var types []uint64
	for i := k; i < int(hsize); {
		t, n := varint(p[i:])
		types = append(types, t)
		i += n
	}
	body := p[hsize:]
	var vals []any
	for _, t := range types {
		var n int
		switch {
		case t == 0, t == 8, t == 9:
			n = 0
		case t >= 1 && t <= 4:
			n = int(t)
		case t == 5:
			n = 6
		case t == 6, t == 7:
			n = 8
		case t >= 12:
			n = int(t-12) / 2
		default:
			return nil, errors.New("reserved serial type")
		}
		if n > len(body) {
			return nil, errors.New("truncated record")
		}
		v := body[:n]
		body = body[n:]
		switch {
		case t == 0:
			vals = append(vals, nil)
		case t == 8:
			vals = append(vals, int64(0))
		case t == 9:
			vals = append(vals, int64(1))
		case t == 7:
			vals = append(vals, math.Float64frombits(binary.BigEndian.Uint64(v)))
		case t <= 6:
			x := int64(int8(v[0]))
			for _, b := range v[1:] {
				x = x<<8 | int64(b)
			}
			vals = append(vals, x)
		case t%2 == 0:
			vals = append(vals, append([]byte(nil), v...))
		default:
			vals = append(vals, string(v))
		}
	}
	return vals, nil
}

// Hit is where a needle occurs in a file.
type Hit struct {
	File   string
	Offset int
	Needle string
}

// Find returns every occurrence of every needle in every file, by file and
// then by offset.
func (f *Files) Find(needles ...string) []Hit {
	var hits []Hit
	for _, name := range slices.Sorted(maps.Keys(f.Raw)) {
		hits = append(hits, find(name, f.Raw[name], needles)...)
	}
	return hits
}

// find returns every occurrence of every needle in data, by offset.
func find(name string, data []byte, needles []string) []Hit {
	var hits []Hit
	for _, n := range needles {
		for i := 0; ; {
			j := bytes.Index(data[i:], []byte(n))
			if j < 0 {
				break
			}
			hits = append(hits, Hit{File: name, Offset: i + j, Needle: n})
			i += j + 1
		}
	}
	slices.SortFunc(hits, func(a, b Hit) int { return a.Offset - b.Offset })
	return hits
}

// Integers returns every encoding in which SQLite or JSON could hold v: as
// a big-endian integer of 4, 6 and 8 bytes (SQLite's serial types), and as
// decimal text.
func Integers(v int64) []string {
	var out []string
	for _, n := range []int{4, 6, 8} {
		b := make([]byte, 8)
		binary.BigEndian.PutUint64(b, uint64(v))
		if n < 8 && b[7-n] != 0 && b[7-n] != 0xff {
			continue // does not fit
		}
		out = append(out, string(b[8-n:]))
	}
	return append(out, fmt.Sprint(v))
}

// Purposes are the purposes the bot seals values for (store/seal.go).
var Purposes = []string{"ballot roll", "ballot box", "outbox", "awaiting event", "reminder"}

// Open tries to open a sealed value with the seal key, as its holder
// would: every purpose, bound to nothing or to a motion ID up to
// maxMotion. It returns the purpose and plaintext of the first that opens.
func Open(key, value []byte, maxMotion int64) (string, []byte, bool) {
	if len(value) < 1+12+16 || value[0] != 0x01 {
		return "", nil, false
	}
	for _, purpose := range Purposes {
		sub, err := hkdf.Key(sha256.New, key, nil, "quorum "+purpose, 32)
		if err != nil {
			continue
		}
		block, _ := aes.NewCipher(sub)
		aead, _ := cipher.NewGCM(block)
		bounds := [][]byte{nil}
		for m := int64(1); m <= maxMotion; m++ {
			bounds = append(bounds, binary.BigEndian.AppendUint64(nil, uint64(m)))
		}
		for _, b := range bounds {
			if plain, err := aead.Open(nil, value[1:13], value[13:], b); err == nil {
				return purpose, plain, true
			}
		}
	}
	return "", nil, false
}

// Tree is a table or an index of the database, as its schema names it.
type Tree struct {
	Name  string
	Cells []Cell // in the order of the b-tree: rowids, or index keys
}

// latest returns the newest version of page n: its last frame in the WAL,
// else the database file's.
func (f *Files) latest(n uint32) *Image {
	var found *Image
	for _, img := range f.Images {
		if img.Page == n && (found == nil || img.Frame > found.Frame) {
			found = img
		}
	}
	return found
}

// Trees walks every table and index that the schema (sqlite_master, in
// its newest version) names, through the newest version of each page, and
// returns their cells in b-tree order.
func (f *Files) Trees() []Tree {
	var out []Tree
	for _, c := range f.walk(1) {
		if len(c.Values) < 4 {
			continue
		}
		name, _ := c.Values[1].(string)
		root, ok := c.Values[3].(int64)
		if !ok || root <= 0 {
			continue
		}
		out = append(out, Tree{Name: name, Cells: f.walk(uint32(root))})
	}
	return out
}

// walk returns the cells of the b-tree rooted at page n, in order.
func (f *Files) walk(n uint32) []Cell {
	var out []Cell
	seen := map[uint32]bool{}
	var visit func(n uint32)
	visit = func(n uint32) {
		img := f.latest(n)
		if img == nil || seen[n] || len(seen) > 1<<16 {
			return
		}
		seen[n] = true
		d := img.Data
		hdr := 0
		if n == 1 {
			hdr = 100
		}
		if len(d) < hdr+12 {
			return
		}
		switch d[hdr] {
		case 10, 13:
			out = append(out, f.cells(img)...)
		case 2, 5:
			cells := f.cells(img) // keys of an index's interior page, in order
			count := int(binary.BigEndian.Uint16(d[hdr+3 : hdr+5]))
			for i := 0; i < count; i++ {
				at := hdr + 12 + 2*i
				off := int(binary.BigEndian.Uint16(d[at : at+2]))
				if off+4 > len(d) {
					continue
				}
				visit(binary.BigEndian.Uint32(d[off : off+4]))
				if d[hdr] == 2 {
					for _, c := range cells {
						if c.Offset == off {
							out = append(out, c)
						}
					}
				}
			}
			visit(binary.BigEndian.Uint32(d[hdr+8 : hdr+12]))
		}
	}
	visit(n)
	return out
}
