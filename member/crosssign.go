package member

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// crossSign makes the device signed by the account's cross-signing
// identity:
//   - signed already (the same store as last time): nothing to do;
//   - the account has no identity: create one (uploading it needs the
//     password), sign the device with it, and keep the recovery key;
//   - the account has one: sign the device with the recovery key kept in
//     recoveryFile; without that key the device stays unsigned, as a new
//     sign-in of a member does until they verify it.
func (c *Client) crossSign(ctx context.Context, recoveryFile string) error {
	hasIdentity, signed, err := c.crossSigningState(ctx)
	if err != nil {
		return err
	}
	if signed {
		c.CrossSigned = true
		if recoveryFile != "" {
			key, err := readRecoveryKey(recoveryFile)
			if err != nil {
				return err
			}
			c.RecoveryKey = key
		}
		return nil
	}
	if !hasIdentity {
		key, err := c.ResetIdentity(ctx)
		if err != nil {
			return err
		}
		if recoveryFile != "" {
			if err := writeRecoveryKey(recoveryFile, key); err != nil {
				return err
			}
		}
		return nil
	}
	if recoveryFile == "" {
		return nil
	}
	key, err := readRecoveryKey(recoveryFile)
	if err != nil || key == "" {
		return err
	}
	if err := c.Crypto.Machine().VerifyWithRecoveryKey(ctx, key); err != nil {
		return fmt.Errorf("sign the device with the recovery key in %s: %w", recoveryFile, err)
	}
	c.CrossSigned, c.RecoveryKey = true, key
	return nil
}

// crossSigningState asks the homeserver whether the account has a
// cross-signing identity and whether this device is signed by it.
func (c *Client) crossSigningState(ctx context.Context) (hasIdentity, signed bool, err error) {
	resp, err := c.QueryKeys(ctx, &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{c.UserID: {}}})
	if err != nil {
		return false, false, fmt.Errorf("query own keys: %w", err)
	}
	if len(resp.MasterKeys[c.UserID].Keys) == 0 {
		return false, false, nil
	}
	dev := resp.DeviceKeys[c.UserID][c.DeviceID]
	for keyID := range resp.SelfSigningKeys[c.UserID].Keys {
		if _, ok := dev.Signatures[c.UserID][keyID]; ok {
			return true, true, nil
		}
	}
	return true, false, nil
}

// ResetIdentity gives the account a new cross-signing identity (a new
// master key), signs this device with it and returns its recovery key, as
// Element's "reset your identity" does. The account's other devices are no
// longer signed by its identity afterwards.
func (c *Client) ResetIdentity(ctx context.Context) (recoveryKey string, err error) {
	mach := c.Crypto.Machine()
	key, cache, err := mach.GenerateAndUploadCrossSigningKeysWithPassword(ctx, c.password, "")
	if err != nil {
		return "", fmt.Errorf("create cross-signing keys: %w", err)
	}
	mach.CrossSigningKeys = cache
	if err := mach.SignOwnDevice(ctx, mach.OwnIdentity()); err != nil {
		return "", fmt.Errorf("sign own device: %w", err)
	}
	if err := mach.SignOwnMasterKey(ctx); err != nil {
		return "", fmt.Errorf("sign own master key: %w", err)
	}
	c.CrossSigned, c.RecoveryKey = true, key
	return key, nil
}

// MasterKey returns the account's cross-signing master key as the
// homeserver has it ("" if none).
func (c *Client) MasterKey(ctx context.Context) (id.Ed25519, error) {
	resp, err := c.QueryKeys(ctx, &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{c.UserID: {}}})
	if err != nil {
		return "", fmt.Errorf("query own keys: %w", err)
	}
	for _, k := range resp.MasterKeys[c.UserID].Keys {
		return k, nil
	}
	return "", nil
}

// readRecoveryKey reads the key kept at path; a missing file is no key.
func readRecoveryKey(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("read recovery key: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}

// writeRecoveryKey keeps key at path, readable by its owner only.
func writeRecoveryKey(path, key string) error {
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return fmt.Errorf("keep recovery key: %w", err)
	}
	return os.Chmod(path, 0o600) // an existing file keeps its mode otherwise
}
