/*
 * args_int.h — what the classifier's two files share (args.c: the argv
 * scan, naming and the commands built; args_rules.c: the rules, per option
 * and for the whole command, as tables). Not an API: only hub/args*.c
 * include it.
 *
 * Invariant: the first rule that makes a job local wins (go_local keeps
 * the first reason); the verdict depends on the scan's fields, which the
 * argv scan fills in argv order, and on file types (stat), nothing else.
 */
#ifndef USBFARM_HUB_ARGS_INT_H
#define USBFARM_HUB_ARGS_INT_H

#include "args.h"

#include <stdio.h>
#include <string.h>

/* A NULL-terminated vector of owned strings; oom sticks. */
struct vec {
	char **v;
	int n, cap;
	bool oom;
};

/* What the argv scan has seen so far. */
struct scan {
	struct args_plan *p;
	const struct args_opts *o;
	const char *local;	/* first local reason */
	char localbuf[160];
	bool c, S, E;
	const char *out;
	int nout;
	const char *src;
	int nsrc, nother;
	enum args_lang src_lang;
	bool src_lang_known;
	bool dep_md;		/* driver -MD / -MMD */
	bool user_mf, user_mt;
	int debug;		/* debug level, last -g option wins */
	bool record;		/* -grecord-gcc-switches (gcc's default) */
	bool split;
	bool verbose_asm;
	bool pedantic;		/* the node would warn about line markers */
	const char *recorded_cpp;	/* cpp-only option DW_AT_producer names */
	const char *x_now;	/* current -x value (NULL: none) */
	const char *src_x;	/* the -x in force for the source */
	struct vec cpp, node;
};

/* An option's verdict, and where it goes. */
enum route { R_BOTH, R_CPP, R_NODE, R_NONE };

static inline bool starts(const char *a, const char *p)
{
	return !strncmp(a, p, strlen(p));
}

static inline const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* The first local reason wins; fmt has at most one %s (arg). */
static inline void go_local(struct scan *s, const char *fmt, const char *arg)
{
	if (s->local)
		return;
	snprintf(s->localbuf, sizeof s->localbuf, fmt, arg ? arg : "");
	s->local = s->localbuf;
}

/* args_rules.c */
bool args_takes_sep(const char *a);
enum route args_classify_opt(struct scan *s, const char *a, const char *val);
void args_command_rules(struct scan *s);
bool args_not_regular(const char *path, bool nofollow);

#endif
