package config

// These tests use t.Setenv (the environment is part of what Load reads), so
// none of them is parallel.

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"maunium.net/go/mautrix/id"
)

// base is a minimal valid configuration, one top-level key a line.
const base = `homeserver: https://matrix.example.org
user_id: "@quorum:example.org"
password: "file password"
database: quorum.db
`

// clearEnv removes every QUORUM_ variable Load reads for the duration of the
// test, so that the developer's environment cannot change the results.
func clearEnv(t *testing.T) {
	t.Helper()
	// rooms has no default (the example's entry is only an example).
	for key := range maps.Keys(defaults) {
		clearVar(t, EnvName(key))
	}
	clearVar(t, EnvName("rooms"))
	// Any other QUORUM_ variable would be refused as unknown.
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "QUORUM_") {
			clearVar(t, name)
		}
	}
}

func clearVar(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // restores the old value after the test
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}

// configWith returns base with each top-level entry replaced by the block of
// the same key in blocks, or blocks appended; a block is a YAML fragment
// whose first line starts with its key. An empty block after "key:" ("-key")
// removes the key.
func configWith(blocks ...string) string {
	lines := strings.SplitAfter(strings.TrimSuffix(base, "\n"), "\n")
	for _, b := range blocks {
		if drop, ok := strings.CutPrefix(b, "-"); ok {
			lines = slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, drop+":") })
			continue
		}
		key, _, _ := strings.Cut(b, ":")
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, key+":") })
		if i >= 0 {
			lines[i] = b
		} else {
			lines = append(lines, b)
		}
	}
	for i, l := range lines {
		if !strings.HasSuffix(l, "\n") {
			lines[i] = l + "\n"
		}
	}
	return strings.Join(lines, "")
}

// writeConfig writes a config file into a new temp folder.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func load(t *testing.T, content string) *Config {
	t.Helper()
	cfg, err := Load(writeConfig(t, content))
	if err != nil {
		t.Fatalf("Load: %v\nconfig:\n%s", err, content)
	}
	return cfg
}

// wantConfigError checks that err is one line of *Error containing every
// part of want.
func wantConfigError(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Load succeeded; want an error containing %q", want)
	}
	var cfgErr *Error
	if !errors.As(err, &cfgErr) {
		t.Errorf("error %v is a %T, not a *config.Error (the CLI would not exit with status 2)", err, err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func TestMissingRequiredKey(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want []string
	}{
		{"homeserver", []string{`"homeserver"`, "homeserver: https://matrix.example.org", "QUORUM_HOMESERVER"}},
		{"user_id", []string{`"user_id"`, `user_id: "@quorum:example.org"`, "QUORUM_USER_ID"}},
		{"password", []string{`"password"`, `"access_token"`, "password: \"a long random password\"", "QUORUM_PASSWORD"}},
		{"database", []string{`"database"`, "database: /var/lib/quorum/quorum.db", "QUORUM_DATABASE"}},
	} {
		t.Run(tc.key, func(t *testing.T) {
			clearEnv(t)
			content := configWith("-" + tc.key)
			if strings.Contains(content, tc.key+":") {
				t.Fatalf("the config still has %s:\n%s", tc.key, content)
			}
			_, err := Load(writeConfig(t, content))
			wantConfigError(t, err, tc.want...)
		})
	}
}

func TestEnvOverridesFile(t *testing.T) {
	file := configWith(
		"timezone: Europe/Berlin",
		`command_prefixes: ["!"]`,
		`allowed_inviters: ["@ana:example.org"]`,
		"require_encryption: true",
		"motions:\n  closes: 48h\n  require_second: false\n  yes: [\"👍\"]",
	)
	for _, tc := range []struct {
		env, value string
		get        func(*Config) any
		file, want any
	}{
		{"QUORUM_HOMESERVER", "https://other.example.net", func(c *Config) any { return c.Homeserver }, "https://matrix.example.org", "https://other.example.net"},
		{"QUORUM_PASSWORD", "env password", func(c *Config) any { return c.Password }, "file password", "env password"},
		{"QUORUM_TIMEZONE", "Asia/Tokyo", func(c *Config) any { return c.Timezone }, "Europe/Berlin", "Asia/Tokyo"},
		{"QUORUM_MOTIONS_CLOSES", "24h", func(c *Config) any { return c.Motions.Closes }, "48h", "24h"},
		{"QUORUM_MOTIONS_REQUIRE_SECOND", "true", func(c *Config) any { return c.Motions.RequireSecond }, false, true},
		{"QUORUM_REQUIRE_ENCRYPTION", "false", func(c *Config) any { return c.RequireEncryption }, true, false},
		{"QUORUM_COMMAND_PREFIXES", "!,?", func(c *Config) any { return c.CommandPrefixes }, []string{"!"}, []string{"!", "?"}},
		{"QUORUM_ALLOWED_INVITERS", "@bo:example.org,*:example.net", func(c *Config) any { return c.AllowedInviters },
			[]string{"@ana:example.org"}, []string{"@bo:example.org", "*:example.net"}},
		{"QUORUM_MOTIONS_YES", "✅,👍", func(c *Config) any { return c.Motions.Yes }, []string{"👍"}, []string{"✅", "👍"}},
		// Not in the file at all: the default, then the environment.
		{"QUORUM_DISPLAY_NAME", "Asamblea", func(c *Config) any { return c.DisplayName }, "Quorum", "Asamblea"},
		{"QUORUM_DELEGATES_TERM", "12w", func(c *Config) any { return c.Delegates.Term }, "90d", "12w"},
		{"QUORUM_REQUIRE_CROSS_SIGNING", "false", func(c *Config) any { return c.RequireCrossSigning }, true, false},
	} {
		t.Run(tc.env, func(t *testing.T) {
			clearEnv(t)
			path := writeConfig(t, file)
			cfg, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.get(cfg); !reflect.DeepEqual(got, tc.file) {
				t.Fatalf("without %s: got %#v, want the file's %#v", tc.env, got, tc.file)
			}
			t.Setenv(tc.env, tc.value)
			if cfg, err = Load(path); err != nil {
				t.Fatal(err)
			}
			if got := tc.get(cfg); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("with %s=%q: got %#v, want %#v", tc.env, tc.value, got, tc.want)
			}
		})
	}
}

