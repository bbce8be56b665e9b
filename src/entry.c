/*-------------------------------------------------------------------------
 *
 * entry.c
 *	  The SQL-callable functions: argument checking, SPI connection, and
 *	  turning results into rows.  The work is done by the operations
 *	  (upgrade.c, downgrade.c, stamp.c, run.c) and services (registry.c,
 *	  validate.c, status.c, check.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "check.h"
#include "downgrade.h"
#include "lint.h"
#include "mask.h"
#include "pg_migrate.h"
#include "registry.h"
#include "run.h"
#include "stamp.h"
#include "status.h"
#include "sync.h"
#include "upgrade.h"
#include "validate.h"

/* columns of migrate_history's result, as MGQ_HISTORY selects them */
#define HISTORY_RESULT_COLUMNS 19

PG_FUNCTION_INFO_V1(migrate_register);
PG_FUNCTION_INFO_V1(migrate_unregister);
PG_FUNCTION_INFO_V1(migrate_upgrade);
PG_FUNCTION_INFO_V1(migrate_downgrade);
PG_FUNCTION_INFO_V1(migrate_run);
PG_FUNCTION_INFO_V1(migrate_stamp);
PG_FUNCTION_INFO_V1(migrate_repair);
PG_FUNCTION_INFO_V1(migrate_sync);
PG_FUNCTION_INFO_V1(migrate_sources);
PG_FUNCTION_INFO_V1(migrate_synced_folder);
PG_FUNCTION_INFO_V1(migrate_pending);
PG_FUNCTION_INFO_V1(migrate_current);
PG_FUNCTION_INFO_V1(migrate_heads);
PG_FUNCTION_INFO_V1(migrate_status);
PG_FUNCTION_INFO_V1(migrate_history);
PG_FUNCTION_INFO_V1(migrate_validate);
PG_FUNCTION_INFO_V1(migrate_check);
PG_FUNCTION_INFO_V1(migrate_lint);
PG_FUNCTION_INFO_V1(migrate_lint_revision);
PG_FUNCTION_INFO_V1(migrate_mask);

/* longest folder description migrate_sync keeps */
#define MAX_FOLDER_LEN 1024

static const char *arg_project(FunctionCallInfo fcinfo, int argno);
static const char *arg_text(FunctionCallInfo fcinfo, int argno, const char *name);
static const char *arg_text_or_null(FunctionCallInfo fcinfo, int argno);
static void connect_spi(void);
static void finish_spi(void);
static Datum text_array_of(List *revisions);
static Datum interval_of_us(int64 us);
static void put_steps(FunctionCallInfo fcinfo, List *steps);
static MgFileRevision *revisions_of_json(Datum json, int *n);
static void put_findings(FunctionCallInfo fcinfo, List *findings);

/*
 * migrate_register(revision, up, down, parents, description, force, project)
 */
Datum
migrate_register(PG_FUNCTION_ARGS)
{
	const char *revision = arg_text(fcinfo, 0, "revision");
	const char *up = arg_text_or_null(fcinfo, 1);
	const char *down = arg_text_or_null(fcinfo, 2);
	const char *description = arg_text_or_null(fcinfo, 4);
	bool		force = PG_ARGISNULL(5) ? false : PG_GETARG_BOOL(5);
	const char *project = arg_project(fcinfo, 6);
	char	  **parents = NULL;
	int			nparents = 0;
	MgRegistration reg = {0};
	const char *result;

	if (!PG_ARGISNULL(3))
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(3);
		Datum	   *elems;
		bool	   *nulls;
		int			i;

		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_MG_INVALID_ARGUMENT),
					 errmsg("parents must be a one-dimensional array"),
					 errhint("Pass a text array such as ARRAY['0003_add_user_fk'], or '{}' for a root.")));
		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nparents);
		parents = palloc(sizeof(char *) * Max(nparents, 1));
		for (i = 0; i < nparents; i++)
		{
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_MG_INVALID_NAME),
						 errmsg("parent id must not be null"),
						 errhint("Pass a text array of revision ids without NULL elements.")));
			parents[i] = TextDatumGetCString(elems[i]);
		}
	}

	reg.revision = revision;
	reg.up = up;
	reg.down = down;
	reg.parents = parents;
	reg.nparents = nparents;
	reg.parents_given = !PG_ARGISNULL(3);
	reg.description = description;
	reg.force = force;

	connect_spi();
	result = mg_registry_register(project, &reg);
	finish_spi();
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/*
 * migrate_unregister(revision, project)
 */
