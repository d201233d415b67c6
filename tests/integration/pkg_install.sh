#!/usr/bin/env bash
# pkg_install.sh — `make install` as a Debian service would be installed:
# a clean build and a DESTDIR install as a non-root user, every file in its
# place, the masquerade dir working, the systemd units verified by
# systemd-analyze (and their hardening as stated), hubd and noded started
# under what their units give them, the sysusers.d entry applied to a
# scratch root, the udev rules parsed, the man pages free of groff warnings and
# describing every option each program's --help lists.
# timeout: 300
source "$(dirname "$0")/../lib/sh.sh"
set -u
S=$(mktemp -d /tmp/usbfarm-pkg-install.XXXXXX)
V=$(mktemp -d /var/tmp/usbfarm-pkg-install.XXXXXX)	# outside the private /tmp below
trap 'rm -rf "$S" "$V"' EXIT
chmod 755 "$S"
ROOTED=0
[ "$(id -u)" -eq 0 ] && ROOTED=1

# --- a clean build and a DESTDIR install as a non-root user -------------
mkdir -p "$S/src"
tar -C "$T_ROOT" -c --exclude=./build --exclude=./.git --exclude='./debian/build-*' . | tar -x -C "$S/src"
asuser() { "$@"; }
if [ $ROOTED -eq 1 ]; then
	chown -R nobody: "$S/src"
	mkdir -p "$S/dest" && chown nobody: "$S/dest"
	asuser() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups env HOME=/nonexistent "$@"; }
fi
# BUILD of the tree under test must not leak into the copy's clean build
if asuser env -u BUILD make -C "$S/src" -s -j2 progs build/tools/faultfwd >"$S/build.log" 2>&1 &&
	asuser env -u BUILD make -C "$S/src" -s install DESTDIR="$S/dest" PREFIX=/usr >"$S/install.log" 2>&1; then
	ok clean-build-install-as-$(id -un "$(stat -c %u "$S/dest")")
else
	fail clean-build-install "$(tail -q -n 5 "$S/build.log" "$S/install.log" 2>/dev/null)"
fi
D=$S/dest

# --- every file in its place ---------------------------------------------
missing=()
for f in usr/bin/dcc usr/bin/hubctl usr/sbin/hubd usr/sbin/noded usr/bin/simfarm \
	usr/lib/usbfarm/faultfwd; do
	[ -f "$D/$f" ] && [ -x "$D/$f" ] || missing+=("$f")
done
for f in usr/lib/systemd/system/usbfarm-hubd.service usr/lib/systemd/system/usbfarm-noded.service \
	usr/lib/sysusers.d/usbfarm.conf etc/default/usbfarm-hubd etc/default/usbfarm-noded \
	usr/share/man/man1/dcc.1 usr/share/man/man1/hubctl.1 usr/share/man/man1/simfarm.1 \
	usr/share/man/man8/hubd.8 usr/share/man/man8/noded.8; do
	[ -f "$D/$f" ] || missing+=("$f")
done
# what the usb branch adds: installed wherever it exists in the tree
if [ -e "$T_ROOT/gadget/usbfarm-gadget" ]; then
	for f in usr/sbin/usbfarm-gadget usr/share/man/man8/usbfarm-gadget.8; do
		[ -f "$D/$f" ] || missing+=("$f")
	done
