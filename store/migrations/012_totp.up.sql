-- Two-step sign-in (TOTP, RFC 6238) for staff, and where Sawt alerts a staff member.

ALTER TABLE staff_users
    -- the shared secret of the authenticator app (20 random bytes); NULL while two-step
    -- sign-in is off. It is kept as it is: a TOTP secret has to be, to compute the codes.
    ADD COLUMN totp_secret         bytea CHECK (length(totp_secret) = 20),
    -- when two-step sign-in was turned on; NULL: off
    ADD COLUMN totp_enabled_at     timestamptz,
    -- the time step (unix time / 30 s) of the last code accepted: a code is taken once, and
    -- no code of that step or an earlier one is taken again (replay)
    ADD COLUMN totp_last_step      bigint,
    -- a secret shown to the user while they set up their app, enabled only once they type a
    -- code it gives; NULL when no setup is under way
    ADD COLUMN totp_pending_secret bytea CHECK (length(totp_pending_secret) = 20),
    -- where Sawt alerts the person about their work (overdue cases): a Telegram chat with them,
    -- a phone number (E.164) for SMS; either, both or neither
    ADD COLUMN alert_telegram_chat bigint,
    ADD COLUMN alert_phone         text CHECK (alert_phone ~ '^\+[1-9][0-9]{6,14}$'),
    ADD CONSTRAINT staff_users_totp_enabled CHECK ((totp_secret IS NULL) = (totp_enabled_at IS NULL));

-- A session that has passed the password but not yet the second factor: its cookie opens
-- only the page that asks for the code, and it ends five minutes after sign-in.
ALTER TABLE staff_sessions
    ADD COLUMN pending_second_factor boolean NOT NULL DEFAULT false;

-- The overdue alert to a case's assignee: the deadline it was sent for. A case is alerted
-- once per deadline, and again when its deadline moves (a new status, a new category) and
-- passes again.
ALTER TABLE cases
    ADD COLUMN overdue_alerted_due timestamptz,
    ADD COLUMN overdue_alerted_at  timestamptz;
-- A caseworker's open cases: the overdue sweep and their start page read by assignee.
CREATE INDEX cases_open_assignee_idx ON cases (assignee)
    WHERE assignee IS NOT NULL AND status IN ('new', 'acknowledged', 'referred', 'in_progress');
