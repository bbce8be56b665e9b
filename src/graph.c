/*-------------------------------------------------------------------------
 *
 * graph.c
 *	  The revision graph: heads, topological order, ancestors, and the
 *	  plan of an upgrade toward a target.
 *
 * Revisions and their parents form a DAG.  A head is a revision with no
 * children.  The topological order puts parents before children and breaks
 * ties by revision id in byte order (Kahn's algorithm with a min-heap), so
 * the same registry gives the same order in every database and every run,
 * whatever order the revisions were registered in.  A parent that is not in
 * the graph, and a revision named as its own parent, are ignored for
 * ordering (validation reports both); nodes on a cycle never become ready
 * and are left out of the order.
 *
 * This file is a leaf: it knows revision ids and parent lists, nothing of
 * tables, locks or scripts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "lib/binaryheap.h"
#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "graph.h"
#include "pg_migrate.h"

typedef struct IndexEntry
{
	char		id[MG_MAX_REVISION_LEN + 1];
	int			node;
} IndexEntry;

static void graph_sort(MgGraph *g);
static int	compare_ids_desc(Datum a, Datum b, void *arg);
static int	compare_node_ids(const void *a, const void *b, void *arg);
static int	parse_relative_step(const char *target);
static void graph_mark_ancestors(const MgGraph *g, int node, bool *mark);
static int	graph_resolve_revision(const MgGraph *g, const char *target);
static void mark_target(const MgGraph *g, const char *target, bool *mark,
						const char *heads_verb);

/*
 * Build the graph of n revisions.  ids[i] is node i's id, parents[i] its
 * nparents[i] parent ids.  Ids must be unique.  Everything is allocated in
 * CurrentMemoryContext.
 */
