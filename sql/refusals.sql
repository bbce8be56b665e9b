--
-- What migrate_upgrade refuses up front: each refusal has an MG SQLSTATE,
-- says where the problem is, and changes nothing.
--
CREATE EXTENSION pg_migrate;
\set SHOW_CONTEXT always

CREATE TEMP VIEW counts AS
  SELECT (SELECT count(*) FROM migrate.revision) AS revisions,
         (SELECT count(*) FROM migrate.applied) AS applied,
         (SELECT count(*) FROM migrate.history) AS history;

SELECT migrate_register('0001_base', 'CREATE TABLE base_t (id int PRIMARY KEY);');
SELECT migrate_register('0002_next', 'CREATE TABLE next_t (id int);');

-- transaction control in a script
SELECT migrate_register('0002_next', E'CREATE TABLE next_t (id int);\nCOMMIT;\nCREATE TABLE next_u (id int);');
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('0002_next', E'CREATE TABLE next_t (id int);\nSAVEPOINT s1;\nCREATE TABLE next_u (id int);');
SELECT * FROM migrate_upgrade();
SELECT migrate_register('0002_next', E'CREATE TABLE next_t (id int);\n  ROLLBACK;');
SELECT * FROM migrate_upgrade();
SELECT migrate_register('0002_next', E'BEGIN;\nCREATE TABLE next_t (id int);\nCOMMIT;\nBEGIN;\nCREATE TABLE next_u (id int);\nCOMMIT;');
SELECT * FROM migrate_upgrade();
SELECT migrate_register('0002_next', E'START TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nCREATE TABLE next_t (id int);\nCOMMIT;');
SELECT * FROM migrate_upgrade();
SELECT migrate_register('0002_next', E'PREPARE TRANSACTION ''x'';');
SELECT * FROM migrate_upgrade();

-- psql meta-commands; a backslash inside a literal is fine
SELECT migrate_register('0002_next', E'\\set ON_ERROR_STOP on\nCREATE TABLE next_t (id int);');
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('0002_next', E'CREATE TABLE next_t (id int);\n   \\i other.sql\n');
SELECT * FROM migrate_upgrade();
SELECT migrate_register('0002_next', E'CREATE TABLE next_t (id int);\nSELECT E''\n\\\\set x'';');
SELECT revision, statements FROM migrate_upgrade('head', dry_run => true);

-- statements that cannot run in a transaction block
SELECT migrate_register('0002_next', E'CREATE TABLE next_t (id int);\nCREATE INDEX CONCURRENTLY next_t_id ON next_t (id);');
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('0002_next', 'DROP INDEX CONCURRENTLY IF EXISTS nothing_here;');
SELECT * FROM migrate_upgrade();
SELECT migrate_register('0002_next', 'VACUUM base_t;');
SELECT * FROM migrate_upgrade();
SELECT migrate_register('0002_next', 'REINDEX TABLE CONCURRENTLY base_t;');
SELECT * FROM migrate_upgrade();
SELECT migrate_register('0002_next', 'CREATE DATABASE regress_never;');
SELECT * FROM migrate_upgrade();
SELECT migrate_register('0002_next', 'ALTER SYSTEM SET work_mem = ''1GB'';');
SELECT * FROM migrate_upgrade();

-- COPY needs a client
SELECT migrate_register('0002_next', E'CREATE TABLE next_t (id int);\nCOPY next_t FROM STDIN;');
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM counts;
SELECT to_regclass('base_t'), to_regclass('next_t');

-- a BEGIN ... COMMIT wrapper (Sqitch's style) is removed, with a NOTICE
SELECT migrate_register('0002_next', E'-- Deploy next\nBEGIN;\n\nCREATE TABLE next_t (id int);\n\nCOMMIT;\n');
SELECT revision, action, statements FROM migrate_upgrade();

-- the caller's transaction must be read-write, READ COMMITTED, on a primary
SELECT migrate_register('0003_more', 'CREATE TABLE more_t (id int);');
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM migrate_upgrade();
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT * FROM migrate_upgrade();
ROLLBACK;
BEGIN READ ONLY;
SELECT * FROM migrate_upgrade();
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
-- a dry run is a read: it works in all of them
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT revision, action FROM migrate_upgrade(dry_run => true);
COMMIT;
SET default_transaction_read_only = on;
SELECT * FROM migrate_upgrade();
RESET default_transaction_read_only;
-- registering and unregistering take the same lock, under the same rules
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT migrate_register('0004_rr', 'SELECT 1');
ROLLBACK;
BEGIN READ ONLY;
SELECT migrate_unregister('0003_more');
ROLLBACK;
SELECT * FROM counts;

-- checksum drift of an applied revision stops every upgrade
SELECT migrate_register('0001_base', 'CREATE TABLE base_t (id bigint PRIMARY KEY);', force => true);
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade(dry_run => true);
SELECT * FROM counts;
SELECT to_regclass('more_t');

-- registering the applied script again ends the drift
SELECT migrate_register('0001_base', 'CREATE TABLE base_t (id int PRIMARY KEY);');
SELECT revision, action FROM migrate_upgrade();

DROP EXTENSION pg_migrate CASCADE;
DROP TABLE base_t, next_t, more_t;
