package bot_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// TestHostileEvents: huge commands, invalid UTF-8, markup and @room in a
// motion's text, reactions to unknown events and to another room's motion,
// and events with missing or mistyped fields. None of it crashes the bot,
// stalls its outbox or counts as a vote, no user markup or @room reaches its
// messages, and it still answers !help afterwards.
func TestHostileEvents(t *testing.T) {
	t.Parallel()
	_, b, r, ana, ben := anaAndBen(t)
	botID := b.Client().UserID
	other := ana.CreateRoom(false, botID)
	ana.WaitJoined(other, botID, wait)

	// Markup and @room in a motion's text, in the body and in the HTML.
	raw := "<script>alert(1)</script> <img src=x onerror=alert(2)> @room and @ROOM: buy a banner"
	motion := ana.SendContent(r, event.EventMessage, &event.MessageEventContent{
		MsgType:       event.MsgText,
		Body:          "!motion " + raw,
		Format:        event.FormatHTML,
		FormattedBody: "!motion <b>" + raw + "</b>",
	})
	notice := findNotice(ana, r, botID, "Motion #1")
	checkSafe(t, "motion notice", notice)
	if !strings.Contains(notice.Content.AsMessage().Body, "alert(1)") {
		t.Fatalf("the notice does not quote the motion's text, so the checks above prove nothing: %q", notice.Content.AsMessage().Body)
	}
	for _, evt := range ana.Replies(r, motion) { // a reply to the command, if any, is as safe
		checkSafe(t, "reply to the motion", evt)
	}
	checkSafe(t, "!motion 1", ana.Ask(r, "!motion 1"))
	checkSafe(t, "!motions", ana.Ask(r, "!motions"))

	// Invalid UTF-8 in a command, inside the encrypted payload (the
	// homeserver never sees it). A lone surrogate escape is sent too: mautrix
	// drops that body when it decrypts (the member's own client sees an empty
	// body as well), so there is no reply to wait for, only no crash.
	ana.SendContent(r, event.EventMessage, json.RawMessage(`{"msgtype":"m.text","body":"!help \ud800 motion"}`))
	bad := ana.SendContent(r, event.EventMessage, json.RawMessage("{\"msgtype\":\"m.text\",\"body\":\"!help \xff\xfe motion \xc3\"}"))
	if reply := ana.WaitReply(r, bad, wait); !utf8.ValidString(reply.Content.AsMessage().Body) {
		t.Errorf("reply to invalid UTF-8 is not valid UTF-8: %q", reply.Content.AsMessage().Body)
	}

	// Huge commands: as large as the homeserver takes once encrypted (an
	// event is at most 64 KiB; 44,000 bytes of text encrypt to about 60 KiB).
	huge := strings.Repeat("x", 44_000)
	ana.Say(r, "!help "+huge) // see TestHugeCommandAnswered
	ana.WaitReply(r, ana.Say(r, "!motion Huge "+huge), wait)
	ana.WaitReply(r, ana.Say(r, "!nosuchcommand "+huge), wait)

	// Reactions: to an event that does not exist, to the motion from
	// another room (a relation across rooms), and with missing fields.
	ana.React(r, "$doesnotexist:localhost", "👍", true)
	ana.React(other, notice.ID, "👍", true)
	ana.React(other, notice.ID, "👍", false)
	for _, c := range []json.RawMessage{
		json.RawMessage(`{"m.relates_to":{"rel_type":"m.annotation","event_id":"` + string(notice.ID) + `"}}`),         // no key
		json.RawMessage(`{"m.relates_to":{"rel_type":"m.annotation","key":"👍"}}`),                                      // no target
		json.RawMessage(`{"m.relates_to":{"key":"👍","event_id":"` + string(notice.ID) + `"}}`),                         // no rel_type
		json.RawMessage(`{"m.relates_to":{"rel_type":"m.annotation","key":7,"event_id":"` + string(notice.ID) + `"}}`), // key of the wrong type
		json.RawMessage(`{"m.relates_to":"👍"}`),                                                                        // relation of the wrong type
		json.RawMessage(`{}`), // nothing
		json.RawMessage(`{"m.relates_to":{"rel_type":"m.annotation","key":"👍\u200b","event_id":"` + string(notice.ID) + `"}}`), // zero-width tail
	} {
		ana.SendContent(r, event.EventReaction, c)
	}
	// Messages without a body, with a body of the wrong type, with no
	// msgtype, and a relation of the wrong type; then redactions without a
	// target, sent as events (encrypted, as a client would never).
	for _, c := range []json.RawMessage{
		json.RawMessage(`{"msgtype":"m.text"}`),
		json.RawMessage(`{"msgtype":"m.text","body":12345}`),
		json.RawMessage(`{"body":"!help"}`),
		json.RawMessage(`{"msgtype":"m.text","body":null,"format":"org.matrix.custom.html","formatted_body":"<script>"}`),
		json.RawMessage(`{"msgtype":"m.text","body":"!help","m.relates_to":"nonsense"}`),
		json.RawMessage(`{"msgtype":"m.text","body":"!vote 1 yes","m.relates_to":{"m.in_reply_to":7}}`),
		json.RawMessage(`[]`),
	} {
		ana.SendContent(r, event.EventMessage, c)
	}
	// Poll answers: malformed, to the notice rather than the poll, from
	// another room, and one selecting nothing the poll offers; the poll's
	// own text breaks @room too.
	poll := waitPoll(ana, r, botID, "the motion's poll")
	if text, _ := poll.Content.Raw["org.matrix.msc1767.text"].(string); !strings.Contains(text, "alert(1)") || strings.Contains(strings.ToLower(text), "@room") {
		t.Errorf("the poll's text is %q: it should quote the motion with @room broken", text)
	}
	ref := func(target id.EventID) string {
		return `"m.relates_to":{"rel_type":"m.reference","event_id":"` + string(target) + `"}`
	}
	for _, c := range []json.RawMessage{
		json.RawMessage(`{` + ref(poll.ID) + `,"org.matrix.msc3381.poll.response":{"answers":[7]}}`),
		json.RawMessage(`{` + ref(poll.ID) + `,"org.matrix.msc3381.poll.response":{"answers":null}}`),
		json.RawMessage(`{` + ref(poll.ID) + `,"org.matrix.msc3381.poll.response":"yes"}`),
		json.RawMessage(`{` + ref(poll.ID) + `}`),
		json.RawMessage(`{"org.matrix.msc3381.poll.response":{"answers":["yes"]}}`),
		json.RawMessage(`{"m.relates_to":{"rel_type":"m.annotation","event_id":"` + string(poll.ID) + `"},"org.matrix.msc3381.poll.response":{"answers":["yes"]}}`),
		json.RawMessage(`{` + ref(notice.ID) + `,"org.matrix.msc3381.poll.response":{"answers":["yes"]}}`),
		json.RawMessage(`{` + ref(poll.ID) + `,"org.matrix.msc3381.poll.response":{"answers":["` + strings.Repeat(`x","`, 5000) + `yes"]}}`),
	} {
		ana.SendContent(r, event.EventUnstablePollResponse, c)
	}
	ana.SendContent(other, event.EventUnstablePollResponse, json.RawMessage(`{`+ref(poll.ID)+`,"org.matrix.msc3381.poll.response":{"answers":["yes"]}}`))
	ana.SendContent(r, event.EventRedaction, json.RawMessage(`{}`))
	ana.SendContent(r, event.EventRedaction, json.RawMessage(`{"redacts":7}`))
	ana.SendContent(r, event.NewEventType("org.example.unknown"), json.RawMessage(`{"body":"!help"}`))

	// Still answering, with nothing counted and nothing crashed.
	ana.Ask(r, "!help")
	f, ok := ana.Ask(r, "!motion 1").Content.Raw["quorum.motion"].(map[string]any)
	if !ok {
		t.Fatal("!motion 1 has no quorum.motion")
	}
	if f["voted"] != 0.0 || f["status"] != "open" {
		t.Errorf("motion after the hostile events = %v, want open with no votes", f)
	}
	if strings.Contains(b.Log.String(), "panicked") {
		t.Error("a handler panicked (see the log)")
	}
	// A vote by a member still counts: the checks above could fail.
	ben.React(r, notice.ID, "👍", true)
	ana.WaitFor(wait, "ben's vote counted", func(evt *event.Event) bool {
		return isEditOf(evt, notice.ID, "1 yes · 0 no · 0 abstain")
	})
}