MgGraph *
graph_build(int n, const char **ids, const int *nparents, char **const *parents)
{
	MgGraph    *g = palloc0(sizeof(MgGraph));
	HASHCTL		ctl;
	int			i,
				j;

	g->n = n;
	g->ids = ids;
	g->nparents = palloc0(sizeof(int) * Max(n, 1));
	g->parents = palloc0(sizeof(int *) * Max(n, 1));
	g->parent_ids = palloc0(sizeof(char **) * Max(n, 1));
	g->nchildren = palloc0(sizeof(int) * Max(n, 1));
	g->children = palloc0(sizeof(int *) * Max(n, 1));

	ctl.keysize = MG_MAX_REVISION_LEN + 1;
	ctl.entrysize = sizeof(IndexEntry);
	ctl.hcxt = CurrentMemoryContext;
	g->index = hash_create("pg_migrate revision index", Max(n, 16), &ctl,
						   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	for (i = 0; i < n; i++)
	{
		bool		found;
		IndexEntry *e = hash_search(g->index, ids[i], HASH_ENTER, &found);

		if (found)
			elog(ERROR, "duplicate revision id \"%s\" in graph", ids[i]);
		e->node = i;
	}

	/* resolve parents and count children */
	for (i = 0; i < n; i++)
	{
		g->nparents[i] = nparents[i];
		g->parent_ids[i] = (const char **) parents[i];
		g->parents[i] = palloc(sizeof(int) * Max(nparents[i], 1));
		for (j = 0; j < nparents[i]; j++)
		{
			int			p = graph_find(g, parents[i][j]);

			if (p == i)
				p = GRAPH_SELF;
			g->parents[i][j] = p;
			if (p >= 0)
				g->nchildren[p]++;
		}
	}
	for (i = 0; i < n; i++)
	{
		g->children[i] = palloc(sizeof(int) * Max(g->nchildren[i], 1));
		g->nchildren[i] = 0;
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < g->nparents[i]; j++)
		{
			int			p = g->parents[i][j];

			if (p >= 0)
				g->children[p][g->nchildren[p]++] = i;
		}

	graph_sort(g);
	return g;
}

/*
 * Node number of id, or -1.
 */
int
graph_find(const MgGraph *g, const char *id)
{
	IndexEntry *e;

	if (strlen(id) > MG_MAX_REVISION_LEN)
		return -1;
	e = hash_search(g->index, id, HASH_FIND, NULL);
	return e ? e->node : -1;
}

/*
 * Topological order with ties broken by id (Kahn's algorithm, min-heap).
 */
static void
graph_sort(MgGraph *g)
{
	int		   *pending = palloc(sizeof(int) * Max(g->n, 1));
	binaryheap *ready = binaryheap_allocate(Max(g->n, 1), compare_ids_desc, g);
	int			i,
				j;

	g->order = palloc(sizeof(int) * Max(g->n, 1));
	g->norder = 0;

	for (i = 0; i < g->n; i++)
	{
		pending[i] = 0;
		for (j = 0; j < g->nparents[i]; j++)
			if (g->parents[i][j] >= 0)
				pending[i]++;
		if (pending[i] == 0)
			binaryheap_add_unordered(ready, Int32GetDatum(i));
	}
	binaryheap_build(ready);

	while (!binaryheap_empty(ready))
	{
		int			node = DatumGetInt32(binaryheap_remove_first(ready));

		g->order[g->norder++] = node;
		for (j = 0; j < g->nchildren[node]; j++)
		{
			int			c = g->children[node][j];

			/* a child listing the same parent twice appears twice here */
			if (--pending[c] == 0)
				binaryheap_add(ready, Int32GetDatum(c));
		}
	}
	binaryheap_free(ready);
	pfree(pending);
}

/* binaryheap is a max-heap: order it so the smallest id comes first */
static int
compare_ids_desc(Datum a, Datum b, void *arg)
{
	const MgGraph *g = arg;

	return strcmp(g->ids[DatumGetInt32(b)], g->ids[DatumGetInt32(a)]);
}

/* qsort comparator: node numbers by id */
static int
compare_node_ids(const void *a, const void *b, void *arg)
{
	const MgGraph *g = arg;

	return strcmp(g->ids[*(const int *) a], g->ids[*(const int *) b]);
}

/*
 * Set *heads to the nodes without children, sorted by id; return how many.
 */
int
graph_heads(const MgGraph *g, int **heads)
{
	int			i,
				n = 0;

	*heads = palloc(sizeof(int) * Max(g->n, 1));
	for (i = 0; i < g->n; i++)
		if (g->nchildren[i] == 0)
			(*heads)[n++] = i;
	qsort_arg(*heads, n, sizeof(int), compare_node_ids, (void *) g);
	return n;
}

/*
 * When the graph has a cycle, describe one as "a -> b -> a" (each revision
 * followed by its child); NULL when there is none.  At most limit (>= 1)
 * of its revisions are named, then how many more there are before it
 * closes: "a -> b -> (998 more revisions) -> a", so that a cycle through a
 * large history makes no message of megabytes.
 */
char *
graph_describe_cycle(const MgGraph *g, int limit)
{
	bool	   *sorted;
	int		   *seen_at;
	int		   *path;
	int			npath = 0;
	int			node = -1;
	int			i,
				j;
	StringInfoData buf;

	if (g->norder == g->n)
		return NULL;

	sorted = palloc0(sizeof(bool) * g->n);
	for (i = 0; i < g->norder; i++)
		sorted[g->order[i]] = true;
	for (i = 0; i < g->n; i++)
		if (!sorted[i] && (node < 0 || strcmp(g->ids[i], g->ids[node]) < 0))
			node = i;

	/*
	 * Every node left out of the order has a parent that was left out too;
	 * walking such parents must come back to a node already on the path.
	 */
	seen_at = palloc(sizeof(int) * g->n);
	for (i = 0; i < g->n; i++)
		seen_at[i] = -1;
	path = palloc(sizeof(int) * (g->n + 1));
	while (seen_at[node] < 0)
	{
		int			next = -1;

		seen_at[node] = npath;
		path[npath++] = node;
		for (j = 0; j < g->nparents[node]; j++)
		{
			int			p = g->parents[node][j];

			if (p >= 0 && !sorted[p] && (next < 0 || strcmp(g->ids[p], g->ids[next]) < 0))
				next = p;
		}
		Assert(next >= 0);
		node = next;
	}

	/*
	 * path[seen_at[node]..] walks parents; print it child-wards, node
	 * first, and node again (path[seen_at[node]]) to close it.
	 */
	initStringInfo(&buf);
	appendStringInfoString(&buf, g->ids[node]);
	for (i = npath - 1, j = 1; i > seen_at[node]; i--, j++)
	{
		if (j >= limit)
		{
			appendStringInfo(&buf, " -> (%d more revisions)", i - seen_at[node]);
			break;
		}
		appendStringInfo(&buf, " -> %s", g->ids[path[i]]);
	}
	appendStringInfo(&buf, " -> %s", g->ids[node]);
	return buf.data;
}

/*
 * Set mark[] for node and all of its ancestors.
 */
static void
graph_mark_ancestors(const MgGraph *g, int node, bool *mark)
{
	int		   *stack = palloc(sizeof(int) * Max(g->n, 1));
	int			top = 0;

	if (mark[node])
		return;
	mark[node] = true;
	stack[top++] = node;
	while (top > 0)
	{
		int			cur = stack[--top];
		int			j;

		for (j = 0; j < g->nparents[cur]; j++)
		{
			int			p = g->parents[cur][j];

			if (p >= 0 && !mark[p])
			{
				mark[p] = true;
				stack[top++] = p;
			}
		}
	}
	pfree(stack);
}

/*
 * Resolve a revision target: an exact id, or a unique prefix of at least
 * four characters.  Raises an error for an unknown or ambiguous target.
 */
static int
graph_resolve_revision(const MgGraph *g, const char *target)
{
	int			node = graph_find(g, target);
	size_t		len = strlen(target);
	StringInfoData matches;
	int			nmatches = 0;
	int			i;

	if (node >= 0)
		return node;

	if (len >= 4)
	{
		initStringInfo(&matches);
		for (i = 0; i < g->n; i++)
			if (strncmp(g->ids[i], target, len) == 0)
			{
				if (nmatches++ > 0)
					appendStringInfoString(&matches, ", ");
				appendStringInfoString(&matches, g->ids[i]);
				node = i;
			}
		if (nmatches == 1)
			return node;
		if (nmatches > 1)
			ereport(ERROR,
					(errcode(ERRCODE_MG_AMBIGUOUS_TARGET),
					 errmsg("target \"%s\" is ambiguous", target),
					 errdetail("It is a prefix of %d revisions: %s.", nmatches, matches.data),
					 errhint("Give more characters of the revision id.")));
	}

	ereport(ERROR,
			(errcode(ERRCODE_MG_UNKNOWN_REVISION),
			 errmsg("unknown target \"%s\"", target),
			 len < 4 ?
			 errdetail("No revision has this id; prefixes must have at least 4 characters.") :
			 errdetail("No registered revision has this id or starts with it."),
			 errhint("Targets are \"head\", \"heads\", \"base\", a revision id, a unique prefix of one, \"+N\" and \"-N\".")));
	return -1;					/* keep compiler quiet */
}

/*
 * For a target written "+N" or "-N", return N with its sign; 0 when the
 * target is not a relative step.  A malformed step raises an error.
 */
static int
parse_relative_step(const char *target)
{
	const char *p = target + 1;
	long		n = 0;

	if (target[0] != '+' && target[0] != '-')
		return 0;
	if (*p == '\0')
		goto bad;
	for (; *p; p++)
	{
		if (*p < '0' || *p > '9')
			goto bad;
		n = n * 10 + (*p - '0');
		if (n > INT_MAX)
			goto bad;
	}
	if (n == 0)
		goto bad;
	return target[0] == '+' ? (int) n : -(int) n;

bad:
	ereport(ERROR,
			(errcode(ERRCODE_MG_INVALID_TARGET),
			 errmsg("invalid relative target \"%s\"", target),
			 errdetail("A relative target is \"+N\" or \"-N\" with N a positive integer."),
			 errhint("For example, \"+1\" applies the next pending revision.")));
	return 0;					/* keep compiler quiet */
}

/*
 * Set mark[] for the target's closure: the revisions a database at target
 * has applied.  "head" is the single head and its ancestors (an error
 * lists the heads when there are several; nothing when the graph is
 * empty), "heads" every revision, a revision id or unique prefix that
 * revision and its ancestors, "base" nothing.  Relative steps are the
 * callers' business.  heads_verb ("upgrade to", "stamp") completes the
 * hint of the several-heads error.
 */
static void
mark_target(const MgGraph *g, const char *target, bool *mark, const char *heads_verb)
{
	int		   *heads;
	int			nheads = graph_heads(g, &heads);
	int			i;

	if (strcmp(target, "base") == 0)
		;
	else if (strcmp(target, "head") == 0)
	{
		if (nheads > 1)
		{
			StringInfoData list;

			initStringInfo(&list);
			for (i = 0; i < nheads; i++)
				appendStringInfo(&list, "%s%s", i > 0 ? ", " : "", g->ids[heads[i]]);
			ereport(ERROR,
					(errcode(ERRCODE_MG_SEVERAL_HEADS),
					 errmsg("target \"head\" is ambiguous: the project has %d heads", nheads),
					 errdetail("Heads: %s.", list.data),
					 errhint("Register a merge revision whose parents are the heads, or %s \"heads\".",
							 heads_verb)));
		}
		for (i = 0; i < nheads; i++)
			graph_mark_ancestors(g, heads[i], mark);
	}
	else if (strcmp(target, "heads") == 0)
	{
		for (i = 0; i < nheads; i++)
			graph_mark_ancestors(g, heads[i], mark);
	}
	else
		graph_mark_ancestors(g, graph_resolve_revision(g, target), mark);
	pfree(heads);
}

/*
 * The revisions an upgrade to target applies, in topological order: the
 * target and its ancestors that applied[] does not mark.  Returns a
 * palloc'd array and sets *nplan.  The graph must have no cycle.
 *
 * Targets: "head" (the single head; none when the graph is empty),
 * "heads", "+N" (the next N pending revisions in topological order), a
 * revision id or a unique prefix.  "base" and "-N" go down and are
 * refused here.
 */
int *
graph_plan_upgrade(const MgGraph *g, const bool *applied, const char *target, int *nplan)
{
	bool	   *mark = palloc0(sizeof(bool) * Max(g->n, 1));
	int		   *plan = palloc(sizeof(int) * Max(g->n, 1));
	int			step = parse_relative_step(target);
	int			i;

	Assert(g->norder == g->n);
	*nplan = 0;

	if (step < 0 || strcmp(target, "base") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_TARGET),
				 errmsg("target \"%s\" is below the applied revisions", target),
				 errdetail("An upgrade only applies revisions; \"base\" and \"-N\" name downgrades."),
				 errhint("Upgrade to \"head\", \"heads\", a revision id or \"+N\"; go down with migrate_downgrade.")));

	mark_target(g, step > 0 ? "heads" : target, mark, "upgrade to");
	for (i = 0; i < g->norder; i++)
	{
		int			node = g->order[i];

		if (mark[node] && !applied[node])
			plan[(*nplan)++] = node;
	}

	if (step > 0)
	{
		if (*nplan < step)
			ereport(ERROR,
					(errcode(ERRCODE_MG_INVALID_TARGET),
					 errmsg("cannot upgrade by %d revisions: %d pending", step, *nplan),
					 errhint("Upgrade to \"head\" to apply every pending revision.")));
		*nplan = step;
	}

	pfree(mark);
	return plan;
}

