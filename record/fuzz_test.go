package record

import (
	"bytes"
	"strings"
	"testing"
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
