-- Outreach: awareness campaigns and distribution alerts, sent to many people at once through
-- the channels' senders, exactly once per person and run.

-- Topics people can subscribe to. They are data: a team adds one with a name in each language.
CREATE TABLE topics (
    code       text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]*$'),
    names      jsonb NOT NULL, -- {"ar": "...", "ckb": "...", "badini": "...", "en": "..."}
    position   int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO topics (code, position, names) VALUES
    ('health', 1, '{"ar": "الصحة", "ckb": "تەندروستی", "badini": "ساخلەمی", "en": "Health"}'),
    ('shelter', 2, '{"ar": "المأوى", "ckb": "پەناگە", "badini": "پەناگە", "en": "Shelter"}'),
    ('safety', 3, '{"ar": "السلامة", "ckb": "سەلامەتی", "badini": "سەلامەتی", "en": "Safety"}'),
    ('distributions', 4, '{"ar": "التوزيعات", "ckb": "دابەشکردنەکان", "badini": "بەلاڤکرن", "en": "Distributions"}');

CREATE TABLE subscriptions (
    contact_id bigint NOT NULL REFERENCES contacts (id),
    topic      text NOT NULL REFERENCES topics (code),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (contact_id, topic)
);
CREATE INDEX subscriptions_topic_idx ON subscriptions (topic, contact_id);

CREATE INDEX contacts_household_idx ON contacts (household_id) WHERE household_id IS NOT NULL;

-- A campaign: what to say (a text per language), to whom (the audience, a JSON filter) and
-- when (now, at a time, or recurring by a cron expression in the configured time zone).
CREATE TABLE campaigns (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL,
    topic           text REFERENCES topics (code),
    texts           jsonb NOT NULL,
    audience        jsonb NOT NULL DEFAULT '{}',
    -- exactly one of: send_at (once, "now" is the time it was made), cron (recurring)
    send_at         timestamptz,
    cron            text,
    allow_links     boolean NOT NULL DEFAULT false,
    allow_missing   boolean NOT NULL DEFAULT false,
    state           text NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'running', 'paused', 'cancelled', 'done')),
    -- when the next run is due (null: none, e.g. a one-off that has run)
    next_run_at     timestamptz,
    created_by      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CHECK ((send_at IS NULL) <> (cron IS NULL))
);
CREATE INDEX campaigns_due_idx ON campaigns (next_run_at) WHERE next_run_at IS NOT NULL;

-- One sending of a campaign (a recurring campaign has one per occurrence), or of a
-- distribution alert. due_at is the occurrence it is for: a run is unique per occurrence, so
-- two schedulers that see it due make one run.
CREATE TABLE campaign_runs (
    id              bigserial PRIMARY KEY,
    campaign_id     bigint REFERENCES campaigns (id),
    distribution_id bigint,
    alert           text, -- for a distribution: announcement, reminder, change, cancellation
    due_at          timestamptz NOT NULL,
    state           text NOT NULL DEFAULT 'fanning_out' CHECK (state IN ('fanning_out', 'sending', 'paused', 'cancelled', 'done')),
    texts           jsonb NOT NULL, -- the texts as they were when the run began
    targeted        int NOT NULL DEFAULT 0,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    updated_at      timestamptz NOT NULL,
    CHECK ((campaign_id IS NULL) <> (distribution_id IS NULL))
);
CREATE UNIQUE INDEX campaign_runs_occurrence_idx ON campaign_runs (campaign_id, due_at) WHERE campaign_id IS NOT NULL;
CREATE UNIQUE INDEX campaign_runs_alert_idx ON campaign_runs (distribution_id, alert, due_at) WHERE distribution_id IS NOT NULL;

-- One person's message of a run: at most one per (run, contact), whatever happens.
CREATE TABLE deliveries (
    id          bigserial PRIMARY KEY,
    run_id      bigint NOT NULL REFERENCES campaign_runs (id),
    contact_id  bigint NOT NULL REFERENCES contacts (id),
    urn_id      bigint REFERENCES urns (id),
    channel     text,
    language    text,
    status      text NOT NULL CHECK (status IN ('queued', 'sent', 'delivered', 'undelivered', 'failed', 'skipped', 'opted_out', 'cancelled')),
    provider_id text,
    error       text,
    attempts    int NOT NULL DEFAULT 0,
    sent_at     timestamptz,
    updated_at  timestamptz NOT NULL,
    UNIQUE (run_id, contact_id)
);
CREATE INDEX deliveries_queued_idx ON deliveries (run_id, id) WHERE status = 'queued';
CREATE INDEX deliveries_contact_idx ON deliveries (contact_id, sent_at) WHERE sent_at IS NOT NULL;

-- A broadcast SMS's delivery reports lead back to its delivery as a reply's lead to its message.
ALTER TABLE provider_messages ALTER COLUMN message_id DROP NOT NULL,
    ADD COLUMN delivery_id bigint REFERENCES deliveries (id) ON DELETE CASCADE,
    ADD CONSTRAINT provider_messages_one_owner CHECK ((message_id IS NULL) <> (delivery_id IS NULL));

-- A case opened in reply to a broadcast records the campaign.
ALTER TABLE cases ADD COLUMN campaign_id bigint REFERENCES campaigns (id);

-- Distributions and the households told of them.
CREATE TABLE distributions (
    id            bigserial PRIMARY KEY,
    site          text NOT NULL,
    governorate   text,
    starts_at     timestamptz NOT NULL,
    place         text NOT NULL,
    items         text NOT NULL,
    bring         text NOT NULL DEFAULT '',
    state         text NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'cancelled')),
    announce_at   timestamptz,
    -- hours before starts_at that reminders go out
    reminders     int[] NOT NULL DEFAULT '{24,2}',
    created_by    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
ALTER TABLE campaign_runs ADD CONSTRAINT campaign_runs_distribution_fk FOREIGN KEY (distribution_id) REFERENCES distributions (id);

CREATE TABLE distribution_households (
    distribution_id bigint NOT NULL REFERENCES distributions (id),
    household_id    text NOT NULL,
    contact_id      bigint NOT NULL REFERENCES contacts (id),
    name            text,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (distribution_id, household_id)
);
CREATE INDEX distribution_households_contact_idx ON distribution_households (contact_id);

-- The short codes alerts carry, so a person can ask whether a message really came from us.
CREATE TABLE alert_codes (
    code       text PRIMARY KEY,
    run_id     bigint NOT NULL REFERENCES campaign_runs (id),
    created_at timestamptz NOT NULL
);

-- API tokens: only a hash is kept; the token is shown once when made.
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('admin', 'cwc', 'caseworker', 'psea', 'viewer')),
    hash         bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
