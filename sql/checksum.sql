--
-- Checksums are taken over the script's tokens: re-indenting, CRLF line
-- endings, comments and keyword case are not drift; a changed literal,
-- identifier or operator is.
--
CREATE EXTENSION pg_migrate;


-- register one script under a scratch project and read its checksum back
CREATE FUNCTION pg_temp.sum(script text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  result text;
BEGIN
  PERFORM migrate_register('r', script, parents => '{}', force => true, project => 'checksums');
  SELECT checksum INTO result FROM migrate.revision
   WHERE project = 'checksums' AND revision = 'r';
  RETURN result;
END
$$;

CREATE TEMP TABLE variants (name text, script text);
INSERT INTO variants VALUES
  ('original',      E'CREATE TABLE t (id int, note text DEFAULT ''a  b'');\nCREATE INDEX ON t (id);\n'),
  ('reindented',    E'create table t (\n    id   int,\n    note text default ''a  b''\n);\n\n\tcreate index on t(id);'),
  ('crlf',          E'CREATE TABLE t (id int, note text DEFAULT ''a  b'');\r\nCREATE INDEX ON t (id);\r\n'),
  ('comments',      E'-- the table\nCREATE TABLE t (id int, /* key */ note text DEFAULT ''a  b'');\nCREATE INDEX ON t (id); -- done\n'),
  ('dollar quoted', E'CREATE TABLE t (id int, note text DEFAULT $q$a  b$q$);\nCREATE INDEX ON t (id);\n'),
  ('literal',       E'CREATE TABLE t (id int, note text DEFAULT ''a b'');\nCREATE INDEX ON t (id);\n'),
  ('identifier',    E'CREATE TABLE t (id int, notes text DEFAULT ''a  b'');\nCREATE INDEX ON t (id);\n'),
  ('quoted ident',  E'CREATE TABLE "T" (id int, note text DEFAULT ''a  b'');\nCREATE INDEX ON t (id);\n'),
  ('number',        E'CREATE TABLE t (id int, note text DEFAULT ''a  b'');\nCREATE INDEX ON t (id) WITH (fillfactor = 90);\n'),
  ('no semicolon',  E'CREATE TABLE t (id int, note text DEFAULT ''a  b'');\nCREATE INDEX ON t (id)');

SELECT name, pg_temp.sum(script) = (SELECT pg_temp.sum(script) FROM variants WHERE name = 'original')
       AS same_as_original
FROM variants ORDER BY name;

-- a CRLF inside a function body is not drift either
SELECT pg_temp.sum(E'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$\nSELECT 1\n$$;')
     = pg_temp.sum(E'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$\r\nSELECT 1\r\n$$;')
  AS crlf_in_body_same;

-- an empty script and a comment-only script have the same checksum
SELECT pg_temp.sum('') = pg_temp.sum(E'-- nothing yet\n/* really */') AS empty_same;

-- the checksum is SHA-256: 64 hex digits, stable across releases
SELECT pg_temp.sum('SELECT 1');

-- and the same on every PostgreSQL major, for a script with a token of
-- every kind the lexer returns (the lexer's token numbers differ between
-- majors; checksum.c learns them at run time): this value is what 0.4.0
-- computed on PostgreSQL 15, before the numbers were learned
SELECT pg_temp.sum($script$SELECT U&"a" || 'it''s' || U&'\0041' || E'\n' || $q$ x $q$, b'0101', X'1F', 1.50, 42, 9999999999, $1, a::int, a <= b, a >= b, a <> b, a != b, f(p => 1), f(q := 2), 1..2, a ~~ b, a @-@ b, "Mixed", mixed, (x[1:2]);;$script$);

-- drift is found after an applied script is re-registered with force,
-- and a reformatted script is not drift
SELECT migrate_register('0001', E'CREATE TABLE drift_t (a int);', parents => '{}');
SELECT count(*) FROM migrate_upgrade();
SELECT migrate_register('0001', E'create table drift_t\r\n(\r\n  a int -- the column\r\n);');
SELECT * FROM migrate_validate();
SELECT migrate_register('0001', E'CREATE TABLE drift_t (a bigint);', force => true);
SELECT * FROM migrate_validate();

DROP EXTENSION pg_migrate CASCADE;
DROP TABLE drift_t;
