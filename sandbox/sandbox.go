// Package sandbox runs a real, private Dendrite homeserver on the loopback
// interface: for the integration tests of the whole project (each test package
// starts its own, in a temporary folder) and for the `quorum sandbox` command a
// newcomer runs to try the bot without an account anywhere.
//
// The homeserver is offline by construction: it listens on 127.0.0.1 only,
// federation is disabled (which also stops all outbound HTTP; tests of
// several homeservers turn it on with Options.Federation, still on
// loopback only, and name servers by 127.0.0.1:<port>), no key notary,
// TURN, push, phone-home or identity server is configured, and its NATS
// JetStream runs in-process without a port. Everything it stores (config,
// signing key, SQLite databases, JetStream, media, log) is in one folder.
//
// Linux and other Unix systems only (flock, process groups; the child is tied
// to its parent's life with Pdeathsig on Linux).
package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ServerName is the homeserver's name: users are @name:localhost. It is fixed
// so that test fixtures and the sandbox docs can spell user IDs out.
const ServerName = "localhost"

const (
	// startTimeout bounds the wait for /_matrix/client/versions. A first
	// start creates every database and takes a few seconds; 60 s leaves room
	// for a loaded CI machine running many test packages at once.
	startTimeout = 60 * time.Second
	// stopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	stopTimeout = 10 * time.Second
	// portAttempts is how many free ports Start tries when it picked the port
	// itself and another process took it between the pick and Dendrite's bind.
	portAttempts = 3
	// logTailLines is how much of the Dendrite log a start error quotes.
	logTailLines = 20
)

// Options says where and how Start runs the homeserver.
type Options struct {
	// Dir is the data folder (config, signing key, SQLite databases,
	// JetStream, media, log). It is created if missing and reused if
	// present: users and rooms survive from one Start to the next.
	Dir string
	// Port is the loopback port to listen on. 0 picks one: the port the same
	// Dir used last time if it is free (so a sandbox keeps its URL across
	// runs), else any free port. Restart always keeps the current port.
	Port int
	// Progress receives human-readable lines (build, start, stop); may be nil.
	Progress io.Writer
	// Federation makes a homeserver that federates with others on loopback,
	// for tests of several homeservers: its server name is
	// 127.0.0.1:<FederationPort>, it serves federation over HTTPS there with
	// a self-signed certificate, and it accepts other servers' self-signed
	// certificates (disable_tls_validation). Everything still listens on
	// 127.0.0.1 only. A Dir keeps the mode and port it was first started
	// with.
	Federation bool
	// RateLimit, if set, turns on Dendrite's rate limiting of the
	// client-server API (off otherwise: tests drive many clients).
	RateLimit *RateLimit
}

// RateLimit is Dendrite's rate limiting: each device may make Threshold
// requests within CooloffMS milliseconds; more are answered 429
// M_LIMIT_EXCEEDED with retry_after_ms.
type RateLimit struct {
	Threshold int
	CooloffMS int
}

// Server is a running (or stopped) Dendrite started by Start. Its methods are
// safe for concurrent use.
type Server struct {
	// URL is the client-server API base, http://127.0.0.1:PORT.
	URL string
	// ServerName is the homeserver name in user and room IDs ("localhost").
	ServerName string
	// Dir is the absolute path of the data folder.
	Dir string
	// Port is the loopback TCP port, constant for the Server's life.
	Port int
	// FederationPort is the HTTPS port other homeservers reach it on (0
	// without Options.Federation).
	FederationPort int

	bin      string
	secret   string // registration shared secret; never logged
	progress io.Writer
	http     *http.Client

	mu      sync.Mutex
	proc    *process // nil when stopped
	dirLock *os.File // flock on the data folder while started
}

// process is one run of the Dendrite binary.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and been reaped
	err  error         // cmd.Wait's result, valid once done is closed
}

