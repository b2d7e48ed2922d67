#!/usr/bin/env bash
# A real Samba server for tests and the demo: smbd on 127.0.0.1 on a private port, with a private
# smb.conf and private state/lock/private/cache directories under DIR, stopped by its pid. Nothing
# of the machine's Samba set-up is read or changed.
#
#   samba-test-server.sh start DIR --port PORT --share NAME=PATH... --user NAME...
#       Passwords come on stdin, one line per --user, in order (never on a command line). The
#       users exist only for this server: smbd runs in a mount namespace of its own whose
#       /etc/passwd and /etc/group are copies with the users added; every share is served as
#       root (force user), so the share directories need no particular owner. Prints smbd's pid
#       and writes it to DIR/smbd.pid; waits (at most 10 s) until the port accepts connections.
#   samba-test-server.sh stop DIR          SIGTERM by pid, SIGKILL after 5 s.
#   samba-test-server.sh status DIR        smbstatus --json against this server (open files etc.).
#   samba-test-server.sh free-port         a TCP port on 127.0.0.1 nothing listens on (now).
set -euo pipefail

usage() { echo "usage: $0 start DIR --port PORT --share NAME=PATH... --user NAME... | stop DIR | status DIR | free-port" >&2; exit 64; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start() {
    local dir=$1; shift
    local port="" shares=() users=()
    while (($#)); do
        case $1 in
            --port) port=$2; shift 2 ;;
            --share) shares+=("$2"); shift 2 ;;
            --user) users+=("$2"); shift 2 ;;
            *) usage ;;
        esac
    done
    [ -n "$port" ] && ((${#shares[@]})) || usage
    mkdir -p "$dir"/{run,lock,state,cache,private,log,ncalrpc,etc}
    chmod 0700 "$dir" "$dir/private"
    {
        cat <<CONF
[global]
  netbios name = SMBVOLTEST
  workgroup = WORKGROUP
  server role = standalone server
  security = user
  map to guest = never
  smb ports = $port
  interfaces = 127.0.0.1
  bind interfaces only = yes
  disable netbios = yes
  pid directory = $dir/run
  lock directory = $dir/lock
  state directory = $dir/state
  cache directory = $dir/cache
  private dir = $dir/private
  ncalrpc dir = $dir/ncalrpc
  log file = $dir/log/log.%m
  max log size = 1000
  passdb backend = tdbsam:$dir/private/passdb.tdb
  load printers = no
  printcap name = /dev/null
  disable spoolss = yes
  server min protocol = SMB2_02
CONF
        local share
        for share in "${shares[@]}"; do
            printf '\n[%s]\n  path = %s\n  read only = no\n  force user = root\n  force group = root\n' "${share%%=*}" "${share#*=}"
        done
    } > "$dir/smb.conf"
    cp /etc/passwd "$dir/etc/passwd"
    cp /etc/group "$dir/etc/group"
    local uid=61000 user
    for user in "${users[@]}"; do
        printf '%s:x:%d:%d:smbvol test user:/nonexistent:/usr/sbin/nologin\n' "$user" "$uid" "$uid" >> "$dir/etc/passwd"
        printf '%s:x:%d:\n' "$user" "$uid" >> "$dir/etc/group"
        uid=$((uid + 1))
    done

    # The subshell execs setsid, which execs unshare (no fork), which execs sh, which execs smbd:
    # the pid of the background job is smbd's. smbd keeps none of our descriptors beyond 0-2 (a
    # caller waiting for EOF on one it gave us would wait for smbd).
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            ((fd > 2)) && eval "exec $fd>&-"
        done
        exec setsid unshare -m --propagation private /bin/sh -c \
            'mount --bind "$0/etc/passwd" /etc/passwd && mount --bind "$0/etc/group" /etc/group &&
             exec smbd --foreground --no-process-group --configfile="$0/smb.conf"' "$dir"
    ) </dev/null >"$dir/log/smbd.out" 2>&1 &
    local pid=$!
    echo "$pid" > "$dir/smbd.pid"
    local tries=0
    until timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; do
        tries=$((tries + 1))
        if ((tries > 50)) || ! kill -0 "$pid" 2>/dev/null; then
            echo "samba-test-server: smbd did not start on 127.0.0.1:$port: $(tail -n 3 "$dir/log/smbd.out" | tr '\n' ' ')" >&2
            stop "$dir"
            exit 1
        fi
        sleep 0.2
    done
    for user in "${users[@]}"; do
        local password
        IFS= read -r password || { echo "samba-test-server: no password on stdin for $user" >&2; stop "$dir"; exit 1; }
        if ! printf '%s\n%s\n' "$password" "$password" |
            timeout --kill-after=5s 20s nsenter -t "$pid" -m smbpasswd -c "$dir/smb.conf" -a -s "$user" >/dev/null; then
            echo "samba-test-server: smbpasswd could not add $user" >&2
            stop "$dir"
            exit 1
        fi
    done
    echo "$pid"
}

stop() {
    local dir=$1 pid
    pid=$(cat "$dir/smbd.pid" 2>/dev/null) || return 0
    # Only ever our own smbd: the pid must still run with our configuration.
    if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--configfile=$dir/smb.conf"; then
        kill -CONT "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/smbd.pid"
}

case ${1:-} in
    start) (($# >= 2)) || usage; shift; start "$@" ;;
    stop) (($# == 2)) || usage; stop "$2" ;;
    status)
        (($# == 2)) || usage
        # In smbd's namespace when it runs, where its users' names resolve.
        pid=$(cat "$2/smbd.pid" 2>/dev/null || true)
        enter=()
        [ -n "$pid" ] && [ -e "/proc/$pid/ns/mnt" ] && enter=(nsenter -t "$pid" -m --)
        timeout --kill-after=5s 20s "${enter[@]}" smbstatus --json --configfile="$2/smb.conf" ;;
    free-port) free_port ;;
    *) usage ;;
esac
