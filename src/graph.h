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
#define GRAPH_MISSING	(-1)
#define GRAPH_SELF		(-2)

typedef struct MgGraph
{
	int			n;
	const char **ids;
	int		   *nparents;
	int		  **parents;		/* node numbers, or GRAPH_MISSING for a
								 * parent not in the graph, GRAPH_SELF for
								 * the node itself (both ignored for order) */
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
extern char *graph_describe_cycle(const MgGraph *g, int limit);
extern int *graph_plan_upgrade(const MgGraph *g, const bool *applied,
							   const char *target, int *nplan);
extern int *graph_plan_downgrade(const MgGraph *g, const bool *applied,
								 const char *target, int *nplan);
extern bool *graph_target_closure(const MgGraph *g, const char *target);

#endif							/* MG_GRAPH_H */
