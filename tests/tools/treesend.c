/*
 * treesend — plays the hub of tree jobs (lib/job.h struct job_tree) for
 * one real noded over a link: the manifest made from real files (a list
 * of absolute paths; each symlink on the way becomes a manifest symlink,
 * as a hub's scanner names them), their blobs carried with the JOB, the
 * RESULT printed and its outputs written out. For
 * tests/integration/node_tree.sh. It sends exactly what it is told
 * (hostile entries and blobs included), with no check of its own.
 *
 *   treesend --iface IF --list FILE --cwd DIR --input-name N --output-name N
 *            [--arg A]... [--kind gcc] [--triple T] [--dwo] [--deps NAME]
 *            [--incomplete] [--omit PATH]... [--blobs all|none]
 *            [--bad-blob PATH] [--raw KIND:PATH[:TARGET]]... [--resend]
 *            [--repeat N] [--obj-out F] [--dwo-out F] [--dep-out F]
 *            [--err-out F] [--telemetry] [--bad-count] [--utf8]
 *            [--cancel-after-ms MS] [--wait-s S]
 *
 * --bad-blob: that file's blob travels with one byte changed (under the
 * real hash). --raw: an entry as given (KIND file, link or dir; a file
 * has a zero hash and size 0). --resend: on a "missing" answer, the job
 * once more with exactly the blobs named. --bad-count: the encoded JOB's
 * input count set over JOB_MAX_INPUTS (a message the decoder refuses).
 * --utf8: the user's diagnostics are UTF-8 (job.h job_desc.utf8).
 * --cancel-after-ms: CANCEL the (first) job that long after sending it. --repeat: the job N times in a
 * row (timings). --telemetry: after the last RESULT, the node's next
 * TELEMETRY's store counters.
 *
 * Travelling toolchains (hub/toolchain.h): --travel CC: the job names
 * CC's identity (compiled here) and its tree ends with hubd's pack of CC
 * (toolchain_n), its blobs carried; --fingerprint HEX: the job names CC's
 * identity with that fingerprint instead; --swap PATH=OTHER: the pack's
 * file PATH carries OTHER's bytes (and hash); --toolchain-n N: the last
 * N entries (--raw ones) are the toolchain, with the node's compiler of
 * --kind/--triple named.
 *
 * Output, `name value` lines: store_id, then per RESULT: result N,
 * farm_error, error, status, obj_len, dwo_len, dep_len, node_us, wall_us,
 * cpu_us, nmissing, `missing HEX` and `unsent NAME` lines; with --telemetry
 * store_bytes, store_blobs, store_hits, store_misses, store_corrupt.
 * Exit 0 when every RESULT came, 1 otherwise, 2 usage.
 */
#include "../lib/buf.h"
#include "../lib/clock.h"
#include "../lib/job.h"
#include "../lib/link.h"
#include "../lib/sha256.h"
#include "../../hub/toolchain.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENTRIES 20000

struct entry {
	uint8_t kind;
	char *path, *target;
	uint8_t hash[32];
	struct buf data;
	uint32_t mode;
	bool loaded;		/* data read from the file (its blob can travel) */
};

static struct {
	const char *kind, *triple, *bad_blob, *out[4];	/* obj, dwo, dep, err */
	struct entry e[MAX_ENTRIES];
	size_t n;
	struct job_input *in;
	struct job_blob *blob;
	struct job_spec job;
	bool have_compiler, sent, done, resend, resent, telemetry, want_tele, blobs, bad_count;
	int repeat, results, cancel_ms;
	uint64_t sent_at;
	uint64_t store_id;
	char *omit[64];
	int nomit;
	const char *travel, *fingerprint, *swap;
	int toolchain_n;
} S = { .kind = "gcc", .triple = "x86_64", .repeat = 1, .blobs = true, .cancel_ms = -1 };

static struct entry *find(const char *p)
{
	for (size_t i = 0; i < S.n; i++)
		if (!strcmp(S.e[i].path, p))
			return &S.e[i];
	return NULL;
}

static struct entry *add(uint8_t kind, const char *p, size_t len)
{
	struct entry *e;

	if (S.n >= MAX_ENTRIES)
		return NULL;
	e = &S.e[S.n++];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->path = strndup(p, len);
	return e;
}

