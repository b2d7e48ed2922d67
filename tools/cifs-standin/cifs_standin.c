/*
 * The kernel's CIFS filesystem, stood in for at the mount(2) boundary (tests only).
 *
 * Preloaded into the real /sbin/mount.cifs (see README.md and enter-namespace.sh), this library
 * replaces mount(2) for the filesystem type "cifs" and nothing else. It takes the option string
 * mount.cifs built (ip=, unc=, user=, pass= with commas doubled, domain=, uid=, gid=, file_mode=,
 * dir_mode=, vers=, port=, ...), authenticates to the SMB server it names with libsmbclient,
 * and mounts the share through the FUSE SMB client smbnetfs, so that the mount table shows the
 * export as the source at the mount point, as a kernel CIFS mount does. Failures come back as
 * the errno the kernel would give, so mount.cifs prints its own message and exit status:
 *   logon failure -> EACCES (13), no such share -> ENOENT (2), connection refused ->
 *   ECONNREFUSED (111), any other failure to reach or talk to the server -> EHOSTDOWN (112).
 *
 * Settings come from the file named by CIFS_STANDIN_CONF (key=value lines):
 *   state_dir=DIR   per-mount client directories and the call log (DIR/mount-calls.log)
 *   port=N          the SMB port to use when the options carry no port= (tests run smbd on a
 *                   private port; the kernel's default is 445)
 *   smbnetfs=PATH   the FUSE client (default /usr/bin/smbnetfs)
 * Every call is logged as one line: source, target, type, flags and the option string with the
 * password replaced by its length ("pass=<redacted:N>").
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_OPTIONS 64
#define TEXT 4096

struct option_pair {
    char key[64];
    char value[TEXT];
};

struct parsed_options {
    struct option_pair items[MAX_OPTIONS];
    int count;
};

struct settings {
    char state_dir[PATH_MAX];
    char smbnetfs[PATH_MAX];
    int port;
};

/* Splits the option string as the kernel does: "," separates options, ",," inside a value is
 * one literal comma (mount.cifs doubles the commas of a password). */
static int parse_options(const char *data, struct parsed_options *out) {
    out->count = 0;
    const char *p = data;
    while (*p) {
        if (out->count == MAX_OPTIONS) return -1;
        struct option_pair *item = &out->items[out->count];
        char token[TEXT];
        size_t length = 0;
        while (*p) {
            if (*p == ',') {
                if (p[1] == ',') {
                    if (length + 1 >= sizeof(token)) return -1;
                    token[length++] = ',';
                    p += 2;
                    continue;
                }
                p++;
                break;
            }
            if (length + 1 >= sizeof(token)) return -1;
            token[length++] = *p++;
        }
        token[length] = '\0';
        if (length == 0) continue;
        char *equals = strchr(token, '=');
        if (equals) {
            *equals = '\0';
            snprintf(item->value, sizeof(item->value), "%s", equals + 1);
        } else {
            item->value[0] = '\0';
        }
        snprintf(item->key, sizeof(item->key), "%s", token);
        out->count++;
    }
    return 0;
}

static const char *option(const struct parsed_options *options, const char *key) {
    for (int i = options->count - 1; i >= 0; i--)
        if (strcmp(options->items[i].key, key) == 0) return options->items[i].value;
    return NULL;
}

static void load_settings(struct settings *settings) {
    memset(settings, 0, sizeof(*settings));
    snprintf(settings->smbnetfs, sizeof(settings->smbnetfs), "/usr/bin/smbnetfs");
    settings->port = 445;
    const char *path = getenv("CIFS_STANDIN_CONF");
    FILE *file = path ? fopen(path, "re") : NULL;
    if (!file) return;
    char line[PATH_MAX + 32];
    while (fgets(line, sizeof(line), file)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "state_dir=", 10) == 0) snprintf(settings->state_dir, sizeof(settings->state_dir), "%s", line + 10);
        if (strncmp(line, "smbnetfs=", 9) == 0) snprintf(settings->smbnetfs, sizeof(settings->smbnetfs), "%s", line + 9);
        if (strncmp(line, "port=", 5) == 0) settings->port = atoi(line + 5);
    }
    fclose(file);
}

