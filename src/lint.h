/*-------------------------------------------------------------------------
 *
 * lint.h
 *	  Reviewing migration scripts against the live catalog.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_LINT_H
#define MG_LINT_H

#include "nodes/pg_list.h"

#include "script.h"

/* values of pg_migrate.lint */
typedef enum MgLintMode
{
	MG_LINT_OFF,
	MG_LINT_WARN,
	MG_LINT_ERROR
} MgLintMode;

/* One finding of the lint about one statement (or about the script). */
typedef struct MgLintFinding
{
	const char *revision;		/* the script's revision */
	int			statement;		/* 1-based, file order; 0 for none */
	int			line;			/* 1-based; 0 for none */
	int			column;
	const char *severity;		/* "error", "warning" or "info" */
	const char *rule;			/* rule id, e.g. "index-not-concurrent" */
	char	   *message;		/* as errmsg; secrets masked */
	char	   *hint;			/* as errhint; secrets masked; may be NULL */
	const char *lock_mode;		/* the statement's lock, e.g. "SHARE"; NULL
								 * for none */
	char	   *relation;		/* the relation it locks, NULL for none */
	double		rows;			/* its estimated rows, < 0 unknown */
	int64		size;			/* its size in bytes, < 0 unknown */
} MgLintFinding;

/* What the lint remembers from one script to the next of an upgrade. */
typedef struct MgLint MgLint;

extern MgLint *mg_lint_begin(void);
extern List *mg_lint_script(MgLint *lint, const MgScript *script, bool nontransactional);
extern List *mg_lint_review(const char *project, const char *revision, const char *sql,
							bool nontransactional);
extern List *mg_lint_plan(MgScript **scripts, int n, bool top_level);
extern bool mg_lint_finding_counts(const MgLintFinding *finding);
extern void mg_lint_pending(MgScript **scripts, int n, bool top_level);

#endif							/* MG_LINT_H */
