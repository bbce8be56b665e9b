/* migrations/pg_migrate--0.1.0.sql */

\echo Use "CREATE EXTENSION pg_migrate" to load this file. \quit

--
-- State.  Schema "migrate" belongs to the extension's owner; nobody else
-- may read or write it directly.  The functions below do their bookkeeping
-- as that owner (see src/catalog.c) and run scripts as the caller.
--
CREATE SCHEMA migrate;
REVOKE ALL ON SCHEMA migrate FROM PUBLIC;
COMMENT ON SCHEMA migrate IS 'pg_migrate state: registry, applied set, history';

-- One row per project that has been found clean: every registered
-- revision applied, without drift, under a single head.  That makes an
-- upgrade at head a single-row lookup.  Any change to a project's registry
-- or applied set, by pg_migrate or by hand, clears its flag (triggers below).
CREATE TABLE migrate.project (
    project    text PRIMARY KEY,
    clean      boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The registry: every revision known to a project.
CREATE TABLE migrate.revision (
    project       text NOT NULL,
    revision      text NOT NULL
                  CHECK (revision ~ '^[A-Za-z0-9_.-]{1,128}$'),
    parents       text[] NOT NULL,
    description   text,
    up_script     text NOT NULL,
    down_script   text,
    checksum      text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    registered_by name NOT NULL,
    PRIMARY KEY (project, revision)
);

-- The applied set, with the checksum each revision had when applied.
CREATE TABLE migrate.applied (
    project    text NOT NULL,
    revision   text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL,
    applied_by name NOT NULL,
    duration   interval NOT NULL,
    statements integer NOT NULL,
    attempts   integer NOT NULL,
    PRIMARY KEY (project, revision)
);

-- The audit log.
CREATE TABLE migrate.history (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project           text NOT NULL,
    event             text NOT NULL,
    revision          text,
    target            text,
    checksum          text,
    previous_checksum text,
    started_at        timestamptz NOT NULL,
    finished_at       timestamptz NOT NULL,
    statements        integer,
    attempts          integer,
    role              name NOT NULL,
    application_name  text,
    backend_pid       integer NOT NULL,
    detail            text
);
CREATE INDEX history_project_id ON migrate.history (project, id);

-- Clears the clean flag of the projects whose rows a statement changed.
-- Statement-level, with transition tables: one UPDATE however many rows the
-- statement touched, and only the projects it touched, so migrations of
-- different projects never lock each other's rows here.
CREATE FUNCTION migrate.forget_clean() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE migrate.project SET clean = false WHERE clean;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE migrate.project SET clean = false
         WHERE clean AND project IN (SELECT n.project FROM new_rows n);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE migrate.project SET clean = false
         WHERE clean AND project IN (SELECT o.project FROM old_rows o);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION migrate.forget_clean() IS
'trigger: a change to the registry or the applied set means the projects it touched are no longer known to be at head';
REVOKE ALL ON FUNCTION migrate.forget_clean() FROM PUBLIC;

CREATE TRIGGER forget_clean_insert AFTER INSERT ON migrate.revision
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION migrate.forget_clean();
CREATE TRIGGER forget_clean_update AFTER UPDATE ON migrate.revision
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION migrate.forget_clean();
CREATE TRIGGER forget_clean_delete AFTER DELETE ON migrate.revision
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION migrate.forget_clean();
CREATE TRIGGER forget_clean_truncate AFTER TRUNCATE ON migrate.revision
    FOR EACH STATEMENT EXECUTE FUNCTION migrate.forget_clean();

CREATE TRIGGER forget_clean_insert AFTER INSERT ON migrate.applied
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION migrate.forget_clean();
CREATE TRIGGER forget_clean_update AFTER UPDATE ON migrate.applied
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION migrate.forget_clean();
CREATE TRIGGER forget_clean_delete AFTER DELETE ON migrate.applied
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION migrate.forget_clean();
CREATE TRIGGER forget_clean_truncate AFTER TRUNCATE ON migrate.applied
    FOR EACH STATEMENT EXECUTE FUNCTION migrate.forget_clean();

REVOKE ALL ON ALL TABLES IN SCHEMA migrate FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA migrate FROM PUBLIC;

-- pg_dump keeps the state with the database.
SELECT pg_catalog.pg_extension_config_dump('migrate.project', '');
SELECT pg_catalog.pg_extension_config_dump('migrate.revision', '');
SELECT pg_catalog.pg_extension_config_dump('migrate.applied', '');
SELECT pg_catalog.pg_extension_config_dump('migrate.history', '');
SELECT pg_catalog.pg_extension_config_dump(
    pg_catalog.pg_get_serial_sequence('migrate.history', 'id')::pg_catalog.regclass, '');

--
-- Functions.  "project" defaults to the pg_migrate.project setting; NULL
-- means the same.
--
CREATE FUNCTION migrate_register(
    revision text,
    up text,
    down text DEFAULT NULL,
    parents text[] DEFAULT NULL,
    description text DEFAULT NULL,
    force boolean DEFAULT false,
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_register'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_register(text, text, text, text[], text, boolean, text) IS
'adds or updates a revision in the registry; returns added, unchanged or updated';

CREATE FUNCTION migrate_unregister(
    revision text,
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS void
AS 'MODULE_PATHNAME', 'migrate_unregister'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_unregister(text, text) IS
'removes a revision that is not applied and has no children';

CREATE FUNCTION migrate_upgrade(
    target text DEFAULT 'head',
    dry_run boolean DEFAULT false,
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (revision text, action text, duration interval,
               statements integer, attempts integer)
AS 'MODULE_PATHNAME', 'migrate_upgrade'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_upgrade(text, boolean, text) IS
'validates, locks, and applies pending revisions up to the target, all in the caller''s transaction';

CREATE FUNCTION migrate_pending(
    target text DEFAULT 'head',
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (step integer, revision text, parents text[], description text)
AS 'MODULE_PATHNAME', 'migrate_pending'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_pending(text, text) IS
'the revisions an upgrade to the target would apply, in order';

CREATE FUNCTION migrate_current(
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (revision text, applied_at timestamptz)
AS 'MODULE_PATHNAME', 'migrate_current'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_current(text) IS
'the applied heads: applied revisions none of whose children are applied';

CREATE FUNCTION migrate_heads(
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (revision text, applied boolean, description text)
AS 'MODULE_PATHNAME', 'migrate_heads'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_heads(text) IS
'the registry heads: registered revisions without children';

CREATE FUNCTION migrate_status(
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (project text, applied_heads text[], registry_heads text[],
               applied integer, pending integer, drifted integer,
               last_revision text, last_applied_at timestamptz,
               lock_pid integer, lock_role name, lock_application text,
               lock_since timestamptz)
AS 'MODULE_PATHNAME', 'migrate_status'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_status(text) IS
'one row: heads, counts, last applied revision, and who holds the migration lock';

CREATE FUNCTION migrate_history(
    "limit" integer DEFAULT 100,
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (id bigint, event text, revision text, target text,
               checksum text, previous_checksum text,
               started_at timestamptz, finished_at timestamptz,
               duration interval, statements integer, attempts integer,
               role name, application_name text, backend_pid integer,
               detail text)
AS 'MODULE_PATHNAME', 'migrate_history'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_history(integer, text) IS
'the audit log, newest first';

CREATE FUNCTION migrate_validate(
    project text DEFAULT pg_catalog.current_setting('pg_migrate.project', true))
RETURNS TABLE (severity text, revision text, problem text, detail text)
AS 'MODULE_PATHNAME', 'migrate_validate'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_validate(text) IS
'every problem of the registry and applied set, one row each';

REVOKE ALL ON FUNCTION migrate_register(text, text, text, text[], text, boolean, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_unregister(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_upgrade(text, boolean, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_pending(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_current(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_heads(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_status(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_history(integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_validate(text) FROM PUBLIC;
