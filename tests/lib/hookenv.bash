# The hook as libvirt runs it, against fake sysfs, /dev and run trees.
# Loaded by hook.bats and hardening.bats. Needs TOP, HOOK and the grace
# tree in $BATS_FILE_TMPDIR/sys (setup_file); hook_env_setup in setup().

# mknod_fake PATH...: character devices (0600) standing in for /dev/iommu
# and the vfio cdevs: the hook changes the owner of character devices only.
# They carry /dev/null's numbers, so opening one could do no harm. Root only.
mknod_fake() {
	local n
	for n in "$@"; do
		rm -f "$n" && mknod -m 0600 "$n" c 1 3 || return 1
	done
}

# T, F, SYS, DEV, RUN; device nodes (0600) for /dev/iommu and vfio0-vfio4;
# a vsmmu.conf naming the QEMU ids (QUID:QGID); ORIG, the owner and mode
# every node has before a start. Needs root (mknod).
hook_env_setup() {
	[ "$(id -u)" = 0 ] || skip "needs root: the hook acts on character devices only"
	T="$BATS_TEST_TMPDIR"
	F="$BATS_FILE_TMPDIR"
	SYS="$F/sys"
	DEV="$T/dev"
	RUN="$T/run"
	mkdir -p "$DEV/vfio/devices"
	for n in iommu vfio/devices/vfio0 vfio/devices/vfio1 vfio/devices/vfio2 \
		vfio/devices/vfio3 vfio/devices/vfio4; do
		mknod_fake "$DEV/$n"
	done
	QUID=1234 QGID=5678
	ORIG="$(id -u):$(id -g):600"
	printf 'qemu_user = +%s\nqemu_group = +%s\n' "$QUID" "$QGID" >"$T/vsmmu.conf"
	CONF="$T/vsmmu.conf"
}

# hook NAME OP SUBOP < xml: the way libvirt runs it (argv, environment
# reduced to LC_ALL and PATH), bounded in time.
hook() {
	timeout "${HOOK_TIMEOUT:-60}" env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		VSMMU_SYSFS="$SYS" VSMMU_DEV="$DEV" VSMMU_RUNDIR="$RUN" VSMMU_CONF="$CONF" \
		"$HOOK" "$1" "$2" "$3" -
}

# prepare begin, then start begin: what libvirt runs before QEMU starts.
start() { hook "$1" prepare begin <"$2" && hook "$1" start begin <"$2"; }

owner() { stat -c '%u:%g:%a' "$DEV/$1"; }
