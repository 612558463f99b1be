-- v15 -> v16: Federation of branch assemblies
-- A council: a room whose assembly is made of branches, each with its own
-- room, server and bot (!council on). rule decides federal motions:
-- branches, members or unanimous.
CREATE TABLE councils (
	room_id    TEXT    PRIMARY KEY,
	name       TEXT    NOT NULL,
	rule       TEXT    NOT NULL,
	created_by TEXT    NOT NULL,
	created_at INTEGER NOT NULL -- ms
) WITHOUT ROWID;

-- A branch's bot admitted to a council by a moderator (!council admit), and
-- once it announced itself, the branch it speaks for. A bot speaks for one
-- branch, and a branch has one bot.
CREATE TABLE council_branches (
	council_room TEXT    NOT NULL REFERENCES councils (room_id),
	bot          TEXT    NOT NULL,
	admitted_by  TEXT    NOT NULL,
	admitted_at  INTEGER NOT NULL, -- ms
	branch_room  TEXT,             -- NULL until announced
	name         TEXT,
	electorate   INTEGER,
	announced_at INTEGER,          -- ms
	PRIMARY KEY (council_room, bot)
) WITHOUT ROWID;
CREATE UNIQUE INDEX council_branches_branch ON council_branches (council_room, branch_room) WHERE branch_room IS NOT NULL;

-- This bot's branch rooms and the councils they decided to join: status
-- proposed (an affiliation motion is open), carried, joined, leaving (a
-- disaffiliation motion is open) or left; a lost vote's outcome otherwise.
CREATE TABLE affiliations (
	branch_room  TEXT    NOT NULL,
	council_room TEXT    NOT NULL,
	motion_id    INTEGER NOT NULL,
	status       TEXT    NOT NULL,
	council_bot  TEXT    NOT NULL DEFAULT '', -- who invited this bot in: the only sender of federal motions it reads
	joined       INTEGER NOT NULL DEFAULT 0,  -- the bot joined the council (kept while leaving)
	changed_at   INTEGER NOT NULL, -- ms
	PRIMARY KEY (branch_room, council_room)
) WITHOUT ROWID;
CREATE INDEX affiliations_council ON affiliations (council_room);

-- Invites of this bot into a council (!council admit) that came before an
-- affiliation carried: left pending, neither accepted nor rejected, until
-- one carries.
CREATE TABLE council_invites (
	council_room TEXT    PRIMARY KEY,
	invited_by   TEXT    NOT NULL,
	invited_at   INTEGER NOT NULL -- ms
) WITHOUT ROWID;

-- A motion opened in a council, decided by its branches' results.
CREATE TABLE federal_motions (
	id           INTEGER PRIMARY KEY,
	council_room TEXT    NOT NULL REFERENCES councils (room_id),
	number       INTEGER NOT NULL,
	text         TEXT    NOT NULL,
	proposer     TEXT    NOT NULL,
	opened_at    INTEGER NOT NULL, -- ms
	closes_at    INTEGER NOT NULL, -- ms
	status       TEXT    NOT NULL, -- open, carried, failed
	closed_at    INTEGER,          -- ms
	UNIQUE (council_room, number)
);
CREATE INDEX federal_motions_open ON federal_motions (closes_at) WHERE status = 'open';

-- A branch's result of a federal motion, as its admitted bot reported it:
-- one per branch, the first that came.
CREATE TABLE branch_results (
	federal_motion INTEGER NOT NULL REFERENCES federal_motions (id),
	bot            TEXT    NOT NULL,
	branch_room    TEXT    NOT NULL,
	status         TEXT    NOT NULL,
	yes            INTEGER NOT NULL,
	no             INTEGER NOT NULL,
	abstain        INTEGER NOT NULL,
	electorate     INTEGER NOT NULL,
	record_seq     INTEGER NOT NULL,
	record_hash    TEXT    NOT NULL,
	received_at    INTEGER NOT NULL, -- ms
	PRIMARY KEY (federal_motion, bot)
) WITHOUT ROWID;

-- The branch motion this bot opened for a council's federal motion: one
-- per council motion, however often its notice is seen.
CREATE TABLE federal_branch_motions (
	branch_room    TEXT    NOT NULL,
	council_room   TEXT    NOT NULL,
	council_motion INTEGER NOT NULL,
	motion_id      INTEGER NOT NULL,
	PRIMARY KEY (branch_room, council_room, council_motion)
) WITHOUT ROWID;
