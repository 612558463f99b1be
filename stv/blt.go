package stv

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// BLT is an election in the BLT format of ERS, OpenSTV and Droop:
//
//	<candidates> <seats>
//	<weight> <preference> ... 0      one line per group of equal ballots
//	0
//	"<candidate 1>"                  names, in the order of the numbers
//	...
//	"<title>"
//
// Candidates are numbered from 1 in the file.
type BLT struct {
	Title      string
	Candidates []string
	Seats      int
	// Ballots rank candidates by index (from 0), one entry per ballot.
	Ballots [][]int
}

// WriteBLT writes b anonymised: identical rankings are grouped into one
// line with their number as its weight, and the lines are sorted by the
// rankings themselves, so that nothing in the file tells who ranked what or
// in which order the ballots came. Empty ballots are left out (they are not
// valid). Double quotes in names become ' and control characters
// and line breaks spaces.
func WriteBLT(w io.Writer, b BLT) error {
	groups := make(map[string]int)
	var keys [][]int
	for _, r := range b.Ballots {
		if len(r) == 0 {
			continue
		}
		k := fmt.Sprint(r)
		if groups[k] == 0 {
			keys = append(keys, r)
		}
		groups[k]++
	}
	slices.SortFunc(keys, slices.Compare)
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%d %d\n", len(b.Candidates), b.Seats)
	for _, r := range keys {
		fmt.Fprintf(bw, "%d", groups[fmt.Sprint(r)])
		for _, c := range r {
			if c < 0 || c >= len(b.Candidates) {
				return fmt.Errorf("blt: a ballot ranks candidate %d of %d", c, len(b.Candidates))
			}
			fmt.Fprintf(bw, " %d", c+1)
		}
		fmt.Fprint(bw, " 0\n")
	}
	fmt.Fprint(bw, "0\n")
	for _, name := range b.Candidates {
		fmt.Fprintf(bw, "\"%s\"\n", bltString(name))
	}
	fmt.Fprintf(bw, "\"%s\"\n", bltString(b.Title))
	return bw.Flush()
}

func bltString(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r < ' ' || r == 0x7f || r == 0x2028 || r == 0x2029 || r == 0x85:
			return ' '
		}
		return r
	}, s)
}

// ReadBLT reads a BLT file with whole weights and strict rankings (no
// equal preferences, no ballot identifiers). Withdrawn candidates (a line
// of negative numbers after the first) are read and dropped from every
// ballot.
func ReadBLT(r io.Reader) (*BLT, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var lines []string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "#"); i >= 0 && !strings.HasPrefix(line, `"`) {
			line = strings.TrimSpace(line[:i])
		}
		if line != "" {
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("blt: %w", err)
	}
	if len(lines) == 0 {
		return nil, errors.New("blt: empty file")
	}
	head := strings.Fields(lines[0])
	if len(head) != 2 {
		return nil, errors.New("blt: the first line is not '<candidates> <seats>'")
	}
	n, err1 := strconv.Atoi(head[0])
	seats, err2 := strconv.Atoi(head[1])
	if err1 != nil || err2 != nil || n < 1 || n > 10000 || seats < 1 {
		return nil, errors.New("blt: bad numbers of candidates or seats")
	}
	b := &BLT{Seats: seats}
	withdrawn := make(map[int]bool)
	i := 1
	if i < len(lines) && strings.HasPrefix(lines[i], "-") {
		for _, f := range strings.Fields(lines[i]) {
			x, err := strconv.Atoi(f)
			if err != nil || x >= 0 || -x > n {
				return nil, fmt.Errorf("blt: bad withdrawn candidate %q", f)
			}
			withdrawn[-x-1] = true
		}
		i++
	}
	total := 0
	for ; ; i++ {
		if i >= len(lines) {
			return nil, errors.New("blt: the ballots do not end with a line '0'")
		}
		f := strings.Fields(lines[i])
		if len(f) == 1 && f[0] == "0" {
			i++
			break
		}
		if len(f) < 2 || f[len(f)-1] != "0" {
			return nil, fmt.Errorf("blt: ballot line %q does not end with 0", lines[i])
		}
		weight, err := strconv.Atoi(f[0])
		if err != nil || weight < 0 || weight > 1000000 {
			return nil, fmt.Errorf("blt: bad weight %q", f[0])
		}
		if total += weight; total > 10000000 {
			return nil, errors.New("blt: too many ballots")
		}
		var ranking []int
		seen := make(map[int]bool)
		for _, p := range f[1 : len(f)-1] {
			x, err := strconv.Atoi(p)
			if err != nil || x < 1 || x > n || seen[x] {
				return nil, fmt.Errorf("blt: bad preference %q", p)
			}
			seen[x] = true
			if !withdrawn[x-1] {
				ranking = append(ranking, x-1)
			}
		}
		for range weight {
			b.Ballots = append(b.Ballots, slices.Clone(ranking))
		}
	}
	for ; i < len(lines); i++ {
		s, ok1 := strings.CutPrefix(lines[i], `"`)
		s, ok2 := strings.CutSuffix(s, `"`)
		if !ok1 || !ok2 || len(lines[i]) < 2 {
			return nil, fmt.Errorf("blt: %q is not a quoted name", lines[i])
		}
		if len(b.Candidates) < n {
			b.Candidates = append(b.Candidates, s)
		} else if b.Title == "" {
			b.Title = s
		}
	}
	if len(b.Candidates) != n {
		return nil, fmt.Errorf("blt: %d names for %d candidates", len(b.Candidates), n)
	}
	return b, nil
}

// Election is b ready to count with the lots drawn from seed.
func (b *BLT) Election(seed string) Election {
	return Election{Candidates: b.Candidates, Seats: b.Seats, Ballots: b.Ballots, Seed: seed}
}
