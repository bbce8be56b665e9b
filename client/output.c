/*-------------------------------------------------------------------------
 *
 * output.c
 *	  What the client prints, and how it ends.
 *
 * Two streams, never mixed: stderr carries progress, the server's NOTICEs
 * and errors, each line prefixed with a timestamp so that a deploy log
 * shows where the time went; stdout carries the result, as aligned text
 * or, with --json, as exactly one JSON object, printed by client_exit
 * whatever the outcome:
 *
 *	{"command": "up", <the command's fields>, "ok": true, "exit_code": 0}
 *
 * with an "error" object when something failed.  Everything written to
 * either stream passes through mask_text first.
 *
 * Rows become JSON by their column types: integers and numerics are
 * numbers, booleans booleans, text[] arrays of strings, SQL NULL null,
 * everything else a string as the server wrote it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <sys/time.h>
#include <time.h>

#include "catalog/pg_type_d.h"

#include "client.h"

static const ClientOptions *options;
static StringInfoData fields;	/* the command's JSON fields, "k": v, ... */
static char *error_json = NULL; /* the "error" object, or NULL */

static void out_timestamp(StringInfo buf);
static void json_value(StringInfo buf, const PGresult *res, int row, int col);
static void json_text_array(StringInfo buf, const char *literal);
static int	display_width(const char *s);
static char *one_line(const char *s);
static bool is_numeric_type(Oid type);

/* fmt and args, formatted into a palloc'd string of any length */
char *
out_format(const char *fmt, va_list args)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		va_list		copy;
		int			needed;

		va_copy(copy, args);
		needed = appendStringInfoVA(&buf, fmt, copy);
		va_end(copy);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	return buf.data;
}

/* Set up for a run with these options; call before anything is printed. */
void
out_init(const ClientOptions *opts)
{
	options = opts;
	initStringInfo(&fields);
}

/*
 * Print a progress line on stderr, with a timestamp; nothing with
 * --quiet.
 */
void
out_progress(const char *fmt,...)
{
	char	   *msg;
	va_list		args;

	if (options != NULL && options->quiet)
		return;
	va_start(args, fmt);
	msg = out_format(fmt, args);
	va_end(args);
	out_message(NULL, msg);
	pfree(msg);
}

/*
 * Print text on stderr, each of its lines prefixed with a timestamp and,
 * for the first, "LEVEL:  " when level is not NULL (the server's style).
 * Always printed, also with --quiet: callers filter progress themselves.
 */
void
out_message(const char *level, const char *text)
{
	StringInfoData buf;
	char	   *masked = mask_text(text);
	char	   *line = masked;
	bool		first = true;

	initStringInfo(&buf);
	for (;;)
	{
		char	   *nl = strchr(line, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (!(nl == NULL && line[0] == '\0' && !first))
		{
			out_timestamp(&buf);
			appendStringInfoString(&buf, "  ");
			if (first && level != NULL)
				appendStringInfo(&buf, "%s:  ", level);
			else if (!first)
				appendStringInfoString(&buf, "    ");
			appendStringInfoString(&buf, line);
			appendStringInfoChar(&buf, '\n');
		}
		first = false;
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	fputs(buf.data, stderr);
	fflush(stderr);
	pfree(buf.data);
	pfree(masked);
}

/* "2025-01-31 12:34:56.789 UTC", local time */
static void
out_timestamp(StringInfo buf)
{
	struct timeval tv;
	struct tm	tm;
	char		date[32];
	char		zone[16];

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%Z", &tm);
	appendStringInfo(buf, "%s.%03d %s", date, (int) (tv.tv_usec / 1000), zone);
}

/*
 * A usage error: "pg_migrate: error: ..." and a pointer to --help on
 * stderr, as PostgreSQL's programs say it.  The caller exits with
 * EXIT_BAD_INPUT.
 */
void
out_usage_error(const char *fmt,...)
{
	va_list		args;
	char	   *msg;
	char	   *masked;

	va_start(args, fmt);
	msg = out_format(fmt, args);
	va_end(args);
	masked = mask_text(msg);
	fprintf(stderr, "pg_migrate: error: %s\n", masked);
	fprintf(stderr, "Try \"pg_migrate --help\" for more information.\n");
	pfree(masked);
	pfree(msg);
}

/* The "error" member of the --json result: a JSON object. */
void
out_set_error(const char *json_object)
{
	error_json = pg_strdup(json_object);
}

/* The same for an error found by the client itself: {"message": ...} */
void
out_set_client_error(const char *message)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"message\": ");
	out_json_string(&buf, message);
	appendStringInfoChar(&buf, '}');
	error_json = buf.data;
}