// Start makes sure the Dendrite binary exists (see EnsureDendrite), writes
// the signing key and config into opts.Dir the first time, starts Dendrite
// and returns once /_matrix/client/versions answers (or an error quoting the
// end of the Dendrite log). Stop it with Stop; if this process dies first,
// the kernel kills Dendrite too.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("sandbox: Options.Dir is required")
	}
	progress := syncWriter(opts.Progress)
	bin, err := EnsureDendrite(ctx, progress)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("sandbox dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create sandbox dir: %w", err)
	}
	s := &Server{
		ServerName: ServerName,
		Dir:        dir,
		bin:        bin,
		progress:   progress,
		http:       &http.Client{Timeout: 30 * time.Second},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Lock the folder before touching it: two Starts on one new folder must
	// not both write a key and a config.
	if err := s.lockDir(); err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			s.unlockDir()
		}
	}()
	if err := ensureKey(dir); err != nil {
		return nil, err
	}
	if opts.Federation {
		if s.FederationPort, err = ensureFederation(dir); err != nil {
			return nil, err
		}
		s.ServerName = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.FederationPort))
	}
	if s.secret, err = ensureConfig(dir, s.ServerName, opts); err != nil {
		return nil, err
	}
	autoPort := opts.Port == 0
	for attempt := 1; ; attempt++ {
		port := opts.Port
		if autoPort {
			if port, err = pickPort(dir, attempt == 1); err != nil {
				return nil, err
			}
		}
		s.Port = port
		s.URL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err = s.launch(ctx)
		if err == nil {
			break
		}
		if !autoPort || attempt == portAttempts || !errors.Is(err, errPortInUse) {
			return nil, err
		}
		fmt.Fprintf(progress, "port %d was taken meanwhile, trying another\n", port)
	}
	started = true
	// Remember the port so that the next Start on this Dir keeps the URL.
	_ = os.WriteFile(filepath.Join(dir, portFile), []byte(strconv.Itoa(s.Port)+"\n"), 0o600)
	return s, nil
}

// LogPath is the file that receives Dendrite's output (both streams, every
// run appended after a header line). Tests print it when they fail.
func (s *Server) LogPath() string {
	return filepath.Join(s.Dir, logFile)
}

// LogTail returns the last n lines of the homeserver's log.
func (s *Server) LogTail(n int) string {
	return tailFile(s.LogPath(), 0, n)
}

// Stop shuts Dendrite down: SIGTERM, up to 10 s for a clean exit, then
// SIGKILL. Calling it again, or on a stopped server, does nothing. It returns
// an error if Dendrite had to be killed or had already died on its own.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.stopLocked()
	s.unlockDir()
	return err
}

// Restart stops Dendrite and starts it again on the same folder and port,
// for tests of what clients and the bot do across a homeserver restart. It
// also starts a server that was stopped or had crashed.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stopErr := s.stopLocked()
	if err := s.launch(ctx); err != nil {
		return errors.Join(stopErr, err)
	}
	return stopErr
}

// errPortInUse marks a start that failed because the port was taken.
var errPortInUse = errors.New("port already in use")

