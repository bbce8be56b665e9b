--
-- Version skew: this build's library under the SQL objects of an older
-- release, as after installing a new package and before ALTER EXTENSION
-- pg_migrate UPDATE.  Every function each release's SQL has answers with
-- one error (MG038) naming both versions and the command to run, never a
-- crash (the 0.2.0 migrate_sync with a NULL argument crashed the server)
-- nor a raw "column ... does not exist".  After ALTER EXTENSION UPDATE, in
-- the same session, the same calls work.  The extension is dropped
-- between releases, and each release starts in a new session, with the
-- library loaded by its first call, as after an upgrade of the package.
--
\set SHOW_CONTEXT never
-- what the state holds (a function, which DROP EXTENSION does not mind,
-- and which may be created before the tables exist)
SET check_function_bodies = off;
CREATE FUNCTION hostile_versions_counts(OUT revisions bigint, OUT applied bigint, OUT history bigint)
LANGUAGE sql AS $$
  SELECT (SELECT count(*) FROM migrate.revision), (SELECT count(*) FROM migrate.applied),
         (SELECT count(*) FROM migrate.history)
$$;
RESET check_function_bodies;

--
-- 0.1.0
--
\c
CREATE EXTENSION pg_migrate VERSION '0.1.0';
SELECT migrate_register('0001_skew', 'CREATE TABLE skew_one (id int);');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_unregister('0001_skew');
SELECT * FROM migrate_upgrade();
SELECT * FROM migrate_upgrade(dry_run => true);
SELECT * FROM migrate_pending();
SELECT * FROM migrate_current();
SELECT * FROM migrate_heads();
SELECT * FROM migrate_status();
SELECT * FROM migrate_history();
SELECT * FROM migrate_validate();
SELECT * FROM hostile_versions_counts();
ALTER EXTENSION pg_migrate UPDATE;
SELECT extversion = default_version AS current
  FROM pg_extension JOIN pg_available_extensions ON name = extname
 WHERE extname = 'pg_migrate';
SELECT migrate_register('0001_skew', 'CREATE TABLE skew_one (id int);');
SELECT revision FROM migrate_pending();
SELECT revision, action FROM migrate_upgrade();
SELECT revision FROM migrate_current();
SELECT revision, applied FROM migrate_heads();
SELECT applied, pending FROM migrate_status();
SELECT event, revision FROM migrate_history() ORDER BY id;
SELECT * FROM migrate_validate();
SELECT migrate_register('0002_skew', 'SELECT 2;');
SELECT migrate_unregister('0002_skew');
DROP EXTENSION pg_migrate;
DROP TABLE skew_one;

