package store

import (
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
	return sc.castInto(ctx, motionID, voter, receipt, 0, func(width int) ([]byte, error) {
		if len(ranking) == 0 || len(ranking) > width {
			return nil, fmt.Errorf("a ranking of %d of %d candidates", len(ranking), width)
		}
		out := make([]byte, len(ranking))
		for j, c := range ranking {
			if c < 1 || c > width || slices.Contains(ranking[:j], c) {
				return nil, fmt.Errorf("ballot number %d of %d, or twice", c, width)
			}
			out[j] = byte(c)
		}
		return out, nil
	})
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
