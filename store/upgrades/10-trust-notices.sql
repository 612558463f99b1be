-- v9 -> v10: What the bot said once about members' sessions and identities
-- The bot ignores what a member's unverified session sends, and what comes
-- unencrypted into an encrypted room, and says why once; it announces a
-- member's changed cross-signing identity once. Each row is one such thing
-- said: a member and what it was about.
CREATE TABLE trust_notices (
	user_id TEXT    NOT NULL,
	subject TEXT    NOT NULL, -- "device <ID>", "plaintext", "identity <master key>"
	told_at INTEGER NOT NULL, -- ms
	PRIMARY KEY (user_id, subject)
) WITHOUT ROWID;
