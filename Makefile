# libmayexec, the C library: build and install.
#
#   make install PREFIX=DIR [PROFILE=release|debug] [DESTDIR=STAGING]
#       DIR/lib/libmayexec.so.X.Y.Z (SONAME libmayexec.so.X) + .so.X, .so links,
#       DIR/lib/libmayexec.a, DIR/include/mayexec.h, DIR/lib/pkgconfig/mayexec.pc
#   make install-static PREFIX=DIR   the same without the shared library, so
#       that `pkg-config --static --libs mayexec` links libmayexec.a
#   make header                      regenerate include/mayexec.h (cbindgen)
#   make api                         regenerate crates/mayexec/api/mayexec.txt, the
#       library's public API that CI compares (crates/mayexec/api/check.sh)
#   make deb                         the Debian packages, into target/debian/
#       (debian/, dpkg-buildpackage; docs/packaging.md)
#
# `install-files` / `install-static-files` install what is already built in
# BUILD_DIR (default target/PROFILE) without running cargo: the tests use it.

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR    ?=
PROFILE    ?= release
CARGO      ?= cargo
RUSTC      ?= rustc
CARGO_TARGET_DIR ?= target
BUILD_DIR  ?= $(CARGO_TARGET_DIR)/$(PROFILE)

# cargo calls the debug profile "dev"; its output directory is "debug".
CARGO_PROFILE := $(if $(filter debug,$(PROFILE)),dev,$(PROFILE))
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
MAJOR   := $(firstword $(subst ., ,$(VERSION)))
CAPI    := crates/mayexec-capi
INSTALL ?= install

.PHONY: all build install install-static install-files install-static-files \
        install-common header api uninstall deb

all: build

build:
	$(CARGO) build --profile $(CARGO_PROFILE) --target-dir $(CARGO_TARGET_DIR) -p mayexec-capi

install: build
	$(MAKE) install-files

install-static: build
	$(MAKE) install-static-files

# The shared library is linked here from the static archive (the same
# objects), not copied from cargo's cdylib: rustc hands the linker its own
# anonymous version script first, and GNU ld and lld keep the first, so a
# version script given to rustc cannot put the symbols under MAYEXEC_0.
# mayexec.map exports the mayexec_* functions under MAYEXEC_0 and hides
# everything else (Rust's std included). See docs/capi.md, "ABI stability".
install-files: install-common
	$(CC) -shared -o $(DESTDIR)$(LIBDIR)/libmayexec.so.$(VERSION) \
		-Wl,--whole-archive $(BUILD_DIR)/libmayexec_capi.a -Wl,--no-whole-archive \
		-Wl,--version-script=$(CAPI)/mayexec.map -Wl,-soname,libmayexec.so.$(MAJOR) \
		-Wl,--gc-sections -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack $(NATIVE_LIBS)
	chmod 0755 $(DESTDIR)$(LIBDIR)/libmayexec.so.$(VERSION)
	ln -sfn libmayexec.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libmayexec.so.$(MAJOR)
	ln -sfn libmayexec.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libmayexec.so

install-static-files: install-common

# What a static Rust library needs (`--print native-static-libs`), asked of
# the same rustc on an empty crate: std's needs are the library's. Computed
# only where used (a recursive variable).
NATIVE_LIBS = $(shell tmp=$$(mktemp -d) && \
	echo | $(RUSTC) --crate-type staticlib --crate-name native_libs_probe \
		--print native-static-libs --out-dir "$$tmp" - 2>&1 | \
		sed -n 's/^note: native-static-libs: //p'; rm -rf "$$tmp")

# The archive, the header and mayexec.pc (Libs.private: NATIVE_LIBS).
install-common:
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 0644 $(BUILD_DIR)/libmayexec_capi.a $(DESTDIR)$(LIBDIR)/libmayexec.a
	$(INSTALL) -m 0644 include/mayexec.h $(DESTDIR)$(INCLUDEDIR)/mayexec.h
	@libs='$(NATIVE_LIBS)' && \
	test -n "$$libs" || { echo "rustc printed no native-static-libs" >&2; exit 1; } && \
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e "s|@LIBS_PRIVATE@|$$libs|" $(CAPI)/mayexec.pc.in \
		> $(DESTDIR)$(PKGCONFIGDIR)/mayexec.pc && \
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/mayexec.pc

# dpkg-buildpackage writes the packages next to the source tree: they are
# moved into target/debian/ (with the .changes and .buildinfo that list
# them), where lintian checks them (an error fails). --post-clean: the
# staging trees of debian/ go (docs/packaging.md). As root, the missing
# Build-Depends (and lintian) are installed first, one apt-get at a time
# as scripts/lib/build-common.sh's build_tools does.
DEB_OUT = target/debian
deb:
	@if ! command -v lintian >/dev/null || ! command -v dpkg-checkbuilddeps >/dev/null || \
	    ! dpkg-checkbuilddeps 2>/dev/null; then \
		echo "deb: installing the Build-Depends and lintian" >&2; \
		lock=/run/lock; [ -d $$lock ] || lock=/tmp; \
		flock $$lock/mayexec-build-tools.lock sh -ec 'apt-get update -q; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q --no-install-recommends dpkg-dev lintian; \
			apt-get build-dep -y -q --no-install-recommends ./' >&2; \
	fi
	rm -rf $(DEB_OUT) && mkdir -p $(DEB_OUT)
	status=0; dpkg-buildpackage -b -us -uc --post-clean || status=$$?; \
	changes=../$$(dpkg-parsechangelog -S Source)_$$(dpkg-parsechangelog -S Version)_$$(dpkg-architecture -qDEB_HOST_ARCH).changes; \
	if [ -f $$changes ]; then \
		for f in $$(sed -n '/^Files:/,$$p' $$changes | awk 'NF == 5 { print $$5 }'); do \
			mv ../$$f $(DEB_OUT)/; \
		done; \
		mv $$changes $(DEB_OUT)/; \
	fi; \
	exit $$status
	lintian --fail-on error --tag-display-limit 0 $(DEB_OUT)/*.changes
	@ls $(DEB_OUT)/*.deb

header:
	MAYEXEC_UPDATE_HEADER=1 $(CARGO) test -p mayexec-capi --test header

api:
	bash crates/mayexec/api/check.sh --update

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libmayexec.so.$(VERSION) \
	      $(DESTDIR)$(LIBDIR)/libmayexec.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libmayexec.so \
	      $(DESTDIR)$(LIBDIR)/libmayexec.a $(DESTDIR)$(INCLUDEDIR)/mayexec.h \
	      $(DESTDIR)$(PKGCONFIGDIR)/mayexec.pc
