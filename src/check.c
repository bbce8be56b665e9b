/*-------------------------------------------------------------------------
 *
 * check.c
 *	  migrate_check: for schedulers (pg_cron) and health checks.  A project
 *	  that is at its single head, with every registered revision applied,
 *	  no drift and a valid graph, gets one line starting "ok: "; anything
 *	  else is one error whose message counts what is wrong, whose detail
 *	  names it, and whose hint says what to run, so that a scheduled job
 *	  shows as failed with the reason in its log.
 *
 * Everything found is reported at once, not the first problem only: a
 * graph that is invalid, applied revisions missing from the registry,
 * drifted revisions, INVALID indexes that interrupted concurrent builds
 * left (status.c), several heads, and pending revisions.  The error's
 * SQLSTATE is that of the most serious problem, in that order, so that a
 * driver can tell "a deploy is due" (MG024, revisions pending) from "a
 * person must look" (MG009, MG019, MG006, MG040, MG004).  An INVALID index
 * ranks below what makes the recorded history untrustworthy (the graph,
 * the applied set, drift) and above several heads and pending revisions:
 * it costs every write to its table now, and unless its revision is
 * pending and unchanged no deploy will drop it.  A project with nothing
 * registered and nothing applied is not "ok" (MG025): it has no head to be
 * at, and a scheduled check of a misspelt project must not pass forever.
 *
 * Every list in the detail is bounded, however large the project: at most
 * CHECK_LIST_MAX items of each kind, then how many more; a cycle is named
 * by as many of its revisions and its length.  While the graph is invalid
 * no upgrade runs, so pending revisions are listed in id order then, not
 * in an upgrade's order (a cycle has none).
 *
 * The check only reads, through the same owner scope and fixed search_path
 * as every other bookkeeping statement (catalog.c), and takes no lock: it
 * works on a standby, in a read-only transaction, at any isolation level
 * and while a migration runs (whose work it sees once committed).  It does
 * not parse scripts: a project with a pending script that does not parse
 * fails the check already, and migrate_validate names the script.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "catalog.h"
#include "check.h"
#include "pg_migrate.h"
#include "status.h"
#include "validate.h"

/* How many revisions (or problems) a detail line names before "N more". */
#define CHECK_LIST_MAX	10

/* What a check found, each list in the order it is reported. */
typedef struct CheckFindings
{
	List	   *graph;			/* of MgProblem *: the graph is invalid */
	List	   *orphans;		/* of char *: applied, not registered */
	List	   *drifted;		/* of char *: applied, script changed */
	List	   *invalid;		/* of char *: INVALID indexes builds left */
	List	   *heads;			/* of char *: registry heads, when several */
	List	   *pending;		/* of char *: in the order of an upgrade, or
								 * of ids when the graph is invalid */
} CheckFindings;

/* The error being built: what the message counts, its detail and hint. */
typedef struct CheckReport
{
	List	   *counts;			/* of char *: "2 pending revisions" */
	StringInfoData detail;
	StringInfoData hint;
	int			sqlerrcode;		/* of the first kind reported */
} CheckReport;

static void find_problems(const MgState *state, CheckFindings *found);
static List *pending_in_order(const MgState *state, bool by_id);
static void append_list(StringInfo buf, List *items, const char *sep,
						const char *last_sep);
static void add_finding(CheckReport *report, int sqlerrcode, List *items,
						const char *one, const char *many,
						const char *heading, const char *sep, const char *hint);
static char *upgrade_call(const char *project);
pg_noreturn static void report_empty(const char *project);

/*
 * Check project.  Returns the "ok: ..." line, or raises the error that
 * says what is wrong.  The caller must be connected to SPI.
 */
