// Package store keeps all of Quorum's state in one SQLite file (modernc.org/sqlite,
// pure Go), beside mautrix's crypto and state stores in the same file.
//
// Schema history is a list of numbered files in upgrades/, run by dbutil's
// upgrade table under the version table "quorum_version". Every method takes a
// context first; inside Store.Tx the context carries the transaction, so the
// rules in package commands can make several changes atomically without
// knowing any SQL.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed upgrades/*.sql
var upgrades embed.FS

var upgradeTable = dbutil.BuildUpgradeTable().WithFSPath(upgrades, "upgrades").Finish()

// Store is the bot's state. Its methods named after tables (Outbox, Rooms, ...)
// group the queries, so that call sites read as st.Outbox().Add(ctx, ...).
type Store struct {
	// DB is the shared database; the crypto helper builds its own stores on it.
	DB *dbutil.Database
	// ID is a random value fixed when the database was created. It makes
	// transaction IDs of outgoing events unique per installation and stable
	// across restarts, so that the homeserver drops a resend after a crash.
	ID string

	hot  *prepared
	seal *sealer
	// unkept seals queued messages that must not outlive this run of the
	// bot (Outgoing.Fallback); its key is in memory only.
	unkept *sealer

	// Checkpoints take turns; one that succeeded covers every call made
	// before it began (see Checkpoint).
	checkpointMu     sync.Mutex
	checkpointsAsked atomic.Uint64
	checkpointed     uint64 // checkpointsAsked when the last successful one began

	compactMu sync.Mutex
	scrubbers []func(ctx context.Context) error
	shufflers []func(ctx context.Context) error

	// The shufflers run in the background, one run at a time; a run covers
	// every ballot change committed before it began (see shuffleSoon).
	shuffleMu      sync.Mutex
	shuffleWanted  bool       // a change came since the last run began
	shuffleRunning bool       // the goroutine of shuffle
	shuffleBegun   int        // runs begun
	shuffleDone    int        // runs done
	shuffleIdle    *sync.Cond // broadcast when a run ends, and when the goroutine does

	// Log, when set, hears of failed checkpoints and compactions after a
	// commit (the commit itself succeeded).
	Log *zerolog.Logger
}

// busyTimeout is how long a connection waits for another's lock.
const busyTimeout = 10 * time.Second

// DSN is the modernc connection string with the pragmas mautrix's stores
// expect (foreign keys, WAL, a busy timeout) and immediate transactions, so
// that two writers never deadlock on a lock upgrade.
func DSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	// Deleted rows (a sent receipt, a closed ballot's box) are overwritten,
	// not left in free pages for whoever copies the file. That covers the
	// main file; the WAL keeps old page images until a checkpoint, which is
	// why Store checkpoints with TRUNCATE when a ballot changes or closes and
	// when it opens and closes, and why the WAL is cut back to nothing
	// whenever it restarts (journal_size_limit 0).
	q.Add("_pragma", "secure_delete(1)")
	q.Add("_pragma", "journal_size_limit(0)")
	// VACUUM's temporary copy of the database stays in memory, not in a
	// deleted file on disk.
	q.Add("_pragma", "temp_store(2)")
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode() // a path may contain ? and #
}

