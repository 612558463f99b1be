-- v11 -> v12: Direct rooms kept to two, an outbox sent per destination
-- A member's direct room is being made, or the member is owed a word on why
-- their previous one was left (someone else got in). token is written into
-- the new room's state (quorum.dm) before the room exists, so that a
-- creation whose answer was lost, or that failed after the room was made,
-- is found again among the bot's rooms instead of made twice; it is '' once
-- the room is known. explain is why the old one was left (1: someone else
-- got in; 2: it let the member invite, made before direct rooms were kept
-- to two) until the member was told so in the new room, then 0.
CREATE TABLE dm_pending (
	user_id TEXT PRIMARY KEY,
	token   TEXT NOT NULL DEFAULT '',
	explain INTEGER NOT NULL DEFAULT 0
);

-- The sender takes each destination's oldest entry (a room, or a member's
-- direct messages), so that one that cannot be sent holds back only its own.
CREATE INDEX outbox_destination ON outbox (room_id, dm_user, id);