char *
mg_check(const char *project)
{
	MgState    *state = mg_registry_load(project);
	CheckFindings found;
	CheckReport report = {0};
	List	   *graph_messages = NIL;
	StringInfoData what;
	ListCell   *lc;

	if (state->nrevisions == 0)
		report_empty(project);

	find_problems(state, &found);
	if (found.graph == NIL && found.orphans == NIL && found.drifted == NIL &&
		found.invalid == NIL && found.heads == NIL && found.pending == NIL)
	{
		List	   *heads = mg_registry_heads(state);

		Assert(list_length(heads) == 1);
		return psprintf("ok: project \"%s\" at head %s (%d applied, none pending, no drift)",
						project, ((MgRevision *) linitial(heads))->id,
						state->nrevisions);
	}

	initStringInfo(&report.detail);
	initStringInfo(&report.hint);

	/* most serious first: the first one's SQLSTATE is the error's */
	foreach(lc, found.graph)
	{
		MgProblem  *p = lfirst(lc);

		if (strcmp(p->problem, "cycle") == 0)
			graph_messages = lappend(graph_messages,
									 psprintf("the revision graph has a cycle: %s",
											  graph_describe_cycle(state->graph,
																   CHECK_LIST_MAX)));
		else
			graph_messages = lappend(graph_messages, (char *) p->message);
	}
	add_finding(&report, ERRCODE_MG_INVALID_GRAPH, graph_messages,
				"an invalid revision graph", NULL,
				"Invalid graph: ", "; ",
				"Run SELECT * FROM migrate_validate() to see every problem, and register the revisions concerned again with the right parents.");
	add_finding(&report, ERRCODE_MG_NOT_REGISTERED, found.orphans,
				"applied revision missing from the registry",
				"applied revisions missing from the registry",
				"Applied revisions missing from the registry: ", ", ",
				"Register the missing revisions again, with the scripts they were applied with.");
	add_finding(&report, ERRCODE_MG_CHECKSUM_DRIFT, found.drifted,
				"drifted revision", "drifted revisions",
				"Drifted revisions (applied, then their up script changed): ", ", ",
				"Register each drifted script as it was applied and put the change in a new revision, or accept an intended edit with migrate_repair(revision).");
	add_finding(&report, ERRCODE_MG_INVALID_INDEX_LEFT, found.invalid,
				"invalid index left by an interrupted build",
				"invalid indexes left by interrupted builds",
				"Invalid indexes left by interrupted concurrent builds: ", ", ",
				"Drop each with DROP INDEX CONCURRENTLY; SELECT * FROM migrate_validate() gives the statement for each.");
	add_finding(&report, ERRCODE_MG_SEVERAL_HEADS, found.heads,
				"head", "heads",
				"Heads: ", ", ",
				"Register a merge revision whose parents are the heads.");
	add_finding(&report, ERRCODE_MG_NOT_AT_HEAD, found.pending,
				"pending revision", "pending revisions",
				found.graph != NIL ? "Pending revisions: " :
				"Pending revisions, in the order an upgrade applies them: ", ", ",
				psprintf("%s %s.", report.hint.len > 0 ? "Then run" : "Run",
						 upgrade_call(project)));

	initStringInfo(&what);
	append_list(&what, report.counts, ", ", " and ");
	ereport(ERROR,
			(errcode(report.sqlerrcode),
			 errmsg("project \"%s\" has %s", project, what.data),
			 errdetail_internal("%s", report.detail.data),
			 errhint("%s", report.hint.data)));
	pg_unreachable();
}

/*
 * Add one kind of problem to the report, unless items is empty: its count
 * to the message ("1 <one>", "N <many>", or just <one> when many is NULL),
 * a paragraph "<heading><items>." to the detail, a sentence to the hint,
 * and its SQLSTATE when it is the first kind reported.
 */
static void
add_finding(CheckReport *report, int sqlerrcode, List *items,
			const char *one, const char *many,
			const char *heading, const char *sep, const char *hint)
{
	int			n = list_length(items);

	if (n == 0)
		return;
	if (many == NULL)
		report->counts = lappend(report->counts, pstrdup(one));
	else
		report->counts = lappend(report->counts,
								 psprintf("%d %s", n, n == 1 ? one : many));
	appendStringInfo(&report->detail, "%s%s",
					 report->detail.len > 0 ? "\n" : "", heading);
	append_list(&report->detail, items, sep, sep);
	appendStringInfoChar(&report->detail, '.');
	appendStringInfo(&report->hint, "%s%s", report->hint.len > 0 ? " " : "", hint);
	if (report->sqlerrcode == 0)
		report->sqlerrcode = sqlerrcode;
}

/*
 * Sort what validation finds into found; add the INVALID indexes that
 * interrupted builds left, the registry heads when there are several, and
 * the pending revisions.
 */
