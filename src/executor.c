/*-------------------------------------------------------------------------
 *
 * executor.c
 *	  Run one revision's parsed script, statement by statement, inside a
 *	  subtransaction of its own.
 *
 * Why a subtransaction: a revision must be undone as a unit while the
 * caller's transaction (and the migration lock it holds) carries on, which
 * is what lets a failed attempt be rolled back and retried and keeps the
 * bookkeeping of the revisions before it.  Here an error is passed on after
 * the subtransaction is rolled back, so the caller's own error handling
 * (a PL/pgSQL EXCEPTION block, say) finds the transaction stack as it left
 * it.
 *
 * Why a GUC nest level: each script behaves as if it had a session of its
 * own.  A SET in a script lasts until the end of that script and never
 * reaches the next revision or the caller; the nest level is unwound as on
 * abort (every value restored) even when the script succeeds.
 *
 * Statements are run the way the server runs an extension script: parse
 * analysis, rewrite and planning of one statement only after the previous
 * one has executed (so a statement may use what an earlier one created),
 * utility statements through ProcessUtility in a non-top-level context,
 * output discarded.  The script runs with the caller's user id and
 * privileges; nothing here elevates them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "tcop/dest.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "executor.h"
#include "subxact.h"

static void run_script(void *arg);
static void run_statements(const MgScript *script, MgScriptErrorContext *ctx);
static void run_statement(const MgScript *script, RawStmt *raw, DestReceiver *dest);

/*
 * Run script in a subtransaction with its own GUC nest level; return the
 * number of statements run.  On error the subtransaction is rolled back and
 * the error, with a context line naming the statement, is re-thrown.  The
 * script's parse trees are used up: parse it again to run it again.
 */
int
mg_execute_script(const MgScript *script)
{
	ErrorData  *edata = mg_in_subtransaction(run_script, (void *) script);

	if (edata != NULL)
		ReThrowError(edata);
	return list_length(script->stmts);
}

/*
 * The subtransaction's work: the statements, inside a GUC nest level that
 * is unwound as on abort, so every SET of the script ends with it.
 */
static void
run_script(void *arg)
{
	const MgScript *script = arg;
	int			nestlevel = NewGUCNestLevel();
	MgScriptErrorContext ctx;

	mg_script_context_push(&ctx, script);
	run_statements(script, &ctx);
	mg_script_context_pop(&ctx);
	AtEOXact_GUC(false, nestlevel);
}

/*
 * Run every statement; each gets a memory context of its own, reset after
 * it.
 */
static void
run_statements(const MgScript *script, MgScriptErrorContext *ctx)
{
	MemoryContext stmtcontext;
	MemoryContext oldcontext;
	DestReceiver *dest = CreateDestReceiver(DestNone);
	ListCell   *lc;

	stmtcontext = AllocSetContextCreate(CurrentMemoryContext,
										"pg_migrate statement context",
										ALLOCSET_DEFAULT_SIZES);
	foreach(lc, script->stmts)
	{
		mg_script_context_statement(ctx, foreach_current_index(lc));
		oldcontext = MemoryContextSwitchTo(stmtcontext);
		run_statement(script, lfirst_node(RawStmt, lc), dest);
		MemoryContextSwitchTo(oldcontext);
		MemoryContextReset(stmtcontext);
		CHECK_FOR_INTERRUPTS();
	}
	MemoryContextDelete(stmtcontext);

	/* let what follows see the script's last changes */
	CommandCounterIncrement();
}

/*
 * Analyse, plan and execute one raw statement, with a fresh snapshot for
 * each planned statement, as in READ COMMITTED.  The raw statement is used
 * up: analysis and utility execution may scribble on it.
 */
static void
run_statement(const MgScript *script, RawStmt *raw, DestReceiver *dest)
{
	List	   *stmts;
	ListCell   *lc;

	/* parse analysis must see what the previous statements did */
	CommandCounterIncrement();

	PushActiveSnapshot(GetTransactionSnapshot());
	stmts = pg_analyze_and_rewrite_fixedparams(raw, script->sql, NULL, 0, NULL);
	stmts = pg_plan_queries(stmts, script->sql, CURSOR_OPT_PARALLEL_OK, NULL);
	PopActiveSnapshot();

	foreach(lc, stmts)
	{
		PlannedStmt *stmt = lfirst_node(PlannedStmt, lc);

		CommandCounterIncrement();
		PushActiveSnapshot(GetTransactionSnapshot());

		if (stmt->utilityStmt == NULL)
		{
			QueryDesc  *qdesc;

			qdesc = CreateQueryDesc(stmt, script->sql, GetActiveSnapshot(), NULL,
									dest, NULL, NULL, 0);
			ExecutorStart(qdesc, 0);
			ExecutorRun(qdesc, ForwardScanDirection, 0, true);
			ExecutorFinish(qdesc);
			ExecutorEnd(qdesc);
			FreeQueryDesc(qdesc);
		}
		else
			ProcessUtility(stmt, script->sql, false, PROCESS_UTILITY_QUERY,
						   NULL, NULL, dest, NULL);

		PopActiveSnapshot();
	}
}
