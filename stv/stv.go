// Package stv counts ranked ballots by the single transferable vote, under
// the rules of the Scottish Local Government Elections Order 2007 (SSI
// 2007/42, Schedule 1, rules 45 to 52): "Scottish STV".
//
// # Why Scottish STV (WIGM) rather than Meek
//
// Scottish STV is the weighted inclusive Gregory method (WIGM) written into
// law: a Droop quota, surpluses transferred one at a time with every paper of
// the elected candidate carried on at a reduced value, exclusions one at a
// time, fixed arithmetic to five decimal places with remainders ignored.
// Quorum counts for assemblies whose members must be able to follow, check
// and redo the count: every stage of a Scottish count can be reproduced by
// hand or in a spreadsheet from the anonymised ballots, and other counters
// (OpenSTV's "ScottishSTV", Droop's "scotland", OpaVote) implement the same
// statute, so a recount with another tool gives the same figures to the last
// digit. Meek's method is arguably fairer when many papers pass through
// elected candidates, but it iterates keep factors to a convergence
// tolerance: its figures are not reproducible by hand, and implementations
// differ in precision and stopping rules. For the small electorates of a
// union assembly the two almost never differ in who is elected; being
// checkable wins.
//
// # The rules, as counted here
//
//   - A ballot is valid if it ranks at least one candidate; unranked
//     candidates come after all ranked ones and receive nothing from it.
//   - Quota (rule 46): the number of valid ballots divided by seats + 1,
//     fraction ignored, plus one.
//   - Stage 1 (rule 45): first preferences, each paper worth 1.
//   - A candidate whose votes reach the quota at the end of a stage is
//     elected (rule 47). Several elected at one stage are taken in order of
//     their votes, the highest first (ties as below, "highest").
//   - While seats remain and an elected candidate's surplus (votes − quota,
//     if positive) has not been transferred, the largest surplus is
//     transferred (rules 48, 49): every paper the candidate holds goes to
//     its next continuing preference at value
//     trunc5(surplus × value of the paper / candidate's votes); papers with
//     no next continuing preference, and the remainders lost to truncation,
//     are non-transferable. The candidate keeps exactly the quota.
//   - Otherwise the candidate with the fewest votes is excluded (rules 50,
//     51) and all their papers go on at the value at which they were held.
//   - When the continuing candidates are no more than the seats left, they
//     are all elected (rule 52), in order of their votes.
//
// One seat is instant-runoff: the quota is a strict majority of the valid
// ballots, and no surplus is ever transferred.
//
// # Ties
//
// Equal surpluses (rule 49(2)) and equal lowest votes (rule 51(2)), and the
// order of candidates elected at the same stage, are decided by looking back
// at the end of the most recent earlier stage at which the tied candidates
// did not all have equal votes: those with the highest (surplus, election
// order) or lowest (exclusion) votes there stay tied and the others drop
// out; if more than one stays, the search goes on further back with them.
// Candidates still tied after the first stage are separated by lot (rules
// 49(3), 51(2)(b)). The lot is drawn from a seed anyone can recompute (Quorum
// uses the record's chain head at the close): for the n-th lot of the count
// (n = 1, 2, ...), each tied candidate gets the lowercase hex SHA-256 of
//
//	seed + "\n" + n + "\n" + candidate
//
// (candidate being its identifier, a Matrix user ID in Quorum), and the
// candidate with the smallest digest wins the lot: excluded first, or
// transferred (elected) first. `printf '%s\n%d\n%s' SEED N ID | sha256sum`
// checks it.
package stv

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"quorum/msg"
	"slices"
	"strconv"
)

// Scale is the number of Values in one vote: five decimal places.
const Scale = 100000

// Value is a number of votes in hundred-thousandths (rule 48(3)).
type Value int64

// Votes is n whole votes.
func Votes(n int) Value { return Value(n) * Scale }

