package bot

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/ratelimit"
)

// PickleKeyPath is where a generated pickle key is kept: beside the database,
// because the crypto store in the database is useless without it.
func PickleKeyPath(database string) string { return database + ".pickle-key" }

// RecoveryKeyPath is where the cross-signing recovery key is kept.
func RecoveryKeyPath(database string) string { return database + ".recovery-key" }

// pickleKey returns the configured pickle key, or the one generated on first
// start (kept beside the database, mode 0600, announced once).
func (b *Bot) pickleKey() ([]byte, error) {
	if b.cfg.PickleKey != "" {
		return []byte(b.cfg.PickleKey), nil
	}
	path := PickleKeyPath(b.cfg.Database)
	key, created, err := secretFile(path)
	if created {
		b.log.Warn().Str("path", path).Msg("Generated the key that encrypts the bot's crypto store; back it up together with the database")
	}
	return []byte(key), err
}

// secretFile reads the secret kept at path, generating a random one (32
// bytes, base64) in a new 0600 file if there is none.
func secretFile(path string) (secret string, created bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil {
		secret = strings.TrimSpace(string(data))
		if secret == "" {
			return "", false, fmt.Errorf("%s is empty; restore it from your backup", path)
		}
		return secret, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", false, err
	}
	secret = base64.RawStdEncoding.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		_ = f.Close()
		return "", false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", false, fmt.Errorf("write %s: %w", path, err)
	}
	return secret, true, nil
}

// login makes the client and its crypto helper. With a password the helper
// logs in, reusing the device ID stored in the crypto store, so the bot keeps
// one device for life; with an access token the token's device is used.
func (b *Bot) login(ctx context.Context) error {
	cli, err := mautrix.NewClient(b.cfg.Homeserver, id.UserID(b.cfg.UserID), b.cfg.AccessToken)
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	// mautrix logs request bodies at debug level, which would put message
	// content and keys in the log: keep its logger at the operator's level.
	cli.Log = b.log.With().Str("component", "matrix").Logger()
	if b.transport != nil {
		cli.Client.Transport = b.transport
	}
	// Under the homeserver's rate limits, wait as long as it asks: a join
	// refused with 429 would otherwise never be made.
	ratelimit.Apply(cli, b.log)
	b.cli = cli
	b.syncer = newSyncer(b)
	cli.Syncer = b.syncer
	cli.Store = &syncStore{st: b.st}

	key, err := b.pickleKey()
	if err != nil {
		return err
	}
	// The crypto helper copies the client's logger. mautrix's crypto logs
	// event IDs and senders at info and warn level (every ratchet, every
	// failed decryption); the bot logs what matters itself, without the IDs
	// of direct messages, so the helper gets errors only.
	clientLog := cli.Log
	cli.Log = cli.Log.Level(max(b.log.GetLevel(), zerolog.ErrorLevel))
	helper, err := cryptohelper.NewCryptoHelper(cli, key, b.st.DB)
	cli.Log = clientLog
	if err != nil {
		return fmt.Errorf("set up encryption: %w", err)
	}
	token, err := b.resumeSession(ctx)
	if err != nil {
		return err
	}
	if token == "" {
		localpart, _, _ := cli.UserID.Parse()
		helper.LoginAs = &mautrix.ReqLogin{
			Type:                     mautrix.AuthTypePassword,
			Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: localpart},
			Password:                 b.cfg.Password,
			InitialDeviceDisplayName: b.cfg.DisplayName,
		}
	}
	helper.DecryptErrorCallback = b.onUndecryptable
	helper.CustomPostDecrypt = b.dispatchDecrypted
	// Registered before Init adds the helper's own handler, so that it runs
	// first and notes an event before the helper starts waiting for its key.
	b.syncer.OnEventType(event.EventEncrypted, b.guard(b.beforeDecrypt))
	// The helper registers its handlers on the client's syncer (Init): the
	// one for membership events goes behind keepSession (session.go), and
	// the one for encrypted events leaves alone what the bot would ignore
	// anyway, messages from before it joined (beforeJoin, latekeys.go).
	cli.Syncer = cryptoSyncer{syncer: b.syncer, skip: b.beforeJoin, keep: func(next mautrix.EventHandler) mautrix.EventHandler {
		return b.keepSession(helper.Machine, next)
	}}
	err = helper.Init(ctx)
	cli.Syncer = b.syncer
	if err != nil {
		// mautrix's error text, not for members
		if strings.Contains(err.Error(), "not marked as shared, but there are keys on the server") {
			return fmt.Errorf("set up encryption: the database was lost or replaced but the bot's device still exists on the homeserver; restore the database and pickle key from backup, or log the device %s out and start again: %w", cli.DeviceID, err)
		}
		return fmt.Errorf("set up encryption: %w", err)
	}
	cli.Crypto = helper
	b.crypto = helper
	helper.Machine().SessionReceived = b.onSessionReceived
	if b.cfg.RequireCrossSigning {
		// Room keys only for sessions their owner verified (trust.go):
		// the others are sent a withheld notice, code m.unverified.
		helper.Machine().SendKeysMinTrust = id.TrustStateCrossSignedTOFU
	}
	forgetful(helper.Machine())
	b.sendAgainOnKeyRequest(helper.Machine())
	if err := b.forgetCryptoMetadata(ctx); err != nil {
		return err
	}
	b.st.OnCompact(b.forgetCryptoMetadata)
	b.st.OnBallotChange(b.forgetCryptoMetadata)
	if b.cfg.AccessToken == "" {
		if err := b.st.Meta().Set(ctx, "access_token", cli.AccessToken); err != nil {
			return err
		}
	}
	b.log.Info().Stringer("user_id", cli.UserID).Stringer("device_id", cli.DeviceID).Msg("Logged in")
	b.setDisplayName(ctx)
	return nil
}

