-- v14 -> v15: Contested elections, ranked and counted by STV
-- A contested election is a motion of kind 'stv' (so that it shares the
-- room's numbering and the mandates it gives point at it), with its own
-- statuses: nominations, voting, decided, cancelled. Its role, seats, term,
-- mandate, ballot order and result are in the motion's payload; its
-- electorate in the motions' electorate table.

-- Members nominated, by whom, and whether they accepted. Nobody is on the
-- ballot without accepting.
CREATE TABLE stv_candidates (
	motion_id    INTEGER NOT NULL REFERENCES motions (id),
	user_id      TEXT    NOT NULL,
	nominated_by TEXT    NOT NULL,
	nominated_at INTEGER NOT NULL,
	accepted_at  INTEGER NOT NULL DEFAULT 0, -- ms; 0: not (yet) accepted
	PRIMARY KEY (motion_id, user_id)
);

-- Each voter's latest ranking (a JSON array of user IDs, the most preferred
-- first). A withdrawn ranking is deleted: only the latest counts.
CREATE TABLE stv_rankings (
	motion_id INTEGER NOT NULL REFERENCES motions (id),
	voter     TEXT    NOT NULL,
	ranking   TEXT    NOT NULL,
	ranked_at INTEGER NOT NULL,
	PRIMARY KEY (motion_id, voter)
) WITHOUT ROWID;
