package commands

import "strings"

// NormalizeKey reduces a reaction key to the emoji it means, so that 👍🏽,
// 👍️ (with a variation selector) and 👍 are one vote, and 🤷‍♀️ is 🤷. It
// removes variation selectors, skin-tone modifiers and a trailing ZWJ gender
// sign; anything else is kept as it is (and is then simply not a vote).
func NormalizeKey(key string) string {
	key = strings.Map(func(r rune) rune {
		if r >= 0x1F3FB && r <= 0x1F3FF || r == 0xFE0E || r == 0xFE0F { // skin tones, text/emoji presentation
			return -1
		}
		return r
	}, key)
	for {
		before := key
		key = strings.TrimSpace(key)
		key = strings.TrimSuffix(key, "\u200d\u2640")
		key = strings.TrimSuffix(key, "\u200d\u2642")
		if key == before {
			return key
		}
	}
}
