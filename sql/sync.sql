--
-- migrate_sync and migrate_sources: registering what a client read from a
-- folder, in one call, and telling it what is already registered as it is.
-- (The server-side folder, pg_migrate.directory, is tested in
-- t/005_directory.pl: it needs files the server can read.)
--
CREATE EXTENSION pg_migrate;
\set SHOW_CONTEXT always

-- three revisions, as a client sends them
SELECT * FROM migrate_sync($$[
  {"revision": "0001_users", "parents": [], "description": "users",
   "up": "CREATE TABLE sync_users (id int);", "down": "DROP TABLE sync_users;"},
  {"revision": "0002_index", "parents": ["0001_users"],
   "up": "CREATE INDEX CONCURRENTLY sync_users_id ON sync_users (id);",
   "down": "DROP INDEX sync_users_id;", "nontransactional": true},
  {"revision": "0003_more", "parents": ["0002_index"], "up": "ALTER TABLE sync_users ADD c int;",
   "down": null, "description": null}
]$$);
SELECT revision, parents, description, nontransactional, down_script IS NOT NULL AS has_down,
       length(source_hash) AS hash_length
  FROM migrate.revision ORDER BY revision COLLATE "C";
-- the source hashes, as a client compares them with its own
SELECT revision, source_hash = (SELECT source_hash FROM migrate.revision r
                                 WHERE r.revision = s.revision) AS same
  FROM migrate_sources() s;
-- the same again changes nothing; one edit updates one
SELECT * FROM migrate_sync($$[
  {"revision": "0001_users", "parents": [], "description": "users",
   "up": "CREATE TABLE sync_users (id int);", "down": "DROP TABLE sync_users;"},
  {"revision": "0002_index", "parents": ["0001_users"],
   "up": "CREATE INDEX CONCURRENTLY sync_users_id ON sync_users (id);",
   "down": "DROP INDEX sync_users_id;", "nontransactional": true},
  {"revision": "0003_more", "parents": ["0002_index"], "up": "ALTER TABLE sync_users ADD c int;"}
]$$);
CREATE TEMP TABLE hashes AS SELECT * FROM migrate_sources();
SELECT * FROM migrate_sync($$[
  {"revision": "0003_more", "parents": ["0002_index"], "up": "ALTER TABLE sync_users ADD c bigint;"}
]$$);
SELECT s.revision, s.source_hash = h.source_hash AS same_hash
  FROM migrate_sources() s JOIN hashes h USING (revision) ORDER BY 1;
-- registering through migrate_register keeps the same hash for the same content
SELECT migrate_register('0003_more', 'ALTER TABLE sync_users ADD c bigint;', parents => '{0002_index}');
SELECT source_hash = (SELECT source_hash FROM migrate_sources() WHERE revision = '0003_more') AS same
  FROM migrate.revision WHERE revision = '0003_more';

-- a revision marked non-transactional is refused by migrate_upgrade before
-- anything runs, and reported by migrate_validate
SELECT * FROM migrate_upgrade();
SELECT * FROM migrate_validate();
SELECT count(*) AS applied FROM migrate.applied;
-- without the flag (and the concurrent build) it applies
SELECT * FROM migrate_sync($$[
  {"revision": "0002_index", "parents": ["0001_users"],
   "up": "CREATE INDEX sync_users_id ON sync_users (id);", "down": "DROP INDEX sync_users_id;"}
]$$);
SELECT revision, action FROM migrate_upgrade();

-- an edited file of an applied revision is recorded as drift, and the next
-- upgrade stops on it; the parents of an applied revision stay as they are
SELECT * FROM migrate_sync($$[
  {"revision": "0001_users", "parents": [], "description": "users",
   "up": "CREATE TABLE sync_users (id bigint);", "down": "DROP TABLE sync_users;"},
  {"revision": "0002b_hotfix", "parents": ["0001_users"], "up": "SELECT 1"},
  {"revision": "0002_index", "parents": ["0002b_hotfix"],
   "up": "CREATE INDEX sync_users_id ON sync_users (id);", "down": "DROP INDEX sync_users_id;"}
]$$);
SELECT revision, parents FROM migrate.revision ORDER BY revision COLLATE "C";
SELECT severity, revision, problem FROM migrate_validate();
SELECT * FROM migrate_upgrade('heads');
SELECT event, revision, detail FROM migrate_history() WHERE event = 'update' ORDER BY id;

