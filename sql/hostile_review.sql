--
-- Reviewing runs no user code.  A deploy role owns a table whose CHECK
-- constraint, column types (a domain with a CHECK, an enum with a cast of
-- its own), index expression and index predicate call an IMMUTABLE
-- wrapper around a VOLATILE function that logs where it ran and tries to
-- make the role superuser.  A superuser then reviews scripts that touch
-- the table, through every review path: migrate_lint,
-- migrate_lint_revision, migrate_validate, migrate_upgrade(dry_run), and
-- the read-only migrate_pending, migrate_status and migrate_check.  After
-- each, the log is empty and the role is not superuser.
--
-- Before the fix, the lint folded the CHECK constraint with
-- eval_const_expressions (hook 1), parse-analysed a default whose literal
-- is read by a domain's input function (hook 2), loaded a domain's
-- constraints into the type cache, which plans them (hook 3), and planned
-- a column's coercion, which inlines and folds a SQL cast function
-- (hook 4).
--
-- Then: SET NOT NULL proven only where the server proves it, and lint
-- never raising on a script (unterminated quotes, bad escapes, option
-- values), and names resolved as the server resolves them at run time.
--
CREATE EXTENSION pg_migrate;

CREATE ROLE regress_hostile LOGIN;
CREATE TABLE public.hostile_log (role name, hook text);
GRANT INSERT ON public.hostile_log TO regress_hostile;
CREATE SCHEMA hostile AUTHORIZATION regress_hostile;

SET ROLE regress_hostile;
-- the payload: logs, and tries to escalate (which works only when it runs
-- as a superuser)
CREATE FUNCTION hostile.payload(hook text) RETURNS int
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  INSERT INTO public.hostile_log VALUES (current_user, hook);
  BEGIN
    EXECUTE 'ALTER ROLE regress_hostile SUPERUSER';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  RETURN 0;
END $$;
-- IMMUTABLE wrappers, which constant folding evaluates
CREATE FUNCTION hostile.check_hook(i int) RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT hostile.payload('check') + i $$;
CREATE FUNCTION hostile.domain_hook(i int) RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT hostile.payload('domain') + i $$;
CREATE FUNCTION hostile.index_hook(i int) RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT hostile.payload('index') + i $$;
CREATE FUNCTION hostile.cast_hook(i int) RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT hostile.payload('cast') + i $$;
-- domains with a CHECK, read by domain_in and planned by the type cache
-- (once a session each, hence two)
CREATE DOMAIN hostile.dom AS int CHECK (VALUE > hostile.domain_hook(0));
CREATE DOMAIN hostile.dom_in AS int CHECK (VALUE > hostile.domain_hook(0));
-- an enum with an assignment cast to text of its own, a SQL function that
-- planning inlines
CREATE TYPE hostile.mood AS ENUM ('calm', 'angry');
CREATE FUNCTION hostile.mood_text(hostile.mood) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN hostile.cast_hook(0) = 0 THEN 'mood' END $$;
CREATE CAST (hostile.mood AS text) WITH FUNCTION hostile.mood_text(hostile.mood)
  AS ASSIGNMENT;
CREATE TABLE hostile.t (
  c int CHECK (c > hostile.check_hook(0)),
  m hostile.mood,
  d hostile.dom
);
CREATE INDEX t_expr ON hostile.t ((hostile.index_hook(c))) WHERE c > hostile.index_hook(0);
RESET ROLE;
TRUNCATE hostile_log;

-- every existing table is large, even this empty one: the rules look
SET pg_migrate.lint_large_table_size = 0;

