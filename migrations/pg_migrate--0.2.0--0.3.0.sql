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

--
-- Failure history.  A failed migrate_upgrade or migrate_downgrade rolls
-- back, yet leaves one row in the history, written by a background worker
-- in a transaction of its own (src/failure.c): event "upgrade failed" or
-- "downgrade failed", with the failing revision, the number and line of
-- the failing statement in its script, the error's SQLSTATE and message
-- (secrets masked; its detail goes to "detail").  The columns are null in
-- every other row.
--
ALTER TABLE migrate.history
    ADD COLUMN sqlstate text,
    ADD COLUMN message text,
    ADD COLUMN statement integer,
    ADD COLUMN line integer;

-- migrate_history returns the new columns, after the old ones.
DROP FUNCTION migrate_history(integer, text);
CREATE FUNCTION migrate_history(
    "limit" integer DEFAULT 100,
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (id bigint, event text, revision text, target text,
               checksum text, previous_checksum text,
               started_at timestamptz, finished_at timestamptz,
               duration interval, statements integer, attempts integer,
               role name, application_name text, backend_pid integer,
               detail text, sqlstate text, message text,
               statement integer, line integer)
AS 'MODULE_PATHNAME', 'migrate_history'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_history(integer, text) IS
'the audit log, newest first, failed upgrades and downgrades included';
REVOKE ALL ON FUNCTION migrate_history(integer, text) FROM PUBLIC;

--
-- Lint: review scripts with the server's parser and the live catalog.
--

CREATE FUNCTION migrate_lint(
    sql text,
    nontransactional boolean DEFAULT false)
RETURNS TABLE (statement integer, line integer, "column" integer,
               severity text, rule text, message text, hint text,
               lock_mode text, relation text, relation_rows bigint,
               relation_size bigint)
AS 'MODULE_PATHNAME', 'migrate_lint'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_lint(text, boolean) IS
'reviews a script against the live catalog without running it: one row per finding';

CREATE FUNCTION migrate_lint_revision(
    revision text,
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (statement integer, line integer, "column" integer,
               severity text, rule text, message text, hint text,
               lock_mode text, relation text, relation_rows bigint,
               relation_size bigint)
AS 'MODULE_PATHNAME', 'migrate_lint_revision'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_lint_revision(text, text) IS
'reviews a registered revision''s up script against the live catalog: one row per finding';

REVOKE ALL ON FUNCTION migrate_lint(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_lint_revision(text, text) FROM PUBLIC;
