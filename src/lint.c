/*-------------------------------------------------------------------------
 *
 * lint.c
 *	  Review migration scripts with the server's parser and the live
 *	  catalog, before they run.
 *
 * A linter outside the database sees only the text of a script: it flags
 * CREATE INDEX on a table created two lines earlier and cannot tell a
 * table of ten rows from one of eighty million.  Here every statement is
 * judged against the relation it touches, as the catalog has it now:
 *
 * - Names are resolved as the server will resolve them when the script
 *   runs (below), and a relation created earlier in the same script, or by
 *   an earlier revision of the same upgrade (which runs in the same
 *   transaction), is new: no other session can see it before commit, so
 *   its locks block nobody and it is empty as far as anyone else is
 *   concerned.  Own temporary tables are private in the same way.
 * - An existing relation is large when its estimated rows reach
 *   pg_migrate.lint_large_table or its size reaches
 *   pg_migrate.lint_large_table_size, whichever comes first.  The size is
 *   the length of the table's main fork as the storage manager reports it
 *   now (no lock needed: it is a file length), so a table bulk-loaded and
 *   never analyzed is not mistaken for an empty one; the rows are the
 *   planner's estimate, pg_class.reltuples scaled to that length, or
 *   unknown when the table was never vacuumed or analyzed.  A partitioned
 *   table counts its partitions.
 * - Nothing here locks a user relation: names are resolved with NoLock,
 *   statistics come from the syscache and file lengths, and a lookup that
 *   could fail on a missing object (a type) is tried in a subtransaction
 *   whose failure only means "cannot tell".
 *
 * Reviewing runs no user code.  The reviewer is often a superuser and the
 * reviewed tables belong to the deploy role, so anything the lint evaluated
 * from the catalog or the script (a CHECK constraint's function, a
 * default, a cast, a domain's constraint, a type's input function, an
 * operator class) would run with the reviewer's rights.  The lint
 * therefore never evaluates, plans or parse-analyzes an expression: no
 * eval_const_expressions, expression_planner, predicate_implied_by,
 * transformExpr, typcache domain constraints or type input functions.  It
 * reads stored expression trees (pg_constraint.conbin) and the raw parse
 * tree structurally, and the only functions it calls are the server's
 * own, with an OID below FirstNormalObjectId: the typmod input and output
 * of built-in types, the planner support function of a built-in function
 * (which rewrites a node tree, as ALTER COLUMN TYPE's planning does), and
 * pg_size_pretty.  Where a verdict would need more, the lint does not
 * guess in the favourable direction:
 *
 * - SET NOT NULL skips its scan when a validated CHECK constraint implies
 *   the column IS NOT NULL.  The server proves that with
 *   predicate_implied_by in its weak form (a CHECK passes when it is not
 *   false, so CHECK (c > 0) lets nulls through and proves nothing), which
 *   after constant folding amounts to a conjunct "c IS NOT NULL" (or
 *   NOT (c IS NULL)) of the constraint, or every arm of an OR being one.
 *   The lint looks for exactly those nodes in the stored tree; any other
 *   shape is reported as a scan.
 * - ADD COLUMN ... DEFAULT rewrites when the default is volatile.  The raw
 *   default is walked: literals, casts of literals, SQL value functions
 *   (CURRENT_TIMESTAMP) and boolean, null and case nodes are not
 *   volatile; a function or operator is judged by pg_proc.provolatile of
 *   every candidate its name has (all non-volatile, or all volatile).
 *   Anything else (a candidate of each kind, a name the catalog does not
 *   have yet, a subscript) cannot be told and is reported as a rewrite.
 *   A column whose type is a domain with constraints rewrites too (the
 *   server checks every row), found from pg_type and pg_constraint.
 * - ALTER COLUMN TYPE: the coercion of the column is built as the server
 *   builds it (coerce_to_target_type on the column as a Var, which looks
 *   up casts and evaluates nothing), then reduced the way planning would,
 *   but only through nodes whose meaning is fixed: relabelling, domains
 *   without constraints, the timestamp conversions under UTC, and a
 *   built-in function whose built-in support function simplifies it
 *   (varchar(20) from varchar(10)).  Anything else, such as a cast
 *   function of yours that planning might inline, is reported as a
 *   rewrite.
 *
 * Name resolution.  Each script starts with the session's search_path and
 * role, as the executor runs it, and the lint follows what the script
 * changes: SET/RESET search_path and role (which end with the script, as
 * in the executor), CREATE SCHEMA (with the relations it creates), DROP
 * SCHEMA, ALTER SCHEMA ... RENAME, relations created (in the schema the
 * server would create them in: the first existing schema of the path, or
 * pg_temp for TEMP; IF NOT EXISTS of a taken name creates nothing),
 * renamed (ALTER TABLE/INDEX/VIEW ... RENAME), moved (SET SCHEMA, with a
 * table's indexes) and dropped (DISCARD TEMP drops the temporary ones).  An
 * unqualified name is looked up as the server does: the temporary schema
 * (if the session has one, or the script made one), pg_catalog unless the
 * path names it, then each schema of the path that exists and that the
 * role may use, "$user" being the role's name.  A statement that runs code
 * the lint cannot read may change any of this, and may do what no rule
 * sees: DO, CALL, EXECUTE, a call of a function or operator that is not
 * built in (or of set_config), an expression the statement computes that
 * calls one (an index expression or predicate, a new column's default, a
 * CHECK validated at once, a USING clause), DML on a table whose triggers,
 * rules, defaults, CHECK constraints or indexes run such code.  It is a
 * finding of its own ("opaque-code"), so that under pg_migrate.lint =
 * error it passes only with a lint-ignore comment a reviewer can see.
 *
 * The rules that depend on size fire only on existing large relations;
 * the rules about running code (renames, drops) on every existing one.
 * pg_migrate runs each script with lock_timeout = pg_migrate.lock_timeout,
 * so the lock-timeout rule fires only where that protection is gone: a
 * statement taking ACCESS EXCLUSIVE on an existing relation while the
 * effective lock_timeout (pg_migrate.lock_timeout, or what the script SET)
 * is 0 or longer than LONG_LOCK_TIMEOUT_MS.  It is not limited to large
 * tables: how long others queue behind a lock depends on the traffic on a
 * table, not on its size.
 *
 * Locks are kept until the end of the transaction, and an upgrade applies
 * every pending revision in one: a VALIDATE CONSTRAINT on a large table
 * after a statement that took a write-blocking lock on it, in the same
 * script or an earlier revision of the same upgrade, scans while the
 * earlier lock still blocks writes, which defeats ADD ... NOT VALID.
 *
 * A comment "-- migrate:lint-ignore RULE_ID [RULE_ID ...] [-- reason]"
 * among the comments before a statement silences those rules for it:
 * the findings are still listed, with severity "info".  An unknown rule id
 * there is itself a finding.
 *
 * The lint reports, it does not raise: whatever the script holds (an
 * option value the server would refuse, a name with too many dots, a
 * nesting too deep to walk), the worst is "cannot tell".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_tablespace_d.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_node.h"
#include "parser/parse_type.h"
#include "parser/scansup.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "utils/varlena.h"

#include "lint.h"
#include "mask.h"
#include "pg_migrate.h"
#include "subxact.h"

/* a lock_timeout longer than this no longer protects traffic, in ms */
#define LONG_LOCK_TIMEOUT_MS 5000

/* the comment that silences rules on the next statement */
#define IGNORE_MARKER "migrate:lint-ignore"

typedef struct LintRule
{
	const char *id;
	const char *severity;
} LintRule;

/*
 * Every rule, with its severity.  "error": the statement blocks traffic on
 * an existing large table for as long as it scans or rewrites it, or
 * cannot run as written; "warning": it breaks code still running against
 * the old schema, or gives up a protection; "info": for the record.
 * README.md lists them; never rename a released id.
 */
static const LintRule lint_rules[] = {
	{"syntax-error", "error"},
	{"meta-command", "error"},
	{"transaction-control", "error"},
	{"transaction-wrapper", "info"},
	{"copy-from-client", "error"},
	{"non-transactional", "error"},
	{"index-not-concurrent", "error"},
	{"drop-index-not-concurrent", "warning"},
	{"reindex-not-concurrent", "error"},
	{"constraint-not-valid", "error"},
	{"validate-in-transaction", "error"},
	{"set-not-null", "error"},
	{"column-type-rewrite", "error"},
	{"volatile-default", "error"},
	{"add-required-column", "error"},
	{"unique-without-index", "error"},
	{"rename-column", "warning"},
	{"rename-table", "warning"},
	{"drop-column", "warning"},
	{"drop-table", "warning"},
	{"vacuum-full", "error"},
	{"cluster", "error"},
	{"lock-table", "warning"},
	{"lock-timeout", "warning"},
	{"opaque-code", "warning"},
	{"unknown-lint-rule", "warning"},
	{"lint-ignore-unused", "info"},
	{"lock", "info"},
};

/* lock mode names as the documentation ("Explicit Locking") writes them */
static const char *const lock_names[] = {
	NULL,
	"ACCESS SHARE",
	"ROW SHARE",
	"ROW EXCLUSIVE",
	"SHARE UPDATE EXCLUSIVE",
	"SHARE",
	"SHARE ROW EXCLUSIVE",
	"EXCLUSIVE",
	"ACCESS EXCLUSIVE",
};

/*
 * A schema as the transaction will see it: one of the catalog's (looked up
 * by the review, perhaps renamed or dropped by the scripts) or one the
 * scripts create.
 */
typedef struct SimSchema
{
	char	   *name;			/* its name now */
	Oid			nspid;			/* the catalog's, InvalidOid when created
								 * by a script (or pg_temp not made yet) */
	bool		temp;			/* the session's temporary schema */
	bool		exists;
} SimSchema;

/*
 * What a name in a schema stands for since a statement of the
 * transaction: a relation the scripts created, a relation of the catalog
 * renamed or moved there, or nothing (dropped, renamed or moved away).
 * The latest entry for a name wins; a name without an entry means what
 * the catalog says.
 */
typedef struct SimRel
{
	SimSchema  *schema;
	char	   *name;
	Oid			relid;			/* the catalog's relation it names now;
								 * InvalidOid for a created one */
	bool		gone;			/* the name names nothing now */
	struct SimRel *table;		/* a created index: its created table */
} SimRel;

/* A relation a statement touches. */
typedef struct LintRel
{
	char	   *name;			/* "schema.name" when it exists, else as
								 * written */
	Oid			relid;			/* InvalidOid unless it exists and is not
								 * new */
	bool		is_new;			/* created earlier in the transaction */
	bool		large;
	double		rows;			/* < 0 unknown */
	int64		size;			/* < 0 unknown */
	SimSchema  *schema;			/* where the name was found, NULL if
								 * nowhere */
	SimRel	   *created;		/* the entry of a new relation */
} LintRel;

/* A lock taken earlier in the transaction. */
typedef struct HeldLock
{
	Oid			relid;
	LOCKMODE	mode;
	const char *revision;
	int			statement;
} HeldLock;

/*
 * A CHECK constraint added or validated earlier in the transaction: name,
 * and the column when it is "column IS NOT NULL".
 */
typedef struct LintCheck
{
	Oid			relid;
	char	   *conname;		/* NULL when unnamed */
	char	   *notnull_column; /* NULL unless "column IS NOT NULL" */
	bool		validated;
} LintCheck;

struct MgLint
{
	List	   *schemas;		/* SimSchemas looked up or created */
	List	   *rels;			/* SimRels, oldest first */
	SimSchema  *temp;			/* pg_temp */
	List	   *held;			/* HeldLocks */
	List	   *checks;			/* LintChecks */
	List	   *triggered;		/* relations whose DML runs code of a user's,
								 * found by a statement of the transaction:
								 * created ones (SimRel *) and the
								 * catalog's (relids as pointers) */
	/* where the last finding was: script text, byte offset, line, column */
	const char *at_sql;
	int			at_offset;
	int			at_line;
	int			at_column;
	/* as the current script has set them; each script starts afresh */
	List	   *path;			/* search_path entries, char * */
	char	   *role;			/* the role statements run as */
};

/* The statement being reviewed. */
typedef struct LintStmt
{
	MgLint	   *lint;
	const MgScript *script;
	int			lock_timeout;	/* in effect for this statement, ms */
	int			number;			/* 1-based, file order */
	int			offset;			/* of its first token */
	const char *command;		/* "CREATE INDEX", ... */
	LOCKMODE	lockmode;		/* the strongest lock on rel */
	LintRel    *rel;			/* NULL for none */
	char	   *note;			/* why a statement with a lock is safe */
	List	   *findings;
} LintStmt;

/* Work for try_in_subtransaction: a function and its argument. */
typedef struct TypeWork
{
	TypeName   *typeName;
	Oid			typid;
	int32		typmod;
} TypeWork;

/* What a walk of an expression could tell. */
typedef enum Verdict
{
	VERDICT_NO,					/* certainly not (volatile, ...) */
	VERDICT_YES,				/* certainly */
	VERDICT_UNKNOWN				/* cannot tell without running code */
} Verdict;

typedef struct OpaqueWalk
{
	const char *what;			/* the first opaque call found, "" when too
								 * deep to walk, NULL for none */
} OpaqueWalk;

typedef struct RewriteWork
{
	Oid			relid;
	AttrNumber	attnum;
	Oid			oldtype;
	int32		oldtypmod;
	Oid			oldcoll;
	Oid			newtype;
	int32		newtypmod;
	bool		castable;
	bool		rewrite;
} RewriteWork;

static MgLintFinding *issue_finding(MgLint *lint, const MgScript *script, MgScriptIssue *issue);
static int	compare_issues(const ListCell *a, const ListCell *b);
static void lint_statement(LintStmt *st, Node *stmt);
static void lint_index(LintStmt *st, IndexStmt *stmt);
static void lint_alter_table(LintStmt *st, AlterTableStmt *stmt);
static void lint_add_column(LintStmt *st, ColumnDef *def);
static void lint_add_constraint(LintStmt *st, Constraint *con);
static void lint_validate(LintStmt *st, const char *conname);
static void lint_set_not_null(LintStmt *st, const char *column);
static void lint_column_type(LintStmt *st, const char *column, ColumnDef *def);
static void lint_rename(LintStmt *st, RenameStmt *stmt);
static void lint_drop(LintStmt *st, DropStmt *stmt);
static void lint_vacuum(LintStmt *st, VacuumStmt *stmt);
static void lint_cluster(LintStmt *st, Node *stmt);
static void lint_set(LintStmt *st, VariableSetStmt *stmt);
static SimRel *lint_created(LintStmt *st, RangeVar *rv, bool if_not_exists);
static void lint_schema(LintStmt *st, CreateSchemaStmt *stmt);
static void lint_set_schema(LintStmt *st, AlterObjectSchemaStmt *stmt);
static bool lint_opaque(LintStmt *st, Node *stmt);
static bool calls_user_code(Node *raw, const char **what);
static bool stored_user_code(Datum stored);
static bool user_function(Oid funcid, void *context);
static bool stored_walker(Node *node, void *context);
static bool stored_code(Oid relid);
static void lint_dml(LintStmt *st, RangeVar *rv, const char *command);
static SimRel *created_in(MgLint *lint, SimSchema *schema, const char *name);
static void rename_rel(MgLint *lint, SimSchema *from, const char *oldname, SimRel *created,
					   Oid relid, SimSchema *to, const char *newname);
