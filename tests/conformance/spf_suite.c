/*
 * spf_suite: run an openspf YAML conformance suite (rfc7208-tests.yml,
 * rfc4408-tests.yml) through the in-memory DNS zone and the SPF check API.
 *
 *   spf_suite FILE.yml [--expect-diff LISTFILE] [--only NAME] [-v]
 *   spf_suite FILE.yml --emit-zone DIR
 *   spf_suite FILE.yml --resolver ADDR@PORT [--scenario N] [--skip LISTFILE] [-v]
 *
 * FILE.yml may be gzip-compressed.  Instead of FILE.yml, --find NAME looks
 * the suite up by file name (rfc7208-tests.yml): in $MT_CONFORMANCE_DIR, the
 * CMake option MT_CONFORMANCE_DIR, ../shared/conformance beside the source
 * tree, then Debian's python3-spf (see find_suite()).
 *
 * The suite is a stream of YAML documents (scenarios), each with a
 * description, tests and zonedata.  The zone data conventions are those of
 * the reference driver (pyspf's test/testspf.py):
 *  - each name maps to a list of items: the string TIMEOUT or TYPE: value;
 *  - SPF records are also served as TXT records unless the name has any
 *    TXT item (even TXT: NONE); those generated TXT records come last;
 *  - a value of NONE adds no record;
 *  - a query of type T at a name times out when no record of type T was
 *    listed before the TIMEOUT item; items after TIMEOUT are never served.
 *
 * Every case is checked with identity MAILFROM and the default explanation
 * "DEFAULT" (the reference driver calls set_default_explanation('DEFAULT')
 * and the suites expect that literal text).
 *
 * Exit status: 0 when every case passed (cases listed in the expected
 * differences file must fail, and are counted as skipped), 1 when some
 * case failed, 2 on a usage, file or setup error.
 *
 * --emit-zone writes one RFC 1035 master file per scenario
 * (DIR/scenario-NN.zone, absolute names) with "; TIMEOUT name TYPE"
 * comment lines for the timeouts (TYPE ALL: every type), then loads each
 * file back with mt_dns_zone_load_file(), re-applies the TIMEOUT comments
 * as faults and checks that every scenario name answers every type the
 * same way as the zone built directly.
 *
 * --resolver asks a real server (a fresh libunbound resolver per scenario,
 * forwarding to ADDR@PORT) instead of the in-memory zone; the server must
 * serve the scenario's zone, so --scenario N runs only scenario N.  Cases
 * named in the --skip list (same format as --expect-diff) are not run and
 * are counted as skipped with the list's reason.
 */
#include <mailtrust/dns.h>
#include <mailtrust/spf.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>
#include <zlib.h>

#define ZONE_TTL 3600
#define MAX_RESULTS 8
#define MAX_FAULTS 16

/* ---- Small helpers ------------------------------------------------------ */

static void die_nomem(void)
{
	fputs("spf_suite: out of memory\n", stderr);
	exit(2);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		die_nomem();
	return p;
}

static void *xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		die_nomem();
	p = realloc(p, (n * size) != 0 ? n * size : 1);
	if (p == NULL)
		die_nomem();
	return p;
}

static char *xmemdup(const void *s, size_t len)
{
	char *p = xcalloc(len + 1, 1);
	if (len)
		memcpy(p, s, len);
	return p;
}

static char *xstrdup(const char *s)
{
	return xmemdup(s, strlen(s));
}

/* ---- The suite in memory ------------------------------------------------- */

typedef struct zrec {
	uint16_t type;
	uint16_t pref;     /* MX */
	char *target;      /* A/AAAA text, MX exchange, PTR/CNAME target */
	size_t nstr;       /* TXT/SPF character-strings */
	char **str;
	size_t *len;
} zrec;

typedef struct zname {
	char *name;        /* as written, without a trailing dot */
	zrec *recs;        /* records served, in order */
	size_t nrecs;
	size_t nfaults;
	uint16_t faults[MAX_FAULTS]; /* types that time out; 0 = every type */
} zname;

typedef struct tcase {
	char *name;
	char *helo;
	char *host;
	char *mailfrom;
	char *explanation; /* NULL: not checked */
	size_t nresults;
	char *results[MAX_RESULTS];
} tcase;

typedef struct scenario {
	unsigned index;    /* 1-based position in the file */
	char *description;
	zname *names;
	size_t nnames;
	tcase *tests;
	size_t ntests;
} scenario;

typedef struct suite {
	scenario *sc;
	size_t nsc;
} suite;

static void zrec_clear(zrec *r)
{
	free(r->target);
	for (size_t i = 0; i < r->nstr; i++)
		free(r->str[i]);
	free(r->str);
	free(r->len);
}

static void scenario_clear(scenario *s)
{
	for (size_t i = 0; i < s->nnames; i++) {
		for (size_t j = 0; j < s->names[i].nrecs; j++)
			zrec_clear(&s->names[i].recs[j]);
		free(s->names[i].recs);
		free(s->names[i].name);
	}
	free(s->names);
	for (size_t i = 0; i < s->ntests; i++) {
		tcase *t = &s->tests[i];
		free(t->name);
		free(t->helo);
		free(t->host);
		free(t->mailfrom);
		free(t->explanation);
		for (size_t j = 0; j < t->nresults; j++)
			free(t->results[j]);
	}
	free(s->tests);
	free(s->description);
}

static void suite_clear(suite *su)
{
	for (size_t i = 0; i < su->nsc; i++)
		scenario_clear(&su->sc[i]);
	free(su->sc);
	su->sc = NULL;
	su->nsc = 0;
}

/* ---- YAML reading ------------------------------------------------------ */

typedef struct loader {
	const char *file;
	unsigned index;
	char err[512];
} loader;

static bool load_fail(loader *ld, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool load_fail(loader *ld, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n)
		snprintf(ld->err, sizeof ld->err, "%s:%lu: scenario %u: %s", ld->file,
		         (unsigned long)n->start_mark.line + 1, ld->index, msg);
	else
		snprintf(ld->err, sizeof ld->err, "%s: scenario %u: %s", ld->file, ld->index, msg);
	return false;
}

static yaml_node_t *ynode(yaml_document_t *doc, int id)
{
	return yaml_document_get_node(doc, id);
}

