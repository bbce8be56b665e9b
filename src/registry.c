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
 * What is read from migrate.* is not trusted further than its constraints
 * reach: the owner of schema migrate, or a superuser, can write anything
 * the columns allow.  A NULL parent, a parent or an applied revision that
 * is not a revision id, a checksum that is long or has a control character
 * are refused with MG009 naming the row (read_parents, check_stored_id,
 * read_checksum), before they reach a plan, a message or the server log.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "checksum.h"
#include "history.h"
#include "lock.h"
#include "mask.h"
#include "pg_migrate.h"
#include "reader.h"
#include "registry.h"
#include "script.h"

/*
 * What the registry holds of a revision about to be registered.
 */
typedef struct Existing
{
	bool		registered;
	char	  **parents;
	int			nparents;
	char	   *checksum;
	char	   *up;
	char	   *down;
	char	   *description;
	char	   *applied_checksum;	/* NULL when not applied */
	bool		nontransactional;
	char	   *source_hash;
} Existing;

/*
 * What a registration does, once decided: which row it writes, if any, and
 * the history row that says so.
 */
typedef struct Decision
{
	const char *action;			/* added, unchanged, updated, drifted */
	bool		write;			/* insert or update the revision row */
	bool		set_hash;		/* only store the source hash */
	char	  **parents;		/* resolved */
	int			nparents;
	char	   *checksum;
	char	   *source_hash;
	MgHistoryEntry entry;
} Decision;

/* The place of a revision id among those a sync registers. */
typedef struct SyncSlot
{
	char		id[MG_MAX_REVISION_LEN + 1];
	int			index;
} SyncSlot;

static char **read_parents(int row, int col, const char *project, const char *revision,
						   int *nparents);
static void check_stored_id(const char *project, const char *id, const char *table);
static char *read_checksum(int row, int col, const char *project, const char *revision,
						   const char *table);
static bool same_text(const char *a, const char *b);
static bool same_parents(char **a, int na, char **b, int nb);
static char *checksum_in_context(const char *project, const char *revision, const char *up);
static char *join_ids(char **ids, int n);
static char *join_with(char **ids, int n, const char *sep);
static void insert_applied(const char *project, const char *role,
						   const MgAppliedRecord *records, int n);
static char *source_hash_of(const MgRegistration *reg, char **parents, int nparents);
static void check_registration(const MgRegistration *reg);
static void read_existing(const char *project, const char *revision, int row, int first,
						  Existing *old);
static void decide(const char *project, const MgRegistration *reg, const Existing *old,
				   char *checksum, Decision *d);
static char **single_head(const char *project, const char *revision, int *nparents);
static void lock_and_read(const char *project, const char *revision, const char *function,
						  MgOwnerScope *scope, Existing *old);
static void record_event(const char *project, const char *role, const char *event,
						 const char *revision, const char *checksum, const char *previous,
						 TimestampTz started);
static MgHistoryEntry *history_of_records(const MgAppliedRecord *records, int n,
										  const char *event);
static void log_records(const char *project, const MgAppliedRecord *records, int n,
						bool applied);
static void write_synced(const char *project, const char *role, const MgRegistration *regs,
						 const Existing *olds, const Decision *ds, char **checksums, int n);

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
		check_stored_id(project, rev->id, "migrate.revision");
		rev->parents = read_parents(i, 2, project, rev->id, &rev->nparents);
		rev->checksum = read_checksum(i, 3, project, rev->id, "migrate.revision");
		rev->description = mg_result_text(i, 4);
		rev->applied_checksum = read_checksum(i, 5, project, rev->id, "migrate.applied");
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
		check_stored_id(project, rev->id, "migrate.applied");
		rev->applied_checksum = read_checksum(i, 2, project, rev->id, "migrate.applied");
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
 * Is revision of project applied, as the applied set says now?  One index
 * lookup, for an operation that holds the migration lock and checks a
 * revision it planned earlier (run.c).
 */