// TestEnvOnly: no file at all, everything from the environment; a relative
// database path then stays relative to the working directory.
func TestEnvOnly(t *testing.T) {
	clearEnv(t)
	t.Setenv("QUORUM_HOMESERVER", "https://matrix.example.org")
	t.Setenv("QUORUM_USER_ID", "@quorum:example.org")
	t.Setenv("QUORUM_ACCESS_TOKEN", "syt_token")
	t.Setenv("QUORUM_DATABASE", "state/quorum.db")
	cfg, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AccessToken != "syt_token" || cfg.Database != "state/quorum.db" || cfg.Timezone != "UTC" {
		t.Errorf("got access_token %q, database %q, timezone %q", cfg.AccessToken, cfg.Database, cfg.Timezone)
	}
}

// TestJSONFromEnv: rooms and delegates.power_levels, which a plain string
// cannot say, come from the environment as JSON and win over the file; bad
// JSON is refused with the variable's name and an example.
func TestJSONFromEnv(t *testing.T) {
	clearEnv(t)
	path := writeConfig(t, configWith("delegates:\n  power_levels:\n    delegate: 50"))
	t.Setenv("QUORUM_ROOMS", `[{"id": "!a:example.org", "timezone": "Europe/Madrid", "motions": {"threshold": "2/3", "require_second": true}}]`)
	t.Setenv("QUORUM_DELEGATES_POWER_LEVELS", `{"secretary": 40}`)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rooms) != 1 || cfg.Rooms[0].ID != "!a:example.org" || cfg.Rooms[0].Timezone != "Europe/Madrid" {
		t.Fatalf("rooms = %+v", cfg.Rooms)
	}
	if m := cfg.MotionDefaults("!a:example.org"); m.Threshold != "2/3" || !m.RequireSecond {
		t.Errorf("the room's motions = %+v", m)
	}
	if !maps.Equal(cfg.Delegates.PowerLevels, map[string]int{"secretary": 40}) {
		t.Errorf("power_levels = %v, want the environment's", cfg.Delegates.PowerLevels)
	}
	for _, bad := range []struct{ key, value string }{
		{"QUORUM_ROOMS", "!a:example.org"},
		{"QUORUM_ROOMS", "null"},
		{"QUORUM_ROOMS", `{"id": "!a:example.org"}`},
		{"QUORUM_DELEGATES_POWER_LEVELS", "delegate=50"},
		{"QUORUM_DELEGATES_POWER_LEVELS", `{"delegate": 60.5}`},
		{"QUORUM_DELEGATES_POWER_LEVELS", `[50]`},
	} {
		t.Run(bad.key+"="+bad.value, func(t *testing.T) {
			t.Setenv(bad.key, bad.value)
			_, err := Load(path)
			wantConfigError(t, err, bad.key, "must be JSON, like")
		})
	}
}

