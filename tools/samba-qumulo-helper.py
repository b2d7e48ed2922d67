#!/usr/bin/python3
"""What qumulo-sim's Samba backend asks a real smbd (Simulator/Sources/QumuloSimulator/SambaBackend.swift).

Runs where the smbd runs (its network, mount and PID namespaces: smbstatus checks smbd's pids,
srvsvc dials port 445). Debian's python3-samba, so /usr/bin/python3.

  samba-qumulo-helper.py snapshot --config SMBCONF --server ADDR --admin-file FILE --root DIR
      One JSON object on stdout: "opens" (smbstatus --json -B, each with its srvsvc file id
      (pid << 16) | share_file_id, the file's inode and path relative to --root, the client
      address of the session of the same smbd pid, its byte-range lock count), "sessions"
      (smbstatus sessions with NetSessEnum level 10 idle/open times), "files" (every file and
      directory under --root with its inode), "errors" (what could not be asked).
  samba-qumulo-helper.py close --config SMBCONF --server ADDR --admin-file FILE --fid N
      srvsvc NetFileClose(N); {"error": ""} or {"error": "..."}; exit 0 either way.

  samba-qumulo-helper.py restrict --config SMBCONF --share NAME [--allow LIST] [--deny LIST] ...
      Host restrictions of one share: writes "hosts allow"/"hosts deny" (LIST: Samba's syntax,
      e.g. "ALL EXCEPT 203.0.113.12"; absent: not set) into DIR/NAME-deny.conf, the file the
      share's section of SMBCONF includes (refused when it includes none), atomically, then
      "smbcontrol smbd reload-config". {"error": ""} or {"error": "..."}; exit 0 either way.
  samba-qumulo-helper.py close-session --config SMBCONF --session ID --pid N ...
      Drops one client connection: the smbd child N serving session ID (smbstatus) gets SIGTERM,
      SIGKILL after 2 s; then smbstatus must list neither the session nor the pid.
      {"error": ""} or {"error": "..."}; exit 0 either way.

--admin-file: "user\\npassword\\n" of an SMB account that may enumerate and close (root).
Each caller bounds the whole run with a timeout.
"""
import argparse
import json
import os
import subprocess
import sys


def connect(args):
    from samba import credentials, param
    from samba.dcerpc import srvsvc
    lp = param.LoadParm()
    lp.load(args.config)
    with open(args.admin_file) as f:
        user, password = f.read().splitlines()[:2]
    creds = credentials.Credentials()
    creds.guess(lp)
    creds.set_username(user)
    creds.set_password(password)
    conn = srvsvc.srvsvc(f"ncacn_np:{args.server}[\\pipe\\srvsvc]", lp, creds)
    return srvsvc, conn


def sessions_by_rpc(args, errors):
    """client address -> list of (user, idle seconds, open seconds), from NetSessEnum level 10."""
    result = {}
    try:
        srvsvc, conn = connect(args)
        entries = None
        # Level 10 (client, user, time, idle_time) where the server has it; Samba 4.17's
        # rpcd_classic answers WERR_INVALID_LEVEL there, and level 1 carries the same fields.
        for level, ctr_type in ((10, srvsvc.NetSessCtr10), (1, srvsvc.NetSessCtr1)):
            info = srvsvc.NetSessInfoCtr()
            info.level = level
            info.ctr = ctr_type()
            try:
                out, _, _ = conn.NetSessEnum(f"\\\\{args.server}", None, None, info, 0xFFFFFFFF, 0)
            except Exception as error:
                if "INVALID_LEVEL" in str(error):
                    continue
                raise
            entries = out.ctr.array or []
            break
        for entry in (entries or []):
            client = (entry.client or "").lstrip("\\")
            result.setdefault(client, []).append((entry.user or "", int(entry.idle_time), int(entry.time)))
    except Exception as error:  # reported, never fatal: the listing says what it could not ask
        errors.append(f"NetSessEnum: {error}")
    return result


