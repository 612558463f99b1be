package bot

import (
	"context"
	"fmt"
	"strings"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
)

// Trust of senders. The homeserver says who sent an event, and whoever runs
// it can make it say anything: send an unencrypted vote in a member's name,
// or sign in as the member with a new session (device) and send encrypted
// ones. What it cannot forge is a session signed by the member's own
// cross-signing identity, which only the member's verified sessions and
// recovery key can sign with. So the bot acts on a command or a vote only if
//   - it was encrypted, whatever require_cross_signing says (in an
//     unencrypted room, allowed only with require_encryption off, there is
//     nothing to check);
//   - with require_cross_signing, it came from a session signed by its
//     owner's identity, the identity the bot saw first for them (trust on
//     first use), as mautrix's trust states give it;
// and it shares its room keys only with such sessions (login.go).
//
// What the bot ignores, it says it ignored, once per member and session
// (once per member for unencrypted events), in reply to the event, so that
// nobody is ignored without knowing why, and a session someone else added
// to a member's account shows in the room. A member's identity that changes
// is announced once in every room the bot shares with them, and the bot
// ignores them until a moderator confirms the new identity with !trust.

// Subjects of the trust notices (store.TrustNotices).
const subjectPlaintext = "plaintext"

func subjectDevice(d id.DeviceID) string  { return "device " + string(d) }
func subjectIdentity(k id.Ed25519) string { return "identity " + string(k) }

// obeys says whether the bot may act on evt as its sender's. If not, it
// says why (once) and returns false.
func (b *Bot) obeys(ctx context.Context, evt *event.Event) (bool, error) {
	if !evt.Mautrix.WasEncrypted {
		enc, err := b.cli.StateStore.IsEncrypted(ctx, evt.RoomID)
		if err != nil || !enc {
			return err == nil, err
		}
		b.log.Info().Stringer("event_id", evt.ID).Stringer("room_id", evt.RoomID).Stringer("sender", evt.Sender).
			Msg("Ignoring an unencrypted event in an encrypted room")
		m := msg.F("I did not act on that: it came unencrypted, and in an encrypted room I only act on what is encrypted, "+
			"since anyone who runs the homeserver could send an unencrypted message or reaction in %s's name. "+
			"Use a client that encrypts reactions (Element does), or vote with `%s`. I say this once.",
			msg.Pill(evt.Sender), b.cmd("vote N yes|no|abstain")) // a command: not for members to read as prose
		return false, b.tellOnce(ctx, evt, subjectPlaintext, m)
	}
	if !b.cfg.RequireCrossSigning || evt.Mautrix.TrustState >= id.TrustStateCrossSignedTOFU {
		return true, nil
	}
	var device id.DeviceID
	if evt.Mautrix.TrustSource != nil {
		device = evt.Mautrix.TrustSource.DeviceID
	}
	b.log.Info().Stringer("event_id", evt.ID).Stringer("room_id", evt.RoomID).Stringer("sender", evt.Sender).
		Stringer("device_id", device).Stringer("trust", evt.Mautrix.TrustState).Msg("Ignoring an event from a session its owner has not verified")
	master, err := b.masterKey(ctx, evt.Sender)
	if err != nil {
		return false, err
	}
	switch {
	case master.Key != "" && master.Key != master.First:
		return false, b.announceIdentity(ctx, evt.Sender, master.Key)
	case master.Key == "":
		m := msg.F("I did not act on that: %s has not set up cross-signing, so I can't tell their sessions from one "+
			"that someone else, such as a homeserver admin, signs in with. In Element: Settings → Security & Privacy → "+
			"set up Secure Backup (or Encryption), which verifies this session; then send it again. I say this once per session.",
			msg.Pill(evt.Sender))
		return false, b.tellOnce(ctx, evt, subjectDevice(device), m)
	default:
		m := msg.F("I did not act on that: it came from a session of %s's that is not verified (%s). If it was you, "+
			"verify this session from another session of yours (Element → Settings → Sessions), or with your recovery key, "+
			"then send it again. If it was not you, someone else is signed in to your account: sign that session out there. "+
			"I say this once per session.", msg.Pill(evt.Sender), sessionName(device))
		return false, b.tellOnce(ctx, evt, subjectDevice(device), m)
	}
}

func sessionName(d id.DeviceID) msg.Text {
	if d == "" {
		return msg.T("a session I could not identify")
	}
	return msg.T("session ID %s", string(d))
}

