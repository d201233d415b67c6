/*
 * verify.c — owns verified builds (verify.h): on hubd, the sampling, the
 * pending tokens, the record of which board produced which object, and
 * the quarantine of (board, compiler) pairs; in dcc, the local compile
 * that checks a sampled job and the report.
 *
 * Invariants: every table is bounded (verify.h); a quarantine is never
 * lifted while hubd runs; a report without a pending token changes
 * nothing; dcc's outputs after a verification are always the local
 * compile's own files.
 */
#include "verify.h"
#include "reasons.h"
#include "proto.h"
#include "log.h"
#include "../lib/cursor.h"
#include "../lib/clock.h"
#include "../lib/spawn.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct ckey {
	char kind[16], triple[64], version[32], fp[33];
};

struct producer {
	char node[64];
	struct ckey id;
	char **names;
	size_t n, cap;
	uint32_t total;
};

struct pending {
	uint64_t token;
	char node[64], object[256];
	struct ckey id;
};

struct quarantine {
	char node[64], source[256], detail[128];
	struct ckey id;
	time_t when;
};

static struct {
	double rate;
	bool rate_set;
	uint64_t sampled, matched, mismatched;
	struct pending pend[VERIFY_PENDING];
	size_t npend_next;
	struct producer *prod;
	size_t nprod;
	size_t nnames;
	struct quarantine q[VERIFY_QUARANTINE_MAX];
	size_t nq;
} V;

static double rate(void)
{
	return V.rate_set ? V.rate : VERIFY_DEFAULT_RATE;
}

int verify_set_rate(const char *arg)
{
	char *end;
	double r = strtod(arg, &end);

	if (end == arg || (*end && strcmp(end, "%")) || !(r >= 0 && r <= 100))
		return -EINVAL;
	V.rate = r;
	V.rate_set = true;
	return 0;
}

static void key_of(const struct compiler_id *id, struct ckey *k)
{
	memset(k, 0, sizeof *k);
	snprintf(k->kind, sizeof k->kind, "%s", id->kind);
	snprintf(k->triple, sizeof k->triple, "%s", id->triple);
	snprintf(k->version, sizeof k->version, "%s", id->version);
	snprintf(k->fp, sizeof k->fp, "%s", id->fingerprint);
}

static bool key_eq(const struct ckey *a, const struct ckey *b)
{
	return !strcmp(a->kind, b->kind) && !strcmp(a->triple, b->triple) &&
	       !strcmp(a->version, b->version) && !strcmp(a->fp, b->fp);
}

static void key_describe(const struct ckey *k, char *out, size_t len)
{
	snprintf(out, len, "%s %s %s %.8s", k->kind, k->version, k->triple, k->fp);
}

static uint64_t rand64(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
		uint64_t t = now_ns();
		v ^= ((t % 1000000000u) << 20) ^ (t / 1000000000u) ^ ((uint64_t)getpid() << 40);
	}
	return v;
}

static struct producer *producer(const char *node, const struct ckey *k)
{
	struct producer *p;

	for (size_t i = 0; i < V.nprod; i++)
		if (!strcmp(V.prod[i].node, node) && key_eq(&V.prod[i].id, k))
			return &V.prod[i];
	p = realloc(V.prod, (V.nprod + 1) * sizeof *p);
	if (!p)
		return NULL;
	V.prod = p;
	p = &V.prod[V.nprod++];
	memset(p, 0, sizeof *p);
	snprintf(p->node, sizeof p->node, "%s", node);
	p->id = *k;
	return p;
}

