#!/usr/bin/env bash
# usb_gadget.sh — gadget/usbfarm-gadget against a fake configfs tree (plain
# directories; the real configfs is exercised by make check-usb in QEMU):
# what `up` writes, MACs derived from the serial (stable, locally
# administered, distinct), serial sources in order, idempotence, rebuild on
# changed settings, `down` removing exactly its own gadget, status codes.
# timeout: 60
set -u -o pipefail
. "$(dirname "$0")/../lib/sh.sh"
G=$T_ROOT/gadget/usbfarm-gadget
tmp=$(mktemp -d /tmp/usbfarm-gadget-u4.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export USBFARM_CONFIGFS=$tmp/cfg USBFARM_UDC_CLASS=$tmp/udc
export USBFARM_DT_SERIAL=$tmp/dt-serial USBFARM_MACHINE_ID=$tmp/machine-id
mkdir -p "$tmp/cfg/usb_gadget" "$tmp/udc/musb-hdrc.0" "$tmp/udc/ci_hdrc.0"
echo 0123456789abcdef0123456789abcdef >"$tmp/machine-id"
gd=$tmp/cfg/usb_gadget/usbfarm
rd() { head -n1 "$1" 2>/dev/null; }

check help_has_synopsis bash -c "'$G' --help | grep -q SYNOPSIS"
"$G" bogus >/dev/null 2>&1; [ $? -eq 2 ] && ok usage_exit_2 || fail usage_exit_2 "bad command not exit 2"
"$G" status >/dev/null; [ $? -eq 3 ] && ok status_absent_3 || fail status_absent_3 "absent gadget not exit 3"
"$G" down && ok down_nothing || fail down_nothing "down with no gadget failed"

"$G" up >/dev/null || fail up "up failed"
[ "$(rd "$gd/idVendor"):$(rd "$gd/idProduct")" = 0x1d6b:0x0104 ] && ok up_vid_pid || fail up_vid_pid "$(rd "$gd/idVendor"):$(rd "$gd/idProduct")"
[ "$(rd "$gd/strings/0x409/product")" = "usbfarm node" ] && ok up_product || fail up_product "$(rd "$gd/strings/0x409/product")"
[ "$(rd "$gd/strings/0x409/serialnumber")" = 0123456789abcdef0123456789abcdef ] && ok serial_machine_id || fail serial_machine_id "$(rd "$gd/strings/0x409/serialnumber")"
[ "$(rd "$gd/UDC")" = ci_hdrc.0 ] && ok up_first_udc || fail up_first_udc "UDC=$(rd "$gd/UDC")"
[ -L "$gd/configs/c.1/ecm.usb0" ] && [ ! -e "$gd/functions/ncm.usb0" ] && ok up_ecm_default || fail up_ecm_default "no ecm link"
dev=$(rd "$gd/functions/ecm.usb0/dev_addr"); host=$(rd "$gd/functions/ecm.usb0/host_addr")
macok() { [[ $1 =~ ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$ ]] && (( (0x${1:0:2} & 3) == 2 )); }
macok "$dev" && macok "$host" && [ "$dev" != "$host" ] && ok mac_local_unicast_distinct || fail mac_local_unicast_distinct "$dev $host"
st=$("$G" status); [ $? -eq 0 ] && grep -qx 'gadget usbfarm: bound to ci_hdrc.0' <<<"$st" && ok status_bound_0 || fail status_bound_0 "status of a bound gadget: $st"
[ "$(sh "$G" status | grep host_addr)" = "$(grep host_addr <<<"$st")" ] && ok posix_sh_same || fail posix_sh_same "sh and bash differ"

# idempotent: a second up changes nothing (a marker file in the tree stays)
touch "$gd/functions/ecm.usb0/marker"
"$G" up >/dev/null && [ -e "$gd/functions/ecm.usb0/marker" ] && ok up_idempotent || fail up_idempotent "second up rebuilt the gadget"
"$G" down && "$G" up >/dev/null
[ "$(rd "$gd/functions/ecm.usb0/dev_addr")" = "$dev" ] && [ "$(rd "$gd/functions/ecm.usb0/host_addr")" = "$host" ] && ok mac_stable || fail mac_stable "MACs changed across down/up"

# the device-tree serial wins over machine-id; the MACs follow the serial
printf 'B0ARD-42\0' >"$tmp/dt-serial"
"$G" up --ncm --udc musb-hdrc.0 >/dev/null
[ "$(rd "$gd/strings/0x409/serialnumber")" = B0ARD-42 ] && ok serial_device_tree || fail serial_device_tree "$(rd "$gd/strings/0x409/serialnumber")"
[ -L "$gd/configs/c.1/ncm.usb0" ] && [ ! -e "$gd/functions/ecm.usb0" ] && [ ! -e "$gd/configs/c.1/ecm.usb0" ] && ok up_ncm_rebuilds || fail up_ncm_rebuilds "ecm left or ncm missing"
[ "$(rd "$gd/UDC")" = musb-hdrc.0 ] && ok up_named_udc || fail up_named_udc "UDC=$(rd "$gd/UDC")"
[ "$(rd "$gd/functions/ncm.usb0/dev_addr")" != "$dev" ] && ok mac_follows_serial || fail mac_follows_serial "same MAC for another serial"
"$G" up --udc nosuch.0 >/dev/null 2>&1 && fail named_udc_missing "up on a missing UDC succeeded" || ok named_udc_missing

# down removes only its own gadget
mkdir -p "$tmp/cfg/usb_gadget/other"; touch "$tmp/cfg/usb_gadget/other/idVendor"
"$G" --serial S1 --name b1 up >/dev/null
"$G" down
[ ! -e "$gd" ] && [ -d "$tmp/cfg/usb_gadget/b1" ] && [ -e "$tmp/cfg/usb_gadget/other/idVendor" ] && ok down_only_own || fail down_only_own "$(ls "$tmp/cfg/usb_gadget")"
"$G" --name b1 down && [ ! -e "$tmp/cfg/usb_gadget/b1" ] && ok down_named || fail down_named "b1 left"
"$G" --name ../x up >/dev/null 2>&1 && fail bad_name_refused "../x accepted" || ok bad_name_refused
rm -f "$tmp/dt-serial" "$tmp/machine-id"
"$G" up >/dev/null 2>&1 && fail no_serial_refused "up without any serial succeeded" || ok no_serial_refused
t_done