func TestPasswordOrAccessToken(t *testing.T) {
	for _, tc := range []struct {
		name, password, token string
		ok                    bool
	}{
		{"password only", "pw", "", true},
		{"token only", "", "syt_abc", true},
		{"both", "pw", "syt_abc", true},
		{"neither", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			_, err := Load(writeConfig(t, configWith(
				"password: "+strconv.Quote(tc.password),
				"access_token: "+strconv.Quote(tc.token))))
			if tc.ok && err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tc.ok {
				wantConfigError(t, err, `"password"`, `"access_token"`, "QUORUM_PASSWORD")
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		block string
		want  []string
	}{
		{"homeserver not a URL", "homeserver: matrix.example.org", []string{`homeserver "matrix.example.org" must be a URL`}},
		{"user_id not a user ID", "user_id: quorum", []string{`user_id "quorum" is not a Matrix user ID`}},
		{"bad timezone", "timezone: Mars/Olympus_Mons", []string{`timezone "Mars/Olympus_Mons" is not an IANA zone name`, "Europe/Berlin"}},
		{"bad room timezone", "rooms:\n  - id: \"!a:example.org\"\n    timezone: Berlin", []string{`timezone "Berlin" of room !a:example.org`}},
		{"room alias instead of ID", "rooms:\n  - id: \"#general:example.org\"", []string{`rooms entry id "#general:example.org" is not a room ID`, `id: "!abc:example.org"`}},
		{"room without ID", "rooms:\n  - timezone: UTC", []string{`rooms entry id "" is not a room ID`}},
		{"inviter without server", `allowed_inviters: ["@ana"]`, []string{`allowed_inviters entry "@ana"`, `*:server`}},
		{"inviter bare name", `allowed_inviters: ["ana"]`, []string{`allowed_inviters entry "ana"`}},
		{"inviter empty server", `allowed_inviters: ["*:"]`, []string{`allowed_inviters entry "*:"`}},
		{"inviter wildcard server", `allowed_inviters: ["*:*"]`, []string{`allowed_inviters entry "*:*"`}},
		{"inviter server with space", `allowed_inviters: ["*:example .org"]`, []string{`allowed_inviters entry "*:example .org"`}},
		{"no command prefix", "command_prefixes: []", []string{"command_prefixes is empty"}},
		{"blank command prefix", `command_prefixes: ["!", " "]`, []string{"command_prefixes has an empty prefix"}},
		{"ignored user not an ID", `ignored_users: ["bot"]`, []string{`ignored_users entry "bot"`}},
		{"log format", "log_format: xml", []string{`log_format "xml"`}},
		{"log level", "log_level: verbose", []string{`log_level "verbose"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			_, err := Load(writeConfig(t, configWith(tc.block)))
			wantConfigError(t, err, tc.want...)
		})
	}
}

func TestFileProblems(t *testing.T) {
	clearEnv(t)
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(missing)
	wantConfigError(t, err, missing, "not found", "config.example.yaml")

	_, err = Load(writeConfig(t, "homeserver: [unclosed\n"))
	wantConfigError(t, err, "config file")
}

func TestValidInviters(t *testing.T) {
	clearEnv(t)
	cfg := load(t, configWith(`allowed_inviters: ["@ana:example.org", "*:example.net", "@bo:matrix.example.org:8448"]`))
	if len(cfg.AllowedInviters) != 3 {
		t.Fatalf("allowed_inviters = %q", cfg.AllowedInviters)
	}
}

func TestInviterAllowed(t *testing.T) {
	clearEnv(t)
	cfg := load(t, configWith(`allowed_inviters: ["@ana:example.org", "*:example.net"]`))
	for _, tc := range []struct {
		user id.UserID
		want bool
	}{
		{"@ana:example.org", true},
		{"@bo:example.org", false},       // same server, not listed
		{"@ANA:example.org", false},      // user IDs are compared exactly
		{"@ana:example.org.evil", false}, // not a suffix match
		{"@x:example.net", true},
		{"@y:example.net", true},
		{"@x:sub.example.net", false}, // a pattern names one server, not its subdomains
		{"@x:example.net:8448", false},
	} {
		if got := cfg.InviterAllowed(tc.user); got != tc.want {
			t.Errorf("InviterAllowed(%s) = %v, want %v", tc.user, got, tc.want)
		}
	}
	// The default (no allowed_inviters) accepts nobody.
	if none := load(t, base); none.InviterAllowed("@ana:example.org") {
		t.Error("with no allowed_inviters, an invite was allowed")
	}
}

func TestRoomOverrides(t *testing.T) {
	clearEnv(t)
	cfg := load(t, configWith(
		"timezone: Europe/Berlin",
		"motions:\n  threshold: 2/3\n  quorum: 10%\n  closes: 48h\n  require_second: true\n  yes: [\"✅\"]",
		`rooms:
  - id: "!a:example.org"
    motions:
      quorum: 50%
      require_second: false
  - id: "!b:example.org"
    timezone: Asia/Tokyo
    motions:
      threshold: unanimous
      closes: 1w`))
	global := Motions{Threshold: "2/3", Quorum: "10%", Closes: "48h", RequireSecond: true,
		Yes: []string{"✅"}, No: []string{"👎"}, Abstain: []string{"🤷"},
		Ballot: []string{"reactions", "poll"}, PollKind: "undisclosed", Settle: "30s"}
	for _, tc := range []struct {
		room id.RoomID
		want Motions
		tz   string
	}{
		// An explicit false overrides the global true.
		{"!a:example.org", Motions{Threshold: "2/3", Quorum: "50%", Closes: "48h", RequireSecond: false,
			Yes: global.Yes, No: global.No, Abstain: global.Abstain, Ballot: global.Ballot, PollKind: global.PollKind, Settle: global.Settle}, "Europe/Berlin"},
		{"!b:example.org", Motions{Threshold: "unanimous", Quorum: "10%", Closes: "1w", RequireSecond: true,
			Yes: global.Yes, No: global.No, Abstain: global.Abstain, Ballot: global.Ballot, PollKind: global.PollKind, Settle: global.Settle}, "Asia/Tokyo"},
		{"!elsewhere:example.org", global, "Europe/Berlin"},
		{"!A:example.org", global, "Europe/Berlin"}, // room IDs are case-sensitive
	} {
		if got := cfg.MotionDefaults(tc.room); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("MotionDefaults(%s) = %+v, want %+v", tc.room, got, tc.want)
		}
		if got := cfg.Location(tc.room).String(); got != tc.tz {
			t.Errorf("Location(%s) = %s, want %s", tc.room, got, tc.tz)
		}
	}
	if cfg.Motions.Quorum != "10%" {
		t.Errorf("MotionDefaults changed the global motions: %+v", cfg.Motions)
	}
}

func TestDatabasePath(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "etc")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ database, want string }{
		{"quorum.db", filepath.Join(sub, "quorum.db")},
		{"data/quorum.db", filepath.Join(sub, "data", "quorum.db")},
		{"../quorum.db", filepath.Join(dir, "quorum.db")},
		{"/var/lib/quorum/quorum.db", "/var/lib/quorum/quorum.db"},
	} {
		t.Run(tc.database, func(t *testing.T) {
			clearEnv(t)
			path := filepath.Join(sub, "config.yaml")
			if err := os.WriteFile(path, []byte(configWith("database: "+tc.database)), 0o600); err != nil {
				t.Fatal(err)
			}
			// Started from another folder, with a relative config path.
			t.Chdir(dir)
			cfg, err := Load(filepath.Join("etc", "config.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := filepath.Abs(cfg.Database)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("database %q resolved to %q, want %q", tc.database, got, tc.want)
			}
		})
	}
}

const examplePath = "../config.example.yaml"

// TestExampleLoads loads the documented example with the secret it leaves
// out taken from the environment, as its comments advise.
func TestExampleLoads(t *testing.T) {
	clearEnv(t)
	t.Setenv("QUORUM_PASSWORD", "from the environment")
	cfg, err := Load(examplePath)
	if err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
	if cfg.Password != "from the environment" || cfg.Homeserver != "https://matrix.example.org" {
		t.Errorf("password %q, homeserver %q", cfg.Password, cfg.Homeserver)
	}
	if len(cfg.Rooms) != 1 {
		t.Fatalf("rooms = %+v, want the one example entry", cfg.Rooms)
	}
	room := id.RoomID(cfg.Rooms[0].ID)
	if m := cfg.MotionDefaults(room); m.Threshold != "2/3" || m.RequireSecond != true {
		t.Errorf("the example room's motions = %+v", m)
	}
	if cfg.Delegates.PowerLevels["delegate"] != 50 {
		t.Errorf("delegates.power_levels = %v", cfg.Delegates.PowerLevels)
	}
	// Without the secret, the example says what is missing.
	t.Setenv("QUORUM_PASSWORD", "")
	_, err = Load(examplePath)
	wantConfigError(t, err, "QUORUM_PASSWORD")
}

// TestExampleDocumentsEveryKey: every key of the defaults map is in the
// example, with a comment naming its environment variable and stating its
// default (or that it is required) in the words of the defaults map, so
// that neither can drift from the code.
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(defaults))
	for k := range defaults {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		node, _ := findKey(doc.Content[0], strings.Split(key, "."))
		if node == nil {
			t.Errorf("config.example.yaml lacks %s", key)
			continue
		}
		comment := node.HeadComment
		if !strings.Contains(comment, EnvName(key)) {
			t.Errorf("the comment on %s does not name %s:\n%s", key, EnvName(key), comment)
		}
		want := "Default: " + describeDefault(t, defaults[key])
		if _, required := examples[key]; required {
			want = "Required"
		}
		if !strings.Contains(comment, want) {
			t.Errorf("the comment on %s does not say %q:\n%s", key, want, comment)
		}
	}
	// Every key of a rooms entry is shown too.
	_, rooms := findKey(doc.Content[0], []string{"rooms"})
	if rooms == nil || rooms.Kind != yaml.SequenceNode || len(rooms.Content) == 0 {
		t.Fatal("config.example.yaml has no rooms entry to show")
	}
	for _, key := range structKeys(reflect.TypeFor[Room](), "") {
		if k, _ := findKey(rooms.Content[0], strings.Split(key, ".")); k == nil {
			t.Errorf("the example's rooms entry lacks %s", key)
		}
	}
}

// TestDefaultsCoverConfig: every key of Config has a default (viper only
// reads the environment for keys it knows, so a key without one could not be
// set by QUORUM_...), and the defaults name no key Config lacks.
func TestDefaultsCoverConfig(t *testing.T) {
	keys := structKeys(reflect.TypeFor[Config](), "")
	for _, k := range keys {
		if _, ok := defaults[k]; !ok && k != "rooms" {
			t.Errorf("Config key %s has no entry in defaults", k)
		}
	}
	for k := range defaults {
		if !slices.Contains(keys, k) {
			t.Errorf("defaults has %s, which Config does not", k)
		}
	}
}

// structKeys lists the dotted mapstructure keys of t's fields, descending
// into nested structs (a slice of structs is one key).
func structKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for f := range t.Fields() {
		name := prefix + f.Tag.Get("mapstructure")
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, structKeys(f.Type, name+".")...)
		} else {
			keys = append(keys, name)
		}
	}
	return keys
}

// findKey returns the key and value nodes at path in a YAML mapping, or nils.
func findKey(m *yaml.Node, path []string) (key, value *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != path[0] {
			continue
		}
		if len(path) == 1 {
			return m.Content[i], m.Content[i+1]
		}
		return findKey(m.Content[i+1], path[1:])
	}
	return nil, nil
}

// describeDefault writes a default as the example's comments do.
func describeDefault(t *testing.T, v any) string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return `""`
		}
		return v
	case bool:
		return strconv.FormatBool(v)
	case []string:
		quoted := make([]string, len(v))
		for i, s := range v {
			quoted[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(quoted, ", ") + "]"
	case map[string]int:
		if len(v) == 0 {
			return "{}"
		}
	}
	t.Fatalf("no way to describe the default %#v", v)
	return ""
}

// TestUnknownKeys: a key the configuration does not know, at any depth, is
// refused with its line and the key it most likely meant.
func TestUnknownKeys(t *testing.T) {
	for _, tc := range []struct {
		name  string
		block string
		want  []string
	}{
		{"typo", "require_encrytion: false", []string{"line 5: unknown key \"require_encrytion\"", "did you mean `require_encryption`?"}},
		{"cross-signing typo", "require_crossigning: false", []string{"line 5: unknown key \"require_crossigning\"", "did you mean `require_cross_signing`?"}},
		{"list key", `allowed_inviter: ["@ana:example.org"]`, []string{"line 5: unknown key \"allowed_inviter\"", "did you mean `allowed_inviters`?"}},
		{"section", "motion:\n  threshold: 2/3", []string{"line 5: unknown key \"motion\"", "did you mean `motions`?"}},
		{"nested", "motions:\n  closes: 48h\n  thresold: 2/3", []string{"line 7: unknown key \"motions.thresold\"", "did you mean `motions.threshold`?"}},
		{"nested deeper", "delegates:\n  term: 30d\n  recal_threshold: 2/3", []string{"line 7: unknown key \"delegates.recal_threshold\"", "did you mean `delegates.recall_threshold`?"}},
		{"in a room", "rooms:\n  - id: \"!a:example.org\"\n    timezon: Europe/Paris", []string{"line 7: unknown key \"rooms[0].timezon\"", "did you mean `rooms[0].timezone`?"}},
		{"in a room's motions", "rooms:\n  - id: \"!a:example.org\"\n  - id: \"!b:example.org\"\n    motions:\n      quorom: 50%", []string{"line 9: unknown key \"rooms[1].motions.quorom\"", "did you mean `rooms[1].motions.quorum`?"}},
		{"wrong level", "threshold: 2/3", []string{"line 5: unknown key \"threshold\"", "did you mean `motions.threshold`?"}},
		{"nothing near", "colour: blue", []string{"line 5: unknown key \"colour\" (config.example.yaml lists every key)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			path := writeConfig(t, configWith(tc.block))
			_, err := Load(path)
			wantConfigError(t, err, append([]string{"config: " + path + " "}, tc.want...)...)
			if err != nil && tc.name != "nothing near" && strings.Count(err.Error(), "did you mean") != 1 {
				t.Errorf("error %q", err)
			}
		})
	}

	// What viper reads is accepted: keys in another case, a role of one's
	// own under power_levels, a YAML merge.
	clearEnv(t)
	cfg := load(t, configWith("Timezone: Europe/Paris", "delegates:\n  power_levels:\n    treasurer: 40",
		"rooms:\n  - id: \"!a:example.org\"\n    motions: &m\n      threshold: 2/3\n  - id: \"!b:example.org\"\n    motions:\n      <<: *m\n      closes: 24h"))
	if cfg.Timezone != "Europe/Paris" || cfg.Delegates.PowerLevels["treasurer"] != 40 {
		t.Errorf("timezone %q, power levels %v", cfg.Timezone, cfg.Delegates.PowerLevels)
	}
	if m := cfg.MotionDefaults("!b:example.org"); m.Threshold != "2/3" || m.Closes != "24h" {
		t.Errorf("merged room motions = %+v", m)
	}
}

// TestUnknownEnv: a QUORUM_ variable that names no key is refused, with the
// variable it most likely meant; the tools' own variables, and those a
// caller names, are not configuration and pass.
func TestUnknownEnv(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        []string
	}{
		{"QUORUM_MOTIONS_THRESOLD", "2/3", []string{"QUORUM_MOTIONS_THRESOLD names no configuration key", "did you mean `QUORUM_MOTIONS_THRESHOLD`?"}},
		{"QUORUM_REQUIRE_ENCRYPTON", "false", []string{"did you mean `QUORUM_REQUIRE_ENCRYPTION`?"}},
		{"QUORUM_ALLOWED_INVITER", "@ana:example.org", []string{"did you mean `QUORUM_ALLOWED_INVITERS`?"}},
		{"QUORUM_MOTIONS", `{"closes": "24h"}`, []string{"QUORUM_MOTIONS names no configuration key"}},
		{"QUORUM_COLOUR", "blue", []string{"QUORUM_COLOUR names no configuration key (a variable is QUORUM_ and a key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(tc.name, tc.value)
			_, err := Load(writeConfig(t, base))
			wantConfigError(t, err, tc.want...)
		})
	}

	clearEnv(t)
	path := writeConfig(t, base)
	t.Setenv("QUORUM_KEY_PASSPHRASE", "x")
	t.Setenv("QUORUM_CACHE_DIR", t.TempDir())
	t.Setenv("QUORUM_MOTIONS_THRESHOLD", "2/3")
	t.Setenv("QUORUM_BOB_PASSPHRASE", "x")
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "QUORUM_BOB_PASSPHRASE") {
		t.Errorf("a variable the caller did not name: %v", err)
	}
	cfg, err := Load(path, "QUORUM_BOB_PASSPHRASE")
	if err != nil || cfg.Motions.Threshold != "2/3" {
		t.Errorf("known variables only: %v, threshold %v", err, cfg)
	}
}
