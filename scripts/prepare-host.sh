#!/usr/bin/env bash
# Prepares this Debian 12 machine to run the portal and its tests against the local libvirt
# (qemu:///system). Idempotent: a second run changes nothing and takes seconds. Prints one line per
# change and, last, a line saying the host is ready. Needs root; it never calls sudo itself.
#   1. installs libvirt, QEMU and busybox-static (apt-get update only when a package is missing);
#   2. gives /dev/kvm the group and mode Debian's udev rule gives it (root:kvm 0660): no udev runs
#      here, and with root:root 0600 libvirtd re-probes QEMU at every lookup (a bare define: 32 s);
#   3. starts virtlogd and libvirtd when they are not running (no systemd here);
#   4. defines, builds, starts and autostarts libvirt's "default" pool over /var/lib/libvirt/images;
#   5. builds the tiny test guest (scripts/build-test-guest.sh);
#   6. checks that defining a domain is fast (it is slow when libvirtd re-probes QEMU).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)
uri=qemu:///system
images=/var/lib/libvirt/images
packages=(libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils busybox-static)

say() { echo "prepare-host.sh: $*"; }
die() {
    echo "prepare-host.sh: $*" >&2
    exit 1
}
changes=0
changed() {
    say "$*"
    changes=$((changes + 1))
}

# Root first, before anything is looked at or changed.
if [ "$(id -u)" -ne 0 ]; then
    die "needs root to install Debian packages (${packages[*]}), set the group and mode of /dev/kvm, \
start virtlogd and libvirtd, define libvirt's default storage pool and write the test guest to $images. \
Nothing was changed. Run: sudo bash scripts/prepare-host.sh"
fi

# 1. Packages.
missing=()
for package in "${packages[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" != "install ok installed" ]; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q -o DPkg::Lock::Timeout=120 >/dev/null || die "apt-get update failed"
    apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
    changed "installed ${missing[*]}"
fi

# 2. /dev/kvm as Debian's udev rule leaves it (50-udev-default.rules: GROUP="kvm", MODE="0660"),
# before libvirtd starts and probes QEMU. Group kvm comes from the postinst of udev (not installed
# here) and of libvirt-daemon-system, which also makes QEMU's user libvirt-qemu with kvm as its
# primary group; both are checked in case a package's postinst did not run or was undone.
kvm_fixed=false
if [ -e /dev/kvm ]; then
    if ! getent group kvm >/dev/null; then
        groupadd --system kvm
        changed "created system group kvm"
    fi
    if id libvirt-qemu >/dev/null 2>&1 && ! id -nG libvirt-qemu | tr ' ' '\n' | grep -qx kvm; then
        usermod -a -G kvm libvirt-qemu
        changed "added user libvirt-qemu to group kvm"
    fi
    if [ "$(stat -c '%U:%G %a' /dev/kvm)" != "root:kvm 660" ]; then
        was=$(stat -c '%U:%G %a' /dev/kvm)
        chown root:kvm /dev/kvm
        chmod 0660 /dev/kvm
        kvm_fixed=true
        changed "/dev/kvm was $was, now root:kvm 660"
    fi
fi

# 3. Daemons (guests need virtlogd too). A pid file outlives a daemon that was killed: look at the process.
# A killed daemon can also linger as a zombie (state Z) where nothing reaps orphans.
running() {
    local pid stat
    [ -f "$2" ] || return 1
    pid=$(cat "$2" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}
# A daemon keeps the descriptors it inherits for as long as it runs: one started under
# `flock LOCKFILE ...` would hold that lock until it stops. Start them with only stdin/out/err.
detached() {
    (
        for fd in /proc/self/fd/*; do
            n=${fd##*/}
            [ "$n" -gt 2 ] && eval "exec $n>&-"
        done
        exec "$@"
    )
}
libvirtd_was_running=false
running libvirtd /run/libvirtd.pid && libvirtd_was_running=true
if ! running virtlogd /run/virtlogd.pid; then
    detached virtlogd -d || die "virtlogd -d failed"
    changed "started virtlogd"
fi
if ! $libvirtd_was_running; then
    detached libvirtd -d || die "libvirtd -d failed"
    changed "started libvirtd"
