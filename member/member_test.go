package member_test

import (
	"os"
	"path/filepath"
	"testing"

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
