/* migrations/pg_migrate--0.3.0--0.4.0.sql */

\echo Use "ALTER EXTENSION pg_migrate UPDATE TO '0.4.0'" to load this file. \quit

--
-- 0.4.0: hardening (hostile review): the library refuses older SQL with an
-- error naming ALTER EXTENSION pg_migrate UPDATE, and the objects below.
--

--
-- INVALID indexes left by interrupted concurrent builds.  CALL migrate_run
-- runs CREATE INDEX CONCURRENTLY and REINDEX ... CONCURRENTLY at top level
-- (src/toplevel.c).  A build interrupted after its first commit (its
-- worker terminated, its caller cancelled, the server stopped) leaves an
-- INVALID index, which the next run of the same statement drops; once the
-- revision is edited or reverted, no run does.  So the top-level worker
-- records each build here, committed before the build starts, and removes
-- the row when the build succeeds or its INVALID index is dropped;
-- migrate_status, migrate_validate and migrate_check name the INVALID
-- indexes that the recorded builds left.  A row whose build left no
-- INVALID index (it is gone, or valid) is stale: readers ignore it, and
-- the next recorded build of the project deletes it.
--
-- Which indexes a row stands for: on its table (every table when the
-- table is NULL: a REINDEX SCHEMA or DATABASE), the INVALID indexes that
-- were not INVALID before the build (invalid_before), named index_name
-- when the statement names it, REINDEX's "_ccnew"/"_ccold" copies for a
-- reindex.  A build whose worker (backend_pid, started at backend_start)
-- still runs has left nothing yet.
--
CREATE TABLE migrate.index_build (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project        text NOT NULL,
    revision       text NOT NULL,
    down           boolean NOT NULL,
    statement      integer NOT NULL,
    schema_name    text,
    table_name     text,
    index_name     text,
    reindex        boolean NOT NULL,
    invalid_before text[] NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT now(),
    backend_pid    integer NOT NULL,
    backend_start  timestamptz NOT NULL,
    CHECK ((schema_name IS NULL) = (table_name IS NULL))
);
COMMENT ON TABLE migrate.index_build IS
'concurrent index builds run at top level by migrate_run, recorded before they start: an interrupted one may have left an INVALID index';
REVOKE ALL ON TABLE migrate.index_build FROM PUBLIC;
REVOKE ALL ON SEQUENCE migrate.index_build_id_seq FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('migrate.index_build', '');
SELECT pg_catalog.pg_extension_config_dump('migrate.index_build_id_seq', '');

-- migrate_status gains the column invalid_indexes, after the old ones.  The
-- old function is renamed, not dropped, until its grants are copied.
ALTER FUNCTION migrate_status(text) RENAME TO migrate_status_0_3_0;
CREATE FUNCTION migrate_status(
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (project text, applied_heads text[], registry_heads text[],
               applied integer, pending integer, drifted integer,
               last_revision text, last_applied_at timestamptz,
               lock_pid integer, lock_role name, lock_application text,
               lock_since timestamptz, invalid_indexes text[])
AS 'MODULE_PATHNAME', 'migrate_status'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_status(text) IS
'one row: heads, counts, last applied revision, who holds the migration lock, and the INVALID indexes that interrupted concurrent builds left';
REVOKE ALL ON FUNCTION migrate_status(text) FROM PUBLIC;

-- The roles granted EXECUTE on the old migrate_status (a monitoring role)
-- keep it, with its grant option, on the new one; then the old one goes.
DO $$
DECLARE
    grant_ record;
BEGIN
    FOR grant_ IN
        SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee,
               a.is_grantable
          FROM pg_catalog.pg_proc p,
               pg_catalog.aclexplode(p.proacl) a
         WHERE p.oid = 'migrate_status_0_3_0(text)'::pg_catalog.regprocedure
           AND a.privilege_type = 'EXECUTE'
           AND a.grantee <> p.proowner
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION migrate_status(text) TO %s%s',
                                  grant_.grantee,
                                  CASE WHEN grant_.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;
DROP FUNCTION migrate_status_0_3_0(text);
