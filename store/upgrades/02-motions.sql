-- v1 -> v2: Motions and votes
-- A motion, numbered per room. kind and payload let elections, recalls and
-- ratifications reuse the same voting machinery with their own data.
-- yes/no/abstain are the standing tally, maintained in the transaction of
-- every vote so reading it costs the same whatever the number of votes; the
-- acts below are the source of truth and a recount must agree.
CREATE TABLE motions (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	room_id      TEXT    NOT NULL,
	number       INTEGER NOT NULL,
	kind         TEXT    NOT NULL DEFAULT 'motion',
	payload      TEXT    NOT NULL DEFAULT '{}',
	proposer     TEXT    NOT NULL,
	text         TEXT    NOT NULL,
	threshold    TEXT    NOT NULL,
	quorum       TEXT    NOT NULL,
	quorum_count INTEGER NOT NULL DEFAULT 0,
	secret       INTEGER NOT NULL DEFAULT 0,
	status       TEXT    NOT NULL,
	seconder     TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	opened_at    INTEGER NOT NULL DEFAULT 0,
	closes_at    INTEGER NOT NULL DEFAULT 0, -- ms; for a motion awaiting a second, the deadline if it was absolute
	duration     INTEGER NOT NULL DEFAULT 0, -- ms; a relative deadline counts from the opening
	closed_at    INTEGER NOT NULL DEFAULT 0,
	yes          INTEGER NOT NULL DEFAULT 0,
	no           INTEGER NOT NULL DEFAULT 0,
	abstain      INTEGER NOT NULL DEFAULT 0,
	edit_due_at  INTEGER NOT NULL DEFAULT 0, -- when the notice's tally edit is due; 0: none pending
	edited_at    INTEGER NOT NULL DEFAULT 0,
	UNIQUE (room_id, number)
);
CREATE INDEX motions_status ON motions (status, closes_at);

-- Who may vote: the room's joined members when the motion opened.
CREATE TABLE electorate (
	motion_id INTEGER NOT NULL REFERENCES motions (id),
	user_id   TEXT    NOT NULL,
	PRIMARY KEY (motion_id, user_id)
) WITHOUT ROWID;

-- Every act of voting (a reaction or !vote), in the order of the room. A
-- voter's vote is their latest act that was not withdrawn (redacted). Acts
-- are never deleted, so the plain rowid id grows with arrival order (no
-- AUTOINCREMENT: it would cost a write per vote).
CREATE TABLE vote_acts (
	id        INTEGER PRIMARY KEY,
	motion_id INTEGER NOT NULL REFERENCES motions (id),
	voter     TEXT    NOT NULL,
	choice    TEXT    NOT NULL,
	event_id  TEXT    NOT NULL UNIQUE,
	ts        INTEGER NOT NULL,
	withdrawn INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX vote_acts_voter ON vote_acts (motion_id, voter, withdrawn, ts, id);

-- Members already told privately why a vote of theirs did not count, so it
-- is said at most once per motion.
CREATE TABLE vote_notices (
	motion_id INTEGER NOT NULL REFERENCES motions (id),
	user_id   TEXT    NOT NULL,
	PRIMARY KEY (motion_id, user_id)
) WITHOUT ROWID;
