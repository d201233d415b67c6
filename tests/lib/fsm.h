/*
 * fsm.h — table-driven checks of a state machine's one writer, shared by
 * the unit tests of hubd's modules (test_nodes.c, test_jobs.c,
 * test_conns.c). A test lists every legal (from, event, to) of its module;
 * fsm_check() then tries EVERY (state, event) pair on a real object through
 * the module's *_set_state(): a legal one must move to `to` (and a wrong
 * target for it must be refused), an illegal one must be refused, leave
 * the state as it was and say so in the log (stderr, captured here).
 */
#ifndef USBFARM_TEST_FSM_H
#define USBFARM_TEST_FSM_H

#include "test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct fsm_row {
	int from, ev, to;
};

struct fsm_ops {
	int nstates, nevents;
	int (*next)(int s, int ev);		/* the module's table */
	void (*put)(int s);			/* the object, put in state s */
	int (*get)(void);			/* the object's state */
	int (*set)(int to, int ev);		/* the module's *_set_state */
	const char *(*sname)(int s);
	const char *(*ename)(int ev);
};

/* The expected next state of (s, ev) from the rows, -1 if none. */
static inline int fsm_expect(const struct fsm_row *rows, size_t n, int s, int ev)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].from == s && rows[i].ev == ev)
			return rows[i].to;
	return -1;
}

/* Runs f->set(to, ev) with stderr captured into log (NUL-terminated). */
static inline int fsm_set_logged(const struct fsm_ops *f, int to, int ev, char *log, size_t cap)
{
	FILE *tmp = tmpfile();
	int saved = dup(2), rc;
	size_t got = 0;

	fflush(stderr);
	if (tmp)
		dup2(fileno(tmp), 2);
	rc = f->set(to, ev);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	if (tmp) {
		rewind(tmp);
		got = fread(log, 1, cap - 1, tmp);
		fclose(tmp);
	}
	log[got] = 0;
	return rc;
}

/* Every (state, event) pair; returns the number of pairs that were legal. */
static inline int fsm_check(const char *name, const struct fsm_ops *f,
			    const struct fsm_row *rows, size_t nrows)
{
	char tname[96], log[1024];
	int legal = 0;

	for (int s = 0; s < f->nstates; s++)
		for (int ev = 0; ev < f->nevents; ev++) {
			int want = fsm_expect(rows, nrows, s, ev), rc;
			snprintf(tname, sizeof tname, "%s %s/%s", name, f->sname(s), f->ename(ev));
			T_CASE(tname) {
				T_CHECK(f->next(s, ev) == want, "table says %d, expected %d",
					f->next(s, ev), want);
				if (want >= 0) {
					legal++;
					int wrong = (want + 1) % f->nstates;
					f->put(s);
					rc = fsm_set_logged(f, wrong, ev, log, sizeof log);
					T_CHECK(rc < 0 && f->get() == s,
						"a wrong target %s was taken", f->sname(wrong));
					f->put(s);
					rc = fsm_set_logged(f, want, ev, log, sizeof log);
					T_CHECK(rc == 0 && f->get() == want, "rc %d, state %s, want %s",
						rc, f->sname(f->get()), f->sname(want));
				} else {
					for (int to = 0; to < f->nstates; to++) {
						f->put(s);
						rc = fsm_set_logged(f, to, ev, log, sizeof log);
						T_CHECK(rc < 0 && f->get() == s,
							"illegal event taken to %s", f->sname(to));
						T_CHECK(strstr(log, "illegal") != NULL,
							"refusal not logged: '%s'", log);
					}
				}
			}
		}
	return legal;
}

#endif
