--
-- CALL migrate_run: each revision in a transaction of its own, up and down;
-- what it refuses; a failure part way keeps the revisions before it;
-- patterns one transaction cannot hold (an enum value added, then used);
-- settings that never leak; empty merges; the migration lock.
--
CREATE EXTENSION pg_migrate;
CREATE EXTENSION dblink;
\set SHOW_CONTEXT never
SET application_name = 'regress_run';

-- the current project's applied revisions and history
CREATE TEMP VIEW applied AS
  SELECT string_agg(revision, ' ' ORDER BY revision COLLATE "C") AS applied
    FROM migrate.applied WHERE project = current_setting('pg_migrate.project');
CREATE TEMP VIEW events AS
  SELECT event, coalesce(revision, '-') AS revision, target, sqlstate
    FROM migrate.history
   WHERE project = current_setting('pg_migrate.project')
     AND event NOT IN ('register', 'update')
   ORDER BY id;
CREATE TEMP VIEW tables AS
  SELECT string_agg(relname, ' ' ORDER BY relname) AS tables
    FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
     AND relname LIKE 'run\_%';

SET pg_migrate.project = 'five';
SELECT migrate_register('r1', 'CREATE TABLE run_1 (id int);', 'DROP TABLE run_1;');
SELECT migrate_register('r2', 'CREATE TABLE run_2 (id int);', 'DROP TABLE run_2;');
SELECT migrate_register('r3', E'CREATE TABLE run_3 (id int);\nINSERT INTO run_3 VALUES (1 / 0);', 'DROP TABLE run_3;');
SELECT migrate_register('r4', 'CREATE TABLE run_4 (id int);', 'DROP TABLE run_4;');
SELECT migrate_register('r5', 'CREATE TABLE run_5 (id int);', 'DROP TABLE run_5;');

-- refused where it cannot commit, before anything: in a transaction block,
-- from a function; and where migrate_upgrade is refused too
BEGIN;
CALL migrate_run();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
CREATE FUNCTION run_from_function() RETURNS void LANGUAGE plpgsql
  AS $$BEGIN CALL migrate_run(); END$$;
SELECT run_from_function();
\echo :LAST_ERROR_SQLSTATE
SET default_transaction_isolation = 'repeatable read';
CALL migrate_run();
\echo :LAST_ERROR_SQLSTATE
RESET default_transaction_isolation;
SET default_transaction_read_only = on;
CALL migrate_run();
\echo :LAST_ERROR_SQLSTATE
RESET default_transaction_read_only;
-- a bad target is an error of the call (recorded), and changes nothing
CALL migrate_run('nosuch');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM applied, tables;

-- a syntax error in the 5th script is found before the 1st runs
SELECT migrate_register('r5', 'CREATE TABLE run_5 (id int', 'DROP TABLE run_5;');
CALL migrate_run();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM applied, tables;
SELECT migrate_register('r5', 'CREATE TABLE run_5 (id int);', 'DROP TABLE run_5;');

-- a failure at the 3rd of 5 leaves the first two applied and recorded, a
-- failure row for the 3rd, and nothing of it
CALL migrate_run();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM applied, tables;
SELECT * FROM events;
SELECT revision, statements, attempts FROM migrate.applied
 WHERE project = 'five' ORDER BY revision;

-- fixed, the next run goes on from there
SELECT migrate_register('r3', E'CREATE TABLE run_3 (id int);\nINSERT INTO run_3 VALUES (1);', 'DROP TABLE run_3;');
CALL migrate_run();
SELECT * FROM applied, tables;
-- at head: nothing to do
CALL migrate_run();
SELECT * FROM migrate_upgrade();

-- down: -1, a revision id, base; up: a revision id, +1, head
CALL migrate_run('-1');
SELECT * FROM applied, tables;
CALL migrate_run('r2');
SELECT * FROM applied, tables;
CALL migrate_run('base');
SELECT * FROM applied, tables;
CALL migrate_run('r3');
SELECT * FROM applied;
CALL migrate_run('+1');
SELECT * FROM applied;
CALL migrate_run('head');
SELECT * FROM applied;
SELECT event, revision, target FROM events WHERE event LIKE '%grade' ORDER BY revision, target;

