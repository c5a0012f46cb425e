-- A merchant's logo, uploaded in the console's settings: kept here rather than on a disk,
-- so every web process serves it (at /brand/<merchant>/logo/<version>, the URL that
-- merchants.settings.logo_url then holds). Small by design: it sits in a 36 px circle.
-- depends: 0022_send_schedule

CREATE TABLE merchant_logos (
    merchant_id   text PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
    content_type  text NOT NULL CONSTRAINT merchant_logos_type_known
                  CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
    image         bytea NOT NULL CONSTRAINT merchant_logos_size
                  CHECK (octet_length(image) BETWEEN 1 AND 307200),
    version       text NOT NULL,
    updated_at    timestamptz NOT NULL
);