static void start_script(MgLint *lint);
static SimSchema *lookup_schema(MgLint *lint, const char *name);
static SimSchema *temp_schema(MgLint *lint);
static bool may_use(MgLint *lint, SimSchema *schema);
static List *search_path(MgLint *lint, SimSchema **creation);
static SimRel *find_rel(MgLint *lint, SimSchema *schema, const char *name, Oid *relid);
static bool lookup(MgLint *lint, const RangeVar *rv, SimSchema **schema, SimRel **created,
				   Oid *relid);
static LintRel *resolve(LintStmt *st, RangeVar *rv, LOCKMODE mode);
static LintRel *resolve_index(LintStmt *st, RangeVar *rv, LOCKMODE mode);
static RangeVar *range_var_of(List *names);
static void measure(LintRel *rel, Oid relid);
static void measure_one(Oid relid, double *rows, int64 *size);
static char *describe(const LintRel *rel);
static bool not_null_implied(MgLint *lint, Oid relid, AttrNumber attnum, const char *column);
static bool proves_not_null(Node *expr, AttrNumber attnum);
static bool is_not_null_test(Node *expr, char **column);
static char *column_ref_name(Node *node);
static bool option_value(DefElem *opt, bool *value);
static char *const_string(Node *node);
static bool try_in_subtransaction(MgSubxactWork work, void *arg);
static void type_work(void *arg);
static Verdict volatile_default(Node *raw);
static Verdict volatile_name(List *names, bool operator, bool *builtin);
static bool builtin_oid(Oid oid);
static bool domain_has_constraints(Oid typid);
static char *type_name(Oid typid, int32 typmod);
static void rewrite_work(void *arg);
static bool requires_rewrite(Node *expr, AttrNumber attnum);
static bool opaque_walker(Node *node, OpaqueWalk *walk);
static void opaque_walk_work(void *arg);
static bool has_user_code(MgLint *lint, Oid relid);
static void add_finding(LintStmt *st, const char *rule, char *message, char *hint);
static MgLintFinding *new_finding(MgLint *lint, const MgScript *script, int number, int offset,
								  const char *rule, const char *message, const char *hint);
static const LintRule *find_rule(const char *id);
static List *ignores_before(const char *sql, int from, int to);
static List *apply_ignores(LintStmt *st, List *ignores);
static char *mask(const char *text);

/*
 * Start reviewing the scripts of one transaction.  Pass the same MgLint to
 * mg_lint_script for each script of an upgrade, in order.
 */
MgLint *
mg_lint_begin(void)
{
	return palloc0(sizeof(MgLint));
}

/*
 * Review the statements of script, parsed by mg_script_parse or
 * mg_script_review (whose issues are findings too).  nontransactional:
 * the revision runs outside a transaction block.  Returns a List of
 * MgLintFinding in statement order.
 */
List *
mg_lint_script(MgLint *lint, const MgScript *script, bool nontransactional)
{
	List	   *findings = NIL;
	List	   *issues;
	int			next_issue = 0;
	int			lock_timeout = pg_migrate_lock_timeout;
	ListCell   *lc;

	issues = list_copy(script->issues);
	list_sort(issues, compare_issues);
	start_script(lint);

	foreach(lc, script->stmts)
	{
		RawStmt    *raw = lfirst_node(RawStmt, lc);
		int			index = foreach_current_index(lc);
		LintStmt	st = {0};
		List	   *ignores;

		st.lint = lint;
		st.script = script;
		st.lock_timeout = lock_timeout;
		st.number = script->first_number + index;
		st.offset = mg_script_statement_start(script, index);
		st.command = CreateCommandName(raw->stmt);

		/* the script's issues up to this statement, in place */
		while (next_issue < list_length(issues) &&
			   ((MgScriptIssue *) list_nth(issues, next_issue))->offset <= st.offset)
			findings = lappend(findings, issue_finding(lint, script, list_nth(issues, next_issue++)));

		if (IsA(raw->stmt, TransactionStmt))
			continue;			/* an issue already */

		if (index == script->nontx_index && !nontransactional)
			add_finding(&st, "non-transactional",
						psprintf("%s cannot run inside a transaction block", script->nontx_name),
						pstrdup("migrate_upgrade runs every revision in one transaction and refuses this script: put the statement in a revision of its own, marked non-transactional (transaction:false), and apply it with CALL migrate_run()."));

		lint_statement(&st, raw->stmt);

		/* a statement taking ACCESS EXCLUSIVE with no lock_timeout to stop it */
		if (st.lockmode == AccessExclusiveLock && st.rel != NULL && OidIsValid(st.rel->relid) &&
			(st.lock_timeout == 0 || st.lock_timeout > LONG_LOCK_TIMEOUT_MS))
			add_finding(&st, "lock-timeout",
						st.lock_timeout == 0 ?
						psprintf("%s waits for an ACCESS EXCLUSIVE lock on \"%s\" with no lock_timeout",
								 st.command, st.rel->name) :
						psprintf("%s waits for an ACCESS EXCLUSIVE lock on \"%s\" with lock_timeout %d ms",
								 st.command, st.rel->name, st.lock_timeout),
						psprintf("While it waits, every query on the table queues behind it.  Keep lock_timeout at most %d ms (pg_migrate.lock_timeout, 50 ms by default, retries the revision instead of queueing).",
								 LONG_LOCK_TIMEOUT_MS));

		/* the lock, for the record, when nothing else is said about it */
		if (st.findings == NIL && st.rel != NULL && OidIsValid(st.rel->relid) &&
			st.lockmode >= ShareUpdateExclusiveLock)
			add_finding(&st, "lock",
						psprintf("%s locks %s in %s mode%s%s",
								 st.command, describe(st.rel), lock_names[st.lockmode],
								 st.note ? ": " : "", st.note ? st.note : ""),
						NULL);

		if (st.rel != NULL && OidIsValid(st.rel->relid) && st.lockmode != NoLock)
		{
			HeldLock   *held = palloc(sizeof(HeldLock));

			held->relid = st.rel->relid;
			held->mode = st.lockmode;
			held->revision = script->revision;
			held->statement = st.number;
			lint->held = lappend(lint->held, held);
		}

		ignores = ignores_before(script->sql, mg_script_statement_lead(script, index), st.offset);
		findings = list_concat(findings, apply_ignores(&st, ignores));
		lock_timeout = st.lock_timeout;
	}
	while (next_issue < list_length(issues))
		findings = lappend(findings, issue_finding(lint, script, list_nth(issues, next_issue++)));
	return findings;
}

/* The finding of an issue mg_script_review found. */
static MgLintFinding *
issue_finding(MgLint *lint, const MgScript *script, MgScriptIssue *issue)
{
	return new_finding(lint, script, issue->stmt_number, issue->offset, issue->kind,
					   issue->message, issue->hint);
}

/* list_sort comparator: issues by offset (none first) */
static int
compare_issues(const ListCell *a, const ListCell *b)
{
	const MgScriptIssue *ia = lfirst(a);
	const MgScriptIssue *ib = lfirst(b);

	return (ia->offset > ib->offset) - (ia->offset < ib->offset);
}

/*
 * Parse sql for review and review it on its own: migrate_lint, and
 * migrate_lint_revision with a registered script.
 */
List *
mg_lint_review(const char *project, const char *revision, const char *sql,
			   bool nontransactional)
{
	MgScript   *script = mg_script_review(project, revision, sql);

	return mg_lint_script(mg_lint_begin(), script, nontransactional);
}

/* Does a finding stop an upgrade under pg_migrate.lint = error? */
bool
mg_lint_finding_counts(const MgLintFinding *finding)
{
	return strcmp(finding->severity, "info") != 0;
}

/*
 * The findings of the n scripts of a plan, in order, reviewed as an upgrade
 * applies them: in one transaction, or with top_level (CALL migrate_run)
 * one transaction each.  Either way what a script creates, renames or
 * drops is known to the review of the scripts after it.
 */
List *
mg_lint_plan(MgScript **scripts, int n, bool top_level)
{
	MgLint	   *lint = mg_lint_begin();
	List	   *findings = NIL;
	int			i;

	for (i = 0; i < n; i++)
	{
		/*
		 * migrate_run commits each revision: the locks of one are gone
		 * when the next runs (what it created stays new to the review)
		 */
		if (top_level)
			lint->held = NIL;
		findings = list_concat(findings, mg_lint_script(lint, scripts[i], top_level));
	}
	return findings;
}

/*
 * Review the n pending scripts of an upgrade, in order, as one transaction
 * (as one transaction each, for migrate_run), and do what pg_migrate.lint
 * says: nothing (off), a NOTICE per warning or error finding (warn), or
 * refuse before anything runs when there is any (error).  Info findings are not reported here.  top_level: the scripts
 * are applied by CALL migrate_run, which runs a statement that cannot run
 * in a transaction block at top level, so that is no finding.
 */
void
mg_lint_pending(MgScript **scripts, int n, bool top_level)
{
	List	   *findings;
	StringInfoData detail;
	int			count = 0;
	ListCell   *lc;

	if (pg_migrate_lint == MG_LINT_OFF)
		return;

	findings = mg_lint_plan(scripts, n, top_level);

	initStringInfo(&detail);
	foreach(lc, findings)
	{
		MgLintFinding *f = lfirst(lc);

		if (!mg_lint_finding_counts(f))
			continue;
		count++;
		if (pg_migrate_lint == MG_LINT_WARN)
			ereport(NOTICE,
					(errmsg_internal("%s", f->message),
					 errdetail("Lint rule %s (%s): revision \"%s\", statement %d, line %d, column %d.",
							   f->rule, f->severity, f->revision, f->statement, f->line, f->column),
					 f->hint ? errhint("%s", f->hint) : 0));
		else
			appendStringInfo(&detail, "%s%s statement %d, line %d: %s: %s.",
							 count > 1 ? "\n" : "", f->revision, f->statement, f->line,
							 f->rule, f->message);
	}

	if (pg_migrate_lint == MG_LINT_ERROR && count > 0)
		ereport(ERROR,
				(errcode(ERRCODE_MG_LINT),
				 errmsg_plural("the pending revisions have %d lint finding",
							   "the pending revisions have %d lint findings",
							   count, count),
				 errdetail_internal("%s", detail.data),
				 errhint("Fix the scripts, or after review silence a finding with a comment \"-- %s RULE_ID\" before its statement; migrate_lint_revision() shows each finding.",
						 IGNORE_MARKER)));
}

/*
 * Judge one statement: find the relation it locks and how, and apply the
 * rules for its kind.
 */
