/*
 * mailtrust-milter: SPF, DKIM and DMARC for Postfix and Sendmail through
 * libmilter, and DKIM signing of outbound mail.
 *
 * Threads: libmilter runs one thread per SMTP connection and calls the
 * callbacks below on it.  An inbound message's checks are one verdict job
 * (verdict.h: SPF for MAIL FROM and HELO, every DKIM signature, DMARC),
 * handed at end of message to the one driver thread (one resolver with its
 * cache, one mt_run, many verdicts in flight); the callback thread waits
 * for it to come back, then writes the field and logs.  The main
 * thread waits for signals: SIGHUP reloads the signing keys, SIGTERM and
 * SIGINT stop libmilter.
 *
 * Inbound: the header block is kept (it is bounded) and fed to the
 * verdict at its end; the body only streams through.  Outbound: the header block is kept
 * until its end, when the From domain picks the keys, then header and
 * body stream through the signer.
 */
#include "conf.h"

#include <mailtrust/mailtrust.h>
#include <mailtrust/dkim_sign.h>
#include <mailtrust/dkim_key.h>
#include <mailtrust/verdict.h>

#include <libmilter/mfapi.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE   64
#define EXIT_CONFIG  78
#define EXIT_RUNTIME 71

#define MAX_HEADER_BLOCK (1024 * 1024)
#define MAX_FORGED 64

/* ---- Keys (reloaded on SIGHUP) ----------------------------------------- */
typedef struct keyset {
	unsigned refs;
	size_t n;
	mt_dkim_keygen *keys[MTM_CONF_MAX_SIGN]; /* parallel to conf.sign */
} keyset;

static mtm_conf g_conf;
static pthread_mutex_t g_keys_mu = PTHREAD_MUTEX_INITIALIZER;
static keyset *g_keys;
static _Atomic bool g_leadspc_ok = true; /* set by negotiate, read by connect */

static void keyset_free(keyset *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++)
		mt_dkim_keygen_free(ks->keys[i]);
	free(ks);
}

/* Load every key of the signing table; NULL with err on the first failure. */
static keyset *keyset_load(const mtm_conf *c, char *err, size_t cap)
{
	keyset *ks = calloc(1, sizeof(*ks));
	char *buf = NULL;

	if (!ks) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	ks->refs = 1;
	for (size_t i = 0; i < c->nsign; i++) {
		const mtm_sign_entry *e = &c->sign[i];
		FILE *f = fopen(e->keyfile, "rb");
		size_t len;
		mt_error me;

		if (!f) {
			snprintf(err, cap, "%s: %s", e->keyfile, strerror(errno));
			goto fail;
		}
		buf = malloc(65537);
		len = buf ? fread(buf, 1, 65537, f) : 0;
		fclose(f);
		if (!buf || len == 0 || len > 65536) {
			snprintf(err, cap, "%s: empty, unreadable or larger than 64 KiB", e->keyfile);
			goto fail;
		}
		memset(&me, 0, sizeof(me));
		if (mt_dkim_keygen_from_pem(buf, len, &ks->keys[i], &me) != MT_OK) {
			snprintf(err, cap, "%s: %s", e->keyfile, me.message);
			goto fail;
		}
		free(buf);
		buf = NULL;
		ks->n = i + 1;
	}
	return ks;
fail:
	free(buf);
	keyset_free(ks);
	return NULL;
}

static keyset *keys_get(void)
{
	pthread_mutex_lock(&g_keys_mu);
	keyset *ks = g_keys;
	if (ks)
		ks->refs++;
	pthread_mutex_unlock(&g_keys_mu);
	return ks;
}

static void keys_put(keyset *ks)
{
	bool last;

	if (!ks)
		return;
	pthread_mutex_lock(&g_keys_mu);
	last = --ks->refs == 0;
	pthread_mutex_unlock(&g_keys_mu);
	if (last)
		keyset_free(ks);
}

static void keys_reload(void)
{
	char err[512];
	keyset *ks = keyset_load(&g_conf, err, sizeof err);

	if (!ks) {
		syslog(LOG_ERR, "reload: keeping the old keys: %s", err);
		return;
	}
	pthread_mutex_lock(&g_keys_mu);
	keyset *old = g_keys;
	g_keys = ks;
	pthread_mutex_unlock(&g_keys_mu);
	keys_put(old);
	syslog(LOG_INFO, "reload: %zu signing keys loaded", ks->n);
}

/* ---- The verdict driver ------------------------------------------------- */
/*
 * One thread owns the one resolver stack (a cache in front of libunbound)
 * and one mt_run over it.  A callback thread with a finished-feeding
 * verdict queues a request (the queue is bounded: a full queue makes the
 * sender wait), wakes the driver through an eventfd, and waits on the
 * request's condition variable until the driver gives the verdict back
 * (finished, or aborted when its time ran out) or fails it (the driver
 * stops, or the resolver fails).  Only the driver thread touches the
 * resolver and the mt_run; a verdict belongs to the driver from its
 * queueing until it is given back.
 */
#define DRV_QUEUE_MAX 256

