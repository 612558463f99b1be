package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"quorum/msg"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// The minutes format. Machine lines start at column 0; every line of text
// that a person (or describe) supplied is indented by four spaces, so it is a
// literal block in Markdown (no links, images or HTML from members' text) and
// can never be taken for one of these lines.
const (
	minutesFormat    = "quorum-minutes/1"
	headerFence      = "```json quorum-minutes"
	entryFence       = "```json quorum-entry"
	closeFence       = "```"
	humanIndent      = "    "
	humanWrapColumns = 76
	humanTimeLayout  = "2006-01-02 15:04:05 UTC" // a layout: not for members to read translated
)

// Minutes is the record of one room over a period, as the bot publishes it to
// members at the end of a term or on request.
type Minutes struct {
	// Room is the room's ID; shown and signed. The chain's first entry links
	// to its [Genesis], so minutes of one room cannot pass for another's.
	Room string
	// From and To bound the period; every entry's time must lie within them.
	From, To time.Time
	// Entries are the period's entries in chain order.
	Entries []Entry
	// Generated is when the minutes were produced.
	Generated time.Time
	// Lang is the language of the text for people (that of the room that
	// asked); the machine-readable blocks, which are what is verified, are
	// the same in every language.
	Lang string
}

// RenderMinutes writes m as a Markdown document for people that also carries
// every entry exactly, so that [VerifyMinutes] can check it after signing with
// [Key.ClearSign]. describe turns an entry into a sentence for people (nil
// shows the kind and content). Whatever describe or the room name contain,
// including "```", "-----BEGIN PGP SIGNATURE-----", CR/LF or control
// characters, cannot change the machine-readable part: that text is indented,
// line breaks are normalised and control characters replaced. The
// one-line JSON block after each entry is the source of truth.
func RenderMinutes(m Minutes, describe func(Entry) string) []byte {
	if describe == nil {
		describe = func(e Entry) string { return e.Kind + ": " + string(e.Content) }
	}
	var b bytes.Buffer
	line := func(s string) { b.WriteString(s); b.WriteByte('\n') }
	human := func(s string) {
		for _, l := range humanLines(s) {
			if l == "" {
				line("")
			} else {
				line(humanIndent + l)
			}
		}
	}

	line(msg.T("# Minutes").In(m.Lang))
	line("")
	human(msg.T("Room:      %s\nPeriod:    %s to %s\nGenerated: %s\nEntries:   %s",
		oneLine(m.Room), humanTime(m.From), humanTime(m.To), humanTime(m.Generated), entriesSummary(m.Entries)).In(m.Lang))
	line("")
	line(headerFence)
	line(headerJSON(m))
	line(closeFence)
	for _, e := range m.Entries {
		line("")
		line(msg.T("## Entry %d", e.Seq).In(m.Lang))
		line("")
		human(humanTime(e.Time) + ", " + oneLine(e.Kind))
		text := describe(e)
		if strings.TrimSpace(text) == "" {
			text = msg.T("(no description)").In(m.Lang)
		}
		human(text)
		line("")
		line(entryFence)
		line(entryJSON(e))
		line(closeFence)
	}
	line("")
	line("---")
	line("")
	line(msg.T("## How to check these minutes").In(m.Lang))
	line("")
	human(howToCheck().In(m.Lang))
	return b.Bytes()
}

// howToCheck is the minutes' last section. Its translations keep the
// commands and the literal strings hashed ("quorum-record-v1").
func howToCheck() msg.Text {
	return msg.T(`Check these minutes with the assembly's public key from !key (compare
its fingerprint with the one announced in the room), in one of two ways:

quorum verify FILE --key KEY.asc
    checks the signature, that nothing was added before or after the
    signed text, and the chain of entries.

gpg --output CHECKED.md --verify FILE
    then read CHECKED.md only. gpg reports a good signature even when
    unsigned text was added before or after the signed part, and a
    viewer shows that text like the rest; CHECKED.md holds only what
    was signed.

The ` + "```json quorum-entry" + ` blocks are the record; the indented text is
only a description for people. Each entry's hash is the hex SHA-256 of
these fields, each written as its length (8 bytes, big-endian) followed
by its bytes: "quorum-record-v1", seq in decimal, time as written, kind,
content as written, prev. Each entry's prev is the hash of the entry
before it. Entry 1's prev is the room's genesis: the hex SHA-256, written
the same way, of "quorum-genesis-v1" and the room ID in the header (empty
in chains begun before chains were bound to their room). Minutes that
start later continue from the head of the previous minutes. The last
entry's hash begins with the chain head posted in the room.`)
}

