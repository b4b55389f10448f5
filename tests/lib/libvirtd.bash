# shellcheck shell=bash
# A private libvirtd for tests, in a private mount + network namespace.
#
# The daemon never sees the host's libvirt state: inside the namespace
# /run/libvirt (= /var/run/libvirt), /var/lib/libvirt, /var/log/libvirt,
# /var/cache/libvirt and /run/vsmmu are fresh tmpfs (holding only the
# host's empty directory skeleton), and /etc/libvirt is a tmpfs holding a
# copy of the host's /etc/libvirt, so tests may drop hooks into
# /etc/libvirt/hooks/qemu.d/ and edit qemu.conf freely. The cgroup mounts
# are detached inside the namespace (libvirt then runs QEMU without
# cgroups and never touches the host's cgroup tree), and a new network
# namespace keeps the daemon's network/nwfilter drivers off the host's
# interfaces and firewall. Nothing outside the namespace is written except
# the small state directory named by VSMMU_NS_STATE.
#
# Two ways to use it, both root only:
#
# 1. From bats (or any bash), outside the namespace:
#      load ../lib/libvirtd            # or: source tests/lib/libvirtd.bash
#      setup_file()    { vsmmu_libvirtd_start; }
#      teardown_file() { vsmmu_ns_stop; }
#      @test x         { run vsmmu_virsh list --all; ... }
#    vsmmu_ns_start starts a namespace holder process (tests/lib/
#    in-private-libvirt --hold) that sets up the mounts and waits; commands
#    run inside through vsmmu_ns (nsenter). Host-side paths into the
#    namespace: "$(vsmmu_ns_path /etc/libvirt/qemu.conf)" (/proc/PID/root/...).
#    The holder watches the process that created it and tears everything
#    down (domains, daemon, namespace) when that process goes away, so a
#    killed test run leaves nothing behind.
#
# 2. Everything inside: tests/lib/in-private-libvirt CMD ARGS...
#    (e.g. `in-private-libvirt bats FILE`, or `in-private-libvirt bash`
#    for a look around). The same functions work there; vsmmu_ns runs its
#    command directly. The daemon and its domains are stopped when CMD exits.
#
# Functions:
#   vsmmu_ns_start          create the namespace (no-op when inside one)
#   vsmmu_ns_stop           stop the daemon (if running), then the namespace
#   vsmmu_ns CMD...         run CMD inside (cwd kept when visible there)
#   vsmmu_ns_path PATH      host-side path of PATH inside the namespace
#   vsmmu_libvirtd_start    start libvirtd (creates the namespace if needed)
#                           and wait until `virsh list` answers (not
#                           `virsh version`: on a host without a QEMU for
#                           its own arch it fails with "Cannot find
#                           suitable emulator for x86_64")
#   vsmmu_libvirtd_stop     destroy running domains, stop the daemon we
#                           started (by pid), bounded waits, SIGKILL last
#   vsmmu_libvirtd_restart  stop + start (hooks are read at daemon start)
#   vsmmu_virsh ARGS...     virsh -c qemu:///system ARGS inside, with timeout
#   vsmmu_qemu_conf_set KEY VALUE   set KEY = VALUE in the private qemu.conf
#                           (VALUE verbatim: quote strings yourself: '"file"')
#   vsmmu_hook_install SRC [NAME]   install SRC as /etc/libvirt/hooks/qemu.d/
#                           NAME (mode 0755). libvirt 9.0 decides at daemon
#                           start whether the qemu hook exists at all (the
#                           qemu script or a file in qemu.d): with none then,
#                           later files are never run; with one, qemu.d is
#                           re-listed at every call. Install before
#                           vsmmu_libvirtd_start (call vsmmu_ns_start first).
#   vsmmu_libvirtd_log [N]  print the last N (40) lines of the daemon's log
#                           (/var/log/libvirt/libvirtd.log inside)
#
# Environment:
#   VSMMU_LIBVIRTD_TIMEOUT       seconds to wait for the daemon (20)
#   VSMMU_LIBVIRTD_STOP_TIMEOUT  seconds to wait for it to exit (10)
#   VSMMU_LIBVIRTD_LOG_OUTPUTS   libvirtd log_outputs
#                                ("3:file:/var/log/libvirt/libvirtd.log")
#   VSMMU_LIBVIRTD_ENV           K=V words added to the daemon's environment
#                                (otherwise only PATH, like a service)
#   VSMMU_NS_EXTRA_DIRS          more directories to make private empty tmpfs
#   VSMMU_TEST_CGROUPS=1         keep the cgroup mounts (libvirt uses them)
# Set by vsmmu_ns_start (exported, so bats tests see them):
#   VSMMU_NS_PID, VSMMU_PRIVATE_NS_ID, VSMMU_NS_ROOT, VSMMU_NS_STATE,
#   VSMMU_LIBVIRT_URI (qemu+unix:///system?socket=... usable from outside)

