// Package config loads Quorum's configuration from a YAML file and QUORUM_*
// environment variables (viper), fills in defaults and validates it.
//
// Every key has a default registered with viper, even the required ones (as
// empty values): viper's AutomaticEnv only overrides keys it knows, so this is
// what makes QUORUM_PASSWORD and friends work with Unmarshal.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/viper"
	"maunium.net/go/mautrix/id"

	"quorum/locale"
)

// Config is the whole configuration. The yaml/mapstructure names are a public
// contract (config.example.yaml documents each one): never rename them.
type Config struct {
	Homeserver  string `mapstructure:"homeserver"`
	UserID      string `mapstructure:"user_id"`
	Password    string `mapstructure:"password"`
	AccessToken string `mapstructure:"access_token"`
	DisplayName string `mapstructure:"display_name"`
	Database    string `mapstructure:"database"`
	PickleKey   string `mapstructure:"pickle_key"`

	CommandPrefixes []string `mapstructure:"command_prefixes"`
	Timezone        string   `mapstructure:"timezone"`
	// Language is what the bot speaks in rooms nobody chose one for with
	// !lang (package locale lists the shipped ones).
	Language          string   `mapstructure:"language"`
	AllowedInviters   []string `mapstructure:"allowed_inviters"`
	RequireEncryption bool     `mapstructure:"require_encryption"`
	// RequireCrossSigning: act only on events from devices their owner's
	// cross-signing identity signed (bot/trust.go).
	RequireCrossSigning bool     `mapstructure:"require_cross_signing"`
	IgnoredUsers        []string `mapstructure:"ignored_users"`

	LogLevel  string `mapstructure:"log_level"`
	LogFormat string `mapstructure:"log_format"`

	Motions        Motions        `mapstructure:"motions"`
	StandingOrders StandingOrders `mapstructure:"standing_orders"`
	Delegates      Delegates      `mapstructure:"delegates"`
	Council        Council        `mapstructure:"council"`
	Reminders      Reminders      `mapstructure:"reminders"`
	Study          Study          `mapstructure:"study"`

	PGPPassphrase string `mapstructure:"pgp_passphrase"`

	// Rooms holds per-room overrides. A list rather than a map keyed by room
	// ID because viper lower-cases map keys and room IDs are case-sensitive.
	Rooms []Room `mapstructure:"rooms"`
}

// Room overrides settings for one room; empty values inherit the global ones.
type Room struct {
	ID       string      `mapstructure:"id"`
	Timezone string      `mapstructure:"timezone"`
	Language string      `mapstructure:"language"`
	Motions  RoomMotions `mapstructure:"motions"`
}

// RoomMotions overrides motion defaults for one room.
type RoomMotions struct {
	Threshold     string `mapstructure:"threshold"`
	Quorum        string `mapstructure:"quorum"`
	Closes        string `mapstructure:"closes"`
	RequireSecond *bool  `mapstructure:"require_second"`
}

// Motions are the defaults of `!motion` options. They can be overridden per
// room under `rooms:`.
type Motions struct {
	Threshold     string   `mapstructure:"threshold"`
	Quorum        string   `mapstructure:"quorum"`
	Closes        string   `mapstructure:"closes"`
	RequireSecond bool     `mapstructure:"require_second"`
	Yes           []string `mapstructure:"yes"`
	No            []string `mapstructure:"no"`
	Abstain       []string `mapstructure:"abstain"`
	// Ballot lists how an open motion is voted besides `!vote`: reactions
	// on its notice, an MSC3381 poll, or both.
	Ballot []string `mapstructure:"ballot"`
	// PollKind is the poll's kind: undisclosed (clients show no count
	// before the end) or disclosed.
	PollKind string `mapstructure:"poll_kind"`
	// Settle is how long the whole electorate must have voted before a
	// motion closes early.
	Settle string `mapstructure:"settle"`
}

// Delegates configures elections and recalls.
type Delegates struct {
	Term            string         `mapstructure:"term"`
	RecallThreshold string         `mapstructure:"recall_threshold"`
	PowerLevels     map[string]int `mapstructure:"power_levels"`
}