// String prints the value with its five decimal places, e.g. "12.45448".
func (v Value) String() string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%05d", sign, v/Scale, v%Scale)
}

// MarshalText writes the value as String does, so JSON carries the exact
// figure as a string rather than a float.
func (v Value) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// Election is what is counted.
type Election struct {
	// Candidates are unique identifiers (user IDs); ballots name them by
	// index. The identifiers feed the lot.
	Candidates []string
	Seats      int
	// Ballots rank candidates by index, the most preferred first. Empty
	// ballots are not valid and are left out of the quota.
	Ballots [][]int
	// Seed is the public seed of the lots.
	Seed string
}

// Action is what a stage did.
type Action string

// The stages of a count.
const (
	FirstPreferences Action = "first preferences"
	Surplus          Action = "surplus"
	Exclusion        Action = "exclusion"
)

// Tie is a tie that a stage had to break.
type Tie struct {
	// About is what was decided: "surplus", "exclusion" or "election order".
	About string
	// Tied are the candidates that were equal.
	Tied []int
	// Chosen is the one that went first (transferred, excluded or elected).
	Chosen int
	// Stage is the number of the earlier stage that decided it (1-based),
	// or 0 when it went to the lot.
	Stage int
	// Lot is the number n of the lot drawn, when Stage is 0.
	Lot int
}

// Round is one stage of the count.
type Round struct {
	Action Action
	// From is the candidate whose papers were transferred (-1 at the first
	// stage).
	From int
	// Transfers is what each candidate received at this stage (the first
	// preferences at the first stage; negative for the one transferred from).
	Transfers []Value
	// NonTransferable is the value of the papers this stage found with no
	// further continuing preference (exhausted).
	NonTransferable Value
	// Fractions is what truncation to five places lost at this stage.
	Fractions Value
	// Counts is each candidate's votes at the end of the stage.
	Counts []Value
	// TotalNonTransferable and TotalFractions are the totals so far: with
	// the counts they add up to the valid ballots.
	TotalNonTransferable, TotalFractions Value
	// Elected are the candidates elected at the end of the stage, in order;
	// Excluded the one excluded at it (at most one).
	Elected, Excluded []int
	// Ties are the ties this stage broke.
	Ties []Tie
}

// Result is a finished count.
type Result struct {
	Method string
	Seats  int
	// Valid is the number of valid (non-empty) ballots.
	Valid int
	Quota Value
	// Elected in the order of their election.
	Elected []int
	Rounds  []Round
	// Lots is the number of lots drawn.
	Lots int
}

// Method names the rule in results, as recorded: in English, whatever the
// room's language (not for members to read translated; Name is theirs).
const Method = "Scottish STV (SSI 2007/42), Droop quota"

// Name is a recorded method's name in the reader's language.
func Name(method string) msg.Text {
	if method == Method {
		return msg.T("Scottish STV (SSI 2007/42), Droop quota")
	}
	return msg.T("%s", method)
}

type state uint8

const (
	hopeful state = iota
	elected
	excluded
)

type paper struct {
	prefs []int
	pos   int   // index in prefs of the candidate holding it
	value Value // its value when received by that candidate
}

type counter struct {
	e       Election
	res     *Result
	votes   []Value
	state   []state
	parcels [][]int // papers held by each candidate
	papers  []paper
	pending []int // elected, surplus not yet transferred
	nontr   Value
	frac    Value
}

// Count counts e. It returns an error only when e itself is malformed
// (no seats, duplicate candidates, a ballot naming a candidate twice or one
// that does not exist).
func Count(e Election) (*Result, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	n := len(e.Candidates)
	c := &counter{
		e:       e,
		res:     &Result{Method: Method, Seats: e.Seats},
		votes:   make([]Value, n),
		state:   make([]state, n),
		parcels: make([][]int, n),
	}
	for _, b := range e.Ballots {
		if len(b) == 0 {
			continue
		}
		c.papers = append(c.papers, paper{prefs: b, value: Scale})
	}
	c.res.Valid = len(c.papers)
	c.res.Quota = Votes(c.res.Valid/(e.Seats+1) + 1)
	c.count()
	return c.res, nil
}

