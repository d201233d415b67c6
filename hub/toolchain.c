/*
 * toolchain.c — hubd's travelling toolchains (toolchain.h): the packs,
 * built once per compiler and kept; which board gets one; what was sent,
 * verified and refused.
 */
#include "toolchain.h"
#include "nodes.h"

#include "../lib/clock.h"
#include "../lib/log.h"
#include "../lib/lz.h"
#include "../lib/sha256.h"
#include "../lib/toolchain.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

struct tc_counters tc_counters;

/* The packs: each built in a thread of its own, started at the first
 * ask, so hubd's poll loop never waits for one (its clients' deadlines,
 * hub/client.h HUB_SILENT_MS, are a few seconds). keys[i] is what the
 * main thread looks packs[i] up by; packs[i] is the builder's until
 * state[i] is READY (release/acquire), then read-only. */
enum { TC_BUILDING = 1, TC_READY = 2 };
static struct tc_pack packs[TC_MAX_PACKS];
static struct compiler_id keys[TC_MAX_PACKS];
static _Atomic int state[TC_MAX_PACKS];
static pthread_t threads[TC_MAX_PACKS];
static bool seen[TC_MAX_PACKS];	/* READY observed (logged, counted) */
static size_t npacks;

/* What each board did with the packs (bit i: packs[i]), for the store
 * it had then. */
static struct {
	uint64_t store_id;
	uint32_t verified, refused;
} boards[MAX_NODES];

static int board_of(const struct node *n);
static bool board_serves(const struct node *n, const struct tc_pack *p);

static int fail(struct tc_pack *p, int err, const char *what)
{
	snprintf(p->why, sizeof p->why, "%.160s: %s", what, strerror(-err));
	return err;
}

/* The whole of a root-owned regular file not writable by group/others
 * (fd opened without following a last link). 0 or -errno. */
static int read_trusted(const char *path, uint8_t **data, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = 0;
	size_t got = 0;

	*data = NULL;
	if (fd < 0)
		return -errno;
	if (fstat(fd, st))
		rc = -errno;
	else if (!S_ISREG(st->st_mode))
		rc = -EINVAL;
	else if (st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)))
		rc = -EPERM;
	else if ((uint64_t)st->st_size > TC_MAX_BYTES)
		rc = -EFBIG;
	else if (!(*data = malloc(st->st_size ? (size_t)st->st_size : 1)))
		rc = -ENOMEM;
	while (!rc && got < (size_t)st->st_size) {
		ssize_t n = read(fd, *data + got, (size_t)st->st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = n < 0 ? -errno : -EIO;	/* shrank while read */
		else
			got += (size_t)n;
	}
	close(fd);
	if (rc) {
		free(*data);
		*data = NULL;
	}
	return rc;
}

/* "/" then components neither empty, "." nor "..": what a board's
 * manifest check takes. */
static bool clean(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *c = p + 1;; c++) {
		size_t l = strcspn(c, "/");
		if (!l || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += l;
		if (!*c)
			return true;
	}
}

/* Entry i of p: path's link (its text) or file (its bytes, hash). */
static int add_entry(struct tc_pack *p, size_t i, char *path)
{
	struct job_input *in = &p->in[i];
	struct stat st;
	int rc;

	if (!clean(path))
		return -EINVAL;
	in->path = path;
	in->path_len = (uint32_t)strlen(path);
	if (lstat(path, &st))
		return -errno;
	if (S_ISLNK(st.st_mode)) {
		char t[4096];
		ssize_t n = readlink(path, t, sizeof t - 1);
		if (st.st_uid != 0)
			return -EPERM;
		if (n <= 0)
			return n < 0 ? -errno : -EINVAL;
		if (!(p->data[i] = malloc((size_t)n)))
			return -ENOMEM;
		memcpy(p->data[i], t, (size_t)n);
		in->kind = JOB_IN_LINK;
		in->target = (const char *)p->data[i];	/* freed as data */
		in->target_len = (uint32_t)n;
		return 0;
	}
	if ((rc = read_trusted(path, &p->data[i], &st)))
		return rc;
	in->kind = JOB_IN_FILE;
	in->size = (uint64_t)st.st_size;
	in->mode = st.st_mode & 0777;
	sha256(p->data[i], in->size, in->hash);
	p->files++;
	p->bytes += in->size;
	return p->bytes > TC_MAX_BYTES ? -EFBIG : 0;
}

/* The names of the list, the driver (p->path) first. 0 or -errno. */
static int order(struct tc_pack *p, char *list, char **names, size_t *n)
{
	*n = 0;
	names[(*n)++] = p->path;
	for (char *save = NULL, *s = strtok_r(list, ":", &save); s; s = strtok_r(NULL, ":", &save)) {
		if (!strcmp(s, p->path))
			continue;
		if (*n == TC_MAX_FILES)
			return -E2BIG;
		names[(*n)++] = s;
	}
	return 0;
}

