#!/usr/bin/env bash
# Tests the CIFS kernel stand-in against the real programs: a real smbd (tools/samba-test-server.sh),
# the real /sbin/mount.cifs, smbnetfs — in a private mount namespace. Run as root; prints one line
# per check and exits non-zero on the first failure. Every command is bounded.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/cifs-standin-test.XXXXXX)
chmod 0755 "$work"
samba=$root/tools/samba-test-server.sh
cleanup() { "$samba" stop "$work/samba" || true; rm -rf "$work"; }
trap cleanup EXIT

password=$'p,a "q\' \\ w ü'
port=$("$samba" free-port)
mkdir -p "$work/share/vms" "$work/mnt"
echo hello > "$work/share/vms/disk.img"
printf '%s\n' "$password" | "$samba" start "$work/samba" --port "$port" --share "vmstore=$work/share" --user svc >/dev/null
printf 'username=svc\npassword=%s\ndomain=WORKGROUP\n' "$password" > "$work/good.cred"
printf 'username=svc\npassword=wrong\n' > "$work/bad.cred"
chmod 0600 "$work"/*.cred

cat > "$work/inside.sh" <<'INSIDE'
set -u
work=$1 here=$2 samba=$3
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; exit 1; }
"$here/enter-namespace.sh" "$work/state" --port "$PORT" --host "127.0.0.1 srv" --count-umounts || not_ok "enter-namespace.sh"
mnt=$work/mnt

out=$(timeout --kill-after=5s 30s /sbin/mount.cifs //srv/vmstore "$mnt" -o credentials="$work/good.cred",uid=64055,gid=993,file_mode=0660,dir_mode=0770,vers=3.1.1,cache=none 2>&1) \
    || not_ok "mount with the right password: $out"
ok "the real mount.cifs mounts //srv/vmstore with a password holding , \" ' \\ space and ü"
line=$(awk -v m="$mnt" '$5 == m' /proc/self/mountinfo)
source=$(echo "$line" | awk '{for (i = 1; i <= NF; i++) if ($i == "-") {print $(i + 2); exit}}')
[ "$source" = "//srv/vmstore" ] || not_ok "mount source is '$source'"
ok "mountinfo shows //srv/vmstore as the source"
grep -q 'ip=127.0.0.1,unc=\\\\srv\\vmstore,file_mode=0660,dir_mode=0770,vers=3.1.1,cache=none,uid=64055,gid=993,user=svc,domain=WORKGROUP,pass=<redacted:14>' "$work/state/mount-calls.log" \
    || not_ok "option string: $(cat "$work/state/mount-calls.log")"
ok "mount(2) got mount.cifs's option string (credentials from the file, password redacted in the log)"
[ "$(stat -c '%u %g %a' "$mnt/vms/disk.img")" = "64055 993 770" ] || not_ok "file owner/mode: $(stat -c '%u %g %a' "$mnt/vms/disk.img")"
ok "files are presented as uid 64055 gid 993, mode file_mode|dir_mode"
echo written > "$mnt/vms/new.txt" && [ "$(cat "$work/share/vms/new.txt")" = written ] || not_ok "write through the mount"
ok "writes reach the share directory through smbd"
exec 3< "$mnt/vms/disk.img"
"$samba" status "$work/samba" | grep -q '"vms/disk.img"' || not_ok "smbstatus does not list the open file"
exec 3<&-
ok "smbstatus lists a file held open through the mount"
if grep -q "password" "$work"/state/clients/*/.smb/* 2>/dev/null || ls "$work"/state/clients/*/.smb/smbnetfs.conf >/dev/null 2>&1; then
    not_ok "the FUSE client's auth file was left behind"
fi
ok "the FUSE client's auth file is gone once it has mounted"

fuse_pid=$(pgrep -f "smbnetfs $mnt " | head -n 1)
kill -KILL $(pgrep -f "smbnetfs $mnt ")
sleep 0.3
err=$(timeout 5 stat "$mnt" 2>&1) && not_ok "stat on a mount whose client was killed succeeded"
case $err in *"Transport endpoint is not connected"*) ;; *) not_ok "stat after kill: $err" ;; esac
ok "killing the FUSE client leaves a dead mount (ENOTCONN), like a CIFS mount whose connection is gone"
umount "$mnt" || not_ok "umount of the dead mount"
awk -v m="$mnt" '$5 == m' /proc/self/mountinfo | grep -q . && not_ok "still mounted"
ok "umount removes it"

timeout --kill-after=5s 30s /sbin/mount.cifs //srv/vmstore "$mnt" -o credentials="$work/good.cred" >/dev/null 2>&1 || not_ok "second mount"
umount "$mnt" || not_ok "umount"
sleep 0.5
pgrep -f "smbnetfs $mnt " >/dev/null && not_ok "the FUSE client outlived its unmount"
ok "umount ends the FUSE client"

expect_error() {  # CODE TEXT ARGS...
    local code=$1 what=$2; shift 2
    local output status=0
    output=$(timeout --kill-after=5s 60s /sbin/mount.cifs "$@" 2>&1) || status=$?
    [ "$status" = 32 ] || not_ok "$what: exit status $status: $output"
    case $output in *"mount error($code)"*) ;; *) not_ok "$what: $output" ;; esac
    awk -v m="$mnt" '$5 == m' /proc/self/mountinfo | grep -q . && not_ok "$what: left a mount"
    ok "$what: mount.cifs exits 32 with 'mount error($code)'"
}
expect_error 13 "wrong password" //srv/vmstore "$mnt" -o credentials="$work/bad.cred"
expect_error 2 "no such share" //srv/nosuch "$mnt" -o credentials="$work/good.cred"
"$samba" stop "$work/samba"
expect_error 111 "smbd stopped" //srv/vmstore "$mnt" -o credentials="$work/good.cred"
INSIDE
PORT=$port timeout --kill-after=10s 180s unshare -m --propagation private bash "$work/inside.sh" "$work" "$here" "$samba"
echo "all stand-in checks passed"
