#!/usr/bin/env bash
# End-to-end test of smbvol's libvirt hook with a REAL libvirtd and qemu (TCG), against
# qumulo-sim over HTTPS, a real Samba server (tools/samba-test-server.sh) and the real
# /sbin/mount.cifs, with only the kernel's CIFS filesystem stood in for at mount(2)
# (tools/cifs-standin: the share is mounted through the FUSE SMB client smbnetfs). qemu runs as
# libvirt-qemu (qemu.conf), not root, and opens its image over SMB: the uid/gid mount options
# smbvol derives from qemu.conf are what let it.
#
#   SMBVOL_DEB=smbvol_V_amd64.deb Tests/EndToEnd/libvirt-e2e.sh SIM_BIN_DIR
#       # SIM_BIN_DIR holds the built qumulo-sim (swift build --package-path Simulator);
#       # SMBVOL_DEB is the package scripts/package built (smbvol is installed from it)
#
# Needs root, and the packages scripts/install-deps installs (libvirt-daemon,
# libvirt-daemon-driver-qemu, libvirt-clients, qemu-system-x86, qemu-utils) plus the
# libvirt-qemu user, cifs-utils, samba, smbclient, smbnetfs and a C compiler. Everything runs in a PRIVATE mount namespace: /etc, /usr and /var are
# overlays there (whatever dpkg and the test write lands in the scratch directory), and
# /etc/libvirt, /run, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt are tmpfs. smbvol
# is installed as an operator does, with `dpkg -i SMBVOL_DEB` while libvirtd runs: the package's
# postinst makes the running libvirtd pick up the hook (SIGHUP), and libvirtd then runs what the
# package installed — the dispatcher /etc/libvirt/hooks/qemu.d/smbvol, /usr/sbin/smbvol, and the
# configuration /etc/smbvol/smbvol.toml, which each scenario rewrites. The host's files, package
# database and mount table are never touched; the daemons this script starts are stopped by pid;
# scratch files live in one mktemp directory that is removed at the end (SMBVOL_E2E_KEEP=1 keeps
# it).
#
# Prints one PASS/FAIL line per scenario and exits non-zero on any failure. Every wait is bounded.
set -euo pipefail
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}"
export LC_ALL=C

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
    echo "usage: $0 SIM_BIN_DIR   (the directory with the built qumulo-sim)" >&2
    exit 2
fi
bin=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

