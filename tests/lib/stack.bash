# shellcheck shell=bash
# The modern test stack (tools/teststack.sh: Debian 13 with libvirt 12.x and
# QEMU 11.x from trixie-backports) for bats suites: a namespace that holds a
# throwaway overlay of the stack's root, libvirtd 12 running in it, and
# commands run in it.
#
# The namespace is a private mount and network namespace, chrooted into an
# overlay of the cached root whose writes land in a private tmpfs (the
# cache is never changed), with private /dev, /run, /proc, a read-only
# /sys, and /dev/vfio/vfio plus a non-empty /sys/kernel/iommu_groups faked
# (libvirt 12 wants both before it writes vfio-pci arguments). The host's
# /tmp (so bats' temporary directories) and this source tree ($TOP,
# read-only) appear at their own paths inside. As with libvirtd.bash, a
# holder process (tests/lib/in-private-libvirt --hold, run in the chroot)
# keeps the namespace, and tears down the daemon and its domains when the
# process that started it goes away.
#
#   load ../lib/stack
#   setup_file()    { vsmmu_stack_ensure && vsmmu_libvirtd12_start; }
#   teardown_file() { vsmmu_stack_stop; }
#   @test x         { run vsmmu_virsh12 domxml-to-native qemu-argv "$T/d.xml"; ... }
#
# It can run beside libvirtd.bash's 9.0 daemon: its state lives in
# VSMMU_STACK_* variables, not VSMMU_NS_*.
#
# Functions:
#   vsmmu_stack_missing       why the stack cannot be used here, or nothing
#   vsmmu_stack_ensure        build or refresh the stack (tools/teststack.sh
#                             ensure: the first run downloads and builds it,
#                             minutes); sets VSMMU_STACK
#   vsmmu_stack_root          host path of the stack's (read-only) root
#   vsmmu_stack_version libvirt|qemu|kernel
#                             the version the stack runs (12.9.0, 11.1.3, ...)
#   vsmmu_stack_start         create the namespace (vsmmu_stack_ensure first)
#   vsmmu_stack_stop          stop the daemon and the namespace
#   vsmmu_stack CMD...        run CMD inside (cwd kept when visible there)
#   vsmmu_stack_fn FN ARGS... run a function of this file inside
#   vsmmu_stack_path PATH     host-side path of PATH inside (through
#                             /proc/PID/root)
#   vsmmu_stack_install_vsmmu B
#                             copy the binaries of build directory B
#                             (vsmmuctl, vsmmu-qemu, vsmmu-hook) where
#                             `make install` puts them, inside: /usr/local/bin,
#                             /usr/local/libexec/vsmmu, /etc/libvirt/hooks/qemu.d
#                             (call before vsmmu_libvirtd12_start for the hook),
#                             with the libraries they link that the root lacks
#                             (a sanitizer build's) from this machine
#   vsmmu_libvirtd12_start    start libvirtd 12 inside (creates the namespace
#                             if needed), wait until `virsh list` answers
#   vsmmu_libvirtd12_stop     destroy its domains, stop it (by pid)
#   vsmmu_libvirtd12_restart
#   vsmmu_libvirtd12_log [N]  the last N lines of its log
#   vsmmu_virsh12 ARGS...     virsh 12 (-c qemu:///system) inside, with timeout
#   vsmmu_qemu12_conf_set KEY VALUE
#                             set KEY = VALUE in the private qemu.conf
#   vsmmu_hook12_install SRC [NAME]
#                             install SRC as /etc/libvirt/hooks/qemu.d/NAME
#                             (before vsmmu_libvirtd12_start)
#
# Paths inside the stack (variables):
#   VSMMU_STACK_QEMU          QEMU 11 (/usr/bin/qemu-system-aarch64)
#   VSMMU_STACK_EFI           QEMU_EFI.fd, for -bios
#   VSMMU_STACK_AAVMF_CODE, VSMMU_STACK_AAVMF_VARS  for <loader>/<nvram>
#   VSMMU_STACK_GUEST         the guest kernel and busybox (tests/lib/guest.bash)
# Environment: VSMMU_STACK_BIND (more host paths to show inside, read-only),
# and libvirtd.bash's VSMMU_LIBVIRTD_* settings.

