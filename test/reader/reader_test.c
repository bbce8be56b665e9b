/*-------------------------------------------------------------------------
 *
 * reader_test.c
 *	  Test driver for the migration file reader (src/reader.c), built with
 *	  -DFRONTEND against libpgcommon and libpgport.
 *
 *	  reader_test [--layout NAME] DIR
 *		  reads DIR with mg_read_directory and prints the layout, every
 *		  revision (id, source, parents, description, flag, hash, scripts)
 *		  and every error, as text that test/fixtures/NAME.out holds;
 *		  exit status 0 without errors, 1 with, 2 on bad usage
 *
 *	  reader_test --selftest
 *		  checks what no fixture folder can show (names git cannot hold,
 *		  an empty folder, order independence, the hash's serialization);
 *		  prints "ok - ..." or "not ok - ..." per check, exits 1 if any
 *		  failed
 *
 *	  The driver frees everything it was given, so that a build with
 *	  -fsanitize=address reports any leak of the reader.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <sys/stat.h>
#include <unistd.h>

#include "lib/stringinfo.h"
#include "reader.h"

static void append_script(StringInfo out, const char *label, const char *script);
static char *set_text(const MgFileSet *set);
static void check(bool ok, const char *what);
static MgFileSet *read_pairs(MgLayout layout, int n, const char *const *pairs);
static bool has_error(const MgFileSet *set, const char *text);
static void check_hash_differs(const MgFileRevision *a, const MgFileRevision *b,
							   const char *what);
static void write_file(const char *dir, const char *name, const char *text);
static void selftest_folder(void);
static int	selftest(void);

static int	failures = 0;

/*
 * A script: its line count, then each line after "    | " ("    |" for
 * an empty line), with CR shown
 * as \r and other control characters but the tab as \xNN; a last line
 * without a newline is marked.
 */
static void
append_script(StringInfo out, const char *label, const char *script)
{
	const unsigned char *p;
	int			lines = 0;

	if (script == NULL)
	{
		appendStringInfo(out, "  %s: (none)\n", label);
		return;
	}
	if (*script == '\0')
	{
		appendStringInfo(out, "  %s: (empty)\n", label);
		return;
	}
	for (p = (const unsigned char *) script; *p; p++)
		if (*p == '\n')
			lines++;
	if (p[-1] != '\n')
		lines++;
	appendStringInfo(out, "  %s: %d line%s\n", label, lines, lines == 1 ? "" : "s");
	for (p = (const unsigned char *) script; *p; p++)
	{
		if (p == (const unsigned char *) script || p[-1] == '\n')
			appendStringInfoString(out, *p == '\n' ? "    |" : "    | ");
		if (*p == '\n')
			appendStringInfoChar(out, '\n');
		else if (*p == '\r')
			appendStringInfoString(out, "\\r");
		else if (*p < 0x20 && *p != '\t')
			appendStringInfo(out, "\\x%02x", *p);
		else
			appendStringInfoChar(out, (char) *p);
	}
	if (p[-1] != '\n')
		appendStringInfoString(out, "\n    \\ no newline at end\n");
}

/* The text the driver prints for a result (palloc'd). */
static char *
set_text(const MgFileSet *set)
{
	StringInfoData out;
	int			i,
				j;

	initStringInfo(&out);
	appendStringInfo(&out, "layout: %s\n", mg_layout_name(set->layout));
	appendStringInfo(&out, "revisions: %d\n", set->nrevisions);
	for (i = 0; i < set->nrevisions; i++)
	{
		const MgFileRevision *rev = &set->revisions[i];
		char	   *hash = mg_file_revision_hash(rev);

		appendStringInfo(&out, "revision %s\n", rev->id);
		appendStringInfo(&out, "  source: %s\n", rev->source);
		if (rev->nparents == 0)
			appendStringInfoString(&out, "  parents: (root)\n");
		else
		{
			appendStringInfoString(&out, "  parents:");
			for (j = 0; j < rev->nparents; j++)
				appendStringInfo(&out, "%s %s", j > 0 ? "," : "", rev->parents[j]);
			appendStringInfoChar(&out, '\n');
		}
		appendStringInfo(&out, "  description: %s\n",
						 rev->description ? rev->description : "(none)");
		appendStringInfo(&out, "  transaction: %s\n",
						 rev->nontransactional ? "no" : "yes");
		appendStringInfo(&out, "  hash: %s\n", hash);
		pfree(hash);
		append_script(&out, "up", rev->up);
		append_script(&out, "down", rev->down);
	}
	appendStringInfo(&out, "errors: %d\n", set->nerrors);
	for (i = 0; i < set->nerrors; i++)
		appendStringInfo(&out, "  %s\n", set->errors[i]);
	return out.data;
}