VSMMU_TESTLIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${VSMMU_LIBVIRTD_TIMEOUT:=20}"
: "${VSMMU_LIBVIRTD_STOP_TIMEOUT:=10}"
: "${VSMMU_LIBVIRTD_LOG_OUTPUTS:=3:file:/var/log/libvirt/libvirtd.log}"

# Inside the namespace only:
VSMMU_LIBVIRTD_PIDFILE=/run/libvirt/vsmmu-libvirtd.pid

_vsmmu_msg() { printf 'vsmmu-libvirtd: %s\n' "$*" >&2; }

_vsmmu_mntns() { readlink /proc/self/ns/mnt; }

# Why a suite that needs the private daemon cannot run here, or nothing.
# Arguments: what else it needs, commands by name and files by absolute path.
vsmmu_libvirt_missing() {
	[ "$(id -u)" = 0 ] || { echo "needs root (mount namespace, libvirtd)"; return; }
	local c
	for c in unshare nsenter libvirtd virsh "$@"; do
		case $c in
		/*) [ -e "$c" ] || { echo "$c missing"; return; } ;;
		*) command -v "$c" >/dev/null || { echo "$c not installed"; return; } ;;
		esac
	done
	unshare --mount --net true 2>/dev/null ||
		echo "unshare --mount --net is not permitted here (no CAP_SYS_ADMIN?)"
}

# True when this process runs inside the private namespace.
vsmmu_ns_inside() {
	[ -n "${VSMMU_PRIVATE_NS_ID:-}" ] && [ "$(_vsmmu_mntns)" = "$VSMMU_PRIVATE_NS_ID" ]
}

# Alive and not a zombie.
_vsmmu_pid_alive() {
	local state
	[ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
	state=$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# _vsmmu_wait_gone PID SECONDS: poll (10 Hz) until PID is gone; reap it if
# it is our child.
_vsmmu_wait_gone() {
	local pid=$1 i n=$(($2 * 10))
	for ((i = 0; i < n; i++)); do
		_vsmmu_pid_alive "$pid" || break
		sleep 0.1
	done
	if _vsmmu_pid_alive "$pid"; then return 1; fi
	wait "$pid" 2>/dev/null || true
	return 0
}

# _vsmmu_kill_pid PID COMM_REGEX SECONDS: SIGTERM PID if its comm matches,
# wait, then SIGKILL. Never touches a pid whose comm does not match (pid
# reuse).
_vsmmu_kill_pid() {
	local pid=$1 re=$2 secs=$3 comm
	_vsmmu_pid_alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 0
	if ! [[ $comm =~ $re ]]; then
		_vsmmu_msg "pid $pid is '$comm', not $re: not killing it"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null
	_vsmmu_wait_gone "$pid" "$secs" && return 0
	_vsmmu_msg "pid $pid ($comm) ignored SIGTERM for ${secs}s: SIGKILL"
	kill -KILL "$pid" 2>/dev/null
	_vsmmu_wait_gone "$pid" 5 || { _vsmmu_msg "pid $pid ($comm) survives SIGKILL"; return 1; }
}

# ---------------------------------------------------------------------------
# Namespace setup (runs inside a fresh unshare -m -n; see in-private-libvirt)

# _vsmmu_mount_tmpfs_like DIR: mount a tmpfs over DIR with DIR's mode and
# owner. Leaves a directory fd on the covered original in _VSMMU_FD: its
# content stays reachable at /proc/$$/fd/$_VSMMU_FD (close it afterwards).
# mount/umount always run with -n: libmount would otherwise create
# /run/mount/utab on the host before /run is private.
_vsmmu_mount_tmpfs_like() {
	local dir=$1 mode uid gid
	read -r mode uid gid < <(stat -c '%a %u %g' "$dir") || return 1
	exec {_VSMMU_FD}<"$dir" || return 1
	mount -n -t tmpfs -o "mode=$mode,uid=$uid,gid=$gid,size=256m" vsmmu-test "$dir" || return 1
}

# Recreate the directory tree (directories only, same mode and owner) of
# SRC under DST.
_vsmmu_copy_skeleton() {
	local src=$1 dst=$2 rel mode uid gid
	while IFS= read -r -d '' rel; do
		read -r mode uid gid < <(stat -c '%a %u %g' "$src/$rel") || continue
		mkdir -p "$dst/$rel" && chown "$uid:$gid" "$dst/$rel" && chmod "$mode" "$dst/$rel"
	done < <(cd "$src" && find . -mindepth 1 -xdev -type d -print0)
}

# DIR does not exist: make its nearest existing ancestor a tmpfs that
# shows the same entries (each original entry bind-mounted back), so DIR
# can be created privately. Used for /run/vsmmu, and for /run/libvirt on
# hosts where libvirtd never ran (the host's /run stays untouched).
_vsmmu_shadow_parent() {
	local parent=$1 fd ent name ours
	# Our tmpfs right below parent (/run/libvirt when /run/vsmmu comes
	# next): bound back like the rest, then the covered original goes, or
	# the namespace would hold two stacked tmpfs there.
	ours=$(findmnt -rn -o TARGET,SOURCE | awk -v p="${parent%/}/" '$2 == "vsmmu-test" &&
		index($1, p) == 1 && substr($1, length(p) + 1) !~ /\// { print substr($1, length(p) + 1) }')
	_vsmmu_mount_tmpfs_like "$parent" || return 1
	fd=$_VSMMU_FD
	local orig="/proc/$$/fd/$fd"
	shopt -s dotglob nullglob
	for ent in "$orig"/*; do
		name=${ent##*/}
		if [ -L "$ent" ]; then
			cp -P "$ent" "$parent/$name"
		elif [ -d "$ent" ]; then
			mkdir "$parent/$name" && mount -n -c --rbind "$ent" "$parent/$name" &&
				case $'\n'$ours$'\n' in
				*$'\n'$name$'\n'*) umount -n -c "$ent" ;;
				esac
		else
			: >"$parent/$name" && mount -n -c --bind "$ent" "$parent/$name"
		fi || { shopt -u dotglob nullglob; return 1; }
	done
	shopt -u dotglob nullglob
	exec {fd}<&-
}