fi
for u in "$T_ROOT"/gadget/*.service "$T_ROOT"/gadget/*.service.in; do
	[ -e "$u" ] || continue
	[ -f "$D/usr/lib/systemd/system/$(basename "$u" .in)" ] || missing+=("unit $(basename "$u" .in)")
done
for r in "$T_ROOT"/udev/*.rules "$T_ROOT"/gadget/*.rules; do
	[ -e "$r" ] || continue
	cmp -s "$r" "$D/usr/lib/udev/rules.d/$(basename "$r")" || missing+=("rule $(basename "$r")")
done
[ ${#missing[@]} -eq 0 ] && ok files-installed || fail files-installed "missing: ${missing[*]}"

# units name the installed programs
grep -q '^ExecStart=/usr/sbin/hubd ' "$D/usr/lib/systemd/system/usbfarm-hubd.service" &&
	grep -q '^ExecStart=/usr/sbin/noded ' "$D/usr/lib/systemd/system/usbfarm-noded.service" &&
	! grep -q '@[A-Z]*@' "$D"/usr/lib/systemd/system/*.service &&
	ok units-paths-filled || fail units-paths-filled "ExecStart or a @VAR@ left in a unit"

# --- the masquerade dir: compiler names that run dcc, which finds the real one
masq=$D/usr/lib/usbfarm/bin
bad=
for n in cc c++ gcc g++; do
	[ -L "$masq/$n" ] && [ "$(readlink -f "$masq/$n")" = "$(readlink -f "$D/usr/bin/dcc")" ] || bad+=" $n"
	case $(readlink "$masq/$n") in /*) bad+=" $n(absolute)" ;; esac
done
[ -z "$bad" ] && ok masquerade-links || fail masquerade-links "not a relative link to dcc:$bad"
printf 'int f(void) { return 42; }\n' >"$S/m.c"
if (cd "$S" && PATH=$masq:$PATH DCC_LOCAL=1 gcc -c m.c -o m.o) && [ -s "$S/m.o" ] &&
	(cd "$S" && PATH=$masq:$PATH gcc --version | grep -qi gcc); then
	ok masquerade-compiles
else
	fail masquerade-compiles "gcc through $masq did not reach the real gcc"
fi

# --- systemd units: systemd-analyze verify, the stated hardening ---------
A=$S/abs
make -C "$T_ROOT" -s install-hub install-node BUILD="$T_BUILD" PREFIX="$A/usr" SYSCONFDIR="$A/etc" >/dev/null 2>"$S/abs.log" ||
	fail install-abs "$(tail -n 3 "$S/abs.log")"
# a unit that names /usr/sbin itself (the gadget's) is checked against the
# program installed under $A: a copy with that path rewritten
mkdir -p "$S/verify"
for u in "$A"/usr/lib/systemd/system/*.service; do
	sed "s|=\(-\?\)/usr/sbin/|=\1$A/usr/sbin/|" "$u" >"$S/verify/$(basename "$u")"
done
out=$(MANPATH=$A/usr/share/man systemd-analyze verify "$S"/verify/*.service 2>&1)
rc=$?
[ $rc -eq 0 ] && [ -z "$out" ] && ok systemd-analyze-verify || fail systemd-analyze-verify "rc $rc: $out"

hub=$D/usr/lib/systemd/system/usbfarm-hubd.service
node=$D/usr/lib/systemd/system/usbfarm-noded.service
capset=$(sed -n 's/^CapabilityBoundingSet=//p' "$hub" | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$capset" = "CAP_CHOWN CAP_FOWNER CAP_NET_ADMIN CAP_NET_RAW CAP_SETGID CAP_SETPCAP CAP_SETUID " ] &&
	grep -qx 'Group=usbfarm' "$hub" && grep -qx 'RuntimeDirectory=usbfarm' "$hub" &&
	grep -qx 'RuntimeDirectoryMode=0750' "$hub" && grep -qx 'NoNewPrivileges=yes' "$hub" &&
	grep -qx 'ProtectSystem=strict' "$hub" && ! grep -q '^User=' "$hub" &&
	ok hubd-unit-hardening || fail hubd-unit-hardening "bounding set '$capset' or group/runtime dir/protections differ"
! grep -q '^CapabilityBoundingSet=\|^RestrictNamespaces=\|^User=' "$node" &&
	grep -qx 'NoNewPrivileges=yes' "$node" && grep -qx 'ProtectSystem=full' "$node" &&
	ok noded-unit-root-with-namespaces || fail noded-unit-root-with-namespaces "noded's unit would stop its sandbox or lost its protections"
# hubd started as the unit starts it: root, only the unit's bounding set,
# group usbfarm, no_new_privs, its runtime dir 0750 root:usbfarm made
# beforehand (as RuntimeDirectory= does), in a network namespace of its
# own; it must come up and answer hubctl.
if [ $ROOTED -eq 1 ]; then
	getent group usbfarm >/dev/null || groupadd -r usbfarm
	bset=-all$(printf ',+%s' $(sed -n 's/^CapabilityBoundingSet=//p' "$hub" | tr 'A-Z' 'a-z' | sed 's/cap_//g'))
	rd=$S/run-usbfarm
	mkdir -m 0750 "$rd" && chgrp usbfarm "$rd"
	unshare -n setpriv --bounding-set="$bset" --inh-caps=-all --regid="$(getent group usbfarm | cut -d: -f3)" \
		--clear-groups --no-new-privs "$T_BIN/hubd" --socket "$rd/hubd.sock" --local-slots 1 >"$S/hubd.log" 2>&1 &
	hpid=$!
	for _ in $(seq 100); do [ -S "$rd/hubd.sock" ] && "$T_BIN/hubctl" --socket "$rd/hubd.sock" status >/dev/null 2>&1 && break; sleep 0.1; done
	if "$T_BIN/hubctl" --socket "$rd/hubd.sock" status >/dev/null 2>&1 && kill -0 "$hpid" 2>/dev/null; then
		ok "hubd-runs-with-unit-caps ($(stat -c '%U:%G %a' "$rd/hubd.sock") socket)"
	else
		fail hubd-runs-with-unit-caps "$(tail -n 5 "$S/hubd.log")"
	fi
	kill "$hpid" 2>/dev/null; wait "$hpid" 2>/dev/null
else
	skip hubd-runs-with-unit-caps "setpriv --bounding-set and a network namespace need root"
fi
# noded as its unit runs it: root, NoNewPrivileges, /usr and /etc
# read-only, a private /tmp, job dirs under its cache dir, on a packet link
# (lo of a network namespace of its own): it must come up and offer its
# compilers (and, with the sandbox, pass its sandbox probe).
if [ $ROOTED -eq 1 ]; then
	jd=$V/cache-usbfarm/jobs
	mkdir -p "$jd" && chmod 711 "$V" "$V/cache-usbfarm" "$jd"
	unshare -m -n sh -c 'ip link set lo up && mount --bind /usr /usr && mount -o remount,bind,ro /usr &&
		mount --bind /etc /etc && mount -o remount,bind,ro /etc && mount -t tmpfs tmpfs /tmp &&
		exec setpriv --no-new-privs "$1" --tmpdir "$2" --slots 1 lo' sh "$T_BIN/noded" "$jd" >"$S/noded.log" 2>&1 &
	npid=$!
	for _ in $(seq 100); do grep -q 'offers' "$S/noded.log" && break; kill -0 "$npid" 2>/dev/null || break; sleep 0.1; done
	if grep -q 'offers' "$S/noded.log" && kill -0 "$npid" 2>/dev/null; then
		ok "noded-runs-with-unit-protections ($(grep -c offers "$S/noded.log") compilers)"
	else
		fail noded-runs-with-unit-protections "$(tail -n 5 "$S/noded.log")"
	fi
	kill "$npid" 2>/dev/null; wait "$npid" 2>/dev/null
else
	skip noded-runs-with-unit-protections "mount and network namespaces need root"
fi
for u in "$hub" "$node"; do
	e=$(systemd-analyze security --offline=yes "$u" 2>/dev/null | sed -n 's/.*Overall exposure level for \([^:]*\): \([0-9.]*\).*/\2/p')
	echo "# exposure $(basename "$u"): ${e:-?} (systemd-analyze security, 0 best, 10 worst)"
