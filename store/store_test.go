package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/record"
)

func open(t testing.TB) *Store {
	t.Helper()
	st, _ := openAt(t)
	return st
}

// openAt opens a store in a new folder and returns its path too.
func openAt(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "quorum.db")
	st, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, path
}

// boxTable makes a table to write in.
func boxTable(t *testing.T, st *Store) {
	t.Helper()
	if _, err := st.DB.Exec(context.Background(), "CREATE TABLE box (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "quorum.db")
	ctx := context.Background()
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	firstID := st.ID
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("database mode %v, want 0600", info.Mode().Perm())
	}
	// Reopening runs no upgrade twice and keeps the installation ID.
	st, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.ID == "" || st.ID != firstID {
		t.Errorf("ID changed across reopen: %q then %q", firstID, st.ID)
	}
}

func TestHandled(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	now := time.Now()
	for i, want := range []bool{true, false} {
		fresh, err := st.Handled().Mark(ctx, "$a", "!r", now)
		if err != nil || fresh != want {
			t.Fatalf("mark %d: %v, %v; want %v", i, fresh, err, want)
		}
	}
	if n, err := st.Handled().Prune(ctx, now.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	if fresh, _ := st.Handled().Mark(ctx, "$a", "!r", now); !fresh {
		t.Fatal("a pruned event is still marked handled")
	}
}

func TestOutbox(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	for i := range 3 {
		if _, err := st.Outbox().Add(ctx, Outgoing{Room: "!r", Kind: "message", Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	list, err := st.Outbox().Pending(ctx, 10)
	if err != nil || len(list) != 3 || string(list[0].Payload) != `{"n":0}` {
		t.Fatalf("pending = %v, %v", list, err)
	}
	if err := st.Outbox().Failed(ctx, list[0].ID, "503"); err != nil {
		t.Fatal(err)
	}
	if err := st.Outbox().Done(ctx, list[1].ID); err != nil {
		t.Fatal(err)
	}
	first, ok, err := st.Outbox().Get(ctx, list[0].ID)
	if err != nil || !ok || first.Attempts != 1 {
		t.Fatalf("get = %+v, %v, %v", first, ok, err)
	}
	if _, ok, _ := st.Outbox().Get(ctx, list[1].ID); ok {
		t.Fatal("done entry still there")
	}
	if rest, _ := st.Outbox().Pending(ctx, 10); len(rest) != 2 {
		t.Fatalf("%d entries left, want 2", len(rest))
	}
}

func TestAnchorsAreRoomScoped(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	if err := st.Anchors().Put(ctx, "$notice", "!a", Anchor{Kind: "motion", Ref: 7}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.Anchors().Get(ctx, "!b", "$notice"); ok {
		t.Fatal("an anchor was found from another room")
	}
	a, ok, err := st.Anchors().Get(ctx, "!a", "$notice")
	if err != nil || !ok || a.Ref != 7 {
		t.Fatalf("get = %+v %v %v", a, ok, err)
	}
	room, evt, ok, err := st.Anchors().Event(ctx, Anchor{Kind: "motion", Ref: 7})
	if err != nil || !ok || room != "!a" || evt != "$notice" {
		t.Fatalf("event = %s %s %v %v", room, evt, ok, err)
	}
}

// newMotion stores an open motion with the given electorate.
func newMotion(t testing.TB, st *Store, room id.RoomID, voters []id.UserID) *Motion {
	t.Helper()
	ctx := context.Background()
	m := &Motion{Room: room, Kind: "motion", Payload: "{}", Proposer: voters[0], Text: "x", Threshold: "majority", Quorum: "0",
		Status: MotionAwaitingSecond, CreatedAt: time.Now(), ClosesAt: time.Now().Add(time.Hour)}
	if err := st.Motions().Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := st.Motions().Open(ctx, m, voters); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTallyModel drives random casts, changes, poll answers that withdraw
// (NoChoice), redelivered events and withdrawals through the store and checks after every step that the
// standing counters, the recount from the acts and an independent model
// agree. A wrong tally is the worst bug Quorum can have.
func TestTallyModel(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	voters := []id.UserID{"@a:x", "@b:x", "@c:x", "@d:x", "@e:x"}
	m := newMotion(t, st, "!r", voters)
	rng := rand.New(rand.NewPCG(1, 2))
	type act struct {
		voter     id.UserID
		choice    string
		ts        int64
		seq       int
		withdrawn bool
	}
	var acts []*act
	choices := []string{"yes", "no", "abstain", NoChoice}
	model := func() (yes, no, abstain int) {
		for _, v := range voters {
			var best *act
			for _, a := range acts {
				if a.voter == v && !a.withdrawn && (best == nil || a.ts > best.ts || (a.ts == best.ts && a.seq > best.seq)) {
					best = a
				}
			}
			if best != nil {
				switch best.choice {
				case "yes":
					yes++
				case "no":
					no++
				case "abstain":
					abstain++
				}
			}
		}
		return
	}
	cast := func(ctx context.Context, voter id.UserID, choice string, seq int, ts int64, fresh bool) error {
		recorded, err := st.Votes().Cast(ctx, Act{Motion: m.ID, Voter: voter, Choice: choice, Event: id.EventID(fmt.Sprintf("$%d", seq)), Time: time.UnixMilli(ts)})
		if err == nil && recorded != fresh {
			err = fmt.Errorf("act $%d recorded=%v, want %v", seq, recorded, fresh)
		}
		return err
	}
	// 2,000 steps of a committed transaction each; -short (as scripts/mutate
	// runs every test once per mutant) takes 300, still every kind of act.
	steps := 2000
	if testing.Short() {
		steps = 300
	}
	for step := range steps {
		err := st.Tx(ctx, func(ctx context.Context) error {
			switch r := rng.IntN(10); {
			case r < 6 || len(acts) == 0: // a new act, sometimes with an older timestamp (late delivery)
				a := &act{voter: voters[rng.IntN(len(voters))], choice: choices[rng.IntN(len(choices))], ts: int64(step) - int64(rng.IntN(3)), seq: step}
				acts = append(acts, a)
				return cast(ctx, a.voter, a.choice, a.seq, a.ts, true)
			case r < 8: // a redelivery of an earlier act changes nothing
				a := acts[rng.IntN(len(acts))]
				return cast(ctx, a.voter, "yes", a.seq, a.ts, false)
			default: // a redaction, possibly of something already redacted; often of a recent act, which may stand
				a := acts[rng.IntN(len(acts))]
				if rng.IntN(2) == 0 {
					a = acts[len(acts)-1-rng.IntN(min(len(acts), 8))]
				}
				a.withdrawn = true
				return st.Votes().Withdraw(ctx, id.EventID(fmt.Sprintf("$%d", a.seq)))
			}
		})
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		got, _, err := st.Motions().Get(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		ry, rn, ra, err := st.Votes().Recount(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		my, mn, ma := model()
		if got.Yes != my || got.No != mn || got.Abstain != ma || ry != my || rn != mn || ra != ma {
			t.Fatalf("step %d: counters %d/%d/%d, recount %d/%d/%d, model %d/%d/%d",
				step, got.Yes, got.No, got.Abstain, ry, rn, ra, my, mn, ma)
		}
	}
}

// TestUnknownChoice: an act that is not yes, no or abstain would count
// for nothing; it is refused and nothing is recorded.
func TestUnknownChoice(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	m := newMotion(t, st, "!r", []id.UserID{"@a:x"})
	if _, err := st.Votes().Cast(ctx, Act{Motion: m.ID, Voter: "@a:x", Choice: "Yes", Event: "$1", Time: time.UnixMilli(1)}); err == nil {
		t.Error("an act with choice Yes was recorded")
	}
	if _, ok, err := st.Votes().Act(ctx, "$1"); ok || err != nil {
		t.Errorf("act recorded: %v %v", ok, err)
	}
}

// TestAwaitingKeys: events are noted once, listed with the day they were
// noted, and forgotten when done.
func TestAwaitingKeys(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	w := st.AwaitingKeys()
	at := time.Date(2026, 11, 30, 15, 4, 5, 0, time.UTC)
	for _, n := range []struct {
		room  id.RoomID
		event id.EventID
		at    time.Time
	}{{"!r", "$b", at.Add(time.Second)}, {"!r", "$a", at}, {"!s", "$c", at.Add(2 * time.Second)}, {"!r", "$a", at.Add(time.Hour)}} {
		if err := w.Note(ctx, n.room, n.event, n.at); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Done(ctx, "$b"); err != nil {
		t.Fatal(err)
	}
	list, err := w.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range list {
		got = append(got, fmt.Sprintf("%s %s %d", a.Room, a.Event, a.NotedAt.UnixMilli()))
	}
	slices.Sort(got)
	// Only the day of noting is kept.
	midnight := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC).UnixMilli()
	if want := []string{fmt.Sprintf("!r $a %d", midnight), fmt.Sprintf("!s $c %d", midnight)}; !slices.Equal(got, want) {
		t.Errorf("awaiting = %q, want %q", got, want)
	}
}

func TestRecords(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if _, err := st.Records().Append(ctx, "!r", "motion.result", map[string]int{"id": i}, start.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Records().Append(ctx, "!other", "motion.result", map[string]int{"id": 9}, start); err != nil {
		t.Fatal(err)
	}
	all, err := st.Records().Between(ctx, "!r", start, start.Add(24*time.Hour))
	if err != nil || len(all) != 3 || all[1].Prev != all[0].Hash || all[0].Seq != 1 {
		t.Fatalf("entries = %+v, %v", all, err)
	}
	head, err := st.Records().Head(ctx, "!other")
	if err != nil || head.Seq != 1 || head.Prev != record.Genesis("!other") {
		t.Fatalf("other room's chain = %+v, %v", head, err)
	}
	some, _ := st.Records().Between(ctx, "!r", start.Add(time.Hour), start.Add(2*time.Hour))
	if len(some) != 1 || some[0].Seq != 2 {
		t.Fatalf("period query = %+v", some)
	}
}

// TestWipeFailureLogged: a WAL emptied after a ballot change logs nothing;
// one that fails (here a shuffler) is logged as a warning, once, with the
// error.
func TestWipeFailureLogged(t *testing.T) {
	st := open(t)
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	st.Log = &log
	ctx := context.Background()
	st.wipeAfter(ctx, false)
	if buf.Len() != 0 {
		t.Errorf("a wipe that worked logged %q", buf.String())
	}
	st.OnBallotChange(func(context.Context) error { return errors.New("shuffle failed") })
	st.wipeAfter(ctx, false)
	st.waitShuffled()
	if got := buf.String(); strings.Count(got, "Could not empty the database's WAL") != 1 || !strings.Contains(got, "shuffle failed") || !strings.Contains(got, `"level":"warn"`) {
		t.Errorf("a wipe that failed logged %q", got)
	}
}

// TestConcurrentCheckpoints: ballot changes commit and checkpoint from many
// goroutines at once (1,000 votes in a few minutes); SQLite runs one
// checkpoint at a time and refuses a second at once, whatever the busy
// timeout, so each must wait its turn and none may fail.
func TestConcurrentCheckpoints(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	boxTable(t, st)
	errs := make(chan error, 8*40)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				if _, err := st.DB.Exec(ctx, "INSERT INTO box VALUES (?)", w*100+i); err != nil {
					errs <- err
					return
				}
				errs <- st.Checkpoint(ctx)
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
			if failed == 1 {
				t.Errorf("checkpoint: %v", err)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d checkpoints failed", failed, 8*40)
	}
}

// TestCheckpointWaitsForAnother: a checkpoint run on another connection
// (SQLite's own, after a commit there) holds SQLite's checkpoint lock while
// it waits for a reader; ours waits for it to finish, then empties the WAL.
func TestCheckpointWaitsForAnother(t *testing.T) {
	ctx := context.Background()
	st, path := openAt(t)
	reader := holdBack(t, st)
	other, err := st.DB.RawDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	otherDone := make(chan error, 1)
	go func() {
		var busy, frames, done int
		otherDone <- other.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done)
	}()
	time.Sleep(100 * time.Millisecond) // the other checkpoint now waits for the reader
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, _ = reader.ExecContext(ctx, "COMMIT")
	}()
	if err := st.Checkpoint(ctx); err != nil {
		t.Errorf("checkpoint while another ran: %v", err)
	}
	if err := <-otherDone; err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path + "-wal"); err != nil || info.Size() != 0 {
		t.Errorf("WAL after the checkpoint: %v, %v", info, err)
	}
}

// holdBack makes a table and a reader that holds an older state of it: a
// WAL frame no TRUNCATE checkpoint can fold in until the reader commits.
func holdBack(t *testing.T, st *Store) *sql.Conn {
	t.Helper()
	ctx := context.Background()
	boxTable(t, st)
	reader, err := st.DB.RawDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reader.Close() })
	var n int
	if _, err := reader.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if err := reader.QueryRowContext(ctx, "SELECT count(*) FROM box").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB.Exec(ctx, "INSERT INTO box VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	return reader
}

// TestCheckpointCovered: calls waiting their turn are done by a checkpoint
// that began after them and succeeded, without one of their own (here the
// second could not run one: its context is done).
func TestCheckpointCovered(t *testing.T) {
	st := open(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	queue := func(ctx context.Context, errs chan<- error) {
		asked := st.checkpointsAsked.Load()
		go func() { errs <- st.Checkpoint(ctx) }()
		for st.checkpointsAsked.Load() == asked {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // from asking to waiting for the lock
	}
	first, second := make(chan error, 1), make(chan error, 1)
	st.checkpointMu.Lock() // a checkpoint running
	queue(context.Background(), first)
	queue(cancelled, second)
	st.checkpointMu.Unlock()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Errorf("a call covered by the checkpoint after it ran its own: %v", err)
	}
	// A call after that checkpoint began is not covered by it.
	if err := st.Checkpoint(cancelled); err == nil {
		t.Error("a checkpoint with its context done succeeded")
	}
}

// TestShuffleInBackground: a ballot change returns once its WAL is emptied,
// without waiting for the shufflers (rewriting the crypto store took 0.15 s
// a ballot with a thousand members and held up the next); changes
// committed while they run are covered by one more run, which begins after
// the last of them and no sooner than the first run took; Close waits for
// it.
func TestShuffleInBackground(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	boxTable(t, st)
	began, release := make(chan time.Time, 10), make(chan struct{})
	var ended []time.Time
	st.OnBallotChange(func(ctx context.Context) error {
		began <- time.Now()
		<-release
		_, err := st.DB.Exec(ctx, "INSERT INTO box VALUES (1)")
		ended = append(ended, time.Now())
		return err
	})
	changed := make(chan time.Time)
	go func() {
		st.wipeAfter(ctx, false)
		changed <- time.Now()
	}()
	within(t, "return from the ballot change while the shuffle runs", changed, 10*time.Second)
	first := within(t, "first run", began, 10*time.Second)
	for range 5 {
		st.wipeAfter(ctx, false) // while the first run is under way
	}
	time.Sleep(100 * time.Millisecond)
	release <- struct{}{}
	second := within(t, "second run", began, 10*time.Second)
	if rest, took := second.Sub(ended[0]), ended[0].Sub(first); rest < took {
		t.Errorf("the second run began %s after the first, which took %s", rest, took)
	}
	closed := make(chan error)
	go func() { closed <- st.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a shuffle ran", err)
	case <-time.After(50 * time.Millisecond):
	}
	release <- struct{}{}
	if err := within(t, "return from Close", closed, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if len(ended) != 2 {
		t.Errorf("%d runs for six changes, five of them during the first run; want 2", len(ended))
	}
}

// TestShuffleCheckpointed: what the shufflers write leaves no page in the
// WAL once they are done (the order voters came in, as the crypto store
// had it before the rewrite).
func TestShuffleCheckpointed(t *testing.T) {
	ctx := context.Background()
	st, path := openAt(t)
	boxTable(t, st)
	st.OnBallotChange(func(ctx context.Context) error {
		_, err := st.DB.Exec(ctx, "INSERT INTO box VALUES (1)")
		return err
	})
	st.wipeAfter(ctx, false)
	st.waitShuffled()
	if info, err := os.Stat(path + "-wal"); err != nil || info.Size() != 0 {
		t.Errorf("WAL after the shuffle: %v, %v", info, err)
	}
}

// TestCompactForgoesShuffles: a compaction (a secret ballot closing) waits
// for the shuffle under way, not for shuffles to stop: ballots of another
// motion may keep asking for them.
func TestCompactForgoesShuffles(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	running := make(chan struct{}, 1)
	st.OnBallotChange(func(context.Context) error {
		select {
		case running <- struct{}{}:
		default:
		}
		time.Sleep(20 * time.Millisecond)
		return nil
	})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				st.wipeAfter(ctx, false)
				time.Sleep(5 * time.Millisecond)
			}
		}
	}()
	<-running
	compacted := make(chan error)
	go func() { compacted <- st.Compact(ctx) }()
	if err := within(t, "end of the compaction: it waited for ballots to stop", compacted, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestCompactWaitsForShuffle: a compaction waits for the shuffle under
// way (they would rewrite the same tables at once) and runs after it.
func TestCompactWaitsForShuffle(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	began, release := make(chan struct{}), make(chan struct{})
	done := sync.OnceFunc(func() { close(release) })
	t.Cleanup(done) // before Close, which waits for the shuffle
	st.OnBallotChange(func(context.Context) error {
		close(began)
		<-release
		return nil
	})
	st.wipeAfter(ctx, false)
	within(t, "shuffle", began, 10*time.Second)
	compacted := make(chan error, 1)
	go func() { compacted <- st.Compact(ctx) }()
	select {
	case err := <-compacted:
		t.Fatalf("the compaction ended (%v) while a shuffle ran", err)
	case <-time.After(time.Second):
	}
	done()
	if err := within(t, "end of the compaction after the shuffle", compacted, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestShufflersAllRun: every function registered with OnBallotChange runs
// in a shuffle, not the first alone.
func TestShufflersAllRun(t *testing.T) {
	st := open(t)
	var ran [2]atomic.Bool
	for i := range ran {
		st.OnBallotChange(func(context.Context) error {
			ran[i].Store(true)
			return nil
		})
	}
	st.wipeAfter(context.Background(), false)
	st.waitShuffled()
	for i := range ran {
		if !ran[i].Load() {
			t.Errorf("shuffler %d of 2 did not run", i+1)
		}
	}
}

// within receives from c, failing t if nothing comes within wait.
func within[T any](t *testing.T, what string, c <-chan T, wait time.Duration) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(wait):
		t.Fatalf("no %s within %s", what, wait)
	}
	var none T
	return none
}

// TestCheckpointLetsWritersIn: a checkpoint that waits for a reader (an
// export, a long query) lets writers commit meanwhile. It held the write
// lock while it waited, and a writer that waited as long was refused
// ("database is locked").
func TestCheckpointLetsWritersIn(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	reader := holdBack(t, st)
	checkpointed := make(chan error, 1)
	asked := st.checkpointsAsked.Load()
	go func() { checkpointed <- st.Checkpoint(ctx) }()
	for st.checkpointsAsked.Load() == asked {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the checkpoint waits for the reader
	writer, err := st.DB.RawDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	if _, err := writer.ExecContext(ctx, "PRAGMA busy_timeout=1000"); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.ExecContext(ctx, "INSERT INTO box VALUES (2)"); err != nil {
		t.Errorf("a write while a checkpoint waited for a reader: %v", err)
	}
	if _, err := writer.ExecContext(ctx, "PRAGMA busy_timeout=10000"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-checkpointed:
		t.Fatalf("the checkpoint ended (%v) while a reader held an older state", err)
	default:
	}
	if _, err := reader.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if err := <-checkpointed; err != nil {
		t.Errorf("the checkpoint after the reader ended: %v", err)
	}
}
