/*-------------------------------------------------------------------------
 *
 * downgrade.c
 *	  migrate_downgrade: revert applied revisions down to a target with
 *	  their down scripts, in the caller's transaction.
 *
 * The steps mirror an upgrade's (upgrade.c), and so do the guarantees:
 *
 * 1. Refuse what cannot work and take the project's migration lock
 *    (lock.c), then read the state afresh.
 * 2. Validate: the graph, and the applied set (drift is an error here too:
 *    a drifted revision's down script may not undo what was applied).
 *    Plan the target (graph.c): the applied revisions that are not the
 *    target or its ancestors, children before parents.
 * 3. Before running anything, load every needed down script: if any is
 *    missing, refuse and name them all; then parse them all, so a syntax
 *    error in the last one is reported before the first runs.
 * 4. Run each down script in its own subtransaction, with the same lock
 *    timeout, retries, progress and client watch as an upgrade
 *    (executor.c); then delete the applied rows and write a history row
 *    each.  An error anywhere aborts the caller's transaction: nothing is
 *    half-reverted.
 *
 * A dry run stops after step 3, takes no lock and changes nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"

#include "downgrade.h"
#include "executor.h"
#include "lock.h"
#include "pg_migrate.h"
#include "script.h"
#include "validate.h"

static void refuse_missing_down_scripts(const MgState *state, const int *plan, int nplan);

/*
 * Downgrade project to target; return the steps as a List of MgStep.
 */
List *
mg_downgrade(const char *project, const char *target, bool dry_run)
{
	List	   *steps = NIL;
	char	   *role = GetUserNameFromId(GetUserId(), false);
	MgState    *state;
	bool	   *applied;
	int		   *plan;
	int			nplan;
	MgRun	   *runs;
	MgAppliedRecord *records;
	int			i;

	if (!dry_run)
		mg_lock_project(project, pg_migrate_lock_wait_timeout, "migrate_downgrade");

	state = mg_registry_load(project);
	mg_raise_first_error(mg_validate_graph(state));
	mg_raise_first_error(mg_validate_applied(state));

	applied = palloc(sizeof(bool) * Max(state->nregistered, 1));
	for (i = 0; i < state->nregistered; i++)
		applied[i] = state->revisions[i].applied;
	plan = graph_plan_downgrade(state->graph, applied, target, &nplan);
	if (nplan == 0)
		return NIL;

	mg_registry_load_scripts(state, plan, nplan);
	refuse_missing_down_scripts(state, plan, nplan);

	runs = palloc0(sizeof(MgRun) * nplan);
	for (i = 0; i < nplan; i++)
	{
		MgRevision *rev = &state->revisions[plan[i]];

		runs[i].script = mg_script_parse(project, rev->id, rev->down, true);
		mg_script_refuse_non_transactional(runs[i].script, "migrate_downgrade");
		runs[i].verb = "reverting";
		runs[i].step = i + 1;
		runs[i].nsteps = nplan;
	}

	if (dry_run)
	{
		for (i = 0; i < nplan; i++)
			steps = lappend(steps, mg_step_planned(runs[i].script, "revert"));
		return steps;
	}

	mg_execute_plan(runs, nplan);

	records = palloc(sizeof(MgAppliedRecord) * nplan);
	for (i = 0; i < nplan; i++)
	{
		MgRevision *rev = &state->revisions[plan[i]];

		rev->applied = false;
		records[i].rev = rev;
		records[i].started = runs[i].started;
		records[i].finished = runs[i].finished;
		records[i].statements = runs[i].statements;
		records[i].attempts = runs[i].attempts;
		steps = lappend(steps, mg_step_of_run(&runs[i], "reverted"));
	}
	mg_registry_record_reverted(state, target, role, records, nplan);
	return steps;
}

/*
 * Refuse the downgrade when a planned revision has no down script, naming
 * every such revision.  An empty down script is a deliberate no-op and
 * counts as present.
 */
static void
refuse_missing_down_scripts(const MgState *state, const int *plan, int nplan)
{
	StringInfoData missing;
	int			nmissing = 0;
	int			i;

	initStringInfo(&missing);
	for (i = 0; i < nplan; i++)
	{
		const MgRevision *rev = &state->revisions[plan[i]];

		if (rev->down != NULL)
			continue;
		appendStringInfo(&missing, "%s%s", nmissing > 0 ? ", " : "", rev->id);
		nmissing++;
	}
	if (nmissing == 0)
		return;

	ereport(ERROR,
			(errcode(ERRCODE_MG_MISSING_DOWN_SCRIPT),
			 errmsg_plural("%d revision to revert has no down script",
						   "%d revisions to revert have no down script",
						   nmissing, nmissing),
			 errdetail("Without a down script: %s.", missing.data),
			 errhint("Register the revisions again with down scripts (an empty one if nothing needs undoing), or stop the downgrade above them.")));
}