static bool is_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE;
}

static bool scalar_eq(const yaml_node_t *n, const char *s)
{
	size_t len = strlen(s);
	return is_scalar(n) && n->data.scalar.length == len &&
	       memcmp(n->data.scalar.value, s, len) == 0;
}

static char *scalar_dup(const yaml_node_t *n)
{
	return xmemdup(n->data.scalar.value, n->data.scalar.length);
}

static yaml_node_t *map_get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
		if (scalar_eq(ynode(doc, p->key), key))
			return ynode(doc, p->value);
	return NULL;
}

/* An optional string field; "" when absent. */
static bool get_string(loader *ld, yaml_document_t *doc, const yaml_node_t *map,
                       const char *key, char **out)
{
	yaml_node_t *v = map_get(doc, map, key);
	if (v == NULL) {
		*out = xstrdup("");
		return true;
	}
	if (!is_scalar(v))
		return load_fail(ld, v, "%s is not a string", key);
	*out = scalar_dup(v);
	return true;
}

static bool load_test(loader *ld, yaml_document_t *doc, const yaml_node_t *key,
                      const yaml_node_t *val, tcase *t)
{
	if (!is_scalar(key) || val == NULL || val->type != YAML_MAPPING_NODE)
		return load_fail(ld, key, "a test is not a name: mapping pair");
	t->name = scalar_dup(key);
	if (!get_string(ld, doc, val, "helo", &t->helo) ||
	    !get_string(ld, doc, val, "host", &t->host) ||
	    !get_string(ld, doc, val, "mailfrom", &t->mailfrom))
		return false;
	yaml_node_t *ex = map_get(doc, val, "explanation");
	if (ex) {
		if (!is_scalar(ex))
			return load_fail(ld, ex, "%s: explanation is not a string", t->name);
		t->explanation = scalar_dup(ex);
	}
	yaml_node_t *res = map_get(doc, val, "result");
	if (is_scalar(res)) {
		t->results[t->nresults++] = scalar_dup(res);
	} else if (res && res->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = res->data.sequence.items.start;
		     it < res->data.sequence.items.top; it++) {
			yaml_node_t *r = ynode(doc, *it);
			if (!is_scalar(r) || t->nresults == MAX_RESULTS)
				return load_fail(ld, res, "%s: bad result list", t->name);
			t->results[t->nresults++] = scalar_dup(r);
		}
	}
	if (t->nresults == 0)
		return load_fail(ld, val, "%s: no result", t->name);
	return true;
}

static const char *strip_dot(char *s)
{
	size_t len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		s[len - 1] = '\0';
	return s;
}

static void add_fault(zname *zn, uint16_t type)
{
	for (size_t i = 0; i < zn->nfaults; i++)
		if (zn->faults[i] == type)
			return;
	if (zn->nfaults < MAX_FAULTS)
		zn->faults[zn->nfaults++] = type;
}

static zrec *push_rec(zname *zn, uint16_t type)
{
	zn->recs = xreallocarray(zn->recs, zn->nrecs + 1, sizeof *zn->recs);
	zrec *r = &zn->recs[zn->nrecs++];
	memset(r, 0, sizeof *r);
	r->type = type;
	return r;
}

static bool txt_strings(loader *ld, yaml_document_t *doc, const yaml_node_t *v, zrec *r)
{
	const yaml_node_t *one[1] = { v };
	size_t n = 1;
	if (v->type == YAML_SEQUENCE_NODE)
		n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	r->str = xcalloc(n, sizeof *r->str);
	r->len = xcalloc(n, sizeof *r->len);
	for (size_t i = 0; i < n; i++) {
		const yaml_node_t *s = v->type == YAML_SEQUENCE_NODE
		                       ? ynode(doc, v->data.sequence.items.start[i]) : one[0];
		if (!is_scalar(s))
			return load_fail(ld, v, "TXT/SPF value is not a string or list of strings");
		if (s->data.scalar.length > 255)
			return load_fail(ld, s, "character-string longer than 255 octets");
		r->str[i] = scalar_dup(s);
		r->len[i] = s->data.scalar.length;
		r->nstr++;
	}
	return true;
}

