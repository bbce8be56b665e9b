/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  Read and change the registry of revisions and the applied set.
 *
 * Every function here does its reading and writing in an owner scope
 * (catalog.c).  Changes to the registry take the project's migration lock
 * first, so a registration and an upgrade never interleave.
 *
 * The common case is made cheap by a flag: an upgrade that finds every
 * registered revision applied, without drift, under a single head, marks
 * the project clean.  Triggers on migrate.revision and migrate.applied clear
 * the flag of every project a change touches, made by pg_migrate or by
 * hand, so as long as it is set the next upgrade to "head" is one
 * single-row lookup, however many revisions are applied.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "checksum.h"
#include "history.h"
#include "lock.h"
#include "pg_migrate.h"
#include "reader.h"
#include "registry.h"
#include "script.h"

static bool same_text(const char *a, const char *b);
static bool same_parents(char **a, int na, char **b, int nb);
static char *checksum_in_context(const char *project, const char *revision, const char *up);
static char *join_ids(char **ids, int n);
static void insert_applied(const char *project, const char *role,
						   const MgAppliedRecord *records, int n);
static char *source_hash_of(const MgRegistration *reg, char **parents, int nparents);

/*
 * True when project was found fully applied at head and nothing changed in
 * its registry since.
 */
bool
mg_registry_is_clean(const char *project)
{
	MgOwnerScope scope;
	Datum		values[1];
	bool		clean = false;

	values[0] = CStringGetTextDatum(project);
	mg_owner_begin(&scope);
	if (mg_catalog_exec(MGQ_PROJECT_STATE, values, NULL) == 1)
	{
		bool		isnull;

		clean = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 1, &isnull));
	}
	mg_owner_end(&scope);
	return clean;
}

/*
 * Load project's registry and applied set, and build its graph.
 */
MgState *
mg_registry_load(const char *project)
{
	MgState    *state = palloc0(sizeof(MgState));
	MgOwnerScope scope;
	Datum		values[1];
	int			nrev;
	int			norphans;
	int			i;
	const char **ids;
	int		   *nparents;
	char	 ***parents;

	state->project = project;
	values[0] = CStringGetTextDatum(project);

	mg_owner_begin(&scope);

	nrev = mg_catalog_exec(MGQ_LOAD_REVISIONS, values, NULL);
	state->revisions = palloc0(sizeof(MgRevision) * Max(nrev, 1));
	for (i = 0; i < nrev; i++)
	{
		MgRevision *rev = &state->revisions[i];
		bool		isnull;

		rev->id = mg_result_text(i, 1);
		rev->parents = mg_result_text_array(i, 2, &rev->nparents);
		rev->checksum = mg_result_text(i, 3);
		rev->description = mg_result_text(i, 4);
		rev->applied_checksum = mg_result_text(i, 5);
		rev->applied = rev->applied_checksum != NULL;
		rev->applied_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i],
															SPI_tuptable->tupdesc, 6, &isnull));
		rev->nontransactional = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 7, &isnull));
	}
	state->nregistered = nrev;

	norphans = mg_catalog_exec(MGQ_LOAD_ORPHANS, values, NULL);
	if (norphans > 0)
		state->revisions = repalloc(state->revisions, sizeof(MgRevision) * (nrev + norphans));
	for (i = 0; i < norphans; i++)
	{
		MgRevision *rev = &state->revisions[nrev + i];
		bool		isnull;

		memset(rev, 0, sizeof(MgRevision));
		rev->id = mg_result_text(i, 1);
		rev->applied_checksum = mg_result_text(i, 2);
		rev->applied = true;
		rev->applied_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i],
															SPI_tuptable->tupdesc, 3, &isnull));
	}
	state->nrevisions = nrev + norphans;

	mg_owner_end(&scope);

	ids = palloc(sizeof(char *) * Max(nrev, 1));
	nparents = palloc(sizeof(int) * Max(nrev, 1));
	parents = palloc(sizeof(char **) * Max(nrev, 1));
	for (i = 0; i < nrev; i++)
	{
		ids[i] = state->revisions[i].id;
		nparents[i] = state->revisions[i].nparents;
		parents[i] = state->revisions[i].parents;
	}
	state->graph = graph_build(nrev, ids, nparents, parents);
	return state;
}

/*
 * Load the up and down scripts of the given registered revisions (graph
 * nodes).
 */
