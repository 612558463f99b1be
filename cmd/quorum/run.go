package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"quorum/bot"
	"quorum/config"
)

func runCommand() *cobra.Command {
	var path string
	var jsonLogs bool
	var heapProfile string
	cmd := &cobra.Command{
		Use:   "run --config FILE",
		Short: "Run the bot",
		Long: "Run the bot with the configuration in FILE (see config.example.yaml).\n" +
			"Every key can also be set in the environment: QUORUM_PASSWORD, QUORUM_HOMESERVER, ...",
		Example: "  quorum run --config /etc/quorum/config.yaml\n  QUORUM_PASSWORD=... quorum run --config config.yaml --log-json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return usageError{errors.New("missing --config FILE; for example: quorum run --config config.yaml")}
			}
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			if jsonLogs {
				cfg.LogFormat = "json"
			}
			log := newLogger(cmd.ErrOrStderr(), cfg)
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			heapProfileOnSignal(ctx, heapProfile, log)
			b, err := bot.New(ctx, cfg, log, bot.Options{})
			if err != nil {
				return err
			}
			go trimAfterStart(ctx, b.Ready(), log)
			return b.Run(ctx)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "configuration file (YAML)")
	cmd.Flags().BoolVar(&jsonLogs, "log-json", false, "log JSON lines instead of human-readable text")
	cmd.Flags().StringVar(&heapProfile, "heap-profile", "", "write a heap profile to FILE on every SIGUSR1 (a diagnostic)")
	_ = cmd.Flags().MarkHidden("heap-profile")
	return cmd
}

// trimAfterStart, once the bot is ready and then every trimEvery, gives
// back what starting and bursts of work left behind: the Go heap's free
// pages (debug.FreeOSMemory) and the executable's pages not in use since
// (dropExecutablePages). About 10 MB of the idle bot's 28 MB resident set were
// code and constant data touched only while starting (bench/footprint).
func trimAfterStart(ctx context.Context, ready <-chan struct{}, log zerolog.Logger) {
	select {
	case <-ctx.Done():
		return
	case <-ready:
	}
	tick := time.NewTicker(trimEvery)
	defer tick.Stop()
	for {
		debug.FreeOSMemory()
		kb := dropExecutablePages()
		log.Debug().Int("kb", kb).Msg("Gave back the executable's pages touched since the last trim")
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// trimEvery is how often the idle bot gives back memory (trimAfterStart).
const trimEvery = 10 * time.Minute

// newLogger logs at the configured level (info by default: mautrix logs
// request bodies at debug and trace, which would leak content and keys).
func newLogger(w io.Writer, cfg *config.Config) zerolog.Logger {
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		level = zerolog.InfoLevel
	}
	if cfg.LogFormat != "json" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.DateTime, NoColor: !isTerminal(w)}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// isTerminal says whether w is a terminal, where colours help; in a file or
// the journal they are noise.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
