/*-------------------------------------------------------------------------
 *
 * mask.h
 *	  Masking secrets (passwords, the password of a connection URI) in SQL
 *	  text and in messages, so that no NOTICE, error, history row or server
 *	  log line shows them.
 *
 * A leaf: it knows the server's parser and error machinery and nothing of
 * pg_migrate above it.  mask.c's header comment says where pg_migrate
 * calls it and why there.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_MASK_H
#define MG_MASK_H

#include "utils/elog.h"

#include "compat.h"

/* what every secret is replaced with */
#define MG_MASK "****"

/*
 * A palloc'd copy of text (SQL, or a message) with every secret replaced by
 * "****"; a copy even when nothing changed; NULL for NULL.  May run the
 * server's parser, catching its syntax errors: do not call it while an
 * error is being handled (inside PG_CATCH before FlushErrorState); use
 * mg_mask_error there.
 */
extern char *mg_mask_secrets(const char *text);

/*
 * Mask the message, detail, detail_log, hint, context and internalquery of
 * edata in place (the new strings are palloc'd in CurrentMemoryContext),
 * moving internalpos to where the same token now is.  Never raises an
 * error of its own and never runs the parser, so it is safe anywhere,
 * including in PG_CATCH on a copy made by CopyErrorData.
 */
extern void mg_mask_error(ErrorData *edata);

/*
 * mg_mask_error for an error raised while parsing or running the script
 * sql: besides every field mg_mask_error masks, the secrets found in sql
 * are masked wherever the message quotes them, even as a bare token ("at
 * or near" of a syntax error in "PASSWORD secret").  sql may be NULL.
 */
extern void mg_mask_error_script(ErrorData *edata, const char *sql);

/*
 * For PG_CATCH around work on the script sql (may be NULL): copy the error
 * into context, mask it as mg_mask_error_script does, and re-throw it.
 */
pg_noreturn extern void mg_mask_rethrow(MemoryContext context, const char *sql);

/*
 * While pg_migrate runs scripts: make every message the client will see
 * pass through the module's emit_log_hook (which masks it), even when
 * log_min_messages would keep it out of the server log.  Returns a GUC
 * nest level to hand to mg_mask_messages_end, on every path out.
 */
extern int	mg_mask_messages_begin(void);
extern void mg_mask_messages_end(int nestlevel);

/*
 * The log_min_messages the server log really uses, by name, while
 * mg_mask_messages_begin has lowered it (and otherwise too): for a
 * background worker that takes on this backend's settings.
 */
extern const char *mg_mask_log_min_messages(void);

/*
 * If the statement the client sent holds a secret, point
 * debug_query_string and pg_stat_activity's query text at a masked copy.
 * For the start of every SQL-callable function.
 */
extern void mg_mask_activity(void);

/* Module load: install the emit_log_hook. */
extern void MaskInit(void);

#endif							/* MG_MASK_H */