/* The bytes of the files on the link (each alone, as a blob is). */
static uint64_t lz_size(const struct tc_pack *p)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < p->n; i++) {
		uint8_t *z;
		size_t zl;
		if (p->in[i].kind != JOB_IN_FILE)
			continue;
		if (lz_compress(p->data[i], p->in[i].size, &z, &zl) == 1) {
			sum += zl;
			free(z);
		} else {
			sum += p->in[i].size;
		}
	}
	return sum;
}

int toolchain_pack_build(const struct compiler_id *id, struct tc_pack *p)
{
	const char *cc1 = !strcmp(id->kind, "g++") ? "cc1plus"
			  : !strncmp(id->kind, "clang", 5) ? "" : "cc1";
	struct buf b = BUF_INIT;
	char *names[TC_MAX_FILES];
	uint64_t t0 = now_us();
	size_t n = 0;
	int rc;

	memset(p, 0, sizeof *p);
	p->id = *id;
	snprintf(p->path, sizeof p->path, "%s", id->path);
	if (id->path[0] != '/')
		return fail(p, -EINVAL, "not an absolute compiler path");
	rc = toolchain_paths(id->path, cc1, &b, p->why, sizeof p->why);
	if (rc) {
		buf_free(&b);
		return rc;
	}
	/* the list's strings become the pack's (b's storage is kept) */
	p->in = NULL;
	rc = order(p, (char *)b.data, names, &n);
	if (!rc && (!(p->in = calloc(n, sizeof *p->in)) || !(p->data = calloc(n, sizeof *p->data))))
		rc = -ENOMEM;
	for (size_t i = 0; i < n && !rc; i++) {
		p->n = i + 1;
		char *own = strdup(names[i]);
		if (!own) {
			rc = -ENOMEM;
			break;
		}
		if ((rc = add_entry(p, i, own))) {
			fail(p, rc, own);
			free(own);
			p->in[i].path = NULL;
		}
	}
	buf_free(&b);
	if (rc) {
		if (!p->why[0])
			fail(p, rc, id->path);
		return rc;
	}
	p->lz_bytes = lz_size(p);
	p->build_us = now_us() - t0;
	p->ok = true;
	return 0;
}

void toolchain_pack_free(struct tc_pack *p)
{
	for (size_t i = 0; i < p->n && p->in; i++) {
		free((char *)p->in[i].path);
		if (p->data)
			free(p->data[i]);
	}
	free(p->in);
	free(p->data);
	p->in = NULL;
	p->data = NULL;
	p->n = 0;
	p->ok = false;
}

static void *build_thread(void *arg)
{
	size_t i = (size_t)(uintptr_t)arg;

	if (toolchain_pack_build(&keys[i], &packs[i]))
		toolchain_pack_free(&packs[i]);	/* the why stays */
	atomic_store_explicit(&state[i], TC_READY, memory_order_release);
	return NULL;
}

/* Starts packs[i]'s build, every signal blocked in its thread (they are
 * the poll loop's). 0 or -errno. */
static int start_build(size_t i)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	atomic_store(&state[i], TC_BUILDING);
	rc = -pthread_create(&threads[i], NULL, build_thread, (void *)(uintptr_t)i);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* The first look at a finished pack: logged, counted. */
static void first_seen(size_t i)
{
	struct tc_pack *p = &packs[i];
	char d[120];

	seen[i] = true;
	compiler_describe(&keys[i], d, sizeof d);
	if (p->ok) {
		tc_counters.packs++;
		log_info("toolchain of %s (%s): %zu files, %llu bytes (%llu LZO), packed in %llu ms",
			 keys[i].path, d, p->files, (unsigned long long)p->bytes,
			 (unsigned long long)p->lz_bytes, (unsigned long long)(p->build_us / 1000));
	} else {
		log_info("toolchain of %s (%s) does not travel: %s", keys[i].path, d, p->why);
	}
}

const struct tc_pack *toolchain_pack(const struct compiler_id *id)
{
	size_t i;

	for (i = 0; i < npacks; i++)
		if (!strcmp(keys[i].path, id->path) && compiler_match(&keys[i], id))
			break;
	if (i == npacks) {
		if (npacks == TC_MAX_PACKS)
			return NULL;
		keys[npacks] = *id;
		if (start_build(npacks)) {
			log_warn("toolchain of %s: no thread to pack it", id->path);
			return NULL;	/* asked again next time */
		}
		npacks++;
		return NULL;
	}
	if (atomic_load_explicit(&state[i], memory_order_acquire) != TC_READY)
		return NULL;
	if (!seen[i])
		first_seen(i);
	return &packs[i];
}

/* The hub's machine ("x86_64"), once. */
static const char *machine(void)
{
	static struct utsname u;
	static bool done;

	if (!done && uname(&u))
		u.machine[0] = 0;
	done = true;
	return u.machine;
}

bool toolchain_board_arch_ok(const struct node *n)
{
	const char *m = machine();
	size_t ml = strlen(m);

	for (size_t i = 0; ml && i < n->ncompilers; i++)
		if (!strncmp(n->compilers[i].triple, m, ml) && n->compilers[i].triple[ml] == '-')
			return true;
	return false;
}

