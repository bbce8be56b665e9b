/* migrations/pg_migrate--0.1.0--0.2.0.sql */

\echo Use "ALTER EXTENSION pg_migrate UPDATE TO '0.2.0'" to load this file. \quit

--
-- 0.2.0: moving around the revision graph.  The history gains the events
-- "downgrade", "stamp", "unstamp" and "repair"; its columns are unchanged.
--
CREATE FUNCTION migrate_downgrade(
    target text,
    dry_run boolean DEFAULT false,
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (revision text, action text, duration interval,
               statements integer, attempts integer)
AS 'MODULE_PATHNAME', 'migrate_downgrade'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_downgrade(text, boolean, text) IS
'reverts applied revisions above the target with their down scripts, children first, all in the caller''s transaction';

CREATE FUNCTION migrate_stamp(
    target text,
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (revision text, action text)
AS 'MODULE_PATHNAME', 'migrate_stamp'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_stamp(text, text) IS
'sets the applied set to the target and its ancestors without running any script';

CREATE FUNCTION migrate_repair(
    revision text,
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_repair'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_repair(text, text) IS
'accepts the registered checksum of an applied revision after an intended edit; returns repaired or unchanged';

REVOKE ALL ON FUNCTION migrate_downgrade(text, boolean, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_stamp(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_repair(text, text) FROM PUBLIC;

--
-- Files: revisions read from a folder (the pg_migrate client, or the
-- server-side folder named by pg_migrate.directory) may be marked to run
-- outside a transaction (dbmate's "transaction:false"), and every revision
-- keeps the hash of its content as a folder's reader computes it, so that a
-- client can tell what is already registered without sending it.
--
ALTER TABLE migrate.revision
    ADD COLUMN nontransactional boolean NOT NULL DEFAULT false,
    ADD COLUMN source_hash text;

CREATE FUNCTION migrate_sync(
    revisions jsonb,
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (revision text, action text)
AS 'MODULE_PATHNAME', 'migrate_sync'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_sync(jsonb, text) IS
'registers revisions read from a folder, all or nothing; returns added, unchanged, updated or drifted for each';

CREATE FUNCTION migrate_sources(
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (revision text, source_hash text)
AS 'MODULE_PATHNAME', 'migrate_sources'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_sources(text) IS
'each registered revision with the hash of its registered content';

REVOKE ALL ON FUNCTION migrate_sync(jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_sources(text) FROM PUBLIC;