// TestHugeCommandAnswered: a command as large as the homeserver accepts
// gets an answer. `!help <44 KB topic>` is answered "I don't know
// `!<topic>`" with the whole topic quoted in the body and the HTML, which
// encrypts to about 119 KB: the homeserver refuses it (413, events are at
// most 64 KiB), the bot retries five times and drops it, and the member
// gets no answer at all.
func TestHugeCommandAnswered(t *testing.T) {
	t.Parallel()
	_, _, ana, r := room(t)
	huge := strings.Repeat("x", 44_000)
	for _, cmd := range []string{"!help ", "!motion Huge ", "!nosuchcommand ", "!vote 1 "} {
		ana.WaitReply(r, ana.Say(r, cmd+huge), 45*time.Second)
	}
}

// checkSafe fails if a message of the bot's carries user markup or an
// unbroken @room.
func checkSafe(t *testing.T, what string, evt *event.Event) {
	t.Helper()
	m := evt.Content.AsMessage()
	for name, text := range map[string]string{"body": m.Body, "formatted_body": m.FormattedBody} {
		lower := strings.ToLower(text)
		if strings.Contains(lower, "@room") {
			t.Errorf("%s: %s contains an unbroken @room: %q", what, name, text)
		}
		if name == "formatted_body" && (strings.Contains(lower, "<script") || strings.Contains(lower, "<img") || strings.Contains(lower, "<b>@")) {
			t.Errorf("%s: user markup unescaped in the HTML: %q", what, text)
		}
	}
	if m.Mentions != nil && m.Mentions.Room {
		t.Errorf("%s: mentions the whole room", what)
	}
}
