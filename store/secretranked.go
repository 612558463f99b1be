package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"maunium.net/go/mautrix/id"
)

// Secret contested elections use the same sealed roll and box as secret
// motions (secret.go), with wider slots: a receipt code, then the ranking
// as ballot numbers (1 to 255), one byte each, the most preferred first,
// padded with zeros to the number of candidates. Like a secret vote, a
// secret ranking cannot be changed: changing it would need the link
// between the voter and the slot that this design avoids.

// maxRanked is the most candidates a secret ranking can name.
const maxRanked = 255

// OpenRanked makes the empty roll and box of a secret contested election
// with candidates on its ballot, and returns its ballot code (also set on
// the motion).
func (sc Secret) OpenRanked(ctx context.Context, motionID int64, candidates int) (string, error) {
	if candidates < 1 || candidates > maxRanked {
		return "", fmt.Errorf("a secret ranking of %d candidates", candidates)
	}
	return sc.openSlots(ctx, motionID, ReceiptLen+candidates)
}

// CastRanking records that voter ranked and puts ranking (ballot numbers,
// from 1) in the box under the receipt code, rewriting roll and box whole.
// It returns false, changing nothing, if voter has ranked already, and
// ErrNotElector for someone outside the electorate. Call it in a
// transaction (Store.Tx).
func (sc Secret) CastRanking(ctx context.Context, motionID int64, voter id.UserID, ranking []int, receipt string) (bool, error) {
	if len(receipt) != ReceiptLen {
		return false, fmt.Errorf("receipt code %q is not %d characters", receipt, ReceiptLen)
	}
	voters, err := sc.electorate(ctx, motionID)
	if err != nil {
		return false, err
	}
	i, found := slices.BinarySearch(voters, voter)
	if !found {
		return false, ErrNotElector
	}
	roll, box, turnout, err := sc.read(ctx, motionID)
	if err != nil {
		return false, err
	}
	if len(voters) == 0 || len(roll) != (len(voters)+7)/8 || len(box)%len(voters) != 0 || len(box)/len(voters) <= ReceiptLen {
		return false, fmt.Errorf("ballot box of motion %d does not fit its electorate", motionID)
	}
	width := len(box)/len(voters) - ReceiptLen
	if len(ranking) == 0 || len(ranking) > width {
		return false, fmt.Errorf("a ranking of %d of %d candidates", len(ranking), width)
	}
	for j, c := range ranking {
		if c < 1 || c > width || slices.Contains(ranking[:j], c) {
			return false, fmt.Errorf("ballot number %d of %d, or twice", c, width)
		}
	}
	if roll[i/8]&(1<<(i%8)) != 0 {
		return false, nil
	}
	roll[i/8] |= 1 << (i % 8)
	slots := slices.Collect(func(yield func([]byte) bool) {
		for s := range slices.Chunk(box, ReceiptLen+width) {
			if !yield(slices.Clone(s)) {
				return
			}
		}
	})
	free := slices.IndexFunc(slots, func(s []byte) bool { return s[0] == 0 })
	if free < 0 {
		return false, fmt.Errorf("ballot box of motion %d is full", motionID)
	}
	if slices.ContainsFunc(slots[:free], func(s []byte) bool { return string(s[:ReceiptLen]) == receipt }) {
		return false, fmt.Errorf("receipt code %s is taken", receipt)
	}
	copy(slots[free], receipt)
	for j, c := range ranking {
		slots[free][ReceiptLen+j] = byte(c)
	}
	// Sorted by the random codes: the order says nothing about when each
	// ranking came.
	slices.SortFunc(slots[:free+1], bytes.Compare)
	return true, sc.write(ctx, motionID, roll, bytes.Join(slots, nil), turnout+1, false)
}

// Rankings returns every ranking in the box (ballot numbers) by receipt
// code, for the count and the result.
func (sc Secret) Rankings(ctx context.Context, motionID int64) (map[string][]int, error) {
	voters, err := sc.electorate(ctx, motionID)
	if err != nil {
		return nil, err
	}
	_, box, _, err := sc.read(ctx, motionID)
	if err != nil {
		return nil, err
	}
	if len(voters) == 0 {
		return map[string][]int{}, nil
	}
	out := map[string][]int{}
	for s := range slices.Chunk(box, len(box)/len(voters)) {
		if s[0] == 0 {
			continue
		}
		var ranking []int
		for _, c := range s[ReceiptLen:] {
			if c == 0 {
				break
			}
			ranking = append(ranking, int(c))
		}
		out[string(s[:ReceiptLen])] = ranking
	}
	return out, nil
}

// Destroy deletes a closed contested election's roll and box, overwritten,
// and has the database compacted (see destroy).
func (sc Secret) Destroy(ctx context.Context, motionID int64) error { return sc.destroy(ctx, motionID) }
