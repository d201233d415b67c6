#!/usr/bin/env bash
# pkg_deb.sh — the Debian packages: `dpkg-buildpackage -b` builds
# usbfarm-hub and usbfarm-node for each architecture of PKG_ARCHES (default:
# this machine's; `make check-pkg` adds arm64 and armhf, cross-built), each
# from its own copy of the tree; the binaries are of that machine and
# hardened (PIE, full RELRO, BIND_NOW, fortified); lintian reports no error
# (its warnings and infos are listed as # lines); the native packages are
# installed with dpkg into a scratch root, running their maintainer scripts
# there (DPKG_ROOT): files, enabled units, the usbfarm user and group, and
# removed again by purge.
# timeout: 1500
source "$(dirname "$0")/../lib/sh.sh"
set -u
S=$(mktemp -d /tmp/usbfarm-pkg-deb.XXXXXX)
trap 'rm -rf "$S"' EXIT
NATIVE=$(dpkg --print-architecture)
ARCHES=${PKG_ARCHES:-$NATIVE}

# machine_of ARCH: what readelf -h says for ARCH's binaries
machine_of() {
	case $1 in
	amd64) echo 'Advanced Micro Devices X86-64' ;;
	arm64) echo AArch64 ;;
	armhf|armel) echo ARM ;;
	i386) echo 'Intel 80386' ;;
	*) echo "?$1" ;;
	esac
}

