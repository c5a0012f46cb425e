-- Draws partitioned by month: PARTITION BY RANGE (created_at), one partition per calendar
-- month in UTC (draws_pYYYYMM), and a default partition (draws_default) as a safety net so
-- that a draw is never refused for want of a partition (a worker that did not run, a clock
-- far off). The cron games.maintain_draw_partitions (games/partitions/service.py) creates the
-- coming months ahead, moves whatever reached the default partition into its month, and
-- applies the retention of old months (ENGAGEMENT_DRAWS_RETENTION_MONTHS).
--
-- Uniqueness. A unique index of a partitioned table must contain the partition key, and
-- (prize_id, win_seq, created_at) or (campaign_id, member_id, idempotency_key, created_at)
-- would no longer keep a win sequence number or an Idempotency-Key from being used twice
-- (the same key a second later is another created_at). Both guarantees move to small
-- unpartitioned claim tables, whose primary keys are the old unique indexes:
--   draw_win_seqs (prize_id, win_seq)                             one row per win
--   draw_idempotency_keys (campaign_id, member_id, idempotency_key)  one row per keyed draw
-- A BEFORE INSERT trigger on draws claims both in the inserting statement's own transaction,
-- so no writer can bypass them and they commit or roll back with the draw. A draw whose
-- claim another draw holds is not inserted at all, exactly as ON CONFLICT DO NOTHING on the
-- old unique indexes skipped it (insert_draws tells refused rows by RETURNING id); a claim
-- made for a row that is then refused is taken back before the row is skipped, so a win
-- refused for its sequence number leaves its Idempotency-Key free for the lose that
-- replaces it. Claims of a row already holding them (the same draw id) are its own, so an
-- insert retried with the same row is skipped by the primary key, not by a claim.
-- Concurrent claims of one key wait on each other in the claim table's primary key index,
-- as they waited on the old unique indexes. The columns the claims depend on are fixed once
-- drawn (a second trigger refuses updates of them), so claims and rows cannot drift apart.
-- Why not a unique index with created_at: it would be correct only if every writer agreed
-- on created_at, which a replay after Redis lost its data does not.
--
-- Keys are honoured for at least 24 hours (API.md; Redis keeps a record 48 hours): the cron
-- purges key claims older than a week, so draw_idempotency_keys stays small. Win sequence
-- claims stay as long as their draws: a partition is dropped only when none of its
-- campaigns is live any more (an ended campaign never draws again), and its claims go with
-- it. The primary key is (id, created_at); ids are 80 random bits past the time part, so
-- id alone stays unique in practice, and nothing references draws by a foreign key
-- (coupons.draw_id is a plain unique column).
-- depends: 0027_balance_guard

SET LOCAL TIME ZONE 'UTC';
LOCK TABLE draws IN ACCESS EXCLUSIVE MODE;

CREATE TABLE draws_partitioned (
    id               text NOT NULL,
    merchant_id      text NOT NULL CONSTRAINT draws_merchant_id_fkey
                     REFERENCES merchants (id) ON DELETE CASCADE,
    campaign_id      text NOT NULL CONSTRAINT draws_campaign_id_fkey
                     REFERENCES campaigns (id) ON DELETE CASCADE,
    member_id        text NOT NULL CONSTRAINT draws_member_id_fkey REFERENCES members (id),
    prize_id         text CONSTRAINT draws_prize_id_fkey REFERENCES campaign_prizes (id),
    outcome          text NOT NULL CONSTRAINT draws_outcome_known CHECK (outcome IN ('win', 'lose')),
    -- The n-th win of its prize, handed out by Redis: claimed in draw_win_seqs and bounded
    -- by the prize's quantity at insert (PostgreSQL's own guard against oversell).
    win_seq          integer,
    local_day        date NOT NULL,
    points_spent     integer NOT NULL DEFAULT 0,
    idempotency_key  text,
    response         jsonb NOT NULL,
    created_at       timestamptz NOT NULL,
    settled_at       timestamptz,
    request_hash     text,
    CONSTRAINT draws_win_fields CHECK ((outcome = 'win') = (win_seq IS NOT NULL AND prize_id IS NOT NULL))
) PARTITION BY RANGE (created_at);

-- The months that hold draws, and the current and next months.
DO $$
DECLARE
    month timestamptz;
BEGIN
    FOR month IN
        SELECT DISTINCT date_trunc('month', created_at) FROM draws
        UNION SELECT date_trunc('month', now())
        UNION SELECT date_trunc('month', now()) + interval '1 month'
    LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF draws_partitioned FOR VALUES FROM (%L) TO (%L)',
                       'draws_p' || to_char(month, 'YYYYMM'), month, month + interval '1 month');
    END LOOP;
END $$;
CREATE TABLE draws_default PARTITION OF draws_partitioned DEFAULT;

INSERT INTO draws_partitioned (id, merchant_id, campaign_id, member_id, prize_id, outcome,
                               win_seq, local_day, points_spent, idempotency_key, response,
                               created_at, settled_at, request_hash)
