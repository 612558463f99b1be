-- v18 -> v19: Council delegates: the members branches elected to sit in a council, seated there by its bot
-- One row per branch that seats a member in a council (several branches may
-- elect the same member). invited: the council's bot invited them for a
-- seat (they were not in the council before), so it removes them once no
-- branch seats them any more.
CREATE TABLE council_delegates (
	council_room TEXT    NOT NULL REFERENCES councils (room_id),
	branch_room  TEXT    NOT NULL,
	user_id      TEXT    NOT NULL,
	bot          TEXT    NOT NULL, -- the branch's bot that seated them
	delegation   INTEGER NOT NULL, -- the branch's delegation number
	invited      INTEGER NOT NULL DEFAULT 0,
	seated_at    INTEGER NOT NULL, -- ms
	PRIMARY KEY (council_room, branch_room, user_id)
) WITHOUT ROWID;