-- the state after each review: nothing ran, nobody was promoted
CREATE FUNCTION hostile_ran() RETURNS TABLE (hooks_run bigint, hostile_is_superuser boolean)
LANGUAGE sql AS $$
  SELECT (SELECT count(*) FROM hostile_log),
         (SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_hostile')
$$;

--
-- hook 1: SET NOT NULL, whose rule reads the table's CHECK constraints
--
SELECT rule, message FROM migrate_lint('ALTER TABLE hostile.t ALTER COLUMN c SET NOT NULL');
SELECT * FROM hostile_ran();

--
-- hook 2: ADD COLUMN with a default whose literal is cast to an array of
-- the domain, which the array's input reads with the domain's
--
SELECT rule, message
FROM migrate_lint($$ALTER TABLE hostile.t ADD COLUMN e hostile.dom_in[] DEFAULT '{1}'::hostile.dom_in[]$$);
SELECT * FROM hostile_ran();

--
-- hook 3: ALTER COLUMN TYPE to a domain with a CHECK
--
SELECT rule, message FROM migrate_lint('ALTER TABLE hostile.t ALTER COLUMN c TYPE hostile.dom');
SELECT * FROM hostile_ran();

--
-- hook 4: ALTER COLUMN TYPE through an assignment cast of the owner's
--
SELECT rule, message FROM migrate_lint('ALTER TABLE hostile.t ALTER COLUMN m TYPE text');
SELECT * FROM hostile_ran();

--
-- The same scripts registered, and every review path run on them.
--
SELECT migrate_register('h1', 'ALTER TABLE hostile.t ALTER COLUMN c SET NOT NULL;');
SELECT migrate_register('h2', $$ALTER TABLE hostile.t ADD COLUMN e hostile.dom_in[] DEFAULT '{1}'::hostile.dom_in[];$$,
                        parents => ARRAY['h1']);
SELECT migrate_register('h3', 'ALTER TABLE hostile.t ALTER COLUMN c TYPE hostile.dom;',
                        parents => ARRAY['h2']);
SELECT migrate_register('h4', 'ALTER TABLE hostile.t ALTER COLUMN m TYPE text;',
                        parents => ARRAY['h3']);
SELECT 'h1' AS revision, rule FROM migrate_lint_revision('h1')
UNION ALL SELECT 'h2', rule FROM migrate_lint_revision('h2')
UNION ALL SELECT 'h3', rule FROM migrate_lint_revision('h3')
UNION ALL SELECT 'h4', rule FROM migrate_lint_revision('h4');
SELECT * FROM hostile_ran();
SELECT severity, revision, problem FROM migrate_validate();
SELECT * FROM hostile_ran();
-- the dry run; the client's "pg_migrate plan" sends exactly this call
-- (client/commands.c, run_steps; t/015_hostile_review.pl runs the client)
SELECT revision, action FROM migrate_upgrade('head', dry_run => true);
SELECT * FROM hostile_ran();
SET pg_migrate.lint = error;
SELECT revision, action FROM migrate_upgrade('head', dry_run => true);
RESET pg_migrate.lint;
SELECT * FROM hostile_ran();
SELECT * FROM migrate_pending('head');
SELECT applied, pending, drifted FROM migrate_status();
SELECT migrate_check();
SELECT * FROM hostile_ran();
SELECT migrate_unregister('h4');
SELECT migrate_unregister('h3');
SELECT migrate_unregister('h2');
SELECT migrate_unregister('h1');

--
-- SET NOT NULL skips its scan only where the server's own proof does: a
-- validated CHECK (col IS NOT NULL), NOT (col IS NULL), or an AND holding
-- one.  CHECK (col > 0) passes on a null, so it proves nothing.
--
CREATE TABLE proof (a int CHECK (a IS NOT NULL), b int CHECK (NOT (b IS NULL)),
                    c int CHECK (c > 0 AND c IS NOT NULL), d int CHECK (d > 0),
                    e int CHECK (e IS NOT NULL OR e > 0), f int);
ALTER TABLE proof ADD CHECK (f IS NOT NULL) NOT VALID;
SELECT rule, message FROM migrate_lint($$
  ALTER TABLE proof ALTER COLUMN a SET NOT NULL;
  ALTER TABLE proof ALTER COLUMN b SET NOT NULL;
  ALTER TABLE proof ALTER COLUMN c SET NOT NULL;
  ALTER TABLE proof ALTER COLUMN d SET NOT NULL;
  ALTER TABLE proof ALTER COLUMN e SET NOT NULL;
  ALTER TABLE proof ALTER COLUMN f SET NOT NULL;
$$);
-- the server agrees, column by column (DEBUG1 says when it skips the scan)
SET client_min_messages = debug1;
ALTER TABLE proof ALTER COLUMN a SET NOT NULL;
ALTER TABLE proof ALTER COLUMN b SET NOT NULL;
ALTER TABLE proof ALTER COLUMN c SET NOT NULL;
ALTER TABLE proof ALTER COLUMN d SET NOT NULL;
ALTER TABLE proof ALTER COLUMN e SET NOT NULL;
ALTER TABLE proof ALTER COLUMN f SET NOT NULL;
RESET client_min_messages;
DROP TABLE proof;

-- ADD COLUMN defaults: volatility from pg_proc, no parse analysis
SELECT rule, message FROM migrate_lint($$
  ALTER TABLE hostile.t ADD COLUMN x1 timestamptz DEFAULT now();
  ALTER TABLE hostile.t ADD COLUMN x2 float8 DEFAULT random();
  ALTER TABLE hostile.t ADD COLUMN x3 int DEFAULT hostile.check_hook(1);
  ALTER TABLE hostile.t ADD COLUMN x4 int DEFAULT no_such_function();
  ALTER TABLE hostile.t ADD COLUMN x5 jsonb DEFAULT '{}'::jsonb;
  ALTER TABLE hostile.t ADD COLUMN x6 hostile.dom;
$$);
SELECT * FROM hostile_ran();

--
-- The lint reports what it cannot parse instead of raising, with the
-- position in the script, not in the caller's statement.
--
SELECT statement, line, "column", rule, message FROM migrate_lint($$SELECT 'abc\$$);
SELECT statement, line, "column", rule, message FROM migrate_lint(E'SELECT 1;\nSELECT "abc');
SELECT statement, line, "column", rule, message FROM migrate_lint($$SELECT $q$abc$$);
SELECT statement, line, "column", rule, message FROM migrate_lint('SELECT 1; /* abc');
SELECT statement, line, "column", rule, message FROM migrate_lint($$SELECT U&'\zzzz'$$);
SELECT statement, line, "column", rule, message FROM migrate_lint($$SELECT E'\xc3'$$);
SELECT statement, line, "column", rule, message FROM migrate_lint(E'\\set x 1\nSELECT \'abc\\');
SELECT statement, line, "column", rule, message FROM migrate_lint(repeat('(', 100000));
-- a meta-command quoted in a message is cut at a character boundary
SELECT rule, convert_from(convert_to(message, 'UTF8'), 'UTF8') AS message
FROM migrate_lint(E'\\set xy \'' || repeat('é', 40) || E'\'');
-- values the server refuses when the statement runs
SELECT statement, rule FROM migrate_lint($$
  REINDEX (CONCURRENTLY banana) TABLE hostile.t;
  VACUUM (FULL maybe) hostile.t;
  SET lock_timeout = 1, 2;
  DROP TABLE a.b.c.d;
$$, nontransactional => true);
-- an expression too deep to walk: the lint cannot tell, and says so
SELECT statement, rule, message
FROM migrate_lint('ALTER TABLE hostile.t ADD COLUMN y int DEFAULT ' || repeat('1 + ', 100000) || '1');

--
-- Names resolve as the server will resolve them when the script runs.
--
CREATE TABLE public.big (v int);
INSERT INTO public.big SELECT generate_series(1, 100);
ANALYZE public.big;
SET pg_migrate.lint_large_table_size = -1;
SET pg_migrate.lint_large_table = 50;
-- a same-named table created in another schema does not hide public.big
SELECT statement, rule, relation
FROM migrate_lint('CREATE SCHEMA s; CREATE TABLE s.big (v int); CREATE INDEX ON big (v);');
-- ... unless the search path puts that schema first
SELECT statement, rule, relation FROM migrate_lint($$
  CREATE SCHEMA s; CREATE TABLE s.big (v int);
  SET search_path = s, public;
  CREATE INDEX ON big (v);
  RESET search_path;
  CREATE INDEX ON big (v);
$$);
-- an unqualified CREATE creates in the first schema of the path that exists
SELECT statement, rule, relation FROM migrate_lint($$
  CREATE SCHEMA s;
  SET search_path = nowhere, s, public;
  CREATE TABLE big (v int);
  CREATE INDEX ON big (v);
  CREATE INDEX ON public.big (v);
$$);
-- renames and moves: the new name is the old table
SELECT statement, rule, relation FROM migrate_lint($$
  ALTER TABLE big RENAME TO big2;
  CREATE INDEX ON big2 (v);
  CREATE INDEX ON big (v);
$$);
SELECT statement, rule, relation FROM migrate_lint($$
  CREATE SCHEMA s2;
  ALTER TABLE big SET SCHEMA s2;
  CREATE INDEX ON s2.big (v);
  CREATE TABLE big (v int);
  CREATE INDEX ON big (v);
$$);
-- ALTER INDEX may rename a table too
SELECT statement, rule, relation FROM migrate_lint($$
  ALTER INDEX big RENAME TO big3;
  CREATE INDEX ON big3 (v);
$$);
-- a renamed schema keeps its tables
SELECT statement, rule, relation FROM migrate_lint($$
  ALTER SCHEMA public RENAME TO p2;
  CREATE SCHEMA public;
  CREATE TABLE public.big (v int);
  CREATE INDEX ON public.big (v);
  CREATE INDEX ON p2.big (v);
$$);
-- a temporary table hides the permanent one, pg_temp first
SELECT statement, rule, relation FROM migrate_lint($$
  CREATE TEMP TABLE big (v int);
  CREATE INDEX ON big (v);
  CREATE INDEX ON public.big (v);
$$);
-- the database's own name as a catalog name
SELECT statement, rule, relation
FROM migrate_lint(format('CREATE INDEX ON %I.public.big (v)', current_database()));
-- "$user" comes first when that schema exists
CREATE SCHEMA regress_hostile AUTHORIZATION regress_hostile;
CREATE TABLE regress_hostile.big (v int);
GRANT EXECUTE ON FUNCTION migrate_lint(text, boolean) TO regress_hostile;
SET ROLE regress_hostile;
SELECT statement, rule, relation FROM migrate_lint('CREATE INDEX ON big (v)');
RESET ROLE;
SELECT statement, rule, relation FROM migrate_lint($$
  SET ROLE regress_hostile;
  CREATE INDEX ON big (v);
  RESET ROLE;
  CREATE INDEX ON big (v);
$$);
REVOKE EXECUTE ON FUNCTION migrate_lint(text, boolean) FROM regress_hostile;
DROP SCHEMA regress_hostile CASCADE;
-- IF NOT EXISTS (and OR REPLACE) creates nothing when the name is taken
SELECT statement, rule, relation FROM migrate_lint($$
  CREATE TABLE IF NOT EXISTS big (v int);
  CREATE INDEX ON big (v);
$$);
-- DISCARD TEMP drops the temporary table that hid public.big
SELECT statement, rule, relation FROM migrate_lint($$
  CREATE TEMP TABLE big (v int);
  CREATE INDEX ON big (v);
  DISCARD TEMP;
  CREATE INDEX ON big (v);
$$);
-- a schema named in SET search_path is truncated to NAMEDATALEN - 1 bytes,
-- as the server truncates it
SELECT format('CREATE SCHEMA %I', repeat('l', 63)) \gexec
SELECT format('CREATE TABLE %I.big (v int)', repeat('l', 63)) \gexec
SELECT statement, rule, relation FROM migrate_lint(format($$
  SET search_path = '%s', public;
  CREATE INDEX ON big (v);
$$, repeat('l', 70)));
SELECT format('DROP SCHEMA %I CASCADE', repeat('l', 63)) \gexec
-- a drop is followed: the name then means what the path finds next
CREATE SCHEMA s3;
CREATE TABLE s3.big (v int);
SELECT statement, rule, relation FROM migrate_lint($$
  SET search_path = s3, public;
  CREATE INDEX ON big (v);
  DROP TABLE s3.big;
  CREATE INDEX ON big (v);
$$);
DROP SCHEMA s3 CASCADE;
-- code the lint cannot read is a finding of its own
CREATE FUNCTION user_function() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE TABLE triggered (v int);
CREATE FUNCTION triggered_fn() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER triggered_tg BEFORE INSERT ON triggered FOR EACH ROW EXECUTE FUNCTION triggered_fn();
SELECT statement, rule, message FROM migrate_lint($$
  DO $do$ BEGIN EXECUTE 'CREATE INDEX ON big (v)'; END $do$;
  SELECT set_config('search_path', 's', false);
  SELECT now(), lower('A');
  SELECT user_function();
  INSERT INTO triggered VALUES (1);
  CREATE TABLE fresh (v int);
  CREATE TRIGGER fresh_tg BEFORE INSERT ON fresh FOR EACH ROW EXECUTE FUNCTION triggered_fn();
  INSERT INTO fresh VALUES (1);
  CALL no_such_procedure();
$$);
-- and so is code a statement runs through an expression: an index's, a
-- new column's default, a CHECK validated now, a USING clause; or that
-- DML runs through a table's defaults, checks and indexes
CREATE FUNCTION user_immutable(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1';
CREATE TABLE coded (v int DEFAULT user_function(), w int);
SELECT statement, rule, message FROM migrate_lint($$
  CREATE INDEX ON triggered (user_immutable(v));
  CREATE INDEX ON triggered (v) WHERE user_immutable(v) > 0;
  CREATE INDEX ON triggered (lower(v::text));
  ALTER TABLE triggered ADD COLUMN d int DEFAULT user_function();
  ALTER TABLE triggered ADD CHECK (user_immutable(v) > 0);
  ALTER TABLE triggered ADD CHECK (user_immutable(v) > 0) NOT VALID;
  ALTER TABLE triggered ALTER COLUMN v TYPE bigint USING user_immutable(v);
  INSERT INTO coded (w) VALUES (1);
  CREATE TABLE fresh (v int DEFAULT user_function(), w int);
  INSERT INTO fresh (w) VALUES (1);
  CREATE TABLE plain (v int DEFAULT 0);
  CREATE INDEX plain_v ON plain (user_immutable(v));
  UPDATE plain SET v = 1;
$$);
DROP TABLE coded;
DROP FUNCTION user_immutable(int);
-- under pg_migrate.lint = error, a deploy role's DO block no longer slips
-- through
SELECT migrate_register('sneaky', $$
  DO $do$ BEGIN EXECUTE 'CREATE INDEX ON big (v)'; END $do$;
$$);
SET pg_migrate.lint = error;
SELECT * FROM migrate_upgrade();
RESET pg_migrate.lint;
SELECT migrate_unregister('sneaky');
-- migrate_validate reviews the pending revisions as the upgrade does: in
-- order, each knowing what the earlier ones did.  A large table renamed to
-- a small one's name in one revision is large when the next indexes it
-- (validate used to review each script alone, and said nothing).
CREATE TABLE public.small (v int);
SELECT migrate_register('swap', 'ALTER TABLE small RENAME TO small_old; ALTER TABLE big RENAME TO small;');
SELECT migrate_register('index_swapped', 'CREATE INDEX ON small (v);');
SELECT revision, problem FROM migrate_validate()
 WHERE revision IN ('swap', 'index_swapped') ORDER BY 1, 2;
SELECT migrate_unregister('index_swapped');
SELECT migrate_unregister('swap');
DROP TABLE public.small;
DROP TABLE triggered;
DROP FUNCTION triggered_fn(), user_function();
DROP TABLE public.big;

DROP FUNCTION hostile_ran();
DROP SCHEMA hostile CASCADE;
DROP TABLE hostile_log;
DROP ROLE regress_hostile;
DROP EXTENSION pg_migrate;
