-- Codebases, their immutable versions, and the drafts being edited.
--
-- File contents live once in blobs, keyed by their SHA-256. A version lists
-- the files its codebase owns; a derived codebase owns only the files it
-- changes and reads the rest from its base's version base_version.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE blobs (
	hash TEXT PRIMARY KEY,
	size INTEGER NOT NULL,
	data BLOB NOT NULL
);

CREATE TABLE codebases (
	id         INTEGER PRIMARY KEY,
	path       TEXT NOT NULL UNIQUE,
	base_id    INTEGER REFERENCES codebases(id),
	main       TEXT NOT NULL,               -- the main entry being edited
	version    INTEGER NOT NULL,            -- the latest committed version
	read_only  INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL             -- Unix milliseconds
);
CREATE INDEX codebases_base ON codebases(base_id);

CREATE TABLE versions (
	codebase_id  INTEGER NOT NULL REFERENCES codebases(id) ON DELETE CASCADE,
	version      INTEGER NOT NULL,
	main         TEXT NOT NULL,
	base_version INTEGER,                   -- the base's version this one builds on
	created_at   INTEGER NOT NULL,
	PRIMARY KEY (codebase_id, version)
);

CREATE TABLE version_files (
	codebase_id INTEGER NOT NULL,
	version     INTEGER NOT NULL,
	path        TEXT NOT NULL,
	hash        TEXT NOT NULL REFERENCES blobs(hash),
	PRIMARY KEY (codebase_id, version, path),
	FOREIGN KEY (codebase_id, version) REFERENCES versions(codebase_id, version) ON DELETE CASCADE
);
CREATE INDEX version_files_hash ON version_files(hash);

-- A draft is an edited file (hash set) or an erased one (hash NULL).
CREATE TABLE drafts (
	codebase_id INTEGER NOT NULL REFERENCES codebases(id) ON DELETE CASCADE,
	path        TEXT NOT NULL,
	hash        TEXT REFERENCES blobs(hash),
	PRIMARY KEY (codebase_id, path)
);
CREATE INDEX drafts_hash ON drafts(hash);
