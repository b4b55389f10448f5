#!/usr/bin/env bats
# The source layout keeps the promises lib/README.md makes: files of a
# readable size, one place for the environment and for pci.N ids, internal
# headers kept inside their folder, every module named in lib/README.md.
# Each test prints what breaks the rule, so a failure says where to look.

setup() {
	TOP="$BATS_TEST_DIRNAME/../.."
	cd "$TOP" || return 1
}

# longer LIMIT FILE...: the files with more than LIMIT lines
longer() {
	limit=$1; shift
	wc -l "$@" | awk -v max="$limit" '$2 != "total" && $1 > max { print $2 ": " $1 " lines" }'
}

@test "no lib/ source file is longer than 800 lines" {
	run longer 800 lib/*/*.c
	[ -z "$output" ] || { echo "$output"; false; }
}

@test "no program (hook, wrapper, vsmmuctl) source file is longer than 300 lines" {
	run longer 300 hooks/*.c wrapper/*.c cli/*.c
	[ -z "$output" ] || { echo "$output"; false; }
}

@test "lib/ reads the environment only in lib/conf/conf.c" {
	run grep -ln 'getenv *(' lib/*/*.c
	[ "$output" = "lib/conf/conf.c" ] || { echo "getenv in: $output"; false; }
}

# id_sites: where a pci.N id is formatted or matched outside pciaddr.c
id_sites() {
	grep -nE '(snprintf|xasprintf|json_sprintf)\(.*"pci\.%d"|has_prefix\([^)]*"pci\."' \
		lib/*/*.c cli/*.c wrapper/*.c hooks/*.c | grep -v '^lib/base/pciaddr\.c:' || true
}

@test "pci.N controller ids are built and parsed only in lib/base/pciaddr.c" {
	# Data, not messages: ids formatted into buffers or JSON, or matched by prefix.
	run id_sites
	[ -z "$output" ] || { echo "$output"; false; }
}

@test "an internal header (*-internal.h) is included only from its own folder" {
	bad=
	for h in lib/*/*-internal.h; do
		[ -e "$h" ] || continue
		dir=$(dirname "$h")
		for f in $(grep -rl "#include \"$(basename "$h")\"" lib cli wrapper hooks tests); do
			[ "$(dirname "$f")" = "$dir" ] || bad="$bad $f:$(basename "$h")"
		done
	done
	[ -z "$bad" ] || { echo "included outside its folder:$bad"; false; }
}

@test "every lib/ header opens with a comment saying what its module owns" {
	bad=
	for h in lib/*/*.h; do
		head -c 2 "$h" | grep -q '^/\*' || bad="$bad $h"
	done
	[ -z "$bad" ] || { echo "no opening comment:$bad"; false; }
}

@test "lib/README.md names every folder and every module of lib/" {
	bad=
	for d in lib/*/; do
		grep -q "\`$(basename "$d")/\`" lib/README.md || bad="$bad $d"
	done
	for c in lib/*/*.c; do
		grep -q "\`$(basename "$c" .c)\`" lib/README.md || bad="$bad $c"
	done
	[ -z "$bad" ] || { echo "not in lib/README.md:$bad"; false; }
}
