// Package testkit gives integration tests the other side of the
// conversation: real end-to-end encrypted Matrix clients (mautrix devices
// with their own crypto stores) on a sandbox homeserver, and a Quorum bot
// run in-process that tests can stop, restart and inspect.
package testkit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/attachment"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/member"
	"quorum/sandbox"
)

// Password is every test user's password.
const Password = "test password 1234"

// Client is a member's encrypted client. It records every event it sees,
// decrypted where it could be, and joins rooms it is invited to.
type Client struct {
	*mautrix.Client
	t      testing.TB
	crypto *cryptohelper.CryptoHelper

	mu            sync.Mutex
	cond          *sync.Cond
	events        []*event.Event
	undecryptable int
}

// NewClient registers localpart on s, logs in a new device with encryption
// and starts syncing until the test ends.
func NewClient(t testing.TB, s *sandbox.Server, localpart string) *Client {
	t.Helper()
	ctx := context.Background()
	user, err := s.Register(ctx, localpart, Password, false)
	if err != nil {
		t.Fatalf("register %s: %v", localpart, err)
	}
	m, err := member.Login(ctx, member.Account{
		Homeserver: s.URL,
		UserID:     user,
		Password:   Password,
		Store:      filepath.Join(t.TempDir(), localpart+".db"),
		PickleKey:  []byte("test pickle key"),
	})
	if err != nil {
		t.Fatalf("crypto init for %s: %v", localpart, err)
	}
	cli := m.Client
	c := &Client{Client: cli, t: t, crypto: m.Crypto}
	c.cond = sync.NewCond(&c.mu)
	m.Crypto.DecryptErrorCallback = func(*event.Event, error) {
		c.mu.Lock()
		c.undecryptable++
		c.mu.Unlock()
	}
	m.Syncer.OnEvent(c.record)
	m.Syncer.OnEventType(event.StateMember, func(ctx context.Context, evt *event.Event) {
		if evt.GetStateKey() == cli.UserID.String() && evt.Content.AsMember().Membership == event.MembershipInvite {
			if _, err := cli.JoinRoomByID(ctx, evt.RoomID); err != nil {
				t.Logf("%s: join %s: %v", localpart, evt.RoomID, err)
			}
		}
	})
	m.Start()
	t.Cleanup(func() { _ = m.Close() })
	return c
}

func (c *Client) record(_ context.Context, evt *event.Event) {
	if evt.Type == event.EventEncrypted {
		return // the decrypted copy is dispatched too
	}
	c.mu.Lock()
	c.events = append(c.events, evt)
	c.mu.Unlock()
	c.cond.Broadcast()
}

// CreateRoom creates an encrypted room (unless plain) and invites users.
func (c *Client) CreateRoom(plain bool, invite ...id.UserID) id.RoomID {
	c.t.Helper()
	req := &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: invite}
	if !plain {
		req.InitialState = []*event.Event{{
			Type:    event.StateEncryption,
			Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}},
		}}
	}
	resp, err := c.Client.CreateRoom(context.Background(), req)
	if err != nil {
		c.t.Fatalf("create room: %v", err)
	}
	return resp.RoomID
}

// Invite invites user to room.
func (c *Client) Invite(room id.RoomID, user id.UserID) {
	c.t.Helper()
	if _, err := c.InviteUser(context.Background(), room, &mautrix.ReqInviteUser{UserID: user}); err != nil {
		c.t.Fatalf("invite %s: %v", user, err)
	}
}

// Say sends a text message (encrypted in an encrypted room).
func (c *Client) Say(room id.RoomID, body string) id.EventID {
	c.t.Helper()
	return c.send(room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body})
}

// SendContent sends arbitrary content, for hostile-input tests.
func (c *Client) SendContent(room id.RoomID, evtType event.Type, content any) id.EventID {
	c.t.Helper()
	return c.send(room, evtType, content)
}

func (c *Client) send(room id.RoomID, evtType event.Type, content any) id.EventID {
	c.t.Helper()
	resp, err := c.SendMessageEvent(context.Background(), room, evtType, content)
	if err != nil {
		c.t.Fatalf("send in %s: %v", room, err)
	}
	return resp.EventID
}

// React annotates target with key. mautrix never encrypts reactions; with
// encrypted set, the reaction is encrypted by hand, as Element does.
func (c *Client) React(room id.RoomID, target id.EventID, key string, encrypted bool) id.EventID {
	c.t.Helper()
	content := &event.ReactionEventContent{RelatesTo: event.RelatesTo{Type: event.RelAnnotation, EventID: target, Key: key}}
	if !encrypted {
		return c.send(room, event.EventReaction, content)
	}
	enc, err := c.crypto.Encrypt(context.Background(), room, event.EventReaction, content)
	if err != nil {
		c.t.Fatalf("encrypt reaction: %v", err)
	}
	return c.send(room, event.EventEncrypted, enc)
}

