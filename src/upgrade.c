/*-------------------------------------------------------------------------
 *
 * upgrade.c
 *	  migrate_upgrade: validate, lock, apply pending revisions in order,
 *	  record; all in the caller's transaction.
 *
 * The order of the steps is the design:
 *
 * 1. Refuse what cannot work, before touching anything, as the lock is
 *    taken (lock.c): a call from inside a migration script, a standby, a
 *    read-only transaction, an isolation level above READ COMMITTED (the
 *    state must be re-read after the lock is granted, which a
 *    transaction-wide snapshot would not show).
 * 2. Take the project's migration lock (lock.c).  Everything after this is
 *    read afresh, so a caller that waited for another deploy finds the
 *    work done and succeeds with nothing to do.  When pg_migrate.directory
 *    names a folder, register its files now (sync.c).
 * 3. At head with nothing changed since (registry.c's clean flag), return at
 *    once.  Otherwise load the state, raise the first graph or applied-set
 *    problem (validate.c), plan the target (graph.c), and parse every
 *    pending script (script.c): a syntax error in the last pending script
 *    is reported before the first runs.  Review the pending scripts
 *    against the catalog (lint.c): as pg_migrate.lint says, NOTICE each
 *    finding or refuse before anything runs.
 * 4. Apply each revision in its own subtransaction, retried when it loses
 *    a lock conflict (executor.c), then record the applied rows and
 *    history rows.  An error anywhere aborts the
 *    caller's transaction, so nothing is half-done and no "dirty" state
 *    exists to clear.
 *
 * Steps 3 and 4 are shared with CALL migrate_run (run.c), which plans
 * the same way (mg_plan, mg_upgrade_prepare) but commits each revision on
 * its own.  One transaction holds the locks of every revision it applies:
 * when that exhausts the lock table (max_locks_per_transaction), the error
 * points to migrate_run.
 *
 * From step 2 on, a failure is also recorded in the history by a
 * transaction of its own (failure.c), after the upgrade's subtransaction
 * has been rolled back.
 *
 * A dry run does step 3 only, validation included: it takes no lock and
 * changes nothing, so it also works on a standby and in a read-only or
 * REPEATABLE READ transaction.  It does not read pg_migrate.directory,
 * since registering the files would be a change.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "executor.h"
#include "failure.h"
#include "lint.h"
#include "lock.h"
#include "pg_migrate.h"
#include "script.h"
#include "sync.h"
#include "upgrade.h"
#include "validate.h"

/* One call of mg_upgrade, and how far it got. */
typedef struct UpgradeCall
{
	const char *project;
	const char *target;
	bool		dry_run;
	MgFailure	failure;		/* what is known, should it fail */
	MgRun	   *runs;			/* the plan's runs, once they exist */
	int			nruns;
	List	   *steps;			/* the result */
} UpgradeCall;

static void upgrade(void *arg);
static void raise_first_error(UpgradeCall *call, List *problems);
static List *apply_plan(UpgradeCall *call, MgState *state, int *plan, int nplan,
						MgScript **scripts);
pg_noreturn static void rethrow_with_run_hint(MemoryContext context);

/*
 * Upgrade project to target; return the steps as a List of MgStep.
 *
 * A real upgrade runs in a subtransaction of the caller's transaction.
 * When it fails, the subtransaction is rolled back, the failure is
 * recorded in the history by a transaction of its own (failure.c), and the
 * error is re-thrown unchanged: the caller's transaction then aborts as
 * before, and everything the upgrade did is gone but that row.
 */
List *
mg_upgrade(const char *project, const char *target, bool dry_run)
{
	UpgradeCall call = {0};

	call.project = project;
	call.target = target;
	call.dry_run = dry_run;
	if (dry_run)
	{
		upgrade(&call);
		return call.steps;
	}

	/* refusals before the call begins are not failures to record */
	mg_lock_check_context("migrate_upgrade");
	mg_failure_begin(&call.failure, true, project, target);
	mg_failure_guard(&call.failure, upgrade, &call, &call.runs, &call.nruns);
	return call.steps;
}

/*
 * The upgrade itself, steps 1 to 4 (or 3 for a dry run); the result goes
 * to call->steps.  call->failure.revision names the revision being
 * validated while it is.
 */
static void
upgrade(void *arg)
{
	UpgradeCall *call = arg;
	const char *project = call->project;
	const char *target = call->target;
	MgState    *state;
	int		   *plan;
	int			nplan;
	MgScript  **scripts;
	MemoryContext oldcontext = CurrentMemoryContext;
	int			i;

	if (!call->dry_run)
	{
		mg_lock_project(project, pg_migrate_lock_wait_timeout, "migrate_upgrade");
		mg_sync_directory(project);
	}
	else if (pg_migrate_directory != NULL && pg_migrate_directory[0] != '\0')
		ereport(NOTICE,
				(errmsg("a dry run plans from the registry and does not read pg_migrate.directory")));

	if (strcmp(target, "head") == 0 && mg_registry_is_clean(project))
		return;

	state = mg_registry_load(project);
	raise_first_error(call, mg_validate_applied(state));

	plan = mg_plan(state, target, &nplan);
	if (nplan == 0)
	{
		if (!call->dry_run && mg_fully_applied(state))
			mg_registry_mark_clean(state);
		return;
	}

	scripts = mg_upgrade_prepare(state, plan, nplan, &call->failure, true);

	if (call->dry_run)
	{
		for (i = 0; i < nplan; i++)
			call->steps = lappend(call->steps, mg_step_planned(scripts[i], "pending"));
		return;
	}

	PG_TRY();
	{
		call->steps = apply_plan(call, state, plan, nplan, scripts);
	}
	PG_CATCH();
	{
		rethrow_with_run_hint(oldcontext);
	}
	PG_END_TRY();

	if (mg_fully_applied(state))
		mg_registry_mark_clean(state);
}

