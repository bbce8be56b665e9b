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