# --- Outside the namespace: preflight, then re-exec in a private mount namespace -------------
if [ "${SMBVOL_E2E_IN_NAMESPACE:-}" != 1 ]; then
    problems=()
    [ "$(id -u)" -eq 0 ] || problems+=("must run as root (libvirtd, mounts)")
    for tool in libvirtd virtlogd virsh qemu-system-x86_64 qemu-img unshare findmnt curl openssl python3 timeout \
        smbd smbpasswd smbstatus smbnetfs mount.cifs cc; do
        command -v "$tool" >/dev/null 2>&1 || problems+=("$tool not found")
    done
    # Every account libvirtd looks up at start-up: Debian builds it with qemu's default user AND
    # group "libvirt-qemu" (a missing group fails its QEMU driver, and virsh then waits forever).
    getent passwd libvirt-qemu >/dev/null || problems+=("user libvirt-qemu missing (libvirtd's QEMU driver fails to start without it)")
    getent group libvirt-qemu >/dev/null || problems+=("group libvirt-qemu missing (libvirtd: \"Failed to parse group 'libvirt-qemu'\")")
    getent group kvm >/dev/null || problems+=("group kvm missing (qemu's account belongs to it)")
    getent group root >/dev/null || problems+=("group root missing")
    [ -x "$bin/qumulo-sim" ] || problems+=("$bin/qumulo-sim not built (swift build --package-path Simulator)")
    command -v dpkg >/dev/null 2>&1 || problems+=("dpkg not found")
    [ -f "${SMBVOL_DEB:-}" ] || problems+=("SMBVOL_DEB='${SMBVOL_DEB:-}' is not the smbvol package: build it with scripts/package (scripts/test does) and set SMBVOL_DEB to its path")
    if ((${#problems[@]})); then
        printf 'FAIL preflight: %s\n' "${problems[@]}"
        echo "FAIL preflight: run scripts/install-deps (installs libvirtd and qemu, creates the libvirt-qemu user and group as Debian's libvirt packages do), then swift build"
        exit 1
    fi
    # With every signal unblocked, as systemd starts libvirtd: processes the Swift tests spawn
    # inherit a mask that blocks SIGHUP (and INT, QUIT, ...), and libvirtd would never see the
    # SIGHUP the package's postinst sends it.
    SMBVOL_E2E_IN_NAMESPACE=1 exec python3 -c 'import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])' \
        unshare --mount --propagation private bash "$script" "$bin"
fi

# --- Inside the namespace ---------------------------------------------------------------------
start_time=$(date +%s.%N)
work=$(mktemp -d /tmp/smbvol-e2e.XXXXXX)
chmod 755 "$work"
virtlogd_pid="" libvirtd_pid="" sim_pid="" syslog_pid="" samba_started=0
failures=0
finished=0

elapsed() { awk -v from="$1" -v to="$(date +%s.%N)" 'BEGIN { printf "%.2f", to - from }'; }
now() { date +%s.%N; }
log() { printf '   %s\n' "$*"; }

stop_pid() {  # PID: SIGTERM, then SIGKILL after 5 s; waits (bounded) for it to go
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

qemu_pids() { cat /run/libvirt/qemu/*.pid 2>/dev/null || true; }

dump_logs() {
    echo "---- libvirtd log (last 40 lines) ----"; tail -n 40 "$work/libvirtd.log" 2>/dev/null || true
    echo "---- virtlogd log ----"; tail -n 10 "$work/virtlogd.log" 2>/dev/null || true
    for f in /var/log/libvirt/qemu/*.log; do
        [ -e "$f" ] || continue
        echo "---- $f (last 10 lines) ----"; tail -n 10 "$f"
    done
    echo "---- qumulo-sim log (last 20 lines) ----"; tail -n 20 "$work/sim.log" 2>/dev/null || true
    echo "---- syslog (smbvol) ----"; cat "$work/syslog.log" 2>/dev/null || true
    echo "---- mount(2) calls (the CIFS stand-in's log) ----"; cat "$work/standin/mount-calls.log" 2>/dev/null || true
    echo "---- smbd log (last 10 lines) ----"; tail -n 10 "$work/samba/log/log.smbd" 2>/dev/null || true
}

cleanup() {
    local status=$?
    trap - EXIT
    set +e
    if [ "$finished" != 1 ]; then
        echo "FAIL: the test aborted before finishing (exit status $status)"
        dump_logs
        status=1
    fi
    # qemu first (by pid, from libvirt's pid files), then the daemons we started.
    if [ -n "$libvirtd_pid" ] && kill -0 "$libvirtd_pid" 2>/dev/null; then
        for name in $(timeout --kill-after=2s 10 virsh -q -c qemu:///system list --name 2>/dev/null); do
            timeout --kill-after=2s 20 virsh -q -c qemu:///system destroy "$name" >/dev/null 2>&1
        done
    fi
    for pid in $(qemu_pids); do stop_pid "$pid"; done
    stop_pid "$libvirtd_pid"
    stop_pid "$virtlogd_pid"
    stop_pid "$sim_pid"
    stop_pid "$syslog_pid"
    # The FUSE clients behind the test's mounts (by pid: their command lines name our scratch dir).
    for pid in $(pgrep -f "smbnetfs $work/" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    [ "$samba_started" = 1 ] && "$root/tools/samba-test-server.sh" stop "$work/samba"
    # Nothing stays mounted under the scratch directory (the namespace dies with us anyway).
    findmnt -rn -o TARGET | grep -F "$work" | sort -r | while read -r target; do umount -l "$target"; done
    if [ "${SMBVOL_E2E_KEEP:-}" = 1 ]; then
        echo "kept $work"
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Assertions -------------------------------------------------------------------------------
scenario_failures=0
fail() { printf '   FAILED: %s\n' "$*"; scenario_failures=$((scenario_failures + 1)); }
ok() { printf '   ok: %s\n' "$*"; }
check() {  # DESCRIPTION COMMAND...: the command must succeed
    local description=$1
    shift
    if "$@"; then ok "$description"; else fail "$description"; fi
}
begin_scenario() {
    scenario_name=$1
    scenario_failures=0
    scenario_start=$(now)
    printf '\n== %s\n' "$scenario_name"
}
end_scenario() {
    local took
    took=$(elapsed "$scenario_start")
    if ((scenario_failures == 0)); then
        echo "PASS: $scenario_name (${took}s)"
    else
        echo "FAIL: $scenario_name ($scenario_failures failed assertion(s), ${took}s)"
        failures=$((failures + 1))
        dump_logs
    fi
}

# --- The simulator (a fresh one per scenario) ------------------------------------------------
"$root/scripts/make-test-certs.sh" "$work/certs" >/dev/null 2>&1
sim_port=""
start_sim() {  # SCENARIO_JSON_FILE
    stop_sim
    rm -f "$work/port"
    "$bin/qumulo-sim" serve --scenario "$1" --host 127.0.0.1 --port 0 --port-file "$work/port" \
        --tls-cert "$work/certs/server.pem" --tls-key "$work/certs/server.key" \
        </dev/null >/dev/null 2>>"$work/sim.log" &
    sim_pid=$!
    for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.1; done
    [ -s "$work/port" ] || { echo "qumulo-sim did not start within 20 s" >&2; return 1; }
    sim_port=$(cat "$work/port")
    rm -rf "$work/state/credentials"  # a new simulator: log in afresh
}
stop_sim() { stop_pid "$sim_pid"; sim_pid=""; }
sim_state() { curl -sS --max-time 10 --cacert "$work/certs/ca.pem" "https://127.0.0.1:$sim_port/_sim/state"; }
closed_locations() {  # the simulator's closed locations as compact JSON, e.g. ["3.1.77"]
    sim_state | python3 -c 'import json,sys; print(json.dumps(sorted(json.load(sys.stdin)["closed_locations"])))'
}
sim_handle_count() { sim_state | python3 -c 'import json,sys; print(json.load(sys.stdin)["handles"])'; }

# A scenario: the images of both test domains, the service account, and the given sessions and
# handles (JSON lists).
write_scenario() {  # FILE SESSIONS_JSON HANDLES_JSON
    cat >"$1" <<JSON
{
  "users": [{"name": "svc-smbvol", "password": "e2e-password", "auth_id": "500"}],
  "identities": [
    {"auth_id": "1001", "name": "svc-kvm", "domain": "ACTIVE_DIRECTORY", "sid": "S-1-5-21-1-2-3-1001"}
  ],
  "shares": [{"id": "1", "name": "vms", "fs_path": "/vms"}],
  "files": [
    {"path": "/vms/e2e1/disk0.qcow2", "id": "3001", "size": "67108864"},
    {"path": "/vms/e2e2/disk0.qcow2", "id": "3002", "size": "67108864"}
  ],
  "sessions": $2,
  "handles": $3
}
JSON
}

# --- syslog: a datagram socket standing in for /dev/log ---------------------------------------
cat >"$work/syslog.py" <<'PY'
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
with open(out, "a", buffering=1) as f:
    while True:
        data = s.recv(65536)
        f.write(data.decode("utf-8", "replace").rstrip("\n") + "\n")
PY
: >"$work/syslog.log"
python3 "$work/syslog.py" "$work/syslog.sock" "$work/syslog.log" </dev/null >/dev/null 2>"$work/syslog-listener.err" &
syslog_pid=$!
for _ in $(seq 50); do [ -S "$work/syslog.sock" ] && break; sleep 0.1; done
[ -S "$work/syslog.sock" ] || { echo "syslog listener did not start"; exit 1; }
syslog_mark() { wc -l <"$work/syslog.log"; }
syslog_since() { tail -n +"$(($1 + 1))" "$work/syslog.log"; }

# --- The SMB server side: a real smbd sharing the image directory; secrets ---------------------
share_dir=$work/share/vms
mount_point=$work/mnt/vms
mkdir -p "$share_dir/e2e1" "$share_dir/e2e2" "$work/mnt"
for n in 1 2; do qemu-img create -q -f qcow2 "$share_dir/e2e$n/disk0.qcow2" 64M; done
mkdir -m 700 "$work/secrets"
printf 'e2e-password\n' >"$work/secrets/qumulo.password"
# An SMB password with the characters mount.cifs and the kernel's option string treat specially.
smb_password='smb,e2e "se'"'"'cret" \ ü'
printf 'username=svc-kvm\npassword=%s\ndomain=WORKGROUP\n' "$smb_password" >"$work/secrets/vms.cred"
chmod 600 "$work/secrets/"*
smb_port=$("$root/tools/samba-test-server.sh" free-port)
printf '%s\n' "$smb_password" |
    "$root/tools/samba-test-server.sh" start "$work/samba" --port "$smb_port" --share "vms=$work/share/vms" --user svc-kvm >/dev/null
samba_started=1
smbstatus_json() { "$root/tools/samba-test-server.sh" status "$work/samba"; }
smb_open_files() {  # the files smbd has open, one per line (share-relative)
    smbstatus_json | python3 -c 'import json,sys; [print(f["filename"]) for f in json.load(sys.stdin).get("open_files", {}).values()]'
}
image_open_on_server() { smb_open_files | grep -qxF "$1"; }
image_closed_on_server() { ! image_open_on_server "$1"; }
mount_calls() { wc -l <"$work/standin/mount-calls.log" 2>/dev/null || echo 0; }

write_config() {  # ON_CLUSTER_ERROR (the cluster is the current simulator port)
    cat >/etc/smbvol/smbvol.toml <<TOML
state_dir = "$work/state"
mount_base = "$work/mnt"
deadline_seconds = 30
host_id = "e2e-host-a"
local_addresses = ["198.51.100.7"]
syslog_socket = "$work/syslog.sock"

[policy]
on_cluster_error = "$1"

[cluster.sim]
host = "127.0.0.1"
port = $sim_port
ca_file = "$work/certs/ca.pem"
username = "svc-smbvol"
password_file = "$work/secrets/qumulo.password"
credentials_store = "$work/state/credentials/sim"
request_timeout_seconds = 5

[share.vms]
export = "//qumulo-sim.example/vms"
cluster = "sim"
fs_path = "/vms"
credentials = "$work/secrets/vms.cred"
options = ["vers=3.1.1", "cache=none"]
mount_point = "$mount_point"
TOML
}
smbvol() { timeout --kill-after=5s 60 /usr/sbin/smbvol "$@"; }  # the installed package's binary and configuration

# --- The package's system directories: overlays, so dpkg installs into this namespace only ---
# (before the tmpfs mounts below, which an overlay mounted later would hide).
for directory in /etc /usr /var; do
    name=$(basename "$directory")
    mkdir -p "$work/overlay/$name-upper" "$work/overlay/$name-work"
    mount -t overlay "e2e-$name" \
        -o "lowerdir=$directory,upperdir=$work/overlay/$name-upper,workdir=$work/overlay/$name-work" "$directory"
done
if dpkg-query -W smbvol >/dev/null 2>&1; then dpkg --purge --force-all smbvol >/dev/null 2>&1 || true; fi

# --- libvirtd in this namespace ---------------------------------------------------------------
mkdir -p "$work/etc-libvirt"
cp -a /etc/libvirt/. "$work/etc-libvirt/"
for directory in /etc/libvirt /run /var/lib/libvirt /var/log/libvirt /var/cache/libvirt; do
    [ -d "$directory" ] || mkdir -p "$directory"
    mount -t tmpfs -o mode=0755 "e2e-tmpfs" "$directory"
done
cp -a "$work/etc-libvirt/." /etc/libvirt/
rm -rf /etc/libvirt/qemu/networks/autostart /etc/libvirt/hooks
mkdir -p /etc/libvirt/hooks/qemu.d /var/lib/libvirt/qemu /var/log/libvirt/qemu /run/libvirt /var/cache/libvirt/qemu
# qemu runs as its own account, as on a Debian host (smbvol reads user/group from here for the
# mount's uid=/gid=). A CIFS mount presents every file as owned by the uid=/gid= it was mounted
# with and cannot chown: libvirt's DAC driver must not try to relabel images there
# (dynamic_ownership = 0), nor remember owners in xattrs CIFS may not keep (remember_owner = 0).
cat >/etc/libvirt/qemu.conf <<'CONF'
user = "libvirt-qemu"
group = "libvirt-qemu"
dynamic_ownership = 0
remember_owner = 0
CONF
# smbvol itself is installed from its package once libvirtd runs (below). libvirtd runs the daemon
# hook on SIGHUP right after re-reading its hooks: this one tells the test when that happened.
cat >/etc/libvirt/hooks/daemon <<SH
#!/bin/sh
echo "\$2" >>$work/daemon-hook.log
SH
chmod 755 /etc/libvirt/hooks/daemon

# The CIFS kernel stand-in under the real /sbin/mount.cifs (after the /usr/sbin overlay, so the
# bind mount sits on top of what libvirt's hooks see); the export's server name resolves to
# smbd on 127.0.0.1, its private port stands in for 445.
"$root/tools/cifs-standin/enter-namespace.sh" "$work/standin" --port "$smb_port" --host "127.0.0.1 qumulo-sim.example"

# virsh can outlive a plain timeout's SIGTERM (a daemon whose QEMU driver failed): always KILL.
virsh() { timeout --kill-after=5s 60 /usr/bin/virsh -q -c qemu:///system "$@"; }
virsh_quick() { timeout --kill-after=2s 5 /usr/bin/virsh -q -c qemu:///system "$@"; }

daemon_start=$(now)
(cd / && exec env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin virtlogd) </dev/null >"$work/virtlogd.log" 2>&1 &
virtlogd_pid=$!
for _ in $(seq 100); do [ -S /run/libvirt/virtlogd-sock ] && break; sleep 0.1; done
[ -S /run/libvirt/virtlogd-sock ] || { echo "virtlogd did not create its socket within 10 s"; exit 1; }
# The environment systemd gives it (hooks then get just LC_ALL=C and this PATH: nothing may
# depend on HOME, XDG variables or the working directory).
(cd / && exec env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    LIBVIRT_LOG_OUTPUTS="${SMBVOL_E2E_LIBVIRT_LOG_LEVEL:-3}:stderr" libvirtd) </dev/null >"$work/libvirtd.log" 2>&1 &
libvirtd_pid=$!
libvirtd_failed() {  # the daemon died, or runs without its QEMU driver (virsh would then hang)
    ! kill -0 "$libvirtd_pid" 2>/dev/null || grep -q "Initialization of QEMU state driver failed" "$work/libvirtd.log"
}
libvirtd_up=0
for _ in $(seq 300); do
    if libvirtd_failed; then break; fi
    if [ -S /run/libvirt/libvirt-sock ] && virsh_quick version >/dev/null 2>&1; then libvirtd_up=1; break; fi
    sleep 0.1
done
if [ "$libvirtd_up" != 1 ]; then
    echo "FAIL preflight: libvirtd did not come up with its QEMU driver within 30 s:"
    grep -E "error|Failed" "$work/libvirtd.log" | tail -n 3 | sed 's/^/    /'
    echo "FAIL preflight: run scripts/install-deps (qemu's account: user and group libvirt-qemu)"
    exit 1
fi
echo "libvirtd $(libvirtd --version | awk '{print $NF}') (pid $libvirtd_pid) and virtlogd (pid $virtlogd_pid) up in $(elapsed "$daemon_start")s; scratch $work"

# --- Install the package, as an operator does on a running host -------------------------------
# A KVM host has no policy-rc.d forbidding daemon actions (container images such as this
# machine's do, and the package honours it): hidden in this namespace's /usr overlay.
rm -f /usr/sbin/policy-rc.d
install_start=$(now)
if ! timeout --kill-after=10s 300 dpkg -i "$SMBVOL_DEB" </dev/null >"$work/dpkg.log" 2>&1; then
    echo "FAIL preflight: dpkg -i $SMBVOL_DEB failed:"; sed 's/^/    /' "$work/dpkg.log"; exit 1
fi
if ! grep -qF "sent SIGHUP to libvirtd (pid $libvirtd_pid)" "$work/dpkg.log"; then
    echo "FAIL preflight: the package's postinst did not reload this libvirtd (pid $libvirtd_pid; /run/libvirtd.pid: $(cat /run/libvirtd.pid 2>&1), comm $(cat "/proc/$libvirtd_pid/comm" 2>&1)):"
    sed 's/^/    /' "$work/dpkg.log"; exit 1
fi
for _ in $(seq 300); do grep -qx reload "$work/daemon-hook.log" 2>/dev/null && break; sleep 0.1; done
if ! grep -qx reload "$work/daemon-hook.log" 2>/dev/null; then
    echo "FAIL preflight: libvirtd did not re-read its hooks within 30 s of SIGHUP (daemon hook calls: $(tr '\n' ' ' <"$work/daemon-hook.log" 2>/dev/null))"
    exit 1
fi
echo "installed $(dpkg-query -W -f '${Package} ${Version}' smbvol) with dpkg -i in $(elapsed "$install_start")s; libvirtd reloaded its hooks (SIGHUP from postinst)"

# --- The domains ------------------------------------------------------------------------------
uuid1=5e2e0001-7a1b-4c2d-8e3f-000000000001
uuid2=5e2e0002-7a1b-4c2d-8e3f-000000000002
for n in 1 2; do
    uuid_var=uuid$n
    cat >"$work/e2e$n.xml" <<XML
<domain type='qemu'>
  <name>smbvol-e2e$n</name>
  <uuid>${!uuid_var}</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='$mount_point/e2e$n/disk0.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <console type='pty'/>
  </devices>
</domain>
XML
    virsh define "$work/e2e$n.xml" >/dev/null
done

# --- Helpers for the assertions ---------------------------------------------------------------
last_output=""
virsh_start() {  # DOMAIN: runs virsh start, keeps its output in $last_output, returns its status
    local begun status=0
    begun=$(now)
    last_output=$(virsh start "$1" 2>&1) || status=$?
    log "virsh start $1 → exit $status in $(elapsed "$begun")s${last_output:+: $(echo "$last_output" | tr '\n' ' ')}"
    return "$status"
}
virsh_destroy() {
    local begun status=0
    begun=$(now)
    last_output=$(virsh destroy "$1" 2>&1) || status=$?
    log "virsh destroy $1 → exit $status in $(elapsed "$begun")s"
    return "$status"
}
domain_running() { [ "$(virsh domstate "$1" 2>/dev/null | head -n 1)" = running ]; }
domain_not_running() { ! domain_running "$1"; }
is_mounted() { findmnt -n -M "$mount_point" >/dev/null 2>&1; }
not_mounted() { ! is_mounted; }
mounted_from_share() { [ "$(findmnt -n -o SOURCE -M "$mount_point" 2>/dev/null)" = "//qumulo-sim.example/vms" ]; }
eventually() {  # COMMAND...: true within 10 s (the release hook may still be finishing)
    for _ in $(seq 100); do "$@" && return 0; sleep 0.1; done
    return 1
}
locks_json() { smbvol lock list --json; }
lock_uuids() {  # the domain UUIDs holding locks on share vms, sorted, space separated
    locks_json | python3 -c 'import json,sys; print(" ".join(sorted(l["domain_uuid"] for l in json.load(sys.stdin)["locks"] if l["share"] == "vms")))'
}
locks_are() { [ "$(lock_uuids)" = "$*" ]; }
no_locks() { [ -z "$(lock_uuids)" ]; }
closed_are() { [ "$(closed_locations)" = "$1" ]; }
output_has() { grep -qF -- "$1" <<<"$last_output"; }
qemu_has_image_open() {  # DOMAIN N: the domain's qemu holds the image through the mount
    local pid
    pid=$(cat "/run/libvirt/qemu/$1.pid" 2>/dev/null) || return 1
    ls -l "/proc/$pid/fd" 2>/dev/null | grep -qF "$mount_point/e2e$2/disk0.qcow2"
}
reset_between_scenarios() {  # whatever a failed scenario left: destroy domains, unmount
    for name in smbvol-e2e1 smbvol-e2e2; do if domain_running "$name"; then virsh destroy "$name" >/dev/null 2>&1 || true; fi; done
    if eventually not_mounted; then :; else umount -l "$mount_point" 2>/dev/null || true; fi
    true
}

# --- Scenario 1: a stale handle on the image → start succeeds, exactly it is closed ----------
begin_scenario "1. stale handle (its client has no session) → virsh start succeeds, that handle closed, locked, mounted"
write_scenario "$work/s1.json" \
    '[{"originator": "10.0.0.21", "auth_id": "1001", "idle_seconds": 4, "share_names": ["vms"]}]' \
    '[{"path": "/vms/e2e1/disk0.qcow2", "location": "3.1.77", "owner": "1001", "client_address": "10.0.0.13", "num_byte_range_locks": 2},
      {"path": "/vms/e2e2/disk0.qcow2", "location": "3.1.78", "owner": "1001", "client_address": "10.0.0.21", "num_byte_range_locks": 2}]'
start_sim "$work/s1.json"
write_config continue
mark=$(syslog_mark)
check "virsh start smbvol-e2e1 succeeds" virsh_start smbvol-e2e1
check "the domain is running" domain_running smbvol-e2e1
check "the simulator shows exactly the stale handle 3.1.77 closed" closed_are '["3.1.77"]'
check "the other image's handle (live client 10.0.0.21) is untouched: 1 handle left" [ "$(sim_handle_count)" = 1 ]
check "the attachment lock is recorded for smbvol-e2e1 (smbvol lock list --json)" locks_are "$uuid1"
check "the share is mounted at $mount_point from //qumulo-sim.example/vms (findmnt)" mounted_from_share
check "qemu has the image open through the mount" qemu_has_image_open smbvol-e2e1 1
qemu_uid=$(id -u libvirt-qemu) qemu_gid=$(getent group libvirt-qemu | cut -d: -f3)
qemu_runs_as_libvirt_qemu() {
    local pid
    pid=$(cat /run/libvirt/qemu/smbvol-e2e1.pid) && [ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = "$qemu_uid" ]
}
check "qemu runs as libvirt-qemu (uid $qemu_uid), not root" qemu_runs_as_libvirt_qemu
option_string_ok() {
    tail -n 1 "$work/standin/mount-calls.log" | grep -qF "vers=3.1.1,cache=none,uid=$qemu_uid,gid=$qemu_gid,user=svc-kvm,domain=WORKGROUP,pass=<redacted:"
}
check "mount(2) got uid=$qemu_uid,gid=$qemu_gid (qemu.conf's account), the modes and the credentials file's user (the real mount.cifs's option string)" option_string_ok
check "the mount presents the image as owned by libvirt-qemu" [ "$(stat -c %u "$mount_point/e2e1/disk0.qcow2")" = "$qemu_uid" ]
check "smbstatus --json shows smbd has e2e1/disk0.qcow2 open while the domain runs" image_open_on_server e2e1/disk0.qcow2
audited_close() { syslog_since "$mark" | grep "event=close" | grep "location=3.1.77" | grep "client_address=10.0.0.13" | grep -q "outcome=closed"; }
check "syslog has the audit line for the close (event=close location=3.1.77 client_address=10.0.0.13 outcome=closed)" audited_close
end_scenario

# --- Scenario 2: destroy → lock gone, share unmounted ------------------------------------------
begin_scenario "2. virsh destroy → lock gone, share unmounted"
check "virsh destroy smbvol-e2e1 succeeds" virsh_destroy smbvol-e2e1
check "the lock is gone" eventually no_locks
check "the share is unmounted" eventually not_mounted
check "smbstatus shows e2e1/disk0.qcow2 closed after virsh destroy" eventually image_closed_on_server e2e1/disk0.qcow2
check "the FUSE client went away with the unmount" eventually eval '! pgrep -f "smbnetfs $mount_point " >/dev/null'
end_scenario
reset_between_scenarios

# --- Scenario 3: a live foreign holder → start refused, nothing closed --------------------------
begin_scenario "3. live foreign holder → virsh start fails naming the holder, nothing closed"
write_scenario "$work/s3.json" \
    '[{"originator": "10.0.0.99", "auth_id": "1001", "idle_seconds": 3, "share_names": ["vms"]}]' \
    '[{"path": "/vms/e2e1/disk0.qcow2", "location": "3.1.90", "owner": "1001", "client_address": "10.0.0.99", "num_byte_range_locks": 2}]'
start_sim "$work/s3.json"
write_config continue
mark=$(syslog_mark)
if virsh_start smbvol-e2e1; then fail "virsh start smbvol-e2e1 should have failed"; else ok "virsh start smbvol-e2e1 fails"; fi
check "the error comes from the hook" output_has "Hook script execution failed"
check "the error names the holder's address 10.0.0.99" output_has "10.0.0.99"
audited_refusal() { syslog_since "$mark" | grep "event=refuse" | grep -q "client_address=10.0.0.99"; }
check "syslog has the refusal (event=refuse client_address=10.0.0.99), and no close" audited_refusal
check "... and no event=close" eval '! syslog_since "$mark" | grep -q "event=close"' 
check "the domain is not running" domain_not_running smbvol-e2e1
check "nothing was closed" closed_are '[]'
check "the holder's handle is still there" [ "$(sim_handle_count)" = 1 ]
check "no lock is left" eventually no_locks
check "the share is not left mounted" eventually not_mounted
end_scenario
reset_between_scenarios

# --- Scenario 4: the cluster unreachable -------------------------------------------------------
begin_scenario "4a. simulator unreachable, on_cluster_error = \"continue\" → start proceeds, syslog warns"
write_scenario "$work/s4.json" '[]' \
    '[{"path": "/vms/e2e1/disk0.qcow2", "location": "3.1.77", "owner": "1001", "client_address": "10.0.0.13"}]'
start_sim "$work/s4.json"
stop_sim  # its port is now closed: connection refused
write_config continue
mark=$(syslog_mark)
check "virsh start smbvol-e2e1 succeeds" virsh_start smbvol-e2e1
check "the domain is running" domain_running smbvol-e2e1
check "the share is mounted" mounted_from_share
check "the lock is recorded" locks_are "$uuid1"
warned() { syslog_since "$mark" | grep "^<28>" | grep "smbvol\[" | grep -q "cluster unavailable; start continues"; }
check "syslog has the warning (<28> = daemon.warning, \"cluster unavailable; start continues ...\")" warned
check "virsh destroy smbvol-e2e1 succeeds" virsh_destroy smbvol-e2e1
check "then the lock is gone and the share unmounted" eventually no_locks
check "... and unmounted" eventually not_mounted
end_scenario
reset_between_scenarios

begin_scenario "4b. simulator unreachable, on_cluster_error = \"fail\" → start fails with the reason"
write_config fail
if virsh_start smbvol-e2e1; then fail "virsh start smbvol-e2e1 should have failed"; else ok "virsh start smbvol-e2e1 fails"; fi
check "the error comes from the hook" output_has "Hook script execution failed"
check "the error gives the reason (on_cluster_error = fail, cluster not reachable)" output_has "on_cluster_error = fail"
check "the domain is not running" domain_not_running smbvol-e2e1
check "no lock is left" eventually no_locks
check "the share is not left mounted" eventually not_mounted
end_scenario
reset_between_scenarios

# --- Scenario 5: two domains on one share -------------------------------------------------------
begin_scenario "5. two domains on one share: destroying one keeps the share mounted for the other"
write_scenario "$work/s5.json" \
    '[{"originator": "10.0.0.21", "auth_id": "1001", "idle_seconds": 4, "share_names": ["vms"]}]' '[]'
start_sim "$work/s5.json"
write_config continue
mounts_before=$(mount_calls)
check "virsh start smbvol-e2e1 succeeds" virsh_start smbvol-e2e1
check "virsh start smbvol-e2e2 succeeds" virsh_start smbvol-e2e2
check "mount(2) ran once for both starts" [ "$(($(mount_calls) - mounts_before))" = 1 ]
check "both domains are running" domain_running smbvol-e2e1
check "... (smbvol-e2e2)" domain_running smbvol-e2e2
check "both hold locks on the share" locks_are "$uuid1 $uuid2"
check "the share is mounted once" [ "$(findmnt -rn -o TARGET | grep -cxF "$mount_point")" = 1 ]
# Reconcile asks the real libvirtd which domains are active (virDomainIsActive).
check "smbvol reconcile (qemu:///system) drops neither running domain's lock" \
    eval 'smbvol reconcile --connect qemu:///system >"$work/reconcile.out" 2>&1 && ! grep -q "drop" "$work/reconcile.out"'
check "... both locks are still there and the share mounted" eval 'locks_are "$uuid1 $uuid2" && mounted_from_share'
# The heartbeat record goes through the real SMB mount: smbd's own directory holds it.
heartbeat_on_server() {
    python3 - "$share_dir/.smbvol/hosts/e2e-host-a.json" "$uuid1" "$uuid2" <<'PY'
import json, sys
record = json.load(open(sys.argv[1]))
uuids = sorted(image["domain_uuid"] for image in record["images"])
assert record["host_id"] == "e2e-host-a", record
assert "198.51.100.7" in record["addresses"], record
assert uuids == sorted(sys.argv[2:]), uuids
PY
}
check "smbvol heartbeat --once writes over SMB" smbvol heartbeat --once
check "smbd's share directory has this host's record listing both domains' images (.smbvol/hosts/e2e-host-a.json)" heartbeat_on_server
check "... and the by-address entry for 198.51.100.7" eval '[ -f "$share_dir/.smbvol/by-address/198.51.100.7/e2e-host-a.json" ]'
check "virsh destroy smbvol-e2e1 succeeds" virsh_destroy smbvol-e2e1
check "smbvol-e2e1's lock is gone, smbvol-e2e2's remains" eventually locks_are "$uuid2"
check "smbvol reconcile after the destroy still keeps smbvol-e2e2's lock" \
    eval 'smbvol reconcile --connect qemu:///system >/dev/null 2>&1 && locks_are "$uuid2"'
check "the share stays mounted for smbvol-e2e2" mounted_from_share
check "smbvol-e2e2 is still running with its image open" qemu_has_image_open smbvol-e2e2 2
check "virsh destroy smbvol-e2e2 succeeds" virsh_destroy smbvol-e2e2
check "no lock is left" eventually no_locks
check "the share is unmounted" eventually not_mounted
check "nothing was closed on the cluster" closed_are '[]'
end_scenario
reset_between_scenarios

# --- Scenario 6: a dead mount (its FUSE client killed) → the next start mounts afresh -----------
begin_scenario "6. dead mount (the SMB client behind it killed: ENOTCONN) → the next virsh start unmounts it, mounts afresh, starts"
write_scenario "$work/s6.json" '[]' '[]'
start_sim "$work/s6.json"
write_config continue
check "virsh start smbvol-e2e1 succeeds" virsh_start smbvol-e2e1
hold_id=$(smbvol lock add --share vms --reason "e2e: keep the share mounted")
check "virsh destroy smbvol-e2e1 succeeds (an operator lock keeps the share mounted)" virsh_destroy smbvol-e2e1
check "the share stays mounted" mounted_from_share
for pid in $(pgrep -f "smbnetfs $mount_point "); do kill -KILL "$pid"; done
dead_mount() { local out; out=$(stat "$mount_point" 2>&1) && return 1; [[ $out == *"Transport endpoint is not connected"* ]]; }
check "the mount is dead (stat: Transport endpoint is not connected)" eventually dead_mount
mark=$(syslog_mark)
check "virsh start smbvol-e2e1 succeeds" virsh_start smbvol-e2e1
check "the domain is running with its image open" qemu_has_image_open smbvol-e2e1 1
check "the share is mounted again and answers" eval 'mounted_from_share && stat "$mount_point" >/dev/null'
audited_dead_mount() { syslog_since "$mark" | grep -q "event=dead-mount"; }
check "syslog has the dead mount (event=dead-mount) and the new mount" eval 'audited_dead_mount && syslog_since "$mark" | grep -q "event=mount "'
check "virsh destroy smbvol-e2e1 succeeds" virsh_destroy smbvol-e2e1
check "smbvol lock delete removes the operator lock and unmounts" eval 'smbvol lock delete "$hold_id" >/dev/null && eventually not_mounted'
end_scenario
reset_between_scenarios

# --- Scenario 7: a wrong SMB password → the start refused naming mount error 13 --------------------
begin_scenario "7. wrong SMB password → virsh start fails naming mount error 13 and the credentials file; nothing left behind"
cp "$work/secrets/vms.cred" "$work/secrets/vms.cred.good"
printf 'username=svc-kvm\npassword=not-the-password\n' >"$work/secrets/vms.cred"
if virsh_start smbvol-e2e1; then fail "virsh start smbvol-e2e1 should have failed"; else ok "virsh start smbvol-e2e1 fails"; fi
check "the error names mount error 13" output_has "mount error 13"
check "... and what to check (the credentials file)" output_has "credentials file"
check "the domain is not running" domain_not_running smbvol-e2e1
check "no lock is left" eventually no_locks
check "the share is not left mounted" eventually not_mounted
check "no temporary SMB credentials file is left (only the cluster's token store)" \
    eval '[ -z "$(ls -A "$work/state/credentials" 2>/dev/null | grep -vxE "sim|sim[.]lock")" ]'
mv "$work/secrets/vms.cred.good" "$work/secrets/vms.cred"
end_scenario
reset_between_scenarios

# --- Teardown, asserted ---------------------------------------------------------------------------
begin_scenario "teardown: daemons stopped by pid, no mounts left"
stop_sim
for pid in $(qemu_pids); do stop_pid "$pid"; done
stop_pid "$libvirtd_pid"
check "libvirtd (pid $libvirtd_pid) stopped" eval '! kill -0 '"$libvirtd_pid"' 2>/dev/null'
stop_pid "$virtlogd_pid"
check "virtlogd (pid $virtlogd_pid) stopped" eval '! kill -0 '"$virtlogd_pid"' 2>/dev/null'
libvirtd_pid="" virtlogd_pid=""
check "no mount left under $work/mnt" eval '! findmnt -rn -o TARGET | grep -qF "$work/mnt"'
# libvirt logs every failing hook run: exactly the three refused starts (3, 4b and 7), never a
# release/stopped/started run.
hook_failures() { grep -c "virRunScript.*Hook script execution failed" "$work/libvirtd.log" || true; }
check "libvirtd saw exactly 3 failing hook runs, all 'prepare begin'" \
    eval '[ "$(hook_failures)" = 3 ] && ! grep "virRunScript.*Hook script execution failed" "$work/libvirtd.log" | grep -v -q "prepare begin"'
end_scenario

finished=1
echo
if ((failures == 0)); then
    echo "PASS: libvirt end-to-end, all scenarios ($(elapsed "$start_time")s)"
else
    echo "FAIL: libvirt end-to-end, $failures scenario(s) failed ($(elapsed "$start_time")s)"
    exit 1
fi
