/*-------------------------------------------------------------------------
 *
 * executor.h
 *	  Running a parsed migration script.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_EXECUTOR_H
#define MG_EXECUTOR_H

#include "script.h"

extern int	mg_execute_script(const MgScript *script);

#endif							/* MG_EXECUTOR_H */
