package record

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func testMinutes(entries []Entry) Minutes {
	return Minutes{
		Room:      testRoom,
		From:      chainStart.Add(-24 * time.Hour),
		To:        chainStart.Add(30 * 24 * time.Hour),
		Entries:   entries,
		Generated: chainStart.Add(31 * 24 * time.Hour),
	}
}

// signedMinutes renders and signs minutes of a 10-entry chain with the
// Assembly key.
func signedMinutes(t testing.TB) (signed []byte, entries []Entry, tk testKey) {
	t.Helper()
	tk = fixtureKey(t, "Assembly")
	entries = buildChain(t, 10)
	signed, err := tk.key.ClearSign(RenderMinutes(testMinutes(entries), describeForTest))
	if err != nil {
		t.Fatalf("ClearSign: %v", err)
	}
	return signed, entries, tk
}

func TestMinutesRoundTrip(t *testing.T) {
	signed, entries, tk := signedMinutes(t)
	r, err := VerifyMinutes(signed, tk.pub)
	if err != nil {
		t.Fatalf("VerifyMinutes: %v\n%s", err, signed)
	}
	m := testMinutes(entries)
	if r.Entries != 10 || r.FirstSeq != 1 || r.LastSeq != 10 {
		t.Errorf("report counts: %d entries, seq %d to %d; want 10, 1 to 10", r.Entries, r.FirstSeq, r.LastSeq)
	}
	if r.Head != entries[9].Hash || r.Continues != "" {
		t.Errorf("report head %q continues %q; want %q and empty", r.Head, r.Continues, entries[9].Hash)
	}
	if r.Room != m.Room || !r.From.Equal(m.From) || !r.To.Equal(m.To) {
		t.Errorf("report room/period = %q %v %v", r.Room, r.From, r.To)
	}
	if !strings.Contains(r.Signer, tk.key.Fingerprint()) || !strings.Contains(r.Signer, "Quorum Assembly <assembly@example.org>") {
		t.Errorf("report signer = %q", r.Signer)
	}
	if d := time.Since(r.SignedAt); d < 0 || d > time.Minute {
		t.Errorf("report signed at %v, not just now", r.SignedAt)
	}
	checks := strings.Join(r.Checks, "\n")
	for _, want := range []string{"signature: good", "chain: seq 1 to 10 without gaps", "start: entry 1 is the beginning", "head: " + entries[9].Short()} {
		if !strings.Contains(checks, want) {
			t.Errorf("checks do not mention %q:\n%s", want, checks)
		}
	}

	// The entries come back exactly as they went in.
	block, _ := clearsign.Decode(signed)
	if block == nil {
		t.Fatal("clearsign.Decode failed")
	}
	_, parsed, err := parseMinutes(block.Plaintext)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(parsed, entries) {
		t.Errorf("entries did not round-trip:\n got %+v\nwant %+v", parsed, entries)
	}

	// The fixed "---" rule is dash-escaped by the cleartext signature.
	if !bytes.Contains(signed, []byte("\n- ---\n")) {
		t.Error("no dash-escaped line in the signed minutes: the escaping path is not exercised")
	}
}

func TestMinutesSurviveLineEndingConversion(t *testing.T) {
	signed, _, tk := signedMinutes(t)
	crlf := bytes.ReplaceAll(signed, []byte("\n"), []byte("\r\n"))
	if _, err := VerifyMinutes(crlf, tk.pub); err != nil {
		t.Fatalf("minutes with CRLF line endings: %v", err)
	}
}

