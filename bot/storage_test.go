package bot_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"maunium.net/go/mautrix/event"

	"quorum/store"
	"quorum/testkit"
)

// TestDiskFull: the bot's database lives on a small tmpfs, which is filled
// while the bot runs. An encrypted command is answered at once that nothing
// was done, and the log says why, naming the file; a reaction sent
// meanwhile is not lost: once there is room again it is counted, while the
// refused command is never carried out. (Mounting needs root, as in CI.)
func TestDiskFull(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=32m,mode=0700"); err != nil {
		t.Fatalf("mount a tmpfs for the database (the test needs root): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	s := testkit.StartHomeserver(t)
	b := testkit.NewBot(t, s)
	b.Config.Database = filepath.Join(dir, "quorum.db")
	b.Start()
	botID := b.Client().UserID
	ana := testkit.NewClient(t, s, "ana")
	ben := testkit.NewClient(t, s, "ben")
	r := ana.CreateRoom(false, botID, ben.UserID)
	ana.WaitJoined(r, botID, wait)
	ana.WaitJoined(r, ben.UserID, wait)
	ben.WaitJoined(r, botID, wait)
	ana.Say(r, "!motion --closes 2h Pay the rent")
	notice := ana.WaitFor(wait, "the motion's notice", func(evt *event.Event) bool {
		return testkit.IsNotice(evt, r, botID, "Motion #1")
	})

	// ben's room key reaches the bot before the disk fills: a room key that
	// comes while it is full is lost (mautrix's olm session moves on in
	// memory though it could not be saved), and with it every message of
	// that session.
	ben.Ask(r, "!help motion")
	filler := fillDisk(t, b.Config.Database, dir)
	ben.React(r, notice.ID, "👍", true)
	cmd := ana.Say(r, "!motion --closes 2h Buy a van")
	reply := ana.WaitReply(r, cmd, wait)
	content := reply.Content.AsMessage()
	if reply.Sender != botID || content.MsgType != event.MsgNotice ||
		!strings.Contains(content.Body, "I can't save anything right now (the server's disk is full), so I did nothing") {
		t.Fatalf("reply to a command while the disk is full: %s %s %q", reply.Sender, content.MsgType, content.Body)
	}
	if reply.Mautrix.EventSource&event.SourceDecrypted == 0 {
		t.Log("the reply came in the clear (the crypto store could not record the encryption either)")
	}
	if log := b.Log.String(); !strings.Contains(log, "Cannot write to the database") || !strings.Contains(log, b.Config.Database) {
		t.Errorf("the log does not say that %s cannot be written:\n%s", b.Config.Database, log)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// The bot handles a room's events in order: once it answers this, it has
	// handled the reaction and the refused command again.
	tally := ana.Ask(r, "!motion 1")
	if f, _ := tally.Content.Raw["quorum.motion"].(map[string]any); f == nil || f["yes"] != float64(1) || f["voted"] != float64(1) {
		t.Errorf("the reaction sent while the disk was full was not counted: %v", tally.Content.Raw["quorum.motion"])
	}
	ana.Say(r, "!motion --closes 2h Buy bikes")
	bikes := ana.WaitFor(wait, "the notice of the motion after the refused one", func(evt *event.Event) bool {
		return testkit.IsNotice(evt, r, botID, "Buy bikes")
	})
	if body := bikes.Content.AsMessage().Body; !strings.Contains(body, "Motion #2") {
		t.Errorf("the refused command was carried out after all: %q", body)
	}
	if vans := ana.Notices(r, botID, "Buy a van"); len(vans) != 0 {
		t.Errorf("the refused command was carried out after all: %q", vans[0].Content.AsMessage().Body)
	}
	if replies := len(ana.Replies(r, cmd)); replies != 1 {
		t.Errorf("the refused command got %d replies, want 1", replies)
	}
}

// fillDisk empties the database's write-ahead log (so that the next write
// must grow it) and fills the file system in dir; it returns the filler's
// path.
func fillDisk(t *testing.T, database, dir string) string {
	t.Helper()
	db, err := sql.Open("sqlite", store.DSN(database))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for try := 0; ; try++ {
		if try == 1000 {
			t.Fatal("the write-ahead log could not be emptied: the bot never stops reading")
		}
		var busy, frames, done int
		if err := db.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done); err != nil {
			t.Fatal(err)
		}
		if busy == 0 && frames == 0 {
			break
		}
	}
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, size := range []int{1 << 20, 4 << 10, 1} {
		chunk := make([]byte, size)
		for {
			if _, err := f.Write(chunk); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
	return path
}
