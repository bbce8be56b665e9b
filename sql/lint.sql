--
-- migrate_lint: every rule fires on a script and not on its close variant
-- (the NOT VALID form, the new-table form, the small-table form); the lock
-- columns; lint-ignore comments; migrate_lint_revision; migrate_validate;
-- pg_migrate.lint off, warn and error in migrate_upgrade; bad input.
--
CREATE EXTENSION pg_migrate;

-- Tables whose statistics stay put: autovacuum off, statistics from
-- ANALYZE (exact below 30000 rows).  big is large by rows (the default
-- pg_migrate.lint_large_table is 10000), small is not, empty has no rows,
-- and unanalyzed was loaded but never analyzed (and has no index, whose
-- build would set its statistics).
CREATE TABLE big (id int NOT NULL, email text, n int, code varchar(10),
                  seen timestamp, ok int)
  WITH (autovacuum_enabled = false);
INSERT INTO big
  SELECT i, 'u' || i || '@example.com', i, 'c' || i % 100, '2024-01-01', i
  FROM generate_series(1, 20000) i;
CREATE UNIQUE INDEX big_id_idx ON big (id);
CREATE UNIQUE INDEX big_email_idx ON big (email);
ALTER TABLE big ADD CONSTRAINT big_ok_positive CHECK (ok > 0);
ALTER TABLE big ADD CONSTRAINT big_n_positive CHECK (n > 0) NOT VALID;
ANALYZE big;
CREATE TABLE small (id int PRIMARY KEY, n int, big_id int)
  WITH (autovacuum_enabled = false);
INSERT INTO small SELECT i, i, i FROM generate_series(1, 100) i;
ANALYZE small;
CREATE TABLE empty (id int) WITH (autovacuum_enabled = false);
ANALYZE empty;
CREATE TABLE unanalyzed (id int, pad text) WITH (autovacuum_enabled = false);
INSERT INTO unanalyzed SELECT i, repeat('x', 100) FROM generate_series(1, 5000) i;

-- findings without the hint and the lock columns, which are shown once below
CREATE FUNCTION lint(script text, nontransactional boolean DEFAULT false)
RETURNS TABLE (stmt integer, line integer, col integer, severity text,
               rule text, message text)
LANGUAGE sql AS $$
  SELECT statement, line, "column", severity, rule, message
  FROM migrate_lint(script, nontransactional)
$$;

-- the statistics the lint sees
SELECT relname, reltuples, relpages FROM pg_class
WHERE relname IN ('big', 'small', 'empty', 'unanalyzed') ORDER BY relname;

--
-- index-not-concurrent
--
SELECT * FROM lint('CREATE INDEX ON big (n)');
-- every column of a finding: the lock the statement takes, on which
-- relation, and the relation's estimated rows and size in bytes
SELECT * FROM migrate_lint('CREATE INDEX big_n ON big (n)');
-- small table, new table, CONCURRENTLY (in a non-transactional revision)
SELECT * FROM lint('CREATE INDEX ON small (n)');
SELECT * FROM lint($$
  CREATE TABLE fresh (id int, n int);
  INSERT INTO fresh SELECT i, i FROM generate_series(1, 100000) i;
  CREATE INDEX ON fresh (n);
$$);
SELECT * FROM lint('CREATE INDEX CONCURRENTLY ON big (n)', nontransactional => true);

--
-- non-transactional: CONCURRENTLY in a revision that runs in a transaction
--
SELECT * FROM lint('CREATE INDEX CONCURRENTLY ON big (n)');
SELECT * FROM lint('DROP INDEX CONCURRENTLY big_email_idx');

--
-- constraint-not-valid: FOREIGN KEY and CHECK
--
SELECT * FROM lint('ALTER TABLE big ADD FOREIGN KEY (n) REFERENCES small (id)');
SELECT * FROM lint('ALTER TABLE big ADD FOREIGN KEY (n) REFERENCES small (id) NOT VALID');
SELECT * FROM lint('ALTER TABLE small ADD FOREIGN KEY (big_id) REFERENCES big (id)');
SELECT * FROM lint('ALTER TABLE big ADD CONSTRAINT big_n_check CHECK (n < 1000000)');
SELECT * FROM lint('ALTER TABLE big ADD CONSTRAINT big_n_check CHECK (n < 1000000) NOT VALID');
SELECT * FROM lint($$
  CREATE TABLE fresh (id int, n int);
  ALTER TABLE fresh ADD CHECK (n > 0);
$$);
-- a column added with a CHECK is checked at once
SELECT * FROM lint('ALTER TABLE big ADD COLUMN m int CHECK (m > 0)');

