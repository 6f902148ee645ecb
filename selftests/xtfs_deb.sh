#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xtfs installed the ways a router gets it, each checked from install to
# removal: the Debian packages (dist/, made by `make deb`; Debian's dkms
# builds the module against the installed linux-headers of the kernel)
# and `make install` / `make uninstall`. Each time the first IP-TFS SA
# must autoload the module just installed (the loaded module's build ID
# is that of the file modinfo names), traffic must pass, and removal must
# leave no module behind and depmod's files current.
#
# Installing changes the root, which the testbed shares between guests:
# those tests run only in a guest booted by `vm-run.sh --deb` (a
# throw-away overlay of the rootfs, XTFS_PRIVATE_ROOT=1) on a kernel with
# its headers installed (the stock kernel). The packages go in before the
# guest boots: vm-run.sh runs `xtfs_deb.sh --install RELEASE` in a chroot
# of that root, where DKMS builds at native speed (under emulation the
# build took 10 of this suite's 26 minutes), and the guest then finds
# them installed, as a router rebooted after `apt install` does
# (XTFS_DEB_INSTALLED=1; run_all.sh runs this suite first then). make
# install and make uninstall run there too, before the packages, each
# checked there and reported by the guest (their depmods took minutes
# under emulation). The
# testbed's own build of the module and helper (vm-run.sh installs them)
# is set aside for this suite and put back at its end, so that suites
# run after it find the guest as it was. The check of the package's
# modprobe alias runs everywhere.
TREE=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = --install ]; then
	REL=${2:?--install needs the kernel release}
else
	REL=$(uname -r)
fi
MODDIR=/lib/modules/$REL
VER=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TREE/dkms.conf")
DEB_DKMS=$TREE/dist/xtfs-dkms_${VER}_all.deb
DEB_HELPER=$TREE/dist/xtfs_${VER}_$(dpkg --print-architecture).deb
# vm-run.sh's build of this tree for the running kernel (build_for in
# tools/testbed/vm-lib.sh): make install runs there.
BUILD=/var/lib/xtfs/build/$REL
# What --install leaves in the root for the guest: its results (result,
# dpkg.log), the testbed's build set aside (aside/) and depmod's files as
# they were with that build in place (modules/).
INST=/var/lib/xtfs/deb-install/$REL
ASIDE=$INST/aside

# depmod_current - modules.dep is what depmod makes of the module tree now
# (depmod -n prints modules.dep first, then the other files, each of
# those after a comment line).
depmod_current() {
	depmod -n "$REL" 2>/dev/null | sed '/^#/,$d' | cmp -s - "$MODDIR/modules.dep"
}

# no_module - no xfrm_xtfs anywhere: no file, no modules.dep or
# modules.alias line, nothing modprobe or modinfo would find, and
# modules.dep current. (The release is named: --install runs in a chroot
# on the host's kernel.)
no_module() {
	local files
	files=$(find "$MODDIR" -name 'xfrm_xtfs.ko*')
	[ -z "$files" ] || { echo "# left behind: $files"; return 1; }
	! grep -q xfrm_xtfs "$MODDIR/modules.dep" "$MODDIR/modules.alias" &&
		! modprobe -S "$REL" -n xfrm_xtfs 2>/dev/null &&
		! modinfo -k "$REL" -n xfrm_xtfs >/dev/null 2>&1 &&
		depmod_current
}

