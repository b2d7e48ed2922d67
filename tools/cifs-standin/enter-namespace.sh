#!/bin/sh
# Puts the CIFS kernel stand-in under the real /sbin/mount.cifs — inside the calling process's
# PRIVATE mount namespace only (it refuses to run in the host's). Usage:
#   enter-namespace.sh STATE_DIR [--port PORT] [--host "ADDRESS NAME"]... [--count-umounts]
# STATE_DIR (made 0700) gets the built library, its settings, the wrapper and the call log
# (mount-calls.log). /sbin/mount.cifs becomes a wrapper that execs the unmodified binary (bind-
# mounted at STATE_DIR/real/mount.cifs) with LD_PRELOAD set; --host adds a line to a private
# /etc/hosts; --count-umounts puts a wrapper over /bin/umount that logs each call to
# STATE_DIR/umount.log and runs the real one. Everything disappears with the namespace.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 STATE_DIR [--port PORT] [--host 'ADDRESS NAME']... [--count-umounts]" >&2; exit 64; }
state=$1
shift
port=445
hosts=""
count_umounts=0
while [ $# -gt 0 ]; do
    case $1 in
        --port) port=$2; shift 2 ;;
        --host) hosts="$hosts$2
"; shift 2 ;;
        --count-umounts) count_umounts=1; shift ;;
        *) echo "enter-namespace.sh: unknown argument $1" >&2; exit 64 ;;
    esac
done
if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ]; then
    echo "enter-namespace.sh: refusing to change the host's mount namespace; run it under unshare -m --propagation private" >&2
    exit 1
fi

mkdir -p "$state/real" "$state/bin"
chmod 0700 "$state"
library=$state/libcifs-standin.so
if [ ! -e "$library" ] || [ "$here/cifs_standin.c" -nt "$library" ]; then
    ${CC:-cc} -shared -fPIC -O2 -Wall -Wno-format-truncation -o "$library.tmp" "$here/cifs_standin.c" -ldl
    mv "$library.tmp" "$library"
fi
printf 'state_dir=%s\nport=%s\n' "$state" "$port" > "$state/standin.conf"

real=$(readlink -f /sbin/mount.cifs)
: > "$state/real/mount.cifs"
mount --bind "$real" "$state/real/mount.cifs"
cat > "$state/bin/mount.cifs" <<WRAPPER
#!/bin/sh
# The CIFS kernel stand-in's wrapper (tools/cifs-standin): the real mount.cifs, preloaded.
LD_PRELOAD=$library CIFS_STANDIN_CONF=$state/standin.conf exec $state/real/mount.cifs "\$@"
WRAPPER
chmod 0755 "$state/bin/mount.cifs"
mount --bind "$state/bin/mount.cifs" "$real"

if [ -n "$hosts" ]; then
    { cat /etc/hosts; printf '%s' "$hosts"; } > "$state/hosts"
    mount --bind "$state/hosts" /etc/hosts
fi
if [ "$count_umounts" = 1 ]; then
    umount_real=$(readlink -f /bin/umount)
    : > "$state/real/umount"
    mount --bind "$umount_real" "$state/real/umount"
    cat > "$state/bin/umount" <<WRAPPER
#!/bin/sh
echo "\$*" >> $state/umount.log
exec $state/real/umount "\$@"
WRAPPER
    chmod 0755 "$state/bin/umount"
    mount --bind "$state/bin/umount" "$umount_real"
fi