void
mg_registry_load_scripts(MgState *state, const int *nodes, int n)
{
	MgOwnerScope scope;
	Datum		values[2];
	char	  **ids;
	int			nrows;
	int			i;

	if (n == 0)
		return;
	ids = palloc(sizeof(char *) * n);
	for (i = 0; i < n; i++)
		ids[i] = state->revisions[nodes[i]].id;
	values[0] = CStringGetTextDatum(state->project);
	values[1] = mg_text_array(ids, n);

	mg_owner_begin(&scope);
	nrows = mg_catalog_exec(MGQ_LOAD_SCRIPTS, values, NULL);
	for (i = 0; i < nrows; i++)
	{
		char	   *id = mg_result_text(i, 1);
		int			node = graph_find(state->graph, id);

		Assert(node >= 0);
		state->revisions[node].up = mg_result_text(i, 2);
		state->revisions[node].down = mg_result_text(i, 3);
	}
	mg_owner_end(&scope);
}

/*
 * Record that state's project is fully applied at head.  The caller must
 * hold the migration lock and have checked that.
 */
void
mg_registry_mark_clean(const MgState *state)
{
	MgOwnerScope scope;
	Datum		values[1];

	values[0] = CStringGetTextDatum(state->project);
	mg_owner_begin(&scope);
	mg_catalog_exec(MGQ_MARK_CLEAN, values, NULL);
	mg_owner_end(&scope);
}

/*
 * Record the n revisions an upgrade to target applied for role, with their
 * history rows: two statements, however many revisions.
 */
void
mg_registry_record_applied(const MgState *state, const char *target, const char *role,
						   const MgAppliedRecord *records, int n)
{
	MgOwnerScope scope;
	MgHistoryEntry *entries = palloc0(sizeof(MgHistoryEntry) * Max(n, 1));
	int			i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
	{
		const MgAppliedRecord *r = &records[i];

		entries[i].event = "upgrade";
		entries[i].revision = r->rev->id;
		entries[i].checksum = r->rev->checksum;
		entries[i].started_at = r->started;
		entries[i].finished_at = r->finished;
		entries[i].statements = r->statements;
		entries[i].attempts = r->attempts;
	}

	mg_owner_begin(&scope);
	insert_applied(state->project, role, records, n);
	mg_history_record(state->project, target, role, entries, n);
	mg_owner_end(&scope);
}

/*
 * Insert the applied rows of records, with their registered checksums, in
 * one statement.  The caller must be in an owner scope.
 */
static void
insert_applied(const char *project, const char *role,
			   const MgAppliedRecord *records, int n)
{
	Datum		values[8];
	Datum	   *ids = palloc(sizeof(Datum) * n);
	Datum	   *checksums = palloc(sizeof(Datum) * n);
	Datum	   *started = palloc(sizeof(Datum) * n);
	Datum	   *finished = palloc(sizeof(Datum) * n);
	Datum	   *statements = palloc(sizeof(Datum) * n);
	Datum	   *attempts = palloc(sizeof(Datum) * n);
	int			i;

	for (i = 0; i < n; i++)
	{
		const MgAppliedRecord *r = &records[i];

		ids[i] = CStringGetTextDatum(r->rev->id);
		checksums[i] = CStringGetTextDatum(r->rev->checksum);
		started[i] = TimestampTzGetDatum(r->started);
		finished[i] = TimestampTzGetDatum(r->finished);
		statements[i] = Int32GetDatum(r->statements);
		attempts[i] = Int32GetDatum(r->attempts);
	}
	values[0] = CStringGetTextDatum(project);
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(role));
	values[2] = mg_array(ids, NULL, n, TEXTOID);
	values[3] = mg_array(checksums, NULL, n, TEXTOID);
	values[4] = mg_array(started, NULL, n, TIMESTAMPTZOID);
	values[5] = mg_array(finished, NULL, n, TIMESTAMPTZOID);
	values[6] = mg_array(statements, NULL, n, INT4OID);
	values[7] = mg_array(attempts, NULL, n, INT4OID);
	mg_catalog_exec(MGQ_INSERT_APPLIED, values, NULL);
}

/*
 * Record the n revisions a downgrade to target reverted for role: their
 * applied rows go, a history row each says so.
 */
