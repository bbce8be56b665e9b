--
-- Secrets never leak: passwords in CREATE/ALTER ROLE ... PASSWORD, in
-- OPTIONS (password ...) of user mappings and servers, and in connection
-- URIs and strings are shown as **** in NOTICEs, in errors (message,
-- detail, hint, context, internal query), in what a caller's EXCEPTION
-- block sees and in migrate_validate; the stored script keeps them and
-- runs with them.  (The server log: t/007_secrets.pl.)
--
-- Every error field that psql can show is shown: SHOW_CONTEXT always, and
-- VERBOSITY default, which prints DETAIL, HINT, QUERY and CONTEXT (verbose
-- would add only the SQLSTATE and the C source location of each message,
-- which changes with every server release).
--
CREATE EXTENSION pg_migrate;
\set SHOW_CONTEXT always

-- a wrapper for foreign servers whose options nobody checks
CREATE FOREIGN DATA WRAPPER regress_mask_fdw;

--
-- migrate_mask: what is masked, kind by kind
--
SELECT migrate_mask($$CREATE ROLE regress_a LOGIN PASSWORD 'secret1'$$);
SELECT migrate_mask($$CREATE USER regress_a WITH ENCRYPTED PASSWORD E'sec\'ret' VALID UNTIL 'infinity'$$);
SELECT migrate_mask($$ALTER ROLE regress_a PASSWORD $p$dollar$p$; ALTER USER regress_a PASSWORD NULL$$);
SELECT migrate_mask($$CREATE USER MAPPING FOR regress_a SERVER s OPTIONS (user 'u', password 'secret2')$$);
SELECT migrate_mask($$ALTER USER MAPPING FOR regress_a SERVER s OPTIONS (SET password 'x1', DROP "Password", ADD sslpassword 'x2')$$);
SELECT migrate_mask($$CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (host 'h', "password" 'x3')$$);
SELECT migrate_mask($$ALTER SERVER s OPTIONS (ADD passfile '/p', SET password 'x4')$$);
SELECT migrate_mask($$SELECT dblink_connect('postgres://u:secret3@db.example/app?sslmode=require')$$);
SELECT migrate_mask($$SELECT dblink_connect('host=h user=u password=secret4 dbname=d'), 'password = ''se cret'' port=5432'$$);
-- in messages, quoted or not
SELECT migrate_mask('could not connect to mysql://admin:hunter2@10.0.0.1:3306/x, giving up');
SELECT migrate_mask('SQL statement "CREATE ROLE regress_a PASSWORD ''secret5''"');
-- SQL in SQL, and JSON in SQL (how log lines quote statements and parameters)
SELECT migrate_mask($$statement: SELECT migrate_register('r1', 'CREATE ROLE regress_a PASSWORD ''secret6''')$$);
SELECT migrate_mask($$parameters: $1 = '[{"revision": "r1", "up": "CREATE ROLE \"A\" PASSWORD ''secret7'';\nSELECT 1", "password": "secret8"}]'$$);
SELECT migrate_mask($x$DO $d$ BEGIN EXECUTE 'CREATE ROLE regress_a PASSWORD ''secret9'''; END $d$$x$);
-- the parser finds the password, whatever comments sit between
SELECT migrate_mask($$CREATE ROLE regress_a /* note */ PASSWORD -- the password:
  'secret10'$$);
