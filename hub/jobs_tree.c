/*
 * jobs_tree.c — what is a tree job's own in its life (issue 11, jobs.h):
 * SUBMIT_TREE read, the NEED to dcc for what the chosen board lacks (as
 * far as its holdings say) and dcc has not sent yet, the BLOBS kept with
 * the job, ONE JOB with the manifest and the blobs the board lacks, and
 * the RESULT codes of a tree job: -ENOENT (the board lacked blobs after
 * all: forgotten, sent again, once), -EXDEV (the compile read what was not
 * sent: HUB_FAILED with the names, for dcc's scanner), -ENOEXEC (an
 * incomplete job's compile failed: HUB_FAILED), -EPERM (the board refused
 * the tree job: HUB_FALLBACK, the directives-only path may take it). None
 * of them backs the board off: the board did what it was asked.
 */
#include "jobs.h"
#include "admit.h"
#include "client.h"
#include "conns.h"
#include "guard.h"
#include "hub.h"
#include "reasons.h"
#include "toolchain.h"

#include "../lib/clock.h"
#include "../lib/log.h"
#include "../lib/lz.h"
#include "../lib/policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void jobs_count_text(const char *why)
{
	struct tree_counters *t = &hub.tree;
	char w[64];

	snprintf(w, sizeof w, "%s", why[0] ? why : "no reason given");
	t->text++;
	for (size_t i = 0; i < STATUS_TEXT_WHYS; i++) {
		if (!t->text_why[i].why[0])
			snprintf(t->text_why[i].why, sizeof t->text_why[i].why, "%s", w);
		if (!strcmp(t->text_why[i].why, w)) {
			t->text_why[i].n++;
			return;
		}
	}
	t->text_other++;
}

size_t job_size(const struct job *j)
{
	return j->tree ? (size_t)j->tree_bytes : j->sub.d.input_len;
}

void job_tree_free(struct job *j)
{
	if (!j->tree)
		return;
	free(j->t.in);
	j->t.in = NULL;
	free(j->have);
	j->have = NULL;
	for (size_t i = 0; i < j->nframes; i++)
		free(j->blob_frames[i]);
	j->nframes = 0;
	guard_release(j->blob_held);
	j->blob_held = 0;
}

/* The names a tree job's node uses (its policy's second line; the tree
 * job's own arguments, with their preprocessor options, are checked by
 * the node that assembles the tree). 0 or -EPERM with why. */
int job_tree_admit(const struct job *j, char *why, size_t wl)
{
	if (!policy_input_name_ok(j->sub.d.input_name)) {
		snprintf(why, wl, "input name refused by the node policy");
		return -EPERM;
	}
	if (!policy_output_name_ok(j->sub.d.output_name)) {
		snprintf(why, wl, "output name refused by the node policy");
		return -EPERM;
	}
	return 0;
}

/* A .S (assembler-with-cpp): gas's own .include and .incbin read files
 * the scanner does not follow and the dependency output does not list;
 * the sandbox shows it only the tree, so such a read fails, it cannot
 * read anything else. So its failing compile is never taken as the
 * answer (the job is not complete: dcc compiles it here); a successful
 * one read only what was sent. */
static bool asm_cpp(const struct job_desc *d)
{
	for (int i = 0; i < d->nargs; i++)
		if (!strcmp(d->args[i], "-xassembler-with-cpp") ||
		    (!strcmp(d->args[i], "-x") && i + 1 < d->nargs &&
		     !strcmp(d->args[i + 1], "assembler-with-cpp")))
			return true;
	return false;
}

struct job *jobs_submit_tree(struct conn *c, uint8_t *frame, size_t len, size_t held)
{
	struct proto_submit_tree st;
	struct job *j;
	int rc = proto_decode_submit_tree(frame, len, &st);

