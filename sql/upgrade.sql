--
-- migrate_upgrade: plans, targets, dry runs, atomicity, per-revision
-- settings, error context, and the no-op at head.
--
CREATE EXTENSION pg_migrate;
\set SHOW_CONTEXT always

CREATE TEMP VIEW counts AS
  SELECT (SELECT count(*) FROM migrate.revision) AS revisions,
         (SELECT count(*) FROM migrate.applied) AS applied,
         (SELECT count(*) FROM migrate.history) AS history;

-- an empty registry is at head
SELECT * FROM migrate_upgrade();
SELECT * FROM migrate_pending();

-- a small history; scripts as users write them
SELECT migrate_register('0001_users', $$
  CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE
  );
  -- settings made by a script end with it
  SET work_mem = '64MB';
  SET search_path = nowhere;
  SET LOCAL lock_timeout = '7s';
  INSERT INTO public.users (email) VALUES ('a@example.com')
$$, 'DROP TABLE users;', description => 'users');
SELECT migrate_register('0002_predictions', $$
  DO $do$
  BEGIN
    -- the previous script's settings did not reach this one; each script
    -- starts with lock_timeout = pg_migrate.lock_timeout
    IF current_setting('work_mem') <> '4MB'
       OR current_setting('lock_timeout') <> '50ms'
       OR current_setting('search_path') <> '"$user", public' THEN
      RAISE EXCEPTION 'settings leaked: % % %', current_setting('work_mem'),
        current_setting('lock_timeout'), current_setting('search_path');
    END IF;
  END
  $do$;
  CREATE TABLE predictions (id bigint, user_id bigint, score numeric);
  CREATE INDEX predictions_user_id ON predictions (user_id);
$$, 'DROP TABLE predictions;');
SELECT migrate_register('0003_empty', '');
SELECT migrate_register('0004_comment_only', E'-- squashed placeholder\n/* nothing */');
SELECT migrate_register('0005_fk', $$
  ALTER TABLE predictions ADD CONSTRAINT predictions_user_fk
    FOREIGN KEY (user_id) REFERENCES users (id);
$$);

SELECT * FROM migrate_pending();
SELECT * FROM migrate_pending('0002');

-- a dry run shows the plan and changes nothing
SELECT * FROM counts;
SELECT * FROM migrate_upgrade('head', dry_run => true);
SELECT * FROM counts;

-- targets: unknown, too short a prefix, ambiguous, downward, bad steps
SELECT * FROM migrate_upgrade('nope');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade('000');
SELECT migrate_register('x_ambiguous_1', '');
SELECT migrate_register('x_ambiguous_2', '');
SELECT * FROM migrate_upgrade('x_am');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_unregister('x_ambiguous_2');
SELECT migrate_unregister('x_ambiguous_1');
SELECT * FROM migrate_upgrade('base');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade('-1');
SELECT * FROM migrate_upgrade('+0');
SELECT * FROM migrate_upgrade('+x');
SELECT * FROM migrate_upgrade('+6');
SELECT * FROM migrate_upgrade(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM counts;

-- +1, then a unique prefix, then head
SELECT revision, action, statements, attempts FROM migrate_upgrade('+1');
SHOW work_mem;
SHOW search_path;
SHOW lock_timeout;
SELECT revision, action, statements, attempts FROM migrate_upgrade('0002_pred');
SELECT revision, action, statements, attempts FROM migrate_upgrade('0003_empty');
SELECT revision, action, statements, attempts FROM migrate_upgrade();
SELECT revision FROM migrate_current();
\d predictions

-- at head: nothing to do, no rows, no history
SELECT * FROM counts;
SELECT * FROM migrate_upgrade('head');
SELECT * FROM migrate_upgrade('heads');
SELECT * FROM migrate_upgrade('0002_predictions');
SELECT * FROM counts;
-- the project is marked clean; a change in another project leaves it so,
-- a change in its own registry clears it until the next upgrade
SELECT project, clean FROM migrate.project ORDER BY project;
SELECT migrate_register('0001_other', '', project => 'other');
SELECT count(*) FROM migrate_upgrade(project => 'other');
SELECT project, clean FROM migrate.project ORDER BY project;
SELECT migrate_register('0003_empty', '', description => 'now described');
SELECT project, clean FROM migrate.project ORDER BY project;
SELECT * FROM migrate_upgrade();
SELECT project, clean FROM migrate.project ORDER BY project;

-- a revision registered later is picked up
SELECT migrate_register('0006_sqs', $$
  ALTER TABLE predictions ADD COLUMN sqs_message_id text;
  ALTER TABLE predictions ADD COLUMN sqs_queued_at timestamptz;
$$);
SELECT revision, action, statements FROM migrate_upgrade();

-- all or nothing, in the caller's transaction
SELECT migrate_register('0007_audit', 'CREATE TABLE audit (id int);');
BEGIN;
SELECT revision, action FROM migrate_upgrade();
SELECT count(*) FROM migrate_current() WHERE revision = '0007_audit';
ROLLBACK;
SELECT count(*) FROM migrate_current() WHERE revision = '0007_audit';
SELECT to_regclass('audit');

-- a syntax error in the third pending script is reported before the first
-- two run, with its revision, line and column
SELECT migrate_register('0008_a', 'CREATE TABLE t8a (id int);');
SELECT migrate_register('0009_b', 'CREATE TABLE t9b (id int);');
SELECT migrate_register('0010_bad', E'CREATE TABLE t10 (id int);\n\nALTER TABLE t10\n  ADD COLUMNN x int;');
SELECT * FROM counts;
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM counts;
SELECT to_regclass('audit'), to_regclass('t8a'), to_regclass('t9b');

-- an error while running keeps its own SQLSTATE and gains context; the
-- earlier revisions of the call are rolled back too
SELECT migrate_register('0010_bad', E'CREATE TABLE t10 (id int);\n\nINSERT INTO t10 (id)\n  SELECT id FROM missing_table;');
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('0010_bad', E'CREATE TABLE t10 (id int);\nINSERT INTO t10 VALUES (1 / 0);');
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM counts;
SELECT to_regclass('audit'), to_regclass('t8a'), to_regclass('t10');

-- a caller catching the error finds its transaction intact
DO $$
BEGIN
  PERFORM migrate_upgrade();
EXCEPTION WHEN division_by_zero THEN
  RAISE NOTICE 'caught: %', SQLERRM;
END
$$;
SELECT * FROM counts;

-- a migration script cannot start another migration, or change the registry
SELECT migrate_register('0010_bad', 'SELECT * FROM migrate_upgrade();');
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('0010_bad', $$SELECT migrate_register('0011_sneaky', '')$$);
SELECT * FROM migrate_upgrade();
SELECT migrate_register('0010_bad', $$SELECT migrate_unregister('0009_b')$$);
SELECT * FROM migrate_upgrade();

-- fixed, everything applies in order
SELECT migrate_register('0010_bad', 'CREATE TABLE t10 (id int);');
SELECT revision, action, statements FROM migrate_upgrade();
SELECT * FROM migrate_upgrade();

-- the history of the applied revisions, oldest first
SELECT event, revision, target, statements, attempts, role = current_user AS by_me,
       finished_at >= started_at AS timed
FROM migrate_history() WHERE event = 'upgrade' ORDER BY id;

DROP EXTENSION pg_migrate CASCADE;
DROP TABLE predictions, users, audit, t8a, t9b, t10;
