package commands

import (
	"errors"

	"quorum/commands/timespec"
	"quorum/msg"
)

// Refusal is a mistake by the person who sent a command. Its text is
// replied as it is, and nothing the command did is kept.
type Refusal struct {
	Message msg.Message
	// Redact, if set, also removes the command from the room: it named
	// something private (a meeting place) that a mistake kept from being
	// handled as private.
	Redact *msg.Redaction
}

// RedactCommand makes err, a refusal, also remove the command from the
// room (see Refusal.Redact); other errors are returned as they are.
func RedactCommand(err error, why msg.Redaction) error {
	refusal, ok := AsRefusal(err)
	if !ok {
		return err
	}
	return &Refusal{Message: refusal.Message, Redact: &why}
}

func (e *Refusal) Error() string { return e.Message.Body }

// Refusef makes a Refusal with msg.F's formatting.
func Refusef(format string, args ...any) error {
	return &Refusal{Message: msg.F(format, args...)}
}

// AsRefusal finds the refusal in err: a Refusal, or a parser's error
// written for the member (timespec.Error), which handlers return as it is.
func AsRefusal(err error) (*Refusal, bool) {
	var refusal *Refusal
	if errors.As(err, &refusal) {
		return refusal, true
	}
	var parse *timespec.Error
	if errors.As(err, &parse) {
		return &Refusal{Message: msg.FromText(parse.Text())}, true
	}
	return nil, false
}