/* p with "." and ".." removed lexically (p absolute). */
static void normalize(char *p)
{
	char out[PATH_MAX] = "", *save = NULL;
	size_t ol = 0;

	for (char *s = strtok_r(p, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (!strcmp(s, "."))
			continue;
		if (!strcmp(s, "..")) {
			char *u = strrchr(out, '/');
			ol = u ? (size_t)(u - out) : 0;
			out[ol] = 0;
			continue;
		}
		ol += (size_t)snprintf(out + ol, sizeof out - ol, "/%s", s);
	}
	strcpy(p, ol ? out : "/");
}

/* Adds p: each symlink on its way as a link entry (then its target's own
 * path), the file or dir at its end. 0 or -errno. */
static int add_path(const char *p, int depth)
{
	char q[PATH_MAX], t[PATH_MAX], next[2 * PATH_MAX];
	size_t l = strlen(p);
	struct stat sb;
	struct entry *e;

	if (depth > 40 || l >= sizeof q)
		return -ELOOP;
	for (size_t i = 1; i <= l; i++) {
		if (i < l && p[i] != '/')
			continue;
		memcpy(q, p, i);
		q[i] = 0;
		if (lstat(q, &sb))
			return -errno;
		if (S_ISLNK(sb.st_mode)) {
			ssize_t n = readlink(q, t, sizeof t - 1);
			if (n <= 0)
				return -EINVAL;
			t[n] = 0;
			if (!find(q) && (!(e = add(JOB_IN_LINK, q, i)) || !(e->target = strdup(t))))
				return -ENOMEM;
			if (t[0] == '/')
				snprintf(next, sizeof next, "%s%s", t, p + i);
			else
				snprintf(next, sizeof next, "%.*s/%s%s", (int)(strrchr(q, '/') - q), q, t,
					 p + i);
			normalize(next);
			return add_path(next, depth + 1);
		}
		if (i < l || find(q))
			continue;
		if (S_ISDIR(sb.st_mode))
			return add(JOB_IN_DIR, q, i) ? 0 : -ENOMEM;
		if (!S_ISREG(sb.st_mode))
			return 0;
		if (!(e = add(JOB_IN_FILE, q, i)))
			return -ENOMEM;
		e->mode = sb.st_mode & 0777;
		if (buf_read_file(&e->data, q, JOB_BLOB_MAX) < 0)
			return -EIO;
		sha256(e->data.data, e->data.len, e->hash);
		e->loaded = true;
	}
	return 0;
}

static int load(const char *list)
{
	FILE *f = fopen(list, "r");
	char line[PATH_MAX];
	int r = 0;

	if (!f)
		return -errno;
	while (!r && fgets(line, sizeof line, f)) {
		bool skip;
		line[strcspn(line, "\n")] = 0;
		skip = !line[0];
		for (int i = 0; i < S.nomit; i++)
			skip |= !strcmp(line, S.omit[i]);
		if (!skip && (r = add_path(line, 0)))
			fprintf(stderr, "treesend: %s: %s\n", line, strerror(-r));
	}
	fclose(f);
	return r;
}

/* --raw KIND:PATH[:TARGET], verbatim. */
static int add_raw(char *spec)
{
	char *p = strchr(spec, ':'), *t;
	uint8_t k;
	struct entry *e;

	if (!p)
		return -EINVAL;
	*p++ = 0;
	k = !strcmp(spec, "file") ? JOB_IN_FILE : !strcmp(spec, "link") ? JOB_IN_LINK : JOB_IN_DIR;
	t = k == JOB_IN_LINK ? strchr(p, ':') : NULL;
	if (t)
		*t++ = 0;
	if (!(e = add(k, p, strlen(p))))
		return -ENOMEM;
	if (t)
		e->target = strdup(t);
	return 0;
}

/* --travel: CC's pack appended (--swap: one file's bytes another's). */
static int add_travel(void)
{
	struct compiler_id id;
	struct tc_pack p;
	char *other = S.swap ? strchr(S.swap, '=') : NULL;
	int rc = compiler_identify(S.travel, &id);

	if (rc || (rc = toolchain_pack_build(&id, &p))) {
		fprintf(stderr, "treesend: %s: %s %s\n", S.travel, strerror(-rc), rc ? "" : p.why);
		return rc;
	}
	for (size_t i = 0; i < p.n; i++) {
		const struct job_input *in = &p.in[i];
		struct entry *e = add(in->kind, in->path, in->path_len);
		if (!e)
			return -ENOMEM;
		if (in->kind == JOB_IN_LINK) {
			e->target = strndup(in->target, in->target_len);
			continue;
		}
		e->mode = in->mode;
		if (other && !strncmp(e->path, S.swap, (size_t)(other - S.swap)) &&
		    !e->path[other - S.swap]) {
			if (buf_read_file(&e->data, other + 1, 256u << 20))
				return -EIO;
		} else {
			buf_put(&e->data, p.data[i], in->size);
		}
		sha256(e->data.data, e->data.len, e->hash);
		e->loaded = true;
	}
	S.job.t.toolchain_n = (uint32_t)p.n;
	S.job.compiler = id;
	S.job.compiler.path[0] = 0;
	if (S.fingerprint)
		snprintf(S.job.compiler.fingerprint, sizeof S.job.compiler.fingerprint, "%s",
			 S.fingerprint);
	S.have_compiler = true;
	toolchain_pack_free(&p);
	return 0;
}

/* The job's tree: every entry; blobs: all (want NULL) or those named. */
static void fill_tree(const uint8_t (*want)[32], size_t nwant)
{
	size_t nb = 0;

	free(S.in);
	free(S.blob);
	S.in = calloc(S.n + 1, sizeof *S.in);
	S.blob = calloc(S.n + 1, sizeof *S.blob);
	if (!S.in || !S.blob)
		exit(1);
	for (size_t i = 0; i < S.n; i++) {
		struct entry *e = &S.e[i];
		struct job_input *in = &S.in[i];
		in->kind = e->kind;
		in->path = e->path;
		in->path_len = (uint32_t)strlen(e->path);
		in->target = e->target;
		in->target_len = e->target ? (uint32_t)strlen(e->target) : 0;
		memcpy(in->hash, e->hash, 32);
		in->size = e->data.len;
		in->mode = e->mode;
		bool carry = e->loaded && (want ? false : S.blobs);
		for (size_t k = 0; want && k < nwant; k++)
			carry |= e->loaded && !memcmp(want[k], e->hash, 32);
		for (size_t k = 0; carry && k < nb; k++)
			carry = memcmp(S.blob[k].hash, e->hash, 32) != 0;	/* once */
		if (!carry)
			continue;
		memcpy(S.blob[nb].hash, e->hash, 32);
		S.blob[nb].data = e->data.data;
		S.blob[nb].len = e->data.len;
		if (S.bad_blob && !strcmp(e->path, S.bad_blob) && e->data.len) {
			e->data.data[0] ^= 0x20;	/* its name stays the real hash */
			S.bad_blob = NULL;
		}
		nb++;
	}
	S.job.t.in = S.in;
	S.job.t.nin = S.n;
	S.job.t.blob = S.blob;
	S.job.t.nblob = nb;
}

static void pick(const uint8_t *p, size_t len)
{
	struct job_nodeinfo ni;

	if (S.have_compiler || job_decode_nodeinfo(p, len, &ni) < 0)
		return;
	S.store_id = ni.store_id;
	for (size_t i = 0; i < ni.ncompilers && !S.have_compiler; i++)
		if (!strcmp(ni.compilers[i].kind, S.kind) && strstr(ni.compilers[i].triple, S.triple)) {
			S.job.compiler = ni.compilers[i];
			S.have_compiler = true;
			printf("store_id %016llx\n", (unsigned long long)S.store_id);
		}
	job_nodeinfo_free(&ni);
}

static void write_out(const char *path, const uint8_t *p, size_t n)
{
	int fd;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write_full(fd, p, n) < 0)
		perror(path);
	if (fd >= 0)
		close(fd);
}

