/*-------------------------------------------------------------------------
 *
 * validate.c
 *	  Find every problem of a project: the graph, the applied set, and the
 *	  scripts.
 *
 * Problems are collected, not raised, so that migrate_validate can list
 * them all; an upgrade raises the first one of severity "error" with its
 * own SQLSTATE.  Graph problems make a plan impossible, applied-set
 * problems (drift, revisions applied but no longer registered, applied
 * revisions whose parents are not) make one unsafe; scripts that do not
 * parse or hold statements no runner accepts fail before anything runs.
 * INVALID indexes that interrupted concurrent builds left (status.c) make
 * nothing fail, but cost every write to their tables until dropped: they
 * are warnings.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "lint.h"
#include "mask.h"
#include "pg_migrate.h"
#include "script.h"
#include "status.h"
#include "subxact.h"
#include "validate.h"

/* How many revisions a detail names before saying how many more there are. */
#define VALIDATE_LIST_MAX	10

typedef struct ParseWork
{
	const char *project;
	const MgRevision *rev;
	MgScript   *script;			/* the result */
} ParseWork;

static void parse_script(void *arg);
static bool needs_parse(const MgRevision *rev);
static List *add_lint_problems(List *problems, MgLint *lint, const MgRevision *rev,
							   MgScript *script, MemoryContext context);
static List *add_problem(List *problems, const char *severity, const char *revision,
						 const char *problem, int sqlerrcode, const char *message,
						 const char *detail, const char *hint);

/*
 * Missing, self- and duplicate parents, a cycle, several heads.
 */
List *
mg_validate_graph(const MgState *state)
{
	const MgGraph *g = state->graph;
	List	   *problems = NIL;
	char	   *cycle;
	int		   *heads;
	int			nheads;
	int			i,
				j;

	for (i = 0; i < g->n; i++)
		for (j = 0; j < g->nparents[i]; j++)
		{
			const char *parent = g->parent_ids[i][j];
			int			k;

			if (g->parents[i][j] == GRAPH_MISSING)
				problems = add_problem(problems, "error", g->ids[i], "missing parent",
									   ERRCODE_MG_INVALID_GRAPH,
									   psprintf("parent \"%s\" of revision \"%s\" is not registered",
												parent, g->ids[i]),
									   psprintf("Revision \"%s\" names parent \"%s\", which the registry does not have.",
												g->ids[i], parent),
									   "Register the parent, or register the revision again with the right parents.");
			else if (g->parents[i][j] == GRAPH_SELF)
				problems = add_problem(problems, "error", g->ids[i], "self-parent",
									   ERRCODE_MG_INVALID_GRAPH,
									   psprintf("revision \"%s\" is its own parent", g->ids[i]),
									   psprintf("Revision \"%s\" lists itself among its parents.", g->ids[i]),
									   "Register the revision again with its real parents.");
			for (k = 0; k < j; k++)
				if (strcmp(g->parent_ids[i][k], parent) == 0)
					problems = add_problem(problems, "error", g->ids[i], "duplicate parent",
										   ERRCODE_MG_INVALID_GRAPH,
										   psprintf("revision \"%s\" lists parent \"%s\" twice",
													g->ids[i], parent),
										   psprintf("Revision \"%s\" names parent \"%s\" more than once.",
													g->ids[i], parent),
										   "Register the revision again, listing each parent once.");
		}

	cycle = graph_describe_cycle(g, VALIDATE_LIST_MAX);
	if (cycle != NULL)
		problems = add_problem(problems, "error", NULL, "cycle",
							   ERRCODE_MG_INVALID_GRAPH,
							   "the revision graph has a cycle",
							   psprintf("Cycle: %s.", cycle),
							   "Register one of these revisions again with other parents.");

	nheads = graph_heads(g, &heads);
	if (nheads > 1)
	{
		StringInfoData list;

		initStringInfo(&list);
		for (i = 0; i < nheads && i < VALIDATE_LIST_MAX; i++)
			appendStringInfo(&list, "%s%s", i > 0 ? ", " : "", g->ids[heads[i]]);
		if (nheads > VALIDATE_LIST_MAX)
			appendStringInfo(&list, ", and %d more", nheads - VALIDATE_LIST_MAX);
		problems = add_problem(problems, "warning", NULL, "several heads",
							   ERRCODE_MG_SEVERAL_HEADS,
							   psprintf("the project has %d heads", nheads),
							   psprintf("Heads: %s.", list.data),
							   "Register a merge revision whose parents are the heads.");
	}
	return problems;
}

/*
 * Applied revisions no longer registered, applied revisions with a parent
 * not applied, and checksum drift.
 */
