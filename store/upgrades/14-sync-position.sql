-- v13 -> v14: Catch-up by position, not by clock
-- synced_until held the origin_server_ts of the newest timeline event the
-- bot had processed, and catch-up after a gap paged back until an event no
-- newer than that: one event dated in 2100 pinned it for good, and one
-- back-dated inside a gap cut the gap short. last_event is the ID of that
-- event instead, and catch-up pages back until it reaches it (or another
-- event it knows it has processed): the homeserver's order, not a clock
-- anyone can set, decides where a gap ends. A member's direct room keeps
-- none, as before (store.Rooms.SetPosition). synced_until is no longer
-- read or written; it is emptied so that no timestamp is left behind.
ALTER TABLE rooms ADD COLUMN last_event TEXT NOT NULL DEFAULT '';
UPDATE rooms SET synced_until=0;