/* Add "key": json to the --json result. */
void
out_field_raw(const char *key, const char *json)
{
	if (fields.len > 0)
		appendStringInfoString(&fields, ", ");
	out_json_string(&fields, key);
	appendStringInfoString(&fields, ": ");
	appendStringInfoString(&fields, json);
}

/* Add "key": "value" (null for NULL) to the --json result. */
void
out_field_string(const char *key, const char *value)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (value == NULL)
		appendStringInfoString(&buf, "null");
	else
		out_json_string(&buf, value);
	out_field_raw(key, buf.data);
	pfree(buf.data);
}

/* Add "key": value to the --json result. */
void
out_field_int(const char *key, long value)
{
	char		buf[32];

	snprintf(buf, sizeof(buf), "%ld", value);
	out_field_raw(key, buf);
}

/* Append s to buf as a JSON string, masked: for what the client prints. */
void
out_json_string(StringInfo buf, const char *s)
{
	char	   *masked = mask_text(s);

	json_quote(buf, masked);
	pfree(masked);
}

/*
 * Append s to buf as a JSON string, as it is: for what the client sends.
 * Bytes from 0x80 up pass through: the connection's client_encoding is
 * UTF8.
 */
void
json_quote(StringInfo buf, const char *s)
{
	const unsigned char *p;

	appendStringInfoChar(buf, '"');
	for (p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '"':
				appendStringInfoString(buf, "\\\"");
				break;
			case '\\':
				appendStringInfoString(buf, "\\\\");
				break;
			case '\n':
				appendStringInfoString(buf, "\\n");
				break;
			case '\r':
				appendStringInfoString(buf, "\\r");
				break;
			case '\t':
				appendStringInfoString(buf, "\\t");
				break;
			default:
				if (*p < 0x20 || *p == 0x7f)
					appendStringInfo(buf, "\\u%04x", *p);
				else
					appendStringInfoChar(buf, (char) *p);
		}
	}
	appendStringInfoChar(buf, '"');
}

