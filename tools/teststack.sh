#!/bin/bash
# teststack.sh: the modern stack the guest suites run on, built from
# Debian's archive only: a Debian 13 root (debootstrap --variant=minbase
# trixie) with libvirt and QEMU from trixie-backports, UEFI firmware, and a
# Debian arm64 kernel and busybox for the guest.
#
#   teststack.sh ensure   build the stack when it is missing or stale, print
#                         its directory (STACK; the root is STACK/root)
#   teststack.sh path     print the newest built stack's directory, no
#                         network; exit 1 when there is none
#   teststack.sh versions print the stack's package versions ("PKG VERSION")
#   teststack.sh enter STACK [--net] CMD...
#                         run CMD chrooted into a throwaway copy of STACK's
#                         root (see below), in this process (same pid);
#                         environment: PATH, LC_ALL, HOME and TERM only;
#                         exit status: CMD's
#
# Cache: $VSMMU_STACK_CACHE (/var/cache/vsmmu-test)/stack/KEY, KEY a hash of
# this script's package lists and the versions installed; `current` points
# at the newest. `ensure` runs `apt-get update` (index files kept in
# stack/apt-lists, so a warm check downloads little; at most every
# VSMMU_STACK_CHECK_HOURS) and compares the versions the archive offers now
# with the stack's; a new version, or a change of this script's package
# lists or recipe, builds a new stack. A build runs in stack/.build-*
# and is renamed into place when complete, so a killed build never leaves a
# half root (the next build removes its remains). Builds are serialised by
# stack/.lock; stacks no longer current are removed once no `enter` holds
# them (each holds STACK/lock shared).
#
# Nothing is mounted outside a private mount namespace (unshare -m), and
# nothing is created outside the cache but under /tmp. `enter` mounts, in
# its own namespace only: a tmpfs on STACK/mnt with an overlay of the root
# (writes land in the tmpfs: the cached root is never changed), a private
# /dev (tmpfs with the host's null, zero, full, random, urandom, tty bound
# in, devpts, and the fakes libvirt 12 wants before it writes vfio-pci
# arguments: /dev/vfio/vfio an empty file, /sys/kernel/iommu_groups a tmpfs
# with group 0), /proc, /sys read-only without the cgroup mounts, a tmpfs on
# /run, and the host's /tmp and VSMMU_STACK_BIND (blank-separated absolute
# paths, read-only) at their own paths. Without --net it is also in a new
# network namespace (lo only).
#
# Environment: VSMMU_STACK_CACHE, VSMMU_STACK_MIRROR (http://deb.debian.org/
# debian), VSMMU_STACK_OFFLINE=1 (ensure uses what is cached, no network),
# VSMMU_STACK_CHECK_HOURS (12: how long a check against the archive holds;
# 0 checks every time).
set -euo pipefail

