package record

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKey is a generated key with everything a test may need from it.
type testKey struct {
	name       string
	passphrase string
	priv, pub  []byte
	key        *Key
}

var (
	keysMu sync.Mutex
	keys   = map[string]testKey{}
)

// fixtureKey returns the key called name, generating it on first use: key
// generation and unlocking cost a few hundred milliseconds each (S2K).
func fixtureKey(t testing.TB, name string) testKey {
	t.Helper()
	keysMu.Lock()
	defer keysMu.Unlock()
	if k, ok := keys[name]; ok {
		return k
	}
	pass := "correct horse " + name
	priv, err := GenerateKey("Quorum "+name, strings.ToLower(name)+"@example.org", pass, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatalf("GenerateKey(%s): %v", name, err)
	}
	k, err := LoadKey(priv, pass)
	if err != nil {
		t.Fatalf("LoadKey(%s): %v", name, err)
	}
	pub, err := k.ArmoredPublic()
	if err != nil {
		t.Fatalf("ArmoredPublic(%s): %v", name, err)
	}
	tk := testKey{name: name, passphrase: pass, priv: priv, pub: pub, key: k}
	keys[name] = tk
	return tk
}

var chainStart = time.Date(2026, 3, 2, 18, 30, 0, 0, time.UTC)

// motionTexts are things members may well type into a motion, and that have
// broken Markdown or cleartext signatures elsewhere.
var motionTexts = []string{
	"Strike on Friday",
	"Code fence ``` inside, and a whole fence:\n```\nrm -rf /\n```",
	"-----BEGIN PGP SIGNATURE-----\nnot really\n-----END PGP SIGNATURE-----",
	"- first point\n-- second\n---\n- - -",
	"Windows line endings\r\nsecond line\r\nthird\rold Mac",
	"Grève générale 🚩 — 罢工 — إضراب — עברית",
	"trailing spaces   \n\ttabbed\x07bell\x00nul\u2028line sep",
	"```json quorum-entry\n{\"seq\":99}\n```",
	"From the floor: > quoted <b>html</b> [link](https://tracker.example/x.png) ![img](https://tracker.example/i.png)",
	"",
}

// testRoom is the room of the test chains and minutes.
const testRoom = "!nightshift:example.org"

// buildChain makes n entries of testRoom's chain, a motion result for every
// other one.
func buildChain(t testing.TB, n int) []Entry {
	t.Helper()
	return buildRoomChain(t, testRoom, n)
}

// buildRoomChain is buildChain for another room.
func buildRoomChain(t testing.TB, room string, n int) []Entry {
	t.Helper()
	var entries []Entry
	var prev *Entry
	for i := range n {
		var kind string
		var content any
		if i%2 == 0 {
			kind = "motion.result"
			content = map[string]any{
				"motion":  motionTexts[(i/2)%len(motionTexts)],
				"for":     23 + i,
				"against": 4,
				"abstain": 2,
				"carried": true,
			}
		} else {
			kind = "delegation.granted"
			content = struct {
				Delegate string `json:"delegate"`
				Role     string `json:"role"`
				Until    string `json:"until"`
			}{"@member" + string(rune('a'+i)) + ":example.org", "negotiator", "2026-06-01"}
		}
		at := chainStart.Add(time.Duration(i) * 37 * time.Minute)
		var e Entry
		var err error
		if prev == nil {
			e, err = Start(room, kind, content, at)
		} else {
			e, err = Next(prev, kind, content, at)
		}
		if err != nil {
			t.Fatalf("Next(%d): %v", i+1, err)
		}
		entries = append(entries, e)
		prev = &entries[len(entries)-1]
	}
	return entries
}

// describeForTest is a describe function that repeats the motion text raw,
// as the bot will.
func describeForTest(e Entry) string {
	var c struct {
		Motion   string `json:"motion"`
		Delegate string `json:"delegate"`
	}
	if err := json.Unmarshal(e.Content, &c); err != nil {
		return "undecodable: " + err.Error()
	}
	if e.Kind == "motion.result" {
		return "Motion carried:\n" + c.Motion
	}
	return c.Delegate + " was elected negotiator."
}
