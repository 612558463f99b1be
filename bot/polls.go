package bot

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
)

// Native polls (MSC3381): the bot starts and ends polls (events of their
// own types, sent encrypted like its messages) and hands members' answers
// to the rules. In an encrypted room an answer is encrypted: the homeserver
// sees who answered which poll (the relation stays in the clear), not the
// answer.

// sendEvent sends e to room, encrypted, as an m.reference to the event that
// stands for its Reference anchor, and records its own anchor.
func (b *Bot) sendEvent(ctx context.Context, room id.RoomID, e msg.Event, txnID string) error {
	if err := b.requireEncrypted(ctx, room, false); err != nil {
		return err
	}
	content := maps.Clone(e.Content)
	if content == nil {
		content = map[string]any{}
	}
	if e.Reference != nil {
		_, target, ok, err := b.st.Anchors().Event(ctx, store.Anchor(*e.Reference))
		if err != nil {
			return err
		}
		if !ok {
			// The poll it ends was queued before it, for the same room: if
			// that was given up, so is this (recordFailure).
			return fmt.Errorf("%w (%s %d)", errOriginalMissing, e.Reference.Kind, e.Reference.Ref)
		}
		content["m.relates_to"] = map[string]any{"rel_type": event.RelReference, "event_id": target}
	}
	typ := event.Type{Type: e.Type, Class: event.MessageEventType}
	resp, err := b.post(ctx, room, "", typ, content, txnID)
	if err != nil {
		return err
	}
	if e.Anchor == nil {
		return nil
	}
	return b.st.Anchors().Put(context.WithoutCancel(ctx), resp.EventID, room, store.Anchor(*e.Anchor))
}

// onPollResponse hands an answer to one of the bot's polls to the rules,
// if it comes from a session the bot obeys.
func (b *Bot) onPollResponse(ctx context.Context, evt *event.Event) error {
	ok, err := b.fresh(ctx, evt)
	if err != nil || !ok {
		return err
	}
	content, ok := evt.Content.Parsed.(*event.PollResponseEventContent)
	if !ok {
		return nil
	}
	rel := content.RelatesTo
	if rel.Type != event.RelReference || rel.EventID == "" {
		return nil
	}
	// Only an answer to one of the bot's polls can be a vote: only such an
	// answer is checked, and its sender told if it does not count.
	if _, onAnchor, err := b.st.Anchors().Get(ctx, evt.RoomID, rel.EventID); err != nil || !onAnchor {
		return err
	}
	if ok, err := b.obeys(ctx, evt); err != nil || !ok {
		return err
	}
	answers := content.Response.Answers
	if len(answers) > maxPollAnswers {
		answers = answers[:maxPollAnswers] // only the first max_selections count (MSC3381)
	}
	for i, a := range answers {
		answers[i] = strings.ToValidUTF8(a, "")
	}
	return b.asm.HandlePollResponse(ctx, commands.PollResponse{
		Room:    evt.RoomID,
		Sender:  evt.Sender,
		Event:   evt.ID,
		Target:  rel.EventID,
		Answers: answers,
		Time:    b.eventTime(evt),
	})
}

// maxPollAnswers bounds the answers of a response handed on: no poll of
// the bot's allows more selections.
const maxPollAnswers = 20
