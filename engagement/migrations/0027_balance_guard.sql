-- The database's own guard on stored value: each member's balance, as two running totals
-- (principal and bonus) kept by a trigger on every ledger row, with CHECKs that neither
-- goes below zero. The code already serialises a member's writes and checks before it
-- writes (engagement/loyalty/wallet/service.py); with this, a write that would overdraw
-- fails its transaction even if the code is wrong. Membership purchases paid from the
-- balance get their own kind of ledger row.
-- depends: 0026_stored_value

CREATE TABLE balances (
    member_id    text PRIMARY KEY REFERENCES members (id),
    merchant_id  text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    principal    bigint NOT NULL CONSTRAINT balances_principal_not_negative CHECK (principal >= 0),
    bonus        bigint NOT NULL CONSTRAINT balances_bonus_not_negative CHECK (bonus >= 0)
);

INSERT INTO balances (member_id, merchant_id, principal, bonus)
SELECT member_id, min(merchant_id), sum(principal), sum(bonus)
FROM balance_ledger GROUP BY member_id;

CREATE FUNCTION balance_ledger_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A zero row first, then the change: an upsert would check the new row's values (a
    -- debit's negatives) against the CHECKs before it found the existing row.
    INSERT INTO balances (member_id, merchant_id, principal, bonus)
    VALUES (NEW.member_id, NEW.merchant_id, 0, 0) ON CONFLICT (member_id) DO NOTHING;
    UPDATE balances SET principal = principal + NEW.principal, bonus = bonus + NEW.bonus
    WHERE member_id = NEW.member_id;
    RETURN NEW;
END;
$$;

CREATE TRIGGER balance_ledger_apply AFTER INSERT ON balance_ledger
    FOR EACH ROW EXECUTE FUNCTION balance_ledger_apply();

-- Append-only: a ledger row is never changed (a correction is a new row). Rows go only with
-- their merchant (ON DELETE CASCADE), and the merchant's balances go with them.
CREATE FUNCTION balance_ledger_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'balance_ledger is append-only';
END;
$$;

CREATE TRIGGER balance_ledger_frozen BEFORE UPDATE ON balance_ledger
    FOR EACH ROW EXECUTE FUNCTION balance_ledger_frozen();

ALTER TABLE balance_ledger DROP CONSTRAINT balance_ledger_kind_known;
ALTER TABLE balance_ledger ADD CONSTRAINT balance_ledger_kind_known
    CHECK (kind IN ('top_up', 'spend', 'refund', 'card_refund', 'forfeit', 'membership'));