# build ARCH: the packages of ARCH into $S/ARCH; ok/fail lines.
build() {
	local a=$1 dir=$S/$1 opts=()
	mkdir -p "$dir/src"
	tar -C "$T_ROOT" -c --exclude=./build --exclude=./.git --exclude='./debian/build-*' . | tar -x -C "$dir/src"
	[ "$a" = "$NATIVE" ] || opts=(-a"$a" -Pcross,nocheck)
	local t0=$SECONDS
	if (cd "$dir/src" && env -u BUILD -u CC -u CFLAGS -u LDFLAGS -u PKG_CONFIG \
		dpkg-buildpackage -us -uc -b "${opts[@]}") >"$dir/build.log" 2>&1; then
		ok "dpkg-buildpackage-$a ($((SECONDS - t0)) s)"
	else
		fail "dpkg-buildpackage-$a" "$(tail -n 15 "$dir/build.log")"
		return 1
	fi
	local p deb bad=
	for p in usbfarm-hub usbfarm-node; do
		deb=$dir/${p}_$(dpkg-parsechangelog -l "$T_ROOT/debian/changelog" -S Version)_$a.deb
		[ -f "$deb" ] || { bad+=" $p(no .deb)"; continue; }
		[ "$(dpkg-deb -f "$deb" Architecture)" = "$a" ] || bad+=" $p(Architecture)"
		rm -rf "$dir/x" && dpkg-deb -x "$deb" "$dir/x"
		for b in "$dir"/x/usr/bin/* "$dir"/x/usr/sbin/*; do
			[ -f "$b" ] && [ ! -L "$b" ] || continue
			head -c 4 "$b" | grep -q ELF || continue
			readelf -h "$b" | grep -q "Machine: *$(machine_of "$a")\$" || bad+=" $(basename "$b")(machine)"
			# dpkg's hardening=+all reached the link: PIE, full RELRO,
			# fortified calls, stack protector
			readelf -h "$b" | grep -q 'Type: *DYN' && readelf -l "$b" | grep -q GNU_RELRO &&
				readelf -d "$b" | grep -q BIND_NOW && readelf -s --wide "$b" | grep -q '_chk@' ||
				bad+=" $(basename "$b")(hardening)"
		done
	done
	[ -z "$bad" ] && ok "debs-are-$a-hardened" || fail "debs-are-$a-hardened" "$bad"
	lint "$a"
}

# lint ARCH: lintian on the two .debs; no E: tag.
lint() {
	local a=$1 out
	out=$(lintian --tag-display-limit 0 -I "$S/$a"/usbfarm-hub_*_"$a".deb "$S/$a"/usbfarm-node_*_"$a".deb 2>&1 |
		grep -v 'running with root privileges')
	printf '%s\n' "$out" | grep -E '^[WIPX]: ' | sed "s/^/# lintian $a: /"
	if printf '%s\n' "$out" | grep -q '^E: '; then
		fail "lintian-no-errors-$a" "$(printf '%s\n' "$out" | grep '^E: ' | head -n 10)"
	elif [ -n "$(printf '%s\n' "$out" | grep -vE '^[WIPX]: |^$')" ]; then
		fail "lintian-no-errors-$a" "lintian did not run: $out"
	else
		ok "lintian-no-errors-$a ($(printf '%s\n' "$out" | grep -c '^W: ') warnings)"
	fi
}

# install_native: both native .debs into a scratch root, scripts and all.
install_native() {
	local a=$NATIVE R=$S/root
	mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/etc"
	touch "$R/var/lib/dpkg/status" "$R/var/lib/dpkg/available" "$R/etc/passwd" "$R/etc/group"
	local debs=("$S/$a"/usbfarm-hub_*_"$a".deb "$S/$a"/usbfarm-node_*_"$a".deb)
	if [ -d /run/systemd/system ]; then
		# the scripts would reload this host's systemd: unpack, then do
		# what they do, into the root
		for d in "${debs[@]}"; do dpkg-deb -x "$d" "$R"; done
		systemd-sysusers --root="$R" >/dev/null 2>&1
		systemctl --root="$R" enable usbfarm-hubd.service usbfarm-noded.service >/dev/null 2>&1
		echo "# systemd runs here: unpacked with dpkg-deb -x, scripts' work done by hand"
	elif ! dpkg --root="$R" --force-depends --force-script-chrootless -i "${debs[@]}" >"$S/dpkg.log" 2>&1; then
		fail dpkg-root-install "$(tail -n 10 "$S/dpkg.log")"
		return
	else
		ok dpkg-root-install
	fi
	local missing=() f
	for f in usr/bin/dcc usr/bin/hubctl usr/sbin/hubd usr/sbin/noded \
		lib/systemd/system/usbfarm-hubd.service lib/systemd/system/usbfarm-noded.service \
		usr/lib/sysusers.d/usbfarm.conf etc/default/usbfarm-hubd etc/default/usbfarm-noded \
		usr/share/man/man1/dcc.1.gz usr/share/man/man1/hubctl.1.gz usr/share/man/man8/hubd.8.gz \
		usr/share/man/man8/noded.8.gz usr/share/doc/usbfarm-hub/copyright; do
		[ -e "$R/$f" ] || missing+=("$f")
	done
	for f in cc c++ gcc g++; do
		[ "$(readlink -f "$R/usr/lib/usbfarm/bin/$f")" = "$(readlink -f "$R/usr/bin/dcc")" ] || missing+=("masq $f")
	done
	if [ -e "$T_ROOT/gadget/usbfarm-gadget" ]; then
		for f in usr/sbin/usbfarm-gadget usr/share/man/man8/usbfarm-gadget.8.gz; do
			[ -e "$R/$f" ] || missing+=("$f")
		done
	fi
	for f in "$T_ROOT"/udev/*.rules "$T_ROOT"/gadget/*.rules; do
		[ -e "$f" ] && { [ -e "$R/lib/udev/rules.d/$(basename "$f")" ] || missing+=("rule $(basename "$f")"); }
	done
	for f in "$T_ROOT"/gadget/*.service "$T_ROOT"/gadget/*.service.in; do
		[ -e "$f" ] && { [ -e "$R/lib/systemd/system/$(basename "$f" .in)" ] || missing+=("unit $(basename "$f")"); }
	done
	[ ${#missing[@]} -eq 0 ] && ok root-files || fail root-files "missing: ${missing[*]}"
	grep -q '^usbfarm:x:[0-9]*:' "$R/etc/group" && grep -q '^usbfarm:x:[0-9]*:' "$R/etc/passwd" &&
		ok root-usbfarm-user-group || fail root-usbfarm-user-group "no usbfarm group or user"
	[ -L "$R/etc/systemd/system/multi-user.target.wants/usbfarm-hubd.service" ] &&
		[ -L "$R/etc/systemd/system/multi-user.target.wants/usbfarm-noded.service" ] &&
		ok root-units-enabled || fail root-units-enabled "not enabled in multi-user.target.wants"
	# the group is made before hubd (Group=usbfarm) is started
	local pi=$S/ctl
	dpkg-deb -e "$S/$a"/usbfarm-hub_*_"$a".deb "$pi"
	local ls lu
	ls=$(grep -n 'systemd-sysusers' "$pi/postinst" | head -n1 | cut -d: -f1)
	lu=$(grep -n "deb-systemd-invoke" "$pi/postinst" | head -n1 | cut -d: -f1)
	[ -n "$ls" ] && [ -n "$lu" ] && [ "$ls" -lt "$lu" ] && ok postinst-group-before-start ||
		fail postinst-group-before-start "sysusers at line ${ls:-none}, start at ${lu:-none}"
	"$R/usr/bin/dcc" --version >/dev/null && "$R/usr/sbin/hubd" --help >/dev/null &&
		"$R/usr/sbin/noded" --help >/dev/null && ok root-programs-run || fail root-programs-run "an installed program does not run"
	if [ ! -d /run/systemd/system ]; then
		if dpkg --root="$R" --force-depends --force-script-chrootless --purge usbfarm-hub usbfarm-node >"$S/purge.log" 2>&1 &&
			[ ! -e "$R/usr/bin/dcc" ] && [ ! -e "$R/etc/default/usbfarm-hubd" ] &&
			[ ! -e "$R/etc/systemd/system/multi-user.target.wants/usbfarm-hubd.service" ]; then
			ok dpkg-root-purge
		else
			fail dpkg-root-purge "$(tail -n 5 "$S/purge.log")"
		fi
	fi
}

for a in $ARCHES; do
	build "$a" || continue
	[ "$a" = "$NATIVE" ] && install_native
done
t_done
