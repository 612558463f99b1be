-- v12 -> v13: Native polls, a settle time before an early close, !poll, command descriptions
-- How a motion is voted is fixed when it is created (motions.ballot at the
-- time): reactions says whether reactions on its notice are votes, poll
-- whether it opened an MSC3381 poll whose answers are votes. `!vote` always
-- counts. Motions from before keep reactions only.
ALTER TABLE motions ADD COLUMN reactions INTEGER NOT NULL DEFAULT 1;
ALTER TABLE motions ADD COLUMN poll      INTEGER NOT NULL DEFAULT 0;
-- settles_at (ms) is when an open motion whose whole electorate has voted
-- closes early, a settle time after it became complete, so that a member who
-- tapped the wrong answer can still change it; 0 while someone has not voted.
ALTER TABLE motions ADD COLUMN settles_at INTEGER NOT NULL DEFAULT 0;
-- vote_acts.choice may now also be 'none': a poll answer that selected
-- nothing the poll offers, which withdraws the voter's vote (MSC3381) until
-- a later act of theirs.

-- A question put to the room with `!poll` (not a decision: no threshold, no
-- record), answered in an MSC3381 poll. Polls and motions share one
-- numbering per room, so that `!close N` names either. answers is a JSON
-- list of the answers' texts; their IDs are 1, 2, …; multiple is how many
-- a member may choose.
CREATE TABLE polls (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	room_id    TEXT    NOT NULL,
	number     INTEGER NOT NULL,
	creator    TEXT    NOT NULL,
	question   TEXT    NOT NULL,
	answers    TEXT    NOT NULL,
	multiple   INTEGER NOT NULL DEFAULT 1,
	status     TEXT    NOT NULL, -- open, closed
	created_at INTEGER NOT NULL,
	closes_at  INTEGER NOT NULL,
	closed_at  INTEGER NOT NULL DEFAULT 0,
	kind       TEXT    NOT NULL DEFAULT 'question', -- or what another feature asked (study.time), decided by it at the close
	payload    TEXT    NOT NULL DEFAULT '{}',       -- JSON owned by the feature of kind
	UNIQUE (room_id, number)
);
CREATE INDEX polls_status ON polls (status, closes_at);

-- Who may answer: the room's joined members when the poll opened.
CREATE TABLE poll_electorate (
	poll_id INTEGER NOT NULL REFERENCES polls (id),
	user_id TEXT    NOT NULL,
	PRIMARY KEY (poll_id, user_id)
) WITHOUT ROWID;

-- Every answer, as vote_acts: a member's answer is their latest that was
-- not withdrawn (redacted). answers is the chosen IDs, comma-separated; ''
-- chose nothing the poll offers, which withdraws the member's answer.
CREATE TABLE poll_acts (
	id        INTEGER PRIMARY KEY,
	poll_id   INTEGER NOT NULL REFERENCES polls (id),
	voter     TEXT    NOT NULL,
	answers   TEXT    NOT NULL,
	event_id  TEXT    NOT NULL UNIQUE,
	ts        INTEGER NOT NULL,
	withdrawn INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX poll_acts_voter ON poll_acts (poll_id, voter, withdrawn, ts, id);

-- Members already told privately why an answer of theirs did not count.
CREATE TABLE poll_notices (
	poll_id INTEGER NOT NULL REFERENCES polls (id),
	user_id TEXT    NOT NULL,
	PRIMARY KEY (poll_id, user_id)
) WITHOUT ROWID;

-- The digest of the command descriptions (MSC4391) last published in each
-- room, so that they are published again only when they change.
ALTER TABLE rooms ADD COLUMN commands_hash TEXT NOT NULL DEFAULT '';