# _vsmmu_private_dir DIR [copy]: make DIR a private tmpfs holding either
# the original's directory skeleton or (copy) a full copy of it.
_vsmmu_private_dir() {
	local dir parent fd
	dir=$(readlink -m "$1") || return 1
	if findmnt -n -M "$dir" -o SOURCE 2>/dev/null | grep -qx vsmmu-test; then
		return 0 # already private (e.g. /var/run/libvirt is /run/libvirt)
	fi
	if [ ! -d "$dir" ]; then
		parent=$dir
		while [ ! -d "$parent" ]; do parent=$(dirname "$parent"); done
		if [ "$parent" != / ] && findmnt -n -M "$parent" -o SOURCE 2>/dev/null | grep -qx vsmmu-test; then
			: # parent already one of ours: just create below
		else
			[ "$parent" != / ] || { _vsmmu_msg "refusing to shadow / for $dir"; return 1; }
			_vsmmu_shadow_parent "$parent" || return 1
		fi
		mkdir -p "$dir" && chmod 0755 "$dir" || return 1
		mount -n -t tmpfs -o mode=0755,size=256m vsmmu-test "$dir" || return 1
		return 0
	fi
	_vsmmu_mount_tmpfs_like "$dir" || return 1
	fd=$_VSMMU_FD
	if [ "${2:-}" = copy ]; then
		cp -a "/proc/$$/fd/$fd/." "$dir/" || return 1
	else
		_vsmmu_copy_skeleton "/proc/$$/fd/$fd" "$dir" || return 1
	fi
	exec {fd}<&-
}