done
ehub=$(systemd-analyze security --offline=yes "$hub" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9]*\).*/\1/p')
[ -n "$ehub" ] && [ "$ehub" -lt 5 ] && ok hubd-exposure-below-5 || fail hubd-exposure-below-5 "exposure ${ehub:-?}"

# --- sysusers.d: applied to a scratch root, the group appears ------------
R=$S/root
mkdir -p "$R/etc"
: >"$R/etc/passwd"; : >"$R/etc/group"
if [ $ROOTED -eq 1 ]; then
	systemd-sysusers --root="$R" "$D/usr/lib/sysusers.d/usbfarm.conf" >/dev/null 2>&1
	grep -q '^usbfarm:x:[0-9]*:' "$R/etc/group" && ok sysusers-group ||
		fail sysusers-group "systemd-sysusers made no usbfarm group: $(cat "$R/etc/group")"
	gid=$(awk -F: '$1 == "usbfarm" { print $3 }' "$R/etc/group")
	awk -F: -v g="$gid" '$1 == "usbfarm" && $3 > 0 && $3 < 1000 && $4 == g && $7 ~ /nologin$/ { f = 1 } END { exit !f }' "$R/etc/passwd" &&
		ok sysusers-system-user || fail sysusers-system-user "no usbfarm system user (uid < 1000, group usbfarm, nologin): $(cat "$R/etc/passwd")"
