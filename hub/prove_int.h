/*
 * prove_int.h — internal to prove.c / prove_trust.c: the prover's state.
 */
#ifndef USBFARM_HUB_PROVE_INT_H
#define USBFARM_HUB_PROVE_INT_H

#include "prove.h"
#include "pairs.h"

enum prove_phase { PR_IDLE, PR_LOCAL, PR_BOARD };

struct prove_state {
	char state[256], canaries[256];	/* directories */
	char canary[PROVE_CANARIES][48];	/* names without .c */
	size_t ncanary;
	/* the one running proof */
	enum prove_phase phase;
	size_t entry;			/* its index in hub.pairs */
	unsigned classes;		/* EQ_MASK()s it proves */
	struct compiler_id hubc, board;
	char board_node[64];
	char dir[400];			/* its directory under state */
	char ident[PAIRS_IDENT_MAX];	/* the hub compiler's, from its object */
	pid_t pid;			/* the local compile child (PR_LOCAL) */
	uint64_t t0, t_local;
	struct prove_task t[PROVE_TASKS];
	size_t nt, ndone;
	uint64_t seq;
};

extern struct prove_state prove_st;

/* Reads the names of the canary directory's *.c files. 0 or -errno. */
int prove_load_canaries(void);

#endif
