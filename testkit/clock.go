package testkit

import (
	"sync/atomic"
	"time"
)

// Clock is the real time plus an offset a test can move forward, so that a
// reminder due tomorrow can be made due now without waiting. Event
// timestamps from the homeserver stay real: use it only for what compares
// the bot's clock with itself (reminders, term ends), not vote deadlines.
type Clock struct{ offset atomic.Int64 }

// Now is time.Now plus the offset.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }
