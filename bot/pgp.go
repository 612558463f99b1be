package bot

import (
	"context"
	"fmt"

	"quorum/record"
)

// PGPPassphrasePath is where a generated passphrase of the signing key is
// kept when pgp_passphrase is not configured.
func PGPPassphrasePath(database string) string { return database + ".pgp-passphrase" }

// signingKey loads the bot's OpenPGP key, generating it on first start. The
// private key is stored in the database, encrypted with the passphrase from
// pgp_passphrase (or a generated one kept beside the database).
func (b *Bot) signingKey(ctx context.Context) (*record.Key, error) {
	pass := b.cfg.PGPPassphrase
	if pass == "" {
		path := PGPPassphrasePath(b.cfg.Database)
		var created bool
		var err error
		if pass, created, err = secretFile(path); err != nil {
			return nil, err
		}
		if created {
			b.log.Warn().Str("path", path).Msg("Generated the passphrase of the bot's signing key; back it up with the database, or set pgp_passphrase")
		}
	}
	armored, err := b.st.Meta().Get(ctx, "pgp_key")
	if err != nil {
		return nil, err
	}
	if armored == "" {
		data, err := record.GenerateKey("Quorum "+b.cfg.UserID, "", pass, b.clock.Now())
		if err != nil {
			return nil, fmt.Errorf("generate signing key: %w", err)
		}
		armored = string(data)
		if err := b.st.Meta().Set(ctx, "pgp_key", armored); err != nil {
			return nil, err
		}
		defer func() { b.log.Info().Msg("Generated the OpenPGP key that signs the minutes; members see it with !key") }()
	}
	key, err := record.LoadKey([]byte(armored), pass)
	if err != nil {
		return nil, fmt.Errorf("load signing key (is pgp_passphrase right?): %w", err)
	}
	b.log.Info().Str("fingerprint", key.Fingerprint()).Msg("Signing key loaded")
	return key, nil
}
