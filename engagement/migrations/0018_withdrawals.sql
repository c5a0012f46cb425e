-- Commission out (提现): a member asks for available commission, the merchant pays it
-- (by WeChat, Alipay, bank transfer or cash, outside this service) or rejects it, and the
-- amount comes back to available. The program's min_withdrawal is the smallest request.
-- depends: 0017_fairness_pity

ALTER TABLE referral_programs
    ADD COLUMN min_withdrawal bigint NOT NULL DEFAULT 100
        CONSTRAINT referral_programs_min_withdrawal_positive CHECK (min_withdrawal > 0);

-- Append-only beside commission_entries: an amount never changes and a row is never
-- deleted; its status moves requested -> paid or requested -> rejected, once. A member's
-- available commission is the sum of released entries (less clawbacks) less the amounts of
-- rows requested or paid (referrals/ledger/queries.py balance).
CREATE TABLE commission_withdrawals (
    id           text PRIMARY KEY,
    merchant_id  text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    member_id    text NOT NULL REFERENCES members (id),
    amount       bigint NOT NULL CONSTRAINT commission_withdrawals_amount_positive CHECK (amount > 0),
    status       text NOT NULL CONSTRAINT commission_withdrawals_status_known CHECK (status IN ('requested', 'paid', 'rejected')),
    -- How the merchant paid (wechat, alipay, bank, cash, other) and its receipt number.
    method       text,
    reference    text,
    -- Why the merchant rejected it, shown to the member.
    reason       text,
    created_at   timestamptz NOT NULL,
    decided_at   timestamptz,
    CONSTRAINT commission_withdrawals_paid_has_method CHECK ((status = 'paid') = (method IS NOT NULL)),
    CONSTRAINT commission_withdrawals_decided CHECK ((status = 'requested') = (decided_at IS NULL))
);
CREATE INDEX commission_withdrawals_member_idx ON commission_withdrawals (member_id, id DESC);
CREATE INDEX commission_withdrawals_merchant_idx
    ON commission_withdrawals (merchant_id, status, id DESC);

CREATE FUNCTION commission_withdrawals_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.merchant_id, NEW.member_id, NEW.amount, NEW.created_at) IS DISTINCT FROM
       (OLD.id, OLD.merchant_id, OLD.member_id, OLD.amount, OLD.created_at)
       OR NOT (OLD.status = 'requested' AND NEW.status IN ('paid', 'rejected')) THEN
        RAISE EXCEPTION 'commission withdrawals are append-only'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'commission_withdrawals_append_only';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER commission_withdrawals_append_only BEFORE UPDATE ON commission_withdrawals
    FOR EACH ROW EXECUTE FUNCTION commission_withdrawals_append_only();
