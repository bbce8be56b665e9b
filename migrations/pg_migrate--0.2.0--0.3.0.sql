/* migrations/pg_migrate--0.2.0--0.3.0.sql */

\echo Use "ALTER EXTENSION pg_migrate UPDATE TO '0.3.0'" to load this file. \quit

--
-- 0.3.0: observability, security and review of scripts.
--