typedef struct drv_req {
	mt_verdict *vd;
	mt_status st;        /* MT_OK: the driver gave the job back */
	bool done;
	pthread_cond_t cv;
	struct drv_req *next, *prev; /* queue, then the in-flight list */
} drv_req;

static pthread_mutex_t g_drv_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_drv_space = PTHREAD_COND_INITIALIZER;
static drv_req *g_q_head, *g_q_tail;  /* waiting to be added */
static size_t g_q_len;
static drv_req *g_fly;               /* in the mt_run (driver thread only) */
static bool g_drv_stop, g_drv_up;
static int g_drv_efd = -1;
static pthread_t g_drv_th;
static mt_dns_resolver *g_res;
static mt_run *g_run;

static int drv_resolver_new(const mtm_conf *c, mt_dns_resolver **out, char *err, size_t cap)
{
	mt_dns_unbound_options uo;
	mt_dns_cache_options co;
	mt_dns_resolver *inner = NULL;
	mt_error me;

	memset(&me, 0, sizeof(me));
	mt_dns_unbound_options_init(&uo);
	uo.forwarder = c->resolver;
	uo.timeout_ms = c->dns_timeout_ms;
	if (mt_dns_unbound_resolver_new(&uo, &inner, &me) != MT_OK) {
		snprintf(err, cap, "resolver: %s", me.message);
		return -1;
	}
	mt_dns_cache_options_init(&co);
	co.max_bytes = 16 * 1024 * 1024;
	co.own_inner = true;
	if (mt_dns_cache_resolver_new(inner, &co, out, &me) != MT_OK) {
		snprintf(err, cap, "resolver cache: %s", me.message);
		return -1;
	}
	return 0;
}

static mt_run *drv_run_new(char *err, size_t cap)
{
	mt_run *run = NULL;
	mt_error me;

	memset(&me, 0, sizeof(me));
	if (mt_run_new(g_res, NULL, &run, &me) != MT_OK) {
		snprintf(err, cap, "driver: %s", me.message);
		return NULL;
	}
	return run;
}

/* Give a request back (g_drv_mu held). */
static void drv_hand_back(drv_req *r, mt_status st)
{
	r->st = st;
	r->done = true;
	pthread_cond_signal(&r->cv);
}

static void fly_unlink(drv_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		g_fly = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
}

/* Drop the mt_run with every job in it: its questions are cancelled, the
 * verdicts aborted (their waiting checks end in temperror) and failed
 * back to their threads (driver thread). */
static void drv_fail_in_flight(const char *why)
{
	mt_run_free(g_run);
	g_run = NULL;
	pthread_mutex_lock(&g_drv_mu);
	while (g_fly) {
		drv_req *r = g_fly;
		fly_unlink(r);
		mt_verdict_job_ops()->abort(r->vd, why);
		drv_hand_back(r, MT_ESTATE);
	}
	pthread_mutex_unlock(&g_drv_mu);
}

static void *drv_thread(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pfd[2];
		nfds_t n = 1;
		int tmo;
		uint64_t cnt;
		bool stop;

		/* take the queue into the driver while it has room */
		pthread_mutex_lock(&g_drv_mu);
		stop = g_drv_stop;
		while (!stop && g_run && g_q_head) {
			drv_req *r = g_q_head;
			mt_status st = mt_run_add(g_run, mt_verdict_job_ops(), r->vd, 0, r);
			if (st == MT_EAGAIN)
				break;
			g_q_head = r->next;
			if (!g_q_head)
				g_q_tail = NULL;
			g_q_len--;
			pthread_cond_signal(&g_drv_space);
			r->next = r->prev = NULL;
			if (st != MT_OK) {
				drv_hand_back(r, st);
				continue;
			}
			r->next = g_fly;
			if (g_fly)
				g_fly->prev = r;
			g_fly = r;
		}
		pthread_mutex_unlock(&g_drv_mu);
		if (stop)
			break;

		if (!g_run) {
			char err[256];
			g_run = drv_run_new(err, sizeof err);
			if (!g_run) {
				syslog(LOG_ERR, "%s", err);
				sleep(1);
				continue;
			}
		}
		mt_status st = mt_run_process(g_run);
		if (st == MT_OK) {
			void *job, *user;
			pthread_mutex_lock(&g_drv_mu);
			while (mt_run_next(g_run, &job, &user)) {
				drv_req *r = user;
				fly_unlink(r);
				drv_hand_back(r, MT_OK);
			}
			pthread_mutex_unlock(&g_drv_mu);
		} else {
			syslog(LOG_ERR, "driver: %s: the messages in flight get a temporary failure",
			       mt_strerror(st));
			drv_fail_in_flight("the driver failed");
			continue; /* a new driver over the same resolver */
		}

		pfd[0].fd = g_drv_efd;
		pfd[0].events = POLLIN;
		pfd[1].fd = mt_run_fd(g_run);
		pfd[1].events = POLLIN;
		if (pfd[1].fd >= 0)
			n = 2;
		tmo = mt_run_timeout(g_run);
		pthread_mutex_lock(&g_drv_mu);
		if (tmo < 0 && g_q_head) /* all done, some still queued: take them now */
			tmo = 0;
		pthread_mutex_unlock(&g_drv_mu);
		if (poll(pfd, n, tmo) < 0 && errno != EINTR) {
			syslog(LOG_ERR, "driver: poll: %s", strerror(errno));
			sleep(1);
		}
		if (pfd[0].revents & POLLIN) {
			ssize_t rd = read(g_drv_efd, &cnt, sizeof cnt);
			(void)rd;
		}
	}
	/* stopping: fail what is in flight and what is still queued */
	drv_fail_in_flight("the milter is stopping");
	pthread_mutex_lock(&g_drv_mu);
	while (g_q_head) {
		drv_req *r = g_q_head;
		g_q_head = r->next;
		r->next = NULL;
		drv_hand_back(r, MT_ESTATE);
	}
	g_q_tail = NULL;
	g_q_len = 0;
	pthread_cond_broadcast(&g_drv_space);
	pthread_mutex_unlock(&g_drv_mu);
	return NULL;
}

