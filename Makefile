# usbfarm — one Makefile for everything.
#
#   make              build all programs into build/bin
#   make SAN=1        the same with ASan+UBSan, into build/asan
#   make check        unit, integration, fuzz-smoke tests; plain and sanitized
#   make check-sizes  no function over 100 lines, no file over 1000 (lib/ hub/ node/; also in make check)
#   make fuzz         run every fuzzer for FUZZ_TIME seconds (default 60)
#   make bench        every benchmark; make bench-link: the transport vs TCP
#   make demo         the virtual farm compiling a real code base (see README)
#   make install      PREFIX=/usr/local DESTDIR=
#   V=1               show the commands
#
# Layout: lib/*.c -> libusbfarm.a (shared by hub and node); hub/*.c and
# node/*.c minus the program mains -> libhub.a, libnode.a; tests/unit/test_*.c
# -> one test program each; tests/tools/*.c -> helper programs for tests and
# benchmarks; tests/fuzz/fuzz_*.c -> libFuzzer harnesses (clang).

PREFIX  ?= /usr/local
DESTDIR ?=
SAN     ?=
CC      ?= cc
ifeq ($(origin CC),default)
CC := cc
endif
FUZZCC  ?= clang
COMMA   := ,
AR      := ar

# CROSS=aarch64-linux-gnu- (or arm-linux-gnueabihf-, any Debian cross
# prefix): the same programs built with $(CROSS)gcc against the multiarch
# -dev packages (scripts/install-deps --arm), into build/<arch> (aarch64,
# armhf, else the triple). `make check-arm` runs their unit tests under
# qemu-user (tests/run arm); SAN=1 with CROSS is UBSan only.
CROSS   ?=
ifneq ($(CROSS),)
CROSS_TRIPLE := $(patsubst %-,%,$(CROSS))
CROSS_DIR := $(or $(if $(filter aarch64-linux-gnu,$(CROSS_TRIPLE)),aarch64),$(if $(filter arm-linux-gnueabihf,$(CROSS_TRIPLE)),armhf),$(CROSS_TRIPLE))
CC      := $(CROSS)gcc
AR      := $(CROSS)ar
PKG_CONFIG := PKG_CONFIG_LIBDIR=/usr/lib/$(CROSS_TRIPLE)/pkgconfig:/usr/share/pkgconfig pkg-config
ifeq ($(SAN),1)
# UBSan only (alignment included), its runtime linked in: ASan's shadow
# memory does not work under qemu-user (SEGVs in the runtime itself)
BUILD   ?= build/$(CROSS_DIR)-ubsan
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=undefined -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=undefined -static-libubsan
endif
BUILD   ?= build/$(CROSS_DIR)
endif
PKG_CONFIG ?= pkg-config

ifeq ($(SAN)$(CROSS),1)
BUILD   ?= build/asan
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
else ifeq ($(SAN),)
BUILD   ?= build
OPT     := -O2 -g
LDSAN   :=
endif

# 64-bit off_t, ino_t and time_t on 32-bit targets too (armhf): without
# them readdir()/stat() fail with EOVERFLOW on large inode numbers and
# time_t ends in 2038. No-ops on 64-bit targets.
LFS     := -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64

PKGS    := libnl-3.0 libnl-route-3.0 lzo2 nettle
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# libusb (hub/usbdev.c: hubctl's port paths and port power) asked for on its
# own, so a missing libusb breaks only that file, not every include path; and
# linked as needed, so noded (a board's package) does not depend on it
USB_CFLAGS := $(shell $(PKG_CONFIG) --cflags libusb-1.0 2>/dev/null)
USB_LIBS   := $(shell $(PKG_CONFIG) --libs libusb-1.0 2>/dev/null || echo -lusb-1.0)
PKG_CFLAGS += $(USB_CFLAGS)
PKG_LIBS   += -Wl,--as-needed $(USB_LIBS) -Wl,--no-as-needed

CFLAGS  ?=
CFLAGS  += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE $(LFS) $(OPT) -MMD -MP \
	   $(DIRINC) $(PKG_CFLAGS)
