# SPDX-License-Identifier: GPL-2.0
# Helpers of vm-run.sh: pick a kernel, build and
# install xtfs for it inside the rootfs, boot it under virtme-ng and check
# the guest's kernel log. Source after lib.sh, do not execute.

# Kernel log lines that fail a run.
SPLAT_RE='WARNING:|BUG:|Oops|general protection fault|KASAN|UBSAN|'
SPLAT_RE+='possible circular locking|possible recursive locking|'
SPLAT_RE+='inconsistent lock state|suspicious RCU usage|'
SPLAT_RE+='unreferenced object|kmemleak: .*new suspected memory leak|'
SPLAT_RE+='Kernel panic|ODEBUG:|list_add corruption|list_del corruption|'
SPLAT_RE+='scheduling while atomic|sleeping function called from invalid'

# A guest that has not finished after this many seconds is stopped. The
# longest job, the stock kernel's suites, took 2,400 to 2,600 s in full
# runs (three guests on two cores) and more beside a cold debug kernel
# build: 3,000 s once stopped it with two suites to go.
VM_TIMEOUT=${XTFS_VM_TIMEOUT:-4200}

# kernel_for stock|debug|lean - print "RELEASE IMAGE" of that testbed
# kernel, building the debug or lean kernel (mkkernel.sh) when it is
# missing or out of date.
kernel_for() {
	case $1 in
	stock)
		local rel
		rel=$(cd "$ROOTFS/lib/modules" && ls -d *-amd64 | sort -V | tail -n1)
		[ -n "$rel" ] || die "no stock kernel in the rootfs"
		echo "$rel /boot/vmlinuz-$rel"
		;;
	debug | lean)
		local out rel
		out=$("$TOP/tools/testbed/mkkernel.sh" "$1")
		rel=$(cat "$ROOTFS$out/.xtfs-release")
		echo "$rel /boot/vmlinuz-$rel"
		;;
	*) die "unknown kernel kind '$1' (stock, debug or lean)" ;;
	esac
}

# build_for RELEASE - build this tree's module and helper for RELEASE in
# the rootfs and install them (module under updates/xtfs, helper in
# /usr/local/sbin). Runs for different releases may overlap: each release
# has its own build directory and lock, a module identical to the one
# installed is left in place (a guest of a concurrent run may be loading
# it), and the helper is installed under a lock of its own.
build_for() {
	local rel=$1 bdir=/var/lib/xtfs/build/$1
	mkdir -p "$XTFS_CACHE"
	(
		flock 8
		in_chroot "set -e
		mkdir -p $bdir
		rsync -a --delete --exclude .git --exclude 'tools/xtfs/xtfs' /xtfs/ $bdir/
		make -s -C /lib/modules/$rel/build M=$bdir modules >$bdir/build.log 2>&1 ||
			{ cat $bdir/build.log; exit 1; }
		dst=/lib/modules/$rel/updates/xtfs
		same=1
		for m in xfrm_xtfs xtfs_test; do
			[ -f $bdir/\$m.ko ] || continue
			cmp -s $bdir/\$m.ko \$dst/\$m.ko || same=0
		done
		if [ \$same = 0 ]; then
			# Only this build: drop copies left by other installs
			# (make install).
			find /lib/modules/$rel -name 'xfrm_xtfs.ko*' -delete
			find /lib/modules/$rel -name 'xtfs_test.ko*' -delete
			install -D -m 644 $bdir/xfrm_xtfs.ko \$dst/xfrm_xtfs.ko
			if [ -f $bdir/xtfs_test.ko ]; then
				install -D -m 644 $bdir/xtfs_test.ko \$dst/xtfs_test.ko
			fi
			depmod -a $rel
		fi
		make -s -C $bdir/tools/xtfs >/dev/null
		flock /var/lib/xtfs/.helper-lock \
			sh -c 'cmp -s $bdir/tools/xtfs/xtfs /usr/local/sbin/xtfs ||
				install -m 755 $bdir/tools/xtfs/xtfs /usr/local/sbin/xtfs'" >&2
	) 8>"$XTFS_CACHE/.lock-build-$rel" ||
		{ echo "build for $rel failed" >&2; return 1; }
}

