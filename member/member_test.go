package member_test

import (
	"os"
	"path/filepath"
	"testing"

	"maunium.net/go/mautrix"

	"quorum/member"
	"quorum/testkit"
)

// TestSameStoreSameDevice: logging in again with the store of the last run
// keeps the device (the sandbox's organiser relies on it), the store is
// private, and it does not open with another pickle key.
func TestSameStoreSameDevice(t *testing.T) {
	t.Parallel()
	s := testkit.StartHomeserver(t)
	ctx := t.Context()
	const password = "member test password"
	user, err := s.Register(ctx, "mira", password, false)
	if err != nil {
		t.Fatal(err)
	}
	acct := member.Account{
		Homeserver: s.URL,
		UserID:     user,
		Password:   password,
		Store:      filepath.Join(t.TempDir(), "mira.db"),
		PickleKey:  []byte("mira's pickle key"),
	}
	login := func() *member.Client {
		t.Helper()
		c, err := member.Login(ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		c.Start()
		t.Cleanup(func() { _ = c.Close() })
		return c
	}

	first := login()
	device := first.DeviceID
	if device == "" {
		t.Fatal("no device ID after login")
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if info, err := os.Stat(acct.Store); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("store mode %v, %v; want 0600", info.Mode().Perm(), err)
	}

	second := login()
	if second.DeviceID != device {
		t.Errorf("second login got device %s, want %s again", second.DeviceID, device)
	}
	devices, err := second.GetDevicesInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(devices.Devices) != 1 || devices.Devices[0].DeviceID != device {
		t.Errorf("devices on the server: %+v; want only %s", devices.Devices, device)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}

	wrongKey := acct
	wrongKey.PickleKey = []byte("another key")
	if c, err := member.Login(ctx, wrongKey); err == nil {
		_ = c.Close()
		t.Error("the store opened with another pickle key")
	}
}

// TestCrossSigning: the first device creates the account's identity and
// keeps its recovery key (mode 0600); the same store again stays signed; a
// new device is signed only with the recovery key, and an Unsigned one never.
func TestCrossSigning(t *testing.T) {
	t.Parallel()
	s := testkit.StartHomeserver(t)
	ctx := t.Context()
	const password = "member test password"
	user, err := s.Register(ctx, "rosa", password, false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	acct := func(store string, recovery string, unsigned bool) member.Account {
		return member.Account{Homeserver: s.URL, UserID: user, Password: password, PickleKey: []byte("k"),
			Store: filepath.Join(dir, store), RecoveryKeyFile: recovery, Unsigned: unsigned}
	}
	login := func(a member.Account) *member.Client {
		t.Helper()
		c, err := member.Login(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	keyFile := filepath.Join(dir, "rosa.recovery-key")

	first := login(acct("first.db", keyFile, false))
	if !first.CrossSigned || first.RecoveryKey == "" {
		t.Fatalf("first device: signed %v, recovery key %q", first.CrossSigned, first.RecoveryKey)
	}
	if info, err := os.Stat(keyFile); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("recovery key file: %v, %v; want mode 0600", info, err)
	}
	master, err := first.MasterKey(ctx)
	if err != nil || master == "" {
		t.Fatalf("master key on the server: %q, %v", master, err)
	}
	_ = first.Close()
	if again := login(acct("first.db", keyFile, false)); !again.CrossSigned || again.RecoveryKey != first.RecoveryKey {
		t.Errorf("the same store again: signed %v, recovery key kept %v", again.CrossSigned, again.RecoveryKey == first.RecoveryKey)
	}

	if other := login(acct("other.db", "", false)); other.CrossSigned {
		t.Error("a new device was signed without the recovery key")
	}
	if unsigned := login(acct("unsigned.db", keyFile, true)); unsigned.CrossSigned {
		t.Error("an Unsigned device was signed")
	}
	withKey := login(acct("with-key.db", keyFile, false))
	if !withKey.CrossSigned {
		t.Fatal("a new device with the recovery key was not signed")
	}
	if m, err := withKey.MasterKey(ctx); err != nil || m != master {
		t.Errorf("master key after signing a new device: %s (%v), want the first %s", m, err, master)
	}
	// What the homeserver says, seen from the account: the signed devices
	// carry a signature of the self-signing key, the others not.
	resp, err := withKey.QueryKeys(ctx, &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{user: {}}})
	if err != nil {
		t.Fatal(err)
	}
	signed := 0
	for _, dev := range resp.DeviceKeys[user] {
		for keyID := range resp.SelfSigningKeys[user].Keys {
			if _, ok := dev.Signatures[user][keyID]; ok {
				signed++
			}
		}
	}
	if len(resp.DeviceKeys[user]) != 4 || signed != 2 {
		t.Errorf("%d devices, %d signed; want 4 and 2 (first and with-key)", len(resp.DeviceKeys[user]), signed)
	}
}