/*
 * The revisions a downgrade to target reverts, children before parents
 * (reverse topological order): the applied revisions that are neither the
 * target nor its ancestors.  Returns a palloc'd array and sets *nplan.
 * applied[] must be closed under ancestors (every parent of an applied
 * revision applied), so reverting in this order never leaves a revision
 * applied without its parents.  The graph must have no cycle.
 *
 * Targets: "base" (revert everything), "-N" (the last N applied revisions
 * in topological order), an applied revision id or a unique prefix.
 * "head", "heads" and "+N" go up and are refused here.
 */
int *
graph_plan_downgrade(const MgGraph *g, const bool *applied, const char *target, int *nplan)
{
	bool	   *keep = palloc0(sizeof(bool) * Max(g->n, 1));
	int		   *plan = palloc(sizeof(int) * Max(g->n, 1));
	int			step = parse_relative_step(target);
	int			i;

	Assert(g->norder == g->n);
	*nplan = 0;

	if (step > 0 || strcmp(target, "head") == 0 || strcmp(target, "heads") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_TARGET),
				 errmsg("target \"%s\" is above the applied revisions", target),
				 errdetail("A downgrade only reverts revisions; \"head\", \"heads\" and \"+N\" name upgrades."),
				 errhint("Downgrade to \"base\", an applied revision id or \"-N\"; go up with migrate_upgrade.")));

	if (step == 0 && strcmp(target, "base") != 0)
	{
		int			node = graph_resolve_revision(g, target);

		if (!applied[node])
			ereport(ERROR,
					(errcode(ERRCODE_MG_INVALID_TARGET),
					 errmsg("target \"%s\" is not applied", g->ids[node]),
					 errdetail("A downgrade goes back to a revision that is applied now, reverting what was applied after it."),
					 errhint("Upgrade to \"%s\" instead, or downgrade to one of its applied ancestors.", g->ids[node])));
		graph_mark_ancestors(g, node, keep);
	}

	for (i = g->norder - 1; i >= 0; i--)
	{
		int			node = g->order[i];

		if (applied[node] && !keep[node])
			plan[(*nplan)++] = node;
	}

	if (step < 0)
	{
		if (*nplan < -step)
			ereport(ERROR,
					(errcode(ERRCODE_MG_INVALID_TARGET),
					 errmsg("cannot downgrade by %d revisions: %d applied", -step, *nplan),
					 errhint("Downgrade to \"base\" to revert every applied revision.")));
		*nplan = -step;
	}

	pfree(keep);
	return plan;
}

/*
 * The applied set a database at target has: a palloc'd array of g->n
 * flags.  Targets as for mark_target; relative steps are refused, since
 * they only mean something from a given applied set.
 */
bool *
graph_target_closure(const MgGraph *g, const char *target)
{
	bool	   *mark = palloc0(sizeof(bool) * Max(g->n, 1));

	if (parse_relative_step(target) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_MG_INVALID_TARGET),
				 errmsg("relative target \"%s\" cannot be stamped", target),
				 errhint("Stamp \"head\", \"heads\", \"base\" or a revision id.")));
	mark_target(g, target, mark, "stamp");
	return mark;
}
