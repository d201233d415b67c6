/*
 * status_tree.c — the tree-job lines of hubctl status (status_tree.h).
 */
#include "status_tree.h"

#include <inttypes.h>

static double hit_rate(const struct job_telemetry *t)
{
	uint64_t n = t->store_hits + t->store_misses;
	return n ? (double)t->store_hits / (double)n : 0.0;
}

void tree_print_json(FILE *f, const struct tree_counters *t)
{
	fprintf(f, ",\"tree\":{\"jobs\":%" PRIu64 ",\"sent\":%" PRIu64 ",\"fallback\":%" PRIu64
		   ",\"needs\":%" PRIu64 ",\"blobs\":%" PRIu64 ",\"blob_bytes\":%" PRIu64
		   ",\"resends\":%" PRIu64 ",\"unsent\":%" PRIu64 ",\"incomplete\":%" PRIu64
		   ",\"changed\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"learned\":%" PRIu64
		   ",\"text\":%" PRIu64
		   ",\"text_why\":{",
		t->jobs, t->sent, t->fallback, t->needs, t->blobs, t->blob_bytes, t->resends,
		t->unsent, t->incomplete, t->changed, t->refused, t->learned, t->text);
	for (int i = 0; i < STATUS_TEXT_WHYS && t->text_why[i].why[0]; i++) {
		fprintf(f, "%s\"", i ? "," : "");
		for (const char *p = t->text_why[i].why; *p; p++)
			if (*p == '"' || *p == '\\')
				fprintf(f, "\\%c", *p);
			else if ((unsigned char)*p >= 0x20)
				fputc(*p, f);
		fprintf(f, "\":%" PRIu64, t->text_why[i].n);
	}
	fprintf(f, "},\"text_other\":%" PRIu64 "}", t->text_other);
}

void tree_print_node_json(FILE *f, const struct status_node *n)
{
	const struct status_store *s = &n->store;
	const struct job_telemetry *t = &n->tele;

	if (!s->store_id) {
		fputs(",\"store\":null", f);
		return;
	}
	fprintf(f, ",\"store\":{\"id\":\"%016" PRIx64 "\",\"cap\":%" PRIu64 ",\"bytes\":%" PRIu64
		   ",\"blobs\":%" PRIu64 ",\"hits\":%" PRIu64 ",\"misses\":%" PRIu64
		   ",\"corrupt\":%" PRIu64 ",\"hit_rate\":%.3f,\"tree_jobs\":%" PRIu64
		   ",\"blobs_sent\":%" PRIu64 ",\"blob_bytes_sent\":%" PRIu64
		   ",\"held_blobs\":%" PRIu64 ",\"held_bytes\":%" PRIu64 "}",
		s->store_id, s->store_cap, t->store_bytes, t->store_blobs, t->store_hits,
		t->store_misses, t->store_corrupt, hit_rate(t), s->tree_jobs, s->blobs_sent,
		s->blob_bytes, s->held_blobs, s->held_bytes);
}

void tree_print_text(FILE *f, const struct tree_counters *t)
{
	fprintf(f, "tree jobs: %" PRIu64 " (%" PRIu64 " sent to boards, %" PRIu64
		   " to the directives-only path: no board with a store), %" PRIu64
		   " NEEDs, %" PRIu64 " blobs / %.1f MiB sent, %" PRIu64 " resent, %" PRIu64
		   " local for unsent inputs, %" PRIu64 " incomplete, %" PRIu64
		   " changed inputs, %" PRIu64 " refused by a board, %" PRIu64
		   " computed includes learned\n",
		t->jobs, t->sent, t->fallback, t->needs, t->blobs, (double)t->blob_bytes / 1048576.0,
		t->resends, t->unsent, t->incomplete, t->changed, t->refused, t->learned);
	if (!t->text)
		return;
	fprintf(f, "text jobs: %" PRIu64, t->text);
	for (int i = 0; i < STATUS_TEXT_WHYS && t->text_why[i].why[0]; i++)
		fprintf(f, "%s %" PRIu64 " %s", i ? "," : ":", t->text_why[i].n, t->text_why[i].why);
	if (t->text_other)
		fprintf(f, ", %" PRIu64 " other", t->text_other);
	fputc('\n', f);
}

void tree_print_node_text(FILE *f, const struct status_node *n)
{
	const struct status_store *s = &n->store;
	const struct job_telemetry *t = &n->tele;

	if (!s->store_id) {
		fprintf(f, "  store: none (no tree jobs)\n");
		return;
	}
	fprintf(f, "  store %016" PRIx64 ": %.1f of %.1f MiB, %" PRIu64 " blobs, hit rate %.1f %%"
		   " (%" PRIu64 "/%" PRIu64 "), %" PRIu64 " corrupt; %" PRIu64 " tree jobs, %"
		   PRIu64 " blobs / %.1f MiB sent\n",
		s->store_id, (double)t->store_bytes / 1048576.0, (double)s->store_cap / 1048576.0,
		t->store_blobs, 100.0 * hit_rate(t), t->store_hits, t->store_hits + t->store_misses,
		t->store_corrupt, s->tree_jobs, s->blobs_sent, (double)s->blob_bytes / 1048576.0);
}

void toolchain_print_json(FILE *f, const struct status_toolchain *t)
{
	fprintf(f, ",\"toolchain\":{\"packs\":%" PRIu64 ",\"sent\":%" PRIu64 ",\"blobs\":%" PRIu64
		   ",\"bytes\":%" PRIu64 ",\"verified\":%" PRIu64 ",\"refused\":%" PRIu64
		   ",\"jobs\":%" PRIu64 "}",
		t->packs, t->sent, t->blobs, t->bytes, t->verified, t->refused, t->travel_jobs);
}

void toolchain_print_text(FILE *f, const struct status_toolchain *t)
{
	if (!t->packs && !t->travel_jobs)
		return;
	fprintf(f, "travelling toolchains: %" PRIu64 " packed, %" PRIu64 " tree jobs with one, "
		   "%" PRIu64 " sent (%" PRIu64 " blobs / %.1f MiB), %" PRIu64 " verified by a "
		   "board, %" PRIu64 " refused\n",
		t->packs, t->travel_jobs, t->sent, t->blobs, (double)t->bytes / 1048576.0,
		t->verified, t->refused);
}
