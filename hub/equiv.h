/*
 * equiv.h — when a board's compiler may serve a job asked for the hub's
 * compiler although their identities differ: a (hub compiler, board
 * compiler) pair is trusted only for the flag classes that canary compiles
 * proved to make the same bytes, and only after the one known difference
 * that is not code, the ident string in .comment, is put right.
 *
 * The rule (measured on Debian 12, see README "Farms across
 * architectures"):
 *   - a pair is a candidate only if kind, triple and version are equal
 *     (same compiler release, other package build or other host);
 *   - it is proven per flag class (enum equiv_class): the canaries are
 *     compiled by both with the class's flags, the board's objects get the
 *     hub's ident (equiv_comment_patch()), and the class is trusted only if
 *     every canary is then byte-identical; any difference makes the class
 *     "differs" for good (no job of that class is ever sent);
 *   - a job is sent under a pair only if every class its flags belong to
 *     is trusted (equiv_job_ok()); otherwise it stays local, and
 *     equiv_why() says why in words.
 * Pure functions over bytes and strings: no I/O, no logging.
 */
#ifndef USBFARM_HUB_EQUIV_H
#define USBFARM_HUB_EQUIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Flag classes proven separately: code generation that one package build
 * may do differently from another (Debian's aarch64 native gcc 12 has the
 * CVE-2023-4039 stack-protector fix, the cross build of the same release
 * does not). EQ_BASE is every job; the others are added by flags. */
enum equiv_class {
	EQ_BASE = 0,
	EQ_STACK_PROTECTOR,	/* -fstack-protector, -strong, -all, -explicit */
	EQ_STACK_CLASH,		/* -fstack-clash-protection */
	EQ_NCLASSES
};
#define EQ_MASK(c) (1u << (c))

enum equiv_state { EQ_UNPROVEN = 0, EQ_SAME, EQ_DIFFERS };

struct equiv_pair {
	char hub_fp[33], board_fp[33];
	uint8_t state[EQ_NCLASSES];	/* enum equiv_state */
};

/* The classes a compile command's flags put it in (last of -fstack-protector*
 * / -fno-stack-protector wins, as in gcc). Always includes EQ_BASE. */
unsigned equiv_classes(char *const *argv, int argc);
const char *equiv_class_name(enum equiv_class c);
/* True if every class in `classes` is EQ_SAME for the pair. */
bool equiv_job_ok(const struct equiv_pair *p, unsigned classes);
/* Why the pair does not serve a job of `classes`, in words, into out
 * ("stack-protector code differs: jobs with -fstack-protector* stay local").
 * Empty string when it does. */
void equiv_why(const struct equiv_pair *p, unsigned classes, char *out, size_t len);

/* Rewrites a relocatable ELF object (ELF32 or ELF64, little-endian) so its
 * .comment holds `ident` where it held a "GCC: (…) …" string, moving the
 * sections after it as the GNU assembler lays them out (each at the next
 * multiple of its alignment; the section headers at the next multiple of
 * 8 or 4). Refuses (-EINVAL) anything else: not ET_REL, no .comment, no
 * GCC ident in it, or an input whose own layout does not follow that rule,
 * so what it returns is what `as` would have written. 0 or -errno; out is
 * replaced. */
int equiv_comment_patch(const uint8_t *obj, size_t len, const char *ident, struct buf *out);
/* The ident string of an object's .comment (the first "GCC: " string) into
 * out. 0 or -EINVAL. */
int equiv_comment_ident(const uint8_t *obj, size_t len, char *out, size_t cap);

#endif
