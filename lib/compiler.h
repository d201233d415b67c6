/*
 * compiler.h — compiler identity: what a job names instead of a path.
 *
 * An identity is (kind, target triple, full version, fingerprint). The
 * fingerprint is a hash of what decides the compiler's output for a given
 * input and flags, built so that the same compiler installed natively on one
 * machine and as a cross compiler (same version, target and configuration)
 * on another match, and anything that could produce a different object does
 * not. A node runs a job with whatever local binary has the job's identity.
 */
#ifndef USBFARM_COMPILER_H
#define USBFARM_COMPILER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "cursor.h"

#define COMPILER_PATH_MAX 256

struct compiler_id {
	char kind[16];		/* "gcc", "g++", "clang", "clang++" */
	char triple[64];	/* -dumpmachine, e.g. "x86_64-linux-gnu" */
	char version[32];	/* -dumpfullversion / clang version, e.g. "12.2.0" */
	char fingerprint[33];	/* hex */
	char path[COMPILER_PATH_MAX];	/* local absolute path (not sent on the wire) */
};

/* Identifies the compiler at `path` (runs it; results cached by path, size
 * and mtime under $XDG_CACHE_HOME or ~/.cache/usbfarm when possible).
 * 0 or -errno (-ENOENT: not there; -EINVAL: not a compiler we know). */
int compiler_identify(const char *path, struct compiler_id *id);
/* Every compiler found on $PATH (gcc, g++, cc, c++, gcc-N, <triple>-gcc[-N],
 * clang…), deduplicated by identity. *list is malloc'd. 0 or -errno. */
int compiler_scan(struct compiler_id **list, size_t *n);
/* Same kind, triple, version and fingerprint. */
bool compiler_match(const struct compiler_id *a, const struct compiler_id *b);
/* Wire form (no path): str kind, str triple, str version, str fingerprint.
 * The one encoding of an identity (lib/job.c uses it too). decode: false
 * (and c->err set) on malformed input: unknown kind, empty or unprintable
 * triple/version, fingerprint not 32 lowercase hex digits. An encoder's
 * caller checks compiler_wire_ok() first: it is true exactly for the
 * identities compiler_decode() accepts. compiler_wire_len(): encoded size. */
void compiler_encode(struct buf *b, const struct compiler_id *id);
bool compiler_decode(struct cursor *c, struct compiler_id *id);
bool compiler_wire_ok(const struct compiler_id *id);
size_t compiler_wire_len(const struct compiler_id *id);
/* Reduces a compiler's own description to the canonical lines its
 * fingerprint hashes (lib/compiler_canon.c says which and why): v is the
 * output of `CC -v -S -x c /dev/null -o /dev/null`, as that of
 * `CC -c -x assembler -Wa,--version /dev/null -o /dev/null`. Appends to out;
 * *clang says which family named itself. 0, -EINVAL (no gcc/clang version
 * line, or no assembler line from a compiler that is not clang), -ENOMEM.
 * Pure: no I/O, so recorded outputs (tests/fixtures/compilers/) test it. */
int compiler_canon(const char *v, size_t vlen, const char *as, size_t aslen,
		   struct buf *out, bool *clang);
/* The identity compiler_identify() gives, from what the compiler said
 * when run elsewhere (a board runs a travelling driver in its sandbox):
 * the first lines of `CC -dumpmachine` and of `CC -dumpfullversion`
 * (else -dumpversion), and the two outputs compiler_canon() reads. kind
 * is the one the job names ("gcc", ...): a driver whose output names the
 * other family is refused. Pure. 0, -EINVAL, -ENOMEM; id->path empty. */
struct compiler_outputs {
	const char *machine, *version, *v, *as;
	size_t machine_len, version_len, v_len, as_len;
};
int compiler_identity_of(const char *kind, const struct compiler_outputs *o,
			 struct compiler_id *id);
/* "gcc 12.2.0 x86_64-linux-gnu 1a2b3c4d" */
void compiler_describe(const struct compiler_id *id, char *out, size_t len);

#endif
