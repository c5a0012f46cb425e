"""SQL of earned chances: the grants (draw_chances) and the draws that used them."""

from __future__ import annotations

from datetime import datetime

import asyncpg

Conn = asyncpg.Connection | asyncpg.Pool

# The chance columns of campaigns, by the event that grants them.
COLUMN = {"order": "chance_per_order", "check_in": "chance_per_check_in",
          "invite": "chance_per_invite"}


async def grant(conn: asyncpg.Connection, *, merchant_id: str, member_id: str, source: str,
                ref: str, extra: int, now: datetime) -> int:
    """Grant the member, in each of the merchant's live campaigns that grants chances for
    ``source``, its number of draws (plus ``extra``); once per ``ref``. Returns the number of
    campaigns that granted."""
    column = COLUMN[source]
    status = await conn.execute(
        f"""INSERT INTO draw_chances (campaign_id, member_id, ref, source, draws, created_at)
            SELECT c.id, $2, $3, $4, c.{column} + $5, $6 FROM campaigns c
            WHERE c.merchant_id = $1 AND c.status IN ('active', 'paused')
              AND c.{column} IS NOT NULL AND (c.ends_at IS NULL OR c.ends_at > $6)
            ON CONFLICT DO NOTHING""",
        merchant_id, member_id, ref, source, extra, now,
    )
    return int(status.split()[-1])


async def balance(conn: Conn, campaign_id: str, member_id: str) -> tuple[int, int]:
    """The member's chances of a campaign as PostgreSQL knows them: (earned, used)."""
    # Its draws are all made after the campaign was published (games/draw/queries.py's
    # _since, with the same day of slack): the partitions before it are skipped.
    row = await conn.fetchrow(
        """SELECT (SELECT coalesce(sum(draws), 0) FROM draw_chances
                   WHERE campaign_id = $1 AND member_id = $2) AS earned,
                  (SELECT count(*) FROM draws
                   WHERE campaign_id = $1 AND member_id = $2
                     AND created_at >= coalesce((SELECT published_at FROM campaigns
                                                 WHERE id = $1) - interval '1 day',
                                                '-infinity')
                     AND (response ->> 'extra') = 'true') AS used""",
        campaign_id, member_id,
    )
    assert row is not None
    return int(row["earned"]), int(row["used"])


async def grants(conn: Conn, campaign_id: str, member_id: str) -> list[asyncpg.Record]:
    """The member's grants in a campaign, oldest first."""
    return await conn.fetch(
        """SELECT source, draws, created_at FROM draw_chances
           WHERE campaign_id = $1 AND member_id = $2 ORDER BY created_at, ref""",
        campaign_id, member_id,
    )
