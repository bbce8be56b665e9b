/*-------------------------------------------------------------------------
 *
 * entry.c
 *	  The SQL-callable functions: argument checking, SPI connection, and
 *	  turning results into rows.  The work is done by the operations
 *	  (upgrade.c, downgrade.c, stamp.c, run.c) and services (registry.c,
 *	  validate.c, status.c, check.c).
 *
 * Every function starts with begin_call, before it reads an argument: the
 * SQL objects installed must be those this library was built for
 * (mg_check_extension_version), and the call must have the number of
 * arguments the function takes.  A set-returning function also checks the
 * shape of the result it is asked for (check_result), so that a function
 * declared by hand, or by a release the version check does not know, never
 * makes it read an argument that is not there or write a column that is
 * not.  Targets are checked for their form (mg_check_target) before an
 * operation begins, so that nothing is locked or recorded for one that is
 * not a target at all.
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
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

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
#define HISTORY_TARGET_COLUMN	3	/* 0-based */
#define HISTORY_DETAIL_COLUMN	14
#define HISTORY_MESSAGE_COLUMN	16

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

/* the columns each set-returning function returns, by type */
static const Oid step_columns[] = {TEXTOID, TEXTOID, INTERVALOID, INT4OID, INT4OID};
static const Oid pair_columns[] = {TEXTOID, TEXTOID};
static const Oid synced_folder_columns[] = {TEXTOID, INT4OID};
static const Oid pending_columns[] = {INT4OID, TEXTOID, TEXTARRAYOID, TEXTOID};
static const Oid current_columns[] = {TEXTOID, TIMESTAMPTZOID};
static const Oid heads_columns[] = {TEXTOID, BOOLOID, TEXTOID};
static const Oid status_columns[] = {
	TEXTOID, TEXTARRAYOID, TEXTARRAYOID, INT4OID, INT4OID, INT4OID, TEXTOID,
	TIMESTAMPTZOID, INT4OID, NAMEOID, TEXTOID, TIMESTAMPTZOID, TEXTARRAYOID
};
static const Oid history_columns[HISTORY_RESULT_COLUMNS] = {
	INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID,
	TIMESTAMPTZOID, INTERVALOID, INT4OID, INT4OID, NAMEOID, TEXTOID, INT4OID,
	TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID
};
static const Oid validate_columns[] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
static const Oid findings_columns[] = {
	INT4OID, INT4OID, INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, INT8OID, INT8OID
};

#define CHECK_RESULT(fcinfo, columns) \
	check_result(fcinfo, columns, lengthof(columns))

static void begin_call(FunctionCallInfo fcinfo, int nargs);
static void check_result(FunctionCallInfo fcinfo, const Oid *types, int ncolumns);
static const char *arg_project(FunctionCallInfo fcinfo, int argno);
static const char *arg_target(FunctionCallInfo fcinfo, int argno);
static const char *arg_text(FunctionCallInfo fcinfo, int argno, const char *name);
static const char *arg_text_or_null(FunctionCallInfo fcinfo, int argno);
static void connect_spi(void);
static void finish_spi(void);
static Datum text_array_of(List *revisions);
static Datum interval_of_us(int64 us);
static void put_steps(FunctionCallInfo fcinfo, List *steps);
static void bound_history_row(Datum *values, const bool *nulls);
static MgFileRevision *revisions_of_json(Datum json, int *n);
static const char *json_type_name(const char *type);
static void put_findings(FunctionCallInfo fcinfo, List *findings);

/*
 * migrate_register(revision, up, down, parents, description, force, project)
 */
