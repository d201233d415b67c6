/*
 * client.h — what `dcc` asks of `hubd`: the boundary between the compiler
 * wrapper (hub/dcc.c, hub/args.c) and the dispatcher (hub/hubd.c).
 *
 * dcc builds a job only once it is ready to run (preprocessed), then calls
 * hub_client_compile(). The call connects to hubd's unix socket, hands over
 * the job, and waits for one of three outcomes:
 *
 *   HUB_DONE   a node compiled it: status/stdout/stderr/obj/dwo are the
 *              compiler's own. dcc writes the outputs atomically and exits
 *              with `status`.
 *   HUB_LOCAL  hubd grants a local slot: dcc compiles on this machine. The
 *              slot is held until hub_result_free() (the connection stays
 *              open), so hubd's count of local work stays true.
 *   HUB_FAILED the farm could not do it (no hubd, no node with the compiler,
 *              link lost, node restarted, timeout, refused job). `error`
 *              says why. dcc compiles locally; the build never fails for it.
 *
 * The socket path: $USBFARM_SOCKET, else /run/usbfarm/hubd.sock when
 * writable by root, else $XDG_RUNTIME_DIR/usbfarm/hubd.sock, else
 * /tmp/usbfarm-$UID/hubd.sock (hub_socket_path()).
 */
#ifndef USBFARM_HUB_CLIENT_H
#define USBFARM_HUB_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/buf.h"
#include "../lib/job.h"

struct hub_job {
	/* The compiler as dcc resolved it: an absolute path to the real binary
	 * (never dcc itself). hubd derives its identity (triple, version,
	 * fingerprint) from this path. */
	const char *compiler;
	/* The job description (lib/job.h), as it travels to the node:
	 * args for the compile step, without the compiler, the input file and
	 * -o (e.g. {"-O2", "-g", "-c"}; preprocessor-only options already
	 * removed by dcc; the node adds `<input_name> -o <output_name>`);
	 * input_name the source's own relative path (e.g. "src/foo.c"; for .S,
	 * "foo.s") and input its bytes (the directives-only text, built-ins
	 * stripped: see hub/args.h); output_name relative (it matters for
	 * -gsplit-dwarf), no "..", not absolute; cwd dcc's working directory
	 * as gcc names it (absolute: the node maps its private dir to it, so
	 * DW_AT_comp_dir is the local one). */
	struct job_desc d;
	const char *source;	/* the source file as named on the command line */
	uint64_t preprocess_us;	/* time dcc spent preprocessing (trace) */
	const char *text_why;	/* why not the tree path (NULL: none given) */
};

/* HUB_FALLBACK (tree jobs only): no board takes tree jobs now; dcc sends
 * the job the directives-only way. */
enum hub_outcome { HUB_DONE, HUB_LOCAL, HUB_FAILED, HUB_FALLBACK };

/* dcc's deadlines on hubd (ms without progress; see client.c). */
#define HUB_SEND_MS 3000
#define HUB_SILENT_MS 3000

struct hub_result {
	enum hub_outcome outcome;
	int status;		/* HUB_DONE: exit code, or 128+signal */
	struct buf out, err;	/* compiler's stdout and stderr */
	struct buf obj, dwo;	/* object file, split DWARF file */
	char node[64];		/* where it ran ("" when not on a node) */
	char error[256];	/* HUB_FAILED: why */
	uint64_t queue_us, compile_us, total_us;
	int fd;			/* internal: the open connection (HUB_LOCAL) */
	/* a tree job: the dependency file the compile wrote, the names its
	 * compile read that were not sent (HUB_FAILED), blobs and bytes sent */
	struct buf dep;
	char **unsent;
	size_t nunsent;
	size_t blobs_sent, needs;
	uint64_t blob_bytes;
	bool changed;		/* an input changed between the scan and its NEED */
};

/* A tree job (issue 11): the job without input bytes (job.d.input empty)
 * and its inputs by hash; each JOB_IN_FILE's bytes are read from its path
 * when hubd NEEDs them. */
struct hub_tree_job {
	struct hub_job job;
	struct job_tree t;	/* no blobs */
	uint64_t scan_us;
	bool learned;		/* computed includes learned for it */
};

/* Never fails: problems end in HUB_FAILED with `error` set. */
void hub_client_compile(const struct hub_job *job, struct hub_result *res);
/* The same for a tree job: SUBMIT_TREE, each NEED answered with BLOBS,
 * the ANSWER (HUB_FALLBACK: send it the directives-only way). */
void hub_client_compile_tree(const struct hub_tree_job *tj, struct hub_result *res);
/* Frees the buffers and releases a held local slot. */
void hub_result_free(struct hub_result *res);

/* Writes hubd's socket path into buf. 0 or -ENAMETOOLONG. */
int hub_socket_path(char *buf, size_t len);

#endif
