-- v2 -> v3: Delegations
-- A mandate the assembly gave a member by electing them (a motion of kind
-- election), numbered per room. It is active until it is recalled (a
-- motion of kind recall) or its term ends (lapsed); the row stays for the
-- history. role is one lower-case word.
--
-- power_level is the room power level the role confers (0: none) and
-- power_base the member's level before any of their mandates raised it; the
-- bot lowers the level back to power_base (or to what their other mandates
-- confer) when the mandate ends, and only if nobody changed it meanwhile.
--
-- week_reminded_at and day_reminded_at record when the reminders before
-- the term's end were posted (or passed over as pointless): each is done
-- exactly once, whether or not the bot was running when it fell due.
CREATE TABLE delegations (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	room_id          TEXT    NOT NULL,
	number           INTEGER NOT NULL,
	user_id          TEXT    NOT NULL,
	role             TEXT    NOT NULL,
	mandate          TEXT    NOT NULL,
	motion_id        INTEGER NOT NULL REFERENCES motions (id), -- the election
	status           TEXT    NOT NULL,                         -- active, recalled, lapsed
	started_at       INTEGER NOT NULL,                         -- ms
	term_ends        INTEGER NOT NULL,                         -- ms
	ended_at         INTEGER NOT NULL DEFAULT 0,               -- ms; for a lapse, the term's end
	ended_by         INTEGER NOT NULL DEFAULT 0,               -- the recall motion's id
	power_level      INTEGER NOT NULL DEFAULT 0,
	power_base       INTEGER NOT NULL DEFAULT 0,
	week_reminded_at INTEGER NOT NULL DEFAULT 0,
	day_reminded_at  INTEGER NOT NULL DEFAULT 0,
	UNIQUE (room_id, number)
);
CREATE INDEX delegations_active ON delegations (status, room_id, user_id);
CREATE INDEX delegations_role ON delegations (room_id, role);

-- What happened to a mandate, oldest first: its election, the delegate's
-- reports, ratifications of what they brought back, recall votes, leaving
-- the room, the end. text is what members wrote (a report, a proposal, a
-- reason): shown to the room, never logged.
CREATE TABLE delegation_events (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	delegation_id INTEGER NOT NULL REFERENCES delegations (id),
	at            INTEGER NOT NULL,            -- ms
	kind          TEXT    NOT NULL,            -- elected, report, ratification, recall, recalled, lapsed, left
	user_id       TEXT    NOT NULL DEFAULT '', -- who (the reporter)
	motion_id     INTEGER NOT NULL DEFAULT 0,  -- the motion it is about
	outcome       TEXT    NOT NULL DEFAULT '', -- a motion's result: carried, failed, no_quorum
	text          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX delegation_events_delegation ON delegation_events (delegation_id, id);
