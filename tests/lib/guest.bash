# shellcheck shell=bash
# Boot the PCI topology of a QEMU argv as a real guest, under QEMU 11 of
# the test stack (TCG, UEFI, ACPI), and read what the guest found. Load
# after stack.bash; needs vsmmu_stack_start.
#
#   vsmmu_guest_initrd OUT [MODULE...]
#       the guest's initramfs (tests/guest/mkinitramfs: busybox,
#       tests/guest/init and MODULE, default e1000e, with its dependencies)
#   vsmmu_guest_boot ARGV DIR
#       turn ARGV (vsmmu-qemu's dry-run output) into a bootable command
#       line (tests/guest/standin: vfio-pci -> e1000e, accel dropped), boot
#       it with the kernel of the stack and the initramfs $VSMMU_GUEST_INITRD,
#       and leave in DIR: boot.args, map (stand-ins), console (serial),
#       report (the guest's lines without "vsmmu-guest: "), crash (the
#       console's first lines about a kernel crash, for a guest that never
#       reached its report), smmus ("ID BASE" per arm-smmuv3 from QEMU's
#       `info mtree -f -o`, read before the guest runs), monitor, seconds. Status: QEMU's (0 when the guest powered off;
#       124 when it ran out of time).
#   vsmmu_guest_summary DIR
#       one line: root buses, PCI devices and boot time the guest reported
#
# Environment: VSMMU_GUEST_TIMEOUT (seconds per boot, 300),
# VSMMU_GUEST_APPEND (more kernel arguments).

VSMMU_GUEST_DIR=$VSMMU_STACK_TOP/tests/guest

vsmmu_guest_kernel() {
	local k
	k=$(cd "$(vsmmu_stack_root)$VSMMU_STACK_GUEST/kernel/boot" && echo vmlinuz-*) || return 1
	printf '%s/kernel/boot/%s\n' "$VSMMU_STACK_GUEST" "$k"
}

vsmmu_guest_initrd() {
	local out=$1
	shift
	[ $# -gt 0 ] || set -- e1000e
	vsmmu_stack "$VSMMU_GUEST_DIR/mkinitramfs" "$out" "$@"
}

vsmmu_guest_boot() {
	local argv=$1 dir=$2 kernel rc start
	local -a args
	mkdir -p "$dir"
	"$VSMMU_GUEST_DIR/standin" "$argv" "$dir/map" >"$dir/boot.args" || return 1
	mapfile -t args <"$dir/boot.args"
	kernel=$(vsmmu_guest_kernel) || return 1
	: >"$dir/console"
	start=$(date +%s.%N)
	# -S: QEMU reports the vSMMUs' addresses, then the guest runs.
	printf 'info mtree -f -o\ncont\n' |
		vsmmu_stack timeout "${VSMMU_GUEST_TIMEOUT:-300}" "$VSMMU_STACK_QEMU" "${args[@]}" \
			-nodefaults -no-user-config -display none -no-reboot -S -monitor stdio \
			-serial "file:$dir/console" -bios "$VSMMU_STACK_EFI" \
			-kernel "$kernel" -initrd "${VSMMU_GUEST_INITRD:?vsmmu_guest_initrd first}" \
			-append "console=ttyAMA0 acpi=force panic=-1 quiet ${VSMMU_GUEST_APPEND:-}" \
			>"$dir/monitor" 2>&1
	rc=$?
	echo "$(date +%s.%N) $start" | awk '{ printf "%.1f\n", $1 - $2 }' >"$dir/seconds"
	tr -d '\r' <"$dir/console" | sed -n 's/^.*vsmmu-guest: //p' >"$dir/report"
	tr -d '\r' <"$dir/console" | grep -E 'Kernel panic|Unable to handle|Oops|BUG:' | head -5 >"$dir/crash"
	sed -n 's/^ *\([0-9a-f]*\)-[0-9a-f]* .*: arm-smmuv3 owner:{dev id=\([^}]*\)}.*/\2 \1/p' \
		"$dir/monitor" | awk '!seen[$1]++' >"$dir/smmus"
	return $rc
}

vsmmu_guest_summary() {
	local dir=$1 n
	n=$(wc -l <"$dir/map")
	printf '%s root buses, %s PCI devices (%s stand-in%s), %s s\n' \
		"$(grep -c '^root ' "$dir/report")" "$(grep -c '^dev ' "$dir/report")" \
		"$n" "$([ "$n" = 1 ] || echo s)" "$(cat "$dir/seconds")"
}
