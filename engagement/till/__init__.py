"""The till (收银台 · 核销): the page staff use to find a member, price coupons and take
the order."""