bool
mg_registry_is_applied(const char *project, const char *revision)
{
	MgOwnerScope scope;
	Datum		key[2];
	bool		applied;

	key[0] = CStringGetTextDatum(project);
	key[1] = CStringGetTextDatum(revision);
	mg_owner_begin(&scope);
	mg_catalog_exec(MGQ_GET_REVISION, key, NULL);
	Assert(SPI_processed == 1);
	applied = mg_result_text(0, 6) != NULL;
	mg_owner_end(&scope);
	return applied;
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

	if (n == 0)
		return;
	mg_owner_begin(&scope);
	insert_applied(state->project, role, records, n);
	mg_history_record(state->project, target, role,
					  history_of_records(records, n, "upgrade"), n);
	mg_owner_end(&scope);
	log_records(state->project, records, n, true);
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
	int			i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		ids[i] = records[i].rev->id;
	values[0] = CStringGetTextDatum(state->project);
	values[1] = mg_text_array(ids, n);

	mg_owner_begin(&scope);
	mg_catalog_exec(MGQ_DELETE_APPLIED, values, NULL);
	mg_history_record(state->project, target, role,
					  history_of_records(records, n, "downgrade"), n);
	mg_owner_end(&scope);
	log_records(state->project, records, n, false);
}

/*
 * The history rows of the revisions an upgrade applied or a downgrade
 * reverted (event "upgrade" or "downgrade"): each with the checksum it is
 * applied with after an upgrade, or was applied with before a downgrade.
 */
static MgHistoryEntry *
history_of_records(const MgAppliedRecord *records, int n, const char *event)
{
	MgHistoryEntry *entries = palloc0(sizeof(MgHistoryEntry) * Max(n, 1));
	bool		upgrade = strcmp(event, "upgrade") == 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		const MgAppliedRecord *r = &records[i];

		entries[i].event = event;
		entries[i].revision = r->rev->id;
		entries[i].checksum = upgrade ? r->rev->checksum : r->rev->applied_checksum;
		entries[i].started_at = r->started;
		entries[i].finished_at = r->finished;
		entries[i].statements = r->statements;
		entries[i].attempts = r->attempts;
	}
	return entries;
}

/*
 * Queue the server log line of each record (history.c), written when the
 * transaction commits: applied by an upgrade, or else reverted.
 */
static void
log_records(const char *project, const MgAppliedRecord *records, int n, bool applied)
{
	int			i;

	for (i = 0; i < n; i++)
		mg_history_log_revision(applied, project, records[i].rev->id,
								records[i].started, records[i].finished,
								records[i].attempts);
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
	Existing	old;
	Datum		values[3];

	mg_check_revision_id(revision, "revision");
	lock_and_read(project, revision, "migrate_repair", &scope, &old);
	if (!old.registered)
		ereport(ERROR,
				(errcode(old.applied_checksum ? ERRCODE_MG_NOT_REGISTERED : ERRCODE_MG_UNKNOWN_REVISION),
				 errmsg("revision \"%s\" is not registered in project \"%s\"", revision, project),
				 old.applied_checksum ?
				 errdetail("It is applied, but its script is no longer registered, so there is no checksum to accept.") : 0,
				 errhint("Register the revision's script first.")));
	if (old.applied_checksum == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_MG_NOT_APPLIED),
				 errmsg("revision \"%s\" is not applied", revision),
				 errdetail("Repair accepts an edited script of an applied revision; an unapplied revision is checked when it is applied."),
				 errhint("Nothing needs repairing; migrate_register updates an unapplied revision.")));

	if (strcmp(old.checksum, old.applied_checksum) == 0)
	{
		mg_owner_end(&scope);
		return "unchanged";
	}

	values[0] = CStringGetTextDatum(project);
	values[1] = CStringGetTextDatum(revision);
	values[2] = CStringGetTextDatum(old.checksum);
	mg_catalog_exec(MGQ_REPAIR_APPLIED, values, NULL);
	record_event(project, role, "repair", revision, old.checksum, old.applied_checksum, started);
	mg_owner_end(&scope);
	return "repaired";
}

/*
 * Add or update a revision; return "added", "unchanged" or "updated".
 *
 * parents_given false means "the current single head" for a new revision
 * and "keep the registered parents" for an existing one.  Changing the up
 * script (by checksum) or the parents of an applied revision is refused
 * unless force is set; validation then reports the drift.
 *
 * The registry keeps, with each revision, the hash a folder's reader gives
 * for the same content (mg_file_revision_hash), so that a client can tell
 * what is registered as it is without sending it.
 */