prog=teststack
cache=${VSMMU_STACK_CACHE:-/var/cache/vsmmu-test}
stacks=$cache/stack
mirror=${VSMMU_STACK_MIRROR:-http://deb.debian.org/debian}
suite=trixie
backports=trixie-backports
# Installed in the root, from trixie-backports where it has them.
host_pkgs="libvirt-daemon-system libvirt-clients qemu-system-arm qemu-efi-aarch64
	libjansson4 cpio xz-utils"
# The stack's identity: these versions (host_pkgs' main ones and the guest's).
key_pkgs="libvirt-daemon-system qemu-system-arm qemu-efi-aarch64"
# Downloaded (not installed) for the guest, arm64, from trixie.
guest_pkgs="linux-image-arm64 busybox-static"
# Bump when the build steps change in a way that needs a new root.
recipe=1
# What the stack must at least have.
min_libvirt=12.9
min_qemu=11.1
guest_dir=/opt/vsmmu-guest

die() {
	echo "$prog: $*" >&2
	exit 1
}
note() { echo "$prog: $*" >&2; }

# ---------------------------------------------------------------------------
# Chroots (always inside a private mount namespace)

# _mount_dev ROOT: a private /dev for ROOT.
_mount_dev() {
	local d=$1/dev n
	mount -n -t tmpfs -o mode=0755,size=16m,nosuid vsmmu-test "$d"
	for n in null zero full random urandom tty; do
		: >"$d/$n"
		mount -n --bind "/dev/$n" "$d/$n"
	done
	mkdir -p "$d/pts" "$d/shm" "$d/vfio"
	mount -n -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$d/pts"
	ln -s pts/ptmx "$d/ptmx"
	ln -s /proc/self/fd "$d/fd"
	ln -s /proc/self/fd/0 "$d/stdin"
	ln -s /proc/self/fd/1 "$d/stdout"
	ln -s /proc/self/fd/2 "$d/stderr"
	mount -n -t tmpfs -o mode=1777,size=64m vsmmu-test "$d/shm"
}

# _mount_basics ROOT: /proc, /dev and a read-only /sys (no cgroups).
_mount_basics() {
	local r=$1
	mount -n -t proc proc "$r/proc"
	mount -n --bind /sys "$r/sys"
	mount -n -o remount,bind,ro "$r/sys"
	_mount_dev "$r"
}

# Refuse to mount anything unless this process is in the namespace in_ns
# made: not the one it was started from, not init's.
_refuse_outside() {
	local here
	here=$(readlink /proc/self/ns/mnt)
	if [ -z "${_STACK_PARENT:-}" ] || [ "$here" = "$_STACK_PARENT" ] ||
		[ "$here" = "$(readlink /proc/1/ns/mnt)" ]; then
		die "refusing to mount outside a private mount namespace"
	fi
	mount -n --make-rprivate /
}

# _build_chroot ROOT CMD...: CMD in ROOT itself (for building), with the
# network, the shared apt index files and the host's resolv.conf.
_build_chroot() {
	local r=$1
	shift
	_refuse_outside
	_mount_basics "$r"
	# apt's binary caches and scratch files go to tmpfs, not into the root.
	mount -n -t tmpfs -o mode=1777,size=512m vsmmu-test "$r/tmp"
	mount -n -t tmpfs -o mode=0755,size=1g vsmmu-test "$r/var/cache/apt"
	mkdir -p "$r/var/cache/apt/archives/partial"
	mkdir -p "$stacks/apt-lists/partial"
	mount -n --bind "$stacks/apt-lists" "$r/var/lib/apt/lists"
	[ -e "$r/etc/resolv.conf" ] || : >"$r/etc/resolv.conf"
	mount -n --bind /etc/resolv.conf "$r/etc/resolv.conf"
	chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive HOME=/root "$@"
}

# in_ns [UNSHARE_OPTION...] -- CMD...: CMD in a fresh private mount namespace.
in_ns() {
	local -a opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	unshare --mount --propagation private "${opts[@]}" -- \
		env _STACK_PARENT="$(readlink /proc/self/ns/mnt)" "$@"
}

# _enter_here STACK NET CMD...: (in the new namespace) the overlay chroot.
_enter_here() {
	local stack=$1 net=$2 m p
	shift 2
	_refuse_outside
	m=$stack/mnt
	mount -n -t tmpfs -o mode=0755,size=2g vsmmu-test "$m"
	mkdir "$m/upper" "$m/work" "$m/root"
	mount -n -t overlay -o "lowerdir=$stack/root,upperdir=$m/upper,workdir=$m/work" vsmmu-stack "$m/root"
	_mount_basics "$m/root"
	: >"$m/root/dev/vfio/vfio"
	mount -n -t tmpfs -o mode=0755,size=1m vsmmu-test "$m/root/sys/kernel/iommu_groups"
	mkdir -p "$m/root/sys/kernel/iommu_groups/0/devices"
	mount -n -t tmpfs -o mode=0755,size=256m vsmmu-test "$m/root/run"
	mount -n --rbind /tmp "$m/root/tmp"
	for p in ${VSMMU_STACK_BIND:-}; do
		case $p in /*) ;; *) die "VSMMU_STACK_BIND: $p is not an absolute path" ;; esac
		mkdir -p "$m/root$p"
		mount -n --rbind "$p" "$m/root$p"
		mount -n -o remount,bind,ro "$m/root$p"
	done
	[ "$net" = 1 ] || ip link set lo up 2>/dev/null || true
	exec chroot "$m/root" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		LC_ALL=C.UTF-8 HOME=/root TERM="${TERM:-dumb}" "$@"
}

cmd_enter() {
	local stack net=0
	stack=$(readlink -f "${1:?enter STACK CMD...}")
	shift
	if [ ! -d "$stack/root" ] || [ ! -d "$stack/mnt" ]; then die "$stack is not a built stack"; fi
	if [ "${1:-}" = --net ]; then net=1; shift; fi
	[ $# -gt 0 ] || die "enter: no command"
	exec {lockfd}<"$stack/lock"
	flock -s "$lockfd"
	local -a opts=()
	[ "$net" = 1 ] || opts+=(--net)
	# exec all the way down (unshare, env, _enter, chroot, env): CMD keeps
	# this process's pid, and with it the lock.
	exec unshare --mount --propagation private "${opts[@]}" -- \
		env _STACK_PARENT="$(readlink /proc/self/ns/mnt)" "$0" _enter "$stack" "$net" "$@"
}

# ---------------------------------------------------------------------------
# Versions

# The versions the archive offers now for the stack's packages, one
# "PKG VERSION" line each, in list order (run in a root, in its chroot):
# candidates from trixie-backports for the root's, from trixie for the
# guest's (arm64).
# Arguments: BACKPORTS SUITE ROOT_PKGS GUEST_PKGS.
versions_script=$(cat <<'EOF'
set -eu
cand() { # RELEASE SUFFIX PKG...
	r=$1 x=$2
	shift 2
	for p in "$@"; do set -- "$@" "$p$x"; shift; done
	apt-cache -t "$r" policy "$@" | awk -v x="$x" '
		/^[^ ]/ { p = $1; sub(/:$/, "", p) }
		/^  Candidate: / && $2 != "(none)" { print p, $2 }'
}
# shellcheck disable=SC2086 # package lists
{ cand "$1" "" $3; cand "$2" :arm64 $4; } >/tmp/versions.all
[ "$(wc -l </tmp/versions.all)" = "$(echo $3 $4 | wc -w)" ] ||
	{ echo "the archive lacks some of: $3 $4" >&2; exit 1; }
cat /tmp/versions.all
EOF
)

# key_of VERSIONS_FILE: the recipe, the package lists and their versions.
key_of() {
	{ echo "$recipe $suite $backports"; echo "$host_pkgs $guest_pkgs" | tr -s ' \t\n' ' '
		cat "$1"; } | sha256sum | cut -c1-16
}

current() {
	local c
	c=$(readlink -f "$stacks/current" 2>/dev/null) || return 1
	[ -d "$c/root" ] && [ -f "$c/versions" ] || return 1
	printf '%s\n' "$c"
}

# Whether the archive offers what STACK holds; prints the new versions to
# $1.new. Returns 0 (fresh), 1 (stale), 2 (cannot tell: offline).
check_fresh() {
	local stack=$1 out=$2
	# shellcheck disable=SC2016
	if ! in_ns -- "$0" _chroot_build "$stack/root" sh -c \
		'apt-get -q update >/dev/null 2>&1 && sh -c "$0" sh "$1" "$2" "$3" "$4"' \
		"$versions_script" "$backports" "$suite" "$key_pkgs" "$guest_pkgs" >"$out" 2>/dev/null; then
		return 2
	fi
	[ "$(key_of "$out")" = "$(basename "$stack")" ]
}

# ---------------------------------------------------------------------------
# Build

build() {
	local tmp root v
	tmp=$(mktemp -d "$stacks/.build-XXXXXX")
	chmod 0755 "$tmp"
	root=$tmp/root
	note "building the test stack in $tmp (debootstrap $suite, then $backports)"
	in_ns -- "$0" _debootstrap "$root" >"$tmp/build.log" 2>&1 ||
		{ tail -20 "$tmp/build.log" >&2; die "debootstrap failed (log: $tmp/build.log)"; }
	cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $backports main
EOF
	cat >"$root/etc/apt/apt.conf.d/90vsmmu-test" <<'EOF'
APT::Install-Recommends "0";
APT::Install-Suggests "0";
Acquire::Languages "none";
Acquire::Retries "3";
Acquire::GzipIndexes "true";
EOF
	printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-exclude=/usr/share/man/*' \
		'path-exclude=/usr/share/locale/*' >"$root/etc/dpkg/dpkg.cfg.d/90vsmmu-test"
	# No service starts in a chroot.
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 0755 "$root/usr/sbin/policy-rc.d"
	# shellcheck disable=SC2016
	in_ns -- "$0" _chroot_build "$root" sh -ec '
		dpkg --add-architecture arm64
		apt-get -q update
		apt-get -q -y -t "$1" install $2
		apt-cache -t "$1" policy $3 >/dev/null
		sh -c "$4" sh "$1" "$7" "$3" "$5" >/versions
		mkdir -p "$6/deb" && cd "$6/deb"
		k=$(apt-cache -t "$7" depends linux-image-arm64:arm64 | sed -n "s/^ *Depends: \(linux-image-[^ ]*\)/\1/p" | head -1)
		[ -n "$k" ] || { echo "no kernel image behind linux-image-arm64" >&2; exit 1; }
		apt-get -q -t "$7" download "${k%:arm64}:arm64" busybox-static:arm64
		mkdir ../kernel ../busybox
		dpkg-deb -x linux-image-*.deb ../kernel
		dpkg-deb -x busybox-static_*.deb ../busybox
		rm -f ./*.deb' \
		sh "$backports" "$host_pkgs" "$key_pkgs" "$versions_script" "$guest_pkgs" "$guest_dir" "$suite" \
		>>"$tmp/build.log" 2>&1 ||
		{ tail -30 "$tmp/build.log" >&2; die "installing the stack failed (log: $tmp/build.log)"; }
	mv "$root/versions" "$tmp/versions"
	rm -f "$root/usr/sbin/policy-rc.d"
	check_min "$root"
	chroot_versions "$root" >>"$tmp/versions"
	mkdir "$tmp/mnt"
	touch "$tmp/checked"
	: >"$tmp/lock"
	v=$(key_of <(grep -v '^stack-' "$tmp/versions"))
	rm -rf "${stacks:?}/$v"
	mv -T "$tmp" "$stacks/$v"
	ln -sfn "$v" "$stacks/current.new"
	mv -T "$stacks/current.new" "$stacks/current"
	note "built $stacks/$v"
}

# The running versions, as the suites print them.
chroot_versions() {
	local r=$1
	printf 'stack-libvirt %s\n' "$(chroot "$r" libvirtd --version | awk '{print $NF}')"
	printf 'stack-qemu %s\n' "$(chroot "$r" qemu-system-aarch64 -version | sed -n 's/^QEMU emulator version \([^ ]*\).*/\1/p')"
	printf 'stack-kernel %s\n' "$(ls "$r$guest_dir/kernel/usr/lib/modules")"
}

# version_ge A B: A >= B (dotted numbers)
version_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$2" ]; }

check_min() {
	local r=$1 lv qv
	lv=$(chroot "$r" libvirtd --version | awk '{print $NF}')
	qv=$(chroot "$r" qemu-system-aarch64 -version | sed -n 's/^QEMU emulator version \([0-9.]*\).*/\1/p')
	version_ge "$lv" "$min_libvirt" || die "$backports gave libvirt $lv, the suites need $min_libvirt or newer"
	version_ge "$qv" "$min_qemu" || die "$backports gave QEMU $qv, the suites need $min_qemu or newer"
	[ -f "$r/usr/share/qemu-efi-aarch64/QEMU_EFI.fd" ] || die "no QEMU_EFI.fd in the stack"
}

# Remove the remains of killed builds and stacks no longer current that
# nobody holds.
prune() {
	local d cur
	cur=$(current || true)
	for d in "$stacks"/.build-* "$stacks"/*/; do
		d=${d%/}
		if [ ! -d "$d" ] || [ -L "$d" ]; then continue; fi
		case ${d##*/} in apt-lists) continue ;; esac
		[ "$d" != "$cur" ] || continue
		if [ -f "$d/lock" ]; then
			( flock -n -x 9 && rm -rf "$d" ) 9<"$d/lock" || true
		else
			rm -rf "$d"
		fi
	done
}

