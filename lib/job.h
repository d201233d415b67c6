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
 * hub's (compiled as source, not as preprocessed .i).
 * 3: a JOB may be a tree job (inputs by hash, struct job_tree); RESULT
 * carries the dependency file, the blobs a tree job lacked and the names
 * its compile read that were not sent; NODEINFO the node's store.
 * 4: a tree job's inputs may be kept in the board's input table (struct
 * job_tree: dict_gen, an id per input, refs to inputs sent before);
 * RESULT's dependency file may be packed against the job's inputs. */
#define JOB_WIRE_VERSION 4

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
#define JOB_MAX_INPUTS 200000u		/* entries of a tree job (= TREE_MAX_ENTRIES) */
#define JOB_INPUT_PATH_MAX 4096u	/* a path or a link target, without NUL */
#define JOB_MAX_BLOBS 200000u		/* blobs carried by one JOB */
#define JOB_BLOB_MAX (256u << 20)	/* one blob (= STORE_BLOB_MAX) */
#define JOB_MAX_NAMES 4096u		/* missing hashes / unsent names in a RESULT */
#define JOB_DICT_MAX 65536u		/* entries of a board's input table (ids 0..MAX-1) */
#define JOB_DICT_BYTES (8u << 20)	/* their paths and targets together */
#define JOB_DICT_NONE 0xffffffffu	/* an input not kept in the table */

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
	/* The user's diagnostics are UTF-8 (dcc's LC_ALL, else LC_CTYPE,
	 * else LANG names a UTF-8 charset): the node runs the compiler with
	 * LC_ALL=C.UTF-8 (gcc quotes with U+2018/U+2019), else LC_ALL=C, so
	 * stderr is the local compiler's byte for byte. Messages stay the
	 * compiler's own English (a translated locale is the hub's to keep
	 * local). JOB flag bit 2. */
	bool utf8;
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
	/* A tree job's dependency file (job_tree.deps_name), byte for byte as
	 * the compiler wrote it; empty otherwise. Capped by JOB_MAX_TEXT. */
	const uint8_t *dep;
	size_t dep_len;
};

/*
 * A tree job (issue 11): the job's inputs by hash instead of d.input. The
 * node assembles them from its store into a tree (node/tree.h) that shows
 * every input at the hub's absolute path, compiles d.input_name (as the
 * hub names it) with the real compiler, its cwd d.cwd inside the tree,
 * and writes the outputs at their hub paths (-o d.output_name, the .dwo,
 * deps_name) in directories of the tree the job may write.
 */
enum job_input_kind { JOB_IN_FILE = 0, JOB_IN_LINK = 1, JOB_IN_DIR = 2 };
struct job_input {
	uint8_t kind;		/* enum job_input_kind */
	const char *path;	/* absolute, path_len bytes, no NUL (a view) */
	uint32_t path_len;
	const char *target;	/* JOB_IN_LINK: the link's text (a view) */
	uint32_t target_len;
	uint8_t hash[32];	/* JOB_IN_FILE: SHA-256 of the content */
	uint64_t size;		/* JOB_IN_FILE */
	uint32_t mode;		/* JOB_IN_FILE: permission bits */
	/* JOB: the id the board keeps this input under in its input table
	 * (< JOB_DICT_MAX), or JOB_DICT_NONE; ignored elsewhere. */
	uint32_t id;
};
/* A blob carried with the job (the node lacked it, as far as the hub
 * knows): stored before the job is queued. */
struct job_blob {
	uint8_t hash[32];
	const uint8_t *data;	/* a view */
	size_t len;
};
/*
 * The board's input table ("paths sent once per board"): a JOB may name an
 * input the board was sent before by its id alone (ref[]), so a warm job
 * carries a few bytes per input instead of its path and hash. dict_gen is
 * the table's generation, chosen by the hub: high 32 bits its own random
 * base, low 32 bits a counter it raises when it resets its idea of the
 * table. A board keeps one table; a JOB of another base or a higher
 * counter empties it first; a JOB of a lower counter is stale. An input
 * with an id (< JOB_DICT_MAX) is stored under it (replacing what was
 * there); a ref to an id the table does not hold in that generation is
 * answered RESULT -ESTALE (the hub resets its table and sends the job
 * again, every input in full), never guessed. The table is bounded
 * (JOB_DICT_MAX ids, JOB_DICT_BYTES of text) and lives in noded's memory:
 * a restarted noded starts empty. dict_gen 0: no table (ids NONE, no refs).
 */
