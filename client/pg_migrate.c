/*-------------------------------------------------------------------------
 *
 * pg_migrate.c
 *	  The pg_migrate client program: what a deploy job runs instead of a
 *	  migration framework.
 *
 *	  pg_migrate [OPTION]... COMMAND [ARG]
 *
 * This file reads the command line and hands over to commands.c; --help
 * below is the program's manual.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "getopt_long.h"

#include "client.h"

#ifndef PGM_VERSION
#define PGM_VERSION "unknown"
#endif

/* long options without a short form */
enum
{
	OPT_DIR = 1000,
	OPT_LAYOUT,
	OPT_PROJECT,
	OPT_DRY_RUN,
	OPT_PER_REVISION,
	OPT_LIMIT,
	OPT_JSON,
	OPT_CONNECT_RETRIES,
	OPT_CONNECT_TIMEOUT,
	OPT_HELP
};

static void usage(void);
static bool parse_int(const char *s, int min, int max, int *result);
pg_noreturn static void bad_usage(const char *fmt,...) pg_attribute_printf(1, 2);

static ClientOptions opts;

static void
usage(void)
{
	printf("pg_migrate runs schema migrations with the pg_migrate extension: it syncs a\n"
		   "folder of migration files into the database's registry and calls the\n"
		   "extension to apply, revert, plan, check or report.\n\n");
	printf("Usage:\n"
		   "  pg_migrate [OPTION]... COMMAND [ARG]\n\n");
	printf("Commands:\n"
		   "  sync DIR         register the migration files in DIR: only new and changed\n"
		   "                   revisions are sent, in one transaction\n"
		   "  up [TARGET]      upgrade to TARGET (default head); with --dir, sync first\n"
		   "                   (the sync is committed before the upgrade starts); all\n"
		   "                   or nothing in one transaction, or, when a pending\n"
		   "                   revision cannot run in a transaction block, or with\n"
		   "                   --per-revision, CALL migrate_run(): each revision\n"
		   "                   committed on its own, such revisions at top level\n"
		   "  down TARGET      downgrade to TARGET (\"base\" reverts everything); all or\n"
		   "                   nothing in one transaction, or, when a down script\n"
		   "                   cannot run in a transaction block, or with\n"
		   "                   --per-revision, CALL migrate_run(): each revision\n"
		   "                   reverted and committed on its own\n"
		   "  plan [TARGET]    what \"up\" would apply, changing nothing\n"
		   "  status           applied and registry heads, counts, the migration lock\n"
		   "  check            migrate_check(): one line, \"ok: ...\" at head with nothing\n"
		   "                   pending and no drift, else \"not ok: \" and why\n"
		   "  history          the audit log, newest first\n"
		   "  validate         every problem of the registry and the applied set\n"
		   "  stamp TARGET     mark TARGET and its ancestors applied without running them\n\n"
		   "TARGET is head, heads, base (down, stamp), a revision id, a unique prefix of\n"
		   "one (4 characters or more), or +N / -N steps.\n\n");
	printf("Options:\n"
		   "  --dir=DIR              the migration folder, synced first (up, plan, status,\n"
		   "                         check, validate; those that change nothing undo the\n"
		   "                         sync when done)\n"
		   "  --layout=NAME          the folder's layout: pg_migrate, dbmate,\n"
		   "                         golang-migrate, diesel, sqlx or flyway\n"
		   "                         (default: detected from the files)\n"
		   "  --project=NAME         the project (default: the server's pg_migrate.project,\n"
		   "                         \"default\" unless set)\n"
		   "  --dry-run              up, down: show the steps, change nothing\n"
		   "  --per-revision         up, down: run with CALL migrate_run(), one\n"
		   "                         transaction per revision (a failure keeps the\n"
		   "                         revisions before it); also chosen, without the\n"
		   "                         option, when a revision to run cannot run in a\n"
		   "                         transaction block\n"
		   "  --limit=N              history: how many entries (default 100)\n"
		   "  --json                 print the result as one JSON object on stdout, also\n"
		   "                         on failure (but not for bad options):\n"
		   "                         {\"command\", ..., \"ok\", \"exit_code\"}, with \"error\"\n"
		   "                         when something failed\n"
		   "  -q, --quiet            no progress on stderr (warnings and errors still)\n"
		   "  -V, --version          print the version, then exit\n"
		   "  -?, --help             show this help, then exit\n\n");
	printf("Connection options (as psql's; the PG* environment variables and\n"
		   "~/.pgpass work as for any libpq program):\n"
		   "  -d, --dbname=DBNAME    database name, key=value connection string or URI\n"
		   "                         (postgresql://user:password@host:port/dbname)\n"
		   "  -h, --host=HOST        server host or socket directory\n"
		   "  -p, --port=PORT        server port\n"
		   "  -U, --username=USER    user name\n"
		   "  -w, --no-password      never prompt for a password\n"
		   "  -W, --password         prompt for a password first\n"
		   "  --connect-retries=N    when the server does not answer yet or is starting\n"
		   "                         up, try N more times, waiting 0.25 s, then twice as\n"
		   "                         long each time, up to 10 s (default 0); a server that\n"
		   "                         answers and refuses the connection is not retried\n"
		   "  --connect-timeout=SEC  give up on one connection attempt after SEC seconds\n"
		   "                         (default 10; 0 waits as long as the network does)\n\n");
	printf("Output:\n"
		   "  Results go to stdout as aligned text, or JSON with --json.  Progress goes to\n"
		   "  stderr, each line with a timestamp: connection attempts, the folder read\n"
		   "  and synced, and the server's NOTICEs as the migration runs.  Connection\n"
		   "  strings are always printed with the password as ****.\n\n");
	printf("Interrupting:\n"
		   "  Ctrl-C (SIGINT) or SIGTERM cancels the running statement; the client waits\n"
		   "  until the server has rolled it back, then exits.  A second signal exits at\n"
		   "  once (the server still rolls back when it notices).\n\n");
	printf("Exit status:\n"
		   "  0    success (check: ok; validate: no error)\n"
		   "  1    a migration or another database operation failed; check: not ok;\n"
		   "       validate: errors found\n"
		   "  2    bad usage, target or connection string, or bad migration files:\n"
		   "       pg_migrate refused before it ran anything (a migration script's\n"
		   "       error is 1, whatever its SQLSTATE)\n"
		   "  3    could not connect\n"
		   "  130  interrupted by SIGINT, 143 by SIGTERM (the statement rolled back)\n\n");
	printf("Examples:\n"
		   "  pg_migrate -d postgresql://deploy@db/app --connect-retries 8 up --dir db/migrations\n"
		   "  pg_migrate plan --dir db/migrations\n"
		   "  pg_migrate down 0003_add_user_fk\n"
		   "  pg_migrate --json status\n\n");
	printf("Report bugs with the pg_migrate project.\n");
}