func entriesSummary(entries []Entry) msg.Text {
	if len(entries) == 0 {
		return msg.T("none (no decisions were recorded in this period)")
	}
	first, last := entries[0], entries[len(entries)-1]
	return msg.T("%d (seq %d to %d), chain head %s", len(entries), first.Seq, last.Seq, last.Short())
}

func humanTime(t time.Time) string {
	if t.IsZero() {
		return "(not given)"
	}
	return t.UTC().Format(humanTimeLayout)
}

// oneLine flattens text that must stay on one line (room name, kind).
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.Join(humanLines(s), " ")), " ")
}

// humanLines makes text safe to indent into the minutes: valid UTF-8, every
// kind of line break turned into one, tabs into spaces, other control and
// format-breaking characters replaced by U+FFFD, no trailing blanks (which a
// cleartext signature would not cover anyway), lines wrapped for reading.
func humanLines(s string) []string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n", "\t", "    ").Replace(s)
	s = strings.Map(func(r rune) rune {
		if r != '\n' && (unicode.IsControl(r) || r == '\uFEFF') {
			return '\uFFFD'
		}
		return r
	}, s)
	var out []string
	for _, l := range strings.Split(s, "\n") {
		out = append(out, wrap(strings.TrimRightFunc(l, unicode.IsSpace), humanWrapColumns)...)
	}
	for len(out) > 0 && out[0] == "" {
		out = out[1:]
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// wrap breaks l at spaces so that lines stay near width runes; words longer
// than width are left whole. Leading spaces are kept on the first line.
func wrap(l string, width int) []string {
	if utf8.RuneCountInString(l) <= width {
		return []string{l}
	}
	indent := l[:len(l)-len(strings.TrimLeft(l, " "))]
	var out []string
	cur := indent
	for _, w := range strings.Fields(l) {
		switch {
		case strings.TrimSpace(cur) == "":
			cur += w
		case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(w) <= width:
			cur += " " + w
		default:
			out = append(out, cur)
			cur = indent + w
		}
	}
	return append(out, cur)
}

// The machine lines. Fields are written in a fixed order with the canonical
// string encoder, so each is one line whatever the strings contain.

func headerJSON(m Minutes) string {
	var b bytes.Buffer
	b.WriteString(`{"format":`)
	writeString(&b, minutesFormat)
	b.WriteString(`,"room":`)
	writeString(&b, strings.ToValidUTF8(m.Room, "\uFFFD"))
	b.WriteString(`,"from":`)
	writeString(&b, m.From.UTC().Format(timeFormat))
	b.WriteString(`,"to":`)
	writeString(&b, m.To.UTC().Format(timeFormat))
	b.WriteString(`,"generated":`)
	writeString(&b, m.Generated.UTC().Format(timeFormat))
	b.WriteString(`,"entries":`)
	b.WriteString(strconv.Itoa(len(m.Entries)))
	b.WriteByte('}')
	return b.String()
}

func entryJSON(e Entry) string {
	content, err := Canonical(e.Content)
	if err != nil {
		// Not JSON at all: carry it as a string so the line stays one line;
		// its hash will not match, which is what verification should say.
		var s bytes.Buffer
		writeString(&s, string(e.Content))
		content = s.Bytes()
	}
	var b bytes.Buffer
	b.WriteString(`{"seq":`)
	b.WriteString(strconv.FormatInt(e.Seq, 10))
	b.WriteString(`,"time":`)
	writeString(&b, e.Time.UTC().Format(timeFormat))
	b.WriteString(`,"kind":`)
	writeString(&b, e.Kind)
	b.WriteString(`,"content":`)
	b.Write(content)
	b.WriteString(`,"prev":`)
	writeString(&b, e.Prev)
	b.WriteString(`,"hash":`)
	writeString(&b, e.Hash)
	b.WriteByte('}')
	return b.String()
}

// Report says what [VerifyMinutes] found, for the bot to show a member who
// asks whether a copy of the minutes is genuine.
type Report struct {
	// Signer is the signing key's user ID and fingerprint.
	Signer string
	// SignedAt is the signature's creation time (as claimed by the signer).
	SignedAt time.Time
	// Room and the period From..To, as stated in the signed header.
	Room     string
	From, To time.Time
	// Entries counts the entries; FirstSeq and LastSeq are their range (0 if none).
	Entries           int
	FirstSeq, LastSeq int64
	// Continues is the first entry's Prev when the minutes start after entry
	// 1: the head of the previous minutes, which the reader should compare.
	// Empty when they start at the beginning of the chain.
	Continues string
	// Head is the last entry's full hash; its first 16 characters are what
	// the bot posts in the room.
	Head string
	// Checks lists, in plain words, what was checked.
	Checks []string
}

// VerifyMinutes checks minutes produced by [RenderMinutes] and [Key.ClearSign]:
// that the whole document is covered by a valid signature from one of the
// keys in armoredPublicKey, that its entries parse back exactly, form an
// unbroken chain and lie within the stated period. Any failure is an error
// with a reason fit to show members; when the signature fails, the reason also
// says whether the entries themselves still hold together, to help find what
// was changed. On error the Report holds only what was established before
// the failure (such as the signer); it is not a verdict.
func VerifyMinutes(signed []byte, armoredPublicKey []byte) (Report, error) {
	var r Report
	keys, err := ReadPublicKeys(armoredPublicKey)
	if err != nil {
		return r, fmt.Errorf("minutes: %w", err)
	}
	start := bytes.Index(signed, []byte("-----BEGIN PGP SIGNED MESSAGE-----")) // not for members: the armor's line
	if start < 0 {
		return r, errors.New("minutes: not a clear-signed document (no BEGIN PGP SIGNED MESSAGE line)")
	}
	if len(bytes.TrimSpace(signed[:start])) > 0 {
		return r, errors.New("minutes: there is text before the signed part; it is not covered by the signature")
	}
	block, rest := clearsign.Decode(signed)
	if block == nil {
		return r, errors.New("minutes: the clear-signed document is malformed (damaged or cut short?)")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return r, errors.New("minutes: there is text after the signature; it is not covered by the signature")
	}

	sigBytes, err := io.ReadAll(block.ArmoredSignature.Body)
	if err != nil {
		return r, fmt.Errorf("minutes: the signature block is damaged: %w", err)
	}
	sig, signer, err := openpgp.VerifyDetachedSignature(keys, bytes.NewReader(block.Bytes), bytes.NewReader(sigBytes), nil)
	if err != nil {
		return r, signatureFailure(err, sigBytes, keys, block.Plaintext)
	}
	r.Signer = describeEntity(signer)
	r.SignedAt = sig.CreationTime.UTC()
	r.Checks = append(r.Checks,
		fmt.Sprintf("signature: good, by %s, made %s", r.Signer, humanTime(r.SignedAt)), // not for members: quorum verify's report (operator CLI, in English)
		"signature: covers the whole document (no unsigned text before or after)")       // not for members: quorum verify's report (operator CLI, in English)

	hdr, entries, err := parseMinutes(block.Plaintext)
	if err != nil {
		return r, fmt.Errorf("minutes: signed, but %w", err)
	}
	r.Room, r.From, r.To = hdr.Room, hdr.From, hdr.To
	r.Entries = len(entries)
	r.Checks = append(r.Checks, fmt.Sprintf("format: header and %d entries parsed back exactly", len(entries))) // not for members: quorum verify's report (operator CLI, in English)
	if hdr.Entries != len(entries) {
		return r, fmt.Errorf("minutes: signed, but the header announces %d entries and %d are present", hdr.Entries, len(entries))
	}
	if err := VerifyRoom(hdr.Room, entries); err != nil {
		return r, fmt.Errorf("minutes: signed, but the record is broken: %w", err)
	}
	for _, e := range entries {
		if e.Time.Before(hdr.From) || e.Time.After(hdr.To) {
			return r, fmt.Errorf("minutes: signed, but entry %d (%s) is outside the period %s to %s",
				e.Seq, humanTime(e.Time), humanTime(hdr.From), humanTime(hdr.To))
		}
	}
	if len(entries) == 0 {
		r.Checks = append(r.Checks, "chain: no entries in this period") // not for members: quorum verify's report (operator CLI, in English)
		return r, nil
	}
	first, last := entries[0], entries[len(entries)-1]
	r.FirstSeq, r.LastSeq, r.Head = first.Seq, last.Seq, last.Hash
	if first.Seq > 1 {
		r.Continues = first.Prev
	}
	r.Checks = append(r.Checks,
		fmt.Sprintf("chain: seq %d to %d without gaps; every hash matches its entry and links to the one before", first.Seq, last.Seq), // not for members: quorum verify's report (operator CLI, in English)
		fmt.Sprintf("period: every entry lies within %s to %s", humanTime(hdr.From), humanTime(hdr.To)))                                // not for members: quorum verify's report (operator CLI, in English)
	switch {
	case first.Seq == 1 && first.Prev == "":
		r.Checks = append(r.Checks, "start: entry 1 is the beginning of the chain (begun before chains were bound to their room)") // not for members: quorum verify's report (operator CLI, in English)
	case first.Seq == 1:
		r.Checks = append(r.Checks, fmt.Sprintf("start: entry 1 is the beginning of the chain of room %s", hdr.Room)) // not for members: quorum verify's report (operator CLI, in English)
	default:
		r.Checks = append(r.Checks, fmt.Sprintf("start: entry %d continues after %s; compare with the head of the previous minutes", first.Seq, short(first.Prev))) // not for members: quorum verify's report (operator CLI, in English)
	}
	r.Checks = append(r.Checks, fmt.Sprintf("head: %s; compare with the chain head the bot posted in the room", last.Short())) // not for members: quorum verify's report (operator CLI, in English)
	return r, nil
}

// signatureFailure explains a failed signature check and, as a hint, whether
// the record inside still holds together.
func signatureFailure(err error, sigBytes []byte, keys openpgp.EntityList, plaintext []byte) error {
	var msg string
	switch {
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		msg = fmt.Sprintf("minutes: signed by %s, which is not the key given (%s)", issuerOf(sigBytes), keyList(keys)) // not for members: quorum verify's report (operator CLI, in English)
	case errors.Is(err, pgperrors.ErrKeyExpired):
		return fmt.Errorf("minutes: the signing key has expired: %w", err)
	case errors.Is(err, pgperrors.ErrKeyRevoked):
		return fmt.Errorf("minutes: the signing key has been revoked: %w", err)
	case errors.Is(err, pgperrors.ErrSignatureExpired):
		return fmt.Errorf("minutes: the signature has expired: %w", err)
	default:
		msg = fmt.Sprintf("minutes: the signature does not match the text: the document was changed after signing (%v)", err) // not for members: quorum verify's report (operator CLI, in English)
	}
	if _, entries, perr := parseMinutes(plaintext); perr != nil {
		return fmt.Errorf("%s; the entries cannot be read either: %v", msg, perr)
	} else if verr := Verify(entries); verr != nil {
		return fmt.Errorf("%s; the entries are broken too: %v", msg, verr)
	}
	if errors.Is(err, pgperrors.ErrUnknownIssuer) {
		return errors.New(msg)
	}
	return fmt.Errorf("%s; the entries still form a valid chain, so the change is probably in the text for people or a whole entry was rebuilt", msg)
}

func issuerOf(sigBytes []byte) string {
	p, err := packet.Read(bytes.NewReader(sigBytes))
	if err != nil {
		return "an unreadable signature" // not for members: quorum verify's report (operator CLI, in English)
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		return "something that is not a signature" // not for members: quorum verify's report (operator CLI, in English)
	}
	if len(sig.IssuerFingerprint) > 0 {
		return "key " + groupHex(fmt.Sprintf("%X", sig.IssuerFingerprint))
	}
	if sig.IssuerKeyId != nil {
		return fmt.Sprintf("key ID %016X", *sig.IssuerKeyId) // not for members: quorum verify's report (operator CLI, in English)
	}
	return "an unknown key" // not for members: quorum verify's report (operator CLI, in English)
}

func keyList(keys openpgp.EntityList) string {
	s := make([]string, len(keys))
	for i, e := range keys {
		s[i] = fingerprint(e)
	}
	return strings.Join(s, ", ")
}

func describeEntity(e *openpgp.Entity) string {
	if e == nil {
		return "an unknown key" // not for members: quorum verify's report (operator CLI, in English)
	}
	if id := e.PrimaryIdentity(); id != nil {
		return id.Name + " (" + fingerprint(e) + ")"
	}
	return fingerprint(e)
}

type minutesHeader struct {
	Format    string `json:"format"`
	Room      string `json:"room"`
	From      time.Time
	To        time.Time
	Generated time.Time
	Entries   int `json:"entries"`
}

// parseMinutes reads the machine lines back from the signed text. Anything at
// column 0 starting with ``` must be one of the fences, in the expected
// order; the text in between is for people and ignored.
func parseMinutes(text []byte) (minutesHeader, []Entry, error) {
	var hdr minutesHeader
	var entries []Entry
	haveHeader := false
	lines := strings.Split(string(text), "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSuffix(lines[i], "\r")
		if !strings.HasPrefix(l, closeFence) {
			continue
		}
		if i+2 >= len(lines) || strings.TrimSuffix(lines[i+2], "\r") != closeFence {
			return hdr, nil, fmt.Errorf("line %d: a JSON block is not closed on the line after it", i+1)
		}
		body := strings.TrimSuffix(lines[i+1], "\r")
		switch l {
		case headerFence:
			if haveHeader {
				return hdr, nil, fmt.Errorf("line %d: a second header block", i+1)
			}
			if len(entries) > 0 {
				return hdr, nil, fmt.Errorf("line %d: the header block comes after entries", i+1)
			}
			h, err := parseHeader(body)
			if err != nil {
				return hdr, nil, fmt.Errorf("line %d: header: %w", i+2, err)
			}
			hdr, haveHeader = h, true
		case entryFence:
			if !haveHeader {
				return hdr, nil, fmt.Errorf("line %d: an entry comes before the header block", i+1)
			}
			e, err := parseEntry(body)
			if err != nil {
				return hdr, nil, fmt.Errorf("line %d: entry: %w", i+2, err)
			}
			entries = append(entries, e)
		default:
			return hdr, nil, fmt.Errorf("line %d: unexpected block %q", i+1, l)
		}
		i += 2
	}
	if !haveHeader {
		return hdr, nil, errors.New("there is no minutes header block (not Quorum minutes?)")
	}
	return hdr, entries, nil
}

// strictDecode decodes one JSON object from s into v, refusing unknown
// fields and anything after it.
func strictDecode(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return time.Time{}, err
	}
	if t.UTC().Format(timeFormat) != s {
		return time.Time{}, fmt.Errorf("time %q is not in the record's form (UTC, RFC 3339)", s)
	}
	return t.UTC(), nil
}

