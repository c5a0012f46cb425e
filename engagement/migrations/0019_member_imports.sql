-- Member imports (老会员导入): an uploaded CSV of a merchant's members from its old system,
-- processed by a job in batches that each commit with their counters, so a retried job
-- resumes at `processed` and the counts stay exact. Opening points go to the points ledger
-- with ref 'import:<member id>', whose unique key credits them once per member whatever
-- files, reruns or concurrent runs.
-- depends: 0018_withdrawals

CREATE TABLE member_imports (
    id           text PRIMARY KEY,
    merchant_id  text NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    status       text NOT NULL DEFAULT 'queued'
        CONSTRAINT member_imports_status_known CHECK (status IN ('queued', 'running', 'done')),
    filename     text,
    -- The file as uploaded, kept until the import is done (a retried job reads it again).
    body         bytea,
    rows         integer NOT NULL CONSTRAINT member_imports_rows_nonnegative CHECK (rows >= 0),
    processed    integer NOT NULL DEFAULT 0,
    created      integer NOT NULL DEFAULT 0,
    updated      integer NOT NULL DEFAULT 0,
    unchanged    integer NOT NULL DEFAULT 0,
    failed       integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    CONSTRAINT member_imports_processed_within_rows CHECK (processed BETWEEN 0 AND rows)
);
CREATE INDEX member_imports_merchant_idx ON member_imports (merchant_id, id DESC);
CREATE INDEX member_imports_pending_idx ON member_imports (created_at) WHERE status <> 'done';

-- One line per failed row: the row number in the file (the header is row 1) and its code.
CREATE TABLE member_import_errors (
    import_id  text NOT NULL REFERENCES member_imports (id) ON DELETE CASCADE,
    row_no     integer NOT NULL,
    code       text NOT NULL,
    PRIMARY KEY (import_id, row_no)
);
