-- Birthday coupons (生日礼) as an automation the console switches on and off. It is a daily
-- send (sends.repeat = 'daily') like any other, with a birthday segment a number of days
-- ahead; birthday_automations says which definition is the merchant's one. A paused daily
-- definition makes no runs. A member's birthday coupon is claimed once per definition and
-- birthday year (send_birthday_claims): two workers, a rerun, or a changed number of days
-- before the birthday never give a second one for the same birthday.
-- depends: 0019_member_imports

ALTER TABLE sends ADD COLUMN paused boolean NOT NULL DEFAULT false;

CREATE TABLE birthday_automations (
    merchant_id  text PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
    send_id      text NOT NULL CONSTRAINT birthday_automations_send_key UNIQUE REFERENCES sends (id),
    updated_at   timestamptz NOT NULL
);

CREATE TABLE send_birthday_claims (
    parent_id   text NOT NULL REFERENCES sends (id) ON DELETE CASCADE,
    member_id   text NOT NULL REFERENCES members (id),
    year        integer NOT NULL,
    send_id     text NOT NULL REFERENCES sends (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (parent_id, member_id, year)
);
