-- bench/graph.sql: the graph benchmark's SQL, loaded by bench/graph.sh
-- (as the superuser) into each of its databases, after CREATE EXTENSION
-- pg_migrate.  Schema "bench" is the benchmark's own; nothing of it is
-- pg_migrate's.

CREATE SCHEMA bench;

-- The generated graph, one row a revision, filled by bench.generate.
CREATE TABLE bench.graph_rows (
    i          integer PRIMARY KEY,
    revision   text NOT NULL,
    parents    text[] NOT NULL,
    up         text NOT NULL,
    statements integer NOT NULL
);

-- bench.generate(n): fill bench.graph_rows with n revisions, n a multiple
-- of 50; returns n.
--
-- Revision i is "r" and i in six digits (r000001).  The history comes in
-- blocks of 50: positions 1..20 of a block are a trunk, each the child of
-- the revision before (the first block's first revision is the root, every
-- other block's first is the child of the block before's merge); at
-- position 20 it branches: two branches, positions 21..35 and 36..49, or
-- in every third block three, 21..30, 31..40 and 41..49, each starting
-- with a child of position 20 and going on linearly; position 50 merges
-- them, with the branches' last revisions as its parents, in order.  So
-- every block has one branch point and one merge, and the graph one root
-- and one head.
--
-- Up scripts are bench/gen.sh's (bench/upgrade.sh's workload): revision i
-- creates table t_i with four columns (the primary key an index) and an
-- index on name, and every tenth one also adds a column to t_(i/2), which
-- is always one of its ancestors.  statements is how many statements the
-- script has, as an upgrade counts them.
CREATE FUNCTION bench.generate(n integer) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    IF n < 50 OR n % 50 <> 0 THEN
        RAISE EXCEPTION 'n must be a positive multiple of 50, not %', n;
    END IF;
    INSERT INTO bench.graph_rows (i, revision, parents, up, statements)
    WITH pos AS (
        SELECT s AS i, (s - 1) / 50 * 50 AS base, (s - 1) % 50 + 1 AS p,
               CASE WHEN (s - 1) / 50 % 3 = 2 THEN 3 ELSE 2 END AS width
          FROM generate_series(1, n) AS s
    ), parent_numbers AS (
        SELECT i, CASE
            WHEN i = 1 THEN '{}'::integer[]
            WHEN p = 50 AND width = 2 THEN ARRAY[base + 35, base + 49]
            WHEN p = 50 THEN ARRAY[base + 30, base + 40, base + 49]
            WHEN width = 2 AND p IN (21, 36) THEN ARRAY[base + 20]
            WHEN width = 3 AND p IN (21, 31, 41) THEN ARRAY[base + 20]
            ELSE ARRAY[i - 1]
        END AS parents
          FROM pos
    )
    SELECT i, 'r' || lpad(i::text, 6, '0'),
           ARRAY(SELECT 'r' || lpad(x::text, 6, '0') FROM unnest(parents) AS x),
           -- one escape string (E''), continued over several lines
           format(E'CREATE TABLE t_%1$s (\n'
                  '    id bigint PRIMARY KEY,\n'
                  '    name text NOT NULL,\n'
                  '    amount numeric(12,2) NOT NULL DEFAULT 0,\n'
                  '    created_at timestamptz NOT NULL DEFAULT now()\n'
                  ');\n'
                  'CREATE INDEX t_%1$s_name_idx ON t_%1$s (name);\n',
                  lpad(i::text, 6, '0'))
           || CASE WHEN i % 10 = 0
                   THEN format(E'ALTER TABLE t_%s ADD COLUMN extra_%s integer;\n',
                               lpad((i / 2)::text, 6, '0'), lpad(i::text, 6, '0'))
                   ELSE '' END,
           CASE WHEN i % 10 = 0 THEN 3 ELSE 2 END
      FROM parent_numbers;
    RETURN n;
END
$$;

-- bench.register(): register every generated revision through
-- migrate_register, in order, parents given; returns how many it added.
CREATE FUNCTION bench.register() RETURNS bigint
LANGUAGE sql AS $$
    SELECT count(*) FILTER (WHERE r.result = 'added')
      FROM (SELECT * FROM bench.graph_rows ORDER BY i) AS g,
           LATERAL migrate_register(g.revision, g.up, parents => g.parents) AS r(result)
$$;

-- bench.apply_all(): mark every registered revision applied, writing the
-- rows a real migrate_upgrade('head') of all of them writes (src/catalog.c,
-- MGQ_INSERT_APPLIED and MGQ_INSERT_HISTORY): per revision an applied row
-- with the checksum the registry holds (an upgrade records exactly that
-- one), the script's statement count and one attempt, and an "upgrade"
-- history row.  Nothing is run: the tables the scripts create do not exist,
-- and nothing the benchmark measures looks at them.  Returns the number of
-- revisions marked applied.
CREATE FUNCTION bench.apply_all() RETURNS bigint
LANGUAGE sql AS $$
    WITH applied AS (
        INSERT INTO migrate.applied (project, revision, checksum, applied_at,
                                     applied_by, duration, statements, attempts)
        SELECT r.project, r.revision, r.checksum, clock_timestamp(), current_user,
               interval '1 ms', g.statements, 1
          FROM migrate.revision AS r JOIN bench.graph_rows AS g USING (revision)
         WHERE r.project = 'default'
         ORDER BY g.i
        RETURNING *
    ), history AS (
        INSERT INTO migrate.history (project, event, revision, target, checksum,
                                     started_at, finished_at, statements, attempts,
                                     role, application_name, backend_pid)
        SELECT project, 'upgrade', revision, 'head', checksum, applied_at - duration,
               applied_at, statements, attempts, applied_by,
               current_setting('application_name'), pg_backend_pid()
          FROM applied
        RETURNING 1
    )
    SELECT count(*) FROM history
$$;

-- bench.upgraded: what an upgrade wrote, to compare a real one with
-- bench.apply_all's rows (the columns that do not depend on the clock or
-- the backend).
CREATE VIEW bench.upgraded AS
    SELECT 'applied' AS what, revision, checksum, statements, attempts,
           applied_by AS role, NULL AS target
      FROM migrate.applied
    UNION ALL
    SELECT 'history', revision, checksum, statements, attempts, role, target
      FROM migrate.history WHERE event = 'upgrade';

-- bench.describe(): the generated graph, counted from the registry by SQL
-- (not by pg_migrate): revisions, roots, branch points (revisions with
-- several children), merges (several parents), merges of three parents.
CREATE FUNCTION bench.describe(OUT revisions bigint, OUT roots bigint,
                               OUT branch_points bigint, OUT merges bigint,
                               OUT merges3 bigint)
LANGUAGE sql AS $$
    SELECT count(*),
           count(*) FILTER (WHERE cardinality(parents) = 0),
           (SELECT count(*) FROM (SELECT p FROM migrate.revision, unnest(parents) AS p
                                   GROUP BY p HAVING count(*) > 1) AS b),
           count(*) FILTER (WHERE cardinality(parents) > 1),
           count(*) FILTER (WHERE cardinality(parents) = 3)
      FROM migrate.revision
$$;

-- bench.time_ms(query): run query, which returns one bigint, and return
-- that value and the time it took, on the server's clock, in ms.  The
-- caller's statement is one SELECT of this function: no client round trip
-- is in the time, only the query's execution (and its parse and plan, a
-- few microseconds).
CREATE FUNCTION bench.time_ms(query text, OUT ms double precision, OUT result bigint)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    EXECUTE query INTO result;
    ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
END
$$;