static void drv_wake(void)
{
	uint64_t one = 1;
	ssize_t wr = write(g_drv_efd, &one, sizeof one);
	(void)wr; /* EAGAIN: the counter is already set, the driver wakes anyway */
}

static int drv_start(const mtm_conf *c, char *err, size_t cap)
{
	if (drv_resolver_new(c, &g_res, err, cap) != 0)
		return -1;
	g_run = drv_run_new(err, cap);
	if (!g_run)
		return -1;
	g_drv_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g_drv_efd < 0) {
		snprintf(err, cap, "eventfd: %s", strerror(errno));
		return -1;
	}
	if (pthread_create(&g_drv_th, NULL, drv_thread, NULL) != 0) {
		snprintf(err, cap, "cannot start the driver thread");
		return -1;
	}
	g_drv_up = true;
	return 0;
}

/* Stop the driver: the messages in flight or queued get a temporary
 * failure, later ones too.  Returns when the driver thread has ended. */
static void drv_stop(void)
{
	if (!g_drv_up)
		return;
	pthread_mutex_lock(&g_drv_mu);
	g_drv_stop = true;
	pthread_cond_broadcast(&g_drv_space);
	pthread_mutex_unlock(&g_drv_mu);
	drv_wake();
	pthread_join(g_drv_th, NULL);
	g_drv_up = false;
	mt_dns_resolver_free(g_res);
	g_res = NULL;
	close(g_drv_efd);
	g_drv_efd = -1;
}

/* Run v on the driver and wait for it (a callback thread).  MT_OK when the
 * driver gave it back finished or timed out; else the verdict did not run
 * (stopping, the driver failed). */
static mt_status drv_run(mt_verdict *v)
{
	drv_req r;

	memset(&r, 0, sizeof(r));
	r.vd = v;
	pthread_cond_init(&r.cv, NULL);
	pthread_mutex_lock(&g_drv_mu);
	while (!g_drv_stop && g_q_len >= DRV_QUEUE_MAX)
		pthread_cond_wait(&g_drv_space, &g_drv_mu);
	if (g_drv_stop) {
		pthread_mutex_unlock(&g_drv_mu);
		pthread_cond_destroy(&r.cv);
		return MT_ESTATE;
	}
	if (g_q_tail)
		g_q_tail->next = &r;
	else
		g_q_head = &r;
	g_q_tail = &r;
	g_q_len++;
	/* under the lock: drv_stop() closes the eventfd only after it has set
	 * g_drv_stop (under the lock) and the driver has ended */
	drv_wake();
	while (!r.done)
		pthread_cond_wait(&r.cv, &g_drv_mu);
	pthread_mutex_unlock(&g_drv_mu);
	pthread_cond_destroy(&r.cv);
	return r.st;
}

/* ---- A bounded text buffer -------------------------------------------- */
typedef struct sbuf {
	char *p;
	size_t len, cap, max;
	bool over;
} sbuf;

