--
-- Hostile review of migrate_check, migrate_validate and migrate_status
-- (issue 13, items 7 and 15):
-- 1. a cycle through 2000 revisions: the check's detail names a few of
--    them and counts the rest (it was a list of every one), and does not
--    claim an upgrade order for the pending revisions, since no upgrade
--    runs on a cycle; migrate_validate and migrate_upgrade name it the
--    same bounded way, and so many heads too;
-- 2. INVALID indexes left by interrupted concurrent builds (recorded in
--    migrate.index_build by the top-level worker; here by hand, as the
--    superuser, for an index that a failed build left): named by all
--    three, MG040 ranked after drift and before several heads and pending
--    revisions; a build still running is not reported; an index dropped
--    or valid is not reported.  t/013_hostile_invalid_index.pl interrupts
--    real builds.
--
CREATE EXTENSION pg_migrate;
\set SHOW_CONTEXT never

-- 1. A cycle of 2000 revisions: registered as a line, then the root made
--    the child of the last one by hand.
SELECT count(*) FROM migrate_sync(
  (SELECT jsonb_agg(jsonb_build_object(
            'revision', format('r%s', lpad(g::text, 4, '0')),
            'parents', CASE WHEN g = 1 THEN '[]'::jsonb
                       ELSE jsonb_build_array(format('r%s', lpad((g - 1)::text, 4, '0'))) END,
            'up', 'SELECT 1;') ORDER BY g)
     FROM generate_series(1, 2000) g),
  project => 'cycle');
UPDATE migrate.revision SET parents = '{r2000}'
 WHERE project = 'cycle' AND revision = 'r0001';

SELECT migrate_check('cycle');
\echo :LAST_ERROR_SQLSTATE
SELECT severity, problem, detail, length(detail) < 200 AS bounded
  FROM migrate_validate('cycle') WHERE problem = 'cycle';
SELECT * FROM migrate_upgrade(project => 'cycle');
\echo :LAST_ERROR_SQLSTATE

-- fifteen heads: validate names ten, and counts the others
SELECT count(*) FROM migrate_sync(
  (SELECT jsonb_agg(jsonb_build_object(
            'revision', format('h%s', lpad(g::text, 2, '0')),
            'parents', '[]'::jsonb, 'up', 'SELECT 1;') ORDER BY g)
     FROM generate_series(1, 15) g),
  project => 'many_heads');
SELECT severity, problem, detail FROM migrate_validate('many_heads')
 WHERE problem = 'several heads';

-- 2. INVALID indexes left by interrupted concurrent builds.
SELECT migrate_register('k1', 'CREATE TABLE dup (v int);', project => 'ranks');
SELECT count(*) FROM migrate_upgrade(project => 'ranks');
INSERT INTO dup VALUES (1), (1);
-- a unique build fails on the duplicates, and leaves its index INVALID
CREATE UNIQUE INDEX CONCURRENTLY dup_v_key ON dup (v);
SELECT indisvalid FROM pg_index WHERE indexrelid = 'dup_v_key'::regclass;
SELECT migrate_check('ranks');

-- as the top-level worker records a build of statement 2 of k2's up
-- script, by a worker (pid 0) that is no longer running
INSERT INTO migrate.index_build (project, revision, down, statement, schema_name,
    table_name, index_name, reindex, invalid_before, backend_pid, backend_start)
VALUES ('ranks', 'k2', false, 2, 'public', 'dup', 'dup_v_key', false, '{}', 0, now());
SELECT invalid_indexes FROM migrate_status('ranks');
SELECT severity, revision, problem, detail FROM migrate_validate('ranks');
SELECT migrate_check('ranks');
\echo :LAST_ERROR_SQLSTATE

-- ranked after drift, before several heads and pending revisions
SELECT migrate_register('k2', 'SELECT 2;', project => 'ranks');
SELECT migrate_register('k3', 'SELECT 3;', parents => '{k1}', project => 'ranks');
SELECT migrate_check('ranks');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('k1', 'CREATE TABLE dup (v bigint);', force => true, project => 'ranks');
SELECT migrate_check('ranks');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('k1', 'CREATE TABLE dup (v int);', force => true, project => 'ranks');
SELECT migrate_unregister('k2', project => 'ranks');
SELECT migrate_unregister('k3', project => 'ranks');

-- the same index under a later build whose worker still runs (this
-- session stands for it): a build in progress has left nothing yet
INSERT INTO migrate.index_build (project, revision, down, statement, schema_name,
    table_name, index_name, reindex, invalid_before, backend_pid, backend_start)
SELECT 'ranks', 'k9', false, 1, 'public', 'dup', NULL, false, '{}', pid, backend_start
  FROM pg_stat_activity WHERE pid = pg_backend_pid();
SELECT invalid_indexes FROM migrate_status('ranks');
SELECT migrate_check('ranks');
DELETE FROM migrate.index_build WHERE revision = 'k9';

-- the caller's search_path does not matter: an operator put before
-- pg_catalog's is not used
CREATE SCHEMA hostile;
CREATE FUNCTION hostile.eq(text, text) RETURNS boolean LANGUAGE plpgsql
  AS $$BEGIN RAISE EXCEPTION 'user code ran'; END$$;
CREATE OPERATOR hostile.= (leftarg = text, rightarg = text, function = hostile.eq);
SET search_path = hostile, pg_catalog, public;
SELECT 'a'::text = 'a'::text;
SELECT invalid_indexes FROM migrate_status('ranks');
SELECT severity, revision, problem FROM migrate_validate('ranks');
SELECT migrate_check('ranks');
\echo :LAST_ERROR_SQLSTATE
RESET search_path;
DROP SCHEMA hostile CASCADE;

-- valid (here, the duplicate gone and the index rebuilt), then dropped:
-- nothing is reported
DELETE FROM dup;
REINDEX INDEX dup_v_key;
SELECT indisvalid FROM pg_index WHERE indexrelid = 'dup_v_key'::regclass;
SELECT invalid_indexes FROM migrate_status('ranks');
SELECT migrate_check('ranks');
DROP INDEX dup_v_key;
SELECT invalid_indexes FROM migrate_status('ranks');
SELECT count(*) FROM migrate_validate('ranks');
SELECT migrate_check('ranks');

DROP TABLE dup;
DROP EXTENSION pg_migrate;