const char *
mg_registry_register(const char *project, const MgRegistration *reg)
{
	char	   *role = GetUserNameFromId(GetUserId(), false);
	MgOwnerScope scope;
	Datum		key[2];
	Existing	old;
	Decision	d;
	char	   *checksum;

	check_registration(reg);
	checksum = checksum_in_context(project, reg->revision, reg->up);

	lock_and_read(project, reg->revision, "migrate_register", &scope, &old);
	key[0] = CStringGetTextDatum(project);
	key[1] = CStringGetTextDatum(reg->revision);

	decide(project, reg, &old, checksum, &d);
	if (d.write)
	{
		Datum		values[10];
		char		nulls[10];

		memset(nulls, ' ', sizeof(nulls));
		values[0] = key[0];
		values[1] = key[1];
		values[2] = mg_text_array(d.parents, d.nparents);
		values[3] = reg->description ? CStringGetTextDatum(reg->description) : (Datum) 0;
		nulls[3] = reg->description ? ' ' : 'n';
		values[4] = CStringGetTextDatum(reg->up);
		values[5] = reg->down ? CStringGetTextDatum(reg->down) : (Datum) 0;
		nulls[5] = reg->down ? ' ' : 'n';
		values[6] = CStringGetTextDatum(checksum);
		values[7] = DirectFunctionCall1(namein, CStringGetDatum(role));
		values[8] = BoolGetDatum(reg->nontransactional);
		values[9] = CStringGetTextDatum(d.source_hash);
		mg_catalog_exec(old.registered ? MGQ_UPDATE_REVISION : MGQ_INSERT_REVISION,
						values, nulls);
		mg_history_record(project, NULL, role, &d.entry, 1);
	}
	else if (d.set_hash)
	{
		Datum		values[3] = {key[0], key[1], CStringGetTextDatum(d.source_hash)};

		mg_catalog_exec(MGQ_SET_SOURCE_HASH, values, NULL);
	}
	mg_owner_end(&scope);
	return d.action;
}

/*
 * Register the n revisions a folder holds, in one go: the same decisions
 * as mg_registry_register, one read of what is registered, and a
 * statement per kind of write, however many revisions.  Two differences
 * suit files: an edited script of an applied revision is recorded as force
 * would record it and reported as "drifted", so that validation and the
 * upgrade report the drift; and the registered parents of an applied
 * revision are kept, so that a file added before it in the folder's order
 * starts a branch instead of rewriting history.  Returns one action per
 * revision, in order.
 */
const char **
mg_registry_sync(const char *project, const MgRegistration *regs, int n)
{
	char	   *role = GetUserNameFromId(GetUserId(), false);
	const char **actions = palloc(sizeof(char *) * Max(n, 1));
	char	  **ids = palloc(sizeof(char *) * Max(n, 1));
	char	  **checksums = palloc(sizeof(char *) * Max(n, 1));
	Existing   *olds = palloc0(sizeof(Existing) * Max(n, 1));
	Decision   *ds = palloc0(sizeof(Decision) * Max(n, 1));
	MgHistoryEntry *entries = palloc(sizeof(MgHistoryEntry) * Max(n, 1));
	int			nentries = 0;
	HTAB	   *byid;
	HASHCTL		ctl;
	MgOwnerScope scope;
	Datum		values[2];
	int			nrows;
	int			i;

	ctl.keysize = MG_MAX_REVISION_LEN + 1;
	ctl.entrysize = sizeof(SyncSlot);
	ctl.hcxt = CurrentMemoryContext;
	byid = hash_create("pg_migrate sync", Max(n, 16), &ctl,
					   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	for (i = 0; i < n; i++)
	{
		bool		found;
		SyncSlot   *slot;

		check_registration(&regs[i]);
		slot = hash_search(byid, regs[i].revision, HASH_ENTER, &found);
		if (found)
			ereport(ERROR,
					(errcode(ERRCODE_MG_INVALID_ARGUMENT),
					 errmsg("revision \"%s\" is given twice", regs[i].revision),
					 errhint("Send each revision once.")));
		slot->index = i;
		ids[i] = (char *) regs[i].revision;
		checksums[i] = checksum_in_context(project, regs[i].revision, regs[i].up);
	}

	mg_lock_project(project, pg_migrate_lock_wait_timeout, "migrate_sync");

	values[0] = CStringGetTextDatum(project);
	values[1] = mg_text_array(ids, n);
	mg_owner_begin(&scope);
	nrows = mg_catalog_exec(MGQ_GET_REVISIONS, values, NULL);
	for (i = 0; i < nrows; i++)
	{
		char	   *id = mg_result_text(i, 1);
		SyncSlot   *slot = hash_search(byid, id, HASH_FIND, NULL);

		Assert(slot != NULL);
		read_existing(project, id, i, 1, &olds[slot->index]);
	}

	for (i = 0; i < n; i++)
	{
		decide(project, &regs[i], &olds[i], checksums[i], &ds[i]);
		actions[i] = ds[i].action;
		if (ds[i].write)
			entries[nentries++] = ds[i].entry;
	}
	write_synced(project, role, regs, olds, ds, checksums, n);
	mg_history_record(project, NULL, role, entries, nentries);
	mg_owner_end(&scope);
	return actions;
}

/*
 * Refuse a registration whose revision id, parents or up script cannot be
 * registered at all, before anything is read.
 */
static void
check_registration(const MgRegistration *reg)
{
	int			i,
				j;

	mg_check_revision_id(reg->revision, "revision");
	for (i = 0; i < reg->nparents; i++)
	{
		mg_check_revision_id(reg->parents[i], "parent");
		if (strcmp(reg->parents[i], reg->revision) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_MG_INVALID_GRAPH),
					 errmsg("revision \"%s\" cannot be its own parent", reg->revision),
					 errhint("Pass the revision's real parents, or '{}' for a root.")));
		for (j = 0; j < i; j++)
			if (strcmp(reg->parents[i], reg->parents[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_MG_INVALID_GRAPH),
						 errmsg("parent \"%s\" is listed twice", reg->parents[i]),
						 errhint("List each parent once.")));
	}
	if (reg->up == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_ARGUMENT),
				 errmsg("the up script of revision \"%s\" must not be null", reg->revision),
				 errhint("Pass an empty string for a revision that does nothing.")));
}