void verify_on_done(const char *node, const struct compiler_id *id, const char *object,
		    char *note, size_t len)
{
	struct ckey k;
	struct producer *p;
	double r = rate();

	key_of(id, &k);
	p = producer(node, &k);
	if (p) {
		p->total++;
		if (V.nnames < VERIFY_PRODUCED) {
			if (p->n == p->cap) {
				size_t nc = p->cap ? p->cap * 2 : 64;
				char **nn = realloc(p->names, nc * sizeof *nn);
				if (nn) {
					p->names = nn;
					p->cap = nc;
				}
			}
			if (p->n < p->cap && (p->names[p->n] = strdup(object))) {
				p->n++;
				V.nnames++;
			}
		}
	}
	if (r <= 0 || (r < 100 && (double)(rand64() >> 11) * 0x1p-53 * 100.0 >= r))
		return;
	struct pending *pe = &V.pend[V.npend_next++ % VERIFY_PENDING];
	memset(pe, 0, sizeof *pe);
	pe->token = rand64() | 1;
	snprintf(pe->node, sizeof pe->node, "%s", node);
	snprintf(pe->object, sizeof pe->object, "%s", object);
	pe->id = k;
	V.sampled++;
	snprintf(note, len, VERIFY_TAG "%016" PRIx64, pe->token);
}

bool verify_quarantined(const char *node, const struct compiler_id *id)
{
	struct ckey k;

	if (!V.nq)
		return false;
	key_of(id, &k);
	for (size_t i = 0; i < V.nq; i++)
		if (!strcmp(V.q[i].node, node) && key_eq(&V.q[i].id, &k))
			return true;
	return false;
}

/* The loud part: log, with every object that board made for that compiler. */
static void log_quarantine(const struct quarantine *q)
{
	char cd[160];
	const struct producer *p = NULL;

	key_describe(&q->id, cd, sizeof cd);
	for (size_t i = 0; i < V.nprod; i++)
		if (!strcmp(V.prod[i].node, q->node) && key_eq(&V.prod[i].id, &q->id))
			p = &V.prod[i];
	log_warn("VERIFY MISMATCH: board %s returned an object for %s that differs from the "
		 "local compile (%s); board %s is QUARANTINED for %s; the build used the local "
		 "object", q->node, q->source, q->detail, q->node, cd);
	if (!p)
		return;
	log_warn("VERIFY: objects board %s produced with %s since hubd started (%u, "
		 "rebuild them): ", q->node, cd, p->total);
	for (size_t i = 0; i < p->n; i++)
		log_warn("VERIFY:   %s", p->names[i]);
	if (p->total > p->n)
		log_warn("VERIFY:   ... and %u more not remembered", p->total - (uint32_t)p->n);
}

void verify_handle_report(struct cursor *c)
{
	uint64_t token = cur_u64(c);
	uint8_t match = cur_u8(c);
	char detail[128];
	struct pending *pe = NULL;

	cur_str(c, detail, sizeof detail);
	if (!cur_done(c) || !token)
		return;
	for (size_t i = 0; i < VERIFY_PENDING; i++)
		if (V.pend[i].token == token)
			pe = &V.pend[i];
	if (!pe)
		return;
	pe->token = 0;
	if (match) {
		V.matched++;
		log_debug("verify: %s from %s matches the local compile", pe->object, pe->node);
		return;
	}
	V.mismatched++;
	if (V.nq < VERIFY_QUARANTINE_MAX) {
		struct quarantine *q = &V.q[V.nq];
		bool again = false;
		for (size_t i = 0; i < V.nq; i++)
			if (!strcmp(V.q[i].node, pe->node) && key_eq(&V.q[i].id, &pe->id))
				again = true;
		snprintf(q->node, sizeof q->node, "%s", pe->node);
		snprintf(q->source, sizeof q->source, "%s", pe->object);
		snprintf(q->detail, sizeof q->detail, "%s", detail);
		q->id = pe->id;
		q->when = time(NULL);
		if (!again)
			V.nq++;
		log_quarantine(q);
	}
}

