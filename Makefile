# vsmmu — see README. `make demo` and `make check` install what they need.
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
HOOKDIR ?= $(SYSCONFDIR)/libvirt/hooks/qemu.d
BINDIR = $(PREFIX)/bin
LIBEXECDIR = $(PREFIX)/libexec/vsmmu
MANDIR = $(PREFIX)/share/man
# AppArmor (docs/confinement.md): our rules in files of our own, each
# included from the admin's local/ file by a block tools/apparmor-local
# adds and removes exactly.
AADIR = $(SYSCONFDIR)/apparmor.d
AA_QEMU = $(AADIR)/abstractions/libvirt-qemu.d/vsmmu
AA_DAEMON = $(AADIR)/abstractions/vsmmu-libvirtd
AA_LOCAL_QEMU = $(AADIR)/local/abstractions/libvirt-qemu
AA_LOCAL_DAEMONS = $(AADIR)/local/usr.sbin.libvirtd $(AADIR)/local/usr.sbin.virtqemud
AA_SUBST = sed -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'
VERSION = 0.1.0

CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
# Recursive (=) so pkg-config runs only when a compile needs it, after `deps`.
PKG_CFLAGS = $(shell pkg-config --cflags libxml-2.0 jansson)
XML_LIBS = $(shell pkg-config --libs libxml-2.0)
JSON_LIBS = $(shell pkg-config --libs jansson)
VIRT_CFLAGS = $(shell pkg-config --cflags libvirt)
VIRT_LIBS = $(shell pkg-config --libs libvirt)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DVSMMU_VERSION='"$(VERSION)"' \
	-DVSMMU_LIBEXECDIR='"$(LIBEXECDIR)"' -DVSMMU_SYSCONFDIR='"$(SYSCONFDIR)"' \
	$(LIB_INC) $(WARN) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)

