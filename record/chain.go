package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// hashDomain starts every entry hash so that a record hash can never be
// confused with a SHA-256 of anything else, and so a future format can change
// the encoding without ambiguity.
const hashDomain = "quorum-record-v1"

// timeFormat is how an entry's time enters the hash and the minutes. Entries
// are whole seconds in UTC, so this prints e.g. 2026-03-03T18:04:05Z; a time
// that has gained sub-second digits or another zone prints differently and
// no longer matches its hash.
const timeFormat = time.RFC3339Nano

// Entry is one decision in a room's record. The store keeps entries as they
// are; only [Next] creates them, so that every entry is hashed the same way.
type Entry struct {
	// Seq numbers the room's entries 1, 2, 3... so that a missing entry shows
	// as a gap even where a period is checked on its own.
	Seq int64 `json:"seq"`
	// Time is when the decision took effect: UTC, whole seconds (SQLite and
	// people both handle that without loss). Part of the hash.
	Time time.Time `json:"time"`
	// Kind says what happened ("motion.result", "delegation.granted",
	// "delegation.recalled", "delegation.lapsed", "ratification",
	// "roster.change", "swap.accepted"...); free text so that new commands do
	// not need a change here.
	Kind string `json:"kind"`
	// Content is the decision's details as canonical JSON ([Canonical]), so
	// that it hashes the same after a trip through the database.
	Content json.RawMessage `json:"content"`
	// Prev is the hex SHA-256 of the previous entry; empty for the room's
	// first entry. It is what ties the chain together.
	Prev string `json:"prev"`
	// Hash is the hex SHA-256 of this entry's fields ([Entry.ComputeHash]).
	Hash string `json:"hash"`
}

// Next makes the entry that follows prev (nil for the room's first entry),
// because the hash, sequence number and link must be computed in exactly one
// place. content is encoded with [Canonical]. at is converted to UTC and
// truncated to the second; if the clock has stepped back it is raised to
// prev's time, so that times never decrease along the chain.
func Next(prev *Entry, kind string, content any, at time.Time) (Entry, error) {
	if kind == "" {
		return Entry{}, errors.New("record: entry kind is empty")
	}
	if !utf8.ValidString(kind) {
		return Entry{}, errors.New("record: entry kind is not valid UTF-8")
	}
	if at.IsZero() {
		return Entry{}, errors.New("record: entry time is zero")
	}
	c, err := Canonical(content)
	if err != nil {
		return Entry{}, fmt.Errorf("record: entry content: %w", err)
	}
	e := Entry{
		Seq:     1,
		Time:    at.UTC().Truncate(time.Second),
		Kind:    kind,
		Content: c,
	}
	if prev != nil {
		if !isHexHash(prev.Hash) {
			return Entry{}, fmt.Errorf("record: previous entry %d has no valid hash", prev.Seq)
		}
		e.Seq = prev.Seq + 1
		e.Prev = prev.Hash
		if pt := prev.Time.UTC(); e.Time.Before(pt) {
			e.Time = pt
		}
	}
	e.Hash = e.ComputeHash()
	return e, nil
}

// ComputeHash returns what e.Hash must be: hex SHA-256 over the fields, each
// written as its 8-byte big-endian length then its bytes, in this order:
// "quorum-record-v1", Seq in decimal, Time as RFC 3339 in UTC
// (2026-03-03T18:04:05Z), Kind, Content, Prev. Length prefixes make the
// encoding unambiguous whatever the fields contain. Exported so that the
// store, or an auditor's tool, can check a single entry.
func (e Entry) ComputeHash() string {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(hashDomain))
	field(strconv.AppendInt(nil, e.Seq, 10))
	field([]byte(e.Time.UTC().Format(timeFormat)))
	field([]byte(e.Kind))
	field(e.Content)
	field([]byte(e.Prev))
	return hex.EncodeToString(h.Sum(nil))
}

// Short returns the first 12 hex characters of the hash: enough for members
// to compare the chain head posted in the room with the minutes by eye.
func (e Entry) Short() string {
	if len(e.Hash) < 12 {
		return e.Hash
	}
	return e.Hash[:12]
}

// Verify checks that entries form an unbroken stretch of one chain: sequence
// numbers increase by one, every hash matches its entry, every entry links to
// the one before, times do not go back and content is canonical JSON. The
// first entry may continue an earlier part of the chain (Seq > 1, Prev set):
// its Prev should then be compared with the head of that earlier part, which
// is outside what Verify can see ([VerifyMinutes] reports it). The error names
// the entry and the likely cause, for showing to members as it is.
func Verify(entries []Entry) error {
	// Order first: a swap would otherwise be reported as a gap.
	for i := 1; i < len(entries); i++ {
		p, e := entries[i-1], entries[i]
		switch {
		case e.Seq == p.Seq:
			return fmt.Errorf("seq %d appears twice (entry duplicated?)", e.Seq)
		case e.Seq < p.Seq:
			return fmt.Errorf("seq goes from %d back to %d (entries reordered?)", p.Seq, e.Seq)
		}
	}
	for i, e := range entries {
		if e.Seq < 1 {
			return fmt.Errorf("entry %d: seq must be 1 or more", e.Seq)
		}
		if i > 0 && e.Seq != entries[i-1].Seq+1 {
			return fmt.Errorf("seq jumps from %d to %d (entry deleted?)", entries[i-1].Seq, e.Seq)
		}
		if !isHexHash(e.Hash) {
			return fmt.Errorf("entry %d: hash is missing or not a hex SHA-256", e.Seq)
		}
		if e.ComputeHash() != e.Hash {
			return fmt.Errorf("entry %d: hash does not match its content (edited?)", e.Seq)
		}
		switch {
		case i > 0:
			p := entries[i-1]
			if e.Prev != p.Hash {
				return fmt.Errorf("entry %d: previous hash does not match entry %d (deleted or reordered?)", e.Seq, p.Seq)
			}
			if e.Time.Before(p.Time) {
				return fmt.Errorf("entry %d: time goes back from %s to %s (reordered?)",
					e.Seq, p.Time.UTC().Format(timeFormat), e.Time.UTC().Format(timeFormat))
			}
		case e.Seq == 1 && e.Prev != "":
			return errors.New("entry 1: the first entry of the chain has a previous hash")
		case e.Seq > 1 && !isHexHash(e.Prev):
			return fmt.Errorf("entry %d: previous hash is missing or not a hex SHA-256", e.Seq)
		}
		if e.Kind == "" {
			return fmt.Errorf("entry %d: kind is empty", e.Seq)
		}
		if c, err := Canonical(e.Content); err != nil || !bytes.Equal(c, e.Content) {
			return fmt.Errorf("entry %d: content is not canonical JSON", e.Seq)
		}
	}
	return nil
}

func isHexHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