	if (rc < 0) {
		log_warn("malformed tree job from a client: %s", strerror(-rc));
		return NULL;
	}
	j = jobs_submit_decoded(c, frame, held, &st.s);
	if (!j) {
		proto_submit_tree_free(&st);
		return NULL;
	}
	j->tree = true;
	j->t = st.t;
	j->scan_us = st.scan_us;
	if (asm_cpp(&j->sub.d))	/* gas reads what no scan or .d names */
		j->t.complete = false;
	if (st.learned)
		hub.tree.learned++;
	for (size_t i = 0; i < j->t.nin; i++)
		if (j->t.in[i].kind == JOB_IN_FILE)
			j->tree_bytes += j->t.in[i].size;
	hub.tree.jobs++;
	jobs_identify(c, j);
	log_debug("tree job %llu queued: %s (%zu inputs, %llu bytes, %s)",
		  (unsigned long long)j->id, j->sub.source[0] ? j->sub.source : j->sub.d.input_name,
		  j->t.nin, (unsigned long long)j->tree_bytes,
		  j->t.complete ? "complete" : "incomplete");
	return j;
}

/* ---- what the board lacks ---- */

static bool node_lacks(struct node *n, const struct job_input *in)
{
	return in->kind == JOB_IN_FILE && !holdings_has(n->hold, in->hash);
}

/* The NEED for n: every file n lacks that dcc has not sent yet. 0 (none),
 * 1 (need set, malloc'd), -ENOMEM. */