--
-- validate-in-transaction: the lock of ADD ... NOT VALID lasts until the
-- upgrade commits, so a VALIDATE in the same transaction scans under it
--
SELECT * FROM lint($$
  ALTER TABLE big ADD CONSTRAINT big_n_check CHECK (n < 1000000) NOT VALID;
  ALTER TABLE big VALIDATE CONSTRAINT big_n_check;
$$);
-- on its own (a later upgrade), validation lets writes through
SELECT * FROM lint('ALTER TABLE big VALIDATE CONSTRAINT big_n_positive');

--
-- set-not-null
--
SELECT * FROM lint('ALTER TABLE big ALTER COLUMN email SET NOT NULL');
-- a validated CHECK (ok > 0) passes on a null, so it proves nothing: the
-- server scans (only a CHECK (ok IS NOT NULL) conjunct proves it)
SELECT * FROM lint('ALTER TABLE big ALTER COLUMN ok SET NOT NULL');
-- big_n_positive is NOT VALID (and n > 0 would not prove it anyway)
SELECT * FROM lint('ALTER TABLE big ALTER COLUMN n SET NOT NULL');
-- already NOT NULL; a small table
SELECT * FROM lint('ALTER TABLE big ALTER COLUMN id SET NOT NULL');
SELECT * FROM lint('ALTER TABLE small ALTER COLUMN n SET NOT NULL');
-- validated in an earlier statement of the same transaction: SET NOT NULL
-- skips the scan, but the VALIDATE is the scan, under the ADD's lock
SELECT * FROM lint($$
  ALTER TABLE big ADD CONSTRAINT big_email_nn CHECK (email IS NOT NULL) NOT VALID;
  ALTER TABLE big VALIDATE CONSTRAINT big_email_nn;
  ALTER TABLE big ALTER COLUMN email SET NOT NULL;
$$);

--
-- column-type-rewrite, decided by the catalog as the server decides
--
SELECT * FROM lint('ALTER TABLE big ALTER COLUMN n TYPE bigint');
SELECT * FROM lint('ALTER TABLE big ALTER COLUMN code TYPE varchar(5)');
SELECT * FROM lint('ALTER TABLE big ALTER COLUMN code TYPE text USING lower(code)');
-- binary coercible: no rewrite
SELECT * FROM lint('ALTER TABLE big ALTER COLUMN code TYPE varchar(20)');
SELECT * FROM lint('ALTER TABLE big ALTER COLUMN code TYPE text');
SELECT * FROM lint('ALTER TABLE big ALTER COLUMN n TYPE integer USING n');
-- timestamp to timestamptz rewrites unless the session's TimeZone is UTC
SET timezone = 'America/New_York';
SELECT * FROM lint('ALTER TABLE big ALTER COLUMN seen TYPE timestamptz');
SET timezone = 'UTC';
SELECT * FROM lint('ALTER TABLE big ALTER COLUMN seen TYPE timestamptz');
RESET timezone;
-- small table
SELECT * FROM lint('ALTER TABLE small ALTER COLUMN n TYPE bigint');

--
-- volatile-default
--
SELECT * FROM lint('ALTER TABLE big ADD COLUMN r float8 DEFAULT random()');
SELECT * FROM lint('ALTER TABLE big ADD COLUMN s bigserial');
SELECT * FROM lint('ALTER TABLE big ADD COLUMN g int GENERATED ALWAYS AS (n * 2) STORED');
-- a stable or constant default needs no rewrite; a small table
SELECT * FROM lint('ALTER TABLE big ADD COLUMN created timestamptz DEFAULT now()');
SELECT * FROM lint('ALTER TABLE big ADD COLUMN flag boolean NOT NULL DEFAULT false');
SELECT * FROM lint('ALTER TABLE small ADD COLUMN r float8 DEFAULT random()');

--
-- add-required-column: NOT NULL without a default fails on a table with rows
--
SELECT * FROM lint('ALTER TABLE small ADD COLUMN x int NOT NULL');
SELECT * FROM lint('ALTER TABLE empty ADD COLUMN x int NOT NULL');
SELECT * FROM lint('ALTER TABLE small ADD COLUMN x int NOT NULL DEFAULT 0');