# _vsmmu_conf_set FILE KEY VALUE: comment out active KEY lines, append
# KEY = VALUE.
_vsmmu_conf_set() {
	local file=$1 key=$2 value=$3 tmp
	tmp=$(mktemp "$file.XXXXXX") || return 1
	sed "s/^\([[:space:]]*${key}[[:space:]]*=\)/#vsmmu-test# \1/" "$file" >"$tmp" &&
		printf '%s = %s\n' "$key" "$value" >>"$tmp" &&
		chmod --reference="$file" "$tmp" && mv "$tmp" "$file"
}

_vsmmu_lsm_active() {
	[ -r /sys/module/apparmor/parameters/enabled ] &&
		[ "$(cat /sys/module/apparmor/parameters/enabled)" = Y ] && return 0
	[ -e /sys/fs/selinux/enforce ] && return 0
	return 1
}

# Called by in-private-libvirt in a fresh namespace. VSMMU_NS_PARENT_ID
# names the namespace it came from: refuse to touch anything if we are
# still in it.
_vsmmu_ns_setup() {
	local here d
	here=$(_vsmmu_mntns)
	if [ -z "${VSMMU_NS_PARENT_ID:-}" ] || [ "$here" = "$VSMMU_NS_PARENT_ID" ] ||
		[ "$here" = "$(readlink /proc/1/ns/mnt 2>/dev/null)" ]; then
		_vsmmu_msg "not in a private mount namespace ($here): refusing to mount"
		return 1
	fi
	mount -n --make-rprivate / || return 1
	ip link set lo up 2>/dev/null || true

	if [ "${VSMMU_TEST_CGROUPS:-0}" != 1 ]; then
		# Detach every cgroup mount (deepest first): libvirt's
		# virCgroupAvailable() then says no and QEMU runs without cgroups.
		awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts |
			sort -r | while read -r d; do umount -n -l "$d" || exit 1; done || return 1
	fi

	for d in /run/libvirt /var/run/libvirt /var/lib/libvirt /var/log/libvirt \
		/var/cache/libvirt /run/vsmmu ${VSMMU_NS_EXTRA_DIRS:-}; do
		_vsmmu_private_dir "$d" || { _vsmmu_msg "cannot make $d private"; return 1; }
	done
	_vsmmu_private_dir /etc/libvirt copy || { _vsmmu_msg "cannot copy /etc/libvirt"; return 1; }
	_vsmmu_libvirt_conf_setup
}