func TestMinutesPeriodOfLongerChain(t *testing.T) {
	tk := fixtureKey(t, "Assembly")
	entries := buildChain(t, 10)
	signed, err := tk.key.ClearSign(RenderMinutes(testMinutes(entries[3:7]), describeForTest))
	if err != nil {
		t.Fatal(err)
	}
	r, err := VerifyMinutes(signed, tk.pub)
	if err != nil {
		t.Fatalf("VerifyMinutes: %v", err)
	}
	if r.Entries != 4 || r.FirstSeq != 4 || r.LastSeq != 7 || r.Continues != entries[2].Hash || r.Head != entries[6].Hash {
		t.Errorf("report = %+v", r)
	}
	if want := "start: entry 4 continues after " + entries[2].Short(); !strings.Contains(strings.Join(r.Checks, "\n"), want) {
		t.Errorf("checks do not say %q: %q", want, r.Checks)
	}
}

func TestMinutesEmptyPeriod(t *testing.T) {
	tk := fixtureKey(t, "Assembly")
	doc := RenderMinutes(testMinutes(nil), nil)
	if !bytes.Contains(doc, []byte("no decisions were recorded")) {
		t.Errorf("empty minutes do not say so:\n%s", doc)
	}
	signed, err := tk.key.ClearSign(doc)
	if err != nil {
		t.Fatal(err)
	}
	r, err := VerifyMinutes(signed, tk.pub)
	if err != nil {
		t.Fatalf("VerifyMinutes: %v", err)
	}
	if r.Entries != 0 || r.Head != "" || r.FirstSeq != 0 {
		t.Errorf("report = %+v", r)
	}
}

func TestMinutesAcceptKeyring(t *testing.T) {
	signed, _, tk := signedMinutes(t)
	ring := append(append([]byte{}, fixtureKey(t, "Other").pub...), tk.pub...)
	if _, err := VerifyMinutes(signed, ring); err != nil {
		t.Fatalf("VerifyMinutes with a keyring holding the signer: %v", err)
	}
}

// section returns the byte range of "## Entry n" up to the next section.
func section(t *testing.T, doc []byte, n int) (int, int) {
	t.Helper()
	start := bytes.Index(doc, []byte(fmt.Sprintf("\n## Entry %d\n", n)))
	if start < 0 {
		t.Fatalf("no section for entry %d", n)
	}
	end := bytes.Index(doc[start+1:], []byte("\n## "))
	if end < 0 {
		t.Fatalf("section %d does not end", n)
	}
	return start, start + 1 + end
}

func replaceOnce(t *testing.T, doc []byte, old, new string) []byte {
	t.Helper()
	if bytes.Count(doc, []byte(old)) != 1 {
		t.Fatalf("%q occurs %d times, want once", old, bytes.Count(doc, []byte(old)))
	}
	return bytes.Replace(doc, []byte(old), []byte(new), 1)
}