/* One line per call, the password replaced by its length. */
static void log_call(const struct settings *settings, const char *source, const char *target, const char *type,
                     unsigned long flags, const char *data) {
    if (!settings->state_dir[0]) return;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/mount-calls.log", settings->state_dir);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    char redacted[TEXT * 2];
    size_t out = 0;
    const char *p = data ? data : "";
    while (*p && out + 32 < sizeof(redacted)) {
        int at_start = (p == data) || (p[-1] == ',' && !(p - data >= 2 && p[-2] == ','));
        if (at_start && strncmp(p, "pass=", 5) == 0) {
            const char *end = p + 5;
            size_t length = 0;
            while (*end) {
                if (*end == ',' && end[1] == ',') { end += 2; length++; continue; }
                if (*end == ',') break;
                end++;
                length++;
            }
            out += (size_t)snprintf(redacted + out, sizeof(redacted) - out, "pass=<redacted:%zu>", length);
            p = end;
            continue;
        }
        redacted[out++] = *p++;
    }
    redacted[out] = '\0';
    dprintf(fd, "%s %s %s 0x%lx %s\n", source ? source : "-", target, type, flags, redacted);
    close(fd);
}

/* Writes `value` as a double-quoted smbnetfs.conf string (backslash escapes " and \). */
static int quoted(char *out, size_t size, const char *value) {
    size_t n = 0;
    if (n + 1 >= size) return -1;
    out[n++] = '"';
    for (const char *p = value; *p; p++) {
        if (*p == '\n' || *p == '\r') return -1;
        if (*p == '"' || *p == '\\') {
            if (n + 1 >= size) return -1;
            out[n++] = '\\';
        }
        if (n + 1 >= size) return -1;
        out[n++] = *p;
    }
    if (n + 2 >= size) return -1;
    out[n++] = '"';
    out[n] = '\0';
    return 0;
}

/* vers= as libsmbclient's protocol names (min, max); NULL min means the client default. */
static void protocols_for(const char *vers, const char **min, const char **max) {
    *min = "SMB2_02";
    *max = "SMB3_11";
    if (!vers) return;
    if (strcmp(vers, "1.0") == 0) *min = *max = "NT1";
    else if (strcmp(vers, "2.0") == 0) *min = *max = "SMB2_02";
    else if (strcmp(vers, "2.1") == 0) *min = *max = "SMB2_10";
    else if (strcmp(vers, "3") == 0) *min = "SMB3_00";
    else if (strcmp(vers, "3.0") == 0) *min = *max = "SMB3_00";
    else if (strcmp(vers, "3.02") == 0 || strcmp(vers, "3.0.2") == 0) *min = *max = "SMB3_02";
    else if (strcmp(vers, "3.1.1") == 0 || strcmp(vers, "3.11") == 0) *min = *max = "SMB3_11";
}

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    size_t length = strlen(text);
    ssize_t written = write(fd, text, length);
    close(fd);
    return written == (ssize_t)length ? 0 : -1;
}

/* The compatibility API of libsmbclient (libsmbclient.h), loaded with dlopen so building the
 * stand-in needs no -dev package. */
typedef void (*auth_fn)(const char *server, const char *share, char *workgroup, int workgroup_length, char *user,
                        int user_length, char *password, int password_length);
static const char *auth_user, *auth_password, *auth_domain;
static void give_auth(const char *server, const char *share, char *workgroup, int workgroup_length, char *user,
                      int user_length, char *password, int password_length) {
    (void)server;
    (void)share;
    snprintf(workgroup, (size_t)workgroup_length, "%s", auth_domain ? auth_domain : "WORKGROUP");
    snprintf(user, (size_t)user_length, "%s", auth_user ? auth_user : "");
    snprintf(password, (size_t)password_length, "%s", auth_password ? auth_password : "");
}

/* In a child (libsmbclient stays out of mount.cifs): open the share's root as the user. Exits
 * with the kernel's errno for the outcome (0: authenticated and the share exists). */
