/*-------------------------------------------------------------------------
 *
 * graph.h
 *	  The revision graph and upgrade planning.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_GRAPH_H
#define MG_GRAPH_H

#include "utils/hsearch.h"

/*
 * A DAG of revisions.  Nodes are numbered 0..n-1 in the order given to
 * graph_build; ids and parent names are borrowed, not copied.
 */
typedef struct MgGraph
{
	int			n;
	const char **ids;
	int		   *nparents;
	int		  **parents;		/* node numbers, -1 for a parent not in the
								 * graph */
	const char ***parent_ids;	/* the parents' names, as registered */
	int		   *nchildren;
	int		  **children;
	int		   *order;			/* topological order; nodes in a cycle are
								 * left out */
	int			norder;
	HTAB	   *index;			/* id -> node number */
} MgGraph;

extern MgGraph *graph_build(int n, const char **ids, const int *nparents,
							char **const *parents);
extern int	graph_find(const MgGraph *g, const char *id);
extern int	graph_heads(const MgGraph *g, int **heads);
extern char *graph_describe_cycle(const MgGraph *g);
extern int *graph_plan_upgrade(const MgGraph *g, const bool *applied,
							   const char *target, int *nplan);

#endif							/* MG_GRAPH_H */
