-- Rumour clusters: which cluster each message joined, in arrival order (the clusterer is rebuilt by
-- replaying these rows). cluster_id is the id of the cluster's first message; when clusters merge,
-- the members of the merged ones take the survivor's id.
CREATE TABLE rumour_members (
    message_rowid  INTEGER PRIMARY KEY REFERENCES messages(rowid_),
    seq            INTEGER NOT NULL UNIQUE,
    cluster_id     TEXT NOT NULL,
    similarity     REAL NOT NULL
);
CREATE INDEX rumour_members_cluster ON rumour_members (cluster_id);