/* ---------------------------------------------------------------- selftest */

static void
check(bool ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", what);
	if (!ok)
		failures++;
}

/* mg_read_files on n files given as name, content, name, content, ... */
static MgFileSet *
read_pairs(MgLayout layout, int n, const char *const *pairs)
{
	const char **names = palloc(sizeof(char *) * (n + 1));
	const char **data = palloc(sizeof(char *) * (n + 1));
	size_t	   *lens = palloc(sizeof(size_t) * (n + 1));
	MgFileSet  *set;
	int			i;

	for (i = 0; i < n; i++)
	{
		names[i] = pairs[2 * i];
		data[i] = pairs[2 * i + 1];
		lens[i] = strlen(pairs[2 * i + 1]);
	}
	set = mg_read_files(n, names, data, lens, layout);
	pfree(names);
	pfree(data);
	pfree(lens);
	return set;
}

static bool
has_error(const MgFileSet *set, const char *text)
{
	int			i;

	for (i = 0; i < set->nerrors; i++)
		if (strstr(set->errors[i], text) != NULL)
			return true;
	return false;
}

/* Two revisions whose hashes must differ. */
static void
check_hash_differs(const MgFileRevision *a, const MgFileRevision *b, const char *what)
{
	char	   *ha = mg_file_revision_hash(a);
	char	   *hb = mg_file_revision_hash(b);

	check(strlen(ha) == 64 && strcmp(ha, hb) != 0, what);
	pfree(ha);
	pfree(hb);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char	   *path = psprintf("%s/%s", dir, name);
	FILE	   *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
	{
		fprintf(stderr, "reader_test: could not write %s\n", path);
		exit(2);
	}
	pfree(path);
}

/*
 * mg_read_directory on a real folder: hidden files, a link to a file, a
 * link loop and a FIFO, which git cannot hold as fixtures.
 */
static void
selftest_folder(void)
{
	char		template[] = "/tmp/reader_test.XXXXXX";
	char	   *dir = mkdtemp(template);
	char	   *sub,
			   *loop,
			   *fifo,
			   *link;
	MgFileSet  *set;

	if (dir == NULL)
	{
		check(false, "a temporary folder");
		return;
	}
	sub = psprintf("%s/sub", dir);
	loop = psprintf("%s/sub/loop", dir);
	fifo = psprintf("%s/0003_fifo.sql", dir);
	link = psprintf("%s/0002_link.sql", dir);
	write_file(dir, "0001_a.sql", "-- migrate:up\nSELECT 1;\n");
	write_file(dir, ".0000_hidden.sql", "not read");
	if (mkdir(sub, 0700) != 0 || symlink("..", loop) != 0 ||
		mkfifo(fifo, 0600) != 0 || symlink("0001_a.sql", link) != 0)
		check(false, "building the folder");

	set = mg_read_directory(dir, MG_LAYOUT_DETECT);
	check(set->nerrors == 2 && set->nrevisions == 0 &&
		  has_error(set, "0003_fifo.sql:0: not a regular file") &&
		  has_error(set, "sub/loop:0: folder loop"),
		  "a folder: a FIFO and a link loop are errors");
	mg_free_file_set(set);

	unlink(fifo);
	unlink(loop);
	set = mg_read_directory(dir, MG_LAYOUT_DETECT);
	check(set->nerrors == 0 && set->nrevisions == 2 &&
		  strcmp(set->revisions[1].id, "0002_link") == 0 &&
		  strcmp(set->revisions[1].parents[0], "0001_a") == 0 &&
		  strcmp(set->revisions[1].up, "SELECT 1;\n") == 0,
		  "a folder: a link to a file is read, hidden files are not");
	mg_free_file_set(set);

	set = mg_read_directory(sub, MG_LAYOUT_DETECT);
	check(set->nerrors == 1 && strncmp(set->errors[0], sub, strlen(sub)) == 0 &&
		  has_error(set, ":0: no migration files"),
		  "an empty folder: an error naming it");
	mg_free_file_set(set);

	unlink(link);
	rmdir(sub);
	{
		char	   *a = psprintf("%s/0001_a.sql", dir);
		char	   *h = psprintf("%s/.0000_hidden.sql", dir);

		unlink(a);
		unlink(h);
		pfree(a);
		pfree(h);
	}
	rmdir(dir);
	pfree(sub);
	pfree(loop);
	pfree(fifo);
	pfree(link);
}