fi
# libvirtd daemonizes before its socket listens.
for _ in $(seq 100); do
    virsh -q -c "$uri" uri >/dev/null 2>&1 && break
    sleep 0.1
done
virsh -q -c "$uri" uri >/dev/null 2>&1 || die "libvirtd does not answer on $uri"
if $kvm_fixed && $libvirtd_was_running; then
    # No restart needed. With 0600 libvirtd's cached capabilities say KVM while its check that QEMU's
    # user can open /dev/kvm says no, so it re-probes at every lookup; it repeats that check when
    # /dev/kvm's ctime changes. Measured: 32 s per define at 0600, 38 ms right after the fix without
    # a restart. A restart would only cut the connections of whoever uses this daemon.
    say "libvirtd was already running; not restarted, it sees the new /dev/kvm mode by itself"
fi

# 4. The "default" pool over the image directory, as virt-install would create it.
pool=default
if ! virsh -q -c "$uri" pool-info "$pool" >/dev/null 2>&1; then
    virsh -q -c "$uri" pool-define-as "$pool" dir --target "$images" >/dev/null
    changed "defined storage pool $pool (dir, $images)"
fi
# A pool still running in a killed daemon's state (/run/libvirt/storage) comes back without a
# definition: define it from itself so that it persists and can autostart.
if virsh -c "$uri" pool-info "$pool" | grep -Eq '^Persistent:[[:space:]]+no'; then
    xml=$(mktemp)
    virsh -q -c "$uri" pool-dumpxml "$pool" >"$xml"
    virsh -q -c "$uri" pool-define "$xml" >/dev/null
    rm -f "$xml"
    changed "defined the transient storage pool $pool"
fi
if [ ! -d "$images" ]; then
    virsh -q -c "$uri" pool-build "$pool" >/dev/null
    changed "built storage pool $pool"
fi
pool_info=$(virsh -c "$uri" pool-info "$pool")
if ! grep -Eq '^State:[[:space:]]+running' <<<"$pool_info"; then
    virsh -q -c "$uri" pool-start "$pool" >/dev/null
    changed "started storage pool $pool"
fi
if ! grep -Eq '^Autostart:[[:space:]]+yes' <<<"$pool_info"; then
    virsh -q -c "$uri" pool-autostart "$pool" >/dev/null
    changed "set storage pool $pool to autostart"
fi

# 5. The test guest (built again when an older version of the script built it).
if ! "$repo/scripts/build-test-guest.sh" --current; then
    "$repo/scripts/build-test-guest.sh" >/dev/null || die "scripts/build-test-guest.sh failed"
    changed "built the test guest $images/vp-tiny.vmlinuz and vp-tiny.initrd"
fi

# 6. A bare define of a minimal domain takes milliseconds unless libvirtd re-probes QEMU for it.
probe=vp-prepare-host-check-$$
xml=$(mktemp)
trap 'rm -f "$xml"; virsh -q -c "$uri" undefine "$probe" >/dev/null 2>&1 || true' EXIT
cat >"$xml" <<XML
<domain type='qemu'>
  <name>$probe</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
</domain>
XML
define_ms() {
    local started
    started=$(date +%s%N)
    virsh -q -c "$uri" define "$xml" >/dev/null || die "virsh define of a minimal domain failed"
    echo $(( ($(date +%s%N) - started) / 1000000 ))
    virsh -q -c "$uri" undefine "$probe" >/dev/null || die "virsh undefine $probe failed"
}
define_ms=$(define_ms)
# The first lookup after libvirtd starts (or after /dev/kvm changed) probes QEMU once: ask again.
[ "$define_ms" -le 2000 ] || define_ms=$(define_ms)
if [ "$define_ms" -gt 2000 ]; then
    die "defining a minimal domain takes $define_ms ms: libvirtd re-probes QEMU at each lookup (/dev/kvm: $(stat -c '%U:%G %a' /dev/kvm 2>/dev/null || echo absent))"
fi

if [ "$changes" -eq 0 ]; then
    say "host ready, nothing changed (define took $define_ms ms)"
else
    say "host ready after $changes change(s) (define took $define_ms ms)"
fi
