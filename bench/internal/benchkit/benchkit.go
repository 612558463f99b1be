// Package benchkit is what the measurement programs under bench/ share: a
// sandbox homeserver, members (real E2EE devices from package member) that
// record what they see, and the bot's configuration. It depends on neither
// testing nor testkit, so the programs are ordinary binaries a script runs.
package benchkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/bot"
	"quorum/member"
	"quorum/sandbox"
)

// Password is every account's password.
const Password = "bench password 1234"

// Member is an assembly member's device that joins rooms it is invited to,
// records every event it sees (decrypted where it could be), and lets a
// caller wait for the reply to a given event.
type Member struct {
	*member.Client

	mu      sync.Mutex
	events  []*event.Event
	replies map[id.EventID]chan *event.Event
	// OnMessage, if set before Start, is called for every message event
	// (decrypted) from someone else.
	OnMessage func(evt *event.Event)

	// encryptedAt is when the device's sync brought each encrypted event
	// (before it was decrypted); givenUp the events mautrix gave up
	// decrypting (no key within its 3 + 22 s wait), with the error.
	encryptedAt map[id.EventID]time.Time
	givenUp     map[id.EventID]error
}

// EncryptedAt is when the device's sync brought the encrypted event evt
// (zero if it did not, or evt was not encrypted).
func (m *Member) EncryptedAt(evt id.EventID) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.encryptedAt[evt]
}

// GivenUp lists the events the device's crypto gave up decrypting when
// they came (mautrix waits 3 s for a missing room key, asks for it, waits
// 22 s more, and then drops the event). The device decrypts and dispatches
// them all the same if the key comes later, as Element does.
func (m *Member) GivenUp() map[id.EventID]error {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[id.EventID]error, len(m.givenUp))
	for k, v := range m.givenUp {
		out[k] = v
	}
	return out
}

// NewMember registers localpart on s and logs a new device in, with its
// crypto store in dir. Call Start to sync.
func NewMember(ctx context.Context, s *sandbox.Server, dir, localpart string) (*Member, error) {
	user, err := s.Register(ctx, localpart, Password, false)
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", localpart, err)
	}
	acct := member.Account{
		Homeserver: s.URL,
		UserID:     user,
		Password:   Password,
		Store:      filepath.Join(dir, localpart+".db"),
		PickleKey:  []byte("bench pickle key"),
	}
	c, err := member.Login(ctx, acct)
	for try := 2; err != nil && try <= 3; try++ {
		// Dendrite under load has answered a device's key upload with a
		// 500 (once in 1,000 logins): a new device, in a new store, tries
		// again.
		fmt.Fprintf(os.Stderr, "%s: log in again (try %d): %v\n", localpart, try, err)
		acct.Store = filepath.Join(dir, fmt.Sprintf("%s-%d.db", localpart, try))
		time.Sleep(time.Second)
		c, err = member.Login(ctx, acct)
	}
	if err != nil {
		return nil, err
	}
	m := &Member{Client: c, replies: map[id.EventID]chan *event.Event{}, encryptedAt: map[id.EventID]time.Time{}, givenUp: map[id.EventID]error{}}
	// As Element does, an event given up on is decrypted when its key comes
	// after all: it is then shown late, not never.
	late := map[id.SessionID][]*event.Event{}
	c.Crypto.DecryptErrorCallback = func(evt *event.Event, err error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.givenUp[evt.ID] = err
		if errors.Is(err, crypto.ErrNoSessionFound) || errors.Is(err, crypto.ErrGroupSessionWithheld) {
			session := evt.Content.AsEncrypted().SessionID
			late[session] = append(late[session], evt)
		}
	}
	c.Crypto.Machine().SessionReceived = func(ctx context.Context, _ id.RoomID, session id.SessionID, _ uint32) {
		m.mu.Lock()
		list := late[session]
		delete(late, session)
		m.mu.Unlock()
		ctx = context.WithValue(ctx, mautrix.SyncTokenContextKey, "late")
		go func() {
			for _, evt := range list {
				c.Crypto.HandleEncrypted(ctx, evt)
			}
		}()
	}
	// A large timeline limit, so that a burst (hundreds of replies after a
	// catch-up) rarely makes a "limited" sync that skips events.
	c.Syncer.FilterJSON = &mautrix.Filter{Room: &mautrix.RoomFilter{Timeline: &mautrix.FilterPart{Limit: 1000}}}
	c.Syncer.OnEvent(m.record)
	c.Syncer.OnEventType(event.StateMember, func(ctx context.Context, evt *event.Event) {
		if evt.GetStateKey() == c.UserID.String() && evt.Content.AsMember().Membership == event.MembershipInvite {
			_, _ = c.JoinRoomByID(ctx, evt.RoomID)
		}
	})
	return m, nil
}

