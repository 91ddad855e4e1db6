#!/usr/bin/env bash
# Builds the tiny guest the libvirt integration tests boot under qemu:///system (domain type qemu):
# Debian's kernel, unpacked without installing it, and a busybox initramfs with the virtio, button and
# evdev modules. It answers ACPI power-button presses (acpid) so that Shutdown works, and runs an
# interactive shell on the VGA console (tty1), so that a VNC client can type a command and see the
# screen change. Nothing here is committed as a binary: the files are built on the test machine,
# readable by QEMU (libvirt-qemu), as
#   /var/lib/libvirt/images/vp-tiny.vmlinuz and vp-tiny.initrd   (ImageRef "vp-tiny")
# with vp-tiny.version next to them, the version of this script that built them.
# Needs root, apt and busybox-static. Does nothing when the files of this version exist; rebuilds
# those of an older one. With --current it builds nothing and exits 0 only when they are up to date.
set -euo pipefail

images=/var/lib/libvirt/images
name=vp-tiny
# 1: serial console only. 2: a shell on tty1 as well.
version=2
current() {
    [ -s "$images/$name.vmlinuz" ] && [ -s "$images/$name.initrd" ] \
        && [ "$(cat "$images/$name.version" 2>/dev/null)" = "$version" ]
}
if [ "${1:-}" = "--current" ]; then
    current
    exit
fi
if current; then
    exit 0
fi
[ -x /bin/busybox ] || { echo "build-test-guest.sh: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. The kernel package linux-image-amd64 points at, unpacked.
resolve_kernel() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}'; }
package=$(resolve_kernel)
if [ -z "$package" ]; then
    apt-get update -q >/dev/null
    package=$(resolve_kernel)
fi
[ -n "$package" ] || { echo "build-test-guest.sh: cannot resolve linux-image-amd64" >&2; exit 1; }
# apt-get download fetches as user _apt when it can write the directory, else warns.
chmod 755 "$work"
mkdir "$work/deb"
chown _apt "$work/deb" 2>/dev/null || true
(cd "$work/deb" && apt-get download -q "$package" >/dev/null)
dpkg-deb -x "$work"/deb/"$package"_*.deb "$work/kernel"
kver=$(ls "$work/kernel/lib/modules")
/bin/busybox depmod -b "$work/kernel" "$kver"
moddir="$work/kernel/lib/modules/$kver"

# 2. The modules the guest needs, dependencies first (modules.dep lists them; built-ins are absent).
declare -A seen=()
order=()
resolve() {
    local module=$1 dep
    [ -n "${seen[$module]:-}" ] && return
    seen[$module]=1
    for dep in $(sed -n "s|^$module:||p" "$moddir/modules.dep"); do
        resolve "$dep"
    done
    order+=("$module")
}
for wanted in virtio_pci virtio_blk virtio_net virtio_balloon button evdev; do
    path=$(sed -n "s|^\([^:]*/$wanted\.ko[^:]*\):.*|\1|p" "$moddir/modules.dep" | head -n 1)
    [ -n "$path" ] && resolve "$path"
done

# 3. The initramfs: busybox, the modules (decompressed for busybox insmod), acpid's action, /init.
root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,lib/modules,etc/acpi/PWRF,var/log,var/run}
cp /bin/busybox "$root/bin/busybox"
: >"$root/lib/modules/order"
for module in "${order[@]}"; do
    file=$(basename "$module")
    case "$file" in
        *.xz) xz -dc "$moddir/$module" >"$root/lib/modules/${file%.xz}"; file=${file%.xz} ;;
        *.zst) zstd -qdc "$moddir/$module" >"$root/lib/modules/${file%.zst}"; file=${file%.zst} ;;
        *) cp "$moddir/$module" "$root/lib/modules/$file" ;;
    esac
    echo "$file" >>"$root/lib/modules/order"
done
cat >"$root/etc/acpi/PWRF/00000080" <<'SCRIPT'
#!/bin/sh
poweroff -f
SCRIPT
chmod +x "$root/etc/acpi/PWRF/00000080"
cat >"$root/init" <<'SCRIPT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r module; do insmod "/lib/modules/$module" 2>/dev/null; done </lib/modules/order
acpid
# An interactive shell on the VGA console, for the browser console's tests: setsid makes it a session
# leader, so opening tty1 makes that its controlling terminal (line editing, Ctrl-C).
echo "vp-tiny console on tty1" >/dev/tty1
PS1='vp-tiny# ' HOME=/ setsid sh -c 'exec sh -i </dev/tty1 >/dev/tty1 2>&1' &
echo "vp-tiny ready"
while true; do sleep 3600; done
SCRIPT
chmod +x "$root/init"

mkdir -p "$images"
(cd "$root" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -9) >"$work/initrd"
install -m 0644 "$work/kernel/boot/vmlinuz-$kver" "$images/$name.vmlinuz"
install -m 0644 "$work/initrd" "$images/$name.initrd"
echo "$version" >"$images/$name.version"
chmod 0644 "$images/$name.version"
echo "Built $images/$name.vmlinuz and $name.initrd (kernel $kver, ${#order[@]} modules, version $version)"