Datum
migrate_unregister(PG_FUNCTION_ARGS)
{
	const char *revision = arg_text(fcinfo, 0, "revision");
	const char *project = arg_project(fcinfo, 1);

	connect_spi();
	mg_registry_unregister(project, revision);
	finish_spi();
	PG_RETURN_VOID();
}

/*
 * migrate_upgrade(target, dry_run, project)
 */
Datum
migrate_upgrade(PG_FUNCTION_ARGS)
{
	const char *target = arg_text(fcinfo, 0, "target");
	bool		dry_run = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	const char *project = arg_project(fcinfo, 2);

	InitMaterializedSRF(fcinfo, 0);
	connect_spi();
	put_steps(fcinfo, mg_upgrade(project, target, dry_run));
	finish_spi();
	return (Datum) 0;
}

/*
 * migrate_downgrade(target, dry_run, project)
 */
Datum
migrate_downgrade(PG_FUNCTION_ARGS)
{
	const char *target = arg_text(fcinfo, 0, "target");
	bool		dry_run = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	const char *project = arg_project(fcinfo, 2);

	InitMaterializedSRF(fcinfo, 0);
	connect_spi();
	put_steps(fcinfo, mg_downgrade(project, target, dry_run));
	finish_spi();
	return (Datum) 0;
}

/*
 * CALL migrate_run(target, direction, project): a procedure, connected to
 * SPI without atomicity so that it may commit when its CALL allows
 * (run.c).
 */
Datum
migrate_run(PG_FUNCTION_ARGS)
{
	const char *target = arg_text(fcinfo, 0, "target");
	const char *direction = arg_text_or_null(fcinfo, 1);
	const char *project = arg_project(fcinfo, 2);
	MgRunDirection dir = MG_RUN_EITHER;
	bool		atomic = true;

	if (direction != NULL && strcmp(direction, "up") == 0)
		dir = MG_RUN_UP;
	else if (direction != NULL && strcmp(direction, "down") == 0)
		dir = MG_RUN_DOWN;
	else if (direction != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_ARGUMENT),
				 errmsg("invalid direction \"%s\"", direction),
				 errhint("Pass 'up', 'down', or NULL to go the way the target says.")));

	if (fcinfo->context != NULL && IsA(fcinfo->context, CallContext))
		atomic = castNode(CallContext, fcinfo->context)->atomic;

	mg_mask_activity();
	if (SPI_connect_ext(atomic ? 0 : SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	mg_run(project, target, dir, atomic);
	finish_spi();
	PG_RETURN_VOID();
}

/*
 * migrate_stamp(target, project)
 */
Datum
migrate_stamp(PG_FUNCTION_ARGS)
{
	const char *target = arg_text(fcinfo, 0, "target");
	const char *project = arg_project(fcinfo, 1);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	connect_spi();
	foreach(lc, mg_stamp(project, target))
	{
		MgStamped  *stamped = lfirst(lc);
		Datum		values[2];
		bool		nulls[2] = {0};

		values[0] = CStringGetTextDatum(stamped->revision);
		values[1] = CStringGetTextDatum(stamped->action);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}

/*
 * migrate_repair(revision, project)
 */
Datum
migrate_repair(PG_FUNCTION_ARGS)
{
	const char *revision = arg_text(fcinfo, 0, "revision");
	const char *project = arg_project(fcinfo, 1);
	const char *result;

	connect_spi();
	result = mg_registry_repair(project, revision);
	finish_spi();
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/*
 * migrate_sync(revisions, folder, project)
 */
Datum
migrate_sync(PG_FUNCTION_ARGS)
{
	const char *folder = arg_text_or_null(fcinfo, 1);
	const char *project = arg_project(fcinfo, 2);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MgFileRevision *revs;
	int			n;
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_ARGUMENT),
				 errmsg("revisions must not be null"),
				 errhint("Pass a JSON array of revisions, such as '[]' for none.")));
	if (folder != NULL && (folder[0] == '\0' || strlen(folder) > MAX_FOLDER_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_ARGUMENT),
				 errmsg("folder must be 1 to %d characters long", MAX_FOLDER_LEN),
				 errhint("Pass the client's description of the folder it synced, or leave the argument out.")));

	InitMaterializedSRF(fcinfo, 0);
	connect_spi();
	revs = revisions_of_json(PG_GETARG_DATUM(0), &n);
	foreach(lc, mg_sync_revisions(project, revs, n, folder))
	{
		MgSynced   *synced = lfirst(lc);
		Datum		values[2];
		bool		nulls[2] = {0};

		values[0] = CStringGetTextDatum(synced->revision);
		values[1] = CStringGetTextDatum(synced->action);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}

