# install.mk — `make install` and its parts, included by the Makefile.
#
#   make install            everything below, into $(DESTDIR)$(PREFIX)
#   make install-hub        dcc, hubctl, hubd, the masquerade dir, hubd's unit,
#                           the hub's udev rules, sysusers.d, their man pages,
#                           hubd's canaries (share/usbfarm/canaries)
#   make install-node       noded, usbfarm-gadget (where built), their units,
#                           the board's udev rules, their man pages
#   make install-sim        simfarm, its fault forwarder, simfarm(1)
#   make progs              only the programs (what the packages need)
#
# Invariants: installs only what `make progs` (and, for install-sim, the
# faultfwd tool) built, so it never recompiles with other flags; works as a
# non-root user into any DESTDIR (no chown, no systemctl, no udevadm); every
# directory is a variable so debian/rules can set Debian's; files of other
# branches (gadget/, udev/) are picked up by wildcard, so it works before and
# after they exist: gadget/*.rules and udev/*board*.rules, *gadget*.rules, *node*.rules
# are the board's, every other udev/*.rules is the hub's.

BINDIR       ?= $(PREFIX)/bin
SBINDIR      ?= $(PREFIX)/sbin
PKGLIBDIR    ?= $(PREFIX)/lib/usbfarm
MASQDIR      ?= $(PKGLIBDIR)/bin
MANDIR       ?= $(PREFIX)/share/man
CANARYDIR    ?= $(PREFIX)/share/usbfarm/canaries
SYSCONFDIR   ?= /etc
UNITDIR      ?= $(PREFIX)/lib/systemd/system
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
SYSUSERSDIR  ?= $(PREFIX)/lib/sysusers.d
MASQ_NAMES   ?= cc c++ gcc g++
INSTALL      ?= install

HUB_BINS  := $(BUILD)/bin/dcc $(BUILD)/bin/hubctl
HUB_SBINS := $(BUILD)/bin/hubd
GADGET_PROG := $(firstword $(wildcard $(BUILD)/bin/usbfarm-gadget gadget/usbfarm-gadget))
NODE_SBINS := $(BUILD)/bin/noded $(GADGET_PROG)
NODE_RULES := $(wildcard gadget/*.rules udev/*board*.rules udev/*gadget*.rules udev/*node*.rules)
HUB_RULES  := $(filter-out $(NODE_RULES),$(wildcard udev/*.rules))
GADGET_UNITS := $(wildcard gadget/*.service gadget/*.service.in)

# install_unit TEMPLATE...: each X.in into $(UNITDIR)/X with the install
# paths filled in (at install time, so they always match this PREFIX).
unit_sub = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
	       -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@PKGLIBDIR@|$(PKGLIBDIR)|g'
install_unit = for t in $(1); do u=$(D)$(UNITDIR)/$$(basename "$$t" .in); \
	$(unit_sub) "$$t" >"$$u" && chmod 644 "$$u" || exit 1; done

.PHONY: progs install-hub install-node install-sim
progs: $(PROGS)

D := $(DESTDIR)

install: install-hub install-node install-sim

install-hub: $(HUB_BINS) $(HUB_SBINS)
	$(INSTALL) -d $(D)$(BINDIR) $(D)$(SBINDIR) $(D)$(MASQDIR) $(D)$(UNITDIR) \
		$(D)$(SYSUSERSDIR) $(D)$(SYSCONFDIR)/default $(D)$(MANDIR)/man1 $(D)$(MANDIR)/man8
	$(INSTALL) -m 755 $(HUB_BINS) $(D)$(BINDIR)/
	$(INSTALL) -m 755 $(HUB_SBINS) $(D)$(SBINDIR)/
	$(Q)rel=$$(realpath -m --relative-to=$(MASQDIR) $(BINDIR)/dcc); \
	for n in $(MASQ_NAMES); do ln -sfn "$$rel" $(D)$(MASQDIR)/$$n; done
	$(call install_unit,systemd/usbfarm-hubd.service.in)
	$(INSTALL) -m 644 systemd/usbfarm.sysusers $(D)$(SYSUSERSDIR)/usbfarm.conf
	$(INSTALL) -d $(D)$(CANARYDIR)
	$(INSTALL) -m 644 scripts/lib/canaries/*.c $(D)$(CANARYDIR)/
	$(INSTALL) -m 644 systemd/usbfarm-hubd.default $(D)$(SYSCONFDIR)/default/usbfarm-hubd
	$(INSTALL) -m 644 man/dcc.1 man/hubctl.1 $(D)$(MANDIR)/man1/
	$(INSTALL) -m 644 man/hubd.8 $(D)$(MANDIR)/man8/
	$(if $(HUB_RULES),$(INSTALL) -d $(D)$(UDEVRULESDIR) && \
		$(INSTALL) -m 644 $(HUB_RULES) $(D)$(UDEVRULESDIR)/)

install-node: $(NODE_SBINS)
	$(INSTALL) -d $(D)$(SBINDIR) $(D)$(UNITDIR) $(D)$(SYSCONFDIR)/default $(D)$(MANDIR)/man8
	$(INSTALL) -m 755 $(NODE_SBINS) $(D)$(SBINDIR)/
	$(call install_unit,systemd/usbfarm-noded.service.in $(filter %.in,$(GADGET_UNITS)))
	$(INSTALL) -m 644 systemd/usbfarm-noded.default $(D)$(SYSCONFDIR)/default/usbfarm-noded
	$(INSTALL) -m 644 man/noded.8 $(if $(GADGET_PROG),man/usbfarm-gadget.8) $(D)$(MANDIR)/man8/
	$(if $(filter-out %.in,$(GADGET_UNITS)),$(INSTALL) -m 644 \
		$(filter-out %.in,$(GADGET_UNITS)) $(D)$(UNITDIR)/)
	$(if $(NODE_RULES),$(INSTALL) -d $(D)$(UDEVRULESDIR) && \
		$(INSTALL) -m 644 $(NODE_RULES) $(D)$(UDEVRULESDIR)/)

install-sim: $(BUILD)/tools/faultfwd
	$(INSTALL) -d $(D)$(BINDIR) $(D)$(PKGLIBDIR) $(D)$(MANDIR)/man1
	$(INSTALL) -m 755 scripts/simfarm $(D)$(BINDIR)/
	$(INSTALL) -m 755 $(BUILD)/tools/faultfwd $(D)$(PKGLIBDIR)/
	$(INSTALL) -m 644 man/simfarm.1 $(D)$(MANDIR)/man1/

# The packages cross-built too (tests/integration/pkg_deb.sh for each
# architecture; the native one is also part of make check). Needs
# `scripts/install-deps --pkg` (cross toolchains, multiarch -dev packages).
PKG_ARCHES ?= $(sort $(shell dpkg --print-architecture 2>/dev/null) arm64 armhf)
.PHONY: check-pkg
check-pkg: all
	$(Q)scripts/install-deps --pkg
	$(Q)PKG_ARCHES="$(PKG_ARCHES)" tests/run integration pkg_