def smbstatus(args, errors, brl=True):
    try:
        out = subprocess.run(["timeout", "--kill-after=2", "15", "smbstatus", "--json"] + (["-B"] if brl else [])
                             + ["--configfile=" + args.config], capture_output=True, text=True, timeout=20)
        if out.returncode != 0:
            errors.append(f"smbstatus exit {out.returncode}: {out.stderr.strip()[:200]}")
            return {}
        return json.loads(out.stdout)
    except Exception as error:
        errors.append(f"smbstatus: {error}")
        return {}


def snapshot(args):
    errors = []
    status = smbstatus(args, errors)
    root = os.path.realpath(args.root)
    sessions_by_pid = {}
    sessions = []
    rpc = sessions_by_rpc(args, errors)
    for sid, s in (status.get("sessions") or {}).items():
        pid = int(s["server_id"]["pid"])
        client = s.get("remote_machine", "")
        user = s.get("username", "")
        # Several sessions from one client: the least idle of that client's user counts (errs on live).
        matches = [e for e in rpc.get(client, []) if e[0].lower() == user.lower()] or rpc.get(client, [])
        idle = min((e[1] for e in matches), default=None)
        opened = max((e[2] for e in matches), default=None)
        # The server's own address of this connection (the channel's local address, "ipv4:A:445").
        local = ""
        for channel in (s.get("channels") or {}).values():
            local = local or channel.get("local_address", "")
        server = local.split(":")[1] if local.startswith("ipv4:") and local.count(":") == 2 else ""
        entry = {"id": sid, "pid": pid, "client": client, "user": user, "uid": s.get("uid"), "server": server,
                 "idle_seconds": idle, "open_seconds": opened, "dialect": s.get("session_dialect", "")}
        sessions.append(entry)
        sessions_by_pid.setdefault(pid, entry)
    locks_by_pid_path = {}
    for path, entry in (status.get("byte_range_locks") or {}).items():
        for lock in entry.get("locks", []):
            key = (int(lock["server_id"]["pid"]), os.path.realpath(path))
            locks_by_pid_path[key] = locks_by_pid_path.get(key, 0) + 1
    opens = []
    for path, f in (status.get("open_files") or {}).items():
        real = os.path.realpath(path)
        rel = "/" + os.path.relpath(real, root) if real.startswith(root + "/") else None
        inode = (f.get("fileid") or {}).get("inode")
        for key, o in (f.get("opens") or {}).items():
            pid = int(o["server_id"]["pid"])
            sfid = int(o["share_file_id"])
            session = sessions_by_pid.get(pid)
            opens.append({
                "fid": (pid << 16) | sfid, "pid": pid, "share_file_id": sfid, "path": rel, "server_path": real,
                "inode": inode, "client": session["client"] if session else None,
                "user": session["user"] if session else None,
                "sharemode": (o.get("sharemode") or {}).get("text", ""),
                "access": (o.get("access_mask") or {}).get("text", ""),
                "num_locks": locks_by_pid_path.get((pid, real), 0)})
    files = [{"path": "/", "inode": os.stat(root).st_ino, "size": 0, "dir": True}]
    count = 0
    for directory, dirs, names in os.walk(root):
        for name in dirs + names:
            full = os.path.join(directory, name)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            files.append({"path": "/" + os.path.relpath(full, root), "inode": st.st_ino, "size": st.st_size,
                          "dir": os.path.isdir(full)})
            count += 1
            if count >= 20000:
                errors.append("more than 20000 files under the root: listing cut")
                break
        if count >= 20000:
            break
    json.dump({"opens": opens, "sessions": sessions, "files": files, "errors": errors}, sys.stdout)


def close(args):
    try:
        srvsvc, conn = connect(args)
        conn.NetFileClose(f"\\\\{args.server}", int(args.fid))
        print(json.dumps({"error": ""}))
    except Exception as error:
        print(json.dumps({"error": f"NetFileClose({args.fid}): {error}"}))


def share_include(config, share):
    """The per-share include file DIR/SHARE-deny.conf, if SHARE's section of config includes it."""
    path = os.path.join(os.path.dirname(os.path.abspath(config)), f"{share}-deny.conf")
    section = None
    for line in open(config):
        text = line.strip()
        if text.startswith("[") and text.endswith("]"):
            section = text[1:-1].strip().lower()
        elif section == share.lower() and text.replace(" ", "").lower() == "include=" + path.lower():
            return path
    return None


