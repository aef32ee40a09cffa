-- Speech labels: what an analyst decided about a message (`flashpoint label`), the training data
-- of `flashpoint train speech --from-store`. One label per message: labelling again replaces it.
-- Labels are the analyst's own data and stay in the store; the message text is joined in, never copied.

CREATE TABLE speech_labels (
    message_rowid  INTEGER PRIMARY KEY REFERENCES messages(rowid_),
    label          TEXT NOT NULL,             -- e.g. dangerous | not_dangerous | counter_speech
    target         TEXT,                      -- the targeted group id (dungan, kazakh ...), when given
    analyst        TEXT,                      -- who labelled it, as they named themselves
    labelled_at    TEXT NOT NULL              -- UTC, fixed-width ISO 8601
);
CREATE INDEX speech_labels_label ON speech_labels(label);