func TestMinutesTamperedAfterSigning(t *testing.T) {
	signed, entries, tk := signedMinutes(t)
	other := fixtureKey(t, "Other")
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, doc []byte) []byte
		want   []string
	}{
		{"one character of an entry's content", func(t *testing.T, doc []byte) []byte {
			return replaceOnce(t, doc, `"for":27,`, `"for":28,`)
		}, []string{"signature does not match the text", "entry 5: hash does not match its content (edited?)"}},
		{"one character of the text for people", func(t *testing.T, doc []byte) []byte {
			return replaceOnce(t, doc, "@memberb:example.org was elected", "@memberc:example.org was elected")
		}, []string{"signature does not match the text", "the entries still form a valid chain"}},
		{"a time in the text for people", func(t *testing.T, doc []byte) []byte {
			return replaceOnce(t, doc, "    2026-03-02 18:30:00 UTC, motion.result", "    2026-03-02 18:31:00 UTC, motion.result")
		}, []string{"signature does not match the text"}},
		{"two entries swapped", func(t *testing.T, doc []byte) []byte {
			s4, e4 := section(t, doc, 4)
			s5, e5 := section(t, doc, 5)
			if e4 != s5 {
				t.Fatal("sections 4 and 5 are not adjacent")
			}
			out := append([]byte{}, doc[:s4]...)
			out = append(out, doc[s5:e5]...)
			out = append(out, doc[s4:e4]...)
			return append(out, doc[e5:]...)
		}, []string{"signature does not match the text", "seq goes from 5 back to 4 (entries reordered?)"}},
		{"an entry deleted", func(t *testing.T, doc []byte) []byte {
			s, e := section(t, doc, 6)
			return append(append([]byte{}, doc[:s]...), doc[e:]...)
		}, []string{"signature does not match the text", "seq jumps from 5 to 7 (entry deleted?)"}},
		{"signed with another key", func(t *testing.T, doc []byte) []byte {
			block, _ := clearsign.Decode(doc)
			resigned, err := other.key.ClearSign(append(block.Plaintext, '\n'))
			if err != nil {
				t.Fatal(err)
			}
			return resigned
		}, []string{"signed by key " + other.key.Fingerprint() + ", which is not the key given (" + tk.key.Fingerprint() + ")"}},
		{"unsigned text before", func(t *testing.T, doc []byte) []byte {
			return append([]byte("Correction: motion 1 failed.\n\n"), doc...)
		}, []string{"text before the signed part"}},
		{"unsigned text after", func(t *testing.T, doc []byte) []byte {
			return append(append([]byte{}, doc...), "\nAddendum: entry 3 is void.\n"...)
		}, []string{"text after the signature"}},
		{"signature cut short", func(t *testing.T, doc []byte) []byte {
			return doc[:bytes.Index(doc, []byte("-----END PGP SIGNATURE-----"))]
		}, []string{"malformed"}},
		{"signature removed", func(t *testing.T, doc []byte) []byte {
			block, _ := clearsign.Decode(doc)
			return block.Plaintext
		}, []string{"not a clear-signed document"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.tamper(t, bytes.Clone(signed))
			_, err := VerifyMinutes(doc, tk.pub)
			if err == nil {
				t.Fatalf("VerifyMinutes passed tampered minutes:\n%s", doc)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q:\n%v", want, err)
				}
			}
		})
	}
	if _, err := VerifyMinutes(signed, other.pub); err == nil || !strings.Contains(err.Error(), "not the key given") {
		t.Errorf("VerifyMinutes with another key's public key: %v", err)
	}
	_ = entries
}

// TestMinutesBrokenBeforeSigning covers a bot (or a copy of its key) that
// signs a record that was already tampered with: the signature is good, and
// the record checks must catch it.
func TestMinutesBrokenBeforeSigning(t *testing.T) {
	tk := fixtureKey(t, "Assembly")
	for _, tc := range []struct {
		name string
		doc  func(t *testing.T, es []Entry) []byte
		want string
	}{
		{"entries swapped", func(t *testing.T, es []Entry) []byte {
			es[3], es[4] = es[4], es[3]
			return RenderMinutes(testMinutes(es), describeForTest)
		}, "signed, but the record is broken: seq goes from 5 back to 4 (entries reordered?)"},
		{"entry edited", func(t *testing.T, es []Entry) []byte {
			es[3].Kind = "delegation.recalled"
			return RenderMinutes(testMinutes(es), describeForTest)
		}, "signed, but the record is broken: entry 4: hash does not match its content (edited?)"},
		{"entry deleted", func(t *testing.T, es []Entry) []byte {
			return RenderMinutes(testMinutes(append(es[:4:4], es[5:]...)), describeForTest)
		}, "signed, but the record is broken: seq jumps from 4 to 6 (entry deleted?)"},
		{"entry outside the period", func(t *testing.T, es []Entry) []byte {
			m := testMinutes(es)
			m.To = es[8].Time.Add(-time.Second)
			return RenderMinutes(m, describeForTest)
		}, "signed, but entry 9 (2026-03-02 23:26:00 UTC) is outside the period"},
		{"header count wrong", func(t *testing.T, es []Entry) []byte {
			return replaceOnce(t, RenderMinutes(testMinutes(es), describeForTest), `"entries":10}`, `"entries":11}`)
		}, "signed, but the header announces 11 entries and 10 are present"},
		{"entry not canonical", func(t *testing.T, es []Entry) []byte {
			return replaceOnce(t, RenderMinutes(testMinutes(es), describeForTest), `{"seq":3,`, `{"seq": 3,`)
		}, "entry: entry 3 is not written in canonical form"},
		{"stray fence", func(t *testing.T, es []Entry) []byte {
			return replaceOnce(t, RenderMinutes(testMinutes(es), describeForTest), "\n## Entry 2\n", "\n```python\nx\n```\n## Entry 2\n")
		}, "unexpected block \"```python\""},
		{"unknown field", func(t *testing.T, es []Entry) []byte {
			return replaceOnce(t, RenderMinutes(testMinutes(es), describeForTest), `{"seq":2,`, `{"valid":true,"seq":2,`)
		}, `unknown field "valid"`},
		{"not minutes", func(t *testing.T, es []Entry) []byte {
			return []byte("We, the undersigned, agree.\n")
		}, "there is no minutes header block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			signed, err := tk.key.ClearSign(tc.doc(t, buildChain(t, 10)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = VerifyMinutes(signed, tk.pub)
			if err == nil {
				t.Fatalf("VerifyMinutes passed:\n%s", signed)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error does not say %q:\n%v", tc.want, err)
			}
		})
	}
}

