--
-- Lock-timeout retries: every script statement runs with
-- lock_timeout = pg_migrate.lock_timeout; a revision that fails on a lock
-- timeout, a deadlock or a serialization failure is rolled back and run
-- again, with pauses, up to pg_migrate.lock_retries times.  Also
-- pg_migrate.script_timeout, and the progress shown in pg_stat_activity.
--
CREATE EXTENSION pg_migrate;
CREATE EXTENSION dblink;
\set SHOW_CONTEXT always

-- the defaults
SHOW pg_migrate.lock_timeout;
SHOW pg_migrate.lock_retries;
SHOW pg_migrate.retry_delay;
SHOW pg_migrate.retry_max_delay;
SHOW pg_migrate.script_timeout;

-- a pause of 1 ms exactly (its random half rounds to nothing), so that
-- the retry notices read the same on every run
SET pg_migrate.retry_delay = 1;
SET pg_migrate.retry_max_delay = 1;

-- Each error the retries are for, simulated: the script fails until a
-- sequence (which a rollback does not reset) reaches 3, so the revision
-- succeeds at its third attempt.  Only the third attempt's work remains.
CREATE SEQUENCE retry_seq;
CREATE TABLE retry_attempts (attempt bigint);
CREATE FUNCTION fail_twice(code text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  attempt bigint := nextval('retry_seq');
BEGIN
  INSERT INTO retry_attempts VALUES (attempt);
  IF attempt % 3 <> 0 THEN
    RAISE EXCEPTION 'simulated failure' USING ERRCODE = code;
  END IF;
END
$$;
CREATE FUNCTION conflict(code text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'simulated failure' USING ERRCODE = code;
END
$$;
SELECT migrate_register('0001_lock_not_available', $$
  SELECT 1;
  SELECT fail_twice('lock_not_available');
$$);
SELECT migrate_register('0002_deadlock', $$SELECT fail_twice('deadlock_detected')$$,
                        parents => '{0001_lock_not_available}');
SELECT migrate_register('0003_serialization', $$SELECT fail_twice('serialization_failure')$$,
                        parents => '{0002_deadlock}');
\set VERBOSITY terse
SELECT revision, action, statements, attempts FROM migrate_upgrade();
\set VERBOSITY default
SELECT * FROM retry_attempts;
-- the attempts are kept in the applied rows and the history
SELECT revision, attempts FROM migrate.applied ORDER BY revision;
SELECT revision, attempts FROM migrate_history() WHERE attempts IS NOT NULL
 ORDER BY revision;

-- any other error is final at once: no retry
SELECT migrate_register('0004_division', 'SELECT 1/0', parents => '{0003_serialization}');
SELECT * FROM migrate_upgrade();
SELECT migrate_unregister('0004_division');

-- retries run out: the error keeps the statement's SQLSTATE and context,
-- and says how many attempts were made
SET pg_migrate.lock_retries = 1;
SELECT migrate_register('0004_always_conflicts', $$
  INSERT INTO retry_attempts VALUES (-1);
  SELECT conflict('serialization_failure');
$$, parents => '{0003_serialization}');
SELECT * FROM migrate_upgrade();
SELECT count(*) FROM retry_attempts WHERE attempt = -1;
SELECT count(*) AS applied FROM migrate.applied;
-- with no retries at all
SET pg_migrate.lock_retries = 0;
\set VERBOSITY terse
SELECT * FROM migrate_upgrade();
\set VERBOSITY default
SELECT migrate_unregister('0004_always_conflicts');
RESET pg_migrate.lock_retries;

-- A real lock conflict.  A second session reads a table and keeps its
-- transaction open; a revision that alters the table gives way after
-- pg_migrate.lock_timeout each time instead of queueing, and the error
-- names the lock and the session holding it.
CREATE TABLE retry_t (id int);
SELECT migrate_register('0004_alter', $$
  CREATE TABLE retry_side (id int);
  ALTER TABLE retry_t ADD COLUMN note text;
$$, parents => '{0003_serialization}');
SELECT dblink_connect('blocker',
  format('host=%s port=%s dbname=%s application_name=regress_blocker',
         split_part(current_setting('unix_socket_directories'), ',', 1),
         current_setting('port'), current_database()));
SELECT dblink_exec('blocker', 'BEGIN');
SELECT * FROM dblink('blocker', 'SELECT count(*) FROM retry_t') AS t(n bigint);
CREATE TEMP TABLE blocker AS
  SELECT pid FROM dblink('blocker', 'SELECT pg_backend_pid()') AS t(pid int);
CREATE FUNCTION pg_temp.try(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  st text;
  msg text;
  det text;
  hnt text;
  ctx text;
BEGIN
  EXECUTE sql;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                          det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT,
                          ctx = PG_EXCEPTION_CONTEXT;
  RETURN st || ': ' || msg || E'\n'
      || replace(regexp_replace(det, 'since [^)]*\)', 'since <time>)'),
                 (SELECT pid FROM blocker)::text, '<blocker pid>')
      || E'\n' || hnt
      -- pg_migrate's context line (PostgreSQL 19 puts the lock wait's first)
      || E'\n' || (SELECT line FROM regexp_split_to_table(ctx, E'\n') AS line
                    WHERE line LIKE 'revision %' LIMIT 1);
END
$$;
SET pg_migrate.lock_retries = 2;
\set VERBOSITY terse
SELECT pg_temp.try('SELECT * FROM migrate_upgrade()');
\set VERBOSITY default

-- Meanwhile application traffic on the table keeps flowing.  A query that
-- arrives while the migration retries waits at most one lock_timeout
-- (behind the migration's queued lock request), never for the blocker: it
-- is done long before the migration gives up, while the blocker still
-- holds its lock.  (A plain ALTER TABLE would queue it until the blocker
-- commits.)
SELECT dblink_connect('traffic',
  format('host=%s port=%s dbname=%s application_name=regress_traffic',
         split_part(current_setting('unix_socket_directories'), ',', 1),
         current_setting('port'), current_database()));
SELECT dblink_send_query('traffic', 'SELECT pg_sleep(0.2); SELECT count(*) FROM retry_t');
SET pg_migrate.lock_retries = 5;
SET pg_migrate.retry_delay = 100;
SET pg_migrate.retry_max_delay = 100;
SET client_min_messages = warning;
SET statement_timeout = '20s';  -- should the migration queue after all
SELECT pg_temp.try('SELECT * FROM migrate_upgrade()')
       ~ '^55P03: revision "0004_alter" failed 6 times' AS gave_up;
RESET statement_timeout;
RESET client_min_messages;
SELECT dblink_is_busy('traffic') AS traffic_still_waiting;
SELECT * FROM dblink_get_result('traffic') AS t(result text);
SELECT * FROM dblink_get_result('traffic') AS t(result text);
SELECT * FROM dblink_get_result('traffic') AS t(result text);
SELECT dblink_disconnect('traffic');
SET pg_migrate.retry_delay = 1;
SET pg_migrate.retry_max_delay = 1;
RESET pg_migrate.lock_retries;

-- nothing of the failed revision remains, and the caller's own
-- lock_timeout was never touched
SELECT to_regclass('retry_side') AS side_table, count(*) AS applied FROM migrate.applied;
SHOW lock_timeout;

-- The blocker commits a little later: the revision gets through on a
-- later attempt, with the default pauses.
RESET pg_migrate.retry_delay;
RESET pg_migrate.retry_max_delay;
SELECT dblink_send_query('blocker', 'SELECT pg_sleep(0.3); COMMIT');
SET client_min_messages = warning;
SELECT revision, action, attempts > 1 AS retried FROM migrate_upgrade();
RESET client_min_messages;
SELECT attnum > 0 AS has_note FROM pg_attribute
 WHERE attrelid = 'retry_t'::regclass AND attname = 'note';
SELECT (SELECT attempts FROM migrate.applied WHERE revision = '0004_alter') =
       (SELECT attempts FROM migrate_history()
         WHERE revision = '0004_alter' AND event = 'upgrade')
  AS attempts_recorded;
-- the two upgrades that ran out of retries are in the history too, with
-- the attempts they made
SELECT event, attempts, sqlstate, statement, line FROM migrate_history()
 WHERE revision = '0004_alter' AND event = 'upgrade failed' ORDER BY id;
SELECT * FROM dblink_get_result('blocker') AS t(result text);
SELECT * FROM dblink_get_result('blocker') AS t(result text);
SELECT * FROM dblink_get_result('blocker') AS t(result text);
SELECT dblink_disconnect('blocker');

-- pg_migrate.lock_timeout = 0 leaves statements free to wait; a script
-- may also set its own lock_timeout, which lasts until its end
SET pg_migrate.lock_timeout = 0;
SELECT migrate_register('0005_settings', $$
  CREATE TABLE retry_settings AS SELECT current_setting('lock_timeout') AS at_start;
  SET lock_timeout = '2s';
  INSERT INTO retry_settings SELECT current_setting('lock_timeout');
$$, parents => '{0004_alter}');
SELECT revision, attempts FROM migrate_upgrade();
SELECT * FROM retry_settings;
RESET pg_migrate.lock_timeout;

-- While a revision runs, pg_stat_activity shows where it is; afterwards it
-- shows the caller's query again
SELECT migrate_register('0006_progress', $$
  SELECT 1;
  CREATE TABLE retry_progress AS
    SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid();
  SELECT 3;
$$, parents => '{0005_settings}');
DO $$
DECLARE
  q text;
BEGIN
  PERFORM migrate_upgrade();
  PERFORM pg_stat_clear_snapshot();
  SELECT query INTO q FROM pg_stat_activity WHERE pid = pg_backend_pid();
  RAISE NOTICE 'afterwards: %', left(q, 2);
END
$$;
SELECT * FROM retry_progress;

-- pg_migrate.script_timeout bounds one revision: a statement that runs too
-- long is cancelled, with the statement named
SET pg_migrate.script_timeout = '200ms';
SELECT migrate_register('0007_slow', $$
  CREATE TABLE retry_slow (id int);
  SELECT pg_sleep(5);
$$, parents => '{0006_progress}');
SELECT * FROM migrate_upgrade();
SELECT to_regclass('retry_slow');
-- the cancel does not reach the next statement
SELECT 1 AS next_statement_runs;
-- it also bounds the pauses between attempts
SELECT migrate_unregister('0007_slow');
SELECT migrate_register('0007_conflicts', $$SELECT conflict('lock_not_available')$$,
                        parents => '{0006_progress}');
-- (like statement_timeout's, the error is a query cancel, which
-- EXCEPTION WHEN OTHERS does not catch)
SET pg_migrate.retry_delay = '50ms';
SET client_min_messages = warning;
\set VERBOSITY terse
SELECT * FROM migrate_upgrade();
\set VERBOSITY default
RESET client_min_messages;
RESET pg_migrate.script_timeout;

-- query cancel (here statement_timeout) ends a pause at once
SET pg_migrate.retry_delay = '1h';
SET pg_migrate.retry_max_delay = '1h';
SET statement_timeout = '300ms';
SET client_min_messages = warning;
SELECT * FROM migrate_upgrade();
RESET client_min_messages;
RESET statement_timeout;
SELECT count(*) AS applied FROM migrate.applied;

-- bad settings are refused, with the valid range (PostgreSQL 17 and later
-- print its unit too, "(0 ms .. 2147483647 ms)", which is taken out here)
CREATE FUNCTION pg_temp.try_set(name text, value text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config(name, value, false);
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '(\d) ms( \.\.|\)$)', '\1\2', 'g');
END
$$;
SELECT pg_temp.try_set('pg_migrate.lock_timeout', '-1');
SELECT pg_temp.try_set('pg_migrate.lock_retries', '-1');
SELECT pg_temp.try_set('pg_migrate.retry_delay', '0');
SELECT current_setting('pg_migrate.lock_timeout') AS unchanged;

RESET ALL;
DROP EXTENSION dblink;
DROP EXTENSION pg_migrate;
DROP TABLE retry_attempts, retry_t, retry_side, retry_settings, retry_progress;
DROP FUNCTION fail_twice(text), conflict(text);
DROP SEQUENCE retry_seq;