# install_before_boot - what --install does, in the chroot of the guest's
# private root before it boots: save depmod's files, set the testbed's
# build aside (nothing but what is installed here may provide xfrm_xtfs
# or xtfs), check that none is left, install the packages (DKMS builds
# and installs the module, depmod runs) and write down how each step went
# for the guest to report.
install_before_boot() {
	local t0 rc b
	rm -rf "$INST"
	mkdir -p "$INST/modules" "$ASIDE"
	[ -f "$MODDIR/build/Makefile" ] || { echo "no kernel headers for $REL"; return 0; }
	t0=$(date +%s)
	depmod -a "$REL" && cp -p "$MODDIR"/modules.* "$INST/modules/" || return 1
	[ -d "$MODDIR/updates/xtfs" ] && mv "$MODDIR/updates/xtfs" "$ASIDE/"
	[ -f /usr/local/sbin/xtfs ] && mv /usr/local/sbin/xtfs "$ASIDE/xtfs.bin"
	# Debian's dkms builds for every kernel with a build tree
	# (autoinstall_all_kernels), and the testbed's debug kernel has one,
	# the tree it was built in: only the headers of the kernel that boots
	# are tested.
	for b in /lib/modules/*/build; do
		[ "$b" = "$MODDIR/build" ] ||
			mv "$b" "$ASIDE/build.$(basename "$(dirname "$b")")" || return 1
	done
	depmod -a "$REL" || return 1
	# The testbed's build of this tree, where the guest runs make
	# install, copied into this root as it is now (vm-run.sh holds the
	# build lock for this step): runs of other trees may build again in
	# the rootfs below while the guest runs.
	rm -rf "$BUILD.own" && cp -a "$BUILD" "$BUILD.own" &&
		rm -rf "$BUILD" && mv "$BUILD.own" "$BUILD" || return 1
	rc=0
	no_module && ! command -v xtfs >/dev/null || rc=1
	echo "before $rc $(($(date +%s) - t0))" >"$INST/result"
	# make install and make uninstall in that build (made there for this
	# release: install's "all" finds nothing to do), each step's status
	# and what it left checked here, where depmod runs at native speed
	# (under emulation these depmods took minutes); the guest reports
	# them. The module a make install puts in updates/ is the one the
	# testbed installs for every other suite, autoloaded there.
	t0=$(date +%s)
	rc=0
	make -C "$BUILD" install KDIR="$MODDIR/build" >"$INST/make.log" 2>&1 || rc=$?
	echo "mkinstall $rc $(($(date +%s) - t0))" >>"$INST/result"
	rc=0
	[ -x /usr/local/sbin/xtfs ] &&
		grep -q '^\.TH XTFS 8' /usr/local/share/man/man8/xtfs.8 &&
		case $(modinfo -k "$REL" -n xfrm_xtfs 2>/dev/null) in
		"$MODDIR"/updates/xfrm_xtfs.ko*) true ;;
		*) false ;;
		esac &&
		[ "$(modinfo -k "$REL" -F vermagic xfrm_xtfs)" = "$(modinfo -k "$REL" -F vermagic esp4)" ] &&
		depmod_current || rc=1
	echo "mkinstalled $rc $(modinfo -k "$REL" -n xfrm_xtfs 2>&1)" >>"$INST/result"
	t0=$(date +%s)
	rc=0
	make -C "$BUILD" uninstall KDIR="$MODDIR/build" >>"$INST/make.log" 2>&1 || rc=$?
	echo "mkuninstall $rc $(($(date +%s) - t0))" >>"$INST/result"
	rc=0
	no_module && [ ! -e /usr/local/sbin/xtfs ] &&
		[ ! -e /usr/local/share/man/man8/xtfs.8 ] || rc=1
	echo "mkuninstalled $rc" >>"$INST/result"
	t0=$(date +%s)
	rc=0
	dpkg -i "$DEB_DKMS" "$DEB_HELPER" >"$INST/dpkg.log" 2>&1 || rc=$?
	echo "dpkg $rc $(($(date +%s) - t0))" >>"$INST/result"
	# man-db's trigger rebuilds its index when a package with a man page
	# comes or goes: the guest's dpkg --purge would spend half a minute of
	# emulated CPU time on an index nothing here reads.
	rm -f /var/lib/man-db/auto-update
	cat "$INST/result"
}

if [ "${1:-}" = --install ]; then
	install_before_boot
	exit
fi

. "$(dirname "$0")/lib.sh"

loaded() { [ -d /sys/module/xfrm_xtfs ]; }

# unload - remove xfrm_xtfs once the SAs that pin it are freed (the xfrm
# garbage collector, namespace cleanup work: up to a minute when busy).
unload() {
	modprobe -r xtfs_test 2>/dev/null
	for _ in $(seq 300); do
		loaded || return 0
		modprobe -r xfrm_xtfs 2>/dev/null
		sleep 0.2
	done
	! loaded
}

# build_id FILE - the GNU build ID of a module file, compressed or not.
build_id() {
	local f=$TMP/build-id.ko
	case $1 in
	*.xz) xz -dc "$1" >"$f" ;;
	*.gz) gzip -dc "$1" >"$f" ;;
	*.zst) zstd -qdc "$1" >"$f" ;;
	*) cp "$1" "$f" ;;
	esac || return 1
	readelf -n "$f" | sed -n 's/^ *Build ID: *//p'
}

