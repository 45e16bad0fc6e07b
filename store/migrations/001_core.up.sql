-- Contacts and how to reach them. A contact is a person as far as we know them; a URN is
-- one address of theirs on one channel. Shared phones are common: a URN identifies a phone,
-- never proves who holds it.
CREATE TABLE contacts (
    id            bigserial PRIMARY KEY,
    language      text CHECK (language IN ('ar', 'ckb', 'badini', 'en')),
    language_hint text,
    governorate   text,
    site          text,
    household_id  text,
    -- opted out of broadcasts (STOP); conversations and complaints still work
    opted_out_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE urns (
    id           bigserial PRIMARY KEY,
    urn          text NOT NULL UNIQUE,
    scheme       text NOT NULL,
    contact_id   bigint NOT NULL REFERENCES contacts (id),
    -- the provider refused to deliver to this address (blocked bot, carrier STOP)
    opted_out_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX urns_contact_idx ON urns (contact_id);

-- The conversation state of a contact: one row, locked for the length of a step.
CREATE TABLE sessions (
    contact_id bigint PRIMARY KEY REFERENCES contacts (id),
    state      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every inbound message a provider gave us, unique per channel so a retried webhook is a no-op.
CREATE TABLE inbox (
    id          bigserial PRIMARY KEY,
    channel     text NOT NULL,
    external_id text NOT NULL,
    received_at timestamptz NOT NULL,
    UNIQUE (channel, external_id)
);

-- The message log, both directions. Text of a confidential conversation is never stored here.
CREATE TABLE messages (
    id          bigserial PRIMARY KEY,
    contact_id  bigint NOT NULL REFERENCES contacts (id),
    urn_id      bigint NOT NULL REFERENCES urns (id),
    channel     text NOT NULL,
    direction   text NOT NULL CHECK (direction IN ('in', 'out')),
    inbox_id    bigint REFERENCES inbox (id),
    reply_to    bigint REFERENCES messages (id),
    language    text,
    text        text NOT NULL DEFAULT '',
    redacted    boolean NOT NULL DEFAULT false,
    payload     text NOT NULL DEFAULT '',
    media       jsonb,
    choices     jsonb,
    keys        jsonb,
    inline      boolean NOT NULL DEFAULT false,
    status      text NOT NULL CHECK (status IN ('received', 'queued', 'sent', 'delivered', 'failed')),
    provider_id text,
    error       text,
    attempts    int NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_contact_idx ON messages (contact_id, id);
CREATE INDEX messages_reply_to_idx ON messages (reply_to) WHERE reply_to IS NOT NULL;
CREATE UNIQUE INDEX messages_inbox_idx ON messages (inbox_id) WHERE inbox_id IS NOT NULL;

-- Case categories, as in common CFM practice; priority and deadlines are settings an
-- administrator may change.
CREATE TABLE categories (
    code          text PRIMARY KEY,
    priority      text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    ack_hours     int NOT NULL CHECK (ack_hours > 0),
    refer_hours   int NOT NULL CHECK (refer_hours > 0),
    resolve_hours int NOT NULL CHECK (resolve_hours > 0),
    sensitive     boolean NOT NULL DEFAULT false,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (ack_hours <= refer_hours AND refer_hours <= resolve_hours)
);

INSERT INTO categories (code, priority, ack_hours, refer_hours, resolve_hours, sensitive) VALUES
    ('feedback',               'low',      72, 168, 720, false),
    ('information_request',    'normal',   24,  48,  72, false),
    ('assistance_request',     'normal',   24,  72, 336, false),
    ('minor_dissatisfaction',  'normal',   24,  72, 336, false),
    ('major_dissatisfaction',  'high',     24,  48, 168, false),
    ('sea',                    'critical', 24,  24, 168, true),
    ('misconduct_fraud',       'high',     24,  48, 168, true),
    ('safety_security',        'critical',  4,  24,  72, true),
    ('out_of_scope',           'low',      72, 168, 336, false),
    ('other',                  'normal',   24,  72, 336, false);

CREATE TABLE cases (
    id                bigserial PRIMARY KEY,
    reference         text NOT NULL UNIQUE,
    contact_id        bigint NOT NULL REFERENCES contacts (id),
    category          text NOT NULL REFERENCES categories (code),
    priority          text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    status            text NOT NULL CHECK (status IN ('new', 'acknowledged', 'referred', 'in_progress', 'resolved', 'closed')),
    channel           text NOT NULL,
    language          text,
    description       text NOT NULL DEFAULT '',
    governorate       text,
    site              text,
    consent_contact   boolean NOT NULL DEFAULT false,
    consent_share     boolean NOT NULL DEFAULT false,
    source_message_id bigint REFERENCES messages (id),
    assignee          text,
    ack_due_at        timestamptz NOT NULL,
    refer_due_at      timestamptz NOT NULL,
    resolve_due_at    timestamptz NOT NULL,
    acknowledged_at   timestamptz,
    resolved_at       timestamptz,
    closed_at         timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX cases_queue_idx ON cases (status, priority, resolve_due_at);
CREATE INDEX cases_contact_idx ON cases (contact_id);

CREATE TABLE case_events (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id),
    kind        text NOT NULL,
    from_status text,
    to_status   text,
    actor       text NOT NULL,
    note        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL
);
CREATE INDEX case_events_case_idx ON case_events (case_id, id);