static int
selftest(void)
{
	MgLayout	layout;
	MgFileSet  *set;
	MgFileSet  *set2;

	/* layout names */
	check(mg_layout_from_name("dbmate", &layout) && layout == MG_LAYOUT_PG_MIGRATE,
		  "\"dbmate\" is the pg_migrate layout");
	check(mg_layout_from_name("pg_migrate", &layout) && layout == MG_LAYOUT_PG_MIGRATE,
		  "\"pg_migrate\" is the pg_migrate layout");
	check(mg_layout_from_name("sqlx", &layout) && layout == MG_LAYOUT_GOLANG_MIGRATE,
		  "\"sqlx\" is the golang-migrate layout (sqlx names its files the same way)");
	check(mg_layout_from_name("Flyway", &layout) && layout == MG_LAYOUT_FLYWAY,
		  "layout names in any case");
	check(mg_layout_from_name("auto", &layout) && layout == MG_LAYOUT_DETECT,
		  "\"auto\" detects");
	check(!mg_layout_from_name("liquibase", &layout), "unknown layout name refused");
	{
		static const MgLayout all[] = {MG_LAYOUT_DETECT, MG_LAYOUT_PG_MIGRATE,
		MG_LAYOUT_GOLANG_MIGRATE, MG_LAYOUT_DIESEL, MG_LAYOUT_FLYWAY};
		bool		ok = true;
		int			i;

		for (i = 0; i < 5; i++)
			ok = ok && mg_layout_from_name(mg_layout_name(all[i]), &layout) &&
				layout == all[i];
		check(ok, "mg_layout_name and mg_layout_from_name agree");
	}

	/* the hash's serialization cannot be read two ways */
	{
		char	   *pab[] = {"a", "b"};
		char	   *pa_b[] = {"ab"};
		char	   *pempty[] = {""};
		MgFileRevision a;
		MgFileRevision b;
		char	   *h1,
				   *h2;

		memset(&a, 0, sizeof(a));
		a.id = "x";
		a.up = "ab";
		a.down = "c";
		b = a;
		b.up = "a";
		b.down = "bc";
		check_hash_differs(&a, &b, "hash: bytes moved from up to down");
		b = a;
		b.down = NULL;
		a.down = "";
		check_hash_differs(&a, &b, "hash: no down script and an empty one");
		b = a;
		b.description = "";
		check_hash_differs(&a, &b, "hash: no description and an empty one");
		b = a;
		a.parents = pab;
		a.nparents = 2;
		b.parents = pa_b;
		b.nparents = 1;
		check_hash_differs(&a, &b, "hash: parents a, b and parent ab");
		b.parents = pempty;
		b.nparents = 1;
		a.nparents = 0;
		check_hash_differs(&a, &b, "hash: no parents and one empty parent");
		b = a;
		b.nontransactional = true;
		check_hash_differs(&a, &b, "hash: the non-transactional flag");
		b = a;
		b.id = "y";
		check_hash_differs(&a, &b, "hash: the id");
		h1 = mg_file_revision_hash(&a);
		h2 = mg_file_revision_hash(&a);
		check(strcmp(h1, h2) == 0 && strspn(h1, "0123456789abcdef") == 64,
			  "hash: 64 lower-case hex digits, the same each time");
		pfree(h1);
		pfree(h2);
	}

	/* nothing to read */
	set = mg_read_files(0, NULL, NULL, NULL, MG_LAYOUT_DETECT);
	check(set->nerrors == 1 && set->nrevisions == 0 &&
		  has_error(set, ".:0: no migration files"),
		  "no files: an error naming the folder");
	mg_free_file_set(set);
	{
		static const char *const f[] = {"README.md", "# notes", ".gitkeep", ""};

		set = read_pairs(MG_LAYOUT_DIESEL, 2, f);
		check(set->nerrors == 1 && has_error(set, "no diesel migration files"),
			  "only ignored files, layout named: an error");
		mg_free_file_set(set);
	}

	/* names a folder cannot hold, or git cannot */
	{
		static const char *const f[] = {
			"0001_a.sql", "SELECT 1;",
			"", "x",
			"/abs.sql", "x",
			"a//b.sql", "x",
			"dir/", "x",
		};

		set = read_pairs(MG_LAYOUT_DETECT, 5, f);
		check(set->nerrors == 4 && set->nrevisions == 0 &&
			  has_error(set, ":0: invalid file name"),
			  "empty, absolute and empty-part names are errors");
		mg_free_file_set(set);
	}
	{
		static const char *const f[] = {"0001_a.sql", "x", "0001_a.sql", "y"};

		set = read_pairs(MG_LAYOUT_DETECT, 2, f);
		check(has_error(set, "0001_a.sql:0: file listed twice"),
			  "a name given twice is an error");
		mg_free_file_set(set);
	}
	{
		static const char *const f[] = {"0001_caf\xc3\xa9\xff\n.sql", "SELECT 1;"};

		set = read_pairs(MG_LAYOUT_DETECT, 1, f);
		check(has_error(set, "0001_caf\xc3\xa9\\xff\\x0a.sql:0: invalid revision id"),
			  "names in messages: UTF-8 kept, bad bytes and control characters escaped");
		mg_free_file_set(set);
	}
	{
		static const char *const f[] = {
			"a/b/c/d/e/f/g/h/i/V1__deep.sql", "SELECT 1;",
			"V2__top.sql", "SELECT 2;"
		};

		set = read_pairs(MG_LAYOUT_DETECT, 2, f);
		check(has_error(set, "file nested too deep"),
			  "a file more than 8 folders down is an error");
		mg_free_file_set(set);
	}

	/* the order of the input does not matter */
	{
		static const char *const f[] = {
			"V2__b.sql", "SELECT 2;",
			"sub/V1.1__a.sql", "SELECT 11;",
			"U2__b.sql", "SELECT -2;",
			"V10__c.sql", "SELECT 10;",
			"V1__a.sql", "SELECT 1;",
		};
		static const char *const g[] = {
			"V1__a.sql", "SELECT 1;",
			"V10__c.sql", "SELECT 10;",
			"U2__b.sql", "SELECT -2;",
			"sub/V1.1__a.sql", "SELECT 11;",
			"V2__b.sql", "SELECT 2;",
		};
		char	   *t1,
				   *t2;

		set = read_pairs(MG_LAYOUT_DETECT, 5, f);
		set2 = read_pairs(MG_LAYOUT_DETECT, 5, g);
		t1 = set_text(set);
		t2 = set_text(set2);
		check(strcmp(t1, t2) == 0 && set->nrevisions == 4 && set->nerrors == 0 &&
			  strcmp(set->revisions[1].id, "V1.1__a") == 0 &&
			  strcmp(set->revisions[3].id, "V10__c") == 0,
			  "the same files in another order read the same");
		pfree(t1);
		pfree(t2);
		mg_free_file_set(set);
		mg_free_file_set(set2);
	}

	/* a NUL byte, which no text can hold */
	{
		const char *names[] = {"0001_a.sql"};
		const char *data[] = {"SELECT 1;\nSELECT\0 2;\n"};
		size_t		lens[] = {21};

		set = mg_read_files(1, names, data, lens, MG_LAYOUT_DETECT);
		check(set->nerrors == 1 &&
			  has_error(set, "0001_a.sql:2: file contains a NUL byte (at byte 7 of the line)"),
			  "a NUL byte is an error naming its line");
		mg_free_file_set(set);
	}
	selftest_folder();
	return failures > 0 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	MgLayout	layout = MG_LAYOUT_DETECT;
	const char *dir = NULL;
	MgFileSet  *set;
	char	   *text;
	int			i;
	int			status;

	for (i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--selftest") == 0 && argc == 2)
			return selftest();
		else if (strcmp(argv[i], "--layout") == 0 && i + 1 < argc)
		{
			if (!mg_layout_from_name(argv[++i], &layout))
			{
				fprintf(stderr, "reader_test: unknown layout \"%s\"\n", argv[i]);
				return 2;
			}
		}
		else if (dir == NULL && argv[i][0] != '-')
			dir = argv[i];
		else
			dir = NULL, i = argc;
	}
	if (dir == NULL)
	{
		fprintf(stderr, "usage: reader_test [--layout NAME] DIR\n"
				"       reader_test --selftest\n");
		return 2;
	}

	set = mg_read_directory(dir, layout);
	text = set_text(set);
	fputs(text, stdout);
	pfree(text);
	status = set->nerrors > 0 ? 1 : 0;
	mg_free_file_set(set);
	return status;
}
