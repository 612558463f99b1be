package bot_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/crypto/canonicaljson"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/bot"
	"quorum/store"
	"quorum/testkit"
)

// cast is one member's secret ballot as the test saw it.
type cast struct {
	voter   *testkit.Client
	choice  string
	dm      id.RoomID
	vote    id.EventID // the member's !vote
	receipt *event.Event
}

// TestSecretBallotLeavesNothing plays a secret ballot of four members whose
// IDs have the same length, on the real homeserver, and checks what the
// homeserver and a seizure of the bot's files can learn:
//   - every receipt's ciphertext has the same length whatever the choice,
//     and its plaintext is padded to the same size; the members' one-letter
//     votes have ciphertexts of one length too;
//   - once the bot has stopped, its crypto store cannot decrypt the members'
//     !vote messages fetched again from the homeserver, nor its receipts,
//     including votes that were not the first message of their session;
//   - no file of the bot's and no line of its log holds the ID of a direct
//     message, and the log holds no direct room's ID.
func TestSecretBallotLeavesNothing(t *testing.T) {
	t.Parallel()
	_, b, r, cs := startAssembly(t, "ana", "ben", "chi", "dan")
	botID, device := b.Client().UserID, b.Client().DeviceID
	cs[0].Say(r, "!motion --secret --closes 1h Strike on Friday")

	casts := make([]*cast, len(cs))
	for i, c := range cs {
		ballot := c.WaitFor(wait, "a ballot", func(evt *event.Event) bool {
			return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "Secret ballot: motion #1")
		})
		code, _ := ballot.Content.Raw["quorum.ballot"].(map[string]any)["code"].(string)
		if len(code) != store.BallotCodeLen {
			t.Fatalf("ballot without a code: %v", ballot.Content.Raw)
		}
		choice := []string{"y", "n", "a", "y"}[i]
		if i%2 == 0 {
			// A message before the vote: the vote is not the first of the
			// member's megolm session, which mautrix alone would not
			// ratchet past (forget.go).
			c.Ask(ballot.RoomID, "!help vote")
		}
		vote := c.Say(ballot.RoomID, "!vote "+code+" "+choice)
		receipt := c.WaitReply(ballot.RoomID, vote, wait)
		if !strings.Contains(receipt.Content.AsMessage().Body, "receipt code is") {
			t.Fatalf("%s: no receipt: %q", c.UserID, receipt.Content.AsMessage().Body)
		}
		casts[i] = &cast{voter: c, choice: choice, dm: ballot.RoomID, vote: vote, receipt: receipt}
	}
	result := findNotice(cs[0], r, botID, "Motion #1: Carried 2–1")

	// What the homeserver sees: ciphertexts of one length.
	ctx := context.Background()
	ciphertext := func(c *testkit.Client, room id.RoomID, evt id.EventID) *event.EncryptedEventContent {
		t.Helper()
		fetched, err := c.GetEvent(ctx, room, evt)
		if err != nil {
			t.Fatalf("fetch %s: %v", evt, err)
		}
		bot.ParseFetched(room, fetched)
		enc, ok := fetched.Content.Parsed.(*event.EncryptedEventContent)
		if fetched.Type != event.EventEncrypted || !ok {
			t.Fatalf("%s is not encrypted: %s", evt, fetched.Type.Type)
		}
		return enc
	}
	receiptLen, voteLen := map[int][]string{}, map[int][]string{}
	for _, c := range casts {
		enc := ciphertext(c.voter, c.dm, c.receipt.ID)
		receiptLen[len(enc.MegolmCiphertext)] = append(receiptLen[len(enc.MegolmCiphertext)], c.choice)
		enc = ciphertext(c.voter, c.dm, c.vote)
		voteLen[len(enc.MegolmCiphertext)] = append(voteLen[len(enc.MegolmCiphertext)], c.choice)
		plain, err := canonicaljson.Marshal(map[string]any{"room_id": c.dm, "type": event.EventMessage.Type, "content": c.receipt.Content.Raw})
		if err != nil || len(plain) != 2048 {
			t.Errorf("%s's receipt encrypts %d bytes (%v), want 2048", c.voter.UserID, len(plain), err)
		}
	}
	if len(receiptLen) != 1 {
		t.Errorf("receipt ciphertext lengths by choice: %v", receiptLen)
	}
	if len(voteLen) != 1 {
		t.Errorf("one-letter vote ciphertext lengths by choice: %v", voteLen)
	}
	t.Logf("receipt ciphertext lengths: %v; vote ciphertext lengths: %v", receiptLen, voteLen)
	if result.Content.Raw["quorum.motion"].(map[string]any)["receipts"] == nil {
		t.Error("the result lists no receipts")
	}
	// Let the bot see the echo of its last messages, then stop it.
	cs[0].Ask(r, "!help")
	b.Stop()

	// What the bot's files can decrypt: none of the members' votes, none of
	// its receipts.
	path := b.Config.Database
	raw, err := sql.Open("sqlite", store.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	db, err := dbutil.NewWithDB(raw, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	pickle, err := os.ReadFile(bot.PickleKeyPath(path))
	if err != nil {
		t.Fatal(err)
	}
	stored := crypto.NewSQLCryptoStore(db, dbutil.ZeroLogger(zerolog.Nop()), "", device, []byte(strings.TrimSpace(string(pickle))))
	sessions, indexes := 0, []uint{}
	for _, c := range casts {
		for what, evt := range map[string]id.EventID{"vote": c.vote, "receipt": c.receipt.ID} {
			enc := ciphertext(c.voter, c.dm, evt)
			sess, err := stored.GetGroupSession(ctx, c.dm, enc.SessionID)
			if err != nil || sess == nil {
				continue // deleted, or redacted: nothing decrypts it
			}
			sessions++
			idx, _ := crypto.ParseMegolmMessageIndex(enc.MegolmCiphertext)
			indexes = append(indexes, idx)
			if plain, _, err := sess.Internal.Decrypt(enc.MegolmCiphertext); err == nil {
				t.Errorf("the stored crypto store decrypts %s's %s: %.60s", c.voter.UserID, what, plain)
			}
		}
	}
	t.Logf("%d of %d sessions still stored (ratcheted); message indexes of what they did not decrypt: %v", sessions, 2*len(casts), indexes)

	// The crypto store keeps the day, not the time, of what members sent.
	times := 0
	for _, q := range []string{
		"SELECT created_at FROM crypto_megolm_outbound_session", "SELECT last_used FROM crypto_megolm_outbound_session",
		"SELECT received_at FROM crypto_megolm_inbound_session WHERE received_at IS NOT NULL",
		"SELECT created_at FROM crypto_olm_session", "SELECT last_decrypted FROM crypto_olm_session", "SELECT last_encrypted FROM crypto_olm_session",
	} {
		rows, err := raw.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var at time.Time
			if err := rows.Scan(&at); err != nil {
				t.Fatal(q, err)
			}
			times++
			// Olm sessions of one device keep their order in milliseconds.
			if off := at.Sub(at.UTC().Truncate(24 * time.Hour)); off > time.Second {
				t.Errorf("%s: %s is not blurred to the day", q, at)
			}
		}
		rows.Close()
	}
	if times < 10 {
		t.Errorf("only %d crypto timestamps read: the check reads the wrong place", times)
	}
	// Nor the order sessions came in: rows lie in the order of their IDs.
	for table, key := range map[string]string{"crypto_megolm_inbound_session": "session_id", "crypto_olm_session": "session_id", "crypto_megolm_outbound_session": "room_id"} {
		var byRowid, byKey []string
		for order, list := range map[string]*[]string{"rowid": &byRowid, key: &byKey} {
			rows, err := raw.Query("SELECT " + key + " FROM " + table + " ORDER BY " + order)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var v string
				_ = rows.Scan(&v)
				*list = append(*list, v)
			}
			rows.Close()
		}
		if len(byKey) < 2 || !slices.Equal(byRowid, byKey) {
			t.Errorf("%s: %d rows, not in the order of %s", table, len(byKey), key)
		}
	}
	_ = raw.Close()

	// No direct message's ID in any file, nor any direct room in the log.
	var ids []string
	for _, c := range casts {
		ids = append(ids, c.vote.String(), c.receipt.ID.String())
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	read := 0
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(filepath.Dir(path), e.Name()))
		if err != nil {
			continue // a directory
		}
		read += len(data)
		for _, evt := range ids {
			if strings.Contains(string(data), evt) {
				t.Errorf("%s holds the direct message %s", e.Name(), evt)
			}
		}
	}
	if read == 0 {
		t.Fatal("read no file of the bot's")
	}
	log := b.Log.String()
	if !strings.Contains(log, "Created a direct room") {
		t.Fatal("the log buffer does not hold the bot's log")
	}
	for _, c := range casts {
		for _, secret := range []string{c.dm.String(), c.vote.String(), c.receipt.ID.String()} {
			if strings.Contains(log, secret) {
				t.Errorf("the log holds %s (of %s's direct room)", secret, c.voter.UserID)
			}
		}
	}
}
