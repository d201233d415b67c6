/*
 * job.h — the hub<->node message codec: what travels in link messages between
 * hubd and noded, and the node-info blob in the link HELLO.
 *
 * Every message starts with two bytes: JOB_WIRE_VERSION and the type. A
 * receiver refuses other versions (the hub and the node then fall back to
 * local compiles, which is always safe). Integers are big-endian (buf.h /
 * cursor.h). Every string, blob and count has a cap below; a decoder refuses
 * anything over a cap, anything truncated and any trailing byte.
 *
 * Decoded byte strings (input, obj, ...) point INTO the message buffer: the
 * message must outlive the decoded struct. Arrays (args, compilers) are
 * malloc'd by the decoder and released by the matching *_free().
 *
 * Streams: a job's JOB, CANCEL and RESULT travel on stream job_stream(id), so
 * a large job never blocks another; TELEMETRY and NODEINFO on stream 0.
 */
#ifndef USBFARM_JOB_H
#define USBFARM_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "compiler.h"
#include "cursor.h"

/* 2: JOB carries the hub's cwd; the input is a source file named like the
 * hub's (compiled as source, not as preprocessed .i). */
#define JOB_WIRE_VERSION 2

enum job_msg_type {
	JOB_MSG_JOB = 1,	/* hub -> node */
	JOB_MSG_RESULT = 2,	/* node -> hub */
	JOB_MSG_CANCEL = 3,	/* hub -> node */
	JOB_MSG_TELEMETRY = 4,	/* node -> hub, periodic */
	JOB_MSG_NODEINFO = 5,	/* node -> hub: HELLO blob, or a message after up */
};

/* Caps (decoders refuse more). */
#define JOB_MAX_ARGS 1024
#define JOB_MAX_ARG_LEN 4096
#define JOB_MAX_ARGS_BYTES (256u << 10)	/* all args together */
#define JOB_NAME_MAX 512		/* input/output names, incl. NUL */
#define JOB_CWD_MAX 1024		/* hub_cwd, incl. NUL */
#define JOB_MAX_INPUT (192u << 20)
#define JOB_MAX_OUTPUT (96u << 20)	/* obj, dwo */
#define JOB_MAX_TEXT (16u << 20)	/* stdout, stderr */
#define JOB_ERROR_MAX 256
#define JOB_MAX_COMPILERS 64		/* per node */
#define JOB_NODE_NAME_MAX 64

/* The link stream a job's messages use (never 0, which is control). */
static inline uint32_t job_stream(uint64_t job_id)
{
	uint32_t s = (uint32_t)(job_id % 0xfffffffeu) + 1;
	return s;
}

struct job_limits {
	uint32_t cpu_s;
	uint64_t mem_bytes;
	uint64_t out_bytes;
	uint32_t timeout_ms;
};

/*
 * The one job description: what dcc asks for, hubd checks and forwards, and
 * noded runs. SUBMIT (hub/proto.h) and JOB (below) both carry it; dcc fills
 * it (hub/client.h), hubd passes it on whole, noded hands it to the executor.
 */
struct job_desc {
	char **args;			/* decode: malloc'd (one block, job_desc_free) */
	int nargs;
	/* The source's relative path on the hub (e.g. "src/a.c"): the node
	 * writes the input there and compiles it as that source. */
	char input_name[JOB_NAME_MAX];
	char output_name[JOB_NAME_MAX];	/* relative path for -o */
	/* dcc's working directory on the hub: absolute (starts with '/'), no
	 * NUL, < JOB_CWD_MAX. The node only names it in its
	 * -fdebug-prefix-map (DW_AT_comp_dir), never touches it. */
	char cwd[JOB_CWD_MAX];
	bool want_dwo;			/* -gsplit-dwarf: bring back the .dwo */
	const uint8_t *input;
	size_t input_len;
};

/* The one job outcome: what the compiler did. RESULT (below) and ANSWER
 * (hub/proto.h) both carry it; the byte strings are views (into a message,
 * or into the buffers of whoever produced them). */
