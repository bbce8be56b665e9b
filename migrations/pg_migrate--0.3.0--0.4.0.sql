/* migrations/pg_migrate--0.3.0--0.4.0.sql */

\echo Use "ALTER EXTENSION pg_migrate UPDATE TO '0.4.0'" to load this file. \quit

--
-- 0.4.0: hardening (hostile review): the library refuses older SQL with an
-- error naming ALTER EXTENSION pg_migrate UPDATE, and the objects below.
--