/*
 * Fill *old from row of the last SPI result, whose columns from first + 1
 * on are those of MGQ_GET_REVISION for revision of project; a row of nulls
 * means not registered.
 */
static void
read_existing(const char *project, const char *revision, int row, int first,
			  Existing *old)
{
	bool		isnull;

	memset(old, 0, sizeof(Existing));
	old->checksum = read_checksum(row, first + 2, project, revision, "migrate.revision");
	old->registered = old->checksum != NULL;
	old->up = mg_result_text(row, first + 3);
	old->down = mg_result_text(row, first + 4);
	old->description = mg_result_text(row, first + 5);
	old->applied_checksum = read_checksum(row, first + 6, project, revision, "migrate.applied");
	old->source_hash = mg_result_text(row, first + 8);
	if (old->registered)
	{
		old->parents = read_parents(row, first + 1, project, revision, &old->nparents);
		old->nontransactional = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[row],
														   SPI_tuptable->tupdesc,
														   first + 7, &isnull));
	}
}

/*
 * Decide what registering reg (whose up script has the given checksum)
 * does, given what is registered: resolve its parents, compare, and refuse
 * an edit of an applied revision that is neither forced nor a sync.  The
 * caller must hold the migration lock and be in an owner scope.
 */
static void
decide(const char *project, const MgRegistration *reg, const Existing *old,
	   char *checksum, Decision *d)
{
	bool		drifted;
	bool		keep_parents = !reg->parents_given ||
		(reg->sync && old->registered && old->applied_checksum != NULL);

	memset(d, 0, sizeof(Decision));
	d->checksum = checksum;
	d->parents = reg->parents;
	d->nparents = reg->nparents;
	if (keep_parents && old->registered)
	{
		d->parents = old->parents;
		d->nparents = old->nparents;
	}
	else if (keep_parents)
		d->parents = single_head(project, reg->revision, &d->nparents);
	d->source_hash = source_hash_of(reg, d->parents, d->nparents);

	if (old->registered &&
		same_text(old->up, reg->up) && same_text(old->down, reg->down) &&
		same_text(old->description, reg->description) &&
		same_parents(old->parents, old->nparents, d->parents, d->nparents) &&
		old->nontransactional == reg->nontransactional)
	{
		d->action = "unchanged";
		/* registered before the registry kept source hashes */
		d->set_hash = !same_text(old->source_hash, d->source_hash);
		return;
	}

	drifted = old->applied_checksum != NULL && strcmp(old->applied_checksum, checksum) != 0;
	if (old->applied_checksum != NULL && !reg->force && !reg->sync &&
		(drifted || !same_parents(old->parents, old->nparents, d->parents, d->nparents)))
		ereport(ERROR,
				(errcode(ERRCODE_MG_REVISION_APPLIED),
				 errmsg("revision \"%s\" is applied and its %s differs",
						reg->revision, drifted ? "up script" : "parent list"),
				 drifted ?
				 errdetail("Applied with checksum %s; the new script has checksum %s.",
						   old->applied_checksum, checksum) :
				 errdetail("Registered with parents {%s}; the new parents are {%s}.",
						   join_ids(old->parents, old->nparents), join_ids(d->parents, d->nparents)),
				 errhint("Add a new revision for the change.  To record the edit anyway, pass force => true; validation then reports the drift.")));

	d->write = true;
	d->action = !old->registered ? "added" : (reg->sync && drifted) ? "drifted" : "updated";
	d->entry.event = old->registered ? "update" : "register";
	d->entry.revision = reg->revision;
	d->entry.checksum = checksum;
	d->entry.previous_checksum =
		old->registered && strcmp(old->checksum, checksum) != 0 ? old->checksum : NULL;
	d->entry.started_at = GetCurrentTimestamp();
	d->entry.finished_at = d->entry.started_at;
	d->entry.statements = -1;
	d->entry.attempts = -1;
	if ((reg->force || reg->sync) && drifted)
		d->entry.detail = psprintf("%s: applied with checksum %s",
								   reg->sync ? "synced" : "forced", old->applied_checksum);
	else if (d->nparents > 0)
		d->entry.detail = psprintf("parents {%s}", join_ids(d->parents, d->nparents));
}

