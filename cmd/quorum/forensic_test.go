package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/store"
	"quorum/testkit"
	"quorum/testkit/forensic"
)

const forensicWait = time.Minute

var receiptCode = regexp.MustCompile("receipt code is `([2-9A-Z]{10})`")

// TestSecretBallotForensicsRealBot plays a secret ballot with the real
// quorum binary on a real homeserver: ten members (real encrypted clients)
// are in the room, nine vote by direct message in a known order with known
// choices, each opening their direct chat (accepting the bot's invite) only
// to vote. The bot is killed with SIGKILL after the eighth ballot and
// started again, takes the ninth, the proposer closes the motion and the
// bot is stopped with SIGINT. A `quorum export` is taken while it runs,
// after the seventh, and opened with `quorum import`.
//
// Then every byte of every file is read (forensic.Inspect): the bot's
// folder after the clean stop (database, WAL, SHM, the key files beside it,
// its configuration and its log), the files as the kill left them, and the
// export. None links a voter (their user ID, direct room, !vote event,
// device or device key) to a choice or to the time of their ballot;
// receipt codes appear only as the published sorted list; and no order the
// files show (by file offset, page offset, rowid, b-tree, WAL frame, log
// line) is the order of the ballots (forensic.CastOrder).
func TestSecretBallotForensicsRealBot(t *testing.T) {
	t.Parallel()
	start := time.Now()
	ctx := context.Background()
	s := testkit.StartHomeserver(t)
	if _, err := s.Register(ctx, "quorum", testkit.Password, false); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() // the bot's folder
	cfg := filepath.Join(dir, "quorum.yaml")
	yaml := fmt.Sprintf("homeserver: %q\nuser_id: %q\npassword: %q\ndatabase: quorum.db\nallowed_inviters: [%q]\nlog_level: info\n",
		s.URL, "@quorum:"+s.ServerName, testkit.Password, "*:"+s.ServerName)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs []string
	run := func() *process {
		p := startProcess(t, "run", "--config", cfg)
		waitStderr(t, p, "Ready")
		return p
	}
	bot := run()
	botID := id.UserID("@quorum:" + s.ServerName)

	names := []string{"ana", "ben", "chi", "dan", "eve", "fay", "gus", "hal", "ivy", "jon"} // jon does not vote
	members := make([]*testkit.Client, len(names))
	invite := []id.UserID{botID}
	for i, n := range names {
		members[i] = testkit.NewClient(t, s, n)
		if i > 0 {
			invite = append(invite, members[i].UserID)
		}
	}
	ana := members[0]
	room := ana.CreateRoom(false, invite...)
	for _, u := range invite {
		ana.WaitJoined(room, u, forensicWait)
	}
	t.Logf("set up in %s", time.Since(start).Round(time.Second))

	// Members open their direct chat with the bot when they vote, as in
	// Element, where the chat waits as an invite: then what the bot records
	// of their joining comes in the order of the ballots too.
	for _, c := range members {
		c.HoldInvites.Store(true)
	}
	ana.Say(room, "!motion --secret --closes 1h Strike on Friday")
	dms := make([]id.RoomID, len(members))
	for i, c := range members {
		dms[i] = c.Invited(botID, room, forensicWait)
	}
	// The direct rooms were made for the ballots: their times (the bot's
	// join) are apart from the ballots', as when members take a moment to
	// read the motion.
	time.Sleep(2500 * time.Millisecond)

	// The order of the ballots, far from the order of the members' names
	// (and of their joining): 19 of 36 pairs are out of order.
	cast := []int{5, 1, 7, 3, 8, 0, 6, 2, 4}
	choices := []string{"y", "n", "a", "y", "n", "y", "a", "n", "y"} // by member
	b := forensic.Ballot{Voters: make([][]string, len(members)), VoterTimes: make([][]time.Time, len(members)), MaxMotion: 5}
	alice, aliceSecret := keyPair(t, t.TempDir(), "alice")
	killed, exported := t.TempDir(), t.TempDir()
	for k, v := range cast {
		c := members[v]
		c.Join(dms[v])
		ballot := c.WaitFor(forensicWait, "a ballot", func(evt *event.Event) bool {
			return testkit.IsNotice(evt, dms[v], botID, "Secret ballot: motion #1")
		})
		code, _ := ballot.Content.Raw["quorum.ballot"].(map[string]any)["code"].(string)
		vote := c.Say(dms[v], "!vote "+code+" "+choices[v])
		receipt := c.WaitReply(dms[v], vote, forensicWait)
		m := receiptCode.FindStringSubmatch(receipt.Content.AsMessage().Body)
		if m == nil {
			t.Fatalf("%s: no receipt code in %q", c.UserID, receipt.Content.AsMessage().Body)
		}
		b.Codes = append(b.Codes, m[1])
		own := c.WaitFor(forensicWait, "the vote's echo", func(evt *event.Event) bool { return evt.ID == vote })
		b.VoterTimes[v] = []time.Time{time.UnixMilli(own.Timestamp), time.UnixMilli(receipt.Timestamp), time.Now()}
		b.CastTimes = append(b.CastTimes, b.VoterTimes[v][:2]...)
		b.Voters[v] = []string{c.UserID.String(), dms[v].String(), vote.String(), c.DeviceID.String(), c.IdentityKey()}
		switch k + 1 {
		case 7: // an export while the bot runs, opened as its recipient would
			drained(t, filepath.Join(dir, "quorum.db"))
			backup := filepath.Join(t.TempDir(), "backup.pgp")
			if out, errOut, status := quorum(t, "export", "--config", cfg, "--to", alice, "-o", backup); status != 0 {
				t.Fatalf("export: %d %q %q", status, out, errOut)
			}
			if out, errOut, status := quorumWith(t, []string{"QUORUM_KEY_PASSPHRASE=pass alice"},
				"import", backup, "--key", aliceSecret, "--config", cfg, "--database", filepath.Join(exported, "quorum.db")); status != 0 {
				t.Fatalf("import: %d %q %q", status, out, errOut)
			}
		case 8: // kill -9, keep what it left, and start again
			if err := bot.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-bot.done
			_, errOut := bot.output()
			logs = append(logs, errOut)
			forensic.CopyFiles(t, dir, killed)
			bot = run()
		}
	}
	jon := members[9]
	b.Voters[9] = []string{jon.UserID.String(), dms[9].String(), jon.DeviceID.String(), jon.IdentityKey()}
	// Closed by the proposer a little later, so that the close (which the
	// room sees, and the record keeps beside the proposer's name) is not
	// within two seconds of anyone's ballot.
	time.Sleep(2500 * time.Millisecond)
	ana.Say(room, "!close 1")
	ana.WaitFor(forensicWait, "the result", func(evt *event.Event) bool {
		return testkit.IsNotice(evt, room, botID, "Motion #1: Carried 4–3")
	})
	bot.interrupt(t)
	_, errOut := bot.output()
	logs = append(logs, errOut)
	// The log, as an operator would keep it, is one more file to read.
	if err := os.WriteFile(filepath.Join(dir, "quorum.log"), []byte(strings.Join(logs, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("ballot played in %s", time.Since(start).Round(time.Second))
	// On failure the files are kept for a closer look, in
	// $QUORUM_FORENSIC_KEEP or a new temporary folder (named in the log).
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		keep := os.Getenv("QUORUM_FORENSIC_KEEP")
		if keep == "" {
			var err error
			if keep, err = os.MkdirTemp("", "quorum-forensic-"); err != nil {
				t.Log(err)
				return
			}
		}
		for name, from := range map[string]string{"stopped": dir, "killed": killed, "exported": exported} {
			if err := os.MkdirAll(filepath.Join(keep, name), 0o700); err != nil {
				t.Log(err)
				return
			}
			forensic.CopyFiles(t, from, filepath.Join(keep, name))
		}
		t.Logf("the files are kept in %s", keep)
	})

	for _, name := range []string{"quorum.db-wal", "quorum.db-shm", "quorum.db-journal"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s is left after a clean stop", name)
		}
	}
	b.Key = forensic.ReadSealKey(t, dir, "quorum.db")
	f, _ := forensic.Inspect(t, "after the clean stop", dir, "quorum.db", b)
	forensic.CastOrder(t, "after the clean stop", f, b, cast, 7)

	// As the kill left them, and the export: read by whoever has the
	// database but not the seal key (the open box is sealed with it).
	// The files a kill leaves may still show who cast the latest ballot,
	// and when (its receipt waiting in the outbox, the crypto store's record
	// of the receipt's echo: the same the homeserver saw), until the next
	// ballot or the next start wipes them; of the ballots before it,
	// nothing.
	open := b
	open.Key, open.Codes, open.CastTimes = nil, nil, nil
	open.VoterTimes = slices.Clone(b.VoterTimes)
	open.VoterTimes[cast[7]] = nil
	for _, v := range cast[:7] {
		open.CastTimes = append(open.CastTimes, b.VoterTimes[v][:2]...)
	}
	f, _ = forensic.Inspect(t, "as the kill left them", killed, "quorum.db", open)
	forensic.CastOrder(t, "as the kill left them", f, b, cast[:8], 7)
	f, _ = forensic.Inspect(t, "export after seven ballots", exported, "quorum.db", open)
	forensic.CastOrder(t, "export after seven ballots", f, b, cast[:7], 7)
	for _, c := range b.Codes {
		for _, where := range []string{killed, exported} {
			g, err := forensic.Read(where, "quorum.db")
			if err != nil {
				t.Fatal(err)
			}
			if hits := g.Find(c); len(hits) > 0 {
				t.Errorf("receipt code in the clear mid-ballot: %+v", hits[0])
			}
		}
	}
	t.Logf("whole test: %s", time.Since(start).Round(time.Second))
}

