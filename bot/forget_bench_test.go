package bot

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/crypto/olm"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/sqlstatestore"

	"quorum/store"
)

// BenchmarkBallotChange measures what follows every change of an open
// secret ballot (each !vote; store.OnBallotChange): forgetting the crypto
// store's metadata, rewriting its tables in the order of their keys, and
// emptying the WAL, in a database as a secret ballot of n members leaves
// it: an olm session with each member's device, their megolm session in
// the assembly's room and in their direct room, the bot's outbound session
// of each direct room shared with them, and the rooms' members. Each round
// adds the session a !vote brings first, as a vote does.
func BenchmarkBallotChange(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			ctx := context.Background()
			st, cs := ballotCryptoStore(b, n)
			assembly := id.RoomID("!assembly:example.org")
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				putInboundSession(b, cs, assembly, id.SenderKey(fmt.Sprintf("vote%d", i)))
				b.StartTimer()
				if err := forgetCryptoMetadata(ctx, cs); err != nil {
					b.Fatal(err)
				}
				if err := st.Checkpoint(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// ballotCryptoStore is a store with a crypto store and a state store as a
// secret ballot of n members leaves them (see BenchmarkBallotChange).
func ballotCryptoStore(b *testing.B, n int) (*store.Store, *crypto.SQLCryptoStore) {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "q.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	log := dbutil.ZeroLogger(zerolog.Nop())
	cs := crypto.NewSQLCryptoStore(st.DB, log, "", "BOT", []byte("pickle"))
	if err := cs.DB.Upgrade(ctx); err != nil {
		b.Fatal(err)
	}
	states := sqlstatestore.NewSQLStateStore(st.DB, log, false)
	if err := states.Upgrade(ctx); err != nil {
		b.Fatal(err)
	}
	bot, err := olm.NewAccount()
	if err != nil {
		b.Fatal(err)
	}
	assembly := id.RoomID("!assembly:example.org")
	for i := range n {
		member := id.UserID(fmt.Sprintf("@member%d:example.org", i))
		dm := id.RoomID(fmt.Sprintf("!dm%d:example.org", i))
		device, err := olm.NewAccount()
		if err != nil {
			b.Fatal(err)
		}
		if err := device.GenOneTimeKeys(1); err != nil {
			b.Fatal(err)
		}
		_, identity, err := device.IdentityKeys()
		if err != nil {
			b.Fatal(err)
		}
		otks, err := device.OneTimeKeys()
		if err != nil {
			b.Fatal(err)
		}
		for _, otk := range otks {
			sess, err := bot.NewOutboundSession(identity, otk)
			if err != nil {
				b.Fatal(err)
			}
			if err := cs.AddSession(ctx, identity, &crypto.OlmSession{Internal: sess}); err != nil {
				b.Fatal(err)
			}
		}
		putInboundSession(b, cs, assembly, identity)
		putInboundSession(b, cs, dm, identity)
		out, err := crypto.NewOutboundGroupSession(dm, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		out.Shared = true
		if err := cs.AddOutboundGroupSession(ctx, out); err != nil {
			b.Fatal(err)
		}
		if err := cs.MarkOutboundGroupSessionShared(ctx, member, identity, out.ID()); err != nil {
			b.Fatal(err)
		}
		for _, m := range []struct {
			room id.RoomID
			user id.UserID
		}{{assembly, member}, {dm, member}, {dm, "@quorum:example.org"}} {
			if err := states.SetMembership(ctx, m.room, m.user, event.MembershipJoin); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := forgetCryptoMetadata(ctx, cs); err != nil {
		b.Fatal(err)
	}
	return st, cs
}

// putInboundSession stores a megolm session of room from sender.
func putInboundSession(b *testing.B, cs *crypto.SQLCryptoStore, room id.RoomID, sender id.SenderKey) {
	b.Helper()
	out, err := crypto.NewOutboundGroupSession(room, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	in, err := crypto.NewInboundGroupSession(sender, "signing", room, out.Internal.Key(), 0, 0, nil, false)
	if err != nil {
		b.Fatal(err)
	}
	if err := (ratchetStore{cs}).PutGroupSession(context.Background(), in); err != nil {
		b.Fatal(err)
	}
}
