--
-- migrate_register and migrate_unregister: ids, parents, results, and bad
-- input, each refusal changing nothing.
--
CREATE EXTENSION pg_migrate;
\set SHOW_CONTEXT always

-- what the registry holds; compared after every refusal
CREATE TEMP VIEW registry AS
  SELECT revision, parents, description, down_script IS NOT NULL AS has_down
  FROM migrate.revision WHERE project = 'default' ORDER BY revision;
CREATE TEMP VIEW counts AS
  SELECT (SELECT count(*) FROM migrate.revision) AS revisions,
         (SELECT count(*) FROM migrate.applied) AS applied,
         (SELECT count(*) FROM migrate.history) AS history;

-- a linear history: parents NULL appends to the single head
SELECT migrate_register('0001_users', 'CREATE TABLE users (id bigint PRIMARY KEY);',
                        'DROP TABLE users;', description => 'users');
SELECT migrate_register('0002_predictions', 'CREATE TABLE predictions (id bigint);',
                        'DROP TABLE predictions;');
SELECT migrate_register('0003_index', 'CREATE INDEX ON predictions (id);');
SELECT * FROM registry;

-- the same again is unchanged; other content is updated
SELECT migrate_register('0003_index', 'CREATE INDEX ON predictions (id);');
SELECT migrate_register('0003_index', 'CREATE INDEX ON predictions (id);',
                        description => 'index predictions');
-- re-registering keeps the parents when none are given
SELECT parents FROM registry WHERE revision = '0003_index';

-- parents '{}' makes a root; explicit parents are kept as given
SELECT migrate_register('1000_other_root', 'SELECT 1', parents => '{}');
SELECT migrate_register('1001_merge', '', parents => ARRAY['0003_index', '1000_other_root']);
SELECT * FROM registry;

-- with two heads, appending without parents is refused
SELECT migrate_register('x_two_heads', '', parents => '{0001_users}');
SELECT migrate_register('x_where', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_unregister('x_two_heads');

-- the longest id is fine
SELECT migrate_register(repeat('a', 128), 'SELECT 1', parents => '{}');
SELECT migrate_unregister(repeat('a', 128));

-- invalid revision ids: each refused, nothing changed
SELECT * FROM counts;
SELECT migrate_register('', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register(repeat('a', 129), 'SELECT 1');
SELECT migrate_register('has space', 'SELECT 1');
SELECT migrate_register('quo''te', 'SELECT 1');
SELECT migrate_register('"dq"', 'SELECT 1');
SELECT migrate_register('''; DROP TABLE x; --', 'SELECT 1');
SELECT migrate_register('naïve', 'SELECT 1');
SELECT migrate_register(NULL, 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('head', 'SELECT 1');
SELECT migrate_register('base', 'SELECT 1');
SELECT migrate_register('-1', 'SELECT 1');
SELECT migrate_register('x_null_up', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM counts;

-- bad parents
SELECT migrate_register('x_self', 'SELECT 1', parents => '{x_self}');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('x_twice', 'SELECT 1', parents => '{0001_users,0001_users}');
SELECT migrate_register('x_null_parent', 'SELECT 1', parents => ARRAY[NULL]::text[]);
SELECT migrate_register('x_bad_parent', 'SELECT 1', parents => '{"no good"}');
SELECT migrate_register('x_2d', 'SELECT 1', parents => '{{a},{b}}');
-- a script that does not even lex is refused at registration, with its line
SELECT migrate_register('x_unterminated', E'SELECT 1;\nSELECT ''oops;');
\echo :LAST_ERROR_SQLSTATE
-- a bad project name
SELECT migrate_register('x_project', 'SELECT 1', project => 'no way');
\echo :LAST_ERROR_SQLSTATE
SET pg_migrate.project = 'bad name';
SELECT * FROM counts;

-- a script with a syntax error registers (validation and upgrade report it)
SELECT migrate_register('x_syntax', 'CREAT TABLE t ();', parents => '{}');

-- unregister: unknown, with children, fine
SELECT migrate_unregister('nope');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_unregister('0003_index');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_unregister('x_syntax');
SELECT migrate_unregister(NULL);

-- an applied revision: same content is unchanged, other content refused,
-- description and down script may change, force records drift
SELECT count(*) FROM migrate_upgrade('0002_predictions');
SELECT migrate_register('0001_users', 'CREATE TABLE users (id bigint PRIMARY KEY);',
                        'DROP TABLE users;', description => 'users');
SELECT migrate_register('0001_users', 'CREATE TABLE users (id int PRIMARY KEY);',
                        'DROP TABLE users;', description => 'users');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate_register('0001_users', 'CREATE TABLE users (id bigint PRIMARY KEY);',
                        parents => '{1000_other_root}');
SELECT migrate_register('0001_users', 'CREATE TABLE users (id bigint PRIMARY KEY);',
                        'DROP TABLE IF EXISTS users;', description => 'the users table');
SELECT migrate_unregister('0002_predictions');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM counts;
SELECT migrate_register('0001_users', 'CREATE TABLE users (id int PRIMARY KEY);',
                        force => true);
SELECT severity, revision, problem FROM migrate_validate();

-- projects are independent
SELECT migrate_register('0001_users', 'SELECT 1', project => 'billing');
SELECT project, revision, parents FROM migrate.revision WHERE project = 'billing';
SET pg_migrate.project = 'billing';
SELECT revision FROM migrate_heads();
RESET pg_migrate.project;

SELECT event, left(revision, 20) AS revision, previous_checksum IS NOT NULL AS had_checksum, detail
FROM migrate_history() ORDER BY id;

DROP EXTENSION pg_migrate CASCADE;
DROP TABLE users, predictions;