/*
 * migrate_sources(project): each registered revision and its source hash
 */
Datum
migrate_sources(PG_FUNCTION_ARGS)
{
	const char *project = arg_project(fcinfo, 0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	connect_spi();
	foreach(lc, mg_registry_sources(project))
	{
		char	  **pair = lfirst(lc);
		Datum		values[2];
		bool		nulls[2] = {0};

		values[0] = CStringGetTextDatum(pair[0]);
		values[1] = mg_text_or_null(pair[1], &nulls[1]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}

/*
 * migrate_synced_folder(project): what the client recorded of the folder it
 * last synced in full, or NULL, and how many revisions project has
 */
Datum
migrate_synced_folder(PG_FUNCTION_ARGS)
{
	const char *project = arg_project(fcinfo, 0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[2];
	bool		nulls[2] = {0};
	int			nrevisions;

	InitMaterializedSRF(fcinfo, 0);
	connect_spi();
	values[0] = mg_text_or_null(mg_registry_synced_folder(project, &nrevisions),
								&nulls[0]);
	values[1] = Int32GetDatum(nrevisions);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	finish_spi();
	return (Datum) 0;
}

/*
 * The revisions of migrate_sync's JSON argument: an array of objects with
 * the keys "revision" and "up" (strings), "parents" (an array of strings,
 * empty for a root), and optionally "down" and "description" (strings or
 * null) and "nontransactional" (a boolean).  Anything else is refused,
 * naming the element.
 */
static MgFileRevision *
revisions_of_json(Datum json, int *n)
{
	Datum		values[1] = {json};
	MgFileRevision *revs;
	MgOwnerScope scope;
	int			i;

	if (strcmp(TextDatumGetCString(DirectFunctionCall1(jsonb_typeof, json)), "array") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_ARGUMENT),
				 errmsg("revisions must be a JSON array"),
				 errhint("Pass an array of objects such as [{\"revision\": \"0001_init\", \"parents\": [], \"up\": \"...\"}].")));

	mg_owner_begin(&scope);
	*n = mg_catalog_exec(MGQ_SYNC_INPUT, values, NULL);
	revs = palloc0(sizeof(MgFileRevision) * Max(*n, 1));
	for (i = 0; i < *n; i++)
	{
		MgFileRevision *rev = &revs[i];
		char	   *type = mg_result_text(i, 1);
		char	   *parents_type = mg_result_text(i, 7);
		char	   *flag_type = mg_result_text(i, 8);
		char	   *unknown = mg_result_text(i, 10);
		const char *problem = NULL;
		bool		isnull;

		rev->id = mg_result_text(i, 2);
		rev->up = mg_result_text(i, 3);
		rev->down = mg_result_text(i, 4);
		rev->description = mg_result_text(i, 5);

		if (strcmp(type, "object") != 0)
			problem = "is not an object";
		else if (unknown != NULL)
			problem = psprintf("has the unknown key \"%s\"", unknown);
		else if (rev->id == NULL)
			problem = "has no \"revision\"";
		else if (rev->up == NULL)
			problem = "has no \"up\"";
		else if (parents_type == NULL || strcmp(parents_type, "array") != 0)
			problem = "has no \"parents\" array";
		else if (flag_type != NULL && strcmp(flag_type, "boolean") != 0 &&
				 strcmp(flag_type, "null") != 0)
			problem = "has a \"nontransactional\" that is not a boolean";
		if (problem != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_MG_INVALID_ARGUMENT),
					 errmsg("element %d of revisions %s", i + 1, problem),
					 errhint("Each element is an object with \"revision\", \"parents\" (an array, empty for a root) and \"up\", and optionally \"down\", \"description\" and \"nontransactional\".")));

		rev->parents = mg_result_text_array(i, 6, &rev->nparents);
		rev->nontransactional = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 9, &isnull));
	}
	mg_owner_end(&scope);
	return revs;
}