--
-- unique-without-index
--
SELECT * FROM lint('ALTER TABLE big ADD PRIMARY KEY (id)');
SELECT * FROM lint('ALTER TABLE big ADD CONSTRAINT big_code_key UNIQUE (code)');
SELECT * FROM lint('ALTER TABLE big ADD COLUMN u int UNIQUE');
-- USING INDEX builds nothing; for a PRIMARY KEY its columns must be NOT NULL
SELECT * FROM lint('ALTER TABLE big ADD CONSTRAINT big_pkey PRIMARY KEY USING INDEX big_id_idx');
SELECT * FROM lint('ALTER TABLE big ADD CONSTRAINT big_email_key UNIQUE USING INDEX big_email_idx');
SELECT * FROM lint('ALTER TABLE big ADD CONSTRAINT big_pkey PRIMARY KEY USING INDEX big_email_idx');
SELECT * FROM lint('ALTER TABLE small ADD CONSTRAINT small_n_key UNIQUE (n)');

--
-- rename-column, rename-table, drop-column, drop-table: on existing tables,
-- whatever their size; a table created (and renamed) in the script is new
--
SELECT * FROM lint('ALTER TABLE small RENAME COLUMN n TO m');
SELECT * FROM lint('ALTER TABLE small RENAME TO tiny');
SELECT * FROM lint('ALTER TABLE small DROP COLUMN n');
SELECT * FROM lint('DROP TABLE small, empty');
SELECT * FROM lint($$
  CREATE TABLE fresh (id int, n int);
  ALTER TABLE fresh RENAME COLUMN n TO m;
  ALTER TABLE fresh RENAME TO fresher;
  CREATE INDEX ON fresher (m);
  ALTER TABLE fresher DROP COLUMN m;
  DROP TABLE fresher;
$$);

--
-- drop-index-not-concurrent
--
SELECT * FROM lint('DROP INDEX big_email_idx');
SELECT * FROM lint('DROP INDEX CONCURRENTLY big_email_idx', nontransactional => true);
SELECT * FROM lint('CREATE TABLE fresh (n int); CREATE INDEX fresh_n ON fresh (n); DROP INDEX fresh_n');

--
-- reindex-not-concurrent
--
SELECT * FROM lint('REINDEX TABLE big');
SELECT * FROM lint('REINDEX INDEX big_email_idx');
SELECT * FROM lint('REINDEX TABLE CONCURRENTLY big', nontransactional => true);
SELECT * FROM lint('REINDEX TABLE small');

--
-- vacuum-full, cluster, lock-table
--
SELECT * FROM lint('VACUUM FULL small', nontransactional => true);
SELECT * FROM lint('VACUUM small', nontransactional => true);
SELECT * FROM lint('CLUSTER small USING small_pkey');
SELECT * FROM lint('LOCK TABLE small IN SHARE MODE');
SELECT * FROM lint('CREATE TABLE fresh (n int); LOCK TABLE fresh; CLUSTER fresh USING fresh_pkey');

--
-- lock-timeout: pg_migrate runs every script with lock_timeout =
-- pg_migrate.lock_timeout (50ms); the rule fires where that is gone
--
SELECT * FROM lint('ALTER TABLE small ADD COLUMN z int');
SELECT * FROM lint($$
  SET lock_timeout = 0;
  ALTER TABLE small ADD COLUMN z int;
  SET lock_timeout = '1s';
  ALTER TABLE small ADD COLUMN y int;
  SET lock_timeout TO '10s';
  ALTER TABLE small ADD COLUMN x int;
$$);
SET pg_migrate.lock_timeout = 0;
SELECT * FROM lint('ALTER TABLE small ADD COLUMN z int');
SELECT * FROM lint('CREATE TABLE fresh (n int); ALTER TABLE fresh ADD COLUMN z int');
RESET pg_migrate.lock_timeout;

--
-- what the server would refuse: transaction control, psql meta-commands,
-- COPY from the client, a syntax error
--
SELECT * FROM lint($$
  CREATE TABLE a (id int);
  \set ON_ERROR_STOP 1
  SAVEPOINT s;
  CREATE TABLE b (id int);
  COMMIT;
$$);
SELECT * FROM lint($$BEGIN;
CREATE INDEX ON big (n);
COMMIT;$$);
SELECT * FROM lint('COPY small FROM STDIN');
-- a backslash starting a line of a string is no meta-command; COPY from a
-- server file runs in the server
SELECT * FROM lint($$
  SELECT 'a string
\set x is text here';
  COPY small FROM '/nonexistent/small.csv';
$$);
SELECT * FROM lint(E'CREATE TABLE a (id int);\nCREATE TABEL b (id int);');

