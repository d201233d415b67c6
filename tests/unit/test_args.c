/* test_args.c — dcc's argument classifier: one table row per rule, checking
 * the decision, the reason and the derived preprocess/compile vectors; and
 * the response-file parser and expander. */
#include "args.h"
#include "../lib/test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct row {
	const char *name;
	const char *cmd;	/* space-separated argv */
	int flags;		/* F_CXX */
	bool dist;
	const char *reason;	/* substring of the reason (local rows) */
	const char *cpp;	/* expected cpp argv joined by spaces (dist rows), or NULL */
	const char *node;	/* expected node args joined, or NULL */
	const char *input;	/* expected input_name */
	const char *output;	/* expected local output / output_name "out|name|dwo" */
};

#define F_CXX 1

static const struct row rows[] = {
	/* distributable */
	{ "c_basic", "gcc -c a.c", 0, true, NULL,
	  "gcc a.c -E -fdirectives-only", "-c -x c", "a.c", "a.o|a.o|" },
	{ "S_basic", "gcc -S a.c", 0, true, NULL,
	  "gcc a.c -E -fdirectives-only", "-S -x c", "a.c", "a.s|a.s|" },
	{ "o_subdir", "gcc -O2 -c src/a.c -o obj/x.o", 0, true, NULL,
	  "gcc -O2 src/a.c -E -fdirectives-only", "-O2 -c -x c", "src/a.c",
	  "obj/x.o|obj/x.o|" },
	{ "o_attached", "gcc -c a.c -oobj/y.o", 0, true, NULL, NULL, NULL, "a.c", "obj/y.o|obj/y.o|" },
	{ "o_absolute", "gcc -c a.c -o /tmp/z/a.o", 0, true, NULL, NULL, NULL, "a.c",
	  "/tmp/z/a.o|a.o|" },
	{ "cpp_opts_stay_local",
	  "gcc -DX=1 -D Y -UZ -Iinc -I inc2 -include cfg.h -isystem sys -iquote q -O2 -c a.c",
	  0, true, NULL,
	  "gcc -DX=1 -D Y -UZ -Iinc -I inc2 -include cfg.h -isystem sys -iquote q -O2 a.c -E -fdirectives-only",
	  "-O2 -c -x c", "a.c", NULL },
	{ "compile_opts_go_both", "gcc -std=c11 -Wall -Werror -fPIC -m64 -O3 -c a.c", 0, true, NULL,
	  "gcc -std=c11 -Wall -Werror -fPIC -m64 -O3 a.c -E -fdirectives-only",
	  "-std=c11 -Wall -Werror -fPIC -m64 -O3 -c -x c", "a.c", NULL },
	{ "MD_default_names", "gcc -MD -c a.c -o obj/x.o", 0, true, NULL,
	  "gcc -MD a.c -E -fdirectives-only -MF obj/x.d -MQ obj/x.o", "-c -x c",
	  "a.c", NULL },
	{ "MD_no_o", "gcc -MD -c src/a.c", 0, true, NULL,
	  "gcc -MD src/a.c -E -fdirectives-only -MF a.d", NULL, "src/a.c", "a.o|a.o|" },
	{ "MMD_MF", "gcc -MMD -MF dep/a.d -c a.c -o a.o", 0, true, NULL,
	  "gcc -MMD -MF dep/a.d a.c -E -fdirectives-only -MQ a.o", "-c -x c", "a.c", NULL },
	{ "MD_MT_MP", "gcc -MD -MT tgt -MP -c a.c -o b.o", 0, true, NULL,
	  "gcc -MD -MT tgt -MP a.c -E -fdirectives-only -MF b.d", NULL, "a.c", NULL },
	{ "MD_MQ_attached", "gcc -MD -MQ$x -MFa.dep -c a.c -o b.o", 0, true, NULL,
	  "gcc -MD -MQ$x -MFa.dep a.c -E -fdirectives-only", NULL, "a.c", NULL },
	{ "MD_MG", "gcc -MMD -MG -c a.c", 0, true, NULL,
	  "gcc -MMD -MG a.c -E -fdirectives-only -MF a.d", NULL, "a.c", NULL },
	{ "MD_S_target", "gcc -MD -S a.c -o x.s", 0, true, NULL,
	  "gcc -MD a.c -E -fdirectives-only -MF x.d -MQ x.s", "-S -x c", "a.c", NULL },
	{ "Wp_MD", "gcc -Wp,-MD,.a.o.d -c a.c -o a.o", 0, true, NULL,
	  "gcc -Wp,-MD,.a.o.d a.c -E -fdirectives-only", "-c -x c", "a.c", NULL },
	{ "Wp_MMD", "gcc -Wp,-MMD,dir/.a.d -c a.c", 0, true, NULL,
	  "gcc -Wp,-MMD,dir/.a.d a.c -E -fdirectives-only", "-c -x c", "a.c", NULL },
	{ "cxx_ext", "g++ -O2 -c b.cc", F_CXX, true, NULL,
	  "g++ -O2 b.cc -E -fdirectives-only", "-O2 -c -x c++", "b.cc", NULL },
	{ "cxx_driver_c_file", "g++ -c a.c", F_CXX, true, NULL, NULL, "-c -x c++", "a.c", NULL },
	{ "cpp_ext", "gcc -c b.cpp", 0, true, NULL, NULL, "-c -x c++", "b.cpp", NULL },
	{ "objc", "gcc -c m.m", 0, true, NULL, NULL, "-c -x objective-c", "m.m", NULL },
	/* a node compiles only source suffixes (lib/policy.h) */
	{ "x_c", "gcc -x c -c weird.src", 0, false, "source suffix",
	  "gcc -x c weird.src -E -fdirectives-only", "-c -x c", "weird.src", NULL },
	/* a node compiles only source suffixes (lib/policy.h) */
	{ "x_cxx_attached", "gcc -xc++ -c w.h2", 0, false, "source suffix", NULL, "-c -x c++", "w.h2", NULL },
	/* a node compiles only source suffixes (lib/policy.h) */
	{ "x_none_after_source", "gcc -x c -c w.src -x none", 0, false, "source suffix",
	  "gcc -x c w.src -x none -E -fdirectives-only", "-c -x c", "w.src", NULL },
	{ "x_none_before_source", "gcc -x c++ -x none -c a.c", 0, true, NULL, NULL, "-c -x c", "a.c", NULL },
	{ "asm_cpp", "gcc -c s.S", 0, true, NULL, "gcc s.S -E", "-c -x assembler", "s.s", NULL },
	{ "x_asm_cpp", "gcc -x assembler-with-cpp -c s.asm", 0, true, NULL, NULL, "-c -x assembler", "s.s", NULL },
	{ "g_no_record", "gcc -g -gno-record-gcc-switches -c a.c", 0, true, NULL, NULL,
	  "-g -gno-record-gcc-switches -c -x c", "a.c", NULL },
	{ "g_plain", "gcc -g -O2 -c a.c", 0, true, NULL, "gcc -g -O2 a.c -E -fdirectives-only",
	  "-g -O2 -c -x c", "a.c", NULL },
	{ "g_subdir", "gcc -g -c src/x.c -o obj/x.o", 0, true, NULL, NULL, "-g -c -x c", "src/x.c",
	  "obj/x.o|obj/x.o|" },
	{ "g_deep_subdir", "gcc -g -O2 -c drivers/tty/x.c", 0, true, NULL, NULL, NULL,
	  "drivers/tty/x.c", "x.o|x.o|" },
	{ "g_cxx", "g++ -g -O2 -c src/b.cc -o b.o", F_CXX, true, NULL, NULL, "-g -O2 -c -x c++",
	  "src/b.cc", NULL },
	{ "ggdb", "gcc -ggdb -c a.c", 0, true, NULL, NULL, NULL, "a.c", NULL },
	{ "g2_g1", "gcc -g1 -c a.c", 0, true, NULL, NULL, NULL, "a.c", NULL },
	{ "g3_then_g0", "gcc -g3 -g0 -c a.c", 0, true, NULL, NULL, NULL, "a.c", NULL },
	{ "g_working_dir", "gcc -g -fno-working-directory -c a.c", 0, true, NULL,
	  "gcc -g -fno-working-directory a.c -E -fdirectives-only",
	  "-g -fno-working-directory -c -x c", "a.c", NULL },
	{ "nostdinc_both", "gcc -nostdinc -isystem inc -g -c a.c", 0, true, NULL,
	  "gcc -nostdinc -isystem inc -g a.c -E -fdirectives-only", "-nostdinc -g -c -x c", "a.c", NULL },
	{ "user_prefix_maps", "gcc -g -fdebug-prefix-map=/w=/build -fmacro-prefix-map=/w/= -c a.c",
	  0, true, NULL, NULL, "-g -fdebug-prefix-map=/w=/build -fmacro-prefix-map=/w/= -c -x c", "a.c", NULL },
	{ "Wp_D_with_g", "gcc -g -Wp,-D_FORTIFY_SOURCE=2 -Wp,-MMD,a.d -c a.c", 0, true, NULL, NULL,
	  "-g -c -x c", "a.c", NULL },
	{ "A_without_g", "gcc -Asys(x) -c a.c", 0, true, NULL, NULL, "-c -x c", "a.c", NULL },
	{ "A_g_no_record", "gcc -g -gno-record-gcc-switches -A sys(x) -c a.c", 0, true, NULL, NULL,
	  NULL, "a.c", NULL },
	{ "g0_after_g", "gcc -g -g0 -c a.c", 0, true, NULL, NULL, NULL, "a.c", NULL },
	{ "gsplit_dwarf", "gcc -g -gsplit-dwarf -c a.c -o obj/a.o", 0, true, NULL, NULL,
	  NULL, "a.c", "obj/a.o|obj/a.o|obj/a.dwo" },
	{ "gsplit_dwarf_no_g", "gcc -gsplit-dwarf -c a.c", 0, true, NULL, NULL, NULL, "a.c",
	  "a.o|a.o|" },
	{ "linker_opts_dropped", "gcc -c a.c -lm -L/x -Wl,-z,now -pthread", 0, true, NULL, NULL,
	  "-pthread -c -x c", "a.c", NULL },
	{ "Wa_plain", "gcc -Wa,--noexecstack -c a.c", 0, true, NULL, "gcc a.c -E -fdirectives-only",
	  "-Wa,--noexecstack -c -x c", "a.c", NULL },
	{ "prefix_map", "gcc -ffile-prefix-map=/src=. -c a.c", 0, true, NULL, NULL,
	  "-ffile-prefix-map=/src=. -c -x c", "a.c", NULL },
	/* sources by absolute path (CMake) or with . and .. (VPATH): the node
	 * compiles the very name */
	{ "abs_source", "gcc -c /src/a.c -o a.o", 0, true, NULL,
	  "gcc /src/a.c -E -fdirectives-only", "-c -x c", "/src/a.c", "a.o|a.o|" },
	{ "abs_source_g", "gcc -g -c /src/a.c -o a.o", 0, true, NULL, NULL, "-g -c -x c", "/src/a.c", NULL },
	{ "cmake_like", "gcc -g -O2 -MD -MT CMakeFiles/x.dir/a.c.o -MF CMakeFiles/x.dir/a.c.o.d "
	  "-o CMakeFiles/x.dir/a.c.o -c /w/src/a.c", 0, true, NULL,
	  "gcc -g -O2 -MD -MT CMakeFiles/x.dir/a.c.o -MF CMakeFiles/x.dir/a.c.o.d /w/src/a.c -E "
	  "-fdirectives-only", "-g -O2 -c -x c", "/w/src/a.c",
	  "CMakeFiles/x.dir/a.c.o|CMakeFiles/x.dir/a.c.o|" },
	{ "abs_source_split_dwarf", "gcc -g -gsplit-dwarf -c /w/src/a.c -o CMakeFiles/a.c.o", 0,
	  true, NULL, NULL, NULL, "/w/src/a.c", "CMakeFiles/a.c.o|CMakeFiles/a.c.o|CMakeFiles/a.c.dwo" },
	{ "abs_source_default_output", "gcc -c /w/src/a.c", 0, true, NULL, NULL, NULL, "/w/src/a.c",
	  "a.o|a.o|" },
	{ "abs_source_cxx", "g++ -g -c /w/src/b.cc -o b.o", F_CXX, true, NULL, NULL, NULL,
	  "/w/src/b.cc", NULL },
	{ "abs_source_dots", "gcc -c /w/build/../src/./a.c", 0, true, NULL, NULL, NULL,
	  "/w/build/../src/./a.c", NULL },
	{ "dotdot_source", "gcc -g -c ../a.c", 0, true, NULL, NULL, NULL, "../a.c", "a.o|a.o|" },
	{ "vpath_like", "gcc -g -O2 -MD -c -o a.o ../src/a.c", 0, true, NULL, NULL, "-g -O2 -c -x c",
	  "../src/a.c", "a.o|a.o|" },
	{ "dot_source", "gcc -g -c ./a.c", 0, true, NULL, NULL, NULL, "./a.c", NULL },
	{ "inner_dotdot_source", "gcc -c src/../a.c", 0, true, NULL, NULL, NULL, "src/../a.c", NULL },
	{ "double_slash_source", "gcc -c src//a.c", 0, true, NULL, NULL, NULL, "src//a.c", NULL },
	{ "abs_equals_in_output_ok", "gcc -c /w/a.c -o x=y.o", 0, true, NULL, NULL, NULL, "/w/a.c",
	  NULL },

	/* local, with the reason */
	{ "E", "gcc -E a.c", 0, false, "-E", NULL, NULL, NULL, NULL },
	{ "M", "gcc -M a.c", 0, false, "-M", NULL, NULL, NULL, NULL },
	{ "MM", "gcc -MM -c a.c", 0, false, "-MM", NULL, NULL, NULL, NULL },
	{ "M_other", "gcc -MV -c a.c", 0, false, "-MV", NULL, NULL, NULL, NULL },
	{ "Wp_M", "gcc -Wp,-M -c a.c", 0, false, "preprocessor mode", NULL, NULL, NULL, NULL },
	{ "march_native", "gcc -march=native -c a.c", 0, false, "native", NULL, NULL, NULL, NULL },
	{ "mtune_native", "gcc -mtune=native -c a.c", 0, false, "native", NULL, NULL, NULL, NULL },
	{ "mcpu_native", "gcc -mcpu=native -c a.c", 0, false, "native", NULL, NULL, NULL, NULL },
	{ "Wa_listing", "gcc -Wa,-adhln=a.lst -c a.c", 0, false, "assembler", NULL, NULL, NULL, NULL },
	{ "Wa_MD", "gcc -Wa,--MD,x.d -c a.c", 0, false, "assembler", NULL, NULL, NULL, NULL },
	{ "profile_arcs", "gcc -fprofile-arcs -c a.c", 0, false, "profil", NULL, NULL, NULL, NULL },
	{ "test_coverage", "gcc -ftest-coverage -c a.c", 0, false, "profil", NULL, NULL, NULL, NULL },
	{ "coverage", "gcc --coverage -c a.c", 0, false, "profil", NULL, NULL, NULL, NULL },
	{ "profile_generate", "gcc -fprofile-generate=dir -c a.c", 0, false, "profil", NULL, NULL, NULL, NULL },
	{ "profile_use", "gcc -fprofile-use -c a.c", 0, false, "profil", NULL, NULL, NULL, NULL },
	{ "auto_profile", "gcc -fauto-profile=x.afdo -c a.c", 0, false, "profil", NULL, NULL, NULL, NULL },
	{ "profile_correction", "gcc -fprofile-correction -c a.c", 0, false, "profil", NULL, NULL, NULL, NULL },
	{ "frepo", "g++ -frepo -c a.cc", F_CXX, false, "frepo", NULL, NULL, NULL, NULL },
	{ "dr", "gcc -dr -c a.c", 0, false, "dump", NULL, NULL, NULL, NULL },
	{ "fdump", "gcc -fdump-tree-all -c a.c", 0, false, "extra files", NULL, NULL, NULL, NULL },
	{ "x_unknown", "gcc -x fortran -c a.f", 0, false, "fortran", NULL, NULL, NULL, NULL },
	{ "x_cpp_output", "gcc -x cpp-output -c a.i", 0, false, "cpp-output", NULL, NULL, NULL, NULL },
	{ "link", "gcc a.c -o a", 0, false, "link", NULL, NULL, NULL, NULL },
	{ "link_objects", "gcc a.o b.o -o prog", 0, false, "link", NULL, NULL, NULL, NULL },
	{ "both_c_S", "gcc -c -S a.c", 0, false, "both", NULL, NULL, NULL, NULL },
	{ "two_sources", "gcc -c a.c b.c", 0, false, "several source", NULL, NULL, NULL, NULL },
	{ "no_source", "gcc -c -O2", 0, false, "no source", NULL, NULL, NULL, NULL },
	{ "extra_input", "gcc -c a.c b.o", 0, false, "extra input", NULL, NULL, NULL, NULL },
	{ "o_stdout", "gcc -c a.c -o -", 0, false, "-o -", NULL, NULL, NULL, NULL },
	{ "two_o", "gcc -c a.c -o x.o -o y.o", 0, false, "several -o", NULL, NULL, NULL, NULL },
	{ "conftest", "gcc -c conftest.c", 0, false, "autoconf", NULL, NULL, NULL, NULL },
	{ "tmp_conftest", "gcc -c sub/tmp.conftest.c", 0, false, "autoconf", NULL, NULL, NULL, NULL },
	{ "save_temps", "gcc -save-temps -c a.c", 0, false, "temporary", NULL, NULL, NULL, NULL },
	{ "save_temps_obj", "gcc -save-temps=obj -c a.c", 0, false, "temporary", NULL, NULL, NULL, NULL },
	{ "syntax_only", "gcc -fsyntax-only -c a.c", 0, false, "no output", NULL, NULL, NULL, NULL },
	{ "stdin", "gcc -x c -c -", 0, false, "stdin", NULL, NULL, NULL, NULL },
	{ "plugin", "gcc -fplugin=./p.so -c a.c", 0, false, "plugin", NULL, NULL, NULL, NULL },
	{ "specs", "gcc -specs=my.specs -c a.c", 0, false, "spec", NULL, NULL, NULL, NULL },
	{ "B_attached", "gcc -B/opt/bin -c a.c", 0, false, "search path", NULL, NULL, NULL, NULL },
	{ "B_separate", "gcc -B /opt/bin -c a.c", 0, false, "search path", NULL, NULL, NULL, NULL },
	{ "wrapper", "gcc -wrapper gdb,--args -c a.c", 0, false, "wrapper", NULL, NULL, NULL, NULL },
	{ "g3", "gcc -g3 -gno-record-gcc-switches -c a.c", 0, false, "-g3", NULL, NULL, NULL, NULL },
	{ "ggdb3", "gcc -ggdb3 -c a.c", 0, false, "-g3", NULL, NULL, NULL, NULL },
	{ "g_then_g3", "gcc -g -O2 -g3 -c a.c", 0, false, "-g3", NULL, NULL, NULL, NULL },
	{ "abs_source_above_root", "gcc -g -c /../a.c", 0, false, "above /", NULL, NULL, NULL, NULL },
	{ "abs_source_inner_above_root", "gcc -g -c /w/../../a.c", 0, false, "above /", NULL, NULL,
	  NULL, NULL },
	{ "abs_source_equals", "gcc -g -c /w/x=y/a.c", 0, false, "'='", NULL, NULL, NULL, NULL },
	{ "too_many_ups", "gcc -c ../../../../../../../../../../../../../../../../../../../../"
	  "../../../../../../../../../../../../../a.c", 0, false, "too many", NULL, NULL, NULL, NULL },
	{ "source_trailing_dotdot", "gcc -x c -c src/..", 0, false, "file name", NULL, NULL, NULL,
	  NULL },
	/* compiler probes (the kernel's cc-option & co.) */
	{ "probe_dev_null_in", "gcc -Werror -c -x c /dev/null -o /nonexistent-dir/null", 0, false,
	  "not a regular file", NULL, NULL, NULL, NULL },
	{ "probe_dev_null_in_out", "gcc -O2 -c -x c /dev/null -o /dev/null", 0, false,
	  "not a regular file", NULL, NULL, NULL, NULL },
	{ "probe_dev_null_out", "gcc -O2 -c a.c -o /dev/null", 0, false, "not a regular file",
	  NULL, NULL, NULL, NULL },
	{ "probe_S_dev_null", "gcc -S -x c /dev/null -o -", 0, false, "not a regular file",
	  NULL, NULL, NULL, NULL },
	{ "probe_dir_out", "gcc -c a.c -o /", 0, false, "output is not a regular file", NULL,
	  NULL, NULL, NULL },
	{ "probe_dev_zero_in", "gcc -c -x c /dev/zero", 0, false, "not a regular file", NULL,
	  NULL, NULL, NULL },
	{ "probe_stdin_x", "gcc -Werror -x c -c - -o x.o", 0, false, "stdin", NULL, NULL, NULL,
	  NULL },
	{ "A_with_g", "gcc -g -Asys(x) -c a.c", 0, false, "DW_AT_producer", NULL, NULL, NULL, NULL },
	{ "Wp_f_with_g", "gcc -g -Wp,-fno-working-directory -c a.c", 0, false, "DW_AT_producer",
	  NULL, NULL, NULL, NULL },
	{ "Xpreprocessor_f_with_g", "gcc -g -Xpreprocessor -ftrack-macro-expansion=0 -c a.c", 0,
	  false, "DW_AT_producer", NULL, NULL, NULL, NULL },
	{ "pedantic", "gcc -pedantic -c a.c", 0, false, "line markers", NULL, NULL, NULL, NULL },
	{ "Wpedantic", "gcc -Wpedantic -g -c a.c", 0, false, "line markers", NULL, NULL, NULL, NULL },
	{ "pedantic_errors", "gcc -pedantic-errors -c a.c", 0, false, "line markers", NULL, NULL, NULL, NULL },
	{ "system_headers", "gcc -Wsystem-headers -c a.c", 0, false, "line markers", NULL, NULL, NULL, NULL },
	{ "unused_macros", "gcc -Wunused-macros -c a.c", 0, false, "directives-only", NULL, NULL, NULL, NULL },
	{ "traditional", "gcc -traditional-cpp -c a.c", 0, false, "preprocessing", NULL, NULL, NULL, NULL },
	{ "header", "gcc -c a.h", 0, false, "not a language", NULL, NULL, NULL, NULL },
	{ "preprocessed_input", "gcc -c a.i", 0, false, "not a language", NULL, NULL, NULL, NULL },
	{ "asm_plain", "gcc -c s.s", 0, false, "not a language", NULL, NULL, NULL, NULL },
	{ "asm_cpp_debug", "gcc -g -gno-record-gcc-switches -c s.S", 0, false, "assembler source", NULL, NULL, NULL, NULL },
	{ "split_dwarf_abs", "gcc -g -gsplit-dwarf -c a.c -o /abs/a.o", 0, false, "gsplit-dwarf", NULL, NULL, NULL, NULL },
	{ "split_dwarf_dotdot", "gcc -g -gsplit-dwarf -c a.c -o ../a.o", 0, false, "gsplit-dwarf", NULL, NULL, NULL, NULL },
	{ "split_dwarf_S", "gcc -g -gsplit-dwarf -S a.c", 0, false, "-S", NULL, NULL, NULL, NULL },
	{ "verbose_asm_S", "gcc -fverbose-asm -S a.c", 0, false, "verbose-asm", NULL, NULL, NULL, NULL },
	{ "flto", "gcc -flto -c a.c", 0, false, "switches", NULL, NULL, NULL, NULL },
	{ "record_switches", "gcc -frecord-gcc-switches -c a.c", 0, false, "switches", NULL, NULL, NULL, NULL },
	{ "version", "gcc --version", 0, false, "informational", NULL, NULL, NULL, NULL },
	{ "v", "gcc -v -c a.c", 0, false, "informational", NULL, NULL, NULL, NULL },
	{ "missing_arg", "gcc -c a.c -o", 0, false, "missing argument", NULL, NULL, NULL, NULL },
	{ "stack_usage", "gcc -fstack-usage -c a.c", 0, false, "extra files", NULL, NULL, NULL, NULL },
	{ "dumpbase", "gcc -dumpbase x -c a.c", 0, false, "dump", NULL, NULL, NULL, NULL },
	{ "charset", "gcc -finput-charset=latin1 -c a.c", 0, false, "preprocessing", NULL, NULL, NULL, NULL },
	{ "resp_missing", "gcc @/nonexistent/resp -c a.c", 0, false, "response file", NULL, NULL, NULL, NULL },
};

