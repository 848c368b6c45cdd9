-- Small named blobs of server state (rollup and alert engine state) that
-- must survive a restart.
CREATE TABLE state (
	key     TEXT PRIMARY KEY,
	value   BLOB NOT NULL,
	updated INTEGER NOT NULL -- unix ms
) WITHOUT ROWID;