# loaded_build_id - the build ID of the loaded xfrm_xtfs, from its ELF
# note in sysfs (4-octet name and descriptor sizes, type, "GNU\0", ID).
loaded_build_id() {
	od -An -v -tx1 -j16 /sys/module/xfrm_xtfs/notes/.note.gnu.build-id | tr -d ' \n'
}

# autoload_and_traffic WHAT PATH-PATTERN - the first IP-TFS SA loads the
# module that modinfo finds (which must match PATH-PATTERN), and a UDP
# burst and a 3000-octet ping pass through the tunnel; then the SAs go
# and the module unloads. Four TAP lines.
autoload_and_traffic() {
	local what=$1 path id lid t0
	t0=$(date +%s)
	path=$(modinfo -n xfrm_xtfs 2>/dev/null)
	# shellcheck disable=SC2254
	case $path in $2) true ;; *) false ;; esac
	ok $? "$what: modinfo -n xfrm_xtfs: ${path:-none}"
	id=$(build_id "$path")
	! loaded && sa_pair && loaded && lid=$(loaded_build_id) &&
		[ -n "$id" ] && [ "$id" = "$lid" ]
	ok $? "$what: the first IP-TFS SA autoloads that module (build ID ${lid:-none}, file's ${id:-none})"
	udp_check $A $IB $B 5001 200 1000 &&
		ip netns exec $A ping -q -c 2 -i 0.2 -W 5 -s 3000 -p a5c3 -I $IA $IB >/dev/null &&
		[ "$(xtfs_counter $B in inner_in_pkts)" -ge 202 ]
	ok $? "$what: 200 UDP datagrams and a 3000-octet ping through the tunnel, counted by xtfs"
	sa_flush
	unload
	ok $? "$what: the module unloads once its SAs are gone ($(($(date +%s) - t0)) s for these four)"
}

# restore - put the testbed's module and helper back, whatever happened
# (once: the end of the suite and the exit trap both call it), and
# depmod's files: those --install saved when the module tree is again
# what it was then (no other xtfs module left; one depmod less under
# emulation; the last test finds the module through them), else
# depmod's own.
restored=0
restore() {
	local left
	[ $restored = 0 ] || return 0
	restored=1
	cleanup_ns
	unload
	dpkg --purge xtfs xtfs-dkms >/dev/null 2>&1
	rm -f "$MODDIR"/updates/xfrm_xtfs.ko* /usr/local/share/man/man8/xtfs.8
	# (dkms removes updates/ when it leaves it empty.)
	[ -d "$ASIDE/xtfs" ] && mkdir -p "$MODDIR/updates" &&
		mv "$ASIDE/xtfs" "$MODDIR/updates/"
	[ -f "$ASIDE/xtfs.bin" ] && mv "$ASIDE/xtfs.bin" /usr/local/sbin/xtfs
	for b in "$ASIDE"/build.*; do
		[ -L "$b" ] && mv "$b" "/lib/modules/${b#"$ASIDE"/build.}/build"
	done
	left=$(find "$MODDIR" \( -name 'xfrm_xtfs.ko*' -o -name 'xtfs_test.ko*' \) \
		! -path "$MODDIR/updates/xtfs/*")
	if [ -z "$left" ] && [ -f "$INST/modules/modules.dep" ]; then
		cp -p "$INST"/modules/modules.* "$MODDIR/"
	else
		depmod -a "$REL"
	fi
	rm -rf "$INST/modules" "$INST/result" "$INST/dpkg.log" "$INST/make.log"
	rmdir "$ASIDE" "$INST" 2>/dev/null
}

