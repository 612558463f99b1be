package benchkit

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"
)

// BotRequests times the HTTP requests the in-process bot makes (those
// whose context carries the pprof label side=bot, as InProcess gives the
// bot's goroutines), by endpoint, with room, event, user and transaction
// IDs left out. Install it before anything makes a client: it wraps
// http.DefaultTransport.
type BotRequests struct {
	base http.RoundTripper
	mu   sync.Mutex
	by   map[string]*requestTimes
}

type requestTimes struct {
	n          int
	total, max time.Duration
}

// TimeBotRequests puts a BotRequests in front of http.DefaultTransport.
func TimeBotRequests() *BotRequests {
	r := &BotRequests{base: http.DefaultTransport, by: map[string]*requestTimes{}}
	http.DefaultTransport = r
	return r
}

func (r *BotRequests) RoundTrip(req *http.Request) (*http.Response, error) {
	if side, _ := pprof.Label(req.Context(), "side"); side != "bot" {
		return r.base.RoundTrip(req)
	}
	start := time.Now()
	res, err := r.base.RoundTrip(req)
	took := time.Since(start)
	key := req.Method + " " + endpoint(req.URL.Path)
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.by[key]
	if t == nil {
		t = &requestTimes{}
		r.by[key] = t
	}
	t.n++
	t.total += took
	t.max = max(t.max, took)
	return res, err
}

// endpoint is a request path without the IDs in it.
func endpoint(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		after := ""
		if i > 1 {
			after = segs[i-2]
		}
		if strings.ContainsAny(s[:min(len(s), 1)], "!$@%") || after == "send" || after == "sendToDevice" {
			segs[i] = "…"
		}
	}
	return strings.Join(segs, "/")
}

// Reset forgets what was timed so far.
func (r *BotRequests) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.by)
}

// Print writes the endpoints by the time spent waiting on them, the
// largest first (the long poll of /sync left out), top at most.
func (r *BotRequests) Print(w io.Writer, top int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]string, 0, len(r.by))
	for k := range r.by {
		if !strings.HasSuffix(k, "/sync") {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(r.by[b].total, r.by[a].total) })
	for _, k := range keys[:min(top, len(keys))] {
		t := r.by[k]
		fmt.Fprintf(w, "    %5d × %-58s mean %s · max %s · total %s\n", t.n, k, Ms(t.total/time.Duration(t.n)), Ms(t.max), Secs(t.total))
	}
}