/*
 * The parents of a new revision registered without any: the current single
 * head, or none in an empty registry.  Several heads are an error.
 */
static char **
single_head(const char *project, const char *revision, int *nparents)
{
	Datum		key[1] = {CStringGetTextDatum(project)};
	int			nheads = mg_catalog_exec(MGQ_REGISTRY_HEADS, key, NULL);
	char	  **heads = palloc(sizeof(char *) * Max(nheads, 1));
	int			i;

	for (i = 0; i < nheads; i++)
		heads[i] = mg_result_text(i, 1);
	if (nheads > 1)
		ereport(ERROR,
				(errcode(ERRCODE_MG_SEVERAL_HEADS),
				 errmsg("cannot append revision \"%s\": project \"%s\" has %d heads",
						revision, project, nheads),
				 errdetail("Heads: %s.", join_ids(heads, nheads)),
				 errhint("Pass the parents explicitly, for example parents => ARRAY[...] listing the heads to merge them.")));
	*nparents = nheads;
	return heads;
}

/*
 * The writes of a sync: one INSERT of the new revisions, one UPDATE of the
 * changed ones, one UPDATE of the hashes of unchanged ones that had none.
 * Parents travel joined with commas, which no revision id contains.
 */
static void
write_synced(const char *project, const char *role, const MgRegistration *regs,
			 const Existing *olds, const Decision *ds, char **checksums, int n)
{
	Datum	   *cols[8];
	bool	   *colnulls[8];
	int			nhash = 0;
	int			pass;
	int			c,
				i;

	for (c = 0; c < 8; c++)
	{
		cols[c] = palloc(sizeof(Datum) * Max(n, 1));
		colnulls[c] = palloc0(sizeof(bool) * Max(n, 1));
	}

	/* pass 0: new revisions; pass 1: changed ones */
	for (pass = 0; pass < 2; pass++)
	{
		int			m = 0;
		Datum		values[11];

		for (i = 0; i < n; i++)
		{
			if (!ds[i].write || olds[i].registered != (pass == 1))
				continue;
			cols[0][m] = CStringGetTextDatum(regs[i].revision);
			cols[1][m] = CStringGetTextDatum(join_with(ds[i].parents, ds[i].nparents, ","));
			cols[2][m] = mg_text_or_null(regs[i].description, &colnulls[2][m]);
			cols[3][m] = CStringGetTextDatum(regs[i].up);
			cols[4][m] = mg_text_or_null(regs[i].down, &colnulls[4][m]);
			cols[5][m] = CStringGetTextDatum(checksums[i]);
			cols[6][m] = BoolGetDatum(regs[i].nontransactional);
			cols[7][m] = CStringGetTextDatum(ds[i].source_hash);
			m++;
		}
		if (m == 0)
			continue;
		values[0] = CStringGetTextDatum(project);
		values[1] = DirectFunctionCall1(namein, CStringGetDatum(role));
		for (c = 0; c < 8; c++)
			values[2 + c] = mg_array(cols[c], colnulls[c], m, c == 6 ? BOOLOID : TEXTOID);
		mg_catalog_exec(pass == 0 ? MGQ_INSERT_REVISIONS : MGQ_UPDATE_REVISIONS, values, NULL);
		for (c = 0; c < 8; c++)
			memset(colnulls[c], 0, sizeof(bool) * Max(n, 1));
	}

	for (i = 0; i < n; i++)
		if (ds[i].set_hash)
		{
			cols[0][nhash] = CStringGetTextDatum(regs[i].revision);
			cols[1][nhash] = CStringGetTextDatum(ds[i].source_hash);
			nhash++;
		}
	if (nhash > 0)
	{
		Datum		values[3];

		values[0] = CStringGetTextDatum(project);
		values[1] = mg_array(cols[0], NULL, nhash, TEXTOID);
		values[2] = mg_array(cols[1], NULL, nhash, TEXTOID);
		mg_catalog_exec(MGQ_SET_SOURCE_HASHES, values, NULL);
	}
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
 * What a client recorded of the folder it last synced in full into project
 * (mg_registry_set_synced_folder), or NULL: never, or the project's
 * registered revisions have changed since (migrate.forget_clean, a
 * trigger, forgets it).  *nrevisions is how many revisions project has.
 */
char *
mg_registry_synced_folder(const char *project, int *nrevisions)
{
	MgOwnerScope scope;
	Datum		values[1];
	char	   *folder;
	bool		isnull;

	values[0] = CStringGetTextDatum(project);
	mg_owner_begin(&scope);
	(void) mg_catalog_exec(MGQ_SYNCED_FOLDER, values, NULL);
	folder = mg_result_text(0, 1);
	*nrevisions = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 2, &isnull));
	mg_owner_end(&scope);
	return folder;
}

