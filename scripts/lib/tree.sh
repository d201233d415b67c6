# tree.sh — shell helpers for the board store's tests and benchmark
# (tests/integration/store_tree.sh, scripts/bench-store): a manifest list
# from gcc's own deps. (The toolchain a tree binds over itself comes from
# node/tree_toolchain.c: `treerun toolchain GCC`.)

# deps_list DIR GCC ARGS...: the absolute paths gcc -M (run in DIR with
# ARGS) names, one a line, ".." resolved lexically (a manifest path has
# none; treerun makes each symlink on the way a manifest symlink): the
# manifest of that compile.
deps_list() {
	local dir=$1; shift
	(cd "$dir" && "$@" -M) | sed 's/^[^:]*://; s/\\$//' | tr ' ' '\n' | grep . |
		while read -r p; do case $p in /*) echo "$p" ;; *) echo "$dir/$p" ;; esac; done |
		xargs -r realpath -s -m --
}
