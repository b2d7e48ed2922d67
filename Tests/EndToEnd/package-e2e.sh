#!/usr/bin/env bash
# The Debian package's life cycle, with the real dpkg and the package's real maintainer scripts:
#
#   Tests/EndToEnd/package-e2e.sh DEB      # DEB: smbvol_<version>_amd64.deb from scripts/package
#
# lintian reports no errors; install version N; what it installed (binary and --version, hook,
# conffiles, directories and their modes, units enabled, man pages that `man` shows, working
# completions); the operator edits the conffile and adds a secret; N+1 (scripts/package
# --binary, same conffile) keeps the edit without a prompt; N+2 (a changed conffile) keeps it
# with --force-confold and leaves the new one as .dpkg-dist; remove keeps configuration, secrets
# and state and switches the hook off; a reinstall switches it on; purge removes the
# configuration and the state but never anything on a mount below /var/lib/smbvol.
#
# Needs root. dpkg runs in a PRIVATE mount namespace where /etc, /usr and /var are overlays (the
# writes land in a scratch directory) and /run is a tmpfs: the host's files, package database and
# daemons are never touched. Prints one PASS/FAIL line per step; every command is bounded.
set -euo pipefail
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}"
export LC_ALL=C

if [ $# -ne 1 ] || [ ! -f "$1" ]; then
    echo "usage: $0 DEB   (the package scripts/package built)" >&2
    exit 2
fi
deb=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

# --- Outside the namespace: preflight, the versions to upgrade to, lintian ---------------------
if [ "${SMBVOL_PACKAGE_E2E_IN_NAMESPACE:-}" != 1 ]; then
    problems=()
    [ "$(id -u)" -eq 0 ] || problems+=("must run as root (dpkg, mounts)")
    for tool in dpkg dpkg-deb lintian man unshare findmnt timeout bash python3; do
        command -v "$tool" >/dev/null 2>&1 || problems+=("$tool not found")
    done
    if ((${#problems[@]})); then
        printf 'FAIL preflight: %s\n' "${problems[@]}"
        echo "FAIL preflight: run scripts/install-deps (dpkg-dev, lintian, man-db)"
        exit 1
    fi
    work=$(mktemp -d /tmp/smbvol-package-e2e.XXXXXX)
    chmod 755 "$work"
    # Every signal unblocked, as on a host: processes the Swift tests spawn inherit a mask that
    # blocks SIGHUP, which the stand-in libvirtd below must receive.
    SMBVOL_PACKAGE_E2E_IN_NAMESPACE=1 SMBVOL_PACKAGE_E2E_WORK=$work \
        python3 -c 'import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])' \
        unshare --mount --propagation private bash "$script" "$deb" && status=0 || status=$?
    if [ "${SMBVOL_E2E_KEEP:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
    exit "$status"
fi

# --- Inside the namespace -----------------------------------------------------------------------
work=$SMBVOL_PACKAGE_E2E_WORK
start_time=$(date +%s.%N)
failures=0
finished=0
elapsed() { awk -v from="$1" -v to="$(date +%s.%N)" 'BEGIN { printf "%.2f", to - from }'; }

cleanup() {
    local status=$?
    trap - EXIT
    set +e
    if [ "$finished" != 1 ]; then
        echo "FAIL: the test aborted before finishing (exit status $status)"
        echo "---- last dpkg output ----"; cat "$work/dpkg.out" 2>/dev/null
        status=1
    fi
    findmnt -rn -o TARGET | grep -F "$work" | sort -r | while read -r target; do umount -l "$target"; done
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step_failures=0
fail() { printf '   FAILED: %s\n' "$*"; step_failures=$((step_failures + 1)); }
ok() { printf '   ok: %s\n' "$*"; }
check() {  # DESCRIPTION COMMAND...: the command must succeed
    local description=$1
    shift
    if "$@"; then ok "$description"; else fail "$description"; fi
}
begin_step() { step_name=$1; step_failures=0; step_start=$(date +%s.%N); printf '\n== %s\n' "$step_name"; }
end_step() {
    if ((step_failures == 0)); then
        echo "PASS: $step_name ($(elapsed "$step_start")s)"
    else
        echo "FAIL: $step_name ($step_failures failed assertion(s), $(elapsed "$step_start")s)"
        echo "---- dpkg output ----"; cat "$work/dpkg.out" 2>/dev/null
        failures=$((failures + 1))
    fi
}

version=$(dpkg-deb -f "$deb" Version)
upstream=${version%-*}
revision=${version##*-}
[[ "$revision" =~ ^[0-9]+$ ]] || { echo "FAIL: $deb's revision '$revision' is not a number"; exit 1; }
version1=$upstream-$((revision + 1))
version2=$upstream-$((revision + 2))

# --- lintian, and the packages to upgrade to (before the overlays: plain reads) ----------------
begin_step "lintian reports no errors on $(basename "$deb")"
lintian_status=0
timeout --kill-after=10s 600 lintian --tag-display-limit 0 "$deb" >"$work/lintian.out" 2>&1 || lintian_status=$?
sed 's/^/   lintian: /' "$work/lintian.out"
check "lintian exits 0 (no error tags)" [ "$lintian_status" = 0 ]
check "no E: lines" eval '! grep -q "^E: " "$work/lintian.out"'
end_step

begin_step "N+1 ($version1) from scripts/package --binary (same binary, same conffile); N+2 ($version2) with a changed conffile"
dpkg-deb -x "$deb" "$work/unpacked"
mkdir -p "$work/debs"
package_status=0
timeout --kill-after=10s 900 "$root/scripts/package" --binary "$work/unpacked/usr/sbin/smbvol" \
    --version "$version1" --output "$work/debs" >"$work/package.out" 2>"$work/package.err" || package_status=$?
deb1=$work/debs/smbvol_${version1}_amd64.deb
check "scripts/package --binary --version $version1 succeeds" [ "$package_status" = 0 ]
check "it prints the path of the .deb it built" [ "$(cat "$work/package.out")" = "$deb1" ]
check "its changelog has an entry for $version1" \
    eval 'dpkg-deb --fsys-tarfile "$deb1" | tar -xO ./usr/share/doc/smbvol/changelog.Debian.gz | zcat | head -n 1 | grep -qF "smbvol ($version1)"'
refused=$("$root/scripts/package" --binary "$work/unpacked/usr/sbin/smbvol" --version 9.9.9-1 --output "$work/debs" 2>&1) && fail "--version 9.9.9-1 was accepted" ||
    check "scripts/package refuses a version that is not smbvol's (one line, says what to do): $refused" \
        eval '[ "$(wc -l <<<"$refused")" = 1 ] && grep -q "Sources/smbvol/Version.swift" <<<"$refused"'
# N+2: what a release adding a configuration key looks like to dpkg (the shipped conffile changed).
dpkg-deb -R "$deb1" "$work/repack"
sed -i "s/^Version: .*/Version: $version2/" "$work/repack/DEBIAN/control"
printf '\n# added in %s: a key the operator has not seen yet\n' "$version2" >>"$work/repack/etc/smbvol/smbvol.toml"
(cd "$work/repack" && find . -path ./DEBIAN -prune -o -type f -print0 | sed -z 's|^\./||' | sort -z | xargs -0 md5sum) >"$work/repack/DEBIAN/md5sums"
deb2=$work/debs/smbvol_${version2}_amd64.deb
dpkg-deb --root-owner-group -Zgzip --build "$work/repack" "$deb2" >/dev/null
check "N+2 built" [ -f "$deb2" ]
end_step

# --- The overlays: dpkg writes /etc, /usr, /var; /run gets a tmpfs -------------------------------
for directory in /etc /usr /var; do
    name=$(basename "$directory")
    mkdir -p "$work/overlay/$name-upper" "$work/overlay/$name-work"
    mount -t overlay "package-e2e-$name" \
        -o "lowerdir=$directory,upperdir=$work/overlay/$name-upper,workdir=$work/overlay/$name-work" "$directory"
done
mount -t tmpfs -o mode=0755 package-e2e-run /run
# This namespace starts with no smbvol at all, whatever the host has.
if dpkg-query -W smbvol >/dev/null 2>&1; then
    dpkg --purge --force-all smbvol >/dev/null 2>&1 || true
fi
rm -rf /etc/smbvol /var/lib/smbvol /etc/libvirt/hooks/qemu.d/smbvol

dpkg_run() {  # ARGS...: dpkg with no terminal (a prompt would fail it), output in dpkg.out
    timeout --kill-after=10s 300 dpkg "$@" </dev/null >"$work/dpkg.out" 2>&1
}
status_of() { dpkg-query -W -f '${Status} ${Version}' smbvol 2>/dev/null || echo "not-installed"; }
mode_of() { stat -c '%a %U:%G' "$1" 2>/dev/null; }
has() { grep -qF -- "$2" "$1"; }
dpkg_said() { grep -qF -- "$1" "$work/dpkg.out"; }
hook=/etc/libvirt/hooks/qemu.d/smbvol
config=/etc/smbvol/smbvol.toml
wants_heartbeat=/etc/systemd/system/multi-user.target.wants/smbvol-heartbeat.service
wants_timer=/etc/systemd/system/timers.target.wants/smbvol-reconcile.timer

# --- Install N -----------------------------------------------------------------------------------
begin_step "dpkg -i $version: binary, hook, configuration, directories, units, man pages, completions"
check "dpkg -i succeeds" dpkg_run -i "$deb"
check "dpkg: install ok installed $version" [ "$(status_of)" = "install ok installed $version" ]
check "smbvol --version prints $upstream" [ "$(timeout 10 /usr/sbin/smbvol --version)" = "$upstream" ]
check "/usr/sbin/smbvol is 755 root:root" [ "$(mode_of /usr/sbin/smbvol)" = "755 root:root" ]
check "the hook dispatcher is $hook, 755, the repository's hooks/qemu" \
    eval '[ "$(mode_of "$hook")" = "755 root:root" ] && cmp -s "$hook" "$root/hooks/qemu"'
check "$config is the sample configuration, 644" eval '[ "$(mode_of "$config")" = "644 root:root" ] && cmp -s "$config" "$root/etc/smbvol/smbvol.toml"'
check "both are conffiles" eval 'dpkg-query -W -f "\${Conffiles}" smbvol | grep -q " $config " && dpkg-query -W -f "\${Conffiles}" smbvol | grep -q " $hook "'
check "/etc/smbvol/shares.d exists" [ -d /etc/smbvol/shares.d ]
check "/etc/smbvol/secrets is 700 root:root" [ "$(mode_of /etc/smbvol/secrets)" = "700 root:root" ]
check "/var/lib/smbvol is 755 root:root" [ "$(mode_of /var/lib/smbvol)" = "755 root:root" ]
check "no /etc/libvirt/hooks/qemu was made (libvirt would run smbvol twice)" [ ! -e "$work/overlay/etc-upper/libvirt/hooks/qemu" ]
for unit in smbvol-heartbeat.service smbvol-reconcile.service smbvol-reconcile.timer; do
    check "unit $unit in /lib/systemd/system" [ -f "/lib/systemd/system/$unit" ]
done
check "the heartbeat runs /usr/sbin/smbvol heartbeat" has /lib/systemd/system/smbvol-heartbeat.service "ExecStart=/usr/sbin/smbvol heartbeat"
check "the heartbeat is enabled (multi-user.target.wants)" [ -L "$wants_heartbeat" ]
check "the reconcile timer is enabled (timers.target.wants)" [ -L "$wants_timer" ]
check "postinst, with no libvirtd running, says so and what to do" dpkg_said "libvirtd is not running"
check "man -w smbvol finds /usr/share/man/man8/smbvol.8.gz" [ "$(timeout 20 man -w smbvol)" = /usr/share/man/man8/smbvol.8.gz ]
man_page() { MANPAGER=cat MANWIDTH=100 timeout 20 man "$@" 2>/dev/null; }
check "man smbvol shows the page (NAME, SYNOPSIS, the reconcile subcommand)" \
    eval 'man_page smbvol >"$work/man.txt" && has "$work/man.txt" NAME && has "$work/man.txt" SYNOPSIS && has "$work/man.txt" reconcile'
check "man 8 smbvol.reconcile shows the subcommand's page with its --dry-run option" \
    eval 'man_page 8 smbvol.reconcile | grep -q -- "--dry-run"'
check "man smbvol.handles.close exists (nested subcommands get pages)" eval 'man_page smbvol.handles.close | grep -q -- "--location"'
check "no debug command ships (smbvol.debug-attach has no page)" [ ! -e /usr/share/man/man8/smbvol.debug-attach.8.gz ]
check "bash completion registers smbvol" \
    eval 'bash -c "source /usr/share/bash-completion/completions/smbvol && complete -p smbvol" | grep -q smbvol'
check "zsh completion is /usr/share/zsh/vendor-completions/_smbvol (#compdef smbvol)" \
    eval 'head -n 1 /usr/share/zsh/vendor-completions/_smbvol | grep -q "^#compdef smbvol"'
check "fish completion is /usr/share/fish/vendor_completions.d/smbvol.fish" has /usr/share/fish/vendor_completions.d/smbvol.fish "complete -c 'smbvol'"
check "/usr/share/doc/smbvol has README.md, its docs, copyright, changelog.Debian.gz" \
    eval '[ -f /usr/share/doc/smbvol/README.md ] && [ -f /usr/share/doc/smbvol/docs/configuration.md ] && [ -f /usr/share/doc/smbvol/docs/stale-handle-policy.md ] && [ -f /usr/share/doc/smbvol/copyright ] && [ -f /usr/share/doc/smbvol/changelog.Debian.gz ]'
end_step

# --- The operator configures it -------------------------------------------------------------------
printf '\n# e2e: the operator edited this\n' >>"$config"
sed -i 's/^deadline_seconds = .*/deadline_seconds = 45/' "$config"
cp "$config" "$work/edited.toml"
install -m 0600 /dev/null /etc/smbvol/secrets/qumulo1.password
echo "e2e-secret" >/etc/smbvol/secrets/qumulo1.password
install -m 0644 "$root/etc/smbvol/shares.d/images.toml.sample" /etc/smbvol/shares.d/images.toml
mkdir -m 0700 /var/lib/smbvol/locks && echo "e2e lock" >/var/lib/smbvol/locks/e2e

begin_step "upgrade to $version1 (conffile unchanged in the package): the edit survives, no prompt"
check "dpkg -i succeeds with no terminal and no --force-conf option" dpkg_run -i "$deb1"
check "dpkg: install ok installed $version1" [ "$(status_of)" = "install ok installed $version1" ]
check "the edited $config is kept byte for byte" cmp -s "$config" "$work/edited.toml"
check "no .dpkg-dist/.dpkg-new left" eval '! ls /etc/smbvol/*.dpkg-* 2>/dev/null | grep -q .'
check "the secret is untouched (600)" eval '[ "$(mode_of /etc/smbvol/secrets/qumulo1.password)" = "600 root:root" ] && [ "$(cat /etc/smbvol/secrets/qumulo1.password)" = e2e-secret ]'
check "the hook is still 755" [ "$(mode_of "$hook")" = "755 root:root" ]
end_step

begin_step "upgrade to $version2 (the package's conffile changed): --force-confold keeps the edit"
check "dpkg -i --force-confold succeeds with no terminal" dpkg_run -i --force-confold "$deb2"
check "dpkg: install ok installed $version2" [ "$(status_of)" = "install ok installed $version2" ]
check "the edited $config is kept byte for byte" cmp -s "$config" "$work/edited.toml"
check "the new version waits in $config.dpkg-dist" has "$config.dpkg-dist" "added in $version2"
check "the operator's shares.d file is untouched" cmp -s /etc/smbvol/shares.d/images.toml "$root/etc/smbvol/shares.d/images.toml.sample"
end_step

# --- Remove, reinstall, remove, purge --------------------------------------------------------------
begin_step "dpkg -r: binary, man pages and units go; configuration, secrets and state stay; the hook is switched off"
check "dpkg -r succeeds" dpkg_run -r smbvol
check "dpkg: deinstall ok config-files" eval 'status_of | grep -q "^deinstall ok config-files"'
check "/usr/sbin/smbvol is gone" [ ! -e /usr/sbin/smbvol ]
check "the man page is gone" [ ! -e /usr/share/man/man8/smbvol.8.gz ]
check "the units are gone" [ ! -e /lib/systemd/system/smbvol-heartbeat.service ]
check "the edited configuration stays" cmp -s "$config" "$work/edited.toml"
check "the secret stays" [ "$(cat /etc/smbvol/secrets/qumulo1.password 2>/dev/null)" = e2e-secret ]
check "shares.d stays" [ -f /etc/smbvol/shares.d/images.toml ]
check "/var/lib/smbvol stays with its state" [ -f /var/lib/smbvol/locks/e2e ]
check "the hook stays (a conffile) but is not executable: libvirt skips it, VM starts keep working" \
    eval '[ -f "$hook" ] && [ ! -x "$hook" ]'
check "postrm says what was kept" dpkg_said "are kept"
end_step

begin_step "dpkg -i $version2 again: the hook is switched on again, the edit still there"
check "dpkg -i succeeds" dpkg_run -i --force-confold "$deb2"
check "the hook is 755 again" [ "$(mode_of "$hook")" = "755 root:root" ]
check "the edited configuration is kept" cmp -s "$config" "$work/edited.toml"
check "dpkg -r succeeds" dpkg_run -r smbvol
end_step

begin_step "dpkg -P while a share is mounted under /var/lib/smbvol: configuration gone, the share's files untouched"
mkdir -p /var/lib/smbvol/mnt/e2e-share
mount -t tmpfs package-e2e-share /var/lib/smbvol/mnt/e2e-share
echo "a VM image" >/var/lib/smbvol/mnt/e2e-share/disk0.qcow2
check "dpkg -P succeeds" dpkg_run -P smbvol
check "dpkg knows smbvol no more" eval '! dpkg-query -W -f "\${Status}" smbvol 2>/dev/null | grep -q "ok"'
check "/etc/smbvol (configuration, shares.d, secrets) is gone" [ ! -e /etc/smbvol ]
check "the hook is gone" [ ! -e "$hook" ]
check "the units' enable links are gone" eval '[ ! -e "$wants_heartbeat" ] && [ ! -L "$wants_heartbeat" ] && [ ! -L "$wants_timer" ]'
check "the file on the mounted share is untouched" [ "$(cat /var/lib/smbvol/mnt/e2e-share/disk0.qcow2 2>/dev/null)" = "a VM image" ]
check "postrm says why it kept /var/lib/smbvol" dpkg_said "still mounted under /var/lib/smbvol"
umount /var/lib/smbvol/mnt/e2e-share
end_step

begin_step "a running libvirtd without systemd: postinst honours policy-rc.d, else sends SIGHUP to the pid in /run/libvirtd.pid"
# A stand-in named libvirtd (comm is what postinst checks); its exit status tells which signal came.
cp /bin/sleep "$work/libvirtd"
"$work/libvirtd" 300 &
standin=$!
echo "$standin" >/run/libvirtd.pid
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
check "dpkg -i succeeds" dpkg_run -i "$deb"
check "with policy-rc.d saying 101, postinst leaves it alone and says what to do" \
    eval 'dpkg_said "policy-rc.d forbids reloading libvirtd (pid $standin)" && kill -0 "$standin"'
rm -f /usr/sbin/policy-rc.d
check "dpkg -i again (reinstall) succeeds" dpkg_run -i "$deb"
check "postinst says it sent SIGHUP to libvirtd (pid $standin)" dpkg_said "sent SIGHUP to libvirtd (pid $standin)"
standin_status=0
timeout 10 tail --pid="$standin" -f /dev/null || true
wait "$standin" 2>/dev/null || standin_status=$?
check "the stand-in died of SIGHUP (exit status 129), nothing harsher" [ "$standin_status" = 129 ]
rm -f /run/libvirtd.pid
end_step

begin_step "dpkg -P with nothing mounted: /var/lib/smbvol is removed too"
check "dpkg -P succeeds" dpkg_run -P smbvol
check "/var/lib/smbvol is gone" [ ! -e /var/lib/smbvol ]
check "/etc/smbvol is gone" [ ! -e /etc/smbvol ]
end_step

finished=1
echo
if ((failures == 0)); then
    echo "PASS: package life cycle, all steps ($(elapsed "$start_time")s)"
else
    echo "FAIL: package life cycle, $failures step(s) failed ($(elapsed "$start_time")s)"
    exit 1
fi
