--
-- Masking with standard_conforming_strings off, where a backslash escapes
-- in '' literals too, as the session's lexer reads them.  PostgreSQL 19
-- no longer lets it be turned off: there, the SET is refused and the
-- literals are read as the standard says (masking_nonstandard_1.out).
--
CREATE EXTENSION pg_migrate;

SET standard_conforming_strings = off;
-- a backslash escapes the quote: the password is a'b
SELECT migrate_mask(E'PASSWORD \'a\\\'b\' tail');
-- in a connection string inside a '' literal (hostile_masking.sql has the
-- standard forms)
SELECT migrate_mask($q$SELECT dblink_connect('host=h password=\'SEC\\\' RET42\' user=u')$q$);
RESET standard_conforming_strings;

-- the same under the standard reading: the password is a\ and b' follows
SELECT migrate_mask(E'PASSWORD \'a\\\'b\' tail');

DROP EXTENSION pg_migrate;