static bool load_name(loader *ld, yaml_document_t *doc, const yaml_node_t *key,
                      const yaml_node_t *val, zname *zn)
{
	static const uint16_t known[] = { MT_DNS_A, MT_DNS_NS, MT_DNS_CNAME, MT_DNS_SOA,
	                                  MT_DNS_PTR, MT_DNS_MX, MT_DNS_TXT, MT_DNS_AAAA,
	                                  MT_DNS_SPF };
	bool seen[256] = { false };
	bool any = false, timeout = false, has_txt = false;
	size_t first_spf = SIZE_MAX;

	if (!is_scalar(key) || val == NULL || val->type != YAML_SEQUENCE_NODE)
		return load_fail(ld, key, "zonedata entry is not a name: list pair");
	zn->name = scalar_dup(key);
	strip_dot(zn->name);

	/* Any TXT item, even TXT: NONE and even after TIMEOUT, stops generation. */
	for (yaml_node_item_t *it = val->data.sequence.items.start; it < val->data.sequence.items.top; it++) {
		yaml_node_t *item = ynode(doc, *it);
		if (item && item->type == YAML_MAPPING_NODE && map_get(doc, item, "TXT"))
			has_txt = true;
	}

	for (yaml_node_item_t *it = val->data.sequence.items.start; it < val->data.sequence.items.top; it++) {
		yaml_node_t *item = ynode(doc, *it);
		if (scalar_eq(item, "TIMEOUT")) {
			timeout = true;
			break; /* nothing listed after TIMEOUT is ever served */
		}
		if (item == NULL || item->type != YAML_MAPPING_NODE ||
		    item->data.mapping.pairs.top - item->data.mapping.pairs.start != 1)
			return load_fail(ld, item, "%s: item is neither TIMEOUT nor a TYPE: value map",
			                 zn->name);
		yaml_node_t *tk = ynode(doc, item->data.mapping.pairs.start->key);
		yaml_node_t *tv = ynode(doc, item->data.mapping.pairs.start->value);
		if (!is_scalar(tk) || tv == NULL)
			return load_fail(ld, item, "%s: malformed item", zn->name);
		uint16_t type = mt_dns_type_from_name((const char *)tk->data.scalar.value,
		                                      tk->data.scalar.length);
		if (type != MT_DNS_A && type != MT_DNS_AAAA && type != MT_DNS_MX &&
		    type != MT_DNS_PTR && type != MT_DNS_CNAME && type != MT_DNS_TXT &&
		    type != MT_DNS_SPF)
			return load_fail(ld, item, "%s: unsupported record type %.*s", zn->name,
			                 (int)tk->data.scalar.length, (const char *)tk->data.scalar.value);
		if (scalar_eq(tv, "NONE"))
			continue;
		zrec *r = push_rec(zn, type);
		if (type == MT_DNS_TXT || type == MT_DNS_SPF) {
			if (!txt_strings(ld, doc, tv, r))
				return false;
			if (type == MT_DNS_SPF && first_spf == SIZE_MAX)
				first_spf = zn->nrecs - 1;
		} else if (type == MT_DNS_MX) {
			yaml_node_t *p = NULL, *x = NULL;
			if (tv->type == YAML_SEQUENCE_NODE &&
			    tv->data.sequence.items.top - tv->data.sequence.items.start == 2) {
				p = ynode(doc, tv->data.sequence.items.start[0]);
				x = ynode(doc, tv->data.sequence.items.start[1]);
			}
			if (!is_scalar(p) || !is_scalar(x))
				return load_fail(ld, tv, "%s: MX value is not [pref, name]", zn->name);
			char *ps = scalar_dup(p), *end = NULL;
			long pref = strtol(ps, &end, 10);
			bool bad = *ps == '\0' || *end != '\0' || pref < 0 || pref > 65535;
			free(ps);
			if (bad)
				return load_fail(ld, p, "%s: bad MX preference", zn->name);
			r->pref = (uint16_t)pref;
			r->target = scalar_dup(x);
			strip_dot(r->target);
		} else {
			if (!is_scalar(tv))
				return load_fail(ld, tv, "%s: value is not a string", zn->name);
			r->target = scalar_dup(tv);
			if (type == MT_DNS_PTR || type == MT_DNS_CNAME)
				strip_dot(r->target);
		}
		seen[type & 0xff] = true;
		any = true;
	}

	/* SPF records served as TXT too, after everything listed. */
	if (!timeout && !has_txt && first_spf != SIZE_MAX) {
		size_t n = zn->nrecs;
		for (size_t i = first_spf; i < n; i++) {
			if (zn->recs[i].type != MT_DNS_SPF)
				continue;
			zrec *src = &zn->recs[i];
			size_t nstr = src->nstr;
			char **strs = src->str;
			size_t *lens = src->len;
			zrec *r = push_rec(zn, MT_DNS_TXT); /* may move zn->recs */
			r->str = xcalloc(nstr, sizeof *r->str);
			r->len = xcalloc(nstr, sizeof *r->len);
			for (size_t j = 0; j < nstr; j++) {
				r->str[j] = xmemdup(strs[j], lens[j]);
				r->len[j] = lens[j];
			}
			r->nstr = nstr;
		}
	}

	/* A type listed before TIMEOUT answers; every other type times out. */
	if (timeout && !any) {
		add_fault(zn, 0);
	} else if (timeout) {
		for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
			if (!seen[known[i] & 0xff])
				add_fault(zn, known[i]);
	}
	return true;
}

static bool load_scenario(loader *ld, yaml_document_t *doc, yaml_node_t *root, scenario *s)
{
	if (root->type != YAML_MAPPING_NODE)
		return load_fail(ld, root, "document is not a mapping");
	yaml_node_t *d = map_get(doc, root, "description");
	s->description = is_scalar(d) ? scalar_dup(d) : xstrdup("(no description)");

	yaml_node_t *tests = map_get(doc, root, "tests");
	if (tests == NULL || tests->type != YAML_MAPPING_NODE)
		return load_fail(ld, root, "no tests mapping");
	size_t n = (size_t)(tests->data.mapping.pairs.top - tests->data.mapping.pairs.start);
	s->tests = xcalloc(n, sizeof *s->tests);
	for (size_t i = 0; i < n; i++) {
		yaml_node_pair_t *p = &tests->data.mapping.pairs.start[i];
		s->ntests++;
		if (!load_test(ld, doc, ynode(doc, p->key), ynode(doc, p->value), &s->tests[i]))
			return false;
	}

	yaml_node_t *zd = map_get(doc, root, "zonedata");
	if (zd == NULL)
		return true;
	if (zd->type != YAML_MAPPING_NODE)
		return load_fail(ld, zd, "zonedata is not a mapping");
	n = (size_t)(zd->data.mapping.pairs.top - zd->data.mapping.pairs.start);
	s->names = xcalloc(n, sizeof *s->names);
	for (size_t i = 0; i < n; i++) {
		yaml_node_pair_t *p = &zd->data.mapping.pairs.start[i];
		s->nnames++;
		if (!load_name(ld, doc, ynode(doc, p->key), ynode(doc, p->value), &s->names[i]))
			return false;
	}
	return true;
}

/* ---- Finding and reading the suite --------------------------------------- */

/* The suites are about 100 KB; anything this large is not one. */
#define SUITE_MAX ((size_t)16 << 20)
#define DEBIAN_SUITE_DIR "/usr/share/doc/python3-spf"

/* Reads the whole file at path.  zlib inflates a gzip file (Debian ships the
 * suites as .yml.gz) and passes any other file through unchanged. */
