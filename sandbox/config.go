package sandbox

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// Names of the files the sandbox keeps in its data folder.
const (
	configFile = "dendrite.yaml"
	keyFile    = "matrix_key.pem"
	logFile    = "dendrite.log"
	portFile   = "dendrite.port"
)

// keyPEMType is the PEM block type Dendrite's config loader looks for
// (setup/config/config.go, readKeyPEM): the block carries a "Key-ID" header
// matching ^ed25519:[a-zA-Z0-9_]+$ and the 32-byte ed25519 seed as its bytes.
const keyPEMType = "MATRIX PRIVATE KEY"

// maxUploadBytes is the media upload limit: generous for tests that upload
// files, small enough to keep a test folder small.
const maxUploadBytes = 20 << 20

// ensureKey writes a fresh server signing key to dir/matrix_key.pem (0600)
// unless one is there. A homeserver keeps its key for life: the events it
// stored are signed with it.
func ensureKey(dir string) error {
	path := filepath.Join(dir, keyFile)
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("check signing key: %w", err)
	}
	seed := randomBytes(ed25519.SeedSize)
	keyID := "ed25519:" + randomAlnum(6)
	data := pem.EncodeToMemory(&pem.Block{
		Type:    keyPEMType,
		Headers: map[string]string{"Key-ID": keyID},
		Bytes:   seed,
	})
	if err := writeFileAtomic(path, data); err != nil {
		return fmt.Errorf("write signing key: %w", err)
	}
	return nil
}

// ensureConfig writes dir/dendrite.yaml unless it exists, and returns the
// registration shared secret found in it. The file is written only once so
// that a newcomer's edits survive; the secret is read back from it.
func ensureConfig(dir, serverName string, opts Options) (secret string, err error) {
	path := filepath.Join(dir, configFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		secret = hex.EncodeToString(randomBytes(32))
		var buf bytes.Buffer
		if err := configTemplate.Execute(&buf, configValues{
			ServerName:     serverName,
			Federation:     opts.Federation,
			RateLimit:      opts.RateLimit,
			SharedSecret:   secret,
			MaxUploadBytes: maxUploadBytes,
		}); err != nil {
			return "", fmt.Errorf("render config: %w", err)
		}
		if err := writeFileAtomic(path, buf.Bytes()); err != nil {
			return "", fmt.Errorf("write config: %w", err)
		}
		return secret, nil
	}
	if err != nil {
		return "", fmt.Errorf("read config: %w", err)
	}
	var cfg struct {
		ClientAPI struct {
			SharedSecret string `yaml:"registration_shared_secret"`
		} `yaml:"client_api"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return "", fmt.Errorf("parse %s: %w", path, err)
	}
	return cfg.ClientAPI.SharedSecret, nil
}

type configValues struct {
	ServerName     string
	Federation     bool
	RateLimit      *RateLimit
	SharedSecret   string
	MaxUploadBytes int
}

// configTemplate is a complete Dendrite v0.13.8 config (format version 2) for
// a private, offline, single-machine homeserver. Dendrite runs with the data
// folder as its working directory, so every relative path stays inside it.
var configTemplate = template.Must(template.New("dendrite.yaml").Parse(`# Dendrite v0.13.8 configuration written by Quorum's sandbox for a local test
# homeserver. It is written once; edit it freely. Dendrite runs with this folder
# as its working directory: every relative path below lives in this folder.
# Start it by hand with:
#   cd <this folder> && dendrite -config dendrite.yaml -http-bind-address 127.0.0.1:<port>
version: 2

global:
  server_name: "{{.ServerName}}"
  private_key: matrix_key.pem
  key_validity_period: 168h0m0s
  # No global "database" block: a single shared database is for PostgreSQL only.
  # With SQLite, each component below has its own file.
  cache:
    # Small, because tests run several homeservers at once.
    max_size_estimated: 64mb
    max_age: 1h
  well_known_server_name: ""
  well_known_client_name: ""
  trusted_third_party_id_servers: []
{{- if .Federation}}
  # Federation with other test homeservers on loopback (127.0.0.1:<port>).
  disable_federation: false
{{- else}}
  # No federation: no outbound HTTP at all, and no federation or key endpoints.
  disable_federation: true
{{- end}}
  presence:
    enable_inbound: false
    enable_outbound: false
  report_stats:
    enabled: false
  server_notices:
    enabled: false
  jetstream:
    # Empty: NATS runs inside Dendrite without listening on any port.
    addresses: []
    # JetStream keeps its streams in ./jetstream.
    storage_path: ./
    topic_prefix: Dendrite
  metrics:
    enabled: false
  dns_cache:
    enabled: false

app_service_api:
  config_files: []

client_api:
  # Accounts are made only with the shared secret (/_synapse/admin/v1/register).
  registration_disabled: true
  guests_disabled: true
  registration_shared_secret: "{{.SharedSecret}}"
  enable_registration_captcha: false
  turn:
    turn_uris: []
    turn_shared_secret: ""
{{- if .RateLimit}}
  # On, for a test of the bot under the homeserver's limits: each device may
  # have this many requests in flight within the cool-off time.
  rate_limiting:
    enabled: true
    threshold: {{.RateLimit.Threshold}}
    cooloff_ms: {{.RateLimit.CooloffMS}}
{{- else}}
  # Off: integration tests drive hundreds of clients from one address.
  rate_limiting:
    enabled: false
    threshold: 20
    cooloff_ms: 500
{{- end}}

federation_api:
  database:
    connection_string: file:federationapi.db
  # No notary servers: never ask matrix.org for keys.
  key_perspectives: []
{{- if .Federation}}
  # The other test homeservers' certificates are self-signed.
  disable_tls_validation: true
  prefer_direct_fetch: true
{{- end}}

key_server:
  database:
    connection_string: file:keyserver.db

media_api:
  database:
    connection_string: file:mediaapi.db
  base_path: ./media_store
  max_file_size_bytes: {{.MaxUploadBytes}}
  dynamic_thumbnails: false
  max_thumbnail_generators: 4
  thumbnail_sizes:
    - width: 32
      height: 32
      method: crop
    - width: 96
      height: 96
      method: crop
    - width: 640
      height: 480
      method: scale

mscs:
  mscs: []
  database:
    connection_string: file:mscs.db

relay_api:
  database:
    connection_string: file:relayapi.db

room_server:
  database:
    connection_string: file:roomserver.db

sync_api:
  database:
    connection_string: file:syncapi.db
  search:
    enabled: false

user_api:
  account_database:
    connection_string: file:userapi_accounts.db
  # The minimum: logins are instant, and these passwords protect nothing.
  bcrypt_cost: 4
  auto_join_rooms: []

tracing:
  enabled: false

# Dendrite writes its log to stdout and stderr; the sandbox sends both to
# dendrite.log in this folder.
logging:
  - type: std
    level: info
`))

// writeFileAtomic writes data to path with mode 0600 through a temporary file
// and a rename, so a crash never leaves a truncated config or key.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename this is a no-op
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

func randomAlnum(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := randomBytes(n)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