void verify_encode(struct buf *b)
{
	uint64_t unreported = 0;
	char cd[160];

	for (size_t i = 0; i < VERIFY_PENDING; i++)
		if (V.pend[i].token)
			unreported++;
	buf_u32(b, (uint32_t)(rate() * 1000.0));
	buf_u64(b, V.sampled);
	buf_u64(b, V.matched);
	buf_u64(b, V.mismatched);
	buf_u64(b, unreported);
	buf_u16(b, (uint16_t)V.nq);
	for (size_t i = 0; i < V.nq; i++) {
		const struct quarantine *q = &V.q[i];
		const struct producer *p = NULL;
		size_t nl;
		for (size_t k = 0; k < V.nprod; k++)
			if (!strcmp(V.prod[k].node, q->node) && key_eq(&V.prod[k].id, &q->id))
				p = &V.prod[k];
		key_describe(&q->id, cd, sizeof cd);
		buf_str(b, q->node);
		buf_str(b, cd);
		buf_str(b, q->source);
		buf_str(b, q->detail);
		buf_u64(b, (uint64_t)(time(NULL) - q->when));
		buf_u32(b, p ? p->total : 0);
		nl = p ? (p->n < VERIFY_LIST_MAX ? p->n : VERIFY_LIST_MAX) : 0;
		buf_u16(b, (uint16_t)nl);
		for (size_t k = 0; k < nl; k++)
			buf_str(b, strlen(p->names[k]) < 256 ? p->names[k] : "(long name)");
	}
}

/* ---- dcc side ----------------------------------------------------------- */

/* The local compile (lib/spawn.c): its status, 127 when it could not run. */
static int run_wait(const char *path, char **argv)
{
	int st = spawn_run(path, argv);

	return st < 0 ? 127 : st;
}

/* Compares file path with the node's bytes; "" when equal, else why. */
static void compare(const char *what, const char *path, const struct buf *node,
		    char *why, size_t len)
{
	struct buf loc = BUF_INIT;
	size_t i, n;

	if (buf_read_file(&loc, path, 1u << 30) < 0) {
		snprintf(why, len, "the local %s cannot be read", what);
		buf_free(&loc);
		return;
	}
	n = loc.len < node->len ? loc.len : node->len;
	for (i = 0; i < n && loc.data[i] == node->data[i]; i++)
		;
	if (i < n)
		snprintf(why, len, "%s differs at byte %zu of %zu", what, i, loc.len);
	else if (loc.len != node->len)
		snprintf(why, len, "%s is %zu bytes, the node's %zu", what, loc.len, node->len);
	buf_free(&loc);
}