# ynl_src - the kernel's YNL library and command-line client
# (tools/net/ynl/pyynl) and the netlink schemas (Documentation/netlink)
# from the rootfs's linux-source tarball, at /var/lib/xtfs/ynl, for
# selftests/xtfs_ynl.sh. Unpacked once per tarball, apart from the full
# source tree of mkkernel.sh: check.sh boots the stock guest while that
# tree may still be unpacked or rebuilt.
ynl_src() {
	local tarball stamp
	tarball=$(cd "$ROOTFS/usr/src" && ls linux-source-*.tar.xz | sort -V | tail -n1)
	[ -n "$tarball" ] || { echo "no linux-source tarball in the rootfs" >&2; return 1; }
	stamp=$(stat -c '%n %s %Y' "$ROOTFS/usr/src/$tarball")
	(
		flock 8
		in_chroot "set -e
		d=/var/lib/xtfs/ynl
		[ \"\$(cat \$d/.stamp 2>/dev/null)\" = '$stamp' ] && exit 0
		rm -rf \$d.new && mkdir -p \$d.new
		tar -C \$d.new --strip-components=1 -xf /usr/src/$tarball \
			--wildcards '*/tools/net/ynl/pyynl' '*/Documentation/netlink'
		echo '$stamp' >\$d.new/.stamp
		rm -rf \$d && mv \$d.new \$d" >&2
	) 8>"$XTFS_CACHE/.lock-ynl" ||
		{ echo "unpacking YNL from $tarball failed" >&2; return 1; }
}

# The strongSwan of selftests/xtfs_swan.sh. strongSwan negotiates IP-TFS
# from 6.0.2 on; trixie has 6.0.1, sid 6.1, whose libstrongswan needs
# sid's C library. So the suite runs sid's charon and swanctl chrooted in
# a sid root of their own, inside the guest, talking xfrm netlink to the
# guest's kernel. Measured on this machine's two cores: this root 81 s
# and 97 MB from nothing, a stamp check afterwards; the other way, 6.1
# rebuilt from Debian's source package in a trixie root, 24 s for its
# build dependencies (installed into that root), 3 s for the source and
# 549 s for dpkg-buildpackage (-j2, beside running guests), 547 MB.
SWAN_SUITE=sid
SWAN_PKGS="libstrongswan-standard-plugins strongswan-charon strongswan-swanctl"
SWAN_DIR=/var/lib/xtfs/swan

# swan_root - the sid root with strongSwan at /var/lib/xtfs/swan in the
# rootfs, made with debootstrap from the host's Debian mirror on first
# need (about a minute) and kept while its stamp (.stamp: the suite and
# the package list, then the strongSwan version installed) matches: sid
# moves on, the cached root does not until SWAN_PKGS changes. Fails
# when it cannot be made; vm-run.sh then goes on without it and
# xtfs_swan fails, saying so.
swan_root() {
	local want mirror t0=$SECONDS
	want=$(printf '%s\n%s\n' "$SWAN_SUITE" "$SWAN_PKGS" | sha256sum | cut -c1-16)
	[ "$(head -n1 "$ROOTFS$SWAN_DIR/.stamp" 2>/dev/null)" = "$want" ] && return 0
	mirror=$(debian_mirror)
	(
		flock 8
		[ "$(head -n1 "$ROOTFS$SWAN_DIR/.stamp" 2>/dev/null)" = "$want" ] && exit 0
		log "debootstrap $SWAN_SUITE with strongSwan into $SWAN_DIR"
		# No documentation (the suite reads none): a third smaller.
		in_chroot "set -e
		d=$SWAN_DIR
		rm -rf \$d.new
		debootstrap --variant=minbase --include=$(echo $SWAN_PKGS | tr ' ' ,) \
			$SWAN_SUITE \$d.new $mirror >/tmp/swan-debootstrap.log 2>&1 ||
			{ tail -n 20 /tmp/swan-debootstrap.log; exit 1; }
		rm -rf \$d.new/var/cache/apt/archives/*.deb \$d.new/var/lib/apt/lists/* \
			\$d.new/usr/share/doc \$d.new/usr/share/man \$d.new/usr/share/locale
		test -x \$d.new/usr/lib/ipsec/charon
		{ echo $want
		  chroot \$d.new dpkg-query -W -f '\${Package} \${Version}\n' strongswan-charon libc6
		} >\$d.new/.stamp
		rm -rf \$d && mv \$d.new \$d" >&2
	) 8>"$XTFS_CACHE/.lock-swan" ||
		{ echo "making the strongSwan root failed" >&2; return 1; }
	log "strongSwan root ready in $((SECONDS - t0)) s: $(tail -n +2 "$ROOTFS$SWAN_DIR/.stamp" | tr '\n' ' ')"
}

# boot_vm KIND IMAGE RUNDIR CPUS QEMU_OPTS COMMAND... - boot IMAGE and run
# COMMAND in the guest through guest-run.sh, which saves the status and
# the kernel log to RUNDIR. Extra environment for the guest may be given
# in XTFS_GUEST_ENV ("NAME=value ..."), extra vng options in VNG_EXTRA.
# Returns vng's status.
boot_vm() {
	local kind=$1 image=$2 rundir=$3 cpus=$4 qopts=$5 cmd qopts_k=""
	shift 5
	cmd=$(printf '%q ' "$@")
	# The debug and lean kernels mount the root (9p, built in)
	# themselves: let them cache file data and metadata. Under TCG that
	# makes exec four to ten times faster there (python3 startup 9 s ->
	# 1 s) and halves the debug boot. The guest's own writes reach the
	# host: guest-run.sh syncs before it ends, and nothing on the host
	# changes the rootfs during a run. The stock kernel boots through
	# virtme's initramfs, which mounts the root with options of its own.
	# The stock kernel's 9p is a module, mounted by virtme's initramfs
	# without a cache: export the root a second time under the tag
	# "xtfsroot" for guest-run.sh to mount with caching and run from.
	if [ "$kind" != stock ]; then
		qopts_k="-a rootflags=version=9p2000.L,trans=virtio,access=any,cache=loose,msize=512000"
	else
		qopts="${qopts:+$qopts }-fsdev local,id=xr,path=/,security_model=none,multidevs=remap"
		qopts+=" -device virtio-9p-pci,fsdev=xr,mount_tag=xtfsroot"
	fi
	# Kernel errors, oopses and panics on the console (vng's "quiet
	# loglevel=1" hides them): a guest that dies then says why.
	qopts_k+=" -a loglevel=4"
	in_chroot "rm -rf $rundir && mkdir -p $rundir" || return 1
	# No stdin: vng would otherwise wait on a terminal that CI lacks.
	in_chroot "cd /xtfs && timeout $VM_TIMEOUT vng --run $image --disable-kvm \
		--cpus $cpus --memory 2G --rw $qopts_k ${VNG_EXTRA:-} ${qopts:+--qemu-opts='$qopts'} \
		--exec 'XTFS_RUNDIR=$rundir XTFS_KERNEL=$kind ${XTFS_GUEST_ENV:-} \
			/xtfs/tools/testbed/guest-run.sh $cmd' \
		</dev/null"
}

# check_run RUNDIR WHAT - judge a finished guest: exit status 5 when it
# left no kernel log, 3 when the log has a splat (printed), else the
# guest command's status.
check_run() {
	local out=$ROOTFS$1 what=$2
	if [ ! -f "$out/dmesg.txt" ]; then
		log "$what: guest did not finish: no kernel log saved"
		return 5
	fi
	if grep -Eq "$SPLAT_RE" "$out/dmesg.txt" "$out/kmemleak.txt" 2>/dev/null; then
		log "$what: kernel reported a problem during the run:"
		grep -E -A25 "$SPLAT_RE" "$out/dmesg.txt" "$out/kmemleak.txt" 2>/dev/null |
			head -n 120 >&2
		echo "splat: 1"
		return 3
	fi
	return "$(cat "$out/rc" 2>/dev/null || echo 5)"
}

# Link between a guest and its peer: a qemu datagram socket network on the
# host's loopback, one UDP port for each end.
PEER_MAC=52:54:00:78:74:01
# The in-tree xfrm_iptfs of 7.3.4 frees memory still in use when it
# receives inner packets fragmented across outer packets that arrive in
# virtio-net's mergeable receive buffers (several packets to a page):
# KASAN use-after-free in ip_local_deliver(), then a fatal oops (see
# xtfs_interop.sh). Without mergeable buffers each packet has pages of
# its own.
PEER_NIC_OPTS=",mrg_rxbuf=off"
MAIN_MAC=52:54:00:78:74:02

# link_opts MY_PORT OTHER_PORT MAC [DEVOPTS] - qemu options for one end of
# the link; DEVOPTS are added to the NIC's (",name=value...").
link_opts() {
	printf '%s' "-netdev dgram,id=xl,local.type=inet,local.host=127.0.0.1,local.port=$1,"
	printf '%s' "remote.type=inet,remote.host=127.0.0.1,remote.port=$2 "
	printf '%s' "-device virtio-net-pci,netdev=xl,mac=$3${4:-}"
}

# kill_tree PID - end PID and every process below it.
kill_tree() {
	local c
	for c in $(pgrep -P "$1"); do
		kill_tree "$c"
	done
	kill "$1" 2>/dev/null
}

# serve_peer KIND PEER_IMAGE PEER_RUNDIR MAIN_RUNDIR PORT PEER_PORT - boot
# the peer guest and keep it up until the main guest has finished: a peer
# guest that ends before it was told to stop (two runs of a full check
# saw its vng end without a word) is logged and booted again, up to three
# times. Each boot's console goes to $XTFS_CACHE/peer-KIND.console.N (a
# file of its own: vng reopens its output by path, from offset 0).
serve_peer() {
	local kind=$1 pimage=$2 prundir=$3 rundir=$4 try r
	local console
	rm -f "$XTFS_CACHE/peer-$kind.console"*
	for try in 1 2 3; do
		r=0
		console=$XTFS_CACHE/peer-$kind.console.$try
		# --verbose: the serial console (kernel errors, oopses) goes to
		# the console file, which vng otherwise sends to /dev/null.
		XTFS_GUEST_ENV="XTFS_ROLE=peer" VNG_EXTRA=--verbose \
			boot_vm debug "$pimage" "$prundir" 1 \
			"$(link_opts "$5" "$6" $PEER_MAC "$PEER_NIC_OPTS")" \
			/xtfs/selftests/interop_peer.sh 2>&1 | cat >"$console"
		r=${PIPESTATUS[0]}
		[ -f "$ROOTFS$prundir/rc" ] && return 0
		log "$(date +%T) peer guest ended unfinished (vng status $r, boot $try of 3); its console, from the first error:"
		awk -v re="$SPLAT_RE" 'f || $0 ~ re { f = 1; print }' "$console" |
			head -n 80 >&2
		# vng may end and leave its qemu running; booting again beside
		# it would put two peers on one link port (qemu binds it with
		# SO_REUSEADDR). End it first.
		if pkill -f -- "local.port=$5,"; then
			log "$(date +%T) a qemu of that peer guest was still running: ended"
			sleep 2
		fi
		[ -f "$ROOTFS$rundir/rc" ] && return 1
	done
	return 1
}

# boot_with_peer KIND IMAGE RUNDIR PEER_IMAGE PEER_RUNDIR COMMAND... - boot
# IMAGE (2 CPUs) and, beside it, the peer guest PEER_IMAGE (1 CPU) that
# runs the in-tree xfrm_iptfs and serves commands over the link
# (selftests/interop_peer.sh) until the main guest is done (serve_peer).
# The main guest sees XTFS_PEER=1. A peer still up two minutes after the
# main guest ended (it missed the order to stop) is ended. Returns the
# main guest's vng status.
boot_with_peer() {
	local kind=$1 image=$2 rundir=$3 pimage=$4 prundir=$5 ppid rc=0
	shift 5
	local p1=$((20000 + RANDOM % 20000)) p2
	p2=$((p1 + 1))
	serve_peer "$kind" "$pimage" "$prundir" "$rundir" $p1 $p2 &
	ppid=$!
	XTFS_GUEST_ENV="XTFS_ROLE=xtfs XTFS_PEER=1 ${XTFS_GUEST_ENV:-}" \
		boot_vm "$kind" "$image" "$rundir" 2 "$(link_opts $p2 $p1 $MAIN_MAC)" \
		"$@" || rc=$?
	for _ in $(seq 120); do
		kill -0 "$ppid" 2>/dev/null || break
		sleep 1
	done
	if kill -0 "$ppid" 2>/dev/null; then
		log "peer guest still up after the main guest: ending it"
		kill_tree "$ppid"
	fi
	wait "$ppid" || log "peer guest: did not finish cleanly"
	return $rc
}

# private_root NAME - run the guests of this vm-run on a throw-away root:
# an overlay with the rootfs below and an empty directory of this run
# above, so that what the guest changes (packages installed with dpkg,
# modules and depmod's files under /lib/modules, /usr/local) stays out of
# the rootfs that other guests, running at the same time or later, boot
# from. Sets ROOTFS to the overlay; private_root_end removes it.
PRIVATE_BASE=""
LOWER_ROOTFS=""
private_root() {
	PRIVATE_BASE=$XTFS_CACHE/private/$1
	LOWER_ROOTFS=$ROOTFS
	# What an interrupted run of this name left.
	umount "$PRIVATE_BASE/root" 2>/dev/null || true
	rm -rf "$PRIVATE_BASE"
	mkdir -p "$PRIVATE_BASE/upper" "$PRIVATE_BASE/work" "$PRIVATE_BASE/root"
	mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$PRIVATE_BASE/upper,workdir=$PRIVATE_BASE/work" \
		"$PRIVATE_BASE/root" || die "cannot mount an overlay of $ROOTFS"
	ROOTFS=$PRIVATE_BASE/root
}

# private_root_end RUNDIR - copy the guest's run directory (its status,
# kernel log and console) to the rootfs, where runs on the shared root
# leave theirs, then unmount and delete the overlay.
private_root_end() {
	[ -n "$PRIVATE_BASE" ] || return 0
	if [ -d "$ROOTFS$1" ]; then
		rm -rf "${LOWER_ROOTFS:?}$1"
		mkdir -p "$(dirname "$LOWER_ROOTFS$1")"
		cp -a "$ROOTFS$1" "$LOWER_ROOTFS$1"
	fi
	ROOTFS=$LOWER_ROOTFS
	umount "$PRIVATE_BASE/root" 2>/dev/null || umount -l "$PRIVATE_BASE/root"
	rm -rf "$PRIVATE_BASE"
	PRIVATE_BASE=""
}
