# ward — top-level entry points.  `make check` is what CI runs.
#
#   make deps    install the Debian packages the build and the tests need
#   make build   release build in build/
#   make check   deps, build, unit tests, unit tests under ASan+UBSan,
#                a short run of every fuzz target, the packages of this
#                architecture, the aarch64 build's tests under qemu-user,
#                end-to-end tests (the installed packages among them)
#   make deb     Debian packages in dist/ARCH/ (on amd64 also the arm64
#                ones, cross-built); docs/install.md
#   make bench   benchmarks against yara and clamscan (bench/scan), and of
#                content activation in the agent (bench/agent)
#   make demo    scan a sample tree, run the agent on it, rehearse a faulty
#                release on a simulated fleet
#   make cross-arm64  build for aarch64 and run the unit, scan, content and
#                differential tests under qemu-user (docs/arm64.md)

SHELL := /bin/bash
BUILD ?= build
FUZZ_SECONDS ?= 15
PYTHON := /usr/bin/python3
WERROR := -Dwerror=true

# The pattern engine: Intel's Hyperscan on x86_64, Vectorscan (its portable
# fork, same API) elsewhere.  Debian 12's Vectorscan 5.4.9 misses matches on
# AVX-512 hosts; see docs/dependencies.md.
ARCH := $(shell dpkg --print-architecture 2>/dev/null)
HS_PACKAGE := $(if $(filter amd64,$(ARCH)),libhyperscan-dev,libvectorscan-dev)
# The two libraries conflict: on amd64, replace Vectorscan if it is there.
HS_REPLACES := $(if $(filter amd64,$(ARCH)),libvectorscan-dev- libvectorscan5-)
DEB_PACKAGES := build-essential meson ninja-build pkg-config clang libclang-rt-14-dev \
	$(HS_PACKAGE) libssl-dev openssl libjansson-dev libyaml-dev libcmocka-dev libseccomp-dev \
	libmicrohttpd-dev libcurl4-openssl-dev libsqlite3-dev libpq-dev postgresql \
	python3 python3-pytest yara clamav aide time util-linux \
	nsis clamav-testfiles clamav-daemon clamdscan libarchive-dev gcc-mingw-w64-x86-64-win32 binutils-mingw-w64-x86-64 osslsigncode \
	scdoc groff-base man-db zsh mmdebstrap systemd-container qemu-user-static \
	debhelper dpkg-dev lintian

.PHONY: all deps build unit asan fuzz-build fault-build fuzz e2e check bench demo clean deb \
	deb-$(ARCH) cross-arm64 deb-arm64

all: build

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && \
		apt-get install -y -qq --no-install-recommends $$missing $(HS_REPLACES) >/dev/null; \
	else echo "deps: all packages present"; fi

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized $(WERROR) -Dtests=true

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

unit: build
	meson test -C $(BUILD) --print-errorlogs --num-processes 2

build-asan/build.ninja:
	meson setup build-asan --buildtype=debug $(WERROR) -Dtests=true \
		-Db_sanitize=address,undefined -Db_lundef=false

asan: build-asan/build.ninja
	ninja -C build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 3

build-fuzz/build.ninja:
	CC=clang meson setup build-fuzz --buildtype=debugoptimized -Dtests=false -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false

fuzz-build: build-fuzz/build.ninja
	ninja -C build-fuzz

# A short run of every fuzz target over its corpus (fuzz/corpus/NAME), one
# target per core at a time.
fuzz: fuzz-build
	fuzz/run-all build-fuzz $(FUZZ_SECONDS)

# The test build of wardd: crash and kill points for the bad-update tests
# (-Dfault_injection=true).  Release builds never have them.
build-fault/build.ninja:
	meson setup build-fault --buildtype=debugoptimized $(WERROR) -Dtests=false \
		-Dfault_injection=true

fault-build: build-fault/build.ninja
	ninja -C build-fault

