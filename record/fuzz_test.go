package record

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// FuzzVerifyMinutes feeds arbitrary documents to VerifyMinutes: it must never
// panic, and must never accept something the key did not sign. The seeds are
// whole minutes of several kilobytes, so run it with a bounded minimisation
// or the fuzzer spends its time shrinking inputs:
//
//	go test -tags goolm -run '^$' -fuzz FuzzVerifyMinutes -fuzzminimizetime 50x ./record/
func FuzzVerifyMinutes(f *testing.F) {
	signed, _, tk := signedMinutes(f)
	f.Add(signed)
	f.Add(bytes.ReplaceAll(signed, []byte("\n"), []byte("\r\n")))
	f.Add(bytes.Replace(signed, []byte(`"for":27,`), []byte(`"for":28,`), 1))
	f.Add(bytes.Replace(signed, []byte("## Entry 3"), []byte("```\n## Entry 3"), 1))
	f.Add([]byte{})
	f.Add([]byte("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n```json quorum-minutes\n{}\n```\n-----BEGIN PGP SIGNATURE-----\n\nwsA=\n-----END PGP SIGNATURE-----\n"))
	// Genuine edges: no entries in the period; a period that continues an
	// earlier part of the chain (seq 4 on, prev set).
	entries := buildChain(f, 10)
	for _, m := range []Minutes{
		{Room: "Quiet month", From: chainStart.Add(-48 * time.Hour), To: chainStart.Add(-24 * time.Hour), Generated: chainStart},
		{Room: strings.Repeat("Ünïcödé 🚩 ", 20), From: entries[3].Time, To: entries[9].Time, Entries: entries[3:], Generated: entries[9].Time},
	} {
		doc, err := tk.key.ClearSign(RenderMinutes(m, nil))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(doc)
	}
	// Damage at the edges of the format: before, after and inside the
	// signature; line endings and white space; counts and numbers at their
	// limits.
	half := len(signed) / 2
	sigAt := bytes.Index(signed, []byte("-----BEGIN PGP SIGNATURE-----"))
	for _, doc := range [][]byte{
		append([]byte("\ufeff"), signed...),
		append([]byte("unsigned preface\n"), signed...),
		append(bytes.Clone(signed), "unsigned postscript\n"...),
		append(bytes.Clone(signed), signed...),
		signed[:half],
		signed[:sigAt],
		signed[:len(signed)-2],
		bytes.ReplaceAll(signed, []byte("\n"), []byte("\r")),
		bytes.ReplaceAll(signed, []byte("\n"), []byte(" \n")),
		bytes.ReplaceAll(signed, []byte("    "), []byte("\t")),
		bytes.Replace(signed, []byte(`"entries":10`), []byte(`"entries":9`), 1),
		bytes.Replace(signed, []byte(`"entries":10`), []byte(`"entries":9223372036854775807`), 1),
		bytes.Replace(signed, []byte(`{"seq":1,`), []byte(`{"seq":-1,`), 1),
		bytes.Replace(signed, []byte(`{"seq":1,`), []byte(`{"seq":99999999999999999999,`), 1),
		bytes.Replace(signed, []byte("```json quorum-entry"), []byte("```json quorum-minutes"), 1),
		bytes.Replace(signed, []byte("\n```\n"), []byte("\n"), 1),
		bytes.Replace(signed, []byte("Hash: SHA256"), []byte("Hash: MD5"), 1),
		signed[bytes.Index(signed, []byte("# Minutes")):sigAt],
		[]byte("-----BEGIN PGP SIGNED MESSAGE-----"),
		[]byte("-----BEGIN PGP SIGNED MESSAGE-----\n\n-----BEGIN PGP SIGNATURE-----\n-----END PGP SIGNATURE-----\n"),
		[]byte("\x00\xff\xfe"),
	} {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		r, err := VerifyMinutes(doc, tk.pub)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if !strings.Contains(r.Signer, tk.key.Fingerprint()) {
			t.Fatalf("accepted with signer %q", r.Signer)
		}
		if r.Entries > 0 && int64(r.Entries) != r.LastSeq-r.FirstSeq+1 {
			t.Fatalf("accepted with %d entries for seq %d to %d", r.Entries, r.FirstSeq, r.LastSeq)
		}
	})
}
