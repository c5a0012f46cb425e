-- Provably fair draws and 保底 (pity).
-- At publish a campaign draws a secret 32-byte server seed and publishes its SHA-256, the
-- commitment; each draw's pick is HMAC-SHA256(seed, "<client_seed>:<nonce>"), and the seed
-- is revealed once the campaign has ended, so anyone can recompute every draw. The client
-- seed and nonce of each draw are in its response ("fairness").
-- Pity: after pity_after consecutive loses a member's next draw wins pity_prize_id while it
-- has stock (the response says "pity": true).
-- depends: 0016_point_value

ALTER TABLE campaigns
    ADD COLUMN server_seed bytea
        CONSTRAINT campaigns_server_seed_size CHECK (octet_length(server_seed) = 32),
    ADD COLUMN commitment text
        CONSTRAINT campaigns_commitment_hex CHECK (commitment ~ '^[0-9a-f]{64}$'),
    ADD COLUMN pity_after integer
        CONSTRAINT campaigns_pity_after_range CHECK (pity_after BETWEEN 1 AND 1000),
    ADD COLUMN pity_prize_id text REFERENCES campaign_prizes (id) DEFERRABLE INITIALLY DEFERRED,
    ADD CONSTRAINT campaigns_committed_with_seed CHECK ((server_seed IS NULL) = (commitment IS NULL)),
    ADD CONSTRAINT campaigns_pity_whole CHECK ((pity_after IS NULL) = (pity_prize_id IS NULL));

-- A member's consecutive loses since the last win, for re-seeding the pity counter after
-- Redis lost it.
CREATE INDEX draws_member_wins_idx ON draws (campaign_id, member_id, id) WHERE outcome = 'win';
