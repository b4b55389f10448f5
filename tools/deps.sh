#!/bin/sh
# Install the Debian 12 packages vsmmu needs that are missing.
#   deps.sh build   what building needs
#   deps.sh test    what `make check` needs on top (deb's too: tests/bats/deb.bats
#                   builds the package)
#   deps.sh extra   what `make bench`, `make fuzz` and `make check-asan` add
#   deps.sh deb     what `make deb` needs on top of build (dpkg-buildpackage,
#                   debhelper, lintian)
set -eu
build="gcc make pkg-config libxml2-dev libjansson-dev zlib1g-dev liblzma-dev libvirt-dev"
test="bats bats-assert bats-support libxml2-utils libvirt-clients
      libvirt-daemon-system qemu-system-arm qemu-efi-aarch64 diffutils
      debootstrap jq apparmor strace python3"
# make deb; lintian for tests/bats/deb.bats
deb="dpkg-dev debhelper lintian"
# bench, fuzz and check-asan
extra="clang libclang-rt-14-dev valgrind gnuplot-nox"
case "${1:-build}" in
build) want=$build ;;
test) want="$build $test $deb" ;;
extra) want=$extra ;;
deb) want="$build $deb" ;;
*) echo "usage: deps.sh build|test|extra|deb" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "vsmmu: missing Debian packages:$missing; run 'make ${1:-build}' as root or install them with apt-get" >&2
	exit 1
fi
echo "vsmmu: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Others may hold the dpkg lock (another make check, unattended-upgrades).
apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing >/dev/null
