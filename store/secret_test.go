package store

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

// newSecretMotion stores an open secret motion with the given electorate.
func newSecretMotion(t testing.TB, st *Store, room id.RoomID, voters []id.UserID) *Motion {
	t.Helper()
	ctx := context.Background()
	m := &Motion{Room: room, Kind: "motion", Payload: "{}", Proposer: voters[0], Text: "x", Threshold: "majority", Quorum: "0",
		Secret: true, Status: MotionAwaitingSecond, CreatedAt: time.Now(), ClosesAt: time.Now().Add(time.Hour)}
	if err := st.Motions().Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := st.Motions().Open(ctx, m, voters); err != nil {
		t.Fatal(err)
	}
	return m
}

// files returns every byte of every file in dir, by name.
func files(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = data
	}
	return out
}

// TestSecretBallots: a secret motion gets a ballot code and a sealed box;
// one ballot per member of the electorate; the receipts come out of the
// box; closing destroys it.
func TestSecretBallots(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	voters := []id.UserID{"@c:x", "@a:x", "@b:x"}
	m := newSecretMotion(t, st, "!r", voters)
	if len(m.BallotCode) != BallotCodeLen || strings.Trim(m.BallotCode, CodeAlphabet) != "" {
		t.Fatalf("ballot code %q", m.BallotCode)
	}
	other := newSecretMotion(t, st, "!s", voters)
	if other.BallotCode == m.BallotCode {
		t.Fatal("two motions share a ballot code")
	}
	cast := func(voter id.UserID, choice, code string) (bool, error) {
		var ok bool
		err := st.Tx(ctx, func(ctx context.Context) (err error) {
			ok, err = st.Secret().Cast(ctx, m.ID, voter, choice, code)
			return err
		})
		return ok, err
	}
	unvoted := func(voter id.UserID) []int64 {
		t.Helper()
		list, err := st.Secret().Unvoted(ctx, voter)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, m := range list {
			ids = append(ids, m.ID)
		}
		return ids
	}
	if got := unvoted("@a:x"); !slices.Equal(got, []int64{m.ID, other.ID}) {
		t.Fatalf("@a:x has not voted on %v, want both motions (%d, %d)", got, m.ID, other.ID)
	}
	if ok, err := cast("@a:x", "yes", "AAAAAAAAA2"); err != nil || !ok {
		t.Fatalf("cast: %v %v", ok, err)
	}
	if got := unvoted("@a:x"); !slices.Equal(got, []int64{other.ID}) {
		t.Fatalf("after voting, @a:x has not voted on %v, want only motion %d", got, other.ID)
	}
	if got := unvoted("@c:x"); len(got) != 2 {
		t.Fatalf("@c:x, who has not voted, has %v left, want both motions", got)
	}
	if got := unvoted("@z:x"); len(got) != 0 {
		t.Fatalf("@z:x, outside the electorate, has %v left", got)
	}
	if ok, err := cast("@a:x", "no", "AAAAAAAAA3"); ok || err != nil {
		t.Fatalf("a second secret vote: %v %v", ok, err)
	}
	if _, err := cast("@z:x", "no", "AAAAAAAAA4"); err != ErrNotElector {
		t.Fatalf("a vote from outside the electorate: %v", err)
	}
	if _, err := cast("@b:x", "no", "AAAAAAAAA2"); err == nil {
		t.Fatal("a receipt code was given twice")
	}
	if ok, err := cast("@c:x", "abstain", "ZZZZZZZZZ9"); err != nil || !ok {
		t.Fatalf("cast: %v %v", ok, err)
	}
	if ok, err := cast("@b:x", "no", "MMMMMMMMM5"); err != nil || !ok {
		t.Fatalf("cast: %v %v", ok, err)
	}
	// Nor can the others vote again: each has their own place on the roll
	// (@a:x, who tried above, is the first).
	for _, v := range []id.UserID{"@b:x", "@c:x"} {
		if ok, err := cast(v, "yes", "NNNNNNNNN6"); ok || err != nil {
			t.Fatalf("a second secret vote by %s: %v %v", v, ok, err)
		}
	}
	got, ok, err := st.Motions().Get(ctx, m.ID)
	if err != nil || !ok || got.Turnout != 3 || got.Voted() != 3 || got.Yes+got.No+got.Abstain != 0 || got.BallotCode != m.BallotCode {
		t.Fatalf("motion = %+v, %v", got, err)
	}
	receipts, err := st.Secret().Receipts(ctx, m.ID)
	if err != nil || len(receipts) != 3 || receipts["AAAAAAAAA2"] != "yes" || receipts["MMMMMMMMM5"] != "no" || receipts["ZZZZZZZZZ9"] != "abstain" {
		t.Fatalf("receipts = %v, %v", receipts, err)
	}
	found, ok, err := st.Secret().ByCode(ctx, strings.ToLower(m.BallotCode))
	if err != nil || !ok || found.ID != m.ID {
		t.Fatalf("by code = %+v %v %v", found, ok, err)
	}
	if list, err := st.Secret().OpenByNumber(ctx, "@b:x", m.Number); err != nil || len(list) != 2 {
		t.Fatalf("open by number = %v, %v", list, err)
	}
	if list, _ := st.Secret().OpenByNumber(ctx, "@z:x", m.Number); len(list) != 0 {
		t.Fatal("a non-member found the ballot")
	}

	if err := st.Motions().Close(ctx, m.ID, MotionCarried, time.Now(), 1, 1, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Secret().Receipts(ctx, m.ID); err == nil {
		t.Fatal("the box of a closed motion still opens")
	}
	var rows int
	if err := st.DB.QueryRow(ctx, "SELECT (SELECT COUNT(*) FROM ballot_rolls WHERE motion_id=$1) + (SELECT COUNT(*) FROM ballot_boxes WHERE motion_id=$1)", m.ID).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("%d rows of the closed box left (%v)", rows, err)
	}
	if got, _, _ := st.Motions().Get(ctx, m.ID); got.Voted() != 3 || got.Turnout != 0 {
		t.Errorf("closed motion = %+v", got)
	}
	if _, err := cast("@a:x", "yes", "BBBBBBBBB2"); err == nil {
		t.Fatal("a ballot went into a destroyed box")
	}
}

