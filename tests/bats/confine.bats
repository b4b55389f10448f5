#!/usr/bin/env bats
# Confined QEMU (docs/confinement.md), with the real tools: Debian's
# apparmor_parser compiles libvirt's template and abstraction with vsmmu's
# rules (make install-apparmor into a copy of /etc/apparmor.d; -Q: nothing
# is loaded into a kernel), and libvirt's virt-aa-helper (dry run) writes
# the per-domain rules of a domain that runs the wrapper. Every access in
# tests/fixtures/confine/access-libvirt9.txt (recorded by
# confine_record.bats) must then be allowed by an allow rule and by no deny
# rule of the profile it runs under. This machine's kernel has no AppArmor,
# so nothing can ask the kernel: the matching is done by
# tests/confine/aa-match, a small, strict matcher of AppArmor's file rules,
# against `apparmor_parser -p` (every include expanded). Without vsmmu's
# rules the same checks must fail, so they can.
# The hook and doctor are run against fake sysfs trees (AppArmor enabled,
# SELinux enforcing) and a fake /etc (VSMMU_ETC).

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

AAH=/usr/lib/libvirt/virt-aa-helper
UUID=7d5b1a4e-2f0c-4c1e-9a55-0b7e6c3d2a10
PROFILE=libvirt-$UUID
WRAPPER=/usr/local/libexec/vsmmu/vsmmu-qemu

setup_file() {
	export TOP
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	local c
	for c in apparmor_parser python3 "$AAH" /etc/apparmor.d/libvirt/TEMPLATE.qemu \
		/etc/apparmor.d/abstractions/base; do
		if ! command -v "$c" >/dev/null && [ ! -e "$c" ]; then
			export AA_SKIP="$c missing (apparmor, libvirt-daemon-system)"
			return 0
		fi
	done
	local F=$BATS_FILE_TMPDIR
	# A stock copy and one with vsmmu's rules installed.
	mkdir -p "$F/stock/etc" "$F/vsmmu/etc"
	cp -a /etc/apparmor.d "$F/stock/etc/"
	cp -a /etc/apparmor.d "$F/vsmmu/etc/"
	make -C "$TOP" --no-print-directory install-apparmor DESTDIR="$F/vsmmu" >/dev/null
	# libvirt's own per-domain rules for an unmanaged-looking domain that
	# runs the wrapper (the one whose QEMU start was recorded).
	domain_xml vsmmu-c-plain >"$F/plain.xml"
	"$AAH" -d -c -u "$PROFILE" <"$F/plain.xml" 2>"$F/aah.out" >/dev/null
	# Its dry run prints "virt-aa-helper:", the .files path, "virt-aa-helper:",
	# the rules, "virt-aa-helper:", the profile path, ...
	awk '/^virt-aa-helper:$/ { if (grab) exit; if (seen) grab = 1; next }
		!seen && /\.files$/ { seen = 1; next } grab' "$F/aah.out" >"$F/plain.files"
	grep -q 'vsmmu-c-plain.img' "$F/plain.files"
	local root
	for root in stock vsmmu; do
		profile "$F/$root" bare </dev/null
		profile "$F/$root" full <"$F/plain.files"
	done
}

setup() {
	[ -z "${AA_SKIP:-}" ] || skip "$AA_SKIP"
	F=$BATS_FILE_TMPDIR T=$BATS_TEST_TMPDIR
}

domain_xml() { # NAME: id, UEFI, disk, the wrapper as <emulator>
	cat <<XML
<domain type='qemu' id='3'>
  <name>$1</name>
  <uuid>$UUID</uuid>
  <memory unit='MiB'>256</memory>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/AAVMF/AAVMF_CODE.fd</loader>
    <nvram>/var/lib/libvirt/qemu/nvram/$1_VARS.fd</nvram>
  </os>
  <devices>
    <emulator>$WRAPPER</emulator>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/>
      <source file='/var/lib/libvirt/images/$1.img'/><target dev='vda' bus='virtio'/></disk>
  </devices>
</domain>
XML
}

