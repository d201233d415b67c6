/*
 * failover.c — deadlines, error classes, backoff and backup rules for jobs
 * on nodes, and the status codec of their counters (see failover.h).
 * Invariants: pure functions of their arguments (times passed in); a node's
 * spmb is 0 or positive; backoff_until is 0 or a time a failure set.
 */
#include "failover.h"

#include <errno.h>
#include <inttypes.h>

#define FO_ALPHA 0.3
#define FO_BACKUP_MARGIN 2.0

enum fo_class fo_classify(int farm_error)
{
	switch (-farm_error) {
	case ENOSPC: case EDQUOT: case EROFS: case EIO: case ENOENT: case EACCES:
	case EMFILE: case ENFILE: case EAGAIN: case ENOMEM: case ENAMETOOLONG:
	case EBUSY: case EINVAL: case ENOTDIR: case ELOOP:
		return FO_NODE;
	case E2BIG: case EPERM: case EPROTO: case EFBIG:
		return FO_LOCAL;
	default:
		return FO_RETRY;
	}
}

const char *fo_class_name(enum fo_class c)
{
	return c == FO_NODE ? "node error" : c == FO_LOCAL ? "job cannot run on a node" : "retry";
}

static double eff_mb(size_t input_len)
{
	size_t b = input_len < FO_MIN_BYTES ? FO_MIN_BYTES : input_len;
	return (double)b / (1024.0 * 1024.0);
}

void fo_measure(struct fo_node *n, size_t input_len, uint64_t took_us)
{
	double sample = (double)took_us / 1e6 / eff_mb(input_len);
	if (took_us == 0)
		return;
	n->spmb = n->spmb > 0 ? n->spmb + FO_ALPHA * (sample - n->spmb) : sample;
}

uint64_t fo_expected_us(const struct fo_node *n, size_t input_len)
{
	return n->spmb > 0 ? (uint64_t)(n->spmb * eff_mb(input_len) * 1e6) : 0;
}

uint64_t fo_deadline_us(const struct fo_node *n, double slowest_spmb, size_t input_len,
			uint64_t cap_us)
{
	uint64_t d;
	if (n->spmb > 0)
		d = (uint64_t)(FO_FACTOR * n->spmb * eff_mb(input_len) * 1e6);
	else if (slowest_spmb > 0)
		d = (uint64_t)(2 * FO_FACTOR * slowest_spmb * eff_mb(input_len) * 1e6);
	else
		d = FO_UNKNOWN_US;
	if (d < FO_FLOOR_US)
		d = FO_FLOOR_US;
	if (cap_us && d > cap_us)
		d = cap_us;
	return d;
}

void fo_backoff(struct fo_node *n, uint64_t now)
{
	uint64_t d = FO_BACKOFF_BASE_US;
	for (unsigned k = 0; k < n->level && d < FO_BACKOFF_MAX_US; k++)
		d *= 2;
	if (d > FO_BACKOFF_MAX_US)
		d = FO_BACKOFF_MAX_US;
	n->level++;
	n->backoffs++;
	n->backoff_until = now + d;
}

void fo_success(struct fo_node *n)
{
	n->level = 0;
	n->backoff_until = 0;
}

bool fo_available(const struct fo_node *n, uint64_t now)
{
	return n->backoff_until <= now;
}

bool fo_backup_wanted(uint64_t elapsed_us, uint64_t here_us, uint64_t there_us)
{
	uint64_t left;
	/* Unmeasured nodes (a build's first jobs) get none: the deadline covers. */
	if (elapsed_us < FO_BACKUP_MIN_US || there_us == 0 || here_us == 0)
		return false;
	/* Overran twice over (a straggler): assume it needs as long again.
	 * Just past its estimate: nearly done, no copy. */
	if (elapsed_us > 2 * here_us)
		left = elapsed_us;
	else
		left = here_us > elapsed_us ? here_us - elapsed_us : 0;
	return (double)there_us * FO_BACKUP_MARGIN < (double)left;
}