func (m *Member) record(_ context.Context, evt *event.Event) {
	if evt.Type == event.EventEncrypted {
		m.mu.Lock()
		if _, seen := m.encryptedAt[evt.ID]; !seen {
			m.encryptedAt[evt.ID] = time.Now()
		}
		m.mu.Unlock()
		return // the decrypted copy is dispatched too
	}
	m.mu.Lock()
	m.events = append(m.events, evt)
	var ch chan *event.Event
	if evt.Type == event.EventMessage {
		if to := evt.Content.AsMessage().RelatesTo.GetNonFallbackReplyTo(); to != "" {
			ch = m.replyChan(to)
		}
	}
	m.mu.Unlock()
	if ch != nil {
		select {
		case ch <- evt:
		default: // a second reply: kept in events
		}
	}
	if m.OnMessage != nil && evt.Type == event.EventMessage && evt.Sender != m.UserID {
		m.OnMessage(evt)
	}
}

// replyChan returns the channel for replies to to; m.mu is held.
func (m *Member) replyChan(to id.EventID) chan *event.Event {
	ch, ok := m.replies[to]
	if !ok {
		ch = make(chan *event.Event, 1)
		m.replies[to] = ch
	}
	return ch
}

// WaitReply waits for the first reply to the event to.
func (m *Member) WaitReply(ctx context.Context, to id.EventID, timeout time.Duration) (*event.Event, error) {
	m.mu.Lock()
	ch := m.replyChan(to)
	m.mu.Unlock()
	select {
	case evt := <-ch:
		ch <- evt // leave it for a later look
		return evt, nil
	case <-time.After(timeout):
		return nil, fmt.Errorf("%s: no reply to %s within %s", m.UserID, to, timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Events is a copy of what the member has seen.
func (m *Member) Events() []*event.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*event.Event(nil), m.events...)
}

// Say sends a text message (encrypted in an encrypted room).
func (m *Member) Say(ctx context.Context, room id.RoomID, body string) (id.EventID, error) {
	resp, err := m.SendMessageEvent(ctx, room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body})
	if err != nil {
		return "", err
	}
	return resp.EventID, nil
}

// React annotates target with key, encrypted by hand (as Element does;
// mautrix sends reactions in the clear, and the bot counts only encrypted
// votes from verified sessions).
func (m *Member) React(ctx context.Context, room id.RoomID, target id.EventID, key string) (id.EventID, error) {
	content := &event.ReactionEventContent{RelatesTo: event.RelatesTo{Type: event.RelAnnotation, EventID: target, Key: key}}
	enc, err := m.Crypto.Encrypt(ctx, room, event.EventReaction, content)
	if err != nil {
		return "", fmt.Errorf("encrypt reaction: %w", err)
	}
	resp, err := m.SendMessageEvent(ctx, room, event.EventEncrypted, enc)
	if err != nil {
		return "", err
	}
	return resp.EventID, nil
}

// Answer answers poll with the answer IDs (an MSC3381 poll response),
// encrypted by hand as React does (the voters do not sync, so their client
// does not encrypt by itself).
func (m *Member) Answer(ctx context.Context, room id.RoomID, poll id.EventID, answers ...string) (id.EventID, error) {
	content := &event.PollResponseEventContent{
		RelatesTo: event.RelatesTo{Type: event.RelReference, EventID: poll},
		Response:  event.PollResponse{Answers: answers},
	}
	enc, err := m.Crypto.Encrypt(ctx, room, event.EventUnstablePollResponse, content)
	if err != nil {
		return "", fmt.Errorf("encrypt poll answer: %w", err)
	}
	resp, err := m.SendMessageEvent(ctx, room, event.EventEncrypted, enc)
	if err != nil {
		return "", err
	}
	return resp.EventID, nil
}

// CreateRoom creates an encrypted room and invites users.
func (m *Member) CreateRoom(ctx context.Context, invite ...id.UserID) (id.RoomID, error) {
	resp, err := m.Client.CreateRoom(ctx, &mautrix.ReqCreateRoom{
		Preset: "private_chat",
		Invite: invite,
		InitialState: []*event.Event{{
			Type:    event.StateEncryption,
			Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}},
		}},
	})
	if err != nil {
		return "", fmt.Errorf("create room: %w", err)
	}
	return resp.RoomID, nil
}

