/*-------------------------------------------------------------------------
 *
 * subxact.c
 *	  Run a piece of work in an internal subtransaction and hand back its
 *	  error, if any, after rolling the subtransaction back.
 *
 * This is the pattern PL/pgSQL uses for an EXCEPTION block, in one place:
 * the caller's memory context and resource owner are restored on both
 * paths, and on error the error is copied out before the rollback and the
 * error state is cleared, so the caller can re-throw it, report it, or
 * carry on.  Locks the work took survive a commit (they pass to the parent)
 * and are released by a rollback.
 *
 * The error handed back has its secrets masked (mask.c): every error of a
 * user's script, parsed or run, passes here.

 * This file is a leaf: it knows the transaction machinery and masking,
 * and nothing else of pg_migrate.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "mask.h"
#include "subxact.h"

/*
 * Call work(arg) in a subtransaction.  Returns NULL when it succeeded (the
 * subtransaction is committed into the caller's transaction), else the
 * error, copied into the caller's memory context and with its secrets
 * masked (the subtransaction is rolled back).
 */
ErrorData *
mg_in_subtransaction(MgSubxactWork work, void *arg)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);

	PG_TRY();
	{
		work(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();

	/* the error may quote the work's SQL: let no secret out (mask.c) */
	if (edata != NULL)
		mg_mask_error(edata);
	return edata;
}