struct job_tree {
	struct job_input *in;	/* decode: malloc'd (job_spec_free) */
	size_t nin;
	uint64_t dict_gen;
	uint32_t *ref;		/* ids, strictly increasing; decode: malloc'd */
	size_t nref;
	struct job_blob *blob;	/* decode: malloc'd (job_spec_free) */
	size_t nblob;
	/* The dependency file the job's own -MD/-MMD writes, as the hub names
	 * it (relative to d.cwd, or absolute): returned in job_outcome.dep.
	 * "": the job has none; the node adds its own -MD -MF in its private
	 * dir for the read-set check and returns nothing of it. */
	char deps_name[JOB_NAME_MAX];
	/* The hub's scan had no gap: a failing compile is the compile's real
	 * answer. false: a failing compile is reported with farm_error
	 * -ENOEXEC (the hub learns the inputs and retries or compiles locally). */
	bool complete;
	/* 0: the board runs its own compiler of the job's identity, its
	 * toolchain bound over the tree. n > 0: the tree holds the hub's
	 * toolchain (issue 11 item 7, hub/toolchain.h): the last n entries of
	 * in[] are its files and links, the first of them the driver the job
	 * runs (a file or a link; its path is the compiler's); the board binds
	 * none of its own and checks the identity of the tree's driver. */
	uint32_t toolchain_n;
};

/* JOB: one compile. */
struct job_spec {
	uint64_t job_id;
	struct compiler_id compiler;	/* path is not sent */
	struct job_desc d;
	struct job_limits limits;
	bool tree;		/* a tree job: t is set, d.input is empty */
	struct job_tree t;
};

/* RESULT: what the node's compiler did, or why it could not run. */
struct job_result {
	uint64_t job_id;
	/* 0, or -errno: the node could not run it. Tree jobs also:
	 *  -ENOENT  blobs missing from the store (missing[]): the hub resends
	 *           them and retries once;
	 *  -EXDEV   the compile read names the job did not send (unsent[]):
	 *           the hub compiles locally and remembers them;
	 *  -ENOEXEC the compile failed and the job was not complete;
	 *  -ESTALE  the job named an input by an id the board's table does
	 *           not hold (job_tree.dict_gen): the hub sends it again. */
	int32_t farm_error;
	struct job_outcome o;
	uint64_t node_us;		/* on the node, from JOB received to RESULT */
	uint8_t (*missing)[32];	/* decode: malloc'd (job_result_free) */
	size_t nmissing;
	char **unsent;		/* decode: malloc'd (job_result_free) */
	size_t nunsent;
	/* o.dep is the dependency file packed against the job's inputs
	 * (job_result_pack_dep): unpack it with them before use. */
	bool dep_lz;
	uint8_t *dep_buf;	/* o.dep's bytes when (un)packed here (job_result_free) */
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
	/* The store (node/store.h): bytes and blobs held now, lookups that
	 * found / did not find a blob, blobs found corrupt. 0 without one. */
	uint64_t store_bytes, store_blobs, store_hits, store_misses, store_corrupt;
};

/* NODEINFO: slots and compilers. `complete` false in a HELLO blob means the
 * list was cut to fit; the node then sends a full NODEINFO message. */
struct job_nodeinfo {
	uint16_t slots;
	bool complete;
	char name[JOB_NODE_NAME_MAX];	/* human name (hostname) */
	struct compiler_id *compilers;	/* decode: malloc'd */
	size_t ncompilers;
	/* The node takes tree jobs (it has a store): its id (random, made with
	 * the store, the same across restarts while the store's content
	 * lasts; 0: no store, no tree jobs) and its cap in bytes. */
	uint64_t store_id, store_cap;
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
void job_result_free(struct job_result *r);	/* missing, unsent, dep_buf */

/* A tree job's dependency file packed for the way back (job_dep.c): LZO
 * against job_dep_dict() of the job's inputs and cwd (the hub's), which
 * both ends have. pack: 1 (packed: o.dep now points into dep_buf), 0 (not
 * worth it, unchanged), -ENOMEM. unpack: 0 (o.dep is the file, in
 * dep_buf; nothing to do if not packed), -EBADMSG (corrupt, or over
 * JOB_MAX_TEXT), -ENOMEM. */
int job_dep_dict(const struct job_input *in, size_t n, const char *cwd, struct buf *out);
int job_result_pack_dep(struct job_result *r, const struct job_input *in, size_t n,
			const char *cwd);
int job_result_unpack_dep(struct job_result *r, const struct job_input *in, size_t n,
			  const char *cwd);
int job_decode_cancel(const void *msg, size_t len, uint64_t *job_id);
int job_decode_telemetry(const void *msg, size_t len, struct job_telemetry *t);
int job_decode_nodeinfo(const void *msg, size_t len, struct job_nodeinfo *ni);
void job_nodeinfo_free(struct job_nodeinfo *ni);

#endif
