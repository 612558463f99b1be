package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/rs/zerolog"
)

// heapProfileOnSignal writes a heap profile to path (`go tool pprof -top
// -inuse_space FILE`) on every SIGUSR1 until ctx is done, and logs the
// runtime's own view of memory beside it (heap in use, stacks, what was
// returned to the OS), since the profile shows only Go allocations, not
// SQLite's. It is a diagnostic for measuring the footprint (`quorum run
// --heap-profile FILE`, a hidden flag that bench/footprint sets); without
// it the bot neither listens for the signal nor opens anything.
func heapProfileOnSignal(ctx context.Context, path string, log zerolog.Logger) {
	if path == "" {
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				if err := writeHeapProfile(path); err != nil {
					log.Warn().Err(err).Msg("Could not write the heap profile")
					continue
				}
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				log.Info().Str("path", path).
					Uint64("heap_inuse", m.HeapInuse).
					Uint64("heap_idle", m.HeapIdle).
					Uint64("heap_released", m.HeapReleased).
					Uint64("stack_inuse", m.StackInuse).
					Uint64("sys", m.Sys).
					Int("goroutines", runtime.NumGoroutine()).
					Msg("Wrote the heap profile")
			}
		}
	}()
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	runtime.GC() // the profile's in-use figures are as of the last collection
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	return f.Close()
}