static bool read_suite(const char *path, unsigned char **out, size_t *outlen, char *err,
                       size_t errcap)
{
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;
	bool ok = false;
	errno = 0;
	gzFile g = gzopen(path, "rb");
	if (g == NULL) {
		snprintf(err, errcap, "cannot open suite %s: %s", path,
		         errno ? strerror(errno) : "out of memory");
		return false;
	}
	for (;;) {
		if (len == cap) {
			if (cap == SUITE_MAX) {
				snprintf(err, errcap, "suite %s: over %zu MiB (after gunzip); not an SPF "
				         "suite", path, SUITE_MAX >> 20);
				goto out;
			}
			cap = cap ? (cap * 2 < SUITE_MAX ? cap * 2 : SUITE_MAX) : (size_t)1 << 17;
			buf = xreallocarray(buf, cap, 1);
		}
		int n = gzread(g, buf + len, (unsigned)(cap - len));
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	/* A truncated .gz ends in a short read, with the error kept here. */
	int zerr = Z_OK;
	const char *msg = gzerror(g, &zerr);
	if (zerr != Z_OK) {
		snprintf(err, errcap, "cannot read suite %s: %s", path,
		         zerr == Z_ERRNO ? strerror(errno) : msg);
		goto out;
	}
	ok = true;
out:
	gzclose(g);
	if (!ok) {
		free(buf);
		return false;
	}
	*out = buf;
	*outlen = len;
	return true;
}

/* Sets path to dir/name or, failing that, dir/name.gz when either is a
 * regular file. */
static bool suite_in(const char *dir, const char *name, char *path, size_t cap)
{
	static const char *const ext[] = { "", ".gz" };
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		struct stat st;
		int n = snprintf(path, cap, "%s/%s%s", dir, name, ext[i]);
		if (n > 0 && (size_t)n < cap && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			return true;
	}
	return false;
}

/* --find NAME: the first of
 *  1. $MT_CONFORMANCE_DIR (the environment; when set, it must hold the suite),
 *  2. the CMake option MT_CONFORMANCE_DIR (when set, it must hold the suite),
 *  3. ../shared/conformance beside the source tree,
 *  4. Debian's python3-spf, /usr/share/doc/python3-spf/NAME.gz,
 *  5. that package unpacked into the build tree by scripts/deps.sh where
 *     dpkg is told not to install /usr/share/doc (minimal images),
 * looking in each for NAME, then NAME.gz.  Prints where the suite came from. */
static bool find_suite(const char *name, char *path, size_t cap, char *err, size_t errcap)
{
	const char *env = getenv("MT_CONFORMANCE_DIR");
	if (env != NULL && *env != '\0') {
		if (suite_in(env, name, path, cap))
			goto found;
		snprintf(err, errcap, "the environment variable MT_CONFORMANCE_DIR=%s names a directory "
		         "without %s or %s.gz; point it at the directory holding the SPF suites, or "
		         "unset it to use ../shared/conformance or Debian's python3-spf", env, name, name);
		return false;
	}
	if (MT_SUITE_DIR_OPTION[0] != '\0') {
		if (suite_in(MT_SUITE_DIR_OPTION, name, path, cap))
			goto found;
		snprintf(err, errcap, "the CMake option MT_CONFORMANCE_DIR=%s names a directory "
		         "without %s or %s.gz; point it at the directory holding the SPF suites, or "
		         "configure with -DMT_CONFORMANCE_DIR= to use ../shared/conformance or Debian's "
		         "python3-spf", MT_SUITE_DIR_OPTION, name, name);
		return false;
	}
	if (suite_in(MT_SUITE_DIR_SHARED, name, path, cap) ||
	    suite_in(DEBIAN_SUITE_DIR, name, path, cap) ||
	    suite_in(MT_SUITE_DIR_UNPACKED, name, path, cap))
		goto found;
	snprintf(err, errcap, "the SPF test suite %s was not found: MT_CONFORMANCE_DIR is not set, "
	         "and neither %s/ nor %s/ nor %s/ holds %s or %s.gz. Install Debian's python3-spf "
	         "(apt-get install python3-spf, or bash scripts/deps.sh), which ships it as %s/%s.gz, "
	         "or set MT_CONFORMANCE_DIR to a directory holding %s",
	         name, MT_SUITE_DIR_SHARED, DEBIAN_SUITE_DIR, MT_SUITE_DIR_UNPACKED, name, name,
	         DEBIAN_SUITE_DIR, name, name);
	return false;
found:
	printf("suite %s\n", path);
	return true;
}

static bool load_suite(const char *path, suite *su, char *err, size_t errcap)
{
	loader ld = { .file = path };
	yaml_parser_t parser;
	unsigned char *text = NULL;
	size_t textlen = 0;
	bool ok = false;
	if (!read_suite(path, &text, &textlen, err, errcap))
		return false;
	if (!yaml_parser_initialize(&parser))
		die_nomem();
	yaml_parser_set_input_string(&parser, text, textlen);
	for (;;) {
		yaml_document_t doc;
		if (!yaml_parser_load(&parser, &doc)) {
			snprintf(err, errcap, "%s:%lu: YAML error: %s", path,
			         (unsigned long)parser.problem_mark.line + 1,
			         parser.problem ? parser.problem : "unknown");
			goto out;
		}
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		if (root == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		su->sc = xreallocarray(su->sc, su->nsc + 1, sizeof *su->sc);
		scenario *s = &su->sc[su->nsc++];
		memset(s, 0, sizeof *s);
		s->index = (unsigned)su->nsc;
		ld.index = s->index;
		bool good = load_scenario(&ld, &doc, root, s);
		yaml_document_delete(&doc);
		if (!good) {
			snprintf(err, errcap, "%s", ld.err);
			goto out;
		}
	}
	if (su->nsc == 0) {
		snprintf(err, errcap, "%s: no scenarios", path);
		goto out;
	}
	ok = true;
out:
	yaml_parser_delete(&parser);
	free(text);
	return ok;
}

/* ---- Building the zone ------------------------------------------------- */

static mt_status add_record(mt_dns_zone *zone, const char *name, const zrec *r)
{
	uint8_t addr[16];
	switch (r->type) {
	case MT_DNS_A:
		if (inet_pton(AF_INET, r->target, addr) != 1)
			return MT_EINVAL;
		return mt_dns_zone_add(zone, name, MT_DNS_A, ZONE_TTL, 0, addr, 4);
	case MT_DNS_AAAA:
		if (inet_pton(AF_INET6, r->target, addr) != 1)
			return MT_EINVAL;
		return mt_dns_zone_add(zone, name, MT_DNS_AAAA, ZONE_TTL, 0, addr, 16);
	case MT_DNS_MX:
	case MT_DNS_PTR:
	case MT_DNS_CNAME:
		return mt_dns_zone_add(zone, name, r->type, ZONE_TTL, r->pref, r->target,
		                       strlen(r->target));
	default:
		return mt_dns_zone_add_txt(zone, name, r->type, ZONE_TTL,
		                           (const char *const *)r->str, r->len, r->nstr);
	}
}

/* The zone for one scenario, or NULL with err set. */
static mt_dns_zone *build_zone(const scenario *s, char *err, size_t errcap)
{
	mt_dns_zone *zone = mt_dns_zone_new();
	if (zone == NULL)
		die_nomem();
	for (size_t i = 0; i < s->nnames; i++) {
		const zname *zn = &s->names[i];
		for (size_t j = 0; j < zn->nrecs; j++) {
			mt_status st = add_record(zone, zn->name, &zn->recs[j]);
			if (st != MT_OK) {
				snprintf(err, errcap, "zone: adding %s %s record %zu: %s", zn->name,
				         mt_dns_type_name(zn->recs[j].type), j + 1, mt_strerror(st));
				mt_dns_zone_free(zone);
				return NULL;
			}
		}
		for (size_t j = 0; j < zn->nfaults; j++) {
			mt_status st = mt_dns_zone_add_fault(zone, zn->name, zn->faults[j], MT_DNS_TIMEOUT);
			if (st != MT_OK) {
				snprintf(err, errcap, "zone: adding TIMEOUT at %s: %s", zn->name,
				         mt_strerror(st));
				mt_dns_zone_free(zone);
				return NULL;
			}
		}
	}
	return zone;
}

/* ---- Expected differences --------------------------------------------- */

typedef struct xdiff {
	char *name;
	char *reason;
	bool found;
} xdiff;

typedef struct xlist {
	xdiff *v;
	size_t n;
} xlist;

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
	                   s[len - 1] == '\r'))
		s[--len] = '\0';
	return s;
}