cmd_ensure() {
	local cur rc=0
	[ "$(id -u)" = 0 ] || die "building the test stack needs root (debootstrap, chroot)"
	command -v debootstrap >/dev/null || die "debootstrap is not installed (tools/deps.sh test)"
	mkdir -p "$stacks"
	exec {lockfd}>>"$stacks/.lock"
	flock -x "$lockfd"
	if cur=$(current); then
		if [ "${VSMMU_STACK_OFFLINE:-0}" = 1 ]; then
			printf '%s\n' "$cur"
			return 0
		fi
		if [ "$(key_of <(grep -v '^stack-' "$cur/versions"))" != "$(basename "$cur")" ]; then
			note "this script's recipe or package lists changed since $cur was built: rebuilding"
		elif [ -n "$(find "$cur/checked" -mmin "-$((60 * ${VSMMU_STACK_CHECK_HOURS:-12}))" 2>/dev/null)" ]; then
			prune
			printf '%s\n' "$cur"
			return 0
		else
			check_fresh "$cur" "$stacks/.fresh" || rc=$?
			case $rc in
			0) touch "$cur/checked"; prune; printf '%s\n' "$cur"; return 0 ;;
			2) note "cannot reach $mirror: using the cached stack $cur"; printf '%s\n' "$cur"; return 0 ;;
			*) note "the archive has newer packages than $cur: rebuilding" ;;
			esac
		fi
	fi
	prune
	build
	prune
	current
}

cmd_path() { current || { note "no test stack built yet: run '$0 ensure'"; exit 1; }; }

cmd_versions() {
	local s
	s=$(cmd_path)
	cat "$s/versions"
}

# ---------------------------------------------------------------------------

main() {
	case ${1:-} in
	ensure) cmd_ensure ;;
	path) cmd_path ;;
	versions) cmd_versions ;;
	enter) shift; cmd_enter "$@" ;;
	_debootstrap)
		# In in_ns: debootstrap mounts /proc and /sys in its target.
		_refuse_outside
		debootstrap --variant=minbase "$suite" "$2" "$mirror" ;;
	_chroot_build) shift; _build_chroot "$@" ;;
	_enter) shift; _enter_here "$@" ;;
	*)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
		exit 2 ;;
	esac
}

# One line: bash reads a script as it runs, and an edit of this file during a
# build must not change what the running build executes next.
main "$@"; exit $?