# Include paths per directory: lib/ sees only itself, hub/ and node/ see lib/
# and themselves, never each other (make check-layers); tests see all.
DIRINC  := -Ilib -Ihub -Inode
$(BUILD)/obj/lib/%.o: DIRINC := -Ilib
$(BUILD)/obj/hub/%.o: DIRINC := -Ilib -Ihub
$(BUILD)/obj/node/%.o: DIRINC := -Ilib -Inode
LDLIBS  := $(PKG_LIBS) -lm -lpthread
LDFLAGS += $(LDSAN)

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC   := $(wildcard lib/*.c)
HUB_MAINS := $(wildcard hub/dcc.c hub/hubd.c hub/hubctl.c)
HUB_SRC   := $(filter-out $(HUB_MAINS),$(wildcard hub/*.c))
NODE_MAINS:= $(wildcard node/noded.c)
NODE_SRC  := $(filter-out $(NODE_MAINS),$(wildcard node/*.c))
TEST_SRC  := $(wildcard tests/unit/test_*.c)
TOOL_SRC  := $(wildcard tests/tools/*.c)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBUSBFARM := $(BUILD)/libusbfarm.a
LIBHUB     := $(BUILD)/libhub.a
LIBNODE    := $(BUILD)/libnode.a
ALL_LIBS   := $(if $(NODE_SRC),$(LIBNODE)) $(if $(HUB_SRC),$(LIBHUB)) $(LIBUSBFARM)

PROGS := $(patsubst hub/%.c,$(BUILD)/bin/%,$(HUB_MAINS)) \
	 $(patsubst node/%.c,$(BUILD)/bin/%,$(NODE_MAINS))
TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))
TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))
FUZZERS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

.SECONDARY:
.PHONY: check-layers all check check-arm check-quick fuzz fuzzers bench bench-link bench-dcc bench-sandbox demo install clean deps
all: $(PROGS) $(TESTS) $(TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIBUSBFARM): $(call obj,$(LIB_SRC))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
$(LIBHUB): $(call obj,$(HUB_SRC)) | $(LIBUSBFARM)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
$(LIBNODE): $(call obj,$(NODE_SRC)) | $(LIBUSBFARM)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/obj/hub/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $< -Wl,--start-group $(ALL_LIBS) -Wl,--end-group $(LDLIBS) -o $@
$(BUILD)/bin/noded: $(BUILD)/obj/node/noded.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $< -Wl,--start-group $(ALL_LIBS) -Wl,--end-group $(LDLIBS) -o $@
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $< -Wl,--start-group $(ALL_LIBS) -Wl,--end-group $(LDLIBS) -o $@
$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $< -Wl,--start-group $(ALL_LIBS) -Wl,--end-group $(LDLIBS) -o $@

# libFuzzer harnesses: built with clang, ASan+UBSan, against the library
# sources, which are compiled once (instrumented, no fuzzer main) into
# build/fuzz/libfuzz.a that every harness links: not once per harness.
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	      -Ilib -Ihub -Inode $(PKG_CFLAGS)
FUZZ_OBJ_FLAGS := $(subst -fsanitize=fuzzer$(COMMA),-fsanitize=fuzzer-no-link$(COMMA),$(FUZZ_FLAGS)) -MMD -MP
FUZZ_OBJS := $(patsubst %.c,build/fuzz/obj/%.o,$(LIB_SRC) $(HUB_SRC) $(NODE_SRC))
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZCC) $(FUZZ_OBJ_FLAGS) -c $< -o $@
build/fuzz/libfuzz.a: $(FUZZ_OBJS)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
build/fuzz/%: tests/fuzz/%.c build/fuzz/libfuzz.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZCC) $(FUZZ_FLAGS) $< build/fuzz/libfuzz.a $(LDLIBS) -o $@
-include $(shell find build/fuzz/obj -name '*.d' -type f 2>/dev/null)
fuzzers: $(FUZZERS)

FUZZ_TIME ?= 60
fuzz: fuzzers
	$(Q)for f in $(FUZZERS); do \
		n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n build/fuzz/artifacts; \
		echo "fuzz $$n for $(FUZZ_TIME) s"; \
		$$f -max_total_time=$(FUZZ_TIME) -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/ \
			build/fuzz/corpus/$$n tests/fuzz/seeds/$$n >build/fuzz/$$n.log 2>&1; rc=$$?; \
		tail -n 12 build/fuzz/$$n.log; \
		[ $$rc -eq 0 ] || { echo "fuzz $$n: failed (log build/fuzz/$$n.log, reproducer in build/fuzz/artifacts/)"; exit 1; }; \
	done

# The whole suite: plain build, sanitized build, fuzzers; tests/run counts.
check:
	$(Q)scripts/check-layers
	$(Q)scripts/check-sizes
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory SAN=1 all
	$(Q)$(MAKE) --no-print-directory fuzzers
	$(Q)tests/run

check-layers:
	$(Q)scripts/check-layers

# No function in lib/, hub/, node/ over 100 lines, no file over 1000
# (Universal Ctags; tests/integration/check_sizes.sh checks the checker).
.PHONY: check-sizes
check-sizes:
	$(Q)scripts/check-sizes

bench: bench-link bench-dcc bench-sandbox bench-scan bench-store
bench-link: all
	$(Q)scripts/bench-link
bench-dcc: all
	$(Q)scripts/bench-dcc
bench-sandbox: all
	$(Q)scripts/bench-sandbox
# The hub's include scanner against gcc -E -fdirectives-only (issue 11).
.PHONY: bench-scan
bench-scan: all
	$(Q)scripts/bench-scan

demo: all
	$(Q)scripts/demo

include install.mk

deps:
	$(Q)scripts/install-deps

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' -type f 2>/dev/null)

# The fault suite (issue 9): a real code base through the virtual farm under
# each fault, every object compared with a local build (needs root).
.PHONY: check-faults soak
# The include scanner on a sample of the kernel's own files (make demo's
# tree; unpacking and preparing it takes minutes the first time, so it is
# not in make check).
.PHONY: check-scan-kernel
check-scan-kernel: all
	$(Q)scripts/install-deps --demo
	$(Q)bash tests/kernel/scan_kernel.sh | tee $(BUILD)/check-scan-kernel.log; \
	p=$$(grep -c '^ok ' $(BUILD)/check-scan-kernel.log); f=$$(grep -c '^FAIL ' $(BUILD)/check-scan-kernel.log); \
	s=$$(grep -c '^skip ' $(BUILD)/check-scan-kernel.log); echo "$$p passed, $$f failed, $$s skipped"; [ $$f -eq 0 ]

check-faults: all
	$(Q)bash tests/faults/faults.sh | tee $(BUILD)/check-faults.log; \
	p=$$(grep -c '^ok ' $(BUILD)/check-faults.log); f=$$(grep -c '^FAIL ' $(BUILD)/check-faults.log); \
	s=$$(grep -c '^skip ' $(BUILD)/check-faults.log); echo "$$p passed, $$f failed, $$s skipped"; [ $$f -eq 0 ]

# The soak: >= 10,000 jobs with random faults; BENCH lines (not in make check).
soak: all
	$(Q)scripts/soak

# The programs cross-built for the boards (arm64, armhf) and their unit tests
# under qemu-user plus armhf under UBSan, then tests/integration/arm_*.sh: the
# emulated arm64 farm end to end (board root, pair proofs, three builds
# through the farm). Only what the tests run is cross-built: the unit tests,
# and the arm64 noded the emulated boards run (the hub side is the native
# build). About 2 min on a quiet 2-core machine, 10 min at load 10-22
# (README, "Boards are ARM").
check-arm:
	$(Q)scripts/install-deps --arm
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory CROSS=aarch64-linux-gnu- unit-tests build/aarch64/bin/noded
	$(Q)$(MAKE) --no-print-directory CROSS=arm-linux-gnueabihf- unit-tests
	$(Q)$(MAKE) --no-print-directory CROSS=arm-linux-gnueabihf- SAN=1 unit-tests
	$(Q)tests/run arm

# The unit tests alone (check-arm's cross builds need nothing else)
.PHONY: unit-tests
unit-tests: $(TESTS)

# The real kernel USB stack in a QEMU guest (Debian's kernel, dummy_hcd,
# configfs gadgets, cdc_ether/cdc_ncm): tests/usb/check-usb.sh. Root.
.PHONY: check-usb
check-usb:
	$(Q)scripts/install-deps --usb
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/usb/check-usb.sh

# The board's store and job tree (issue 11): tree assembly per job, store
# insert rate, verification cost; BENCH lines (root; not in make check).
.PHONY: bench-store
bench-store: all
	$(Q)scripts/bench-store
