/*
 * hubctl.c — the farm's command line: `hubctl status [--json]` asks hubd
 * over its unix socket and prints the nodes, their links, slots, compilers
 * and counters; `hubctl enroll IFACE` asks hubd to take a board's
 * interface (udev runs it on add); `hubctl power-cycle NODE` cuts and
 * restores the power of the node's hub port (hub/usbdev.c). Exit codes: 0 ok, 1 hubd not reachable
 * or bad answer, 2 usage, 3 (enroll) not one of our boards.
 */
#include "client.h"
#include "enroll.h"
#include "usbdev.h"
#include "proto.h"
#include "status_tree.h"
#include "reasons.h"
#include "serve.h"
#include "verify.h"

#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *to, int code)
{
	fprintf(to,
"Usage: hubctl [--socket PATH] COMMAND [OPTIONS]\n"
"\n"
"Commands:\n"
"  status [--json]   one-shot view of the farm: every node (interface, link\n"
"                    state, peer identity and epoch, frames, bytes,\n"
"                    retransmits, drops), its slots and compilers, jobs done,\n"
"                    failed and running, bytes sent and received, measured\n"
"                    speed, telemetry; and the hub's local slots and queue.\n"
"                    --json prints the same as one JSON object for scripts.\n"
"  enroll IFACE      asks hubd to enroll IFACE: hubd checks that its USB\n"
"                    device is a usbfarm board (VID:PID 1d6b:0104, product\n"
"                    \"usbfarm node\"; never by name), brings it up, sets its\n"
"                    MTU and opens the link. hubd also does this by itself\n"
"                    when an interface appears (netlink) and at start; udev\n"
"                    runs this on add (udev/80-usbfarm-hub.rules).\n"
"  power-cycle NODE  cuts the power of the hub port NODE (peer identity, name\n"
"                    or interface) hangs on for 2 s and restores it: through\n"
"                    the kernel's <hub>-port<N>/disable attribute where it\n"
"                    exists, else ClearPortFeature/SetPortFeature(PORT_POWER)\n"
"                    with libusb (USBFARM_POWER_VIA=libusb|sysfs forces one).\n"
"                    Refuses (exit 3) on a hub without per-port power\n"
"                    switching (wHubCharacteristics). Needs root.\n"
"\n"
"Options:\n"
"  -s, --socket PATH  hubd's socket (default: as hubd: $USBFARM_SOCKET, else\n"
"                     /run/usbfarm/hubd.sock as root, else\n"
"                     $XDG_RUNTIME_DIR/usbfarm/hubd.sock, else\n"
"                     /tmp/usbfarm-$UID/hubd.sock)\n"
"  -h, --help         this help\n"
"\n"
"Exit status: 0 ok; 1 hubd not reachable or its answer unreadable (or enroll\n"
"or power-cycle failed); 2 usage; 3 enroll: IFACE is not a usbfarm board,\n"
"power-cycle: the hub cannot switch that port's power.\n");
	exit(code);
}

/* ---- where a node is on the USB tree (sysfs + libusb) ---- */

/* Fills BUSPORT ("1-2.4"), WHERE ("port 4 of hub 1-2") and the speed for
 * a node's interface; false when it is not on USB (a veth of the virtual
 * farm). */
static bool usb_where(const char *iface, char *busport, size_t bcap, char *where, size_t wcap, unsigned *mbps)
{
	struct enroll_usb u;
	struct usbdev_place p;

	if (enroll_usb_of(NULL, iface, &u) < 0)
		return false;
	snprintf(busport, bcap, "%s", u.busport);
	if (usbdev_locate(u.busnum, u.devnum, &p) == 0) {
		usbdev_describe(&p, where, wcap);
		*mbps = p.speed_mbps;
	} else {	/* libusb does not see it (no usbfs): what sysfs says */
		snprintf(where, wcap, "device %s", u.busport);
		*mbps = (unsigned)strtoul(u.speed, NULL, 10);
	}
	return true;
}