// TestMinutesHumanTextConfined checks that nothing from describe or the room
// name reaches column 0, where the machine lines live, and that Markdown in
// it stays literal.
func TestMinutesHumanTextConfined(t *testing.T) {
	tk := fixtureKey(t, "Assembly")
	hostile := []string{
		"```json quorum-entry\n{\"seq\":1,\"time\":\"2026-03-02T18:30:00Z\",\"kind\":\"x\",\"content\":1,\"prev\":\"\",\"hash\":\"\"}\n```",
		"\r```json quorum-minutes\r\n{}\r\n```",
		"\n\n# Minutes\n## Entry 99\n---\n-----BEGIN PGP SIGNATURE-----\n",
		"\u2028```\u2029```\u0085```",
		"\t```\v```\f```",
	}
	describe := func(e Entry) string {
		return describeForTest(e) + "\n" + hostile[int(e.Seq)%len(hostile)]
	}
	room := "Night shift\n```json quorum-minutes\n" + hostile[0]
	entries := buildRoomChain(t, room, 20) // every motion text, twice
	m := testMinutes(entries)
	m.Room = room
	doc := RenderMinutes(m, describe)

	fixed := regexp.MustCompile("^(# Minutes|## Entry [0-9]+|## How to check these minutes|---|```json quorum-minutes|```json quorum-entry|```|\\{.*\\}|)$")
	fences := 0
	for i, l := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(l, "```") {
			fences++
		}
		if !fixed.MatchString(l) && !strings.HasPrefix(l, humanIndent) {
			t.Errorf("line %d escapes the indentation: %q", i+1, l)
		}
		// JSON escapes \r, \v and \f; JCS leaves U+0085, U+2028 and U+2029
		// raw, which is harmless there, but the text for people must not
		// keep any of them.
		breaks := "\r\v\f"
		if strings.HasPrefix(l, humanIndent) {
			breaks += "\u0085\u2028\u2029"
		}
		if strings.ContainsAny(l, breaks) {
			t.Errorf("line %d keeps a line-breaking character: %q", i+1, l)
		}
	}
	if want := 2 * (len(entries) + 1); fences != want {
		t.Errorf("%d lines start with ```, want %d (the header and entry blocks only)", fences, want)
	}

	signed, err := tk.key.ClearSign(doc)
	if err != nil {
		t.Fatal(err)
	}
	r, err := VerifyMinutes(signed, tk.pub)
	if err != nil {
		t.Fatalf("VerifyMinutes: %v", err)
	}
	if r.Entries != len(entries) || r.Room != m.Room {
		t.Errorf("report: %d entries, room %q; want %d, %q", r.Entries, r.Room, len(entries), m.Room)
	}
}

func TestHumanLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a\r\nb\rc\nd", []string{"a", "b", "c", "d"}},
		{"\n\n  x  \n\n", []string{"  x"}},
		{"bell\x07 nul\x00 del\x7f bad\xff", []string{"bell\uFFFD nul\uFFFD del\uFFFD bad\uFFFD"}},
		{"tab\there", []string{"tab    here"}},
		{strings.Repeat("word ", 20), []string{strings.TrimSpace(strings.Repeat("word ", 15)), strings.TrimSpace(strings.Repeat("word ", 5))}},
		{strings.Repeat("x", 100), []string{strings.Repeat("x", 100)}},
		// Nothing but blanks is no line at all.
		{"", []string{}},
		{" \t \r\n\n  ", []string{}},
		// A line of exactly the width is left as typed (its spacing kept);
		// one rune more is wrapped.
		{"a  b" + strings.Repeat("c", humanWrapColumns-4), []string{"a  b" + strings.Repeat("c", humanWrapColumns-4)}},
		{"a  b " + strings.Repeat("c", humanWrapColumns-3), []string{"a b", strings.Repeat("c", humanWrapColumns-3)}},
		{strings.Repeat("é", humanWrapColumns-2) + " é", []string{strings.Repeat("é", humanWrapColumns-2) + " é"}},
	} {
		if got := humanLines(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("humanLines(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// TestMinutesBoundToRoom: minutes whose chain begins in another room are
// refused, even when signed; minutes of a chain begun before rooms were
// bound still verify, and say so.
func TestMinutesBoundToRoom(t *testing.T) {
	tk := fixtureKey(t, "Assembly")
	entries := buildChain(t, 4)
	sign := func(m Minutes) []byte {
		t.Helper()
		signed, err := tk.key.ClearSign(RenderMinutes(m, describeForTest))
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}

	m := testMinutes(entries)
	m.Room = "!dayshift:example.org"
	_, err := VerifyMinutes(sign(m), tk.pub)
	if want := "minutes: signed, but the record is broken: entry 1: the chain does not begin in room !dayshift:example.org (moved from another room?)"; err == nil || err.Error() != want {
		t.Errorf("minutes of another room's chain: %v, want %q", err, want)
	}

	r, err := VerifyMinutes(sign(testMinutes(entries)), tk.pub)
	if err != nil {
		t.Fatal(err)
	}
	if want := "start: entry 1 is the beginning of the chain of room " + testRoom; !slices.Contains(r.Checks, want) {
		t.Errorf("checks do not say %q: %q", want, r.Checks)
	}

	legacy := slices.Clone(entries)
	legacy[0].Prev = ""
	legacy[0].Hash = legacy[0].ComputeHash()
	for i := 1; i < len(legacy); i++ {
		legacy[i].Prev = legacy[i-1].Hash
		legacy[i].Hash = legacy[i].ComputeHash()
	}
	r, err = VerifyMinutes(sign(testMinutes(legacy)), tk.pub)
	if err != nil {
		t.Fatalf("minutes of a chain begun before rooms were bound: %v", err)
	}
	if want := "start: entry 1 is the beginning of the chain (begun before chains were bound to their room)"; !slices.Contains(r.Checks, want) || r.Continues != "" {
		t.Errorf("checks do not say %q, or continues %q: %q", want, r.Continues, r.Checks)
	}
}

// TestParseMinutesErrors: a broken machine block is reported with the line
// it is on (counting from 1, as editors do), so a member can find it.
func TestParseMinutesErrors(t *testing.T) {
	header := headerJSON(testMinutes(nil))
	for _, tc := range []struct {
		name, text, want string
	}{
		{"header not closed at the end", "# Minutes\n```json quorum-minutes\n" + header, "line 2: a JSON block is not closed on the line after it"},
		{"fence on the last line", "# Minutes\n\n```json quorum-minutes", "line 3: a JSON block is not closed on the line after it"},
		{"bad header", "# Minutes\n```json quorum-minutes\n{}\n```\n", "line 3: header: a field is missing"},
		{"entry first", "\n```json quorum-entry\n{}\n```\n", "line 2: an entry comes before the header block"},
		{"bad entry", "```json quorum-minutes\n" + header + "\n```\n\n```json quorum-entry\n{}\n```\n", "line 6: entry: a field is missing"},
		{"second header", "```json quorum-minutes\n" + header + "\n```\n```json quorum-minutes\n" + header + "\n```\n", "line 4: a second header block"},
		{"other block", "```json quorum-minutes\n" + header + "\n```\n```go\nx\n```\n", "line 4: unexpected block \"```go\""},
	} {
		if _, _, err := parseMinutes([]byte(tc.text)); err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestIssuerOf: a signature by a key that was not given is named by what
// it carries: the issuer's fingerprint, or only its key ID (as older tools
// write it), or nothing.
func TestIssuerOf(t *testing.T) {
	tk := fixtureKey(t, "Assembly")
	sk, ok := tk.key.entity.SigningKey(time.Now())
	if !ok {
		t.Fatal("no signing key")
	}
	sig, err := tk.key.ClearSign([]byte("minutes\n"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := clearsign.Decode(sig)
	ours, err := io.ReadAll(block.ArmoredSignature.Body)
	if err != nil {
		t.Fatal(err)
	}
	// A v4 EdDSA signature packet whose only hashed subpacket is its
	// creation time, with the given unhashed subpackets (made by hand: this
	// library always adds the fingerprint).
	handMade := func(unhashed ...byte) []byte {
		body := []byte{4, 0x01, byte(packet.PubKeyAlgoEdDSA), 8, 0, 6, 5, 2, 0x68, 0, 0, 0, 0, byte(len(unhashed))}
		body = append(append(body, unhashed...), 0, 0, 0, 8, 1, 0, 8, 1)
		return append([]byte{0xc2, byte(len(body))}, body...)
	}
	id := make([]byte, 8)
	binary.BigEndian.PutUint64(id, sk.PublicKey.KeyId)
	var pub bytes.Buffer
	if err := sk.PublicKey.Serialize(&pub); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		sig  []byte
		want string
	}{
		{"fingerprint", ours, "key " + groupHex(fmt.Sprintf("%X", sk.PublicKey.Fingerprint))},
		{"key ID only", handMade(append([]byte{9, 16}, id...)...), fmt.Sprintf("key ID %016X", sk.PublicKey.KeyId)},
		{"neither", handMade(), "an unknown key"},
		{"not a signature", pub.Bytes(), "something that is not a signature"},
		{"garbage", []byte("garbage"), "an unreadable signature"},
	} {
		if got := issuerOf(tc.sig); got != tc.want {
			t.Errorf("%s: issuerOf = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestParseHeaderTimes: each of the header's times must be a time in the
// record's form (UTC, RFC 3339), or the header is refused; the times read
// back as written.
func TestParseHeaderTimes(t *testing.T) {
	m := testMinutes(nil)
	good := headerJSON(m)
	h, err := parseHeader(good)
	if err != nil || !h.From.Equal(m.From) || !h.To.Equal(m.To) || !h.Generated.Equal(m.Generated) || h.Room != m.Room || h.Entries != 0 {
		t.Fatalf("parseHeader(%s) = %+v, %v", good, h, err)
	}
	for _, field := range []string{"from", "to", "generated"} {
		for _, bad := range []string{"2026-13-01T00:00:00Z", "2026-03-02T19:30:00+01:00", ""} {
			var raw map[string]any
			if err := json.Unmarshal([]byte(good), &raw); err != nil {
				t.Fatal(err)
			}
			raw[field] = bad
			s, err := json.Marshal(raw)
			if err != nil {
				t.Fatal(err)
			}
			if h, err := parseHeader(string(s)); err == nil {
				t.Errorf("%s %q: accepted as %+v", field, bad, h)
			}
		}
	}
}
