// Command footprint measures the bot's binary size, its time from process
// start to ready (first start: new device and cross-signing; then a
// restart), and its resident memory when idle in R rooms (VmRSS from
// /proc/PID/status). The bot runs as a separate process (`quorum run`)
// against a sandbox Dendrite; scripts/footprint builds it.
//
//	scripts/footprint [-rooms 10] [-members 0] [-idle 10s] [-heapprofile FILE]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"quorum/bench/internal/benchkit"
	"quorum/sandbox"
)

func main() {
	bin := flag.String("bin", "", "the quorum binary (required)")
	rooms := flag.Int("rooms", 10, "rooms the bot is in while idle")
	members := flag.Int("members", 0, "distinct lightweight members (registered and joined by API), spread evenly over the rooms")
	idle := flag.Duration("idle", 10*time.Second, "how long the bot idles before RSS is read")
	heap := flag.String("heapprofile", "", "after reading RSS, have the idle bot write a heap profile to `FILE` (quorum run --heap-profile, SIGUSR1)")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "footprint: -bin is required")
		os.Exit(2)
	}
	if err := run(*bin, *rooms, *members, *idle, *heap); err != nil {
		fmt.Fprintln(os.Stderr, "footprint:", err)
		os.Exit(1)
	}
}

func run(bin string, rooms, members int, idle time.Duration, heap string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "quorum-footprint-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, err := sandbox.Start(ctx, sandbox.Options{Dir: filepath.Join(dir, "homeserver")})
	if err != nil {
		return err
	}
	defer s.Stop()
	cfg, err := benchkit.WriteBotConfig(ctx, s, dir, "log_level: info\n")
	if err != nil {
		return err
	}
	logPath := filepath.Join(dir, "bot.log")
	starts := 0
	start := func() (*exec.Cmd, time.Duration, error) {
		logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, 0, err
		}
		defer logFile.Close()
		args := []string{"run", "--config", cfg, "--log-json"}
		if heap != "" {
			args = append(args, "--heap-profile", heap)
		}
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			return nil, 0, err
		}
		starts++
		for time.Since(t0) < 2*time.Minute {
			data, _ := os.ReadFile(logPath)
			if strings.Count(string(data), `"message":"Ready"`) >= starts {
				return cmd, time.Since(t0), nil
			}
			time.Sleep(5 * time.Millisecond)
		}
		_ = cmd.Process.Kill()
		return nil, 0, fmt.Errorf("bot not ready after 2 minutes (log: %s)", logPath)
	}
	stop := func(cmd *exec.Cmd) {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}

	cmd, cold, err := start()
	if err != nil {
		return err
	}
	ana, err := benchkit.NewMember(ctx, s, dir, "ana")
	if err != nil {
		stop(cmd)
		return err
	}
	ana.Start()
	defer ana.Close()
	botID := benchkit.BotID(s)
	light, err := benchkit.LightMembers(ctx, s, members, 8, "footprint")
	if err != nil {
		stop(cmd)
		return err
	}
	for i := 0; i < rooms; i++ {
		room, err := benchkit.SpreadRoom(ctx, ana, botID, i, rooms, light)
		if err != nil {
			stop(cmd)
			return err
		}
		if err := ana.WaitJoined(ctx, room, time.Minute, botID); err != nil {
			stop(cmd)
			return err
		}
		sent, err := ana.Say(ctx, room, "!help")
		if err != nil {
			stop(cmd)
			return err
		}
		if _, err := ana.WaitReply(ctx, sent, 30*time.Second); err != nil {
			stop(cmd)
			return err
		}
	}
	stop(cmd)
	cmd, warm, err := start()
	if err != nil {
		return err
	}
	defer stop(cmd)
	time.Sleep(idle)
	rss, err := vmRSS(cmd.Process.Pid)
	if err != nil {
		return err
	}
	maps := residentMappings(cmd.Process.Pid)
	if heap != "" {
		if err := heapProfile(cmd, logPath); err != nil {
			return err
		}
	}
	info, err := os.Stat(bin)
	if err != nil {
		return err
	}
	fmt.Printf("Footprint (%s, %d CPUs, %s)\n", benchkit.Machine(), runtime.NumCPU(), runtime.Version())
	fmt.Printf("  binary size:                       %.1f MiB\n", float64(info.Size())/(1<<20))
	fmt.Printf("  start to ready, first start:       %s (login, new device keys, cross-signing)\n", cold.Round(time.Millisecond))
	fmt.Printf("  start to ready, restart:           %s (%d rooms)\n", warm.Round(time.Millisecond), rooms)
	fmt.Printf("  idle RSS after %s in %d rooms:   %s\n", idle, rooms, rss)
	for _, m := range maps {
		fmt.Printf("    %s\n", m)
	}
	if heap != "" {
		fmt.Printf("  heap profile of the idle bot:      %s\n", heap)
	}
	return nil
}

// heapProfile asks the bot for a heap profile (SIGUSR1) and waits for the
// log line that says it is written.
func heapProfile(cmd *exec.Cmd, logPath string) error {
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return err
	}
	for t0 := time.Now(); time.Since(t0) < 30*time.Second; time.Sleep(20 * time.Millisecond) {
		data, _ := os.ReadFile(logPath)
		if strings.Contains(string(data), `"message":"Wrote the heap profile"`) {
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			for _, l := range lines {
				if strings.Contains(l, "Wrote the heap profile") {
					fmt.Println("  runtime:", l)
				}
			}
			return nil
		}
	}
	return fmt.Errorf("no heap profile after 30 s (log: %s)", logPath)
}

// residentMappings lists the mappings of pid with at least 256 kB resident
// (from /proc/PID/smaps), to tell the binary's text and data from the heap.
func residentMappings(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return nil
	}
	var out []string
	var head string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-"):
			name := "[anonymous]"
			if len(f) >= 6 {
				name = filepath.Base(f[5])
			}
			head = f[1] + " " + name
		case len(f) == 3 && f[0] == "Rss:":
			var kb int
			if _, err := fmt.Sscan(f[1], &kb); err == nil && kb >= 256 {
				out = append(out, fmt.Sprintf("%-40s %6d kB", head, kb))
			}
		}
	}
	return out
}

// vmRSS reads the resident set size of pid, with its anonymous (heap,
// SQLite's pages, stacks) and file-backed (the binary's text) parts.
func vmRSS(pid int) (string, error) {
	var parts [3]string
	for i, field := range []string{"VmRSS", "RssAnon", "RssFile"} {
		v, err := benchkit.ProcStatus(pid, field)
		if err != nil {
			return "", err
		}
		parts[i] = v
	}
	return fmt.Sprintf("%s (anonymous %s, file %s)", parts[0], parts[1], parts[2]), nil
}