def restrict(args):
    path = share_include(args.config, args.share)
    if path is None:
        print(json.dumps({"error": f"share {args.share}: its section of {args.config} includes no "
                                   f"{args.share}-deny.conf: host restrictions cannot be enforced"}))
        return
    lines = ["# written by samba-qumulo-helper.py restrict (the share's network_permissions)\n"]
    for key, value in (("hosts allow", args.allow), ("hosts deny", args.deny)):
        if value is not None:
            if any(c in value for c in "\n\r\\[]=;#"):
                print(json.dumps({"error": f"{key}: invalid characters in {value!r}"}))
                return
            lines.append(f"{key} = {value}\n")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.writelines(lines)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    try:
        out = subprocess.run(["timeout", "--kill-after=2", "8", "smbcontrol", "--configfile=" + args.config,
                              "smbd", "reload-config"], capture_output=True, text=True, timeout=12)
        if out.returncode != 0:
            print(json.dumps({"error": f"smbcontrol smbd reload-config exit {out.returncode}: "
                                       f"{(out.stderr or out.stdout).strip()[:200]}"}))
            return
    except Exception as error:
        print(json.dumps({"error": f"smbcontrol smbd reload-config: {error}"}))
        return
    print(json.dumps({"error": ""}))


def smbd_parent_pid(config):
    """smbd's main process (from its pid file), never to be killed for one client."""
    from samba import param
    lp = param.LoadParm()
    lp.load(config)
    try:
        return int(open(os.path.join(lp.get("pid directory"), "smbd.pid")).read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1].split()[0] != "Z"
    except OSError:
        return False


def close_session(args):
    import signal
    import time
    pid = int(args.pid)
    errors = []
    status = smbstatus(args, errors, brl=False)
    if errors:
        print(json.dumps({"error": "; ".join(errors)}))
        return
    listed = status.get("sessions") or {}
    session = listed.get(args.session)
    if session is None:
        print(json.dumps({"error": f"no SMB session {args.session}"}))
        return
    if int(session["server_id"]["pid"]) != pid:
        print(json.dumps({"error": f"session {args.session} is served by smbd {session['server_id']['pid']}, not {pid}"}))
        return
    if pid <= 1 or pid == smbd_parent_pid(args.config):
        print(json.dumps({"error": f"refusing to kill smbd {pid}: the main smbd process"}))
        return
    try:
        comm = open(f"/proc/{pid}/comm").read().strip()
    except OSError:
        comm = ""
    if comm and not comm.startswith("smbd"):
        print(json.dumps({"error": f"process {pid} is {comm!r}, not an smbd"}))
        return
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.time() + wait
        while time.time() < deadline and alive(pid):
            time.sleep(0.05)
        if not alive(pid):
            break
    if alive(pid):
        print(json.dumps({"error": f"smbd {pid} (session {args.session}) still runs after SIGKILL"}))
        return
    # Confirmed: smbd's own listing shows neither the session nor the process.
    for _ in range(20):
        errors = []
        status = smbstatus(args, errors, brl=False)
        if not errors:
            left = [sid for sid, s in (status.get("sessions") or {}).items()
                    if sid == args.session or int(s["server_id"]["pid"]) == pid]
            if not left:
                print(json.dumps({"error": ""}))
                return
        time.sleep(0.1)
    print(json.dumps({"error": f"session {args.session} still listed after smbd {pid} ended: {'; '.join(errors)}"}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["snapshot", "close", "restrict", "close-session"])
    parser.add_argument("--config", required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--admin-file", required=True)
    parser.add_argument("--root", default="/")
    parser.add_argument("--fid")
    parser.add_argument("--share")
    parser.add_argument("--allow")
    parser.add_argument("--deny")
    parser.add_argument("--session")
    parser.add_argument("--pid")
    args = parser.parse_args()
    {"snapshot": snapshot, "close": close, "restrict": restrict, "close-session": close_session}[args.command](args)


if __name__ == "__main__":
    main()