static void print_result(const struct job_result *r)
{
	printf("result %d\nfarm_error %d\nerror %s\nstatus %d\nobj_len %zu\ndwo_len %zu\n"
	       "dep_len %zu\nnode_us %llu\nwall_us %llu\ncpu_us %llu\nnmissing %zu\n", S.results,
	       r->farm_error, r->o.error, r->o.status, r->o.obj_len, r->o.dwo_len, r->o.dep_len,
	       (unsigned long long)r->node_us, (unsigned long long)r->o.wall_us,
	       (unsigned long long)r->o.cpu_us, r->nmissing);
	for (size_t i = 0; i < r->nmissing; i++) {
		char hex[65];
		sha256_hex(r->missing[i], 32, hex);
		printf("missing %s\n", hex);
	}
	for (size_t i = 0; i < r->nunsent; i++)
		printf("unsent %s\n", r->unsent[i]);
	write_out(S.out[0], r->o.obj, r->o.obj_len);
	write_out(S.out[1], r->o.dwo, r->o.dwo_len);
	write_out(S.out[2], r->o.dep, r->o.dep_len);
	write_out(S.out[3], r->o.err, r->o.err_len);
}

/* After a RESULT: resend what was missing, the next repeat, or the end. */
static void next(const struct job_result *r)
{
	S.results++;
	if (r->farm_error == -ENOENT && S.resend && !S.resent) {
		S.resent = true;
		fill_tree((const uint8_t(*)[32])r->missing, r->nmissing);
		S.sent = false;
		return;
	}
	if (--S.repeat > 0) {
		S.sent = false;
		return;
	}
	if (S.telemetry)
		S.want_tele = true;
	else
		S.done = true;
}

