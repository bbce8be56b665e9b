--
-- Revision graphs: branches, merges, several roots and heads, the order of
-- an upgrade (parents before children, ties by revision id in byte order),
-- the targets on a branched graph, revisions that arrive late on an old
-- parent, and every finding of migrate_validate with the refusal of an
-- upgrade that it causes.
--
CREATE EXTENSION pg_migrate;
\set SHOW_CONTEXT always

-- every script logs its revision, so the order things ran in shows apart
-- from what migrate_upgrade returns
CREATE TABLE graph_log (
  n int GENERATED ALWAYS AS IDENTITY,
  project text NOT NULL DEFAULT current_setting('pg_migrate.project'),
  revision text NOT NULL
);
CREATE FUNCTION graph_reg(id text, parents text[]) RETURNS text
LANGUAGE sql AS $$
  SELECT migrate_register(id, format('INSERT INTO public.graph_log (revision) VALUES (%L)', id),
                          parents => parents)
$$;
CREATE VIEW graph_ran AS
  SELECT string_agg(revision, ' ' ORDER BY n) AS ran
  FROM graph_log WHERE project = current_setting('pg_migrate.project');

--
-- A diamond: d1; d2_a and d2_Z on d1; d3 merging them.  In byte order
-- 'Z' (0x5a) comes before 'a' (0x61), so d2_Z runs first although it was
-- registered second.
--
SET pg_migrate.project = 'diamond';
SELECT graph_reg('d1', NULL);
SELECT graph_reg('d2_a', '{d1}');
SELECT graph_reg('d2_Z', '{d1}');
SELECT * FROM migrate_heads();
SELECT * FROM migrate_validate();
SELECT graph_reg('d3', '{d2_a,d2_Z}');
SELECT * FROM migrate_heads();
SELECT * FROM migrate_validate();
SELECT * FROM migrate_pending();
SELECT revision, action, statements FROM migrate_upgrade(dry_run => true);
SELECT revision, action, statements, attempts FROM migrate_upgrade('head');
SELECT * FROM graph_ran;
SELECT revision FROM migrate_current();
SELECT project, applied_heads, registry_heads, applied, pending, drifted, last_revision
FROM migrate_status();
SELECT event, revision, target, detail FROM migrate_history() ORDER BY id;
-- at head: nothing to do
SELECT * FROM migrate_upgrade('head');
SELECT * FROM migrate_upgrade('heads');
SELECT * FROM migrate_upgrade('d2_Z');

--
-- Two roots, merged later.  The order is the smallest ready id each time,
-- not one root's line before the other's: x_root, y_root, then z_x2 (the
-- child of x_root), then the merge.
--
SET pg_migrate.project = 'roots';
SELECT graph_reg('y_root', '{}');
SELECT graph_reg('x_root', '{}');
SELECT graph_reg('z_x2', '{x_root}');
SELECT * FROM migrate_heads();
SELECT * FROM migrate_pending('heads');
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT graph_reg('m_merge', '{z_x2,y_root}');
SELECT * FROM migrate_heads();
SELECT * FROM migrate_pending();
SELECT revision, action FROM migrate_upgrade();
SELECT * FROM graph_ran;
SELECT applied_heads, registry_heads, applied, pending FROM migrate_status();

--
-- A merge of merges: two diamonds (a1 .. e3 and b1 .. d3) whose ids
-- interleave, their merges merged by top, and a three-parent merge of three
-- branches off top.
--
SET pg_migrate.project = 'merges';
SELECT graph_reg('a1', '{}');
SELECT graph_reg('c2a', '{a1}');
SELECT graph_reg('c2b', '{a1}');
SELECT graph_reg('e3', '{c2b,c2a}');
SELECT graph_reg('b1', '{}');
SELECT graph_reg('d2y', '{b1}');
SELECT graph_reg('b2x', '{b1}');
SELECT graph_reg('d3', '{b2x,d2y}');
SELECT graph_reg('top', '{e3,d3}');
SELECT graph_reg('u3', '{top}');
SELECT graph_reg('u1', '{top}');
SELECT graph_reg('u2', '{top}');
SELECT graph_reg('v', '{u3,u1,u2}');
SELECT * FROM migrate_heads();
SELECT * FROM migrate_validate();
SELECT step, revision, parents FROM migrate_pending();
SELECT revision, action FROM migrate_upgrade();
SELECT * FROM graph_ran;
SELECT revision FROM migrate_current();