void
mg_registry_record_reverted(const MgState *state, const char *target, const char *role,
							const MgAppliedRecord *records, int n)
{
	MgOwnerScope scope;
	Datum		values[2];
	char	  **ids = palloc(sizeof(char *) * Max(n, 1));
	MgHistoryEntry *entries = palloc0(sizeof(MgHistoryEntry) * Max(n, 1));
	int			i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
	{
		const MgAppliedRecord *r = &records[i];

		ids[i] = r->rev->id;
		entries[i].event = "downgrade";
		entries[i].revision = r->rev->id;
		entries[i].checksum = r->rev->applied_checksum;
		entries[i].started_at = r->started;
		entries[i].finished_at = r->finished;
		entries[i].statements = r->statements;
		entries[i].attempts = r->attempts;
	}
	values[0] = CStringGetTextDatum(state->project);
	values[1] = mg_text_array(ids, n);

	mg_owner_begin(&scope);
	mg_catalog_exec(MGQ_DELETE_APPLIED, values, NULL);
	mg_history_record(state->project, target, role, entries, n);
	mg_owner_end(&scope);
}

/*
 * Record a stamp to target for role: the added revisions (graph nodes)
 * become applied with their registered checksums, without having run; the
 * removed ones (indexes into state->revisions, possibly unregistered) are
 * no longer applied.  A history row each, "stamp" or "unstamp".
 */
void
mg_registry_record_stamp(const MgState *state, const char *target, const char *role,
						 const int *added, int nadded, const int *removed, int nremoved)
{
	TimestampTz now = GetCurrentTimestamp();
	MgOwnerScope scope;
	MgHistoryEntry *entries = palloc0(sizeof(MgHistoryEntry) * Max(nadded + nremoved, 1));
	MgAppliedRecord *records = palloc0(sizeof(MgAppliedRecord) * Max(nadded, 1));
	char	  **removed_ids = palloc(sizeof(char *) * Max(nremoved, 1));
	Datum		values[8];
	int			i;

	for (i = 0; i < nadded; i++)
	{
		const MgRevision *rev = &state->revisions[added[i]];

		records[i].rev = rev;
		records[i].started = now;
		records[i].finished = now;
		entries[i].event = "stamp";
		entries[i].revision = rev->id;
		entries[i].checksum = rev->checksum;
	}
	for (i = 0; i < nremoved; i++)
	{
		const MgRevision *rev = &state->revisions[removed[i]];
		MgHistoryEntry *e = &entries[nadded + i];

		removed_ids[i] = rev->id;
		e->event = "unstamp";
		e->revision = rev->id;
		e->checksum = rev->applied_checksum;
	}
	for (i = 0; i < nadded + nremoved; i++)
	{
		entries[i].started_at = now;
		entries[i].finished_at = now;
		entries[i].statements = -1;
		entries[i].attempts = -1;
	}

	mg_owner_begin(&scope);
	if (nremoved > 0)
	{
		values[0] = CStringGetTextDatum(state->project);
		values[1] = mg_text_array(removed_ids, nremoved);
		mg_catalog_exec(MGQ_DELETE_APPLIED, values, NULL);
	}
	if (nadded > 0)
		insert_applied(state->project, role, records, nadded);
	if (nadded + nremoved > 0)
		mg_history_record(state->project, target, role, entries, nadded + nremoved);
	mg_owner_end(&scope);
}

/*
 * Accept the registered checksum of applied revision as the one it was
 * applied with, after an intended edit of its script; return "repaired",
 * or "unchanged" when there was no drift.  Recorded in the history with
 * both checksums.
 */
const char *
mg_registry_repair(const char *project, const char *revision)
{
	char	   *role = GetUserNameFromId(GetUserId(), false);
	TimestampTz started = GetCurrentTimestamp();
	MgOwnerScope scope;
	Datum		values[3];
	char	   *checksum;
	char	   *applied_checksum;
	MgHistoryEntry entry = {0};

	mg_check_revision_id(revision, "revision");
	mg_lock_project(project, pg_migrate_lock_wait_timeout, "migrate_repair");

	values[0] = CStringGetTextDatum(project);
	values[1] = CStringGetTextDatum(revision);

	mg_owner_begin(&scope);
	mg_catalog_exec(MGQ_GET_REVISION, values, NULL);
	checksum = mg_result_text(0, 2);
	applied_checksum = mg_result_text(0, 6);
	if (checksum == NULL)
		ereport(ERROR,
				(errcode(applied_checksum ? ERRCODE_MG_NOT_REGISTERED : ERRCODE_MG_UNKNOWN_REVISION),
				 errmsg("revision \"%s\" is not registered in project \"%s\"", revision, project),
				 applied_checksum ?
				 errdetail("It is applied, but its script is no longer registered, so there is no checksum to accept.") : 0,
				 errhint("Register the revision's script first.")));
	if (applied_checksum == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_MG_NOT_APPLIED),
				 errmsg("revision \"%s\" is not applied", revision),
				 errdetail("Repair accepts an edited script of an applied revision; an unapplied revision is checked when it is applied."),
				 errhint("Nothing needs repairing; migrate_register updates an unapplied revision.")));

	if (strcmp(checksum, applied_checksum) == 0)
	{
		mg_owner_end(&scope);
		return "unchanged";
	}

	values[2] = CStringGetTextDatum(checksum);
	mg_catalog_exec(MGQ_REPAIR_APPLIED, values, NULL);

	entry.event = "repair";
	entry.revision = revision;
	entry.checksum = checksum;
	entry.previous_checksum = applied_checksum;
	entry.started_at = started;
	entry.finished_at = GetCurrentTimestamp();
	entry.statements = -1;
	entry.attempts = -1;
	mg_history_record(project, NULL, role, &entry, 1);
	mg_owner_end(&scope);
	return "repaired";
}