int verify_locally(const struct verify_job *v)
{
	struct buf rep = BUF_INIT;
	char why[128] = "";
	uint64_t token = strtoull(v->token, NULL, 16);
	int st = run_wait(v->compiler, v->argv);

	if (st != 0)
		snprintf(why, sizeof why, "the local compile failed (status %d) where the node's "
			 "succeeded", st);
	else
		compare("object", v->output, v->obj, why, sizeof why);
	if (!why[0] && v->dwo)
		compare(".dwo", v->dwo, v->rdwo, why, sizeof why);
	proto_begin(&rep, (enum proto_type)HUBX_VERIFY_REPORT);
	buf_u64(&rep, token);
	buf_u8(&rep, why[0] ? 0 : 1);
	buf_str(&rep, why[0] ? why : "identical");
	if (proto_end(&rep) == 0)
		(void)hubx_send(&rep);
	buf_free(&rep);
	if (why[0]) {
		char msg[700];
		int n = snprintf(msg, sizeof msg, "dcc: VERIFY MISMATCH: %s returned a different "
				 "object for %s (%s); the local object is used and %s is "
				 "quarantined for this compiler (hubctl status)\n",
				 v->node, v->source, why, v->node);
		if (n > 0)
			write_full(v->err_fd, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
	}
	return st;
}

/* ---- hubctl side -------------------------------------------------------- */

bool verify_decode(struct cursor *c, struct verify_status *st)
{
	memset(st, 0, sizeof *st);
	st->rate = cur_u32(c) / 1000.0;
	st->sampled = cur_u64(c);
	st->matched = cur_u64(c);
	st->mismatched = cur_u64(c);
	st->unreported = cur_u64(c);
	st->nq = cur_u16(c);
	if (st->nq > VERIFY_QUARANTINE_MAX) {
		st->nq = 0;
		c->err = true;
	}
	for (size_t i = 0; i < st->nq && !c->err; i++) {
		struct verify_quarantine *q = &st->q[i];
		cur_str(c, q->node, sizeof q->node);
		cur_str(c, q->compiler, sizeof q->compiler);
		cur_str(c, q->source, sizeof q->source);
		cur_str(c, q->detail, sizeof q->detail);
		q->age_s = cur_u64(c);
		q->nobjects = cur_u32(c);
		q->nlisted = cur_u16(c);
		if (q->nlisted > VERIFY_LIST_MAX || c->err) {
			q->nlisted = 0;
			c->err = true;
			break;
		}
		q->objects = q->nlisted ? calloc(q->nlisted, sizeof *q->objects) : NULL;
		if (q->nlisted && !q->objects) {
			q->nlisted = 0;
			c->err = true;
			break;
		}
		for (size_t k = 0; k < q->nlisted; k++)
			cur_str(c, q->objects[k], sizeof q->objects[k]);
	}
	return !c->err;
}

void verify_status_free(struct verify_status *st)
{
	for (size_t i = 0; i < VERIFY_QUARANTINE_MAX; i++) {
		free(st->q[i].objects);
		st->q[i].objects = NULL;
	}
}

void verify_print_text(FILE *f, const struct verify_status *st)
{
	fprintf(f, "verify: %.3g %% of remote jobs; %" PRIu64 " checked, %" PRIu64 " identical, %"
		   PRIu64 " MISMATCHED, %" PRIu64 " not reported\n",
		st->rate, st->sampled, st->matched, st->mismatched, st->unreported);
	for (size_t i = 0; i < st->nq; i++) {
		const struct verify_quarantine *q = &st->q[i];
		fprintf(f, "QUARANTINED: %s for %s: its object for %s differed from the local "
			   "compile (%s), %" PRIu64 " s ago; objects it produced with that "
			   "compiler: %u%s\n", q->node, q->compiler, q->source, q->detail,
			q->age_s, q->nobjects, q->nlisted ? ":" : "");
		for (size_t k = 0; k < q->nlisted; k++)
			fprintf(f, "  %s\n", q->objects[k]);
		if (q->nobjects > q->nlisted)
			fprintf(f, "  ... (the full list is in hubd's log)\n");
	}
}

void verify_print_json(FILE *f, const struct verify_status *st)
{
	fprintf(f, ",\"verify\":{\"rate_pct\":%.3f,\"checked\":%" PRIu64 ",\"identical\":%" PRIu64
		   ",\"mismatched\":%" PRIu64 ",\"unreported\":%" PRIu64 ",\"quarantined\":[",
		st->rate, st->sampled, st->matched, st->mismatched, st->unreported);
	for (size_t i = 0; i < st->nq; i++) {
		const struct verify_quarantine *q = &st->q[i];
		fputs(i ? ",{\"node\":" : "{\"node\":", f);
		reasons_json_str(f, q->node);
		fputs(",\"compiler\":", f);
		reasons_json_str(f, q->compiler);
		fputs(",\"source\":", f);
		reasons_json_str(f, q->source);
		fputs(",\"detail\":", f);
		reasons_json_str(f, q->detail);
		fprintf(f, ",\"age_s\":%" PRIu64 ",\"objects_produced\":%u,\"objects\":[",
			q->age_s, q->nobjects);
		for (size_t k = 0; k < q->nlisted; k++) {
			if (k)
				fputc(',', f);
			reasons_json_str(f, q->objects[k]);
		}
		fputs("]}", f);
	}
	fputs("]}", f);
}