--
-- Relative and revision targets on a branched graph: s0, then a1 -> a2 ->
-- a3 and b1_side -> b2_side.
--
SET pg_migrate.project = 'steps';
SELECT graph_reg('s0', '{}');
SELECT graph_reg('b1_side', '{s0}');
SELECT graph_reg('b2_side', '{b1_side}');
SELECT graph_reg('a1', '{s0}');
SELECT graph_reg('a2', '{a1}');
SELECT graph_reg('a3', '{a2}');
SELECT * FROM migrate_pending('heads');
-- +2 from nothing applied: s0 and a1, the first two of that order (not one
-- revision of each branch)
SELECT * FROM migrate_pending('+2');
SELECT revision, action FROM migrate_upgrade('+2', dry_run => true);
-- more steps than pending
SELECT * FROM migrate_pending('+7');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade('+7');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade('+6', dry_run => true);
-- an id in the middle of a branch: that revision and its ancestors only
SELECT * FROM migrate_pending('a2');
SELECT revision, action FROM migrate_upgrade('a2');
SELECT revision FROM migrate_current();
SELECT * FROM migrate_heads();
-- now +2 is the rest of branch a, then branch b
SELECT * FROM migrate_pending('+2');
-- a unique prefix of an id on the other branch
SELECT revision, action FROM migrate_upgrade('b2_s');
SELECT revision FROM migrate_current();
SELECT * FROM migrate_upgrade('+2');
\echo :LAST_ERROR_SQLSTATE
SELECT revision, action FROM migrate_upgrade('+1');
SELECT * FROM graph_ran;
SELECT revision, target FROM migrate_history() WHERE event = 'upgrade' ORDER BY id;

