/* test_exec.c — the node-side executor: real runs of gcc in the sandbox (object produced, stderr captured,
 * temp dir removed; refused, timed-out and over-cap jobs). */
#include "exec.h"
#include "../lib/test.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static const char *find_gcc(void)
{
	static const char *const c[] = { "/usr/bin/gcc", "/usr/local/bin/gcc", "/bin/gcc", NULL };
	for (int i = 0; c[i]; i++)
		if (access(c[i], X_OK) == 0)
			return c[i];
	return NULL;
}

int main(void)
{
	const char *gcc = find_gcc();
	char root[] = "/tmp/test_exec.XXXXXX";
	if (!gcc || !mkdtemp(root)) {
		t_skip("exec_run", "no gcc or no temp dir");
		return t_done();
	}
	const char *src = "int f(int x) { return x * 2; }\n";

	const char *warn_src = "# 1 \"w.c\"\nint g(void) { int y; return y; }\n";

	T_CASE("exec_run_gcc_object_in_subdir") {
		char *args[] = { "-O2", "-c", "-x", "c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 4,
				      .input_name = "x.c", .input = (const uint8_t *)src,
				      .input_len = strlen(src), .output_name = "obj/sub/x.o",
				      .hub_cwd = "/home/u/proj", .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.farm_error == 0, "rc %d: %s", rc, r.error);
		T_CHECK(r.status == 0, "status %d, stderr %.*s", r.status, (int)r.err.len,
			(const char *)r.err.data);
		T_CHECK(r.obj.len > 64 && !memcmp(r.obj.data, "\177ELF", 4), "no ELF object (%zu bytes)",
			r.obj.len);
		T_CHECK(r.wall_us > 0, "no wall time");
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
	}
	T_CASE("exec_run_source_in_subdir_debug_names_hub") {
		/* compiled as the hub's src/a.c: DW_AT_name and __BASE_FILE__
		 * are "src/a.c", DW_AT_comp_dir the hub's cwd, never our dir */
		const char *dsrc = "const char *bf = __BASE_FILE__;\nint h(int x) { return x + 1; }\n";
		char *args[] = { "-g", "-O0", "-c", "-x", "c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 5,
				      .input_name = "src/deep/a.c", .input = (const uint8_t *)dsrc,
				      .input_len = strlen(dsrc), .output_name = "obj/a.o",
				      .hub_cwd = "/home/u/proj-hub", .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.status == 0 && r.obj.len > 0, "rc %d (%s) status %d: %.*s", rc,
			r.error, r.status, (int)r.err.len, (const char *)r.err.data);
		T_CHECK(r.obj.len && memmem(r.obj.data, r.obj.len, "/home/u/proj-hub", 16),
			"hub cwd not in the object");
		T_CHECK(r.obj.len && memmem(r.obj.data, r.obj.len, "src/deep/a.c", 12),
			"source name not in the object");
		T_CHECK(r.obj.len && !memmem(r.obj.data, r.obj.len, root, strlen(root)),
			"the node's dir leaked into the object");
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
	}
	T_CASE("exec_run_user_map_over_node_dir") {
		/* the user's map also matches the node's dir (/tmp/...): ours
		 * is last and wins there; the user's still applies to the hub cwd */
		const char *dsrc = "int k(void) { return 3; }\n";
		char map[300];
		snprintf(map, sizeof map, "-fdebug-prefix-map=%.200s=/USERMAP", root);
		char *args[] = { "-g", map, "-fdebug-prefix-map=/home/u=/build", "-c", "-x", "c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 6,
				      .input_name = "k.c", .input = (const uint8_t *)dsrc,
				      .input_len = strlen(dsrc), .output_name = "k.o",
				      .hub_cwd = "/home/u/projq", .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.status == 0, "rc %d (%s) status %d", rc, r.error, r.status);
		T_CHECK(r.obj.len && memmem(r.obj.data, r.obj.len, "/build/projq", 12),
			"user map not applied to the hub cwd");
		T_CHECK(r.obj.len && !memmem(r.obj.data, r.obj.len, "/USERMAP", 8),
			"user map won over ours for the node dir");
		exec_result_free(&r);
	}
	T_CASE("exec_run_bad_hub_cwd_refused") {
		char *args[] = { "-c", "-x", "c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 3,
				      .input_name = "x.c", .input = (const uint8_t *)src,
				      .input_len = strlen(src), .output_name = "x.o",
				      .hub_cwd = "home/u", .tmp_root = root };
		struct exec_result r;
		T_CHECK(exec_run(&j, &r) == -EPERM, "relative hub cwd accepted");
		exec_result_free(&r);
		char *lng = malloc(EXEC_CWD_MAX + 1);
		memset(lng, 'a', EXEC_CWD_MAX);
		lng[0] = '/';
		lng[EXEC_CWD_MAX] = 0;
		j.hub_cwd = lng;
		T_CHECK(exec_run(&j, &r) == -EPERM, "over-long hub cwd accepted");
		exec_result_free(&r);
		free(lng);
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
	}
	T_CASE("exec_run_stderr_captured") {
		char *args[] = { "-O2", "-Wall", "-c", "-x", "c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 5,
				      .input_name = "w.c", .input = (const uint8_t *)warn_src,
				      .input_len = strlen(warn_src), .output_name = "w.o",
				      .tmp_root = root };
		struct exec_result r;
		exec_run(&j, &r);
		T_CHECK(r.farm_error == 0 && r.status == 0, "farm %d status %d", r.farm_error, r.status);
		T_CHECK(r.err.len && memmem(r.err.data, r.err.len, "uninitialized", 13),
			"warning not captured: %.*s", (int)r.err.len, (const char *)r.err.data);
		T_CHECK(r.cpu_us > 0, "no cpu time");
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
	}
	T_CASE("exec_run_compile_error_is_status") {
		const char *bad = "int f( { }\n";
		char *args[] = { "-c", "-x", "c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 3,
				      .input_name = "b.c", .input = (const uint8_t *)bad,
				      .input_len = strlen(bad), .output_name = "b.o",
				      .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.status == 1, "rc %d status %d", rc, r.status);
		T_CHECK(r.err.len > 0 && r.obj.len == 0, "stderr %zu obj %zu", r.err.len, r.obj.len);
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
	}
	T_CASE("exec_run_refused_job") {
		char *args[] = { "-c", "-fplugin=/tmp/evil.so", "-x", "c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 4,
				      .input_name = "x.c", .input = (const uint8_t *)src,
				      .input_len = strlen(src), .output_name = "x.o",
				      .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == -EPERM && r.farm_error == -EPERM && strstr(r.error, "plugin"),
			"rc %d: %s", rc, r.error);
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
	}
	T_CASE("exec_run_bad_names_refused") {
		char *args[] = { "-c", "-x", "c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 3,
				      .input_name = "/../x.i", .input = (const uint8_t *)src,
				      .input_len = strlen(src), .output_name = "x.o",
				      .tmp_root = root };
		struct exec_result r;
		T_CHECK(exec_run(&j, &r) == -EPERM, "input above / accepted");
		exec_result_free(&r);
		j.input_name = "/etc/a=b/x.c";
		T_CHECK(exec_run(&j, &r) == -EPERM, "absolute input with '=' accepted");
		exec_result_free(&r);
		j.input_name = "src/";
		T_CHECK(exec_run(&j, &r) == -EPERM, "directory input accepted");
		exec_result_free(&r);
		/* "../u/x.c" from the cwd <dir>/t/u is the output "x.c" */
		j.input_name = "../u/x.c";
		j.output_name = "x.c";
		T_CHECK(exec_run(&j, &r) == -EPERM, "input = output through .. accepted");
		exec_result_free(&r);
		j.input_name = "src/../x.c";
		T_CHECK(exec_run(&j, &r) == -EPERM, "input = output through src/.. accepted");
		exec_result_free(&r);
		j.output_name = "x.o";
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		j.input_name = "src/x.c";
		j.output_name = "src/x.c";
		T_CHECK(exec_run(&j, &r) == -EPERM, "input = output accepted");
		exec_result_free(&r);
		j.input_name = "x.c";
		j.output_name = "/tmp/x.o";
		T_CHECK(exec_run(&j, &r) == -EPERM, "absolute output accepted");
		exec_result_free(&r);
		j.output_name = "x.o";
		j.compiler = "/nonexistent/gcc";
		T_CHECK(exec_run(&j, &r) == -ENOENT, "missing compiler not -ENOENT");
		exec_result_free(&r);
	}
	T_CASE("exec_run_absolute_source_names_hub") {
		/* CMake: an absolute source; the node compiles a mirror of it
		 * and maps DW_AT_name, the line table and __BASE_FILE__ back */
		const char *asrc = "# 0 \"/w/proj/src/a.c\"\n# 1 \"/w/proj/src/a.c\"\n"
				   "const char *bf = __BASE_FILE__;\nconst char *f = __FILE__;\n"
				   "int h(int x) { return x + 1; }\n";
		char *args[] = { "-g", "-O0", "-c", "-x", "c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 5,
				      .input_name = "/w/proj/src/a.c", .input = (const uint8_t *)asrc,
				      .input_len = strlen(asrc), .output_name = "CMakeFiles/x.dir/a.c.o",
				      .hub_cwd = "/w/proj/build", .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.status == 0 && r.obj.len > 0, "rc %d (%s) status %d: %.*s", rc,
			r.error, r.status, (int)r.err.len, (const char *)r.err.data);
		T_CHECK(r.obj.len && memmem(r.obj.data, r.obj.len, "/w/proj/src/a.c", 16),
			"hub source name not in the object");
		T_CHECK(r.obj.len && memmem(r.obj.data, r.obj.len, "/w/proj/build", 13),
			"hub cwd not in the object");
		T_CHECK(r.obj.len && !memmem(r.obj.data, r.obj.len, root, strlen(root)),
			"the node's dir leaked into the object");
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
		/* the user's maps apply to the hub's name, as on the hub */
		char *args2[] = { "-g", "-fdebug-prefix-map=/w/proj=/P", "-fmacro-prefix-map=/w/proj/=",
				  "-c", "-x", "c" };
		j.args = args2;
		j.nargs = 6;
		rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.status == 0, "rc %d (%s) status %d", rc, r.error, r.status);
		T_CHECK(r.obj.len && memmem(r.obj.data, r.obj.len, "/P/src/a.c", 10) &&
				memmem(r.obj.data, r.obj.len, "/P/build", 8) &&
				memmem(r.obj.data, r.obj.len, "src/a.c", 8) &&
				!memmem(r.obj.data, r.obj.len, "/w/proj", 7),
			"user maps not applied as on the hub");
		T_CHECK(r.obj.len && !memmem(r.obj.data, r.obj.len, root, strlen(root)),
			"the node's dir leaked into the object");
		exec_result_free(&r);
	}
	T_CASE("exec_run_vpath_source") {
		/* autotools VPATH: ../../src/a.c from the build dir, -gsplit-dwarf */
		const char *vsrc = "# 0 \"../../src/a.c\"\n# 1 \"../../src/a.c\"\n"
				   "const char *bf = __BASE_FILE__;\nint v(void) { return 7; }\n";
		char *args[] = { "-g", "-gsplit-dwarf", "-c", "-x", "c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 5,
				      .input_name = "../../src/a.c", .input = (const uint8_t *)vsrc,
				      .input_len = strlen(vsrc), .output_name = "sub/a.o",
				      .want_dwo = true, .hub_cwd = "/w/b/x", .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.status == 0 && r.obj.len > 0 && r.dwo.len > 0,
			"rc %d (%s) status %d: %.*s", rc, r.error, r.status, (int)r.err.len,
			(const char *)r.err.data);
		T_CHECK(r.obj.len && memmem(r.obj.data, r.obj.len, "/w/b/x", 6) &&
				memmem(r.obj.data, r.obj.len, "sub/a.dwo", 9),
			"hub cwd or dwo name not in the object");
		T_CHECK(r.dwo.len && memmem(r.dwo.data, r.dwo.len, "../../src/a.c", 13),
			"source name not in the dwo");
		T_CHECK(r.obj.len && r.dwo.len && !memmem(r.obj.data, r.obj.len, root, strlen(root)) &&
				!memmem(r.dwo.data, r.dwo.len, root, strlen(root)),
			"the node's dir leaked into the outputs");
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
	}
	T_CASE("exec_run_include_contained") {
		/* the sandbox is the boundary: a directive left in the text
		 * reads only what the sandbox shows (no /etc/passwd there) */
		const char *evil = "int a;\n# /**/ include \"/etc/passwd\"\n";
		char *args[] = { "-c", "-x", "c" };
		struct exec_job j = { .compiler = gcc, .args = args, .nargs = 3,
				      .input_name = "e.c", .input = (const uint8_t *)evil,
				      .input_len = strlen(evil), .output_name = "e.o",
				      .tmp_root = root };
		struct exec_result r;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.status == 1 && r.obj.len == 0, "rc %d (%s) status %d", rc,
			r.error, r.status);
		T_CHECK(r.err.len && memmem(r.err.data, r.err.len, "No such file", 12) &&
				!memmem(r.err.data, r.err.len, "root:", 5),
			"stderr: %.*s", (int)r.err.len, (const char *)r.err.data);
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
		/* glibc's fcntl.h case: "#include" inside a comment compiles */
		const char *fine = "/* see #include \"/etc/passwd\"\n#include <x>\n*/\nconst char *s = \"#include <x>\";\n";
		j.input = (const uint8_t *)fine;
		j.input_len = strlen(fine);
		rc = exec_run(&j, &r);
		T_CHECK(rc == 0 && r.status == 0 && r.obj.len > 0, "rc %d (%s)", rc, r.error);
		exec_result_free(&r);
	}
	T_CASE("exec_run_timeout_kills") {
		/* a compile that takes long: many template-like expansions */
		struct exec_job j;
		struct exec_result r;
		size_t cap = 4u << 20, len = 0;
		char *big = malloc(cap);
		char *args[] = { "-O3", "-c", "-x", "c" };
		for (int i = 0; len + 100 < cap; i++)
			len += (size_t)snprintf(big + len, cap - len,
						"int f%d(int x){return x*%d+f%d(x-1);}\n", i, i,
						i ? i - 1 : 0);
		memset(&j, 0, sizeof j);
		j.compiler = gcc, j.args = args, j.nargs = 4, j.input_name = "t.c";
		j.input = (const uint8_t *)big, j.input_len = len, j.output_name = "t.o";
		j.tmp_root = root;
		j.limits.timeout_ms = 200;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == -ETIMEDOUT, "rc %d (%s), status %d", rc, r.error, r.status);
		T_CHECK(r.wall_us < 5000000, "took %llu us", (unsigned long long)r.wall_us);
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
		free(big);
	}
	T_CASE("exec_run_output_cap") {
		/* stderr over the cap: one warning per function */
		size_t cap = 1u << 20, len = 0;
		char *big = malloc(cap);
		char *args[] = { "-Wall", "-c", "-x", "c" };
		struct exec_job j;
		struct exec_result r;
		for (int i = 0; len + 100 < cap && i < 3000; i++)
			len += (size_t)snprintf(big + len, cap - len,
						"int g%d(void){int y;return y;}\n", i);
		memset(&j, 0, sizeof j);
		j.compiler = gcc, j.args = args, j.nargs = 4, j.input_name = "c.c";
		j.input = (const uint8_t *)big, j.input_len = len, j.output_name = "c.o";
		j.tmp_root = root;
		j.limits.out_bytes = 4096;
		int rc = exec_run(&j, &r);
		T_CHECK(rc == -E2BIG, "rc %d (%s) err %zu", rc, r.error, r.err.len);
		T_CHECK(r.err.len <= 4096 && r.obj.len == 0, "cap not kept: err %zu obj %zu",
			r.err.len, r.obj.len);
		T_CHECK(count_entries(root) == 0, "temp dir left behind");
		exec_result_free(&r);
		free(big);
	}
	if (geteuid() == 0) {
		T_CASE("exec_run_drops_to_uid") {
			/* as a slot's own uid (no passwd entry): the job dir and
			 * output subdirs are made by it, and the output is read
			 * back only if that uid owns it, so without the drop
			 * (root would own it) this fails */
			char *args[] = { "-c", "-x", "c" };
			const char *who = "int u = 42;\n";
			struct exec_job j = { .compiler = gcc, .args = args, .nargs = 3,
					      .input_name = "u.c", .input = (const uint8_t *)who,
					      .input_len = strlen(who), .output_name = "o/u.o",
					      .tmp_root = root };
			struct exec_result r;
			j.limits.uid = 1500065001;
			j.limits.gid = 1500065001;
			chmod(root, 0755);
			int rc = exec_run(&j, &r);
			T_CHECK(rc == 0 && r.status == 0 && r.obj.len > 0, "rc %d (%s) status %d: %.*s",
				rc, r.error, r.status, (int)r.err.len, (const char *)r.err.data);
			T_CHECK(count_entries(root) == 0, "temp dir left behind");
			exec_result_free(&r);
			j.launch.insecure = true;	/* the same without namespaces */
			rc = exec_run(&j, &r);
			T_CHECK(rc == 0 && r.status == 0 && r.obj.len > 0, "insecure: rc %d (%s)", rc,
				r.error);
			exec_result_free(&r);
		}
	} else {
		t_skip("exec_run_drops_to_uid", "not root");
	}
	rmdir(root);
	return t_done();
}
