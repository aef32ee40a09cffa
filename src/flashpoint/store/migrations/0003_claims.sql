-- The claim registry (`flashpoint claims add | list | show | import`): fact-checked claims that messages
-- and rumour clusters are matched to. Texts and corrections are JSON objects {language: text}.
-- content_sha256 hashes what the claim says, so importing the same file twice adds nothing.

CREATE TABLE claims (
    id              TEXT PRIMARY KEY,
    verdict         TEXT NOT NULL,                -- false | misleading | true | unverified
    texts           TEXT NOT NULL,                -- JSON {ru|kk|en: claim text}, at least one
    corrections     TEXT NOT NULL DEFAULT '{}',   -- JSON {ru|kk|en: correction text}
    sources         TEXT NOT NULL DEFAULT '[]',   -- JSON list of URLs
    tags            TEXT NOT NULL DEFAULT '[]',   -- JSON list
    claimed_at      TEXT,                         -- YYYY-MM-DD: when the claim first circulated
    checked_at      TEXT,                         -- YYYY-MM-DD: when it was checked
    content_sha256  TEXT NOT NULL,
    added_at        TEXT NOT NULL,                -- UTC, fixed-width ISO 8601
    updated_at      TEXT NOT NULL
);
CREATE INDEX claims_verdict ON claims(verdict);
