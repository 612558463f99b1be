package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Secret holds the boxes of open secret ballots (see
// upgrades/11-sealed-ballots.sql). Each motion has a roll, saying who voted,
// and a box, holding the choices under their receipt codes. Both are sealed
// (seal.go), have a fixed size from the opening, keep no order but that of
// the electorate's user IDs and of the random receipt codes, and are
// rewritten whole by every ballot. Nothing else about a secret ballot is
// stored until it closes: no running tally, no time, no event.
type Secret struct{ st *Store }

// Secret returns the ballot boxes.
func (s *Store) Secret() Secret { return Secret{s} }

// ReceiptLen is the length of a receipt code.
const ReceiptLen = 10

// BallotCodeLen is the length of a ballot code.
const BallotCodeLen = 4

// CodeAlphabet is what receipt and ballot codes are made of: no look-alikes
// (0/O, 1/I/L).
const CodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// slotLen is a box slot: a receipt code and one byte for the choice.
const slotLen = ReceiptLen + 1

// ErrNotElector is a ballot from someone outside the motion's electorate.
var ErrNotElector = errors.New("not in the electorate")

var choiceBytes = map[string]byte{"yes": 'y', "no": 'n', "abstain": 'a'}

// RandomCode is a random code of n characters of CodeAlphabet, without bias.
func RandomCode(n int) string {
	const unbiased = 256 - 256%len(CodeAlphabet) // bytes above favour the first letters
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < n {
		_, _ = rand.Read(buf)
		if int(buf[0]) < unbiased {
			b.WriteByte(CodeAlphabet[int(buf[0])%len(CodeAlphabet)])
		}
	}
	return b.String()
}

// bound ties a sealed roll or box to its motion.
func bound(motionID int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(motionID)) }

// electorate returns the motion's electorate in the order its roll uses.
func (sc Secret) electorate(ctx context.Context, motionID int64) ([]id.UserID, error) {
	rows, err := sc.st.DB.Query(ctx, "SELECT user_id FROM electorate WHERE motion_id=$1 ORDER BY user_id", motionID)
	list, err := dbutil.NewRowIterWithError(rows, dbutil.ScanSingleColumn[id.UserID], err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read electorate: %w", err)
	}
	return list, nil
}

// open makes the empty roll and box of a secret motion opening now, and its
// ballot code, which it returns. Codes are never reused, so that a late
// ballot for a closed motion cannot land in another.
func (sc Secret) open(ctx context.Context, motionID int64) (string, error) {
	return sc.openSlots(ctx, motionID, slotLen)
}

// openSlots is open with slots of slot bytes.
func (sc Secret) openSlots(ctx context.Context, motionID int64, slot int) (string, error) {
	voters, err := sc.electorate(ctx, motionID)
	if err != nil {
		return "", err
	}
	var code string
	for range 50 {
		code = RandomCode(BallotCodeLen)
		if strings.Trim(code, "0123456789") == "" {
			continue // all digits: it would read as a motion number
		}
		var used int
		if err := sc.st.DB.QueryRow(ctx, "SELECT COUNT(*) FROM motions WHERE ballot_code=$1", code).Scan(&used); err != nil {
			return "", fmt.Errorf("pick ballot code: %w", err)
		}
		if used == 0 {
			break
		}
		code = ""
	}
	if code == "" {
		return "", errors.New("pick ballot code: no free code found")
	}
	if _, err := sc.st.DB.Exec(ctx, "UPDATE motions SET ballot_code=$2 WHERE id=$1", motionID, code); err != nil {
		return "", fmt.Errorf("record ballot code: %w", err)
	}
	roll := make([]byte, (len(voters)+7)/8)
	box := make([]byte, len(voters)*slot)
	return code, sc.write(ctx, motionID, roll, box, 0, true)
}

