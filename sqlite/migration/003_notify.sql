-- Alert notifications waiting to be delivered (package notify), one row per
-- (alert message id, receiver), until sent or given up. The notify cursor
-- (how far the alerts were read) is in state, saved in the same transaction.
CREATE TABLE notify_queue (
	key      TEXT PRIMARY KEY,  -- id + ' ' + receiver
	id       TEXT NOT NULL,     -- the alert message's id
	receiver TEXT NOT NULL,
	body     BLOB NOT NULL,     -- the request body, rendered once
	created  INTEGER NOT NULL,  -- unix ms queued
	attempts INTEGER NOT NULL DEFAULT 0,
	next_at  INTEGER NOT NULL   -- unix ms of the next try
) WITHOUT ROWID;
CREATE INDEX notify_queue_due ON notify_queue(receiver, next_at);
