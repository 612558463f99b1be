-- v0 -> v1: Foundation: rooms, handled events, outbox, anchors, DMs
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

-- Rooms the bot is in. joined_at (ms) is the origin_server_ts of the bot's own
-- join: anything older is history from before the bot and is never replayed.
-- synced_until (ms) is the newest timeline event processed: after a gap in
-- the sync (the bot was down), the bot pages back to it.
CREATE TABLE rooms (
	room_id            TEXT PRIMARY KEY,
	joined_at          INTEGER NOT NULL,
	synced_until       INTEGER NOT NULL DEFAULT 0,
	warned_unencrypted INTEGER NOT NULL DEFAULT 0
);

-- Every event the bot acted on (command, reaction, redaction), so that a
-- redelivery after a crash or restart is never handled twice.
CREATE TABLE handled (
	event_id   TEXT PRIMARY KEY,
	room_id    TEXT NOT NULL,
	handled_at INTEGER NOT NULL
);
CREATE INDEX handled_time ON handled (handled_at);

-- Messages waiting to be sent. Written in the same transaction as the state
-- change they report; deleted once the homeserver has the event.
CREATE TABLE outbox (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	room_id     TEXT NOT NULL DEFAULT '', -- '' for a DM not yet given a room
	dm_user     TEXT NOT NULL DEFAULT '', -- set for direct messages
	kind        TEXT NOT NULL,            -- message, file, power
	payload     TEXT NOT NULL,            -- JSON, see Outbox
	created_at  INTEGER NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT NOT NULL DEFAULT ''
);

-- Bot messages that mean something (a motion notice people react to, a swap
-- request): event ID to (kind, ref) in the feature's own table.
CREATE TABLE anchors (
	event_id TEXT PRIMARY KEY,
	room_id  TEXT NOT NULL,
	kind     TEXT NOT NULL,
	ref      INTEGER NOT NULL
);
CREATE INDEX anchors_ref ON anchors (kind, ref);

-- The encrypted direct room the bot uses with each member.
CREATE TABLE dm_rooms (
	user_id TEXT PRIMARY KEY,
	room_id TEXT NOT NULL UNIQUE
);

-- Per-user preferences.
CREATE TABLE users (
	user_id  TEXT PRIMARY KEY,
	timezone TEXT NOT NULL DEFAULT ''
);
