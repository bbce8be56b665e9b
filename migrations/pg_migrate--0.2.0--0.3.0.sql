/* migrations/pg_migrate--0.2.0--0.3.0.sql */

\echo Use "ALTER EXTENSION pg_migrate UPDATE TO '0.3.0'" to load this file. \quit

--
-- 0.3.0: observability, security and review of scripts.
--

--
-- The client program's no-op deploy: after a sync that leaves the registry
-- holding exactly the folder it read, the client records a fingerprint of
-- that folder; the next deploy with the same files finds it and need not parse,
-- hash or compare anything.  Any change to a project's registered
-- revisions forgets it (forget_clean, now also clearing synced_folder when
-- migrate.revision changes).
--
ALTER TABLE migrate.project ADD COLUMN synced_folder text;

CREATE OR REPLACE FUNCTION migrate.forget_clean() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    registry boolean := TG_TABLE_NAME = 'revision';
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE migrate.project SET clean = false,
               synced_folder = CASE WHEN registry THEN NULL ELSE synced_folder END
         WHERE clean OR (registry AND synced_folder IS NOT NULL);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE migrate.project SET clean = false,
               synced_folder = CASE WHEN registry THEN NULL ELSE synced_folder END
         WHERE (clean OR (registry AND synced_folder IS NOT NULL))
           AND project IN (SELECT n.project FROM new_rows n);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE migrate.project SET clean = false,
               synced_folder = CASE WHEN registry THEN NULL ELSE synced_folder END
         WHERE (clean OR (registry AND synced_folder IS NOT NULL))
           AND project IN (SELECT o.project FROM old_rows o);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION migrate.forget_clean() IS
'trigger: a change to the registry or the applied set means the projects it touched are no longer known to be at head; a change to the registry also forgets the folder a client synced';

-- migrate_sync gains the argument folder.  The roles granted EXECUTE on
-- the old signature keep it on the new one (at the end of this file).
CREATE FUNCTION migrate_sync(
    revisions jsonb,
    folder text DEFAULT NULL,
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (revision text, action text)
AS 'MODULE_PATHNAME', 'migrate_sync'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_sync(jsonb, text, text) IS
'registers revisions read from a folder, all or nothing; returns added, unchanged, updated or drifted for each; keeps the client''s folder fingerprint when nothing drifted';
REVOKE ALL ON FUNCTION migrate_sync(jsonb, text, text) FROM PUBLIC;

CREATE FUNCTION migrate_synced_folder(
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (folder text, revisions integer)
AS 'MODULE_PATHNAME', 'migrate_synced_folder'
LANGUAGE C STABLE;
COMMENT ON FUNCTION migrate_synced_folder(text) IS
'the fingerprint of the folder a client last synced in full, NULL once the registry changed; and how many revisions are registered';
REVOKE ALL ON FUNCTION migrate_synced_folder(text) FROM PUBLIC;

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

-- migrate_history returns the new columns, after the old ones.  The old
-- function is renamed, not dropped, until its grants are copied (at the
-- end of this file).
ALTER FUNCTION migrate_history(integer, text) RENAME TO migrate_history_0_2_0;
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

--
-- Per-revision runs: CALL migrate_run commits each revision on its own and
-- runs statements that cannot run in a transaction block at top level.
--

CREATE PROCEDURE migrate_run(
    target text DEFAULT 'head',
    direction text DEFAULT NULL,
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
AS 'MODULE_PATHNAME', 'migrate_run'
LANGUAGE C;
COMMENT ON PROCEDURE migrate_run(text, text, text) IS
'applies or reverts revisions up or down to the target (direction up or down only, NULL as the target says), each in its own transaction, non-transactional ones at top level';
REVOKE ALL ON PROCEDURE migrate_run(text, text, text) FROM PUBLIC;

--
-- The two functions replaced above: the roles granted EXECUTE on the old
-- ones (a migrator, a monitoring role) keep it, with its grant option, on
-- the new ones; then the old ones go.
--
DO $$
DECLARE
    replaced record;
    grant_ record;
BEGIN
    FOR replaced IN
        SELECT * FROM (VALUES
            ('migrate_sync(jsonb, text)', 'migrate_sync(jsonb, text, text)'),
            ('migrate_history_0_2_0(integer, text)', 'migrate_history(integer, text)')) AS r (old, new)
    LOOP
        FOR grant_ IN
            SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee,
                   a.is_grantable
              FROM pg_catalog.pg_proc p,
                   pg_catalog.aclexplode(p.proacl) a
             WHERE p.oid = replaced.old::pg_catalog.regprocedure
               AND a.privilege_type = 'EXECUTE'
               AND a.grantee <> p.proowner
        LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s%s',
                                      replaced.new, grant_.grantee,
                                      CASE WHEN grant_.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        END LOOP;
    END LOOP;
END
$$;
DROP FUNCTION migrate_sync(jsonb, text);
DROP FUNCTION migrate_history_0_2_0(integer, text);