/*
 * Add or update a revision; return "added", "unchanged", "updated", or for
 * a sync "drifted".
 *
 * parents_given false means "the current single head" for a new revision
 * and "keep the registered parents" for an existing one.  Changing the up
 * script (by checksum) or the parents of an applied revision is refused
 * unless force is set; validation then reports the drift.  A sync (files
 * read from a folder) records an edited applied script as force would and
 * says "drifted", so that validation and upgrade report it, and keeps the
 * registered parents of an applied revision: a file added before it in the
 * folder's order starts a branch instead of rewriting history.
 *
 * The registry keeps, with each revision, the hash a folder's reader gives
 * for the same content (mg_file_revision_hash), so that a client can tell
 * what is registered as it is without sending it.
 */
const char *
mg_registry_register(const char *project, const MgRegistration *reg)
{
	const char *revision = reg->revision;
	char	  **parents = reg->parents;
	int			nparents = reg->nparents;
	char	   *role = GetUserNameFromId(GetUserId(), false);
	TimestampTz started = GetCurrentTimestamp();
	MgOwnerScope scope;
	Datum		key[2];
	Datum		values[10];
	char		nulls[10];
	bool		registered;
	char	   *old_checksum;
	char	   *old_up;
	char	   *old_down;
	char	   *old_description;
	char	  **old_parents = NULL;
	int			old_nparents = 0;
	bool		old_nontransactional = false;
	char	   *old_source_hash;
	char	   *applied_checksum;
	char	   *checksum;
	char	   *source_hash;
	const char *result;
	bool		drifted;
	MgHistoryEntry entry = {0};
	int			i,
				j;

	mg_check_revision_id(revision, "revision");
	for (i = 0; i < nparents; i++)
	{
		mg_check_revision_id(parents[i], "parent");
		if (strcmp(parents[i], revision) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_MG_INVALID_GRAPH),
					 errmsg("revision \"%s\" cannot be its own parent", revision),
					 errhint("Pass the revision's real parents, or '{}' for a root.")));
		for (j = 0; j < i; j++)
			if (strcmp(parents[i], parents[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_MG_INVALID_GRAPH),
						 errmsg("parent \"%s\" is listed twice", parents[i]),
						 errhint("List each parent once.")));
	}
	if (reg->up == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_ARGUMENT),
				 errmsg("the up script of revision \"%s\" must not be null", revision),
				 errhint("Pass an empty string for a revision that does nothing.")));

	checksum = checksum_in_context(project, revision, reg->up);

	mg_lock_project(project, pg_migrate_lock_wait_timeout,
					reg->sync ? "migrate_sync" : "migrate_register");

	key[0] = CStringGetTextDatum(project);
	key[1] = CStringGetTextDatum(revision);

	mg_owner_begin(&scope);

	mg_catalog_exec(MGQ_GET_REVISION, key, NULL);
	Assert(SPI_processed == 1);
	old_checksum = mg_result_text(0, 2);
	registered = old_checksum != NULL;
	old_up = mg_result_text(0, 3);
	old_down = mg_result_text(0, 4);
	old_description = mg_result_text(0, 5);
	applied_checksum = mg_result_text(0, 6);
	old_source_hash = mg_result_text(0, 8);
	if (registered)
	{
		bool		isnull;

		old_parents = mg_result_text_array(0, 1, &old_nparents);
		old_nontransactional = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
														  SPI_tuptable->tupdesc, 7, &isnull));
	}

	if (!reg->parents_given || (reg->sync && applied_checksum != NULL && registered))
	{
		if (registered)
		{
			parents = old_parents;
			nparents = old_nparents;
		}
		else
		{
			int			nheads = mg_catalog_exec(MGQ_REGISTRY_HEADS, key, NULL);

			if (nheads > 1)
			{
				char	  **heads = palloc(sizeof(char *) * nheads);

				for (i = 0; i < nheads; i++)
					heads[i] = mg_result_text(i, 1);
				ereport(ERROR,
						(errcode(ERRCODE_MG_SEVERAL_HEADS),
						 errmsg("cannot append revision \"%s\": project \"%s\" has %d heads",
								revision, project, nheads),
						 errdetail("Heads: %s.", join_ids(heads, nheads)),
						 errhint("Pass the parents explicitly, for example parents => ARRAY[...] listing the heads to merge them.")));
			}
			nparents = nheads;
			parents = palloc(sizeof(char *) * Max(nheads, 1));
			if (nheads == 1)
				parents[0] = mg_result_text(0, 1);
		}
	}
	source_hash = source_hash_of(reg, parents, nparents);

	if (registered &&
		same_text(old_up, reg->up) && same_text(old_down, reg->down) &&
		same_text(old_description, reg->description) &&
		same_parents(old_parents, old_nparents, parents, nparents) &&
		old_nontransactional == reg->nontransactional)
	{
		/* registered before the registry kept source hashes */
		if (!same_text(old_source_hash, source_hash))
		{
			values[0] = key[0];
			values[1] = key[1];
			values[2] = CStringGetTextDatum(source_hash);
			mg_catalog_exec(MGQ_SET_SOURCE_HASH, values, NULL);
		}
		mg_owner_end(&scope);
		return "unchanged";
	}

	drifted = applied_checksum != NULL && strcmp(applied_checksum, checksum) != 0;
	if (applied_checksum != NULL && !reg->force && !reg->sync &&
		(drifted || (registered && !same_parents(old_parents, old_nparents, parents, nparents))))
		ereport(ERROR,
				(errcode(ERRCODE_MG_REVISION_APPLIED),
				 errmsg("revision \"%s\" is applied and its %s differs",
						revision, drifted ? "up script" : "parent list"),
				 drifted ?
				 errdetail("Applied with checksum %s; the new script has checksum %s.",
						   applied_checksum, checksum) :
				 errdetail("Registered with parents {%s}; the new parents are {%s}.",
						   join_ids(old_parents, old_nparents), join_ids(parents, nparents)),
				 errhint("Add a new revision for the change.  To record the edit anyway, pass force => true; validation then reports the drift.")));

	memset(nulls, ' ', sizeof(nulls));
	values[0] = key[0];
	values[1] = key[1];
	values[2] = mg_text_array(parents, nparents);
	values[3] = reg->description ? CStringGetTextDatum(reg->description) : (Datum) 0;
	nulls[3] = reg->description ? ' ' : 'n';
	values[4] = CStringGetTextDatum(reg->up);
	values[5] = reg->down ? CStringGetTextDatum(reg->down) : (Datum) 0;
	nulls[5] = reg->down ? ' ' : 'n';
	values[6] = CStringGetTextDatum(checksum);
	values[7] = DirectFunctionCall1(namein, CStringGetDatum(role));
	values[8] = BoolGetDatum(reg->nontransactional);
	values[9] = CStringGetTextDatum(source_hash);

	mg_catalog_exec(registered ? MGQ_UPDATE_REVISION : MGQ_INSERT_REVISION, values, nulls);

	result = !registered ? "added" : (reg->sync && drifted) ? "drifted" : "updated";
	entry.event = registered ? "update" : "register";
	entry.revision = revision;
	entry.checksum = checksum;
	entry.previous_checksum = registered && strcmp(old_checksum, checksum) != 0 ? old_checksum : NULL;
	entry.started_at = started;
	entry.finished_at = GetCurrentTimestamp();
	entry.statements = -1;
	entry.attempts = -1;
	if ((reg->force || reg->sync) && drifted)
		entry.detail = psprintf("%s: applied with checksum %s",
								reg->sync ? "synced" : "forced", applied_checksum);
	else if (nparents > 0)
		entry.detail = psprintf("parents {%s}", join_ids(parents, nparents));
	mg_history_record(project, NULL, role, &entry, 1);

	mg_owner_end(&scope);
	return result;
}

