package sandbox

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DendriteVersion is the Dendrite release the sandbox builds and configures.
// The generated config follows this version's format (config version 2), so
// changing it means re-reading Dendrite's sample config, not just this line.
const DendriteVersion = "v0.13.8"

const (
	dendriteModule  = "github.com/matrix-org/dendrite"
	dendriteCommand = dendriteModule + "/cmd/dendrite"
	// buildProgressEvery is how often EnsureDendrite reports that a build is
	// still running, so that a newcomer does not think the command hung.
	buildProgressEvery = 15 * time.Second
)

// CacheDir is where the Dendrite binary is kept between runs:
// $QUORUM_CACHE_DIR if set, else os.UserCacheDir()/quorum, else (no home
// directory, as on some CI runners) a per-user folder in the temp dir. It is
// exported so that the sandbox command and CI configs can print or cache it.
func CacheDir() string {
	if dir := os.Getenv("QUORUM_CACHE_DIR"); dir != "" {
		return dir
	}
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "quorum")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("quorum-cache-%d", os.Getuid()))
}

// EnsureDendrite returns the path of a Dendrite v0.13.8 binary, building it
// with `go install github.com/matrix-org/dendrite/cmd/dendrite@v0.13.8`
// (CGO_ENABLED=1: Dendrite's SQLite driver is cgo) into CacheDir()/bin the
// first time, which takes one to three minutes (less when the Go build cache
// is warm). progress (may be nil)
// gets human-readable lines while it builds.
//
// Several processes may call it at once (go test runs packages in parallel):
// a lock file makes one of them build while the others wait, and the binary is
// installed into a temporary folder and renamed into place, so nobody ever
// runs a half-written file. A cached binary is checked (module, version, cgo)
// from its embedded build information before use and rebuilt if it is not the
// expected one.
func EnsureDendrite(ctx context.Context, progress io.Writer) (string, error) {
	progress = syncWriter(progress)
	cache := CacheDir()
	bin := filepath.Join(cache, "bin", "dendrite")
	if checkBinary(bin) == nil {
		return bin, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("create cache dir: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(cache, "dendrite.lock"), progress)
	if err != nil {
		return "", err
	}
	defer unlock()
	// Another process may have built it while we waited for the lock.
	if checkBinary(bin) == nil {
		return bin, nil
	}
	if err := buildDendrite(ctx, cache, bin, progress); err != nil {
		return "", err
	}
	return bin, nil
}

// checkBinary reports why bin is not a usable Dendrite DendriteVersion binary
// built with cgo, reading only its Go build information (no execution).
func checkBinary(bin string) error {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return err
	}
	if info.Path != dendriteCommand || info.Main.Path != dendriteModule || info.Main.Version != DendriteVersion {
		return fmt.Errorf("%s is %s %s, want %s %s", bin, info.Path, info.Main.Version, dendriteCommand, DendriteVersion)
	}
	for _, s := range info.Settings {
		if s.Key == "CGO_ENABLED" && s.Value != "1" {
			return fmt.Errorf("%s was built without cgo: its SQLite driver does not work", bin)
		}
	}
	return nil
}

// lockFile takes an exclusive flock on path, polling so that ctx can cancel
// the wait. The lock goes away with the file descriptor, so a builder that
// dies never leaves a stale lock behind.
func lockFile(ctx context.Context, path string, progress io.Writer) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	said := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !said {
			fmt.Fprintln(progress, "waiting for another process that is building Dendrite…")
			said = true
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("wait for Dendrite build lock: %w", ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// buildDendrite runs go install into a fresh folder next to bin, checks the
// result and renames it to bin. The go command's output goes to
// dendrite-install.log in the cache dir and its tail is quoted on failure.
func buildDendrite(ctx context.Context, cache, bin string, progress io.Writer) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("dendrite is built from source and needs the Go toolchain on PATH (or a %s binary at %s): %w", DendriteVersion, bin, err)
	}
	// We hold the lock: any build-* folder left is from a builder that died.
	if stale, _ := filepath.Glob(filepath.Join(cache, "build-*")); len(stale) > 0 {
		for _, dir := range stale {
			_ = os.RemoveAll(dir)
		}
	}
	tmp, err := os.MkdirTemp(cache, "build-")
	if err != nil {
		return fmt.Errorf("create build dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	logPath := filepath.Join(cache, "dendrite-install.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("create build log: %w", err)
	}
	defer logFile.Close()

	fmt.Fprintf(progress, "building Dendrite %s (first run only, about 2 minutes)…\n", DendriteVersion)
	fmt.Fprintf(progress, "  into %s; build log: %s\n", filepath.Dir(bin), logPath)
	start := time.Now()
	cmd := exec.CommandContext(ctx, goBin, "install", dendriteCommand+"@"+DendriteVersion)
	cmd.Dir = tmp // outside any module, so the caller's go.mod and go.work play no part
	cmd.Env = append(os.Environ(),
		"CGO_ENABLED=1",
		"GOBIN="+tmp,
		"GOWORK=off",
		"GOOS="+runtime.GOOS, // the binary runs here, whatever the caller cross-compiles
		"GOARCH="+runtime.GOARCH,
	)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.WaitDelay = 5 * time.Second

	stopTicker := make(chan struct{})
	var tickerDone sync.WaitGroup
	tickerDone.Go(func() {
		t := time.NewTicker(buildProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-stopTicker:
				return
			case <-t.C:
				fmt.Fprintf(progress, "still building Dendrite… %s\n", time.Since(start).Round(time.Second))
			}
		}
	})
	runErr := cmd.Run()
	close(stopTicker)
	tickerDone.Wait()
	if runErr != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("build Dendrite: %w", ctx.Err())
		}
		tail := tailFile(logPath, 0, 20)
		hint := ""
		if strings.Contains(tail, "C compiler") || strings.Contains(tail, "cgo") {
			hint = " (Dendrite's SQLite driver needs a C compiler: install gcc, e.g. apt-get install build-essential)"
		}
		return fmt.Errorf("build Dendrite %s: %w%s; last lines of %s:\n%s", DendriteVersion, runErr, hint, logPath, tail)
	}
	built := filepath.Join(tmp, "dendrite")
	if err := checkBinary(built); err != nil {
		return fmt.Errorf("check built Dendrite: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return fmt.Errorf("create bin dir: %w", err)
	}
	if err := os.Rename(built, bin); err != nil {
		return fmt.Errorf("install Dendrite binary: %w", err)
	}
	fmt.Fprintf(progress, "built Dendrite %s in %s: %s\n", DendriteVersion, time.Since(start).Round(time.Second), bin)
	return nil
}

// tailFile returns the last n lines of path from byte offset from on (at most
// the last 64 KiB), or a note saying why it could not be read.
func tailFile(path string, from int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	const maxRead = 64 << 10
	from = max(from, st.Size()-maxRead, 0)
	data, err := io.ReadAll(io.NewSectionReader(f, from, st.Size()-from))
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	return lastLines(data, n)
}

// lastLines returns the last n non-empty-terminated lines of data.
func lastLines(data []byte, n int) string {
	data = bytes.TrimRight(data, "\n")
	if len(data) == 0 {
		return "(empty)"
	}
	lines := bytes.Split(data, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// syncWriter makes w safe for the concurrent writes of a progress ticker and
// the main flow; nil becomes io.Discard.
func syncWriter(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	if _, ok := w.(*lockedWriter); ok {
		return w
	}
	return &lockedWriter{w: w}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