# result STEP - "STATUS SECONDS" of a step of --install.
result() {
	sed -n "s/^$1 //p" "$INST/result" 2>/dev/null
}

tap_plan
modprobe -q esp4; modprobe -q xfrm_user

# The package's modprobe configuration, read alone (-C): where the kernel
# has the in-tree module, modprobe resolves the kernel's "xfrm-iptfs" to
# it by name without this alias and to xfrm_xtfs with it.
conf=$TREE/debian/xtfs-dkms.modprobe
intree=$(find "$MODDIR/kernel" -name 'xfrm_iptfs.ko*' 2>/dev/null | head -n1)
if [ -n "$intree" ]; then
	without=$(modprobe -D -C /dev/null xfrm-iptfs 2>&1 | tail -n1)
	with=$(modprobe -D -C "$conf" xfrm-iptfs 2>&1 | tail -n1)
	diag "without the alias: $without"
	diag "with it: $with"
	case "$without|$with" in
	*/xfrm_iptfs.ko*"|"*/xfrm_xtfs.ko*) true ;;
	*) false ;;
	esac
	ok $? "the package's modprobe alias sends xfrm-iptfs to xfrm_xtfs, not to the in-tree xfrm_iptfs"
else
	skip "the package's modprobe alias sends xfrm-iptfs to xfrm_xtfs, not to the in-tree xfrm_iptfs" \
		"kernel has no xfrm_iptfs module (xfrm_xtfs's own alias answers)"
fi

if [ "${XTFS_PRIVATE_ROOT:-}" != 1 ]; then
	skip "packages and make install" "the guest's root is shared (vm-run.sh --private gives one of its own)"
	tap_done
fi
if [ ! -f "$MODDIR/build/Makefile" ]; then
	skip "packages and make install" "no kernel headers for $REL"
	tap_done
fi

if [ "${XTFS_DEB_INSTALLED:-}" != 1 ]; then
	skip "packages and make install" "the packages go in before the guest boots (vm-run.sh --deb)"
	tap_done
fi

# What xtfs_deb.sh --install did before the guest booted: the testbed's
# build set aside, checked gone, the packages installed.
at_exit restore
unload || diag "xfrm_xtfs still loaded"
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }
read -r rc secs <<<"$(result before)"
[ "${rc:-1}" = 0 ]
ok $? "before (in the root before boot): no xfrm_xtfs module for $REL and no xtfs helper (${secs:-?} s)"

# The packages, from install to purge.
headers=$(readlink -f "$MODDIR/build")
diag "kernel headers: $headers ($(dpkg -S "$headers" 2>/dev/null | cut -d: -f1))"
read -r rc secs <<<"$(result dpkg)"
[ "${rc:-1}" = 0 ]
ok $? "dpkg -i $(basename "$DEB_DKMS") $(basename "$DEB_HELPER") (in the root before boot, ${secs:-?} s)"
sed 's/^/# /' "$INST/dpkg.log" 2>/dev/null
status=$(dkms status -m xtfs -v "$VER" -k "$REL" 2>&1)
mlog=/var/lib/dkms/xtfs/$VER/$REL/$(uname -m)/log/make.log
grep -m1 "Entering directory '$headers'" "$mlog" | sed 's/^/# make.log: /'
case $status in *": installed"*) true ;; *) false ;; esac &&
	grep -q "Entering directory '$headers'" "$mlog"
ok $? "DKMS built the module with the installed headers' kbuild and installed it ($status)"
[ "$(modinfo -F vermagic xfrm_xtfs)" = "$(modinfo -F vermagic esp4)" ]
ok $? "its vermagic is the running kernel's ($(modinfo -F vermagic xfrm_xtfs 2>&1))"
diff -r "$TREE/net" "/usr/src/xtfs-$VER/net" >/dev/null &&
	diff -r "$TREE/include" "/usr/src/xtfs-$VER/include" >/dev/null &&
	cmp -s "$TREE/Kbuild" "/usr/src/xtfs-$VER/Kbuild" &&
	cmp -s "$TREE/dkms.conf" "/usr/src/xtfs-$VER/dkms.conf"
