-- v16 -> v17: Federation: the council's bot named by the branch's vote; the branches a federal motion went to
-- Invites into a council kept until the branch's affiliation carries: one
-- per inviter (the first inviter no longer stands for all), so that the
-- bot named by the affiliation motion is found among them.
CREATE TABLE council_invites_v17 (
	council_room TEXT    NOT NULL,
	invited_by   TEXT    NOT NULL,
	invited_at   INTEGER NOT NULL, -- ms
	PRIMARY KEY (council_room, invited_by)
) WITHOUT ROWID;
INSERT INTO council_invites_v17 (council_room, invited_by, invited_at)
	SELECT council_room, invited_by, invited_at FROM council_invites;
DROP TABLE council_invites;
ALTER TABLE council_invites_v17 RENAME TO council_invites;

-- The branches a federal motion was sent to when it opened: only these are
-- counted, and named when they did not report.
CREATE TABLE federal_motion_branches (
	federal_motion INTEGER NOT NULL REFERENCES federal_motions (id),
	bot            TEXT    NOT NULL,
	branch_room    TEXT    NOT NULL,
	name           TEXT    NOT NULL,
	PRIMARY KEY (federal_motion, bot)
) WITHOUT ROWID;

-- The electorate this bot last announced for its branch in the council
-- (quorum.branch): the council takes no branch result with a larger one, so
-- the bot announces again when its branch has grown.
ALTER TABLE affiliations ADD COLUMN electorate INTEGER NOT NULL DEFAULT 0;

-- The least voting time of a branch's motions, as its bot announced it: a
-- federal motion's deadline leaves every branch at least that.
ALTER TABLE council_branches ADD COLUMN voting_ms INTEGER NOT NULL DEFAULT 0;
