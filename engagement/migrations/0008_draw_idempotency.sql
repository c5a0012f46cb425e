-- A draw's Idempotency-Key is kept with the draw itself, so the 24 hours the contract
-- promises hold even when Redis loses its data: the key and the request's hash are
-- recorded with the row, and PostgreSQL refuses a second draw under the same key.
-- depends: 0007_loyalty

ALTER TABLE draws ADD COLUMN request_hash text;

-- Before this, only Redis kept keys apart; should it ever have lost them, the later draws
-- stay (they happened) but no longer answer to the key: the first one does.
UPDATE draws d SET idempotency_key = NULL
WHERE idempotency_key IS NOT NULL AND EXISTS (
    SELECT 1 FROM draws e
    WHERE e.campaign_id = d.campaign_id AND e.member_id = d.member_id
      AND e.idempotency_key = d.idempotency_key
      AND (e.created_at, e.id) < (d.created_at, d.id));

CREATE UNIQUE INDEX draws_idempotency_key ON draws (campaign_id, member_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
