-- Foundation schema: runs, file checkpoints, the raw archive, messages, enrichments, quarantine.

-- Facts about the store itself, such as check values of the keys it was written with.
CREATE TABLE store_meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

CREATE TABLE ingest_runs (
    id              INTEGER PRIMARY KEY,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    status          TEXT NOT NULL,            -- running | done | done_with_errors | interrupted
    host            TEXT NOT NULL,            -- where the writer ran, to find runs that were killed
    pid             INTEGER NOT NULL,
    paths           TEXT NOT NULL,            -- JSON list
    pipeline        TEXT NOT NULL,            -- JSON: stages with versions
    records_read    INTEGER NOT NULL DEFAULT 0,  -- counts grow batch by batch, so a killed run keeps them
    messages_added  INTEGER NOT NULL DEFAULT 0,
    duplicates      INTEGER NOT NULL DEFAULT 0,
    skipped         INTEGER NOT NULL DEFAULT 0,
    quarantined     INTEGER NOT NULL DEFAULT 0,
    skipped_reasons TEXT NOT NULL DEFAULT '{}', -- JSON {reason: count}
    errors          TEXT NOT NULL DEFAULT '[]', -- JSON list of file-level errors
    duration_s      REAL
);

-- One row per input file (by fingerprint): how far ingest got, so a killed run resumes.
CREATE TABLE ingest_files (
    fingerprint   TEXT PRIMARY KEY,
    path          TEXT NOT NULL,
    format        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    options       TEXT NOT NULL,
    next_ordinal  INTEGER NOT NULL DEFAULT 0,
    complete      INTEGER NOT NULL DEFAULT 0,
    run_id        INTEGER REFERENCES ingest_runs(id),
    updated_at    TEXT NOT NULL
);

-- Append-only, hash-chained archive of every raw record, stored once by SHA-256.
CREATE TABLE raw_archive (
    seq          INTEGER PRIMARY KEY,
    sha256       TEXT NOT NULL UNIQUE,
    captured_at  TEXT NOT NULL,
    source_file  TEXT NOT NULL,
    locator      TEXT NOT NULL,
    ordinal      INTEGER NOT NULL,
    format       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    data         BLOB NOT NULL,
    prev_hash    TEXT NOT NULL,
    entry_hash   TEXT NOT NULL
);
CREATE TRIGGER raw_archive_no_update BEFORE UPDATE ON raw_archive
BEGIN SELECT RAISE(ABORT, 'raw_archive is append-only'); END;
CREATE TRIGGER raw_archive_no_delete BEFORE DELETE ON raw_archive
BEGIN SELECT RAISE(ABORT, 'raw_archive is append-only'); END;

-- A rowid table: rows append in arrival order; only the small id index takes random inserts.
CREATE TABLE messages (
    rowid_          INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    source          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    native_id       TEXT,
    sent_at         TEXT NOT NULL,            -- UTC, fixed-width ISO 8601
    utc_offset_min  INTEGER,                  -- the offset the source wrote
    author          TEXT,                     -- keyed pseudonym
    author_raw      TEXT,                     -- only with privacy.keep_raw_authors
    author_name     TEXT,                     -- only with privacy.keep_raw_authors
    text            TEXT NOT NULL,
    reply_to        TEXT,
    forwarded_from  TEXT,
    edited_at       TEXT,
    title           TEXT,
    url             TEXT,
    attachments     TEXT NOT NULL DEFAULT '[]',
    extra           TEXT NOT NULL DEFAULT '{}',
    raw_sha256      TEXT NOT NULL REFERENCES raw_archive(sha256),
    run_id          INTEGER NOT NULL,
    ingested_at     TEXT NOT NULL
);
CREATE INDEX messages_sent_at ON messages(sent_at);
CREATE INDEX messages_source_sent_at ON messages(source, sent_at);
CREATE INDEX messages_channel ON messages(channel, sent_at);

CREATE VIEW news_items AS SELECT * FROM messages WHERE kind = 'news';

-- What each stage added to each message (JSON), with the stage version that produced it. Keyed by
-- the message's integer rowid, which the writer hands out in order, so inserts append.
CREATE TABLE enrichments (
    message_rowid  INTEGER NOT NULL REFERENCES messages(rowid_),
    stage          TEXT NOT NULL,
    version        INTEGER NOT NULL,
    data           TEXT NOT NULL,
    PRIMARY KEY (message_rowid, stage)
) WITHOUT ROWID;

CREATE TABLE quarantine (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER,
    source_file  TEXT NOT NULL,
    locator      TEXT NOT NULL,
    ordinal      INTEGER NOT NULL,
    format       TEXT NOT NULL,
    options      TEXT NOT NULL,
    context      BLOB NOT NULL,                     -- sealed like data: it can hold chat names
    code         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    data         BLOB NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',   -- pending | resolved
    attempts     INTEGER NOT NULL DEFAULT 0,
    resolved_at  TEXT,
    UNIQUE (format, locator, sha256)                 -- the same bad record from a moved file is one row
);
CREATE INDEX quarantine_status ON quarantine(status);
