--
-- Reading the state: migrate_status, migrate_current, migrate_heads,
-- migrate_history, and every finding of migrate_validate.
--
CREATE EXTENSION pg_migrate;

-- nothing registered yet
SELECT project, applied_heads, registry_heads, applied, pending, drifted,
       last_revision, last_applied_at, lock_pid
FROM migrate_status();
SELECT * FROM migrate_current();
SELECT * FROM migrate_heads();
SELECT * FROM migrate_validate();

SELECT migrate_register('a1', 'CREATE TABLE s_a1 (id int);', description => 'first');
SELECT migrate_register('a2', 'CREATE TABLE s_a2 (id int);');
SELECT migrate_register('a3', 'CREATE TABLE s_a3 (id int);', description => 'third');
SELECT count(*) FROM migrate_upgrade('a2');

SELECT project, applied_heads, registry_heads, applied, pending, drifted,
       last_revision, last_applied_at IS NOT NULL AS has_time, lock_pid
FROM migrate_status();
SELECT revision FROM migrate_current();
SELECT * FROM migrate_heads();

-- the migration lock shows in the status while held: registering takes it
BEGIN;
SELECT migrate_register('a4', 'CREATE TABLE s_a4 (id int);');
SELECT lock_pid = pg_backend_pid() AS mine, lock_role = current_user AS my_role,
       lock_application, lock_since IS NOT NULL AS has_since
FROM migrate_status();
SELECT locktype, classid::regclass, objid = hashtext('default')::oid AS objid_is_hash,
       objsubid, mode, granted FROM pg_locks
WHERE locktype = 'object' AND classid = 'migrate.project'::regclass AND pid = pg_backend_pid();
ROLLBACK;
SELECT lock_pid FROM migrate_status();

-- history: newest first, limited, with a role and an application
SELECT event, revision FROM migrate_history(3);
SELECT count(*) FROM migrate_history(0);
SELECT count(*) FROM migrate_history();
SELECT * FROM migrate_history(-1);
SELECT DISTINCT role = current_user AS by_me, application_name, backend_pid = pg_backend_pid() AS this_backend
FROM migrate_history();

-- validation: several heads (a warning) and a second root
SELECT migrate_register('b1', 'CREATE TABLE s_b1 (id int);', parents => '{a1}');
SELECT * FROM migrate_validate();
SELECT registry_heads FROM migrate_status();
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT revision, action FROM migrate_upgrade('heads');
SELECT migrate_register('m1', '', parents => '{a3,b1}', description => 'merge');
SELECT revision, action FROM migrate_upgrade();
SELECT applied_heads, registry_heads, applied, pending FROM migrate_status();

-- validation: a missing parent, a cycle, scripts that do not parse or need
-- the per-revision runner, drift
SELECT migrate_register('c1', 'SELECT 1', parents => '{ghost}');
SELECT migrate_register('d1', 'SELECT 1', parents => '{d2}');
SELECT migrate_register('d2', 'SELECT 1', parents => '{d1}');
SELECT migrate_register('e1', E'SELECT 1;\nSELEC 2;', parents => '{m1}');
SELECT migrate_register('e2', E'SELECT 1;\nSAVEPOINT x;', parents => '{e1}');
SELECT migrate_register('e3', E'\\connect other', parents => '{e2}');
SELECT migrate_register('e4', E'CREATE INDEX CONCURRENTLY ON s_a1 (id);', parents => '{e3}');
SELECT migrate_register('a1', 'CREATE TABLE s_a1 (id bigint);', force => true);
SELECT * FROM migrate_validate();
SELECT drifted FROM migrate_status();
-- planning needs a sound graph
SELECT * FROM migrate_pending('heads');
\echo :LAST_ERROR_SQLSTATE

-- validation: applied revisions the registry lost, and applied revisions
-- whose parent is not applied (only a superuser editing migrate.* directly
-- can cause these)
SELECT migrate_register('a1', 'CREATE TABLE s_a1 (id int);');
SELECT migrate_unregister('d2');
SELECT migrate_unregister('d1');
SELECT migrate_unregister('c1');
SELECT migrate_unregister('e4');
SELECT migrate_unregister('e3');
SELECT migrate_unregister('e2');
SELECT migrate_unregister('e1');
SELECT * FROM migrate_validate();
INSERT INTO migrate.applied VALUES
  ('default', 'gone', 'abc', now(), current_user, '0', 1, 1);
DELETE FROM migrate.applied WHERE revision = 'a3';
SELECT * FROM migrate_validate();
SELECT applied_heads FROM migrate_status();
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE

DROP EXTENSION pg_migrate;
DROP TABLE s_a1, s_a2, s_a3, s_b1;