/*
 * Emit the steps of an upgrade or downgrade as rows (revision, action,
 * duration, statements, attempts) of a materialized set-returning call.
 */
static void
put_steps(FunctionCallInfo fcinfo, List *steps)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	foreach(lc, steps)
	{
		MgStep	   *step = lfirst(lc);
		Datum		values[5];
		bool		nulls[5] = {0};

		values[0] = CStringGetTextDatum(step->revision);
		values[1] = CStringGetTextDatum(step->action);
		values[2] = interval_of_us(step->duration_us);
		nulls[2] = step->duration_us < 0;
		values[3] = Int32GetDatum(step->statements);
		values[4] = Int32GetDatum(step->attempts);
		nulls[4] = step->attempts == 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * migrate_pending(target, project)
 */
Datum
migrate_pending(PG_FUNCTION_ARGS)
{
	const char *target = arg_text(fcinfo, 0, "target");
	const char *project = arg_project(fcinfo, 1);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MgState    *state;
	int		   *plan;
	int			nplan;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	connect_spi();
	state = mg_registry_load(project);
	plan = mg_plan(state, target, &nplan);
	for (i = 0; i < nplan; i++)
	{
		MgRevision *rev = &state->revisions[plan[i]];
		Datum		values[4];
		bool		nulls[4] = {0};
		values[0] = Int32GetDatum(i + 1);
		values[1] = CStringGetTextDatum(rev->id);
		values[2] = mg_text_array(rev->parents, rev->nparents);
		values[3] = mg_text_or_null(rev->description, &nulls[3]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}

/*
 * migrate_current(project): the applied heads
 */
Datum
migrate_current(PG_FUNCTION_ARGS)
{
	const char *project = arg_project(fcinfo, 0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	connect_spi();
	foreach(lc, mg_applied_heads(mg_registry_load(project)))
	{
		MgRevision *rev = lfirst(lc);
		Datum		values[2];
		bool		nulls[2] = {0};

		values[0] = CStringGetTextDatum(rev->id);
		values[1] = TimestampTzGetDatum(rev->applied_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}

/*
 * migrate_heads(project): the registry heads
 */
Datum
migrate_heads(PG_FUNCTION_ARGS)
{
	const char *project = arg_project(fcinfo, 0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	connect_spi();
	foreach(lc, mg_registry_heads(mg_registry_load(project)))
	{
		MgRevision *rev = lfirst(lc);
		Datum		values[3];
		bool		nulls[3] = {0};

		values[0] = CStringGetTextDatum(rev->id);
		values[1] = BoolGetDatum(rev->applied);
		values[2] = mg_text_or_null(rev->description, &nulls[2]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}

/*
 * migrate_status(project): one row
 */
Datum
migrate_status(PG_FUNCTION_ARGS)
{
	const char *project = arg_project(fcinfo, 0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MgStatus	status;
	Datum		values[13];
	bool		nulls[13] = {0};
	char	  **invalid;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	connect_spi();
	mg_status(mg_registry_load(project), &status);

	values[0] = CStringGetTextDatum(project);
	values[1] = text_array_of(status.applied_heads);
	values[2] = text_array_of(status.registry_heads);
	values[3] = Int32GetDatum(status.applied);
	values[4] = Int32GetDatum(status.pending);
	values[5] = Int32GetDatum(status.drifted);
	values[6] = mg_text_or_null(status.last ? status.last->id : NULL, &nulls[6]);
	values[7] = status.last ? TimestampTzGetDatum(status.last->applied_at) : (Datum) 0;
	nulls[7] = status.last == NULL;
	values[8] = Int32GetDatum(status.holder.pid);
	nulls[8] = !status.locked;
	values[9] = status.holder.role ?
		DirectFunctionCall1(namein, CStringGetDatum(status.holder.role)) : (Datum) 0;
	nulls[9] = !status.locked || status.holder.role == NULL;
	values[10] = mg_text_or_null(status.locked ? status.holder.application : NULL, &nulls[10]);
	values[11] = TimestampTzGetDatum(status.holder.since);
	nulls[11] = !status.locked || status.holder.since == 0;
	invalid = palloc(sizeof(char *) * Max(list_length(status.invalid_indexes), 1));
	foreach(lc, status.invalid_indexes)
		invalid[foreach_current_index(lc)] = (char *) ((MgInvalidIndex *) lfirst(lc))->index;
	values[12] = mg_text_array(invalid, list_length(status.invalid_indexes));
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	finish_spi();
	return (Datum) 0;
}

/*
 * migrate_history(limit, project): newest first
 */
Datum
migrate_history(PG_FUNCTION_ARGS)
{
	int32		limit = PG_ARGISNULL(0) ? 100 : PG_GETARG_INT32(0);
	const char *project = arg_project(fcinfo, 1);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MgOwnerScope scope;
	Datum		args[2];
	int			nrows;
	int			i;

	if (limit < 0)
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_ARGUMENT),
				 errmsg("limit must not be negative"),
				 errhint("Pass the number of rows wanted; 0 returns none.")));

	InitMaterializedSRF(fcinfo, 0);
	connect_spi();
	args[0] = CStringGetTextDatum(project);
	args[1] = Int64GetDatum(limit);
	mg_owner_begin(&scope);
	nrows = mg_catalog_exec(MGQ_HISTORY, args, NULL);
	mg_owner_end(&scope);
	for (i = 0; i < nrows; i++)
	{
		Datum		values[HISTORY_RESULT_COLUMNS];
		bool		nulls[HISTORY_RESULT_COLUMNS];
		int			col;

		for (col = 0; col < HISTORY_RESULT_COLUMNS; col++)
			values[col] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
										col + 1, &nulls[col]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}

/*
 * migrate_validate(project): every problem, one row each
 */
Datum
migrate_validate(PG_FUNCTION_ARGS)
{
	const char *project = arg_project(fcinfo, 0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MgState    *state;
	List	   *problems;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	connect_spi();
	state = mg_registry_load(project);
	problems = list_concat(mg_validate_graph(state), mg_validate_applied(state));
	problems = list_concat(problems, mg_validate_scripts(state));
	problems = list_concat(problems, mg_validate_indexes(state));
	foreach(lc, problems)
	{
		MgProblem  *p = lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {0};

		values[0] = CStringGetTextDatum(p->severity);
		values[1] = mg_text_or_null(p->revision, &nulls[1]);
		values[2] = CStringGetTextDatum(p->problem);
		values[3] = CStringGetTextDatum(p->detail);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}

/*
 * migrate_check(project): "ok: ..." or an error saying what is wrong
 */
Datum
migrate_check(PG_FUNCTION_ARGS)
{
	const char *project = arg_project(fcinfo, 0);
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext spi;
	char	   *line;
	text	   *result;

	connect_spi();
	line = mg_check(project);
	/* the line is in SPI's memory, which finish_spi frees */
	spi = MemoryContextSwitchTo(caller);
	result = cstring_to_text(line);
	MemoryContextSwitchTo(spi);
	finish_spi();
	PG_RETURN_TEXT_P(result);
}

/*
 * migrate_lint(sql, nontransactional): review a script as a revision that
 * runs in a transaction block (or outside one, with nontransactional)
 */
Datum
migrate_lint(PG_FUNCTION_ARGS)
{
	const char *sql = arg_text(fcinfo, 0, "sql");
	bool		nontransactional = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);

	mg_mask_activity();
	InitMaterializedSRF(fcinfo, 0);
	put_findings(fcinfo, mg_lint_review(mg_resolve_project(NULL), "(script)", sql,
										nontransactional));
	return (Datum) 0;
}

/*
 * migrate_lint_revision(revision, project): review a registered up script
 */
Datum
migrate_lint_revision(PG_FUNCTION_ARGS)
{
	const char *revision = arg_text(fcinfo, 0, "revision");
	const char *project = arg_project(fcinfo, 1);
	MgState    *state;
	int			node = -1;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	connect_spi();
	state = mg_registry_load(project);
	for (i = 0; i < state->nregistered; i++)
		if (strcmp(state->revisions[i].id, revision) == 0)
			node = i;
	if (node < 0)
		ereport(ERROR,
				(errcode(ERRCODE_MG_UNKNOWN_REVISION),
				 errmsg("revision \"%s\" is not registered in project \"%s\"", revision, project),
				 errhint("migrate_heads() and migrate_pending() list the registered revisions.")));
	mg_registry_load_scripts(state, &node, 1);
	put_findings(fcinfo, mg_lint_review(project, state->revisions[node].id,
										state->revisions[node].up,
										state->revisions[node].nontransactional));
	finish_spi();
	return (Datum) 0;
}

/*
 * Emit lint findings as rows (statement, line, column, severity, rule,
 * message, hint, lock_mode, relation, relation_rows, relation_size) of a
 * materialized set-returning call.
 */
static void
put_findings(FunctionCallInfo fcinfo, List *findings)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	foreach(lc, findings)
	{
		MgLintFinding *f = lfirst(lc);
		Datum		values[11];
		bool		nulls[11] = {0};

		values[0] = Int32GetDatum(f->statement);
		nulls[0] = f->statement == 0;
		values[1] = Int32GetDatum(f->line);
		nulls[1] = f->line == 0;
		values[2] = Int32GetDatum(f->column);
		nulls[2] = f->line == 0;
		values[3] = CStringGetTextDatum(f->severity);
		values[4] = CStringGetTextDatum(f->rule);
		values[5] = CStringGetTextDatum(f->message);
		values[6] = mg_text_or_null(f->hint, &nulls[6]);
		values[7] = mg_text_or_null(f->lock_mode, &nulls[7]);
		values[8] = mg_text_or_null(f->relation, &nulls[8]);
		values[9] = Int64GetDatum((int64) f->rows);
		nulls[9] = f->relation == NULL || f->rows < 0;
		values[10] = Int64GetDatum(f->size);
		nulls[10] = f->relation == NULL || f->size < 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * migrate_mask(sql): sql with its secrets masked, as every message is
 */
Datum
migrate_mask(PG_FUNCTION_ARGS)
{
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(0));

	mg_mask_activity();
	PG_RETURN_TEXT_P(cstring_to_text(mg_mask_secrets(sql)));
}

/* The project argument, resolved and checked. */
static const char *
arg_project(FunctionCallInfo fcinfo, int argno)
{
	return mg_resolve_project(PG_ARGISNULL(argno) ? NULL :
							  text_to_cstring(PG_GETARG_TEXT_PP(argno)));
}

/* A text argument that must not be null. */
static const char *
arg_text(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_ARGUMENT),
				 errmsg("%s must not be null", name),
				 errhint("Pass a value, or leave the argument out to use its default.")));
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* A text argument, or NULL. */
static const char *
arg_text_or_null(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * Connect to SPI for the bookkeeping statements; pair with finish_spi.
 * Every function that works on a project starts here, so this is also
 * where pg_stat_activity stops showing a password the caller's statement
 * holds (mask.c).
 */
static void
connect_spi(void)
{
	mg_mask_activity();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/* Disconnect from SPI; results must have been copied out already. */
static void
finish_spi(void)
{
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/* text[] of the ids of a List of MgRevision */
static Datum
text_array_of(List *revisions)
{
	char	  **ids = palloc(sizeof(char *) * Max(list_length(revisions), 1));
	ListCell   *lc;

	foreach(lc, revisions)
		ids[foreach_current_index(lc)] = ((MgRevision *) lfirst(lc))->id;
	return mg_text_array(ids, list_length(revisions));
}

/* An interval of us microseconds */
static Datum
interval_of_us(int64 us)
{
	Interval   *iv = palloc0(sizeof(Interval));

	iv->time = us;
	return IntervalPGetDatum(iv);
}