static void on_message(struct link *l, uint32_t st, uint8_t *data, size_t len, void *u)
{
	enum job_msg_type t;
	struct job_result r;
	struct job_telemetry tl;
	(void)l, (void)st, (void)u;

	if (job_peek_type(data, len, &t) == 0 && t == JOB_MSG_NODEINFO)
		pick(data, len);
	if (S.want_tele && t == JOB_MSG_TELEMETRY && job_decode_telemetry(data, len, &tl) == 0) {
		printf("store_bytes %llu\nstore_blobs %llu\nstore_hits %llu\nstore_misses %llu\n"
		       "store_corrupt %llu\n", (unsigned long long)tl.store_bytes,
		       (unsigned long long)tl.store_blobs, (unsigned long long)tl.store_hits,
		       (unsigned long long)tl.store_misses, (unsigned long long)tl.store_corrupt);
		S.done = true;
	}
	if (t == JOB_MSG_RESULT && job_decode_result(data, len, &r) == 0 &&
	    r.job_id == S.job.job_id) {
		/* the .d as the board packed it against the job's inputs */
		if (job_result_unpack_dep(&r, S.job.t.in, S.job.t.nin, S.job.d.cwd) < 0) {
			r.farm_error = -EPROTO;
			snprintf(r.o.error, sizeof r.o.error, "dependency file does not unpack");
		}
		print_result(&r);
		next(&r);
		job_result_free(&r);
	}
	free(data);
}

static void on_up(struct link *l, const struct link_peer *peer, void *u)
{
	(void)l, (void)u;
	pick(peer->app, peer->app_len);
}

/* --bad-count: the encoded JOB's input count (right after the text
 * job's fields) made one over JOB_MAX_INPUTS. */
static void over_count(struct buf *b)
{
	struct buf t = BUF_INIT;
	uint32_t n = JOB_MAX_INPUTS + 1;

	S.job.tree = false;
	job_encode_job(&t, &S.job);
	S.job.tree = true;
	/* the tree part: u64 dict_gen, then the u32 input count */
	if (buf_ok(&t) && t.len + 12 <= b->len)
		for (int i = 0; i < 4; i++)
			b->data[t.len + 8 + (size_t)i] = (uint8_t)(n >> (24 - 8 * i));
	buf_free(&t);
}

static bool step(void *u)
{
	struct link *l = u;
	struct buf b = BUF_INIT;

	if (!S.sent && S.have_compiler && link_state(l) == LINK_UP) {
		S.job.job_id++;
		if (job_encode_job(&b, &S.job) < 0) {
			fprintf(stderr, "treesend: the job does not encode (over a cap?)\n");
			exit(1);
		}
		if (S.bad_count)
			over_count(&b);
		if (buf_ok(&b) && link_send(l, job_stream(S.job.job_id), b.data, b.len, NULL) == 0) {
			S.sent = true;
			S.sent_at = now_ms();
		}
		buf_free(&b);
	}
	if (S.sent && S.cancel_ms >= 0 && now_ms() >= S.sent_at + (uint64_t)S.cancel_ms) {
		job_encode_cancel(&b, S.job.job_id);
		if (buf_ok(&b))
			link_send(l, job_stream(S.job.job_id), b.data, b.len, NULL);
		buf_free(&b);
		S.cancel_ms = -1;
	}
	fflush(stdout);
	return S.done;
}