# profile ROOT KIND < FILES: libvirt's domain profile as virt-aa-helper
# writes it (TEMPLATE.qemu named, the .files included), compiled, and
# preprocessed into ROOT/KIND.pre.
profile() {
	local aa=$1/etc/apparmor.d kind=$2
	cat >"$aa/libvirt/$PROFILE.files"
	sed -e "s/LIBVIRT_TEMPLATE/$PROFILE/" -e "s|^}|  #include <libvirt/$PROFILE.files>\n}|" \
		"$aa/libvirt/TEMPLATE.qemu" >"$aa/libvirt/$PROFILE"
	apparmor_parser -Q -K --base "$aa" -I "$aa" "$aa/libvirt/$PROFILE" 2>"$1/$kind.err" ||
		{ cat "$1/$kind.err" >&2; return 1; }
	apparmor_parser -p --base "$aa" -I "$aa" "$aa/libvirt/$PROFILE" >"$1/$kind.pre" 2>/dev/null
}

# The fixture's lines for ROLE regex, as "ACCESS PATH" with the patterns
# made concrete (the recorded domain's name and id, a Grace GPU's path).
# FIXTURE: access-libvirt9.txt unless set.
fixture() { # ROLE_REGEX [keep-enoent]
	grep -v '^#' "$TOP/tests/fixtures/confine/${FIXTURE:-access-libvirt9.txt}" | grep -E "^($1) " |
		{ if [ "${2:-}" = keep-enoent ]; then cat; else grep -v ' ENOENT$'; fi; } |
		sed -e 's/^[^ ]* //' -e 's/ ENOENT$//' -e 's/@{name}/vsmmu-c-plain/g' -e 's/@{id}/3/g' \
			-e 's/@{pid}/4242/g' -e 's/@{tid}/4243/g' -e 's/@{seg}/0009:00/g' \
			-e 's/@{bdf}/0009:01:00.0/g' -e 's/@{n}/3/g' -e 's/@{smmu}/smmu3.0x0000000016000000/g' \
			-e 's/@{rand}/Xy12Zq/g'
}

@test "apparmor_parser compiles libvirt's domain profile with vsmmu's rules (-Q: no kernel load)" {
	run apparmor_parser -Q -K --base "$F/vsmmu/etc/apparmor.d" -I "$F/vsmmu/etc/apparmor.d" \
		"$F/vsmmu/etc/apparmor.d/libvirt/$PROFILE"
	assert_success
	# Our rules are in it, through libvirt 9.0's local include.
	grep -q '^##included <abstractions/libvirt-qemu.d/vsmmu>' "$F/vsmmu/full.pre"
	grep -q '^  /dev/vfio/devices/vfio\[0-9\]\* rw,' "$F/vsmmu/full.pre"
	! grep -q 'libvirt-qemu.d/vsmmu\|/dev/iommu' "$F/stock/full.pre"
}

@test "every access of the wrapper, and of QEMU for its injected iommufd, is allowed (without libvirt's per-domain rules)" {
	fixture 'domain/vsmmu-qemu|qemu-source/[^ ]*' keep-enoent >"$T/want"
	[ "$(wc -l <"$T/want")" -ge 20 ]
	run "$TOP/tests/confine/aa-match" "$F/vsmmu/bare.pre" "$PROFILE" <"$T/want"
	echo "$output"
	assert_success
}

@test "every recorded access of the QEMU the wrapper execs is allowed, with virt-aa-helper's rules" {
	fixture 'domain/qemu-system-aarch64' >"$T/want"
	[ "$(wc -l <"$T/want")" -ge 20 ]
	run "$TOP/tests/confine/aa-match" "$F/vsmmu/full.pre" "$PROFILE" <"$T/want"
	echo "$output"
	assert_success
}