func (e Election) check() error {
	if e.Seats < 1 {
		return errors.New("stv: at least one seat is needed")
	}
	seen := make(map[string]bool, len(e.Candidates))
	for _, id := range e.Candidates {
		if id == "" || seen[id] {
			return fmt.Errorf("stv: candidate %q is empty or listed twice", id)
		}
		seen[id] = true
	}
	mark := make([]int, len(e.Candidates))
	for i, b := range e.Ballots {
		for _, x := range b {
			if x < 0 || x >= len(e.Candidates) {
				return fmt.Errorf("stv: ballot %d ranks candidate %d of %d", i, x, len(e.Candidates))
			}
			if mark[x] == i+1 {
				return fmt.Errorf("stv: ballot %d ranks candidate %d twice", i, x)
			}
			mark[x] = i + 1
		}
	}
	return nil
}

func (c *counter) seatsLeft() int { return c.e.Seats - len(c.res.Elected) }

func (c *counter) continuing() []int {
	var out []int
	for i, s := range c.state {
		if s == hopeful {
			out = append(out, i)
		}
	}
	return out
}

func (c *counter) count() {
	n := len(c.e.Candidates)
	r := Round{Action: FirstPreferences, From: -1, Transfers: make([]Value, n)}
	for i := range c.papers {
		to := c.papers[i].prefs[0]
		c.parcels[to] = append(c.parcels[to], i)
		c.votes[to] += Scale
		r.Transfers[to] += Scale
	}
	c.endStage(&r)
	// With no continuing candidate left (fewer candidates than seats), the
	// seats that remain stay empty.
	for c.seatsLeft() > 0 && len(c.continuing()) > 0 {
		r = Round{Transfers: make([]Value, n)}
		if len(c.pending) > 0 {
			from := c.pick(&r, c.pending, true, "surplus")
			c.pending = slices.DeleteFunc(c.pending, func(x int) bool { return x == from })
			r.Action, r.From = Surplus, from
			c.transferSurplus(&r, from)
		} else {
			from := c.pick(&r, c.continuing(), false, "exclusion")
			r.Action, r.From = Exclusion, from
			c.state[from] = excluded
			r.Excluded = []int{from}
			c.transferAll(&r, from)
		}
		c.endStage(&r)
	}
}

// endStage elects whoever reached the quota, then applies rule 52, and
// records the stage.
func (c *counter) endStage(r *Round) {
	var reached []int
	for _, i := range c.continuing() {
		if c.votes[i] >= c.res.Quota {
			reached = append(reached, i)
		}
	}
	// Record the counts first: ties look back at completed stages, and
	// this one is complete.
	r.Counts = slices.Clone(c.votes)
	r.TotalNonTransferable, r.TotalFractions = c.nontr, c.frac
	c.res.Rounds = append(c.res.Rounds, *r)
	cur := &c.res.Rounds[len(c.res.Rounds)-1]
	elect := func(group []int) {
		for len(group) > 0 && c.seatsLeft() > 0 {
			next := c.pick(cur, group, true, "election order")
			group = slices.DeleteFunc(group, func(x int) bool { return x == next })
			c.state[next] = elected
			c.res.Elected = append(c.res.Elected, next)
			cur.Elected = append(cur.Elected, next)
			if c.votes[next] > c.res.Quota {
				c.pending = append(c.pending, next)
			}
		}
	}
	elect(reached)
	if left := c.continuing(); len(left) > 0 && len(left) <= c.seatsLeft() {
		elect(left)
	}
}

