package bot_test

import (
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"quorum/testkit"
)

// keyWait is how long a device may take to give up on a message whose key
// it lacks (mautrix waits about 25 s).
const keyWait = 60 * time.Second

// TestUntrustedSenders: with the default require_cross_signing, a second
// session logged in to a member's account (as a homeserver admin can), a
// member without cross-signing, and unencrypted events sent through the
// client-server API open no motion and cast no vote; each sender is told
// once why, and the two sessions get no room keys from the bot (withheld,
// m.unverified). A cross-signed member's commands and votes count, and their
// device gets the keys.
func TestUntrustedSenders(t *testing.T) {
	t.Parallel()
	s, b, r, ana, ben := anaAndBen(t)
	botID := b.Client().UserID
	uma := testkit.NewUnsignedClient(t, s, "uma")
	ana.Invite(r, uma.UserID)
	ana.WaitJoined(r, uma.UserID, wait)
	if !ana.Member.CrossSigned || uma.Member.CrossSigned {
		t.Fatalf("cross-signed: ana %v, uma %v; want true, false", ana.Member.CrossSigned, uma.Member.CrossSigned)
	}

	ana.Say(r, "!motion --closes 1h Buy a banner")
	notice := findNotice(ana, r, botID, "Motion #1")

	// A second session of ana's, which nobody verified.
	laptop := ana.OtherDevice()
	if laptop.Member.CrossSigned || laptop.DeviceID == ana.DeviceID {
		t.Fatalf("the other device %s is cross-signed (%v) or ana's own", laptop.DeviceID, laptop.Member.CrossSigned)
	}
	laptop.WaitJoined(r, botID, wait)
	if enc, err := laptop.StateStore.IsEncrypted(t.Context(), r); err != nil || !enc {
		t.Fatalf("the other device does not know the room is encrypted (%v): it would send in the clear", err)
	}
	sell := laptop.Say(r, "!motion --closes 1h Sell the van")
	unverified := ana.WaitReply(r, sell, wait)
	if body := unverified.Content.AsMessage().Body; !strings.Contains(body, "a session of "+ana.UserID.String()+"'s that is not verified (session ID "+laptop.DeviceID.String()+")") ||
		!strings.Contains(body, "Element → Settings → Sessions") {
		t.Errorf("notice to the unverified session: %q", body)
	}
	laptop.React(r, notice.ID, "👎", true)
	laptop.Say(r, "!vote 1 no")

	// A member without cross-signing.
	umaVote := uma.Say(r, "!vote 1 no")
	if body := ana.WaitReply(r, umaVote, wait).Content.AsMessage().Body; !strings.Contains(body, "has not set up cross-signing") {
		t.Errorf("notice to a member without cross-signing: %q", body)
	}

	// Unencrypted events, as the homeserver could send in ben's name.
	plain := ben.SayPlain(r, "!vote 1 no")
	if body := ana.WaitReply(r, plain, wait).Content.AsMessage().Body; !strings.Contains(body, "it came unencrypted") {
		t.Errorf("notice to an unencrypted vote: %q", body)
	}
	ben.React(r, notice.ID, "👎", false)
	ben.SayPlain(r, "!motion --closes 1h Sell the bikes")

	// ben's encrypted vote counts; nothing else did.
	ben.React(r, notice.ID, "👍", true)
	ana.WaitFor(wait, "ben's vote counted", func(evt *event.Event) bool {
		return isEditOf(evt, notice.ID, "1 yes · 0 no · 0 abstain — 1 of 3 voted")
	})
	f, _ := ana.Ask(r, "!motion 1").Content.Raw["quorum.motion"].(map[string]any)
	if f["yes"] != 1.0 || f["no"] != 0.0 || f["voted"] != 1.0 {
		t.Errorf("motion #1 = %v, want ben's yes only", f)
	}
	if got := ana.Ask(r, "!motion 2").Content.AsMessage().Body; strings.Contains(got, "Sell") {
		t.Errorf("a motion was opened by an untrusted sender: %q", got)
	}
	// The bot's messages go out in order: everything it meant to say about
	// the events above is here. Each sender was told once.
	for what, n := range map[string]int{
		"that is not verified":           1,
		"has not set up cross-signing":   1,
		"it came unencrypted":            1,
		"Motion #2":                      0,
		"cryptographic identity changed": 0,
	} {
		if got := len(ana.Notices(r, botID, what)); got != n {
			t.Errorf("%d notices with %q, want %d", got, what, n)
		}
	}
	for _, evt := range ana.Events() {
		if isEditOf(evt, notice.ID, " 1 no") {
			t.Errorf("a no was counted: %q", evt.Content.AsMessage().NewContent.Body)
		}
	}

	// Room keys: ana's verified device has the key of the bot's notice; the
	// unverified session and uma's device were refused it, and told why.
	for _, c := range []*testkit.Client{laptop, uma} {
		evt := c.WaitUndecryptable(keyWait, "the bot's notice", func(evt *event.Event) bool {
			return evt.RoomID == r && evt.Sender == botID && evt.ID == unverified.ID
		})
		if has, code := c.RoomKey(evt); has || code != event.RoomKeyWithheldUnverified {
			t.Errorf("%s's device %s: has the key %v, withheld code %q; want %q", c.UserID, c.DeviceID, has, code, event.RoomKeyWithheldUnverified)
		}
		for _, seen := range c.Events() {
			if seen.Sender == botID && seen.Mautrix.EventSource&event.SourceDecrypted != 0 {
				t.Errorf("%s's device %s decrypted a message of the bot's: %q", c.UserID, c.DeviceID, seen.Content.AsMessage().Body)
			}
		}
	}
	if unverified.Mautrix.EventSource&event.SourceDecrypted == 0 {
		t.Error("ana's verified device did not decrypt the bot's notice")
	}
}