/* Lines "name  # RFC 7208 section: reason"; '#' starts a comment. */
static bool load_xlist(const char *path, xlist *xl)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "spf_suite: cannot open %s: %s\n", path, strerror(errno));
		return false;
	}
	while (fgets(line, sizeof line, f)) {
		char *hash = strchr(line, '#');
		char *reason = "";
		if (hash) {
			*hash = '\0';
			reason = trim(hash + 1);
		}
		char *name = trim(line);
		if (*name == '\0')
			continue;
		xl->v = xreallocarray(xl->v, xl->n + 1, sizeof *xl->v);
		xl->v[xl->n].name = xstrdup(name);
		xl->v[xl->n].reason = xstrdup(reason);
		xl->v[xl->n].found = false;
		xl->n++;
	}
	fclose(f);
	return true;
}

static xdiff *xlist_find(xlist *xl, const char *name)
{
	for (size_t i = 0; i < xl->n; i++)
		if (strcmp(xl->v[i].name, name) == 0)
			return &xl->v[i];
	return NULL;
}

static void xlist_clear(xlist *xl)
{
	for (size_t i = 0; i < xl->n; i++) {
		free(xl->v[i].name);
		free(xl->v[i].reason);
	}
	free(xl->v);
}

/* ---- Running cases ----------------------------------------------------- */

typedef struct counts {
	unsigned passed, failed, skipped;
} counts;

static void print_want(FILE *out, const tcase *t)
{
	for (size_t i = 0; i < t->nresults; i++)
		fprintf(out, "%s%s", i ? "|" : "", t->results[i]);
}