static void
lint_statement(LintStmt *st, Node *stmt)
{
	ListCell   *lc;

	switch (nodeTag(stmt))
	{
		case T_IndexStmt:
			lint_index(st, (IndexStmt *) stmt);
			break;
		case T_AlterTableStmt:
			lint_alter_table(st, (AlterTableStmt *) stmt);
			break;
		case T_RenameStmt:
			lint_rename(st, (RenameStmt *) stmt);
			break;
		case T_DropStmt:
			lint_drop(st, (DropStmt *) stmt);
			break;
		case T_VacuumStmt:
			lint_vacuum(st, (VacuumStmt *) stmt);
			break;
		case T_VariableSetStmt:
			lint_set(st, (VariableSetStmt *) stmt);
			break;
		case T_LockStmt:
			{
				LockStmt   *l = (LockStmt *) stmt;

				foreach(lc, l->relations)
				{
					LintRel    *rel = resolve(st, lfirst_node(RangeVar, lc), l->mode);

					if (st->rel == NULL)
						st->rel = rel;
					if (OidIsValid(rel->relid))
						add_finding(st, "lock-table",
									psprintf("LOCK TABLE locks \"%s\" in %s mode until the whole upgrade commits",
											 rel->name, lock_names[l->mode]),
									pstrdup("Every revision of an upgrade runs in one transaction, so the lock lasts until the last one is applied.  Let each statement take the lock it needs."));
				}
				break;
			}
		case T_TruncateStmt:
			foreach(lc, ((TruncateStmt *) stmt)->relations)
			{
				LintRel    *rel = resolve(st, lfirst_node(RangeVar, lc), AccessExclusiveLock);

				if (st->rel == NULL)
					st->rel = rel;
			}
			break;
		case T_CreateTrigStmt:
			st->rel = resolve(st, ((CreateTrigStmt *) stmt)->relation, ShareRowExclusiveLock);
			if (st->rel->created != NULL)
				st->lint->triggered = lappend(st->lint->triggered, st->rel->created);
			else if (OidIsValid(st->rel->relid))
				st->lint->triggered = lappend(st->lint->triggered, (void *) (uintptr_t) st->rel->relid);
			break;
		case T_RuleStmt:
			st->rel = resolve(st, ((RuleStmt *) stmt)->relation, AccessExclusiveLock);
			if (st->rel->created != NULL)
				st->lint->triggered = lappend(st->lint->triggered, st->rel->created);
			else if (OidIsValid(st->rel->relid))
				st->lint->triggered = lappend(st->lint->triggered, (void *) (uintptr_t) st->rel->relid);
			break;
		case T_CreatePolicyStmt:
			st->rel = resolve(st, ((CreatePolicyStmt *) stmt)->table, AccessExclusiveLock);
			break;
		case T_RefreshMatViewStmt:
			{
				RefreshMatViewStmt *r = (RefreshMatViewStmt *) stmt;

				st->rel = resolve(st, r->relation,
								  r->concurrent ? ExclusiveLock : AccessExclusiveLock);
				break;
			}
		case T_ReindexStmt:
			{
				ReindexStmt *r = (ReindexStmt *) stmt;
				bool		concurrently = false;

				foreach(lc, r->params)
					if (strcmp(lfirst_node(DefElem, lc)->defname, "concurrently") == 0 &&
						!option_value(lfirst_node(DefElem, lc), &concurrently))
						concurrently = false;	/* the server refuses the value */
				if (r->kind == REINDEX_OBJECT_TABLE)
					st->rel = resolve(st, r->relation,
									  concurrently ? ShareUpdateExclusiveLock : ShareLock);
				else if (r->kind == REINDEX_OBJECT_INDEX)
					st->rel = resolve_index(st, r->relation,
											concurrently ? ShareUpdateExclusiveLock : ShareLock);
				if (st->rel != NULL && st->rel->large && !concurrently)
					add_finding(st, "reindex-not-concurrent",
								psprintf("REINDEX without CONCURRENTLY blocks writes to %s, and reads that use the indexes, while they rebuild",
										 describe(st->rel)),
								pstrdup("Use REINDEX (CONCURRENTLY), in a revision of its own marked non-transactional (transaction:false), applied with CALL migrate_run()."));
				break;
			}
		case T_CreateStmt:
			{
				CreateStmt *c = (CreateStmt *) stmt;
				List	   *exprs = NIL;
				SimRel	   *created;
				const char *what;

				/* CREATE TABLE ... PARTITION OF locks the parent */
				if (c->partbound != NULL && c->inhRelations != NIL)
					st->rel = resolve(st, linitial_node(RangeVar, c->inhRelations),
									  AccessExclusiveLock);
				created = lint_created(st, c->relation, c->if_not_exists);

				/*
				 * defaults and checks that call code of a user's run on
				 * every later INSERT or UPDATE, as triggers do
				 */
				foreach(lc, c->tableElts)
				{
					ListCell   *cc;

					if (IsA(lfirst(lc), Constraint))
						exprs = lappend(exprs, ((Constraint *) lfirst(lc))->raw_expr);
					else if (IsA(lfirst(lc), ColumnDef))
						foreach(cc, ((ColumnDef *) lfirst(lc))->constraints)
							exprs = lappend(exprs, lfirst_node(Constraint, cc)->raw_expr);
				}
				foreach(lc, c->constraints)
					exprs = lappend(exprs, lfirst_node(Constraint, lc)->raw_expr);
				if (created != NULL && calls_user_code((Node *) exprs, &what))
					st->lint->triggered = lappend(st->lint->triggered, created);
				break;
			}
		case T_CreateForeignTableStmt:
			lint_created(st, ((CreateForeignTableStmt *) stmt)->base.relation,
						 ((CreateForeignTableStmt *) stmt)->base.if_not_exists);
			break;
		case T_CreateTableAsStmt:
			lint_opaque(st, ((CreateTableAsStmt *) stmt)->query);
			lint_created(st, ((CreateTableAsStmt *) stmt)->into->rel,
						 ((CreateTableAsStmt *) stmt)->if_not_exists);
			break;
		case T_ViewStmt:
			lint_created(st, ((ViewStmt *) stmt)->view, ((ViewStmt *) stmt)->replace);
			break;
		case T_CreateSeqStmt:
			lint_created(st, ((CreateSeqStmt *) stmt)->sequence,
						 ((CreateSeqStmt *) stmt)->if_not_exists);
			break;
		case T_CreateSchemaStmt:
			lint_schema(st, (CreateSchemaStmt *) stmt);
			break;
		case T_AlterObjectSchemaStmt:
			lint_set_schema(st, (AlterObjectSchemaStmt *) stmt);
			break;
		case T_SelectStmt:
			lint_opaque(st, stmt);
			if (((SelectStmt *) stmt)->intoClause != NULL)
				lint_created(st, ((SelectStmt *) stmt)->intoClause->rel, false);
			break;
		case T_InsertStmt:
			lint_opaque(st, stmt);
			lint_dml(st, ((InsertStmt *) stmt)->relation, "INSERT");
			break;
		case T_UpdateStmt:
			lint_opaque(st, stmt);
			lint_dml(st, ((UpdateStmt *) stmt)->relation, "UPDATE");
			break;
		case T_DeleteStmt:
			lint_opaque(st, stmt);
			lint_dml(st, ((DeleteStmt *) stmt)->relation, "DELETE");
			break;
		case T_MergeStmt:
			lint_opaque(st, stmt);
			lint_dml(st, ((MergeStmt *) stmt)->relation, "MERGE");
			break;
		case T_CopyStmt:
			if (((CopyStmt *) stmt)->is_from && ((CopyStmt *) stmt)->relation != NULL)
				lint_dml(st, ((CopyStmt *) stmt)->relation, "COPY");
			break;
		case T_DoStmt:
			add_finding(st, "opaque-code",
						pstrdup("DO runs code the lint cannot review"),
						pstrdup("What the block does (DDL in EXECUTE, a rename, SET search_path) is not reviewed, nor what the statements after it then refer to.  Write the statements out in the script, or review the block and add a lint-ignore comment for opaque-code."));
			break;
		case T_CallStmt:
			add_finding(st, "opaque-code",
						pstrdup("CALL runs a procedure the lint cannot review"),
						pstrdup("What the procedure does (DDL, a rename, SET search_path) is not reviewed, nor what the statements after it then refer to.  Review it and add a lint-ignore comment for opaque-code."));
			break;
		case T_DiscardStmt:
			/* DISCARD TEMP (or ALL) drops every temporary relation */
			if (((DiscardStmt *) stmt)->target != DISCARD_PLANS &&
				((DiscardStmt *) stmt)->target != DISCARD_SEQUENCES &&
				st->lint->temp != NULL)
			{
				SimSchema  *temp = palloc0(sizeof(SimSchema));

				temp->name = "pg_temp";
				temp->temp = true;
				temp->exists = true;	/* empty, and still the session's */
				st->lint->temp = temp;
			}
			break;
		case T_ExecuteStmt:
			add_finding(st, "opaque-code",
						pstrdup("EXECUTE runs a prepared statement the lint cannot review"),
						pstrdup("Write the statement out in the script."));
			break;
		default:
			if (mg_is_cluster_stmt(stmt))
				lint_cluster(st, stmt);
			break;
	}
}

/*
 * CLUSTER of one table (or, from PostgreSQL 19, REPACK, which the parser
 * reads into the same node): a rewrite under ACCESS EXCLUSIVE.  Without a
 * table it clusters every clustered one, and cannot run in a transaction,
 * which script.c reports.
 */
static void
lint_cluster(LintStmt *st, Node *stmt)
{
	RangeVar   *relation = mg_cluster_relation(stmt);

	if (relation == NULL)
		return;
	st->rel = resolve(st, relation, AccessExclusiveLock);
	if (OidIsValid(st->rel->relid))
		add_finding(st, "cluster",
					psprintf("%s rewrites %s under an ACCESS EXCLUSIVE lock",
							 st->command, describe(st->rel)),
					pstrdup("Reads and writes of the table wait until the rewrite ends.  Reorganize the table outside the migration with a tool that holds the lock only briefly, such as pg_repack."));
}

/*
 * CREATE INDEX: without CONCURRENTLY it holds a SHARE lock, which blocks
 * every write, for as long as the build takes.
 */
static void
lint_index(LintStmt *st, IndexStmt *stmt)
{
	LintRel    *rel = resolve(st, stmt->relation,
							  stmt->concurrent ? ShareUpdateExclusiveLock : ShareLock);
	List	   *exprs = NIL;
	Oid			relid;
	ListCell   *lc;

	st->rel = rel;
	if (stmt->idxname != NULL && rel->schema != NULL &&
		!(stmt->if_not_exists &&
		  (find_rel(st->lint, rel->schema, stmt->idxname, &relid) != NULL || OidIsValid(relid))))
		created_in(st->lint, rel->schema, stmt->idxname)->table = rel->created;

	/*
	 * the build computes the expressions and the predicate, and so does
	 * every later write of a created table
	 */
	foreach(lc, stmt->indexParams)
		if (lfirst_node(IndexElem, lc)->expr != NULL)
			exprs = lappend(exprs, lfirst_node(IndexElem, lc)->expr);
	if (stmt->whereClause != NULL)
		exprs = lappend(exprs, stmt->whereClause);
	if (exprs != NIL && lint_opaque(st, (Node *) exprs) && rel->created != NULL)
		st->lint->triggered = lappend(st->lint->triggered, rel->created);

	if (stmt->concurrent || !rel->large)
		return;

	if (get_rel_relkind(rel->relid) == RELKIND_PARTITIONED_TABLE)
		add_finding(st, "index-not-concurrent",
					psprintf("CREATE INDEX on %s blocks writes to every partition while the indexes build",
							 describe(rel)),
					pstrdup("A partitioned table cannot be indexed concurrently: create the index ON ONLY the parent, build each partition's index with CREATE INDEX CONCURRENTLY, and attach them with ALTER INDEX ... ATTACH PARTITION."));
	else
		add_finding(st, "index-not-concurrent",
					psprintf("CREATE INDEX without CONCURRENTLY blocks writes to %s while the index builds",
							 describe(rel)),
					pstrdup("Use CREATE INDEX CONCURRENTLY, in a revision of its own marked non-transactional (transaction:false), applied with CALL migrate_run()."));
}

/*
 * ALTER TABLE: one lock for the statement (the strongest its subcommands
 * need, as the server computes it), rules per subcommand.
 */
static void
lint_alter_table(LintStmt *st, AlterTableStmt *stmt)
{
	List	   *exprs = NIL;
	ListCell   *lc;

	if (stmt->objtype == OBJECT_INDEX)
		st->rel = resolve_index(st, stmt->relation, AlterTableGetLockLevel(stmt->cmds));
	else
		st->rel = resolve(st, stmt->relation, AlterTableGetLockLevel(stmt->cmds));

	/*
	 * the expressions the statement computes now: a new column's default,
	 * check and generation, a CHECK validated at once, a USING clause
	 */
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		ListCell   *cc;

		if (cmd->subtype == AT_AddColumn)
			foreach(cc, castNode(ColumnDef, cmd->def)->constraints)
				exprs = lappend(exprs, lfirst_node(Constraint, cc)->raw_expr);
		else if (cmd->subtype == AT_AddConstraint &&
				 !castNode(Constraint, cmd->def)->skip_validation)
			exprs = lappend(exprs, castNode(Constraint, cmd->def)->raw_expr);
		else if (cmd->subtype == AT_AlterColumnType)
			exprs = lappend(exprs, castNode(ColumnDef, cmd->def)->raw_default);
	}
	exprs = list_delete_ptr(exprs, NULL);
	if (exprs != NIL)
		lint_opaque(st, (Node *) exprs);

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		switch (cmd->subtype)
		{
			case AT_AddColumn:
				lint_add_column(st, castNode(ColumnDef, cmd->def));
				break;
			case AT_AddConstraint:
				lint_add_constraint(st, castNode(Constraint, cmd->def));
				break;
			case AT_ValidateConstraint:
				lint_validate(st, cmd->name);
				break;
			case AT_SetNotNull:
				lint_set_not_null(st, cmd->name);
				break;
			case AT_AlterColumnType:
				lint_column_type(st, cmd->name, castNode(ColumnDef, cmd->def));
				break;
			case AT_DropColumn:
				if (OidIsValid(st->rel->relid))
					add_finding(st, "drop-column",
								psprintf("dropping column \"%s\" of \"%s\" breaks code that still uses it",
										 cmd->name, st->rel->name),
								pstrdup("Deploy application code that no longer reads or writes the column first, and drop it in a later release."));
				break;
			default:
				break;
		}
	}
}

/*
 * ADD COLUMN: a volatile default, an identity, a stored generated column
 * or a serial type rewrites the table; NOT NULL without a default fails on
 * a table with rows; a column UNIQUE or PRIMARY KEY builds an index, a
 * column CHECK scans.
 */
static void
lint_add_column(LintStmt *st, ColumnDef *def)
{
	LintRel    *rel = st->rel;
	Node	   *default_expr = NULL;
	const char *rewrite = NULL;
	bool		not_null = false;
	ListCell   *lc;

	if (!OidIsValid(rel->relid))
		return;

	if (def->typeName && list_length(def->typeName->names) == 1 && !def->typeName->pct_type)
	{
		const char *typname = strVal(linitial(def->typeName->names));

		if (strcmp(typname, "serial") == 0 || strcmp(typname, "serial4") == 0 ||
			strcmp(typname, "bigserial") == 0 || strcmp(typname, "serial8") == 0 ||
			strcmp(typname, "smallserial") == 0 || strcmp(typname, "serial2") == 0)
			rewrite = psprintf("a %s column fills every row from a sequence", typname);
	}

	foreach(lc, def->constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);

		switch (con->contype)
		{
			case CONSTR_DEFAULT:
				default_expr = con->raw_expr;
				break;
			case CONSTR_IDENTITY:
				rewrite = "an identity column fills every row from a sequence";
				break;
			case CONSTR_GENERATED:
				rewrite = "a stored generated column computes every row";
				break;
			case CONSTR_NOTNULL:
				not_null = true;
				break;
			case CONSTR_PRIMARY:
				not_null = true;
				pg_fallthrough;
			case CONSTR_UNIQUE:
				if (rel->large)
					add_finding(st, "unique-without-index",
								psprintf("adding column \"%s\" with %s builds an index on %s under an ACCESS EXCLUSIVE lock",
										 def->colname, con->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE",
										 describe(rel)),
								pstrdup("Add the column, build a unique index with CREATE UNIQUE INDEX CONCURRENTLY in a non-transactional revision, then ADD CONSTRAINT ... UNIQUE USING INDEX (or PRIMARY KEY USING INDEX)."));
				break;
			case CONSTR_CHECK:
				if (rel->large)
					add_finding(st, "constraint-not-valid",
								psprintf("adding column \"%s\" with a CHECK constraint scans %s under an ACCESS EXCLUSIVE lock",
										 def->colname, describe(rel)),
								pstrdup("Add the column, then the constraint with ADD CONSTRAINT ... CHECK (...) NOT VALID, and VALIDATE CONSTRAINT in a later upgrade."));
				break;
			default:
				break;
		}
	}

	if (rewrite == NULL && rel->large && def->typeName != NULL)
	{
		TypeWork	type = {def->typeName, InvalidOid, -1};

		if (try_in_subtransaction(type_work, &type) && domain_has_constraints(type.typid))
			rewrite = "its type is a domain with constraints, which every row is checked against";
	}
	if (default_expr != NULL && rewrite == NULL && rel->large)
	{
		switch (volatile_default(default_expr))
		{
			case VERDICT_YES:
				rewrite = "its default is volatile, so every row gets its own value";
				break;
			case VERDICT_UNKNOWN:
				rewrite = "the lint cannot tell whether its default is volatile (then every row gets its own value) without running code";
				break;
			case VERDICT_NO:
				st->note = psprintf("the default of column \"%s\" is not volatile, so no rewrite",
									def->colname);
				break;
		}
	}

	if (rewrite != NULL && rel->large)
		add_finding(st, "volatile-default",
					psprintf("adding column \"%s\" rewrites %s under an ACCESS EXCLUSIVE lock: %s",
							 def->colname, describe(rel), rewrite),
					pstrdup("Add the column without a default (or with a constant or stable one, which needs no rewrite), set the default for new rows with ALTER COLUMN ... SET DEFAULT, and fill existing rows in batches."));

	if (not_null && default_expr == NULL && rewrite == NULL &&
		(rel->rows > 0 || (rel->rows < 0 && rel->size > 0)))
		add_finding(st, "add-required-column",
					psprintf("adding column \"%s\" NOT NULL without a default fails: %s has rows",
							 def->colname, describe(rel)),
					pstrdup("Give the column a constant default, or add it nullable, fill it, and add the NOT NULL constraint safely later."));
}