@test "without vsmmu's rules libvirt's profile denies the wrapper and the injected devices" {
	fixture 'domain/vsmmu-qemu|qemu-source/[^ ]*' keep-enoent >"$T/want"
	run "$TOP/tests/confine/aa-match" "$F/stock/full.pre" "$PROFILE" <"$T/want"
	assert_failure
	assert_line 'DENIED r /etc/vsmmu/vsmmu.conf: no allow rule grants r'
	assert_line 'DENIED r /run/vsmmu/vsmmu-c-plain/state.json: no allow rule grants r'
	assert_line 'DENIED rw /dev/iommu: no allow rule grants rw'
	assert_line 'DENIED rw /dev/vfio/devices/vfio3: no allow rule grants rw'
}

@test "after vsmmuctl emulator install the wrapper may run the diverted QEMU; libvirt's profile alone does not allow it" {
	printf '%s\n' 'x /usr/bin/qemu-system-aarch64.real' 'm /usr/bin/qemu-system-aarch64.real' \
		'r /usr/bin/qemu-system-aarch64.real' >"$T/want"
	run "$TOP/tests/confine/aa-match" "$F/vsmmu/bare.pre" "$PROFILE" <"$T/want"
	echo "$output"
	assert_success
	run "$TOP/tests/confine/aa-match" "$F/stock/full.pre" "$PROFILE" <"$T/want"
	assert_failure
	assert_line --partial 'DENIED x /usr/bin/qemu-system-aarch64.real'
}

@test "the rules are no wider than the list: other files stay denied" {
	printf '%s\n' 'w /etc/vsmmu/vsmmu.conf' 'w /run/vsmmu/qemu-caps' 'r /run/vsmmu/.nodes/x' \
		'w /run/vsmmu/d/state.json' 'r /run/vsmmu/a/b/state.json' 'rw /dev/vfio/devices/noiommu-vfio0' \
		'r /sys/devices/pci0009:00/0009:00:00.0/0009:01:00.0/config' 'w /sys/class/iommu/' \
		'r /sys/devices/platform/other.0/numa_node' >"$T/want"
	run "$TOP/tests/confine/aa-match" "$F/vsmmu/bare.pre" "$PROFILE" <"$T/want"
	[ "$(grep -c '^DENIED ' <<<"$output")" = 9 ] || { echo "$output"; false; }
}

@test "the daemon's profile with vsmmu's rule lets libvirt probe the wrapper and run the hook" {
	local aa=$F/vsmmu/etc/apparmor.d
	run apparmor_parser -Q -K --base "$aa" -I "$aa" "$aa/usr.sbin.libvirtd"
	assert_success
	apparmor_parser -p --base "$aa" -I "$aa" "$aa/usr.sbin.libvirtd" >"$T/libvirtd.pre" 2>/dev/null
	fixture 'probe/spawn|hook/[^ ]*' >"$T/want"
	grep -q "^x $WRAPPER\$" "$T/want"
	run "$TOP/tests/confine/aa-match" "$T/libvirtd.pre" libvirtd <"$T/want"
	echo "$output"
	assert_success
	# A domain's wrapper is exec'd into the domain profile (domain/spawn):
	# libvirt's change_profile rule, not an exec rule, allows that.
	grep -q '^  change_profile -> @{LIBVIRT}-\[0-9a-f\]\*' "$T/libvirtd.pre"
	# Without vsmmu's rule libvirt cannot probe the wrapper.
	aa=$F/stock/etc/apparmor.d
	apparmor_parser -p --base "$aa" -I "$aa" "$aa/usr.sbin.libvirtd" >"$T/stock.pre" 2>/dev/null
	run "$TOP/tests/confine/aa-match" "$T/stock.pre" libvirtd <<<"x $WRAPPER"
	assert_failure
}

