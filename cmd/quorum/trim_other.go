//go:build !linux

package main

// dropExecutablePages does nothing where there is no /proc/self/smaps.
func dropExecutablePages() int { return 0 }
