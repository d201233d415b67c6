/* fuzz_tree.c — the board's two parsers of untrusted bytes (node/tree.c,
 * node/tree_deps.c). Input: the first byte picks the mode.
 *  odd: a manifest as NUL-free records "kind path \x01 target \n" (kind
 *       f, l, d; the bytes after the kind are the path up to \x01 or the
 *       end): every accepted manifest is sorted, duplicate-free, and no
 *       entry lies below a symlink or file of it.
 *  even: a compile's dependency text checked against a fixed manifest
 *       (symlinks included, a loop too): the count returned equals the
 *       names listed, each name a non-empty string. */
#include "tree.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void fuzz_manifest(const uint8_t *d, size_t n)
{
	struct manifest m;
	uint8_t h[STORE_HASH_LEN] = { 0 };
	char why[256];

	manifest_init(&m);
	while (n) {
		const uint8_t *e = memchr(d, '\n', n);
		size_t l = e ? (size_t)(e - d) : n;
		if (l >= 1) {
			const uint8_t *sep = memchr(d + 1, 1, l - 1);
			size_t pl = sep ? (size_t)(sep - d - 1) : l - 1;
			const char *p = (const char *)d + 1;
			if (d[0] == 'l' && sep)
				manifest_add_link(&m, p, pl, (const char *)sep + 1,
						  l - 1 - pl - 1);
			else if (d[0] == 'd')
				manifest_add_dir(&m, p, pl);
			else
				manifest_add_file(&m, p, pl, h, l, 0644);
		}
		d += l + (e ? 1 : 0);
		n -= l + (e ? 1 : 0);
	}
	if (manifest_check(&m, why, sizeof why) == 0) {
		for (size_t i = 0; i < m.n; i++) {
			if (i && strcmp(m.e[i - 1].path, m.e[i].path) >= 0)
				__builtin_trap();
			char *p = strdup(m.e[i].path);
			for (char *s = p ? strchr(p + 1, '/') : NULL; s; s = strchr(s + 1, '/')) {
				*s = 0;
				const struct tree_entry *a = manifest_find(&m, p);
				*s = '/';
				if (a && a->kind != TREE_DIR)
					__builtin_trap();
			}
			free(p);
		}
	}
	manifest_free(&m);
}

static void fuzz_deps(const uint8_t *d, size_t n)
{
	static const char *const files[] = { "/w/a.c", "/usr/include/stdio.h", "/w/x y.h",
					     "/usr/include/asm-generic/t.h" };
	static const char *const links[][2] = { { "/usr/include/asm", "asm-generic" },
						{ "/w/up", ".." }, { "/l1", "/l2" }, { "/l2", "/l1" } };
	struct manifest m;
	struct tree_names u;
	uint8_t h[STORE_HASH_LEN] = { 0 };
	char why[128];

	manifest_init(&m);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		manifest_add_file(&m, files[i], strlen(files[i]), h, 1, 0644);
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
		manifest_add_link(&m, links[i][0], strlen(links[i][0]), links[i][1],
				  strlen(links[i][1]));
	if (manifest_check(&m, why, sizeof why))
		__builtin_trap();
	int r = tree_readset_check(&m, (const char *)d, n, "/w", &u);
	if (r >= 0) {
		if ((size_t)r != u.n)
			__builtin_trap();
		for (size_t i = 0; i < u.n; i++)
			if (!u.v[i][0])
				__builtin_trap();
		tree_names_free(&u);
	}
	manifest_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_manifest(data + 1, size - 1);
	else
		fuzz_deps(data + 1, size - 1);
	return 0;
}
