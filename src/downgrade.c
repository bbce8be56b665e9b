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
 * Steps 2 and 3 are shared with CALL migrate_run (run.c), which reverts
 * each revision in a transaction of its own, and runs down scripts that
 * cannot run in a transaction block at top level; migrate_downgrade
 * refuses those.
 *
 * A dry run stops after step 3, takes no lock and changes nothing.
 *
 * From step 1's lock wait on, a failure is also recorded in the history
 * by a transaction of its own (failure.c), after the downgrade's
 * subtransaction has been rolled back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"

#include "downgrade.h"
#include "executor.h"
#include "failure.h"
#include "lock.h"
#include "pg_migrate.h"
#include "script.h"
#include "validate.h"

/* One call of mg_downgrade, and how far it got. */
typedef struct DowngradeCall
{
	const char *project;
	const char *target;
	bool		dry_run;
	MgFailure	failure;		/* what is known, should it fail */
	MgRun	   *runs;			/* the plan's runs, once they exist */
	int			nruns;
	List	   *steps;			/* the result */
} DowngradeCall;

static void downgrade(void *arg);
static void raise_first_error(DowngradeCall *call, List *problems);
static void refuse_missing_down_scripts(const MgState *state, const int *plan, int nplan);

/*
 * Downgrade project to target; return the steps as a List of MgStep.
 * A real downgrade runs in a subtransaction; a failure is recorded in the
 * history after its rollback, as for an upgrade (upgrade.c, failure.c).
 */
List *
mg_downgrade(const char *project, const char *target, bool dry_run)
{
	DowngradeCall call = {0};

	call.project = project;
	call.target = target;
	call.dry_run = dry_run;
	if (dry_run)
	{
		downgrade(&call);
		return call.steps;
	}

	/* refusals before the call begins are not failures to record */
	mg_lock_check_context("migrate_downgrade");
	mg_failure_begin(&call.failure, false, project, target);
	mg_failure_guard(&call.failure, downgrade, &call, &call.runs, &call.nruns);
	return call.steps;
}

/*
 * The downgrade itself, steps 1 to 4 (or 3 for a dry run); the result goes
 * to call->steps.  call->failure.revision names the revision being
 * validated while it is.
 */
static void
downgrade(void *arg)
{
	DowngradeCall *call = arg;
	const char *project = call->project;
	const char *target = call->target;
	char	   *role = GetUserNameFromId(GetUserId(), false);
	MgState    *state;
	int		   *plan;
	int			nplan;
	MgRun	   *runs;
	MgAppliedRecord *records;
	int			i;

	if (!call->dry_run)
		mg_lock_project(project, pg_migrate_lock_wait_timeout, "migrate_downgrade");

	state = mg_registry_load(project);
	raise_first_error(call, mg_validate_graph(state));
	raise_first_error(call, mg_validate_applied(state));

	plan = mg_plan_downgrade(state, target, &nplan);
	if (nplan == 0)
		return;

	runs = mg_downgrade_prepare(state, plan, nplan, &call->failure, true);

	if (call->dry_run)
	{
		for (i = 0; i < nplan; i++)
			call->steps = lappend(call->steps, mg_step_planned(runs[i].script, "revert"));
		return;
	}

	call->runs = runs;
	call->nruns = nplan;
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
		call->steps = lappend(call->steps, mg_step_of_run(&runs[i], "reverted"));
	}
	mg_registry_record_reverted(state, target, role, records, nplan);
}

/*
 * The applied revisions a downgrade of state to target reverts, children
 * before parents (graph.c).  Raises an error when the target cannot be
 * reached by reverting.  The caller has validated the graph.
 */
int *
mg_plan_downgrade(MgState *state, const char *target, int *nplan)
{
	bool	   *applied = palloc(sizeof(bool) * Max(state->nregistered, 1));
	int			i;

	for (i = 0; i < state->nregistered; i++)
		applied[i] = state->revisions[i].applied;
	return graph_plan_downgrade(state->graph, applied, target, nplan);
}

/*
 * Step 3: load the down scripts of plan (nplan nodes of state), refuse when
 * any is missing, and parse them all; return their runs, verb "reverting",
 * numbered along the plan.  in_one_transaction (migrate_downgrade) refuses
 * a statement that cannot run in a transaction block; CALL migrate_run
 * (run.c) runs those at top level.  failure->revision and failure->down
 * name the script being parsed while it is.
 */
MgRun *
mg_downgrade_prepare(MgState *state, const int *plan, int nplan,
					 MgFailure *failure, bool in_one_transaction)
{
	MgRun	   *runs = palloc0(sizeof(MgRun) * Max(nplan, 1));
	int			i;

	mg_registry_load_scripts(state, plan, nplan);
	refuse_missing_down_scripts(state, plan, nplan);

	failure->down = true;
	for (i = 0; i < nplan; i++)
	{
		MgRevision *rev = &state->revisions[plan[i]];

		failure->revision = rev->id;
		runs[i].script = mg_script_parse(state->project, rev->id, rev->down, true);
		if (in_one_transaction)
			mg_script_refuse_non_transactional(runs[i].script, "migrate_downgrade");
		runs[i].verb = "reverting";
		runs[i].step = i + 1;
		runs[i].nsteps = nplan;
	}
	failure->revision = NULL;
	failure->down = false;
	return runs;
}

/*
 * Raise the first error of problems (validate.c), with its revision
 * noted for the failure row.
 */
static void
raise_first_error(DowngradeCall *call, List *problems)
{
	call->failure.revision = mg_first_error_revision(problems);
	mg_raise_first_error(problems);
	call->failure.revision = NULL;
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
