/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Bookkeeping access to the migrate schema, as its owner and with a
 *	  fixed search_path.
 *
 * The tables in schema "migrate" are writable by nobody but the extension's
 * owner, so that a role granted EXECUTE on the functions can migrate but
 * cannot forge the registry or the history.  The functions are not
 * SECURITY DEFINER: they run as the caller, and only the bookkeeping
 * statements below run as the owner of schema "migrate" (the role that
 * created the extension), bracketed by mg_owner_begin/mg_owner_end, which
 * switch the user id the way pg_cron does and set search_path to
 * "pg_catalog, pg_temp", so that nothing the caller puts on the path can
 * shadow a function or operator they use.  A user's script never runs
 * inside such a scope.  If an error escapes, transaction (or
 * subtransaction) abort restores the user id and the GUC.
 *
 * Every statement is prepared once per backend and kept (SPI_keepplan);
 * the caller must be connected to SPI.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "catalog.h"

typedef struct CatalogQueryDef
{
	const char *sql;
	int			nargs;
	Oid			argtypes[16];
} CatalogQueryDef;

/*
 * The INVALID indexes that the build recorded in migrate.index_build row b
 * may have left, as a condition on pg_index i, the index's pg_class c and
 * its table's pg_class t and pg_namespace tn (see the comment on the table
 * in migrations/pg_migrate--0.3.0--0.4.0.sql): on its table (any, for a
 * REINDEX of a schema or database), INVALID and not INVALID before the
 * build, of the name it gave, a REINDEX's "_ccnew"/"_ccold" copy.  Several
 * rows may match one index (an unnamed build's row matches any new INVALID
 * index of its table): the latest build left it.  Built-in functions and
 * operators of pg_catalog only: reviewing runs no user code.
 */
#define LEFTOVER_OF_BUILD \
	" NOT i.indisvalid" \
	" AND (b.table_name IS NULL" \
	"  OR (tn.nspname::text = b.schema_name AND t.relname::text = b.table_name))" \
	" AND (b.index_name IS NULL OR c.relname::text = b.index_name)" \
	" AND (NOT b.reindex OR c.relname::text ~ '_cc(new|old)[0-9]*$')" \
	" AND c.relname::text <> ALL (b.invalid_before)"

/*
 * The worker that ran the build of row R (b, or l) still runs: its build
 * is in progress, and has left nothing yet.
 */
#define BUILD_RUNNING(R) \
	" EXISTS (SELECT FROM pg_catalog.pg_stat_get_activity(" R ".backend_pid) AS s" \
	"  WHERE s.backend_start = " R ".backend_start)"

/* pg_index i, its index c, its table t and t's schema tn, for LEFTOVER_OF_BUILD */
#define LEFTOVER_RELATIONS \
	" pg_catalog.pg_index i" \
	" JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid" \
	" JOIN pg_catalog.pg_class t ON t.oid = i.indrelid" \
	" JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace"

