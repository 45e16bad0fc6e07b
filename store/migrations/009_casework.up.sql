-- Case work in the console: referral partners, the partner a case is referred to, the answer a
-- caseworker gives, and whether the person was satisfied with it.

-- Organisations cases are referred to (the referral pathway). They are data: a team adds one, and
-- retires it (active = false) rather than deleting it, so old referrals still name it.
CREATE TABLE partners (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL CHECK (btrim(name) <> ''),
    -- what the partner handles: health, protection, shelter, cash, legal, …
    sector     text NOT NULL DEFAULT '',
    -- how the partner is reached (a focal point, a phone number, an e-mail address): for staff
    contact    text NOT NULL DEFAULT '',
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX partners_name_idx ON partners (lower(btrim(name)));

ALTER TABLE cases
    -- the partner the case is referred to now, and when; earlier referrals are in case_events
    ADD COLUMN partner_id      bigint REFERENCES partners (id),
    ADD COLUMN referred_at     timestamptz,
    -- what the caseworker answered when resolving it, as they wrote it (the person is told this)
    ADD COLUMN resolution      text,
    -- the person's answer to "are you satisfied?" after the resolution; NULL until they answer
    ADD COLUMN satisfied       boolean,
    ADD COLUMN satisfaction_at timestamptz,
    -- a caseworker set the priority by hand: a change of category no longer recomputes it
    ADD COLUMN priority_manual boolean NOT NULL DEFAULT false;
CREATE INDEX cases_partner_idx ON cases (partner_id) WHERE partner_id IS NOT NULL;

-- What changed, besides a status: the assignee, category, priority or partner before and after.
ALTER TABLE case_events
    ADD COLUMN from_value text,
    ADD COLUMN to_value   text;