// lang is the language of what the bot says in room (its members', for a
// direct room), for messages queued outside commands.Effects. A failure
// to read it (a database in trouble) falls back to the default: the
// message matters more than its language.
func (b *Bot) lang(ctx context.Context, room id.RoomID) string {
	lang, err := b.env.Lang(ctx, room)
	if err != nil {
		b.log.Warn().Err(err).Msg("Reading a room's language failed; using the configured one")
		return b.cfg.RoomLanguage(room)
	}
	return lang
}

// userLang is the language of what the bot says to user alone.
func (b *Bot) userLang(ctx context.Context, user id.UserID) string {
	lang, err := b.env.UserLang(ctx, user, "")
	if err != nil {
		b.log.Warn().Err(err).Msg("Reading a member's language failed; using the configured one")
		return b.cfg.RoomLanguage("")
	}
	return lang
}

// cmd renders a command with the first configured prefix.
func (b *Bot) cmd(s string) string { return b.cfg.CommandPrefixes[0] + s }

// tellOnce queues m in reply to evt, mentioning its sender, unless the
// sender was told about subject before.
func (b *Bot) tellOnce(ctx context.Context, evt *event.Event, subject string, m msg.Message) error {
	return b.st.Tx(ctx, func(ctx context.Context) error {
		first, err := b.st.TrustNotices().First(ctx, evt.Sender, subject, b.clock.Now())
		if err != nil || !first {
			return err
		}
		m = m.Localize(b.lang(ctx, evt.RoomID))
		m.ReplyTo = evt.ID
		_, err = b.st.Outbox().Add(ctx, store.Outgoing{Room: evt.RoomID, Kind: commands.KindMessage, Payload: msg.Marshal(m.Mention(evt.Sender))}, b.clock.Now())
		return err
	})
}

// masterKey returns user's cross-signing master key as the bot has it: the
// current one and the one it pinned (First). Both are empty if the user has
// none.
func (b *Bot) masterKey(ctx context.Context, user id.UserID) (id.CrossSigningKey, error) {
	keys, err := b.crypto.Machine().CryptoStore.GetCrossSigningKeys(ctx, user)
	if err != nil {
		return id.CrossSigningKey{}, fmt.Errorf("read cross-signing keys of %s: %w", user, err)
	}
	return keys[id.XSUsageMaster], nil
}

// announceIdentity says, once for each new identity, in every room the bot
// shares with user, that user's identity changed and what to do about it.
func (b *Bot) announceIdentity(ctx context.Context, user id.UserID, key id.Ed25519) error {
	rooms, err := b.crypto.Machine().StateStore.FindSharedRooms(ctx, user)
	if err != nil {
		return fmt.Errorf("find rooms shared with %s: %w", user, err)
	}
	// A sync listener, not an event handler, may call this: wake the
	// sender itself.
	defer b.wake()
	return b.st.Tx(ctx, func(ctx context.Context) error {
		first, err := b.st.TrustNotices().First(ctx, user, subjectIdentity(key), b.clock.Now())
		if err != nil || !first {
			return err
		}
		b.log.Warn().Stringer("user", user).Stringer("master_key", key).Int("rooms", len(rooms)).Msg("A member's cryptographic identity changed; announcing it")
		m := msg.F("⚠️ **%s's cryptographic identity changed** (new master key `%s`). That happens when someone resets it "+
			"(a new phone, a lost recovery key), but also when someone else takes over the account, as a homeserver admin can. "+
			"Until a moderator confirms it, I act on nothing %s sends. Ask them in person or by phone whether they reset it; "+
			"then a moderator of a room they are in sends `%s`.",
			msg.Pill(user), string(key), msg.Pill(user), b.cmd("trust "+user.String()))
		for _, room := range rooms {
			local := m.Localize(b.lang(ctx, room)).Mention(user)
			if _, err := b.st.Outbox().Add(ctx, store.Outgoing{Room: room, Kind: commands.KindMessage, Payload: msg.Marshal(local)}, b.clock.Now()); err != nil {
				return err
			}
		}
		return nil
	})
}

