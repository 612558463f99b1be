-- v5 -> v6: Decision record, secret ballots
-- The hash-chained record of decisions, one chain per room (see package
-- record). Content is canonical JSON; hash covers seq, time, kind, content
-- and prev, so no row can be edited, removed or reordered unnoticed.
CREATE TABLE record_entries (
	room_id TEXT    NOT NULL,
	seq     INTEGER NOT NULL,
	time    INTEGER NOT NULL, -- unix seconds, UTC
	kind    TEXT    NOT NULL,
	content TEXT    NOT NULL,
	prev    TEXT    NOT NULL,
	hash    TEXT    NOT NULL,
	PRIMARY KEY (room_id, seq)
) WITHOUT ROWID;

-- Secret ballots keep who voted apart from how. secret_voters says that a
-- member voted (one vote each); secret_ballots holds the choices under their
-- random receipt codes, with no voter, no time, and ordered by the random
-- code, so neither table nor their order links a member to a choice.
CREATE TABLE secret_voters (
	motion_id INTEGER NOT NULL REFERENCES motions (id),
	voter     TEXT    NOT NULL,
	PRIMARY KEY (motion_id, voter)
) WITHOUT ROWID;

CREATE TABLE secret_ballots (
	motion_id INTEGER NOT NULL REFERENCES motions (id),
	code      TEXT    NOT NULL,
	choice    TEXT    NOT NULL,
	PRIMARY KEY (motion_id, code)
) WITHOUT ROWID;