--
-- large: estimated rows or size, whichever is reached first
--
-- never analyzed: rows unknown, size from the file (not pg_class.relpages,
-- which is 0 here); large by size once the size limit is below it
SELECT statement, rule, lock_mode, relation, relation_rows, relation_size
FROM migrate_lint('CREATE INDEX ON unanalyzed (id)');
SET pg_migrate.lint_large_table_size = '512kB';
SELECT * FROM lint('CREATE INDEX ON unanalyzed (id)');
-- big reaches the size limit too; with -1 for rows it is large by size only
SET pg_migrate.lint_large_table = -1;
SELECT * FROM lint('CREATE INDEX ON big (n)');
-- -1 for both: nothing is large
SET pg_migrate.lint_large_table_size = -1;
SELECT * FROM lint('CREATE INDEX ON big (n)');
-- 0: every existing table is large (for a CI database with empty tables)
SET pg_migrate.lint_large_table = 0;
SELECT * FROM lint('CREATE INDEX ON empty (id)');
RESET pg_migrate.lint_large_table;
RESET pg_migrate.lint_large_table_size;
-- a partitioned table counts its partitions, and cannot be indexed
-- concurrently
CREATE TABLE parted (id int, n int) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10000)
  WITH (autovacuum_enabled = false);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (10000) TO (20000)
  WITH (autovacuum_enabled = false);
INSERT INTO parted SELECT i, i FROM generate_series(0, 19999) i;
ANALYZE parted;
SELECT * FROM lint('CREATE INDEX ON parted (n)');
SELECT * FROM lint('CREATE INDEX ON parted_1 (n)');

--
-- lint-ignore comments: silence a rule on the next statement only, reported
-- as info; an unknown rule and an ignore that silences nothing are findings
--
SELECT * FROM lint($$
  -- reviewed: big is idle at night
  -- migrate:lint-ignore index-not-concurrent
  CREATE INDEX ON big (n);
  CREATE INDEX ON big (code);
  -- migrate:lint-ignore drop-column, rename-table
  ALTER TABLE small DROP COLUMN n;
  -- migrate:lint-ignore no-such-rule
  ALTER TABLE small DROP COLUMN big_id;
  SET lock_timeout = 0;
  -- migrate:lint-ignore lock-timeout, drop-column -- reviewed: small is idle
  ALTER TABLE small DROP COLUMN id;
$$);
-- a comment inside the statement is not an ignore comment
SELECT * FROM lint($$CREATE INDEX
  -- migrate:lint-ignore index-not-concurrent
  ON big (n)$$);
-- in a script wrapped in BEGIN ... COMMIT, which is removed, a comment
-- between BEGIN and the first statement is that statement's; one before
-- BEGIN is BEGIN's, and silences nothing
SELECT * FROM lint($$
  -- migrate:lint-ignore drop-column
  BEGIN;
  ALTER TABLE small DROP COLUMN n;
  -- migrate:lint-ignore drop-column
  ALTER TABLE small DROP COLUMN id;
  COMMIT;
$$);
SELECT * FROM lint($$BEGIN;
  -- migrate:lint-ignore drop-column
  ALTER TABLE small DROP COLUMN n;
COMMIT;$$);

--
-- secrets quoted by a finding are masked, as in every message
--
SELECT * FROM lint($$
  \connect postgresql://app:hunter2@db.example.com/app
  CREATE ROLE regress_lint_role PASSWORD hunter2 LOGIN;
$$);
SELECT * FROM lint('CREATE ROLE regress_lint_role PASSWORD hunter2 LOGIN');

--
-- bad input
--
SELECT * FROM migrate_lint(NULL);
SELECT * FROM migrate_lint('');
SELECT * FROM migrate_lint('-- nothing but a comment');
-- lint takes no lock on the tables it reviews
BEGIN;
SELECT count(*) FROM lint('CREATE INDEX ON big (n); ALTER TABLE small ADD COLUMN q int');
SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE l.pid = pg_backend_pid() AND c.relname IN ('big', 'small');
COMMIT;