const struct tc_pack *toolchain_for(const struct node *n, const struct compiler_id *id)
{
	const struct tc_pack *p;

	if (!node_has_store(n) || !toolchain_board_arch_ok(n) || !id->path[0])
		return NULL;
	p = toolchain_pack(id);
	if (!p || !p->ok)
		return NULL;
	/* a board that refused this pack gets it no more (for this store) */
	int b = board_of(n), pi = (int)(p - packs);
	return b >= 0 && (boards[b].refused & (1u << pi)) ? NULL : p;
}

int toolchain_add_inputs(const struct tc_pack *p, struct job_tree *t, struct job_input **in)
{
	*in = malloc((t->nin + p->n) * sizeof **in);
	if (!*in)
		return -ENOMEM;
	if (t->nin)
		memcpy(*in, t->in, t->nin * sizeof **in);
	memcpy(*in + t->nin, p->in, p->n * sizeof **in);
	for (size_t i = 0; i < p->n; i++)	/* sent whole: never in the board's table */
		(*in)[t->nin + i].id = JOB_DICT_NONE;
	t->in = *in;
	t->nin += p->n;
	t->toolchain_n = (uint32_t)p->n;
	return 0;
}

/* A ready pack's index (ok, seen by the main thread), or -1. */
static int pack_index(const struct compiler_id *id)
{
	for (size_t i = 0; i < npacks; i++)
		if (seen[i] && packs[i].ok && !strcmp(packs[i].path, id->path) &&
		    compiler_match(&packs[i].id, id))
			return (int)i;
	return -1;
}

/* n's record, emptied when its store changed. */
static int board_of(const struct node *n)
{
	if (n->idx < 0 || n->idx >= MAX_NODES)
		return -1;
	if (boards[n->idx].store_id != n->store_id) {
		boards[n->idx].store_id = n->store_id;
		boards[n->idx].verified = boards[n->idx].refused = 0;
	}
	return n->idx;
}

void toolchain_sent(const struct node *n, const struct tc_pack *p, size_t k, uint64_t bytes)
{
	tc_counters.travel_jobs++;
	if (!k)
		return;
	log_info("%s: the hub's %s travels: %zu blobs, %llu bytes", node_label(n), p->path, k,
		 (unsigned long long)bytes);
	tc_counters.sent++;
	tc_counters.blobs += k;
	tc_counters.bytes += bytes;
}

void toolchain_result(const struct node *n, const struct compiler_id *id, int farm_error,
		      const char *why)
{
	int pi = pack_index(id), b = board_of(n);

	if (pi < 0 || b < 0 || !board_serves(n, &packs[pi]))
		return;	/* (a copy on a board with a compiler of its own) */
	if (farm_error == 0 && !(boards[b].verified & (1u << pi))) {
		boards[b].verified |= 1u << pi;
		tc_counters.verified++;
		log_info("%s runs the hub's %s from its store", node_label(n), id->path);
	} else if (farm_error == -EPERM && why && strstr(why, "toolchain")) {
		boards[b].refused |= 1u << pi;
		tc_counters.refused++;
		log_warn("%s refused the hub's %s: %s", node_label(n), id->path, why);
	}
}

/* Whether n would get pack p: ok, n's arch, none of n's own. */
static bool board_serves(const struct node *n, const struct tc_pack *p)
{
	if (!seen[p - packs] || !p->ok || !node_has_store(n) || !toolchain_board_arch_ok(n))
		return false;
	for (size_t i = 0; i < n->ncompilers; i++)
		if (compiler_match(&n->compilers[i], &p->id))
			return false;
	return true;
}

size_t toolchain_board_packs(const struct node *n, uint64_t *bytes)
{
	size_t k = 0;

	*bytes = 0;
	for (size_t i = 0; i < npacks; i++)
		if (board_serves(n, &packs[i])) {
			k++;
			*bytes += packs[i].bytes;
		}
	return k;
}

const struct tc_pack *toolchain_board_pack(const struct node *n, size_t i, bool *verified)
{
	int b = board_of(n);

	for (size_t k = 0; k < npacks; k++)
		if (board_serves(n, &packs[k]) && i-- == 0) {
			*verified = b >= 0 && (boards[b].verified & (1u << k));
			return &packs[k];
		}
	return NULL;
}

bool toolchain_verdict(const struct node *n, const struct compiler_id *id, char *v, size_t len)
{
	int pi = pack_index(id), b = board_of(n);

	if (pi < 0 || b < 0 || !board_serves(n, &packs[pi]))
		return false;
	snprintf(v, len, "serves it with the hub's own toolchain (%zu files, %llu bytes, %llu on "
		 "the link; %s)", packs[pi].files, (unsigned long long)packs[pi].bytes,
		 (unsigned long long)packs[pi].lz_bytes,
		 boards[b].verified & (1u << pi) ? "verified on it"
		 : boards[b].refused & (1u << pi) ? "it refused it" : "not used on it yet");
	return true;
}

void toolchain_free_all(void)
{
	for (size_t i = 0; i < npacks; i++) {
		pthread_join(threads[i], NULL);	/* a build under way ends first */
		toolchain_pack_free(&packs[i]);
		seen[i] = false;
	}
	npacks = 0;
}