// SayKeyLater sends body encrypted with a new megolm session whose key goes
// to no one yet, as when a client's room key reaches the homeserver after
// its message. The returned function sends the key, at the message's index,
// to a device, olm-encrypted like any room key.
func (c *Client) SayKeyLater(room id.RoomID, body string) (id.EventID, func(user id.UserID, device id.DeviceID)) {
	c.t.Helper()
	ctx := context.Background()
	mach := c.crypto.Machine()
	if err := mach.CryptoStore.RemoveOutboundGroupSession(ctx, room); err != nil {
		c.t.Fatalf("drop outbound session: %v", err)
	}
	// The new session is shared with the sender's own devices only.
	if err := mach.ShareGroupSession(ctx, room, []id.UserID{c.UserID}); err != nil {
		c.t.Fatalf("new session: %v", err)
	}
	sess, err := mach.CryptoStore.GetOutboundGroupSession(ctx, room)
	if err != nil || sess == nil {
		c.t.Fatalf("read outbound session: %v", err)
	}
	key, sessionID := sess.Internal.Key(), sess.ID() // before the message: index 0
	enc, err := mach.EncryptMegolmEvent(ctx, room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: body})
	if err != nil {
		c.t.Fatalf("encrypt: %v", err)
	}
	evt := c.send(room, event.EventEncrypted, enc)
	return evt, func(user id.UserID, device id.DeviceID) {
		c.t.Helper()
		dev, err := mach.GetOrFetchDevice(ctx, user, device)
		if err != nil {
			c.t.Fatalf("device %s of %s: %v", device, user, err)
		}
		content := &event.RoomKeyEventContent{Algorithm: id.AlgorithmMegolmV1, RoomID: room, SessionID: sessionID, SessionKey: key}
		if err := mach.SendEncryptedToDevice(ctx, dev, event.ToDeviceRoomKey, event.Content{Parsed: content}); err != nil {
			c.t.Fatalf("send room key: %v", err)
		}
	}
}

// Redact redacts an event of the client's own.
func (c *Client) Redact(room id.RoomID, target id.EventID) id.EventID {
	c.t.Helper()
	resp, err := c.RedactEvent(context.Background(), room, target)
	if err != nil {
		c.t.Fatalf("redact: %v", err)
	}
	return resp.EventID
}

// Events returns a copy of what the client has seen so far.
func (c *Client) Events() []*event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*event.Event(nil), c.events...)
}

// WaitFor waits until an event matching pred has been seen and returns the
// first one; it fails the test after timeout.
func (c *Client) WaitFor(timeout time.Duration, what string, pred func(*event.Event) bool) *event.Event {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, c.cond.Broadcast)
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for _, evt := range c.events {
			if pred(evt) {
				return evt
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: timed out after %s waiting for %s (%d events seen, %d undecryptable)", c.UserID, timeout, what, len(c.events), c.undecryptable)
		}
		c.cond.Wait()
	}
}

// Notices returns the bot's notices in room whose body contains substr.
func (c *Client) Notices(room id.RoomID, from id.UserID, substr string) []*event.Event {
	var out []*event.Event
	for _, evt := range c.Events() {
		if IsNotice(evt, room, from, substr) {
			out = append(out, evt)
		}
	}
	return out
}

// IsNotice says whether evt is an m.notice from sender in room whose body
// contains substr (edits excluded).
func IsNotice(evt *event.Event, room id.RoomID, sender id.UserID, substr string) bool {
	if evt.Type != event.EventMessage || evt.RoomID != room || evt.Sender != sender {
		return false
	}
	m := evt.Content.AsMessage()
	return m.MsgType == event.MsgNotice && m.RelatesTo.GetReplaceID() == "" && strings.Contains(m.Body, substr)
}

// IsReply says whether evt is a message in room that replies to the event to.
func IsReply(evt *event.Event, room id.RoomID, to id.EventID) bool {
	return evt.Type == event.EventMessage && evt.RoomID == room && evt.Content.AsMessage().RelatesTo.GetNonFallbackReplyTo() == to
}

// Replies returns the replies to the event to seen so far in room.
func (c *Client) Replies(room id.RoomID, to id.EventID) []*event.Event {
	var out []*event.Event
	for _, evt := range c.Events() {
		if IsReply(evt, room, to) {
			out = append(out, evt)
		}
	}
	return out
}

// WaitReply waits for the bot's reply to the event to.
func (c *Client) WaitReply(room id.RoomID, to id.EventID, timeout time.Duration) *event.Event {
	c.t.Helper()
	return c.WaitFor(timeout, "reply to "+to.String(), func(evt *event.Event) bool {
		return IsReply(evt, room, to)
	})
}

// Ask sends body and returns the decrypted reply.
func (c *Client) Ask(room id.RoomID, body string) *event.Event {
	c.t.Helper()
	return c.WaitReply(room, c.Say(room, body), 30*time.Second)
}

// WaitJoined waits until user is joined to room in the client's view.
func (c *Client) WaitJoined(room id.RoomID, user id.UserID, timeout time.Duration) {
	c.t.Helper()
	c.WaitFor(timeout, user.String()+" joining "+room.String(), func(evt *event.Event) bool {
		return evt.RoomID == room && evt.Type == event.StateMember && evt.GetStateKey() == user.String() &&
			evt.Content.AsMember().Membership == event.MembershipJoin
	})
}

// Download fetches and decrypts an encrypted attachment.
func (c *Client) Download(evt *event.Event) ([]byte, error) {
	content := evt.Content.AsMessage()
	if content.File == nil {
		return nil, errors.New("not an encrypted attachment")
	}
	uri, err := content.File.URL.Parse()
	if err != nil {
		return nil, err
	}
	data, err := c.DownloadBytes(context.Background(), uri)
	if err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	file := attachment.EncryptedFile(content.File.EncryptedFile)
	if err := file.DecryptInPlace(data); err != nil {
		return nil, err
	}
	return data, nil
}

// DeviceIDs lists user's devices as the homeserver knows them.
func (c *Client) DeviceIDs(user id.UserID) []id.DeviceID {
	c.t.Helper()
	resp, err := c.QueryKeys(context.Background(), &mautrix.ReqQueryKeys{DeviceKeys: map[id.UserID]mautrix.DeviceIDList{user: {}}})
	if err != nil {
		c.t.Fatal(err)
	}
	var out []id.DeviceID
	for dev := range resp.DeviceKeys[user] {
		out = append(out, dev)
	}
	return out
}
