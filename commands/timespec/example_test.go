package timespec_test

import (
	"fmt"
	"time"

	"quorum/commands/timespec"
)

func ExampleMoment() {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2026, 11, 27, 17, 0, 0, 0, berlin) // a Friday
	for _, s := range []string{"friday 18:00", "friday 16:00", "tomorrow", "in 3 days", "fridya 18:00"} {
		t, err := timespec.Moment(s, now, berlin)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s: %s, in %s\n", s, timespec.Human(t, berlin), timespec.Remaining(t.Sub(now)))
	}
	// Output:
	// friday 18:00: Fri 27 Nov 18:00, in 1h
	// friday 16:00: Fri 4 Dec 16:00, in 6 days
	// tomorrow: Sat 28 Nov 09:00, in 16h
	// in 3 days: Mon 30 Nov 17:00, in 3 days
	// I couldn't read "fridya 18:00" as a time. Try "48h", "friday 18:00" or "2026-12-01 18:00".
}

func ExampleRecurrence_Occurrences() {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	r, _ := timespec.ParseRecurrence("every 2 weeks")
	start := time.Date(2026, 3, 20, 18, 0, 0, 0, berlin)
	fmt.Println(r, "=", r.RRule())
	for _, t := range r.Occurrences(start, start, 3) {
		fmt.Println(t) // 18:00 on both sides of the clock change
	}
	// Output:
	// every 2 weeks = FREQ=WEEKLY;INTERVAL=2
	// 2026-03-20 18:00:00 +0100 CET
	// 2026-04-03 18:00:00 +0200 CEST
	// 2026-04-17 18:00:00 +0200 CEST
}

func ExampleDuration() {
	d, _ := timespec.Duration("1d12h")
	fmt.Println(d)
	_, err := timespec.Duration("-3h")
	fmt.Println(err)
	// Output:
	// 36h0m0s
	// "-3h" goes backwards; a duration must be positive, e.g. "3h".
}