: "${VSMMU_TESTLIB:=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
# shellcheck source-path=SCRIPTDIR source=libvirtd.bash
. "$VSMMU_TESTLIB/libvirtd.bash"
VSMMU_STACK_TOP=$(cd "$VSMMU_TESTLIB/../.." && pwd)
VSMMU_STACK_TOOL=$VSMMU_STACK_TOP/tools/teststack.sh
export VSMMU_STACK_QEMU=/usr/bin/qemu-system-aarch64
export VSMMU_STACK_EFI=/usr/share/qemu-efi-aarch64/QEMU_EFI.fd
export VSMMU_STACK_AAVMF_CODE=/usr/share/AAVMF/AAVMF_CODE.fd
export VSMMU_STACK_AAVMF_VARS=/usr/share/AAVMF/AAVMF_VARS.fd
export VSMMU_STACK_GUEST=/opt/vsmmu-guest

_vsmmu_stack_msg() { printf 'vsmmu-stack: %s\n' "$*" >&2; }

vsmmu_stack_missing() {
	[ "$(id -u)" = 0 ] || { echo "needs root (debootstrap, mount namespace, libvirtd)"; return; }
	local c
	for c in unshare nsenter chroot flock debootstrap; do
		command -v "$c" >/dev/null || { echo "$c not installed (tools/deps.sh test)"; return; }
	done
	unshare --mount --net true 2>/dev/null ||
		echo "unshare --mount --net is not permitted here (no CAP_SYS_ADMIN?)"
}

vsmmu_stack_ensure() {
	local s
	s=$("$VSMMU_STACK_TOOL" ensure) || { _vsmmu_stack_msg "the test stack could not be built (see above)"; return 1; }
	export VSMMU_STACK=$s
}

_vsmmu_stack_dir() {
	if [ -z "${VSMMU_STACK:-}" ]; then
		VSMMU_STACK=$("$VSMMU_STACK_TOOL" path) || return 1
		export VSMMU_STACK
	fi
	printf '%s\n' "$VSMMU_STACK"
}

vsmmu_stack_root() {
	local s
	s=$(_vsmmu_stack_dir) || return 1
	printf '%s/root\n' "$s"
}

vsmmu_stack_version() {
	local s
	s=$(_vsmmu_stack_dir) || return 1
	sed -n "s/^stack-$1 //p" "$s/versions"
}

vsmmu_stack_inside() {
	[ -n "${VSMMU_STACK_NS_ID:-}" ] && [ "$(_vsmmu_mntns)" = "$VSMMU_STACK_NS_ID" ]
}