SELECT id, merchant_id, campaign_id, member_id, prize_id, outcome, win_seq, local_day,
       points_spent, idempotency_key, response, created_at, settled_at, request_hash
FROM draws;

-- No foreign keys: the draw that makes a claim checks its own (campaign, member, prize) in
-- the same statement, and a check per claim would cost a fifth of the insert rate of
-- draws. A claim outliving its campaign (a merchant deleted) names ids never used again.
CREATE TABLE draw_win_seqs (
    prize_id    text NOT NULL,
    win_seq     integer NOT NULL,
    draw_id     text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (prize_id, win_seq)
);

CREATE TABLE draw_idempotency_keys (
    campaign_id      text NOT NULL,
    member_id        text NOT NULL,
    idempotency_key  text NOT NULL,
    draw_id          text NOT NULL,
    created_at       timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, member_id, idempotency_key)
);
CREATE INDEX draw_idempotency_keys_created_idx ON draw_idempotency_keys (created_at);

-- The old unique indexes held, so these cannot collide (a collision would fail the
-- migration, loudly, rather than lose a row).
INSERT INTO draw_win_seqs (prize_id, win_seq, draw_id, created_at)
SELECT prize_id, win_seq, id, created_at FROM draws_partitioned WHERE win_seq IS NOT NULL;
INSERT INTO draw_idempotency_keys (campaign_id, member_id, idempotency_key, draw_id, created_at)
SELECT campaign_id, member_id, idempotency_key, id, created_at
FROM draws_partitioned WHERE idempotency_key IS NOT NULL;

DROP TABLE draws;
ALTER TABLE draws_partitioned RENAME TO draws;

ALTER TABLE draws ADD CONSTRAINT draws_pkey PRIMARY KEY (id, created_at);
CREATE INDEX draws_campaign_idx ON draws (campaign_id, id);
CREATE INDEX draws_member_idx ON draws (member_id, id DESC);
CREATE INDEX draws_unsettled_idx ON draws (campaign_id, id) WHERE outcome = 'win' AND settled_at IS NULL;
CREATE INDEX draws_extra_idx ON draws (campaign_id, member_id) WHERE (response ->> 'extra') = 'true';
CREATE INDEX draws_member_wins_idx ON draws (campaign_id, member_id, id) WHERE outcome = 'win';

CREATE FUNCTION draws_claim() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    key_claimed boolean := false;
BEGIN
    IF NEW.idempotency_key IS NOT NULL THEN
        INSERT INTO draw_idempotency_keys (campaign_id, member_id, idempotency_key, draw_id,
                                           created_at)
        VALUES (NEW.campaign_id, NEW.member_id, NEW.idempotency_key, NEW.id, NEW.created_at)
        ON CONFLICT DO NOTHING;
        key_claimed := FOUND;
        IF NOT key_claimed AND NOT EXISTS (
                SELECT 1 FROM draw_idempotency_keys
                WHERE campaign_id = NEW.campaign_id AND member_id = NEW.member_id
                  AND idempotency_key = NEW.idempotency_key AND draw_id = NEW.id) THEN
            RETURN NULL;  -- another draw was made under this key
        END IF;
    END IF;
    IF NEW.win_seq IS NOT NULL THEN
        INSERT INTO draw_win_seqs (prize_id, win_seq, draw_id, created_at)
        VALUES (NEW.prize_id, NEW.win_seq, NEW.id, NEW.created_at)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND AND NOT EXISTS (
                SELECT 1 FROM draw_win_seqs
                WHERE prize_id = NEW.prize_id AND win_seq = NEW.win_seq AND draw_id = NEW.id) THEN
            IF key_claimed THEN  -- the row is refused: its key stays free
                DELETE FROM draw_idempotency_keys
                WHERE campaign_id = NEW.campaign_id AND member_id = NEW.member_id
                  AND idempotency_key = NEW.idempotency_key AND draw_id = NEW.id;
            END IF;
            RETURN NULL;  -- another draw won this sequence number of the prize
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER draws_claim BEFORE INSERT ON draws FOR EACH ROW EXECUTE FUNCTION draws_claim();

CREATE FUNCTION draws_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.campaign_id, NEW.member_id, NEW.prize_id, NEW.win_seq,
        NEW.idempotency_key, NEW.created_at)
       IS DISTINCT FROM (OLD.id, OLD.campaign_id, OLD.member_id, OLD.prize_id, OLD.win_seq,
                         OLD.idempotency_key, OLD.created_at) THEN
        RAISE EXCEPTION 'a draw''s id, campaign, member, prize, win_seq, idempotency_key and '
                        'created_at are fixed once drawn' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER draws_fixed BEFORE UPDATE OF id, campaign_id, member_id, prize_id, win_seq,
    idempotency_key, created_at ON draws FOR EACH ROW EXECUTE FUNCTION draws_fixed();
