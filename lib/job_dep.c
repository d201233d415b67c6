/*
 * job_dep.c — a tree job's dependency file on the way back (job.h,
 * job_result_pack_dep / job_result_unpack_dep): compressed with LZO1X-999
 * against a dictionary both ends make alike from the job's inputs, the
 * names such a file lists (files and symlinks, each relative to the job's
 * cwd when under it, sorted by bytes, space-separated), so most of the
 * file becomes matches into names the hub already has. Packed form: u32
 * CRC-32C of the file, then lz_compress_dict's; the CRC catches two ends
 * whose dictionaries differ (LZO itself has no check: it would decode to
 * other bytes). The decoder takes untrusted bytes: lz_decompress_dict
 * checks the stream and the cap.
 */
#include "job.h"
#include "crc32c.h"
#include "lz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int by_path(const void *a, const void *b)
{
	const struct job_input *x = *(const struct job_input *const *)a;
	const struct job_input *y = *(const struct job_input *const *)b;
	size_t n = x->path_len < y->path_len ? x->path_len : y->path_len;
	int c = memcmp(x->path, y->path, n);

	return c ? c : (x->path_len > y->path_len) - (x->path_len < y->path_len);
}

int job_dep_dict(const struct job_input *in, size_t n, const char *cwd, struct buf *out)
{
	const struct job_input **v = malloc((n ? n : 1) * sizeof *v);
	size_t k = 0, cl = strlen(cwd);

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (in[i].kind == JOB_IN_FILE || in[i].kind == JOB_IN_LINK)
			v[k++] = &in[i];
	qsort(v, k, sizeof *v, by_path);
	for (size_t i = 0; i < k; i++) {
		const char *p = v[i]->path;
		size_t l = v[i]->path_len;
		if (cl > 1 && l > cl + 1 && !memcmp(p, cwd, cl) && p[cl] == '/') {
			p += cl + 1;
			l -= cl + 1;
		}
		buf_put(out, p, l);
		buf_u8(out, ' ');
	}
	free(v);
	return buf_ok(out) ? 0 : -ENOMEM;
}

int job_result_pack_dep(struct job_result *r, const struct job_input *in, size_t n,
			const char *cwd)
{
	struct buf d = BUF_INIT;
	uint8_t *z;
	size_t zl;
	int rc;

	if (r->dep_lz || r->o.dep_len < 64)
		return 0;
	rc = job_dep_dict(in, n, cwd, &d);
	if (rc == 0)
		rc = lz_compress_dict(r->o.dep, r->o.dep_len, d.data, d.len, &z, &zl);
	buf_free(&d);
	if (rc <= 0)
		return rc;
	uint32_t crc = crc32c(0, r->o.dep, r->o.dep_len);
	uint8_t *p = realloc(z, zl + 4);
	if (!p) {
		free(z);
		return -ENOMEM;
	}
	memmove(p + 4, p, zl);
	p[0] = (uint8_t)(crc >> 24), p[1] = (uint8_t)(crc >> 16);
	p[2] = (uint8_t)(crc >> 8), p[3] = (uint8_t)crc;
	free(r->dep_buf);
	r->dep_buf = p;
	r->o.dep = p;
	r->o.dep_len = zl + 4;
	r->dep_lz = true;
	return 1;
}

int job_result_unpack_dep(struct job_result *r, const struct job_input *in, size_t n,
			  const char *cwd)
{
	struct buf d = BUF_INIT;
	uint8_t *raw;
	size_t rl;
	int rc;

	if (!r->dep_lz)
		return 0;
	if (r->o.dep_len < 4)
		return -EBADMSG;
	const uint8_t *q = r->o.dep;
	uint32_t crc = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
	rc = job_dep_dict(in, n, cwd, &d);
	if (rc == 0)
		rc = lz_decompress_dict(q + 4, r->o.dep_len - 4, JOB_MAX_TEXT, d.data, d.len, &raw,
					&rl);
	buf_free(&d);
	if (rc < 0)
		return rc == -ENOMEM ? rc : -EBADMSG;
	if (crc32c(0, raw, rl) != crc) {
		free(raw);
		return -EBADMSG;	/* another dictionary than the board's */
	}
	free(r->dep_buf);
	r->dep_buf = raw;
	r->o.dep = raw;
	r->o.dep_len = rl;
	r->dep_lz = false;
	return 0;
}
