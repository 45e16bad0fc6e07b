-- Safeguarding: reports of sexual exploitation and abuse (SEA), readable only by the PSEA
-- focal points. What a person says is encrypted (age) before it is written; this schema holds
-- ciphertext and the few facts needed to act on time, never the reporter's address.

-- Whom reports are encrypted to: every focal point registered, plus one escrow key.
CREATE TABLE psea_recipients (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL,
    public_key    text NOT NULL,
    escrow        boolean NOT NULL DEFAULT false,
    -- where the focal point is alerted (never with content): a Telegram chat, a phone number
    telegram_chat bigint,
    phone         text,
    language      text NOT NULL DEFAULT 'en' CHECK (language IN ('ar', 'ckb', 'badini', 'en')),
    created_at    timestamptz NOT NULL,
    removed_at    timestamptz
);
CREATE UNIQUE INDEX psea_recipients_name_idx ON psea_recipients (lower(name)) WHERE removed_at IS NULL;
CREATE UNIQUE INDEX psea_recipients_escrow_idx ON psea_recipients (escrow) WHERE escrow AND removed_at IS NULL;

CREATE TABLE sea_reports (
    id              bigserial PRIMARY KEY,
    reference       text NOT NULL UNIQUE,
    channel         text NOT NULL,
    status          text NOT NULL CHECK (status IN ('new', 'acknowledged', 'referred', 'in_progress', 'resolved', 'closed')),
    -- the person reached the end of the questions; an unfinished report is still a report
    complete        boolean NOT NULL DEFAULT false,
    assignee        text,
    ack_due_at      timestamptz NOT NULL,
    resolve_due_at  timestamptz NOT NULL,
    acknowledged_at timestamptz,
    resolved_at     timestamptz,
    -- focal points were told of it / reminded that it is overdue
    alerted_at      timestamptz,
    reminded_at     timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX sea_reports_open_idx ON sea_reports (status, ack_due_at);

-- What the person said (each answer, how to reach them) and the focal points' notes: each a
-- ciphertext of its own, written when it arrived.
CREATE TABLE sea_parts (
    id         bigserial PRIMARY KEY,
    report_id  bigint NOT NULL REFERENCES sea_reports (id),
    kind       text NOT NULL CHECK (kind IN ('answer', 'note')),
    ciphertext bytea NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX sea_parts_report_idx ON sea_parts (report_id, id);

-- A confidential recording's audio is stored encrypted like the report it belongs to.
ALTER TABLE recordings
    ADD COLUMN confidential  boolean NOT NULL DEFAULT false,
    ADD COLUMN sea_report_id bigint REFERENCES sea_reports (id);

-- The message log keeps a placeholder for every message of a confidential conversation. What
-- a confidential reply says waits here until it is sent (or, answered inline on a call, a few
-- minutes for a retried step), then is deleted.
CREATE TABLE confidential_bodies (
    message_id bigint PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    body       jsonb NOT NULL,
    created_at timestamptz NOT NULL
);

-- Who did what to sensitive data and when, never what it said. Append-only: each entry is
-- hashed with the previous entry's hash, and the database refuses to change or remove one.
CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    action    text NOT NULL,
    subject   text NOT NULL DEFAULT '',
    detail    text NOT NULL DEFAULT '',
    prev_hash bytea NOT NULL,
    hash      bytea NOT NULL UNIQUE
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