// TestSealedBallotFiles: while a ballot is open, the database's files hold
// no receipt code and no voter list in the clear, and the WAL is empty
// after each ballot.
func TestSealedBallotFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "quorum.db")
	ctx := context.Background()
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	voters := []id.UserID{"@ana:x", "@ben:x", "@chi:x"}
	m := newSecretMotion(t, st, "!r", voters)
	codes := []string{"QQQQQQQQQ2", "RRRRRRRRR3", "SSSSSSSSS4"}
	for i, v := range voters {
		err := st.Tx(ctx, func(ctx context.Context) error {
			_, err := st.Secret().Cast(ctx, m.ID, v, "yes", codes[i])
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if info, err := os.Stat(path + "-wal"); err == nil && info.Size() != 0 {
			t.Fatalf("the WAL holds %d bytes after a ballot", info.Size())
		}
	}
	found := 0
	for name, data := range files(t, dir) {
		for _, c := range codes {
			if bytes.Contains(data, []byte(c)) {
				t.Errorf("%s holds receipt code %s in the clear", name, c)
			}
		}
		if bytes.Contains(data, []byte("yes")) {
			found++
		}
	}
	if found == 0 {
		// The schema at least says "yes": the search reads the files.
		t.Fatal("no file holds even the schema's text; the check reads nothing")
	}
	if receipts, err := st.Secret().Receipts(ctx, m.ID); err != nil || len(receipts) != 3 {
		t.Fatalf("receipts = %v %v", receipts, err)
	}

	// Without the seal key, nothing opens.
	if err := os.WriteFile(SealKeyPath(path), []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st.seal = &sealer{path: SealKeyPath(path)}
	if _, err := st.Secret().Receipts(ctx, m.ID); err == nil || !strings.Contains(err.Error(), "seal key") {
		t.Fatalf("a box opened with another seal key: %v", err)
	}
}

// TestSealedOutbox: a queued message is not readable from the database's
// files while it waits, nor after it was sent and the WAL checkpointed.
func TestSealedOutbox(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "quorum.db")
	ctx := context.Background()
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const secret = "meet at 12 Hidden Lane"
	outID, err := st.Outbox().Add(ctx, Outgoing{DMUser: "@ana:x", Kind: "message", Payload: []byte(`{"body":"` + secret + `"}`)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	list, err := st.Outbox().Pending(ctx, 10)
	if err != nil || len(list) != 1 || !strings.Contains(string(list[0].Payload), secret) {
		t.Fatalf("pending = %v %v", list, err)
	}
	search := func(when string) {
		t.Helper()
		n := 0
		for name, data := range files(t, dir) {
			n += len(data)
			if bytes.Contains(data, []byte(secret)) || bytes.Contains(data, []byte("Hidden")) {
				t.Errorf("%s: %s holds the message in the clear", when, name)
			}
		}
		if n == 0 {
			t.Fatal("no bytes read")
		}
	}
	search("while queued")
	if err := st.Outbox().Done(ctx, outID); err != nil {
		t.Fatal(err)
	}
	if err := st.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	search("after sending")

	// With another seal key the entry cannot be read, and says so.
	if _, err := st.Outbox().Add(ctx, Outgoing{Room: "!r", Kind: "message", Payload: []byte(`{}`)}, time.Now()); err != nil {
		t.Fatal(err)
	}
	st.seal = &sealer{path: filepath.Join(dir, "other.seal-key")}
	list, err = st.Outbox().Pending(ctx, 10)
	if err != nil || len(list) != 1 || !list[0].Unreadable || list[0].Payload != nil {
		t.Fatalf("an entry sealed with another key: %+v %v", list, err)
	}
}

// TestHandledPrivate: events of a direct room are remembered under a keyed
// hash, without their ID or room, and forgotten by the day.
func TestHandledPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "quorum.db")
	ctx := context.Background()
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.DMs().Set(ctx, "@ana:x", "!dm-ana:x"); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i, want := range []bool{true, false} {
		fresh, err := st.Handled().Mark(ctx, "$vote-of-ana", "!dm-ana:x", now)
		if err != nil || fresh != want {
			t.Fatalf("mark %d: %v %v", i, fresh, err)
		}
	}
	if fresh, _ := st.Handled().MarkPrivate(ctx, "$vote-of-ana", now); fresh {
		t.Fatal("MarkPrivate and Mark in a direct room disagree")
	}
	if seen, err := st.Handled().Seen(ctx, "$vote-of-ana"); err != nil || !seen {
		t.Fatalf("seen = %v %v", seen, err)
	}
	if seen, _ := st.Handled().Seen(ctx, "$other"); seen {
		t.Fatal("an unknown event was seen")
	}
	if err := st.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	for name, data := range files(t, dir) {
		if bytes.Contains(data, []byte("$vote-of-ana")) {
			t.Errorf("%s holds the direct event's ID", name)
		}
	}
	if n, err := st.Handled().Prune(ctx, now.Add(11*time.Hour)); err != nil || n != 0 {
		t.Fatalf("pruned %d (%v) with a cutoff later that day, want 0", n, err)
	}
	if n, err := st.Handled().Prune(ctx, now.Add(12*time.Hour)); err != nil || n != 1 {
		t.Fatalf("pruned %d (%v) with a cutoff the next day, want 1", n, err)
	}
}

// TestSealLegacy: ballots stored in the clear before upgrade 09 are moved
// into sealed boxes on open, and the old tables dropped.
func TestSealLegacy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "quorum.db")
	ctx := context.Background()
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	voters := []id.UserID{"@ana:x", "@ben:x", "@chi:x"}
	m := newMotion(t, st, "!r", voters)
	if err := st.DMs().Set(ctx, "@ana:x", "!dm:x"); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range slices.Concat(legacyTables, []string{
		"UPDATE motions SET secret=1, yes=1, no=1",
		"INSERT INTO secret_voters VALUES (1, '@ana:x'), (1, '@chi:x')",
		"INSERT INTO secret_ballots VALUES (1, 'AAAAAAAAA2', 'yes'), (1, 'BBBBBBBBB3', 'no')",
		"INSERT INTO handled VALUES ('$dm-event', '!dm:x', 1000), ('$room-event', '!r', 1000)",
	}) {
		if _, err := st.DB.Exec(ctx, stmt); err != nil {
			t.Fatal(stmt, err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, _, err := st.Motions().Get(ctx, m.ID)
	if err != nil || got.BallotCode == "" || got.Turnout != 2 || got.Yes+got.No+got.Abstain != 0 {
		t.Fatalf("motion after sealing = %+v %v", got, err)
	}
	receipts, err := st.Secret().Receipts(ctx, m.ID)
	if err != nil || len(receipts) != 2 || receipts["AAAAAAAAA2"] != "yes" || receipts["BBBBBBBBB3"] != "no" {
		t.Fatalf("receipts = %v %v", receipts, err)
	}
	for _, c := range []struct {
		voter id.UserID
		voted bool
	}{{"@ana:x", true}, {"@ben:x", false}, {"@chi:x", true}} {
		err := st.Tx(ctx, func(ctx context.Context) error {
			ok, err := st.Secret().Cast(ctx, m.ID, c.voter, "yes", "CCCCCCCCC4")
			if ok == c.voted {
				t.Errorf("%s: cast accepted %v, but had voted %v", c.voter, ok, c.voted)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if exists, _ := st.DB.TableExists(ctx, "secret_voters"); exists {
		t.Error("secret_voters was not dropped")
	}
	if seen, _ := st.Handled().Seen(ctx, "$dm-event"); !seen {
		t.Error("a direct event handled before sealing is forgotten")
	}
	var plain int
	if err := st.DB.QueryRow(ctx, "SELECT COUNT(*) FROM handled WHERE room_id='!dm:x'").Scan(&plain); err != nil || plain != 0 {
		t.Errorf("%d direct events still in the clear (%v)", plain, err)
	}
	for name, data := range files(t, dir) {
		for _, s := range []string{"AAAAAAAAA2", "BBBBBBBBB3", "$dm-event"} {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s still holds %s", name, s)
			}
		}
	}
}

// legacyTables are the unsealed ballots' tables of before upgrade 09.
var legacyTables = []string{
	"CREATE TABLE secret_voters (motion_id INTEGER NOT NULL REFERENCES motions (id), voter TEXT NOT NULL, PRIMARY KEY (motion_id, voter)) WITHOUT ROWID",
	"CREATE TABLE secret_ballots (motion_id INTEGER NOT NULL REFERENCES motions (id), code TEXT NOT NULL, choice TEXT NOT NULL, PRIMARY KEY (motion_id, code)) WITHOUT ROWID",
}

// TestSealLegacyNothingMoved: old tables with nothing to move (no open
// secret ballot, no direct event) are dropped and nothing is reported
// moved, so that opening does not compact (rewrite) the whole database for
// nothing.
func TestSealLegacyNothingMoved(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	for _, stmt := range legacyTables {
		if _, err := st.DB.Exec(ctx, stmt); err != nil {
			t.Fatal(stmt, err)
		}
	}
	if moved, err := st.sealLegacy(ctx); moved || err != nil {
		t.Errorf("sealLegacy = %v, %v; want nothing moved", moved, err)
	}
	if exists, _ := st.DB.TableExists(ctx, "secret_voters"); exists {
		t.Error("secret_voters was not dropped")
	}
}

// TestSealedReminderText: what a member asked to be reminded of is not in
// the database's files in the clear, and reads back whole.
func TestSealedReminderText(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(dir, "quorum.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const text = "call the organiser at 5551234"
	r := &Reminder{Kind: ReminderPersonal, User: "@ana:x", Text: text, DueAt: time.Now().Add(time.Hour), Zone: "UTC", CreatedAt: time.Now()}
	if ok, err := st.Reminders().Add(ctx, r); err != nil || !ok {
		t.Fatalf("add: %v %v", ok, err)
	}
	if got, ok, err := st.Reminders().Get(ctx, r.ID); err != nil || !ok || got.Text != text {
		t.Fatalf("get = %+v %v %v", got, ok, err)
	}
	if err := st.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	for name, data := range files(t, dir) {
		if bytes.Contains(data, []byte("5551234")) {
			t.Errorf("%s holds the reminder's text in the clear", name)
		}
	}
}

// TestRandomCodeUniform: every character of CodeAlphabet is as likely as
// any other in a code. A random byte picks a character by its remainder,
// so the bytes past the last whole turn of the alphabet are skipped: taken,
// they would make the first characters likelier, and codes easier to
// guess. 500,000 characters put each count within six standard deviations
// of its expectation (a false failure about once in 10^7 runs), where
// taking the skipped bytes, or only the first of them, moves a count by
// more than eleven.
func TestRandomCodeUniform(t *testing.T) {
	const n = 500_000
	counts := map[rune]int{}
	for _, c := range RandomCode(n) {
		counts[c]++
	}
	p := 1 / float64(len(CodeAlphabet))
	sigma := math.Sqrt(n * p * (1 - p))
	for _, c := range CodeAlphabet {
		if d := float64(counts[c]) - n*p; math.Abs(d) > 6*sigma {
			t.Errorf("%q came %d times in %d, %.1f standard deviations from %.0f", c, counts[c], n, d/sigma, n*p)
		}
	}
	if len(counts) != len(CodeAlphabet) {
		t.Errorf("%d distinct characters, want %d: %v", len(counts), len(CodeAlphabet), counts)
	}
}

// TestBallotCodesNeverDigits: a ballot code is never all digits, which
// `!vote 1234 y` would read as a motion number, and never given twice.
// About one random code in 225 is all digits; a pick that took one among
// its 50 tries would do so in about one motion in five, and pass 100
// motions about twice in 10^10 runs.
func TestBallotCodesNeverDigits(t *testing.T) {
	st := open(t)
	seen := map[string]bool{}
	for range 100 {
		code := newSecretMotion(t, st, "!r", []id.UserID{"@a:x"}).BallotCode
		if strings.Trim(code, "0123456789") == "" || seen[code] {
			t.Fatalf("ballot code %q (all digits, or given before)", code)
		}
		seen[code] = true
	}
}

// TestSealLegacyEveryoneVoted: an open secret ballot of before upgrade 09
// on which the whole electorate had voted fills its box exactly.
func TestSealLegacyEveryoneVoted(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	m := newMotion(t, st, "!r", []id.UserID{"@ana:x"})
	for _, stmt := range slices.Concat(legacyTables, []string{
		"UPDATE motions SET secret=1, yes=1",
		"INSERT INTO secret_voters VALUES (1, '@ana:x')",
		"INSERT INTO secret_ballots VALUES (1, 'AAAAAAAAA2', 'yes')",
	}) {
		if _, err := st.DB.Exec(ctx, stmt); err != nil {
			t.Fatal(stmt, err)
		}
	}
	if _, err := st.sealLegacy(ctx); err != nil {
		t.Fatal(err)
	}
	if receipts, err := st.Secret().Receipts(ctx, m.ID); err != nil || len(receipts) != 1 || receipts["AAAAAAAAA2"] != "yes" {
		t.Errorf("receipts = %v, %v", receipts, err)
	}
}
