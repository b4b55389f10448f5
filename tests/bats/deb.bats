#!/usr/bin/env bats
# The Debian package (make deb, debian/): built once in setup_file, into
# this file's temporary directory (a copy of the tree is built, the tree is
# left alone), checked with lintian, then installed, removed and purged
# with dpkg in a throwaway root: an overlay of the Debian 13 test stack's
# root (tests/lib/stack.bash; writes land in a private tmpfs, never in the
# cache or on this machine). The stack has libvirt 12.9, so the package's
# Depends (from ${shlibs:Depends}) must be satisfiable there, and it has
# libvirt's own AppArmor local/ files, which must come back byte for byte.
# The tests run in order, one package's life: install, reinstall, remove,
# purge.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/stack'

HOOK=/etc/libvirt/hooks/qemu.d/vsmmu
LIBEXEC=/usr/libexec/vsmmu
AA=/etc/apparmor.d
AA_LOCALS="$AA/local/abstractions/libvirt-qemu $AA/local/usr.sbin.libvirtd $AA/local/usr.sbin.virtqemud"

setup_file() {
	export TOP
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	local why
	why=$(vsmmu_stack_missing)
	[ -n "$why" ] || [ -x "$TOP/build/vsmmuctl" ] || why="build/vsmmuctl missing: run make first"
	if [ -n "$why" ]; then
		export DEB_SKIP="$why"
		return 0
	fi
	export F=$BATS_FILE_TMPDIR
	export VERSION ARCH DEB
	VERSION=$("$TOP/build/vsmmuctl" --version | sed -n 's/^vsmmuctl //p')
	ARCH=$(dpkg-architecture -q DEB_HOST_ARCH)
	# make deb installs the deb build dependencies it lacks (tools/deps.sh deb).
	make -C "$TOP" --no-print-directory deb DEB_DIR="$F/deb" >"$F/make-deb.out" 2>&1 ||
		{ cat "$F/make-deb.out" >&2; return 1; }
	DEB=$(tail -n 1 "$F/make-deb.out")
	vsmmu_stack_ensure
	# libvirt's hook discovery is logged at debug level (util.hook).
	export VSMMU_LIBVIRTD_LOG_OUTPUTS=1:file:/var/log/libvirt/libvirtd.log
	vsmmu_stack_start
	vsmmu_stack_fn _vsmmu_conf_set /etc/libvirt/libvirtd.conf log_filters '"1:util.hook"'
	# A stock host has neither (libvirt ships /etc/libvirt/hooks only); the
	# namespace's set-up makes both, empty.
	vsmmu_stack rmdir /etc/libvirt/hooks/qemu.d /run/vsmmu
	# libvirtd's first start writes its defaults under /etc/libvirt: done
	# before the baseline. It finds no hook then.
	vsmmu_libvirtd12_start
	vsmmu_libvirtd12_stop
	if vsmmu_stack grep "Found hook script" /var/log/libvirt/libvirtd.log >&2; then
		echo "libvirtd found a hook before the package was installed" >&2
		return 1
	fi
	# The root as it was before the package, to compare with after purge.
	vsmmu_stack_fn_here manifest >"$F/before.manifest"
	vsmmu_stack_fn_here aa_locals >"$F/before.aa"
}

teardown_file() {
	[ -n "${DEB_SKIP:-}" ] || vsmmu_stack_stop
}

setup() {
	[ -z "${DEB_SKIP:-}" ] || skip "$DEB_SKIP"
}

# Run FN, a function of this file, inside the stack's root.
vsmmu_stack_fn_here() {
	vsmmu_stack env AA_LOCALS="$AA_LOCALS" bash -c "$(declare -f manifest aa_locals)"'; "$@"' bash "$@"
}

# Everything in the root that a package could leave behind, file contents
# of /etc included; dpkg's own records, logs and libvirtd's state left out.
manifest() {
	find / /run -xdev \( -path /var/lib/dpkg -o -path /var/log -o -path /var/cache \
		-o -path /var/lib/libvirt -o -path /run/libvirt \
		-o -path /tmp -o -path /proc -o -path /sys -o -path /dev \) -prune -o \
		\( -type f -printf '%y %m %U:%G %s %p\n' \) -o -printf '%y %m %U:%G %p -> %l\n' | sort -u
	find /etc -xdev -type f -exec sha256sum {} + | sort -k 2
}

# The admin's AppArmor local/ files: content, or that they are absent.
aa_locals() {
	local f
	for f in $AA_LOCALS; do
		if [ -e "$f" ]; then sha256sum "$f"; else echo "absent $f"; fi
	done
}