/* ---- JSON output ---- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* reasons.h / verify.h: fetched after the status; NULL from an older hubd */
static struct reasons_status xr;
static struct verify_status xv;
static bool have_x;

static void print_json(const struct hub_status *st)
{
	FILE *f = stdout;
	uint32_t running = 0;

	for (size_t i = 0; i < st->nnodes; i++)
		running += st->nodes[i].running;
	fprintf(f, "{\"uptime_s\":%" PRIu64 ",\"local_slots\":%u,\"local_used\":%u,"
		   "\"queued\":%u,\"clients\":%u,\"running\":%u,",
		st->uptime_s, st->local_slots, st->local_used, st->queued, st->clients, running);
	fprintf(f, "\"jobs\":{\"total\":%" PRIu64 ",\"remote\":%" PRIu64 ",\"local\":%" PRIu64
		   ",\"failed\":%" PRIu64 ",\"retried\":%" PRIu64 "}",
		st->jobs_total, st->jobs_remote, st->jobs_local, st->jobs_failed, st->jobs_retried);
	fo_print_json(f, &st->fo);
	tree_print_json(f, &st->tree);
	toolchain_print_json(f, &st->tc);
	fputs(",\"nodes\":[", f);
	for (size_t i = 0; i < st->nnodes; i++) {
		const struct status_node *n = &st->nodes[i];
		fprintf(f, "%s{\"iface\":", i ? "," : "");
		json_str(f, n->iface);
		fputs(",\"state\":", f);
		json_str(f, n->state);
		fputs(",\"peer\":", f);
		json_str(f, n->peer);
		fputs(",\"name\":", f);
		json_str(f, n->name);
		fprintf(f, ",\"epoch\":\"%016" PRIx64 "\",\"sessions\":%" PRIu64
			   ",\"slots\":%u,\"running\":%u,\"jobs_done\":%" PRIu64
			   ",\"jobs_failed\":%" PRIu64 ",\"bytes_out\":%" PRIu64
			   ",\"bytes_in\":%" PRIu64 ",\"speed_kbps\":%u",
			n->epoch, n->sessions, n->slots, n->running, n->jobs_done, n->jobs_failed,
			n->bytes_out, n->bytes_in, n->speed);
		fprintf(f, ",\"link\":{\"frames_tx\":%" PRIu64 ",\"frames_rx\":%" PRIu64
			   ",\"bytes_tx\":%" PRIu64 ",\"bytes_rx\":%" PRIu64
			   ",\"retransmits\":%" PRIu64 ",\"drops\":%" PRIu64 ",\"srtt_us\":%u}",
			n->frames_tx, n->frames_rx, n->wire_tx, n->wire_rx, n->retransmits, n->drops,
			n->srtt_us);
		char bp[32], wh[96];
		unsigned mbps;
		if (usb_where(n->iface, bp, sizeof bp, wh, sizeof wh, &mbps)) {
			fputs(",\"usb\":{\"device\":", f);
			json_str(f, bp);
			fputs(",\"port\":", f);
			json_str(f, wh);
			fprintf(f, ",\"speed_mbps\":%u}", mbps);
		}
		if (n->has_tele) {
			fprintf(f, ",\"telemetry\":{\"load\":%.2f,\"running\":%u,\"slots\":%u,"
				   "\"temp_c\":",
				n->tele.load_milli / 1000.0, n->tele.running, n->tele.slots);
			if (n->tele.temp_mc == JOB_TEMP_UNKNOWN)
				fputs("null", f);
			else
				fprintf(f, "%.1f", n->tele.temp_mc / 1000.0);
			fprintf(f, ",\"freq_cur_khz\":%u,\"freq_max_khz\":%u,\"mem_total_kb\":%" PRIu64
				   ",\"mem_avail_kb\":%" PRIu64 "}",
				n->tele.freq_cur_khz, n->tele.freq_max_khz, n->tele.mem_total_kb,
				n->tele.mem_avail_kb);
		} else {
			fputs(",\"telemetry\":null", f);
		}
		fo_print_node_json(f, &n->fo);
		tree_print_node_json(f, n);
		fputs(",\"compilers\":[", f);
		for (size_t k = 0; k < n->ncompilers; k++) {
			if (k)
				fputc(',', f);
			json_str(f, n->compilers[k]);
		}
		fputs("]}", f);
	}
	fputs("]", f);
	if (have_x) {
		reasons_print_json(f, &xr);
		verify_print_json(f, &xv);
	}
	serve_print_json(f, st);
	fputs("}\n", f);
}

