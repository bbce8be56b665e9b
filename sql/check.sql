--
-- migrate_check: "ok: ..." at head with no drift; otherwise one error that
-- counts every problem, names them in its detail and says what to run, with
-- the SQLSTATE of the most serious.  It only reads: a read-only
-- transaction, any isolation level, no lock, and the caller's search_path
-- does not matter.
--
CREATE EXTENSION pg_migrate;
\set SHOW_CONTEXT never

-- nothing registered anywhere: not ok, there is no head to be at
SELECT migrate_check();
\echo :LAST_ERROR_SQLSTATE

-- pending revisions, in the order an upgrade applies them
SELECT migrate_register('c1', 'CREATE TABLE check_t (id int);');
SELECT migrate_register('c2', 'ALTER TABLE check_t ADD COLUMN v text;');
SELECT migrate_check();
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM migrate_upgrade('c1');
SELECT migrate_check();
\echo :LAST_ERROR_SQLSTATE

-- at head
SELECT count(*) FROM migrate_upgrade();
SELECT migrate_check();
-- the default comes from pg_migrate.project, and NULL means the same
SELECT migrate_check(NULL);
SELECT migrate_check(project => 'default');

-- another project: not there yet, and the detail names those that are
SELECT migrate_check('other');
\echo :LAST_ERROR_SQLSTATE
-- a project's hint names it
SELECT migrate_register('o1', '', project => 'other');
SELECT migrate_check('other');
SET pg_migrate.project = 'other';
SELECT migrate_check();
-- and the default project's hint names it when the session uses another
SELECT migrate_register('c3', '', project => 'default');
SELECT migrate_check('default');
SELECT count(*) FROM migrate_upgrade(project => 'default');
RESET pg_migrate.project;
-- a bad name
SELECT migrate_check('no such project');
\echo :LAST_ERROR_SQLSTATE

-- many pending: ten named, the rest counted
SELECT count(*) FROM (SELECT migrate_register(format('m%s', lpad(i::text, 2, '0')), '',
                                              project => 'many')
                        FROM generate_series(1, 12) i) r;
SELECT migrate_check('many');
-- and many projects: ten named
SELECT migrate_check('nothing_here');
SELECT count(*) FROM (SELECT migrate_register('x', '', project => format('p%s', i))
                        FROM generate_series(1, 10) i) r;
SELECT migrate_check('nothing_here');

-- it only reads: a read-only transaction, SERIALIZABLE, no lock taken,
-- on its own or with a migration of another project under way
BEGIN TRANSACTION READ ONLY;
SELECT migrate_check();
SELECT migrate_check('many');
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT migrate_check();
SELECT count(*) AS locks FROM pg_locks
 WHERE locktype = 'object' AND classid = 'migrate.project'::regclass
   AND pid = pg_backend_pid();
ROLLBACK;
BEGIN;
SELECT count(*) FROM migrate_upgrade(project => 'many');
SELECT migrate_check('many');
SELECT migrate_check();
ROLLBACK;
SET default_transaction_read_only = on;
SELECT migrate_check();
RESET default_transaction_read_only;

-- drift, alone and with pending revisions
SELECT migrate_register('c2', 'ALTER TABLE check_t ADD COLUMN v varchar;', force => true);
SELECT migrate_check();
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('c4', '');
SELECT migrate_check();
\echo :LAST_ERROR_SQLSTATE
-- an upgrade refuses too; repair accepts the edit, then the upgrade runs
SELECT count(*) FROM migrate_upgrade();
SELECT migrate_repair('c2');
SELECT count(*) FROM migrate_upgrade();
SELECT migrate_check();

-- several heads: a branch from an old revision
SELECT migrate_register('c3_branch', '', parents => '{c2}');
SELECT migrate_check();
\echo :LAST_ERROR_SQLSTATE
-- all applied, still two heads: "head" cannot be planned
SELECT count(*) FROM migrate_upgrade('heads');
SELECT migrate_check();
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('c5_merge', '', parents => '{c3_branch,c4}');
SELECT migrate_check();
SELECT count(*) FROM migrate_upgrade();
SELECT migrate_check();

-- an applied revision missing from the registry (edited by hand)
BEGIN;
DELETE FROM migrate.revision WHERE project = 'default' AND revision = 'c5_merge';
SELECT migrate_check();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- an invalid graph, every problem named: a missing parent, an applied
-- revision whose parent is not applied, together with a pending revision
BEGIN;
UPDATE migrate.revision SET parents = '{c0}' WHERE project = 'default' AND revision = 'c1';
DELETE FROM migrate.applied WHERE project = 'default' AND revision = 'c3';
SELECT migrate_check();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- a cycle
BEGIN;
SELECT migrate_register('d1', '', project => 'cyclic', parents => '{}');
SELECT migrate_register('d2', '', project => 'cyclic');
SELECT migrate_register('d3', '', project => 'cyclic');
UPDATE migrate.revision SET parents = '{d3}' WHERE project = 'cyclic' AND revision = 'd2';
SELECT migrate_check('cyclic');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- everything at once: the graph comes first, then what is applied and
-- missing, drifted, the heads, and what is pending
BEGIN;
UPDATE migrate.revision SET parents = '{c0}' WHERE project = 'default' AND revision = 'c1';
DELETE FROM migrate.revision WHERE project = 'default' AND revision = 'c5_merge';
UPDATE migrate.revision SET checksum = 'edited' WHERE project = 'default' AND revision = 'c4';
SELECT migrate_register('c6', '', parents => '{c4}');
SELECT migrate_check();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT migrate_check();

-- immune to the caller's search_path: functions and operators planted
-- ahead of pg_catalog are never called, whatever the outcome
CREATE SCHEMA regress_evil;
CREATE FUNCTION regress_evil.texteq_evil(text, text) RETURNS boolean
  LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'shadowed = called'; END $$;
CREATE OPERATOR regress_evil.= (LEFTARG = text, RIGHTARG = text,
  FUNCTION = regress_evil.texteq_evil);
CREATE OPERATOR regress_evil.<> (LEFTARG = text, RIGHTARG = text,
  FUNCTION = regress_evil.texteq_evil);
CREATE FUNCTION regress_evil.unnest(anyarray) RETURNS SETOF anyelement
  LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'shadowed unnest called'; END $$;
CREATE FUNCTION regress_evil.current_setting(text, boolean) RETURNS text
  LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'shadowed current_setting called'; END $$;
CREATE FUNCTION regress_evil.quote_literal(text) RETURNS text
  LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'shadowed quote_literal called'; END $$;
SET search_path = regress_evil, pg_catalog, public;
SELECT 'a'::text = 'a'::text AS "planted = is first on the path";
SELECT migrate_check();
SELECT migrate_check('many');
SELECT migrate_check('nothing_here');
RESET search_path;
DROP SCHEMA regress_evil CASCADE;

DROP EXTENSION pg_migrate;
DROP TABLE check_t;
