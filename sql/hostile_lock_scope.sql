--
-- Hostile: the migration lock (issue 13, items 5, 6 and 15d).  It is an
-- object lock whose class is table migrate.project and whose object id is
-- the project's hash, so it shows in pg_locks as locktype "object"; no SQL
-- command takes or releases it (src/lock.c).  The concurrent cases, a role
-- without privileges taking advisory locks and a second run while the
-- first waits, are in specs/hostile_lock.spec.
--
CREATE EXTENSION pg_migrate;
\set SHOW_CONTEXT never
SET client_min_messages = warning;

-- the migration locks this session holds, as pg_locks shows them
CREATE TEMP VIEW my_migration_lock AS
  SELECT locktype, classid::regclass, objid = hashtext(current_setting('pg_migrate.project'))::oid AS objid_is_hash,
         objsubid, mode, granted
    FROM pg_locks
   WHERE pid = pg_backend_pid() AND locktype = 'object'
     AND classid = 'migrate.project'::regclass;

-- migrate_upgrade holds it for its transaction.  A script's
-- pg_advisory_unlock_all(), pg_advisory_unlock() of the old key (a
-- WARNING: nobody holds that one) and pg_advisory_xact_lock() on the old
-- key change nothing of it; commit releases it.
SET pg_migrate.project = 'hostile_lock';
SELECT migrate_register('u1', $$SELECT pg_advisory_unlock_all();
SELECT pg_advisory_unlock(1835624306, hashtext('hostile_lock'));
SELECT pg_advisory_xact_lock(1835624306, hashtext('hostile_lock'));$$);
BEGIN;
SELECT revision, action FROM migrate_upgrade();
SELECT * FROM my_migration_lock;
COMMIT;
SELECT * FROM my_migration_lock;

-- an error releases it with the rest of the transaction
SELECT migrate_register('u2', 'SELECT 1 / 0;');
BEGIN;
SELECT revision, action FROM migrate_upgrade();
ROLLBACK;
SELECT * FROM my_migration_lock;
BEGIN;
SELECT migrate_register('u3', 'SELECT 3;');
SELECT * FROM my_migration_lock;
SELECT 1 / 0;
ROLLBACK;
SELECT * FROM my_migration_lock;
SELECT migrate_register('u2', 'SELECT 2;');

-- CALL migrate_run holds it for the session, across its commits, and a
-- script's pg_advisory_unlock_all() leaves it alone: r2 sees it.
CREATE TABLE hostile_lock_seen AS SELECT * FROM my_migration_lock WITH NO DATA;
SELECT migrate_register('r1', 'SELECT pg_advisory_unlock_all();');
SELECT migrate_register('r2', 'INSERT INTO hostile_lock_seen SELECT * FROM my_migration_lock;');
CALL migrate_run();
SELECT * FROM hostile_lock_seen;
-- and releases it at the end
SELECT * FROM my_migration_lock;

-- 15d: a procedure that cannot commit cannot run migrate_run, and the
-- error says so: a SECURITY DEFINER procedure, a procedure with a SET
-- clause (ExecuteCallStmt makes both atomic), as well as a function
CREATE PROCEDURE hostile_run_definer() LANGUAGE plpgsql SECURITY DEFINER
  AS $$BEGIN CALL migrate_run(); END$$;
CREATE PROCEDURE hostile_run_with_set() LANGUAGE plpgsql SET work_mem = '4MB'
  AS $$BEGIN CALL migrate_run(); END$$;
CREATE FUNCTION hostile_run_function() RETURNS void LANGUAGE plpgsql
  AS $$BEGIN CALL migrate_run(); END$$;
CALL hostile_run_definer();
\echo :LAST_ERROR_SQLSTATE
CALL hostile_run_with_set();
\echo :LAST_ERROR_SQLSTATE
SELECT hostile_run_function();
\echo :LAST_ERROR_SQLSTATE
-- a procedure that may commit can
SELECT migrate_register('r3', 'SELECT 3;');
SELECT revision FROM migrate.applied WHERE project = 'hostile_lock' ORDER BY revision;
CREATE PROCEDURE hostile_run_plain() LANGUAGE plpgsql
  AS $$BEGIN CALL migrate_run(); END$$;
CALL hostile_run_plain();
SELECT revision FROM migrate.applied WHERE project = 'hostile_lock' ORDER BY revision;

DROP PROCEDURE hostile_run_definer(), hostile_run_with_set(), hostile_run_plain();
DROP FUNCTION hostile_run_function();
DROP TABLE hostile_lock_seen;
DROP VIEW my_migration_lock;
RESET pg_migrate.project;
RESET client_min_messages;
DROP EXTENSION pg_migrate;