--
-- 0.2.0
--
\c
CREATE EXTENSION pg_migrate VERSION '0.2.0';
SELECT * FROM migrate_sync('[{"revision": "0001_skew", "parents": [], "up": "SELECT 1;"}]', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('0001_skew', 'CREATE TABLE skew_one (id int);');
SELECT migrate_unregister('0001_skew');
SELECT * FROM migrate_upgrade();
SELECT * FROM migrate_downgrade('base');
SELECT * FROM migrate_stamp('head');
SELECT migrate_repair('0001_skew');
SELECT * FROM migrate_sync('[]');
SELECT * FROM migrate_sync('[{"revision": "0001_skew", "parents": [], "up": "SELECT 1;"}]', 'default');
SELECT * FROM migrate_sources();
SELECT * FROM migrate_pending();
SELECT * FROM migrate_current();
SELECT * FROM migrate_heads();
SELECT * FROM migrate_status();
SELECT * FROM migrate_history();
SELECT * FROM migrate_validate();
SELECT * FROM hostile_versions_counts();
ALTER EXTENSION pg_migrate UPDATE;
SELECT * FROM migrate_sync('[{"revision": "0001_skew", "parents": [], "up": "CREATE TABLE skew_one (id int);", "down": "DROP TABLE skew_one;"}]', NULL);
SELECT revision, source_hash IS NOT NULL AS hashed FROM migrate_sources();
SELECT revision, action FROM migrate_upgrade();
SELECT revision, action FROM migrate_downgrade('base');
SELECT * FROM migrate_stamp('head');
SELECT migrate_repair('0001_skew');
SELECT event, revision FROM migrate_history() ORDER BY id;
DROP EXTENSION pg_migrate;

--
-- 0.3.0
--
\c
CREATE EXTENSION pg_migrate VERSION '0.3.0';
SELECT migrate_register('0001_skew', 'CREATE TABLE skew_one (id int);');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_unregister('0001_skew');
SELECT * FROM migrate_upgrade();
SELECT * FROM migrate_downgrade('base');
SELECT * FROM migrate_stamp('head');
SELECT migrate_repair('0001_skew');
SELECT * FROM migrate_sync('[]', NULL);
SELECT * FROM migrate_sources();
SELECT * FROM migrate_synced_folder();
SELECT * FROM migrate_pending();
SELECT * FROM migrate_current();
SELECT * FROM migrate_heads();
SELECT * FROM migrate_status();
SELECT * FROM migrate_history();
SELECT * FROM migrate_validate();
SELECT migrate_check();
SELECT migrate_mask('ALTER ROLE r PASSWORD ''secret''');
SELECT * FROM migrate_lint('CREATE TABLE t (id int);');
SELECT * FROM migrate_lint_revision('0001_skew');
CALL migrate_run();
SELECT * FROM hostile_versions_counts();
ALTER EXTENSION pg_migrate UPDATE;
SELECT * FROM migrate_sync('[{"revision": "0001_skew", "parents": [], "up": "CREATE TABLE skew_one (id int);", "down": "DROP TABLE skew_one;"}]', 'folder-1');
SELECT * FROM migrate_synced_folder();
SELECT rule FROM migrate_lint('CREATE TABLE skew_two (id int);');
SELECT rule FROM migrate_lint_revision('0001_skew');
SELECT migrate_mask('ALTER ROLE r PASSWORD ''secret''');
CALL migrate_run();
SELECT migrate_check();
SELECT revision, action FROM migrate_downgrade('base');
DROP EXTENSION pg_migrate;

--
-- A C entry point does not trust the SQL declaration it is called through:
-- declared with another number of arguments, or another result, it
-- refuses instead of reading what is not there.
--
\c
CREATE EXTENSION pg_migrate;
CREATE FUNCTION pg_temp.old_sync(revisions jsonb, project text)
RETURNS TABLE (revision text, action text)
AS '$libdir/pg_migrate', 'migrate_sync' LANGUAGE C;
SELECT * FROM pg_temp.old_sync('[]', NULL);
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION pg_temp.old_history("limit" integer, project text)
RETURNS TABLE (id bigint, event text, revision text, target text,
               checksum text, previous_checksum text,
               started_at timestamptz, finished_at timestamptz,
               duration interval, statements integer, attempts integer,
               role name, application_name text, backend_pid integer,
               detail text)
AS '$libdir/pg_migrate', 'migrate_history' LANGUAGE C;
SELECT migrate_register('0001_skew', 'SELECT 1;');
SELECT * FROM pg_temp.old_history(10, NULL);
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION pg_temp.odd_status(project text)
RETURNS TABLE (project text, applied_heads text)
AS '$libdir/pg_migrate', 'migrate_status' LANGUAGE C;
SELECT * FROM pg_temp.odd_status(NULL);
\echo :LAST_ERROR_SQLSTATE

--
-- The version is read at every call, not cached: a change committed by
-- another session is seen by the next call.  Here the other session makes
-- the installed version newer than the library, as a pooled session finds
-- it after a package upgrade and an ALTER EXTENSION UPDATE elsewhere (an
-- edit of pg_extension stands for the update), then puts it back.
--
CREATE EXTENSION dblink;
SELECT dblink_connect('other',
  format('host=%s port=%s dbname=%s',
         split_part(current_setting('unix_socket_directories'), ',', 1),
         current_setting('port'), current_database()));
SELECT count(*) FROM migrate_current();
SELECT dblink_exec('other', $$UPDATE pg_extension SET extversion = '99.0' WHERE extname = 'pg_migrate'$$);
SELECT count(*) FROM migrate_current();
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('other', $$UPDATE pg_extension e SET extversion = a.default_version
                               FROM pg_available_extensions a
                              WHERE a.name = e.extname AND e.extname = 'pg_migrate'$$);
SELECT count(*) FROM migrate_current();
SELECT dblink_disconnect('other');
DROP EXTENSION dblink;
DROP EXTENSION pg_migrate;

-- without the extension at all, the library's functions refuse too
CREATE FUNCTION pg_temp.stray_status(project text)
RETURNS TABLE (project text, applied_heads text[], registry_heads text[],
               applied integer, pending integer, drifted integer,
               last_revision text, last_applied_at timestamptz,
               lock_pid integer, lock_role name, lock_application text,
               lock_since timestamptz)
AS '$libdir/pg_migrate', 'migrate_status' LANGUAGE C;
SELECT * FROM pg_temp.stray_status(NULL);
\echo :LAST_ERROR_SQLSTATE

--
-- The sweep: every function and procedure of each released SQL version,
-- as its pg_proc rows list them (so one added later is not forgotten),
-- called under this library with an argument of each declared type.  Each
-- old version's every call gives MG038 and changes nothing; under the
-- current version every call returns or raises an ordinary error, and the
-- session lives on.  Each version in a new session, the library loaded by
-- its first call.
--
CREATE FUNCTION hostile_versions_sweep(OUT routine text, OUT state text)
RETURNS SETOF record LANGUAGE plpgsql AS $sweep$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT p.proname, p.prokind,
           format('%I.%I(%s)', n.nspname, p.proname,
                  coalesce((SELECT string_agg(
                              CASE format_type(t, NULL)
                                WHEN 'text' THEN '''x''::text'
                                WHEN 'integer' THEN '1'
                                WHEN 'bigint' THEN '1::bigint'
                                WHEN 'boolean' THEN 'false'
                                WHEN 'jsonb' THEN '''[]''::jsonb'
                                WHEN 'text[]' THEN '''{}''::text[]'
                                WHEN 'interval' THEN '''1 second''::interval'
                                ELSE format('NULL::%s', format_type(t, NULL))
                              END, ', ' ORDER BY i)
                            FROM unnest(p.proargtypes) WITH ORDINALITY AS a(t, i)), '')) AS call,
           pg_get_function_identity_arguments(p.oid) AS args
      FROM pg_depend d
      JOIN pg_proc p ON p.oid = d.objid
      JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
       AND d.refclassid = 'pg_extension'::regclass
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_migrate')
       AND p.prorettype <> 'trigger'::regtype  -- a trigger's function is not callable
     ORDER BY p.proname, args
  LOOP
    routine := format('%s(%s)', r.proname, r.args);
    BEGIN
      IF r.prokind = 'p' THEN
        EXECUTE 'CALL ' || r.call;
      ELSE
        EXECUTE 'SELECT * FROM ' || r.call;
      END IF;
      state := 'ok';
    EXCEPTION WHEN OTHERS THEN
      state := SQLSTATE;
    END;
    RETURN NEXT;
  END LOOP;
END
$sweep$;

\c
CREATE EXTENSION pg_migrate VERSION '0.1.0';
SELECT count(*) AS routines, count(*) FILTER (WHERE state = 'MG038') AS refused,
       string_agg(routine || ': ' || state, ', ') FILTER (WHERE state <> 'MG038') AS others
  FROM hostile_versions_sweep();
SELECT * FROM hostile_versions_counts();
DROP EXTENSION pg_migrate;

\c
CREATE EXTENSION pg_migrate VERSION '0.2.0';
SELECT count(*) AS routines, count(*) FILTER (WHERE state = 'MG038') AS refused,
       string_agg(routine || ': ' || state, ', ') FILTER (WHERE state <> 'MG038') AS others
  FROM hostile_versions_sweep();
SELECT * FROM hostile_versions_counts();
DROP EXTENSION pg_migrate;

\c
CREATE EXTENSION pg_migrate VERSION '0.3.0';
SELECT count(*) AS routines, count(*) FILTER (WHERE state = 'MG038') AS refused,
       string_agg(routine || ': ' || state, ', ') FILTER (WHERE state <> 'MG038') AS others
  FROM hostile_versions_sweep();
SELECT * FROM hostile_versions_counts();
DROP EXTENSION pg_migrate;

-- the current version: ordinary answers and errors, every one
\c
CREATE EXTENSION pg_migrate;
SELECT * FROM hostile_versions_sweep();
SELECT 'alive' AS session;
DROP EXTENSION pg_migrate;
DROP FUNCTION hostile_versions_sweep();
DROP FUNCTION hostile_versions_counts();