/* Print a string with control and non-ASCII octets as \xHH. */
static void print_quoted(FILE *out, const char *s)
{
	if (s == NULL) {
		fputs("(none)", out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '\\')
			fprintf(out, "\\x%02X", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void run_case(const scenario *s, mt_dns_resolver *res, const char *zone_err,
                     const tcase *t, xlist *xl, bool verbose, counts *c)
{
	mt_spf_options opts;
	mt_spf_check *chk = NULL;
	mt_error err = { 0 };
	const mt_spf_outcome *o = NULL;
	const char *got = "(error)";
	char setup[400] = "";
	bool ok = false, expl_ok = true;

	if (zone_err) {
		snprintf(setup, sizeof setup, "%s", zone_err);
		goto report;
	}
	mt_spf_options_init(&opts);
	opts.default_explanation = "DEFAULT";
	mt_status st = mt_spf_check_new(&opts, &chk, &err);
	if (st != MT_OK) {
		snprintf(setup, sizeof setup, "mt_spf_check_new: %s: %s", mt_strerror(st),
		         err.message);
		goto report;
	}
	mt_spf_request req = {
		.ip = t->host,
		.sender = t->mailfrom,
		.helo = t->helo,
		.identity = MT_SPF_MAILFROM,
	};
	st = mt_spf_check_start(chk, &req, &err);
	if (st != MT_OK) {
		snprintf(setup, sizeof setup, "mt_spf_check_start: %s: %s", mt_strerror(st),
		         err.message);
		goto report;
	}
	st = mt_spf_check_run(chk, res);
	if (st != MT_OK) {
		snprintf(setup, sizeof setup, "mt_spf_check_run: %s", mt_strerror(st));
		goto report;
	}
	o = mt_spf_check_outcome(chk);
	if (o == NULL) {
		snprintf(setup, sizeof setup, "no outcome after mt_spf_check_run");
		goto report;
	}
	got = mt_spf_result_name(o->result);
	for (size_t i = 0; i < t->nresults; i++)
		if (strcmp(got, t->results[i]) == 0)
			ok = true;
	if (t->explanation)
		expl_ok = o->explanation && strcmp(o->explanation, t->explanation) == 0;

report:;
	bool pass = ok && expl_ok;
	xdiff *xd = xlist_find(xl, t->name);
	const char *tag;
	if (xd) {
		xd->found = true;
		tag = pass ? "FAIL" : "XDIFF";
		if (pass)
			c->failed++;
		else
			c->skipped++;
	} else {
		tag = pass ? "ok" : "FAIL";
		if (pass)
			c->passed++;
		else
			c->failed++;
	}
	if (!verbose && strcmp(tag, "ok") == 0)
		goto out;

	printf("%s %s / %s: got %s, want ", tag, s->description, t->name, got);
	print_want(stdout, t);
	if (t->explanation) {
		fputs(" (explanation got ", stdout);
		print_quoted(stdout, o ? o->explanation : NULL);
		fputs(", want ", stdout);
		print_quoted(stdout, t->explanation);
		fputc(')', stdout);
	}
	if (setup[0])
		printf("; setup: %s", setup);
	if (o && o->problem) {
		fputs("; problem: ", stdout);
		print_quoted(stdout, o->problem);
		if (o->problem_domain)
			printf(" at %s", o->problem_domain);
		if (o->problem_term) {
			fputs(" term ", stdout);
			print_quoted(stdout, o->problem_term);
		}
	}
	if (xd && pass)
		printf("; listed as an expected difference but passes: remove it from the list");
	else if (xd)
		printf("; expected difference: %s", xd->reason);
	fputc('\n', stdout);
out:
	mt_spf_check_free(chk);
}

/* Real-server mode: forwarder, scenario filter and skip list. */
typedef struct realdns {
	const char *forwarder; /* NULL: the in-memory zone */
	unsigned scenario;     /* 0: every scenario */
	xlist *skip;
} realdns;

/* A libunbound resolver forwarding to rd->forwarder, or NULL with err set. */
static mt_dns_resolver *real_resolver(const realdns *rd, char *err, size_t errcap)
{
	mt_dns_unbound_options uo;
	mt_dns_resolver *res = NULL;
	mt_error e = { 0 };
	mt_dns_unbound_options_init(&uo);
	uo.forwarder = rd->forwarder;
	uo.timeout_ms = 3000;
	if (mt_dns_unbound_resolver_new(&uo, &res, &e) != MT_OK)
		snprintf(err, errcap, "libunbound resolver: %s", e.message);
	return res;
}

static bool skip_case(const scenario *s, const tcase *t, xlist *skip, counts *c)
{
	xdiff *sk = skip ? xlist_find(skip, t->name) : NULL;
	if (sk == NULL)
		return false;
	sk->found = true;
	c->skipped++;
	printf("SKIP %s / %s: %s\n", s->description, t->name, sk->reason);
	return true;
}

static int run_suite(const suite *su, xlist *xl, const char *only, bool verbose,
                     const realdns *rd)
{
	counts c = { 0, 0, 0 };
	bool matched = false;
	int rc = 0;

	for (size_t i = 0; i < su->nsc; i++) {
		const scenario *s = &su->sc[i];
		char zerr[400] = "";
		bool wanted = only == NULL;
		for (size_t j = 0; !wanted && j < s->ntests; j++)
			wanted = strcmp(s->tests[j].name, only) == 0;
		if (!wanted || (rd->scenario && s->index != rd->scenario))
			continue;
		mt_dns_zone *zone = NULL;
		mt_dns_resolver *res = NULL;
		if (rd->forwarder) {
			res = real_resolver(rd, zerr, sizeof zerr);
		} else {
			zone = build_zone(s, zerr, sizeof zerr);
			res = zone ? mt_dns_zone_resolver_new(zone) : NULL;
			if (zone && res == NULL)
				die_nomem();
		}
		for (size_t j = 0; j < s->ntests; j++) {
			if (only && strcmp(s->tests[j].name, only) != 0)
				continue;
			matched = true;
			if (skip_case(s, &s->tests[j], rd->skip, &c))
				continue;
			run_case(s, res, res ? NULL : zerr, &s->tests[j], xl, verbose, &c);
		}
		mt_dns_resolver_free(res);
		mt_dns_zone_free(zone);
	}
	if (only && !matched) {
		fprintf(stderr, "spf_suite: no test named %s\n", only);
		return 2;
	}
	for (size_t i = 0; only == NULL && i < xl->n; i++) {
		if (!xl->v[i].found) {
			printf("FAIL expected-differences list names %s, which is not in the suite\n",
			       xl->v[i].name);
			c.failed++;
		}
	}
	/* A skip entry must name a case of the suite (any scenario). */
	for (size_t i = 0; rd->skip && i < rd->skip->n; i++) {
		bool known = false;
		for (size_t k = 0; !known && k < su->nsc; k++)
			for (size_t j = 0; !known && j < su->sc[k].ntests; j++)
				known = strcmp(su->sc[k].tests[j].name, rd->skip->v[i].name) == 0;
		if (!known) {
			printf("FAIL skip list names %s, which is not in the suite\n",
			       rd->skip->v[i].name);
			c.failed++;
		}
	}
	if (c.skipped)
		printf("%u passed, %u failed, %u skipped\n", c.passed, c.failed, c.skipped);
	else
		printf("%u passed, %u failed\n", c.passed, c.failed);
	if (c.failed)
		rc = 1;
	return rc;
}

/* ---- Zone files --------------------------------------------------------- */

/* A name in master-file form: absolute, special octets as \DDD. */
static void write_name(FILE *f, const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f || strchr(";()\"\\@$", *p))
			fprintf(f, "\\%03u", *p);
		else
			fputc(*p, f);
	}
	fputc('.', f);
}

static void write_charstring(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\%03u", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static bool write_zone(const scenario *s, const char *path, const char *suite_path)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "spf_suite: cannot create %s: %s\n", path, strerror(errno));
		return false;
	}
	fprintf(f, "; scenario %u of %s: ", s->index, suite_path);
	for (const char *p = s->description; *p && *p != '\n'; p++)
		fputc(*p, f);
	fputs("\n; written by spf_suite --emit-zone.  \"; TIMEOUT name TYPE\" lines: queries of\n"
	      "; that type at that name must time out (TYPE ALL: every type).\n"
	      "$ORIGIN .\n", f);
	fprintf(f, "$TTL %d\n", ZONE_TTL);
	fputs(". IN SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 300\n"
	      ". IN NS ns.invalid.\n", f);
	for (size_t i = 0; i < s->nnames; i++) {
		const zname *zn = &s->names[i];
		for (size_t j = 0; j < zn->nrecs; j++) {
			const zrec *r = &zn->recs[j];
			write_name(f, zn->name);
			fprintf(f, " IN %s ", mt_dns_type_name(r->type));
			switch (r->type) {
			case MT_DNS_A:
			case MT_DNS_AAAA:
				fputs(r->target, f);
				break;
			case MT_DNS_MX:
				fprintf(f, "%u ", (unsigned)r->pref);
				if (r->target[0])
					write_name(f, r->target);
				else
					fputc('.', f);
				break;
			case MT_DNS_PTR:
			case MT_DNS_CNAME:
				write_name(f, r->target);
				break;
			default:
				if (r->nstr == 0)
					fputs("\\# 0", f); /* RFC 3597: no character-strings */
				for (size_t k = 0; k < r->nstr; k++) {
					if (k)
						fputc(' ', f);
					write_charstring(f, r->str[k], r->len[k]);
				}
				break;
			}
			fputc('\n', f);
		}
		for (size_t j = 0; j < zn->nfaults; j++) {
			fputs("; TIMEOUT ", f);
			write_name(f, zn->name);
			fprintf(f, " %s\n", zn->faults[j] ? mt_dns_type_name(zn->faults[j]) : "ALL");
		}
	}
	bool ok = fflush(f) == 0 && !ferror(f);
	if (fclose(f) != 0)
		ok = false;
	if (!ok)
		fprintf(stderr, "spf_suite: writing %s failed\n", path);
	return ok;
}