// waitStderr waits until what p wrote to stderr since the last call (it
// may be restarted: every process has its own) contains substr.
func waitStderr(t *testing.T, p *process, substr string) {
	t.Helper()
	deadline := time.After(forensicWait)
	for {
		if _, errOut := p.output(); strings.Contains(errOut, substr) {
			return
		}
		select {
		case <-p.changed:
		case <-p.done:
			_, errOut := p.output()
			t.Fatalf("quorum exited (%v) before logging %q:\n%s", p.err, substr, errOut)
		case <-deadline:
			_, errOut := p.output()
			t.Fatalf("no %q after %s:\n%s", substr, forensicWait, errOut)
		}
	}
}

// drained waits until the bot's outbox at path is empty. A receipt waiting
// there names its member and when it was queued (README, "What the tests
// hold"); it is removed once the homeserver took it, which can be a moment
// after its member saw it: the removal waits its turn behind the rewrite of
// the crypto store that follows each ballot.
func drained(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", store.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for deadline := time.Now().Add(forensicWait); ; time.Sleep(20 * time.Millisecond) {
		var queued int
		if err := db.QueryRow("SELECT count(*) FROM outbox").Scan(&queued); err != nil {
			t.Fatal(err)
		}
		if queued == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still queued after %s", queued, forensicWait)
		}
	}
}
