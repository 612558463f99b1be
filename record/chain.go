package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"time"
	"unicode/utf8"
)

// hashDomain starts every entry hash so that a record hash can never be
// confused with a SHA-256 of anything else, and so a future format can change
// the encoding without ambiguity.
const hashDomain = "quorum-record-v1"

// genesisDomain starts the hash that a room's first entry links to (see
// [Genesis]); being different from hashDomain, no entry hash can pass for
// a genesis hash.
const genesisDomain = "quorum-genesis-v1"

// shortLen is how many hex characters of a hash are shown to members: 16,
// so 64 bits. A forger who wants another history whose head starts the same
// must find a second preimage of those bits: about 2^64 SHA-256 operations,
// out of reach, where 48 bits (2^48) take a single GPU hours.
const shortLen = 16

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
	// Prev is the hex SHA-256 of the previous entry; for the room's first
	// entry it is the room's [Genesis] hash, or empty in a chain begun
	// before chains were bound to their room. It is what ties the chain
	// together.
	Prev string `json:"prev"`
	// Hash is the hex SHA-256 of this entry's fields ([Entry.ComputeHash]).
	Hash string `json:"hash"`
}

// Genesis is what the first entry of room's chain links to: the hex SHA-256
// over the length-prefixed fields (as in [Entry.ComputeHash])
// "quorum-genesis-v1" and the room ID. Since the first entry's hash covers
// its Prev, the room ID is part of that hash and so of every later one: a
// chain, or any entry of it, moved to another room no longer verifies there
// ([VerifyRoom]).
//
// Chains begun before this rule have an empty Prev in their first entry
// (version 1). They stay valid as they are: rewriting them would change every
// hash that members already hold. Their later entries keep linking to them,
// and only a room without entries starts a chain bound to its room. A forger
// cannot turn a bound chain into an unbound one without changing every hash
// after it, which the chain head in members' hands shows.
func Genesis(room string) string {
	h := sha256.New()
	writeField(h, []byte(genesisDomain))
	writeField(h, []byte(room))
	return hex.EncodeToString(h.Sum(nil))
}

// Start makes the first entry of room's chain, linked to [Genesis] of room.
// content and at are treated as in [Next].
func Start(room, kind string, content any, at time.Time) (Entry, error) {
	if room == "" {
		return Entry{}, errors.New("record: room is empty")
	}
	return newEntry(nil, Genesis(room), kind, content, at)
}

// Next makes the entry that follows prev (use [Start] for a room's first
// entry), because the hash, sequence number and link must be computed in
// exactly one place. content is encoded with [Canonical]. at is converted to
// UTC and truncated to the second; if the clock has stepped back it is raised
// to prev's time, so that times never decrease along the chain.
func Next(prev *Entry, kind string, content any, at time.Time) (Entry, error) {
	if prev == nil {
		return Entry{}, errors.New("record: no previous entry (a room's first entry is made with Start)")
	}
	return newEntry(prev, "", kind, content, at)
}

// newEntry makes the entry after prev, or the first one linked to genesis
// when prev is nil.
func newEntry(prev *Entry, genesis, kind string, content any, at time.Time) (Entry, error) {
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
		Prev:    genesis,
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
	writeField(h, []byte(hashDomain))
	writeField(h, strconv.AppendInt(nil, e.Seq, 10))
	writeField(h, []byte(e.Time.UTC().Format(timeFormat)))
	writeField(h, []byte(e.Kind))
	writeField(h, e.Content)
	writeField(h, []byte(e.Prev))
	return hex.EncodeToString(h.Sum(nil))
}

// writeField writes b as its 8-byte big-endian length, then its bytes.
func writeField(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// Short returns the first 16 hex characters (64 bits) of the hash: what the
// bot posts as the chain head, short enough for members to compare with the
// minutes by eye and long enough that nobody can make another history that
// starts the same (see shortLen).
func (e Entry) Short() string { return short(e.Hash) }

func short(hash string) string {
	if len(hash) < shortLen {
		return hash
	}
	return hash[:shortLen]
}

// VerifyRoom is [Verify] for entries that must belong to room's chain: if
// they start at entry 1, its Prev must be room's [Genesis] (or empty, in a
// chain begun before chains were bound to their room). A chain, or its first
// entry, moved from another room fails here.
func VerifyRoom(room string, entries []Entry) error {
	if err := Verify(entries); err != nil {
		return err
	}
	if len(entries) > 0 && entries[0].Seq == 1 && entries[0].Prev != "" && entries[0].Prev != Genesis(room) {
		return fmt.Errorf("entry 1: the chain does not begin in room %s (moved from another room?)", room)
	}
	return nil
}

// Verify checks that entries form an unbroken stretch of one chain: sequence
// numbers increase by one, every hash matches its entry, every entry links to
// the one before, times do not go back and content is canonical JSON. The
// first entry may continue an earlier part of the chain (Seq > 1, Prev set):
// its Prev should then be compared with the head of that earlier part, which
// is outside what Verify can see ([VerifyMinutes] reports it). Entry 1 links
// to its room's genesis, which Verify cannot check without the room: use
// [VerifyRoom] when the room is known. The error names the entry and the
// likely cause, for showing to members as it is.
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
		case e.Seq == 1 && e.Prev != "" && !isHexHash(e.Prev):
			return errors.New("entry 1: the link to the room's genesis is not a hex SHA-256")
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
