// Package member is an assembly member's end-to-end encrypted Matrix client:
// a mautrix device with its own SQLite crypto store, logged in with a
// password. The integration tests' users (package testkit) and the sandbox's
// demo organiser are members; the bot is not (package bot).
//
// The same store file means the same device: a member that logs in again
// with the store of its last run keeps its device ID and keys, so the rooms'
// other members keep trusting it.
//
// A member's device is cross-signed by the account's identity, as Element
// does on a first sign-in (crosssign.go): the bot obeys only such devices.
package member

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/id"

	"quorum/ratelimit"
	"quorum/store"
)

// Account says who logs in where, and where the device keeps its keys.
type Account struct {
	Homeserver string
	UserID     id.UserID
	Password   string
	// Store is the SQLite file of the device's crypto and state stores,
	// created if missing.
	Store string
	// PickleKey encrypts the keys in Store; the same key is needed to
	// reopen it.
	PickleKey []byte
	// DeviceName is the new device's display name (optional).
	DeviceName string
	// Log receives mautrix's log; the zero value discards it. Keep it at
	// info or above: mautrix logs request bodies at debug.
	Log zerolog.Logger
	// Unsigned leaves the device out of cross-signing, as a client without
	// it would (tests of what the bot does with unverified devices).
	Unsigned bool
	// RecoveryKeyFile is where the account's cross-signing recovery key is
	// kept: written (mode 0600) when Login creates the identity, read when a
	// new device of an account that has one is to be signed. Optional:
	// without it, a new device of such an account stays unsigned, as a new
	// sign-in does until it is verified.
	RecoveryKeyFile string
}

// Client is a logged-in member. Register handlers on Syncer, then Start.
type Client struct {
	*mautrix.Client
	Crypto *cryptohelper.CryptoHelper
	Syncer *mautrix.DefaultSyncer
	// CrossSigned says whether the device is signed by the account's
	// cross-signing identity (see Account.Unsigned and RecoveryKeyFile).
	CrossSigned bool
	// RecoveryKey is the account's recovery key, when Login created the
	// identity or signed the device with it.
	RecoveryKey string

	password string
	stopOnce sync.Once
	cancel   context.CancelFunc
	done     chan struct{}
}

// syncRetry is the pause after a failed sync (a homeserver restart in a
// test, the sandbox stopping) before the next attempt.
const syncRetry = 200 * time.Millisecond

// Login opens acct.Store, logs the device in (reusing the device stored
// there, if any), sets up encryption and cross-signs the device (see
// Account.Unsigned). It does not sync yet.
func Login(ctx context.Context, acct Account) (*Client, error) {
	cli, err := mautrix.NewClient(acct.Homeserver, acct.UserID, "")
	if err != nil {
		return nil, fmt.Errorf("member %s: %w", acct.UserID, err)
	}
	cli.Log = acct.Log
	ratelimit.Apply(cli, acct.Log)
	localpart, _, err := acct.UserID.Parse()
	if err != nil {
		return nil, fmt.Errorf("member %s: %w", acct.UserID, err)
	}
	// The store holds the device's private keys: only its owner may read it.
	f, err := os.OpenFile(acct.Store, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("member %s: open store: %w", acct.UserID, err)
	}
	_ = f.Close()
	if err := os.Chmod(acct.Store, 0o600); err != nil {
		return nil, fmt.Errorf("member %s: open store: %w", acct.UserID, err)
	}
	raw, err := sql.Open("sqlite", store.DSN(acct.Store))
	if err != nil {
		return nil, fmt.Errorf("member %s: open store: %w", acct.UserID, err)
	}
	db, err := dbutil.NewWithDB(raw, "sqlite")
	if err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("member %s: open store: %w", acct.UserID, err)
	}
	helper, err := cryptohelper.NewCryptoHelper(cli, acct.PickleKey, db)
	if err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("member %s: set up encryption: %w", acct.UserID, err)
	}
	helper.LoginAs = &mautrix.ReqLogin{
		Type:                     mautrix.AuthTypePassword,
		Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: localpart},
		Password:                 acct.Password,
		InitialDeviceDisplayName: acct.DeviceName,
	}
	if err := helper.Init(ctx); err != nil {
		_ = helper.Close()
		return nil, fmt.Errorf("member %s: log in with encryption: %w", acct.UserID, err)
	}
	cli.Crypto = helper
	c := &Client{Client: cli, Crypto: helper, Syncer: cli.Syncer.(*mautrix.DefaultSyncer), password: acct.Password}
	if !acct.Unsigned {
		if err := c.crossSign(ctx, acct.RecoveryKeyFile); err != nil {
			_ = helper.Close()
			return nil, fmt.Errorf("member %s: cross-signing: %w", acct.UserID, err)
		}
	}
	return c, nil
}

// Start syncs in the background until Close, retrying after failed syncs.
func (c *Client) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan struct{})
	go func() {
		defer close(c.done)
		for ctx.Err() == nil {
			if err := c.SyncWithContext(ctx); err != nil && ctx.Err() == nil {
				select {
				case <-ctx.Done():
				case <-time.After(syncRetry):
				}
			}
		}
	}()
}

// Close stops syncing, waits for the sync to end and closes the store. It
// may be called more than once.
func (c *Client) Close() error {
	var err error
	c.stopOnce.Do(func() {
		if c.cancel != nil {
			c.cancel()
			<-c.done
		}
		if cerr := c.Crypto.Close(); cerr != nil {
			err = fmt.Errorf("member %s: close store: %w", c.UserID, cerr)
		}
	})
	return err
}
