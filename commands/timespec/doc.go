// Package timespec reads the times, durations and repeats that people type in
// chat commands ("--closes friday 18:00", "every 2 weeks", "--term 90d") and
// formats times for the bot's replies.
//
// Every parser is strict: the whole input must be understood, or the call
// fails with an *Error whose message is one friendly sentence, with an
// example, that can be posted in the room as it is. A reply that echoes the
// resolved time (see Human) lets people catch a misunderstanding.
//
// # Grammar
//
// Duration (units largest first, each once, optional spaces and "and"):
//
//	90m  48h  3d  2w  1d12h  2h 30m  90 minutes  2 weeks  1 day  a day  two hours
//
// Moment (case-insensitive):
//
//	48h | in 3 days | 3 days from now           relative to now
//	[on] DAY [,] [at] TIME | [on] DAY | [at] TIME
//	DAY  = today | tomorrow | [this|next] WEEKDAY | 2026-12-01 | 1.12.2026
//	     | [WEEKDAY] 1 dec [2026] | dec 1 [2026]
//	TIME = 18:00 | 6pm | 6 pm | 6:30pm | noon | 18 (a bare hour only after a DAY)
//	also 2026-12-01T18:00
//
// Date: DAY as above, without a time.
//
// Recurrence: [every] followed by day | 3 days | week | weekly | 2 weeks |
// other week | fortnight | month | monthly | year | yearly | tuesday |
// 2 tuesdays | other tuesday | monday and thursday | 2 weeks on monday |
// weekday (Monday to Friday).
//
// The full names of days and months in every shipped language are read as
// the English ones, accents and umlauts optional ("viernes 18:00",
// "Freitag", "3 maerz 2027"; locale.EnglishName); the other words stay
// English, like commands. Errors (*Error) and Local, Span and Recurrence
// render in the reader's language.
//
// # Decisions
//
//   - A day without a time means DefaultHour (09:00), like most reminder bots.
//   - A bare weekday, and "this friday", is the next such day whose resolved
//     moment is strictly after now: on Friday at 17:00 "friday 18:00" is today,
//     "friday 16:00" is in a week. "next friday" never means today; it does
//     not mean "the friday of next week" either (on Monday it is in 4 days).
//   - A time alone ("18:00") is today, or tomorrow if that has passed.
//   - A Moment must be after now and at most MaxDuration ahead; a date without
//     a year is its next occurrence.
//   - Durations in days and weeks are calendar days when added to now
//     ("in 3 days" keeps the clock time across a DST change); hours and
//     minutes are exact ("72h" is 72 real hours).
//   - Wall-clock times are resolved by wallTime: a time inside a spring-forward
//     gap moves forward by the length of the gap (02:30 becomes 03:30 in Berlin
//     and in New York); a time that occurs twice at fall-back is the first
//     (earlier) of the two. Go's time.Date leaves both cases unspecified and
//     in fact answers differently east and west of UTC, so it is never used
//     alone to resolve a typed time.
//
// # Libraries
//
// github.com/olebedev/when is not used to parse: it searches for a date
// anywhere in a text and ignores the rest ("fridya 18:00" silently becomes
// today 18:00, "friday 18:00 junk" is accepted, up to five characters of
// anything may sit between recognised pieces), a bare weekday on that
// weekday means a week ahead, a time already past today is not moved to
// tomorrow, weekday arithmetic adds fixed 24-hour durations, and "in 1 month"
// in November yields December of the previous year. Only its English
// vocabulary tables (weekday, month and number words) are used, so that the
// words accepted here match the ones that library knows.
//
// github.com/teambition/rrule-go computes Recurrence.Occurrences, so that
// occurrences follow the RRule string (Occurrences documents the two
// deliberate differences). It keeps wall-clock time, because it builds each
// occurrence with time.Date in the start's location; for the same reason it
// inherits time.Date's DST handling (a daily 02:30 in New York comes out as
// 01:30 EST on the day of the gap, in Berlin as 03:30). So here it runs on
// naive wall-clock times in UTC, and wallTime resolves each result.
package timespec
