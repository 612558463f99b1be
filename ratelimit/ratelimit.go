// Package ratelimit makes a Matrix client wait as the homeserver asks when
// it is rate limited. A homeserver answers 429 M_LIMIT_EXCEEDED with the
// wait in retry_after_ms, in the JSON body, where mautrix does not look
// (it reads only a Retry-After header, which Dendrite does not send, and
// retries other failures too). The transport here waits that long and
// sends the request again: a 429 means the homeserver did not act on it,
// so a retry can never do anything twice, which a retry after a network
// error could (a second room created).
package ratelimit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
)

const (
	// Retries is how many times one request refused with 429 is sent
	// again before the 429 is returned to the caller (the outbox retries
	// later in its turn).
	Retries = 8
	// MaxWait bounds one wait, whatever the homeserver says.
	MaxWait = time.Minute
	// fallback is the wait when the homeserver names none.
	fallback = time.Second
)

// Apply makes cli wait and retry on 429, logging each wait to log (without
// the request's URL, which names rooms).
func Apply(cli *mautrix.Client, log zerolog.Logger) {
	base := cli.Client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cli.Client.Transport = &transport{base: base, log: log}
}

type transport struct {
	base http.RoundTripper
	log  zerolog.Logger
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	for try := 0; ; try++ {
		res, err := t.base.RoundTrip(req)
		if err != nil || res.StatusCode != http.StatusTooManyRequests || try == Retries || (req.Body != nil && req.GetBody == nil) {
			return res, err
		}
		wait, body := retryAfter(res)
		t.log.Warn().Dur("wait", wait).Int("try", try+1).Msg("Rate limited by the homeserver; waiting")
		timer := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			timer.Stop()
			res.Body = io.NopCloser(bytes.NewReader(body))
			return res, nil
		case <-timer.C:
		}
		if req.GetBody != nil {
			if req.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
	}
}

// retryAfter reads how long a 429 answer asks to wait: retry_after_ms in
// its body, else a Retry-After header in seconds, else a second. It
// returns the body read (closed).
func retryAfter(res *http.Response) (time.Duration, []byte) {
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
	wait := fallback
	var limited struct {
		RetryAfterMS *int64 `json:"retry_after_ms"`
	}
	if json.Unmarshal(body, &limited) == nil && limited.RetryAfterMS != nil {
		wait = time.Duration(*limited.RetryAfterMS) * time.Millisecond
	} else if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
		wait = time.Duration(s) * time.Second
	}
	return min(max(wait, 10*time.Millisecond), MaxWait), body
}