static bool sb_add(sbuf *b, const void *data, size_t len)
{
	if (b->over || len > b->max - b->len) {
		b->over = true;
		return false;
	}
	if (b->len + len + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 4096;
		while (ncap < b->len + len + 1)
			ncap *= 2;
		char *np = realloc(b->p, ncap);
		if (!np) {
			b->over = true;
			return false;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return true;
}

static void sb_str(sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_fmt(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(sbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void sb_free(sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* A log value: printable ASCII only, at most 200 octets. */
static void sb_logval(sbuf *b, const char *s)
{
	size_t n = 0;
	if (!s || !*s) {
		sb_str(b, "-");
		return;
	}
	for (; *s && n < 200; s++, n++) {
		char ch = (*s > 0x20 && *s < 0x7f) ? *s : '?';
		sb_add(b, &ch, 1);
	}
}

/* Free text for a log line (a reason, an error message), written between
 * double quotes by the caller: printable ASCII and spaces, a double quote
 * as ', anything else as ?, at most 200 octets. */
static void sb_logtext(sbuf *b, const char *s)
{
	size_t n = 0;
	for (; s && *s && n < 200; s++, n++) {
		char ch = *s == '"' ? '\'' : (*s >= 0x20 && *s < 0x7f) ? *s : '?';
		sb_add(b, &ch, 1);
	}
}

/* ---- Per-connection state ---------------------------------------------- */
typedef struct conn {
	char ip[INET6_ADDRSTRLEN];
	bool have_ip;
	bool trusted;
	bool leadspc;
	char *helo;
	/* the message */
	char *mailfrom;
	char *auth;
	bool outbound;
	sbuf header;                /* the header block as received */
	size_t ar_count;            /* Authentication-Results fields seen */
	size_t nforged;
	size_t forged[MAX_FORGED];  /* their indices (1-based) that claim our id */
	bool forged_over;           /* more than MAX_FORGED claim it: refused */
	size_t from_count;
	char *from_value;           /* the first From field's value */
	mt_verdict *vd;             /* inbound: SPF x2, DKIM, DMARC in one job */
	mt_dkim_sign *sig;
	keyset *keys;
	char sign_domain[256];
	bool broken;                /* a feed failed: no checks for this message */
	char broken_why[512];
} conn;

static void msg_reset(conn *c)
{
	free(c->mailfrom);
	free(c->auth);
	free(c->from_value);
	sb_free(&c->header);
	mt_verdict_free(c->vd);
	mt_dkim_sign_free(c->sig);
	keys_put(c->keys);
	c->mailfrom = c->auth = c->from_value = NULL;
	c->vd = NULL;
	c->sig = NULL;
	c->keys = NULL;
	c->outbound = false;
	c->ar_count = c->nforged = c->from_count = 0;
	c->forged_over = false;
	c->sign_domain[0] = '\0';
	c->broken = false;
	c->broken_why[0] = '\0';
}

static conn *getconn(SMFICTX *ctx)
{
	return (conn *)smfi_getpriv(ctx);
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s);
	char *d = malloc(n + 1);
	if (d)
		memcpy(d, s, n + 1);
	return d;
}

static void mark_broken(conn *c, const char *what, const mt_error *e)
{
	if (c->broken)
		return;
	c->broken = true;
	snprintf(c->broken_why, sizeof c->broken_why, "%s: %.255s", what, e ? e->message : "");
}

static sfsistat cb_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	conn *c = calloc(1, sizeof(*c));

	if (!c)
		return SMFIS_TEMPFAIL;
	c->leadspc = g_leadspc_ok;
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, c->ip, sizeof c->ip);
		c->have_ip = true;
		c->trusted = mtm_conf_trusted(&g_conf, 4, (const uint8_t *)&s4->sin_addr);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, c->ip, sizeof c->ip);
		c->have_ip = true;
		c->trusted = mtm_conf_trusted(&g_conf, 6, (const uint8_t *)&s6->sin6_addr);
	} else {
		/* no address: a local submission (Postfix's sendmail, pickup) */
		c->trusted = true;
	}
	smfi_setpriv(ctx, c);
	return SMFIS_CONTINUE;
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
	conn *c = getconn(ctx);
	if (!c)
		return SMFIS_CONTINUE;
	free(c->helo);
	c->helo = xstrdup(helo ? helo : "");
	return SMFIS_CONTINUE;
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	conn *c = getconn(ctx);
	const char *a, *auth;
	size_t len;

	if (!c)
		return SMFIS_CONTINUE;
	msg_reset(c);
	a = argv && argv[0] ? argv[0] : "";
	len = strlen(a);
	if (len >= 2 && a[0] == '<' && a[len - 1] == '>') {
		a++;
		len -= 2;
	}
	c->mailfrom = malloc(len + 1);
	if (!c->mailfrom)
		return SMFIS_TEMPFAIL;
	memcpy(c->mailfrom, a, len);
	c->mailfrom[len] = '\0';
	auth = smfi_getsymval(ctx, "{auth_authen}");
	if (auth && *auth)
		c->auth = xstrdup(auth);
	c->outbound = c->trusted || c->auth != NULL;
	c->header.max = MAX_HEADER_BLOCK;
	if (!c->outbound) {
		mt_error e;
		memset(&e, 0, sizeof(e));
		mt_verdict_options vo;
		mt_verdict_options_init(&vo);
		vo.receiver = g_conf.authserv_id;
		vo.max_header_bytes = MAX_HEADER_BLOCK;
		if (mt_verdict_new(&vo, &c->vd, &e) != MT_OK ||
		    mt_verdict_set_connection(c->vd, c->ip, c->helo, &e) != MT_OK ||
		    mt_verdict_set_mail_from(c->vd, c->mailfrom, &e) != MT_OK)
			mark_broken(c, "verdict", &e);
	}
	return SMFIS_CONTINUE;
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	conn *c = getconn(ctx);
	const char *v = value ? value : "";

	if (!c || !c->mailfrom)
		return SMFIS_CONTINUE;
	if (c->outbound) {
		/* held until the From field says which keys sign */
		sb_str(&c->header, name);
		sb_str(&c->header, c->leadspc ? ":" : ": ");
		sb_str(&c->header, v);
		sb_str(&c->header, "\r\n");
	} else if (c->vd && !c->broken) {
		/* streamed: the verdict holds and caps the header itself */
		mt_error e;
		memset(&e, 0, sizeof(e));
		if (mt_verdict_feed(c->vd, name, strlen(name), &e) != MT_OK ||
		    mt_verdict_feed(c->vd, c->leadspc ? ":" : ": ", c->leadspc ? 1 : 2, &e) != MT_OK ||
		    mt_verdict_feed(c->vd, v, strlen(v), &e) != MT_OK ||
		    mt_verdict_feed(c->vd, "\r\n", 2, &e) != MT_OK)
			mark_broken(c, "verdict", &e);
	}
	if (strcasecmp(name, "Authentication-Results") == 0) {
		c->ar_count++;
		if (!c->outbound && mt_authres_claims(v, strlen(v), g_conf.authserv_id)) {
			if (c->nforged < MAX_FORGED)
				c->forged[c->nforged++] = c->ar_count;
			else
				c->forged_over = true;
		}
	} else if (strcasecmp(name, "From") == 0) {
		if (c->from_count++ == 0 && !(c->from_value = xstrdup(v)))
			return SMFIS_TEMPFAIL;
	}
	return SMFIS_CONTINUE;
}

/* The From field's domain into out ("" when there is none or several). */
static mt_dmarc_from_status from_domain(const conn *c, mt_dmarc_from *f)
{
	memset(f, 0, sizeof(*f));
	if (c->from_count == 0) {
		f->status = MT_DMARC_FROM_ABSENT;
		return f->status;
	}
	if (c->from_count > 1) {
		f->status = MT_DMARC_FROM_MANY_FIELDS;
		return f->status;
	}
	mt_dmarc_from_parse(c->from_value, strlen(c->from_value), f);
	return f->status;
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
	conn *c = getconn(ctx);
	mt_error e;

	if (!c || !c->mailfrom)
		return SMFIS_CONTINUE;
	memset(&e, 0, sizeof(e));
	if (c->outbound) {
		mt_dmarc_from f;
		size_t idx[MT_DKIM_SIGN_MAX_KEYS], n;

		if (c->header.over) {
			c->broken = true;
			snprintf(c->broken_why, sizeof c->broken_why, "header block over %d octets",
			         MAX_HEADER_BLOCK);
			return SMFIS_CONTINUE;
		}
		sb_str(&c->header, "\r\n");

		if (from_domain(c, &f) != MT_DMARC_FROM_OK)
			return SMFIS_CONTINUE;  /* nothing to sign with */
		c->keys = keys_get();
		n = c->keys ? mtm_conf_signers(&g_conf, f.domain, idx, MT_DKIM_SIGN_MAX_KEYS) : 0;
		if (n == 0)
			return SMFIS_CONTINUE;
		mt_dkim_sign_options so;
		mt_dkim_sign_options_init(&so);
		so.lf = true;
		so.now = (int64_t)time(NULL);
		if (mt_dkim_sign_new(&so, &c->sig, &e) != MT_OK) {
			mark_broken(c, "dkim signer", &e);
			return SMFIS_CONTINUE;
		}
		for (size_t i = 0; i < n; i++) {
			const mtm_sign_entry *se = &g_conf.sign[idx[i]];
			if (idx[i] >= c->keys->n ||
			    mt_dkim_sign_add(c->sig, c->keys->keys[idx[i]], se->domain, se->selector, NULL,
			                     &e) != MT_OK) {
				mark_broken(c, "dkim signer", &e);
				return SMFIS_CONTINUE;
			}
		}
		snprintf(c->sign_domain, sizeof c->sign_domain, "%s", f.domain);
		if (mt_dkim_sign_feed(c->sig, c->header.p, c->header.len, &e) != MT_OK)
			mark_broken(c, "dkim signer", &e);
	} else if (c->vd && !c->broken) {
		if (mt_verdict_feed(c->vd, "\r\n", 2, &e) != MT_OK) /* the header's end */
			mark_broken(c, "verdict", &e);
	}
	return SMFIS_CONTINUE;
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	conn *c = getconn(ctx);
	mt_error e;

	if (!c || c->broken)
		return SMFIS_CONTINUE;
	memset(&e, 0, sizeof(e));
	if (c->sig && mt_dkim_sign_feed(c->sig, data, len, &e) != MT_OK)
		mark_broken(c, "dkim signer", &e);
	else if (c->vd && mt_verdict_feed(c->vd, data, len, &e) != MT_OK)
		mark_broken(c, "verdict", &e);
	return SMFIS_CONTINUE;
}

/* Add a field's value: LF line ends, a leading space when the MTA leaves
 * it to us. */
static int add_field(SMFICTX *ctx, conn *c, const char *name, const char *value, size_t len)
{
	sbuf v = {0};
	v.max = 65536;
	if (c->leadspc)
		sb_str(&v, " ");
	for (size_t i = 0; i < len; i++) {
		if (value[i] == '\r')
			continue;
		sb_add(&v, &value[i], 1);
	}
	while (v.len > 0 && v.p[v.len - 1] == '\n')
		v.p[--v.len] = '\0';
	int rc = v.over ? MI_FAILURE : smfi_insheader(ctx, 0, (char *)name, v.p);
	sb_free(&v);
	return rc;
}

static sfsistat outbound_eom(SMFICTX *ctx, conn *c, sbuf *log)
{
	mt_error e;

	memset(&e, 0, sizeof(e));
	sb_fmt(log, " outbound client=%s", c->have_ip ? c->ip : "local");
	if (c->auth) {
		sb_str(log, " auth=");
		sb_logval(log, c->auth);
	}
	if (c->broken) {
		sb_str(log, " sign=error(\"");
		sb_logtext(log, c->broken_why);
		sb_str(log, "\")");
		return SMFIS_ACCEPT;
	}
	if (!c->sig) {
		sb_str(log, " sign=none");
		return SMFIS_ACCEPT;
	}
	if (mt_dkim_sign_finish(c->sig, &e) != MT_OK) {
		sb_str(log, " sign=error(\"");
		sb_logtext(log, e.message);
		sb_str(log, "\")");
		return SMFIS_ACCEPT;
	}
	size_t n = mt_dkim_sign_count(c->sig);
	/* inserted at the top, last first, so they come out in table order */
	for (size_t i = n; i-- > 0;) {
		size_t len = 0;
		const char *f = mt_dkim_sign_field(c->sig, i, &len);
		const char *colon = f ? memchr(f, ':', len) : NULL;
		if (!colon)
			continue;
		if (add_field(ctx, c, "DKIM-Signature", colon + 1, len - (size_t)(colon + 1 - f)) !=
		    MI_SUCCESS) {
			sb_str(log, " sign=error (the MTA refused the field)");
			return SMFIS_TEMPFAIL;
		}
	}
	sb_fmt(log, " sign=ok d=%s keys=%zu", c->sign_domain, n);
	return SMFIS_ACCEPT;
}

static void log_spf(sbuf *log, const char *label, const mt_spf_outcome *o)
{
	sb_fmt(log, " %s=%s", label, o ? mt_spf_result_name(o->result) : "none");
	if (o && o->domain && *o->domain) {
		sb_str(log, "(");
		sb_logval(log, o->domain);
		sb_str(log, ")");
	}
}

/* A field of our own when the verdict could not be had (a feed failed). */
static char *fallback_field(const char *why)
{
	mt_authres *ar = NULL;
	mt_authres_method m;
	mt_error e;
	char *out = NULL;

	memset(&m, 0, sizeof(m));
	if (mt_authres_new(g_conf.authserv_id, &ar, &e) != MT_OK)
		return NULL;
	m.result = "temperror";
	m.reason = why;
	m.method = "spf";
	mt_authres_add(ar, &m, &e);
	m.method = "dkim";
	mt_authres_add(ar, &m, &e);
	m.method = "dmarc";
	mt_authres_add(ar, &m, &e);
	mt_authres_render(ar, MT_AUTHRES_FOLD, 0, &out, &e);
	mt_authres_free(ar);
	return out;
}

static sfsistat inbound_eom(SMFICTX *ctx, conn *c, sbuf *log)
{
	mt_error e;
	const mt_verdict_outcome *o = NULL;
	const mt_dmarc_outcome *od = NULL;
	char *arv = NULL;
	bool temperror = false;
	sfsistat ret = SMFIS_ACCEPT;

	memset(&e, 0, sizeof(e));
	sb_fmt(log, " inbound client=%s", c->have_ip ? c->ip : "local");
	sb_str(log, " helo=");
	sb_logval(log, c->helo);
	sb_str(log, " mailfrom=");
	sb_logval(log, c->mailfrom);

	/* more forged fields than can be removed: none may reach the reader */
	if (c->forged_over) {
		sb_fmt(log, " forged-ar=more-than-%d action=reject", MAX_FORGED);
		smfi_setreply(ctx, "550", "5.7.1",
		              "Too many Authentication-Results fields claiming this server");
		return SMFIS_REJECT;
	}
	/* the forged fields go in any case, from the bottom up */
	for (size_t i = c->nforged; i-- > 0;)
		smfi_chgheader(ctx, "Authentication-Results", (int)c->forged[i], NULL);
	if (c->nforged)
		sb_fmt(log, " removed-ar=%zu", c->nforged);

	if (!c->broken && c->vd && mt_verdict_finish(c->vd, &e) != MT_OK)
		mark_broken(c, "verdict", &e);
	if (c->broken || !c->vd) {
		temperror = true;
		arv = fallback_field(c->broken ? c->broken_why : "not evaluated");
		sb_str(log, " verdict=temperror(\"");
		sb_logtext(log, c->broken ? c->broken_why : "not evaluated");
		sb_str(log, "\")");
	} else {
		if (drv_run(c->vd) != MT_OK || !(o = mt_verdict_result(c->vd))) {
			sb_str(log, " error=the verdict did not finish action=tempfail");
			smfi_setreply(ctx, "451", "4.3.0", "Authentication could not be checked; try again later");
			return SMFIS_TEMPFAIL;
		}
		log_spf(log, "spf", mt_verdict_spf_mailfrom(c->vd));
		log_spf(log, "spf-helo", mt_verdict_spf_helo(c->vd));
		temperror |= o->spf_mailfrom == MT_SPF_TEMPERROR;
		const mt_dkim_verify *dv = mt_verdict_dkim(c->vd);
		size_t nsig = dv ? mt_dkim_verify_count(dv) : 0;
		if (nsig == 0)
			sb_str(log, " dkim=none");
		for (size_t i = 0; i < nsig; i++) {
			const mt_dkim_sig_result *r = mt_dkim_verify_result(dv, i);
			if (!r)
				continue;
			temperror |= r->result == MT_DKIM_TEMPERROR;
			sb_fmt(log, " dkim=%s(d=", mt_dkim_result_name(r->result));
			sb_logval(log, r->d);
			sb_str(log, ",s=");
			sb_logval(log, r->s);
			sb_str(log, ")");
		}
		od = mt_verdict_dmarc(c->vd);
		temperror |= o->dmarc == MT_DMARC_RESULT_TEMPERROR;
		sb_fmt(log, " dmarc=%s(from=", mt_dmarc_result_name(o->dmarc));
		sb_logval(log, o->from_domain);
		sb_fmt(log, " policy=%s disposition=%s%s)",
		       o->policy == MT_DMARC_POLICY_ABSENT ? "-" : mt_dmarc_policy_name(o->policy),
		       o->disposition == MT_DMARC_POLICY_ABSENT ? "-" : mt_dmarc_policy_name(o->disposition),
		       od && od->testing ? " t=y" : "");
		if (o->dmarc != MT_DMARC_RESULT_PASS && o->reason && *o->reason) {
			sb_str(log, " dmarc-reason=\"");
			sb_logtext(log, o->reason);
			sb_str(log, "\"");
		}
		if (mt_verdict_authres_field(c->vd, g_conf.authserv_id, MT_AUTHRES_FOLD, &arv, &e) != MT_OK)
			arv = NULL;
	}
	if (!arv) {
		sb_str(log, " error=\"");
		sb_logtext(log, e.message);
		sb_str(log, "\" action=tempfail");
		return SMFIS_TEMPFAIL;
	}

	/* what to do */
	if (temperror && g_conf.dns_failure == MTM_DNSFAIL_TEMPFAIL) {
		smfi_setreply(ctx, "451", "4.4.3", "Authentication could not be checked (DNS); try again later");
		sb_str(log, " action=tempfail");
		ret = SMFIS_TEMPFAIL;
		goto out;
	}
	if (o && o->dmarc == MT_DMARC_RESULT_FAIL && g_conf.dmarc_action != MTM_DMARC_REPORT &&
	    (o->disposition == MT_DMARC_POLICY_REJECT || o->disposition == MT_DMARC_POLICY_QUARANTINE)) {
		char text[400];
		if (o->disposition == MT_DMARC_POLICY_REJECT && g_conf.dmarc_action == MTM_DMARC_REJECT) {
			snprintf(text, sizeof text, "Rejected by DMARC policy for %s", o->from_domain);
			smfi_setreply(ctx, "550", "5.7.1", text);
			sb_str(log, " action=reject");
			ret = SMFIS_REJECT;
			goto out;
		}
		snprintf(text, sizeof text, "DMARC policy %s for %s",
		         mt_dmarc_policy_name(o->disposition), o->from_domain);
		smfi_quarantine(ctx, text);
		sb_str(log, " action=quarantine");
	} else {
		sb_str(log, " action=accept");
	}
	if (add_field(ctx, c, "Authentication-Results", arv, strlen(arv)) != MI_SUCCESS) {
		sb_str(log, " (the MTA refused the Authentication-Results field)");
		ret = SMFIS_TEMPFAIL;
	}
out:
	mt_free(arv);
	return ret;
}

static sfsistat cb_eom(SMFICTX *ctx)
{
	conn *c = getconn(ctx);
	sbuf log = {0};
	sfsistat ret;
	const char *qid = smfi_getsymval(ctx, "i");

	if (!c || !c->mailfrom)
		return SMFIS_CONTINUE;
	log.max = 8192;
	sb_logval(&log, qid ? qid : "NOQUEUE");
	sb_str(&log, ":");
	ret = c->outbound ? outbound_eom(ctx, c, &log) : inbound_eom(ctx, c, &log);
	syslog(LOG_INFO, "%s", log.p ? log.p : "");
	sb_free(&log);
	msg_reset(c);
	return ret;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	conn *c = getconn(ctx);
	if (c)
		msg_reset(c);
	return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
	conn *c = getconn(ctx);
	if (c) {
		msg_reset(c);
		free(c->helo);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                             unsigned long f2, unsigned long f3,
                             unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
                             unsigned long *pf3)
{
	unsigned long want = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE;

	*pf0 = f0 & want;
	*pf1 = f1 & (SMFIP_HDR_LEADSPC | SMFIP_NORCPT | SMFIP_NOUNKNOWN | SMFIP_NODATA);
	*pf2 = 0;
	*pf3 = 0;
	/* without a leading space from the MTA, fields are written "name: value" */
	g_leadspc_ok = (f1 & SMFIP_HDR_LEADSPC) != 0;
	(void)ctx; /* called before connect: the connection has no state yet */
	return SMFIS_CONTINUE;
}

static struct smfiDesc g_desc = {
	.xxfi_name = "mailtrust-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_negotiate = cb_negotiate,
};

/* ---- main ---------------------------------------------------------------- */
static void usage(FILE *f)
{
	fprintf(f,
	        "usage: mailtrust-milter [-c FILE] [-n] [-l] [-h] [-V]\n"
	        "SPF, DKIM and DMARC checks and DKIM signing for Postfix and Sendmail (milter).\n"
	        "  -c, --config FILE  the configuration file (default /etc/mailtrust/milter.conf)\n"
	        "  -n, --check        check the configuration and the keys, then exit\n"
	        "  -l, --stderr       log to standard error too\n"
	        "  -h, --help         this text\n"
	        "  -V, --version      the version\n"
	        "Exit status: 0 ok, 64 usage, 71 runtime failure, 78 configuration error.\n");
}

static void *milter_thread(void *arg)
{
	(void)arg;
	intptr_t rc = smfi_main();
	/* the main thread waits in sigwait: wake it */
	kill(getpid(), SIGTERM);
	return (void *)rc;
}

static int drop_privileges(const char *user, const char *sockspec)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		fprintf(stderr, "mailtrust-milter: user '%s' does not exist\n", user);
		return -1;
	}
	const char *path = NULL;
	if (strncmp(sockspec, "unix:", 5) == 0)
		path = sockspec + 5;
	else if (strncmp(sockspec, "local:", 6) == 0)
		path = sockspec + 6;
	if (path && chown(path, pw->pw_uid, pw->pw_gid) != 0) {
		fprintf(stderr, "mailtrust-milter: chown %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "mailtrust-milter: cannot become %s: %s\n", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		fprintf(stderr, "mailtrust-milter: could still regain root after dropping it\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = "/etc/mailtrust/milter.conf";
	bool check = false, to_stderr = false;
	char err[1024];
	int opt;
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'n'},
		{"stderr", no_argument, NULL, 'l'},       {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
	};

	while ((opt = getopt_long(argc, argv, "c:nlhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'n': check = true; break;
		case 'l': to_stderr = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("mailtrust-milter %s\n", MT_MILTER_VERSION); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	mtm_conf_init(&g_conf);
	if (mtm_conf_load(path, &g_conf, err, sizeof err) != 0) {
		fprintf(stderr, "mailtrust-milter: %s\n", err);
		mtm_conf_free(&g_conf);
		return EXIT_CONFIG;
	}
	g_keys = keyset_load(&g_conf, err, sizeof err);
	if (!g_keys) {
		fprintf(stderr, "mailtrust-milter: %s\n", err);
		mtm_conf_free(&g_conf);
		return EXIT_CONFIG;
	}
	if (g_conf.user && !getpwnam(g_conf.user)) {
		fprintf(stderr, "mailtrust-milter: user '%s' does not exist\n", g_conf.user);
		return EXIT_CONFIG;
	}
	if (check) {
		printf("%s: ok (authserv-id %s, socket %s, %zu trusted networks, %zu signing keys)\n",
		       path, g_conf.authserv_id, g_conf.socket, g_conf.nnets, g_keys->n);
		keys_put(g_keys);
		mtm_conf_free(&g_conf);
		return 0;
	}

	openlog("mailtrust-milter", LOG_PID | (to_stderr ? LOG_PERROR : 0), LOG_MAIL);
	if (smfi_setconn(g_conf.socket) != MI_SUCCESS || smfi_register(g_desc) != MI_SUCCESS) {
		fprintf(stderr, "mailtrust-milter: libmilter refused the socket or the filter\n");
		return EXIT_RUNTIME;
	}
	umask(007);
	if (smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "mailtrust-milter: cannot open %s\n", g_conf.socket);
		return EXIT_RUNTIME;
	}
	if (g_conf.user && drop_privileges(g_conf.user, g_conf.socket) != 0)
		return EXIT_RUNTIME;

	/* Signals are taken by this (the main) thread with sigwait: a signal
	 * sent to the process goes to the thread group leader when it waits
	 * for it, so SIGHUP reloads keys here instead of stopping libmilter. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* after the mask: the driver thread must not take the signals */
	if (drv_start(&g_conf, err, sizeof err) != 0) {
		fprintf(stderr, "mailtrust-milter: %s\n", err);
		return EXIT_RUNTIME;
	}
	pthread_t th;
	if (pthread_create(&th, NULL, milter_thread, NULL) != 0) {
		fprintf(stderr, "mailtrust-milter: cannot start the milter thread\n");
		return EXIT_RUNTIME;
	}
	syslog(LOG_INFO, "started on %s (authserv-id %s, %zu signing keys)", g_conf.socket,
	       g_conf.authserv_id, g_keys->n);
	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			keys_reload();
			continue;
		}
		smfi_stop();
		break;
	}
	/* the messages still being checked get a temporary failure, so that
	 * their threads (and libmilter) can end */
	drv_stop();
	void *rv = NULL;
	pthread_join(th, &rv);
	syslog(LOG_INFO, "stopped");
	return rv == NULL ? 0 : EXIT_RUNTIME;
}
