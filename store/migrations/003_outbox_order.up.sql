-- The outbox sends one person's replies in order: a send waits while an older reply to the same
-- address is still queued. This index finds that older reply.
CREATE INDEX messages_queued_idx ON messages (urn_id, id) WHERE status = 'queued' AND direction = 'out';