/* ---- text output ---- */

static void human_bytes(char *out, size_t len, uint64_t v)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int i = 0;
	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(out, len, "%" PRIu64 " B", v);
	else
		snprintf(out, len, "%.1f %s", d, u[i]);
}

static void print_text(const struct hub_status *st)
{
	char a[32], b[32], c[32], d[32];

	printf("hubd up %" PRIu64 "s: local slots %u/%u in use, %u queued, %u client(s)\n",
	       st->uptime_s, st->local_used, st->local_slots, st->queued, st->clients);
	printf("jobs: %" PRIu64 " total, %" PRIu64 " to nodes, %" PRIu64 " local, %" PRIu64
	       " failed over to dcc, %" PRIu64 " retried\n",
	       st->jobs_total, st->jobs_remote, st->jobs_local, st->jobs_failed, st->jobs_retried);
	fo_print_text(stdout, &st->fo);
	tree_print_text(stdout, &st->tree);
	toolchain_print_text(stdout, &st->tc);
	if (!st->nnodes)
		printf("no node interfaces\n");
	for (size_t i = 0; i < st->nnodes; i++) {
		const struct status_node *n = &st->nodes[i];
		printf("\n%s: %s", n->iface, n->state);
		if (n->peer[0])
			printf(", node %s (%s) epoch %016" PRIx64 ", %" PRIu64 " session(s)", n->name,
			       n->peer, n->epoch, n->sessions);
		printf("\n  slots %u, running %u; jobs done %" PRIu64 ", failed %" PRIu64, n->slots,
		       n->running, n->jobs_done, n->jobs_failed);
		if (n->speed)
			printf("; speed %u KiB/s of input", n->speed);
		printf("\n");
		char bp[32], wh[96];
		unsigned mbps;
		if (usb_where(n->iface, bp, sizeof bp, wh, sizeof wh, &mbps))
			printf("  usb %s: %s, %u Mbit/s\n", bp, wh, mbps);
		human_bytes(a, sizeof a, n->bytes_out);
		human_bytes(b, sizeof b, n->bytes_in);
		human_bytes(c, sizeof c, n->wire_tx);
		human_bytes(d, sizeof d, n->wire_rx);
		printf("  jobs sent %s, results %s; on the wire tx %s, rx %s\n", a, b, c, d);
		printf("  frames tx %" PRIu64 ", rx %" PRIu64 ", retransmits %" PRIu64
		       ", drops %" PRIu64 ", srtt %u us\n",
		       n->frames_tx, n->frames_rx, n->retransmits, n->drops, n->srtt_us);
		if (n->has_tele) {
			printf("  load %.2f", n->tele.load_milli / 1000.0);
			if (n->tele.temp_mc != JOB_TEMP_UNKNOWN)
				printf(", %.1f C", n->tele.temp_mc / 1000.0);
			if (n->tele.freq_max_khz)
				printf(", %u/%u MHz", n->tele.freq_cur_khz / 1000,
				       n->tele.freq_max_khz / 1000);
			if (n->tele.mem_total_kb)
				printf(", mem %" PRIu64 "/%" PRIu64 " MiB free",
				       n->tele.mem_avail_kb / 1024, n->tele.mem_total_kb / 1024);
			printf("\n");
		}
		fo_print_node_text(stdout, &n->fo);
		if (n->peer[0])
			tree_print_node_text(stdout, n);
		for (size_t k = 0; k < n->ncompilers; k++)
			printf("  compiler %s\n", n->compilers[k]);
	}
	if (have_x) {
		printf("\n");
		reasons_print_text(stdout, &xr);
		verify_print_text(stdout, &xv);
	}
	serve_print_text(st);
}

