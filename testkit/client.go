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
	"sync/atomic"
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
	// Member is the device: whether it is cross-signed, the account's
	// recovery key.
	Member *member.Client
	t      testing.TB
	crypto *cryptohelper.CryptoHelper
	acct   member.Account

	mu     sync.Mutex
	cond   *sync.Cond
	events []*event.Event
	// undecryptable are the encrypted events the device could not decrypt.
	undecryptable []*event.Event
	// sessions are the megolm sessions of the encrypted events seen.
	sessions map[id.EventID]id.SessionID
	seen     map[id.EventID]bool // the events recorded, by ID
	// HoldInvites, once set, leaves new invites for the test to accept
	// (Join), as a member who opens a direct chat only when they need it.
	HoldInvites atomic.Bool
}

// NewClient registers localpart on s, logs in a new device with encryption,
// cross-signed by a new identity of the account (as Element sets up on a
// first sign-in, so that the bot obeys it), and starts syncing until the
// test ends.
func NewClient(t testing.TB, s *sandbox.Server, localpart string) *Client {
	t.Helper()
	return newClient(t, s, localpart, false)
}

// NewUnsignedClient is NewClient for a client without cross-signing: the
// account has no identity and its device is signed by none.
func NewUnsignedClient(t testing.TB, s *sandbox.Server, localpart string) *Client {
	t.Helper()
	return newClient(t, s, localpart, true)
}

func newClient(t testing.TB, s *sandbox.Server, localpart string, unsigned bool) *Client {
	t.Helper()
	user, err := s.Register(context.Background(), localpart, Password, false)
	if err != nil {
		t.Fatalf("register %s: %v", localpart, err)
	}
	dir := t.TempDir()
	return login(t, member.Account{
		Homeserver:      s.URL,
		UserID:          user,
		Password:        Password,
		Store:           filepath.Join(dir, localpart+".db"),
		PickleKey:       []byte("test pickle key"),
		RecoveryKeyFile: filepath.Join(dir, localpart+".recovery-key"),
		Unsigned:        unsigned,
	})
}

// OtherDevice logs in a new device of c's account, as anyone with the
// password can, or a homeserver's admin, who can reset it. No one verified
// the device: it is not cross-signed.
func (c *Client) OtherDevice() *Client {
	c.t.Helper()
	acct := c.acct
	acct.Store = filepath.Join(c.t.TempDir(), "other.db")
	acct.RecoveryKeyFile = ""
	return login(c.t, acct)
}

