/*-------------------------------------------------------------------------
 *
 * status.c
 *	  Summaries of a project's state: applied heads, registry heads,
 *	  counts, who holds the migration lock, and the INVALID indexes that
 *	  interrupted concurrent builds left.
 *
 * Everything here reads; nothing takes the migration lock, so status works
 * while a migration runs, on a standby, and in any transaction.
 *
 * INVALID indexes.  The top-level worker records each concurrent index
 * build in migrate.index_build, committed before the build starts, and
 * removes the row once the build succeeded or the INVALID index of its
 * failure was dropped (toplevel.c).  A row that is left names a build that
 * was interrupted: its worker terminated, its caller cancelled, the server
 * stopped.  The next run of the same statement drops what it left before
 * building again, but a revision edited or reverted in between never runs
 * it again; so mg_invalid_indexes looks, for each row, for the INVALID
 * indexes its build left (catalog.c's MGQ_INVALID_INDEXES says which),
 * and migrate_status, migrate_validate and migrate_check name them.  It
 * reads the catalog with built-in functions only: no user code runs.
 * Rows whose build left nothing (the index was dropped, or is valid) are
 * skipped here, and deleted by the next recorded build of the project,
 * since a reader may be on a standby or in a read-only transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "catalog.h"
#include "status.h"

/*
 * Applied revisions none of whose children are applied, in id order;
 * applied revisions that are no longer registered are listed after them.
 */
List *
mg_applied_heads(const MgState *state)
{
	const MgGraph *g = state->graph;
	List	   *heads = NIL;
	int			i,
				j;

	for (i = 0; i < g->n; i++)
	{
		const MgRevision *rev = &state->revisions[i];
		bool		child_applied = false;

		if (!rev->applied)
			continue;
		for (j = 0; j < g->nchildren[i] && !child_applied; j++)
			child_applied = state->revisions[g->children[i][j]].applied;
		if (!child_applied)
			heads = lappend(heads, (void *) rev);
	}
	for (i = state->nregistered; i < state->nrevisions; i++)
		heads = lappend(heads, &state->revisions[i]);
	return heads;
}

/*
 * Registered revisions without children, in id order.
 */
List *
mg_registry_heads(const MgState *state)
{
	List	   *result = NIL;
	int		   *heads;
	int			nheads = graph_heads(state->graph, &heads);
	int			i;

	for (i = 0; i < nheads; i++)
		result = lappend(result, &state->revisions[heads[i]]);
	return result;
}

/*
 * Fill *status from state and the lock table.
 */
void
mg_status(const MgState *state, MgStatus *status)
{
	int			i;

	memset(status, 0, sizeof(MgStatus));
	status->applied_heads = mg_applied_heads(state);
	status->registry_heads = mg_registry_heads(state);
	for (i = 0; i < state->nrevisions; i++)
	{
		const MgRevision *rev = &state->revisions[i];

		if (!rev->applied)
		{
			status->pending++;
			continue;
		}
		status->applied++;
		if (rev->checksum != NULL && strcmp(rev->checksum, rev->applied_checksum) != 0)
			status->drifted++;
		if (status->last == NULL || rev->applied_at > status->last->applied_at)
			status->last = rev;
	}
	status->locked = mg_lock_holder(state->project, &status->holder);
	status->invalid_indexes = mg_invalid_indexes(state->project);
}

/*
 * The INVALID indexes that interrupted concurrent builds of project's
 * revisions left, as MgInvalidIndex *, ordered by name (see the file
 * header).  The caller must be connected to SPI.
 */
List *
mg_invalid_indexes(const char *project)
{
	MgOwnerScope scope;
	Datum		values[1];
	List	   *result = NIL;
	int			n;
	int			i;

	values[0] = CStringGetTextDatum(project);
	mg_owner_begin(&scope);
	n = mg_catalog_exec(MGQ_INVALID_INDEXES, values, NULL);
	for (i = 0; i < n; i++)
	{
		MgInvalidIndex *index = palloc(sizeof(MgInvalidIndex));
		bool		isnull;

		index->index = mg_result_text(i, 1);
		index->table = mg_result_text(i, 2);
		index->revision = mg_result_text(i, 3);
		index->down = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i],
												 SPI_tuptable->tupdesc, 4, &isnull));
		index->statement = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
													   SPI_tuptable->tupdesc, 5, &isnull));
		index->oid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
													SPI_tuptable->tupdesc, 6, &isnull));
		result = lappend(result, index);
	}
	mg_owner_end(&scope);
	return result;
}
