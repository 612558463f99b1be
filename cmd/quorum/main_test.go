package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"quorum/assembly"
	"quorum/config"
)

// The tests run the real binary: exit statuses and signals are part of what
// they check.

// testVersion is linked into the test binary with -X main.Version.
const testVersion = "v0.0.0-test"

// quorumBin is the command under test, built by TestMain.
var quorumBin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "quorum-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	quorumBin = filepath.Join(dir, "quorum")
	build := exec.Command("go", "build", "-tags", "goolm", "-ldflags", "-X main.Version="+testVersion, "-o", quorumBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build quorum: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// quorumEnv is the environment without any QUORUM_ variable of the
// developer's, plus extra.
func quorumEnv(extra ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "QUORUM_") && !strings.HasPrefix(kv, "QUORUM_CACHE_DIR=")
	})
	return append(env, extra...)
}

// quorum runs the command to completion and returns its output and exit
// status.
func quorum(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return quorumWith(t, nil, args...)
}

// quorumWith is quorum with extra environment variables.
func quorumWith(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(quorumBin, args...)
	cmd.Env = quorumEnv(env...)
	cmd.Dir = t.TempDir()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if exit, ok := errors.AsType[*exec.ExitError](err); ok {
		return out.String(), errOut.String(), exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run quorum %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), 0
}

func TestExitStatus(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	const rest = "user_id: \"@quorum:example.org\"\npassword: pw\ndatabase: quorum.db\n"
	noHomeserver := write("no-homeserver.yaml", rest)
	badZone := write("bad-zone.yaml", "homeserver: https://matrix.example.org\ntimezone: Mars/Base\n"+rest)
	// Connection refused at once: a runtime failure, not a usage error.
	unreachable := write("unreachable.yaml", "homeserver: http://127.0.0.1:1\n"+rest)
	typo := write("typo.yaml", "homeserver: http://127.0.0.1:1\n"+rest+"motions:\n  thresold: 2/3\n")

	for _, tc := range []struct {
		name string
		args []string
		env  []string
		code int
		want []string // in stderr
	}{
		{"unknown key", []string{"run", "--config", typo}, nil, 2,
			[]string{typo + " line 6: unknown key \"motions.thresold\"; did you mean `motions.threshold`?"}},
		{"unknown variable", []string{"run", "--config", unreachable}, []string{"QUORUM_REQUIRE_ENCRYPTON=false"}, 2,
			[]string{"QUORUM_REQUIRE_ENCRYPTON names no configuration key; did you mean `QUORUM_REQUIRE_ENCRYPTION`?"}},
		{"unknown variable, export", []string{"export", "--config", unreachable, "--to", "k.asc", "-o", "b.pgp"}, []string{"QUORUM_DATABSE=x.db"}, 2,
			[]string{"did you mean `QUORUM_DATABASE`?"}},
		{"missing homeserver", []string{"run", "--config", noHomeserver}, nil, 2,
			[]string{`missing "homeserver"`, "homeserver: https://matrix.example.org", "QUORUM_HOMESERVER"}},
		{"bad timezone", []string{"run", "--config", badZone}, nil, 2, []string{`timezone "Mars/Base"`}},
		{"config not found", []string{"run", "--config", filepath.Join(dir, "absent.yaml")}, nil, 2, []string{"not found"}},
		{"no --config", []string{"run"}, nil, 2, []string{"missing --config"}},
		{"unknown flag", []string{"run", "--nope"}, nil, 2, []string{"unknown flag: --nope"}},
		{"argument to version", []string{"version", "extra"}, nil, 2, []string{`unknown command "extra"`}},
		{"sandbox port out of range", []string{"sandbox", "--port", "70000"}, nil, 2, []string{"--port 70000"}},
		{"unreachable homeserver", []string{"run", "--config", unreachable}, nil, 1, []string{"connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := quorumWith(t, tc.env, tc.args...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d\nstderr: %s", code, tc.code, stderr)
			}
			if tc.code == 2 {
				// A usage problem is one line, prefixed with the command's name.
				if lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "quorum: ") {
					t.Errorf("stderr is not one \"quorum: ...\" line:\n%s", stderr)
				}
				if stdout != "" {
					t.Errorf("stdout is not empty: %q", stdout)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	stdout, stderr, code := quorum(t, "version")
	want := regexp.MustCompile(`^quorum ` + regexp.QuoteMeta(testVersion) + `( \([0-9a-f]{12}\))?, mautrix-go v\d+\.\d+\.\d+\S*\n$`)
	if code != 0 || !want.MatchString(stdout) || stderr != "" {
		t.Fatalf("quorum version: status %d, stdout %q, stderr %q; want a line matching %s", code, stdout, stderr, want)
	}
}

// TestHelp asks for --help on the root and on every verb the root lists.
func TestHelp(t *testing.T) {
	t.Parallel()
	stdout, _, code := quorum(t, "--help")
	if code != 0 {
		t.Fatalf("quorum --help: status %d", code)
	}
	_, list, ok := strings.Cut(stdout, "Available Commands:\n")
	if !ok {
		t.Fatalf("no command list in:\n%s", stdout)
	}
	list, _, _ = strings.Cut(list, "\n\n")
	var verbs []string
	for line := range strings.Lines(list) {
		if fields := strings.Fields(line); len(fields) > 0 {
			verbs = append(verbs, fields[0])
		}
	}
	for _, v := range []string{"run", "sandbox", "version"} {
		if !slices.Contains(verbs, v) {
			t.Errorf("quorum --help does not list %s (lists %v)", v, verbs)
		}
	}
	// What the two main verbs' help must mention.
	mentions := map[string][]string{
		"run":     {"--config", "--log-json", "Examples:", "config.example.yaml"},
		"sandbox": {"--dir", "--port", "--log-json", "--no-bot", "Examples:", "quorum sandbox"},
	}
	for _, verb := range verbs {
		t.Run(verb, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := quorum(t, verb, "--help")
			if code != 0 || stderr != "" {
				t.Fatalf("quorum %s --help: status %d, stderr %q", verb, code, stderr)
			}
			if !strings.Contains(stdout, "Usage:\n  quorum "+verb) {
				t.Errorf("quorum %s --help has no usage line:\n%s", verb, stdout)
			}
			for _, w := range mentions[verb] {
				if !strings.Contains(stdout, w) {
					t.Errorf("quorum %s --help does not mention %q:\n%s", verb, w, stdout)
				}
			}
		})
	}
}

// TestExampleConfigAccepted: the documented example passes not only
// config.Load (see package config) but also the rules' own checks that the
// bot runs at start. Not parallel: it sets QUORUM_PASSWORD.
func TestExampleConfigAccepted(t *testing.T) {
	clearQuorumEnv(t)
	t.Setenv("QUORUM_PASSWORD", "from the environment")
	cfg, err := config.Load(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := assembly.CheckConfig(cfg); err != nil {
		t.Fatalf("the rules refuse config.example.yaml: %v", err)
	}
}
