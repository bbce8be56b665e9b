/*-------------------------------------------------------------------------
 *
 * status.c
 *	  Summaries of a project's state: applied heads, registry heads,
 *	  counts, and who holds the migration lock.
 *
 * Everything here reads; nothing takes the migration lock, so status works
 * while a migration runs, on a standby, and in any transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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
}
