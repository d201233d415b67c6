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