Datum
migrate_register(PG_FUNCTION_ARGS)
{
	const char *revision;
	const char *up;
	const char *down;
	const char *description;
	bool		force;
	const char *project;
	char	  **parents = NULL;
	int			nparents = 0;
	MgRegistration reg = {0};
	const char *result;

	begin_call(fcinfo, 7);
	revision = arg_text(fcinfo, 0, "revision");
	up = arg_text_or_null(fcinfo, 1);
	down = arg_text_or_null(fcinfo, 2);
	description = arg_text_or_null(fcinfo, 4);
	force = PG_ARGISNULL(5) ? false : PG_GETARG_BOOL(5);
	project = arg_project(fcinfo, 6);

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
	const char *revision;
	const char *project;

	begin_call(fcinfo, 2);
	revision = arg_text(fcinfo, 0, "revision");
	project = arg_project(fcinfo, 1);

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
	const char *target;
	bool		dry_run;
	const char *project;

	begin_call(fcinfo, 3);
	target = arg_target(fcinfo, 0);
	dry_run = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	project = arg_project(fcinfo, 2);

	InitMaterializedSRF(fcinfo, 0);
	CHECK_RESULT(fcinfo, step_columns);
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
	const char *target;
	bool		dry_run;
	const char *project;

	begin_call(fcinfo, 3);
	target = arg_target(fcinfo, 0);
	dry_run = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	project = arg_project(fcinfo, 2);

	InitMaterializedSRF(fcinfo, 0);
	CHECK_RESULT(fcinfo, step_columns);
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
	const char *target;
	const char *direction;
	const char *project;
	MgRunDirection dir = MG_RUN_EITHER;
	bool		atomic = true;

	begin_call(fcinfo, 3);
	target = arg_target(fcinfo, 0);
	direction = arg_text_or_null(fcinfo, 1);
	project = arg_project(fcinfo, 2);

	if (direction != NULL && strcmp(direction, "up") == 0)
		dir = MG_RUN_UP;
	else if (direction != NULL && strcmp(direction, "down") == 0)
		dir = MG_RUN_DOWN;
	else if (direction != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_ARGUMENT),
				 errmsg("invalid direction \"%s\"", mg_shown(direction)),
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
	const char *target;
	const char *project;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	begin_call(fcinfo, 2);
	target = arg_target(fcinfo, 0);
	project = arg_project(fcinfo, 1);

	InitMaterializedSRF(fcinfo, 0);
	CHECK_RESULT(fcinfo, pair_columns);
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
	const char *revision;
	const char *project;
	const char *result;

	begin_call(fcinfo, 2);
	revision = arg_text(fcinfo, 0, "revision");
	project = arg_project(fcinfo, 1);

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
	const char *folder;
	const char *project;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MgFileRevision *revs;
	int			n;
	ListCell   *lc;

	/* 0.2.0 declared it without folder, (revisions, project) */
	begin_call(fcinfo, 3);
	folder = arg_text_or_null(fcinfo, 1);
	project = arg_project(fcinfo, 2);

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
	CHECK_RESULT(fcinfo, pair_columns);
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
	const char *project;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	begin_call(fcinfo, 1);
	project = arg_project(fcinfo, 0);

	InitMaterializedSRF(fcinfo, 0);
	CHECK_RESULT(fcinfo, pair_columns);
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
	const char *project;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[2];
	bool		nulls[2] = {0};
	int			nrevisions;

	begin_call(fcinfo, 1);
	project = arg_project(fcinfo, 0);

	InitMaterializedSRF(fcinfo, 0);
	CHECK_RESULT(fcinfo, synced_folder_columns);
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
 * null) and "nontransactional" (a boolean or null).  Anything else is
 * refused with MG018, naming the element by its position and, when it has
 * one, its revision id, and the key: a number or an array is not stored as
 * script text, and a null parent is not read as a string.
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
		char	   *revision_type = mg_result_text(i, 11);
		char	   *up_type = mg_result_text(i, 12);
		char	   *down_type = mg_result_text(i, 13);
		char	   *description_type = mg_result_text(i, 14);
		char	   *bad_parent_type = mg_result_text(i, 16);
		const char *problem = NULL;
		bool		isnull;
		int			bad_parent;

		rev->id = mg_result_text(i, 2);
		rev->up = mg_result_text(i, 3);
		rev->down = mg_result_text(i, 4);
		rev->description = mg_result_text(i, 5);
		bad_parent = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
												 SPI_tuptable->tupdesc, 15, &isnull));

		if (strcmp(type, "object") != 0)
			problem = "is not an object";
		else if (unknown != NULL)
			problem = psprintf("has the unknown key \"%s\"", mg_shown(unknown));
		else if (revision_type == NULL || strcmp(revision_type, "null") == 0)
			problem = "has no \"revision\"";
		else if (strcmp(revision_type, "string") != 0)
			problem = psprintf("has a \"revision\" that is %s, not a string",
							   json_type_name(revision_type));
		else if (up_type == NULL || strcmp(up_type, "null") == 0)
			problem = "has no \"up\"";
		else if (strcmp(up_type, "string") != 0)
			problem = psprintf("has an \"up\" that is %s, not a string",
							   json_type_name(up_type));
		else if (down_type != NULL && strcmp(down_type, "string") != 0 &&
				 strcmp(down_type, "null") != 0)
			problem = psprintf("has a \"down\" that is %s, not a string or null",
							   json_type_name(down_type));
		else if (description_type != NULL && strcmp(description_type, "string") != 0 &&
				 strcmp(description_type, "null") != 0)
			problem = psprintf("has a \"description\" that is %s, not a string or null",
							   json_type_name(description_type));
		else if (parents_type == NULL || strcmp(parents_type, "array") != 0)
			problem = "has no \"parents\" array";
		else if (bad_parent_type != NULL)
			problem = psprintf("has a parent (element %d of \"parents\") that is %s, not a string",
							   bad_parent, json_type_name(bad_parent_type));
		else if (flag_type != NULL && strcmp(flag_type, "boolean") != 0 &&
				 strcmp(flag_type, "null") != 0)
			problem = "has a \"nontransactional\" that is not a boolean";
		if (problem != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_MG_INVALID_ARGUMENT),
					 revision_type != NULL && strcmp(revision_type, "string") == 0 ?
					 errmsg("element %d of revisions (revision \"%s\") %s",
							i + 1, mg_shown(rev->id), problem) :
					 errmsg("element %d of revisions %s", i + 1, problem),
					 errhint("Each element is an object with \"revision\", \"parents\" (an array of strings, empty for a root) and \"up\" (strings), and optionally \"down\" and \"description\" (strings or null) and \"nontransactional\" (a boolean).")));

		rev->parents = mg_result_text_array(i, 6, &rev->nparents);
		rev->nontransactional = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 9, &isnull));
	}
	mg_owner_end(&scope);
	return revs;
}