// resumeSession picks the access token to use: the configured one, or the
// one from the bot's last login. Reusing the session (rather than logging in
// with the password on every start) matters beyond saving a request: the
// homeserver deduplicates a resent event by transaction ID per session, which
// is what makes a resend after a crash harmless. It returns "" when the bot
// must log in with its password.
func (b *Bot) resumeSession(ctx context.Context) (string, error) {
	token := b.cfg.AccessToken
	if token == "" {
		var err error
		if token, err = b.st.Meta().Get(ctx, "access_token"); err != nil || token == "" {
			return "", err
		}
	}
	b.cli.AccessToken = token
	whoami, err := b.cli.Whoami(ctx)
	if errors.Is(err, mautrix.MUnknownToken) && b.cfg.AccessToken == "" {
		b.log.Info().Msg("Stored session expired; logging in again with the password (same device)")
		b.cli.AccessToken = ""
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("check access token: %w", err)
	}
	if whoami.UserID != b.cli.UserID {
		return "", fmt.Errorf("access token belongs to %s, not user_id %s", whoami.UserID, b.cli.UserID)
	}
	b.cli.DeviceID = whoami.DeviceID
	return token, nil
}

func (b *Bot) setDisplayName(ctx context.Context) {
	if b.cfg.DisplayName == "" {
		return
	}
	profile, err := b.cli.GetOwnDisplayName(ctx)
	if err == nil && profile.DisplayName == b.cfg.DisplayName {
		return
	}
	if err := b.cli.SetDisplayName(ctx, b.cfg.DisplayName); err != nil {
		b.log.Warn().Err(err).Msg("Could not set display name")
	}
}

// register connects the event handlers. Decrypted events are re-dispatched
// by the crypto helper to the same handlers.
func (b *Bot) register() {
	s := b.syncer
	s.OnSync(b.onDeviceLists)
	s.OnSync(b.catchUp)
	s.OnEvent(b.guard(b.onOwnEcho))
	s.OnEventType(event.EventMessage, b.guard(b.onMessage))
	s.OnEventType(event.EventReaction, b.guard(b.onReaction))
	s.OnEventType(event.EventUnstablePollResponse, b.guard(b.onPollResponse))
	s.OnEventType(event.EventRedaction, b.guard(b.onRedaction))
	s.OnEventType(event.StateMember, b.guard(b.onMember))
}