// launch starts one Dendrite process on s.Port and waits until it answers.
// s.mu is held.
func (s *Server) launch(ctx context.Context) error {
	if err := s.lockDir(); err != nil {
		return err
	}
	logf, err := os.OpenFile(s.LogPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open dendrite log: %w", err)
	}
	st, err := logf.Stat()
	if err != nil {
		logf.Close()
		return fmt.Errorf("open dendrite log: %w", err)
	}
	offset := st.Size() // start errors quote this run's lines only
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	fmt.Fprintf(logf, "===== quorum sandbox: starting Dendrite %s on %s at %s =====\n",
		DendriteVersion, addr, time.Now().Format(time.RFC3339))

	args := []string{"-config", configFile, "-http-bind-address", addr}
	if s.FederationPort != 0 {
		args = append(args, "-https-bind-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.FederationPort)),
			"-tls-cert", tlsCertFile, "-tls-key", tlsKeyFile)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.Dir // relative paths in the config resolve here
	cmd.Env = childEnv()
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = sysProcAttr()
	fmt.Fprintf(s.progress, "starting Dendrite at %s (data in %s)…\n", s.URL, s.Dir)
	began := time.Now()
	err = cmd.Start()
	logf.Close() // the child has its own copy
	if err != nil {
		return fmt.Errorf("start dendrite: %w", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.proc = p
	if err := s.waitReady(ctx, p, offset); err != nil {
		_ = s.stopLocked()
		return err
	}
	fmt.Fprintf(s.progress, "Dendrite is up at %s (%s)\n", s.URL, time.Since(began).Round(10*time.Millisecond))
	return nil
}

// waitReady polls /_matrix/client/versions until it answers, the process
// exits, ctx ends or startTimeout passes.
func (s *Server) waitReady(ctx context.Context, p *process, logOffset int64) error {
	// Probes end as soon as the process exits: a port held by a program that
	// accepts but never answers must not delay the error.
	probeCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.done:
			cancel()
		case <-probeCtx.Done():
		}
	}()
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.answers(probeCtx) {
			select {
			case <-p.done: // someone else answered on our port
			default:
				return nil
			}
		}
		select {
		case <-p.done:
			tail := tailFile(s.LogPath(), logOffset, logTailLines)
			err := fmt.Errorf("dendrite exited during startup (%v); last lines of %s:\n%s", p.err, s.LogPath(), tail)
			if strings.Contains(tail, "address already in use") {
				err = fmt.Errorf("%w: %w", errPortInUse, err)
			}
			return err
		case <-ctx.Done():
			return fmt.Errorf("waiting for dendrite: %w; last lines of %s:\n%s",
				ctx.Err(), s.LogPath(), tailFile(s.LogPath(), logOffset, logTailLines))
		case <-deadline.C:
			return fmt.Errorf("dendrite did not answer on %s within %s; last lines of %s:\n%s",
				s.URL, startTimeout, s.LogPath(), tailFile(s.LogPath(), logOffset, logTailLines))
		case <-tick.C:
		}
	}
}

// answers reports whether a Matrix homeserver answers /versions at s.URL.
func (s *Server) answers(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/_matrix/client/versions", nil)
	if err != nil {
		return false
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var body struct {
		Versions []string `json:"versions"`
	}
	return resp.StatusCode == http.StatusOK &&
		json.NewDecoder(resp.Body).Decode(&body) == nil && len(body.Versions) > 0
}

// stopLocked ends the current process, if any. s.mu is held.
func (s *Server) stopLocked() error {
	p := s.proc
	if p == nil {
		return nil
	}
	s.proc = nil
	defer s.http.CloseIdleConnections() // none may outlive this process
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("dendrite had exited on its own (%v); see %s", p.err, s.LogPath())
		}
		return nil
	default:
	}
	fmt.Fprintln(s.progress, "stopping Dendrite…")
	pid := p.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM) // its process group (Setpgid)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("dendrite did not stop within %s of SIGTERM and was killed; see %s", stopTimeout, s.LogPath())
}

// lockDir takes an exclusive flock on the data folder, so that a second
// sandbox on the same folder (a newcomer running the command twice) fails
// at once instead of corrupting the databases. s.mu is held.
func (s *Server) lockDir() error {
	if s.dirLock != nil {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, "sandbox.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open sandbox lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("a sandbox homeserver is already running in %s (its sandbox.lock is held)", s.Dir)
		}
		return fmt.Errorf("lock sandbox dir: %w", err)
	}
	s.dirLock = f
	return nil
}

// unlockDir releases lockDir's lock. s.mu is held.
func (s *Server) unlockDir() {
	if s.dirLock != nil {
		_ = s.dirLock.Close()
		s.dirLock = nil
	}
}

// pickPort returns a free loopback port: on the first attempt the one this
// folder used last time if it is free, otherwise one the kernel hands out.
// Another process may take it before Dendrite binds it; Start retries then.
func pickPort(dir string, preferPrevious bool) (int, error) {
	if preferPrevious {
		if data, err := os.ReadFile(filepath.Join(dir, portFile)); err == nil {
			if port, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && port > 0 && port < 65536 {
				if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
					l.Close()
					return port, nil
				}
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// childEnv is the environment for Dendrite: ours, minus the variables that
// make it open a profiling port (PPROFLISTEN) or log every request and
// response body, passwords and registration MACs included
// (DENDRITE_TRACE_HTTP).
func childEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PPROFLISTEN=") && !strings.HasPrefix(kv, "DENDRITE_TRACE_HTTP=") {
			out = append(out, kv)
		}
	}
	return out
}
