-- The staff console: accounts, their sessions, and failed sign-ins (for throttling).

CREATE TABLE staff_users (
    id                  bigserial PRIMARY KEY,
    -- kept lower-cased, so the unique constraint is case-insensitive
    email               text NOT NULL UNIQUE CHECK (email = lower(email) AND email <> ''),
    role                text NOT NULL CHECK (role IN ('admin', 'cwc', 'caseworker', 'psea', 'viewer')),
    -- argon2id in the PHC string format: $argon2id$v=19$m=…,t=…,p=…$salt$hash
    password_hash       text NOT NULL,
    -- the language of the console's pages for this person
    language            text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'ar', 'ckb')),
    created_at          timestamptz NOT NULL,
    -- when the person last chose their own password. NULL while the password is a one-time one
    -- given by `sawt users add|password` (or printed by the first `serve`): the console then
    -- lets them do nothing but choose their own.
    password_changed_at timestamptz,
    -- a disabled account cannot sign in, and its sessions are refused
    disabled_at         timestamptz
);

-- A signed-in browser. The cookie holds a random token; only its SHA-256 is stored.
CREATE TABLE staff_sessions (
    token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id      bigint NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    -- last request seen (written at most once a minute): a session idle too long is refused
    last_seen_at timestamptz NOT NULL,
    -- the absolute end of the session, however busy
    expires_at   timestamptz NOT NULL
);
CREATE INDEX staff_sessions_user_idx ON staff_sessions (user_id);

-- One row per failed sign-in, under each key it counts against ("account:<email>",
-- "addr:<address>"). Only recent rows matter; older ones are pruned as new ones come.
CREATE TABLE login_failures (
    key text NOT NULL,
    at  timestamptz NOT NULL
);
CREATE INDEX login_failures_key_at_idx ON login_failures (key, at);