struct job_outcome {
	int32_t status;		/* exit code or 128+signal */
	char error[JOB_ERROR_MAX];	/* why it did not run (or a note) */
	const uint8_t *out, *err, *obj, *dwo;
	size_t out_len, err_len, obj_len, dwo_len;
	uint64_t wall_us, cpu_us;	/* of the compiler; cpu_us is not in ANSWER */
};

/* JOB: one compile. */
struct job_spec {
	uint64_t job_id;
	struct compiler_id compiler;	/* path is not sent */
	struct job_desc d;
	struct job_limits limits;
};

/* RESULT: what the node's compiler did, or why it could not run. */
struct job_result {
	uint64_t job_id;
	int32_t farm_error;	/* 0, or -errno: the node could not run it */
	struct job_outcome o;
	uint64_t node_us;		/* on the node, from JOB received to RESULT */
};

/* Sets d's names and cwd: -ENAMETOOLONG (d unchanged) if one does not fit. */
int job_desc_set_names(struct job_desc *d, const char *input_name, const char *output_name,
		       const char *cwd);
/* The caps of a description every encoder checks (args, names, input);
 * the cwd is checked by each protocol (JOB wants it absolute). */
bool job_desc_ok(const struct job_desc *d);
/* The args as u16 count then strings; the decoder checks every cap. */
void job_desc_put_args(struct buf *b, const struct job_desc *d);
int job_desc_get_args(struct cursor *c, struct job_desc *d);	/* 0, -EPROTO, -ENOMEM */
void job_desc_free(struct job_desc *d);
/* The caps of an outcome (texts, outputs, error). */
bool job_outcome_ok(const struct job_outcome *o);

/* TELEMETRY. Unknown values: temp JOB_TEMP_UNKNOWN, others 0. */
#define JOB_TEMP_UNKNOWN INT32_MIN
struct job_telemetry {
	uint32_t load_milli;	/* 1-min load average x 1000 */
	uint16_t running;	/* jobs running on the node */
	uint16_t slots;
	int32_t temp_mc;	/* hottest thermal zone, milli-degC */
	uint32_t freq_cur_khz, freq_max_khz;	/* cpu0 */
	uint64_t mem_total_kb, mem_avail_kb;
};

/* NODEINFO: slots and compilers. `complete` false in a HELLO blob means the
 * list was cut to fit; the node then sends a full NODEINFO message. */
struct job_nodeinfo {
	uint16_t slots;
	bool complete;
	char name[JOB_NODE_NAME_MAX];	/* human name (hostname) */
	struct compiler_id *compilers;	/* decode: malloc'd */
	size_t ncompilers;
};

/* Reads the version and type. 0 (ok) or -EPROTO (wrong version, short). */
int job_peek_type(const void *msg, size_t len, enum job_msg_type *type);

/* Encoders append to b; check buf_ok(b) afterwards. An encoder refuses
 * (returns -EINVAL, writes nothing) a value a decoder would refuse. */
int job_encode_job(struct buf *b, const struct job_spec *j);
int job_encode_result(struct buf *b, const struct job_result *r);
int job_encode_cancel(struct buf *b, uint64_t job_id);
int job_encode_telemetry(struct buf *b, const struct job_telemetry *t);
/* Encodes as many compilers as fit in max_len bytes in all (a HELLO blob:
 * LINK_APP_HELLO_MAX), at most JOB_MAX_COMPILERS; marks it incomplete when
 * some did not fit. Returns the number encoded, or -EINVAL. */
int job_encode_nodeinfo(struct buf *b, const struct job_nodeinfo *ni, size_t max_len);

/* Decoders: 0, or -EPROTO (malformed, over a cap, trailing bytes), -ENOMEM.
 * On failure nothing needs freeing. */
int job_decode_job(const void *msg, size_t len, struct job_spec *j);
void job_spec_free(struct job_spec *j);	/* job_desc_free(&j->d) */
int job_decode_result(const void *msg, size_t len, struct job_result *r);
int job_decode_cancel(const void *msg, size_t len, uint64_t *job_id);
int job_decode_telemetry(const void *msg, size_t len, struct job_telemetry *t);
int job_decode_nodeinfo(const void *msg, size_t len, struct job_nodeinfo *ni);
void job_nodeinfo_free(struct job_nodeinfo *ni);

#endif