# The daemon's configuration in a namespace whose /etc/libvirt is private
# (also used by stack.bash in the test stack's root).
_vsmmu_libvirt_conf_setup() {
	mkdir -p /etc/libvirt/hooks/qemu.d /var/log/libvirt/qemu || return 1

	# What a daemon in this namespace needs (private copies only):
	# no virtlogd (QEMU's stdio goes to /var/log/libvirt/qemu/NAME.log),
	# no LSM when the kernel has none.
	_vsmmu_conf_set /etc/libvirt/qemu.conf stdio_handler '"file"' || return 1
	if ! _vsmmu_lsm_active; then
		_vsmmu_conf_set /etc/libvirt/qemu.conf security_driver '"none"' || return 1
	fi
	_vsmmu_conf_set /etc/libvirt/libvirtd.conf log_outputs "\"$VSMMU_LIBVIRTD_LOG_OUTPUTS\"" || return 1
	# No network autostart inside (bridges and dnsmasq are not our business).
	rm -f /etc/libvirt/qemu/networks/autostart/* 2>/dev/null
	return 0
}

# Inside: stop the daemon and whatever QEMU it left behind.
_vsmmu_ns_teardown() {
	_vsmmu_libvirtd_stop_here
	_vsmmu_kill_leftover_qemu
}

# ---------------------------------------------------------------------------
# Namespace handling from outside

vsmmu_ns_start() {
	if vsmmu_ns_inside; then return 0; fi
	if [ -n "${VSMMU_NS_PID:-}" ] && _vsmmu_pid_alive "$VSMMU_NS_PID" &&
		[ "$(readlink "/proc/$VSMMU_NS_PID/ns/mnt" 2>/dev/null)" = "${VSMMU_PRIVATE_NS_ID:-}" ]; then
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		_vsmmu_msg "a private libvirtd needs root"
		return 1
	fi
	local state pid i id=
	state=$(mktemp -d "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/vsmmu-ns.XXXXXX") || return 1
	# Created here: the background child may not have opened it yet when
	# the loop below first reads it (sed would fail, and bats with it).
	: >"$state/holder.log"
	# fd 3 closed: bats waits for every holder of its fd 3 before finishing.
	"$VSMMU_TESTLIB/in-private-libvirt" --hold "$$" </dev/null >"$state/holder.log" 2>&1 3>&- &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		id=$(sed -n 's/^vsmmu-ns-ready //p' "$state/holder.log" 2>/dev/null)
		[ -n "$id" ] && break
		_vsmmu_pid_alive "$pid" || break
		sleep 0.1
	done
	if [ -z "$id" ]; then
		_vsmmu_msg "namespace holder did not come up; its log:"
		sed 's/^/  /' "$state/holder.log" >&2
		_vsmmu_kill_pid "$pid" 'bash|in-private|unshare' 5
		return 1
	fi
	export VSMMU_NS_PID=$pid VSMMU_PRIVATE_NS_ID=$id VSMMU_NS_STATE=$state
	export VSMMU_NS_ROOT=/proc/$pid/root
	export VSMMU_LIBVIRT_URI="qemu+unix:///system?socket=$VSMMU_NS_ROOT/run/libvirt/libvirt-sock"
}

vsmmu_ns_stop() {
	if vsmmu_ns_inside; then
		# Inside (in-private-libvirt CMD): the wrapper ends the namespace
		# when CMD exits; stop the daemon now.
		vsmmu_libvirtd_stop
		return
	fi
	[ -n "${VSMMU_NS_PID:-}" ] || return 0
	local rc=0
	if _vsmmu_pid_alive "$VSMMU_NS_PID"; then
		vsmmu_libvirtd_stop || rc=1
		# The holder tears down again (cheap) and exits on SIGTERM.
		_vsmmu_kill_pid "$VSMMU_NS_PID" 'in-private|bash' "$((VSMMU_LIBVIRTD_STOP_TIMEOUT + 5))" || rc=1
	fi
	unset VSMMU_NS_PID VSMMU_PRIVATE_NS_ID VSMMU_NS_ROOT VSMMU_LIBVIRT_URI
	return $rc
}

# vsmmu_ns CMD...: run CMD in the namespace, in the current directory.
vsmmu_ns() {
	if vsmmu_ns_inside; then
		"$@"
		return
	fi
	if [ -z "${VSMMU_NS_PID:-}" ] || ! _vsmmu_pid_alive "$VSMMU_NS_PID"; then
		_vsmmu_msg "no private namespace: call vsmmu_ns_start first"
		return 1
	fi
	# shellcheck disable=SC2016
	nsenter --target "$VSMMU_NS_PID" --mount --net -- \
		env VSMMU_NS_ROOT= sh -c 'cd "$1" 2>/dev/null || cd /; shift; exec "$@"' \
		vsmmu-ns "$PWD" "$@"
}

# vsmmu_ns_fn FUNCTION ARGS...: run a function of this file in the namespace.
vsmmu_ns_fn() {
	if vsmmu_ns_inside; then
		"$@"
		return
	fi
	# shellcheck disable=SC2016
	vsmmu_ns bash -c 'source "$0" && "$@"' "$VSMMU_TESTLIB/libvirtd.bash" "$@"
}

vsmmu_ns_path() {
	printf '%s%s\n' "${VSMMU_NS_ROOT:-}" "$1"
}

# ---------------------------------------------------------------------------
# The daemon

_vsmmu_libvirtd_pid() {
	local pid
	pid=$(cat "$VSMMU_LIBVIRTD_PIDFILE" 2>/dev/null) || return 1
	_vsmmu_pid_alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = libvirtd ] || return 1
	printf '%s\n' "$pid"
}

_vsmmu_libvirtd_start_here() {
	vsmmu_ns_inside || { _vsmmu_msg "refusing to start libvirtd outside the private namespace"; return 1; }
	if _vsmmu_libvirtd_pid >/dev/null; then return 0; fi
	rm -f "$VSMMU_LIBVIRTD_PIDFILE"
	local i n=$((VSMMU_LIBVIRTD_TIMEOUT * 10)) pid
	# --daemon: libvirtd forks, detaches, writes the pid file. A clean,
	# service-like environment: hooks and QEMU inherit from it.
	# shellcheck disable=SC2086 # VSMMU_LIBVIRTD_ENV is a list of K=V words
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		${VSMMU_LIBVIRTD_ENV:-} \
		libvirtd --daemon --pid-file "$VSMMU_LIBVIRTD_PIDFILE" \
		--config /etc/libvirt/libvirtd.conf </dev/null >/dev/null 2>>/var/log/libvirt/libvirtd.stderr 3>&- || {
		_vsmmu_msg "libvirtd --daemon failed"
		vsmmu_libvirtd_log 40
		return 1
	}
	for ((i = 0; i < n; i++)); do
		if pid=$(_vsmmu_libvirtd_pid) &&
			timeout 5 virsh -c qemu:///system list --all >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	_vsmmu_msg "libvirtd did not answer within ${VSMMU_LIBVIRTD_TIMEOUT}s"
	vsmmu_libvirtd_log 40
	_vsmmu_libvirtd_stop_here
	return 1
}

_vsmmu_libvirtd_stop_here() {
	local pid dom rc=0
	pid=$(_vsmmu_libvirtd_pid) || { rm -f "$VSMMU_LIBVIRTD_PIDFILE"; _vsmmu_kill_leftover_qemu; return 0; }
	# QEMU outlives libvirtd by design: destroy the domains first.
	for dom in $(timeout 10 virsh -q -c qemu:///system list --name 2>/dev/null); do
		timeout 15 virsh -q -c qemu:///system destroy "$dom" >/dev/null 2>&1 ||
			_vsmmu_msg "could not destroy domain $dom"
	done
	_vsmmu_kill_pid "$pid" '^libvirtd$' "$VSMMU_LIBVIRTD_STOP_TIMEOUT" || rc=1
	rm -f "$VSMMU_LIBVIRTD_PIDFILE"
	_vsmmu_kill_leftover_qemu
	return $rc
}

# QEMU processes the private daemon started (pid files in the private
# /run/libvirt/qemu) that are still there.
_vsmmu_kill_leftover_qemu() {
	local f pid
	for f in /run/libvirt/qemu/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f" 2>/dev/null) || continue
		_vsmmu_pid_alive "$pid" || continue
		_vsmmu_kill_pid "$pid" '^qemu' 5
	done
}

vsmmu_libvirtd_start() {
	vsmmu_ns_start || return 1
	vsmmu_ns_fn _vsmmu_libvirtd_start_here
}

vsmmu_libvirtd_stop() {
	if ! vsmmu_ns_inside && { [ -z "${VSMMU_NS_PID:-}" ] || ! _vsmmu_pid_alive "$VSMMU_NS_PID"; }; then
		return 0 # no namespace, no daemon
	fi
	vsmmu_ns_fn _vsmmu_libvirtd_stop_here
}

vsmmu_libvirtd_restart() {
	vsmmu_libvirtd_stop && vsmmu_libvirtd_start
}

vsmmu_libvirtd_log() {
	# shellcheck disable=SC2016
	vsmmu_ns sh -c 'tail -n "$1" /var/log/libvirt/libvirtd.log /var/log/libvirt/libvirtd.stderr 2>/dev/null' \
		sh "${1:-40}" >&2
}

vsmmu_virsh() {
	vsmmu_ns timeout "${VSMMU_VIRSH_TIMEOUT:-60}" virsh -c qemu:///system "$@"
}

vsmmu_qemu_conf_set() {
	vsmmu_ns_fn _vsmmu_conf_set /etc/libvirt/qemu.conf "$1" "$2"
}

vsmmu_hook_install() {
	local src=$1 name=${2:-$(basename "$1")}
	vsmmu_ns install -D -m 0755 "$src" "/etc/libvirt/hooks/qemu.d/$name"
}