/*
 * Parse every pending script of plan (nplan nodes of state) before running
 * any, then review them against the catalog as pg_migrate.lint says
 * (lint.c); return the parsed scripts in plan order.  in_one_transaction
 * (migrate_upgrade) refuses a revision marked non-transactional and a
 * statement that cannot run in a transaction block; CALL migrate_run
 * (run.c) runs those at top level.  failure->revision names the revision
 * being parsed while it is.
 */
MgScript **
mg_upgrade_prepare(MgState *state, const int *plan, int nplan,
				   MgFailure *failure, bool in_one_transaction)
{
	MgScript  **scripts = palloc(sizeof(MgScript *) * Max(nplan, 1));
	int			i;

	mg_registry_load_scripts(state, plan, nplan);
	for (i = 0; i < nplan; i++)
	{
		MgRevision *rev = &state->revisions[plan[i]];

		failure->revision = rev->id;
		scripts[i] = mg_script_parse(state->project, rev->id, rev->up, false);
		if (!in_one_transaction)
			continue;
		if (rev->nontransactional)
			ereport(ERROR,
					(errcode(ERRCODE_MG_NON_TRANSACTIONAL),
					 errmsg("revision \"%s\" is marked non-transactional and cannot run inside migrate_upgrade", rev->id),
					 errdetail("Its file asks for it to run outside a transaction (transaction:false); migrate_upgrade runs every revision in one transaction."),
					 errhint("Apply it with the per-revision runner CALL migrate_run(), which runs such revisions at top level.")));
		mg_script_refuse_non_transactional(scripts[i], "migrate_upgrade");
	}
	failure->revision = NULL;

	mg_lint_pending(scripts, nplan, !in_one_transaction);
	return scripts;
}

/*
 * Raise the first error of problems (validate.c), with its revision
 * noted for the failure row.
 */
static void
raise_first_error(UpgradeCall *call, List *problems)
{
	call->failure.revision = mg_first_error_revision(problems);
	mg_raise_first_error(problems);
	call->failure.revision = NULL;
}

/*
 * The revisions an upgrade of state to target would apply, in order.
 * Raises an error when the graph makes a plan impossible.
 */
int *
mg_plan(MgState *state, const char *target, int *nplan)
{
	bool	   *applied = palloc(sizeof(bool) * Max(state->nregistered, 1));
	int			i;

	mg_raise_first_error(mg_validate_graph(state));
	for (i = 0; i < state->nregistered; i++)
		applied[i] = state->revisions[i].applied;
	return graph_plan_upgrade(state->graph, applied, target, nplan);
}

/*
 * Step 4: apply the planned revisions (executor.c), then record them all.
 * Recording at the end, in the same transaction, is as atomic as recording
 * after each revision, and costs two statements instead of two per
 * revision.
 */
static List *
apply_plan(UpgradeCall *call, MgState *state, int *plan, int nplan,
		   MgScript **scripts)
{
	List	   *steps = NIL;
	char	   *role = GetUserNameFromId(GetUserId(), false);
	MgRun	   *runs = palloc0(sizeof(MgRun) * nplan);
	MgAppliedRecord *records = palloc(sizeof(MgAppliedRecord) * nplan);
	int			i;

	call->runs = runs;
	call->nruns = nplan;

	for (i = 0; i < nplan; i++)
	{
		runs[i].script = scripts[i];
		runs[i].verb = "applying";
		runs[i].step = i + 1;
		runs[i].nsteps = nplan;
	}
	mg_execute_plan(runs, nplan);

	for (i = 0; i < nplan; i++)
	{
		MgRevision *rev = &state->revisions[plan[i]];

		rev->applied = true;
		records[i].rev = rev;
		records[i].started = runs[i].started;
		records[i].finished = runs[i].finished;
		records[i].statements = runs[i].statements;
		records[i].attempts = runs[i].attempts;
		steps = lappend(steps, mg_step_of_run(&runs[i], "applied"));
	}
	mg_registry_record_applied(state, call->target, role, records, nplan);
	return steps;
}

/*
 * Re-throw the error being handled (in a PG_CATCH), copied into context.
 * When the server ran out of shared memory (SQLSTATE 53200), which is what
 * the lock table does when one transaction locks the objects of too many
 * revisions (max_locks_per_transaction), the hint also points to CALL
 * migrate_run, whose transactions hold one revision's locks each.
 */
static void
rethrow_with_run_hint(MemoryContext context)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(context);
	edata = CopyErrorData();
	if (edata->sqlerrcode != ERRCODE_OUT_OF_MEMORY)
		PG_RE_THROW();
	FlushErrorState();
	edata->hint = psprintf("%s%sOr apply the revisions with CALL migrate_run(), which commits each revision in a transaction of its own.",
						   edata->hint ? edata->hint : "",
						   edata->hint ? "  " : "");
	ReThrowError(edata);
}

/* Every registered revision applied, under a single head? */
bool
mg_fully_applied(const MgState *state)
{
	int		   *heads;
	int			i;

	for (i = 0; i < state->nregistered; i++)
		if (!state->revisions[i].applied)
			return false;
	return graph_heads(state->graph, &heads) == 1;
}
