#!/usr/bin/env bash
# A base image's root filesystem made from this machine, for labs without a registry: the
# host's Node 20 (/usr/bin/node; Debian 12 ships Node 18) with the shared libraries ldd
# names for it, libpcap.so.0.8 with its own (what the native capture addon links), and
# static busybox for /bin/sh, /usr/bin/env, mount and umount (synscope mounts a private tracefs when none
# is mounted, as inside a container). `docker import` of the tar gives what deploy/Dockerfile
# takes as BASE. No CA certificates, no package manager: nothing in it fetches anything.
# Usage: node-base-rootfs.sh OUT.tar   (about 1 s; the tar is 110 MB, mostly node)
set -euo pipefail
out=$(realpath -m "$1")
root=$(mktemp -d /tmp/synscope-node-base.XXXXXX)
trap 'rm -rf "$root"' EXIT

node=$(command -v node)
node_major=$("$node" -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "node-base-rootfs: $node is Node $node_major; synscope needs Node 20 or later" >&2; exit 1; }
# awk reads to the end: an early exit would SIGPIPE ldconfig, which pipefail turns into a failure.
libpcap=$(ldconfig -p | awk '$1 == "libpcap.so.0.8" && /x86-64|x86_64|aarch64|AArch64/ && !found { print $NF; found = 1 }')
[ -n "$libpcap" ] || { echo "node-base-rootfs: no libpcap.so.0.8 here (apt-get install libpcap0.8)" >&2; exit 1; }
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || { echo "node-base-rootfs: no static /bin/busybox (apt-get install busybox-static)" >&2; exit 1; }

mkdir -p "$root/usr/bin" "$root/bin" "$root/etc" "$root/tmp" "$root/usr/local/bin"
chmod 755 "$root"
chmod 1777 "$root/tmp"
cp "$node" "$root/usr/bin/node"
# Each library at the path the loader looks for it (ld.so's interpreter path included), resolved.
for lib in $( { ldd "$node"; ldd "$libpcap"; echo "$libpcap"; } | grep -o '/[^ ]*' | sort -u); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp /bin/busybox "$root/bin/busybox"
for applet in sh mount umount cat ls; do ln -s busybox "$root/bin/$applet"; done
ln -s /bin/busybox "$root/usr/bin/env"  # npm's bin scripts start with #!/usr/bin/env node
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
tar -C "$root" -cf "$out" .
