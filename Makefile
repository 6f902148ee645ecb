# SPDX-License-Identifier: GPL-2.0
#
# xtfs: out-of-tree module and helper.
#
#   make                  build xfrm_xtfs.ko against the running kernel
#                         (KDIR=... for another) and the xtfs helper
#   make install          install both (module under updates/, then depmod;
#                         the helper and its man page under PREFIX)
#   make uninstall        remove what make install installed, then depmod
#   make deb              Debian packages xtfs-dkms and xtfs in dist/,
#                         built and checked by lintian in the testbed rootfs
#   make check            every test, on the stock and the debug kernel,
#                         inside the qemu testbed (made when missing)
#   make demo             an IP-TFS tunnel at work on the stock kernel
#   make bench            xtfs against the in-tree xfrm_iptfs and tunnel-mode
#                         ESP on the lean testbed kernel (ROUNDS=3); not
#                         part of make check
#   make lint             checkpatch --strict and sparse over our sources

KDIR ?= /lib/modules/$(shell uname -r)/build
PREFIX ?= /usr/local
# The release KDIR builds for, where make install puts the module.
KREL = $(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null || uname -r)

all: modules helper

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

helper:
	$(MAKE) -C tools/xtfs

install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=updates modules_install
	depmod -a $(KREL)
	$(MAKE) -C tools/xtfs install install-man PREFIX=$(PREFIX)

# The module files make install made (modules_install may compress them),
# the helper and the man page.
uninstall:
	rm -f $(INSTALL_MOD_PATH)/lib/modules/$(KREL)/updates/xfrm_xtfs.ko* \
	      $(INSTALL_MOD_PATH)/lib/modules/$(KREL)/updates/xtfs_test.ko*
	depmod -a $(KREL)
	rm -f $(DESTDIR)$(PREFIX)/sbin/xtfs $(DESTDIR)$(PREFIX)/share/man/man8/xtfs.8

deb:
	tools/testbed/mkdeb.sh --lintian

check:
	tools/testbed/check.sh

demo:
	tools/testbed/demo.sh

ROUNDS ?= 3
bench:
	tools/testbed/bench.sh $(ROUNDS)

lint:
	tools/testbed/lint.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	$(MAKE) -C tools/xtfs clean

.PHONY: all modules helper install uninstall deb check demo bench lint clean
