# SPDX-License-Identifier: GPL-2.0
#
# xtfs: out-of-tree module and helper.
#
#   make                  build xfrm_xtfs.ko against the running kernel
#                         (KDIR=... for another) and the xtfs helper
#   make install          install both (module under updates/, then depmod)
#   make check            every test, on the stock and the debug kernel,
#                         inside the qemu testbed (made when missing)
#   make demo             an IP-TFS tunnel at work on the stock kernel
#   make lint             checkpatch --strict and sparse over our sources

KDIR ?= /lib/modules/$(shell uname -r)/build
PREFIX ?= /usr/local

all: modules helper

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

helper:
	$(MAKE) -C tools/xtfs

install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=updates modules_install
	depmod -a $(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null || uname -r)
	$(MAKE) -C tools/xtfs install PREFIX=$(PREFIX)

check:
	tools/testbed/check.sh

demo:
	tools/testbed/demo.sh

lint:
	tools/testbed/lint.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	$(MAKE) -C tools/xtfs clean

.PHONY: all modules helper install check demo lint clean
