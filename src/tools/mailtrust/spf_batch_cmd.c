/*
 * mailtrust spf check --batch FILE|-: many checks, one input line each.
 *
 * Input lines are "IP SENDER HELO" (fields separated by blanks); output is
 * one line (or one JSON object) per input line, in input order.  The checks
 * run concurrently on the library's driver over any resolver (libunbound
 * behind the cache, or a zone), reading ahead at most BATCH_WINDOW lines.
 */
#include "spf_batch_cmd.h"
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX_LINE 1024   /* octets per input line, without the newline */
#define BATCH_WINDOW 2048     /* lines read and not yet written */
#define BATCH_IN_FLIGHT 512   /* checks evaluating at once (the driver) */
#define BATCH_PROGRESS_MS 200 /* progress refresh on a terminal */

/* One input line between reading and writing its result. */
typedef struct slot {
	size_t line;                  /* 1-based line number */
	size_t len;                   /* octets kept in text */
	char text[BATCH_MAX_LINE + 2];/* the line; fields NUL-terminated in place when valid */
	const char *ip, *sender, *helo; /* sender/helo NULL for "<>"/"-" */
	const char *sender_shown, *helo_shown;
	size_t cut[3];                /* where the fields were NUL-terminated ... */
	char cut_char[3];             /* ... and what stood there */
	char problem[160];            /* non-empty: the line is malformed */
	int state;                    /* SLOT_RUNNING: its check is with the driver */
	mt_spf_check *chk;            /* kept for the lines this slot will hold */
	mt_status status;             /* mt_spf_check_start()'s verdict */
	char error[256];              /* ... and its message */
} slot;

enum { SLOT_DONE = 0, SLOT_RUNNING };

typedef struct batch_state {
	const spf_batch_params *p;
	FILE *in;
	bool eof;
	int read_errno;               /* a read error stopped the input */
	size_t lineno;
	long long in_size;            /* regular file: its size, for progress; else -1 */
	bool progress;
	bool progress_shown;
	long long last_progress_ms;
	size_t done, malformed, failed;
	int rc;
} batch_state;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/*
 * Read one physical line into s (at most BATCH_MAX_LINE octets kept; the
 * rest of a longer line is skipped).  false at the end of the input.
 */
