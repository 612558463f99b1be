-- v7 -> v8: One queue of notice edits
-- A notice that shows a live count (a motion's tally, a study session's
-- answers) is edited after a burst of changes, not on each. This one queue
-- holds those edits for every kind of notice, instead of a column pair in
-- each feature's table and a scheduler in each feature.
CREATE TABLE notice_edits (
	kind      TEXT    NOT NULL,           -- who edits it: motion, session
	ref       INTEGER NOT NULL,           -- what it is about (the motion's or session's ID)
	due_at    INTEGER NOT NULL DEFAULT 0, -- ms; 0: no edit pending
	edited_at INTEGER NOT NULL DEFAULT 0, -- ms; the last edit, for the least gap between two
	PRIMARY KEY (kind, ref)
) WITHOUT ROWID;
CREATE INDEX notice_edits_due ON notice_edits (due_at) WHERE due_at != 0;

INSERT INTO notice_edits (kind, ref, due_at, edited_at)
	SELECT 'motion', id, edit_due_at, edited_at FROM motions WHERE edit_due_at != 0 OR edited_at != 0;
INSERT INTO notice_edits (kind, ref, due_at)
	SELECT 'session', id, edit_due_at FROM study_sessions WHERE edit_due_at != 0;
ALTER TABLE motions DROP COLUMN edit_due_at;
ALTER TABLE motions DROP COLUMN edited_at;
ALTER TABLE study_sessions DROP COLUMN edit_due_at;