/*
 * ADD CONSTRAINT: a FOREIGN KEY or CHECK without NOT VALID scans the table
 * under the lock; a PRIMARY KEY or UNIQUE without USING INDEX builds its
 * index under ACCESS EXCLUSIVE, and PRIMARY KEY USING INDEX still sets its
 * columns NOT NULL.
 */
static void
lint_add_constraint(LintStmt *st, Constraint *con)
{
	LintRel    *rel = st->rel;
	char	   *column;

	if (con->contype == CONSTR_CHECK && OidIsValid(rel->relid))
	{
		LintCheck  *check = palloc0(sizeof(LintCheck));

		check->relid = rel->relid;
		check->conname = con->conname;
		check->notnull_column = is_not_null_test(con->raw_expr, &column) ? column : NULL;
		check->validated = !con->skip_validation;
		st->lint->checks = lappend(st->lint->checks, check);
	}

	if (!rel->large)
		return;

	switch (con->contype)
	{
		case CONSTR_FOREIGN:
			if (!con->skip_validation)
				add_finding(st, "constraint-not-valid",
							psprintf("adding a FOREIGN KEY scans %s while writes to it and to \"%s\" wait",
									 describe(rel), con->pktable->relname),
							pstrdup("Add it with NOT VALID, which only checks new rows, then VALIDATE CONSTRAINT in a later upgrade: validation takes a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes through."));
			else
				st->note = pstrdup("NOT VALID skips the scan");
			break;
		case CONSTR_CHECK:
			if (!con->skip_validation)
				add_finding(st, "constraint-not-valid",
							psprintf("adding a CHECK constraint scans %s under an ACCESS EXCLUSIVE lock",
									 describe(rel)),
							pstrdup("Add it with NOT VALID, which only checks new rows, then VALIDATE CONSTRAINT in a later upgrade: validation takes a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes through."));
			else
				st->note = pstrdup("NOT VALID skips the scan");
			break;
		case CONSTR_PRIMARY:
		case CONSTR_UNIQUE:
			if (con->indexname == NULL)
				add_finding(st, "unique-without-index",
							psprintf("adding a %s constraint builds an index on %s under an ACCESS EXCLUSIVE lock",
									 con->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE",
									 describe(rel)),
							pstrdup("Build the index first with CREATE UNIQUE INDEX CONCURRENTLY in a non-transactional revision, then add the constraint with ADD CONSTRAINT ... UNIQUE USING INDEX (or PRIMARY KEY USING INDEX), which takes the lock only briefly."));
			else if (con->contype == CONSTR_PRIMARY)
			{
				Oid			indexid = get_relname_relid(con->indexname,
														get_rel_namespace(rel->relid));
				HeapTuple	tuple = OidIsValid(indexid) ?
					SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexid)) : NULL;
				int			i;

				st->note = psprintf("USING INDEX \"%s\" builds no index", con->indexname);
				if (!HeapTupleIsValid(tuple))
					break;
				for (i = 0; i < ((Form_pg_index) GETSTRUCT(tuple))->indnkeyatts; i++)
				{
					AttrNumber	attnum = ((Form_pg_index) GETSTRUCT(tuple))->indkey.values[i];
					HeapTuple	atttuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(rel->relid),
														   Int16GetDatum(attnum));
					char	   *name;
					bool		notnull;

					if (!HeapTupleIsValid(atttuple))
						continue;
					name = pstrdup(NameStr(((Form_pg_attribute) GETSTRUCT(atttuple))->attname));
					notnull = ((Form_pg_attribute) GETSTRUCT(atttuple))->attnotnull;
					ReleaseSysCache(atttuple);
					if (!notnull && !not_null_implied(st->lint, rel->relid, attnum, name))
					{
						add_finding(st, "set-not-null",
									psprintf("PRIMARY KEY USING INDEX sets column \"%s\" NOT NULL, which scans %s under an ACCESS EXCLUSIVE lock",
											 name, describe(rel)),
									psprintf("First add CHECK (%s IS NOT NULL) NOT VALID and validate it in an earlier upgrade: the scan is then skipped.",
											 quote_identifier(name)));
						break;
					}
				}
				ReleaseSysCache(tuple);
			}
			break;
		default:
			break;
	}
}

/*
 * VALIDATE CONSTRAINT scans with a SHARE UPDATE EXCLUSIVE lock, which lets
 * writes through, unless the transaction already holds a lock that blocks
 * them.  Remember the constraint as validated.
 */
static void
lint_validate(LintStmt *st, const char *conname)
{
	LintRel    *rel = st->rel;
	LintCheck  *check;
	HeldLock   *held = NULL;
	ListCell   *lc;

	if (!OidIsValid(rel->relid))
		return;

	check = palloc0(sizeof(LintCheck));
	check->relid = rel->relid;
	check->conname = pstrdup(conname);
	check->validated = true;
	foreach(lc, st->lint->checks)
	{
		LintCheck  *added = lfirst(lc);

		if (added->relid == rel->relid && added->conname != NULL &&
			strcmp(added->conname, conname) == 0)
			check->notnull_column = added->notnull_column;
	}
	st->lint->checks = lappend(st->lint->checks, check);

	if (!rel->large)
		return;
	foreach(lc, st->lint->held)
	{
		HeldLock   *h = lfirst(lc);

		if (h->relid == rel->relid && h->mode >= ShareLock &&
			(held == NULL || h->mode > held->mode))
			held = h;
	}
	if (held != NULL)
	{
		add_finding(st, "validate-in-transaction",
					strcmp(held->revision, st->script->revision) == 0 ?
					psprintf("VALIDATE CONSTRAINT scans %s while the %s lock taken by statement %d still blocks writes",
							 describe(rel), lock_names[held->mode], held->statement) :
					psprintf("VALIDATE CONSTRAINT scans %s while the %s lock taken by statement %d of revision \"%s\" still blocks writes",
							 describe(rel), lock_names[held->mode], held->statement,
							 held->revision),
					pstrdup("Locks last until the upgrade commits, and every pending revision is applied in one transaction.  Validate in a later upgrade: apply up to the revision before it first (migrate_upgrade(target => ...)), then the rest."));
		return;
	}
	st->note = pstrdup("validation lets reads and writes through");
}

/*
 * SET NOT NULL scans the table under ACCESS EXCLUSIVE, unless the column is
 * NOT NULL already or a validated CHECK constraint implies it (PostgreSQL
 * 12 and later then skip the scan).
 */
static void
lint_set_not_null(LintStmt *st, const char *column)
{
	LintRel    *rel = st->rel;
	HeapTuple	tuple;
	AttrNumber	attnum;
	bool		notnull;

	if (!rel->large)
		return;
	tuple = SearchSysCacheAttName(rel->relid, column);
	if (!HeapTupleIsValid(tuple))
		return;					/* added in this script, or a typo */
	attnum = ((Form_pg_attribute) GETSTRUCT(tuple))->attnum;
	notnull = ((Form_pg_attribute) GETSTRUCT(tuple))->attnotnull;
	ReleaseSysCache(tuple);

	if (notnull)
		st->note = psprintf("column \"%s\" is NOT NULL already", column);
	else if (not_null_implied(st->lint, rel->relid, attnum, column))
		st->note = psprintf("a validated CHECK constraint proves column \"%s\" has no nulls, so no scan",
							column);
	else
		add_finding(st, "set-not-null",
					psprintf("SET NOT NULL on column \"%s\" scans %s under an ACCESS EXCLUSIVE lock",
							 column, describe(rel)),
					psprintf("Add CHECK (%s IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a later upgrade, then SET NOT NULL, which skips the scan when a validated CHECK proves it.",
							 quote_identifier(column)));
}

/*
 * ALTER COLUMN TYPE: decided as the server decides.  The column is
 * coerced to the new type and the expression planned; the change rewrites
 * the table unless what remains is the column itself, relabelled (a
 * binary-coercible change such as varchar(10) to varchar(20) or text), a
 * timestamp/timestamptz change with the session's TimeZone at UTC, or a
 * domain without constraints.  A USING clause other than the column name
 * is taken to rewrite.
 */
static void
lint_column_type(LintStmt *st, const char *column, ColumnDef *def)
{
	LintRel    *rel = st->rel;
	HeapTuple	tuple;
	Form_pg_attribute att;
	TypeWork	type = {def->typeName, InvalidOid, -1};
	RewriteWork work = {0};
	char	   *using = def->raw_default ? column_ref_name(def->raw_default) : NULL;
	char	   *from;
	char	   *to;

	if (!rel->large)
		return;
	tuple = SearchSysCacheAttName(rel->relid, column);
	if (!HeapTupleIsValid(tuple))
		return;
	att = (Form_pg_attribute) GETSTRUCT(tuple);
	work.relid = rel->relid;
	work.attnum = att->attnum;
	work.oldtype = att->atttypid;
	work.oldtypmod = att->atttypmod;
	work.oldcoll = att->attcollation;
	ReleaseSysCache(tuple);

	if (!try_in_subtransaction(type_work, &type))
		return;					/* a type created in this script, or none */
	work.newtype = type.typid;
	work.newtypmod = type.typmod;
	from = type_name(work.oldtype, work.oldtypmod);
	to = type_name(work.newtype, work.newtypmod);

	if (def->raw_default != NULL && (using == NULL || strcmp(using, column) != 0))
	{
		add_finding(st, "column-type-rewrite",
					psprintf("changing column \"%s\" from %s to %s with USING rewrites %s under an ACCESS EXCLUSIVE lock",
							 column, from, to, describe(rel)),
					pstrdup("Add a new column of the new type, fill it in batches while a trigger keeps it current, then swap the columns in a short revision."));
		return;
	}

	if (!try_in_subtransaction(rewrite_work, &work) || !work.castable)
		return;					/* the server will say why */
	if (work.rewrite)
		add_finding(st, "column-type-rewrite",
					psprintf("changing column \"%s\" from %s to %s rewrites %s under an ACCESS EXCLUSIVE lock",
							 column, from, to, describe(rel)),
					pstrdup("Add a new column of the new type, fill it in batches while a trigger keeps it current, then swap the columns in a short revision."));
	else
		st->note = psprintf("changing column \"%s\" from %s to %s needs no rewrite", column, from, to);
}

/*
 * RENAME: a table or column renamed under running code breaks it.  Every
 * rename of a relation (ALTER TABLE, INDEX, VIEW, ... RENAME: they share
 * one namespace, and ALTER INDEX may rename a table) and of a schema is
 * followed, so that the new name means what the server will find.
 */
static void
lint_rename(LintStmt *st, RenameStmt *stmt)
{
	ObjectType	type = stmt->renameType;
	SimSchema  *schema;
	SimRel	   *created;
	Oid			relid;

	if (type == OBJECT_SCHEMA)
	{
		schema = lookup_schema(st->lint, stmt->subname);
		if (schema != NULL && !schema->temp)
			schema->name = pstrdup(stmt->newname);
		return;
	}
	if (stmt->relation == NULL)
		return;
	if (type != OBJECT_TABLE && type != OBJECT_COLUMN && type != OBJECT_VIEW &&
		type != OBJECT_MATVIEW && type != OBJECT_FOREIGN_TABLE &&
		type != OBJECT_TABCONSTRAINT && type != OBJECT_SEQUENCE && type != OBJECT_INDEX)
		return;

	/*
	 * ALTER INDEX ... RENAME may name any relation, and the server then
	 * locks it as what it is: a table in ACCESS EXCLUSIVE mode
	 */
	if (type == OBJECT_INDEX &&
		lookup(st->lint, stmt->relation, &schema, &created, &relid) &&
		(created != NULL ? created->table == NULL :
		 get_rel_relkind(relid) != RELKIND_INDEX &&
		 get_rel_relkind(relid) != RELKIND_PARTITIONED_INDEX))
		type = OBJECT_TABLE;

	if (type == OBJECT_INDEX)
		st->rel = resolve_index(st, stmt->relation, ShareUpdateExclusiveLock);
	else
		st->rel = resolve(st, stmt->relation, AccessExclusiveLock);

	if (type != OBJECT_COLUMN && type != OBJECT_TABCONSTRAINT)
	{
		/* the relation renamed (for an index, st->rel is its table) */
		if (lookup(st->lint, stmt->relation, &schema, &created, &relid))
			rename_rel(st->lint, schema, stmt->relation->relname, created, relid,
					   schema, stmt->newname);
		if (type == OBJECT_INDEX || st->rel->is_new)
			return;
	}
	if (!OidIsValid(st->rel->relid))
		return;

	if (type == OBJECT_COLUMN)
		add_finding(st, "rename-column",
					psprintf("renaming column \"%s\" of \"%s\" to \"%s\" breaks code that still uses the old name",
							 stmt->subname, st->rel->name, stmt->newname),
					pstrdup("Add the new column and keep both in step until no running code uses the old one, or rename in a release whose code reads both names (a view can keep the old name)."));
	else if (type != OBJECT_TABCONSTRAINT)
		add_finding(st, "rename-table",
					psprintf("renaming \"%s\" to \"%s\" breaks code that still uses the old name",
							 st->rel->name, stmt->newname),
					pstrdup("Deploy code that uses the new name first, keeping the old name alive meanwhile (for instance as a view), or rename in a release whose code reads both."));
}

/*
 * Follow the move of a relation, named oldname in schema from and either
 * created in the transaction (created) or the catalog's (relid), to
 * schema to under newname (a rename: the same schema; SET SCHEMA: the
 * same name): its old name names nothing from now on, its new one names
 * it.
 */
