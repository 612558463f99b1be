package timespec

import (
	"errors"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the same zone rules on every machine
)

var (
	berlin   = mustLoad("Europe/Berlin")
	newYork  = mustLoad("America/New_York")
	apia     = mustLoad("Pacific/Apia")     // skipped 30 December 2011
	santiago = mustLoad("America/Santiago") // DST starts at midnight
	moscow   = mustLoad("Europe/Moscow")    // +04 to +03 for good in 2014
)

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// friendly checks that err is an *Error whose message is one sentence a
// person can read in a chat: one line, not empty, ending in a full stop,
// and not leaking Go syntax.
func friendly(t *testing.T, input string, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%q: error %v (%T) is not an *Error", input, err, err)
	}
	msg := e.Error()
	if msg == "" || strings.ContainsAny(msg, "\n\r") || !strings.HasSuffix(msg, ".") {
		t.Errorf("%q: message %q is not a one-line sentence", input, msg)
	}
	for _, leak := range []string{"%!", "<nil>", "strconv", "timespec:"} {
		if strings.Contains(msg, leak) {
			t.Errorf("%q: message %q contains %q", input, msg, leak)
		}
	}
	return e
}