@test "install-apparmor keeps the admin's local files, uninstall restores them byte for byte" {
	local d=$T/root/etc/apparmor.d
	mkdir -p "$d/local/abstractions"
	printf '  /srv/images/** rwk,' >"$d/local/abstractions/libvirt-qemu" # no final newline
	printf '# site rules\n' >"$d/local/usr.sbin.libvirtd"
	cp -a "$T/root" "$T/before"
	make -C "$TOP" --no-print-directory install-apparmor DESTDIR="$T/root" >/dev/null
	make -C "$TOP" --no-print-directory install-apparmor DESTDIR="$T/root" >/dev/null # twice: idempotent
	run cat "$d/local/abstractions/libvirt-qemu"
	assert_line --index 0 '  /srv/images/** rwk,'
	assert_line --index 2 'include if exists <abstractions/libvirt-qemu.d/vsmmu>'
	[ "$(grep -c '^# BEGIN vsmmu' "$d/local/abstractions/libvirt-qemu")" = 1 ]
	[ -f "$d/abstractions/libvirt-qemu.d/vsmmu" ] && [ -f "$d/abstractions/vsmmu-libvirtd" ]
	grep -q "^  $WRAPPER PUx,\$" "$d/abstractions/vsmmu-libvirtd"
	grep -q 'include if exists <abstractions/vsmmu-libvirtd>' "$d/local/usr.sbin.virtqemud"
	make -C "$TOP" --no-print-directory uninstall DESTDIR="$T/root" >/dev/null 2>&1
	diff -r "$T/before/etc/apparmor.d/local" "$d/local"
	run find "$d" -type f
	assert_output "$(cd "$T/before" && find "$PWD/etc/apparmor.d" -type f | sed "s|^$T/before|$T/root|")"
}

# A fake host for the hook and doctor: the Grace tree with sysfs LSM
# entries, a fake /etc with libvirt 9.0's abstraction, and a managed
# domain rewritten for it that runs the wrapper.
fake_host() { # apparmor|selinux|none [rules]
	rm -rf "$T/sys" "$T/etc"
	"$TOP/tests/fixtures/mkhost" grace "$T/sys" >/dev/null
	mkdir -p "$T/etc/libvirt" "$T/etc/apparmor.d/abstractions"
	cp /etc/apparmor.d/abstractions/libvirt-qemu "$T/etc/apparmor.d/abstractions/"
	: >"$T/etc/libvirt/qemu.conf"
	case $1 in
	apparmor) mkdir -p "$T/sys/module/apparmor/parameters"; echo Y >"$T/sys/module/apparmor/parameters/enabled" ;;
	selinux) mkdir -p "$T/sys/fs/selinux"; echo 1 >"$T/sys/fs/selinux/enforce" ;;
	esac
	[ "${2:-}" != rules ] || make -C "$TOP" --no-print-directory install-apparmor DESTDIR="$T" SYSCONFDIR=/etc >/dev/null
	printf 'libvirt_qemu_conf = %s\nqemu_user = +%s\nqemu_group = +%s\n' "$T/etc/libvirt/qemu.conf" \
		"$(id -u)" "$(id -g)" >"$T/vsmmu.conf"
	cat >"$T/d.xml" <<XML
<domain type='kvm'>
  <name>d1</name>
  <metadata><vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1' mode='emulated'/></metadata>
  <os firmware='efi'><type arch='aarch64' machine='virt'>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <emulator>$WRAPPER</emulator>
    <hostdev mode='subsystem' type='pci' managed='yes'><driver name='vfio'/><source><address domain='0x0009' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>
  </devices>
</domain>
XML
	"$TOP/build/vsmmuctl" --sysfs "$T/sys" rewrite "$T/d.xml" >"$T/d.rw.xml"
}

hook_prepare() {
	env -i PATH=/usr/bin:/bin VSMMU_SYSFS="$T/sys" VSMMU_ETC="$T/etc" VSMMU_CONF="$T/vsmmu.conf" \
		VSMMU_RUNDIR="$T/run" VSMMU_DEV="$T/dev" "$TOP/build/vsmmu-hook" d1 prepare begin - <"$T/d.rw.xml"
}