func login(t testing.TB, acct member.Account) *Client {
	t.Helper()
	m, err := member.Login(context.Background(), acct)
	if err != nil {
		t.Fatalf("crypto init for %s: %v", acct.UserID, err)
	}
	cli := m.Client
	c := &Client{Client: cli, Member: m, t: t, crypto: m.Crypto, acct: acct, sessions: map[id.EventID]id.SessionID{}, seen: map[id.EventID]bool{}}
	c.cond = sync.NewCond(&c.mu)
	m.Crypto.DecryptErrorCallback = func(evt *event.Event, _ error) {
		c.mu.Lock()
		c.undecryptable = append(c.undecryptable, evt)
		c.mu.Unlock()
		c.cond.Broadcast()
	}
	m.Syncer.OnEvent(c.record)
	m.Syncer.OnEventType(event.StateMember, func(ctx context.Context, evt *event.Event) {
		if evt.GetStateKey() == cli.UserID.String() && evt.Content.AsMember().Membership == event.MembershipInvite && !c.HoldInvites.Load() {
			// Across servers, a join can reach the inviting server before
			// its own invite is settled there (Dendrite then refuses it as a
			// join from "leave"): try again for a few seconds.
			for try := 0; ; try++ {
				_, err := cli.JoinRoomByID(ctx, evt.RoomID)
				if err == nil {
					break
				}
				if try == 10 || !errors.Is(err, mautrix.MForbidden) {
					t.Logf("%s: join %s: %v", acct.UserID, evt.RoomID, err)
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
		}
	})
	m.Start()
	t.Cleanup(func() { _ = m.Close() })
	return c
}

func (c *Client) record(_ context.Context, evt *event.Event) {
	if evt.Type == event.EventEncrypted {
		if content, ok := evt.Content.Parsed.(*event.EncryptedEventContent); ok {
			c.mu.Lock()
			c.sessions[evt.ID] = content.SessionID
			c.mu.Unlock()
		}
		return // the decrypted copy is dispatched too
	}
	c.mu.Lock()
	// An event comes a second time when a homeserver restarts and gives
	// it again, or when its key came late: it is still one event.
	if evt.ID == "" || !c.seen[evt.ID] {
		c.seen[evt.ID] = true
		c.events = append(c.events, evt)
	}
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

// SayAt sends a text message (encrypted in an encrypted room) that claims
// to have been sent at: Dendrite takes the `ts` query parameter from any
// client (the spec reserves it for appservices), which is how a federated
// server, an appservice or an admin could date an event as they like.
func (c *Client) SayAt(room id.RoomID, body string, at time.Time) id.EventID {
	c.t.Helper()
	resp, err := c.SendMessageEvent(context.Background(), room, event.EventMessage,
		&event.MessageEventContent{MsgType: event.MsgText, Body: body}, mautrix.ReqSendEvent{Timestamp: at.UnixMilli()})
	if err != nil {
		c.t.Fatalf("send in %s: %v", room, err)
	}
	return resp.EventID
}

// IdentityKey is the device's Curve25519 key, by which the bot's crypto
// store knows the device (its olm sessions, the megolm sessions it sent).
func (c *Client) IdentityKey() string {
	return c.crypto.Machine().OwnIdentity().IdentityKey.String()
}

// SayPlain sends a text message unencrypted, even in an encrypted room, as
// a client without encryption or the homeserver itself could.
func (c *Client) SayPlain(room id.RoomID, body string) id.EventID {
	c.t.Helper()
	resp, err := c.SendMessageEvent(context.Background(), room, event.EventMessage,
		&event.MessageEventContent{MsgType: event.MsgText, Body: body}, mautrix.ReqSendEvent{DontEncrypt: true})
	if err != nil {
		c.t.Fatalf("send in %s: %v", room, err)
	}
	return resp.EventID
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

// SendRelation sends content encrypted, with outer as the relation kept in
// the clear instead of the one mautrix copies there from content (nil: none):
// what an older client sends (its relation only outside the ciphertext), or
// a homeserver that rewrote the clear relation.
func (c *Client) SendRelation(room id.RoomID, evtType event.Type, content any, outer *event.RelatesTo) id.EventID {
	c.t.Helper()
	enc, err := c.crypto.Encrypt(context.Background(), room, evtType, content)
	if err != nil {
		c.t.Fatalf("encrypt: %v", err)
	}
	enc.RelatesTo = outer
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
	return c.waitIn(&c.events, timeout, what, pred)
}

// WaitUndecryptable waits until the device has given up decrypting an
// encrypted event matching pred, and returns it (as it came, encrypted).
func (c *Client) WaitUndecryptable(timeout time.Duration, what string, pred func(*event.Event) bool) *event.Event {
	c.t.Helper()
	return c.waitIn(&c.undecryptable, timeout, what+" (undecryptable)", pred)
}

func (c *Client) waitIn(list *[]*event.Event, timeout time.Duration, what string, pred func(*event.Event) bool) *event.Event {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, c.cond.Broadcast)
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for _, evt := range *list {
			if pred(evt) {
				return evt
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: timed out after %s waiting for %s (%d events seen, %d undecryptable)", c.UserID, timeout, what, len(c.events), len(c.undecryptable))
		}
		c.cond.Wait()
	}
}

// Session returns the megolm session an encrypted event came in ("" if the
// device saw no such event).
func (c *Client) Session(evt id.EventID) id.SessionID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessions[evt]
}

// RoomKey says what the device holds for the megolm session of an
// encrypted event: the key (has), or the sender's notice that it withheld
// the key and why (code), or neither.
func (c *Client) RoomKey(evt *event.Event) (has bool, code event.RoomKeyWithheldCode) {
	c.t.Helper()
	ctx := context.Background()
	content, ok := evt.Content.Parsed.(*event.EncryptedEventContent)
	if !ok {
		c.t.Fatalf("%s is not an encrypted event", evt.ID)
	}
	store := c.crypto.Machine().CryptoStore
	sess, err := store.GetGroupSession(ctx, evt.RoomID, content.SessionID)
	if err == nil && sess != nil {
		return true, ""
	}
	withheld, err := store.GetWithheldGroupSession(ctx, evt.RoomID, content.SessionID)
	if err != nil {
		c.t.Fatalf("read withheld session: %v", err)
	}
	if withheld != nil {
		return false, withheld.Code
	}
	return false, ""
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

// Invited waits for an invite to a room other than except from sender and
// returns the room, left for the test to accept (see HoldInvites).
func (c *Client) Invited(sender id.UserID, except id.RoomID, timeout time.Duration) id.RoomID {
	c.t.Helper()
	return c.WaitFor(timeout, "an invite from "+sender.String(), func(evt *event.Event) bool {
		return evt.RoomID != except && evt.Type == event.StateMember && evt.Sender == sender &&
			evt.GetStateKey() == c.UserID.String() && evt.Content.AsMember().Membership == event.MembershipInvite
	}).RoomID
}

// Join joins room.
func (c *Client) Join(room id.RoomID) {
	c.t.Helper()
	if _, err := c.JoinRoomByID(context.Background(), room); err != nil {
		c.t.Fatalf("join %s: %v", room, err)
	}
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