static int authenticate(const char *home, const char *url, const char *user, const char *password, const char *domain) {
    pid_t pid = fork();
    if (pid < 0) return EIO;
    if (pid == 0) {
        setenv("HOME", home, 1);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) { dup2(null, 1); dup2(null, 2); }
        void *library = dlopen("libsmbclient.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!library) _exit(EIO);
        int (*smbc_init)(auth_fn, int) = (int (*)(auth_fn, int))dlsym(library, "smbc_init");
        int (*smbc_opendir)(const char *) = (int (*)(const char *))dlsym(library, "smbc_opendir");
        if (!smbc_init || !smbc_opendir) _exit(EIO);
        auth_user = user;
        auth_password = password;
        auth_domain = domain;
        if (smbc_init(give_auth, 0) < 0) _exit(EIO);
        errno = 0;
        int handle = smbc_opendir(url);
        int code = handle >= 0 ? 0 : errno;
        switch (code) {
        case 0: _exit(0);
        case EACCES: case EPERM: _exit(EACCES);
        case ENOENT: case ENODEV: case ENXIO: _exit(ENOENT);
        case ECONNREFUSED: _exit(ECONNREFUSED);
        default: _exit(EHOSTDOWN);
        }
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return EIO;
    return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

static void remove_tree(const char *directory) {
    DIR *dir = opendir(directory);
    if (dir) {
        struct dirent *entry;
        while ((entry = readdir(dir))) {
            if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
            char path[PATH_MAX];
            snprintf(path, sizeof(path), "%s/%s", directory, entry->d_name);
            if (entry->d_type == DT_DIR) remove_tree(path);
            else unlink(path);
        }
        closedir(dir);
    }
    rmdir(directory);
}

static int fail(int code) {
    errno = code;
    return -1;
}

static int mount_cifs(const struct settings *settings, const char *source, const char *target, unsigned long flags,
                      const char *data) {
    struct parsed_options options;
    if (parse_options(data ? data : "", &options) < 0) return fail(EINVAL);
    const char *ip = option(&options, "ip"), *unc = option(&options, "unc");
    if (!ip || !unc || !settings->state_dir[0]) return fail(EINVAL);

    /* unc=\\server\share[\prefix] (prefixpath= may carry the rest). */
    char share[TEXT], prefix[TEXT] = "";
    const char *p = unc;
    while (*p == '\\' || *p == '/') p++;
    p = strpbrk(p, "\\/");
    if (!p) return fail(EINVAL);
    snprintf(share, sizeof(share), "%s", p + 1);
    char *rest = strpbrk(share, "\\/");
    if (rest) {
        snprintf(prefix, sizeof(prefix), "/%s", rest + 1);
        *rest = '\0';
    }
    const char *prefixpath = option(&options, "prefixpath");
    if (prefixpath && *prefixpath) snprintf(prefix, sizeof(prefix), "/%s", prefixpath);
    for (char *c = prefix; *c; c++)
        if (*c == '\\') *c = '/';
    if (!share[0]) return fail(EINVAL);

    char target_path[PATH_MAX];
    if (!realpath(target, target_path)) return -1;

    const char *port_text = option(&options, "port");
    int port = port_text ? atoi(port_text) : settings->port;
    const char *user = option(&options, "user") ? option(&options, "user") : option(&options, "username");
    const char *password = option(&options, "pass") ? option(&options, "pass") : option(&options, "password");
    const char *domain = option(&options, "domain") ? option(&options, "domain") : "WORKGROUP";
    if (!user) user = "guest";
    if (!password) password = "";
    if (strchr(user, '/') || strchr(domain, '/')) return fail(EINVAL);

    /* A private client directory per mount: HOME/.smb holds the client's smb.conf (dialects from
     * vers=) and, until smbnetfs has read it, its auth line (0600 in 0700). */
    char home[PATH_MAX], dot_smb[PATH_MAX], path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/clients", settings->state_dir);
    mkdir(path, 0700);
    snprintf(home, sizeof(home), "%s/clients/mount-XXXXXX", settings->state_dir);
    if (!mkdtemp(home)) return fail(EIO);
    snprintf(dot_smb, sizeof(dot_smb), "%s/.smb", home);
    if (mkdir(dot_smb, 0700) < 0) return fail(EIO);
    const char *min, *max;
    protocols_for(option(&options, "vers"), &min, &max);
    char text[TEXT * 3];
    snprintf(text, sizeof(text),
             "[global]\n  client min protocol = %s\n  client max protocol = %s\n  client signing = %s\n"
             "  name resolve order = host\n",
             min, max, option(&options, "sign") ? "required" : "default");
    snprintf(path, sizeof(path), "%s/smb.conf", dot_smb);
    if (write_file(path, text) < 0) { remove_tree(home); return fail(EIO); }

    char url[TEXT * 2];
    snprintf(url, sizeof(url), "smb://%s:%d/%s%s", ip, port, share, prefix);
    int code = authenticate(home, url, user, password, domain);
    if (code != 0) { remove_tree(home); return fail(code); }

    char quoted_user[TEXT], quoted_password[TEXT];
    char identity[TEXT];
    snprintf(identity, sizeof(identity), "%s/%s", domain, user);
    if (quoted(quoted_user, sizeof(quoted_user), identity) < 0 || quoted(quoted_password, sizeof(quoted_password), password) < 0) {
        remove_tree(home);
        return fail(EINVAL);
    }
    snprintf(text, sizeof(text),
             "auth %s %s\nsmb_query_browsers \"false\"\nuse_libsecret \"false\"\nconfig_update_period 0\n"
             "stat_workaround_depth 0\nlog_file \"%s/smbnetfs.log\"\n",
             quoted_user, quoted_password, home);
    char config[PATH_MAX];
    snprintf(config, sizeof(config), "%s/smbnetfs.conf", dot_smb);
    if (write_file(config, text) < 0) { remove_tree(home); return fail(EIO); }

    /* uid/gid as given; FUSE has one mode for files and directories: the union of file_mode
     * and dir_mode (README.md, "What differs from the kernel"). */
    const char *uid = option(&options, "uid") ? option(&options, "uid") : "0";
    const char *gid = option(&options, "gid") ? option(&options, "gid") : "0";
    unsigned long file_mode = strtoul(option(&options, "file_mode") ? option(&options, "file_mode") : "0755", NULL, 8);
    unsigned long dir_mode = strtoul(option(&options, "dir_mode") ? option(&options, "dir_mode") : "0755", NULL, 8);
    unsigned long umask_value = (~(file_mode | dir_mode)) & 0777;
    char fsname[TEXT];
    size_t n = 0;
    for (const char *s = source; *s && n + 2 < sizeof(fsname); s++) {
        if (*s == ',' || *s == '\\') fsname[n++] = '\\';
        fsname[n++] = *s;
    }
    fsname[n] = '\0';
    char fuse_options[TEXT * 3];
    snprintf(fuse_options, sizeof(fuse_options),
             "fsname=%s,subtype=cifs,allow_other,default_permissions,uid=%s,gid=%s,umask=%03lo,modules=subdir,"
             "subdir=/%s:%d/%s%s%s",
             fsname, uid, gid, umask_value, ip, port, share, prefix, (flags & MS_RDONLY) ? ",ro" : "");

    pid_t pid = fork();
    if (pid < 0) { remove_tree(home); return fail(EIO); }
    if (pid == 0) {
        /* Its own session from the start (it outlives mount.cifs, as a kernel mount does), and
         * none of mount.cifs's descriptors: its stdout/stderr are the caller's pipes. */
        setsid();
        setenv("HOME", home, 1);
        int null = open("/dev/null", O_RDWR);
        char log[PATH_MAX];
        snprintf(log, sizeof(log), "%s/smbnetfs.stderr", home);
        int err = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (null >= 0) { dup2(null, 0); dup2(null, 1); }
        if (err >= 0) dup2(err, 2);
        closefrom(3);
        execl(settings->smbnetfs, settings->smbnetfs, target_path, "-o", fuse_options, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) break;
    /* smbnetfs read its configuration before it mounted: the password lives on only in its
     * memory, as it does in the kernel's for a CIFS mount. */
    unlink(config);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail(EIO);
    return 0;
}

int mount(const char *source, const char *target, const char *type, unsigned long flags, const void *data) {
    static int (*real_mount)(const char *, const char *, const char *, unsigned long, const void *);
    if (!real_mount) real_mount = (int (*)(const char *, const char *, const char *, unsigned long, const void *))dlsym(RTLD_NEXT, "mount");
    if (!type || strcmp(type, "cifs") != 0 || (flags & (MS_REMOUNT | MS_BIND | MS_MOVE))) {
        return real_mount ? real_mount(source, target, type, flags, data) : fail(ENOSYS);
    }
    struct settings settings;
    load_settings(&settings);
    /* mount.cifs mounts on "." after a chdir to the mount point: log the real path. */
    char resolved[PATH_MAX];
    log_call(&settings, source, realpath(target, resolved) ? resolved : target, type, flags, (const char *)data);
    return mount_cifs(&settings, source ? source : "", target, flags, (const char *)data);
}
