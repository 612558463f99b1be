-- v4 -> v5: Study sessions
-- A study session, or a series of them (rrule), numbered per room. uid is
-- the iCalendar UID, fixed at creation so that an updated .ics replaces the
-- event in people's calendars; sequence is its SEQUENCE, raised by every
-- move and cancellation. A series has one current occurrence at a time
-- (starts_at, counted by round); when it ends, the series moves on to the
-- next and round grows. place is confidential when private_place is set:
-- it is only ever sent by DM to those who said they are coming.
CREATE TABLE study_sessions (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	room_id       TEXT    NOT NULL,
	number        INTEGER NOT NULL,
	uid           TEXT    NOT NULL UNIQUE,
	title         TEXT    NOT NULL,
	topic         TEXT    NOT NULL DEFAULT '',
	place         TEXT    NOT NULL DEFAULT '',
	private_place INTEGER NOT NULL DEFAULT 0,
	zone          TEXT    NOT NULL,
	rrule         TEXT    NOT NULL DEFAULT '', -- RFC 5545 RRULE value; '' for a single session
	series_start  INTEGER NOT NULL,            -- ms; DTSTART of the series (or the session)
	starts_at     INTEGER NOT NULL,            -- ms; the current occurrence
	duration_ms   INTEGER NOT NULL,
	round         INTEGER NOT NULL DEFAULT 0,  -- which occurrence starts_at is (0: the first)
	prev_at       INTEGER NOT NULL DEFAULT 0,  -- ms; the occurrence before round (0: none)
	status        TEXT    NOT NULL,            -- scheduled, moved, cancelled
	sequence      INTEGER NOT NULL DEFAULT 0,
	created_by    TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	edit_due_at   INTEGER NOT NULL DEFAULT 0,  -- ms; the announcement's tally edit is due (0: none)
	UNIQUE (room_id, number)
);
CREATE INDEX study_sessions_starts ON study_sessions (starts_at) WHERE status != 'cancelled';

-- Answers to "are you coming?", one row per act (a reaction or !rsvp) so
-- that a redaction withdraws exactly that act: a member's latest act not
-- withdrawn is their answer for that round.
CREATE TABLE study_rsvps (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	session_id INTEGER NOT NULL REFERENCES study_sessions (id) ON DELETE CASCADE,
	round      INTEGER NOT NULL,
	user_id    TEXT    NOT NULL,
	answer     TEXT    NOT NULL, -- yes, maybe, no
	event_id   TEXT    NOT NULL,
	at         INTEGER NOT NULL,
	withdrawn  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX study_rsvps_round ON study_rsvps (session_id, round, user_id);
CREATE INDEX study_rsvps_event ON study_rsvps (event_id);

-- The reading list of a session (all rounds of a series).
CREATE TABLE study_readings (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	session_id INTEGER NOT NULL REFERENCES study_sessions (id) ON DELETE CASCADE,
	text       TEXT    NOT NULL,
	added_by   TEXT    NOT NULL,
	added_at   INTEGER NOT NULL
);
CREATE INDEX study_readings_session ON study_readings (session_id);

-- Who came, recorded after a session for the committee's follow-up.
CREATE TABLE study_attendance (
	session_id INTEGER NOT NULL REFERENCES study_sessions (id) ON DELETE CASCADE,
	round      INTEGER NOT NULL,
	held_at    INTEGER NOT NULL, -- ms; when that round started
	user_id    TEXT    NOT NULL,
	PRIMARY KEY (session_id, round, user_id)
) WITHOUT ROWID;

-- Members who asked for DM reminders of the sessions they answered yes or
-- maybe to, and how long before (ms).
CREATE TABLE study_optins (
	user_id TEXT    PRIMARY KEY,
	lead_ms INTEGER NOT NULL
);