# dpkg's state of the package inside (installed, config-files, ...).
pkg_status() {
	# shellcheck disable=SC2016
	vsmmu_stack dpkg-query -W -f '${db:Status-Status}' vsmmu
}

# Each of the admin's AppArmor local/ files holds one vsmmu block.
assert_one_block_each() {
	# shellcheck disable=SC2086 # one word a file
	run vsmmu_stack grep -c '^# BEGIN vsmmu' $AA_LOCALS
	assert_output "$AA/local/abstractions/libvirt-qemu:1
$AA/local/usr.sbin.libvirtd:1
$AA/local/usr.sbin.virtqemud:1"
}

@test "make deb leaves vsmmu_VERSION_ARCH.deb, VERSION what vsmmuctl --version prints" {
	[ -n "$VERSION" ]
	assert_equal "$DEB" "$F/deb/vsmmu_${VERSION}_${ARCH}.deb"
	[ -f "$DEB" ]
	run dpkg-deb -f "$DEB" Package Version Architecture
	assert_output "Package: vsmmu
Version: $VERSION
Architecture: $ARCH"
}

@test "make deb refuses when debian/changelog is not at the Makefile's version" {
	run make -C "$TOP" --no-print-directory deb VERSION=9.9.9 DEB_DIR="$BATS_TEST_TMPDIR/deb"
	assert_failure
	assert_output --partial "debian/changelog is at $VERSION, the Makefile's VERSION is 9.9.9"
	[ ! -e "$BATS_TEST_TMPDIR/deb/src" ]
}

@test "lintian: no error and no warning" {
	run lintian "$DEB"
	assert_success
	refute_line --regexp '^[EW]: '
	# Only the overrides debian/vsmmu.lintian-overrides justifies.
	run lintian --show-overrides "$DEB"
	run grep '^O: ' <<<"$output"
	assert_output "O: vsmmu: embedded-library libxml2 [usr/libexec/vsmmu/vsmmu-hook]
O: vsmmu: embedded-library zlib [usr/libexec/vsmmu/vsmmu-hook]"
}

@test "the package: Depends from the shared libraries, conffiles, man pages, no ELF under /etc" {
	run dpkg-deb -f "$DEB" Depends
	assert_output --regexp 'libc6 \(>= [^)]*\)'
	assert_output --regexp 'libvirt0'
	assert_output --regexp 'libjansson4'
	dpkg-deb -e "$DEB" "$BATS_TEST_TMPDIR/ctrl"
	run cat "$BATS_TEST_TMPDIR/ctrl/conffiles"
	assert_output "/etc/apparmor.d/abstractions/libvirt-qemu.d/vsmmu
/etc/apparmor.d/abstractions/vsmmu-libvirtd
/etc/vsmmu/vsmmu.conf"
	# The hook's copy is postinst's, not a file of the package.
	run dpkg-deb -c "$DEB"
	refute_output --partial "./etc/libvirt/hooks/qemu.d/vsmmu"
	assert_output --partial "./usr/libexec/vsmmu/vsmmu-hook"
	assert_output --partial "./usr/share/man/man1/vsmmuctl.1.gz"
	assert_output --partial "./usr/share/man/man8/vsmmu-hook.8.gz"
	assert_output --partial "./usr/share/man/man8/vsmmu-qemu.8.gz"
	# Nothing in debian/ names this machine's architecture.
	run grep -rn -e amd64 -e x86_64 "$TOP/debian"
	assert_failure
}

@test "dpkg -i: programs, conffile, the hook's copy, AppArmor blocks; postinst says to restart" {
	run vsmmu_stack dpkg -i "$DEB"
	assert_success
	assert_output --partial "systemctl restart libvirtd"
	assert_output --partial "apparmor_parser -r /etc/apparmor.d/usr.sbin.libvirtd"
	run pkg_status
	assert_output installed
	local f
	for f in /usr/bin/vsmmuctl $LIBEXEC/vsmmu-qemu $LIBEXEC/vsmmu-hook; do
		vsmmu_stack test -x "$f" || fail "$f is not installed executable"
	done
	# (Man pages: the stack's dpkg excludes /usr/share/man; see the test above.)
	for f in "$AA/abstractions/libvirt-qemu.d/vsmmu" "$AA/abstractions/vsmmu-libvirtd"; do
		vsmmu_stack test -f "$f" || fail "$f is not installed"
	done
	vsmmu_stack cmp "$TOP/examples/vsmmu.conf" /etc/vsmmu/vsmmu.conf
	# The package's libraries are all there: the programs run.
	run vsmmu_stack vsmmuctl --version
	assert_output "vsmmuctl $VERSION"
	# A regular file (AppArmor lets libvirtd execute /etc/libvirt/hooks/**
	# only, and checks a symlink's target), the same program.
	vsmmu_stack test -f "$HOOK"
	vsmmu_stack test ! -L "$HOOK"
	vsmmu_stack test -x "$HOOK"
	vsmmu_stack cmp "$LIBEXEC/vsmmu-hook" "$HOOK"
	# The rules, built for PREFIX=/usr.
	run vsmmu_stack cat "$AA/abstractions/vsmmu-libvirtd"
	assert_output --partial "  /usr/libexec/vsmmu/vsmmu-qemu PUx,"
	# Each local/ file: what it held before, then one block.
	assert_one_block_each
	run vsmmu_stack cat "$AA/local/abstractions/libvirt-qemu"
	assert_line 'include if exists <abstractions/libvirt-qemu.d/vsmmu>'
	run vsmmu_stack cat "$AA/local/usr.sbin.libvirtd"
	assert_line 'include if exists <abstractions/vsmmu-libvirtd>'
}