static void
rename_rel(MgLint *lint, SimSchema *from, const char *oldname, SimRel *created, Oid relid,
		   SimSchema *to, const char *newname)
{
	SimRel	   *gone;
	SimRel	   *moved;

	if (from == NULL || to == NULL || (created == NULL && !OidIsValid(relid)))
		return;
	gone = palloc0(sizeof(SimRel));
	gone->schema = from;
	gone->name = pstrdup(oldname);
	gone->gone = true;
	moved = palloc0(sizeof(SimRel));
	moved->schema = to;
	moved->name = pstrdup(newname);
	moved->relid = created != NULL ? InvalidOid : relid;
	moved->table = created != NULL ? created->table : NULL;
	lint->rels = lappend(lint->rels, gone);
	lint->rels = lappend(lint->rels, moved);
	if (created != NULL)
	{
		/* the triggers and the indexes of a created relation follow it */
		ListCell   *lc;

		if (list_member_ptr(lint->triggered, created))
			lint->triggered = lappend(lint->triggered, moved);
		foreach(lc, lint->rels)
		{
			SimRel	   *index = lfirst(lc);

			if (index->table == created)
				index->table = moved;
		}
	}
}

/*
 * DROP TABLE breaks running code; DROP INDEX without CONCURRENTLY takes
 * ACCESS EXCLUSIVE on its table.  Drops are followed: the name names
 * nothing afterwards (DROP SCHEMA: nothing in the schema).
 */
static void
lint_drop(LintStmt *st, DropStmt *stmt)
{
	ListCell   *lc;

	if (stmt->removeType == OBJECT_SCHEMA)
	{
		foreach(lc, stmt->objects)
		{
			SimSchema  *schema;

			if (!IsA(lfirst(lc), String))
				continue;
			schema = lookup_schema(st->lint, strVal(lfirst(lc)));
			if (schema != NULL && !schema->temp)
				schema->exists = false;
		}
		return;
	}
	if (stmt->removeType != OBJECT_TABLE && stmt->removeType != OBJECT_INDEX &&
		stmt->removeType != OBJECT_VIEW && stmt->removeType != OBJECT_MATVIEW &&
		stmt->removeType != OBJECT_SEQUENCE && stmt->removeType != OBJECT_FOREIGN_TABLE)
		return;

	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = range_var_of(lfirst(lc));
		LintRel    *rel;
		SimSchema  *schema;
		SimRel	   *created;
		Oid			relid;
		SimRel	   *gone;

		if (rv == NULL)
			continue;			/* the server refuses the name */
		if (!lookup(st->lint, rv, &schema, &created, &relid))
		{
			/* no such relation: nothing to lock, nothing dropped */
			if (st->rel == NULL)
				st->rel = resolve(st, rv, NoLock);
			continue;
		}
		gone = palloc0(sizeof(SimRel));
		gone->schema = schema;
		gone->name = pstrdup(rv->relname);
		gone->gone = true;

		if (stmt->removeType == OBJECT_INDEX)
		{
			rel = resolve_index(st, rv, stmt->concurrent ? ShareUpdateExclusiveLock :
								AccessExclusiveLock);
			if (st->rel == NULL)
				st->rel = rel;
			st->lint->rels = lappend(st->lint->rels, gone);
			if (created == NULL && !stmt->concurrent && rel->large)
				add_finding(st, "drop-index-not-concurrent",
							psprintf("DROP INDEX \"%s\" without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on %s",
									 rv->relname, describe(rel)),
							pstrdup("Use DROP INDEX CONCURRENTLY in a revision of its own marked non-transactional (transaction:false), applied with CALL migrate_run()."));
			continue;
		}

		rel = resolve(st, rv, AccessExclusiveLock);
		if (st->rel == NULL)
			st->rel = rel;
		st->lint->rels = lappend(st->lint->rels, gone);
		if (rel->is_new)
			continue;
		if (OidIsValid(rel->relid) && stmt->removeType == OBJECT_TABLE)
			add_finding(st, "drop-table",
						psprintf("dropping table %s breaks code that still uses it", describe(rel)),
						pstrdup("Deploy application code that no longer uses the table first, and drop it in a later release."));
	}
}

/* VACUUM FULL rewrites each table under ACCESS EXCLUSIVE. */
static void
lint_vacuum(LintStmt *st, VacuumStmt *stmt)
{
	bool		full = false;
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "full") == 0 && !option_value(opt, &full))
			full = true;		/* the server refuses the value */
	}

	foreach(lc, stmt->rels)
	{
		VacuumRelation *vrel = lfirst_node(VacuumRelation, lc);
		LintRel    *rel;

		if (vrel->relation == NULL)
			continue;
		rel = resolve(st, vrel->relation, full ? AccessExclusiveLock : ShareUpdateExclusiveLock);
		if (st->rel == NULL)
			st->rel = rel;
		if (full && OidIsValid(rel->relid))
			add_finding(st, "vacuum-full",
						psprintf("VACUUM FULL rewrites %s under an ACCESS EXCLUSIVE lock",
								 describe(rel)),
						pstrdup("Reads and writes of the table wait until the rewrite ends.  Leave space to plain VACUUM, or reorganize the table with a tool that holds the lock only briefly, such as pg_repack."));
	}
	if (full && stmt->rels == NIL)
		add_finding(st, "vacuum-full",
					pstrdup("VACUUM FULL rewrites every table of the database under ACCESS EXCLUSIVE locks"),
					pstrdup("Leave space to plain VACUUM, or reorganize tables with a tool that holds locks only briefly, such as pg_repack."));
}

/*
 * SET lock_timeout, search_path or role in a script changes it until the
 * end of the script (the executor unwinds every SET of a script); RESET
 * and SET ... TO DEFAULT go back to the session's value.  A value the
 * server would refuse changes nothing here: the statement fails.
 */
static void
lint_set(LintStmt *st, VariableSetStmt *stmt)
{
	MgLint	   *lint = st->lint;
	bool		reset = stmt->kind == VAR_SET_DEFAULT || stmt->kind == VAR_RESET;
	const char *value = NULL;
	ListCell   *lc;
	int			ms;

	if (stmt->kind == VAR_RESET_ALL)
	{
		start_script(lint);
		st->lock_timeout = pg_migrate_lock_timeout;
		return;
	}
	if (stmt->name == NULL || (stmt->kind != VAR_SET_VALUE && !reset))
		return;
	if (stmt->kind == VAR_SET_VALUE && list_length(stmt->args) == 1)
		value = const_string(linitial(stmt->args));

	if (strcmp(stmt->name, "lock_timeout") == 0)
	{
		if (reset)
			value = GetConfigOptionResetString("lock_timeout");
		if (value != NULL && parse_int(value, &ms, GUC_UNIT_MS, NULL))
			st->lock_timeout = ms;
	}
	else if (strcmp(stmt->name, "search_path") == 0)
	{
		List	   *path = NIL;

		if (reset)
		{
			if (!SplitIdentifierString(pstrdup(GetConfigOptionResetString("search_path")),
									   ',', &path))
				path = NIL;
		}
		else
		{
			foreach(lc, stmt->args)
			{
				char	   *name = const_string(lfirst(lc));

				if (name == NULL)
					return;
				/* as SplitIdentifierString reads the setting */
				truncate_identifier(name, strlen(name), false);
				path = lappend(path, name);
			}
		}
		lint->path = path;
	}
	else if (strcmp(stmt->name, "role") == 0 || strcmp(stmt->name, "session_authorization") == 0)
	{
		if (reset || (value != NULL && strcmp(value, "none") == 0))
			lint->role = GetUserNameFromId(GetSessionUserId(), false);
		else if (value != NULL)
			lint->role = pstrdup(value);
	}
}

/*
 * Remember a relation created by the statement as new, in the schema the
 * server will create it in: the one named, pg_temp for a temporary one,
 * else the first schema of the search path that exists.  With
 * if_not_exists (or OR REPLACE), a relation that has the name there
 * already stays what it is: the statement creates nothing.  Returns the
 * new entry, or NULL.
 */
static SimRel *
lint_created(LintStmt *st, RangeVar *rv, bool if_not_exists)
{
	SimSchema  *schema;
	Oid			relid;

	if (rv->relpersistence == RELPERSISTENCE_TEMP ||
		(rv->schemaname != NULL && strcmp(rv->schemaname, "pg_temp") == 0))
		schema = temp_schema(st->lint);
	else if (rv->schemaname != NULL)
		schema = lookup_schema(st->lint, rv->schemaname);
	else
		(void) search_path(st->lint, &schema);
	if (schema == NULL)
		return NULL;			/* the server refuses to create it */
	if (if_not_exists &&
		(find_rel(st->lint, schema, rv->relname, &relid) != NULL || OidIsValid(relid)))
		return NULL;
	if (schema->temp)
		schema->exists = true;
	return created_in(st->lint, schema, rv->relname);
}

/* Record name as created in schema; returns its entry. */
static SimRel *
created_in(MgLint *lint, SimSchema *schema, const char *name)
{
	SimRel	   *created = palloc0(sizeof(SimRel));

	created->schema = schema;
	created->name = pstrdup(name);
	lint->rels = lappend(lint->rels, created);
	return created;
}

/*
 * CREATE SCHEMA: the schema exists from now on (named after the role when
 * no name is given), and so do the relations its elements create.
 */
static void
lint_schema(LintStmt *st, CreateSchemaStmt *stmt)
{
	SimSchema  *schema;
	const char *name = stmt->schemaname;
	ListCell   *lc;

	if (name == NULL && stmt->authrole != NULL)
	{
		if (stmt->authrole->roletype == ROLESPEC_CSTRING)
			name = stmt->authrole->rolename;
		else if (stmt->authrole->roletype == ROLESPEC_SESSION_USER)
			name = GetUserNameFromId(GetSessionUserId(), false);
		else
			name = st->lint->role;
	}
	if (name == NULL || strcmp(name, "pg_temp") == 0)
		return;
	if (stmt->if_not_exists && lookup_schema(st->lint, name) != NULL)
		return;

	schema = palloc0(sizeof(SimSchema));
	schema->name = pstrdup(name);
	schema->exists = true;
	st->lint->schemas = lappend(st->lint->schemas, schema);

	foreach(lc, stmt->schemaElts)
	{
		Node	   *elt = lfirst(lc);
		RangeVar   *rv = NULL;

		if (IsA(elt, CreateStmt))
			rv = ((CreateStmt *) elt)->relation;
		else if (IsA(elt, ViewStmt))
			rv = ((ViewStmt *) elt)->view;
		else if (IsA(elt, CreateSeqStmt))
			rv = ((CreateSeqStmt *) elt)->sequence;
		else if (IsA(elt, IndexStmt) && ((IndexStmt *) elt)->idxname != NULL)
			(void) created_in(st->lint, schema, ((IndexStmt *) elt)->idxname);
		if (rv != NULL)
			(void) created_in(st->lint, schema, rv->relname);
	}
}

/*
 * ALTER TABLE (VIEW, SEQUENCE, ...) ... SET SCHEMA: the relation and its
 * indexes move; the lock is ACCESS EXCLUSIVE.
 */
static void
lint_set_schema(LintStmt *st, AlterObjectSchemaStmt *stmt)
{
	ObjectType	type = stmt->objectType;
	SimSchema  *schema;
	SimSchema  *from;
	SimRel	   *created;
	Oid			relid;
	LintRel    *rel;

	if (stmt->relation == NULL ||
		(type != OBJECT_TABLE && type != OBJECT_VIEW && type != OBJECT_MATVIEW &&
		 type != OBJECT_SEQUENCE && type != OBJECT_FOREIGN_TABLE))
		return;
	rel = st->rel = resolve(st, stmt->relation, AccessExclusiveLock);
	schema = strcmp(stmt->newschema, "pg_temp") == 0 ? NULL :
		lookup_schema(st->lint, stmt->newschema);
	if (schema == NULL || !schema->exists ||
		!lookup(st->lint, stmt->relation, &from, &created, &relid))
		return;					/* the server refuses */

	rename_rel(st->lint, from, stmt->relation->relname, created, relid, schema,
			   stmt->relation->relname);
	if (created != NULL)
	{
		SimRel	   *moved = llast(st->lint->rels);
		ListCell   *lc;

		/* its indexes move with it */
		foreach(lc, list_copy(st->lint->rels))
		{
			SimRel	   *index = lfirst(lc);
			Oid			other;

			if (index->table == moved && !index->gone && index->schema == from &&
				find_rel(st->lint, from, index->name, &other) == index)
				rename_rel(st->lint, from, index->name, index, InvalidOid, schema, index->name);
		}
	}
	else
	{
		Relation	indrel;
		SysScanDesc scan;
		ScanKeyData key;
		HeapTuple	tuple;

		/* its indexes move with it */
		indrel = table_open(IndexRelationId, AccessShareLock);
		ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(relid));
		scan = systable_beginscan(indrel, IndexIndrelidIndexId, true, NULL, 1, &key);
		while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		{
			Oid			indexid = ((Form_pg_index) GETSTRUCT(tuple))->indexrelid;
			char	   *name = get_rel_name(indexid);

			if (name != NULL)
				rename_rel(st->lint, from, name, NULL, indexid, schema, name);
		}
		systable_endscan(scan);
		table_close(indrel, AccessShareLock);

		add_finding(st, "rename-table",
					psprintf("moving \"%s\" to schema \"%s\" breaks code that still uses the old name",
							 rel->name, stmt->newschema),
					pstrdup("Deploy code that uses the new name first, keeping the old name alive meanwhile (for instance as a view), or move it in a release whose code reads both."));
	}
}

/*
 * A statement or expression that calls a function the lint cannot read
 * (not built in, or set_config, which can change search_path or role)
 * runs code no rule reviews: an opaque-code finding.  Returns whether it
 * does.
 */
static bool
lint_opaque(LintStmt *st, Node *stmt)
{
	const char *what;

	if (!calls_user_code(stmt, &what))
		return false;
	add_finding(st, "opaque-code",
				what[0] == '\0' ?
				psprintf("%s holds an expression too deep for the lint to walk", st->command) :
				psprintf("%s calls %s, which the lint cannot review", st->command, what),
				pstrdup("A function can do what no rule sees (DDL, a rename, SET search_path).  Review it and add a lint-ignore comment for opaque-code, or write what it does out in the script."));
	return true;
}

/*
 * Does raw (a raw statement, expression or List of them) call a function
 * or operator that is not built in, or set_config?  *what names it, or is
 * "" when raw is too deep to walk (which counts as yes).  The walk runs in
 * a subtransaction: raw_expression_tree_walker raises an error on a node
 * it does not know, and check_stack_depth on one nested too deep.
 */