--
-- Several heads: h0, then h_c, h_a -> h_a2 and h_B on it.
--
SET pg_migrate.project = 'forked';
SELECT graph_reg('h0', '{}');
SELECT graph_reg('h_c', '{h0}');
SELECT graph_reg('h_a', '{h0}');
SELECT graph_reg('h_a2', '{h_a}');
SELECT graph_reg('h_B', '{h0}');
SELECT * FROM migrate_heads();
SELECT * FROM migrate_validate();
-- "head" is refused, naming the heads
SELECT * FROM migrate_upgrade('head');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade('head', dry_run => true);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_pending();
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM graph_log WHERE project = 'forked';
-- "heads" applies every branch, in the order the dry run shows
SELECT * FROM migrate_pending('heads');
SELECT revision, action, statements FROM migrate_upgrade('heads', dry_run => true);
SELECT revision, action FROM migrate_upgrade('heads');
SELECT * FROM graph_ran;
SELECT revision FROM migrate_current();
SELECT applied_heads, registry_heads, applied, pending FROM migrate_status();
-- the applied heads are in id order, like the registry heads, whatever
-- plan reads the registry: after ANALYZE it is read in its physical order,
-- here the order of registration (h_c, h_a2, h_B)
ANALYZE migrate.revision, migrate.applied;
SELECT revision FROM migrate_current();
SELECT applied_heads, registry_heads FROM migrate_status();
-- all applied, still several heads: "head" is still refused
SELECT * FROM migrate_upgrade('head');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_upgrade('heads');
-- appending without parents is refused; a merge of the three heads is not
SELECT graph_reg('h_m', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT graph_reg('h_m', '{h_c,h_a2,h_B}');
SELECT revision, action FROM migrate_upgrade('head');
SELECT applied_heads, registry_heads, applied, pending FROM migrate_status();
SELECT * FROM migrate_validate();

--
-- Out-of-order arrival: l1 -> l2 -> l3 applied, then l2_hotfix arrives on
-- l1 (say, from a branch merged late): a new branch, pending.
--
SET pg_migrate.project = 'late';
SELECT graph_reg('l1', '{}');
SELECT graph_reg('l2', NULL);
SELECT graph_reg('l3', NULL);
SELECT revision, action FROM migrate_upgrade();
SELECT graph_reg('l2_hotfix', '{l1}');
SELECT applied_heads, registry_heads, applied, pending, last_revision FROM migrate_status();
SELECT * FROM migrate_heads();
SELECT * FROM migrate_validate();
SELECT * FROM migrate_upgrade('head');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate_pending('heads');
SELECT revision, action FROM migrate_upgrade('heads');
SELECT revision FROM migrate_current();
SELECT applied_heads, registry_heads, applied, pending, last_revision FROM migrate_status();
-- merged
SELECT graph_reg('l4', '{l3,l2_hotfix}');
SELECT revision, action FROM migrate_upgrade();
SELECT * FROM graph_ran;
SELECT applied_heads, registry_heads, applied, pending FROM migrate_status();

--
-- Every finding of migrate_validate, and the refusal of migrate_upgrade
-- before anything runs (no "applying" NOTICE).  Project "bad": v0 -> v1
-- applied, v2 pending on v1.  Each problem is made inside a transaction
-- that is rolled back afterwards; those made by editing migrate.* directly
-- need a superuser.
--
SET pg_migrate.project = 'bad';
SELECT graph_reg('v0', '{}');
SELECT graph_reg('v1', NULL);
SELECT count(*) FROM migrate_upgrade();
SELECT graph_reg('v2', NULL);
SELECT * FROM migrate_validate();
SELECT * FROM migrate_pending();

-- a missing parent: refused whatever the target
BEGIN;
SELECT graph_reg('v3', '{ghost}');
SELECT * FROM migrate_validate();
SAVEPOINT s;
SELECT * FROM migrate_upgrade('v2');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO s;
SELECT * FROM migrate_upgrade('heads', dry_run => true);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- a cycle: v2's parent becomes w2, which is on w1, which is on v2; u_below
-- hangs off the cycle and is not part of the path shown
BEGIN;
SELECT graph_reg('w1', '{v2}');
SELECT graph_reg('w2', '{w1}');
SELECT graph_reg('u_below', '{w1}');
UPDATE migrate.revision SET parents = '{w2}' WHERE project = 'bad' AND revision = 'v2';
SELECT * FROM migrate_validate();
SELECT * FROM migrate_heads();
SAVEPOINT s;
SELECT * FROM migrate_pending('heads');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO s;
SELECT * FROM migrate_upgrade('heads');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO s;
SELECT * FROM migrate_upgrade('v1');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- a self-parent: reported as a cycle of one revision
BEGIN;
UPDATE migrate.revision SET parents = '{v2}' WHERE project = 'bad' AND revision = 'v2';
SELECT * FROM migrate_validate();
SELECT * FROM migrate_heads();
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- several heads is a warning: "heads" still works
BEGIN;
SELECT graph_reg('v2_other', '{v1}');
SELECT * FROM migrate_validate();
SELECT revision, action FROM migrate_upgrade('heads');
ROLLBACK;

-- an applied revision no longer registered (its child v2 then lacks its
-- parent)
BEGIN;
DELETE FROM migrate.revision WHERE project = 'bad' AND revision = 'v1';
SELECT * FROM migrate_validate();
SELECT applied_heads, registry_heads, applied, pending FROM migrate_status();
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- the same with v2 applied and deleted: only "not registered"
BEGIN;
SELECT count(*) FROM migrate_upgrade();
DELETE FROM migrate.revision WHERE project = 'bad' AND revision = 'v2';
SELECT * FROM migrate_validate();
SELECT revision FROM migrate_current();
SELECT graph_reg('v3', NULL);
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- an applied revision whose parent is not applied
BEGIN;
DELETE FROM migrate.applied WHERE project = 'bad' AND revision = 'v0';
SELECT * FROM migrate_validate();
SELECT revision FROM migrate_current();
SELECT applied, pending FROM migrate_status();
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- checksum drift
BEGIN;
SELECT migrate_register('v1', 'SELECT 1', force => true);
SELECT * FROM migrate_validate();
SELECT drifted FROM migrate_status();
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- scripts no runner accepts, each on a branch of its own off v2, and one
-- that needs the per-revision runner (a warning for validation, refused by
-- migrate_upgrade): an upgrade to each refuses before v2 runs
BEGIN;
SELECT migrate_register('x_syntax', E'SELECT 1;\nSELEC 2;', parents => '{v2}');
SELECT migrate_register('x_txn', E'CREATE TABLE graph_t (id int);\nCOMMIT;', parents => '{v2}');
SELECT migrate_register('x_meta', E'SELECT 1;\n\\set x 1', parents => '{v2}');
SELECT migrate_register('x_copy', 'COPY graph_log (revision) FROM STDIN', parents => '{v2}');
SELECT migrate_register('x_nontx', E'SELECT 1;\nCREATE INDEX CONCURRENTLY ON graph_log (n);', parents => '{v2}');
SELECT * FROM migrate_validate() ORDER BY revision NULLS FIRST;
SAVEPOINT s;
SELECT * FROM migrate_upgrade('x_syntax');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO s;
SELECT * FROM migrate_upgrade('x_txn');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO s;
SELECT * FROM migrate_upgrade('x_meta');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO s;
SELECT * FROM migrate_upgrade('x_copy');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO s;
SELECT * FROM migrate_upgrade('x_nontx');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO s;
SELECT * FROM migrate_upgrade('heads', dry_run => true);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO s;
-- a branch that does not reach them is fine
SELECT revision, action FROM migrate_upgrade('v2');
ROLLBACK;

-- after all that, nothing changed: v2 is the only pending revision
SELECT * FROM migrate_validate();
SELECT applied_heads, registry_heads, applied, pending, drifted FROM migrate_status();
SELECT count(*) FROM graph_log WHERE project = 'bad';
SELECT revision, action FROM migrate_upgrade();
SELECT * FROM graph_ran;

RESET pg_migrate.project;
DROP EXTENSION pg_migrate;
DROP VIEW graph_ran;
DROP FUNCTION graph_reg(text, text[]);
DROP TABLE graph_log;