/* The rows of res as a JSON array of objects, one member per column. */
char *
out_rows_json(const PGresult *res)
{
	StringInfoData buf;
	int			row;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (row = 0; row < PQntuples(res); row++)
	{
		char	   *obj = out_row_json(res, row);

		if (row > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, obj);
		pfree(obj);
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/* One row of res as a JSON object. */
char *
out_row_json(const PGresult *res, int row)
{
	StringInfoData buf;
	int			col;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (col = 0; col < PQnfields(res); col++)
	{
		if (col > 0)
			appendStringInfoString(&buf, ", ");
		out_json_string(&buf, PQfname(res, col));
		appendStringInfoString(&buf, ": ");
		json_value(&buf, res, row, col);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

static bool
is_numeric_type(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID ||
		type == NUMERICOID || type == FLOAT4OID || type == FLOAT8OID ||
		type == OIDOID;
}

/* one value of res as JSON, by its column's type */
static void
json_value(StringInfo buf, const PGresult *res, int row, int col)
{
	Oid			type = PQftype(res, col);
	const char *v = PQgetvalue(res, row, col);

	if (PQgetisnull(res, row, col))
		appendStringInfoString(buf, "null");
	else if (type == BOOLOID)
		appendStringInfoString(buf, v[0] == 't' ? "true" : "false");
	else if (is_numeric_type(type) && strspn(v, "0123456789.-+eE") == strlen(v))
		appendStringInfoString(buf, v);	/* not NaN or Infinity */
	else if (type == TEXTARRAYOID || type == NAMEARRAYOID)
		json_text_array(buf, v);
	else
		out_json_string(buf, v);
}

/*
 * A one-dimensional text[] literal ({a,"b c",NULL}) as a JSON array of
 * strings.
 */
static void
json_text_array(StringInfo buf, const char *literal)
{
	const char *p = literal;
	StringInfoData elem;
	bool		first = true;

	if (*p != '{')
	{
		out_json_string(buf, literal);
		return;
	}
	p++;
	initStringInfo(&elem);
	appendStringInfoChar(buf, '[');
	while (*p != '\0' && *p != '}')
	{
		bool		quoted = false;

		resetStringInfo(&elem);
		if (*p == '"')
		{
			quoted = true;
			for (p++; *p != '\0' && *p != '"'; p++)
			{
				if (*p == '\\' && p[1] != '\0')
					p++;
				appendStringInfoChar(&elem, *p);
			}
			if (*p == '"')
				p++;
		}
		else
		{
			for (; *p != '\0' && *p != ',' && *p != '}'; p++)
				appendStringInfoChar(&elem, *p);
		}
		if (!first)
			appendStringInfoString(buf, ", ");
		first = false;
		if (!quoted && strcmp(elem.data, "NULL") == 0)
			appendStringInfoString(buf, "null");
		else
			out_json_string(buf, elem.data);
		if (*p == ',')
			p++;
	}
	appendStringInfoChar(buf, ']');
	pfree(elem.data);
}

/* columns of width in characters (UTF-8), for alignment */
static int
display_width(const char *s)
{
	int			width = 0;

	for (; *s; s++)
		if (((unsigned char) *s & 0xC0) != 0x80)
			width++;
	return width;
}

/* a copy of s on one line: line breaks and tabs become spaces */
static char *
one_line(const char *s)
{
	char	   *copy = mask_text(s);
	char	   *p;

	for (p = copy; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return copy;
}

/*
 * Print res on stdout as an aligned table: the column names as headers,
 * two spaces between columns, numbers right-aligned, NULL as nothing.
 * Prints nothing for no rows.
 */
void
out_table(const PGresult *res)
{
	int			nrows = PQntuples(res);
	int			ncols = PQnfields(res);
	int		   *width;
	char	  **cells;
	int			row,
				col;
	StringInfoData line;

	if (nrows == 0)
		return;
	width = pg_malloc0(sizeof(int) * ncols);
	cells = pg_malloc0(sizeof(char *) * (nrows + 1) * ncols);
	for (col = 0; col < ncols; col++)
	{
		cells[col] = one_line(PQfname(res, col));
		width[col] = display_width(cells[col]);
	}
	for (row = 0; row < nrows; row++)
		for (col = 0; col < ncols; col++)
		{
			char	   *cell = one_line(PQgetisnull(res, row, col) ? "" :
										PQgetvalue(res, row, col));

			cells[(row + 1) * ncols + col] = cell;
			width[col] = Max(width[col], display_width(cell));
		}

	initStringInfo(&line);
	for (row = 0; row <= nrows; row++)
	{
		resetStringInfo(&line);
		for (col = 0; col < ncols; col++)
		{
			const char *cell = cells[row * ncols + col];
			int			pad = width[col] - display_width(cell);
			bool		right = row > 0 && is_numeric_type(PQftype(res, col));

			if (col > 0)
				appendStringInfoString(&line, "  ");
			if (right)
				appendStringInfoSpaces(&line, pad);
			appendStringInfoString(&line, cell);
			if (!right && col < ncols - 1)
				appendStringInfoSpaces(&line, pad);
		}
		/* no trailing blanks */
		while (line.len > 0 && line.data[line.len - 1] == ' ')
			line.data[--line.len] = '\0';
		printf("%s\n", line.data);
	}
	pfree(line.data);
	for (row = 0; row < (nrows + 1) * ncols; row++)
		pfree(cells[row]);
	pg_free(cells);
	pg_free(width);
}

/* Print a line of the text result on stdout (not with --json). */
void
out_line(const char *fmt,...)
{
	char	   *msg;
	char	   *masked;
	va_list		args;

	if (options != NULL && options->json)
		return;
	va_start(args, fmt);
	msg = out_format(fmt, args);
	va_end(args);
	masked = mask_text(msg);
	printf("%s\n", masked);
	pfree(masked);
	pfree(msg);
}

/*
 * End the run with this exit status: with --json, print the result
 * object first.
 */
void
client_exit(int status)
{
	if (options != NULL && options->json)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		appendStringInfoString(&buf, "{\"command\": ");
		out_json_string(&buf, options->command ? options->command : "");
		if (fields.len > 0)
		{
			appendStringInfoString(&buf, ", ");
			appendStringInfoString(&buf, fields.data);
		}
		if (error_json != NULL)
		{
			appendStringInfoString(&buf, ", \"error\": ");
			appendStringInfoString(&buf, error_json);
		}
		appendStringInfo(&buf, ", \"ok\": %s, \"exit_code\": %d}\n",
						 status == EXIT_OK ? "true" : "false", status);
		fputs(buf.data, stdout);
	}
	fflush(stdout);
	fflush(stderr);
	exit(status);
}
