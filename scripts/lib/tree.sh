# tree.sh — shell helpers for the board store's tests and benchmark
# (tests/integration/store_tree.sh, scripts/bench-store): the toolchain a
# job tree binds over itself, and a manifest list from gcc's own deps.

# toolchain_ro GCC: sandbox.h's ro_paths for a job whose root is a tree:
# the driver, cc1, as, the libraries they load and /etc/ld.so.cache, each
# symlink hop named too (the tree recreates links, binds files); files
# only, never a directory that holds headers (cc1 lives beside gcc's own
# include dir on Debian).
toolchain_ro() {
	local gcc=$1 cc1 as p t out=""
	cc1=$("$gcc" -print-prog-name=cc1)
	as=$(command -v "$("$gcc" -print-prog-name=as)")
	for p in "$gcc" "$cc1" "$as" $(for b in "$gcc" "$cc1" "$as"; do ldd "$(readlink -f "$b")"; done |
		awk '/=>/ {print $3} !/=>/ && $1 ~ /^\// {print $1}') /etc/ld.so.cache; do
		while :; do
			out="$out$p"$'\n'
			[ -L "$p" ] || break
			t=$(readlink "$p")
			case $t in /*) p=$t ;; *) p=$(dirname "$p")/$t ;; esac
		done
	done
	printf '%s' "$out" | sort -u | paste -sd:
}

# deps_list DIR GCC ARGS...: the absolute paths gcc -M (run in DIR with
# ARGS) names, one a line: the manifest of that compile.
deps_list() {
	local dir=$1; shift
	(cd "$dir" && "$@" -M) | sed 's/^[^:]*://; s/\\$//' | tr ' ' '\n' | grep . |
		while read -r p; do case $p in /*) echo "$p" ;; *) echo "$dir/$p" ;; esac; done
}
