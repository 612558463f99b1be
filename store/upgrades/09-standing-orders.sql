-- v8 -> v9: Standing orders
-- The rules of procedure a room's assembly changed by a vote (!rules set);
-- a rule not here is the configured default.
CREATE TABLE standing_orders (
	room_id    TEXT    NOT NULL,
	rule       TEXT    NOT NULL,
	value      TEXT    NOT NULL,
	changed_at INTEGER NOT NULL, -- ms
	motion_id  INTEGER NOT NULL, -- the motion that carried it
	PRIMARY KEY (room_id, rule)
) WITHOUT ROWID;