static int option(int c, char *a)
{
	static char *args[JOB_MAX_ARGS];
	struct job_desc *d = &S.job.d;

	d->args = args;
	switch (c) {
	case 'n': snprintf(d->input_name, sizeof d->input_name, "%s", a); break;
	case 'o': snprintf(d->output_name, sizeof d->output_name, "%s", a); break;
	case 'c': snprintf(d->cwd, sizeof d->cwd, "%s", a); break;
	case 'a': if (d->nargs < JOB_MAX_ARGS) args[d->nargs++] = a; break;
	case 'k': S.kind = a; break;
	case 't': S.triple = a; break;
	case 'd': d->want_dwo = true; break;
	case 'D': snprintf(S.job.t.deps_name, sizeof S.job.t.deps_name, "%s", a); break;
	case 'I': S.job.t.complete = false; break;
	case 'm': if (S.nomit < 64) S.omit[S.nomit++] = a; break;
	case 'b': S.blobs = strcmp(a, "none") != 0; break;
	case 'B': S.bad_blob = a; break;
	case 'r': S.resend = true; break;
	case 'R': S.repeat = atoi(a) > 0 ? atoi(a) : 1; break;
	case 'O': S.out[0] = a; break;
	case 'W': S.out[1] = a; break;
	case 'P': S.out[2] = a; break;
	case 'E': S.out[3] = a; break;
	case 'T': S.telemetry = true; break;
	case 'N': S.bad_count = true; break;
	case 'U': d->utf8 = true; break;
	case 'C': S.cancel_ms = atoi(a); break;
	case 'V': S.travel = a; break;
	case 'F': S.fingerprint = a; break;
	case 'S': S.swap = a; break;
	case 'Z': S.toolchain_n = atoi(a); break;
	default: return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option o[] = {
		{ "iface", 1, NULL, 'i' }, { "list", 1, NULL, 'l' }, { "cwd", 1, NULL, 'c' },
		{ "input-name", 1, NULL, 'n' }, { "output-name", 1, NULL, 'o' },
		{ "arg", 1, NULL, 'a' }, { "kind", 1, NULL, 'k' }, { "triple", 1, NULL, 't' },
		{ "dwo", 0, NULL, 'd' }, { "deps", 1, NULL, 'D' }, { "incomplete", 0, NULL, 'I' },
		{ "omit", 1, NULL, 'm' }, { "blobs", 1, NULL, 'b' }, { "bad-blob", 1, NULL, 'B' },
		{ "raw", 1, NULL, 'x' }, { "resend", 0, NULL, 'r' }, { "repeat", 1, NULL, 'R' },
		{ "obj-out", 1, NULL, 'O' }, { "dwo-out", 1, NULL, 'W' },
		{ "dep-out", 1, NULL, 'P' }, { "err-out", 1, NULL, 'E' },
		{ "telemetry", 0, NULL, 'T' }, { "bad-count", 0, NULL, 'N' },
		{ "utf8", 0, NULL, 'U' }, { "cancel-after-ms", 1, NULL, 'C' }, { "wait-s", 1, NULL, 'w' },
		{ "travel", 1, NULL, 'V' }, { "fingerprint", 1, NULL, 'F' }, { "swap", 1, NULL, 'S' },
		{ "toolchain-n", 1, NULL, 'Z' }, { NULL, 0, NULL, 0 },
	};
	const char *iface = NULL, *list = NULL;
	char *raw[64];
	int c, wait_s = 120, nraw = 0;
	struct link_io *io;
	struct link *l;
	struct link_callbacks cb = { .up = on_up, .message = on_message };
	struct link_config cfg = { .ident = "treesend-hub" };

	setvbuf(stdout, NULL, _IOLBF, 0);
	S.job.tree = true;
	S.job.t.complete = true;
	snprintf(S.job.d.cwd, sizeof S.job.d.cwd, "/w");
	while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		if (c == 'i')
			iface = optarg;
		else if (c == 'l')
			list = optarg;
		else if (c == 'w')
			wait_s = atoi(optarg);
		else if (c == 'x' && nraw < 64)
			raw[nraw++] = optarg;
		else if (option(c, optarg) < 0)
			return 2;
	}
	if (!iface || !list)
		return 2;
	if (load(list) < 0)
		return 1;
	for (int i = 0; i < nraw; i++)
		if (add_raw(raw[i]) < 0)
			return 2;
	if (S.travel && add_travel() < 0)
		return 1;
	if (S.toolchain_n > 0)
		S.job.t.toolchain_n = (uint32_t)S.toolchain_n;
	fill_tree(NULL, 0);
	S.job.job_id = ((uint64_t)getpid() << 24) | ((now_ms() & 0xffff) << 8);
	if (link_io_packet(iface, &io) < 0 || link_new(io, &cfg, &cb, NULL, &l) < 0) {
		fprintf(stderr, "treesend: cannot open a link on %s\n", iface);
		return 1;
	}
	c = link_run(l, wait_s * 1000, step, l);
	if (c < 0)
		fprintf(stderr, "treesend: %s (compiler %s, sent %d)\n", strerror(-c),
			S.have_compiler ? "found" : "not offered", S.sent);
	link_free(l);
	return S.done ? 0 : 1;
}
