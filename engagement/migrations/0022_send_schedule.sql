-- A one-off send may be scheduled for later (scheduled_at): it waits as 'scheduled' until
-- the release cron (sends.release_due) turns it 'queued' with one conditional UPDATE, so it
-- runs once however many workers tick at the same time. Daily definitions (repeat) keep
-- scheduled_at NULL.
-- depends: 0021_birthday_automation
ALTER TABLE sends ADD COLUMN scheduled_at timestamptz;
ALTER TABLE sends ADD CONSTRAINT sends_scheduled_once_only
    CHECK (scheduled_at IS NULL OR repeat IS NULL);
CREATE INDEX sends_due_idx ON sends (scheduled_at)
    WHERE status = 'scheduled' AND scheduled_at IS NOT NULL;