-- bad input changes nothing
CREATE TEMP TABLE before AS SELECT revision, checksum FROM migrate.revision;
SELECT * FROM migrate_sync(NULL);
SELECT * FROM migrate_sync('{}');
SELECT * FROM migrate_sync('[1]');
SELECT * FROM migrate_sync('[{"revision": "x", "parents": [], "up": "", "colour": "red"}]');
SELECT * FROM migrate_sync('[{"parents": [], "up": ""}]');
SELECT * FROM migrate_sync('[{"revision": "x", "parents": []}]');
SELECT * FROM migrate_sync('[{"revision": "x", "up": ""}]');
SELECT * FROM migrate_sync('[{"revision": "x", "parents": "0001_users", "up": ""}]');
SELECT * FROM migrate_sync('[{"revision": "x", "parents": [], "up": "", "nontransactional": "yes"}]');
SELECT * FROM migrate_sync('[{"revision": "bad id", "parents": [], "up": ""}]');
-- one bad element refuses the whole call, the good ones before it included
SELECT * FROM migrate_sync($$[
  {"revision": "0009_fine", "parents": ["0003_more"], "up": "SELECT 9"},
  {"revision": "0010_unlexable", "parents": ["0009_fine"], "up": "SELECT 'open"}
]$$);
SELECT (SELECT count(*) FROM before) = (SELECT count(*) FROM migrate.revision) AS nothing_added,
       NOT EXISTS (SELECT FROM before b JOIN migrate.revision r USING (revision)
                    WHERE b.checksum <> r.checksum) AS nothing_changed;
-- an empty array is fine
SELECT * FROM migrate_sync('[]');
-- a merge keeps its parents, in order; a revision given twice is refused
SELECT * FROM migrate_sync('[{"revision": "0004_merge", "parents": ["0003_more", "0002b_hotfix"], "up": "SELECT 4"}]');
SELECT parents FROM migrate.revision WHERE revision = '0004_merge';
SELECT * FROM migrate_sync('[{"revision": "0005", "parents": [], "up": ""}, {"revision": "0005", "parents": [], "up": ""}]');

-- the folder a client synced in full: kept by migrate_sync(folder => ...),
-- answered by migrate_synced_folder(), forgotten by any later change to the
-- project's registered revisions, and never kept when a revision drifted
SET pg_migrate.project = 'fold';
SELECT * FROM migrate_synced_folder();
SELECT * FROM migrate_sync($$[
  {"revision": "f1", "parents": [], "up": "CREATE TABLE fold_t (id int);"},
  {"revision": "f2", "parents": ["f1"], "up": "ALTER TABLE fold_t ADD c int;"}
]$$, folder => 'pg_migrate k1');
SELECT * FROM migrate_synced_folder();
-- applying revisions is no change to the registry
SELECT revision, action FROM migrate_upgrade();
SELECT folder FROM migrate_synced_folder();
-- the other projects have their own (none here)
SELECT * FROM migrate_synced_folder(project => 'default');
-- a registration, an unregistration, an edit by hand each forget it
SELECT migrate_register('f3', 'SELECT 3', parents => '{f2}');
SELECT * FROM migrate_synced_folder();
SELECT * FROM migrate_sync('[]', folder => 'pg_migrate k2');
SELECT folder FROM migrate_synced_folder();
SELECT migrate_unregister('f3');
SELECT folder FROM migrate_synced_folder();
SELECT * FROM migrate_sync('[]', folder => 'pg_migrate k3');
UPDATE migrate.revision SET description = 'edited by hand' WHERE revision = 'f2';
SELECT folder FROM migrate_synced_folder();
-- a drifted revision: the registry does not hold the folder; nothing kept
SELECT * FROM migrate_sync('[]', folder => 'pg_migrate k4');
SELECT * FROM migrate_sync('[{"revision": "f1", "parents": [], "up": "CREATE TABLE fold_t (id bigint);"}]',
                           folder => 'pg_migrate k5');
SELECT folder FROM migrate_synced_folder();
-- bad folder descriptions are refused, and change nothing
SELECT * FROM migrate_sync('[]', folder => 'pg_migrate k6');
SELECT * FROM migrate_sync('[]', folder => '');
SELECT * FROM migrate_sync('[]', folder => repeat('x', 1025));
SELECT folder FROM migrate_synced_folder();
RESET pg_migrate.project;
DROP TABLE fold_t;

DROP EXTENSION pg_migrate;
DROP TABLE sync_users;