/* "a number", "an array", ... for a jsonb_typeof result, in a message */
static const char *
json_type_name(const char *type)
{
	if (strcmp(type, "array") == 0)
		return "an array";
	if (strcmp(type, "object") == 0)
		return "an object";
	if (strcmp(type, "number") == 0)
		return "a number";
	if (strcmp(type, "boolean") == 0)
		return "a boolean";
	if (strcmp(type, "null") == 0)
		return "null";
	return psprintf("a %s", type);
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
	const char *target;
	const char *project;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MgState    *state;
	int		   *plan;
	int			nplan;
	int			i;

	begin_call(fcinfo, 2);
	target = arg_target(fcinfo, 0);
	project = arg_project(fcinfo, 1);

	InitMaterializedSRF(fcinfo, 0);
	CHECK_RESULT(fcinfo, pending_columns);
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
	const char *project;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	begin_call(fcinfo, 1);
	project = arg_project(fcinfo, 0);

	InitMaterializedSRF(fcinfo, 0);
	CHECK_RESULT(fcinfo, current_columns);
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
	const char *project;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	begin_call(fcinfo, 1);
	project = arg_project(fcinfo, 0);

	InitMaterializedSRF(fcinfo, 0);
	CHECK_RESULT(fcinfo, heads_columns);
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
	const char *project;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MgStatus	status;
	Datum		values[13];
	bool		nulls[13] = {0};
	char	  **invalid;
	ListCell   *lc;

	begin_call(fcinfo, 1);
	project = arg_project(fcinfo, 0);

	InitMaterializedSRF(fcinfo, 0);
	CHECK_RESULT(fcinfo, status_columns);
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
	int32		limit;
	const char *project;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MgOwnerScope scope;
	Datum		args[2];
	int			nrows;
	int			i;

	begin_call(fcinfo, 2);
	limit = PG_ARGISNULL(0) ? 100 : PG_GETARG_INT32(0);
	project = arg_project(fcinfo, 1);

	if (limit < 0)
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_ARGUMENT),
				 errmsg("limit must not be negative"),
				 errhint("Pass the number of rows wanted; 0 returns none.")));

	/* 0.1.0 and 0.2.0 declared 15 columns: no failure columns */
	InitMaterializedSRF(fcinfo, 0);
	CHECK_RESULT(fcinfo, history_columns);
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
		bound_history_row(values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}

/*
 * Bound the texts of a history row on its way out, as history.c bounds
 * them on their way in: a row written before that, or by hand, may hold a
 * target of megabytes or with line breaks.  A target that is not written
 * as a target is shown shortened, its control characters escaped
 * (mg_shown); a detail or a message is cut to MG_MAX_STORED_TEXT bytes
 * (mg_bounded_text).  Rows pg_migrate writes now pass unchanged.
 */
static void
bound_history_row(Datum *values, const bool *nulls)
{
	static const int texts[] = {HISTORY_DETAIL_COLUMN, HISTORY_MESSAGE_COLUMN};
	int			i;

	if (!nulls[HISTORY_TARGET_COLUMN])
	{
		char	   *target = TextDatumGetCString(values[HISTORY_TARGET_COLUMN]);

		if (!mg_target_is_valid(target))
			values[HISTORY_TARGET_COLUMN] = CStringGetTextDatum(mg_shown(target));
	}
	for (i = 0; i < lengthof(texts); i++)
		if (!nulls[texts[i]] &&
			VARSIZE_ANY_EXHDR(DatumGetTextPP(values[texts[i]])) > MG_MAX_STORED_TEXT)
			values[texts[i]] =
				CStringGetTextDatum(mg_bounded_text(TextDatumGetCString(values[texts[i]])));
}