@test "the installed hook runs as libvirt runs it, and lets an unmanaged domain through" {
	run vsmmu_stack sh -c "printf '%s' \"\$1\" | $HOOK plain prepare begin -" sh \
		"<domain type='qemu'><name>plain</name><memory>1024</memory><os><type arch='aarch64' machine='virt'>hvm</type></os></domain>"
	assert_success
	assert_output ''
}

@test "libvirtd, started after dpkg -i, finds the hook's copy" {
	vsmmu_stack truncate -s 0 /var/log/libvirt/libvirtd.log
	vsmmu_libvirtd12_start
	run vsmmu_stack grep -F "Found hook script $HOOK" /var/log/libvirt/libvirtd.log
	vsmmu_libvirtd12_stop
	assert_success
}

@test "dpkg -i again (an upgrade in place): one block each, the hook refreshed" {
	vsmmu_stack rm -f "$HOOK"
	run vsmmu_stack dpkg -i "$DEB"
	assert_success
	vsmmu_stack cmp "$LIBEXEC/vsmmu-hook" "$HOOK"
	assert_one_block_each
}

@test "dpkg -r refuses, changing nothing, while vsmmuctl emulator install's record is there and cannot be undone" {
	vsmmu_stack mkdir -p /var/lib/vsmmu
	vsmmu_stack sh -c 'echo "not a record" >/var/lib/vsmmu/emulator.json'
	run vsmmu_stack dpkg -r vsmmu
	vsmmu_stack rm -r /var/lib/vsmmu
	assert_failure
	assert_output --partial "vsmmuctl emulator remove failed"
	run pkg_status
	assert_output installed
	vsmmu_stack cmp "$LIBEXEC/vsmmu-hook" "$HOOK"
	assert_one_block_each
}

@test "dpkg -r: programs and hook gone, AppArmor local files as before, the edited conffile kept" {
	vsmmu_stack sh -c 'echo "manage = hostdevs" >>/etc/vsmmu/vsmmu.conf'
	run vsmmu_stack dpkg -r vsmmu
	assert_success
	run pkg_status
	assert_output config-files
	local f
	for f in /usr/bin/vsmmuctl $LIBEXEC "$HOOK"; do
		vsmmu_stack test ! -e "$f" || fail "$f is left after dpkg -r"
	done
	run vsmmu_stack_fn_here aa_locals
	assert_output "$(cat "$F/before.aa")"
	run vsmmu_stack tail -n 1 /etc/vsmmu/vsmmu.conf
	assert_output "manage = hostdevs"
}

@test "dpkg --purge: the root is as it was before dpkg -i, /run/vsmmu included; apply's backups kept" {
	vsmmu_stack mkdir -p /run/vsmmu/plain /var/lib/vsmmu/backup
	vsmmu_stack touch /run/vsmmu/.qemu-caps /run/vsmmu/plain/state.json /var/lib/vsmmu/backup/plain-1.xml
	run vsmmu_stack dpkg --purge vsmmu
	assert_success
	assert_output --partial "vsmmu: kept /var/lib/vsmmu/backup"
	vsmmu_stack test -f /var/lib/vsmmu/backup/plain-1.xml
	vsmmu_stack rm -r /var/lib/vsmmu
	run pkg_status
	refute_output --partial "config-files"
	vsmmu_stack_fn_here manifest >"$BATS_TEST_TMPDIR/after.manifest"
	run diff "$F/before.manifest" "$BATS_TEST_TMPDIR/after.manifest"
	assert_success
}