static void
find_problems(const MgState *state, CheckFindings *found)
{
	List	   *problems;
	ListCell   *lc;

	memset(found, 0, sizeof(CheckFindings));
	problems = list_concat(mg_validate_graph(state), mg_validate_applied(state));
	foreach(lc, problems)
	{
		MgProblem  *p = lfirst(lc);

		if (p->sqlerrcode == ERRCODE_MG_NOT_REGISTERED)
			found->orphans = lappend(found->orphans, (char *) p->revision);
		else if (p->sqlerrcode == ERRCODE_MG_CHECKSUM_DRIFT)
			found->drifted = lappend(found->drifted, (char *) p->revision);
		else if (p->sqlerrcode == ERRCODE_MG_SEVERAL_HEADS)
		{
			ListCell   *hc;

			foreach(hc, mg_registry_heads(state))
				found->heads = lappend(found->heads, ((MgRevision *) lfirst(hc))->id);
		}
		else
		{
			Assert(strcmp(p->severity, "error") == 0);
			found->graph = lappend(found->graph, p);
		}
	}
	foreach(lc, mg_invalid_indexes(state->project))
	{
		MgInvalidIndex *index = lfirst(lc);

		found->invalid = lappend(found->invalid,
								 psprintf("%s (%s script of %s)", index->index,
										  index->down ? "down" : "up", index->revision));
	}
	found->pending = pending_in_order(state, found->graph != NIL);
}

/*
 * The registered revisions that are not applied: first those in the
 * graph's topological order (the order an upgrade applies them), then, in
 * id order, any a cycle keeps out of that order; or all of them in id
 * order when by_id (the graph is invalid: no upgrade runs).
 */
static List *
pending_in_order(const MgState *state, bool by_id)
{
	const MgGraph *g = state->graph;
	bool	   *listed = palloc0(sizeof(bool) * Max(g->n, 1));
	List	   *pending = NIL;
	int			i;

	for (i = 0; i < (by_id ? 0 : g->norder); i++)
	{
		int			node = g->order[i];

		listed[node] = true;
		if (!state->revisions[node].applied)
			pending = lappend(pending, state->revisions[node].id);
	}
	for (i = 0; i < g->n; i++)
		if (!listed[i] && !state->revisions[i].applied)
			pending = lappend(pending, state->revisions[i].id);
	return pending;
}

/*
 * Append the strings of items to buf, separated by sep, the last two by
 * last_sep; after CHECK_LIST_MAX of them, the rest are counted instead
 * ("a, b, ..., j, and 5 more").
 */
static void
append_list(StringInfo buf, List *items, const char *sep, const char *last_sep)
{
	int			n = list_length(items);
	int			shown = n > CHECK_LIST_MAX ? CHECK_LIST_MAX : n;
	int			i;

	for (i = 0; i < shown; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, i == n - 1 ? last_sep : sep);
		appendStringInfoString(buf, (const char *) list_nth(items, i));
	}
	if (shown < n)
		appendStringInfo(buf, "%sand %d more", sep, n - shown);
}

/*
 * The call that brings project to head, as a hint gives it: the project is
 * named unless it is the default one and this session uses the default.
 */
static char *
upgrade_call(const char *project)
{
	if (strcmp(project, "default") == 0 &&
		strcmp(mg_resolve_project(NULL), "default") == 0)
		return pstrdup("SELECT migrate_upgrade('head')");
	return psprintf("SELECT migrate_upgrade('head', project => %s)",
					quote_literal_cstr(project));
}

/*
 * Raise the error for a project with nothing registered and nothing
 * applied; its detail names the projects this database has, which shows a
 * misspelt name.
 */
static void
report_empty(const char *project)
{
	MgOwnerScope scope;
	Datum		values[1];
	List	   *projects = NIL;
	StringInfoData detail;
	int			n;
	int			i;

	values[0] = Int64GetDatum(CHECK_LIST_MAX + 1);
	mg_owner_begin(&scope);
	n = mg_catalog_exec(MGQ_PROJECTS, values, NULL);
	for (i = 0; i < n; i++)
		projects = lappend(projects, mg_shown(mg_result_text(i, 1)));
	mg_owner_end(&scope);

	initStringInfo(&detail);
	if (projects == NIL)
		appendStringInfoString(&detail, "No project in this database has revisions.");
	else
	{
		if (n > CHECK_LIST_MAX)
			projects = list_truncate(projects, CHECK_LIST_MAX);
		appendStringInfo(&detail, "Projects in this database%s: ",
						 n > CHECK_LIST_MAX ? " include" : "");
		append_list(&detail, projects, ", ", ", ");
		appendStringInfoString(&detail, ".");
	}
	ereport(ERROR,
			(errcode(ERRCODE_MG_NO_REVISIONS),
			 errmsg("project \"%s\" has no revisions", project),
			 errdetail_internal("%s", detail.data),
			 errhint("Register the project's revisions (migrate_register, or pg_migrate sync DIR), or check the project name.")));
}
