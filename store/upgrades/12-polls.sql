-- v11 -> v12: Native polls beside reactions, and a settle time before an early close
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