// TestCrossSigningNotRequired: with require_cross_signing off, a member
// without cross-signing is obeyed and gets the bot's room keys; an
// unencrypted event still counts for nothing.
func TestCrossSigningNotRequired(t *testing.T) {
	t.Parallel()
	s := testkit.StartHomeserver(t)
	b := testkit.NewBot(t, s)
	b.Config.RequireCrossSigning = false
	b.Start()
	botID := b.Client().UserID
	uma := testkit.NewUnsignedClient(t, s, "uma")
	r := uma.CreateRoom(false, botID)
	uma.WaitJoined(r, botID, wait)
	uma.Say(r, "!motion --closes 1h Buy a banner")
	notice := findNotice(uma, r, botID, "Motion #1")
	if notice.Mautrix.EventSource&event.SourceDecrypted == 0 {
		t.Fatal("uma's device could not decrypt the bot's notice")
	}
	plain := uma.SayPlain(r, "!vote 1 no")
	if body := uma.WaitReply(r, plain, wait).Content.AsMessage().Body; !strings.Contains(body, "it came unencrypted") {
		t.Errorf("notice to an unencrypted vote: %q", body)
	}
	uma.React(r, notice.ID, "👎", false)
	f, _ := uma.Ask(r, "!motion 1").Content.Raw["quorum.motion"].(map[string]any)
	if f["voted"] != 0.0 {
		t.Errorf("motion #1 = %v, want no vote", f)
	}
	uma.Say(r, "!vote 1 yes") // the whole electorate: the motion closes
	findNotice(uma, r, botID, "Motion #1: Carried 1–0")
}

// TestIdentityChange: when a member's identity is reset (here by someone
// who signed in to her account, as a homeserver admin can), the room is told
// once, and neither her old session nor a session signed by the new identity
// is obeyed, until a moderator confirms the new identity with !trust; a
// member who is no moderator cannot.
func TestIdentityChange(t *testing.T) {
	t.Parallel()
	_, b, r, cs := startAssembly(t, "ana", "ben", "chi")
	ana, ben, chi := cs[0], cs[1], cs[2]
	botID := b.Client().UserID
	ana.SetPowerLevel(r, ben.UserID, 100)
	ben.WaitPowerLevel(r, ana.UserID, ben.UserID, 100, wait)
	ben.Say(r, "!motion --closes 1h Buy a banner")
	notice := findNotice(ben, r, botID, "Motion #1")

	taken := ana.OtherDevice()
	taken.WaitJoined(r, botID, wait)
	oldKey, err := taken.Member.MasterKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := taken.Member.ResetIdentity(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := taken.Member.MasterKey(t.Context()); newKey == "" || k == oldKey {
		t.Fatalf("the identity was not reset: master key %s, was %s", k, oldKey)
	}
	announced := ben.WaitFor(wait, "the announcement", func(evt *event.Event) bool {
		return testkit.IsNotice(evt, r, botID, ana.UserID.String()+"'s cryptographic identity changed")
	})
	if body := announced.Content.AsMessage().Body; !strings.Contains(body, "!trust "+ana.UserID.String()) {
		t.Errorf("the announcement does not say how to confirm: %q", body)
	}

	taken.React(r, notice.ID, "👍", true)
	ana.Say(r, "!vote 1 yes")
	taken.Say(r, "!motion --closes 1h Sell the van")
	if got := chi.Ask(r, "!trust "+ana.UserID.String()).Content.AsMessage().Body; !strings.Contains(got, "Only a moderator") {
		t.Errorf("chi confirming: %q", got)
	}
	f, _ := ben.Ask(r, "!motion 1").Content.Raw["quorum.motion"].(map[string]any)
	if f["voted"] != 0.0 {
		t.Errorf("motion #1 = %v, want no vote before the confirmation", f)
	}
	if got := len(ben.Notices(r, botID, "cryptographic identity changed")); got != 1 {
		t.Errorf("the change was announced %d times, want once", got)
	}
	if got := len(ben.Notices(r, botID, "Motion #2")); got != 0 {
		t.Errorf("a motion was opened under the new identity before the confirmation")
	}

	if got := ben.Ask(r, "!trust "+ana.UserID.String()).Content.AsMessage().Body; !strings.Contains(got, "confirmed "+ana.UserID.String()+"'s new identity") {
		t.Fatalf("ben confirming: %q", got)
	}
	taken.Say(r, "!vote 1 yes")
	ben.WaitFor(wait, "the vote under the confirmed identity", func(evt *event.Event) bool {
		return isEditOf(evt, notice.ID, "1 yes · 0 no · 0 abstain — 1 of 3 voted")
	})
	if got := ben.Ask(r, "!trust "+ana.UserID.String()).Content.AsMessage().Body; !strings.Contains(got, "has not changed") {
		t.Errorf("confirming again: %q", got)
	}
}
