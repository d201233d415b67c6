/* identpatch.c — hub/equiv.c's ident rewrite from the command line, for
 * the cross-architecture tests and the canary prover:
 *   identpatch --ident OBJ          prints OBJ's "GCC: (…) …" ident
 *   identpatch OBJ IDENT OUT        OUT = OBJ with IDENT in its .comment
 *   identpatch --identify CC        prints CC's identity: kind triple version fingerprint
 * Exit 0, 1 on a refused object (message on stderr), 2 on usage. */
#include "equiv.h"
#include "compiler.h"

#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	char id[600];
	int r, fd;

	if (argc == 3 && !strcmp(argv[1], "--ident")) {
		if (buf_read_file(&in, argv[2], 256u << 20) ||
		    equiv_comment_ident(in.data, in.len, id, sizeof id)) {
			fprintf(stderr, "identpatch: %s: no GCC ident\n", argv[2]);
			return 1;
		}
		printf("%s\n", id);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--identify")) {
		struct compiler_id c;
		int e = compiler_identify(argv[2], &c);
		if (e) {
			fprintf(stderr, "identpatch: %s: not identified (%s)\n", argv[2], strerror(-e));
			return 1;
		}
		printf("%s %s %s %s\n", c.kind, c.triple, c.version, c.fingerprint);
		return 0;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: identpatch --ident OBJ | identpatch OBJ IDENT OUT\n");
		return 2;
	}
	if (buf_read_file(&in, argv[1], 256u << 20)) {
		fprintf(stderr, "identpatch: cannot read %s\n", argv[1]);
		return 1;
	}
	r = equiv_comment_patch(in.data, in.len, argv[2], &out);
	if (r) {
		fprintf(stderr, "identpatch: %s: refused (%s)\n", argv[1], strerror(-r));
		return 1;
	}
	fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_full(fd, out.data, out.len) || close(fd)) {
		fprintf(stderr, "identpatch: cannot write %s\n", argv[3]);
		return 1;
	}
	buf_free(&in);
	buf_free(&out);
	return 0;
}
