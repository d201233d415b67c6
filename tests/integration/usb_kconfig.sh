#!/usr/bin/env bash
# usb_kconfig.sh — kernel-config/check against the config that Debian's own
# kernel package ships (/boot/config-*-amd64 of linux-image-amd64: the hub
# and board fragments are met, the ARM UDC fragments are named missing) and
# against small made-up configs for each rule (missing, m where y is
# needed, y where m is asked, not-set, exact values, gzip input, errors).
# timeout: 60
set -u -o pipefail
. "$(dirname "$0")/../lib/sh.sh"
C=$T_ROOT/kernel-config/check
K=$T_ROOT/kernel-config
tmp=$(mktemp -d /tmp/usbfarm-kconfig-u4.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

deb=$(ls /boot/config-*-amd64 2>/dev/null | sort -V | tail -n1)
if [ -z "$deb" ]; then
	fail debian_config "no /boot/config-*-amd64: run scripts/install-deps (linux-image-amd64)"
else
	for f in hub board udc-dummy; do
		out=$("$C" "$K/$f.config" "$deb" 2>&1) && ok "debian_$f" || fail "debian_$f" "$out"
	done
	out=$("$C" "$K/udc-musb.config" "$deb" 2>/dev/null); rc=$?
	[ $rc -eq 1 ] && grep -q '^CONFIG_USB_MUSB_HDRC missing' <<<"$out" && [ "$(wc -l <<<"$out")" -eq 4 ] \
		&& ok debian_amd64_has_no_musb || fail debian_amd64_has_no_musb "rc=$rc: $out"
	gzip -c "$deb" >"$tmp/config.gz"
	"$C" "$K/hub.config" "$tmp/config.gz" 2>/dev/null && ok gzip_input || fail gzip_input "gz config not read"
fi

cat >"$tmp/frag" <<'F'
# comment
CONFIG_A=m
CONFIG_B=y
CONFIG_C=m
CONFIG_D=y
# CONFIG_E is not set
CONFIG_F="abc"
CONFIG_G=100
CONFIG_H=m
F
cat >"$tmp/cfg" <<'F'
CONFIG_A=y
CONFIG_B=m
# CONFIG_C is not set
CONFIG_D=y
CONFIG_E=m
CONFIG_F="abd"
CONFIG_G=100
CONFIG_H=m
F
out=$("$C" "$tmp/frag" "$tmp/cfg" 2>/dev/null); rc=$?
[ $rc -eq 1 ] && ok mismatch_exit_1 || fail mismatch_exit_1 "rc=$rc"
want='CONFIG_B=m: want y (built-in)
CONFIG_C missing: want m or y
CONFIG_E=m: want not set
CONFIG_F="abd": want "abc"'
[ "$out" = "$want" ] && ok mismatch_names_exactly || fail mismatch_names_exactly "got: $out"
"$C" "$tmp/frag" "$tmp/nosuch" >/dev/null 2>&1; [ $? -eq 2 ] && ok unreadable_exit_2 || fail unreadable_exit_2 "missing config not exit 2"
echo hello >"$tmp/junk"
"$C" "$tmp/frag" "$tmp/junk" >/dev/null 2>&1; [ $? -eq 2 ] && ok not_a_config_exit_2 || fail not_a_config_exit_2 "junk accepted"
t_done
