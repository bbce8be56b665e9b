--
-- Hostile masking: passwords in key=value connection strings written with
-- libpq's backslash escapes (libpq's conninfo_parse: a backslash escapes
-- the next byte, quoted or not; a quoted value ends at the first quote no
-- backslash escapes; an unquoted one at the first white space no
-- backslash escapes).  No part of such a password may show, alone, in SQL
-- literals (standard and E''), in messages, errors and the history.  (The
-- server log: t/014_hostile_client.pl.)
--
CREATE EXTENSION pg_migrate;
\set SHOW_CONTEXT always

--
-- migrate_mask, form by form: "RET" is the part that leaked
--
-- an escaped space, unquoted, and an escaped quote, quoted (issue 13)
SELECT migrate_mask($$password=SEC\ RET13$$);
SELECT migrate_mask($$password='SEC\' RET42'$$);
-- an escaped backslash: the quote after it closes the value
SELECT migrate_mask($$password='SEC\\' user=u$$);
SELECT migrate_mask($$password=SEC\\ user=u$$);
-- escaped quotes and backslashes together, and an unquoted value that
-- holds quotes
SELECT migrate_mask($$password='a\\\' RET\'' user=u$$);
SELECT migrate_mask($$password=SEC\'\ RET' user=u$$);
SELECT migrate_mask($$password=\'SEC\ RET' user=u$$);
-- a trailing backslash, quoted (unterminated) and not
SELECT migrate_mask($$host=h password=SEC\$$);
SELECT migrate_mask($$host=h password='SEC\$$);
-- an unterminated quote: the rest of the text is the password
SELECT migrate_mask($$host=h password='SEC RET user=u$$);
-- white space around "=", tabs and newlines escaped or around
SELECT migrate_mask(E'host=h password \t=\n SEC\\\tRET user=u');
-- several keywords: sslpassword too, each value masked, the rest kept
SELECT migrate_mask($$host=h password=SEC\ RET1 sslpassword='SEC\' RET2' user=u password=SEC\\ dbname=d$$);
-- an unquoted password with characters SQL would stop at
SELECT migrate_mask($$password=SEC;RET,RET)RET(RET user=u$$);
-- libpq reads a double quote as a byte; SQL reads a quoted identifier:
-- the longer reading is masked
SELECT migrate_mask($$password="SEC RET" user=u$$);
-- a named argument, and a value that starts like one
SELECT migrate_mask($$SELECT f(password => 'SECRET', x => 1)$$);
SELECT migrate_mask($$password=>SEC\ RET user=u$$);
-- a URI's query parameter: libpq takes it to the next "&", spaces and
-- all (in running text, where the URI ends is not known)
SELECT migrate_mask($$SELECT dblink_connect('postgresql://h/db?password=SEC RET&user=u')$$);
SELECT migrate_mask($$postgresql://h/db?user=u&sslpassword=SEC\ RET$$);
-- already masked: masking again changes nothing
SELECT migrate_mask($$password=**** password='****' password='****$$);

--
-- the same strings as SQL literals: standard, with doubled quotes, and
-- E'' (where each backslash is written twice)
--
SELECT migrate_mask($q$SELECT dblink_connect('host=h password=SEC\ RET13 user=u')$q$);
SELECT migrate_mask($q$SELECT dblink_connect('host=h password=''SEC\'' RET42'' user=u')$q$);
SELECT migrate_mask($q$SELECT dblink_connect(E'host=h password=SEC\\ RET13 user=u')$q$);
SELECT migrate_mask($q$SELECT dblink_connect(E'host=h password=\'SEC\\\' RET42\' user=u')$q$);
SELECT migrate_mask($q$SELECT dblink_connect(E'host=h password=SEC\\\\\\ RET user=u')$q$);
-- (with standard_conforming_strings off: masking_nonstandard.sql)
-- JSON in SQL, where a backslash is written twice: the client's
-- migrate_sync parameter as a log line quotes it
SELECT migrate_mask($q$parameters: $1 = '[{"revision": "r", "up": "SELECT dblink_connect(''host=h password=SEC\\ RET user=u'')"}]'$q$);
-- SQL in SQL: a statement quoted in a log line
SELECT migrate_mask($q$statement: SELECT migrate_register('r', 'SELECT dblink_connect(''password=''''SEC\'''' RET'''''')')$q$);

--
-- random strings: every password made of letters Z, spaces, quotes,
-- backslashes and "=", written as libpq reads it (quoted or not), in a
-- connection string given as is, as a standard literal and as an E''
-- literal.  No Z may be left, and masking again changes nothing.  The
-- pieces are picked by a hash of the row, not random(), whose order of
-- calls follows the plan, which differs between majors.
--
CREATE TEMP TABLE conninfo_fuzz AS
WITH secrets AS (
  SELECT g, 'Z' || string_agg((ARRAY['Z', 'Z', ' ', '''', '\', '\\', '=', E'\t', 'Z'''])
                              [1 + abs(hashint4(g * 16 + k)) % 9], '' ORDER BY k) AS v
  FROM generate_series(1, 3000) g, generate_series(1, 1 + (g % 9)) k
  GROUP BY g
), written AS (
  SELECT g, v,
         CASE WHEN g % 2 = 0
              THEN '''' || replace(replace(v, '\', '\\'), '''', '\''') || ''''
              ELSE regexp_replace(v, '([\\'' \t])', '\\\1', 'g')
         END AS value
  FROM secrets
)
SELECT g, v, c, form,
       CASE form WHEN 'plain' THEN c
                 WHEN 'literal' THEN 'SELECT dblink_connect(''' || replace(c, '''', '''''') || ''')'
                 ELSE 'SELECT dblink_connect(' || quote_literal(c) || ')'
       END AS s
FROM written,
     LATERAL (SELECT 'host=h ' || CASE WHEN g % 3 = 0 THEN 'sslpassword' ELSE 'password' END
                     || '=' || value || ' user=u' AS c) AS ci,
     unnest(ARRAY['plain', 'literal', 'escaped']) AS form;
-- the connection strings are what libpq reads: quote_literal wrote E''
-- literals for every one with a backslash
SELECT count(*) AS samples,
       count(*) FILTER (WHERE s LIKE '%E''%') AS e_literals
FROM conninfo_fuzz;
SELECT form,
       count(*) FILTER (WHERE migrate_mask(s) LIKE '%Z%') AS leaked,
       count(*) FILTER (WHERE migrate_mask(migrate_mask(s)) <> migrate_mask(s)) AS not_idempotent,
       count(*) FILTER (WHERE migrate_mask(s) NOT LIKE '%host=h %password=%') AS mangled_before
FROM conninfo_fuzz GROUP BY form ORDER BY form;
-- the unquoted ones as plain text are masked exactly: the value, no more
SELECT count(*) FILTER (WHERE migrate_mask(s) !~ '^host=h (ssl)?password=\*\*\*\* user=u$') AS inexact
FROM conninfo_fuzz WHERE form = 'plain' AND g % 2 = 1;
DROP TABLE conninfo_fuzz;

--
-- random text from connection string fragments with backslashes, in SQL
-- literals and JSON: no crash, masking twice changes nothing more, and a
-- text with neither "password" nor "://" is left as it is
--
SELECT setseed(0.75);
CREATE TEMP TABLE backslash_fuzz AS
SELECT g, string_agg((ARRAY['password=', 'sslpassword =', 'password=>', '\', '\\', '''',
                            '"', ' ', E'\t', 'E''', '$$', '$q$', 'x', 'Z', '=', '{"a": "',
                            '"}', 'host=h ', '\''', '''''', 'postgres://u:p@h'
                           ])[1 + floor(random() * 21)::int], '') AS s
FROM generate_series(1, 5000) g, generate_series(1, 12) k
GROUP BY g;
SELECT count(*) AS samples,
       count(*) FILTER (WHERE migrate_mask(s) IS NULL) AS null_results,
       count(*) FILTER (WHERE migrate_mask(migrate_mask(s)) <> migrate_mask(s)) AS not_idempotent,
       count(*) FILTER (WHERE s !~* 'password|://' AND migrate_mask(s) <> s) AS changed_without_hint,
       count(*) FILTER (WHERE migrate_mask(s) <> s) > 500 AS many_masked
FROM backslash_fuzz;
DROP TABLE backslash_fuzz;

--
-- a script's messages, its error and the history
--
SELECT migrate_register('0001_conninfo', $up$
  DO $do$
  BEGIN
    RAISE NOTICE 'connecting with %', 'host=h password=SEC\ RETN1 user=u';
    RAISE EXCEPTION 'could not connect with %', $$host=h password='SEC\' RETE1' user=u$$
      USING DETAIL = 'password=SEC\\ user=u sslpassword=SEC\ RETD1',
            HINT = $$Check password='SEC\\\' RETH1'.$$;
  END
  $do$;
$up$);
SELECT * FROM migrate_upgrade();
SELECT event, revision, sqlstate, message, detail
FROM migrate_history() WHERE event = 'upgrade failed';
SELECT count(*) AS rows_with_a_secret
FROM migrate_history() h WHERE h::text LIKE '%RET%';
SELECT migrate_unregister('0001_conninfo');

DROP EXTENSION pg_migrate CASCADE;
