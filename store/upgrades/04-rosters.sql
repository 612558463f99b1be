-- v3 -> v4: Rosters, swaps, reminders
-- A duty rotation. Only its inputs are stored: the series (first turn,
-- zone, RRULE, end) and, below, its members, skipped turns, absences and
-- swapped turns. Who has which turn is computed from them (commands/rotation.go),
-- so there is no schedule that could drift from the rules.
CREATE TABLE rosters (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	room_id    TEXT    NOT NULL,
	name       TEXT    NOT NULL,          -- one word, lower case
	starts_at  INTEGER NOT NULL,          -- ms, the first turn
	zone       TEXT    NOT NULL,          -- IANA zone of the wall-clock time
	rrule      TEXT    NOT NULL,          -- RFC 5545 RRULE value, without DTSTART
	ends_at    INTEGER NOT NULL DEFAULT 0, -- ms; no turns from then on; 0: open-ended
	created_by TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (room_id, name)
);

-- Membership periods, in rotation order (id). A member takes part in turns
-- from added_at until removed_at (0: still a member); one who comes back is
-- a new row, at the end of the order. Changes apply from the time they are
-- made, so past turns never change.
CREATE TABLE roster_members (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	roster_id  INTEGER NOT NULL REFERENCES rosters (id) ON DELETE CASCADE,
	user_id    TEXT    NOT NULL,
	added_at   INTEGER NOT NULL,
	removed_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX roster_members_roster ON roster_members (roster_id);
CREATE INDEX roster_members_user ON roster_members (user_id);

-- Turns that do not take place, by their start (ms).
CREATE TABLE roster_skips (
	roster_id INTEGER NOT NULL REFERENCES rosters (id) ON DELETE CASCADE,
	turn_at   INTEGER NOT NULL,
	PRIMARY KEY (roster_id, turn_at)
);

-- Absences: turns starting in [from_at, to_at) pass the member over.
CREATE TABLE roster_aways (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	roster_id INTEGER NOT NULL REFERENCES rosters (id) ON DELETE CASCADE,
	user_id   TEXT    NOT NULL,
	from_at   INTEGER NOT NULL,
	to_at     INTEGER NOT NULL
);
CREATE INDEX roster_aways_roster ON roster_aways (roster_id);

-- Turns given to someone other than the rotation's choice (an accepted swap).
CREATE TABLE roster_overrides (
	roster_id INTEGER NOT NULL REFERENCES rosters (id) ON DELETE CASCADE,
	turn_at   INTEGER NOT NULL,
	user_id   TEXT    NOT NULL,
	swap_id   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (roster_id, turn_at)
);

-- Swap requests, numbered per room. A request expires when the earlier of
-- the two turns starts (expires_at).
CREATE TABLE swaps (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	room_id        TEXT    NOT NULL,
	number         INTEGER NOT NULL,
	roster_id      INTEGER NOT NULL REFERENCES rosters (id) ON DELETE CASCADE,
	requester      TEXT    NOT NULL,
	target         TEXT    NOT NULL,
	requester_turn INTEGER NOT NULL, -- ms; the requester's turn the target takes
	target_turn    INTEGER NOT NULL, -- ms; the target's turn the requester takes
	status         TEXT    NOT NULL, -- pending, accepted, declined, cancelled
	created_at     INTEGER NOT NULL,
	expires_at     INTEGER NOT NULL,
	decided_at     INTEGER NOT NULL DEFAULT 0,
	UNIQUE (room_id, number)
);

-- Members who asked for private reminders of a kind (duty: their roster
-- turns; session: study sessions they go to), and how long before (ms).
CREATE TABLE reminder_optins (
	user_id TEXT    NOT NULL,
	kind    TEXT    NOT NULL,
	lead_ms INTEGER NOT NULL,
	PRIMARY KEY (user_id, kind)
);

-- Reminders of every kind: duty (a roster turn), personal (!remind me),
-- session (study sessions). Each is delivered once, to user_id by DM or, if
-- that is empty, in room_id, in the transaction that sets sent_at. A
-- recurring one (rrule) is one row whose due_at moves on. text is what the
-- member asked to be reminded of: it is delivered, never logged.
CREATE TABLE reminders (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	kind         TEXT    NOT NULL,
	user_id      TEXT    NOT NULL DEFAULT '',
	room_id      TEXT    NOT NULL DEFAULT '',
	number       INTEGER NOT NULL DEFAULT 0,   -- personal: the owner's number for !remind cancel
	ref          TEXT    NOT NULL DEFAULT '',  -- what it is about: roster:ID:TURN_MS, session:ID
	text         TEXT    NOT NULL DEFAULT '',
	about_at     INTEGER NOT NULL DEFAULT 0,   -- ms; the start of what it is about (0: none)
	due_at       INTEGER NOT NULL,             -- ms
	ends_at      INTEGER NOT NULL DEFAULT 0,   -- ms; a late reminder is dropped from then on (0: never)
	zone         TEXT    NOT NULL DEFAULT 'UTC',
	rrule        TEXT    NOT NULL DEFAULT '',
	series_start INTEGER NOT NULL DEFAULT 0,   -- ms; first occurrence of a recurring one
	created_at   INTEGER NOT NULL,
	sent_at      INTEGER NOT NULL DEFAULT 0,   -- ms; 0 until delivered or dropped
	dropped      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX reminders_due ON reminders (due_at) WHERE sent_at = 0;
CREATE INDEX reminders_user ON reminders (user_id, kind);
CREATE UNIQUE INDEX reminders_ref ON reminders (kind, user_id, room_id, ref) WHERE ref != '';
