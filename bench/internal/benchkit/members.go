package benchkit

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"quorum/sandbox"
)

// Pool runs fn(0..n-1) on up to workers goroutines and returns the first
// error.
func Pool(n, workers int, fn func(i int) error) error {
	jobs := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := fn(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	return <-errs
}

// NewMembers registers and logs in n member devices named m000, m001, …,
// workers at a time, printing progress on stderr under the name what. On
// an error it closes those it made.
func NewMembers(ctx context.Context, s *sandbox.Server, dir, what string, n, workers int) ([]*Member, error) {
	start := time.Now()
	ms := make([]*Member, n)
	var done atomic.Int32
	err := Pool(n, workers, func(i int) error {
		m, err := NewMember(ctx, s, dir, fmt.Sprintf("m%03d", i))
		if err != nil {
			return err
		}
		ms[i] = m
		if d := done.Add(1); d%50 == 0 || int(d) == n {
			fmt.Fprintf(os.Stderr, "%s: %d/%d devices logged in (%s)\n", what, d, n, time.Since(start).Round(time.Second))
		}
		return nil
	})
	if err != nil {
		CloseMembers(ms)
		return nil, err
	}
	return ms, nil
}

// CloseMembers stops every member's device.
func CloseMembers(ms []*Member) {
	for _, m := range ms {
		if m != nil {
			_ = m.Close()
		}
	}
}

// CPUProfile starts profiling the process's CPU into path ("": nothing)
// and returns what stops it.
func CPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

// JoinAll has host invite each of ms into room, and each join, workers at
// a time, printing progress on stderr under the name what. (One invite
// list at the room's creation is one request, which a loaded homeserver
// does not finish in time for a thousand.)
func JoinAll(ctx context.Context, host *Member, room id.RoomID, ms []*Member, workers int, what string) error {
	var done atomic.Int32
	start := time.Now()
	return Pool(len(ms), workers, func(i int) error {
		m := ms[i]
		if _, err := host.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: m.UserID}); err != nil {
			return fmt.Errorf("invite %s: %w", m.UserID, err)
		}
		if err := join(ctx, m.Client.Client, room); err != nil {
			return fmt.Errorf("%s: join: %w", m.UserID, err)
		}
		if d := done.Add(1); d%100 == 0 || int(d) == len(ms) {
			fmt.Fprintf(os.Stderr, "%s: %d/%d members joined (%s)\n", what, d, len(ms), time.Since(start).Round(time.Second))
		}
		return nil
	})
}

// LightMembers registers and logs in n members u0000, u0001, … without
// device keys (they only join rooms), workers at a time, printing progress
// on stderr under the name what.
func LightMembers(ctx context.Context, s *sandbox.Server, n, workers int, what string) ([]*mautrix.Client, error) {
	clients := make([]*mautrix.Client, n)
	var done atomic.Int32
	start := time.Now()
	err := Pool(n, workers, func(i int) error {
		localpart := fmt.Sprintf("u%04d", i)
		if _, err := s.Register(ctx, localpart, Password, false); err != nil {
			return err
		}
		c, err := mautrix.NewClient(s.URL, "", "")
		if err != nil {
			return err
		}
		if _, err := c.Login(ctx, &mautrix.ReqLogin{
			Type:             mautrix.AuthTypePassword,
			Identifier:       mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: localpart},
			Password:         Password,
			StoreCredentials: true,
		}); err != nil {
			return fmt.Errorf("log %s in: %w", localpart, err)
		}
		clients[i] = c
		if d := done.Add(1); d%100 == 0 || int(d) == n {
			fmt.Fprintf(os.Stderr, "%s: %d/%d members logged in (%s)\n", what, d, n, time.Since(start).Round(time.Second))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return clients, nil
}

// SpreadRoom has host make room r of n, inviting bot and every n-th of
// light from r on, and has each of those join it: the light members spread
// evenly over n rooms.
func SpreadRoom(ctx context.Context, host *Member, bot id.UserID, r, n int, light []*mautrix.Client) (id.RoomID, error) {
	var mine []*mautrix.Client
	invite := []id.UserID{bot}
	for i := r; i < len(light); i += n {
		mine = append(mine, light[i])
		invite = append(invite, light[i].UserID)
	}
	room, err := host.CreateRoom(ctx, invite...)
	if err != nil {
		return "", err
	}
	for _, c := range mine {
		if err := join(ctx, c, room); err != nil {
			return "", fmt.Errorf("%s: join: %w", c.UserID, err)
		}
	}
	return room, nil
}

// join joins room, asking again (a join is idempotent) when the answer
// names no room: Dendrite under a thousand members' load once answered a
// join so, and mautrix then fails to record it.
func join(ctx context.Context, c *mautrix.Client, room id.RoomID) error {
	var err error
	for try := 0; try < 3; try++ {
		if _, err = c.JoinRoomByID(ctx, room); err == nil || !strings.Contains(err.Error(), "room ID is empty") {
			return err
		}
		time.Sleep(2 * time.Second)
	}
	return err
}
