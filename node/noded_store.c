/*
 * noded_store.c — noded's store and tree jobs at start (noded_store.h):
 * whether this node takes tree jobs, its store opened (its id kept in a
 * file made with the store), each offered compiler's toolchain probed
 * once for the tree's sandbox.
 *
 * A node takes tree jobs only where it can run them as the hub would: a
 * store, the sandbox (a tree is the compiler's root: namespaces, root),
 * and the compilers run natively (through --launcher, an emulator's
 * runner, the binaries the tree would need are the launcher's: no).
 * Otherwise it announces store_id 0 and says why in the log, once.
 */
#include "noded_store.h"
#include "log.h"
#include "store.h"
#include "tree.h"

#include "../lib/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define ID_FILE "id"

/* The store's id: read from dir/id, or made now (random, never 0) when
 * the file is absent. 0 when it cannot be had. */
static uint64_t store_id(const char *dir)
{
	char p[4200], txt[32] = "";
	uint64_t id = 0;
	int fd;

	snprintf(p, sizeof p, "%s/" ID_FILE, dir);
	fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, txt, sizeof txt - 1);
		char *e;
		close(fd);
		txt[n > 0 ? n : 0] = 0;
		id = strtoull(txt, &e, 16);
		if (e == txt || (*e && *e != '\n'))
			id = 0;
		return id;
	}
	while (!id)
		if (getrandom(&id, sizeof id, 0) != sizeof id)
			return 0;
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? store_id(dir) : 0;	/* another noded made it */
	snprintf(txt, sizeof txt, "%016" PRIx64 "\n", id);
	if (write_full(fd, txt, strlen(txt)) < 0)
		id = 0;
	close(fd);
	return id;
}

/* Each compiler's ro_paths for a tree job (NULL: not probed, none). */
static size_t probe_toolchains(struct workers_cfg *sv)
{
	size_t ok = 0;

	sv->tree.ro_paths = calloc(sv->ncompilers + 1, sizeof *sv->tree.ro_paths);
	if (!sv->tree.ro_paths)
		fatal("out of memory");
	for (size_t i = 0; i < sv->ncompilers; i++) {
		const struct compiler_id *c = &sv->compilers[i];
		struct buf b = BUF_INIT;
		char why[300] = "";
		const char *cc1 = !strcmp(c->kind, "g++") ? "cc1plus"
				  : !strncmp(c->kind, "clang", 5) ? "" : "cc1";
		size_t len;
		if (tree_toolchain(c->path, cc1, &b, why, sizeof why) == 0) {
			sv->tree.ro_paths[i] = (char *)buf_steal(&b, &len);
			ok++;
		} else {
			log_info("%s takes no tree jobs: %s", c->path, why);
		}
		buf_free(&b);
	}
	return ok;
}

void noded_store_setup(struct workers_cfg *sv, const struct noded_store_opts *o,
		       uint64_t *id, uint64_t *cap)
{
	struct store_cfg sc = { .dir = o->dir ? o->dir : STORE_DIR_DEFAULT, .cap_bytes = o->cap };
	const char *no = o->disabled ? "--no-store"
			 : sv->launch.launcher ? "the compilers run through --launcher (emulated)"
			 : sv->launch.insecure ? "--insecure-no-sandbox (a tree is the sandbox's root)"
			 : sv->refuse[0] ? "no sandbox" : NULL;
	int rc;

	*id = *cap = 0;
	sv->tree.on = false;
	if (no) {
		log_info("no tree jobs: %s", no);
		return;
	}
	rc = store_open(&sc, &sv->tree.store);
	if (rc) {
		log_warn("no tree jobs: store %s: %s", sc.dir, strerror(-rc));
		return;
	}
	sv->tree.store_dir = store_dir(sv->tree.store);
	sv->tree.store_cap = sc.cap_bytes ? sc.cap_bytes : STORE_CAP_DEFAULT;
	*id = store_id(sv->tree.store_dir);
	if (!*id) {
		log_warn("no tree jobs: store %s: no id (%s/" ID_FILE ")", sc.dir, sc.dir);
		return;
	}
	if (!probe_toolchains(sv)) {
		log_warn("no tree jobs: no compiler's toolchain could be probed");
		*id = 0;
		return;
	}
	*cap = sv->tree.store_cap;
	sv->tree.on = true;
	log_info("tree jobs: store %s (id %016llx, cap %llu MiB)", sv->tree.store_dir,
		 (unsigned long long)*id, (unsigned long long)(*cap >> 20));
}

void noded_store_telemetry(const struct workers_cfg *sv, struct job_telemetry *t)
{
	struct store_stats ss;
	uint64_t h, m, c;

	if (!sv->tree.store)
		return;
	store_sync_lru(sv->tree.store);
	store_stats(sv->tree.store, &ss);
	workers_store_counts(&h, &m, &c);
	t->store_bytes = ss.bytes;
	t->store_blobs = ss.blobs;
	t->store_hits = ss.hits + h;
	t->store_misses = ss.misses + m;
	t->store_corrupt = ss.corrupt + c;
}

void noded_store_close(struct workers_cfg *sv)
{
	if (sv->tree.ro_paths)
		for (size_t i = 0; i < sv->ncompilers; i++)
			free(sv->tree.ro_paths[i]);
	free(sv->tree.ro_paths);
	sv->tree.ro_paths = NULL;
	if (sv->tree.store)
		store_close(sv->tree.store);
	sv->tree.store = NULL;
}
