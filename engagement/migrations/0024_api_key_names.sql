-- A name for each API key (收银系统, 小程序, ...), so an owner knows which system a key is
-- before revoking it. Keys made before names existed, and by the command line, have none.
-- depends: 0023_merchant_logos

ALTER TABLE api_keys
    ADD COLUMN name text CONSTRAINT api_keys_name_length CHECK (char_length(name) BETWEEN 1 AND 40);
