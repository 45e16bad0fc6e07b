-- The console's SEA inbox: a psea staff user's link to a focal point's key. The identity file
-- is kept as `sawt psea keygen` wrote it, encrypted with the focal point's passphrase (age,
-- scrypt): the server cannot use it without the passphrase, which it never stores. A user
-- unlocks it for a session by typing the passphrase; the key then lives in the server's memory
-- only. Never the escrow's key (store.LinkPSEAIdentity refuses it).
CREATE TABLE psea_identities (
    staff_user_id bigint PRIMARY KEY REFERENCES staff_users (id) ON DELETE CASCADE,
    recipient_id  bigint NOT NULL REFERENCES psea_recipients (id),
    identity_file bytea NOT NULL CHECK (length(identity_file) BETWEEN 1 AND 16384),
    linked_at     timestamptz NOT NULL
);
