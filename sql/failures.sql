--
-- Failures are remembered: a failed migrate_upgrade or migrate_downgrade
-- rolls back everything it did, yet leaves one row in the history ("upgrade
-- failed", "downgrade failed"), written by a transaction of its own, with
-- what failed, where, and for whom.  Refusals before the call begins, and
-- dry runs, leave none.
--
CREATE EXTENSION pg_migrate;
CREATE EXTENSION dblink;
SET application_name = 'regress_failures';

-- every failure row, with every field (times and pid as checks)
CREATE TEMP VIEW failures AS
  SELECT event, revision, target, statements, attempts, role, application_name,
         sqlstate, message, detail, statement, line,
         checksum IS NULL AND previous_checksum IS NULL AS no_checksums,
         backend_pid = pg_backend_pid() AS own_pid,
         started_at <= finished_at AND finished_at <= clock_timestamp()
           AND duration = finished_at - started_at AS timed
    FROM migrate_history(project => current_setting('pg_migrate.project'))
   WHERE event LIKE '% failed' ORDER BY id;
-- everything else of a project: applied rows and other history rows
CREATE TEMP VIEW others AS
  SELECT (SELECT count(*) FROM migrate.applied
           WHERE project = current_setting('pg_migrate.project')) AS applied,
         (SELECT string_agg(event || ' ' || coalesce(revision, '-'), ', ' ORDER BY id)
            FROM migrate.history
           WHERE project = current_setting('pg_migrate.project')
             AND event NOT LIKE '% failed') AS history;

-- Three revisions; the second fails in its second statement, which
-- starts on line 2 of its script.
SET pg_migrate.project = 'three';
SELECT migrate_register('0001_first', 'CREATE TABLE fail_first (id int);');
SELECT migrate_register('0002_second', $$CREATE TABLE fail_second (id int);
INSERT INTO fail_second
  VALUES (1 / 0);$$);
SELECT migrate_register('0003_third', 'CREATE TABLE fail_third (id int);');

-- in autocommit
SELECT * FROM migrate_upgrade();
\x on
SELECT * FROM failures;
\x off
-- nothing else of the failed run: no applied rows, no history row but the
-- registrations, none of the tables
SELECT * FROM others;
SELECT to_regclass('fail_first'), to_regclass('fail_second'), to_regclass('fail_third');

-- inside an explicit transaction that then rolls back: a second row
BEGIN;
SELECT * FROM migrate_upgrade('0002_second');
ROLLBACK;
SELECT revision, target, sqlstate, statement, line FROM failures;
SELECT * FROM others;
SELECT to_regclass('fail_first');

-- a PL/pgSQL block that catches the error: the row is there at once, in
-- the same transaction, and the caller's transaction carries on
BEGIN;
DO $$
BEGIN
  PERFORM migrate_upgrade();
EXCEPTION WHEN division_by_zero THEN
  RAISE NOTICE 'caught: %', SQLERRM;
END
$$;
SELECT count(*) AS failures_seen FROM failures;
SELECT * FROM others;
COMMIT;

-- A syntax error found by validation, before anything ran: the revision
-- and the line are known, the statement number and attempts are not.
SET pg_migrate.project = 'syntax';
SELECT migrate_register('0001_fine', 'CREATE TABLE syntax_fine (id int);');
SELECT migrate_register('0002_typo', $$SELECT 1;

CREATE TABLE syntax_typo (id int;$$);
SELECT * FROM migrate_upgrade();
\x on
SELECT * FROM failures;
\x off
SELECT * FROM others;
SELECT to_regclass('syntax_fine');

-- a dry run that fails records nothing
SELECT * FROM migrate_upgrade(dry_run => true);
SELECT count(*) FROM failures;

-- Drift of an applied revision stops the upgrade before it runs anything;
-- the row names the drifted revision.
SET pg_migrate.project = 'drift';
SELECT migrate_register('0001_base', 'CREATE TABLE drift_base (id int);');
SELECT revision, action FROM migrate_upgrade();
SELECT migrate_register('0001_base', 'CREATE TABLE drift_base (id bigint);', force => true);
SELECT migrate_register('0002_next', 'CREATE TABLE drift_next (id int);');
SELECT * FROM migrate_upgrade();
\x on
SELECT * FROM failures;
\x off
SELECT * FROM others;
SELECT to_regclass('drift_next');

-- The migration lock not granted in time: no revision.
SET pg_migrate.project = 'waited';
SELECT migrate_register('0001_w', 'CREATE TABLE waited_t (id int);');
SELECT dblink_connect('holder',
  format('host=%s port=%s dbname=%s application_name=regress_holder',
         split_part(current_setting('unix_socket_directories'), ',', 1),
         current_setting('port'), current_database()));
SELECT dblink_exec('holder', 'BEGIN');
SELECT * FROM dblink('holder', $$SELECT migrate_register('0002_w', 'SELECT 1;', project => 'waited')$$)
  AS t(result text);
SET pg_migrate.lock_wait_timeout = 100;
\set VERBOSITY terse
SELECT * FROM migrate_upgrade();
\set VERBOSITY default
RESET pg_migrate.lock_wait_timeout;
SELECT dblink_exec('holder', 'ROLLBACK');
SELECT dblink_disconnect('holder');
SELECT revision, target, statements, attempts, sqlstate, statement, line FROM failures;
SELECT * FROM others;

-- An unknown target is a failure too: whether it exists depends on the
-- registry (a deploy whose registration step failed).
SELECT * FROM migrate_upgrade('0009_missing');
SELECT revision, target, sqlstate, message FROM failures WHERE target = '0009_missing';

-- pg_migrate.script_timeout: the revision and its attempt are known.
SET pg_migrate.project = 'slow';
SELECT migrate_register('0001_slow', $$SELECT 1;
SELECT pg_sleep(5);$$);
SET pg_migrate.script_timeout = 100;
SELECT * FROM migrate_upgrade();
RESET pg_migrate.script_timeout;
SELECT revision, attempts, sqlstate, message, detail, statement, line FROM failures;

-- Secrets in the message are masked in the row, as in the error itself.
SET pg_migrate.project = 'secret';
SELECT migrate_register('0001_uri', $$SELECT 'postgresql://app:s3cret@db.example/app'::int;$$);
SELECT * FROM migrate_upgrade();
SELECT revision, sqlstate, message, message LIKE '%s3cret%' AS leaked FROM failures;

-- Refusals before the call begins are not recorded: a read-only
-- transaction, an isolation level above READ COMMITTED, bad arguments.
SET pg_migrate.project = 'refused';
SELECT migrate_register('0001_r', 'SELECT 1 / 0;');
BEGIN READ ONLY;
SELECT * FROM migrate_upgrade();
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM migrate_upgrade();
ROLLBACK;
SELECT * FROM migrate_upgrade(NULL);
SELECT * FROM migrate_upgrade(project => 'bad name');
SELECT count(*) FROM failures;
-- the real failure is
SELECT * FROM migrate_upgrade();
SELECT revision, sqlstate, statement, line FROM failures;

-- A role that may only execute the functions gets a row naming it, though
-- it cannot write (or read) the history table itself.
SET pg_migrate.project = 'grants';
CREATE ROLE regress_failing;
GRANT EXECUTE ON FUNCTION
    migrate_register(text, text, text, text[], text, boolean, text),
    migrate_upgrade(text, boolean, text),
    migrate_history(integer, text)
  TO regress_failing;
SET ROLE regress_failing;
SELECT migrate_register('0001_denied', 'CREATE TABLE regress_nowhere.t (id int);');
SELECT * FROM migrate_upgrade();
SELECT event, revision, role, sqlstate, message FROM migrate_history()
 WHERE event = 'upgrade failed';
SELECT count(*) FROM migrate.history;
RESET ROLE;
SELECT revision, role, application_name, sqlstate, statement, line FROM failures;

-- A downgrade whose down script fails: "downgrade failed", and the
-- applied set is as before.
SET pg_migrate.project = 'down';
SELECT migrate_register('0001_d', 'CREATE TABLE down_one (id int);', 'DROP TABLE down_one;');
SELECT migrate_register('0002_d', 'CREATE TABLE down_two (id int);',
  $$DROP TABLE down_two;
DROP TABLE down_missing;$$);
SELECT revision, action FROM migrate_upgrade();
SELECT * FROM migrate_downgrade('base');
\x on
SELECT * FROM failures;
\x off
SELECT * FROM others;
SELECT to_regclass('down_one'), to_regclass('down_two');

-- a downgrade refused for a missing down script names no revision
SELECT migrate_register('0003_d', 'CREATE TABLE down_three (id int);');
SELECT revision, action FROM migrate_upgrade();
SELECT * FROM migrate_downgrade('0001_d');
SELECT event, revision, target, sqlstate FROM failures;

DROP VIEW failures, others;
DROP EXTENSION pg_migrate;
DROP EXTENSION dblink;
DROP TABLE down_one, down_two, down_three, drift_base;
DROP ROLE regress_failing;