// Council configures federation in councils.
type Council struct {
	// DelegateRole is the delegates' role whose holders a branch's bot asks
	// its councils' bots to seat in the council.
	DelegateRole string `mapstructure:"delegate_role"`
}

// StandingOrders are the rules of procedure every room starts with: the
// least a proposer may ask for. A room's assembly changes its own with
// `!rules set`, by a vote.
type StandingOrders struct {
	// Threshold is the least threshold of a motion or a ratification.
	Threshold string `mapstructure:"threshold"`
	// ElectionThreshold is the least threshold of an election or a recall.
	ElectionThreshold string `mapstructure:"election_threshold"`
	// RulesThreshold is the threshold of a motion that changes the rules.
	RulesThreshold string `mapstructure:"rules_threshold"`
	// Quorum is the least quorum of any motion.
	Quorum string `mapstructure:"quorum"`
	// VotingTime is the least voting time of a motion.
	VotingTime string `mapstructure:"voting_time"`
	// ElectionVotingTime is the least voting time of an election, a recall,
	// a ratification or a change of the rules.
	ElectionVotingTime string `mapstructure:"election_voting_time"`
}

// Reminders configures duty and personal reminders.
type Reminders struct {
	DutyLead string `mapstructure:"duty_lead"`
}

// Study configures study sessions.
type Study struct {
	RoomReminder string `mapstructure:"room_reminder"`
}

// defaults lists every key with its default; see the package comment for why
// required keys are here too.
var defaults = map[string]any{
	"homeserver":   "",
	"user_id":      "",
	"password":     "",
	"access_token": "",
	"display_name": "Quorum",
	"database":     "",
	"pickle_key":   "",

	"command_prefixes":      []string{"!", "/"},
	"timezone":              "UTC",
	"language":              locale.Default,
	"allowed_inviters":      []string{},
	"require_encryption":    true,
	"require_cross_signing": true,
	"ignored_users":         []string{},

	"log_level":  "info",
	"log_format": "pretty",

	"motions.threshold":      "majority",
	"motions.quorum":         "0",
	"motions.closes":         "72h",
	"motions.require_second": false,
	"motions.yes":            []string{"👍"},
	"motions.no":             []string{"👎"},
	"motions.abstain":        []string{"🤷"},
	"motions.ballot":         []string{"reactions", "poll"},
	"motions.poll_kind":      "undisclosed",
	"motions.settle":         "30s",

	"standing_orders.threshold":            "majority",
	"standing_orders.election_threshold":   "majority",
	"standing_orders.rules_threshold":      "2/3",
	"standing_orders.quorum":               "0",
	"standing_orders.voting_time":          "1h",
	"standing_orders.election_voting_time": "24h",

	"delegates.term":             "90d",
	"delegates.recall_threshold": "majority",
	"delegates.power_levels":     map[string]int{},

	"council.delegate_role": "council",

	"reminders.duty_lead": "24h",
	"study.room_reminder": "24h",

	"pgp_passphrase": "",
}

// example lines shown when a required key is missing.
var examples = map[string]string{
	"homeserver": "homeserver: https://matrix.example.org",
	"user_id":    "user_id: \"@quorum:example.org\"",
	"password":   "password: \"a long random password\"",
	"database":   "database: /var/lib/quorum/quorum.db",
}

// Error is a configuration problem, phrased for the operator in one line.
// The CLI exits with status 2 on it.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

func errorf(format string, args ...any) *Error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}

// Invalid makes an Error for a value that other packages validate (the
// motion defaults are checked by the rules that use them).
func Invalid(format string, args ...any) *Error { return errorf(format, args...) }