/*
 * The source hash of a registration with its parents resolved, as a
 * folder's reader computes it for a file.
 */
static char *
source_hash_of(const MgRegistration *reg, char **parents, int nparents)
{
	MgFileRevision rev = {0};

	rev.id = (char *) reg->revision;
	rev.parents = parents;
	rev.nparents = nparents;
	rev.description = (char *) reg->description;
	rev.up = (char *) reg->up;
	rev.down = (char *) reg->down;
	rev.nontransactional = reg->nontransactional;
	return mg_file_revision_hash(&rev);
}

/*
 * Each registered revision of project with its source hash (NULL for one
 * registered before the registry kept them), as a List of two-element
 * char * arrays, in byte order of ids.
 */
List *
mg_registry_sources(const char *project)
{
	MgOwnerScope scope;
	Datum		values[1];
	List	   *result = NIL;
	int			n;
	int			i;

	values[0] = CStringGetTextDatum(project);
	mg_owner_begin(&scope);
	n = mg_catalog_exec(MGQ_SOURCES, values, NULL);
	for (i = 0; i < n; i++)
	{
		char	  **pair = palloc(sizeof(char *) * 2);

		pair[0] = mg_result_text(i, 1);
		pair[1] = mg_result_text(i, 2);
		result = lappend(result, pair);
	}
	mg_owner_end(&scope);
	return result;
}

