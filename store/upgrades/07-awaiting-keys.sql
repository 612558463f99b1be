-- v6 -> v7: Messages awaiting their room key
-- An encrypted event whose megolm key had not arrived is decrypted later,
-- outside the sync, after the sync token was saved; a stop or crash before
-- then would lose it. Its ID is kept here until it was decrypted and
-- handled, or given up on, and the events still here are fetched and
-- decrypted again on start. Only IDs: no content, no sender.
CREATE TABLE awaiting_keys (
	event_id TEXT    PRIMARY KEY,
	room_id  TEXT    NOT NULL,
	noted_at INTEGER NOT NULL
) WITHOUT ROWID;