static int tree_need(const struct job *j, struct node *n, struct proto_need *need)
{
	size_t k = 0;

	need->idx = NULL;
	need->n = 0;
	for (size_t i = 0; i < j->t.nin; i++)
		if (node_lacks(n, &j->t.in[i]) && !(j->have && j->have[i].p))
			k++;
	if (!k)
		return 0;
	if (k > PROTO_MAX_NEED || !(need->idx = calloc(k, sizeof *need->idx)))
		return -ENOMEM;
	for (size_t i = 0; i < j->t.nin; i++)
		if (node_lacks(n, &j->t.in[i]) && !(j->have && j->have[i].p))
			need->idx[need->n++] = (uint32_t)i;
	return 1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The manifest as n's input table lets it travel (holdings.h): confirmed
 * inputs as refs (sorted ids), the others whole, with the id n keeps them
 * under. s->t.in and s->t.ref malloc'd. 0 or -ENOMEM. */
static int tree_by_table(const struct job *j, struct node *n, struct job_tree *t)
{
	t->in = malloc(j->t.nin * sizeof *t->in);
	t->ref = malloc(j->t.nin * sizeof *t->ref);
	t->nin = t->nref = 0;
	if (!t->in || !t->ref)
		return -ENOMEM;
	t->dict_gen = holdings_dict_gen(n->hold);
	for (size_t i = 0; i < j->t.nin; i++) {
		uint32_t id;
		bool confirmed;
		if (holdings_dict_lookup(n->hold, &j->t.in[i], &id, &confirmed) < 0)
			return -ENOMEM;
		if (confirmed) {
			t->ref[t->nref++] = id;
		} else {
			t->in[t->nin] = j->t.in[i];
			t->in[t->nin++].id = id;
		}
	}
	qsort(t->ref, t->nref, sizeof *t->ref, cmp_u32);
	return 0;
}

/* The blobs n lacks (all of them in j->have, or -EAGAIN), and those of
 * the pack pk (may be NULL) into t->blob (malloc'd); their bytes in
 * *bytes, the pack's share in tc[0] (blobs) and tc[1] (bytes). */
static int tree_blobs(const struct job *j, struct node *n, const struct tc_pack *pk,
		      struct job_tree *t, uint64_t *bytes, uint64_t tc[2])
{
	size_t nb = 0, np = pk ? pk->n : 0;

	for (size_t i = 0; i < j->t.nin; i++)
		if (node_lacks(n, &j->t.in[i])) {
			if (!j->have || !j->have[i].p)
				return -EAGAIN;	/* dcc has not sent it (a copy) */
			nb++;
		}
	for (size_t i = 0; i < np; i++)
		nb += node_lacks(n, &pk->in[i]);
	if (nb && !(t->blob = calloc(nb, sizeof *t->blob)))
		return -ENOMEM;
	for (size_t i = 0; i < j->t.nin + np; i++) {
		bool own = i < j->t.nin;
		const struct job_input *in = own ? &j->t.in[i] : &pk->in[i - j->t.nin];
		if (!node_lacks(n, in))
			continue;
		struct job_blob *bl = &t->blob[t->nblob++];
		memcpy(bl->hash, in->hash, 32);
		bl->data = own ? j->have[i].p : pk->data[i - j->t.nin];
		bl->len = own ? j->have[i].len : in->size;
		*bytes += bl->len;
		if (!own)
			tc[0]++, tc[1] += bl->len;
	}
	return 0;
}

/* ---- where the bytes go (hubd -v: one line per message, for
 * scripts/bench-dcc's BENCH_PARTS table) ---- */

/* A part's bytes after LZO1X-1 alone (as the link would send it). */
static size_t lz_size(const void *p, size_t n)
{
	uint8_t *out = NULL;
	size_t clen = n;

	if (n && lz_compress(p, n, &out, &clen) == 1)
		free(out);
	else
		clen = n;
	return clen;
}

/* A tree JOB's parts: its whole message, the inputs sent whole (their
 * encoding: kind, path, target, hash, size, mode, id), the refs, the
 * blobs; raw and each compressed alone. */
static void parts_job(const struct job *j, const struct node *n, const struct job_tree *t,
		      const struct buf *msg)
{
	struct buf d = BUF_INIT, r = BUF_INIT, bl = BUF_INIT;

	for (size_t i = 0; i < t->nin; i++) {
		const struct job_input *in = &t->in[i];
		buf_u8(&d, in->kind);
		buf_u16(&d, (uint16_t)in->path_len);
		buf_put(&d, in->path, in->path_len);
		if (in->kind == JOB_IN_FILE) {
			buf_put(&d, in->hash, 32);
			buf_u64(&d, in->size);
			buf_u32(&d, in->mode);
		} else if (in->kind == JOB_IN_LINK) {
			buf_u16(&d, (uint16_t)in->target_len);
			buf_put(&d, in->target, in->target_len);
		}
		buf_u32(&d, in->id);
	}
	for (size_t i = 0; i < t->nref; i++) {
		uint32_t v = i ? t->ref[i] - t->ref[i - 1] : t->ref[0];
		for (; v >= 0x80; v >>= 7)
			buf_u8(&r, (uint8_t)(v | 0x80));
		buf_u8(&r, (uint8_t)v);
	}
	for (size_t i = 0; i < t->nblob; i++)
		buf_put(&bl, t->blob[i].data, t->blob[i].len);
	log_debug("parts job %llu to %s: msg %zu lz %zu; whole %zu n %zu lz %zu; refs %zu n %zu "
		  "lz %zu; blobs %zu n %zu lz %zu", (unsigned long long)j->id, node_label(n),
		  msg->len, lz_size(msg->data, msg->len), d.len, t->nin, lz_size(d.data, d.len),
		  r.len, t->nref, lz_size(r.data, r.len), bl.len, t->nblob,
		  lz_size(bl.data, bl.len));
	buf_free(&d);
	buf_free(&r);
	buf_free(&bl);
}

void jobs_tree_on_result(struct node *n, struct job_result *r, const uint8_t *msg, size_t len)
{
	const struct job_outcome *o = &r->o;
	struct job *j = jobs_find(r->job_id);
	size_t dep_wire = o->dep_len;

	if (!j || (!j->tree && !r->dep_lz))
		return;
	if (r->dep_lz && (!j->tree ||
			  job_result_unpack_dep(r, j->t.in, j->t.nin, j->sub.d.cwd) < 0)) {
		r->farm_error = -EPROTO;	/* the board's answer is unusable */
		snprintf(r->o.error, sizeof r->o.error, "%s's dependency file does not unpack",
			 node_label(n));
		return;
	}
	/* a RESULT proves the board had the JOB (its definitions applied),
	 * whether or not the link's acknowledgement came first */
	if (n->hold && j->node == n && j->msg_id)
		holdings_dict_acked(n->hold, j->msg_id);
	else if (n->hold && j->copy == n && j->copy_msg_id)
		holdings_dict_acked(n->hold, j->copy_msg_id);
	if (!hub.verbose)
		return;
	log_debug("parts result %llu from %s: msg %zu lz %zu; obj %zu lz %zu; dep %zu lz %zu "
		  "packed %zu; out %zu err %zu lz %zu", (unsigned long long)r->job_id, node_label(n),
		  len, lz_size(msg, len), o->obj_len, lz_size(o->obj, o->obj_len), o->dep_len,
		  lz_size(o->dep, o->dep_len), dep_wire, o->out_len, o->err_len,
		  lz_size(o->err, o->err_len) + lz_size(o->out, o->out_len));
}

/* What a sent JOB tells n's holdings: the blobs it carried are held (as
 * soon as it is on its way: optimistic), its definitions pending. */
static void tree_sent(struct node *n, const struct job_tree *t, uint64_t msg_id)
{
	uint32_t *ids = t->ref;	/* reused: the refs are encoded already */
	size_t k = 0;

	for (size_t i = 0; i < t->nblob; i++)
		(void)holdings_add(n->hold, t->blob[i].hash, t->blob[i].len);
	for (size_t i = 0; i < t->nin && ids; i++)
		if (t->in[i].id != JOB_DICT_NONE)
			ids[k++] = t->in[i].id;
	holdings_dict_sent(n->hold, msg_id, ids, k);
}

/* The JOB for n: the manifest (by n's input table) and the blobs n lacks.
 * 0 or -errno. */
int job_send_tree(struct job *j, struct node *n, struct job_spec *s, uint64_t *msg_id)
{
	struct buf b = BUF_INIT;
	uint64_t bytes = 0, tc[2] = { 0, 0 };
	int rc;
	const struct pair_entry *pe;
	/* the hub's toolchain in the tree: n offers no compiler of the job's
	 * (toolchain.h); its files follow the job's inputs, sent whole */
	const struct tc_pack *pk = node_compiler(n, j, &pe) ? NULL : toolchain_for(n, &j->cid);
	struct job_input *own, *all;

	s->tree = true;
	s->t = j->t;
	s->t.blob = NULL;
	s->t.nblob = 0;
	rc = tree_by_table(j, n, &s->t);
	own = s->t.in;
	if (rc == 0 && pk && (rc = toolchain_add_inputs(pk, &s->t, &all)) == 0)
		free(own);	/* copied into all, now s->t.in */
	if (rc == 0)
		rc = tree_blobs(j, n, pk, &s->t, &bytes, tc);
	j->travel = pk != NULL;
	if (rc == 0)
		rc = job_encode_job(&b, s);
	if (rc == 0 && !buf_ok(&b))
		rc = -ENOMEM;
	if (rc == 0)
		rc = link_send(n->link, job_stream(j->id), b.data, b.len, msg_id);
	if (rc == 0) {
		if (hub.verbose)
			parts_job(j, n, &s->t, &b);
		tree_sent(n, &s->t, *msg_id);
		n->bytes_out += b.len;
		n->tree_jobs++;
		n->blobs_sent += s->t.nblob;
		n->blob_bytes_sent += bytes;
		hub.tree.sent++;
		hub.tree.blobs += s->t.nblob;
		hub.tree.blob_bytes += bytes;
		if (pk)
			toolchain_sent(n, pk, tc[0], tc[1]);
	}
	free(s->t.blob);
	free(s->t.in);
	free(s->t.ref);
	s->t.in = NULL;
	s->t.ref = NULL;
	s->t.blob = NULL;
	buf_free(&b);
	return rc;
}

int job_tree_dispatch(struct job *j, struct node *n, uint64_t *msg_id)
{
	struct proto_need need;
	int rc = tree_need(j, n, &need);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return job_send(j, n, msg_id);
	if (!j->conn || !conn_waiting(j->conn) || j->nframes >= JOB_BLOB_FRAMES) {
		proto_need_free(&need);
		return -ENOBUFS;
	}
	rc = conn_need(j->conn, &need);
	log_debug("job %llu: NEED %zu blobs for %s", (unsigned long long)j->id, need.n,
		  node_label(n));
	proto_need_free(&need);
	if (rc < 0)
		return rc;
	hub.tree.needs++;
	j->need_out = true;
	return 1;
}

/* ---- BLOBS ---- */

/* The BLOBS answers j's NEED: every index in range and a file's, each
 * blob's length its input's size. false with why. */
static bool blobs_fit(const struct job *j, const struct proto_blobs *bl, char *why, size_t wl)
{
	for (size_t i = 0; i < bl->n; i++) {
		const struct proto_blob *x = &bl->b[i];
		const struct job_input *in = x->idx < j->t.nin ? &j->t.in[x->idx] : NULL;
		if (!in || in->kind != JOB_IN_FILE) {
			snprintf(why, wl, "BLOBS names input %u, not a file of the job", x->idx);
			return false;
		}
		if (x->changed) {
			snprintf(why, wl, "input changed since the scan: %.*s", (int)in->path_len,
				 in->path);
			return false;
		}
		if (x->len != in->size) {
			snprintf(why, wl, "BLOBS: %zu bytes for %.*s, %llu submitted", x->len,
				 (int)in->path_len, in->path, (unsigned long long)in->size);
			return false;
		}
	}
	return true;
}

/* Keeps the frame and points j->have at its blobs: 0 or -ENOMEM. */
static int blobs_keep(struct job *j, uint8_t *frame, size_t held, const struct proto_blobs *bl)
{
	if (!j->have && !(j->have = calloc(j->t.nin, sizeof *j->have)))
		return -ENOMEM;
	j->blob_frames[j->nframes++] = frame;
	j->blob_held += held;
	for (size_t i = 0; i < bl->n; i++) {
		j->have[bl->b[i].idx].p = bl->b[i].data;
		j->have[bl->b[i].idx].len = bl->b[i].len;
	}
	return 0;
}

/* A NEED answered while j is still NEED: the JOB goes to its node now. */
static void blobs_send(struct job *j)
{
	struct node *n = j->node;
	uint64_t msg_id = 0;
	int rc = job_send(j, n, &msg_id);

	if (rc < 0) {
		char why[120];
		snprintf(why, sizeof why, "cannot send the tree job: %s", strerror(-rc));
		job_retry(j, why);
		return;
	}
	job_dispatched(j, n, msg_id, true);
}

void jobs_on_blobs(struct job *j, uint8_t *frame, size_t len, size_t held)
{
	struct proto_blobs bl;
	char why[200];
	int rc = proto_decode_blobs(frame, len, &bl);

	j->need_out = false;
	hub.need_sched = true;
	if (rc < 0 || !blobs_fit(j, &bl, why, sizeof why)) {
		if (rc < 0)
			snprintf(why, sizeof why, "malformed BLOBS: %s", strerror(-rc));
		else if (strstr(why, "changed"))
			hub.tree.changed++;
		proto_blobs_free(&bl);
		free(frame);
		guard_release(held);
		job_release_node(j);
		job_fail(j, why);
		return;
	}
	rc = blobs_keep(j, frame, held, &bl);
	proto_blobs_free(&bl);
	if (rc < 0) {
		free(frame);
		guard_release(held);
		job_release_node(j);
		job_fail(j, "no memory for the job's blobs");
		return;
	}
	log_debug("job %llu: BLOBS %zu bytes", (unsigned long long)j->id, len);
	if (j->state == JOB_NEED)
		blobs_send(j);
	/* else the job was retried meanwhile: it waits, blobs in hand */
}

/* ---- RESULT ---- */

/* -ENOENT: the board lacked blobs hubd believed it held. */
static void result_missing(struct job *j, struct node *n, const struct job_result *r)
{
	char why[160];

	for (size_t i = 0; i < r->nmissing; i++)
		holdings_forget(n->hold, r->missing[i]);
	if (j->resends >= 1) {
		snprintf(why, sizeof why, "%s lacked %zu blobs again after a resend",
			 node_label(n), r->nmissing);
		job_fail(j, why);
		return;
	}
	j->resends++;
	hub.tree.resends++;
	log_info("job %llu: %s lacked %zu blobs: sending them again", (unsigned long long)j->id,
		 node_label(n), r->nmissing);
	job_resend(j);
}

/* -ESTALE: the board's input table lacks what hubd named by id (noded
 * restarted, or a JOB of an older generation): the table starts over and
 * the job goes again, every input whole (at most twice: it may meet two
 * boards' stale tables). */
static void result_stale(struct job *j, struct node *n, const struct job_result *r)
{
	holdings_dict_reset(n->hold);
	if (j->stale_resends >= 2) {	/* each resets a board's table: twice is plenty */
		char why[200];
		snprintf(why, sizeof why, "%s: its input table was stale again: %.120s",
			 node_label(n), r->o.error);
		job_fail(j, why);
		return;
	}
	j->stale_resends++;
	hub.tree.resends++;
	log_info("job %llu: %s: %s: its input table starts over", (unsigned long long)j->id,
		 node_label(n), r->o.error);
	job_resend(j);
}

/* -EXDEV: the unsent names go back to dcc (its scanner remembers them). */
static void result_unsent(struct job *j, struct node *n, const struct job_result *r)
{
	struct proto_answer a = { .outcome = HUB_FAILED };

	hub.tree.unsent++;
	snprintf(a.o.error, sizeof a.o.error, "the compile on %s read %zu files not sent "
		 "(first: %.120s)", node_label(n), r->nunsent, r->nunsent ? r->unsent[0] : "?");
	a.unsent = r->unsent;
	a.nunsent = r->nunsent;
	job_fail_with(j, &a);
}

/* -EPERM: the board refused the tree job (its arguments, its names): the
 * directives-only path may still take it. */
static void result_refused(struct job *j, struct node *n, const struct job_result *r)
{
	struct proto_answer a = { .outcome = HUB_FALLBACK };

	hub.tree.refused++;
	snprintf(a.o.error, sizeof a.o.error, "%.40s refused the tree job: %.150s", node_label(n),
		 r->o.error[0] ? r->o.error : "refused");
	a.queue_us = now_us() - j->t_submit;
	log_info("job %llu: %s", (unsigned long long)j->id, a.o.error);
	job_finish(j, &a, JOB_HANDED_BACK, JE_HAND_BACK);
}

bool jobs_tree_result(struct job *j, struct node *n, const struct job_result *r)
{
	if (!j->tree || (r->farm_error != -ENOENT && r->farm_error != -EXDEV &&
			 r->farm_error != -ENOEXEC && r->farm_error != -EPERM &&
			 r->farm_error != -ESTALE))
		return false;
	job_release_node(j);
	if (r->farm_error == -ENOENT) {
		result_missing(j, n, r);
	} else if (r->farm_error == -ESTALE) {
		result_stale(j, n, r);
	} else if (r->farm_error == -EXDEV) {
		result_unsent(j, n, r);
	} else if (r->farm_error == -EPERM) {
		result_refused(j, n, r);
	} else {
		hub.tree.incomplete++;
		job_fail(j, "the compile failed and the scan was incomplete");
	}
	return true;
}