// onDeviceLists runs after the crypto machine has fetched the keys of the
// members whose devices or cross-signing keys changed in this sync. A
// changed identity is announced at once, not only when its sessions send
// something; and the bot's outbound sessions shared with those members are
// renewed where their key is not held by exactly the member's devices that
// would get it now, so that a session verified since the last key share
// gets the next keys (a session once withheld is otherwise skipped until the
// session rotates). Not all of them: Dendrite lists a member as changed
// whenever they are invited to or join any room the bot is in
// (syncapi/internal/keychange.go, membershipEvents), and renewing every
// session shared with them then sent the member's direct room and the
// whole assembly new keys at each ballot's invite and join (session.go).
func (b *Bot) onDeviceLists(ctx context.Context, res *mautrix.RespSync, _ string) bool {
	for _, user := range res.DeviceLists.Changed {
		if user == b.cli.UserID {
			continue
		}
		if b.cfg.RequireCrossSigning {
			master, err := b.masterKey(ctx, user)
			if err == nil && master.Key != "" && master.Key != master.First {
				err = b.announceIdentity(ctx, user, master.Key)
			}
			if err != nil && ctx.Err() == nil {
				b.log.Error().Err(err).Stringer("user", user).Msg("Could not check a member's identity")
			}
		}
		if err := b.renewSessions(ctx, user); err != nil && ctx.Err() == nil {
			b.log.Error().Err(err).Stringer("user", user).Msg("Could not check who holds the room keys shared with a member")
			b.crypto.Machine().OnDevicesChanged(ctx, user) // when unsure, renew them all
		}
	}
	return true
}

// trustFeature is !trust: a moderator confirms a member's new identity.
type trustFeature struct{ b *Bot }

func (trustFeature) Group() string { return "Trust" }

func (f trustFeature) Commands() []*commands.Command {
	return []*commands.Command{{
		Name:    "trust",
		Usage:   "trust @member",
		Summary: "Confirm a member's new cryptographic identity, after asking them (moderators)",
		Help: "When a member's identity changes (they reset it, or someone else took over their account), I announce it " +
			"and act on nothing they send until a moderator of a room they are in confirms the new identity with this command. " +
			"Ask the member first, in person or by phone, whether they reset it. Their sessions signed by the new identity " +
			"are then trusted in every room.",
		Examples: []string{"trust @ana:example.org"},
		Handler:  f.trust,
	}}
}

func (f trustFeature) trust(ctx context.Context, r *commands.Request) error {
	b := f.b
	if r.InDM {
		return commands.Refusef("Send this in a room the member is in, where you are a moderator.")
	}
	word := strings.TrimSpace(r.Args)
	if word == "" || strings.ContainsAny(word, " \t\n") {
		return commands.Refusef("Say whose identity you confirm, for example `%s`.", r.Cmd("trust @ana:example.org"))
	}
	mod, err := r.IsModerator(ctx, r.Room, r.Sender)
	if err != nil {
		return err
	}
	if !mod {
		return commands.Refusef("Only a moderator of this room can confirm a member's new identity.")
	}
	user, err := r.ResolveMember(ctx, r.Room, word)
	if err != nil {
		return err
	}
	master, err := b.masterKey(ctx, user)
	if err != nil {
		return err
	}
	switch {
	case master.Key == "":
		return commands.Refusef("%s has no cross-signing identity, so there is nothing to confirm.", msg.Pill(user))
	case master.Key == master.First:
		return commands.Refusef("%s's identity has not changed since I first saw it, so there is nothing to confirm.", msg.Pill(user))
	}
	// The store may wrap mautrix's SQL store (forget.go): what matters is
	// that it can re-pin.
	sqlStore, ok := b.crypto.Machine().CryptoStore.(interface {
		ResetMasterKeyTOFU(ctx context.Context, user id.UserID, key id.Ed25519) error
	})
	if !ok {
		return fmt.Errorf("the crypto store is a %T, which cannot re-pin an identity", b.crypto.Machine().CryptoStore)
	}
	if err := sqlStore.ResetMasterKeyTOFU(ctx, user, master.Key); err != nil {
		return fmt.Errorf("pin the new identity of %s: %w", user, err)
	}
	b.crypto.Machine().OnDevicesChanged(ctx, user)
	b.log.Info().Stringer("user", user).Stringer("master_key", master.Key).Stringer("by", r.Sender).Msg("A moderator confirmed a member's new identity")
	r.Reply(msg.F("%s confirmed %s's new identity (master key `%s`). I act again on what %s sends from sessions it verified.",
		msg.Pill(r.Sender), msg.Pill(user), string(master.Key), msg.Pill(user)).Mention(user))
	return nil
}