/* indexed by MgCatalogQuery */
static const CatalogQueryDef query_defs[MGQ__COUNT] = {
	[MGQ_PROJECT_STATE] = {
		"SELECT clean FROM migrate.project WHERE project = $1",
		1, {TEXTOID}
	},
	[MGQ_LOAD_REVISIONS] = {
		"SELECT r.revision, r.parents, r.checksum, r.description, a.checksum, a.applied_at,"
		" r.nontransactional"
		" FROM migrate.revision r LEFT JOIN migrate.applied a"
		" ON a.project = r.project AND a.revision = r.revision"
		" WHERE r.project = $1 ORDER BY r.revision COLLATE \"C\"",
		1, {TEXTOID}
	},
	[MGQ_LOAD_ORPHANS] = {
		"SELECT a.revision, a.checksum, a.applied_at FROM migrate.applied a"
		" WHERE a.project = $1 AND NOT EXISTS (SELECT FROM migrate.revision r"
		" WHERE r.project = a.project AND r.revision = a.revision)"
		" ORDER BY a.revision COLLATE \"C\"",
		1, {TEXTOID}
	},
	[MGQ_LOAD_SCRIPTS] = {
		"SELECT revision, up_script, down_script FROM migrate.revision"
		" WHERE project = $1 AND revision = ANY ($2)",
		2, {TEXTOID, TEXTARRAYOID}
	},
	[MGQ_INSERT_APPLIED] = {
		"INSERT INTO migrate.applied (project, revision, checksum, applied_at,"
		" applied_by, duration, statements, attempts)"
		" SELECT $1, u.revision, u.checksum, u.started, $2, u.finished - u.started,"
		" u.statements, u.attempts"
		" FROM unnest($3, $4, $5, $6, $7, $8)"
		" AS u(revision, checksum, started, finished, statements, attempts)",
		8, {TEXTOID, NAMEOID, TEXTARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID,
		TIMESTAMPTZARRAYOID, INT4ARRAYOID, INT4ARRAYOID}
	},
	[MGQ_INSERT_HISTORY] = {
		"INSERT INTO migrate.history (project, event, revision, target, checksum,"
		" previous_checksum, started_at, finished_at, statements, attempts, role,"
		" application_name, backend_pid, detail)"
		" SELECT $1, u.event, u.revision, $2, u.checksum, u.previous_checksum,"
		" u.started, u.finished, u.statements, u.attempts, $3, $4, $5, u.detail"
		" FROM unnest($6, $7, $8, $9, $10, $11, $12, $13, $14)"
		" AS u(event, revision, checksum, previous_checksum, started, finished,"
		" statements, attempts, detail)",
		14, {TEXTOID, TEXTOID, NAMEOID, TEXTOID, INT4OID, TEXTARRAYOID, TEXTARRAYOID,
			TEXTARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID,
		INT4ARRAYOID, INT4ARRAYOID, TEXTARRAYOID}
	},
	[MGQ_MARK_CLEAN] = {
		"INSERT INTO migrate.project (project, clean) VALUES ($1, true)"
		" ON CONFLICT (project) DO UPDATE SET clean = true",
		1, {TEXTOID}
	},
	[MGQ_GET_REVISION] = {
		"SELECT r.parents, r.checksum, r.up_script, r.down_script, r.description,"
		" (SELECT a.checksum FROM migrate.applied a"
		"  WHERE a.project = $1 AND a.revision = $2),"
		" r.nontransactional, r.source_hash"
		" FROM (SELECT) AS one LEFT JOIN migrate.revision r"
		" ON r.project = $1 AND r.revision = $2",
		2, {TEXTOID, TEXTOID}
	},
	[MGQ_REGISTRY_HEADS] = {
		"SELECT revision FROM (SELECT revision FROM migrate.revision WHERE project = $1"
		" EXCEPT SELECT unnest(parents) FROM migrate.revision WHERE project = $1) AS h"
		" ORDER BY revision COLLATE \"C\"",
		1, {TEXTOID}
	},
	[MGQ_INSERT_REVISION] = {
		"INSERT INTO migrate.revision (project, revision, parents, description,"
		" up_script, down_script, checksum, registered_by, nontransactional, source_hash)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
		10, {TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, NAMEOID,
		BOOLOID, TEXTOID}
	},
	[MGQ_UPDATE_REVISION] = {
		"UPDATE migrate.revision SET parents = $3, description = $4, up_script = $5,"
		" down_script = $6, checksum = $7, registered_by = $8, registered_at = now(),"
		" nontransactional = $9, source_hash = $10"
		" WHERE project = $1 AND revision = $2",
		10, {TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, NAMEOID,
		BOOLOID, TEXTOID}
	},
	[MGQ_DELETE_REVISION] = {
		"DELETE FROM migrate.revision WHERE project = $1 AND revision = $2",
		2, {TEXTOID, TEXTOID}
	},
	[MGQ_CHILDREN] = {
		"SELECT revision FROM migrate.revision"
		" WHERE project = $1 AND $2 = ANY (parents) ORDER BY revision",
		2, {TEXTOID, TEXTOID}
	},
	[MGQ_HISTORY] = {
		"SELECT id, event, revision, target, checksum, previous_checksum, started_at,"
		" finished_at, finished_at - started_at, statements, attempts, role,"
		" application_name, backend_pid, detail, sqlstate, message, statement, line"
		" FROM migrate.history WHERE project = $1 ORDER BY id DESC LIMIT $2",
		2, {TEXTOID, INT8OID}
	},
	[MGQ_DELETE_APPLIED] = {
		"DELETE FROM migrate.applied WHERE project = $1 AND revision = ANY ($2)",
		2, {TEXTOID, TEXTARRAYOID}
	},
	[MGQ_SET_SOURCE_HASH] = {
		"UPDATE migrate.revision SET source_hash = $3 WHERE project = $1 AND revision = $2",
		3, {TEXTOID, TEXTOID, TEXTOID}
	},
	[MGQ_SOURCES] = {
		"SELECT revision, source_hash FROM migrate.revision WHERE project = $1"
		" ORDER BY revision COLLATE \"C\"",
		1, {TEXTOID}
	},
	[MGQ_SYNCED_FOLDER] = {
		"SELECT (SELECT synced_folder FROM migrate.project WHERE project = $1),"
		" (SELECT count(*) FROM migrate.revision WHERE project = $1)::int4",
		1, {TEXTOID}
	},
	[MGQ_SET_SYNCED_FOLDER] = {
		"INSERT INTO migrate.project (project, synced_folder) VALUES ($1, $2)"
		" ON CONFLICT (project) DO UPDATE SET synced_folder = $2",
		2, {TEXTOID, TEXTOID}
	},
	[MGQ_GET_REVISIONS] = {
		"SELECT r.revision, r.parents, r.checksum, r.up_script, r.down_script, r.description,"
		" a.checksum, r.nontransactional, r.source_hash"
		" FROM migrate.revision r LEFT JOIN migrate.applied a"
		" ON a.project = r.project AND a.revision = r.revision"
		" WHERE r.project = $1 AND r.revision = ANY ($2)",
		2, {TEXTOID, TEXTARRAYOID}
	},
	[MGQ_INSERT_REVISIONS] = {
		"INSERT INTO migrate.revision (project, revision, parents, description,"
		" up_script, down_script, checksum, registered_by, nontransactional, source_hash)"
		" SELECT $1, u.revision, string_to_array(u.parents, ','), u.description, u.up,"
		" u.down, u.checksum, $2, u.nontransactional, u.source_hash"
		" FROM unnest($3, $4, $5, $6, $7, $8, $9, $10)"
		" AS u(revision, parents, description, up, down, checksum, nontransactional,"
		" source_hash)",
		10, {TEXTOID, NAMEOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		TEXTARRAYOID, TEXTARRAYOID, BOOLARRAYOID, TEXTARRAYOID}
	},
	[MGQ_UPDATE_REVISIONS] = {
		"UPDATE migrate.revision r SET parents = string_to_array(u.parents, ','),"
		" description = u.description, up_script = u.up, down_script = u.down,"
		" checksum = u.checksum, registered_by = $2, registered_at = now(),"
		" nontransactional = u.nontransactional, source_hash = u.source_hash"
		" FROM unnest($3, $4, $5, $6, $7, $8, $9, $10)"
		" AS u(revision, parents, description, up, down, checksum, nontransactional,"
		" source_hash)"
		" WHERE r.project = $1 AND r.revision = u.revision",
		10, {TEXTOID, NAMEOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		TEXTARRAYOID, TEXTARRAYOID, BOOLARRAYOID, TEXTARRAYOID}
	},
	[MGQ_SET_SOURCE_HASHES] = {
		"UPDATE migrate.revision r SET source_hash = u.source_hash"
		" FROM unnest($2, $3) AS u(revision, source_hash)"
		" WHERE r.project = $1 AND r.revision = u.revision",
		3, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID}
	},
	[MGQ_PROJECTS] = {
		"SELECT p.project FROM (SELECT project FROM migrate.revision"
		" UNION SELECT project FROM migrate.applied) AS p"
		" ORDER BY p.project COLLATE \"C\" LIMIT $1",
		1, {INT8OID}
	},
	[MGQ_SYNC_INPUT] = {
		"SELECT jsonb_typeof(e),"
		" e ->> 'revision', e ->> 'up', e ->> 'down', e ->> 'description',"
		" CASE jsonb_typeof(e -> 'parents') WHEN 'array' THEN"
		"  ARRAY(SELECT jsonb_array_elements_text(e -> 'parents')) END,"
		" jsonb_typeof(e -> 'parents'), jsonb_typeof(e -> 'nontransactional'),"
		" (e ->> 'nontransactional') = 'true',"
		" CASE jsonb_typeof(e) WHEN 'object' THEN"
		"  (SELECT k FROM jsonb_object_keys(e) AS k WHERE k <> ALL"
		"  ('{revision,parents,description,up,down,nontransactional}') ORDER BY k LIMIT 1) END,"
		" jsonb_typeof(e -> 'revision'), jsonb_typeof(e -> 'up'),"
		" jsonb_typeof(e -> 'down'), jsonb_typeof(e -> 'description'),"
		" p.n::int4, jsonb_typeof(p.v)"
		" FROM jsonb_array_elements($1) WITH ORDINALITY AS t(e, n)"
		" LEFT JOIN LATERAL (SELECT v, n FROM jsonb_array_elements("
		"  CASE jsonb_typeof(e -> 'parents') WHEN 'array' THEN e -> 'parents' END)"
		"  WITH ORDINALITY AS a(v, n) WHERE jsonb_typeof(v) <> 'string' ORDER BY n LIMIT 1)"
		"  AS p ON true"
		" ORDER BY t.n",
		1, {JSONBOID}
	},
	[MGQ_INSERT_FAILURE] = {
		"INSERT INTO migrate.history (project, event, revision, target, started_at,"
		" finished_at, statements, attempts, role, application_name, backend_pid,"
		" detail, sqlstate, message, statement, line)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
		16, {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
			INT4OID, INT4OID, NAMEOID, TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTOID,
		INT4OID, INT4OID}
	},
	[MGQ_REPAIR_APPLIED] = {
		"UPDATE migrate.applied SET checksum = $3 WHERE project = $1 AND revision = $2",
		3, {TEXTOID, TEXTOID, TEXTOID}
	},

	/*
	 * Concurrent index builds run at top level (toplevel.c), recorded
	 * before they start, and the INVALID indexes they left (status.c).
	 */
	[MGQ_INSERT_INDEX_BUILD] = {
		"INSERT INTO migrate.index_build (project, revision, down, statement, schema_name,"
		" table_name, index_name, reindex, invalid_before, backend_pid, backend_start)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
		11, {TEXTOID, TEXTOID, BOOLOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, BOOLOID,
		TEXTARRAYOID, INT4OID, TIMESTAMPTZOID}
	},
	[MGQ_DELETE_INDEX_BUILD] = {
		"DELETE FROM migrate.index_build WHERE id = $1",
		1, {INT8OID}
	},
	[MGQ_DELETE_STALE_INDEX_BUILDS] = {
		"DELETE FROM migrate.index_build b WHERE b.project = $1"
		" AND NOT" BUILD_RUNNING("b")
		" AND NOT EXISTS (SELECT FROM" LEFTOVER_RELATIONS " WHERE" LEFTOVER_OF_BUILD ")",
		1, {TEXTOID}
	},
	[MGQ_INVALID_INDEXES] = {
		"SELECT l.leftover, l.relation, l.revision, l.down, l.statement, l.indexrelid FROM"
		" (SELECT DISTINCT ON (i.indexrelid)"
		"  pg_catalog.format('%I.%I', n.nspname, c.relname) AS leftover,"
		"  pg_catalog.format('%I.%I', tn.nspname, t.relname) AS relation,"
		"  b.revision, b.down, b.statement, i.indexrelid, b.backend_pid, b.backend_start"
		"  FROM migrate.index_build b, " LEFTOVER_RELATIONS
		"  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
		"  WHERE b.project = $1 AND" LEFTOVER_OF_BUILD
		"  ORDER BY i.indexrelid, b.started_at DESC, b.id DESC) AS l"
		" WHERE NOT" BUILD_RUNNING("l")
		" ORDER BY l.leftover COLLATE \"C\"",
		1, {TEXTOID}
	},
};

