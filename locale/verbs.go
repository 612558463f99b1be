package locale

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Placeholders lists the placeholders of a format as "index:verb" (1-based,
// "%[2]s" is "2:s"), sorted: a translation may reorder them but must use
// the same ones.
func Placeholders(format string) []string {
	var out []string
	next := 1
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 >= len(format) {
			continue
		}
		i++
		if format[i] == '%' {
			continue
		}
		n := next
		if format[i] == '[' {
			end := strings.IndexByte(format[i:], ']')
			if end < 0 {
				out = append(out, "bad:"+format[i:])
				break
			}
			if k, err := strconv.Atoi(format[i+1 : i+end]); err == nil {
				n = k
			}
			i += end + 1
			if i >= len(format) {
				out = append(out, "bad:")
				break
			}
		}
		out = append(out, fmt.Sprintf("%d:%c", n, format[i]))
		next = n + 1
	}
	slices.Sort(out)
	return out
}
