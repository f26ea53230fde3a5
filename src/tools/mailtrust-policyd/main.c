/*
 * mailtrust-policyd: an SPF policy service for Postfix (check_policy_service).
 * One process, one poll loop: the listening socket, every connection, and
 * the driver of mailtrust/run.h on which each request's SPF check runs, so
 * a slow domain holds up only its own connection.
 */
#include "policy.h"

#include <mailtrust/mailtrust.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

enum { EXIT_USAGE = 64, EXIT_UNAVAILABLE = 69, EXIT_SOFTWARE = 70, EXIT_CONFIG = 78 };

#define DEFAULT_SOCKET "inet:127.0.0.1:10045"
#define IN_CAP (PD_MAX_LINE + 2)
#define OUT_CAP 2048

typedef struct conn {
	int fd;                   /* -1 once closed (a check may still be running) */
	bool waiting;             /* a check of this connection is on the driver */
	bool eof;
	char in[IN_CAP];
	size_t inlen;
	char out[OUT_CAP];
	size_t outlen, outoff;
	pd_request req;
	mt_spf_check *chk;
	char last_instance[PD_NAME_CAP]; /* the message answered last */
	char last_action[OUT_CAP];
	unsigned long id;
} conn;

static struct {
	const char *socket;
	const char *user;
	unsigned mode;
	const char *resolver, *zone, *unbound_config;
	bool no_cache;
	unsigned timeout_s;
	const char *receiver;
	bool log_stderr;
	bool check_only;
	unsigned max_conns;
	pd_config pc;
} opt;

static volatile sig_atomic_t stopping;

static void logmsg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logmsg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (opt.log_stderr) {
		fputs("mailtrust-policyd: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(prio, fmt, ap);
	}
	va_end(ap);
}