doctor_line() {
	env VSMMU_ETC="$T/etc" VSMMU_CONF="$T/vsmmu.conf" VSMMU_RUNDIR="$T/run" VSMMU_DEV="$T/dev" \
		VSMMU_PROC="$T/proc" "$TOP/build/vsmmuctl" --sysfs "$T/sys" doctor | grep -A1 'QEMU confinement'
}

@test "AppArmor without vsmmu's rules: the hook refuses at prepare and doctor FAILs, with the fix" {
	fake_host apparmor
	run --separate-stderr hook_prepare
	assert_failure 1
	[[ $stderr == *"vsmmu: d1: AppArmor confines libvirt's QEMU and vsmmu's AppArmor rules"*"'Confined hosts'"* ]] ||
		{ echo "$stderr"; false; }
	run doctor_line
	assert_line --index 0 --regexp 'QEMU confinement \(AppArmor, SELinux\) *: FAIL \(AppArmor enabled, SELinux absent, libvirt security_driver unset'
	assert_line --index 1 --partial 'apparmor_parser -r /etc/apparmor.d/usr.sbin.libvirtd'
}

@test "AppArmor with vsmmu's rules: the hook lets the start go on and doctor PASSes" {
	fake_host apparmor rules
	run --separate-stderr hook_prepare
	echo "$stderr"
	assert_success
	run doctor_line
	assert_line --index 0 --regexp ': PASS \(AppArmor enabled, .*AppArmor confines QEMU; vsmmu.s rules installed\)'
}

@test "enforcing SELinux: the hook refuses the wrapper with the native form and the policy; doctor tells it apart" {
	fake_host selinux
	run --separate-stderr hook_prepare
	assert_failure 1
	[[ $stderr == *"SELinux is enforcing"*"vsmmuctl apply --native d1"*"semanage fcontext -a -t qemu_exec_t '$WRAPPER'"* ]] ||
		{ echo "$stderr"; false; }
	run doctor_line
	assert_line --index 0 --regexp ': FAIL \(AppArmor not enabled, SELinux enforcing'
}

@test "no security module, or security_driver none: the hook says nothing about confinement" {
	fake_host none
	run --separate-stderr hook_prepare
	assert_success
	run doctor_line
	assert_line --index 0 --regexp ': PASS \(AppArmor not enabled, SELinux absent.*no security module confines QEMU'
	fake_host apparmor
	echo 'security_driver = "none"' >"$T/etc/libvirt/qemu.conf"
	run --separate-stderr hook_prepare
	assert_success
}

# libvirt 12.9's AppArmor files, from the Debian 13 + trixie-backports root
# another suite builds under /var/cache/vsmmu-test (read only: copied out),
# compiled with this host's apparmor_parser. Its abstraction includes
# abstractions/libvirt-qemu.d itself (and the deprecated local/ file).
STACK_ROOT=${VSMMU_STACK_ROOT:-/var/cache/vsmmu-test/stack/current/root}

