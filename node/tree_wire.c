/*
 * tree_wire.c — a JOB's tree part (lib/job.h struct job_tree) meets the
 * board's store and tree (tree.h, tree_wire_*): the carried blobs put
 * into the store (each hashed: a blob must be what its name says), the
 * inputs made a manifest and checked. Both take untrusted input: the
 * decoder checked the caps and forms; manifest_check() the whole.
 */
#include "tree.h"

#include "../lib/job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tree_wire_put_blobs(struct store *st, const struct job_tree *t, char *why, size_t whylen)
{
	for (size_t i = 0; i < t->nblob; i++) {
		const struct job_blob *b = &t->blob[i];
		int r = store_put(st, b->hash, b->data, b->len);
		if (r) {
			char hex[65];
			store_hex(b->hash, hex);
			snprintf(why, whylen, "blob %.16s…: %s", hex,
				 r == -EBADMSG ? "its bytes do not hash to its name" : strerror(-r));
			return r;
		}
	}
	return 0;
}

int tree_wire_manifest(const struct job_tree *t, struct manifest *m, char *why, size_t whylen)
{
	int r = 0;

	manifest_init(m);
	for (size_t i = 0; i < t->nin && !r; i++) {
		const struct job_input *in = &t->in[i];
		switch (in->kind) {
		case JOB_IN_FILE:
			r = manifest_add_file(m, in->path, in->path_len, in->hash, in->size, in->mode);
			break;
		case JOB_IN_LINK:
			r = manifest_add_link(m, in->path, in->path_len, in->target, in->target_len);
			break;
		case JOB_IN_DIR:
			r = manifest_add_dir(m, in->path, in->path_len);
			break;
		default:
			r = -EINVAL;
		}
	}
	if (r)
		snprintf(why, whylen, "manifest: %s", strerror(-r));
	else
		r = manifest_check(m, why, whylen);
	if (r)
		manifest_free(m);
	return r;
}

/* ---- the board's input table ---- */

struct dent {
	struct job_input in;	/* path and target point into text */
	char text[];
};

struct tree_dict {
	struct dent **e;	/* JOB_DICT_MAX slots, made at first use */
	size_t n;
	uint64_t bytes;		/* text of every entry */
	uint64_t gen;		/* 0: none yet */
};

struct tree_dict *tree_dict_new(void)
{
	return calloc(1, sizeof(struct tree_dict));
}

static void dict_clear(struct tree_dict *d)
{
	for (size_t i = 0; d->e && i < JOB_DICT_MAX; i++) {
		free(d->e[i]);
		d->e[i] = NULL;
	}
	d->n = 0;
	d->bytes = 0;
}

void tree_dict_free(struct tree_dict *d)
{
	if (!d)
		return;
	dict_clear(d);
	free(d->e);
	free(d);
}

void tree_dict_stats(const struct tree_dict *d, size_t *n, uint64_t *bytes, uint64_t *gen)
{
	*n = d->n;
	*bytes = d->bytes;
	*gen = d->gen;
}

static uint64_t text_of(const struct job_input *in)
{
	return (uint64_t)in->path_len + (in->kind == JOB_IN_LINK ? in->target_len : 0);
}

/* Keeps a copy of in under in->id (replacing what was there) while the
 * table has room. 0 or -ENOMEM. */
static int dict_put(struct tree_dict *d, const struct job_input *in)
{
	struct dent *old = d->e[in->id], *e;
	uint64_t len = text_of(in), was = old ? text_of(&old->in) : 0;

	if (d->bytes - was + len > JOB_DICT_BYTES)
		return 0;	/* not kept: a ref to it will be stale */
	e = malloc(sizeof *e + len);
	if (!e)
		return -ENOMEM;
	e->in = *in;
	memcpy(e->text, in->path, in->path_len);
	e->in.path = e->text;
	if (in->kind == JOB_IN_LINK) {
		memcpy(e->text + in->path_len, in->target, in->target_len);
		e->in.target = e->text + in->path_len;
	}
	free(old);
	d->e[in->id] = e;
	d->n += !old;
	d->bytes += len - was;
	return 0;
}

/* The table for gen: emptied for another base or a newer counter. false:
 * gen is older than the table's (its refs are stale). */
static bool dict_gen(struct tree_dict *d, uint64_t gen)
{
	if (d->gen && gen >> 32 == d->gen >> 32 && (uint32_t)gen < (uint32_t)d->gen)
		return false;
	if (gen != d->gen) {
		dict_clear(d);
		d->gen = gen;
	}
	return true;
}

int tree_wire_resolve(struct tree_dict *d, struct job_tree *t, char *why, size_t whylen)
{
	struct job_input *all;
	size_t lack = 0;

	if (!t->dict_gen)
		return 0;
	if (!d->e && !(d->e = calloc(JOB_DICT_MAX, sizeof *d->e)))
		return -ENOMEM;
	if (!dict_gen(d, t->dict_gen)) {
		if (!t->nref)
			return 0;
		snprintf(why, whylen, "input table generation %016llx is older than this board's",
			 (unsigned long long)t->dict_gen);
		return -ESTALE;
	}
	for (size_t i = 0; i < t->nin; i++)
		if (t->in[i].id != JOB_DICT_NONE && dict_put(d, &t->in[i]) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < t->nref; i++)
		lack += !d->e[t->ref[i]];
	if (lack) {
		snprintf(why, whylen, "%zu of %zu inputs named by ids this board's table lacks",
			 lack, t->nref);
		return -ESTALE;
	}
	if (!t->nref)
		return 0;
	all = malloc((t->nin + t->nref) * sizeof *all);
	if (!all)
		return -ENOMEM;
	/* the refs first: the inputs sent whole keep their order at the end
	 * (job.h toolchain_n: the hub's toolchain is the last of them) */
	for (size_t i = 0; i < t->nref; i++)
		all[i] = d->e[t->ref[i]]->in;
	if (t->nin)
		memcpy(all + t->nref, t->in, t->nin * sizeof *all);
	free(t->in);
	free(t->ref);
	t->in = all;
	t->nin += t->nref;
	t->ref = NULL;
	t->nref = 0;
	return 0;
}
