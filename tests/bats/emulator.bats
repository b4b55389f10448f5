#!/usr/bin/env bats
# vsmmuctl emulator install|status|remove against a throwaway root: the
# test stack's dpkg database (a copy; the cache is never written), a
# stand-in QEMU at /usr/bin/qemu-system-aarch64 that records its argv, the
# wrapper where the Debian package puts it, and an admin's vsmmu.conf.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
VSMMUCTL=$TOP/build/vsmmuctl
QEMU=/usr/bin/qemu-system-aarch64
export VSMMU_WRAPPER=/usr/libexec/vsmmu/vsmmu-qemu

setup_file() {
	. "$TOP/tests/lib/stack.bash"
	STACK_DPKG=$(vsmmu_stack_root 2>/dev/null)/var/lib/dpkg
	export STACK_DPKG
}

setup() {
	[ -x "$VSMMUCTL" ] || skip "$VSMMUCTL not built"
	command -v dpkg-divert >/dev/null || skip "dpkg-divert not installed"
	[ -f "$STACK_DPKG/status" ] || skip "no test stack (make check builds it)"
	R=$BATS_TEST_TMPDIR/root
	mkdir -p "$R/var/lib" "$R/usr/bin" "$R/usr/libexec/vsmmu" "$R/etc/vsmmu"
	cp -a "$STACK_DPKG" "$R/var/lib/dpkg"
	printf '#!/bin/sh\nprintf "%%s\\n" "$0" "$@" >/argv\n' >"$R$QEMU"
	chmod 0755 "$R$QEMU"
	cp "$TOP/build/vsmmu-qemu" "$R$VSMMU_WRAPPER"
	{
		cat "$TOP/examples/vsmmu.conf"
		printf '\n# the admin was here\nlog_level = debug   # keep it\n'
	} >"$R/etc/vsmmu/vsmmu.conf"
	chmod 0640 "$R/etc/vsmmu/vsmmu.conf"
}

# Every path under the root with its type, mode, link target and checksum.
# dpkg-divert keeps a backup of the diversions file it rewrites
# (diversions-old): dpkg's own, so not compared.
listing() {
	(cd "$R" && find . -path ./var/lib/dpkg/diversions-old -prune -o \
		-printf '%p %y %m %l\n' | sort &&
		find . -type f ! -path ./var/lib/dpkg/diversions-old -exec sha256sum {} + | sort)
}

ctl() { "$VSMMUCTL" emulator "$@" --root "$R"; }

# CMD... chrooted into the root, with /proc (the wrapper knows itself by
# /proc/self/exe), in a private mount namespace.
in_root() {
	mkdir -p "$R/proc"
	unshare --mount sh -c 'mount --bind /proc "$0/proc" && exec chroot "$0" "$@"' "$R" "$@"
}

@test "install diverts QEMU to .real, links the wrapper, sets qemu =; status says so" {
	run ctl install
	assert_success
	assert_output --partial "QEMU is diverted to $QEMU.real"
	[ "$(readlink "$R$QEMU")" = "$VSMMU_WRAPPER" ]
	[ -x "$R$QEMU.real" ]
	run dpkg-divert --root "$R" --listpackage "$QEMU"
	assert_output LOCAL
	run dpkg-divert --root "$R" --truename "$QEMU"
	assert_output "$QEMU.real"
	run grep -c "^qemu = $QEMU.real" "$R/etc/vsmmu/vsmmu.conf"
	assert_output 1
	grep -q '^log_level = debug   # keep it$' "$R/etc/vsmmu/vsmmu.conf"
	[ "$(stat -c %a "$R/etc/vsmmu/vsmmu.conf")" = 640 ]
	run ctl status
	assert_success
	assert_line "emulator: installed"
	assert_line "diversion: local, to $QEMU.real"
	assert_line "vsmmu.conf: qemu = $QEMU.real"
	run ctl install
	assert_success
	assert_output "emulator: installed already"
}

@test "remove restores every file byte for byte (listing and checksums)" {
	before=$(listing)
	run ctl install
	assert_success
	[ "$(listing)" != "$before" ]
	run ctl remove
	assert_success
	assert_output --partial "$QEMU is QEMU again"
	[ "$(listing)" = "$before" ]
	run ctl status
	assert_failure 1
	assert_line "emulator: not installed"
	assert_line "diversion: none"
	run ctl remove
	assert_success
	assert_output --partial "not installed"
}

@test "remove finds the wrapper install recorded, after the wrapper moved (another prefix)" {
	before=$(listing)
	run ctl install
	assert_success
	run env VSMMU_WRAPPER=/usr/local/libexec/vsmmu/vsmmu-qemu "$VSMMUCTL" emulator remove --root "$R"
	assert_success
	[ "$(listing)" = "$before" ]
}

@test "a qemu = line naming the default is replaced, and comes back as written" {
	printf 'qemu = %s   # the Debian one\n' "$QEMU" >>"$R/etc/vsmmu/vsmmu.conf"
	before=$(listing)
	run ctl install
	assert_success
	run grep -c '^qemu' "$R/etc/vsmmu/vsmmu.conf"
	assert_output 1
	run ctl remove
	assert_success
	[ "$(listing)" = "$before" ]
}

@test "no vsmmu.conf: install creates it, remove deletes it" {
	rm "$R/etc/vsmmu/vsmmu.conf"
	before=$(listing)
	run ctl install
	assert_success
	[ -f "$R/etc/vsmmu/vsmmu.conf" ]
	run ctl remove
	assert_success
	[ "$(listing)" = "$before" ]
}

