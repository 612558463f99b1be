package config

import (
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/agnivade/levenshtein"
	"go.yaml.in/yaml/v3"
)

// A key that the configuration does not know stops the bot, with the key it
// probably meant: ignored, a typo in allowed_inviters or require_encryption
// would leave the bot running with the default, unnoticed. The same goes for
// a QUORUM_ variable that names no key.
//
// The known keys come from Config's mapstructure tags, so a key added there
// is known here without another list to keep.

// keyTree is the shape of the configuration.
type keyTree struct {
	// keys of a section (motions, a room); nil for a value.
	keys map[string]*keyTree
	// item is the shape of each entry of a list of sections (rooms).
	item *keyTree
}

func shapeOf(t reflect.Type) *keyTree {
	switch {
	case t.Kind() == reflect.Struct:
		s := &keyTree{keys: map[string]*keyTree{}}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			if name == "" || name == "-" {
				continue
			}
			s.keys[name] = shapeOf(f.Type)
		}
		return s
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		return &keyTree{item: shapeOf(t.Elem())}
	}
	// A value; a map (delegates.power_levels) takes keys of its own.
	return &keyTree{}
}

var configShape = shapeOf(reflect.TypeFor[Config]())

// knownKeys lists the dotted names of every value outside lists
// ("motions.threshold", "rooms"): what viper reads from the environment.
func knownKeys(t *keyTree, prefix string) []string {
	var out []string
	for name, sub := range t.keys {
		if sub.keys != nil {
			out = append(out, knownKeys(sub, prefix+name+".")...)
		} else {
			out = append(out, prefix+name)
		}
	}
	slices.Sort(out)
	return out
}

// checkFileKeys refuses a key in the YAML file at path that the
// configuration does not know, naming its line and the key it most likely
// meant. Keys are matched without regard to case, as viper reads them.
func checkFileKeys(path string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil // viper reports what is wrong with the file
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	return checkNode(path, doc.Content[0], configShape, "")
}

func checkNode(path string, n *yaml.Node, t *keyTree, at string) error {
	switch {
	case t.keys != nil && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" { // a YAML merge; viper reads what it merges
				continue
			}
			name := at + k.Value
			sub, ok := t.keys[strings.ToLower(k.Value)]
			if !ok {
				msg := fmt.Sprintf("config: %s line %d: unknown key %q", path, k.Line, name)
				if s := suggestKey(strings.ToLower(k.Value), t, at); s != "" {
					msg += fmt.Sprintf("; did you mean `%s`?", s)
				} else {
					msg += " (config.example.yaml lists every key)"
				}
				return &Error{msg: msg}
			}
			if err := checkNode(path, v, sub, name+"."); err != nil {
				return err
			}
		}
	case t.item != nil && n.Kind == yaml.SequenceNode:
		list := strings.TrimSuffix(at, ".")
		for i, item := range n.Content {
			if err := checkNode(path, item, t.item, fmt.Sprintf("%s[%d].", list, i)); err != nil {
				return err
			}
		}
	}
	// Anything else is a value, or a shape viper's decoding refuses.
	return nil
}

// near says whether b is close enough to a to be what was meant: a
// character or two, more in longer names.
func near(a, b string) bool {
	return levenshtein.ComputeDistance(a, b) <= max(2, len(a)/4)
}

// suggestKey finds what the unknown key (last part) in section t, at
// prefix, was most likely meant to be: a key of the same section spelled
// nearly alike, or a key of that name in another section (a key put at
// the wrong level).
func suggestKey(key string, t *keyTree, prefix string) string {
	best, bestD := "", -1
	for _, k := range slices.Sorted(maps.Keys(t.keys)) {
		if d := levenshtein.ComputeDistance(key, k); near(key, k) && (bestD < 0 || d < bestD) {
			best, bestD = prefix+k, d
		}
	}
	if best != "" {
		return best
	}
	for _, k := range knownKeys(configShape, "") {
		if k == key || strings.HasSuffix(k, "."+key) {
			return k
		}
	}
	return ""
}

// toolEnv are QUORUM_ variables that Quorum's tools read and that are not
// configuration keys.
var toolEnv = []string{
	"QUORUM_KEY_PASSPHRASE", // quorum import: the default --passphrase-env
	"QUORUM_CACHE_DIR",      // quorum sandbox: where Dendrite is built
}

// checkEnvKeys refuses a QUORUM_ variable that names no configuration key,
// nor one of toolEnv or other.
func checkEnvKeys(other []string) error {
	known := map[string]bool{}
	var names []string
	for _, k := range knownKeys(configShape, "") {
		known[EnvName(k)] = true
		names = append(names, EnvName(k))
	}
	for _, n := range append(slices.Clone(toolEnv), other...) {
		known[n] = true
	}
	var unknown []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "QUORUM_") && !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	name := unknown[0]
	msg := fmt.Sprintf("config: the environment variable %s names no configuration key", name)
	best, bestD := "", -1
	for _, k := range names {
		if d := levenshtein.ComputeDistance(name, k); near(name, k) && (bestD < 0 || d < bestD) {
			best, bestD = k, d
		}
	}
	if best != "" {
		msg += fmt.Sprintf("; did you mean `%s`?", best)
	} else {
		msg += " (a variable is QUORUM_ and a key of config.example.yaml in upper case, with _ for .)"
	}
	return &Error{msg: msg}
}
