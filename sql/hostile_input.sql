--
-- Hostile input: NULLs, non-strings, oversized and multi-line values where
-- pg_migrate reads its arguments or its own tables (a superuser or the
-- extension's owner can edit migrate.* by hand).  Every refusal has an MG
-- SQLSTATE and a hint, changes nothing, and never takes the server down;
-- nothing pg_migrate stores or logs is unbounded.
--
CREATE EXTENSION pg_migrate;
\set SHOW_CONTEXT never

-- what the state holds (a function, which DROP EXTENSION does not mind)
CREATE FUNCTION pg_temp.counts(OUT revisions bigint, OUT applied bigint, OUT history bigint)
LANGUAGE sql AS $$
  SELECT (SELECT count(*) FROM migrate.revision), (SELECT count(*) FROM migrate.applied),
         (SELECT count(*) FROM migrate.history)
$$;

--
-- 1. migrate_sync: every value must have its JSON type.  A null parent
-- crashed the server; a number, an array or an object was stored as
-- script text.  The error names the element, its revision and the key.
--
SELECT * FROM migrate_sync('[{"revision":"a1","parents":[null],"up":"select 1"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_sync('[{"revision":"a1","parents":["a0", 5],"up":"select 1"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_sync('[{"revision":"a1","parents":[],"up":5}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_sync('[{"revision":"a1","parents":[],"up":"select 1","down":["drop"]}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_sync('[{"revision":"a1","parents":[],"up":"select 1","description":{"a":1}}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_sync('[{"revision":"a1","parents":[],"up":true}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_sync('[{"revision":17,"parents":[],"up":"select 1"}]');
\echo :LAST_ERROR_SQLSTATE
-- the second element is the bad one
SELECT * FROM migrate_sync('[{"revision":"a1","parents":[],"up":"select 1"},
                             {"revision":"a2","parents":["a1"],"up":"select 2","down":7}]');
\echo :LAST_ERROR_SQLSTATE
-- a key that is not one of ours, long and multi-line, is shown cut short
SELECT * FROM migrate_sync(jsonb_build_array(jsonb_build_object(
  'revision', 'a1', 'parents', '[]'::jsonb, 'up', 'select 1',
  E'evil\nkey' || repeat('k', 100000), 1)));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pg_temp.counts();
-- JSON null still means "none" for down and description
SELECT * FROM migrate_sync('[{"revision":"a1","parents":[],"up":"select 1","down":null,"description":null}]');
SELECT revision, parents, up_script, down_script, description FROM migrate.revision;

--
-- 2. A parent that is NULL, or not a revision id, in migrate.revision,
-- from a hand edit: every function that reads the registry refuses with
-- MG009, naming the row (migrate_pending crashed the server).
--
SELECT migrate_register('a2', 'SELECT 2;', parents => '{a1}');
UPDATE migrate.revision SET parents = ARRAY[NULL]::text[] WHERE revision = 'a2';
SELECT * FROM migrate_pending();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade(dry_run => true);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_downgrade('base');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_stamp('a1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_current();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_heads();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_status();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_validate();
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_check();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_lint_revision('a2');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('a2', 'SELECT 22;');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_sync('[{"revision":"a2","parents":["a1"],"up":"select 2"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_unregister('a2');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_repair('a2');
\echo :LAST_ERROR_SQLSTATE
CALL migrate_run();
\echo :LAST_ERROR_SQLSTATE
-- a null among real parents, and parents that are not ids
UPDATE migrate.revision SET parents = ARRAY['a1', NULL] WHERE revision = 'a2';
SELECT * FROM migrate_pending();
\echo :LAST_ERROR_SQLSTATE
UPDATE migrate.revision SET parents = ARRAY[E'a1\nLOG:  forged'] WHERE revision = 'a2';
SELECT * FROM migrate_pending();
\echo :LAST_ERROR_SQLSTATE
UPDATE migrate.revision SET parents = ARRAY[repeat('p', 100000)] WHERE revision = 'a2';
SELECT * FROM migrate_validate();
\echo :LAST_ERROR_SQLSTATE
-- repaired by hand, everything works again
UPDATE migrate.revision SET parents = '{a1}' WHERE revision = 'a2';
SELECT * FROM migrate_pending();

-- an applied row whose revision is not an id (migrate.applied has no
-- CHECK of its own): refused the same way, instead of reaching messages
INSERT INTO migrate.applied
  VALUES ('default', E'gone\nLOG:  forged', 'x', now(), 'someone', '0', 0, 1);
SELECT * FROM migrate_status();
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_check();
\echo :LAST_ERROR_SQLSTATE
DELETE FROM migrate.applied WHERE revision LIKE 'gone%';
-- a checksum changed by hand is quoted in messages of drift: a word is
-- drift, a line break or a megabyte is refused
SELECT checksum AS a2_checksum FROM migrate.revision WHERE revision = 'a2' \gset
UPDATE migrate.revision SET checksum = E'x\nLOG:  forged' WHERE revision = 'a2';
SELECT * FROM migrate_validate();
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('a2', 'SELECT 2;');
\echo :LAST_ERROR_SQLSTATE
UPDATE migrate.revision SET checksum = :'a2_checksum' WHERE revision = 'a2';
-- a project name written by hand (migrate.* does not check them) is
-- quoted shortened and escaped where migrate_check lists the projects
INSERT INTO migrate.revision (project, revision, parents, up_script, checksum, registered_by)
  VALUES (E'evil\nLOG:  forged' || repeat('e', 2000), 'z1', '{}', '', 'x', 'someone');
SELECT migrate_check(project => 'nothing');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM migrate.revision WHERE revision = 'z1';
SELECT * FROM pg_temp.counts();

--
-- 3. Targets: only "head", "heads", "base", "+N", "-N", a revision id or a
-- prefix of one.  Anything else is refused with MG005 before anything is
-- recorded: no failure row, no history row, nothing in the server log
-- but the (shortened) error.
--
SELECT * FROM migrate_upgrade(E'a1\nLOG:  applied revision "x" of project "default"');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade(repeat('a', 1000000));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade('');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade('a1 ');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade('-x');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade('+');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade('+0');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade('+99999999999');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade(E'x\ty', dry_run => true);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_downgrade(E'a1\nb');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_stamp(E'a1\nb');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_pending(E'a1\nb');
\echo :LAST_ERROR_SQLSTATE
CALL migrate_run(E'a1\nb');
\echo :LAST_ERROR_SQLSTATE
CALL migrate_run(repeat('-', 200000));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pg_temp.counts();
-- the only failure rows are those of section 2, with their valid targets
SELECT event, target, sqlstate FROM migrate.history WHERE event LIKE '% failed' ORDER BY id;
-- every valid form still gets through to the plan
SELECT revision FROM migrate_pending('head');
SELECT revision FROM migrate_pending('heads');
SELECT revision FROM migrate_pending('+1');
SELECT revision FROM migrate_pending('a2');
SELECT * FROM migrate_pending('base');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_pending('zzzz');
\echo :LAST_ERROR_SQLSTATE

--
-- 4. What is stored is bounded: a failure row keeps at most 4096 bytes of
-- the error's message and of its detail, cut with a marker; so does every
-- history row's detail.
--
SELECT migrate_register('b1', $$DO $do$ BEGIN
  RAISE EXCEPTION '%', repeat('m', 100000) USING DETAIL = repeat('d', 100000);
END $do$;$$, parents => '{a2}');
DO $$
BEGIN
  PERFORM * FROM migrate_upgrade();
EXCEPTION WHEN raise_exception THEN
  RAISE NOTICE 'the caller sees all % bytes', length(SQLERRM);
END $$;
SELECT revision, sqlstate, octet_length(message) AS message_bytes, right(message, 40) AS message_end,
       octet_length(detail) AS detail_bytes, right(detail, 40) AS detail_end
  FROM migrate.history WHERE event = 'upgrade failed' AND revision = 'b1';
-- cut at a character boundary
SELECT migrate_register('b1', $$DO $do$ BEGIN RAISE EXCEPTION '%', repeat('é', 5000); END $do$;$$);
DO $$
BEGIN
  PERFORM * FROM migrate_upgrade();
EXCEPTION WHEN raise_exception THEN
  NULL;
END $$;
SELECT octet_length(message) AS message_bytes, left(right(message, 40), 3) AS before_marker
  FROM migrate.history WHERE event = 'upgrade failed' ORDER BY id DESC LIMIT 1;
SELECT migrate_unregister('b1');
-- a registration's history detail lists its parents: bounded too
SELECT migrate_register('m1', 'SELECT 1;',
                        parents => ARRAY(SELECT 'p' || lpad(i::text, 120, '0')
                                           FROM generate_series(1, 100) AS i));
SELECT event, octet_length(detail) AS detail_bytes, right(detail, 40) AS detail_end
  FROM migrate.history WHERE revision = 'm1';
SELECT migrate_unregister('m1');
SELECT max(octet_length(target)) AS longest_target FROM migrate.history;
-- a row written before these bounds, or by hand, is bounded on its way out
INSERT INTO migrate.history (project, event, target, started_at, finished_at, role,
                             backend_pid, message, detail)
  VALUES ('default', 'upgrade failed', E'x\nLOG:  forged' || repeat('t', 1000000), now(), now(),
          'someone', 1, repeat('m', 1000000), 'short');
SELECT event, octet_length(target) AS target_bytes, target,
       octet_length(message) AS message_bytes, right(message, 40) AS message_end, detail
  FROM migrate_history(1);
DELETE FROM migrate.history WHERE role = 'someone';

--
-- 5. Project names: a valid revision id that is not a target keyword, a
-- relative step or only dots, at most 63 characters.  Refused with MG001
-- as an argument and as pg_migrate.project.
--
SELECT project FROM migrate_status(project => '-1');
\echo :LAST_ERROR_SQLSTATE
SELECT project FROM migrate_status(project => 'head');
\echo :LAST_ERROR_SQLSTATE
SELECT project FROM migrate_status(project => 'heads');
\echo :LAST_ERROR_SQLSTATE
SELECT project FROM migrate_status(project => 'base');
\echo :LAST_ERROR_SQLSTATE
SELECT project FROM migrate_status(project => '..');
\echo :LAST_ERROR_SQLSTATE
SELECT project FROM migrate_status(project => '.');
\echo :LAST_ERROR_SQLSTATE
SELECT project FROM migrate_status(project => '');
\echo :LAST_ERROR_SQLSTATE
SELECT project FROM migrate_status(project => repeat('p', 64));
\echo :LAST_ERROR_SQLSTATE
SELECT project FROM migrate_status(project => E'p\nLOG:  forged' || repeat('p', 100000));
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('x1', 'SELECT 1;', project => 'head');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade(project => '..');
\echo :LAST_ERROR_SQLSTATE
SET pg_migrate.project = 'head';
\echo :LAST_ERROR_SQLSTATE
SET pg_migrate.project = '-1';
\echo :LAST_ERROR_SQLSTATE
SET pg_migrate.project = '..';
\echo :LAST_ERROR_SQLSTATE
SHOW pg_migrate.project;
-- names with dots, dashes and digits inside are fine
SELECT project, pending FROM migrate_status(project => 'billing.v2-eu');
SELECT project, pending FROM migrate_status(project => '.hidden');
SELECT project, pending FROM migrate_status(project => '2024');
SET pg_migrate.project = 'billing.v2-eu';
SHOW pg_migrate.project;
RESET pg_migrate.project;
SELECT * FROM pg_temp.counts();

--
-- 6. Other arguments echoed in messages are shown cut short, with their
-- control characters escaped.
--
CALL migrate_run(direction => E'up\nLOG:  forged' || repeat('u', 100000));
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register(E'r1\nLOG:  forged' || repeat('r', 100000), 'SELECT 1;');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_lint_revision(E'a1\nLOG:  forged');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_unregister(repeat('r', 100000));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pg_temp.counts();

DROP EXTENSION pg_migrate;
