/* fuzz_args.c — the response-file parser and the argument classifier.
 * Input: the first byte picks the mode; the rest is a response file's
 * text (split), preprocessed text (the node-source filter), or
 * NUL-separated argv words (classified: every job dcc plans is one the
 * node's policy, lib/policy.h, accepts). */
#include "args.h"
#include "policy.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if ((data[0] & 5) == 4) {
		/* preprocessed text: the node-source filter never grows it
		 * and never reads outside it */
		size_t n = size - 1;
		uint8_t *t = malloc(n ? n : 1);
		if (!t)
			return 0;
		memcpy(t, data + 1, n);
		if (args_node_source(t, &n, "/home/u/p") == 0 && n > size - 1)
			__builtin_trap();
		(void)args_time_macro(t, n);
		free(t);
		return 0;
	}
	if (data[0] & 1) {
		char **v = NULL;
		int n = 0, cap = 0;
		args_split_resp((const char *)data + 1, size - 1, &v, &n, &cap);
		for (int i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return 0;
	}
	/* argv: words separated by NUL; '@' words are left out so the
	 * fuzzer does not read files */
	char *copy = malloc(size);
	char *argv[256];
	int argc = 0;
	struct args_plan p;
	struct args_opts o = { .cxx_driver = data[0] & 2, .clang = data[0] & 8 };
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = 0;
	argv[argc++] = "gcc";
	for (char *s = copy; s < copy + size - 1 && argc < 255; s += strlen(s) + 1)
		if (s[0] != '@')
			argv[argc++] = s;
	argv[argc] = NULL;
	if (args_plan(argv, argc, &o, &p) == 0) {
		if (p.distribute) {
			/* invariants: the node gets no input and no -o; its
			 * input is the source's name as given, one the node
			 * accepts (relative or absolute, never above "/") */
			/* (option values such as `--param N=V` are not options
			 * themselves) */
			for (int i = 0; i < p.node_nargs; i++) {
				if (!strcmp(p.node_args[i], "-x") && i + 1 < p.node_nargs) {
					i++;
					continue;
				}
				if (!strcmp(p.node_args[i], "-o") || !strcmp(p.node_args[i], p.source))
					__builtin_trap();
			}
			if (!p.input_name || !policy_input_name_ok(p.input_name) ||
			    !p.output_name || !policy_output_name_ok(p.output_name))
				__builtin_trap();
			/* the node's whole check: the plan is one it runs */
			if (policy_check_args(p.node_args, p.node_nargs, NULL, 0) ||
			    !policy_input_suffix_ok(p.input_name) ||
			    !policy_job_lang(p.node_args, p.node_nargs))
				__builtin_trap();
			if (p.lang != ARGS_LANG_ASM_CPP && strcmp(p.input_name, p.source))
				__builtin_trap();
		}
		args_plan_free(&p);
	}
	free(copy);
	return 0;
}