@test "a Nova-like start and libvirt's probe pass through the installed wrapper untouched" {
	command -v chroot >/dev/null && unshare --mount true 2>/dev/null ||
		skip "needs chroot and unshare --mount"
	run ctl install
	assert_success
	# The wrapper and the stand-in's shell run inside the root.
	libs=$( (ldd "$TOP/build/vsmmu-qemu"; ldd /bin/sh) | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }')
	for f in /bin/sh $libs; do
		[ -e "$R$f" ] || cp --parents -L "$f" "$R"
	done
	nova=(-name guest=instance-00000001,debug-threads=on -S -machine virt-9.2,usb=off,gic-version=3
		-accel kvm -cpu host -m 1024 -no-user-config -nodefaults
		-device '{"driver":"pcie-root-port","port":8,"chassis":1,"id":"pci.1","bus":"pcie.0","addr":"0x1"}'
		-device '{"driver":"vfio-pci","host":"0009:01:00.0","id":"hostdev0","bus":"pci.1","addr":"0x0"}')
	run in_root "$QEMU" "${nova[@]}"
	assert_success
	[ "$(cat "$R/argv")" = "$(printf '%s\n' "$QEMU.real" "${nova[@]}")" ]
	probe=(-S -no-user-config -nodefaults -nographic -machine none,accel=kvm:tcg
		-qmp unix:/var/lib/libvirt/qemu/qmp.monitor,server=on,wait=off
		-pidfile /var/lib/libvirt/qemu/qmp.pid -daemonize)
	run in_root "$QEMU" "${probe[@]}"
	assert_success
	[ "$(cat "$R/argv")" = "$(printf '%s\n' "$QEMU.real" "${probe[@]}")" ]
	# qemu = put back at the default path would make the wrapper exec
	# itself through the symlink: it refuses instead.
	sed -i "s|^qemu = $QEMU.real.*|qemu = $QEMU|" "$R/etc/vsmmu/vsmmu.conf"
	rm "$R/argv"
	run -127 in_root "$QEMU" "${probe[@]}"
	assert_output --partial "$QEMU is this wrapper, not QEMU"
	[ ! -e "$R/argv" ]
	# The same without /proc (a bare chroot): it goes by the name the path
	# resolves to. A sanitizer build cannot start there at all (ASan's
	# runtime reads /proc itself), so only the plain build is asked.
	if ! ldd "$TOP/build/vsmmu-qemu" | grep -q 'libasan\|libubsan'; then
		run -127 timeout 10 chroot "$R" "$QEMU" "${probe[@]}"
		assert_output --partial "$QEMU is this wrapper, not QEMU"
		[ ! -e "$R/argv" ]
	fi
}

@test "refused, nothing changed: qemu = names another QEMU" {
	printf 'qemu = /opt/qemu/bin/qemu-system-aarch64\n' >>"$R/etc/vsmmu/vsmmu.conf"
	before=$(listing)
	run ctl install
	assert_failure 2
	assert_output --partial "qemu = /opt/qemu/bin/qemu-system-aarch64"
	[ "${#lines[@]}" = 1 ]
	[ "$(listing)" = "$before" ]
}

@test "refused, nothing changed: the path is diverted by someone else" {
	dpkg-divert --root "$R" --package qemu-hack --divert "$QEMU.distrib" --add "$QEMU" >/dev/null
	before=$(listing)
	run ctl install
	assert_failure 2
	assert_output --partial "by qemu-hack, to $QEMU.distrib"
	[ "$(listing)" = "$before" ]
	run ctl status
	assert_failure 1
	assert_line "diversion: qemu-hack, to $QEMU.distrib"
}

@test "refused, nothing changed: no QEMU at the default path, no dpkg-divert" {
	rm "$R$QEMU"
	before=$(listing)
	run ctl install
	assert_failure 2
	assert_output --partial "no QEMU at $R$QEMU"
	[ "$(listing)" = "$before" ]
	run env PATH=/nonexistent "$VSMMUCTL" emulator install --root "$R"
	assert_failure 2
	assert_output --partial "dpkg-divert is not available"
}

@test "a failing step is rolled back: dpkg-divert refusing the diversion" {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cat >"$BATS_TEST_TMPDIR/bin/dpkg-divert" <<'SH'
#!/bin/sh
for a; do [ "$a" = --add ] && { echo "dpkg-divert: error: no space left" >&2; exit 2; }; done
exec /usr/bin/dpkg-divert "$@"
SH
	chmod +x "$BATS_TEST_TMPDIR/bin/dpkg-divert"
	before=$(listing)
	run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$VSMMUCTL" emulator install --root "$R"
	assert_failure 2
	assert_output --partial "no space left; nothing was changed"
	[ "$(listing)" = "$before" ]
}

@test "remove without install's record refuses, naming the record" {
	run ctl install
	assert_success
	rm "$R/var/lib/vsmmu/emulator.json"
	run ctl remove
	assert_failure 2
	assert_output --partial "emulator.json is missing"
	run ctl status
	assert_failure 2
	assert_line "inconsistent: no record /var/lib/vsmmu/emulator.json"
}

@test "usage errors name the problem" {
	run "$VSMMUCTL" emulator status --root relative/dir
	assert_failure 2
	assert_output --partial "--root relative/dir is not an absolute path to a directory"
	run "$VSMMUCTL" emulator
	assert_failure 2
	assert_output --partial "install, remove or status is missing"
	run "$VSMMUCTL" emulator frobnicate
	assert_failure 2
	assert_output --partial "unexpected argument 'frobnicate'"
}