static void usage(FILE *fp)
{
	fputs("Usage: mailtrust-policyd [options]\n"
	      "\n"
	      "SPF (RFC 7208) for Postfix through its policy delegation protocol\n"
	      "(smtpd_recipient_restrictions = ... check_policy_service ...).\n"
	      "\n"
	      "Options:\n"
	      "  -s, --socket SPEC       where to listen: unix:PATH (or an absolute PATH),\n"
	      "                          inet:ADDR:PORT (or ADDR:PORT; [ADDR] for IPv6);\n"
	      "                          default " DEFAULT_SOCKET "\n"
	      "  -m, --socket-mode MODE  octal mode of a Unix socket (default 0666)\n"
	      "  -u, --user USER         run as USER once the socket is open\n"
	      "      --resolver ADDR[@PORT]  forward DNS questions to this server\n"
	      "                          (default: the servers of /etc/resolv.conf)\n"
	      "      --unbound-config FILE  an unbound.conf(5) file for libunbound\n"
	      "      --zone FILE         answer from a zone file instead (tests)\n"
	      "      --no-cache          no cache of mailtrust's own in front of libunbound\n"
	      "  -t, --timeout SECONDS   DNS time for one check (default 10): then temperror\n"
	      "  -r, --reject-fail       fail: 550 5.7.23 (default: Received-SPF only)\n"
	      "      --reject-permerror  permerror: 550 5.7.24 (default: Received-SPF only)\n"
	      "      --temperror ACTION  defer (451 4.7.24, the default), defer_if_permit,\n"
	      "                          or accept (Received-SPF only)\n"
	      "      --trusted CIDR      never check clients in this network (repeatable)\n"
	      "      --check-localhost   check clients on 127.0.0.0/8 and ::1 too\n"
	      "      --receiver NAME     this host's name in Received-SPF (default: hostname)\n"
	      "      --max-connections N connections at once (default 1000)\n"
	      "  -l, --log-stderr        log to standard error instead of syslog (mail)\n"
	      "  -n, --check-config      check the options, open the resolver, and exit\n"
	      "  -h, --help              show this help and exit\n"
	      "  -V, --version           show the version and exit\n"
	      "\n"
	      "Clients that authenticated (sasl_username) are never checked.  pass,\n"
	      "neutral, none and softfail (and the results not rejected) get\n"
	      "PREPEND Received-SPF.  See mailtrust-policyd(8).\n"
	      "Exit status: 0 stopped by SIGTERM/SIGINT (or -n: configuration good),\n"
	      "64 usage error, 69 socket cannot be opened, 70 internal error,\n"
	      "78 configuration error (resolver, zone file, user).\n",
	      fp);
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Parse the socket spec and open it listening; -1 with a message. */
static int open_listener(const char *spec, bool check_only)
{
	int fd = -1;

	if (strncmp(spec, "unix:", 5) == 0 || spec[0] == '/') {
		const char *path = spec[0] == '/' ? spec : spec + 5;
		struct sockaddr_un sun;
		struct stat sb;

		if (path[0] == '\0' || strlen(path) >= sizeof sun.sun_path) {
			fprintf(stderr, "mailtrust-policyd: --socket: bad Unix socket path '%s'\n", path);
			return -2;
		}
		if (check_only)
			return 0;
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, path, strlen(path));
		/* a socket left by an earlier run; anything else is not ours to remove */
		if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
			unlink(path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
		    chmod(path, opt.mode) < 0 || listen(fd, SOMAXCONN) < 0 || set_nonblock(fd) < 0) {
			fprintf(stderr, "mailtrust-policyd: cannot listen on %s: %s\n", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		if (opt.user) {
			struct passwd *pw = getpwnam(opt.user);
			if (pw && chown(path, pw->pw_uid, pw->pw_gid) < 0) {
				fprintf(stderr, "mailtrust-policyd: chown %s: %s\n", path, strerror(errno));
				close(fd);
				return -1;
			}
		}
		return fd;
	}

	const char *hp = strncmp(spec, "inet:", 5) == 0 ? spec + 5 : spec;
	char host[256];
	const char *port;
	struct addrinfo hints, *ai = NULL;
	int one = 1, rc;

	if (hp[0] == '[') {
		const char *close_b = strchr(hp, ']');
		if (!close_b || close_b[1] != ':' || (size_t)(close_b - hp - 1) >= sizeof host)
			goto bad;
		memcpy(host, hp + 1, (size_t)(close_b - hp - 1));
		host[close_b - hp - 1] = '\0';
		port = close_b + 2;
	} else {
		const char *colon = strrchr(hp, ':');
		if (!colon || (size_t)(colon - hp) >= sizeof host || strchr(hp, ':') != colon)
			goto bad;
		memcpy(host, hp, (size_t)(colon - hp));
		host[colon - hp] = '\0';
		port = colon + 1;
	}
	if (!host[0] || !port[0] || strspn(port, "0123456789") != strlen(port) || atoi(port) < 1 ||
	    atoi(port) > 65535)
		goto bad;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		fprintf(stderr, "mailtrust-policyd: --socket: '%s' is not an address: %s\n", host,
		        gai_strerror(rc));
		return -2;
	}
	if (check_only) {
		freeaddrinfo(ai);
		return 0;
	}
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0 ||
	    set_nonblock(fd) < 0) {
		fprintf(stderr, "mailtrust-policyd: cannot listen on %s: %s\n", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
bad:
	fprintf(stderr, "mailtrust-policyd: --socket: '%s' is not unix:PATH, /PATH, inet:ADDR:PORT "
	        "or ADDR:PORT\n", spec);
	return -2;
}

static int open_resolver(mt_dns_zone **zonep, mt_dns_resolver **resp)
{
	mt_error err;
	mt_status st;

	memset(&err, 0, sizeof err);
	*zonep = NULL;
	*resp = NULL;
	if (opt.zone) {
		*zonep = mt_dns_zone_new();
		if (!*zonep)
			return EXIT_SOFTWARE;
		st = mt_dns_zone_load_file(*zonep, opt.zone, NULL, &err);
		if (st != MT_OK) {
			fprintf(stderr, "mailtrust-policyd: --zone: %s\n",
			        err.message[0] ? err.message : mt_strerror(st));
			return EXIT_CONFIG;
		}
		*resp = mt_dns_zone_resolver_new(*zonep);
		return *resp ? 0 : EXIT_SOFTWARE;
	}
	mt_dns_unbound_options uo;
	mt_dns_unbound_options_init(&uo);
	uo.forwarder = opt.resolver;
	uo.config_file = opt.unbound_config;
	st = mt_dns_unbound_resolver_new(&uo, resp, &err);
	if (st == MT_OK && !opt.no_cache) {
		mt_dns_cache_options co;
		mt_dns_resolver *inner = *resp;
		mt_dns_cache_options_init(&co);
		co.own_inner = true;
		*resp = NULL;
		st = mt_dns_cache_resolver_new(inner, &co, resp, &err);
	}
	if (st != MT_OK) {
		fprintf(stderr, "mailtrust-policyd: cannot set up the resolver: %s\n",
		        err.message[0] ? err.message : mt_strerror(st));
		return st == MT_ENOMEM ? EXIT_SOFTWARE : EXIT_CONFIG;
	}
	return 0;
}

static int drop_privileges(void)
{
	struct passwd *pw;

	if (!opt.user)
		return 0;
	pw = getpwnam(opt.user);
	if (!pw) {
		fprintf(stderr, "mailtrust-policyd: --user: no user '%s'\n", opt.user);
		return EXIT_CONFIG;
	}
	if (getuid() != 0 && getuid() == pw->pw_uid)
		return 0;
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		goto fail;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		goto fail;
	if (setuid(0) == 0) {
		fprintf(stderr, "mailtrust-policyd: still root after switching to %s\n", opt.user);
		return EXIT_SOFTWARE;
	}
	return 0;
fail:
	fprintf(stderr, "mailtrust-policyd: cannot switch to user %s: %s\n", opt.user, strerror(errno));
	return EXIT_CONFIG;
}

/* ---- connections ------------------------------------------------------- */

static conn **conns;
static size_t n_conns;      /* connections held, open or waiting for a check */
static unsigned long next_id;
static mt_run *run;
static mt_spf_options spf_opts;

static void conn_free(conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	mt_spf_check_free(c->chk);
	free(c);
}

static void conn_close(conn *c, const char *why)
{
	if (why)
		logmsg(LOG_WARNING, "connection %lu closed: %s", c->id, why);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static void conn_reply(conn *c, const char *action)
{
	int n = snprintf(c->out + c->outlen, sizeof c->out - c->outlen, "action=%s\n\n", action);

	if (n < 0 || (size_t)n >= sizeof c->out - c->outlen) {
		conn_close(c, "answer too long");
		return;
	}
	c->outlen += (size_t)n;
	snprintf(c->last_action, sizeof c->last_action, "%s", action);
	snprintf(c->last_instance, sizeof c->last_instance, "%s", c->req.instance);
}

static const char *show(const char *s)
{
	return s && s[0] ? s : "<>";
}

static void finish_check(conn *c)
{
	const mt_spf_outcome *oc = mt_spf_check_outcome(c->chk);
	char *rspf = NULL;
	char action[OUT_CAP - 16];
	bool rejects;

	c->waiting = false;
	if (c->fd < 0)
		return;
	if (!oc || mt_spf_received_spf(c->chk, &rspf) != MT_OK) {
		logmsg(LOG_ERR, "connection %lu: no outcome (out of memory?): answering DUNNO", c->id);
		conn_reply(c, "DUNNO");
		pd_request_reset(&c->req);
		return;
	}
	pd_action(&opt.pc, oc, rspf, action, sizeof action, &rejects);
	mt_free(rspf);
	logmsg(LOG_INFO, "client=%s helo=%s sender=%s identity=%s domain=%s result=%s%s%s action=%s",
	       c->req.client_address, show(c->req.helo_name), show(c->req.sender),
	       oc->identity == MT_SPF_HELO ? "helo" : "mailfrom", show(oc->domain),
	       mt_spf_result_name(oc->result), oc->problem ? " problem=" : "",
	       oc->problem ? oc->problem : "", rejects ? action : "PREPEND Received-SPF");
	conn_reply(c, action);
	pd_request_reset(&c->req);
}

/* A complete request: answer it now or start its check. */
static void handle_request(conn *c)
{
	pd_request *r = &c->req;
	const char *skip;
	mt_spf_request sreq;
	mt_error err;
	mt_status st;

	if (!pd_request_usable(r)) {
		conn_close(c, r->why);
		return;
	}
	if ((skip = pd_skip_reason(&opt.pc, r)) != NULL) {
		logmsg(LOG_INFO, "client=%s sender=%s not checked: %s", r->client_address, show(r->sender),
		       skip);
		conn_reply(c, "DUNNO");
		return;
	}
	/* The same message again (another recipient): its header is already
	 * prepended; a refusal is repeated. */
	if (r->instance[0] && strcmp(r->instance, c->last_instance) == 0) {
		char again[OUT_CAP];
		snprintf(again, sizeof again, "%s",
		         strncmp(c->last_action, "PREPEND ", 8) == 0 ? "DUNNO" : c->last_action);
		conn_reply(c, again);
		return;
	}
	if (!c->chk && mt_spf_check_new(&spf_opts, &c->chk, NULL) != MT_OK) {
		conn_close(c, "out of memory");
		return;
	}
	memset(&sreq, 0, sizeof sreq);
	sreq.ip = r->client_address;
	sreq.helo = r->helo_name[0] ? r->helo_name : NULL;
	/* RFC 7208 2.3, 2.4: with the null reverse-path the HELO identity is
	 * what is checked; otherwise MAIL FROM alone. */
	sreq.sender = r->sender;
	sreq.identity = r->sender[0] ? MT_SPF_MAILFROM : MT_SPF_HELO;
	memset(&err, 0, sizeof err);
	st = mt_spf_check_start(c->chk, &sreq, &err);
	if (st != MT_OK) {
		logmsg(LOG_WARNING, "client=%s: not checked: %s", r->client_address,
		       err.message[0] ? err.message : mt_strerror(st));
		conn_reply(c, "DUNNO");
		return;
	}
	st = mt_run_add(run, mt_spf_check_job_ops(), c->chk, 0, c);
	if (st != MT_OK) {
		logmsg(LOG_ERR, "cannot start a check: %s", mt_strerror(st));
		conn_reply(c, "DEFER_IF_PERMIT 4.7.24 SPF check not possible now");
		return;
	}
	c->waiting = true;
}

/* Take the complete lines held; stop at a request to check. */
static void conn_parse(conn *c)
{
	size_t off = 0;

	while (c->fd >= 0 && !c->waiting && c->outlen == 0) {
		char *nl = memchr(c->in + off, '\n', c->inlen - off);
		if (!nl) {
			if (c->inlen - off > PD_MAX_LINE + 1)
				conn_close(c, "line too long");
			break;
		}
		size_t len = (size_t)(nl - (c->in + off));
		pd_line_result lr = pd_request_line(&c->req, c->in + off, len);
		off += len + 1;
		if (lr == PD_LINE_BAD) {
			conn_close(c, c->req.why);
		} else if (lr == PD_LINE_END) {
			handle_request(c);
			if (!c->waiting)
				pd_request_reset(&c->req);
		}
	}
	if (c->fd >= 0 && off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
	if (c->fd >= 0 && c->eof && !c->waiting && c->outlen == 0)
		conn_close(c, c->inlen || c->req.attrs ? "connection lost in a request" : NULL);
}

static void conn_read(conn *c)
{
	ssize_t n;

	if (c->inlen == sizeof c->in) {
		conn_parse(c);
		return;
	}
	n = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		conn_close(c, strerror(errno));
		return;
	}
	if (n == 0)
		c->eof = true;
	c->inlen += (size_t)n;
	conn_parse(c);
}

static void conn_write(conn *c)
{
	while (c->fd >= 0 && c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			conn_close(c, strerror(errno));
			return;
		}
		c->outoff += (size_t)n;
	}
	c->outlen = c->outoff = 0;
	conn_parse(c);
}

static void accept_conns(int lfd)
{
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				logmsg(LOG_ERR, "accept: %s", strerror(errno));
			return;
		}
		if (n_conns >= opt.max_conns || set_nonblock(fd) < 0 || !(c = calloc(1, sizeof *c))) {
			logmsg(LOG_WARNING, "connection refused: %zu held (--max-connections %u)", n_conns,
			       opt.max_conns);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->id = ++next_id;
		conns[n_conns++] = c;
	}
}

static int serve(int lfd)
{
	struct pollfd *pfd = calloc(opt.max_conns + 2, sizeof *pfd);
	conn **polled = calloc(opt.max_conns + 2, sizeof *polled);
	int rc = 0;

	if (!pfd || !polled) {
		free(pfd);
		free(polled);
		return EXIT_SOFTWARE;
	}
	while (!stopping) {
		size_t np = 0;
		int timeout, rfd;
		void *job, *user;

		pfd[np].fd = lfd;
		pfd[np].events = n_conns < opt.max_conns ? POLLIN : 0;
		polled[np++] = NULL;
		rfd = mt_run_fd(run);
		if (rfd >= 0) {
			pfd[np].fd = rfd;
			pfd[np].events = POLLIN;
			polled[np++] = NULL;
		}
		for (size_t i = 0; i < n_conns; i++) {
			conn *c = conns[i];
			/* a client that has gone, with nothing to send: not polled
			 * (POLLHUP would wake poll at once, again and again, until
			 * its check ends; finish_check closes it then) */
			if (c->fd < 0 || (c->eof && !c->outlen))
				continue;
			pfd[np].fd = c->fd;
			pfd[np].events = (short)((c->outlen ? POLLOUT : 0) |
			                         (!c->eof && c->inlen < sizeof c->in ? POLLIN : 0));
			polled[np++] = c;
		}
		timeout = mt_run_jobs(run) > 0 ? mt_run_timeout(run) : -1;
		if (poll(pfd, np, timeout) < 0 && errno != EINTR) {
			logmsg(LOG_ERR, "poll: %s", strerror(errno));
			rc = EXIT_SOFTWARE;
			break;
		}
		if (stopping)
			break;
		if (mt_run_jobs(run) > 0 && mt_run_process(run) != MT_OK)
			logmsg(LOG_ERR, "the DNS resolver failed; checks in flight end in temperror");
		while (mt_run_next(run, &job, &user))
			finish_check(user);
		for (size_t i = 0; i < np; i++) {
			conn *c = polled[i];
			if (!c || c->fd < 0 || !pfd[i].revents)
				continue;
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				conn_read(c);
			if (c->fd >= 0 && (pfd[i].revents & POLLOUT))
				conn_write(c);
		}
		/* answers made without a check (or by finish_check) go out now */
		for (size_t i = 0; i < n_conns; i++)
			if (conns[i]->fd >= 0 && conns[i]->outlen)
				conn_write(conns[i]);
		if (pfd[0].revents & POLLIN)
			accept_conns(lfd);
		/* drop closed connections whose check is not running */
		for (size_t i = 0; i < n_conns;) {
			if (conns[i]->fd < 0 && !conns[i]->waiting) {
				conn_free(conns[i]);
				conns[i] = conns[--n_conns];
			} else {
				i++;
			}
		}
	}
	free(pfd);
	free(polled);
	return rc;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out, int base)
{
	char *end;

	if (!s[0] || s[0] == '-' || s[0] == '+')
		return false;
	errno = 0;
	*out = strtoul(s, &end, base);
	return !*end && errno == 0 && *out <= max;
}

int main(int argc, char **argv)
{
	enum { O_RESOLVER = 256, O_ZONE, O_UBCONF, O_NOCACHE, O_REJPERM, O_TEMP, O_TRUSTED,
	       O_LOCAL, O_RECEIVER, O_MAXCONN };
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "socket-mode", required_argument, NULL, 'm' },
		{ "user", required_argument, NULL, 'u' },
		{ "resolver", required_argument, NULL, O_RESOLVER },
		{ "zone", required_argument, NULL, O_ZONE },
		{ "unbound-config", required_argument, NULL, O_UBCONF },
		{ "no-cache", no_argument, NULL, O_NOCACHE },
		{ "timeout", required_argument, NULL, 't' },
		{ "reject-fail", no_argument, NULL, 'r' },
		{ "reject-permerror", no_argument, NULL, O_REJPERM },
		{ "temperror", required_argument, NULL, O_TEMP },
		{ "trusted", required_argument, NULL, O_TRUSTED },
		{ "check-localhost", no_argument, NULL, O_LOCAL },
		{ "receiver", required_argument, NULL, O_RECEIVER },
		{ "max-connections", required_argument, NULL, O_MAXCONN },
		{ "log-stderr", no_argument, NULL, 'l' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char host[256];
	mt_dns_zone *zone = NULL;
	mt_dns_resolver *res = NULL;
	mt_run_options ro;
	mt_error err;
	unsigned long v;
	int c, rc = 0, lfd = -1;

	opt.socket = DEFAULT_SOCKET;
	opt.mode = 0666;
	opt.timeout_s = 10;
	opt.max_conns = 1000;
	pd_config_init(&opt.pc);
	while ((c = getopt_long(argc, argv, "s:m:u:t:rlnhV", longopts, NULL)) != -1) {
		switch (c) {
		case 's': opt.socket = optarg; break;
		case 'm':
			if (!parse_uint(optarg, 0777, &v, 8)) {
				fprintf(stderr, "mailtrust-policyd: --socket-mode: '%s' is not an octal mode\n", optarg);
				return EXIT_USAGE;
			}
			opt.mode = (unsigned)v;
			break;
		case 'u': opt.user = optarg; break;
		case O_RESOLVER: opt.resolver = optarg; break;
		case O_ZONE: opt.zone = optarg; break;
		case O_UBCONF: opt.unbound_config = optarg; break;
		case O_NOCACHE: opt.no_cache = true; break;
		case 't':
			if (!parse_uint(optarg, 3600, &v, 10) || v == 0) {
				fprintf(stderr, "mailtrust-policyd: --timeout: '%s' is not 1 to 3600 seconds\n", optarg);
				return EXIT_USAGE;
			}
			opt.timeout_s = (unsigned)v;
			break;
		case 'r': opt.pc.reject_fail = true; break;
		case O_REJPERM: opt.pc.reject_permerror = true; break;
		case O_TEMP:
			if (strcmp(optarg, "defer") == 0)
				opt.pc.temperror = PD_TEMP_DEFER;
			else if (strcmp(optarg, "defer_if_permit") == 0)
				opt.pc.temperror = PD_TEMP_DEFER_IF_PERMIT;
			else if (strcmp(optarg, "accept") == 0)
				opt.pc.temperror = PD_TEMP_ACCEPT;
			else {
				fprintf(stderr, "mailtrust-policyd: --temperror: '%s' is not defer, "
				        "defer_if_permit or accept\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_TRUSTED:
			if (!pd_config_add_trusted(&opt.pc, optarg)) {
				fprintf(stderr, "mailtrust-policyd: --trusted: '%s' is not ADDR or ADDR/PREFIX "
				        "(or more than 64 networks)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_LOCAL: opt.pc.skip_localhost = false; break;
		case O_RECEIVER: opt.receiver = optarg; break;
		case O_MAXCONN:
			if (!parse_uint(optarg, 100000, &v, 10) || v == 0) {
				fprintf(stderr, "mailtrust-policyd: --max-connections: '%s' is not 1 to 100000\n",
				        optarg);
				return EXIT_USAGE;
			}
			opt.max_conns = (unsigned)v;
			break;
		case 'l': opt.log_stderr = true; break;
		case 'n': opt.check_only = true; break;
		case 'h': usage(stdout); return 0;
		case 'V':
			printf("mailtrust-policyd %s (libmailtrust %s)\n", MT_VERSION_STRING, mt_version());
			return 0;
		default:
			fputs("Run 'mailtrust-policyd --help' for the options.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mailtrust-policyd: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (opt.zone && (opt.resolver || opt.unbound_config)) {
		fputs("mailtrust-policyd: --zone excludes --resolver and --unbound-config\n", stderr);
		return EXIT_USAGE;
	}
	if (opt.user && !getpwnam(opt.user)) {
		fprintf(stderr, "mailtrust-policyd: --user: no user '%s'\n", opt.user);
		return EXIT_CONFIG;
	}
	if (!opt.receiver) {
		if (gethostname(host, sizeof host) != 0)
			snprintf(host, sizeof host, "unknown");
		host[sizeof host - 1] = '\0';
		opt.receiver = host;
	}
	mt_spf_options_init(&spf_opts);
	spf_opts.timeout_ms = opt.timeout_s * 1000;
	spf_opts.receiver = opt.receiver;
	{
		mt_spf_check *probe = NULL;
		memset(&err, 0, sizeof err);
		if (mt_spf_check_new(&spf_opts, &probe, &err) != MT_OK) {
			fprintf(stderr, "mailtrust-policyd: %s\n", err.message[0] ? err.message : "bad option");
			return EXIT_USAGE;
		}
		mt_spf_check_free(probe);
	}
	if (opt.check_only) {
		lfd = open_listener(opt.socket, true);
		if (lfd < 0)
			return EXIT_USAGE;
		rc = open_resolver(&zone, &res);
		mt_dns_resolver_free(res);
		mt_dns_zone_free(zone);
		if (rc == 0)
			printf("mailtrust-policyd: configuration ok (socket %s)\n", opt.socket);
		return rc;
	}

	lfd = open_listener(opt.socket, false);
	if (lfd < 0)
		return lfd == -2 ? EXIT_USAGE : EXIT_UNAVAILABLE;
	if ((rc = drop_privileges()) != 0)
		goto out;
	if (!opt.log_stderr)
		openlog("mailtrust-policyd", LOG_PID, LOG_MAIL);
	if ((rc = open_resolver(&zone, &res)) != 0)
		goto out;
	mt_run_options_init(&ro);
	ro.max_jobs = opt.max_conns * 2;
	memset(&err, 0, sizeof err);
	if (mt_run_new(res, &ro, &run, &err) != MT_OK || !(conns = calloc(opt.max_conns, sizeof *conns))) {
		fprintf(stderr, "mailtrust-policyd: cannot start: %s\n", err.message[0] ? err.message : "out of memory");
		rc = EXIT_SOFTWARE;
		goto out;
	}
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
	logmsg(LOG_INFO, "listening on %s (mailtrust %s)", opt.socket, mt_version());
	rc = serve(lfd);
	logmsg(LOG_INFO, "stopping: %zu connections open", n_conns);
out:
	mt_run_free(run);
	for (size_t i = 0; i < n_conns; i++)
		conn_free(conns[i]);
	free(conns);
	mt_dns_resolver_free(res);
	mt_dns_zone_free(zone);
	if (lfd >= 0)
		close(lfd);
	return rc;
}