/* a usage error: print it and exit 2 (no JSON yet: the options are bad) */
static void
bad_usage(const char *fmt,...)
{
	va_list		args;
	char	   *msg;

	va_start(args, fmt);
	msg = out_format(fmt, args);
	va_end(args);
	out_usage_error("%s", msg);
	exit(EXIT_BAD_INPUT);
}

/* parse s as an integer in [min, max] */
static bool
parse_int(const char *s, int min, int max, int *result)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*result = (int) v;
	return true;
}

int
main(int argc, char **argv)
{
	static struct option long_options[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'p'},
		{"username", required_argument, NULL, 'U'},
		{"no-password", no_argument, NULL, 'w'},
		{"password", no_argument, NULL, 'W'},
		{"quiet", no_argument, NULL, 'q'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, OPT_HELP},
		{"dir", required_argument, NULL, OPT_DIR},
		{"layout", required_argument, NULL, OPT_LAYOUT},
		{"project", required_argument, NULL, OPT_PROJECT},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"per-revision", no_argument, NULL, OPT_PER_REVISION},
		{"limit", required_argument, NULL, OPT_LIMIT},
		{"json", no_argument, NULL, OPT_JSON},
		{"connect-retries", required_argument, NULL, OPT_CONNECT_RETRIES},
		{"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
		{NULL, 0, NULL, 0}
	};
	const CommandInfo *cmd;
	int			c;
	int			optindex;

	query_install_signals();

	opts.layout = MG_LAYOUT_DETECT;
	opts.limit = -1;
	opts.prompt = PROMPT_DEFAULT;
	opts.connect_retries = 0;
	opts.connect_timeout = 10;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0))
	{
		usage();
		exit(EXIT_OK);
	}
	if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0))
	{
		printf("pg_migrate %s\n", PGM_VERSION);
		exit(EXIT_OK);
	}

	while ((c = getopt_long(argc, argv, "d:h:p:U:wWqV", long_options, &optindex)) != -1)
	{
		switch (c)
		{
			case 'd':
				opts.dbname = optarg;
				break;
			case 'h':
				opts.host = optarg;
				break;
			case 'p':
				opts.port = optarg;
				break;
			case 'U':
				opts.username = optarg;
				break;
			case 'w':
				opts.prompt = PROMPT_NEVER;
				break;
			case 'W':
				opts.prompt = PROMPT_ALWAYS;
				break;
			case 'q':
				opts.quiet = true;
				break;
			case 'V':
				printf("pg_migrate %s\n", PGM_VERSION);
				exit(EXIT_OK);
			case OPT_HELP:
				usage();
				exit(EXIT_OK);
			case OPT_DIR:
				opts.dir = optarg;
				break;
			case OPT_LAYOUT:
				if (!mg_layout_from_name(optarg, &opts.layout))
					bad_usage("unknown layout \"%s\" (pg_migrate, dbmate, golang-migrate, diesel, sqlx or flyway)",
							  optarg);
				break;
			case OPT_PROJECT:
				opts.project = optarg;
				break;
			case OPT_DRY_RUN:
				opts.dry_run = true;
				break;
			case OPT_PER_REVISION:
				opts.per_revision = true;
				break;
			case OPT_LIMIT:
				if (!parse_int(optarg, 0, PG_INT32_MAX, &opts.limit))
					bad_usage("--limit must be a whole number of 0 or more, not \"%s\"", optarg);
				break;
			case OPT_JSON:
				opts.json = true;
				break;
			case OPT_CONNECT_RETRIES:
				if (!parse_int(optarg, 0, 1000000, &opts.connect_retries))
					bad_usage("--connect-retries must be a whole number of 0 or more, not \"%s\"",
							  optarg);
				break;
			case OPT_CONNECT_TIMEOUT:
				if (!parse_int(optarg, 0, 86400, &opts.connect_timeout))
					bad_usage("--connect-timeout must be a number of seconds from 0 to 86400, not \"%s\"",
							  optarg);
				break;
			default:
				/* getopt_long has said what is wrong */
				fprintf(stderr, "Try \"pg_migrate --help\" for more information.\n");
				exit(EXIT_BAD_INPUT);
		}
	}

	if (optind >= argc)
		bad_usage("no command given (sync, up, down, plan, status, check, history, validate or stamp)");
	opts.command = argv[optind++];
	cmd = find_command(opts.command);
	if (cmd == NULL)
		bad_usage("unknown command \"%s\" (sync, up, down, plan, status, check, history, validate or stamp)",
				  opts.command);
	if (optind < argc)
		opts.target = argv[optind++];
	if (optind < argc)
		bad_usage("too many arguments for \"%s\", from \"%s\" on", opts.command, argv[optind]);

	switch (cmd->arg)
	{
		case ARG_NONE:
			if (opts.target != NULL)
				bad_usage("\"%s\" takes no argument, got \"%s\"", opts.command, opts.target);
			break;
		case ARG_TARGET_OPTIONAL:
			break;
		case ARG_TARGET_REQUIRED:
			if (opts.target == NULL)
				bad_usage("\"%s\" needs a TARGET", opts.command);
			break;
		case ARG_DIR:
			if (opts.target == NULL)
				bad_usage("\"%s\" needs a DIR", opts.command);
			if (opts.dir != NULL)
				bad_usage("\"%s\" takes its folder as DIR, not --dir", opts.command);
			break;
	}
	if (opts.dir != NULL && !cmd->takes_dir)
		bad_usage("--dir does not apply to \"%s\"", opts.command);
	if (opts.dry_run && !cmd->takes_dry_run)
		bad_usage("--dry-run does not apply to \"%s\"", opts.command);
	if (opts.per_revision && strcmp(opts.command, "up") != 0 &&
		strcmp(opts.command, "down") != 0)
		bad_usage("--per-revision applies to \"up\" and \"down\" only");
	if (opts.per_revision && opts.dry_run)
		bad_usage("--per-revision and --dry-run do not go together; --dry-run alone shows what would run");
	if (opts.limit >= 0 && strcmp(opts.command, "history") != 0)
		bad_usage("--limit applies to \"history\" only");
	if (opts.layout != MG_LAYOUT_DETECT && opts.dir == NULL && cmd->arg != ARG_DIR)
		bad_usage("--layout needs a folder (--dir, or sync DIR)");

	out_init(&opts);
	client_exit(run_command(&opts));
}