// EnvName is the environment variable that overrides key ("motions.closes"
// becomes QUORUM_MOTIONS_CLOSES).
func EnvName(key string) string {
	return "QUORUM_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Load reads the file at path (may be empty: environment only), applies the
// environment and validates the result. A key that the configuration does
// not know, in the file or as a QUORUM_ variable, is an error; otherEnv
// names QUORUM_ variables that the caller reads for itself (quorum import
// --passphrase-env).
func Load(path string, otherEnv ...string) (*Config, error) {
	v := viper.New()
	for key, value := range defaults {
		v.SetDefault(key, value)
	}
	v.SetEnvPrefix("QUORUM")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			var notFound *os.PathError
			if errors.As(err, &notFound) {
				return nil, errorf("config file %s not found; copy config.example.yaml there and edit it", path)
			}
			return nil, errorf("config file %s: %v", path, err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, errorf("config file %s: %v", path, err)
		}
		if err := checkFileKeys(path, data); err != nil {
			return nil, err
		}
	}
	if err := checkEnvKeys(otherEnv); err != nil {
		return nil, err
	}
	if err := setJSONFromEnv(v); err != nil {
		return nil, err
	}
	var cfg Config
	if err := v.Unmarshal(&cfg); err != nil {
		return nil, errorf("config: %v", err)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if path != "" && !filepath.IsAbs(cfg.Database) {
		// A relative database path is relative to the config file, so that the
		// bot finds its state whatever directory it is started from.
		cfg.Database = filepath.Join(filepath.Dir(path), cfg.Database)
	}
	return &cfg, nil
}

// In the environment, the keys whose values are a list of settings or a
// map are written as JSON, since a plain string cannot say them. Each is
// decoded into the shape its key needs, so that a JSON value of another
// shape (null, a string, 60.5 for a power level) is refused by name.
const (
	roomsExample       = `[{"id": "!room:example.org", "timezone": "Europe/Madrid", "motions": {"threshold": "2/3"}}]`
	powerLevelsExample = `{"delegate": 50}`
)

// setJSONFromEnv reads the JSON variables; each wins over the file, as
// every variable does.
func setJSONFromEnv(v *viper.Viper) error {
	if err := setJSON[[]map[string]any](v, "rooms", roomsExample); err != nil {
		return err
	}
	return setJSON[map[string]int](v, "delegates.power_levels", powerLevelsExample)
}

// setJSON sets key from its environment variable, if set, decoded as a T.
func setJSON[T any](v *viper.Viper, key, example string) error {
	raw := strings.TrimSpace(os.Getenv(EnvName(key)))
	if raw == "" {
		return nil
	}
	if raw == "null" {
		return errorf("config: %s must be JSON, like %s (leave it unset for none)", EnvName(key), example)
	}
	var value T
	if err := json.Unmarshal([]byte(raw), &value); err != nil {
		return errorf("config: %s must be JSON, like %s: %v", EnvName(key), example, err)
	}
	v.Set(key, value)
	return nil
}

func missing(key string) *Error {
	return errorf("config: missing %q; add a line like `%s` (or set %s)", key, examples[key], EnvName(key))
}

func (c *Config) validate() error {
	switch {
	case c.Homeserver == "":
		return missing("homeserver")
	case c.UserID == "":
		return missing("user_id")
	case c.Password == "" && c.AccessToken == "":
		return errorf("config: missing %q (or %q); add a line like `%s` (or set %s)",
			"password", "access_token", examples["password"], EnvName("password"))
	case c.Database == "":
		return missing("database")
	}
	if !strings.HasPrefix(c.Homeserver, "http://") && !strings.HasPrefix(c.Homeserver, "https://") {
		return errorf("config: homeserver %q must be a URL; for example `%s`", c.Homeserver, examples["homeserver"])
	}
	if _, _, err := id.UserID(c.UserID).ParseAndValidateRelaxed(); err != nil {
		return errorf("config: user_id %q is not a Matrix user ID; for example `%s`", c.UserID, examples["user_id"])
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		return errorf("config: timezone %q is not an IANA zone name; for example `timezone: Europe/Berlin`", c.Timezone)
	}
	if _, ok := locale.Lookup(c.Language); !ok {
		return errorf("config: language %q is not one I speak; use one of %s, for example `language: es`", c.Language, strings.Join(locale.Codes(), ", "))
	}
	for _, r := range c.Rooms {
		if _, ok := locale.Lookup(r.Language); r.Language != "" && !ok {
			return errorf("config: language %q of room %s is not one I speak; use one of %s", r.Language, r.ID, strings.Join(locale.Codes(), ", "))
		}
		if !strings.HasPrefix(r.ID, "!") {
			return errorf("config: rooms entry id %q is not a room ID; for example `rooms: [{id: \"!abc:example.org\", timezone: Europe/Berlin}]`", r.ID)
		}
		if _, err := time.LoadLocation(r.Timezone); r.Timezone != "" && err != nil {
			return errorf("config: timezone %q of room %s is not an IANA zone name; for example `timezone: Europe/Berlin`", r.Timezone, r.ID)
		}
	}
	if len(c.CommandPrefixes) == 0 {
		return errorf("config: command_prefixes is empty; for example `command_prefixes: [\"!\", \"/\"]`")
	}
	for _, p := range c.CommandPrefixes {
		if strings.TrimSpace(p) == "" {
			return errorf("config: command_prefixes has an empty prefix; for example `command_prefixes: [\"!\", \"/\"]`")
		}
	}
	for _, pattern := range c.AllowedInviters {
		if !validInviterPattern(pattern) {
			return errorf("config: allowed_inviters entry %q is neither a user ID nor a `*:server` pattern; for example `allowed_inviters: [\"@ana:example.org\", \"*:example.org\"]`", pattern)
		}
	}
	for _, u := range c.IgnoredUsers {
		if _, _, err := id.UserID(u).ParseAndValidateRelaxed(); err != nil {
			return errorf("config: ignored_users entry %q is not a Matrix user ID; for example `ignored_users: [\"@otherbot:example.org\"]`", u)
		}
	}
	switch c.LogFormat {
	case "pretty", "json":
	default:
		return errorf("config: log_format %q must be `pretty` or `json`", c.LogFormat)
	}
	switch c.LogLevel {
	case "trace", "debug", "info", "warn", "error":
	default:
		return errorf("config: log_level %q must be one of trace, debug, info, warn, error", c.LogLevel)
	}
	return nil
}

func validInviterPattern(p string) bool {
	if server, ok := strings.CutPrefix(p, "*:"); ok {
		return server != "" && !strings.ContainsAny(server, " *")
	}
	_, _, err := id.UserID(p).ParseAndValidateRelaxed()
	return err == nil
}

// RoomLanguage is the configured language of room (its override or the global
// one), as a shipped language's code. A moderator's !lang wins over it.
func (c *Config) RoomLanguage(room id.RoomID) string {
	code := c.Language
	if r, ok := c.room(room); ok && r.Language != "" {
		code = r.Language
	}
	if l, ok := locale.Lookup(code); ok {
		return l.Code
	}
	return locale.Default
}

// Location is the timezone of room (its override or the global one), as
// validated by Load.
func (c *Config) Location(room id.RoomID) *time.Location {
	name := c.Timezone
	if r, ok := c.room(room); ok && r.Timezone != "" {
		name = r.Timezone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

func (c *Config) room(room id.RoomID) (Room, bool) {
	for _, r := range c.Rooms {
		if r.ID == string(room) {
			return r, true
		}
	}
	return Room{}, false
}

// MotionDefaults returns the motion defaults in force in room.
func (c *Config) MotionDefaults(room id.RoomID) Motions {
	m := c.Motions
	r, ok := c.room(room)
	if !ok {
		return m
	}
	if r.Motions.Threshold != "" {
		m.Threshold = r.Motions.Threshold
	}
	if r.Motions.Quorum != "" {
		m.Quorum = r.Motions.Quorum
	}
	if r.Motions.Closes != "" {
		m.Closes = r.Motions.Closes
	}
	if r.Motions.RequireSecond != nil {
		m.RequireSecond = *r.Motions.RequireSecond
	}
	return m
}

// InviterAllowed says whether the bot accepts an invite from user.
func (c *Config) InviterAllowed(user id.UserID) bool {
	for _, p := range c.AllowedInviters {
		if server, ok := strings.CutPrefix(p, "*:"); ok {
			if user.Homeserver() == server {
				return true
			}
		} else if id.UserID(p) == user {
			return true
		}
	}
	return false
}