void fo_node_status(const struct fo_node *n, uint64_t now, double slowest_spmb,
		    uint64_t cap_us, struct fo_node_status *s)
{
	uint64_t left = n->backoff_until > now ? n->backoff_until - now : 0;
	s->misses = n->misses;
	s->node_errors = n->node_errors;
	s->backoffs = n->backoffs;
	s->backoff_ms = (uint32_t)(left / 1000u);
	s->deadline_ms = (uint32_t)(fo_deadline_us(n, slowest_spmb, FO_MIN_BYTES, cap_us) / 1000u);
}

void fo_encode_counters(struct buf *b, const struct fo_counters *c)
{
	buf_u64(b, c->fallbacks);
	buf_u64(b, c->deadline_misses);
	buf_u64(b, c->backups_started);
	buf_u64(b, c->backups_won);
	buf_u64(b, c->backoffs);
	buf_u64(b, c->node_errors);
	buf_u64(b, c->recovery_us_max);
	buf_u64(b, c->power_cycles);
}

void fo_decode_counters(struct cursor *c, struct fo_counters *f)
{
	f->fallbacks = cur_u64(c);
	f->deadline_misses = cur_u64(c);
	f->backups_started = cur_u64(c);
	f->backups_won = cur_u64(c);
	f->backoffs = cur_u64(c);
	f->node_errors = cur_u64(c);
	f->recovery_us_max = cur_u64(c);
	f->power_cycles = cur_u64(c);
}

void fo_encode_node(struct buf *b, const struct fo_node_status *s)
{
	buf_u64(b, s->misses);
	buf_u64(b, s->node_errors);
	buf_u64(b, s->backoffs);
	buf_u32(b, s->backoff_ms);
	buf_u32(b, s->deadline_ms);
}

void fo_decode_node(struct cursor *c, struct fo_node_status *s)
{
	s->misses = cur_u64(c);
	s->node_errors = cur_u64(c);
	s->backoffs = cur_u64(c);
	s->backoff_ms = cur_u32(c);
	s->deadline_ms = cur_u32(c);
}

void fo_print_json(FILE *f, const struct fo_counters *c)
{
	fprintf(f, ",\"failover\":{\"fallbacks\":%" PRIu64 ",\"deadline_misses\":%" PRIu64
		   ",\"backups_started\":%" PRIu64 ",\"backups_won\":%" PRIu64
		   ",\"backoffs\":%" PRIu64 ",\"node_errors\":%" PRIu64
		   ",\"recovery_ms_max\":%" PRIu64 ",\"power_cycles\":%" PRIu64 "}",
		c->fallbacks, c->deadline_misses, c->backups_started, c->backups_won, c->backoffs,
		c->node_errors, c->recovery_us_max / 1000u, c->power_cycles);
}

void fo_print_node_json(FILE *f, const struct fo_node_status *s)
{
	fprintf(f, ",\"failover\":{\"deadline_misses\":%" PRIu64 ",\"node_errors\":%" PRIu64
		   ",\"backoffs\":%" PRIu64 ",\"backoff_ms\":%u,\"deadline_ms\":%u}",
		s->misses, s->node_errors, s->backoffs, s->backoff_ms, s->deadline_ms);
}

void fo_print_text(FILE *f, const struct fo_counters *c)
{
	fprintf(f, "failover: %" PRIu64 " fell back to dcc, %" PRIu64 " deadline misses, %" PRIu64
		   " backups started (%" PRIu64 " won), %" PRIu64 " node errors, %" PRIu64
		   " backoffs, slowest recovery %.1f s, %" PRIu64 " ports power-cycled by hubd\n",
		c->fallbacks, c->deadline_misses, c->backups_started, c->backups_won,
		c->node_errors, c->backoffs, (double)c->recovery_us_max / 1e6, c->power_cycles);
}

void fo_print_node_text(FILE *f, const struct fo_node_status *s)
{
	fprintf(f, "  failover: deadline %.1f s (64 KiB job), %" PRIu64 " misses, %" PRIu64
		   " node errors, %" PRIu64 " backoffs",
		s->deadline_ms / 1000.0, s->misses, s->node_errors, s->backoffs);
	if (s->backoff_ms)
		fprintf(f, ", backed off for %.1f s", s->backoff_ms / 1000.0);
	fputc('\n', f);
}
