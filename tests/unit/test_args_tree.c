/* test_args_tree.c — the tree path's arguments and dependency file name
 * (hub/args_tree.c) for commands planned with opts.tree: what the board
 * gets (no compiler, source, -o), the .d name gcc would write, and what
 * the tree path takes that the directives-only path keeps local. */
#include "args_tree.h"
#include "../lib/test.h"

#include <string.h>

struct tcase {
	const char *name;
	const char *argv[20];
	bool clang;
	int want;		/* 0: tree; 1: not the tree path */
	const char *args;	/* the board's arguments, space-joined */
	const char *deps;
};

static const struct tcase cases[] = {
	{ "plain", { "gcc", "-O2", "-Iinc", "-c", "a.c", "-o", "obj/a.o" }, false, 0,
	  "-O2 -Iinc -c -x c", "" },
	{ "md_default_from_o", { "gcc", "-MD", "-c", "src/a.c", "-o", "obj/a.o" }, false, 0,
	  "-MD -c -x c", "obj/a.d" },
	{ "mmd_default_no_o", { "gcc", "-MMD", "-MP", "-c", "src/a.c" }, false, 0,
	  "-MMD -MP -c -x c", "a.d" },
	{ "mf_separate", { "gcc", "-MD", "-MF", "deps/a.d", "-MT", "x", "-c", "a.c" }, false, 0,
	  "-MD -MF deps/a.d -MT x -c -x c", "deps/a.d" },
	{ "mf_attached", { "gcc", "-MMD", "-MFa.dep", "-c", "a.c", "-oa.o" }, false, 0,
	  "-MMD -MFa.dep -c -x c", "a.dep" },
	{ "wp_md_kernel", { "gcc", "-Wp,-MMD,kernel/.fork.o.d", "-c", "-o", "kernel/fork.o",
			    "kernel/fork.c" }, false, 0,
	  "-Wp,-MMD,kernel/.fork.o.d -c -x c", "kernel/.fork.o.d" },
	{ "pedantic_on_tree", { "gcc", "-pedantic", "-Wsystem-headers", "-c", "a.c" }, false, 0,
	  "-pedantic -Wsystem-headers -c -x c", "" },
	{ "unused_macros_on_tree", { "gcc", "-Wunused-macros", "-c", "a.c" }, false, 0,
	  "-Wunused-macros -c -x c", "" },
	{ "clang_on_tree", { "clang", "-O2", "-c", "a.c" }, true, 0, "-O2 -c -x c", "" },
	{ "include_value_named_like_source", { "gcc", "-include", "a.c", "-c", "a.c" }, false, 0,
	  "-include a.c -c -x c", "" },
	{ "split_dwarf", { "gcc", "-g", "-gsplit-dwarf", "-c", "a.c", "-o", "a.o" }, false, 0,
	  "-g -gsplit-dwarf -c -x c", "" },
	{ "cxx_driver_lang", { "g++", "-c", "a.cc" }, false, 0, "-c -x c++", "" },
	{ "md_with_absolute_o", { "gcc", "-MD", "-c", "a.c", "-o", "/tmp/x/a.o" }, false, 1, NULL,
	  NULL },
	{ "kernel_like", { "gcc", "-nostdinc", "-isystem", "/usr/lib/gcc/x86_64-linux-gnu/12/include",
			   "-Iinclude", "-include", "include/linux/kconfig.h", "-D__KERNEL__",
			   "-fmacro-prefix-map=./=", "-Wp,-MMD,init/.main.o.d", "-c", "-o",
			   "init/main.o", "init/main.c" }, false, 0,
	  "-nostdinc -isystem /usr/lib/gcc/x86_64-linux-gnu/12/include -Iinclude -include "
	  "include/linux/kconfig.h -D__KERNEL__ -fmacro-prefix-map=./= -Wp,-MMD,init/.main.o.d "
	  "-c -x c", "init/.main.o.d" },
	{ "board_would_refuse_MG", { "gcc", "-MD", "-MG", "-c", "a.c" }, false, 1, NULL, NULL },
	{ "wp_other_dep_option", { "gcc", "-Wp,-MD,a.d,-MT,x", "-c", "a.c" }, false, 1, NULL,
	  NULL },
	{ "assembler_cpp_on_tree", { "gcc", "-c", "a.S" }, false, 0, "-c -x assembler-with-cpp",
	  "" },
	{ "kernel_S", { "gcc", "-nostdinc", "-Iinclude", "-D__ASSEMBLY__", "-Wa,--noexecstack",
			"-Wp,-MMD,arch/x86/lib/.memcpy_64.o.d", "-c", "-o", "arch/x86/lib/memcpy_64.o",
			"arch/x86/lib/memcpy_64.S" }, false, 0,
	  "-nostdinc -Iinclude -D__ASSEMBLY__ -Wa,--noexecstack "
	  "-Wp,-MMD,arch/x86/lib/.memcpy_64.o.d -c -x assembler-with-cpp",
	  "arch/x86/lib/.memcpy_64.o.d" },
	{ "assembler_s_not_tree", { "gcc", "-c", "a.s" }, false, 1, NULL, NULL },
	{ "link_not_tree", { "gcc", "a.c", "-o", "a" }, false, 1, NULL, NULL },
	{ "g3_still_local", { "gcc", "-g3", "-c", "a.c" }, false, 1, NULL, NULL },
};

static void join(char **v, int n, char *out, size_t len)
{
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		if (i)
			strncat(out, " ", len - strlen(out) - 1);
		strncat(out, v[i], len - strlen(out) - 1);
	}
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct tcase *c = &cases[i];
		T_CASE(c->name) {
			struct args_opts o = { .clang = c->clang, .tree = true };
			struct args_plan p;
			struct args_tree t;
			char why[200] = "", got[512];
			int argc = 0, r;
			while (c->argv[argc])
				argc++;
			T_CHECK(args_plan((char *const *)c->argv, argc, &o, &p) == 0, "plan");
			r = args_tree_plan(&p, &t, why, sizeof why);
			T_CHECK(r == c->want, "got %d (%s), want %d", r, why, c->want);
			if (r == 0 && c->want == 0) {
				join(t.args, t.nargs, got, sizeof got);
				T_CHECK(!strcmp(got, c->args), "args '%s', want '%s'", got, c->args);
				T_CHECK(!strcmp(t.deps_name, c->deps), "deps '%s', want '%s'",
					t.deps_name, c->deps);
				T_CHECK(!strcmp(t.input_name, p.source), "input name '%s'",
					t.input_name);
				args_tree_free(&t);
			}
			args_plan_free(&p);
		}
	}
	T_CASE("text_plan_keeps_pedantic_local") {
		const char *argv[] = { "gcc", "-pedantic", "-c", "a.c", NULL };
		struct args_plan p;
		T_CHECK(args_plan((char *const *)argv, 4, NULL, &p) == 0 && !p.distribute,
			"the directives-only plan distributes -pedantic");
		args_plan_free(&p);
	}
	return t_done();
}