static bool
calls_user_code(Node *raw, const char **what)
{
	OpaqueWalk	walk = {NULL};
	void	   *arg[2] = {raw, &walk};

	if (!try_in_subtransaction(opaque_walk_work, arg))
		walk.what = "";			/* the walker gave up: too deep */
	*what = walk.what;
	return walk.what != NULL;
}

/* The subtransaction's work for calls_user_code: arg is {node, OpaqueWalk}. */
static void
opaque_walk_work(void *arg)
{
	void	  **args = arg;

	(void) opaque_walker((Node *) args[0], (OpaqueWalk *) args[1]);
}

/*
 * raw_expression_tree_walker callback: stop at the first function call or
 * operator that is not built in.
 */
static bool
opaque_walker(Node *node, OpaqueWalk *walk)
{
	bool		builtin;

	if (node == NULL)
		return false;
	if (stack_is_too_deep())
	{
		walk->what = "";
		return true;
	}
	if (IsA(node, FuncCall))
	{
		List	   *names = ((FuncCall *) node)->funcname;

		(void) volatile_name(names, false, &builtin);
		if (!builtin || strcmp(strVal(llast(names)), "set_config") == 0)
		{
			walk->what = psprintf("function %s", NameListToString(names));
			return true;
		}
	}
	else if (IsA(node, A_Expr) && ((A_Expr *) node)->kind == AEXPR_OP)
	{
		(void) volatile_name(((A_Expr *) node)->name, true, &builtin);
		if (!builtin)
		{
			walk->what = psprintf("operator %s", NameListToString(((A_Expr *) node)->name));
			return true;
		}
	}
	return raw_expression_tree_walker(node, opaque_walker, (void *) walk);
}

/*
 * INSERT, UPDATE, DELETE, MERGE or COPY FROM on a relation with triggers
 * or rules of its own (or given some earlier in the transaction), or on a
 * view: the server runs their code, which no rule reviews.
 */
static void
lint_dml(LintStmt *st, RangeVar *rv, const char *command)
{
	SimSchema  *schema;
	SimRel	   *created;
	Oid			relid;
	bool		opaque = false;

	if (rv == NULL || !lookup(st->lint, rv, &schema, &created, &relid))
		return;
	if (created != NULL)
		opaque = list_member_ptr(st->lint->triggered, created);
	else if (OidIsValid(relid))
		opaque = has_user_code(st->lint, relid);
	if (opaque)
		add_finding(st, "opaque-code",
					psprintf("%s on \"%s\" runs code of the table's the lint cannot review (triggers, rules, or functions in its defaults, checks or indexes)",
							 command, rv->relname),
					pstrdup("That code can do what no rule sees (DDL, a rename, SET search_path).  Review it and add a lint-ignore comment for opaque-code."));
}

/*
 * Does DML on relid run code of a user's: does it, or one of its
 * partitions, have triggers that are not internal (foreign keys), rules,
 * or defaults, CHECK constraints, index expressions or index predicates
 * that call a function that is not built in, or is it a view?  Read from
 * the catalog (the stored trees are only walked); no user relation is
 * opened.
 */
static bool
has_user_code(MgLint *lint, Oid relid)
{
	List	   *rels = find_all_inheritors(relid, NoLock, NULL);
	bool		found = false;
	ListCell   *lc;
	Relation	trigrel;

	trigrel = table_open(TriggerRelationId, AccessShareLock);
	foreach(lc, rels)
	{
		Oid			oid = lfirst_oid(lc);
		HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(oid));
		SysScanDesc scan;
		ScanKeyData key;
		HeapTuple	trig;

		if (!HeapTupleIsValid(tuple))
			continue;
		found = ((Form_pg_class) GETSTRUCT(tuple))->relhasrules ||
			((Form_pg_class) GETSTRUCT(tuple))->relkind == RELKIND_VIEW ||
			list_member_ptr(lint->triggered, (void *) (uintptr_t) oid);
		ReleaseSysCache(tuple);
		if (found)
			break;
		ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(oid));
		scan = systable_beginscan(trigrel, TriggerRelidNameIndexId, true, NULL, 1, &key);
		while (!found && HeapTupleIsValid(trig = systable_getnext(scan)))
			found = !((Form_pg_trigger) GETSTRUCT(trig))->tgisinternal;
		systable_endscan(scan);
		if (found || (found = stored_code(oid)))
			break;
	}
	table_close(trigrel, AccessShareLock);
	return found;
}

/*
 * Do relid's defaults, CHECK constraints, index expressions or index
 * predicates call a function that is not built in?
 */
static bool
stored_code(Oid relid)
{
	static const struct
	{
		Oid			catalog;
		Oid			index;
		AttrNumber	key;
		AttrNumber	exprs[2];
	}			stores[] = {
		{AttrDefaultRelationId, AttrDefaultIndexId, Anum_pg_attrdef_adrelid,
		{Anum_pg_attrdef_adbin, InvalidAttrNumber}},
		{ConstraintRelationId, ConstraintRelidTypidNameIndexId, Anum_pg_constraint_conrelid,
		{Anum_pg_constraint_conbin, InvalidAttrNumber}},
		{IndexRelationId, IndexIndrelidIndexId, Anum_pg_index_indrelid,
		{Anum_pg_index_indexprs, Anum_pg_index_indpred}},
	};
	bool		found = false;
	int			i;

	for (i = 0; i < lengthof(stores) && !found; i++)
	{
		Relation	rel = table_open(stores[i].catalog, AccessShareLock);
		SysScanDesc scan;
		ScanKeyData key;
		HeapTuple	tuple;
		int			j;

		ScanKeyInit(&key, stores[i].key, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(relid));
		scan = systable_beginscan(rel, stores[i].index, true, NULL, 1, &key);
		while (!found && HeapTupleIsValid(tuple = systable_getnext(scan)))
			for (j = 0; j < 2 && !found && stores[i].exprs[j] != InvalidAttrNumber; j++)
			{
				bool		isnull;
				Datum		stored = heap_getattr(tuple, stores[i].exprs[j],
												 RelationGetDescr(rel), &isnull);

				found = !isnull && stored_user_code(stored);
			}
		systable_endscan(scan);
		table_close(rel, AccessShareLock);
	}
	return found;
}

/* Does a stored expression (nodeToString text) call a user's function? */
static bool
stored_user_code(Datum stored)
{
	return stored_walker(stringToNode(TextDatumGetCString(stored)), NULL);
}

/* check_functions_in_node callback: is funcid not built in? */
static bool
user_function(Oid funcid, void *context)
{
	return !builtin_oid(funcid);
}

/*
 * expression_tree_walker callback: a function, operator or cast that is
 * not built in?  (Too deep to walk counts as one.)
 */
static bool
stored_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (stack_is_too_deep())
		return true;
	if (check_functions_in_node(node, user_function, context))
		return true;
	return expression_tree_walker(node, stored_walker, context);
}

/*
 * A script starts with the session's search_path and role, as the
 * executor runs it.
 */
static void
start_script(MgLint *lint)
{
	List	   *path = NIL;

	if (!SplitIdentifierString(pstrdup(namespace_search_path), ',', &path))
		path = NIL;
	lint->path = path;
	lint->role = GetUserNameFromId(GetUserId(), false);
}

/*
 * The schema named name as the transaction will see it, or NULL: a schema
 * the scripts created or renamed to name, else the catalog's, unless the
 * scripts renamed or dropped it.  "pg_temp" is the session's temporary
 * schema.
 */
static SimSchema *
lookup_schema(MgLint *lint, const char *name)
{
	SimSchema  *schema = NULL;
	Oid			nspid;
	ListCell   *lc;

	if (strcmp(name, "pg_temp") == 0)
		return temp_schema(lint);
	foreach(lc, lint->schemas)
	{
		SimSchema  *s = lfirst(lc);

		if (s->exists && strcmp(s->name, name) == 0)
			schema = s;
	}
	if (schema != NULL)
		return schema;

	nspid = get_namespace_oid(name, true);
	if (!OidIsValid(nspid))
		return NULL;
	foreach(lc, lint->schemas)
	{
		/* renamed or dropped by a script */
		if (((SimSchema *) lfirst(lc))->nspid == nspid)
			return NULL;
	}
	schema = palloc0(sizeof(SimSchema));
	schema->name = pstrdup(name);
	schema->nspid = nspid;
	schema->temp = isTempNamespace(nspid);
	schema->exists = true;
	lint->schemas = lappend(lint->schemas, schema);
	return schema;
}

/*
 * The session's temporary schema; it exists when the session has one, or
 * once a script creates a temporary relation.
 */
static SimSchema *
temp_schema(MgLint *lint)
{
	if (lint->temp == NULL)
	{
		lint->temp = palloc0(sizeof(SimSchema));
		lint->temp->name = "pg_temp";
		lint->temp->nspid = LookupExplicitNamespace("pg_temp", true);
		lint->temp->temp = true;
		lint->temp->exists = OidIsValid(lint->temp->nspid);
	}
	return lint->temp;
}

/* May the role the statements run as use schema (USAGE)? */
static bool
may_use(MgLint *lint, SimSchema *schema)
{
	Oid			roleid;

	if (!OidIsValid(schema->nspid) || schema->temp)
		return true;			/* created by the script, so its own */
	roleid = get_role_oid(lint->role, true);
	if (!OidIsValid(roleid))
		roleid = GetUserId();
	return mg_namespace_aclcheck(schema->nspid, roleid, ACL_USAGE) == ACLCHECK_OK;
}

/*
 * The schemas an unqualified relation name is looked up in, in order, as
 * the server computes them (recomputeNamespacePath): pg_temp when it
 * exists and the path does not name it, pg_catalog unless named, then the
 * path's schemas that exist and may be used, "$user" being the role's
 * name.  *creation is where an unqualified CREATE puts a relation: the
 * first of the path's schemas (pg_temp, named first, even before it
 * exists), or NULL for none.
 */
static List *
search_path(MgLint *lint, SimSchema **creation)
{
	List	   *schemas = NIL;
	SimSchema  *catalog;
	ListCell   *lc;

	*creation = NULL;
	foreach(lc, lint->path)
	{
		const char *name = lfirst(lc);
		SimSchema  *schema;

		if (strcmp(name, "$user") == 0)
			schema = lookup_schema(lint, lint->role);
		else
			schema = lookup_schema(lint, name);
		if (schema != NULL && schema->temp && strcmp(name, "pg_temp") == 0)
		{
			if (schemas == NIL && *creation == NULL)
				*creation = schema;
			if (!schema->exists)
				continue;
		}
		if (schema == NULL || !schema->exists || !may_use(lint, schema) ||
			list_member_ptr(schemas, schema))
			continue;
		if (*creation == NULL)
			*creation = schema;
		schemas = lappend(schemas, schema);
	}
	catalog = lookup_schema(lint, "pg_catalog");
	if (catalog != NULL && !list_member_ptr(schemas, catalog))
		schemas = lcons(catalog, schemas);
	if (temp_schema(lint)->exists && !list_member_ptr(schemas, lint->temp))
		schemas = lcons(lint->temp, schemas);
	return schemas;
}

/*
 * What name in schema names now: a created relation (its entry), a
 * relation of the catalog (*relid), or nothing (false).
 */
static SimRel *
find_rel(MgLint *lint, SimSchema *schema, const char *name, Oid *relid)
{
	int			i;

	*relid = InvalidOid;
	for (i = list_length(lint->rels) - 1; i >= 0; i--)
	{
		SimRel	   *rel = list_nth(lint->rels, i);

		if (rel->schema != schema || strcmp(rel->name, name) != 0)
			continue;
		if (rel->gone)
			return NULL;
		if (OidIsValid(rel->relid))
		{
			*relid = rel->relid;
			return NULL;
		}
		return rel;
	}
	if (OidIsValid(schema->nspid))
		*relid = get_relname_relid(name, schema->nspid);
	return NULL;
}

/*
 * Look rv up as the server will when the statement runs: in the schema
 * named, or along the search path.  Returns false when it names nothing;
 * else sets *schema, and *created (for a relation created in the
 * transaction) or *relid (for one of the catalog).
 */
static bool
lookup(MgLint *lint, const RangeVar *rv, SimSchema **schema, SimRel **created, Oid *relid)
{
	List	   *schemas;
	SimSchema  *creation;
	ListCell   *lc;

	*schema = NULL;
	*created = NULL;
	*relid = InvalidOid;
	if (rv->catalogname != NULL &&
		strcmp(rv->catalogname, get_database_name(MyDatabaseId)) != 0)
		return false;			/* the server refuses it */
	if (rv->schemaname != NULL)
	{
		SimSchema  *s = lookup_schema(lint, rv->schemaname);

		schemas = s != NULL && s->exists ? list_make1(s) : NIL;
	}
	else
		schemas = search_path(lint, &creation);

	foreach(lc, schemas)
	{
		SimSchema  *s = lfirst(lc);

		*created = find_rel(lint, s, rv->relname, relid);
		if (*created != NULL || OidIsValid(*relid))
		{
			*schema = s;
			return true;
		}
	}
	return false;
}

/*
 * The relation rv names when the statement runs, which the statement locks
 * in mode: new, existing (with its size), or neither (created by
 * something the lint does not follow, or a typo the server will report).
 * Takes no lock.  The statement's lock is the strongest asked for.
 */
static LintRel *
resolve(LintStmt *st, RangeVar *rv, LOCKMODE mode)
{
	LintRel    *rel = palloc0(sizeof(LintRel));
	Oid			relid;

	rel->rows = -1;
	rel->size = -1;
	rel->name = rv->schemaname ? psprintf("%s.%s", rv->schemaname, rv->relname) :
		pstrdup(rv->relname);
	if (mode > st->lockmode)
		st->lockmode = mode;

	if (!lookup(st->lint, rv, &rel->schema, &rel->created, &relid))
		return rel;
	if (rel->created != NULL)
	{
		rel->is_new = true;
		return rel;
	}
	measure(rel, relid);
	return rel;
}

/*
 * Like resolve, for an index: the relation is the index's table, which is
 * what the statement locks in mode.
 */
static LintRel *
resolve_index(LintStmt *st, RangeVar *rv, LOCKMODE mode)
{
	LintRel    *rel;
	SimSchema  *schema;
	SimRel	   *created;
	Oid			indexid;
	Oid			relid;

	if (!lookup(st->lint, rv, &schema, &created, &indexid) || created != NULL)
	{
		return resolve(st, rv, mode);
	}
	relid = IndexGetRelation(indexid, true);
	if (!OidIsValid(relid))
		return resolve(st, rv, mode);

	rel = palloc0(sizeof(LintRel));
	if (mode > st->lockmode)
		st->lockmode = mode;
	measure(rel, relid);
	rel->schema = schema;
	return rel;
}