@test "libvirt 12.9 (Debian 13 root, when present): the same accesses are allowed by its profiles" {
	[ -f "$STACK_ROOT/etc/apparmor.d/abstractions/libvirt-qemu" ] || skip "no libvirt 12.x root at $STACK_ROOT"
	local aa=$T/v12/etc/apparmor.d f
	mkdir -p "$T/v12/etc"
	cp -a /etc/apparmor.d "$T/v12/etc/"
	for f in abstractions/libvirt-qemu libvirt/TEMPLATE.qemu usr.sbin.libvirtd; do
		cp "$STACK_ROOT/etc/apparmor.d/$f" "$aa/$f"
	done
	grep -q '^  include if exists <abstractions/libvirt-qemu.d>' "$aa/abstractions/libvirt-qemu"
	rm -f "$aa/local/abstractions/libvirt-qemu"
	make -C "$TOP" --no-print-directory install-apparmor DESTDIR="$T/v12" >/dev/null
	# Through the directory alone: our local/ block removed again.
	sh "$TOP/tools/apparmor-local" remove "$aa/local/abstractions/libvirt-qemu" -
	[ ! -e "$aa/local/abstractions/libvirt-qemu" ]
	profile "$T/v12" bare </dev/null
	profile "$T/v12" full <"$F/plain.files"
	apparmor_parser -p --base "$aa" -I "$aa" "$aa/usr.sbin.libvirtd" >"$T/v12/libvirtd.pre" 2>/dev/null
	# libvirt 9.0's recording and, when made, 12.9's own.
	for FIXTURE in access-libvirt9.txt access-libvirt12.txt; do
		fixture 'domain/vsmmu-qemu|qemu-source/[^ ]*' keep-enoent >"$T/want"
		fixture 'domain/qemu-system-aarch64' >"$T/want-qemu"
		run "$TOP/tests/confine/aa-match" "$T/v12/bare.pre" "$PROFILE" <"$T/want"
		echo "$FIXTURE: $output"
		assert_success
		run "$TOP/tests/confine/aa-match" "$T/v12/full.pre" "$PROFILE" <"$T/want-qemu"
		echo "$FIXTURE: $output"
		assert_success
		fixture 'probe/spawn|hook/[^ ]*' >"$T/want"
		run "$TOP/tests/confine/aa-match" "$T/v12/libvirtd.pre" libvirtd <"$T/want"
		echo "$FIXTURE: $output"
		assert_success
	done
	grep -q '^domain/qemu-system-aarch64 ' "$TOP/tests/fixtures/confine/access-libvirt12.txt"
}

# wrapper_as_nobody NAME: the built wrapper as the QEMU user would run it
# (nobody), with a -name, the run dir $RUN (under /tmp: bats' own
# directories are closed to other users) and a QEMU that only says it ran.
new_run() {
	RUN=$(mktemp -d /tmp/vsmmu-confine-run.XXXXXX)
	chmod 0755 "$RUN"
	mkdir -m 0755 "$RUN/d1"
}

teardown() {
	[ -z "${RUN:-}" ] || rm -rf "$RUN"
}

wrapper_as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH=/usr/bin:/bin \
		VSMMU_CONF=/dev/null VSMMU_RUNDIR="$RUN" VSMMU_QEMU=/bin/echo \
		"$TOP/build/vsmmu-qemu" -name guest="$1",debug-threads=on -S
}

@test "the wrapper refuses a runtime state it cannot read instead of starting QEMU without vSMMUs" {
	[ "$(id -u)" = 0 ] || skip "needs root (setpriv)"
	new_run
	echo '{}' >"$RUN/d1/state.json"
	chmod 0700 "$RUN/d1" # what a profile without vsmmu's rules does to the QEMU user
	run --separate-stderr wrapper_as_nobody d1
	assert_failure 1
	[ -z "$output" ]
	[[ $stderr == "vsmmu-qemu: d1: cannot read the state"*"Permission denied"*"vsmmu's AppArmor rules"* ]] ||
		{ echo "$stderr"; false; }
	# No state at all, run as the domain's <emulator>: the hook never ran.
	run --separate-stderr wrapper_as_nobody d2
	assert_failure 1
	[ -z "$output" ]
	[[ $stderr == "vsmmu-qemu: d2: the vsmmu hook did not run for this start"* ]] ||
		{ echo "$stderr"; false; }
}

@test "the wrapper refuses a runtime state that does not parse" {
	[ "$(id -u)" = 0 ] || skip "needs root (setpriv)"
	new_run
	echo '{ not json' >"$RUN/d1/state.json"
	chmod 0644 "$RUN/d1/state.json"
	run --separate-stderr wrapper_as_nobody d1
	assert_failure 1
	[[ $stderr == "vsmmu-qemu: d1: the state the vsmmu hook left for this start is unusable"* ]] ||
		{ echo "$stderr"; false; }
}
