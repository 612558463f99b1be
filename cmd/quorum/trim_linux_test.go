package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDropExecutablePages: the executable's read-only pages leave the resident
// set, and the process goes on running the code they held.
func TestDropExecutablePages(t *testing.T) {
	before := rssFileKB(t)
	if kb := dropExecutablePages(); kb <= 0 {
		t.Fatalf("dropped %d kB, want some", kb)
	}
	after := rssFileKB(t)
	if after >= before {
		t.Errorf("RssFile %d kB after, %d kB before: want less", after, before)
	}
	if got := strings.Repeat("ab", 3); got != "ababab" { // code and data mapped back in
		t.Errorf("got %q", got)
	}
}

func rssFileKB(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}