// pick chooses among group the candidate with the highest (or lowest)
// votes now, breaking ties as the package comment says, and notes the tie
// in r.
func (c *counter) pick(r *Round, group []int, highest bool, about string) int {
	better := func(a, b Value) bool {
		if highest {
			return a > b
		}
		return a < b
	}
	extreme := func(tied []int, counts []Value) []int {
		best := counts[tied[0]]
		for _, i := range tied[1:] {
			if better(counts[i], best) {
				best = counts[i]
			}
		}
		var out []int
		for _, i := range tied {
			if counts[i] == best {
				out = append(out, i)
			}
		}
		return out
	}
	tied := extreme(group, c.votes)
	if len(tied) == 1 {
		return tied[0]
	}
	t := Tie{About: about, Tied: slices.Clone(tied)}
	for s := len(c.res.Rounds) - 1; s >= 0 && len(tied) > 1; s-- {
		if next := extreme(tied, c.res.Rounds[s].Counts); len(next) < len(tied) {
			tied = next
			t.Stage = s + 1
		}
	}
	if len(tied) > 1 {
		c.res.Lots++
		t.Stage, t.Lot = 0, c.res.Lots
		tied = []int{Lot(c.e.Seed, t.Lot, c.e.Candidates, tied)}
	}
	t.Chosen = tied[0]
	r.Ties = append(r.Ties, t)
	return t.Chosen
}

// Lot returns which of the tied candidates (indices into ids) wins the
// n-th lot of a count with this seed: the one whose identifier gives the
// smallest SHA-256 of seed + "\n" + n + "\n" + identifier.
func Lot(seed string, n int, ids []string, tied []int) int {
	best, bestSum := -1, ""
	for _, i := range tied {
		sum := LotDigest(seed, n, ids[i])
		if best < 0 || sum < bestSum {
			best, bestSum = i, sum
		}
	}
	return best
}

// LotDigest is the lowercase hex SHA-256 that the n-th lot gives id.
func LotDigest(seed string, n int, id string) string {
	sum := sha256.Sum256([]byte(seed + "\n" + strconv.Itoa(n) + "\n" + id))
	return hex.EncodeToString(sum[:])
}

// transferSurplus carries every paper of an elected candidate on at the
// transfer value of rule 48(3); the candidate keeps the quota.
func (c *counter) transferSurplus(r *Round, from int) {
	surplus, total := c.votes[from]-c.res.Quota, c.votes[from]
	moved, exhausted := Value(0), Value(0)
	for _, p := range c.parcels[from] {
		c.papers[p].value = c.papers[p].value * surplus / total
		if c.move(r, p) {
			moved += c.papers[p].value
		} else {
			exhausted += c.papers[p].value
		}
	}
	c.parcels[from] = nil
	c.votes[from] = c.res.Quota
	r.Transfers[from] = -surplus
	c.lose(r, exhausted, surplus-moved-exhausted)
}

// transferAll carries every paper of an excluded candidate on at its value.
func (c *counter) transferAll(r *Round, from int) {
	exhausted := Value(0)
	for _, p := range c.parcels[from] {
		if !c.move(r, p) {
			exhausted += c.papers[p].value
		}
	}
	c.parcels[from] = nil
	r.Transfers[from] = -c.votes[from]
	c.votes[from] = 0
	c.lose(r, exhausted, 0)
}

func (c *counter) lose(r *Round, exhausted, fractions Value) {
	r.NonTransferable, r.Fractions = exhausted, fractions
	c.nontr += exhausted
	c.frac += fractions
}

// move gives paper p to its next continuing preference, or says that it
// has none (it is exhausted).
func (c *counter) move(r *Round, p int) bool {
	pp := &c.papers[p]
	for pp.pos++; pp.pos < len(pp.prefs); pp.pos++ {
		to := pp.prefs[pp.pos]
		if c.state[to] == hopeful {
			c.parcels[to] = append(c.parcels[to], p)
			c.votes[to] += pp.value
			r.Transfers[to] += pp.value
			return true
		}
	}
	return false
}