// WaitJoined waits until every user has joined room, as the member sees it.
func (m *Member) WaitJoined(ctx context.Context, room id.RoomID, timeout time.Duration, users ...id.UserID) error {
	deadline := time.Now().Add(timeout)
	for {
		joined := map[id.UserID]bool{}
		for _, evt := range m.Events() {
			if evt.RoomID == room && evt.Type == event.StateMember {
				joined[id.UserID(evt.GetStateKey())] = evt.Content.AsMember().Membership == event.MembershipJoin
			}
		}
		all := true
		for _, u := range users {
			all = all && joined[u]
		}
		if all {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not everyone joined %s within %s", m.UserID, room, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// QuickMotions is the bots' configuration in the benchmarks (for
// WriteBotConfig's extra): warnings only, and a motion closes as soon as
// everyone has voted (motions.settle 0s), since the benchmarks measure how
// soon the result follows the last vote.
const QuickMotions = "log_level: warn\nmotions:\n  settle: 0s\n"

// WriteBotConfig registers the bot's account, @quorum, on s and writes its
// configuration (database in dir) to dir/config.yaml; extra (YAML lines,
// such as "log_level: warn\n") is appended.
func WriteBotConfig(ctx context.Context, s *sandbox.Server, dir, extra string) (string, error) {
	return WriteBotConfigAs(ctx, s, dir, "quorum", extra)
}

// WriteBotConfigAs is WriteBotConfig for a bot whose account is localpart,
// for a program that runs several bots (each in its own dir).
func WriteBotConfigAs(ctx context.Context, s *sandbox.Server, dir, localpart, extra string) (string, error) {
	if _, err := s.Register(ctx, localpart, Password, false); err != nil {
		return "", fmt.Errorf("register the bot %s: %w", localpart, err)
	}
	path := filepath.Join(dir, "config.yaml")
	yaml := fmt.Sprintf("homeserver: %q\nuser_id: %q\npassword: %q\ndatabase: %q\nallowed_inviters: [%q]\n%s",
		s.URL, id.NewUserID(localpart, s.ServerName), Password, filepath.Join(dir, "quorum.db"), "*:"+s.ServerName, extra)
	return path, os.WriteFile(path, []byte(yaml), 0o600)
}

// BotID is the bot's user ID on s.
func BotID(s *sandbox.Server) id.UserID { return id.UserID("@quorum:" + s.ServerName) }

// Percentile returns the p-th percentile (0–100) of ds, nearest rank.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(p/100*float64(len(s)) + 0.999999)
	return s[min(max(rank, 1), len(s))-1]
}

// Ms formats d in milliseconds with one decimal.
func Ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// ProcStatus reads a field of /proc/PID/status, such as VmRSS (the
// resident set size) or VmHWM (its peak), as written there ("26512 kB").
func ProcStatus(pid int, field string) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// Machine describes where the numbers were measured.
func Machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				model = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	return model
}

// History returns room's events from the member's current sync position
// back to (not including) the event stop, oldest first, decrypted with the
// member's keys where they were encrypted. Redacted events are returned as
// they are (content stripped, Unsigned.RedactedBecause set). It reads the
// room itself (/messages), so it sees what a limited sync would skip.
func (m *Member) History(ctx context.Context, room id.RoomID, stop id.EventID) ([]*event.Event, error) {
	token, err := m.Store.LoadNextBatch(ctx, m.UserID)
	if err != nil {
		return nil, err
	}
	var evts []*event.Event // newest first
	found := false
	for page := 0; page < 1000 && !found && token != ""; page++ {
		resp, err := m.Messages(ctx, room, token, "", mautrix.DirectionBackward, nil, 100)
		if err != nil {
			return nil, fmt.Errorf("read the room: %w", err)
		}
		if len(resp.Chunk) == 0 {
			break
		}
		for _, evt := range resp.Chunk {
			if evt.ID == stop {
				found = true
				break
			}
			evts = append(evts, evt)
		}
		token = resp.End
	}
	if !found {
		return nil, fmt.Errorf("%s not found in %s", stop, room)
	}
	out := make([]*event.Event, 0, len(evts))
	for i := len(evts) - 1; i >= 0; i-- {
		evt := evts[i]
		bot.ParseFetched(room, evt)
		if evt.Type == event.EventEncrypted && evt.Unsigned.RedactedBecause == nil {
			dec, err := m.Crypto.Decrypt(ctx, evt)
			if err != nil {
				return nil, fmt.Errorf("decrypt %s: %w", evt.ID, err)
			}
			evt = dec
		}
		out = append(out, evt)
	}
	return out, nil
}

// RepliesIn counts, in evts, the messages from sender replying to each event.
func RepliesIn(evts []*event.Event, sender id.UserID) map[id.EventID]int {
	n := map[id.EventID]int{}
	for _, evt := range evts {
		if evt.Type == event.EventMessage && evt.Sender == sender {
			if to := evt.Content.AsMessage().RelatesTo.GetNonFallbackReplyTo(); to != "" {
				n[to]++
			}
		}
	}
	return n
}

// Secs formats d in seconds with two decimals.
func Secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// Verdict prints each problem, or ok if there is none, and returns an
// error if there were problems.
func Verdict(problems []string, ok string) error {
	for _, p := range problems {
		fmt.Println("  PROBLEM:", p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d problems", len(problems))
	}
	fmt.Println("  " + ok)
	return nil
}
