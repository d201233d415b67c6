/*
 * test_usbdev.c — hub/usbdev.c without hardware: USB device names parsed
 * into bus and port path (and bad ones refused), the words `hubctl status`
 * prints for a place, the port-power switching mode read from
 * wHubCharacteristics. The libusb paths (locate, power-cycle through the
 * kernel attribute and through Clear/SetPortFeature) run on dummy_hcd in
 * make check-usb.
 */
#include "../../hub/usbdev.h"
#include "../lib/test.h"

#include <errno.h>

int main(void)
{
	struct usbdev_place p;
	char s[96];

	T_CASE("usbdev_parse_root_port") {
		T_CHECK(usbdev_parse_busport("1-1", &p) == 0 && p.bus == 1 && p.nports == 1 && p.ports[0] == 1, "1-1");
		usbdev_describe(&p, s, sizeof s);
		T_CHECK(!strcmp(s, "port 1 of root hub 1"), "%s", s);
	}
	T_CASE("usbdev_parse_behind_hubs") {
		T_CHECK(usbdev_parse_busport("3-2.4.1", &p) == 0 && p.bus == 3 && p.nports == 3 &&
			p.ports[0] == 2 && p.ports[1] == 4 && p.ports[2] == 1, "3-2.4.1");
		usbdev_describe(&p, s, sizeof s);
		T_CHECK(!strcmp(s, "port 1 of hub 3-2.4"), "%s", s);
	}
	T_CASE("usbdev_parse_refuses") {
		const char *bad[] = { "", "1", "1-", "-1", "usb1", "1-0", "0-1", "1-1.", "1-1..2", "1-256",
				      "1-1:1.0", "1-1.1.1.1.1.1.1.1", "x-1" };
		for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
			T_CHECK(usbdev_parse_busport(bad[i], &p) == -EINVAL, "'%s' accepted", bad[i]);
		T_CHECK(usbdev_parse_busport("1-1.1.1.1.1.1.1", &p) == 0, "7 tiers refused");
	}
	T_CASE("usbdev_port_power_mode") {
		T_CHECK(usbdev_per_port_power(0x0001), "individual");
		T_CHECK(usbdev_per_port_power(0x00a9), "individual with other bits");
		T_CHECK(!usbdev_per_port_power(0x0000), "ganged");
		T_CHECK(!usbdev_per_port_power(0x0002) && !usbdev_per_port_power(0x0003), "no switching");
	}
	return t_done();
}
