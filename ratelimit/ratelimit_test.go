package ratelimit

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
)

// limited answers 429 with retryAfterMS (or none, with a Retry-After
// header of 1 s, when it is negative) for the first n requests, then
// echoes the request's body.
func limited(t *testing.T, n int32, retryAfterMS int, header string) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if calls.Add(1) <= n {
			if header != "" {
				w.Header().Set("Retry-After", header)
			}
			w.WriteHeader(http.StatusTooManyRequests)
			out := map[string]any{"errcode": "M_LIMIT_EXCEEDED", "error": "slow down"}
			if retryAfterMS >= 0 {
				out["retry_after_ms"] = retryAfterMS
			}
			_ = json.NewEncoder(w).Encode(out)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func client(t *testing.T, url string, log io.Writer) *mautrix.Client {
	cli, err := mautrix.NewClient(url, "@bot:x", "token")
	if err != nil {
		t.Fatal(err)
	}
	Apply(cli, zerolog.New(log))
	return cli
}

func TestWaitsAsAskedAndResends(t *testing.T) {
	srv, calls := limited(t, 2, 30, "")
	var log bytes.Buffer
	cli := client(t, srv.URL, &log)
	body := `{"msgtype":"m.text","body":"hi"}`
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/x", strings.NewReader(body))
	res, err := cli.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || string(got) != body || calls.Load() != 3 {
		t.Fatalf("status %d, body %q after %d calls; want 200, the body resent whole, 3 calls", res.StatusCode, got, calls.Load())
	}
	if n := strings.Count(log.String(), `"wait":30`); n != 2 || !strings.Contains(log.String(), `"try":2`) {
		t.Errorf("want two waits of the 30 ms asked, the second as try 2; log:\n%s", log.String())
	}
}

func TestRetryAfterHeaderAndLimit(t *testing.T) {
	srv, calls := limited(t, Retries+5, -1, "0")
	var log bytes.Buffer
	cli := client(t, srv.URL, &log)
	res, err := cli.Client.Get(srv.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != http.StatusTooManyRequests || out["errcode"] != "M_LIMIT_EXCEEDED" || calls.Load() != Retries+1 {
		t.Fatalf("status %d %v after %d calls; want the 429 whole after %d", res.StatusCode, out, calls.Load(), Retries+1)
	}
	// Retry-After: 0 is a wait of nothing, raised to the floor of 10 ms.
	if n := strings.Count(log.String(), `"wait":10`); n != Retries {
		t.Errorf("want %d waits of 10 ms, log:\n%s", Retries, log.String())
	}
}

func TestStopsWaitingWhenCanceled(t *testing.T) {
	srv, calls := limited(t, 100, 60_000, "")
	cli := client(t, srv.URL, io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/x", nil)
	done := make(chan *http.Response)
	go func() {
		res, _ := cli.Client.Do(req)
		done <- res
	}()
	for calls.Load() == 0 {
		runtime.Gosched()
	}
	cancel()
	if res := <-done; res != nil && res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d", res.StatusCode)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls after the cancel", calls.Load())
	}
}

func TestRetryAfterHeaderInSeconds(t *testing.T) {
	srv, calls := limited(t, 1, -1, "2")
	var log bytes.Buffer
	cli := client(t, srv.URL, &log)
	res, err := cli.Client.Get(srv.URL + "/x")
	if err != nil || res.StatusCode != http.StatusOK || calls.Load() != 2 {
		t.Fatalf("%v %v after %d calls", res, err, calls.Load())
	}
	if !strings.Contains(log.String(), `"wait":2000`) || !strings.Contains(log.String(), `"try":1`) {
		t.Errorf("want one wait of the 2 s the header asked, as try 1; log:\n%s", log.String())
	}
}
