"""The loyalty leaves: tiers, the points mall, sends (win-back, birthdays), webhooks and
joining by phone. They build on the business core; nothing in the core imports them."""