func parseHeader(s string) (minutesHeader, error) {
	var raw struct {
		Format    *string `json:"format"`
		Room      *string `json:"room"`
		From      *string `json:"from"`
		To        *string `json:"to"`
		Generated *string `json:"generated"`
		Entries   *int    `json:"entries"`
	}
	var h minutesHeader
	if err := strictDecode(s, &raw); err != nil {
		return h, err
	}
	if raw.Format == nil || raw.Room == nil || raw.From == nil || raw.To == nil || raw.Generated == nil || raw.Entries == nil {
		return h, errors.New("a field is missing")
	}
	if *raw.Format != minutesFormat {
		return h, fmt.Errorf("unknown format %q", *raw.Format)
	}
	var err error
	h.Format, h.Room, h.Entries = *raw.Format, *raw.Room, *raw.Entries
	if h.From, err = parseTime(*raw.From); err != nil {
		return h, err
	}
	if h.To, err = parseTime(*raw.To); err != nil {
		return h, err
	}
	if h.Generated, err = parseTime(*raw.Generated); err != nil {
		return h, err
	}
	return h, nil
}

func parseEntry(s string) (Entry, error) {
	var raw struct {
		Seq     *int64          `json:"seq"`
		Time    *string         `json:"time"`
		Kind    *string         `json:"kind"`
		Content json.RawMessage `json:"content"`
		Prev    *string         `json:"prev"`
		Hash    *string         `json:"hash"`
	}
	if err := strictDecode(s, &raw); err != nil {
		return Entry{}, err
	}
	if raw.Seq == nil || raw.Time == nil || raw.Kind == nil || raw.Content == nil || raw.Prev == nil || raw.Hash == nil {
		return Entry{}, errors.New("a field is missing")
	}
	t, err := parseTime(*raw.Time)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Seq: *raw.Seq, Time: t, Kind: *raw.Kind, Content: raw.Content, Prev: *raw.Prev, Hash: *raw.Hash}
	// The line must be exactly what RenderMinutes writes for this entry, so
	// that what was hashed is what was read.
	if entryJSON(e) != s {
		return Entry{}, fmt.Errorf("entry %d is not written in canonical form", e.Seq)
	}
	return e, nil
}