-- a statement commented out, and a URI in a comment
SELECT migrate_mask(E'-- CREATE ROLE regress_a PASSWORD \'old-secret\';\nSELECT 1 /* from postgres://u:secret11@h/db */');
-- the parser runs silently: no NOTICE for a long identifier, no WARNING
-- for GLOBAL
SELECT migrate_mask('CREATE GLOBAL TEMP TABLE "' || repeat('x', 70) || '" (a int); CREATE ROLE r PASSWORD ''s''');
-- a password written without quotes in a role statement (a syntax error
-- whose statement is still logged)
SELECT migrate_mask($$ALTER USER regress_a PASSWORD s3cr3t-x VALID UNTIL 'infinity'; ALTER ROLE regress_a PASSWORD NULL$$);
-- not secrets: no password, a NULL password, a column named password
SELECT migrate_mask($$postgres://u@h/db postgresql://h:5432/db password$$);
SELECT migrate_mask($$CREATE TABLE accounts (password text DEFAULT 'x', passwd text); ALTER TABLE accounts ADD password2 text$$);

--
-- odd inputs never crash and come back whole when there is no secret
--
SELECT migrate_mask('');
SELECT migrate_mask('''');
SELECT migrate_mask('PASSWORD');
SELECT migrate_mask('password=');
SELECT migrate_mask('://');
SELECT migrate_mask('a://:@');
SELECT migrate_mask('x://u:@h');
SELECT migrate_mask('PASSWORD ''');
SELECT migrate_mask('PASSWORD E''\');
SELECT migrate_mask('PASSWORD E''ab\''cd''ef');
SELECT migrate_mask('PASSWORD $');
SELECT migrate_mask('PASSWORD $$');
SELECT migrate_mask('PASSWORD $a$never closed');
SELECT migrate_mask('PASSWORD $a$x$b$y$a$ tail');
SELECT migrate_mask('PASSWORD $1');
SELECT migrate_mask('PASSWORD "');
SELECT migrate_mask('PASSWORD /* unterminated');
SELECT migrate_mask('/* a /* nested */ comment */ PASSWORD ''s1''');
SELECT migrate_mask('-- comment PASSWORD ''s2''');
SELECT migrate_mask('PASSWORD U&''s3'' U&"password" ''s4''');
SELECT migrate_mask('CREATE ROLE "rôle" PASSWORD ''pässwörd'' -- naïve ✓');
SELECT migrate_mask('password:''s5'' password=''s6'' password=s7;password=s8');
SELECT migrate_mask(E'PASSWORD\t\n''s9''');
SELECT migrate_mask('PASSWORD ''s10''''s11''');
SELECT migrate_mask('PASSWORD ''''''''');
SELECT migrate_mask(repeat('(', 50) || 'PASSWORD ''s12''' || repeat(')', 50));
SELECT migrate_mask('''''''PASSWORD ''''''''s13'''''''' ''''''');
-- (with standard_conforming_strings off: masking_nonstandard.sql)
SELECT migrate_mask(E'PASSWORD \'a\\\'b\' tail');
-- random text from SQL fragments: no crash, masking twice changes nothing
-- more, and no text containing neither "password" nor "://" is changed
SELECT setseed(0.25);
CREATE TEMP TABLE fuzz AS
SELECT g, string_agg((ARRAY['PASSWORD ', 'password', '=', ':', '''', '''s''', '"',
                            'E''', '\', '$$', '$a$', '--', '/*', '*/', 'postgres://',
                            'u:p@h', '@', ' ', E'\n', 'CREATE ROLE r ', 'ALTER USER ',
                            'OPTIONS (', ')', ',', 'é', 'NULL', ';', 'x', 'U&'
                           ])[1 + floor(random() * 29)::int], '') AS s
FROM generate_series(1, 5000) g, generate_series(1, 16) k
GROUP BY g;
SELECT count(*) AS samples,
       count(*) FILTER (WHERE migrate_mask(s) IS NULL) AS null_results,
       count(*) FILTER (WHERE migrate_mask(migrate_mask(s)) <> migrate_mask(s)) AS not_idempotent,
       count(*) FILTER (WHERE s !~* 'password|://' AND migrate_mask(s) <> s) AS changed_without_hint,
       count(*) FILTER (WHERE migrate_mask(s) <> s) > 500 AS many_masked
FROM fuzz;
DROP TABLE fuzz;

--
-- scripts with secrets, as a migration runs them
--
CREATE ROLE regress_mask_exists;
SELECT migrate_register('0001_secrets', $$
  CREATE ROLE regress_mask_login LOGIN PASSWORD 'secret-role-1';
  ALTER ROLE regress_mask_login PASSWORD 'secret-role-2';
  CREATE SERVER regress_mask_srv FOREIGN DATA WRAPPER regress_mask_fdw
    OPTIONS (host 'db.example', password 'secret-server-1');
  CREATE USER MAPPING FOR regress_mask_login SERVER regress_mask_srv
    OPTIONS (user 'app', password 'secret-mapping-1');
  -- a utility statement's own NOTICE
  CREATE USER MAPPING IF NOT EXISTS FOR regress_mask_login SERVER regress_mask_srv
    OPTIONS (password 'secret-mapping-2');
  DO $do$
  BEGIN
    RAISE NOTICE 'replicating from %', 'postgres://repl:secret-uri-1@primary.example/app';
    RAISE INFO 'conninfo: %', 'host=primary password=secret-conninfo-1 user=repl';
    RAISE WARNING 'server % has password %', 'regress_mask_srv', 'x'
      USING DETAIL = 'password=secret-conninfo-2',
            HINT = 'Connect with postgresql://admin:secret-uri-2@primary.example.';
    -- a NOTICE whose context quotes the statement that has the password
    EXECUTE 'CREATE USER MAPPING IF NOT EXISTS FOR regress_mask_login SERVER regress_mask_srv OPTIONS (password ''secret-mapping-3'')';
  END
  $do$;
$$);
SELECT revision, action, statements FROM migrate_upgrade();
-- the masking of messages ended with the migration
SHOW log_min_messages;

-- the stored script is unchanged, and it ran with the real secrets
SELECT position('secret-role-1' IN up_script) > 0 AS role_password_kept,
       position('secret-mapping-1' IN up_script) > 0 AS mapping_password_kept
FROM migrate.revision WHERE revision = '0001_secrets';
SELECT rolpassword LIKE 'SCRAM-SHA-256$%' AS has_password
FROM pg_authid WHERE rolname = 'regress_mask_login';
SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'regress_mask_srv';
SELECT umoptions FROM pg_user_mappings WHERE srvname = 'regress_mask_srv';

--
-- errors raised by the very statement that holds the password
--
-- the role exists
SELECT migrate_register('0002_role_exists',
  $$CREATE ROLE regress_mask_exists PASSWORD 'secret-e1'$$);
SELECT * FROM migrate_upgrade();
SELECT migrate_unregister('0002_role_exists');
-- the server does not exist
SELECT migrate_register('0002_no_server',
  $$CREATE USER MAPPING FOR regress_mask_exists SERVER regress_no_such_server OPTIONS (password 'secret-e2')$$);
SELECT * FROM migrate_upgrade();
SELECT migrate_unregister('0002_no_server');
-- a syntax error in a script with passwords: the password is quoted bare
-- by "at or near", and the next statement's password is in the script
SELECT migrate_register('0002_syntax', $$
  CREATE ROLE regress_mask_syntax PASSWORD secret-e3;
  CREATE ROLE regress_mask_other PASSWORD 'secret-e4';
$$);
SELECT * FROM migrate_upgrade();
SELECT severity, revision, problem, detail FROM migrate_validate();
SELECT migrate_unregister('0002_syntax');
-- an unknown role option next to the password: an error with a position
SELECT migrate_register('0002_option', $$
  CREATE ROLE regress_mask_option PASSWORD 'secret-e5' SUPERDUPER;
$$);
SELECT * FROM migrate_upgrade();
SELECT migrate_unregister('0002_option');
-- an unterminated literal: the lexer quotes the rest of the script
SELECT migrate_register('0002_unterminated', $$
  ALTER ROLE regress_mask_exists PASSWORD 'secret-e6
  SELECT 1;$$);
-- an error in dynamic SQL: the internal query holds the password, and the
-- cursor still points at the offending word
SELECT migrate_register('0002_dynamic', $$
  DO $do$
  BEGIN
    EXECUTE 'CREATE ROLE regress_mask_dyn PASSWORD ''secret-e7'' NOSUCHOPTION';
  END
  $do$;
$$);
SELECT * FROM migrate_upgrade();
SELECT migrate_unregister('0002_dynamic');
-- dynamic SQL that fails without a position: the context quotes it
SELECT migrate_register('0002_dynamic_context', $$
  DO $do$
  BEGIN
    EXECUTE 'CREATE ROLE regress_mask_exists PASSWORD ''secret-e8''';
  END
  $do$;
$$);
SELECT * FROM migrate_upgrade();
SELECT migrate_unregister('0002_dynamic_context');
-- a statement with a URI fails with a position in it
SELECT migrate_register('0002_position', $$
  SELECT 'postgres://u:secret-e9@h/db' AS uri, no_such_column FROM pg_class;
$$);
SELECT * FROM migrate_upgrade();
SELECT migrate_unregister('0002_position');
-- the script raises an error quoting secrets in every field
SELECT migrate_register('0002_raise', $$
  DO $do$
  BEGIN
    RAISE EXCEPTION 'cannot reach %', 'postgres://u:secret-e10@h/db'
      USING DETAIL = 'password=secret-e11', HINT = 'Try postgresql://admin:secret-e12@h.';
  END
  $do$;
$$);
SELECT * FROM migrate_upgrade();
-- a caller's EXCEPTION block sees the masked error too
DO $$
DECLARE
  m text; d text; h text; c text;
BEGIN
  PERFORM migrate_upgrade();
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL,
                          h = PG_EXCEPTION_HINT, c = PG_EXCEPTION_CONTEXT;
  RAISE NOTICE E'message: %\ndetail: %\nhint: %\ncontext: %', m, d, h, c;
  RAISE NOTICE 'any secret left: %', concat(m, d, h, c) LIKE '%secret-%';
END
$$;
SELECT migrate_unregister('0002_raise');
-- a psql meta-command quoting a URI
SELECT migrate_register('0002_meta', E'SELECT 1;\n\\connect postgres://u:secret-e13@h/db\n');
SELECT * FROM migrate_upgrade();
SELECT migrate_unregister('0002_meta');

-- a down script fails quoting a secret
SELECT migrate_register('0004_down', 'SELECT 1',
  $d$DO $do$ BEGIN RAISE EXCEPTION 'down via %', 'postgres://u:secret-down-1@h/db'; END $do$$d$);
SELECT revision, action FROM migrate_upgrade();
SELECT * FROM migrate_downgrade('0001_secrets');

--
-- pg_stat_activity shows the caller's statement masked once a pg_migrate
-- function has started, and after it, while the session is idle
--
DO $$
DECLARE
  q text;
BEGIN
  PERFORM migrate_register('0003_activity', 'ALTER ROLE regress_mask_exists PASSWORD ''secret-act-1''');
  SELECT query INTO q FROM pg_stat_activity WHERE pid = pg_backend_pid();
  RAISE NOTICE 'pg_stat_activity: %', regexp_replace(q, '\s+', ' ', 'g');
END
$$;
SELECT migrate_unregister('0003_activity');

--
-- history rows: each failed upgrade left a row with the error's message
-- and detail, masked; the others hold no script text
--
SELECT event, revision, sqlstate, message, detail, statement, line
FROM migrate_history() ORDER BY id;
-- migrate_status returns no text from scripts or errors
SELECT project, applied_heads, registry_heads, applied, pending, drifted, last_revision
FROM migrate_status();
SELECT count(*) AS rows_with_a_secret
FROM migrate_history() h WHERE h::text LIKE '%secret-%';

DROP EXTENSION pg_migrate CASCADE;
DROP USER MAPPING FOR regress_mask_login SERVER regress_mask_srv;
DROP SERVER regress_mask_srv;
DROP FOREIGN DATA WRAPPER regress_mask_fdw;
DROP ROLE regress_mask_login, regress_mask_exists;