else
	skip sysusers-group "systemd-sysusers --root needs root"
fi

# --- udev rules: parsed by this udev --------------------------------------
# `udevadm verify` is systemd >= 253; Debian 12 has 252, whose `udevadm test`
# parses every rules file and names each bad line "FILE:LINE reason". The
# rules go into /run/udev/rules.d of a private mount namespace only.
rules=("$D"/usr/lib/udev/rules.d/*.rules)
if [ ! -e "${rules[0]}" ]; then
	echo "# no udev rules in the tree yet (udev/, gadget/)"
elif udevadm verify --help >/dev/null 2>&1; then
	check udevadm-verify udevadm verify "${rules[@]}"
elif [ $ROOTED -eq 1 ]; then
	out=$(unshare -m sh -c 'mkdir -p /run/udev/rules.d && mount -t tmpfs tmpfs /run/udev/rules.d &&
		cp "$@" /run/udev/rules.d/ && udevadm test --action=add /sys/class/net/lo 2>&1' sh "${rules[@]}")
	read_all=1
	for r in "${rules[@]}"; do
		grep -q "^Reading rules file: /run/udev/rules.d/$(basename "$r")" <<<"$out" || read_all=0
	done
	bad=$(grep '^/run/udev/rules.d/' <<<"$out")
	[ $read_all -eq 1 ] && [ -z "$bad" ] && ok "udev-rules-parse (${#rules[@]} files)" ||
		fail udev-rules-parse "read all: $read_all; ${bad:-}"
else
	skip udev-rules-parse "a private /run/udev/rules.d needs root"
fi

# --- man pages: no groff warnings, every --help option described ---------
for m in "$D"/usr/share/man/man[18]/*; do
	w=$( { groff -ww -man -z "$m"; MANWIDTH=80 man --warnings -l "$m" >/dev/null; } 2>&1)
	[ -z "$w" ] && ok "man-clean-$(basename "$m")" || fail "man-clean-$(basename "$m")" "$w"
done
# opts_of PROGRAM...: the long options its --help names
# (up to an EXAMPLES section: its lines are other programs' command lines)
opts_of() { "$@" --help 2>&1 | sed '/^ *EXAMPLES/,$d' | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u; }
man_has() { grep -q -- "$(printf '%s' "$2" | sed 's/-/\\\\-/g')" "$1"; }
for p in dcc hubd hubctl noded simfarm usbfarm-gadget; do
	case $p in
	dcc|hubctl|simfarm) m=$D/usr/share/man/man1/$p.1 ;;
	*) m=$D/usr/share/man/man8/$p.8 ;;
	esac
	bin=$D/usr/bin/$p; [ -x "$bin" ] || bin=$D/usr/sbin/$p
	if [ ! -x "$bin" ]; then
		[ "$p" = usbfarm-gadget ] && { echo "# usbfarm-gadget not in the tree yet"; continue; }
		fail "man-options-$p" "$p not installed"; continue
	fi
	undoc=
	for o in $(opts_of "$bin"); do man_has "$m" "$o" || undoc+=" $o"; done
	n=$(opts_of "$bin" | wc -l)
	[ -z "$undoc" ] && [ "$n" -gt 0 ] && ok "man-options-$p ($n options)" ||
		fail "man-options-$p" "options in --help but not in $(basename "$m"):$undoc"
done
t_done