/*
 * Record folder, a client's description of the folder it has just synced
 * into project, for mg_registry_synced_folder.  The caller holds the
 * project's migration lock and has made the registry hold exactly that
 * folder's revisions, unchanged: a client that finds the same description
 * next time need not compare anything.
 */
void
mg_registry_set_synced_folder(const char *project, const char *folder)
{
	MgOwnerScope scope;
	Datum		values[2];

	values[0] = CStringGetTextDatum(project);
	values[1] = CStringGetTextDatum(folder);
	mg_owner_begin(&scope);
	(void) mg_catalog_exec(MGQ_SET_SYNCED_FOLDER, values, NULL);
	mg_owner_end(&scope);
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
	Existing	old;
	Datum		key[2];
	int			nchildren;

	mg_check_revision_id(revision, "revision");
	lock_and_read(project, revision, "migrate_unregister", &scope, &old);
	if (!old.registered)
		ereport(ERROR,
				(errcode(ERRCODE_MG_UNKNOWN_REVISION),
				 errmsg("revision \"%s\" is not registered in project \"%s\"", revision, project),
				 errhint("migrate_heads() and migrate_pending() list registered revisions.")));
	if (old.applied_checksum != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_MG_REVISION_APPLIED),
				 errmsg("revision \"%s\" is applied and cannot be unregistered", revision),
				 errdetail("An applied revision stays registered so that its checksum can be checked."),
				 errhint("Only revisions that are not applied can be unregistered.")));

	key[0] = CStringGetTextDatum(project);
	key[1] = CStringGetTextDatum(revision);
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
	record_event(project, role, "unregister", revision, NULL, old.checksum, started);
	mg_owner_end(&scope);
}

/*
 * Take project's migration lock for function, enter an owner scope, and
 * read what the registry holds of revision into *old.  The caller ends the
 * scope.
 */
static void
lock_and_read(const char *project, const char *revision, const char *function,
			  MgOwnerScope *scope, Existing *old)
{
	Datum		key[2];

	mg_lock_project(project, pg_migrate_lock_wait_timeout, function);
	key[0] = CStringGetTextDatum(project);
	key[1] = CStringGetTextDatum(revision);
	mg_owner_begin(scope);
	mg_catalog_exec(MGQ_GET_REVISION, key, NULL);
	Assert(SPI_processed == 1);
	read_existing(project, revision, 0, 0, old);
}