/*
 * A RangeVar for a qualified name of one to three parts, as the server
 * reads a DROP's object names; NULL for a name the server refuses.
 */
static RangeVar *
range_var_of(List *names)
{
	RangeVar   *rv;

	if (names == NIL || list_length(names) > 3)
		return NULL;
	rv = makeRangeVar(NULL, NULL, -1);
	rv->relname = strVal(llast(names));
	if (list_length(names) >= 2)
		rv->schemaname = strVal(list_nth(names, list_length(names) - 2));
	if (list_length(names) == 3)
		rv->catalogname = strVal(linitial(names));
	return rv;
}

/*
 * Fill in rel from the catalog for relid: its name, estimated rows and
 * size, and whether it is large.  Own temporary tables are private and
 * never large.  A relation dropped since relid was looked up is left
 * without relid, as a new one.
 */
static void
measure(LintRel *rel, Oid relid)
{
	char		relkind = get_rel_relkind(relid);
	char	   *relname = get_rel_name(relid);
	char	   *nspname = get_namespace_name(get_rel_namespace(relid));

	rel->rows = -1;
	rel->size = -1;
	if (relname == NULL || nspname == NULL)
	{
		/* dropped since it was looked up (no lock is held): as if new */
		rel->relid = InvalidOid;
		rel->name = pstrdup("(a relation dropped meanwhile)");
		return;
	}
	rel->relid = relid;
	rel->name = quote_qualified_identifier(nspname, relname);
	if (get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
		return;

	if (relkind == RELKIND_PARTITIONED_TABLE)
	{
		List	   *parts = find_all_inheritors(relid, NoLock, NULL);
		ListCell   *lc;

		rel->rows = 0;
		rel->size = 0;
		foreach(lc, parts)
		{
			double		rows;
			int64		size;

			if (!RELKIND_HAS_STORAGE(get_rel_relkind(lfirst_oid(lc))))
				continue;
			measure_one(lfirst_oid(lc), &rows, &size);
			rel->rows = (rel->rows < 0 || rows < 0) ? -1 : rel->rows + rows;
			rel->size = (rel->size < 0 || size < 0) ? -1 : rel->size + size;
		}
	}
	else if (RELKIND_HAS_STORAGE(relkind))
		measure_one(relid, &rel->rows, &rel->size);

	rel->large =
		(pg_migrate_lint_large_table >= 0 && rel->rows >= 0 &&
		 rel->rows >= pg_migrate_lint_large_table) ||
		(pg_migrate_lint_large_table_size >= 0 && rel->size >= 0 &&
		 rel->size >= (int64) pg_migrate_lint_large_table_size * 1024);
}

/*
 * Estimated rows and size in bytes of one relation with storage, without
 * a lock.  The size is the current length of its main fork, read from the
 * storage manager (mdexists keeps the file open, so a concurrent drop
 * cannot make the length fail); pg_class.relpages, as of the last VACUUM
 * or ANALYZE, only when the file cannot be read so (mapped catalogs).  The
 * rows are reltuples scaled to the current length, as the planner does;
 * unknown (-1) when the table was never vacuumed or analyzed and has pages.
 */
static void
measure_one(Oid relid, double *rows, int64 *size)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class cls;
	BlockNumber pages;

	*rows = -1;
	*size = -1;
	if (!HeapTupleIsValid(tuple))
		return;
	cls = (Form_pg_class) GETSTRUCT(tuple);
	pages = cls->relpages;
	if (OidIsValid(cls->relfilenode))
	{
		Oid			spcoid = OidIsValid(cls->reltablespace) ? cls->reltablespace : MyDatabaseTableSpace;
		Oid			dboid = spcoid == GLOBALTABLESPACE_OID ? InvalidOid : MyDatabaseId;
		SMgrRelation srel = mg_smgropen(spcoid, dboid, cls->relfilenode);

		pages = smgrexists(srel, MAIN_FORKNUM) ? smgrnblocks(srel, MAIN_FORKNUM) : 0;
	}
	*size = (int64) pages * BLCKSZ;
	if (cls->reltuples >= 0 && cls->relpages > 0)
		*rows = rint(cls->reltuples / cls->relpages * pages);
	else if (pages == 0)
		*rows = 0;
	ReleaseSysCache(tuple);
}

/* "table "s.t" (about N rows, SIZE)" for messages */
static char *
describe(const LintRel *rel)
{
	char	   *size;

	if (rel->size < 0)
		return psprintf("\"%s\"", rel->name);
	size = text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
															  Int64GetDatum(rel->size))));
	if (rel->rows < 0)
		return psprintf("\"%s\" (never analyzed, %s)", rel->name, size);
	return psprintf("\"%s\" (about %.0f rows, %s)", rel->name, rel->rows, size);
}

/*
 * Does a validated CHECK constraint of relid prove that column (attnum)
 * has no nulls, so that SET NOT NULL skips its scan?  CHECK (column IS
 * NOT NULL) constraints added and validated earlier in the transaction
 * count, and so do the catalog's validated constraints (and those
 * validated earlier in the transaction) in which proves_not_null finds
 * the proof.  Nothing is evaluated: the stored trees are only read.
 */
static bool
not_null_implied(MgLint *lint, Oid relid, AttrNumber attnum, const char *column)
{
	bool		proven = false;
	Relation	conrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	ListCell   *lc;

	foreach(lc, lint->checks)
	{
		LintCheck  *check = lfirst(lc);

		if (check->relid == relid && check->validated && check->notnull_column != NULL &&
			strcmp(check->notnull_column, column) == 0)
			return true;
	}

	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true, NULL, 1, &key);
	while (!proven && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);
		bool		validated = con->convalidated;
		Datum		bin;
		bool		isnull;

		if (con->contype != CONSTRAINT_CHECK)
			continue;
		foreach(lc, lint->checks)
		{
			LintCheck  *check = lfirst(lc);

			if (check->relid == relid && check->validated && check->conname != NULL &&
				strcmp(check->conname, NameStr(con->conname)) == 0)
				validated = true;
		}
		if (!validated)
			continue;
		bin = heap_getattr(tuple, Anum_pg_constraint_conbin, RelationGetDescr(conrel), &isnull);
		if (!isnull)
			proven = proves_not_null(stringToNode(TextDatumGetCString(bin)), attnum);
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
	return proven;
}

/*
 * Does a CHECK constraint's stored expression prove that column attnum is
 * not null, as the server's weak implication (predicate_implied_by with
 * weak = true, after constant folding) proves it?  A CHECK passes when it
 * is not false, so only a conjunct that is "attnum IS NOT NULL" (or
 * NOT (attnum IS NULL), which folding turns into it) proves it, or an OR
 * all of whose arms do.  "c > 0" does not: it is null, so passes, on a
 * null c.  Any other node proves nothing (conservative: the lint then
 * reports the scan).
 */
static bool
proves_not_null(Node *expr, AttrNumber attnum)
{
	if (expr == NULL || stack_is_too_deep())
		return false;
	if (IsA(expr, List))
	{
		ListCell   *lc;

		foreach(lc, (List *) expr)
			if (proves_not_null(lfirst(lc), attnum))
				return true;
		return false;
	}
	if (is_andclause(expr))
		return proves_not_null((Node *) ((BoolExpr *) expr)->args, attnum);
	if (is_orclause(expr))
	{
		ListCell   *lc;

		foreach(lc, ((BoolExpr *) expr)->args)
			if (!proves_not_null(lfirst(lc), attnum))
				return false;
		return true;
	}
	if (is_notclause(expr))
	{
		Node	   *arg = (Node *) get_notclausearg((Expr *) expr);

		if (arg != NULL && IsA(arg, NullTest) && ((NullTest *) arg)->nulltesttype == IS_NULL)
		{
			NullTest	test = *(NullTest *) arg;

			test.nulltesttype = IS_NOT_NULL;
			return proves_not_null((Node *) &test, attnum);
		}
		return false;
	}
	if (IsA(expr, NullTest))
	{
		NullTest   *test = (NullTest *) expr;
		Var		   *var = (Var *) test->arg;

		return test->nulltesttype == IS_NOT_NULL && !test->argisrow &&
			var != NULL && IsA(var, Var) && var->varno == 1 && var->varlevelsup == 0 &&
			var->varattno == attnum;
	}
	return false;
}

/*
 * Is the raw expr "column IS NOT NULL", NOT (column IS NULL), or an AND
 * one of whose arms is?  Sets *column.
 */
static bool
is_not_null_test(Node *expr, char **column)
{
	NullTest   *test;

	if (expr == NULL || stack_is_too_deep())
		return false;
	if (IsA(expr, BoolExpr) && ((BoolExpr *) expr)->boolop == AND_EXPR)
	{
		ListCell   *lc;

		foreach(lc, ((BoolExpr *) expr)->args)
			if (is_not_null_test(lfirst(lc), column))
				return true;
		return false;
	}
	if (IsA(expr, BoolExpr) && ((BoolExpr *) expr)->boolop == NOT_EXPR &&
		IsA(linitial(((BoolExpr *) expr)->args), NullTest) &&
		((NullTest *) linitial(((BoolExpr *) expr)->args))->nulltesttype == IS_NULL)
	{
		*column = column_ref_name((Node *) ((NullTest *) linitial(((BoolExpr *) expr)->args))->arg);
		return *column != NULL;
	}
	if (!IsA(expr, NullTest))
		return false;
	test = (NullTest *) expr;
	if (test->nulltesttype != IS_NOT_NULL)
		return false;
	*column = column_ref_name((Node *) test->arg);
	return *column != NULL;
}

/* The column a raw ColumnRef names (its last field), or NULL. */
static char *
column_ref_name(Node *node)
{
	ColumnRef  *ref;

	if (node == NULL || !IsA(node, ColumnRef))
		return NULL;
	ref = (ColumnRef *) node;
	if (!IsA(llast(ref->fields), String))
		return NULL;
	return strVal(llast(ref->fields));
}

/*
 * The value of a boolean option as the server's defGetBoolean reads it
 * (none, true, false, on, off, 1, 0), without raising an error: false
 * when the server would refuse it.
 */
static bool
option_value(DefElem *opt, bool *value)
{
	if (opt->arg == NULL)
	{
		*value = true;
		return true;
	}
	if (IsA(opt->arg, Integer) && (intVal(opt->arg) == 0 || intVal(opt->arg) == 1))
	{
		*value = intVal(opt->arg) == 1;
		return true;
	}
	if (IsA(opt->arg, String))
	{
		const char *v = strVal(opt->arg);

		if (pg_strcasecmp(v, "true") == 0 || pg_strcasecmp(v, "on") == 0)
			*value = true;
		else if (pg_strcasecmp(v, "false") == 0 || pg_strcasecmp(v, "off") == 0)
			*value = false;
		else
			return false;
		return true;
	}
	return false;
}

/* The text of a raw constant (A_Const: string, number), or NULL. */
static char *
const_string(Node *node)
{
	A_Const    *con = (A_Const *) node;

	if (node == NULL || !IsA(node, A_Const) || con->isnull)
		return NULL;
	switch (nodeTag(&con->val))
	{
		case T_Integer:
			return psprintf("%d", intVal(&con->val));
		case T_Float:
			return pstrdup(castNode(Float, &con->val)->fval);
		case T_Boolean:
			return pstrdup(boolVal(&con->val) ? "on" : "off");
		case T_String:
			return pstrdup(strVal(&con->val));
		default:
			return NULL;
	}
}

/*
 * Run work(arg) in a subtransaction; false when it failed (the failure
 * means the lint cannot tell, not that the script is wrong).
 */
static bool
try_in_subtransaction(MgSubxactWork work, void *arg)
{
	ErrorData  *edata = mg_in_subtransaction(work, arg);

	if (edata == NULL)
		return true;
	FreeErrorData(edata);
	return false;
}

/*
 * The type a TypeName names, with its typmod; raises an error if none.
 * The typmod is computed by the type's typmod input function only when
 * that is built in; otherwise this raises too ("cannot tell").
 */
static void
type_work(void *arg)
{
	TypeWork   *work = arg;
	Type		type = LookupTypeName(NULL, work->typeName, NULL, false);
	Oid			typmodin;

	if (type == NULL)
		elog(ERROR, "type not found");
	typmodin = ((Form_pg_type) GETSTRUCT(type))->typmodin;
	ReleaseSysCache(type);
	if (work->typeName->typmods != NIL && OidIsValid(typmodin) && !builtin_oid(typmodin))
		elog(ERROR, "typmod input function not built in");
	typenameTypeIdAndMod(NULL, work->typeName, &work->typid, &work->typmod);
}

/*
 * Is a raw column default volatile, so that ADD COLUMN rewrites the
 * table?  Decided from the raw tree and pg_proc alone (see the file's
 * header); VERDICT_UNKNOWN when that cannot tell.
 */