/* Undo write_name(): \DDD and \X escapes, trailing dot dropped. */
static void unescape_name(const char *in, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 1 < cap; i++) {
		if (in[i] == '\\' && i + 3 < len && in[i + 1] >= '0' && in[i + 1] <= '9') {
			out[o++] = (char)((in[i + 1] - '0') * 100 + (in[i + 2] - '0') * 10 + (in[i + 3] - '0'));
			i += 3;
		} else if (in[i] == '\\' && i + 1 < len) {
			out[o++] = in[++i];
		} else {
			out[o++] = in[i];
		}
	}
	if (o > 0 && out[o - 1] == '.')
		o--;
	out[o] = '\0';
}

/* Apply the "; TIMEOUT name TYPE" comments of a written zone file. */
static bool apply_timeouts(mt_dns_zone *zone, const char *path)
{
	char line[2048];
	bool ok = true;
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	while (fgets(line, sizeof line, f)) {
		static const char tag[] = "; TIMEOUT ";
		if (strncmp(line, tag, sizeof tag - 1) != 0)
			continue;
		char *name = line + sizeof tag - 1;
		char *sp = strchr(name, ' ');
		if (sp == NULL) {
			ok = false;
			break;
		}
		char *type = trim(sp + 1);
		char dname[1024];
		unescape_name(name, (size_t)(sp - name), dname, sizeof dname);
		uint16_t t = strcmp(type, "ALL") == 0 ? 0 : mt_dns_type_from_name(type, strlen(type));
		if ((t == 0 && strcmp(type, "ALL") != 0) ||
		    mt_dns_zone_add_fault(zone, dname, t, MT_DNS_TIMEOUT) != MT_OK) {
			ok = false;
			break;
		}
	}
	fclose(f);
	return ok;
}

static int rr_cmp(const void *a, const void *b)
{
	const mt_dns_rr *x = a, *y = b;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = n ? memcmp(x->data, y->data, n) : 0;
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Names compare case-insensitively: lower-case a copy of name RDATA. */
static void rr_canon(mt_dns_rr *rr, uint8_t *buf, size_t cap)
{
	if (rr->type != MT_DNS_MX && rr->type != MT_DNS_PTR && rr->type != MT_DNS_CNAME &&
	    rr->type != MT_DNS_NS)
		return;
	size_t n = rr->len < cap ? rr->len : cap;
	for (size_t i = 0; i < n; i++)
		buf[i] = (rr->data[i] >= 'A' && rr->data[i] <= 'Z') ? (uint8_t)(rr->data[i] + 32)
		                                                      : rr->data[i];
	rr->data = buf;
	rr->len = n;
}

/* Same rcode, canonical name and records (as a set) in both answers? */
static bool same_answer(const mt_dns_answer *a, const mt_dns_answer *b, char *why, size_t cap)
{
	if (a->rcode != b->rcode) {
		snprintf(why, cap, "rcode %s vs %s", mt_dns_rcode_name(a->rcode),
		         mt_dns_rcode_name(b->rcode));
		return false;
	}
	const char *ca = a->canonical_name ? a->canonical_name : "";
	const char *cb = b->canonical_name ? b->canonical_name : "";
	if (strcasecmp(ca, cb) != 0) {
		snprintf(why, cap, "canonical name %s vs %s", ca, cb);
		return false;
	}
	if (a->count != b->count) {
		snprintf(why, cap, "%zu vs %zu records", a->count, b->count);
		return false;
	}
	bool same = true;
	mt_dns_rr *x = xcalloc(a->count, sizeof *x), *y = xcalloc(b->count, sizeof *y);
	uint8_t (*bx)[256] = xcalloc(a->count, sizeof *bx), (*by)[256] = xcalloc(b->count, sizeof *by);
	for (size_t i = 0; i < a->count; i++) {
		x[i] = a->rr[i];
		y[i] = b->rr[i];
		rr_canon(&x[i], bx[i], sizeof bx[i]);
		rr_canon(&y[i], by[i], sizeof by[i]);
	}
	qsort(x, a->count, sizeof *x, rr_cmp);
	qsort(y, b->count, sizeof *y, rr_cmp);
	for (size_t i = 0; i < a->count && same; i++) {
		if (rr_cmp(&x[i], &y[i]) != 0) {
			char *ta = mt_dns_rr_to_text(&x[i]), *tb = mt_dns_rr_to_text(&y[i]);
			snprintf(why, cap, "records differ: built %s (%zu octets), loaded %s (%zu octets)",
			         ta ? ta : "?", x[i].len, tb ? tb : "?", y[i].len);
			mt_free(ta);
			mt_free(tb);
			same = false;
		}
	}
	free(x);
	free(y);
	free(bx);
	free(by);
	return same;
}

static int emit_zones(const suite *su, const char *dir, const char *suite_path)
{
	static const uint16_t types[] = { MT_DNS_A, MT_DNS_AAAA, MT_DNS_MX, MT_DNS_PTR,
	                                  MT_DNS_CNAME, MT_DNS_TXT, MT_DNS_SPF, MT_DNS_NS };
	unsigned written = 0, compared = 0, mismatches = 0;
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "spf_suite: cannot create %s: %s\n", dir, strerror(errno));
		return 2;
	}
	for (size_t i = 0; i < su->nsc; i++) {
		const scenario *s = &su->sc[i];
		char path[4096], zerr[400];
		mt_error err = { 0 };
		snprintf(path, sizeof path, "%s/scenario-%02u.zone", dir, s->index);
		if (!write_zone(s, path, suite_path))
			return 2;
		written++;
		mt_dns_zone *direct = build_zone(s, zerr, sizeof zerr);
		if (direct == NULL) {
			printf("MISMATCH %s: cannot build the zone directly: %s\n", path, zerr);
			mismatches++;
			continue;
		}
		mt_dns_zone *loaded = mt_dns_zone_new();
		if (loaded == NULL)
			die_nomem();
		if (mt_dns_zone_load_file(loaded, path, NULL, &err) != MT_OK) {
			printf("MISMATCH %s: does not load: %s\n", path, err.message);
			mismatches++;
		} else if (!apply_timeouts(loaded, path)) {
			printf("MISMATCH %s: bad TIMEOUT comment\n", path);
			mismatches++;
		} else {
			for (size_t j = 0; j < s->nnames; j++) {
				for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
					mt_dns_answer *a = NULL, *b = NULL;
					char why[512];
					const char *name = s->names[j].name;
					if (mt_dns_zone_query(direct, name, types[k], &a) != MT_OK ||
					    mt_dns_zone_query(loaded, name, types[k], &b) != MT_OK) {
						printf("MISMATCH %s: query %s %s failed\n", path, name,
						       mt_dns_type_name(types[k]));
						mismatches++;
					} else if (!same_answer(a, b, why, sizeof why)) {
						printf("MISMATCH %s: %s %s: %s\n", path, name,
						       mt_dns_type_name(types[k]), why);
						mismatches++;
					}
					compared++;
					mt_dns_answer_free(a);
					mt_dns_answer_free(b);
				}
			}
		}
		mt_dns_zone_free(loaded);
		mt_dns_zone_free(direct);
	}
	printf("%u zone files written to %s, %u answers compared, %u mismatches\n", written, dir,
	       compared, mismatches);
	return mismatches ? 1 : 0;
}