static int cmd_status(const char *path, bool json)
{
	struct buf req = BUF_INIT;
	struct hub_status st;
	uint8_t hdr[4], *p = NULL;
	long n;
	int fd = -1, rc, ret = 1;

	rc = proto_connect(path, &fd);
	if (rc < 0) {
		fprintf(stderr, "hubctl: hubd not reachable at %s: %s\n", path, strerror(-rc));
		return 1;
	}
	proto_begin(&req, PROTO_STATUS_REQ);
	if (proto_end(&req) < 0 || write_full(fd, req.data, req.len) < 0 ||
	    read_full(fd, hdr, 4) < 0 || (n = proto_frame_len(hdr)) < 0 ||
	    !(p = malloc((size_t)n)) || read_full(fd, p, (size_t)n) < 0) {
		fprintf(stderr, "hubctl: no answer from hubd\n");
		goto out;
	}
	if (proto_type(p, (size_t)n) != PROTO_STATUS ||
	    proto_decode_status(p, (size_t)n, &st) < 0) {
		fprintf(stderr, "hubctl: malformed answer from hubd\n");
		goto out;
	}
	have_x = hubx_fetch_status(path, &xr, &xv) == 0;
	if (json)
		print_json(&st);
	else
		print_text(&st);
	proto_status_free(&st);
	if (have_x)
		verify_status_free(&xv);
	ret = fflush(stdout) == 0 ? 0 : 1;
out:
	free(p);
	buf_free(&req);
	close(fd);
	return ret;
}

static int cmd_enroll(const char *path, const char *ifname)
{
	struct buf req = BUF_INIT;
	uint8_t hdr[4], *p = NULL;
	char msg[ENROLL_MSG_MAX];
	int fd = -1, rc, status, ret = 1;
	long n;

	if (enroll_encode_req(&req, ifname) < 0) {
		fprintf(stderr, "hubctl: bad interface name '%s'\n", ifname);
		buf_free(&req);
		return 2;
	}
	rc = proto_connect(path, &fd);
	if (rc < 0) {
		fprintf(stderr, "hubctl: hubd not reachable at %s: %s\n", path, strerror(-rc));
		buf_free(&req);
		return 1;
	}
	if (write_full(fd, req.data, req.len) < 0 || read_full(fd, hdr, 4) < 0 ||
	    (n = proto_frame_len(hdr)) < 0 || !(p = malloc((size_t)n)) ||
	    read_full(fd, p, (size_t)n) < 0) {
		fprintf(stderr, "hubctl: no answer from hubd\n");
		goto out;
	}
	if (enroll_decode_answer(p, (size_t)n, &status, msg, sizeof msg) < 0) {
		fprintf(stderr, "hubctl: malformed answer from hubd\n");
		goto out;
	}
	bool ok = status > 0 || status == -EINPROGRESS;
	fprintf(ok ? stdout : stderr, "hubctl: %s\n", msg);
	ret = ok ? 0 : status == 0 ? 3 : 1;
out:
	free(p);
	buf_free(&req);
	close(fd);
	return ret;
}