// write seals roll and box and stores them (inserting with first).
func (sc Secret) write(ctx context.Context, motionID int64, roll, box []byte, turnout int, first bool) error {
	sealedRoll, err := sc.st.seal.seal("ballot roll", roll, bound(motionID))
	if err != nil {
		return err
	}
	sealedBox, err := sc.st.seal.seal("ballot box", box, bound(motionID))
	if err != nil {
		return err
	}
	q1, q2 := "UPDATE ballot_rolls SET roll=$2, turnout=$3 WHERE motion_id=$1", "UPDATE ballot_boxes SET box=$2 WHERE motion_id=$1"
	if first {
		q1, q2 = "INSERT INTO ballot_rolls (motion_id, roll, turnout) VALUES ($1, $2, $3)", "INSERT INTO ballot_boxes (motion_id, box) VALUES ($1, $2)"
	}
	if _, err := sc.st.DB.Exec(ctx, q1, motionID, sealedRoll, turnout); err != nil {
		return fmt.Errorf("store ballot roll: %w", err)
	}
	if _, err := sc.st.DB.Exec(ctx, q2, motionID, sealedBox); err != nil {
		return fmt.Errorf("store ballot box: %w", err)
	}
	// The WAL now holds this version of the roll and the box beside the
	// last one: empty it once committed.
	sc.st.wipeAfter(ctx, false)
	return nil
}

// read opens the roll and box of an open secret motion.
func (sc Secret) read(ctx context.Context, motionID int64) (roll, box []byte, turnout int, err error) {
	var sealedRoll, sealedBox []byte
	err = sc.st.DB.QueryRow(ctx, `SELECT r.roll, r.turnout, b.box FROM ballot_rolls r JOIN ballot_boxes b USING (motion_id)
		WHERE motion_id=$1`, motionID).Scan(&sealedRoll, &turnout, &sealedBox)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("read ballot box of motion %d: %w", motionID, err)
	}
	if roll, err = sc.st.seal.open("ballot roll", sealedRoll, bound(motionID)); err != nil {
		return nil, nil, 0, fmt.Errorf("open ballot roll of motion %d: %w", motionID, err)
	}
	if box, err = sc.st.seal.open("ballot box", sealedBox, bound(motionID)); err != nil {
		return nil, nil, 0, fmt.Errorf("open ballot box of motion %d: %w", motionID, err)
	}
	return roll, box, turnout, nil
}

// Cast records that voter voted and puts choice in the box under the
// receipt code, rewriting roll and box whole. It returns false, changing
// nothing, if voter has voted already (a secret ballot cannot be changed:
// that would need the link this design avoids), and ErrNotElector for
// someone outside the electorate. Call it in a transaction (Store.Tx).
func (sc Secret) Cast(ctx context.Context, motionID int64, voter id.UserID, choice, receipt string) (bool, error) {
	c, ok := choiceBytes[choice]
	if !ok {
		return false, fmt.Errorf("unknown choice %q", choice)
	}
	return sc.castInto(ctx, motionID, voter, receipt, slotLen, func(int) ([]byte, error) { return []byte{c}, nil })
}

// castInto is what Cast and CastRanking share: it finds voter on the roll,
// refuses a second ballot, and puts the receipt code and the ballot in the
// first free slot of the box, rewriting roll and box whole. Slots are
// width bytes (0: as many as the box has per voter); ballot makes what
// follows the code in a slot, or refuses it.
func (sc Secret) castInto(ctx context.Context, motionID int64, voter id.UserID, receipt string, width int, ballot func(width int) ([]byte, error)) (bool, error) {
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
	if width == 0 && len(box)%len(voters) == 0 {
		width = len(box) / len(voters)
	}
	if len(roll) != (len(voters)+7)/8 || width <= ReceiptLen || len(box) != len(voters)*width {
		return false, fmt.Errorf("ballot box of motion %d does not fit its electorate", motionID)
	}
	content, err := ballot(width - ReceiptLen)
	if err != nil {
		return false, err
	}
	if onRoll(roll, i) {
		return false, nil
	}
	roll[i/8] |= 1 << (i % 8)
	var slots [][]byte
	for s := range slices.Chunk(box, width) {
		slots = append(slots, slices.Clone(s))
	}
	free := slices.IndexFunc(slots, func(s []byte) bool { return s[0] == 0 })
	if free < 0 {
		return false, fmt.Errorf("ballot box of motion %d is full", motionID)
	}
	if slices.ContainsFunc(slots[:free], func(s []byte) bool { return string(s[:ReceiptLen]) == receipt }) {
		return false, fmt.Errorf("receipt code %s is taken", receipt)
	}
	copy(slots[free], receipt)
	copy(slots[free][ReceiptLen:], content)
	// Filled slots sorted by their random codes, then the empty ones: the
	// box's order says nothing about when each ballot came.
	slices.SortFunc(slots[:free+1], bytes.Compare)
	return true, sc.write(ctx, motionID, roll, bytes.Join(slots, nil), turnout+1, false)
}

