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

-- before the grants: refused, every function
SET ROLE regress_migrator;
SELECT * FROM migrate_upgrade();
SELECT migrate_register('0001_priv', 'CREATE TABLE priv_t (id int);');
SELECT * FROM migrate_status();
SELECT * FROM migrate_downgrade('base');
SELECT * FROM migrate_stamp('base');
SELECT migrate_repair('0001_priv');
SELECT * FROM migrate_sync('[]');
SELECT * FROM migrate_sources();
SELECT migrate_check();
RESET ROLE;
SET ROLE regress_monitor;
SELECT migrate_check();
RESET ROLE;
-- nothing of the extension is for PUBLIC (the extension test lists each
-- function; this is the same claim from a role's point of view)
SELECT count(*) AS executable_by_migrator FROM pg_proc p
 JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
 JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_migrate'
WHERE has_function_privilege('regress_migrator', p.oid, 'EXECUTE');

-- the grants for a migrator (see README, "Security")
GRANT EXECUTE ON FUNCTION
    migrate_register(text, text, text, text[], text, boolean, text),
    migrate_unregister(text, text),
    migrate_upgrade(text, boolean, text),
    migrate_downgrade(text, boolean, text),
    migrate_sync(jsonb, text, text),
    migrate_synced_folder(text),
    migrate_sources(text),
    migrate_pending(text, text),
    migrate_current(text),
    migrate_heads(text),
    migrate_status(text),
    migrate_history(integer, text),
    migrate_validate(text),
    migrate_check(text)
  TO regress_migrator;
-- and for whoever adopts databases and accepts edited scripts
GRANT EXECUTE ON FUNCTION migrate_stamp(text, text), migrate_repair(text, text)
  TO regress_migrator;
GRANT CREATE ON SCHEMA public TO regress_migrator;
-- and for monitoring (and a pg_cron job running the check)
GRANT EXECUTE ON FUNCTION
    migrate_check(text),
    migrate_status(text),
    migrate_history(integer, text),
    migrate_validate(text),
    migrate_current(text),
    migrate_heads(text),
    migrate_pending(text, text)
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
-- nor can a down script: a revision whose down script would forge the
-- history applies, and its downgrade is refused
SELECT migrate_register('0002_down', '', down => 'DELETE FROM migrate.history;');
SELECT revision, action FROM migrate_upgrade();
SELECT * FROM migrate_downgrade('0001_priv');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(*) AS history_rows, count(*) FILTER (WHERE event = 'downgrade') AS downgrades
FROM migrate.history;
-- (remove it, as an administrator would: it cannot be reverted)
SELECT * FROM migrate_stamp('0001_priv');
SELECT migrate_unregister('0002_down');

-- the monitor sees status, history and the check, and may change nothing
SET ROLE regress_monitor;
SELECT applied, pending, applied_heads FROM migrate_status();
SELECT event, revision, role FROM migrate_history() ORDER BY id;
SELECT migrate_check();
SELECT revision FROM migrate_current();
SELECT count(*) FROM migrate_validate();
SELECT * FROM migrate_upgrade();
SELECT migrate_register('0002_monitor', '');
SELECT * FROM migrate_sync('[]');
SELECT * FROM migrate_stamp('base');
SELECT count(*) FROM migrate.history;
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
CREATE OPERATOR regress_evil.<> (LEFTARG = text, RIGHTARG = text,
  FUNCTION = regress_evil.texteq_evil);
CREATE FUNCTION regress_evil.jsonb_get_evil(jsonb, text) RETURNS text
  LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'shadowed ->> called'; END $$;
CREATE OPERATOR regress_evil.->> (LEFTARG = jsonb, RIGHTARG = text,
  FUNCTION = regress_evil.jsonb_get_evil);
CREATE FUNCTION regress_evil.jsonb_typeof(jsonb) RETURNS text
  LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'shadowed jsonb_typeof called'; END $$;
CREATE FUNCTION regress_evil.jsonb_array_elements(jsonb) RETURNS SETOF jsonb
  LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'shadowed jsonb_array_elements called'; END $$;
CREATE FUNCTION regress_evil.string_to_array(text, text) RETURNS text[]
  LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'shadowed string_to_array called'; END $$;
CREATE FUNCTION regress_evil.tsmi_evil(timestamptz, timestamptz) RETURNS interval
  LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'shadowed - called'; END $$;
CREATE OPERATOR regress_evil.- (LEFTARG = timestamptz, RIGHTARG = timestamptz,
  FUNCTION = regress_evil.tsmi_evil);
-- they are first on the path: an unqualified query calls them
SET search_path = regress_evil, pg_catalog, public;
SELECT 'a'::text = 'a';
SELECT '{"a": "b"}'::jsonb ->> 'a';
SELECT pg_catalog.now() - pg_catalog.now();
RESET search_path;
SET ROLE regress_migrator;
SET search_path = regress_evil, pg_catalog, public;
SELECT migrate_register('0003_shadowed', 'CREATE TABLE public.shadow_t (id int);');
SELECT revision, action FROM migrate_upgrade();
SELECT applied, pending FROM migrate_status();
SELECT count(*) FROM migrate_history();
SELECT * FROM migrate_validate();
SELECT migrate_register('0004_shadowed', '', parents => NULL);
SELECT migrate_unregister('0004_shadowed');
-- and every other entry point
SELECT * FROM migrate_sync('[{"revision": "0004_synced", "parents": ["0003_shadowed"],
  "up": "CREATE TABLE public.synced_t (id int);", "down": "DROP TABLE public.synced_t;",
  "description": "from a folder"}]');
SELECT count(*) FROM migrate_sources();
SELECT step, revision FROM migrate_pending();
SELECT migrate_check();
SELECT revision, action FROM migrate_upgrade();
SELECT migrate_check();
SELECT revision FROM migrate_current();
SELECT revision, applied FROM migrate_heads();
SELECT revision, action FROM migrate_downgrade('0003_shadowed');
SELECT * FROM migrate_stamp('0004_synced');
SELECT migrate_register('0004_synced', 'CREATE TABLE public.synced_t (id bigint);',
                        force => true);
SELECT migrate_check();
SELECT migrate_repair('0004_synced');
SELECT migrate_check();
SELECT event, revision, role FROM migrate_history(6);
RESET search_path;
RESET ROLE;

-- history names the role the work was done for
SELECT event, revision, role FROM migrate_history() ORDER BY id;

DROP EXTENSION pg_migrate;
DROP TABLE priv_t, shadow_t;
SET client_min_messages = warning;
DROP SCHEMA regress_evil CASCADE;
RESET client_min_messages;
DROP SCHEMA regress_private;
REVOKE CREATE ON SCHEMA public FROM regress_migrator;
DROP ROLE regress_migrator, regress_monitor;