// Open opens (creating with mode 0600 if needed) and upgrades the database.
func Open(ctx context.Context, path string) (*Store, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	_ = f.Close()
	// An existing file keeps its mode; make sure it is private anyway.
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	raw, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db, err := dbutil.NewWithDB(raw, "sqlite")
	if err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	s := &Store{DB: db, hot: &prepared{db: db}, seal: &sealer{path: SealKeyPath(path)}, unkept: newUnkeptSealer()}
	s.shuffleIdle = sync.NewCond(&s.shuffleMu)
	if err := s.upgrade(ctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	if err := s.loadID(ctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	compact, err := s.sealLegacy(ctx)
	if err != nil {
		_ = raw.Close()
		return nil, err
	}
	// A WAL left by a crash holds the page images of the last transactions
	// (an open ballot's last changes among them): fold it in and empty it.
	if compact {
		err = s.Compact(ctx)
	} else {
		err = s.Checkpoint(ctx)
	}
	if err != nil && !errors.Is(err, errCheckpointBusy) { // another reader (an export): done at the next change

		_ = raw.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) upgrade(ctx context.Context) error {
	own := s.DB.Child("quorum_version", upgradeTable, nil)
	if err := own.Upgrade(ctx); err != nil {
		return fmt.Errorf("upgrade database: %w", err)
	}
	return nil
}

func (s *Store) loadID(ctx context.Context) error {
	id, err := s.Meta().Get(ctx, "id")
	if err == nil && id == "" {
		buf := make([]byte, 8)
		_, _ = rand.Read(buf)
		id = hex.EncodeToString(buf)
		err = s.Meta().Set(ctx, "id", id)
	}
	s.ID = id
	return err
}

// Close empties the WAL into the database and closes it; SQLite then
// removes the -wal and -shm files.
func (s *Store) Close() error {
	s.waitShuffled()
	s.hot.close()
	err := s.Checkpoint(context.Background())
	return errors.Join(err, s.DB.Close())
}

// Tx runs fn in one immediate transaction: all of its changes happen, or none.
// Nested calls join the outer transaction. What fn asked to be done once it
// is committed (a checkpoint, a compaction: see afterCommit) is done before
// Tx returns; failing that is logged, not returned, since the transaction
// itself was committed.
func (s *Store) Tx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, nested := ctx.Value(afterCommitKey{}).(*afterCommit); nested {
		return s.DB.DoTxn(ctx, nil, fn)
	}
	after := &afterCommit{}
	if err := s.DB.DoTxn(context.WithValue(ctx, afterCommitKey{}, after), nil, fn); err != nil {
		return err
	}
	s.settle(ctx, after)
	return nil
}

// afterCommit is what a transaction asked to be done once committed.
type afterCommit struct {
	checkpoint, compact bool
}

type afterCommitKey struct{}

// errCheckpointBusy is a checkpoint that could not finish because another
// connection was reading an older state.
var errCheckpointBusy = errors.New("checkpoint incomplete")

// wipeAfter asks for the WAL to be emptied once the transaction of ctx is
// committed (at once outside a transaction), or with compact for the whole
// database to be rewritten first: see Checkpoint and Compact.
func (s *Store) wipeAfter(ctx context.Context, compact bool) {
	if after, ok := ctx.Value(afterCommitKey{}).(*afterCommit); ok {
		after.checkpoint = true
		after.compact = after.compact || compact
		return
	}
	s.settle(ctx, &afterCommit{checkpoint: true, compact: compact})
}

func (s *Store) settle(ctx context.Context, after *afterCommit) {
	var err error
	switch {
	case after.compact:
		err = s.Compact(ctx)
	case after.checkpoint:
		err = s.Checkpoint(ctx)
		s.shuffleSoon()
	default:
		return
	}
	s.logWipe(err)
}

func (s *Store) logWipe(err error) {
	if err != nil && s.Log != nil {
		s.Log.Warn().Err(err).Msg("Could not empty the database's WAL; it is tried again at the next ballot change, close or stop")
	}
}

// shuffleSoon runs the functions of OnBallotChange and empties the WAL
// again, in the background: the WAL was emptied of the ballot box's last
// version already, and what they rewrite (every session of the crypto
// store: 0.06–0.15 s a ballot with a thousand members,
// BenchmarkBallotChange) held up the next ballot when they ran in line, a
// thousand ballots in a row taking minutes. One run at a time; changes committed while one runs
// are covered by the next, which begins as long after it ended as it took.
// The price: a copy of the files taken in between shows in which order
// the ballots since the last run came (one, unless several came within
// that time).
func (s *Store) shuffleSoon() {
	s.compactMu.Lock()
	none := len(s.shufflers) == 0
	s.compactMu.Unlock()
	if none {
		return
	}
	s.shuffleMu.Lock()
	defer s.shuffleMu.Unlock()
	s.shuffleWanted = true
	if !s.shuffleRunning {
		s.shuffleRunning = true
		go s.shuffle()
	}
}

func (s *Store) shuffle() {
	ctx := context.Background()
	for rest := time.Duration(0); s.nextShuffle(false); {
		// A run holds the write lock most of the time it takes; as long
		// again without one lets the ballots that wait for it in.
		time.Sleep(rest)
		if !s.nextShuffle(true) {
			return
		}
		began := time.Now()
		s.compactMu.Lock()
		shufflers := s.shufflers
		s.compactMu.Unlock()
		var err error
		for _, fn := range shufflers {
			if err = fn(ctx); err != nil {
				break
			}
		}
		s.logWipe(errors.Join(err, s.Checkpoint(ctx)))
		rest = time.Since(began)
		s.shuffleMu.Lock()
		s.shuffleDone++
		s.shuffleIdle.Broadcast()
		s.shuffleMu.Unlock()
	}
}

// nextShuffle ends the goroutine of shuffle, reporting false, unless a run
// is wanted; with begin, that run begins (it covers every change so far).
func (s *Store) nextShuffle(begin bool) bool {
	s.shuffleMu.Lock()
	defer s.shuffleMu.Unlock()
	if !s.shuffleWanted {
		s.shuffleRunning = false
		s.shuffleIdle.Broadcast()
		return false
	}
	if begin {
		s.shuffleWanted = false
		s.shuffleBegun++
	}
	return true
}

// waitShuffled waits until no run is under way or wanted.
func (s *Store) waitShuffled() {
	s.shuffleMu.Lock()
	defer s.shuffleMu.Unlock()
	for s.shuffleRunning {
		s.shuffleIdle.Wait()
	}
}

// forgoShuffles drops the run wanted, if any, and waits for the one under
// way: a compaction does what it would (the bot registers the same work
// with OnCompact, and VACUUM rewrites every table in the order of its
// keys). Waiting for runs to stop altogether could take as long as ballots
// keep coming in another motion.
func (s *Store) forgoShuffles() {
	s.shuffleMu.Lock()
	defer s.shuffleMu.Unlock()
	s.shuffleWanted = false
	for s.shuffleDone < s.shuffleBegun {
		s.shuffleIdle.Wait()
	}
}

// Checkpoint copies every page of the WAL into the database file and
// truncates the WAL to nothing, so that no old version of a page (an
// earlier state of a ballot box, a deleted message) is left in it.
//
// Callers have committed what the checkpoint is for. SQLite runs one
// checkpoint at a time and answers a second at once, busy timeout or not,
// as busy with no frames counted: ballot changes committed together (a
// thousand votes in minutes; eight writers at once in
// TestConcurrentCheckpoints) saw a quarter of theirs refused. So they take
// turns, and a call already covered by a checkpoint that began after it
// (after its commit) and succeeded is done without running another: each
// holds the database's write lock, and a thousand in a row kept writers
// waiting. One that still meets a checkpoint (SQLite's own, after a large
// commit) tries again (see checkpoint).
func (s *Store) Checkpoint(ctx context.Context) error {
	asked := s.checkpointsAsked.Add(1)
	s.checkpointMu.Lock()
	defer s.checkpointMu.Unlock()
	if s.checkpointed >= asked {
		return nil
	}
	begun := s.checkpointsAsked.Load()
	err := s.checkpoint(ctx)
	if err == nil {
		s.checkpointed = begun
	}
	return err
}

// checkpoint runs one TRUNCATE checkpoint, trying again for busyTimeout
// while a writer holds the write lock, readers an older state of the
// database, or another checkpoint runs. A TRUNCATE checkpoint holds the
// write lock while it waits for readers: with the connections' busy
// timeout it held it for up to 10 s, and a writer waiting as long was
// refused, "database is locked" (twice in a secret ballot of 1,000). So
// each try waits for nothing, and writers get their turn in between.
func (s *Store) checkpoint(ctx context.Context) error {
	conn, err := s.DB.RawDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer conn.Close()
	// The connection goes back to the pool with the usual timeout, or not
	// at all: with none, each of its writers would be refused at once. The
	// pragmas run whatever ctx says (modernc can report a cancelled
	// context for a statement that took effect).
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA busy_timeout=%d", busyTimeout.Milliseconds())); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA busy_timeout=0"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	for deadline := time.Now().Add(busyTimeout); ; time.Sleep(20 * time.Millisecond) {
		var busy, frames, done int
		if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done); err != nil {
			return fmt.Errorf("checkpoint: %w", err) // a stop ends it here
		}
		switch {
		case busy == 0:
			return nil
		case time.Now().Before(deadline):
		case frames >= 0:
			return fmt.Errorf("%w: readers or writers kept %d of %d WAL frames", errCheckpointBusy, frames-done, frames)
		default:
			return fmt.Errorf("%w: another checkpoint was running", errCheckpointBusy)
		}
	}
}

// Compact rewrites the whole database in the order of its keys (VACUUM)
// and then checkpoints: the physical order of rows and pages then tells
// nothing of the order they were written in, and free pages are gone.
// Every function registered with OnCompact runs first.
func (s *Store) Compact(ctx context.Context) error {
	// A run under way would rewrite and checkpoint beside the VACUUM (SQLite
	// takes them in turn; one begun later does, harmlessly).
	s.forgoShuffles()
	s.compactMu.Lock()
	scrubbers := s.scrubbers
	s.compactMu.Unlock()
	for _, scrub := range scrubbers {
		if err := scrub(ctx); err != nil {
			return fmt.Errorf("before compacting: %w", err)
		}
	}
	if _, err := s.DB.Exec(ctx, "VACUUM"); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	return s.Checkpoint(ctx)
}

// OnBallotChange registers fn to run after every change of an open secret
// ballot (soon after: see shuffleSoon), followed by a checkpoint: to
// rewrite what others keep in the same database in an order that tells
// nothing (the crypto store's sessions, which gain a row as each voter's
// ballot and receipt pass), so that a copy taken while the ballot is open
// (the files a kill -9 or a power cut leaves) does not list voters in the
// order they voted.
func (s *Store) OnBallotChange(fn func(ctx context.Context) error) {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	s.shufflers = append(s.shufflers, fn)
}

// OnCompact registers fn to run before every compaction, to delete what
// others keep in the same database and should not outlive a ballot (the
// crypto store's record of message indexes).
func (s *Store) OnCompact(fn func(ctx context.Context) error) {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	s.scrubbers = append(s.scrubbers, fn)
}