static char *join(char **v, int n)
{
	size_t l = 1;
	char *s;
	for (int i = 0; i < n; i++)
		l += strlen(v[i]) + 1;
	s = calloc(1, l);
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, v[i]);
	}
	return s;
}

static void run_row(const struct row *r)
{
	int argc;
	char **argv = t_split(r->cmd, &argc);
	struct args_opts o = { .cxx_driver = r->flags & F_CXX };
	struct args_plan p;

	T_CASE(r->name) {
		int rc = args_plan(argv, argc, &o, &p);
		T_CHECK(rc == 0, "args_plan returned %d", rc);
		if (rc)
			break;
		T_CHECK(p.distribute == r->dist, "decision %d, want %d (reason: %s)",
			p.distribute, r->dist, p.reason);
		if (!r->dist && r->reason)
			T_CHECK(strstr(p.reason, r->reason) != NULL, "reason '%s' lacks '%s'",
				p.reason, r->reason);
		if (r->dist && p.distribute) {
			if (r->cpp) {
				char *j = join(p.cpp_argv, p.cpp_argc);
				T_CHECK(!strcmp(j, r->cpp), "cpp argv '%s', want '%s'", j, r->cpp);
				free(j);
			}
			if (r->node) {
				char *j = join(p.node_args, p.node_nargs);
				T_CHECK(!strcmp(j, r->node), "node args '%s', want '%s'", j, r->node);
				free(j);
			}
			if (r->input)
				T_CHECK(!strcmp(p.input_name, r->input), "input '%s', want '%s'",
					p.input_name, r->input);
			if (r->output) {
				char want[256];
				snprintf(want, sizeof want, "%s|%s|%s", p.output, p.output_name,
					 p.dwo ? p.dwo : "");
				T_CHECK(!strcmp(want, r->output), "outputs '%s', want '%s'", want,
					r->output);
				T_CHECK(p.want_dwo == (p.dwo != NULL), "want_dwo mismatch");
			}
			/* invariants: the node never sees the source, -o, -I, -D, -M */
			for (int i = 0; i < p.node_nargs; i++) {
				const char *a = p.node_args[i];
				if (!strcmp(a, "-x") && i + 1 < p.node_nargs) {
					i++;	/* its language */
					continue;
				}
				T_CHECK(strcmp(a, "-o") && strncmp(a, "-I", 2) && strncmp(a, "-D", 2) &&
					strncmp(a, "-M", 2) && strcmp(a, p.source) && a[0] == '-',
					"node arg '%s' should not be there", a);
			}
		}
		args_plan_free(&p);
	}
	t_split_free(argv, argc);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

int main(void)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		run_row(&rows[i]);

	T_CASE("resp_split_quoting") {
		const char *t = "-DA=\"x y\" 'single \\' q' back\\ slash \"\" -c\n\t a.c\\";
		char **v = NULL;
		int n = 0, cap = 0;
		int r = args_split_resp(t, strlen(t), &v, &n, &cap);
		T_CHECK(r == 0, "rc %d", r);
		T_CHECK(n == 6, "n=%d", n);
		if (n == 6) {
			T_CHECK(!strcmp(v[0], "-DA=x y"), "v0 '%s'", v[0]);
			T_CHECK(!strcmp(v[1], "single ' q"), "v1 '%s'", v[1]);
			T_CHECK(!strcmp(v[2], "back slash"), "v2 '%s'", v[2]);
			T_CHECK(!strcmp(v[3], ""), "v3 '%s'", v[3]);
			T_CHECK(!strcmp(v[4], "-c"), "v4 '%s'", v[4]);
			T_CHECK(!strcmp(v[5], "a.c"), "v5 '%s'", v[5]);
		}
		for (int i = 0; i < n; i++)
			free(v[i]);
		free(v);
	}
	T_CASE("resp_split_unbalanced") {
		char **v = NULL;
		int n = 0, cap = 0;
		T_CHECK(args_split_resp("'abc", 4, &v, &n, &cap) == -EINVAL, "unbalanced ' accepted");
		for (int i = 0; i < n; i++)
			free(v[i]);
		free(v);
		v = NULL, n = 0, cap = 0;
		T_CHECK(args_split_resp("a\0b", 3, &v, &n, &cap) == -EINVAL, "NUL accepted");
		for (int i = 0; i < n; i++)
			free(v[i]);
		free(v);
	}

	char dir[] = "/tmp/test_args.XXXXXX";
	if (!mkdtemp(dir)) {
		t_skip("resp_files", "mkdtemp failed");
		return t_done();
	}
	char p1[128], p2[128], p3[128], cmd[512];
	snprintf(p1, sizeof p1, "%s/outer.rsp", dir);
	snprintf(p2, sizeof p2, "%s/inner.rsp", dir);
	snprintf(p3, sizeof p3, "%s/loop.rsp", dir);
	snprintf(cmd, sizeof cmd, "-O2 @%s \"-DNAME=\\\"a b\\\"\"", p2);
	write_file(p1, cmd);
	write_file(p2, "-c 'my file.c' -o obj/x.o\n");
	snprintf(cmd, sizeof cmd, "@%s", p3);
	write_file(p3, cmd);

	T_CASE("probe_file_types") {
		/* a FIFO input, a symlink or directory output, a .dwo that is
		 * a directory: local; regular files: distributed */
		char fifo[160], reg[160], lnk[160], sub[160], dwo[160], cmd2[700];
		snprintf(fifo, sizeof fifo, "%s/in.c", dir);
		snprintf(reg, sizeof reg, "%s/reg.c", dir);
		snprintf(lnk, sizeof lnk, "%s/lnk.o", dir);
		snprintf(sub, sizeof sub, "%s/sub.o", dir);
		snprintf(dwo, sizeof dwo, "%s/sd.dwo", dir);
		T_CHECK(mkfifo(fifo, 0600) == 0, "mkfifo");
		write_file(reg, "int x;\n");
		T_CHECK(symlink(reg, lnk) == 0, "symlink");
		T_CHECK(mkdir(sub, 0700) == 0 && mkdir(dwo, 0700) == 0, "mkdir");
		static const struct { const char *fmt; bool dist; const char *why; } c[] = {
			{ "gcc -c %s/in.c -o %s/x.o", false, "input is not a regular file" },
			{ "gcc -c %s/reg.c -o %s/lnk.o", false, "output is not a regular file" },
			{ "gcc -c %s/reg.c -o %s/sub.o", false, "output is not a regular file" },
			{ "gcc -g -gsplit-dwarf -c %s/reg.c -o %s/sd.o", true, NULL },	/* abs -o: .dwo local anyway? */
			{ "gcc -c %s/reg.c -o %s/new.o", true, NULL },
		};
		for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
			int ac;
			char **av;
			struct args_plan p;
			snprintf(cmd2, sizeof cmd2, c[i].fmt, dir, dir);
			av = t_split(cmd2, &ac);
			T_CHECK(args_plan(av, ac, NULL, &p) == 0, "plan failed");
			if (strstr(cmd2, "gsplit")) {
				/* absolute -o with -gsplit-dwarf: local for the
				 * .dwo name already; the .dwo rule is checked below */
				T_CHECK(!p.distribute, "%s: distributed", cmd2);
			} else {
				T_CHECK(p.distribute == c[i].dist, "%s: %d (%s)", cmd2, p.distribute,
					p.reason);
				if (c[i].why)
					T_CHECK(strstr(p.reason, c[i].why) != NULL, "%s: reason %s",
						cmd2, p.reason);
			}
			args_plan_free(&p);
			t_split_free(av, ac);
		}
		/* a .dwo name that is a directory, from a relative -o: run
		 * from the temp dir */
		char here[512];
		if (getcwd(here, sizeof here) && chdir(dir) == 0) {
			int ac;
			char **av = t_split("gcc -g -gsplit-dwarf -c reg.c -o sd.o", &ac);
			struct args_plan p;
			T_CHECK(args_plan(av, ac, NULL, &p) == 0, "plan failed");
			T_CHECK(!p.distribute && strstr(p.reason, ".dwo output is not a regular file"),
				"dwo dir: %d %s", p.distribute, p.reason);
			args_plan_free(&p);
			t_split_free(av, ac);
			av = t_split("gcc -c reg.c", &ac);	/* default output reg.o: fine */
			T_CHECK(args_plan(av, ac, NULL, &p) == 0 && p.distribute, "default out: %s",
				p.reason);
			args_plan_free(&p);
			t_split_free(av, ac);
			T_CHECK(mkdir("reg.o", 0700) == 0, "mkdir reg.o");
			av = t_split("gcc -c reg.c", &ac);	/* default output is a dir */
			T_CHECK(args_plan(av, ac, NULL, &p) == 0 && !p.distribute &&
					strstr(p.reason, "not a regular file"), "default out dir: %s",
				p.reason);
			args_plan_free(&p);
			t_split_free(av, ac);
			rmdir("reg.o");
			T_CHECK(chdir(here) == 0, "chdir back");
		}
		unlink(fifo), unlink(lnk), unlink(reg), rmdir(sub), rmdir(dwo);
	}
	T_CASE("resp_nested_expand_and_plan") {
		char at[160];
		snprintf(at, sizeof at, "@%s", p1);
		char *argv[] = { "gcc", at, "-Wall", NULL };
		struct args_plan p;
		T_CHECK(args_plan(argv, 3, NULL, &p) == 0, "plan failed");
		T_CHECK(p.argc == 8, "expanded argc %d", p.argc);
		if (p.argc == 8) {
			T_CHECK(!strcmp(p.argv[1], "-O2"), "argv1 %s", p.argv[1]);
			T_CHECK(!strcmp(p.argv[2], "-c"), "argv2 %s", p.argv[2]);
			T_CHECK(!strcmp(p.argv[3], "my file.c"), "argv3 %s", p.argv[3]);
			T_CHECK(!strcmp(p.argv[6], "-DNAME=\"a b\""), "argv6 %s", p.argv[6]);
			T_CHECK(!strcmp(p.argv[7], "-Wall"), "argv7 %s", p.argv[7]);
		}
		T_CHECK(p.distribute, "not distributed: %s", p.reason);
		if (p.distribute) {
			T_CHECK(!strcmp(p.source, "my file.c"), "source %s", p.source);
			T_CHECK(!strcmp(p.output, "obj/x.o"), "output %s", p.output);
			T_CHECK(!strcmp(p.input_name, "my file.c"), "input %s", p.input_name);
			for (int i = 0; i < p.node_nargs; i++)
				T_CHECK(p.node_args[i][0] != '@', "@ reached the node");
		}
		args_plan_free(&p);
	}
	T_CASE("resp_recursion_capped") {
		char at[160];
		snprintf(at, sizeof at, "@%s", p3);
		char *argv[] = { "gcc", at, "-c", "a.c", NULL };
		char **out;
		int outc;
		T_CHECK(args_expand(argv, 4, &out, &outc) == -ELOOP, "self-including @file not capped");
		struct args_plan p;
		T_CHECK(args_plan(argv, 4, NULL, &p) == 0 && !p.distribute &&
				strstr(p.reason, "deep"), "plan: %s", p.reason);
		T_CHECK(p.argc == 4 && !strcmp(p.argv[1], at), "original argv not kept");
		args_plan_free(&p);
	}
	T_CASE("resp_missing_file") {
		char *argv[] = { "gcc", "@/nonexistent/x.rsp", NULL };
		char **out;
		int outc;
		T_CHECK(args_expand(argv, 2, &out, &outc) == -ENOENT, "missing @file not reported");
	}
	T_CASE("lang_of") {
		bool src;
		T_CHECK(args_lang_of("x.c", false, &src) == ARGS_LANG_C && src, ".c");
		T_CHECK(args_lang_of("x.c", true, &src) == ARGS_LANG_CXX && src, ".c under g++");
		T_CHECK(args_lang_of("d/x.C", false, &src) == ARGS_LANG_CXX && src, ".C");
		T_CHECK(args_lang_of("x.mm", false, &src) == ARGS_LANG_OBJCXX && src, ".mm");
		T_CHECK(args_lang_of("x.S", false, &src) == ARGS_LANG_ASM_CPP && src, ".S");
		T_CHECK(args_lang_of("x.i", false, &src) == ARGS_LANG_NONE && src, ".i");
		T_CHECK(args_lang_of("x.o", false, &src) == ARGS_LANG_NONE && !src, ".o");
		T_CHECK(args_lang_of("libx.a", false, &src) == ARGS_LANG_NONE && !src, ".a");
	}
	T_CASE("node_source_strip") {
		static const char in[] =
			"# 0 \"src/a.c\"\n"
			"# 1 \"/home/u/p//\"\n"
			"# 0 \"<built-in>\"\n"
			"#define __STDC__ 1\n"
			"# 0 \"<built-in>\"\n"
			"#define __GNUC__ 12\n"
			"# 0 \"<command-line>\"\n"
			"#define FOO 1\n"
			"# 1 \"/usr/include/stdc-predef.h\" 1 3 4\n"
			"#define __STDC_IEC_559__ 1\n"
			"# 0 \"<command-line>\" 2\n"
			"# 1 \"src/a.c\"\n"
			"int x = FOO;\n"
			"# 0 \"<built-in>\" is text here, not a marker\n"
			"char *s = \"# 1 \\\"/home/u/p//\\\"\";";
		static const char want[] =
			"# 0 \"src/a.c\"\n"
			"# 0 \"<command-line>\"\n"
			"#define FOO 1\n"
			"# 1 \"/usr/include/stdc-predef.h\" 1 3 4\n"
			"#define __STDC_IEC_559__ 1\n"
			"# 0 \"<command-line>\" 2\n"
			"# 1 \"src/a.c\"\n"
			"int x = FOO;\n"
			"# 0 \"<built-in>\" is text here, not a marker\n"
			"char *s = \"# 1 \\\"/home/u/p//\\\"\";";
		uint8_t t[sizeof in];
		size_t n = sizeof in - 1;
		memcpy(t, in, sizeof in);
		T_CHECK(args_node_source(t, &n, "/home/u/p") == 0, "refused");
		T_CHECK(n == sizeof want - 1 && !memcmp(t, want, n), "got '%.*s'", (int)n, t);
		/* the compiler's cwd is not ours (a symlink?): not distributable */
		memcpy(t, in, sizeof in);
		n = sizeof in - 1;
		T_CHECK(args_node_source(t, &n, "/home/u") == -EINVAL, "foreign cwd accepted");
		n = sizeof in - 1;
		T_CHECK(args_node_source(t, &n, "/home/u/p/q") == -EINVAL, "longer cwd accepted");
		/* -fno-working-directory: no marker, nothing else lost */
		static const char nowd[] = "# 0 \"a.c\"\n# 0 \"<built-in>\"\n#define X 1\n# 1 \"a.c\"\nint y;\n";
		static const char nowd_want[] = "# 0 \"a.c\"\n# 1 \"a.c\"\nint y;\n";
		uint8_t t2[sizeof nowd];
		memcpy(t2, nowd, sizeof nowd);
		n = sizeof nowd - 1;
		T_CHECK(args_node_source(t2, &n, "/w") == 0 && n == sizeof nowd_want - 1 &&
			!memcmp(t2, nowd_want, n), "got '%.*s'", (int)n, t2);
		n = 0;
		T_CHECK(args_node_source(NULL, &n, "/w") == 0 && n == 0, "empty");
	}
	T_CASE("time_macros") {
		static const struct { const char *t; const char *want; } c[] = {
			{ "int x;", NULL },
			{ "const char *d = __DATE__;", "__DATE__" },
			{ "__TIME__", "__TIME__" },
			{ "f(__TIMESTAMP__)", "__TIMESTAMP__" },
			{ "X__DATE__ __DATE__X __TIME___ __DATE", NULL },
			{ "#define BUILD __DATE__ \" \" __TIME__\n", "__DATE__" },
		};
		for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
			const char *r = args_time_macro((const uint8_t *)c[i].t, strlen(c[i].t));
			T_CHECK(c[i].want ? r && !strcmp(r, c[i].want) : !r, "'%s': %s", c[i].t,
				r ? r : "none");
		}
	}
	unlink(p1), unlink(p2), unlink(p3);
	rmdir(dir);
	return t_done();
}