B = build
# lib/ by stage (lib/README.md); headers are included by bare name.
LIB_DIRS = $(sort $(dir $(wildcard lib/*/*.h)))
LIB_INC = $(patsubst %/,-I%,$(LIB_DIRS))
LIB_SRC = $(wildcard lib/*/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(B)/%.o)
LIBA = $(B)/libvsmmu.a
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

PROGS = $(B)/vsmmuctl $(B)/vsmmu-hook $(B)/vsmmu-qemu

all: $(PROGS) $(UNIT_BIN)

$(B)/%.o: %.c $(wildcard lib/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/cli/%.o: cli/%.c $(wildcard lib/*/*.h cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(VIRT_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/vsmmuctl: $(patsubst %.c,$(B)/%.o,$(wildcard cli/*.c)) $(LIBA)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(XML_LIBS) $(JSON_LIBS) $(VIRT_LIBS)

# The hook runs inside every operation of every domain. Linked dynamically,
# libxml2 would map ICU and libstdc++ at each exec, more than 3x the cost of
# the exec itself (bench/results); statically, with ICU's converters stubbed
# (hooks/no-icu.c), the exec maps only libc and libm.
HOOK_LIBS = -Wl,-Bstatic -lxml2 -ljansson -lz -llzma -Wl,-Bdynamic -lm
$(B)/vsmmu-hook: $(B)/hooks/vsmmu-hook.o $(B)/hooks/no-icu.o $(LIBA)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(HOOK_LIBS)

# The wrapper runs on every QEMU start and probe: it links no libxml2 or libvirt.
$(B)/vsmmu-qemu: $(patsubst %.c,$(B)/%.o,$(wildcard wrapper/*.c)) $(LIBA)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(JSON_LIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(XML_LIBS) $(JSON_LIBS)

deps-build:
	@sh tools/deps.sh build

deps-test:
	@sh tools/deps.sh test

deps-extra:
	@sh tools/deps.sh extra

deps-deb:
	@sh tools/deps.sh deb

demo: deps-build
	@$(MAKE) --no-print-directory all
	@sh tools/demo.sh

check: deps-test
	@$(MAKE) --no-print-directory all
	@sh tests/run-tests

# An existing $(HOOKDIR)/../qemu hook is never touched: vsmmu goes into qemu.d,
# which libvirt >= 6.5 runs after it. A config already in place is kept.
# The parts are separate targets so debian/rules can take the ones a
# package ships as files and leave the rest to its maintainer scripts.
install: install-programs install-hook install-conf install-apparmor

install-programs: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(B)/vsmmuctl $(DESTDIR)$(BINDIR)/vsmmuctl
	install -m 0755 $(B)/vsmmu-qemu $(DESTDIR)$(LIBEXECDIR)/vsmmu-qemu
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	$(if $(wildcard man/*.1),install -m 0644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(wildcard man/*.8),install -m 0644 $(wildcard man/*.8) $(DESTDIR)$(MANDIR)/man8/)

# HOOKFILE: where the hook binary goes (the package puts it in LIBEXECDIR
# and its postinst copies it into HOOKDIR).
HOOKFILE ?= $(HOOKDIR)/vsmmu
install-hook: $(B)/vsmmu-hook
	install -d $(DESTDIR)$(dir $(HOOKFILE))
	install -m 0755 $(B)/vsmmu-hook $(DESTDIR)$(HOOKFILE)

install-conf:
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/vsmmu/vsmmu.conf ]; then \
		echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/vsmmu/vsmmu.conf"; \
	else \
		install -D -m 0644 examples/vsmmu.conf $(DESTDIR)$(SYSCONFDIR)/vsmmu/vsmmu.conf; \
	fi

# AppArmor's files alone (tests, packages); part of install. The rule files
# are ours; the local/ includes are the admin's files, edited by
# tools/apparmor-local (a package does that part in postinst and prerm).
install-apparmor: install-apparmor-rules
	sh tools/apparmor-local add $(DESTDIR)$(AA_LOCAL_QEMU) $(AA_QEMU:$(AADIR)/%=%)
	$(foreach f,$(AA_LOCAL_DAEMONS),sh tools/apparmor-local add $(DESTDIR)$(f) $(AA_DAEMON:$(AADIR)/%=%);)

install-apparmor-rules:
	install -d $(DESTDIR)$(dir $(AA_QEMU))
	$(AA_SUBST) apparmor/libvirt-qemu.in >$(DESTDIR)$(AA_QEMU).tmp
	install -m 0644 $(DESTDIR)$(AA_QEMU).tmp $(DESTDIR)$(AA_QEMU) && rm -f $(DESTDIR)$(AA_QEMU).tmp
	$(AA_SUBST) apparmor/libvirtd.in >$(DESTDIR)$(AA_DAEMON).tmp
	install -m 0644 $(DESTDIR)$(AA_DAEMON).tmp $(DESTDIR)$(AA_DAEMON) && rm -f $(DESTDIR)$(AA_DAEMON).tmp

uninstall:
	@if cmp -s examples/vsmmu.conf $(DESTDIR)$(SYSCONFDIR)/vsmmu/vsmmu.conf; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/vsmmu/vsmmu.conf; \
	elif [ -e $(DESTDIR)$(SYSCONFDIR)/vsmmu/vsmmu.conf ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/vsmmu/vsmmu.conf: it holds your settings"; \
	fi
	rm -f $(DESTDIR)$(BINDIR)/vsmmuctl $(DESTDIR)$(HOOKDIR)/vsmmu \
		$(DESTDIR)$(LIBEXECDIR)/vsmmu-qemu
	rm -f $(DESTDIR)$(LIBEXECDIR)/vsmmu-hook-full  # the hook's second half until 0.1.0
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard man/*.1))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(wildcard man/*.8)))
	$(foreach f,$(AA_LOCAL_QEMU) $(AA_LOCAL_DAEMONS),sh tools/apparmor-local remove $(DESTDIR)$(f) -;)
	rm -f $(DESTDIR)$(AA_QEMU) $(DESTDIR)$(AA_DAEMON)
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null

# The Debian package (debian/, INSTALL): vsmmu_$(VERSION)_ARCH.deb in
# $(DEB_DIR), built by dpkg-buildpackage in a copy of this tree.
DEB_DIR = $(B)/deb
deb: deps-deb
	@sh tools/mkdeb $(VERSION) $(DEB_DIR)

# Benchmarks of the start path (not part of check): results in bench/results/.
bench: deps-test deps-extra
	@$(MAKE) --no-print-directory all
	@sh bench/run

# libFuzzer targets (clang, ASan+UBSan): FUZZ_RUNS executions per target (tests/fuzz/run).
fuzz: deps-test deps-extra
	@sh tests/fuzz/run

# The whole suite under ASan+UBSan, and the unit tests under valgrind.
check-asan: deps-test deps-extra
	@sh tools/check-asan

clean:
	rm -rf $(B)

.PHONY: all deps-build deps-test deps-extra deps-deb demo check deb bench fuzz check-asan clean \
	install install-programs install-hook install-conf install-apparmor install-apparmor-rules uninstall
.DELETE_ON_ERROR:
# Keep intermediate objects: a concurrent make must not lose them mid-link.
.SECONDARY:
