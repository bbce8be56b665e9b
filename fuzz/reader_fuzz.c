/*-------------------------------------------------------------------------
 *
 * reader_fuzz.c
 *	  libFuzzer target for the migration file reader (src/reader.c), built
 *	  with clang -fsanitize=fuzzer,address,undefined and -DFRONTEND against
 *	  libpgcommon and libpgport (see fuzz/Makefile and fuzz/run.sh).
 *
 * An input is text that decodes into a layout and a few files:
 *
 *	pg_migrate					first line: a layout name (anything else:
 *								detect)
 *	%%% 0001_a.sql				"%%% " at the start of a line begins a file;
 *	-- migrate:up				the rest of that line is its name, the lines
 *	SELECT 1;					up to the next "%%% " line its content
 *	%%% sub/V1__b.sql
 *	...
 *
 * Each name and content gets a buffer of its exact size, so that reading
 * past either is an AddressSanitizer report.  Besides crashes, leaks and
 * undefined behaviour, the target aborts when a result breaks the reader's
 * promises: no revisions beside errors, "FILE:LINE: " messages of valid
 * UTF-8 on one line, valid and unique revision ids and parents, an up
 * script always, the layout given kept, a 64-digit hash, and the same
 * result whatever the order of the files.
 *
 * Inputs over MAX_INPUT bytes are skipped: libpgcommon's frontend palloc
 * ends the process when memory runs out, and the reader's cost grows
 * with the size of its input, not with anything worth fuzzing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "reader.h"

#define MAX_INPUT	65536
#define MAX_FILES	16

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool ok, const char *what);
static bool valid_text(const char *s);
static bool valid_id(const char *id);
static char *set_text(const MgFileSet *set);
static void check_set(const MgFileSet *set, MgLayout layout);

/* A broken promise: abort, which libFuzzer reports as a crash. */
static void
require(bool ok, const char *what)
{
	if (!ok)
	{
		fprintf(stderr, "reader_fuzz: broken promise: %s\n", what);
		abort();
	}
}

/* Is s valid UTF-8 (up to its NUL)? */
static bool
valid_text(const char *s)
{
	size_t		len = strlen(s);

	return (size_t) pg_encoding_verifymbstr(PG_UTF8, s, (int) len) == len;
}

/* pg_migrate's rule for revision ids. */
static bool
valid_id(const char *id)
{
	size_t		len = strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");

	return len >= 1 && len <= 128 && id[len] == '\0' && id[0] != '-' &&
		strcmp(id, "head") != 0 && strcmp(id, "heads") != 0 &&
		strcmp(id, "base") != 0;
}

/* Everything in a result, as text, to compare two results. */
static char *
set_text(const MgFileSet *set)
{
	StringInfoData buf;
	int			i,
				j;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%d %d %d\n", (int) set->layout, set->nrevisions,
					 set->nerrors);
	for (i = 0; i < set->nrevisions; i++)
	{
		const MgFileRevision *rev = &set->revisions[i];

		appendStringInfo(&buf, "%s|%s|%s|%d|", rev->id, rev->source,
						 rev->description ? rev->description : "<null>",
						 rev->nontransactional);
		for (j = 0; j < rev->nparents; j++)
			appendStringInfo(&buf, "%s,", rev->parents[j]);
		appendStringInfo(&buf, "|%zu|%s|%s\n", strlen(rev->up), rev->up,
						 rev->down ? rev->down : "<null>");
	}
	for (i = 0; i < set->nerrors; i++)
		appendStringInfo(&buf, "%s\n", set->errors[i]);
	return buf.data;
}

/* The reader's promises about one result. */
static void
check_set(const MgFileSet *set, MgLayout layout)
{
	int			i,
				j,
				k;

	require(set != NULL, "a result");
	require(layout == MG_LAYOUT_DETECT || set->layout == layout,
			"the layout given is the layout of the result");
	require(set->nerrors >= 0 && set->nrevisions >= 0, "counts");
	if (set->nerrors > 0)
		require(set->nrevisions == 0 && set->revisions == NULL,
				"no revisions beside errors");
	else
		require(set->nrevisions > 0 && set->layout != MG_LAYOUT_DETECT,
				"without errors, a layout and revisions");
	for (i = 0; i < set->nerrors; i++)
	{
		const char *e = set->errors[i];
		const char *c;
		bool		found = false;

		require(e != NULL && valid_text(e) && strchr(e, '\n') == NULL,
				"an error is valid UTF-8 on one line");
		/* FILE:LINE: (a file name may hold ": " itself) */
		for (c = strchr(e + 1, ':'); c != NULL && !found; c = strchr(c + 1, ':'))
		{
			size_t		digits = strspn(c + 1, "0123456789");

			found = digits > 0 && c[1 + digits] == ':' && c[2 + digits] == ' ';
		}
		require(found, "an error starts with FILE:LINE: ");
	}
	for (i = 0; i < set->nrevisions; i++)
	{
		const MgFileRevision *rev = &set->revisions[i];
		char	   *hash = mg_file_revision_hash(rev);

		require(strlen(hash) == 64 && strspn(hash, "0123456789abcdef") == 64,
				"a hash is 64 hex digits");
		pfree(hash);
		require(rev->id && valid_id(rev->id), "a valid id");
		require(rev->up != NULL && valid_text(rev->up), "an up script of UTF-8");
		require(rev->down == NULL || valid_text(rev->down), "a down script of UTF-8");
		require(rev->description == NULL ||
				(valid_text(rev->description) && rev->description[0] != '\0'),
				"a description of UTF-8, not empty");
		require(rev->source != NULL && valid_text(rev->source), "a source");
		require(rev->nparents >= 0 && (rev->nparents == 0) == (rev->parents == NULL),
				"parents array and count agree");
		for (j = 0; j < rev->nparents; j++)
		{
			require(valid_id(rev->parents[j]), "valid parents");
			require(strcmp(rev->parents[j], rev->id) != 0, "not its own parent");
			for (k = 0; k < j; k++)
				require(strcmp(rev->parents[j], rev->parents[k]) != 0,
						"no parent twice");
		}
		for (k = 0; k < i; k++)
			require(strcmp(set->revisions[k].id, rev->id) != 0, "unique ids");
		if (set->layout != MG_LAYOUT_PG_MIGRATE)
			require(i == 0 ? rev->nparents == 0 :
					rev->nparents == 1 &&
					strcmp(rev->parents[0], set->revisions[i - 1].id) == 0,
					"a linear history outside pg_migrate's own format");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *) data;
	const char *end = in + size;
	const char *p;
	const char *nl;
	char	   *names[MAX_FILES];
	char	   *contents[MAX_FILES];
	size_t		lens[MAX_FILES];
	const char *rnames[MAX_FILES];
	const char *rcontents[MAX_FILES];
	size_t		rlens[MAX_FILES];
	int			n = 0;
	int			i;
	MgLayout	layout = MG_LAYOUT_DETECT;
	MgFileSet  *set;
	MgFileSet  *set2;
	char	   *t1,
			   *t2;

	if (size > MAX_INPUT)
		return 0;

	/* the first line names the layout */
	nl = memchr(in, '\n', size);
	{
		char	   *first = pnstrdup(in, nl ? (size_t) (nl - in) : size);

		if (!mg_layout_from_name(first, &layout))
			layout = MG_LAYOUT_DETECT;
		pfree(first);
	}
	p = nl ? nl + 1 : end;

	/* then "%%% NAME" lines, each followed by the file's content */
	while (p < end && n < MAX_FILES)
	{
		const char *name;
		const char *body;
		const char *next;
		size_t		namelen;

		if (end - p < 4 || memcmp(p, "%%% ", 4) != 0)
		{
			/* skip to the next marker line */
			nl = memchr(p, '\n', end - p);
			p = nl ? nl + 1 : end;
			continue;
		}
		name = p + 4;
		nl = memchr(name, '\n', end - name);
		namelen = (nl ? nl : end) - name;
		body = nl ? nl + 1 : end;
		next = body;
		for (;;)
		{
			const char *m = memchr(next, '\n', end - next);

			if (m == NULL)
			{
				next = end;
				break;
			}
			if (end - (m + 1) >= 4 && memcmp(m + 1, "%%% ", 4) == 0)
			{
				next = m;		/* that newline belongs to the marker */
				break;
			}
			next = m + 1;
		}
		names[n] = malloc(namelen + 1);
		memcpy(names[n], name, namelen);
		names[n][namelen] = '\0';	/* a NUL inside cuts the name short */
		lens[n] = next - body;
		contents[n] = malloc(lens[n] ? lens[n] : 1);
		memcpy(contents[n], body, lens[n]);
		n++;
		p = next < end ? next + 1 : end;
	}

	set = mg_read_files(n, (const char *const *) names,
						(const char *const *) contents, lens, layout);
	check_set(set, layout);

	/* the same files in the opposite order read the same */
	for (i = 0; i < n; i++)
	{
		rnames[i] = names[n - 1 - i];
		rcontents[i] = contents[n - 1 - i];
		rlens[i] = lens[n - 1 - i];
	}
	set2 = mg_read_files(n, rnames, rcontents, rlens, layout);
	t1 = set_text(set);
	t2 = set_text(set2);
	require(strcmp(t1, t2) == 0, "the order of the files does not matter");
	pfree(t1);
	pfree(t2);

	mg_free_file_set(set);
	mg_free_file_set(set2);
	for (i = 0; i < n; i++)
	{
		free(names[i]);
		free(contents[i]);
	}
	return 0;
}
