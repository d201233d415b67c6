/*
 * status_tree.h — hubctl status's tree-job parts (issue 11): per board its
 * store (size, blobs, hit rate from the board's TELEMETRY; what hubd sent
 * it and believes it holds), and hubd's counters (tree jobs, text jobs and
 * why, NEEDs, blobs and bytes sent, resends, unsent, learned computed
 * includes), as text and as JSON members.
 */
#ifndef USBFARM_HUB_STATUS_TREE_H
#define USBFARM_HUB_STATUS_TREE_H

#include <stdio.h>

#include "proto.h"

/* ,"tree":{...} */
void tree_print_json(FILE *f, const struct tree_counters *t);
/* ,"store":{...} or ,"store":null */
void tree_print_node_json(FILE *f, const struct status_node *n);
void tree_print_text(FILE *f, const struct tree_counters *t);
void tree_print_node_text(FILE *f, const struct status_node *n);
/* ,"toolchain":{...}: travelling toolchains (hub/toolchain.h); the text
 * line only once one was packed or used */
void toolchain_print_json(FILE *f, const struct status_toolchain *t);
void toolchain_print_text(FILE *f, const struct status_toolchain *t);

#endif