/* The interface of NODE: a node's peer identity, name or interface. */
static int node_iface(const char *path, const char *node, char *iface, size_t cap)
{
	struct buf req = BUF_INIT;
	struct hub_status st;
	uint8_t hdr[4], *p = NULL;
	int fd = -1, rc = -ENOENT;
	long n;

	if (proto_connect(path, &fd) < 0)
		return -ECONNREFUSED;
	proto_begin(&req, PROTO_STATUS_REQ);
	if (proto_end(&req) == 0 && write_full(fd, req.data, req.len) == 0 && read_full(fd, hdr, 4) == 0 &&
	    (n = proto_frame_len(hdr)) >= 0 && (p = malloc((size_t)n)) && read_full(fd, p, (size_t)n) == 0 &&
	    proto_type(p, (size_t)n) == PROTO_STATUS && proto_decode_status(p, (size_t)n, &st) == 0) {
		for (size_t i = 0; i < st.nnodes && rc < 0; i++) {
			const struct status_node *s = &st.nodes[i];
			if (!strcmp(s->peer, node) || !strcmp(s->name, node) || !strcmp(s->iface, node)) {
				snprintf(iface, cap, "%s", s->iface);
				rc = 0;
			}
		}
		proto_status_free(&st);
	} else {
		rc = -EPROTO;
	}
	free(p);
	buf_free(&req);
	close(fd);
	return rc;
}

static int cmd_power_cycle(const char *path, const char *node)
{
	char iface[64], why[512];
	struct enroll_usb u;
	const char *via_env = getenv("USBFARM_POWER_VIA");
	enum usbdev_via via = USBDEV_VIA_ANY;
	int rc = node_iface(path, node, iface, sizeof iface);

	if (via_env && !strcmp(via_env, "libusb"))
		via = USBDEV_VIA_LIBUSB;
	else if (via_env && !strcmp(via_env, "sysfs"))
		via = USBDEV_VIA_SYSFS;
	if (rc == -ENOENT) {
		/* not known to hubd (or hubd is down): NODE may be the interface */
		if (!enroll_ifname_ok(node)) {
			fprintf(stderr, "hubctl: no node '%s'\n", node);
			return 1;
		}
		snprintf(iface, sizeof iface, "%s", node);
	} else if (rc < 0) {
		snprintf(iface, sizeof iface, "%s", node);
	}
	if (enroll_usb_of(NULL, iface, &u) < 0) {
		fprintf(stderr, "hubctl: %s (%s) is not a USB device: nothing to power-cycle\n", node, iface);
		return 1;
	}
	rc = usbdev_power_cycle(u.busport, 2000, via, why, sizeof why);
	fprintf(rc < 0 ? stderr : stdout, "hubctl: %s (%s, USB %s): %s\n", node, iface, u.busport, why);
	return rc == 0 ? 0 : rc == -ENOTSUP ? 3 : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char path[256] = "";
	bool json = false;
	int o;

	while ((o = getopt_long(argc, argv, "+s:jh", opts, NULL)) != -1) {
		switch (o) {
		case 's': snprintf(path, sizeof path, "%s", optarg); break;
		case 'j': json = true; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2); break;
		}
	}
	if (optind >= argc)
		usage(stderr, 2);
	const char *cmd = argv[optind];
	if (!strcmp(cmd, "help"))
		usage(stdout, 0);
	optind++;
	while ((o = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
		switch (o) {
		case 's': snprintf(path, sizeof path, "%s", optarg); break;
		case 'j': json = true; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2); break;
		}
	}
	const char *arg = optind < argc ? argv[optind++] : NULL;
	bool takes_arg = !strcmp(cmd, "enroll") || !strcmp(cmd, "power-cycle");
	if (optind < argc || takes_arg != (arg != NULL))
		usage(stderr, 2);
	if (!path[0] && hub_socket_path(path, sizeof path) < 0) {
		fprintf(stderr, "hubctl: socket path too long\n");
		return 1;
	}
	if (!strcmp(cmd, "status"))
		return cmd_status(path, json);
	if (!strcmp(cmd, "enroll"))
		return cmd_enroll(path, arg);
	if (!strcmp(cmd, "power-cycle"))
		return cmd_power_cycle(path, arg);
	fprintf(stderr, "hubctl: unknown command '%s'\n", cmd);
	usage(stderr, 2);
}