-- direction: 'up' never reverts (an applied target is a no-op: the
-- client's "up" relies on it), 'down' never applies; a target that goes
-- the other way, or another word, is refused before anything
CALL migrate_run('r2', direction => 'up');
SELECT * FROM applied;
CALL migrate_run('base', direction => 'up');
CALL migrate_run('-1', direction => 'up');
CALL migrate_run('head', direction => 'down');
CALL migrate_run('+1', direction => 'down');
CALL migrate_run('r2', direction => 'sideways');
CALL migrate_run('r4', direction => 'down');
SELECT * FROM applied;
CALL migrate_run('head');

-- a failing down script: the revisions reverted before it stay reverted
SELECT migrate_register('r4', 'CREATE TABLE run_4 (id int);', 'DROP TABLE run_none;', force => true);
CALL migrate_run('r2');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM applied, tables;
SELECT event, revision, sqlstate FROM events WHERE event LIKE '% failed' ORDER BY revision;
-- a missing down script is refused before anything is reverted
SELECT migrate_register('r4', 'CREATE TABLE run_4 (id int);', NULL, force => true);
CALL migrate_run('base');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM applied;
SELECT migrate_register('r4', 'CREATE TABLE run_4 (id int);', 'DROP TABLE run_4;', force => true);
CALL migrate_run('base');
SELECT * FROM applied, tables;

-- An enum value added by one revision and used by the next: one
-- transaction cannot do it (55P04), one transaction per revision can.
SET pg_migrate.project = 'enum';
SELECT migrate_register('e1', $$CREATE TYPE run_mood AS ENUM ('sad');$$, 'DROP TYPE run_mood;');
SELECT migrate_register('e2', $$ALTER TYPE run_mood ADD VALUE 'happy';$$, '');
SELECT migrate_register('e3', $$CREATE TABLE run_moods (m run_mood DEFAULT 'happy');
INSERT INTO run_moods VALUES (DEFAULT), ('sad');$$, 'DROP TABLE run_moods;');
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM applied;
CALL migrate_run();
SELECT * FROM applied;
SELECT m FROM run_moods ORDER BY m;

-- Empty merge revisions: two branches joined by a merge with no statements
-- (an empty script, then one with only a comment), down and up again.
SET pg_migrate.project = 'merges';
SELECT migrate_register('m1', 'CREATE TABLE run_m1 (id int);', 'DROP TABLE run_m1;');
SELECT migrate_register('m2a', 'CREATE TABLE run_m2a (id int);', 'DROP TABLE run_m2a;', parents => '{m1}');
SELECT migrate_register('m2b', 'CREATE TABLE run_m2b (id int);', 'DROP TABLE run_m2b;', parents => '{m1}');
SELECT migrate_register('m3', '', '', parents => '{m2a,m2b}');
SELECT migrate_register('m4a', 'CREATE TABLE run_m4a (id int);', 'DROP TABLE run_m4a;', parents => '{m3}');
SELECT migrate_register('m4b', 'SELECT 1;', '', parents => '{m3}');
SELECT migrate_register('m5', '-- merge', '-- merge', parents => '{m4a,m4b}');
CALL migrate_run();
SELECT * FROM applied;
SELECT revision, statements FROM migrate.applied
 WHERE project = 'merges' AND revision IN ('m3', 'm5') ORDER BY revision;
CALL migrate_run('m3');
SELECT * FROM applied;
CALL migrate_run();
SELECT revision FROM migrate_current();

-- A few hundred revisions, some setting session settings: none leaks into
-- the next revision (a script that needs search_path would fail) nor into
-- the caller's session.
SET pg_migrate.project = 'many';
SET work_mem = '4MB';
DO $$
DECLARE
  parent text[] := '{}';
BEGIN
  FOR i IN 1..300 LOOP
    PERFORM migrate_register(format('many_%s', lpad(i::text, 3, '0')),
      CASE WHEN i % 10 = 0
        THEN format('SET search_path = pg_catalog; SET work_mem = ''7MB''; CREATE TABLE public.run_many_%s (id int);', i)
        ELSE format('DO $x$ BEGIN IF current_setting(''work_mem'') <> ''4MB'' THEN RAISE ''work_mem leaked''; END IF; END $x$; CREATE TABLE run_many_%s (id int);', i)
      END,
      format('DROP TABLE public.run_many_%s;', i),
      parents => parent);
    parent := ARRAY[format('many_%s', lpad(i::text, 3, '0'))];
  END LOOP;
END
$$;
\set VERBOSITY terse
SET client_min_messages = warning;
CALL migrate_run();
RESET client_min_messages;
\set VERBOSITY default
SHOW search_path;
SHOW work_mem;
SELECT count(*) AS applied,
       count(*) FILTER (WHERE h.id IS NOT NULL) AS with_history
  FROM migrate.applied a
  LEFT JOIN migrate.history h ON h.project = a.project AND h.revision = a.revision
   AND h.event = 'upgrade'
 WHERE a.project = 'many';
SELECT count(*) FROM pg_class WHERE relname LIKE 'run\_many\_%' AND relkind = 'r';
SET client_min_messages = warning;
CALL migrate_run('base');
RESET client_min_messages;
SELECT count(*) FROM pg_class WHERE relname LIKE 'run\_many\_%' AND relkind = 'r';
SELECT count(*) FROM migrate.applied WHERE project = 'many';

-- Revisions that must run at top level: a concurrent index build up and
-- its DROP INDEX CONCURRENTLY down, a CALL of a procedure that COMMITs in
-- a loop.  migrate_upgrade and migrate_downgrade refuse the first.
SET pg_migrate.project = 'toplevel';
SELECT migrate_register('t1', $$CREATE TABLE run_t (id int, v text);
INSERT INTO run_t SELECT i, 'v' || i FROM generate_series(1, 1000) AS i;$$, 'DROP TABLE run_t;');
SELECT migrate_register('t2', 'CREATE INDEX CONCURRENTLY run_t_v ON run_t (v);', 'DROP INDEX CONCURRENTLY run_t_v;');
SELECT migrate_register('t3', $$CREATE PROCEDURE run_fill(n int) LANGUAGE plpgsql AS $p$
BEGIN
  FOR i IN 1..n LOOP
    INSERT INTO run_t VALUES (1000 + i, 'filled');
    COMMIT;
  END LOOP;
END
$p$;$$, 'DROP PROCEDURE run_fill(int);');
SELECT migrate_register('t4', 'CALL run_fill(5);', 'DELETE FROM run_t WHERE id > 1000;');
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
CALL migrate_run();
SELECT * FROM applied;
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index WHERE indrelid = 'run_t'::regclass;
SELECT count(*) FROM run_t WHERE v = 'filled';
SELECT revision, statements, attempts FROM migrate.applied
 WHERE project = 'toplevel' ORDER BY revision;
SELECT count(*) FROM migrate_upgrade();
-- down: migrate_downgrade refuses, migrate_run reverts, at top level where
-- it must
SELECT * FROM migrate_downgrade('t1');
\echo :LAST_ERROR_SQLSTATE
CALL migrate_run('t1');
SELECT * FROM applied;
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'run_t'::regclass;
SELECT count(*) FROM run_t WHERE v = 'filled';
-- a failing concurrent build: reported, its INVALID index dropped, the
-- revision not applied
SELECT migrate_register('t2', 'CREATE UNIQUE INDEX CONCURRENTLY run_t_v ON run_t ((id > 0));', 'DROP INDEX CONCURRENTLY run_t_v;');
CALL migrate_run();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM applied;
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'run_t'::regclass;
SELECT event, revision, sqlstate FROM events WHERE event LIKE '% failed';
SELECT migrate_register('t2', 'CREATE INDEX CONCURRENTLY run_t_v ON run_t (v);', 'DROP INDEX CONCURRENTLY run_t_v;');
CALL migrate_run();
SELECT * FROM applied;
CALL migrate_run('base');
SELECT * FROM applied, tables;

-- EXECUTE on the procedure is all a role needs to run the migrations, with
-- its own rights, at top level too; without it, nothing runs.
CREATE ROLE regress_run_deployer;
GRANT CREATE ON SCHEMA public TO regress_run_deployer;
SET pg_migrate.project = 'granted';
SELECT migrate_register('g1', 'CREATE TABLE run_g (id int);', 'DROP TABLE run_g;');
SELECT migrate_register('g2', 'CREATE INDEX CONCURRENTLY run_g_id ON run_g (id);', 'DROP INDEX CONCURRENTLY run_g_id;');
SET ROLE regress_run_deployer;
CALL migrate_run();
RESET ROLE;
GRANT EXECUTE ON PROCEDURE migrate_run(text, text, text) TO regress_run_deployer;
SET ROLE regress_run_deployer;
CALL migrate_run();
RESET ROLE;
SELECT c.relname, pg_get_userbyid(c.relowner) AS owner
  FROM pg_class c WHERE c.relname IN ('run_g', 'run_g_id') ORDER BY 1;
SELECT revision, applied_by FROM migrate.applied WHERE project = 'granted' ORDER BY revision;
SET ROLE regress_run_deployer;
CALL migrate_run('base');
RESET ROLE;
SELECT * FROM applied;
REVOKE ALL ON PROCEDURE migrate_run(text, text, text) FROM regress_run_deployer;
REVOKE CREATE ON SCHEMA public FROM regress_run_deployer;
DROP ROLE regress_run_deployer;

-- The lock.  A session in migrate_register holds the project's migration
-- lock: the run waits pg_migrate.lock_wait_timeout and gets MG013, which
-- is recorded.
SET pg_migrate.project = 'locked';
SELECT migrate_register('l1', 'CREATE TABLE run_l1 (id int);', 'DROP TABLE run_l1;');
SELECT dblink_connect('other',
  format('host=%s port=%s dbname=%s application_name=regress_other',
         split_part(current_setting('unix_socket_directories'), ',', 1),
         current_setting('port'), current_database()));
SELECT dblink_exec('other', 'SET pg_migrate.project = locked');
SELECT dblink_exec('other', 'BEGIN');
SELECT * FROM dblink('other', $$SELECT migrate_register('l0', 'SELECT 1;', parents => '{}')$$) AS t(r text);
SET pg_migrate.lock_wait_timeout = 100;
\set VERBOSITY terse
CALL migrate_run();
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('other', 'ROLLBACK');
SELECT * FROM applied;
SELECT event, revision, sqlstate FROM events;
-- While a run holds the lock, across its commits, a migrate_upgrade of
-- another session waits its lock_wait_timeout and gets MG013 naming the
-- run's backend; l2 asks it, from inside the run.
CREATE TABLE run_lock_seen (sqlstate text, message text, detail text);
SELECT dblink_exec('other', 'SET pg_migrate.lock_wait_timeout = 200');
SELECT migrate_register('l2', $$SELECT dblink_exec('other', 'DO $do$ DECLARE d text; BEGIN PERFORM migrate_upgrade(); EXCEPTION WHEN OTHERS THEN GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL; INSERT INTO run_lock_seen VALUES (SQLSTATE, SQLERRM, d); END $do$');$$, '');
CALL migrate_run();
SELECT sqlstate, message LIKE 'could not take the migration lock of project "locked"%' AS lock_timeout,
       detail LIKE 'It is held by process ' || pg_backend_pid() || ',%' AS names_the_run
  FROM run_lock_seen;
-- and after the run, the other session finds the work done
SELECT * FROM dblink('other', 'SELECT count(*) FROM migrate_upgrade()') AS t(steps bigint);
SELECT * FROM applied;

-- A top-level statement that loses a lock conflict is retried like any
-- other, from that statement; when the retries run out, the error says
-- so, and the failure row counts the attempts.
SET pg_migrate.project = 'retry';
SELECT migrate_register('x1', 'CREATE TABLE run_x (id int);', 'DROP TABLE run_x;');
SELECT migrate_register('x2', 'CREATE INDEX CONCURRENTLY run_x_id ON run_x (id);', 'DROP INDEX CONCURRENTLY run_x_id;');
CALL migrate_run('x1');
SELECT dblink_exec('other', 'BEGIN');
SELECT dblink_exec('other', 'LOCK TABLE run_x');
SET pg_migrate.lock_retries = 2;
SET pg_migrate.retry_delay = 10;
SET client_min_messages = warning;
\set VERBOSITY terse
CALL migrate_run();
\set VERBOSITY default
RESET client_min_messages;
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('other', 'ROLLBACK');
SELECT event, revision, sqlstate, attempts FROM migrate.history
 WHERE project = 'retry' AND event LIKE '% failed';
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'run_x'::regclass;
CALL migrate_run();
SELECT * FROM applied;
RESET pg_migrate.lock_retries;
RESET pg_migrate.retry_delay;
CALL migrate_run('base');
SELECT dblink_disconnect('other');

-- The session-level lock is released on every way out: after an error, a
-- cancel (statement_timeout), and a success.  A DO block called at top
-- level may CALL migrate_run.
SET pg_migrate.project = 'cancel';
CREATE TEMP VIEW migration_locks AS
  SELECT count(*) AS migration_locks FROM pg_locks
   WHERE locktype = 'object' AND classid = 'migrate.project'::regclass;
SELECT migrate_register('c1', 'SELECT pg_sleep(5);', '');
SET statement_timeout = '300ms';
CALL migrate_run();
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT * FROM migration_locks, applied;
SELECT migrate_register('c1', 'SELECT 1 / 0;', '');
CALL migrate_run();
SELECT * FROM migration_locks, applied;
SELECT migrate_register('c1', 'SELECT 1;', '');
DO $$BEGIN CALL migrate_run(); END$$;
SELECT * FROM migration_locks, applied;
SELECT event, revision, sqlstate FROM events;
DROP VIEW migration_locks;

DROP TABLE run_lock_seen, run_moods, run_m1, run_m2a, run_m2b, run_m4a, run_l1;
DROP TYPE run_mood;
DROP FUNCTION run_from_function();
DROP VIEW applied, events, tables;
RESET pg_migrate.project;
RESET pg_migrate.lock_wait_timeout;
RESET work_mem;
DROP EXTENSION pg_migrate;
DROP EXTENSION dblink;
