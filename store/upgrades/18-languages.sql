-- v17 -> v18: Languages: a room's, set with !lang by a moderator, and a member's own for their direct chats
CREATE TABLE room_languages (
	room_id  TEXT PRIMARY KEY,
	language TEXT NOT NULL
) WITHOUT ROWID;

ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';

-- The language of the room that last caused a direct message to the member:
-- their direct chat speaks it until they choose their own.
ALTER TABLE users ADD COLUMN room_language TEXT NOT NULL DEFAULT '';
