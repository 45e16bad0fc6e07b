-- Where a contact first came from (a Telegram deep link printed on a campaign poster).
ALTER TABLE contacts ADD COLUMN source text;

-- Small pieces of state a channel keeps across restarts and nodes: the Telegram polling offset,
-- the groups already told that the bot answers only in private chats.
CREATE TABLE channel_state (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
