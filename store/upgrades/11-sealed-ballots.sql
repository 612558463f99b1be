-- v10 -> v11: Sealed ballot boxes, ballot codes, private handled events
-- A secret ballot keeps nothing in order and nothing in the clear. When it
-- opens, it gets a ballot code, unique across rooms for good, that members
-- vote with from their direct chat (`!vote K3P7 y`), so that two rooms'
-- motions with the same number never collide. Its roll (who voted: one bit
-- per member of the electorate, in the electorate's sorted order) and its
-- box (one slot per member: receipt code and choice, sorted by code) each
-- have a fixed size from the opening, are sealed with the key beside the
-- database (store/seal.go) and are rewritten whole by every ballot, in
-- separate tables. Only the turnout is in the clear (the room sees it).
-- Both rows are deleted, overwritten and the database compacted when the
-- motion ends; the receipts live on in the result's record entry.
-- secret_voters and secret_ballots are emptied into these, sealed, and
-- dropped on the first open (store.sealLegacy), which needs the key.
ALTER TABLE motions ADD COLUMN ballot_code TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX motions_ballot_code ON motions (ballot_code) WHERE ballot_code != '';

CREATE TABLE ballot_rolls (
	motion_id INTEGER PRIMARY KEY REFERENCES motions (id),
	turnout   INTEGER NOT NULL DEFAULT 0,
	roll      BLOB    NOT NULL
);

CREATE TABLE ballot_boxes (
	motion_id INTEGER PRIMARY KEY REFERENCES motions (id),
	box       BLOB    NOT NULL
);

-- Events from a member's direct room that the bot handled, under a keyed
-- hash of their ID (no ID, no room, no time finer than the day), so that a
-- copy of the database tells neither which direct messages were sent nor
-- in what order.
CREATE TABLE handled_private (
	hash BLOB    PRIMARY KEY,
	day  INTEGER NOT NULL -- days since 1970-01-01 (UTC), to forget it after 90 days
) WITHOUT ROWID;