List *
mg_validate_applied(const MgState *state)
{
	List	   *problems = NIL;
	int			i,
				j;

	for (i = 0; i < state->nrevisions; i++)
	{
		const MgRevision *rev = &state->revisions[i];

		if (!rev->applied)
			continue;

		if (rev->checksum == NULL)
		{
			problems = add_problem(problems, "error", rev->id, "not registered",
								   ERRCODE_MG_NOT_REGISTERED,
								   psprintf("applied revision \"%s\" is not registered", rev->id),
								   psprintf("Revision \"%s\" is in the applied set but not in the registry.",
											rev->id),
								   "Register the revision again with the script it was applied with.");
			continue;
		}

		for (j = 0; j < rev->nparents; j++)
		{
			int			p = state->graph->parents[i][j];

			if (p >= 0 && !state->revisions[p].applied)
				problems = add_problem(problems, "error", rev->id, "parent not applied",
									   ERRCODE_MG_INVALID_GRAPH,
									   psprintf("revision \"%s\" is applied but its parent \"%s\" is not",
												rev->id, state->revisions[p].id),
									   psprintf("Parent \"%s\" of applied revision \"%s\" is not applied.",
												state->revisions[p].id, rev->id),
									   "The applied set was edited by hand; restore the parent's applied row, or remove this one.");
		}

		if (strcmp(rev->checksum, rev->applied_checksum) != 0)
			problems = add_problem(problems, "error", rev->id, "checksum drift",
								   ERRCODE_MG_CHECKSUM_DRIFT,
								   psprintf("applied revision \"%s\" has changed since it was applied", rev->id),
								   psprintf("Applied with checksum %s; the registered script has checksum %s.",
											rev->applied_checksum, rev->checksum),
								   "Register the script as it was applied, and put the change in a new revision.");
	}
	return problems;
}

/*
 * Parse the script of every revision that is pending or has drifted, and
 * report those that do not parse, hold a refused statement, or need the
 * per-revision runner.  Unless pg_migrate.lint is off, add the warning and
 * error findings of the lint (lint.c) on pending scripts, with the
 * severity they would have for an upgrade: "error" under pg_migrate.lint =
 * error, else "warning".  An applied revision whose checksum is the one it
 * was applied with ran as it is, so it is not parsed again.  Each parse
 * runs in a subtransaction, so that its error can be caught and listed
 * (with the script's secrets masked).
 *
 * The scripts are taken in topological order (those in a cycle, which have
 * none, last) and reviewed by one lint, as an upgrade applies and reviews
 * them: what an earlier pending revision creates, renames or drops is
 * known when a later one is reviewed, so that validate reports what the
 * upgrade's own lint would (a table renamed in one revision and indexed in
 * the next is the table it names at run time).  The lint's state refers
 * to the parsed scripts, so they are all kept, in one memory context, until
 * the end, as an upgrade keeps its plan's.
 */
List *
mg_validate_scripts(MgState *state)
{
	const MgGraph *g = state->graph;
	List	   *problems = NIL;
	int		   *nodes = palloc(sizeof(int) * Max(state->nregistered, 1));
	bool	   *ordered = palloc0(sizeof(bool) * Max(state->nregistered, 1));
	int			n = 0;
	MemoryContext parsecontext;
	MemoryContext oldcontext = CurrentMemoryContext;
	MgLint	   *lint = NULL;
	int			i;

	/* topological order first, then the nodes it leaves out (cycles) */
	for (i = 0; i < g->norder; i++)
	{
		ordered[g->order[i]] = true;
		if (needs_parse(&state->revisions[g->order[i]]))
			nodes[n++] = g->order[i];
	}
	for (i = 0; i < state->nregistered; i++)
		if (!ordered[i] && needs_parse(&state->revisions[i]))
			nodes[n++] = i;
	mg_registry_load_scripts(state, nodes, n);

	parsecontext = AllocSetContextCreate(CurrentMemoryContext,
										 "pg_migrate validate context",
										 ALLOCSET_DEFAULT_SIZES);
	if (pg_migrate_lint != MG_LINT_OFF)
	{
		MemoryContextSwitchTo(parsecontext);
		lint = mg_lint_begin();
		MemoryContextSwitchTo(oldcontext);
	}
	for (i = 0; i < n; i++)
	{
		const MgRevision *rev = &state->revisions[nodes[i]];
		ParseWork	work = {state->project, rev, NULL};
		ErrorData  *edata;

		MemoryContextSwitchTo(parsecontext);
		edata = mg_in_subtransaction(parse_script, &work);
		MemoryContextSwitchTo(oldcontext);
		if (edata != NULL)
			mg_mask_error_script(edata, rev->up);

		if (edata != NULL)
			problems = add_problem(problems, "error", rev->id, "invalid script",
								   edata->sqlerrcode, pstrdup(edata->message),
								   edata->context ? psprintf("%s (%s)", edata->message, edata->context)
								   : pstrdup(edata->message),
								   edata->hint ? pstrdup(edata->hint) : NULL);
		else if (rev->nontransactional)
			problems = add_problem(problems, "warning", rev->id, "non-transactional",
								   ERRCODE_MG_NON_TRANSACTIONAL,
								   psprintf("revision \"%s\" is marked non-transactional", rev->id),
								   "Its file asks for it to run outside a transaction (transaction:false).",
								   "Apply this revision with the per-revision runner CALL migrate_run().");
		else if (work.script->nontx_index >= 0)
			problems = add_problem(problems, "warning", rev->id, "non-transactional",
								   ERRCODE_MG_NON_TRANSACTIONAL,
								   psprintf("%s cannot run inside migrate_upgrade",
											work.script->nontx_name),
								   psprintf("Statement %d (%s) cannot run in a transaction block.",
											work.script->first_number + work.script->nontx_index,
											work.script->nontx_name),
								   "Apply this revision with the per-revision runner CALL migrate_run().");
		if (edata == NULL && !rev->applied && lint != NULL)
		{
			MemoryContextSwitchTo(parsecontext);
			problems = add_lint_problems(problems, lint, rev, work.script, oldcontext);
			MemoryContextSwitchTo(oldcontext);
		}
	}
	MemoryContextDelete(parsecontext);
	return problems;
}