// onRoll says whether the i-th voter of a roll has voted.
func onRoll(roll []byte, i int) bool { return roll[i/8]&(1<<(i%8)) != 0 }

// slotsOf splits a box into its slots, copied.
func slotsOf(box []byte) [][]byte {
	var slots [][]byte
	for s := range slices.Chunk(box, slotLen) {
		slots = append(slots, slices.Clone(s))
	}
	return slots
}

// Receipts returns every ballot in the box by receipt code, for the result,
// so that each voter can check theirs was counted as cast.
func (sc Secret) Receipts(ctx context.Context, motionID int64) (map[string]string, error) {
	_, box, _, err := sc.read(ctx, motionID)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, s := range slotsOf(box) {
		if s[0] == 0 {
			continue
		}
		for name, c := range choiceBytes {
			if s[ReceiptLen] == c {
				out[string(s[:ReceiptLen])] = name
			}
		}
	}
	return out, nil
}

// destroy deletes a motion's roll and box (overwritten in place: the
// database has secure_delete on) and its notice-edit bookkeeping, and asks
// for the database to be compacted once the transaction is committed, so
// that no earlier version of them, and no trace of the order of what
// happened meanwhile, is left in any page or in the WAL. A motion that had
// no box is left alone.
func (sc Secret) destroy(ctx context.Context, motionID int64) error {
	res, err := sc.st.DB.Exec(ctx, "DELETE FROM ballot_rolls WHERE motion_id=$1", motionID)
	if err != nil {
		return fmt.Errorf("destroy ballot roll: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if _, err := sc.st.DB.Exec(ctx, "DELETE FROM ballot_boxes WHERE motion_id=$1", motionID); err != nil {
		return fmt.Errorf("destroy ballot box: %w", err)
	}
	if _, err := sc.st.DB.Exec(ctx, "DELETE FROM notice_edits WHERE kind='motion' AND ref=$1", motionID); err != nil {
		return fmt.Errorf("forget notice edits: %w", err)
	}
	sc.st.wipeAfter(ctx, true)
	return nil
}

// OpenByNumber lists open secret motions numbered n in which voter is in
// the electorate, across rooms (a ballot is cast in the voter's direct room,
// which is not the motion's room).
func (sc Secret) OpenByNumber(ctx context.Context, voter id.UserID, n int) ([]*Motion, error) {
	return sc.st.Motions().list(ctx, `WHERE secret=1 AND status=$1 AND number=$2
		AND id IN (SELECT motion_id FROM electorate WHERE user_id=$3) ORDER BY id`, MotionOpen, n, voter)
}

// Unvoted lists the open secret motions and the secret elections being
// voted on in whose electorate voter is and on which they have not voted
// yet, oldest first.
func (sc Secret) Unvoted(ctx context.Context, voter id.UserID) ([]*Motion, error) {
	open, err := sc.st.Motions().list(ctx, `WHERE secret=1 AND status IN ($1, $2)
		AND id IN (SELECT motion_id FROM electorate WHERE user_id=$3) ORDER BY id`, MotionOpen, ElectionVoting, voter)
	if err != nil {
		return nil, err
	}
	var out []*Motion
	for _, m := range open {
		voters, err := sc.electorate(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		roll, _, _, err := sc.read(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		if i, found := slices.BinarySearch(voters, voter); found && i/8 < len(roll) && !onRoll(roll, i) {
			out = append(out, m)
		}
	}
	return out, nil
}

// ByCode finds the secret motion with ballot code code (in any state).
func (sc Secret) ByCode(ctx context.Context, code string) (*Motion, bool, error) {
	return sc.st.Motions().one(ctx, "WHERE ballot_code=$1", strings.ToUpper(code))
}

// sealLegacy moves what was stored before ballots were sealed (upgrade 09)
// into the sealed form: the open secret ballots' voters and ballots into
// their roll and box, the events handled in direct rooms into
// handled_private. It drops the old tables and reports whether anything
// was moved (the database should then be compacted).
func (s *Store) sealLegacy(ctx context.Context) (bool, error) {
	exists, err := s.DB.TableExists(ctx, "secret_voters")
	if err != nil || !exists {
		return false, err
	}
	moved := false
	err = s.Tx(ctx, func(ctx context.Context) error {
		open, err := s.Motions().list(ctx, "WHERE secret=1 AND status=$1 AND ballot_code='' ORDER BY id", MotionOpen)
		if err != nil {
			return err
		}
		for _, m := range open {
			if err := s.sealLegacyBallot(ctx, m.ID); err != nil {
				return err
			}
			moved = true
		}
		var dms int
		if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM handled WHERE room_id IN (SELECT room_id FROM dm_rooms)").Scan(&dms); err != nil {
			return fmt.Errorf("count direct events: %w", err)
		}
		if dms > 0 {
			moved = true
			rows, err := s.DB.Query(ctx, "SELECT event_id, handled_at FROM handled WHERE room_id IN (SELECT room_id FROM dm_rooms)")
			type handledRow struct {
				evt id.EventID
				at  int64
			}
			list, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (h handledRow, err error) {
				err = row.Scan(&h.evt, &h.at)
				return
			}, err).AsList()
			if err != nil {
				return fmt.Errorf("read direct events: %w", err)
			}
			for _, h := range list {
				if _, err := s.Handled().MarkPrivate(ctx, h.evt, time.UnixMilli(h.at)); err != nil {
					return err
				}
			}
			if _, err := s.DB.Exec(ctx, "DELETE FROM handled WHERE room_id IN (SELECT room_id FROM dm_rooms)"); err != nil {
				return fmt.Errorf("forget direct events: %w", err)
			}
		}
		for _, stmt := range []string{"DELETE FROM secret_voters", "DELETE FROM secret_ballots", "DROP TABLE secret_voters", "DROP TABLE secret_ballots",
			"UPDATE rooms SET synced_until=0 WHERE room_id IN (SELECT room_id FROM dm_rooms)"} {
			if _, err := s.DB.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("drop unsealed ballots: %w", err)
			}
		}
		return nil
	})
	return moved, err
}

