-- The phone line renders a reply from its parts (which recording to play, which number to
-- read digit by digit) and from what it waits for; the parts replace the bare text keys.
ALTER TABLE messages ADD COLUMN parts jsonb, ADD COLUMN expect text, ADD COLUMN error_code text;
ALTER TABLE messages DROP COLUMN keys;

-- SMS delivery reports tell "undelivered" (the network gave up) apart from "failed" (never sent).
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('received', 'queued', 'sent', 'delivered', 'undelivered', 'failed'));

-- A provider may send one reply as several messages (a long SMS in parts); each one's ID leads
-- its delivery reports back to the reply.
CREATE TABLE provider_messages (
    provider_id text PRIMARY KEY,
    message_id  bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    status      text NOT NULL,
    error_code  text,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX provider_messages_message_idx ON provider_messages (message_id);

-- A caller who hangs up half-way leaves an unfinished case to be called back; a call-back
-- request is a case too.
ALTER TABLE cases ADD COLUMN call_back boolean NOT NULL DEFAULT false,
                  ADD COLUMN incomplete boolean NOT NULL DEFAULT false;

-- Recordings from the phone line, fetched from the provider and kept here (then deleted at the
-- provider): in the database they are backed up, shared by every node and linked to their case
-- in the same transaction that opens it.
CREATE TABLE recordings (
    id                  bigserial PRIMARY KEY,
    provider_id         text NOT NULL UNIQUE,
    call_id             text,
    contact_id          bigint REFERENCES contacts (id),
    case_id             bigint REFERENCES cases (id),
    url                 text,
    duration_seconds    integer,
    content_type        text,
    audio               bytea,
    fetched_at          timestamptz,
    deleted_at_provider timestamptz,
    created_at          timestamptz NOT NULL
);
CREATE INDEX recordings_case_idx ON recordings (case_id) WHERE case_id IS NOT NULL;
