package bot

import (
	"context"
	"errors"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/store"
)

// syncStore keeps the sync token in the bot's database, but only once the
// response it came with has been processed. mautrix saves the token before
// processing (to skip poison events); Quorum instead makes every handler
// safe to replay, and must never skip an event because of a crash.
type syncStore struct {
	st      *store.Store
	mu      sync.Mutex
	pending string
}

var _ mautrix.SyncStore = (*syncStore)(nil)

func (s *syncStore) SaveFilterID(ctx context.Context, _ id.UserID, filterID string) error {
	return s.st.Meta().Set(ctx, "sync_filter_id", filterID)
}

func (s *syncStore) LoadFilterID(ctx context.Context, _ id.UserID) (string, error) {
	return s.st.Meta().Get(ctx, "sync_filter_id")
}

func (s *syncStore) SaveNextBatch(_ context.Context, _ id.UserID, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = token
	return nil
}

func (s *syncStore) LoadNextBatch(ctx context.Context, _ id.UserID) (string, error) {
	return s.st.Meta().Get(ctx, "sync_next_batch")
}

// commit saves the token of the response just processed.
func (s *syncStore) commit(ctx context.Context) error {
	s.mu.Lock()
	token := s.pending
	s.mu.Unlock()
	if token == "" {
		return nil
	}
	return s.st.Meta().Set(ctx, "sync_next_batch", token)
}

// syncer is mautrix's DefaultSyncer plus: a timeline filter large enough to
// rarely leave gaps, catch-up of the gaps there are, the token committed
// after processing, and exponential backoff on failures.
type syncer struct {
	*mautrix.DefaultSyncer
	b        *Bot
	failures int
	storage  storageState // failed database writes (storage.go)
	// retried is set once the events awaiting their key were looked at
	// again, after the first sync of this run (latekeys.go).
	retried bool
}

func newSyncer(b *Bot) *syncer {
	s := &syncer{DefaultSyncer: mautrix.NewDefaultSyncer(), b: b}
	s.FilterJSON = &mautrix.Filter{
		Room: &mautrix.RoomFilter{
			Timeline: &mautrix.FilterPart{Limit: 100},
		},
		Presence: &mautrix.FilterPart{NotTypes: []event.Type{event.EphemeralEventPresence}},
	}
	return s
}

func (s *syncer) ProcessResponse(ctx context.Context, res *mautrix.RespSync, since string) error {
	if err := s.DefaultSyncer.ProcessResponse(ctx, res, since); err != nil {
		return err
	}
	if !s.retried {
		s.retried = true
		s.b.retryAwaitingKeys(ctx)
	}
	if err := s.storage.takeFailure(); err != nil {
		return err // the token is not saved: the events come again (storage.go)
	}
	s.b.recordSyncPositions(ctx, res)
	if err := s.commitToken(ctx); err != nil {
		return err
	}
	s.failures = 0
	s.b.syncs.Add(1)
	s.b.markReady()
	return nil
}

func (s *syncer) commitToken(ctx context.Context) error {
	return s.b.cli.Store.(*syncStore).commit(ctx)
}

// OnFailedSync backs off exponentially from 1 s to 30 s, so a restarting
// homeserver is found again quickly but not hammered.
func (s *syncer) OnFailedSync(_ *mautrix.RespSync, err error) (time.Duration, error) {
	if errors.Is(err, mautrix.MUnknownToken) {
		return 0, err
	}
	s.failures++
	wait := min(time.Second<<min(s.failures-1, 5), 30*time.Second)
	s.b.log.Warn().Err(err).Dur("retry_in", wait).Msg("Sync failed")
	return wait, nil
}
