--
-- The installed extension: versions, what is granted to PUBLIC (nothing),
-- comments on every function, and the state pg_dump keeps.
--
CREATE EXTENSION pg_migrate;

SELECT version FROM pg_available_extension_versions
WHERE name = 'pg_migrate' ORDER BY version;
-- every release script is reachable from every older one
SELECT source, target, path IS NOT NULL AS reachable
FROM pg_extension_update_paths('pg_migrate') ORDER BY source, target;
SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate';

-- functions: each commented, none executable by PUBLIC
SELECT p.oid::regprocedure AS function,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_migrate'
ORDER BY p.proname;

-- schema migrate and its tables: nothing for PUBLIC
SELECT has_schema_privilege('public', 'migrate', 'USAGE') AS public_usage;
SELECT c.relname, c.relkind,
       EXISTS (SELECT FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner)))
               WHERE grantee = 0) AS public_has_any
FROM pg_class c WHERE c.relnamespace = 'migrate'::regnamespace
ORDER BY c.relname;

-- pg_dump keeps the state with the database
SELECT unnest(extconfig)::regclass AS dumped
FROM pg_extension WHERE extname = 'pg_migrate' ORDER BY 1;

-- the extension cannot be moved: its C code names schema migrate
ALTER EXTENSION pg_migrate SET SCHEMA pg_catalog;

DROP EXTENSION pg_migrate;
SELECT count(*) FROM pg_namespace WHERE nspname = 'migrate';

-- Every upgrade path ends where a fresh install does: the same member
-- objects, the same function signatures, comments and privileges, the
-- same table columns.
CREATE TEMP VIEW members AS
  SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS object,
         CASE WHEN d.classid = 'pg_proc'::regclass THEN
           (SELECT format('%s returns %s; %s; acl %s',
                          p.oid::regprocedure, pg_get_function_result(p.oid),
                          obj_description(p.oid, 'pg_proc'), p.proacl)
              FROM pg_proc p WHERE p.oid = d.objid)
         WHEN d.classid = 'pg_class'::regclass THEN
           (SELECT string_agg(format('%s %s%s', a.attname,
                                     format_type(a.atttypid, a.atttypmod),
                                     CASE WHEN a.attnotnull THEN ' not null' END),
                              ', ' ORDER BY a.attnum)
              FROM pg_attribute a
             WHERE a.attrelid = d.objid AND a.attnum > 0 AND NOT a.attisdropped)
         END AS definition
    FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
   WHERE e.extname = 'pg_migrate' AND d.deptype = 'e';
CREATE EXTENSION pg_migrate VERSION '0.1.0';
ALTER EXTENSION pg_migrate UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate';
CREATE TEMP TABLE updated AS SELECT '0.1.0' AS "from", * FROM members;
DROP EXTENSION pg_migrate;
CREATE EXTENSION pg_migrate VERSION '0.2.0';
ALTER EXTENSION pg_migrate UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate';
INSERT INTO updated SELECT '0.2.0', * FROM members;
DROP EXTENSION pg_migrate;
CREATE EXTENSION pg_migrate VERSION '0.3.0';
ALTER EXTENSION pg_migrate UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate';
INSERT INTO updated SELECT '0.3.0', * FROM members;
DROP EXTENSION pg_migrate;
CREATE EXTENSION pg_migrate;
CREATE TEMP TABLE fresh AS SELECT * FROM members;
DROP EXTENSION pg_migrate;

-- The functions 0.3.0 replaces keep the grants a DBA gave on 0.2.0, grant
-- option included.
CREATE ROLE regress_ext_monitor;
CREATE ROLE regress_ext_deployer;
CREATE EXTENSION pg_migrate VERSION '0.2.0';
GRANT EXECUTE ON FUNCTION migrate_history(integer, text) TO regress_ext_monitor;
GRANT EXECUTE ON FUNCTION migrate_sync(jsonb, text), migrate_history(integer, text)
  TO regress_ext_deployer WITH GRANT OPTION;
ALTER EXTENSION pg_migrate UPDATE;
SELECT r.rolname, f.f AS function,
       has_function_privilege(r.rolname, f.f, 'EXECUTE') AS execute,
       has_function_privilege(r.rolname, f.f, 'EXECUTE WITH GRANT OPTION') AS grant_option
  FROM (VALUES ('regress_ext_monitor'), ('regress_ext_deployer')) r (rolname),
       (VALUES ('migrate_history(integer, text)'), ('migrate_sync(jsonb, text, text)')) f (f)
 ORDER BY 1, 2;
SELECT count(*) AS old_ones_left FROM pg_proc
 WHERE proname IN ('migrate_history_0_2_0')
    OR (proname = 'migrate_sync' AND pronargs = 2);
DROP EXTENSION pg_migrate;
DROP ROLE regress_ext_monitor;
DROP ROLE regress_ext_deployer;
CREATE EXTENSION pg_migrate;
SELECT count(*) > 0 AS has_members FROM fresh;
SELECT v."from", d.*
  FROM (VALUES ('0.1.0'), ('0.2.0'), ('0.3.0')) v("from"),
  LATERAL ((SELECT 'only after update' AS "where", object, definition
              FROM updated u WHERE u."from" = v."from"
            EXCEPT SELECT 'only after update', * FROM fresh)
           UNION ALL
           (SELECT 'only when fresh', * FROM fresh
            EXCEPT SELECT 'only when fresh', object, definition
              FROM updated u WHERE u."from" = v."from")) d;
DROP EXTENSION pg_migrate;

