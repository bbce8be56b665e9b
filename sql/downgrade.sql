--
-- Moving around the graph: migrate_downgrade (base, -N, a revision or
-- prefix; across merges), migrate_stamp (up, down, base, adopting a
-- database), migrate_repair, and every refusal of each.
--
CREATE EXTENSION pg_migrate;
\set SHOW_CONTEXT always

CREATE TEMP VIEW tables AS
  SELECT string_agg(relname, ' ' ORDER BY relname) AS tables
    FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
     AND relname LIKE 'dg\_%';
CREATE TEMP VIEW applied AS
  SELECT string_agg(revision, ' ' ORDER BY revision) AS applied FROM migrate.applied;

-- A diamond with a tail: A; B and C on A; D merging B and C; E on D.
-- Each revision creates a table that its down script drops.
SELECT migrate_register('A', 'CREATE TABLE dg_a (id int);', 'DROP TABLE dg_a;');
SELECT migrate_register('B', 'CREATE TABLE dg_b (id int);', 'DROP TABLE dg_b;', parents => '{A}');
SELECT migrate_register('C', 'CREATE TABLE dg_c (id int);', 'DROP TABLE dg_c;', parents => '{A}');
SELECT migrate_register('D', 'CREATE TABLE dg_d (id int);', 'DROP TABLE dg_d;', parents => '{B,C}');
SELECT migrate_register('E', 'CREATE TABLE dg_e (id int);', 'DROP TABLE dg_e;', parents => '{D}');
SELECT revision, action FROM migrate_upgrade();
SELECT * FROM tables;

-- -1 from the tail, then -1 from the merge: only the merge is reverted
SELECT revision, action, statements, attempts FROM migrate_downgrade('-1');
SELECT revision, action, statements, attempts FROM migrate_downgrade('-1');
SELECT * FROM applied, tables;
SELECT revision FROM migrate_current();
-- -2 from there reverts the branches in reverse topological order (ties
-- by id: C after B going up, so C before B going down)
SELECT revision, action FROM migrate_downgrade('-2', dry_run => true);
SELECT * FROM applied;

-- down across the merge to one branch: to B keeps A and B, reverts E, D, C
SELECT revision, action FROM migrate_upgrade();
SELECT revision, action FROM migrate_downgrade('B', dry_run => true);
SELECT revision, action FROM migrate_downgrade('B');
SELECT * FROM applied, tables;
SELECT revision FROM migrate_current();
-- the state reads "B applied, C, D, E pending"; head brings it all back
SELECT applied, pending, applied_heads FROM migrate_status();
SELECT revision, action FROM migrate_upgrade();
-- a unique prefix works as a target too (here the applied head: nothing
-- to revert), and base reverts everything
SELECT migrate_register('E2_tail', 'CREATE TABLE dg_e2 (id int);', 'DROP TABLE dg_e2;', parents => '{E}');
SELECT revision, action FROM migrate_upgrade();
SELECT revision, action FROM migrate_downgrade('E2_t');
SELECT revision, action FROM migrate_downgrade('base');
SELECT * FROM applied, tables;
-- at base there is nothing to revert
SELECT * FROM migrate_downgrade('base');

-- every downgrade is in the history, with the target
SELECT event, revision, target, statements, attempts
  FROM migrate_history() WHERE event = 'downgrade' ORDER BY id;

-- a down script that fails rolls the whole downgrade back, with the
-- error's own SQLSTATE and a context line naming the down script
SELECT revision, action FROM migrate_upgrade();
SELECT migrate_register('F', 'CREATE TABLE dg_f (id int);',
  E'DROP TABLE dg_f;\nDROP TABLE dg_missing;', parents => '{E2_tail}');
SELECT revision, action FROM migrate_upgrade();
SELECT * FROM migrate_downgrade('D');
SELECT * FROM applied, tables;
-- and a syntax error in any down script is found before any runs
SELECT migrate_register('F', 'CREATE TABLE dg_f (id int);', 'DROP TABLE dg_f;',
                        parents => '{E2_tail}');
SELECT migrate_register('E2_tail', 'CREATE TABLE dg_e2 (id int);', 'DROPP TABLE dg_e2;',
                        parents => '{E}');
SELECT * FROM migrate_downgrade('D');
SELECT * FROM applied, tables;
SELECT migrate_register('E2_tail', 'CREATE TABLE dg_e2 (id int);', 'DROP TABLE dg_e2;',
                        parents => '{E}');