ok $? "the package's module source in /usr/src/xtfs-$VER is this tree's"
[ "$(dpkg -S /etc/modprobe.d/xtfs-dkms.conf 2>/dev/null)" = "xtfs-dkms: /etc/modprobe.d/xtfs-dkms.conf" ] &&
	cmp -s "$conf" /etc/modprobe.d/xtfs-dkms.conf
ok $? "xtfs-dkms installs this tree's alias as /etc/modprobe.d/xtfs-dkms.conf"
[ "$(command -v xtfs)" = /usr/sbin/xtfs ] &&
	zcat /usr/share/man/man8/xtfs.8.gz | grep -q '^\.TH XTFS 8'
ok $? "the xtfs package: /usr/sbin/xtfs and the xtfs(8) man page"
autoload_and_traffic "packages" "$MODDIR/updates/dkms/xfrm_xtfs.ko*"
t0=$(date +%s)
dpkg --purge xtfs xtfs-dkms >"$TMP/dpkg.log" 2>&1
ok $? "dpkg --purge xtfs xtfs-dkms ($(($(date +%s) - t0)) s)"
sed 's/^/# /' "$TMP/dpkg.log"
t0=$(date +%s)
no_module && [ -z "$(dkms status -m xtfs 2>&1)" ] &&
	[ ! -e "/usr/src/xtfs-$VER" ] && [ ! -e /var/lib/dkms/xtfs ] &&
	[ ! -e /etc/modprobe.d/xtfs-dkms.conf ] && [ ! -e /usr/sbin/xtfs ] &&
	! dpkg-query -W -f '${db:Status-Status}\n' xtfs xtfs-dkms 2>/dev/null | grep -qv '^not-installed$'
ok $? "after purge: no module, modules.dep current without xtfs, no DKMS tree, source, configuration or helper left ($(($(date +%s) - t0)) s)"

# make install and make uninstall, done and checked in the root before
# boot (install_before_boot).
read -r rc secs <<<"$(result mkinstall)"
[ "${rc:-1}" = 0 ]
ok $? "make install (in the root before boot, ${secs:-?} s)"
read -r rc path <<<"$(result mkinstalled)"
[ "${rc:-1}" = 0 ]
ok $? "make install: /usr/local/sbin/xtfs, the xtfs(8) man page, modinfo -n xfrm_xtfs ${path:-none} with the kernel's vermagic, modules.dep current"
read -r rc secs <<<"$(result mkuninstall)"
[ "${rc:-1}" = 0 ]
ok $? "make uninstall (in the root before boot, ${secs:-?} s)"
read -r rc <<<"$(result mkuninstalled)"
[ "${rc:-1}" = 0 ]
ok $? "after make uninstall: no module, modules.dep current without xtfs, no helper or man page"
grep -q '^mk[a-z]* [^0]' "$INST/result" && tail -n 5 "$INST/make.log" | sed 's/^/# /'

# The guest as the suites before found it, for any that may come after.
t0=$(date +%s)
restore
path=$(modinfo -n xfrm_xtfs 2>/dev/null)
[ "$path" = "$MODDIR/updates/xtfs/xfrm_xtfs.ko" ] || diag "modinfo -n xfrm_xtfs: ${path:-none}"
[ "$(command -v xtfs)" = /usr/local/sbin/xtfs ] || diag "xtfs: $(command -v xtfs)"
[ ! -e "$INST" ] || diag "left in $INST: $(find "$INST" | tr '\n' ' ')"
[ "$path" = "$MODDIR/updates/xtfs/xfrm_xtfs.ko" ] &&
	[ "$(command -v xtfs)" = /usr/local/sbin/xtfs ] &&
	[ ! -e "$INST" ]
ok $? "the testbed's module, helper and build links are back, modinfo finds that module ($(($(date +%s) - t0)) s)"

tap_done