/*
 * Remove a registered revision that is not applied and has no children.
 */
void
mg_registry_unregister(const char *project, const char *revision)
{
	char	   *role = GetUserNameFromId(GetUserId(), false);
	TimestampTz started = GetCurrentTimestamp();
	MgOwnerScope scope;
	Datum		key[2];
	char	   *checksum;
	int			nchildren;
	MgHistoryEntry entry = {0};

	mg_check_revision_id(revision, "revision");
	mg_lock_project(project, pg_migrate_lock_wait_timeout, "migrate_unregister");

	key[0] = CStringGetTextDatum(project);
	key[1] = CStringGetTextDatum(revision);

	mg_owner_begin(&scope);
	mg_catalog_exec(MGQ_GET_REVISION, key, NULL);
	checksum = mg_result_text(0, 2);
	if (checksum == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_MG_UNKNOWN_REVISION),
				 errmsg("revision \"%s\" is not registered in project \"%s\"", revision, project),
				 errhint("migrate_heads() and migrate_pending() list registered revisions.")));
	if (mg_result_text(0, 6) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_MG_REVISION_APPLIED),
				 errmsg("revision \"%s\" is applied and cannot be unregistered", revision),
				 errdetail("An applied revision stays registered so that its checksum can be checked."),
				 errhint("Only revisions that are not applied can be unregistered.")));

	nchildren = mg_catalog_exec(MGQ_CHILDREN, key, NULL);
	if (nchildren > 0)
	{
		char	  **children = palloc(sizeof(char *) * nchildren);
		int			i;

		for (i = 0; i < nchildren; i++)
			children[i] = mg_result_text(i, 1);
		ereport(ERROR,
				(errcode(ERRCODE_MG_HAS_CHILDREN),
				 errmsg("revision \"%s\" has children and cannot be unregistered", revision),
				 errdetail("Children: %s.", join_ids(children, nchildren)),
				 errhint("Unregister the children first.")));
	}

	mg_catalog_exec(MGQ_DELETE_REVISION, key, NULL);

	entry.event = "unregister";
	entry.revision = revision;
	entry.previous_checksum = checksum;
	entry.started_at = started;
	entry.finished_at = GetCurrentTimestamp();
	entry.statements = -1;
	entry.attempts = -1;
	mg_history_record(project, NULL, role, &entry, 1);
	mg_owner_end(&scope);
}

/* The checksum of up, with a context line if the lexer rejects it. */
static char *
checksum_in_context(const char *project, const char *revision, const char *up)
{
	MgScript	script = {0};
	MgScriptErrorContext ctx;
	char	   *checksum;

	script.project = project;
	script.revision = revision;
	script.sql = up;
	mg_script_context_push(&ctx, &script);
	checksum = mg_script_checksum(up);
	mg_script_context_pop(&ctx);
	return checksum;
}

/* Equal strings, or both NULL? */
static bool
same_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* The same parents in the same order? */
static bool
same_parents(char **a, int na, char **b, int nb)
{
	int			i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

/* "a, b, c" */
static char *
join_ids(char **ids, int n)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < n; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", ids[i]);
	return buf.data;
}