vsmmu_stack_start() {
	if vsmmu_stack_inside; then return 0; fi
	if [ -n "${VSMMU_STACK_PID:-}" ] && _vsmmu_pid_alive "$VSMMU_STACK_PID" &&
		[ "$(readlink "/proc/$VSMMU_STACK_PID/ns/mnt" 2>/dev/null)" = "${VSMMU_STACK_NS_ID:-}" ]; then
		return 0
	fi
	local stack state pid i id='' binds=$VSMMU_STACK_TOP
	stack=$(_vsmmu_stack_dir) || return 1
	state=$(mktemp -d "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/vsmmu-stack.XXXXXX") || return 1
	: >"$state/holder.log"
	# bats' temporary directories, when they are not under /tmp.
	case ${BATS_RUN_TMPDIR:-/tmp} in /tmp/*) ;; *) binds="$binds $BATS_RUN_TMPDIR" ;; esac
	VSMMU_STACK_BIND="$binds ${VSMMU_STACK_BIND:-}" \
		"$VSMMU_STACK_TOOL" enter "$stack" env VSMMU_NS_PREPARED=1 \
		VSMMU_LIBVIRTD_LOG_OUTPUTS="$VSMMU_LIBVIRTD_LOG_OUTPUTS" \
		"$VSMMU_TESTLIB/in-private-libvirt" --hold "$$" \
		</dev/null >"$state/holder.log" 2>&1 3>&- &
	pid=$!
	for ((i = 0; i < 300; i++)); do
		id=$(sed -n 's/^vsmmu-ns-ready //p' "$state/holder.log" 2>/dev/null)
		[ -n "$id" ] && break
		_vsmmu_pid_alive "$pid" || break
		sleep 0.1
	done
	if [ -z "$id" ]; then
		_vsmmu_stack_msg "the stack's namespace did not come up; its log:"
		sed 's/^/  /' "$state/holder.log" >&2
		_vsmmu_kill_pid "$pid" 'bash|in-private|teststack|unshare|chroot|env' 5
		return 1
	fi
	export VSMMU_STACK_PID=$pid VSMMU_STACK_NS_ID=$id VSMMU_STACK_STATE=$state
}

vsmmu_stack_stop() {
	[ -n "${VSMMU_STACK_PID:-}" ] || return 0
	local rc=0
	if _vsmmu_pid_alive "$VSMMU_STACK_PID"; then
		vsmmu_libvirtd12_stop || rc=1
		_vsmmu_kill_pid "$VSMMU_STACK_PID" 'in-private|bash' "$((VSMMU_LIBVIRTD_STOP_TIMEOUT + 5))" || rc=1
	fi
	unset VSMMU_STACK_PID VSMMU_STACK_NS_ID
	return $rc
}

vsmmu_stack() {
	if vsmmu_stack_inside; then
		"$@"
		return
	fi
	if [ -z "${VSMMU_STACK_PID:-}" ] || ! _vsmmu_pid_alive "$VSMMU_STACK_PID"; then
		_vsmmu_stack_msg "no stack namespace: call vsmmu_stack_start first"
		return 1
	fi
	# shellcheck disable=SC2016
	nsenter --target "$VSMMU_STACK_PID" --mount --net --root --wd -- \
		env VSMMU_PRIVATE_NS_ID="$VSMMU_STACK_NS_ID" VSMMU_NS_PID="$VSMMU_STACK_PID" VSMMU_NS_ROOT= \
		sh -c 'cd "$1" 2>/dev/null || cd /; shift; exec "$@"' vsmmu-stack "$PWD" "$@"
}

vsmmu_stack_fn() {
	# shellcheck disable=SC2016
	vsmmu_stack bash -c 'source "$0" && "$@"' "$VSMMU_TESTLIB/stack.bash" "$@"
}

vsmmu_stack_path() {
	if vsmmu_stack_inside; then printf '%s\n' "$1"; return; fi
	printf '/proc/%s/root%s\n' "$VSMMU_STACK_PID" "$1"
}

vsmmu_stack_install_vsmmu() {
	local b
	b=$(cd "$1" && pwd) || return 1
	vsmmu_stack_start || return 1
	vsmmu_stack install -D -m 0755 "$b/vsmmuctl" /usr/local/bin/vsmmuctl &&
		vsmmu_stack install -D -m 0755 "$b/vsmmu-qemu" /usr/local/libexec/vsmmu/vsmmu-qemu &&
		vsmmu_stack install -D -m 0755 "$b/vsmmu-hook" /etc/libvirt/hooks/qemu.d/vsmmu &&
		_vsmmu_stack_host_libs "$b/vsmmuctl" "$b/vsmmu-qemu" "$b/vsmmu-hook"
}

# The libraries BIN... link directly that the root lacks (a sanitizer
# build's libasan and libubsan), copied from this machine to /usr/local/lib
# inside.
_vsmmu_stack_host_libs() {
	local bin lib path copied=0
	for bin in "$@"; do
		for lib in $(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			# shellcheck disable=SC2016
			vsmmu_stack sh -c 'ldconfig -p | grep -q "^[[:space:]]*$1 "' sh "$lib" && continue
			path=$(ldd "$bin" | awk -v l="$lib" '$1 == l { print $3 }')
			[ -f "$path" ] || { _vsmmu_stack_msg "$bin needs $lib, found neither in the stack nor here"; return 1; }
			install -D -m 0644 "$path" "$(vsmmu_stack_path "/usr/local/lib/$lib")" || return 1
			copied=1
		done
	done
	[ "$copied" = 0 ] || vsmmu_stack ldconfig
}

vsmmu_libvirtd12_start() {
	vsmmu_stack_start || return 1
	vsmmu_stack_fn _vsmmu_libvirtd_start_here
}

vsmmu_libvirtd12_stop() {
	[ -n "${VSMMU_STACK_PID:-}" ] && _vsmmu_pid_alive "$VSMMU_STACK_PID" || return 0
	vsmmu_stack_fn _vsmmu_libvirtd_stop_here
}

vsmmu_libvirtd12_restart() { vsmmu_libvirtd12_stop && vsmmu_libvirtd12_start; }

vsmmu_libvirtd12_log() {
	# shellcheck disable=SC2016
	vsmmu_stack sh -c 'tail -n "$1" /var/log/libvirt/libvirtd.log /var/log/libvirt/libvirtd.stderr 2>/dev/null' \
		sh "${1:-40}" >&2
}

vsmmu_virsh12() {
	vsmmu_stack timeout "${VSMMU_VIRSH_TIMEOUT:-60}" virsh -c qemu:///system "$@"
}

vsmmu_qemu12_conf_set() {
	vsmmu_stack_fn _vsmmu_conf_set /etc/libvirt/qemu.conf "$1" "$2"
}

vsmmu_hook12_install() {
	local src=$1 name=${2:-$(basename "$1")}
	vsmmu_stack install -D -m 0755 "$src" "/etc/libvirt/hooks/qemu.d/$name"
}
