package bot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ensureCrossSigning makes the bot's device verified by its own
// cross-signing identity, so that clients which only share keys with
// verified devices ("exclude insecure devices") still talk to it.
//
// First start: generate cross-signing keys (uploading them needs the
// account password), sign the device, and keep the recovery key in a 0600
// file beside the database; log where it is, never the key itself. Later
// starts: nothing to do, or, if the database was restored onto a new device,
// re-sign with the recovery key.
func (b *Bot) ensureCrossSigning(ctx context.Context) error {
	mach := b.crypto.Machine()
	path := RecoveryKeyPath(b.cfg.Database)
	keys, err := mach.GetOwnCrossSigningPublicKeys(ctx)
	if err != nil {
		return fmt.Errorf("read cross-signing keys: %w", err)
	}
	if keys != nil {
		signed, err := mach.CryptoStore.IsKeySignedBy(ctx, b.cli.UserID, mach.GetAccount().SigningKey(), b.cli.UserID, keys.SelfSigningKey)
		if err != nil {
			return fmt.Errorf("check device signature: %w", err)
		}
		if signed {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("device is not cross-signed and the recovery key file %s cannot be read: %w", path, err)
		}
		if err := mach.VerifyWithRecoveryKey(ctx, strings.TrimSpace(string(data))); err != nil {
			return fmt.Errorf("sign device with recovery key: %w", err)
		}
		b.log.Info().Msg("Signed this device with the bot's recovery key")
		return nil
	}
	if b.cfg.Password == "" {
		return errors.New("cross-signing needs the account password once (set password or QUORUM_PASSWORD for the first start)")
	}
	recoveryKey, cache, err := mach.GenerateAndUploadCrossSigningKeysWithPassword(ctx, b.cfg.Password, "")
	if err != nil {
		return fmt.Errorf("generate cross-signing keys: %w", err)
	}
	mach.CrossSigningKeys = cache
	if err := writeSecret(path, recoveryKey); err != nil {
		return fmt.Errorf("keep recovery key: %w", err)
	}
	if err := mach.SignOwnDevice(ctx, mach.OwnIdentity()); err != nil {
		return fmt.Errorf("sign own device: %w", err)
	}
	if err := mach.SignOwnMasterKey(ctx); err != nil {
		return fmt.Errorf("sign own master key: %w", err)
	}
	b.log.Warn().Str("recovery_key_file", path).Stringer("user_id", b.cli.UserID).Stringer("device_id", b.cli.DeviceID).
		Msg("Set up cross-signing for the bot. Back up the recovery key file with the database. " +
			"To trust the bot, members verify its user in their client (Element: the bot's profile, Verify); " +
			"its device is already signed by its own identity.")
	return nil
}

// writeSecret writes a secret to a new file only its owner can read.
func writeSecret(path, secret string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
