-- v19 -> v20: Receipts not kept: a queued message sealed with a key that lives only in the running bot's memory
-- fallback, if set, is what goes instead (sealed with the seal key) when
-- the payload does not open: the bot restarted before sending it.
ALTER TABLE outbox ADD COLUMN fallback BLOB;
