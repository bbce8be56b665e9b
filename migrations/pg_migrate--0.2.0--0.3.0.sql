/* migrations/pg_migrate--0.2.0--0.3.0.sql */

\echo Use "ALTER EXTENSION pg_migrate UPDATE TO '0.3.0'" to load this file. \quit

--
-- 0.3.0: observability, security and review of scripts.
--

--
-- Scheduled checks: migrate_check() for pg_cron jobs and health checks.
-- It only reads, and works on a standby and in a read-only transaction.
--
CREATE FUNCTION migrate_check(
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_check'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_check(text) IS
'returns "ok: ..." when the project is at head with no drift; otherwise raises an error naming every problem, so that a scheduled job fails';

REVOKE ALL ON FUNCTION migrate_check(text) FROM PUBLIC;
