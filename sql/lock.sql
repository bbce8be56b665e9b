--
-- The migration lock: transaction-scoped, visible in migrate_status, and
-- a caller that cannot get it within pg_migrate.lock_wait_timeout gets an
-- error naming the holder.  (Concurrent callers that wait and then succeed
-- are covered by the isolation tests.)
--
CREATE EXTENSION pg_migrate;
CREATE EXTENSION dblink;

SELECT migrate_register('0001_lock', 'CREATE TABLE lock_t (id int);');

-- a second session holds the lock in an open transaction
SELECT dblink_connect('holder',
  format('host=%s port=%s dbname=%s application_name=regress_holder',
         split_part(current_setting('unix_socket_directories'), ',', 1),
         current_setting('port'), current_database()));
SELECT dblink_exec('holder', 'BEGIN');
SELECT * FROM dblink('holder', $$SELECT migrate_register('0002_lock', 'SELECT 1')$$) AS t(result text);
CREATE TEMP TABLE holder AS
  SELECT pid FROM dblink('holder', 'SELECT pg_backend_pid()') AS t(pid int);

SELECT lock_pid = (SELECT pid FROM holder) AS holder_shown, lock_role,
       lock_application, lock_since IS NOT NULL AS has_since
FROM migrate_status();

-- upgrading and registering wait, then give up naming the holder
SET pg_migrate.lock_wait_timeout = '200ms';
CREATE FUNCTION pg_temp.try(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  st text;
  msg text;
  det text;
  hnt text;
BEGIN
  EXECUTE sql;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                          det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
  RETURN st || ': ' || msg || E'\n'
      || replace(regexp_replace(det, 'since .*\.$', 'since <time>.'),
                 (SELECT pid FROM holder)::text, '<holder pid>')
      || E'\n' || hnt;
END
$$;
SELECT pg_temp.try('SELECT * FROM migrate_upgrade()');
SELECT pg_temp.try($$SELECT migrate_register('0003_lock', 'SELECT 1')$$);
SELECT pg_temp.try($$SELECT migrate_unregister('0001_lock')$$);
-- nothing changed meanwhile
SELECT count(*) AS applied FROM migrate.applied;
-- reads and dry runs do not wait
SELECT revision, action FROM migrate_upgrade(dry_run => true);
-- the history has the registration, and the upgrade that timed out
SELECT event, revision, sqlstate FROM migrate_history() ORDER BY id;

-- when the holder's transaction ends, the lock is gone with it: no stale
-- lock, whatever way the transaction ended
SELECT dblink_exec('holder', 'ROLLBACK');
SELECT lock_pid FROM migrate_status();
SELECT revision, action FROM migrate_upgrade();
-- a caller that waited for the holder reads the state afresh once the lock
-- is granted: the holder applied everything, so it finds nothing to do
SELECT migrate_register('0002_lock', 'CREATE TABLE lock_u (id int);');
SELECT dblink_exec('holder', 'BEGIN');
SELECT * FROM dblink('holder', 'SELECT revision, action FROM migrate_upgrade()')
  AS t(revision text, action text);
SELECT dblink_send_query('holder', 'SELECT pg_sleep(0.5); COMMIT');
SET pg_migrate.lock_wait_timeout = '1min';
SELECT * FROM migrate_upgrade();
SELECT revision FROM migrate_current();
-- the holder's two results, then the end of them
SELECT * FROM dblink_get_result('holder') AS t(result text);
SELECT * FROM dblink_get_result('holder') AS t(result text);
SELECT * FROM dblink_get_result('holder') AS t(result text);
SET pg_migrate.lock_wait_timeout = '200ms';

SELECT dblink_exec('holder', 'BEGIN');
SELECT * FROM dblink('holder', $$SELECT migrate_register('0003_lock', 'SELECT 1')$$) AS t(result text);
SELECT dblink_disconnect('holder');
SELECT pg_sleep(0.1);
SELECT pg_temp.try($$SELECT migrate_register('0003_lock', 'SELECT 2')$$);

RESET pg_migrate.lock_wait_timeout;
DROP EXTENSION dblink;
DROP EXTENSION pg_migrate;
DROP TABLE lock_t, lock_u;