-- Refusals, each before anything runs:
-- missing down scripts are all named (an empty one is a deliberate no-op)
SELECT migrate_register('G', 'CREATE TABLE dg_g (id int);', parents => '{F}');
SELECT migrate_register('H', 'SELECT 1', '', parents => '{G}');
SELECT migrate_register('I', 'SELECT 2', parents => '{H}');
SELECT revision, action FROM migrate_upgrade();
SELECT * FROM migrate_downgrade('F');
SELECT revision, action FROM migrate_downgrade('-1', dry_run => true);
-- targets that go up, that are not applied, unknown or malformed
SELECT * FROM migrate_downgrade('head');
SELECT * FROM migrate_downgrade('heads');
SELECT * FROM migrate_downgrade('+1');
SELECT * FROM migrate_downgrade('-100');
SELECT * FROM migrate_downgrade('-0');
SELECT * FROM migrate_downgrade('nope');
SELECT * FROM migrate_downgrade(NULL);
SELECT migrate_register('J', 'SELECT 3', 'SELECT 3', parents => '{I}');
SELECT * FROM migrate_downgrade('J');
-- statements that cannot run in a transaction block
SELECT migrate_unregister('J');
SELECT migrate_register('I', 'SELECT 2', 'DROP INDEX CONCURRENTLY dg_nothing', parents => '{H}', force => true);
SELECT * FROM migrate_downgrade('H');
-- drift of an applied revision
SELECT migrate_register('I', 'SELECT 22', parents => '{H}', force => true);
SELECT * FROM migrate_downgrade('H');
SELECT * FROM applied;
-- an upgrade target is not a downgrade target, and the other way round
SELECT * FROM migrate_upgrade('base');
SELECT * FROM migrate_upgrade('-1');

-- Repair: accept the edited script of an applied revision
SELECT * FROM migrate_validate() WHERE problem = 'checksum drift';
SELECT migrate_repair('I');
SELECT * FROM migrate_validate() WHERE problem = 'checksum drift';
SELECT event, revision, checksum = (SELECT checksum FROM migrate.revision WHERE revision = 'I')
         AS new_checksum,
       previous_checksum IS NOT NULL AS has_previous
  FROM migrate_history() WHERE event = 'repair';
SELECT (SELECT checksum FROM migrate.applied WHERE revision = 'I') =
       (SELECT checksum FROM migrate.revision WHERE revision = 'I') AS repaired;
-- a second repair has nothing to do
SELECT migrate_repair('I');
-- a comment or reformatting is not drift, so there is nothing to repair
SELECT migrate_register('H', E'-- no-op\nSELECT   1', '', parents => '{G}');
SELECT migrate_repair('H');
-- refusals
SELECT migrate_register('K', 'SELECT 4', parents => '{I}');
SELECT migrate_repair('K');
SELECT migrate_repair('nope');
SELECT migrate_repair(NULL);
SELECT migrate_repair('bad id');
SELECT migrate_unregister('K');

-- Stamp: the applied set becomes exactly the target and its ancestors,
-- without running anything.  Here the tables go by hand and a stamp to
-- base says so; then stamps up and down.
DROP TABLE dg_a, dg_b, dg_c, dg_d, dg_e, dg_e2, dg_f, dg_g;
SELECT * FROM migrate_stamp('base');
SELECT * FROM migrate_stamp('D');
SELECT * FROM applied, tables;
SELECT * FROM migrate_stamp('B');
SELECT * FROM migrate_stamp('C');
SELECT * FROM applied;
-- stamp then upgrade: adopting a database whose first revisions exist
SELECT * FROM migrate_stamp('base');
CREATE TABLE dg_a (id int);
CREATE TABLE dg_b (id int);
SELECT * FROM migrate_stamp('B');
SELECT revision, action FROM migrate_upgrade('E');
SELECT * FROM applied, tables;
-- base clears the applied set; stamping the same state again changes nothing
SELECT * FROM migrate_stamp('base');
SELECT * FROM migrate_stamp('base');
SELECT * FROM applied;
-- an applied revision that is no longer registered is unstamped too
SELECT * FROM migrate_stamp('A');
INSERT INTO migrate.applied SELECT project, 'gone', checksum, applied_at, applied_by,
       duration, statements, attempts FROM migrate.applied WHERE revision = 'A';
SELECT * FROM migrate_stamp('A');
SELECT * FROM applied;
-- both recorded in the history
SELECT event, revision, target FROM migrate_history()
 WHERE event IN ('stamp', 'unstamp') ORDER BY id;
-- refusals
SELECT * FROM migrate_stamp('nope');
SELECT * FROM migrate_stamp('+1');
SELECT * FROM migrate_stamp('-1');
SELECT * FROM migrate_stamp(NULL);
SELECT migrate_register('B2', 'SELECT 5', parents => '{A}');
SELECT * FROM migrate_stamp('head');
SELECT * FROM migrate_stamp('heads');
SELECT * FROM applied;
-- a graph that cannot be planned cannot be stamped
UPDATE migrate.revision SET parents = '{D}' WHERE revision = 'A';
SELECT * FROM migrate_stamp('A');
SELECT * FROM migrate_downgrade('base');
UPDATE migrate.revision SET parents = '{}' WHERE revision = 'A';
-- a down script may be added to an applied revision at any time
SELECT migrate_register('G', 'CREATE TABLE dg_g (id int);', '', parents => '{F}');
SELECT migrate_register('I', 'SELECT 22', '', parents => '{H}');
SELECT migrate_register('B2', 'SELECT 5', '', parents => '{A}');
-- dry runs take no lock and work in a read-only transaction; the others do not
BEGIN READ ONLY;
SELECT revision, action FROM migrate_downgrade('base', dry_run => true);
SELECT * FROM migrate_downgrade('base');
ROLLBACK;
BEGIN READ ONLY;
SELECT * FROM migrate_stamp('base');
ROLLBACK;
BEGIN READ ONLY;
SELECT migrate_repair('A');
ROLLBACK;

DROP VIEW tables, applied;
DROP EXTENSION pg_migrate;
DROP TABLE dg_a, dg_b, dg_c, dg_d, dg_e;
