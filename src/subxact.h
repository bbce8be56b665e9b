/*-------------------------------------------------------------------------
 *
 * subxact.h
 *	  Running a piece of work in an internal subtransaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_SUBXACT_H
#define MG_SUBXACT_H

#include "utils/elog.h"

typedef void (*MgSubxactWork) (void *arg);

extern ErrorData *mg_in_subtransaction(MgSubxactWork work, void *arg);

#endif							/* MG_SUBXACT_H */
