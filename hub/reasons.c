/*
 * reasons.c — owns the count of compiles kept local, by reason (dcc tells,
 * hubd counts, hubctl shows), the once-per-build notice, and the dispatch
 * of the extension frames on hubd's socket (reasons.h, verify.h).
 *
 * Invariants: nothing here can fail or slow a build: the sender gives up
 * after HUBX_SEND_MS and ignores every error; the table is bounded
 * (REASONS_MAX labels, then "other"); decoders consume frames exactly.
 */
#include "reasons.h"
#include "verify.h"
#include "buildonce.h"
#include "client.h"
#include "proto.h"
#include "../lib/cursor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- labels ------------------------------------------------------------- */

static const struct {
	const char *has, *label;
} known[] = {
	{ "include-like", "include-like line" },
	{ "autoconf test", "conftest" },
	{ "-g3", "-g3" },
	{ "__DA" "TE__", "__DA" "TE__/__TI" "ME__ in the source" },	/* split: args_time_macro */
	{ "preprocessing failed", "preprocessor error" },
	{ "preprocessing printed", "preprocessor diagnostics" },
	{ "DCC_LOCAL", "DCC_LOCAL" },
	{ "neither -c nor -S", "link or no compile" },
	{ "a node would refuse", "a node would refuse the arguments" },
	{ "working directory", "working directory" },
	{ "compiler probe", "compiler probe" },
	{ "not a regular file", "compiler probe" },
	{ "digraph", "%: digraph directive" },
	{ "#pragma message", "#pragma message" },
	{ "redefine_extname", "#pragma redefine_extname" },
	{ "push_macro", "#pragma push_macro/pop_macro" },
	{ "GCC poison", "#pragma GCC poison" },
	{ "#pragma omp", "#pragma omp with -fopenmp" },
	{ "#pragma acc", "#pragma acc with -fopenacc" },
	{ "_Pragma", "_Pragma the hub must see" },
	{ "diagnostics on", "compiler diagnostics (recompiled here)" },
	{ "failed on", "compile error (recompiled here)" },
	{ "verif", "verification" },
	{ "several source", "several sources" },
	{ "clang", "clang" },
};

void reasons_label(const char *why, char *out, size_t len)
{
	const char *s = why, *c, *p;
	size_t n;

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strstr(why, known[i].has)) {
			snprintf(out, len, "%s", known[i].label);
			return;
		}
	/* "-fprofile-arcs: profiling/coverage files" -> "profiling/coverage files" */
	c = strstr(why, ": ");
	if (c && !memchr(why, ' ', (size_t)(c - why)))
		s = c + 2;
	p = strstr(s, " (");
	n = p ? (size_t)(p - s) : strlen(s);
	if (n > 48)
		n = 48;
	snprintf(out, len, "%.*s", (int)n, s);
	for (char *q = out; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = ' ';
	if (!out[0])
		snprintf(out, len, "other");
}

/* ---- dcc side ----------------------------------------------------------- */

int hubx_send(const struct buf *frame)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[sizeof sa.sun_path];
	size_t off = 0;
	int fd, r = 0;

	if (!buf_ok(frame) || hub_socket_path(path, sizeof path) < 0)
		return -EINVAL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a unix connect does not wait: a full backlog is EAGAIN, and then
	 * the note is dropped rather than the build slowed */
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		r = -errno;
	for (int tries = 0; !r && off < frame->len; tries++) {
		struct pollfd pf = { fd, POLLOUT, 0 };
		ssize_t w = send(fd, frame->data + off, frame->len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			off += (size_t)w;
		} else if (tries >= 3) {
			r = -ETIMEDOUT;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int k = poll(&pf, 1, HUBX_SEND_MS / 3);
			if (k <= 0)
				r = k == 0 ? -ETIMEDOUT : -errno;
		} else if (w < 0 && errno != EINTR) {
			r = -errno;
		}
	}
	close(fd);
	return r;
}

void reasons_tell(const char *why)
{
	struct buf b = BUF_INIT;
	char label[REASON_LABEL_MAX];

	reasons_label(why, label, sizeof label);
	proto_begin(&b, (enum proto_type)HUBX_NOTE_LOCAL);
	buf_str(&b, label);
	if (proto_end(&b) == 0)
		(void)hubx_send(&b);
	buf_free(&b);
}

