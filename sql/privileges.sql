--
-- Privileges: nothing works before the grants the README documents; a
-- migrator role can then migrate but cannot read or forge the state;
-- scripts run with the caller's privileges; pg_migrate's own queries
-- ignore the caller's search_path.
--
CREATE EXTENSION pg_migrate;
\set SHOW_CONTEXT always
CREATE ROLE regress_migrator;
CREATE ROLE regress_monitor;
CREATE SCHEMA regress_private;

-- before the grants: refused
SET ROLE regress_migrator;
SELECT * FROM migrate_upgrade();
SELECT migrate_register('0001_priv', 'CREATE TABLE priv_t (id int);');
SELECT * FROM migrate_status();
RESET ROLE;

-- the grants for a migrator (see README, "Security")
GRANT EXECUTE ON FUNCTION
    migrate_register(text, text, text, text[], text, boolean, text),
    migrate_unregister(text, text),
    migrate_upgrade(text, boolean, text),
    migrate_pending(text, text),
    migrate_current(text),
    migrate_heads(text),
    migrate_status(text),
    migrate_history(integer, text),
    migrate_validate(text)
  TO regress_migrator;
GRANT CREATE ON SCHEMA public TO regress_migrator;
-- and for monitoring
GRANT EXECUTE ON FUNCTION migrate_status(text), migrate_history(integer, text)
  TO regress_monitor;

SET ROLE regress_migrator;
SELECT migrate_register('0001_priv', 'CREATE TABLE priv_t (id int);');
SELECT revision, action FROM migrate_upgrade();
-- the script ran as the migrator, which owns what it created
SELECT tableowner FROM pg_tables WHERE tablename = 'priv_t';

-- the state cannot be read or written directly
SELECT count(*) FROM migrate.revision;
INSERT INTO migrate.applied VALUES ('default', 'forged', 'x', now(), 'x', '0', 1, 1);
UPDATE migrate.history SET role = 'someone_else';
DELETE FROM migrate.project;

-- a script cannot do what its caller may not: the owner's rights never
-- reach it
SELECT migrate_register('0002_private', 'CREATE TABLE regress_private.t (id int);');
SELECT * FROM migrate_upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('0002_private', 'INSERT INTO migrate.history (project, event, started_at, finished_at, role, backend_pid) VALUES (''default'', ''forged'', now(), now(), ''x'', 0);');
SELECT * FROM migrate_upgrade();
SELECT migrate_unregister('0002_private');
RESET ROLE;

-- the monitor sees status and history, and may not migrate
SET ROLE regress_monitor;
SELECT applied, pending, applied_heads FROM migrate_status();
SELECT event, revision, role FROM migrate_history() ORDER BY id;
SELECT * FROM migrate_upgrade();
RESET ROLE;

-- pg_migrate's queries are immune to objects planted ahead of pg_catalog
CREATE SCHEMA regress_evil;
GRANT USAGE ON SCHEMA regress_evil TO PUBLIC;
CREATE FUNCTION regress_evil.unnest(anyarray) RETURNS SETOF anyelement
  LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'shadowed unnest called'; END $$;
CREATE FUNCTION regress_evil.now() RETURNS timestamptz
  LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'shadowed now called'; END $$;
CREATE FUNCTION regress_evil.texteq_evil(text, text) RETURNS boolean
  LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'shadowed = called'; END $$;
CREATE OPERATOR regress_evil.= (LEFTARG = text, RIGHTARG = text,
  FUNCTION = regress_evil.texteq_evil);
SET ROLE regress_migrator;
SET search_path = regress_evil, pg_catalog, public;
SELECT migrate_register('0003_shadowed', 'CREATE TABLE public.shadow_t (id int);');
SELECT revision, action FROM migrate_upgrade();
SELECT applied, pending FROM migrate_status();
SELECT count(*) FROM migrate_history();
SELECT * FROM migrate_validate();
SELECT migrate_register('0004_shadowed', '', parents => NULL);
SELECT migrate_unregister('0004_shadowed');
RESET search_path;
RESET ROLE;

-- history names the role the work was done for
SELECT event, revision, role FROM migrate_history() ORDER BY id;

DROP EXTENSION pg_migrate;
DROP TABLE priv_t, shadow_t;
DROP SCHEMA regress_evil CASCADE;
DROP SCHEMA regress_private;
REVOKE CREATE ON SCHEMA public FROM regress_migrator;
DROP ROLE regress_migrator, regress_monitor;