--
-- migrate_lint_revision and migrate_validate
--
SELECT migrate_register('0001_fresh', $$
  CREATE TABLE fresh (id int, n int);
  CREATE INDEX ON fresh (n);
$$, parents => '{}');
SELECT migrate_register('0002_big_index', 'CREATE INDEX big_code ON big (code)');
SELECT migrate_register('0003_big_check', $$
  -- migrate:lint-ignore drop-column
  ALTER TABLE small DROP COLUMN big_id;
  ALTER TABLE big ADD CONSTRAINT big_code_check CHECK (code <> '') NOT VALID;
  CREATE INDEX fresh_id ON fresh (id)
$$);
SELECT migrate_register('0004_big_validate', 'ALTER TABLE big VALIDATE CONSTRAINT big_code_check');
SELECT statement, line, "column", severity, rule, lock_mode, relation
FROM migrate_lint_revision('0002_big_index');
SELECT statement, line, "column", severity, rule, lock_mode, relation
FROM migrate_lint_revision('0003_big_check');
-- on its own, 0004 validates in a transaction of its own
SELECT statement, severity, rule, lock_mode, relation
FROM migrate_lint_revision('0004_big_validate');
SELECT * FROM migrate_lint_revision('0001_fresh');
SELECT * FROM migrate_lint_revision('0009_missing');
SELECT * FROM migrate_lint_revision(NULL);
-- validate, the pending scripts together as an upgrade applies them (so
-- 0004's VALIDATE runs under the lock 0003 took, in one transaction): a
-- warning under pg_migrate.lint = warn, an error under error, nothing
-- under off
SELECT * FROM migrate_validate();
SET pg_migrate.lint = error;
SELECT * FROM migrate_validate();
SET pg_migrate.lint = off;
SELECT * FROM migrate_validate();

--
-- migrate_upgrade reviews the pending scripts as the one transaction they
-- run in: 0004 validates under the lock 0003 took.  Under error it refuses
-- before anything runs (a dry run too); under warn it applies with a
-- NOTICE per finding; under off it says nothing.
--
SET pg_migrate.lint = error;
SELECT * FROM migrate_upgrade(dry_run => true);
SELECT * FROM migrate_upgrade();
SELECT count(*) AS applied FROM migrate.applied;
SELECT count(*) AS big_indexes FROM pg_indexes WHERE tablename = 'big';
SELECT count(*) AS fresh FROM pg_class WHERE relname = 'fresh';
-- the refused call is kept in the history as a failed upgrade (the dry run
-- is not)
SELECT event, sqlstate, message FROM migrate_history() WHERE event = 'upgrade failed';
-- CALL migrate_run commits each revision: 0004 validates after 0003's lock
-- is gone, so only 0002's finding stops it
CALL migrate_run();
SELECT count(*) AS applied FROM migrate.applied;
SET pg_migrate.lint = warn;
SELECT revision, action FROM migrate_upgrade(dry_run => true);
-- 0001 to 0003 now, 0004 in a later upgrade: only 0002's finding is left
SELECT revision, action FROM migrate_upgrade('0003_big_check');
SELECT revision, action FROM migrate_upgrade();
SET pg_migrate.lint = off;
SELECT migrate_register('0005_drop', 'ALTER TABLE small DROP COLUMN n');
SELECT revision, action FROM migrate_upgrade();
RESET pg_migrate.lint;
-- at head, nothing pending: nothing to review
SELECT revision, action FROM migrate_upgrade();

-- the lint settings are the superuser's (or GRANT SET ON PARAMETER)
CREATE ROLE regress_lint_user;
SET ROLE regress_lint_user;
SET pg_migrate.lint = off;
SET pg_migrate.lint_large_table = 1000000;
RESET ROLE;
GRANT SET ON PARAMETER pg_migrate.lint TO regress_lint_user;
SET ROLE regress_lint_user;
SET pg_migrate.lint = off;
RESET ROLE;
REVOKE SET ON PARAMETER pg_migrate.lint FROM regress_lint_user;
DROP ROLE regress_lint_user;
RESET pg_migrate.lint;
SHOW pg_migrate.lint;
SET pg_migrate.lint = sometimes;

DROP FUNCTION lint(text, boolean);
DROP TABLE big, small, empty, unanalyzed, parted, fresh;
DROP EXTENSION pg_migrate;