/*
 * migrate_validate(project): every problem, one row each
 */
Datum
migrate_validate(PG_FUNCTION_ARGS)
{
	const char *project;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MgState    *state;
	List	   *problems;
	ListCell   *lc;

	begin_call(fcinfo, 1);
	project = arg_project(fcinfo, 0);

	InitMaterializedSRF(fcinfo, 0);
	CHECK_RESULT(fcinfo, validate_columns);
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
	const char *project;
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext spi;
	char	   *line;
	text	   *result;

	begin_call(fcinfo, 1);
	project = arg_project(fcinfo, 0);

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
	const char *sql;
	bool		nontransactional;

	begin_call(fcinfo, 2);
	sql = arg_text(fcinfo, 0, "sql");
	nontransactional = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);

	mg_mask_activity();
	InitMaterializedSRF(fcinfo, 0);
	CHECK_RESULT(fcinfo, findings_columns);
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
	const char *revision;
	const char *project;
	MgState    *state;
	int			node = -1;
	int			i;

	begin_call(fcinfo, 2);
	revision = arg_text(fcinfo, 0, "revision");
	project = arg_project(fcinfo, 1);
	mg_check_revision_id(revision, "revision");

	InitMaterializedSRF(fcinfo, 0);
	CHECK_RESULT(fcinfo, findings_columns);
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
	char	   *sql;

	begin_call(fcinfo, 1);
	sql = text_to_cstring(PG_GETARG_TEXT_PP(0));

	mg_mask_activity();
	PG_RETURN_TEXT_P(cstring_to_text(mg_mask_secrets(sql)));
}

/*
 * The start of every SQL-callable function, before it reads an argument:
 * refuse to run under SQL objects of another version than this library's,
 * and refuse a call with another number of arguments than the function
 * takes (nargs), which only a declaration made by hand can give once the
 * version is right.  The caller's statement is masked in pg_stat_activity
 * first (mask.c), so that a refused call leaves no password showing there
 * either.
 */
static void
begin_call(FunctionCallInfo fcinfo, int nargs)
{
	mg_mask_activity();
	mg_check_extension_version();
	if (PG_NARGS() != nargs)
		ereport(ERROR,
				(errcode(ERRCODE_MG_VERSION_MISMATCH),
				 errmsg("function \"%s\" was called with %d arguments; pg_migrate %s declares it with %d",
						get_func_name(fcinfo->flinfo->fn_oid), PG_NARGS(),
						MG_EXTENSION_VERSION, nargs),
				 errdetail("Its SQL declaration is not the one of the installed extension."),
				 errhint("Run ALTER EXTENSION pg_migrate UPDATE, and call the functions the extension declares.")));
}

/*
 * Refuse a set-returning call whose declared result is not the ncolumns
 * columns of the given types that the function returns (see begin_call).
 * InitMaterializedSRF has built the result's descriptor.
 */
static void
check_result(FunctionCallInfo fcinfo, const Oid *types, int ncolumns)
{
	TupleDesc	desc = ((ReturnSetInfo *) fcinfo->resultinfo)->setDesc;
	int			i = 0;

	if (desc->natts == ncolumns)
		while (i < ncolumns && TupleDescAttr(desc, i)->atttypid == types[i])
			i++;
	if (i == ncolumns)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_MG_VERSION_MISMATCH),
			 errmsg("function \"%s\" is declared with a result that pg_migrate %s does not return",
					get_func_name(fcinfo->flinfo->fn_oid), MG_EXTENSION_VERSION),
			 desc->natts != ncolumns ?
			 errdetail("It is declared to return %d columns; the library returns %d.",
					   desc->natts, ncolumns) :
			 errdetail("Its column %d is declared as %s; the library returns %s.", i + 1,
					   format_type_be(TupleDescAttr(desc, i)->atttypid),
					   format_type_be(types[i])),
			 errhint("Run ALTER EXTENSION pg_migrate UPDATE, and call the functions the extension declares.")));
}

/* The project argument, resolved and checked. */
static const char *
arg_project(FunctionCallInfo fcinfo, int argno)
{
	return mg_resolve_project(PG_ARGISNULL(argno) ? NULL :
							  text_to_cstring(PG_GETARG_TEXT_PP(argno)));
}

/*
 * A target argument: not null, and written as a target (mg_check_target),
 * checked before anything is locked or recorded.
 */
static const char *
arg_target(FunctionCallInfo fcinfo, int argno)
{
	const char *target = arg_text(fcinfo, argno, "target");

	mg_check_target(target);
	return target;
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
