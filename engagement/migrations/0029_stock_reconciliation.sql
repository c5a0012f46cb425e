-- depends: 0028_draws_partitioned
-- Reconciliation of campaigns' hot state (Redis) with the record (PostgreSQL), by the
-- games.reconcile cron (games/reconcile/service.py).
--
-- stock_drift: the last measurement of each prize of a live campaign: the wins Redis counts
-- and the wins PostgreSQL holds. /metrics reports the difference (engagement_stock_drift),
-- the console dashboard warns about a prize whose Redis count is ahead (not repaired: it
-- may be draws still being written). Rows of campaigns no longer live are removed.
CREATE TABLE stock_drift (
    prize_id        text PRIMARY KEY REFERENCES campaign_prizes (id) ON DELETE CASCADE,
    campaign_id     text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    merchant_id     text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    redis_wins      integer NOT NULL,
    recorded_wins   integer NOT NULL,
    measured_at     timestamptz NOT NULL,
    -- Since when the two have differed, run after run; NULL while they agree.
    drifting_since  timestamptz,
    CONSTRAINT stock_drift_since_when_drifting
        CHECK ((redis_wins = recorded_wins) = (drifting_since IS NULL))
);
CREATE INDEX stock_drift_campaign_idx ON stock_drift (campaign_id);

-- stock_repairs: what the cron changed in Redis, appended once per change: 'reprimed' (the
-- hot state was missing and was rebuilt from PostgreSQL), 'wins' (Redis counted fewer wins
-- of a prize than PostgreSQL holds and was raised to PostgreSQL's count), 'quantity'
-- (Redis's quantity of a prize was missing or not PostgreSQL's and was set to it).
CREATE TABLE stock_repairs (
    id            bigserial PRIMARY KEY,
    campaign_id   text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    merchant_id   text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    prize_id      text REFERENCES campaign_prizes (id) ON DELETE CASCADE,
    kind          text NOT NULL
                  CONSTRAINT stock_repairs_kind_known CHECK (kind IN ('reprimed', 'wins', 'quantity')),
    redis_value   integer,  -- what Redis held before; NULL: nothing (missing)
    recorded      integer,  -- what PostgreSQL holds, and Redis holds now
    repaired_at   timestamptz NOT NULL,
    CONSTRAINT stock_repairs_prize_given CHECK ((kind = 'reprimed') = (prize_id IS NULL))
);
CREATE INDEX stock_repairs_campaign_idx ON stock_repairs (campaign_id, repaired_at DESC);
