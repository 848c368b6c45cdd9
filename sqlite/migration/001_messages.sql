-- The message log. seq is the message id's sequence number: assigned by the
-- store, growing in publish order across all topics.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per topic ever published to; never deleted, so last_seq keeps the
-- highest seq ever assigned even after retention empties the topic.
CREATE TABLE topics (
	id              INTEGER PRIMARY KEY,
	name            TEXT NOT NULL UNIQUE,
	count           INTEGER NOT NULL DEFAULT 0, -- messages currently stored
	last_seq        INTEGER NOT NULL DEFAULT 0, -- newest message of the topic
	trimmed_through INTEGER NOT NULL DEFAULT 0  -- highest seq removed by retention
);

CREATE TABLE messages (
	seq      INTEGER PRIMARY KEY,
	topic_id INTEGER NOT NULL REFERENCES topics(id),
	type     TEXT NOT NULL,
	ts       INTEGER NOT NULL,
	data     BLOB NOT NULL
);
CREATE INDEX messages_topic_seq ON messages(topic_id, seq);
CREATE INDEX messages_topic_ts ON messages(topic_id, ts);

CREATE TABLE dashboards (
	name    TEXT PRIMARY KEY,
	body    BLOB NOT NULL,      -- the dashboard as JSON
	updated INTEGER NOT NULL    -- unix ms
) WITHOUT ROWID;
