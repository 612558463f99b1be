package bot

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/id"

	"quorum/store"
)

// TestRatchetStoredWhileStopping: the bot stops by cancelling the context
// its sync hands to mautrix, which may then be decrypting a message. The
// session ratcheted past that message must still be stored (else the
// database keeps a session that decrypts it), and a fully used one still
// deleted.
func TestRatchetStoredWhileStopping(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs := crypto.NewSQLCryptoStore(st.DB, dbutil.ZeroLogger(zerolog.Nop()), "", "BOT", []byte("pickle"))
	if err := cs.DB.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	rs := ratchetStore{cs}
	room := id.RoomID("!dm:example.org")
	out, err := crypto.NewOutboundGroupSession(room, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := out.Internal.Key()
	ciphertext, err := out.Internal.Encrypt([]byte("!vote yes"))
	if err != nil {
		t.Fatal(err)
	}
	newSession := func() *crypto.InboundGroupSession {
		sess, err := crypto.NewInboundGroupSession("sender", "signing", room, key, 0, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := rs.PutGroupSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		return sess
	}
	stopping, stop := context.WithCancel(ctx)
	stop()

	sess := newSession()
	if err := sess.RatchetTo(1); err != nil {
		t.Fatal(err)
	}
	if err := rs.PutGroupSession(stopping, sess); err != nil {
		t.Errorf("storing a ratcheted session while stopping: %v", err)
	}
	stored, err := rs.GetGroupSession(ctx, room, sess.ID())
	if err != nil || stored == nil {
		t.Fatalf("stored session: %v, %v", stored, err)
	}
	if plain, _, err := stored.Internal.Decrypt(ciphertext); err == nil {
		t.Errorf("the stored session still decrypts the message: %q", plain)
	}

	sess = newSession()
	if err := rs.RedactGroupSession(stopping, room, sess.ID(), "used"); err != nil {
		t.Errorf("deleting a used session while stopping: %v", err)
	}
	if stored, err := rs.GetGroupSession(ctx, room, sess.ID()); stored != nil {
		t.Errorf("the used session is still stored (%v)", err)
	}
}
