package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// dropExecutablePages gives back the pages of the executable's read-only
// mappings (code and constant data) that the process has mapped so far:
// most were touched once, while starting (package initialisers, schema
// upgrades, login, cross-signing) or in a burst of work, and would otherwise
// stay counted in the bot's resident set for as long as it runs. MADV_DONTNEED on a private
// file mapping only unmaps the pages; they stay in the page cache, and
// whatever the bot still uses is mapped back by a minor fault. A mapping
// with any anonymous (copied-on-write) page is left alone, since dropping it
// would bring back the file's bytes. It returns the kilobytes dropped.
func dropExecutablePages() int {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0
	}
	defer f.Close()
	type mapping struct {
		start, end uintptr
		rss        int
		anon       bool
	}
	var ours []mapping
	var cur *mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			cur = nil
			if len(fields) < 6 || fields[5] != exe || (fields[1] != "r-xp" && fields[1] != "r--p") {
				continue
			}
			lo, hi, _ := strings.Cut(fields[0], "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			ours = append(ours, mapping{start: uintptr(start), end: uintptr(end)})
			cur = &ours[len(ours)-1]
			continue
		}
		if cur == nil || len(fields) < 2 {
			continue
		}
		n, _ := strconv.Atoi(fields[1])
		switch fields[0] {
		case "Rss:":
			cur.rss = n
		case "Anonymous:":
			cur.anon = n > 0
		}
	}
	dropped := 0
	for _, m := range ours {
		if m.anon {
			continue
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_DONTNEED); errno == 0 {
			dropped += m.rss
		}
	}
	return dropped
}