void reasons_say_once(int fd, const char *msg)
{
	char sock[256], line[600];
	int n;

	/* the build as buildonce.h knows it: the outermost make among our parents */
	if (hub_socket_path(sock, sizeof sock) < 0 || !once_per_build("nofarm", sock))
		return;
	n = snprintf(line, sizeof line, "dcc: %s\n", msg);
	if (n > 0)
		write_full(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* ---- hubd side ---------------------------------------------------------- */

static struct {
	uint64_t total;
	size_t n;
	struct reason_count r[REASONS_MAX + 1];	/* the last is "other" */
} T;

void reasons_count(const char *label)
{
	size_t i;

	T.total++;
	for (i = 0; i < T.n; i++)
		if (!strcmp(T.r[i].label, label))
			break;
	if (i == T.n) {
		if (T.n == REASONS_MAX) {
			i = REASONS_MAX;
			snprintf(T.r[i].label, sizeof T.r[i].label, "other");
		} else {
			snprintf(T.r[i].label, sizeof T.r[i].label, "%s", label);
			T.n++;
		}
	}
	T.r[i].n++;
}

#define REFUSED "job refused by the node policy: "

/* A per-job refusal ("refused: include-like line"), or NULL. */
static const char *refusal(const char *why, char *l, size_t len)
{
	char sub[REASON_LABEL_MAX];

	if (strncmp(why, REFUSED, strlen(REFUSED)))
		return NULL;
	reasons_label(why + strlen(REFUSED), sub, sizeof sub);
	snprintf(l, len, "refused: %.50s", sub);
	return l;
}

void reasons_hub_local(const char *why, bool cid_ok, bool nofarm, const char *pair, char *note,
		       size_t len)
{
	char l[REASON_LABEL_MAX];

	if (refusal(why, l, sizeof l)) {
		reasons_count(l);
	} else if (nofarm && cid_ok && pair) {
		snprintf(note, len, "%s", strstr(pair, "proving") ?
			 "hubd is proving the boards' build of it by canaries" : pair);
		reasons_count(pair);
	} else if (nofarm) {
		snprintf(note, len, "%s", cid_ok || !why[0] ? "no board offers this compiler" : why);
		reasons_count(cid_ok ? "no board offers the compiler" : "compiler not identified");
	} else {
		reasons_count("hubd's local slot (boards busy)");
	}
}

void reasons_hub_failed(const char *why)
{
	char l[REASON_LABEL_MAX];

	reasons_count(refusal(why, l, sizeof l) ? l : strstr(why, "no node offers") ?
		      "no board offers the compiler" : "the farm failed the job");
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int hubx_request(const uint8_t *p, size_t len, struct buf *reply)
{
	struct cursor c = cur_init(p, len);
	char label[REASON_LABEL_MAX];
	int t;

	if (len < 2 || p[0] != PROTO_VERSION)
		return -EPROTO;
	t = p[1];
	cur_take(&c, 2);
	switch (t) {
	case HUBX_NOTE_LOCAL:
		cur_str(&c, label, sizeof label);
		if (!cur_done(&c) || !label[0] || !printable(label))
			return 0;	/* a bad note is dropped */
		reasons_count(label);
		return 0;
	case HUBX_VERIFY_REPORT:
		verify_handle_report(&c);
		return 0;
	case HUBX_STATUS_REQ:
		if (!cur_done(&c))
			return 0;
		proto_begin(reply, (enum proto_type)HUBX_STATUS);
		reasons_encode(reply);
		verify_encode(reply);
		return proto_end(reply) == 0 ? 1 : 0;
	default:
		return -EPROTO;
	}
}

/* ---- the table on the wire and on screen -------------------------------- */

void reasons_encode(struct buf *b)
{
	size_t n = T.n + (T.r[REASONS_MAX].n ? 1 : 0);

	buf_u64(b, T.total);
	buf_u16(b, (uint16_t)n);
	for (size_t i = 0; i < REASONS_MAX + 1; i++) {
		if (i >= T.n && (i != REASONS_MAX || !T.r[i].n))
			continue;
		buf_str(b, T.r[i].label);
		buf_u64(b, T.r[i].n);
	}
}

bool reasons_decode(struct cursor *c, struct reasons_status *st)
{
	size_t n;

	memset(st, 0, sizeof *st);
	st->total = cur_u64(c);
	n = cur_u16(c);
	if (n > REASONS_MAX + 1) {
		c->err = true;
		return false;
	}
	for (size_t i = 0; i < n && !c->err; i++) {
		cur_str(c, st->r[i].label, sizeof st->r[i].label);
		st->r[i].n = cur_u64(c);
	}
	st->n = c->err ? 0 : n;
	return !c->err;
}

void reasons_print_text(FILE *f, const struct reasons_status *st)
{
	bool used[REASONS_MAX + 1] = { false };

	fprintf(f, "%llu compiles local", (unsigned long long)st->total);
	/* biggest first */
	for (size_t k = 0; k < st->n; k++) {
		size_t best = st->n;
		for (size_t i = 0; i < st->n; i++)
			if (!used[i] && (best == st->n || st->r[i].n > st->r[best].n))
				best = i;
		used[best] = true;
		fprintf(f, "%s%llu %s", k ? ", " : ": ", (unsigned long long)st->r[best].n,
			st->r[best].label);
	}
	fputc('\n', f);
}

void reasons_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void reasons_print_json(FILE *f, const struct reasons_status *st)
{
	fprintf(f, ",\"local_reasons\":{\"total\":%llu,\"by_reason\":{",
		(unsigned long long)st->total);
	for (size_t i = 0; i < st->n; i++) {
		if (i)
			fputc(',', f);
		reasons_json_str(f, st->r[i].label);
		fprintf(f, ":%llu", (unsigned long long)st->r[i].n);
	}
	fputs("}}", f);
}

/* ---- hubctl: fetch ------------------------------------------------------- */

int hubx_fetch_status(const char *path, struct reasons_status *r, struct verify_status *v)
{
	struct buf req = BUF_INIT;
	uint8_t hdr[4], *p = NULL;
	long n;
	int fd = -1, rc = -EPROTO;

	if (proto_connect(path, &fd) < 0)
		return -ECONNREFUSED;
	proto_begin(&req, (enum proto_type)HUBX_STATUS_REQ);
	if (proto_end(&req) == 0 && write_full(fd, req.data, req.len) == 0 &&
	    read_full(fd, hdr, 4) == 0 && (n = proto_frame_len(hdr)) >= 2 &&
	    (p = malloc((size_t)n)) && read_full(fd, p, (size_t)n) == 0 &&
	    p[0] == PROTO_VERSION && p[1] == HUBX_STATUS) {
		struct cursor c = cur_init(p + 2, (size_t)n - 2);
		if (reasons_decode(&c, r) && verify_decode(&c, v) && cur_done(&c))
			rc = 0;
		else
			verify_status_free(v);
	}
	free(p);
	buf_free(&req);
	close(fd);
	return rc;
}
