/*-------------------------------------------------------------------------
 *
 * stamp.c
 *	  migrate_stamp: set the applied set to a target without running any
 *	  script, to adopt a database whose schema is already there.
 *
 * After a stamp the applied set is exactly the target and its ancestors,
 * as if the database had been upgraded to the target from empty: revisions
 * in that set become applied with their registered checksums, applied
 * revisions outside it (including any no longer registered) stop being
 * applied.  So a stamp to "base" clears the applied set, and a stamp can
 * move down as well as up, like "alembic stamp".  Nothing runs; each change
 * is a history row ("stamp", "unstamp").
 *
 * The graph must be valid (a target needs it); problems of the applied set
 * are not, since fixing a messy applied set is what a stamp is for.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"

#include "lock.h"
#include "pg_migrate.h"
#include "stamp.h"
#include "validate.h"

/*
 * Stamp project at target; return the changes as a List of MgStamped, the
 * stamped revisions in topological order, then the unstamped ones.
 */
List *
mg_stamp(const char *project, const char *target)
{
	List	   *result = NIL;
	char	   *role = GetUserNameFromId(GetUserId(), false);
	MgState    *state;
	bool	   *closure;
	int		   *added;
	int		   *removed;
	int			nadded = 0;
	int			nremoved = 0;
	int			i;

	mg_lock_project(project, pg_migrate_lock_wait_timeout, "migrate_stamp");

	state = mg_registry_load(project);
	mg_raise_first_error(mg_validate_graph(state));
	closure = graph_target_closure(state->graph, target);

	added = palloc(sizeof(int) * Max(state->nregistered, 1));
	removed = palloc(sizeof(int) * Max(state->nrevisions, 1));
	for (i = 0; i < state->graph->norder; i++)
	{
		int			node = state->graph->order[i];

		if (closure[node] && !state->revisions[node].applied)
			added[nadded++] = node;
	}
	for (i = state->graph->norder - 1; i >= 0; i--)
	{
		int			node = state->graph->order[i];

		if (!closure[node] && state->revisions[node].applied)
			removed[nremoved++] = node;
	}
	/* applied revisions that are no longer registered are outside any target */
	for (i = state->nregistered; i < state->nrevisions; i++)
		removed[nremoved++] = i;

	mg_registry_record_stamp(state, target, role, added, nadded, removed, nremoved);

	for (i = 0; i < nadded + nremoved; i++)
	{
		MgStamped  *s = palloc(sizeof(MgStamped));

		s->revision = state->revisions[i < nadded ? added[i] : removed[i - nadded]].id;
		s->action = i < nadded ? "stamped" : "unstamped";
		result = lappend(result, s);
	}
	return result;
}