/* ---- main ------------------------------------------------------------- */

static void usage(FILE *out)
{
	fputs("usage: spf_suite FILE.yml [--expect-diff LISTFILE] [--only NAME] [-v]\n"
	      "       spf_suite FILE.yml --emit-zone DIR\n"
	      "       spf_suite FILE.yml --resolver ADDR@PORT [--scenario N] [--skip LISTFILE] [-v]\n"
	      "Runs an openspf YAML suite through the in-memory zone and the SPF check.\n"
	      "FILE.yml may be gzipped; --find NAME instead of FILE.yml looks for NAME (or\n"
	      "NAME.gz) in $MT_CONFORMANCE_DIR, else the CMake option MT_CONFORMANCE_DIR, else\n"
	      "../shared/conformance beside the source tree, else " DEBIAN_SUITE_DIR "\n"
	      "(Debian package python3-spf).\n"
	      "Cases named in LISTFILE must fail (expected differences, counted as skipped).\n"
	      "--emit-zone writes DIR/scenario-NN.zone per scenario and checks that each\n"
	      "file loads back into a zone answering like the directly built one.\n"
	      "--resolver asks that server through libunbound instead of the in-memory zone\n"
	      "(it must serve scenario N's zone); cases named in the --skip list are not run.\n"
	      "Exit: 0 all passed, 1 a case failed, 2 usage or setup error.\n", out);
}

int main(int argc, char **argv)
{
	const char *file = NULL, *xfile = NULL, *only = NULL, *emit = NULL;
	bool verbose = false;
	suite su = { NULL, 0 };
	xlist xl = { NULL, 0 }, skip = { NULL, 0 };
	realdns rd = { NULL, 0, NULL };
	const char *skipfile = NULL;
	const char *find = NULL;
	char found[1024];
	char err[2048];
	int rc = 2;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-v") == 0) {
			verbose = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if ((strcmp(a, "--expect-diff") == 0 || strcmp(a, "--only") == 0 ||
		            strcmp(a, "--emit-zone") == 0 || strcmp(a, "--resolver") == 0 ||
		            strcmp(a, "--scenario") == 0 || strcmp(a, "--skip") == 0 ||
		            strcmp(a, "--find") == 0) && i + 1 < argc) {
			const char *v = argv[++i];
			if (strcmp(a, "--find") == 0) {
				if (find != NULL || strchr(v, '/') != NULL) {
					usage(stderr);
					return 2;
				}
				find = v;
			} else if (strcmp(a, "--resolver") == 0) {
				rd.forwarder = v;
			} else if (strcmp(a, "--scenario") == 0) {
				char *end = NULL;
				unsigned long n = strtoul(v, &end, 10);
				if (*v == '\0' || *end != '\0' || n == 0 || n > 100000) {
					usage(stderr);
					return 2;
				}
				rd.scenario = (unsigned)n;
			} else if (strcmp(a, "--skip") == 0) {
				skipfile = v;
			} else if (strcmp(a, "--expect-diff") == 0)
				xfile = v;
			else if (strcmp(a, "--only") == 0)
				only = v;
			else
				emit = v;
		} else if (a[0] != '-' && file == NULL) {
			file = a;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if ((file == NULL) == (find == NULL) || (emit && (xfile || only || rd.forwarder)) ||
	    (!rd.forwarder && (rd.scenario || skipfile))) {
		usage(stderr);
		return 2;
	}
	if (find != NULL) {
		if (!find_suite(find, found, sizeof found, err, sizeof err)) {
			fprintf(stderr, "spf_suite: %s\n", err);
			return 2;
		}
		file = found;
	}
	if (!load_suite(file, &su, err, sizeof err)) {
		fprintf(stderr, "spf_suite: %s\n", err);
		goto out;
	}
	if (emit) {
		rc = emit_zones(&su, emit, file);
		goto out;
	}
	if (xfile && !load_xlist(xfile, &xl))
		goto out;
	if (rd.scenario > su.nsc) {
		fprintf(stderr, "spf_suite: %s has %zu scenarios, not %u\n", file, su.nsc, rd.scenario);
		goto out;
	}
	if (skipfile) {
		if (!load_xlist(skipfile, &skip))
			goto out;
		rd.skip = &skip;
	}
	rc = run_suite(&su, &xl, only, verbose, &rd);
out:
	xlist_clear(&xl);
	xlist_clear(&skip);
	suite_clear(&su);
	return rc;
}
