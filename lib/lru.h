/*
 * lru.h — an intrusive doubly linked list kept in recency order: the hub's
 * file table (hub/filetab.c), hubd's holdings of each board (hub/holdings.c)
 * and the board's store (node/store.c) thread their entries on one. Each entry embeds a struct lru_node; LRU_ENTRY
 * gets the entry back from its node.
 *
 * Invariants: newest has no newer, oldest no older; following older from
 * newest visits every node once and ends at oldest (and newer back again);
 * len counts them; both ends are NULL exactly when len is 0. A node that is
 * not on the list has both links NULL (lru_remove leaves it so), except
 * after lru_init on a list that still had nodes: those are simply
 * forgotten (the caller threads them again with lru_push_*).
 */
#ifndef USBFARM_LRU_H
#define USBFARM_LRU_H

#include <stdbool.h>
#include <stddef.h>

struct lru_node {
	struct lru_node *newer, *older;
};

struct lru_list {
	struct lru_node *newest, *oldest;
	size_t len;
};

/* The entry of type T whose member M is node p (p not NULL). */
#define LRU_ENTRY(p, T, M) ((T *)(void *)((char *)(p) - offsetof(T, M)))

static inline void lru_init(struct lru_list *l)
{
	l->newest = l->oldest = NULL;
	l->len = 0;
}

/* Is n on l? (n on no list, or on l: its links say so.) */
static inline bool lru_on(const struct lru_list *l, const struct lru_node *n)
{
	return n->newer || n->older || l->newest == n;
}

/* n, not on the list (its links are overwritten), becomes the newest. */
static inline void lru_push_newest(struct lru_list *l, struct lru_node *n)
{
	n->newer = NULL;
	n->older = l->newest;
	if (l->newest)
		l->newest->newer = n;
	else
		l->oldest = n;
	l->newest = n;
	l->len++;
}

/* n, not on the list (its links are overwritten), becomes the oldest. */
static inline void lru_push_oldest(struct lru_list *l, struct lru_node *n)
{
	n->older = NULL;
	n->newer = l->oldest;
	if (l->oldest)
		l->oldest->older = n;
	else
		l->newest = n;
	l->oldest = n;
	l->len++;
}

/* Takes n, which is on l, off it. */
static inline void lru_remove(struct lru_list *l, struct lru_node *n)
{
	if (n->newer)
		n->newer->older = n->older;
	else
		l->newest = n->older;
	if (n->older)
		n->older->newer = n->newer;
	else
		l->oldest = n->newer;
	n->newer = n->older = NULL;
	l->len--;
}

/* n (on l or on no list) becomes the newest. */
static inline void lru_touch(struct lru_list *l, struct lru_node *n)
{
	if (l->newest == n)
		return;
	if (lru_on(l, n))
		lru_remove(l, n);
	lru_push_newest(l, n);
}

#endif