/*
 * Record one registry event of revision (no statements run) in the
 * history.  The caller must be in an owner scope.
 */
static void
record_event(const char *project, const char *role, const char *event,
			 const char *revision, const char *checksum, const char *previous,
			 TimestampTz started)
{
	MgHistoryEntry entry = {0};

	entry.event = event;
	entry.revision = revision;
	entry.checksum = checksum;
	entry.previous_checksum = previous;
	entry.started_at = started;
	entry.finished_at = GetCurrentTimestamp();
	entry.statements = -1;
	entry.attempts = -1;
	mg_history_record(project, NULL, role, &entry, 1);
}

/*
 * The checksum of up, with a context line if the lexer rejects it, and the
 * script's secrets masked in that error (the lexer's "at or near" quotes
 * the rest of the script).
 */
static char *
checksum_in_context(const char *project, const char *revision, const char *up)
{
	MgScript	script = {0};
	MgScriptErrorContext ctx;
	MemoryContext oldcontext = CurrentMemoryContext;
	char	   *checksum = NULL;

	script.project = project;
	script.revision = revision;
	script.sql = up;
	mg_script_context_push(&ctx, &script);
	PG_TRY();
	{
		checksum = mg_script_checksum(up);
	}
	PG_CATCH();
	{
		mg_mask_rethrow(oldcontext, up);
	}
	PG_END_TRY();
	mg_script_context_pop(&ctx);
	return checksum;
}

/*
 * The parents column (col) of row of the last SPI result, the parents of
 * revision of project, as a C array.  pg_migrate only ever writes revision
 * ids there, but the owner of schema migrate can write anything: a NULL
 * element, or a string that is no revision id (a line break, a megabyte),
 * is refused with an error naming the row, instead of being trusted.
 */
static char **
read_parents(int row, int col, const char *project, const char *revision, int *nparents)
{
	char	  **parents = mg_result_text_array(row, col, nparents);
	int			i;

	for (i = 0; i < *nparents; i++)
		if (parents[i] == NULL || mg_revision_id_problem(parents[i]) != MG_ID_VALID)
			ereport(ERROR,
					(errcode(ERRCODE_MG_INVALID_GRAPH),
					 errmsg("revision \"%s\" of project \"%s\" has an invalid parent in migrate.revision",
							revision, project),
					 parents[i] == NULL ?
					 errdetail("Parent %d of %d is null.", i + 1, *nparents) :
					 errdetail("Parent %d of %d, \"%s\", is not a revision id.",
							   i + 1, *nparents, mg_shown(parents[i])),
					 errhint("The row was changed by hand: set its parents to revision ids, or to '{}' for a root, with UPDATE migrate.revision.")));
	return parents;
}

/*
 * Refuse id, read from table for project, unless it is a revision id:
 * migrate.revision checks its ids, but migrate.applied does not, and a row
 * written by hand must not reach messages and plans as it is.
 */
static void
check_stored_id(const char *project, const char *id, const char *table)
{
	if (mg_revision_id_problem(id) != MG_ID_VALID)
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_GRAPH),
				 errmsg("%s holds an invalid revision id for project \"%s\"", table, project),
				 errdetail("\"%s\" is not a revision id.", mg_shown(id)),
				 errhint("The row was written by hand: correct or delete it with UPDATE or DELETE on %s.",
						 table)));
}

/*
 * A checksum column (col) of row of the last SPI result, of revision of
 * project, read from table; NULL when null.  Checksums are compared, and
 * quoted in messages of drift: one changed by hand may be any short word
 * (a test of drift may write "edited"), but one that is long or has a
 * control character is refused like a bad parent (read_parents).
 */
static char *
read_checksum(int row, int col, const char *project, const char *revision,
			  const char *table)
{
	char	   *checksum = mg_result_text(row, col);

	if (checksum != NULL && !mg_name_is_valid(checksum, MG_MAX_REVISION_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_GRAPH),
				 errmsg("revision \"%s\" of project \"%s\" has an invalid checksum in %s",
						revision, project, table),
				 errdetail("\"%s\" is not a checksum.", mg_shown(checksum)),
				 errhint("The row was changed by hand: correct it with UPDATE %s.", table)));
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
	return join_with(ids, n, ", ");
}

/* ids joined with sep. */
static char *
join_with(char **ids, int n, const char *sep)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < n; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? sep : "", ids[i]);
	return buf.data;
}