// sealLegacyBallot gives an open secret motion of before upgrade 09 its box.
func (s *Store) sealLegacyBallot(ctx context.Context, motionID int64) error {
	sc := s.Secret()
	if _, err := sc.open(ctx, motionID); err != nil {
		return err
	}
	voters, err := sc.electorate(ctx, motionID)
	if err != nil {
		return err
	}
	roll := make([]byte, (len(voters)+7)/8)
	rows, err := s.DB.Query(ctx, "SELECT voter FROM secret_voters WHERE motion_id=$1", motionID)
	voted, err := dbutil.NewRowIterWithError(rows, dbutil.ScanSingleColumn[id.UserID], err).AsList()
	if err != nil {
		return fmt.Errorf("read voters: %w", err)
	}
	turnout := 0
	for _, v := range voted {
		if i, ok := slices.BinarySearch(voters, v); ok {
			roll[i/8] |= 1 << (i % 8)
			turnout++
		}
	}
	rows, err = s.DB.Query(ctx, "SELECT code, choice FROM secret_ballots WHERE motion_id=$1 ORDER BY code", motionID)
	ballots, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (slot []byte, err error) {
		var code, choice string
		if err = row.Scan(&code, &choice); err != nil {
			return nil, err
		}
		if len(code) != ReceiptLen || choiceBytes[choice] == 0 {
			return nil, fmt.Errorf("unexpected ballot %q %q", code, choice)
		}
		return append([]byte(code), choiceBytes[choice]), nil
	}, err).AsList()
	if err != nil {
		return fmt.Errorf("read ballots: %w", err)
	}
	if len(ballots) > len(voters) {
		return fmt.Errorf("motion %d has more ballots than voters", motionID)
	}
	box := make([]byte, len(voters)*slotLen)
	copy(box, bytes.Join(ballots, nil))
	if err := sc.write(ctx, motionID, roll, box, turnout, false); err != nil {
		return err
	}
	_, err = s.DB.Exec(ctx, "UPDATE motions SET yes=0, no=0, abstain=0 WHERE id=$1", motionID)
	return err
}
