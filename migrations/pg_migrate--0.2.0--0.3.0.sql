/* migrations/pg_migrate--0.2.0--0.3.0.sql */

\echo Use "ALTER EXTENSION pg_migrate UPDATE TO '0.3.0'" to load this file. \quit

--
-- 0.3.0: observability, security and review of scripts.
--

--
-- Secrets: pg_migrate masks passwords in every message, history row and
-- server log line; migrate_mask shows what it masks in a given text.
--
CREATE FUNCTION migrate_mask(sql text)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_mask'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION migrate_mask(text) IS
'the text with every password (ROLE ... PASSWORD, OPTIONS (password ...), connection URIs and password=) replaced by ****, as pg_migrate masks messages, history and log lines';

REVOKE ALL ON FUNCTION migrate_mask(text) FROM PUBLIC;
