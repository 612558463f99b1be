-- v17 -> v18: Languages: a room's, set with !lang by a moderator, and a member's own for their direct chats
CREATE TABLE room_languages (
	room_id  TEXT PRIMARY KEY,
	language TEXT NOT NULL
) WITHOUT ROWID;

ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
