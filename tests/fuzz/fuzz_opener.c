/* fuzz_opener.c — libFuzzer harness for the link opener's request parser
 * (hub/opener.c): the opener holds CAP_NET_RAW/CAP_NET_ADMIN and reads
 * requests from the dispatcher, which parses every client's bytes, so the
 * parser is the opener's whole attack surface. What it accepts must be
 * exactly one request: the right size, a known op, an MTU in range, a name
 * that passes the name rule (no '/', not "." or "..", printable, 1..15
 * bytes, zero-padded) and re-encodes to the very same bytes. */
#include "opener.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct opener_req r, again;
	int rc = opener_parse_req(data, size, &r);

	if (rc != 0 && rc != -EINVAL && rc != -EMSGSIZE)
		abort();
	if ((size != sizeof r) != (rc == -EMSGSIZE))
		abort();
	if (rc != 0)
		return 0;
	size_t n = strnlen(r.ifname, sizeof r.ifname);
	if (n == 0 || n >= sizeof r.ifname || strchr(r.ifname, '/') || !strcmp(r.ifname, "..") ||
	    !strcmp(r.ifname, ".") || !opener_name_ok(r.ifname))
		abort();
	if (r.op != OPENER_OPEN && r.op != OPENER_UP)
		abort();
	if (r.op == OPENER_OPEN ? r.mtu != 0 : (r.mtu != 0 && (r.mtu < 256 || r.mtu > 65535)))
		abort();
	memset(&again, 0, sizeof again);
	again.magic = OPENER_MAGIC;
	again.op = r.op;
	again.seq = r.seq;
	again.mtu = r.mtu;
	memcpy(again.ifname, r.ifname, n);
	if (memcmp(&again, data, sizeof again) != 0)
		abort();
	return 0;
}