static Verdict
volatile_default(Node *raw)
{
	Verdict		verdict = VERDICT_NO;
	List	   *args = NIL;
	bool		builtin;
	ListCell   *lc;

	if (raw == NULL)
		return VERDICT_NO;
	if (stack_is_too_deep())
		return VERDICT_UNKNOWN;

	switch (nodeTag(raw))
	{
		case T_A_Const:
		case T_SQLValueFunction:
			return VERDICT_NO;
		case T_TypeCast:
			{
				TypeCast   *cast = (TypeCast *) raw;
				TypeWork	type = {cast->typeName, InvalidOid, -1};

				/* a literal is read by the type's input function at once */
				if (IsA(cast->arg, A_Const))
					return VERDICT_NO;
				/*
				 * else a cast function, chosen by the argument's type: only
				 * when the argument calls built-ins alone and the target is
				 * built in is it known to be built in (a user cannot add a
				 * cast between two built-in types)
				 */
				verdict = volatile_default(cast->arg);
				if (verdict != VERDICT_NO)
					return verdict;
				{
					OpaqueWalk	walk = {NULL};
					void	   *walkargs[2] = {cast->arg, &walk};

					if (!try_in_subtransaction(opaque_walk_work, walkargs) || walk.what != NULL)
						return VERDICT_UNKNOWN;
				}
				if (!try_in_subtransaction(type_work, &type) || !builtin_oid(type.typid))
					return VERDICT_UNKNOWN;
				return VERDICT_NO;
			}
		case T_CollateClause:
			return volatile_default(((CollateClause *) raw)->arg);
		case T_NullTest:
			return volatile_default((Node *) ((NullTest *) raw)->arg);
		case T_BooleanTest:
			return volatile_default((Node *) ((BooleanTest *) raw)->arg);
		case T_BoolExpr:
			args = ((BoolExpr *) raw)->args;
			break;
		case T_CoalesceExpr:
			args = ((CoalesceExpr *) raw)->args;
			break;
		case T_A_ArrayExpr:
			args = ((A_ArrayExpr *) raw)->elements;
			break;
		case T_RowExpr:
			args = ((RowExpr *) raw)->args;
			break;
		case T_CaseExpr:
			{
				CaseExpr   *c = (CaseExpr *) raw;

				args = list_make2(c->arg, c->defresult);
				foreach(lc, c->args)
					args = lappend(lappend(args, ((CaseWhen *) lfirst(lc))->expr),
								   ((CaseWhen *) lfirst(lc))->result);
				break;
			}
		case T_FuncCall:
			{
				FuncCall   *f = (FuncCall *) raw;

				if (f->agg_order != NIL || f->agg_filter != NULL || f->over != NULL ||
					f->agg_star || f->agg_distinct)
					return VERDICT_UNKNOWN;
				verdict = volatile_name(f->funcname, false, &builtin);
				args = f->args;
				break;
			}
		case T_A_Expr:
			{
				A_Expr	   *a = (A_Expr *) raw;

				if (a->kind != AEXPR_OP && a->kind != AEXPR_DISTINCT &&
					a->kind != AEXPR_NOT_DISTINCT && a->kind != AEXPR_NULLIF)
					return VERDICT_UNKNOWN;
				verdict = volatile_name(a->name, true, &builtin);
				args = list_make2(a->lexpr, a->rexpr);
				break;
			}
		default:
			return VERDICT_UNKNOWN;
	}

	foreach(lc, args)
	{
		Node	   *arg = lfirst(lc);
		Verdict		v;

		if (arg != NULL && IsA(arg, NamedArgExpr))
			arg = (Node *) ((NamedArgExpr *) arg)->arg;
		v = volatile_default(arg);
		if (v == VERDICT_YES)
			return VERDICT_YES;
		if (v == VERDICT_UNKNOWN)
			verdict = verdict == VERDICT_YES ? VERDICT_YES : VERDICT_UNKNOWN;
	}
	return verdict;
}

/*
 * Is a function (or, with operator, an operator) of this name volatile?
 * Every candidate the name has in the catalog is looked at, as the call's
 * argument types are not known without parse analysis: VERDICT_NO when
 * none is volatile, VERDICT_YES when all are, else (also for a name the
 * catalog does not have, or that the lookup would refuse)
 * VERDICT_UNKNOWN.  *builtin: there are candidates, and every one (and
 * an operator's function) is built in.
 */
static Verdict
volatile_name(List *names, bool operator, bool *builtin)
{
	FuncCandidateList candidates;
	int			nvolatile = 0;
	int			n = 0;

	*builtin = false;
	if (names == NIL || list_length(names) > 2)
		return VERDICT_UNKNOWN;
	*builtin = true;
	if (operator)
		candidates = mg_opername_candidates(names, '\0', true);
	else
		candidates = mg_funcname_candidates(names, -1, NIL, false, false, false, true);
	for (; candidates != NULL; candidates = candidates->next)
	{
		Oid			funcid = candidates->oid;

		if (!builtin_oid(candidates->oid))
			*builtin = false;
		if (operator)
			funcid = get_opcode(candidates->oid);
		if (!OidIsValid(funcid))
		{
			*builtin = false;
			return VERDICT_UNKNOWN;	/* a shell operator */
		}
		if (!builtin_oid(funcid))
			*builtin = false;
		n++;
		if (func_volatile(funcid) == PROVOLATILE_VOLATILE)
			nvolatile++;
	}
	if (n == 0)
	{
		*builtin = false;
		return VERDICT_UNKNOWN;
	}
	if (nvolatile == n)
		return VERDICT_YES;
	if (nvolatile == 0)
		return VERDICT_NO;
	return VERDICT_UNKNOWN;
}

/*
 * Was oid made by initdb, as part of the server (and not by a user or an
 * extension)?  User objects always get OIDs from FirstNormalObjectId on.
 */
static bool
builtin_oid(Oid oid)
{
	return OidIsValid(oid) && oid < FirstNormalObjectId;
}

/*
 * Does typid, a domain, or a domain it is based on, have a constraint
 * (NOT NULL or CHECK)?  Read from pg_type and pg_constraint: unlike
 * DomainHasConstraints, which plans the constraints into the type cache
 * (and so may evaluate their functions), this evaluates nothing.
 */
static bool
domain_has_constraints(Oid typid)
{
	while (OidIsValid(typid))
	{
		HeapTuple	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
		Form_pg_type typ;
		Relation	conrel;
		SysScanDesc scan;
		ScanKeyData key;
		bool		found;

		if (!HeapTupleIsValid(tuple))
			return false;
		typ = (Form_pg_type) GETSTRUCT(tuple);
		if (typ->typtype != TYPTYPE_DOMAIN)
		{
			ReleaseSysCache(tuple);
			return false;
		}
		found = typ->typnotnull;
		ReleaseSysCache(tuple);
		if (found)
			return true;

		conrel = table_open(ConstraintRelationId, AccessShareLock);
		ScanKeyInit(&key, Anum_pg_constraint_contypid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(typid));
		scan = systable_beginscan(conrel, ConstraintTypidIndexId, true, NULL, 1, &key);
		found = HeapTupleIsValid(systable_getnext(scan));
		systable_endscan(scan);
		table_close(conrel, AccessShareLock);
		if (found)
			return true;

		tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
		if (!HeapTupleIsValid(tuple))
			return false;
		typid = ((Form_pg_type) GETSTRUCT(tuple))->typbasetype;
		ReleaseSysCache(tuple);
	}
	return false;
}

/*
 * A type's name for messages, with its typmod when the type's typmod
 * output function is built in (or there is none); without it otherwise,
 * so that no function of a user's runs.
 */
static char *
type_name(Oid typid, int32 typmod)
{
	HeapTuple	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	Oid			typmodout = InvalidOid;

	if (HeapTupleIsValid(tuple))
	{
		typmodout = ((Form_pg_type) GETSTRUCT(tuple))->typmodout;
		ReleaseSysCache(tuple);
	}
	if (typmod >= 0 && OidIsValid(typmodout) && !builtin_oid(typmodout))
		return format_type_be(typid);
	return format_type_with_typemod(typid, typmod);
}

/*
 * Would changing the column's type rewrite the table?  The column, as a
 * Var, is coerced to the new type at assignment as ALTER TABLE does
 * (which builds nodes and evaluates nothing); requires_rewrite then
 * decides on the tree without planning it.
 */
static void
rewrite_work(void *arg)
{
	RewriteWork *work = arg;
	ParseState *pstate = make_parsestate(NULL);
	Node	   *expr;

	expr = (Node *) makeVar(1, work->attnum, work->oldtype, work->oldtypmod, work->oldcoll, 0);
	expr = coerce_to_target_type(pstate, expr, work->oldtype, work->newtype, work->newtypmod,
								 COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
	free_parsestate(pstate);
	work->castable = expr != NULL;
	if (expr == NULL)
		return;
	assign_expr_collations(NULL, expr);
	work->rewrite = requires_rewrite(expr, work->attnum);
}

/*
 * The server's test (tablecmds.c, ATColumnChangeRequiresRewrite) on the
 * planned coercion of column attnum: it rewrites unless it reduces to the
 * column through relabelling, domains without constraints, and the
 * timestamp/timestamptz conversions when TimeZone is UTC.  Planning is
 * replaced by what it does to such a tree with fixed meaning: a built-in
 * function with a built-in support function is simplified by it
 * (SupportRequestSimplify, as eval_const_expressions asks it; varchar(20)
 * of a varchar(10) becomes a relabelling).  Any other node (a cast
 * function of a user's, which planning might inline) counts as a rewrite.
 */
static bool
requires_rewrite(Node *expr, AttrNumber attnum)
{
	for (;;)
	{
		if (IsA(expr, Var) && ((Var *) expr)->varattno == attnum)
			return false;
		else if (IsA(expr, RelabelType))
			expr = (Node *) ((RelabelType *) expr)->arg;
		else if (IsA(expr, CoerceToDomain))
		{
			CoerceToDomain *d = (CoerceToDomain *) expr;

			if (domain_has_constraints(d->resulttype))
				return true;
			expr = (Node *) d->arg;
		}
		else if (IsA(expr, FuncExpr))
		{
			FuncExpr   *f = (FuncExpr *) expr;
			RegProcedure support;

			if ((f->funcid == F_TIMESTAMPTZ_TIMESTAMP || f->funcid == F_TIMESTAMP_TIMESTAMPTZ) &&
				!TimestampTimestampTzRequiresRewrite())
				expr = linitial(f->args);
			else if (builtin_oid(f->funcid) && builtin_oid(support = get_func_support(f->funcid)))
			{
				SupportRequestSimplify req;
				Node	   *simple;

				req.type = T_SupportRequestSimplify;
				req.root = NULL;
				req.fcall = f;
				simple = (Node *) DatumGetPointer(OidFunctionCall1(support, PointerGetDatum(&req)));
				if (simple == NULL || simple == expr)
					return true;
				expr = simple;
			}
			else
				return true;
		}
		else
			return true;
	}
}

/* Add a finding of rule about the statement, with its lock and relation. */
static void
add_finding(LintStmt *st, const char *rule, char *message, char *hint)
{
	MgLintFinding *f = new_finding(st->lint, st->script, st->number, st->offset, rule,
								   message, hint);

	if (st->rel != NULL)
	{
		f->lock_mode = lock_names[st->lockmode];
		f->relation = pstrdup(st->rel->name);
		f->rows = st->rel->rows;
		f->size = st->rel->size;
	}
	else if (st->lockmode != NoLock)
		f->lock_mode = lock_names[st->lockmode];
	st->findings = lappend(st->findings, f);
}

/*
 * A finding of rule about statement number at byte offset of script.  Its
 * line and column are counted on from the previous finding's in the same
 * script when it comes later (findings come in script order), so that a
 * script with a finding on each of its many statements is not read from
 * its start for each.
 */
static MgLintFinding *
new_finding(MgLint *lint, const MgScript *script, int number, int offset, const char *rule,
			const char *message, const char *hint)
{
	MgLintFinding *f = palloc0(sizeof(MgLintFinding));
	const LintRule *r = find_rule(rule);

	Assert(r != NULL);
	f->revision = script->revision;
	f->statement = number;
	if (offset >= 0 && lint->at_sql == script->sql && offset >= lint->at_offset)
	{
		int			lines;
		int			column;

		mg_script_position(script->sql + lint->at_offset, offset - lint->at_offset,
						   &lines, &column);
		f->line = lint->at_line + lines - 1;
		f->column = lines > 1 ? column : lint->at_column + column - 1;
	}
	else if (offset >= 0)
		mg_script_position(script->sql, offset, &f->line, &f->column);
	if (offset >= 0)
	{
		lint->at_sql = script->sql;
		lint->at_offset = offset;
		lint->at_line = f->line;
		lint->at_column = f->column;
	}
	f->severity = r->severity;
	f->rule = r->id;
	f->message = mask(message);
	f->hint = hint ? mask(hint) : NULL;
	f->rows = -1;
	f->size = -1;
	return f;
}

/* The rule with id, or NULL. */
static const LintRule *
find_rule(const char *id)
{
	int			i;

	for (i = 0; i < lengthof(lint_rules); i++)
		if (strcmp(lint_rules[i].id, id) == 0)
			return &lint_rules[i];
	return NULL;
}

/*
 * The rule ids of "-- migrate:lint-ignore ID [ID ...] [-- reason]" comments
 * between byte offsets from and to of sql: the comments before a
 * statement.  Ids are separated by spaces or commas.
 */
static List *
ignores_before(const char *sql, int from, int to)
{
	List	   *ids = NIL;
	const char *p = sql + from;
	const char *end = sql + to;
	int			len = strlen(IGNORE_MARKER);

	while (p < end)
	{
		const char *eol = p;

		while (eol < end && *eol != '\n')
			eol++;
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if (eol - p > 2 && p[0] == '-' && p[1] == '-')
		{
			p += 2;
			while (p < eol && (*p == ' ' || *p == '\t'))
				p++;
			if (eol - p > len && strncmp(p, IGNORE_MARKER, len) == 0 &&
				(p[len] == ' ' || p[len] == '\t'))
			{
				p += len;
				for (;;)
				{
					const char *start;

					while (p < eol && (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r'))
						p++;
					if (eol - p >= 2 && p[0] == '-' && p[1] == '-')
						break;	/* the reason */
					start = p;
					while (p < eol && *p != ' ' && *p != '\t' && *p != ',' && *p != '\r')
						p++;
					if (p == start)
						break;
					ids = lappend(ids, pnstrdup(start, p - start));
				}
			}
		}
		p = eol + 1;
	}
	return ids;
}

/*
 * The statement's findings after its lint-ignore comments: findings of an
 * ignored rule become info, an unknown id and an ignore that silenced
 * nothing are findings of their own.
 */
static List *
apply_ignores(LintStmt *st, List *ignores)
{
	List	   *findings = st->findings;
	ListCell   *lc;
	ListCell   *fc;

	foreach(lc, ignores)
	{
		const char *id = lfirst(lc);
		bool		used = false;

		if (find_rule(id) == NULL)
		{
			st->findings = NIL;
			add_finding(st, "unknown-lint-rule",
						psprintf("unknown lint rule \"%s\" in a lint-ignore comment", id),
						pstrdup("Name a rule that migrate_lint reports, such as index-not-concurrent; README.md lists them."));
			findings = list_concat(findings, st->findings);
			continue;
		}
		foreach(fc, findings)
		{
			MgLintFinding *f = lfirst(fc);

			if (strcmp(f->rule, id) == 0 && strcmp(f->severity, "info") != 0)
			{
				f->severity = "info";
				f->message = psprintf("ignored by a lint-ignore comment: %s", f->message);
				used = true;
			}
		}
		if (!used)
		{
			st->findings = NIL;
			add_finding(st, "lint-ignore-unused",
						psprintf("the lint-ignore comment for rule \"%s\" silences nothing here", id),
						pstrdup("Remove the comment, or move it to the line before the statement it is meant for."));
			findings = list_concat(findings, st->findings);
		}
	}
	return findings;
}

/*
 * A message as it may be shown: secrets in it masked (mask.c).  Messages
 * quote the script (a meta-command line, a syntax error's token) and
 * names from it.
 */
static char *
mask(const char *text)
{
	return mg_mask_secrets(text);
}