e2e: build fault-build
	WARD_BIN=$(CURDIR)/$(BUILD)/cli/ward WARDD_BIN=$(CURDIR)/$(BUILD)/agent/wardd \
		WARD_SERVER_BIN=$(CURDIR)/$(BUILD)/server/ward-server \
		WARD_SIM_BIN=$(CURDIR)/$(BUILD)/server/ward-sim \
		WARDD_FAULT_BIN=$(CURDIR)/build-fault/agent/wardd \
		$(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e

# The two Debian trees (the arm64 cross-build chroot of make cross-arm64,
# the base tree of tests/e2e/test_packages.py) are downloaded while the
# builds run: mmdebstrap waits mostly on the network.  The aarch64 build
# and its tests under qemu then run beside the fuzzers, whose runs take
# the same time however busy the machine is (their output is kept in
# build-arm64/check.log and printed after them).  A lock keeps the chroot's
# making and its use apart.
check: deps
	@mkdir -p build-arm64 build-pkgtest; rm -f build-arm64/check.rc
	@echo "check: making the Debian trees in the background (build-arm64/prefetch.log, build-pkgtest/prefetch.log)"
	@(flock build-arm64/chroot.lock packaging/cross/run build-arm64 chroot \
		> build-arm64/prefetch.log 2>&1 || \
		echo "prefetch failed: make cross-arm64 tries again" >> build-arm64/prefetch.log) & \
	($(PYTHON) -c 'import sys; sys.path.insert(0, "tests/e2e"); import pkgtree; \
		pkgtree.base_tarball(print)' > build-pkgtest/prefetch.log 2>&1 || \
		echo "prefetch failed: test_packages.py tries again" >> build-pkgtest/prefetch.log) & \
	$(MAKE) --no-print-directory build unit asan || { wait; exit 1; }; \
	echo "check: the aarch64 build and its tests run beside the fuzzers (build-arm64/check.log)"; \
	(flock build-arm64/chroot.lock $(MAKE) --no-print-directory cross-arm64 \
		> build-arm64/check.log 2>&1; echo $$? > build-arm64/check.rc) & \
	$(MAKE) --no-print-directory fuzz; r=$$?; wait; \
	tail -n 3 build-arm64/prefetch.log build-pkgtest/prefetch.log; \
	echo "==> build-arm64/check.log <=="; cat build-arm64/check.log; \
	[ $$r = 0 ] && [ "$$(cat build-arm64/check.rc)" = 0 ]
	DEB_BUILD_OPTIONS=nocheck $(MAKE) --no-print-directory deb-$(ARCH)
	$(MAKE) --no-print-directory e2e

# ARM64: a cross build for aarch64 in a Debian 12 chroot (amd64 + arm64
# multiarch, made once by mmdebstrap and kept in build-arm64/chroot.tar),
# its tests run under qemu-user.  See packaging/cross/run.
cross-arm64:
	packaging/cross/run build-arm64 test

bench: deps build
	WARD_BIN=$(CURDIR)/$(BUILD)/cli/ward bench/scan
	WARD_BIN=$(CURDIR)/$(BUILD)/cli/ward WARDD_BIN=$(CURDIR)/$(BUILD)/agent/wardd bench/agent
	WARD_BIN=$(CURDIR)/$(BUILD)/cli/ward WARDD_BIN=$(CURDIR)/$(BUILD)/agent/wardd bench/clamd

demo: deps
	$(MAKE) --no-print-directory build
	@bash demo/run.sh $(BUILD)/cli/ward $(BUILD)/agent/wardd $(BUILD)/server/ward-sim

# Debian packages (docs/install.md) in dist/ARCH/, built with dpkg-buildpackage
# from a copy of the tree (what git tracks, and new files it does not
# ignore), then checked with lintian.  DEB_BUILD_OPTIONS=nocheck skips the
# unit tests inside the package build.
deb: deb-$(ARCH) $(if $(filter amd64,$(ARCH)),deb-arm64)

deb-$(ARCH):
	rm -rf build-deb && mkdir -p build-deb/src dist/$(ARCH)
	git ls-files -z --cached --others --exclude-standard | \
		while IFS= read -r -d '' f; do [ -e "$$f" ] && printf '%s\0' "$$f"; done | \
		tar --null -T - -cf - | tar -xf - -C build-deb/src
	if [ -d ../shared ]; then ln -s $(abspath ../shared) build-deb/shared; fi
	cd build-deb/src && dpkg-buildpackage -b -us -uc
	rm -rf dist/$(ARCH) && mkdir -p dist/$(ARCH)/dbgsym
	cp build-deb/*-dbgsym_*.deb dist/$(ARCH)/dbgsym/
	cp $$(ls build-deb/*.deb | grep -v -- -dbgsym_) dist/$(ARCH)/
	@ls -l dist/$(ARCH)/
	lintian --fail-on error,warning build-deb/*.changes

ifeq ($(ARCH),amd64)
# The arm64 packages in dist/arm64/, cross-built (dpkg-buildpackage -a arm64,
# without the unit tests: make cross-arm64 runs them) in the chroot of
# make cross-arm64, from a copy of the tree made as for make deb.
deb-arm64:
	rm -rf build-arm64/deb && mkdir -p build-arm64/deb/src
	git ls-files -z --cached --others --exclude-standard | \
		while IFS= read -r -d '' f; do [ -e "$$f" ] && printf '%s\0' "$$f"; done | \
		tar --null -T - -cf - | tar -xf - -C build-arm64/deb/src
	packaging/cross/run build-arm64 deb
	rm -rf dist/arm64 && mkdir -p dist/arm64/dbgsym
	cp build-arm64/deb/*-dbgsym_*.deb dist/arm64/dbgsym/
	cp $$(ls build-arm64/deb/*.deb | grep -v -- -dbgsym_) dist/arm64/
	@ls -l dist/arm64/
	lintian --fail-on error,warning build-arm64/deb/*.changes
endif

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-fault build-deb dist build-arm64