static SPIPlanPtr plans[MGQ__COUNT];

/*
 * Enter a bookkeeping scope: become the owner of schema "migrate" and set
 * a safe search_path.  Pair with mg_owner_end.
 */
void
mg_owner_begin(MgOwnerScope *scope)
{
	Oid			nspid = get_namespace_oid("migrate", false);
	HeapTuple	tuple;
	Oid			owner;

	tuple = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nspid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for namespace %u", nspid);
	owner = ((Form_pg_namespace) GETSTRUCT(tuple))->nspowner;
	ReleaseSysCache(tuple);

	GetUserIdAndSecContext(&scope->save_userid, &scope->save_sec_context);
	SetUserIdAndSecContext(owner,
						   scope->save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	scope->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/*
 * Leave a bookkeeping scope: restore search_path and the caller's user id.
 */
void
mg_owner_end(MgOwnerScope *scope)
{
	AtEOXact_GUC(true, scope->save_nestlevel);
	SetUserIdAndSecContext(scope->save_userid, scope->save_sec_context);
}

/*
 * Run one bookkeeping statement with parameters; nulls as for
 * SPI_execute_plan (NULL: none null).  Returns the number of rows, which
 * are in SPI_tuptable.  Must be called inside an owner scope.
 */
int
mg_catalog_exec(MgCatalogQuery query, Datum *values, const char *nulls)
{
	const CatalogQueryDef *def = &query_defs[query];
	int			rc;

	if (plans[query] == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(def->sql, def->nargs, (Oid *) def->argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 def->sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		plans[query] = plan;
	}

	rc = SPI_execute_plan(plans[query], values, nulls, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s",
			 def->sql, SPI_result_code_string(rc));
	return (int) SPI_processed;
}

/*
 * A one-dimensional array of n elements of elemtype, for a statement
 * parameter; nulls may be NULL when no element is null.
 */
Datum
mg_array(Datum *elems, bool *nulls, int n, Oid elemtype)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, elemtype,
											  typlen, typbyval, typalign));
}

/* A text[] of n C strings */
Datum
mg_text_array(char **items, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(items[i]);
	return mg_array(elems, NULL, n, TEXTOID);
}

/* s as a text Datum, or a null */
Datum
mg_text_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/* Column col (1-based) of the last SPI result's row as a palloc'd string, or NULL. */
char *
mg_result_text(int row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * Column col of the last SPI result's row, a text[] (of any shape, read in
 * storage order), as a C array, NULL when the column is null.  A null
 * element is a NULL pointer: a row edited by hand may hold one, and the
 * caller must check before using an element.
 */
char **
mg_result_text_array(int row, int col, int *n)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
	Datum	   *elems;
	bool	   *elemnulls;
	char	  **result;
	int			i;

	*n = 0;
	if (isnull)
		return NULL;
	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &elemnulls, n);
	result = palloc(sizeof(char *) * Max(*n, 1));
	for (i = 0; i < *n; i++)
		result[i] = elemnulls[i] ? NULL : TextDatumGetCString(elems[i]);
	return result;
}