/*
 * Does validation parse rev's script: it is pending, or has drifted since
 * it was applied?
 */
static bool
needs_parse(const MgRevision *rev)
{
	return !rev->applied || strcmp(rev->checksum, rev->applied_checksum) != 0;
}

/*
 * The INVALID indexes that interrupted concurrent builds of the project's
 * revisions left, one warning each, naming the index, the statement that
 * built it, and the statement that drops it.  The caller must be connected
 * to SPI.
 */
List *
mg_validate_indexes(const MgState *state)
{
	List	   *problems = NIL;
	ListCell   *lc;

	foreach(lc, mg_invalid_indexes(state->project))
	{
		MgInvalidIndex *index = lfirst(lc);

		problems = add_problem(problems, "warning", index->revision, "invalid index",
							   ERRCODE_MG_INVALID_INDEX_LEFT,
							   psprintf("invalid index \"%s\" was left by an interrupted concurrent build",
										index->index),
							   psprintf("Index \"%s\" on table \"%s\" was left INVALID by an interrupted concurrent build (statement %d of the %s script of revision \"%s\"). Drop it with DROP INDEX CONCURRENTLY %s.",
										index->index, index->table, index->statement,
										index->down ? "down" : "up", index->revision,
										index->index),
							   psprintf("Drop it with DROP INDEX CONCURRENTLY %s.", index->index));
	}
	return problems;
}

/*
 * Append the findings of lint, which has reviewed the scripts before, on
 * script, revision rev's parsed up script, to problems, allocated in
 * context: its warning and error findings, but for its own
 * "non-transactional" finding, which the caller reports.
 */
static List *
add_lint_problems(List *problems, MgLint *lint, const MgRevision *rev,
				  MgScript *script, MemoryContext context)
{
	List	   *findings = mg_lint_script(lint, script, rev->nontransactional);
	ListCell   *lc;

	foreach(lc, findings)
	{
		MgLintFinding *f = lfirst(lc);
		MemoryContext old;

		if (!mg_lint_finding_counts(f) || strcmp(f->rule, "non-transactional") == 0)
			continue;
		old = MemoryContextSwitchTo(context);
		problems = add_problem(problems,
							   pg_migrate_lint == MG_LINT_ERROR ? "error" : "warning",
							   rev->id, psprintf("lint: %s", f->rule), ERRCODE_MG_LINT,
							   pstrdup(f->message),
							   psprintf("Statement %d, line %d, column %d (%s): %s.",
										f->statement, f->line, f->column, f->severity, f->message),
							   f->hint ? pstrdup(f->hint) : NULL);
		MemoryContextSwitchTo(old);
	}
	return problems;
}

/* The subtransaction's work: parse one script. */
static void
parse_script(void *arg)
{
	ParseWork  *work = arg;

	work->script = mg_script_parse(work->project, work->rev->id, work->rev->up, false);
}

/*
 * Raise the first problem of severity "error", if any.
 */
void
mg_raise_first_error(List *problems)
{
	ListCell   *lc;

	foreach(lc, problems)
	{
		MgProblem  *p = lfirst(lc);

		if (strcmp(p->severity, "error") != 0)
			continue;
		ereport(ERROR,
				(errcode(p->sqlerrcode),
				 errmsg_internal("%s", p->message),
				 errdetail_internal("%s", p->detail),
				 p->hint ? errhint("%s", p->hint) : 0));
	}
}

/*
 * The revision the error mg_raise_first_error would raise is about; NULL
 * when it is about the whole project, or when there is no error.
 */
const char *
mg_first_error_revision(List *problems)
{
	ListCell   *lc;

	foreach(lc, problems)
	{
		MgProblem  *p = lfirst(lc);

		if (strcmp(p->severity, "error") == 0)
			return p->revision;
	}
	return NULL;
}

/* Append a problem to problems; the strings are not copied. */
static List *
add_problem(List *problems, const char *severity, const char *revision,
			const char *problem, int sqlerrcode, const char *message,
			const char *detail, const char *hint)
{
	MgProblem  *p = palloc(sizeof(MgProblem));

	p->severity = severity;
	p->revision = revision;
	p->problem = problem;
	p->sqlerrcode = sqlerrcode;
	p->message = message;
	p->detail = detail;
	p->hint = hint;
	return lappend(problems, p);
}