static bool read_raw_line(batch_state *st, slot *s, bool *overlong, bool *nul)
{
	int c;
	bool any = false;

	s->len = 0;
	*overlong = *nul = false;
	while ((c = getc(st->in)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (c == '\0')
			*nul = true;
		if (s->len <= BATCH_MAX_LINE)
			s->text[s->len++] = (char)c;
		else
			*overlong = true;
	}
	if (c == EOF) {
		if (ferror(st->in))
			st->read_errno = errno ? errno : EIO;
		st->eof = true;
	}
	if (!any)
		return false;
	/* A CR before the newline (CRLF input) is not part of the line. */
	if (!*overlong && s->len > 0 && s->text[s->len - 1] == '\r')
		s->len--;
	if (s->len > BATCH_MAX_LINE) {
		*overlong = true;
		s->len = BATCH_MAX_LINE;
	}
	s->text[s->len] = '\0';
	st->lineno++;
	s->line = st->lineno;
	return true;
}

/*
 * Read the next line that is neither blank nor a comment and split it.
 * A malformed line gets its problem set.  false at the end of the input.
 */
static bool read_slot(batch_state *st, slot *s)
{
	bool overlong, nul;
	char *field[3];
	size_t flen[3], nf, i;

	for (;;) {
		if (st->eof || !read_raw_line(st, s, &overlong, &nul))
			return false;
		s->problem[0] = '\0';
		if (overlong) {
			snprintf(s->problem, sizeof s->problem, "the line is longer than %d octets",
			         BATCH_MAX_LINE);
			return true;
		}
		if (nul) {
			snprintf(s->problem, sizeof s->problem, "the line holds a NUL octet");
			return true;
		}
		for (i = 0; i < s->len && is_blank((unsigned char)s->text[i]); i++)
			;
		if (i == s->len || s->text[i] == '#')
			continue;
		break;
	}
	/* The fields are NUL-terminated in place once the line is valid (a
	 * malformed line stays as it was read, for the JSON "input"). */
	nf = 0;
	for (i = 0; i < s->len;) {
		while (i < s->len && is_blank((unsigned char)s->text[i]))
			i++;
		if (i == s->len)
			break;
		if (nf < 3)
			field[nf] = s->text + i;
		while (i < s->len && !is_blank((unsigned char)s->text[i]))
			i++;
		if (nf < 3)
			flen[nf] = (size_t)(s->text + i - field[nf]);
		nf++;
	}
	if (nf != 3) {
		snprintf(s->problem, sizeof s->problem,
		         "%zu field%s, want 3 (IP SENDER HELO)", nf, nf == 1 ? "" : "s");
		return true;
	}
	/* the address is mt_spf_check_start()'s to judge: its refusal is a malformed line */
	for (i = 0; i < 3; i++) {
		s->cut[i] = (size_t)(field[i] - s->text) + flen[i];
		s->cut_char[i] = s->text[s->cut[i]];
		s->text[s->cut[i]] = '\0';
	}
	s->ip = field[0];
	s->sender_shown = field[1];
	s->sender = field[1];
	if (strcmp(field[1], "<>") == 0 || strcmp(field[1], "-") == 0) {
		s->sender = NULL;
		s->sender_shown = "<>";
	}
	s->helo_shown = field[2];
	s->helo = strcmp(field[2], "-") == 0 ? NULL : field[2];
	return true;
}

/* ---- output ----------------------------------------------------------- */

static void progress_clear(batch_state *st)
{
	if (st->progress_shown) {
		fputs("\r\033[K", stderr);
		st->progress_shown = false;
	}
}

static void progress(batch_state *st, bool force)
{
	long long t;

	if (!st->progress)
		return;
	t = now_ms();
	if (!force && t - st->last_progress_ms < BATCH_PROGRESS_MS)
		return;
	st->last_progress_ms = t;
	fflush(stdout);
	fprintf(stderr, "\r%zu checks", st->done);
	if (st->in_size > 0) {
		long pos = ftell(st->in);
		if (pos >= 0)
			fprintf(stderr, " (%lld%% of the input read)",
			        (long long)pos * 100 / st->in_size);
	}
	if (st->malformed)
		fprintf(stderr, ", %zu malformed", st->malformed);
	fputs("\033[K", stderr);
	st->progress_shown = true;
}

/* "mailtrust: batch line N: problem" on stderr, the problem made safe. */
static void report_line(batch_state *st, const slot *s, const char *problem)
{
	progress_clear(st);
	fflush(stdout);
	fprintf(stderr, CLI_NAME ": batch line %zu: ", s->line);
	cli_text_puts(stderr, problem);
	fputc('\n', stderr);
}

/* A line that was not checked: malformed (or, with internal, a failure). */
static void emit_unchecked(batch_state *st, slot *s, const char *problem, bool internal)
{
	size_t i;

	if (!s->problem[0]) /* split into fields: give the line back its blanks */
		for (i = 0; i < 3; i++)
			s->text[s->cut[i]] = s->cut_char[i];
	report_line(st, s, problem);
	if (internal) {
		st->failed++;
		st->rc = CLI_EXIT_SOFTWARE;
	} else {
		st->malformed++;
		if (st->rc == 0)
			st->rc = CLI_EXIT_DATAERR;
	}
	if (st->p->json) {
		json_writer w;
		json_init(&w, stdout);
		json_begin_object(&w);
		json_key(&w, "line");
		json_int(&w, (long long)s->line);
		json_key(&w, "result");
		json_string(&w, internal ? "error" : "malformed");
		json_key(&w, "error");
		json_string(&w, problem);
		json_key(&w, "input");
		json_string_n(&w, s->text, s->len);
		json_end_object(&w);
		json_finish(&w);
	} else {
		printf("%zu: %s - - - - problem ", s->line, internal ? "error" : "malformed");
		cli_text_puts(stdout, problem);
		putchar('\n');
	}
	st->done++;
	progress(st, false);
}

static void put_field(const char *s)
{
	cli_text_puts(stdout, s && s[0] ? s : "-");
}

static void emit_checked(batch_state *st, slot *s, const mt_spf_check *chk)
{
	const mt_spf_outcome *oc = mt_spf_check_outcome(chk);
	char *rspf = NULL, *ar = NULL;

	if (!oc) {
		emit_unchecked(st, s, "the check did not finish", true);
		return;
	}
	if (st->p->json) {
		json_writer w;
		if (mt_spf_received_spf(chk, &rspf) != MT_OK ||
		    mt_spf_authres_header(chk, NULL, &ar) != MT_OK) {
			emit_unchecked(st, s, "cannot build the header fields", true);
			goto out;
		}
		json_init(&w, stdout);
		json_begin_object(&w);
		json_key(&w, "line");
		json_int(&w, (long long)s->line);
		spf_check_json_fields(&w, st->p->opts, oc, rspf, ar);
		json_end_object(&w);
		json_finish(&w);
	} else {
		printf("%zu: %s ", s->line, mt_spf_result_name(oc->result));
		put_field(s->ip);
		putchar(' ');
		put_field(s->sender_shown);
		putchar(' ');
		put_field(s->helo_shown);
		putchar(' ');
		put_field(oc->domain);
		if (oc->mechanism) {
			fputs(" mechanism ", stdout);
			cli_text_puts(stdout, oc->mechanism);
			if (oc->mechanism_domain && oc->domain &&
			    strcmp(oc->mechanism_domain, oc->domain) != 0) {
				fputs(" of ", stdout);
				cli_text_puts(stdout, oc->mechanism_domain);
			}
		} else if (oc->problem) {
			fputs(" problem ", stdout);
			cli_text_puts(stdout, oc->problem);
		}
		putchar('\n');
	}
	st->done++;
	progress(st, false);
out:
	mt_free(rspf);
	mt_free(ar);
}

static void fill_request(const batch_state *st, const slot *s, mt_spf_request *req)
{
	memset(req, 0, sizeof(*req));
	req->ip = s->ip;
	req->sender = s->sender;
	req->helo = s->helo;
	req->identity = st->p->identity;
}

/* ---- the driver ------------------------------------------------------ */

/*
 * Up to BATCH_IN_FLIGHT checks at once on the library's driver, which
 * hands them back as they finish; results are printed in input order from
 * a ring of BATCH_WINDOW lines (the reorder buffer).  Each slot keeps its
 * check and restarts it for the next line it holds.
 */
static int run_batch(batch_state *st)
{
	mt_run *run = NULL;
	mt_run_options ro;
	slot *ring = NULL;
	size_t head = 0, count = 0;
	mt_spf_request req;
	mt_error err;
	mt_status rv;
	int rc = 0;

	ring = calloc(BATCH_WINDOW, sizeof(*ring));
	if (!ring) {
		cli_error("out of memory");
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	mt_run_options_init(&ro);
	ro.max_jobs = BATCH_IN_FLIGHT;
	memset(&err, 0, sizeof(err));
	rv = mt_run_new(st->p->res, &ro, &run, &err);
	if (rv != MT_OK) {
		cli_error("cannot start the batch: %s", err.message[0] ? err.message : mt_strerror(rv));
		rc = CLI_EXIT_SOFTWARE;
		goto out;
	}
	for (;;) {
		slot *s;
		void *job, *user;

		while (!st->eof && count < BATCH_WINDOW && mt_run_jobs(run) < BATCH_IN_FLIGHT) {
			s = &ring[(head + count) % BATCH_WINDOW];
			if (!read_slot(st, s))
				break;
			count++;
			s->state = SLOT_DONE;
			s->status = MT_OK;
			if (s->problem[0])
				continue;
			if (!s->chk && mt_spf_check_new(st->p->opts, &s->chk, NULL) != MT_OK) {
				cli_error("out of memory");
				rc = CLI_EXIT_SOFTWARE;
				goto out;
			}
			fill_request(st, s, &req);
			memset(&err, 0, sizeof(err));
			s->status = mt_spf_check_start(s->chk, &req, &err);
			if (s->status != MT_OK) {
				snprintf(s->error, sizeof s->error, "%s",
				         err.message[0] ? err.message : mt_strerror(s->status));
				continue;
			}
			rv = mt_run_add(run, mt_spf_check_job_ops(), s->chk, 0, s);
			if (rv != MT_OK) {
				cli_error("cannot queue a check: %s", mt_strerror(rv));
				rc = CLI_EXIT_SOFTWARE;
				goto out;
			}
			s->state = SLOT_RUNNING;
		}
		while (count > 0 && ring[head].state == SLOT_DONE) {
			s = &ring[head];
			if (s->problem[0])
				emit_unchecked(st, s, s->problem, false);
			else if (s->status == MT_OK)
				emit_checked(st, s, s->chk);
			else
				emit_unchecked(st, s, s->error, s->status != MT_EINVAL);
			head = (head + 1) % BATCH_WINDOW;
			count--;
		}
		if (count == 0 && st->eof)
			break;
		if (mt_run_running(run) == 0)
			continue; /* room to read more */
		rv = mt_run_wait(run, st->progress ? BATCH_PROGRESS_MS : -1);
		if (rv != MT_OK) {
			progress_clear(st);
			cli_error("the DNS resolver failed: %s", mt_strerror(rv));
			rc = CLI_EXIT_UNAVAILABLE;
			goto out;
		}
		while (mt_run_next(run, &job, &user))
			((slot *)user)->state = SLOT_DONE;
		progress(st, false);
	}
out:
	mt_run_free(run);
	for (size_t i = 0; ring && i < BATCH_WINDOW; i++)
		mt_spf_check_free(ring[i].chk);
	free(ring);
	return rc;
}

int spf_batch_main(const spf_batch_params *p)
{
	batch_state st;
	struct stat sb;
	int rc;

	memset(&st, 0, sizeof(st));
	st.p = p;
	st.in_size = -1;
	if (strcmp(p->path, "-") == 0) {
		st.in = stdin;
	} else {
		st.in = fopen(p->path, "r");
		if (!st.in) {
			char q[CLI_QUOTE_BUF];
			cli_error("--batch: cannot open '%s': %s", cli_quote(q, p->path), strerror(errno));
			return CLI_EXIT_NOINPUT;
		}
	}
	if (fstat(fileno(st.in), &sb) == 0 && S_ISREG(sb.st_mode))
		st.in_size = (long long)sb.st_size;
	st.progress = isatty(STDERR_FILENO) != 0;

	rc = run_batch(&st);
	progress(&st, true);
	if (st.progress_shown) {
		fputc('\n', stderr);
		st.progress_shown = false;
	}
	if (rc == 0)
		rc = st.rc;
	if (st.read_errno && rc != CLI_EXIT_SOFTWARE) {
		char q[CLI_QUOTE_BUF];
		cli_error("--batch: reading '%s' failed after line %zu: %s", cli_quote(q, p->path),
		          st.lineno, strerror(st.read_errno));
		rc = CLI_EXIT_NOINPUT;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("writing the output failed");
		rc = CLI_EXIT_SOFTWARE;
	}
	if (st.in != stdin)
		fclose(st.in);
	return rc;
}
