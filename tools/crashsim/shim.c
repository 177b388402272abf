/*
 * crashsim shim: an LD_PRELOAD interposer that records what a process does to
 * the files of one directory, so that Tests/python/crashsim.py can rebuild the
 * states a power cut could leave behind; and that can make fsync/fdatasync
 * fail on demand (EIO), to test how the server handles a disk that cannot sync.
 *
 * Environment:
 *   CRASHSIM_DIR              the directory whose files are traced / may fail
 *                             (required: without it the shim only forwards)
 *   CRASHSIM_TRACE            append the trace here (binary, see below); unset: no trace
 *   CRASHSIM_FAIL_FSYNC_FLAG  while this file exists, fsync/fdatasync of matching
 *                             files under CRASHSIM_DIR return -1/EIO without syncing
 *   CRASHSIM_FAIL_FSYNC_MATCH fnmatch(3) pattern on the base name (default "*")
 *
 * Trace: a sequence of records, each a fixed header (struct rec below, little
 * endian, 64 bytes), then `pathlen` bytes of path (relative to CRASHSIM_DIR,
 * "" for the directory itself; a rename has "old\0new"), then for writes the
 * `len` bytes written. Records are appended with one write(2) each, under a
 * process-wide lock that is also held across every traced data-changing call
 * (write, truncate, rename...), so the trace order is the order the kernel saw
 * them in. Syncs are NOT done under the lock (a slow fsync must not stall the
 * writers): SYNC_BEGIN is logged before the real call and SYNC_END after it,
 * with the time the call returned. A sync covers what was logged before its
 * SYNC_BEGIN; writes logged between BEGIN and END may or may not be covered.
 * Timestamps are CLOCK_REALTIME ns, so they compare with a client's time.time_ns().
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum {
    K_OPEN = 1,       /* flags = open flags, res = fd, off = size at open */
    K_CLOSE = 2,
    K_WRITE = 3,      /* off, len = bytes written; data follows; flags = 1 if O_SYNC/O_DSYNC fd */
    K_TRUNC = 4,      /* len = new size */
    K_SYNC_BEGIN = 5, /* flags = 0 fsync, 1 fdatasync, 2 msync */
    K_SYNC_END = 6,   /* res = 0 or -1, err = errno, off = 1 when the failure was injected,
                         ts = when the real call returned */
    K_RENAME = 7,
    K_UNLINK = 8,
    K_START = 9,      /* a process started tracing (res = pid) */
};

struct rec {
    uint32_t kind;
    uint32_t tid;
    uint64_t ts;
    int32_t fd;
    int32_t flags;
    int64_t off;
    int64_t len;
    int64_t res;
    int32_t err;
    uint32_t pathlen;
    uint64_t seq;
};
_Static_assert(sizeof(struct rec) == 64, "trace header is 64 bytes");

#define MAXFD 65536

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char dirpath[PATH_MAX];
static size_t dirlen;
static int trace_fd = -1;
static const char *fail_flag;
static const char *fail_match = "*";
static char *fdpath[MAXFD];   /* path relative to dirpath, for traced fds */
static int fdsync[MAXFD];     /* the fd was opened O_SYNC/O_DSYNC */
static uint64_t seqno;

static int (*r_open)(const char *, int, ...);
static int (*r_open64)(const char *, int, ...);
static int (*r_openat)(int, const char *, int, ...);
static int (*r_openat64)(int, const char *, int, ...);
static int (*r___open_2)(const char *, int);
static int (*r___open64_2)(const char *, int);
static int (*r_creat)(const char *, mode_t);
static int (*r_creat64)(const char *, mode_t);
static int (*r_close)(int);
static ssize_t (*r_write)(int, const void *, size_t);
static ssize_t (*r_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*r_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*r_writev)(int, const struct iovec *, int);
static ssize_t (*r_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*r_pwritev64)(int, const struct iovec *, int, off64_t);
static ssize_t (*r_pwritev2)(int, const struct iovec *, int, off_t, int);
static int (*r_ftruncate)(int, off_t);
static int (*r_ftruncate64)(int, off64_t);
static int (*r_truncate)(const char *, off_t);
static int (*r_fsync)(int);
static int (*r_fdatasync)(int);
static int (*r_msync)(void *, size_t, int);
static int (*r_rename)(const char *, const char *);
static int (*r_renameat)(int, const char *, int, const char *);
static int (*r_renameat2)(int, const char *, int, const char *, unsigned);
static int (*r_unlink)(const char *);
static int (*r_unlinkat)(int, const char *, int);
static int (*r_fallocate)(int, int, off_t, off_t);
static int (*r_posix_fallocate)(int, off_t, off_t);

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void emit_locked(struct rec *r, const char *path, size_t pathlen, const struct iovec *data, int niov,
                        size_t datalen);

static void init(void) {
#define L(name) r_##name = dlsym(RTLD_NEXT, #name)
    L(open); L(open64); L(openat); L(openat64); L(__open_2); L(__open64_2); L(creat); L(creat64);
    L(close); L(write); L(pwrite); L(pwrite64); L(writev); L(pwritev); L(pwritev64); L(pwritev2);
    L(ftruncate); L(ftruncate64); L(truncate); L(fsync); L(fdatasync); L(msync);
    L(rename); L(renameat); L(renameat2); L(unlink); L(unlinkat); L(fallocate); L(posix_fallocate);
#undef L
    const char *d = getenv("CRASHSIM_DIR");
    if (d && *d && realpath(d, dirpath)) dirlen = strlen(dirpath);
    else if (d && *d) {
        /* The directory may not exist yet (the server creates it): keep it as given. */
        snprintf(dirpath, sizeof dirpath, "%s", d);
        dirlen = strlen(dirpath);
        while (dirlen > 1 && dirpath[dirlen - 1] == '/') dirpath[--dirlen] = 0;
    }
    fail_flag = getenv("CRASHSIM_FAIL_FSYNC_FLAG");
    const char *m = getenv("CRASHSIM_FAIL_FSYNC_MATCH");
    if (m && *m) fail_match = m;
    const char *t = getenv("CRASHSIM_TRACE");
    if (t && *t && dirlen) {
        trace_fd = (int)syscall(SYS_openat, AT_FDCWD, t, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (trace_fd >= 0) {
            struct rec r = {.kind = K_START, .res = getpid()};
            pthread_mutex_lock(&lock);
            emit_locked(&r, "", 0, NULL, 0, 0);
            pthread_mutex_unlock(&lock);
        }
    }
}

static void ensure(void) { pthread_once(&once, init); }

static void emit_locked(struct rec *r, const char *path, size_t pathlen, const struct iovec *data, int niov,
                        size_t datalen) {
    if (trace_fd < 0) return;
    if (!r->ts) r->ts = now_ns();
    r->tid = (uint32_t)syscall(SYS_gettid);
    r->pathlen = (uint32_t)pathlen;
    r->seq = seqno++;
    size_t total = sizeof *r + pathlen + datalen;
    char *buf = malloc(total);
    if (!buf) return;
    memcpy(buf, r, sizeof *r);
    if (pathlen) memcpy(buf + sizeof *r, path, pathlen);
    size_t at = sizeof *r + pathlen, left = datalen;
    for (int i = 0; i < niov && left; i++) {
        size_t n = data[i].iov_len < left ? data[i].iov_len : left;
        memcpy(buf + at, data[i].iov_base, n);
        at += n;
        left -= n;
    }
    size_t done = 0;
    while (done < total) {
        ssize_t n = syscall(SYS_write, trace_fd, buf + done, total - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        done += (size_t)n;
    }
    free(buf);
}

/* The path of `abs` relative to the traced directory: "" for the directory,
   NULL when outside it. */
static const char *relative(const char *abs) {
    if (!dirlen || strncmp(abs, dirpath, dirlen) != 0) return NULL;
    if (abs[dirlen] == 0) return "";
    if (abs[dirlen] != '/') return NULL;
    return abs + dirlen + 1;
}

static const char *fd_rel(int fd) { return (fd >= 0 && fd < MAXFD) ? fdpath[fd] : NULL; }

/* Canonical absolute path of an fd or of (dirfd, path) not necessarily existing. */
static int resolve_at(int dirfd, const char *path, char *out) {
    if (!path) return -1;
    char base[PATH_MAX];
    if (path[0] == '/') {
        snprintf(base, sizeof base, "%s", path);
    } else {
        char dir[PATH_MAX];
        if (dirfd == AT_FDCWD) {
            if (!getcwd(dir, sizeof dir)) return -1;
        } else {
            char link[64];
            snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
            ssize_t n = readlink(link, dir, sizeof dir - 1);
            if (n < 0) return -1;
            dir[n] = 0;
        }
        snprintf(base, sizeof base, "%s/%s", dir, path);
    }
    /* Resolve the parent (the file itself may be gone or not yet there). */
    char parent[PATH_MAX], *slash = strrchr(base, '/');
    if (!slash) return -1;
    const char *name = slash + 1;
    size_t plen = (size_t)(slash - base);
    if (plen == 0) plen = 1;
    memcpy(parent, base, plen);
    parent[plen] = 0;
    char real[PATH_MAX];
    if (!realpath(parent, real)) snprintf(real, sizeof real, "%s", parent);
    if (strcmp(name, ".") == 0 || *name == 0) snprintf(out, PATH_MAX, "%s", real);
    else snprintf(out, PATH_MAX, "%s/%s", strcmp(real, "/") == 0 ? "" : real, name);
    return 0;
}

static void after_open(int fd, int flags) {
    if (fd < 0 || fd >= MAXFD || !dirlen) return;
    char link[64], abs[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, abs, sizeof abs - 1);
    if (n < 0) return;
    abs[n] = 0;
    const char *rel = relative(abs);
    pthread_mutex_lock(&lock);
    free(fdpath[fd]);
    fdpath[fd] = rel ? strdup(rel) : NULL;
    fdsync[fd] = rel && (flags & (O_SYNC | O_DSYNC)) != 0;
    if (rel) {
        struct stat st;
        struct rec r = {.kind = K_OPEN, .fd = fd, .flags = flags, .res = fd};
        if (fstat(fd, &st) == 0) r.off = st.st_size;
        emit_locked(&r, rel, strlen(rel), NULL, 0, 0);
    }
    pthread_mutex_unlock(&lock);
}

/* --- open ------------------------------------------------------------------ */

#define MODE_ARG(flags) \
    mode_t mode = 0; \
    if ((flags) & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, int); va_end(ap); }

/* O_TRUNC of an existing traced file is done as open + a logged ftruncate, so the
   trace shows it in order with the writes. */
static int traced_open(int dirfd, const char *path, int flags, mode_t mode, int sixtyfour) {
    int fd;
    int trunc = 0;
    if ((flags & O_TRUNC) && dirlen) {
        char abs[PATH_MAX];
        if (resolve_at(dirfd, path, abs) == 0 && relative(abs)) trunc = 1;
    }
    int f = trunc ? (flags & ~O_TRUNC) : flags;
    if (dirfd == AT_FDCWD && !sixtyfour) fd = r_open(path, f, mode);
    else if (dirfd == AT_FDCWD) fd = r_open64(path, f, mode);
    else if (!sixtyfour) fd = r_openat(dirfd, path, f, mode);
    else fd = r_openat64(dirfd, path, f, mode);
    if (fd < 0) return fd;
    after_open(fd, flags);
    if (trunc && (flags & (O_WRONLY | O_RDWR))) ftruncate(fd, 0);
    return fd;
}

int open(const char *path, int flags, ...) {
    MODE_ARG(flags);
    ensure();
    return traced_open(AT_FDCWD, path, flags, mode, 0);
}
int open64(const char *path, int flags, ...) {
    MODE_ARG(flags);
    ensure();
    return traced_open(AT_FDCWD, path, flags, mode, 1);
}
int openat(int dirfd, const char *path, int flags, ...) {
    MODE_ARG(flags);
    ensure();
    return traced_open(dirfd, path, flags, mode, 0);
}
int openat64(int dirfd, const char *path, int flags, ...) {
    MODE_ARG(flags);
    ensure();
    return traced_open(dirfd, path, flags, mode, 1);
}
int __open_2(const char *path, int flags) { ensure(); return traced_open(AT_FDCWD, path, flags, 0, 0); }
int __open64_2(const char *path, int flags) { ensure(); return traced_open(AT_FDCWD, path, flags, 0, 1); }
int creat(const char *path, mode_t mode) { ensure(); return traced_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode, 0); }
int creat64(const char *path, mode_t mode) { ensure(); return traced_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode, 1); }

int close(int fd) {
    ensure();
    if (fd >= 0 && fd < MAXFD && fdpath[fd]) {
        pthread_mutex_lock(&lock);
        if (fdpath[fd]) {
            struct rec r = {.kind = K_CLOSE, .fd = fd};
            emit_locked(&r, fdpath[fd], strlen(fdpath[fd]), NULL, 0, 0);
            free(fdpath[fd]);
            fdpath[fd] = NULL;
        }
        int rc = r_close(fd);
        pthread_mutex_unlock(&lock);
        return rc;
    }
    return r_close(fd);
}

/* --- writes ---------------------------------------------------------------- */

static void log_write_locked(int fd, int64_t off, const struct iovec *iov, int niov, ssize_t n) {
    if (n <= 0) return;
    const char *rel = fdpath[fd];
    struct rec r = {.kind = K_WRITE, .fd = fd, .off = off, .len = n, .res = n, .flags = fdsync[fd]};
    emit_locked(&r, rel, strlen(rel), iov, niov, (size_t)n);
}

/* The offset a write at the file position would land at. Called under the lock,
   which every traced write holds, so nothing moves the position meanwhile. */
static int64_t position_locked(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_APPEND)) {
        struct stat st;
        return fstat(fd, &st) == 0 ? (int64_t)st.st_size : -1;
    }
    return (int64_t)lseek(fd, 0, SEEK_CUR);
}

ssize_t write(int fd, const void *buf, size_t count) {
    ensure();
    if (!fd_rel(fd)) return r_write(fd, buf, count);
    pthread_mutex_lock(&lock);
    int64_t off = position_locked(fd);
    ssize_t n = r_write(fd, buf, count);
    int e = errno;
    struct iovec v = {(void *)buf, count};
    if (fdpath[fd]) log_write_locked(fd, off, &v, 1, n);
    pthread_mutex_unlock(&lock);
    errno = e;
    return n;
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t off) {
    ensure();
    if (!fd_rel(fd)) return r_pwrite(fd, buf, count, off);
    pthread_mutex_lock(&lock);
    ssize_t n = r_pwrite(fd, buf, count, off);
    int e = errno;
    struct iovec v = {(void *)buf, count};
    if (fdpath[fd]) log_write_locked(fd, off, &v, 1, n);
    pthread_mutex_unlock(&lock);
    errno = e;
    return n;
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t off) {
    ensure();
    if (!fd_rel(fd)) return r_pwrite64(fd, buf, count, off);
    pthread_mutex_lock(&lock);
    ssize_t n = r_pwrite64(fd, buf, count, off);
    int e = errno;
    struct iovec v = {(void *)buf, count};
    if (fdpath[fd]) log_write_locked(fd, off, &v, 1, n);
    pthread_mutex_unlock(&lock);
    errno = e;
    return n;
}

ssize_t writev(int fd, const struct iovec *iov, int n) {
    ensure();
    if (!fd_rel(fd)) return r_writev(fd, iov, n);
    pthread_mutex_lock(&lock);
    int64_t off = position_locked(fd);
    ssize_t w = r_writev(fd, iov, n);
    int e = errno;
    if (fdpath[fd]) log_write_locked(fd, off, iov, n, w);
    pthread_mutex_unlock(&lock);
    errno = e;
    return w;
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off) {
    ensure();
    if (!fd_rel(fd)) return r_pwritev(fd, iov, n, off);
    pthread_mutex_lock(&lock);
    ssize_t w = r_pwritev(fd, iov, n, off);
    int e = errno;
    if (fdpath[fd]) log_write_locked(fd, off, iov, n, w);
    pthread_mutex_unlock(&lock);
    errno = e;
    return w;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int n, off64_t off) {
    ensure();
    if (!fd_rel(fd)) return r_pwritev64(fd, iov, n, off);
    pthread_mutex_lock(&lock);
    ssize_t w = r_pwritev64(fd, iov, n, off);
    int e = errno;
    if (fdpath[fd]) log_write_locked(fd, off, iov, n, w);
    pthread_mutex_unlock(&lock);
    errno = e;
    return w;
}

ssize_t pwritev2(int fd, const struct iovec *iov, int n, off_t off, int flags) {
    ensure();
    if (!fd_rel(fd)) return r_pwritev2(fd, iov, n, off, flags);
    pthread_mutex_lock(&lock);
    int64_t at = off == -1 ? position_locked(fd) : off;
    ssize_t w = r_pwritev2(fd, iov, n, off, flags);
    int e = errno;
    if (fdpath[fd]) log_write_locked(fd, at, iov, n, w);
    pthread_mutex_unlock(&lock);
    errno = e;
    return w;
}

static int traced_truncate(int fd, int64_t len, int sixtyfour) {
    pthread_mutex_lock(&lock);
    int rc = sixtyfour ? r_ftruncate64(fd, len) : r_ftruncate(fd, len);
    int e = errno;
    if (rc == 0 && fdpath[fd]) {
        struct rec r = {.kind = K_TRUNC, .fd = fd, .len = len};
        emit_locked(&r, fdpath[fd], strlen(fdpath[fd]), NULL, 0, 0);
    }
    pthread_mutex_unlock(&lock);
    errno = e;
    return rc;
}

int ftruncate(int fd, off_t len) {
    ensure();
    if (!fd_rel(fd)) return r_ftruncate(fd, len);
    return traced_truncate(fd, len, 0);
}

int ftruncate64(int fd, off64_t len) {
    ensure();
    if (!fd_rel(fd)) return r_ftruncate64(fd, len);
    return traced_truncate(fd, len, 1);
}

int truncate(const char *path, off_t len) {
    ensure();
    char abs[PATH_MAX];
    const char *rel = NULL;
    if (dirlen && resolve_at(AT_FDCWD, path, abs) == 0) rel = relative(abs);
    if (!rel) return r_truncate(path, len);
    pthread_mutex_lock(&lock);
    int rc = r_truncate(path, len);
    int e = errno;
    if (rc == 0) {
        struct rec r = {.kind = K_TRUNC, .fd = -1, .len = len};
        emit_locked(&r, rel, strlen(rel), NULL, 0, 0);
    }
    pthread_mutex_unlock(&lock);
    errno = e;
    return rc;
}

/* fallocate/posix_fallocate only reserve space (no size change with KEEP_SIZE; a
   size change reads as zeros): logged as a write of zeros past the end is not
   needed for correctness of the files Lode keeps, so they are forwarded as is. */
int fallocate(int fd, int mode, off_t off, off_t len) { ensure(); return r_fallocate(fd, mode, off, len); }
int posix_fallocate(int fd, off_t off, off_t len) { ensure(); return r_posix_fallocate(fd, off, len); }

/* --- syncs ----------------------------------------------------------------- */

static int should_fail(const char *rel) {
    if (!fail_flag || !*fail_flag) return 0;
    if (access(fail_flag, F_OK) != 0) return 0;
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    if (*rel == 0) base = ".";
    return fnmatch(fail_match, base, 0) == 0;
}

static int traced_sync(int fd, int kind) {
    const char *rel0 = fd_rel(fd);
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "%s", rel0);
    struct rec b = {.kind = K_SYNC_BEGIN, .fd = fd, .flags = kind};
    pthread_mutex_lock(&lock);
    emit_locked(&b, rel, strlen(rel), NULL, 0, 0);
    pthread_mutex_unlock(&lock);
    int rc, e, injected = 0;
    if (should_fail(rel)) {
        rc = -1;
        e = EIO;
        injected = 1;
    } else {
        rc = kind == 1 ? r_fdatasync(fd) : r_fsync(fd);
        e = errno;
    }
    struct rec r = {.kind = K_SYNC_END, .fd = fd, .flags = kind, .res = rc, .err = rc ? e : 0, .off = injected};
    r.ts = now_ns();
    pthread_mutex_lock(&lock);
    emit_locked(&r, rel, strlen(rel), NULL, 0, 0);
    pthread_mutex_unlock(&lock);
    errno = e;
    return rc;
}

int fsync(int fd) {
    ensure();
    if (!fd_rel(fd)) return r_fsync(fd);
    return traced_sync(fd, 0);
}

int fdatasync(int fd) {
    ensure();
    if (!fd_rel(fd)) return r_fdatasync(fd);
    return traced_sync(fd, 1);
}

/* msync: Lode maps data.mdb read-only (no MDB_WRITEMAP), so a write through a map
   is not expected; it is forwarded (a traced server that used one would show data
   files that never change in the trace). */
int msync(void *addr, size_t len, int flags) { ensure(); return r_msync(addr, len, flags); }

/* --- names ----------------------------------------------------------------- */

static int traced_rename(int olddir, const char *oldp, int newdir, const char *newp, unsigned flags, int which) {
    char a[PATH_MAX], b[PATH_MAX];
    const char *ra = NULL, *rb = NULL;
    if (dirlen && resolve_at(olddir, oldp, a) == 0) ra = relative(a);
    if (dirlen && resolve_at(newdir, newp, b) == 0) rb = relative(b);
    if (!ra && !rb) {
        if (which == 0) return r_rename(oldp, newp);
        if (which == 1) return r_renameat(olddir, oldp, newdir, newp);
        return r_renameat2(olddir, oldp, newdir, newp, flags);
    }
    pthread_mutex_lock(&lock);
    int rc = which == 0 ? r_rename(oldp, newp)
           : which == 1 ? r_renameat(olddir, oldp, newdir, newp)
                        : r_renameat2(olddir, oldp, newdir, newp, flags);
    int e = errno;
    if (rc == 0) {
        /* A name from outside the directory reads as "/abs/path". */
        char both[2 * PATH_MAX + 2];
        const char *x = ra ? ra : a, *y = rb ? rb : b;
        size_t lx = strlen(x), ly = strlen(y);
        memcpy(both, x, lx);
        both[lx] = 0;
        memcpy(both + lx + 1, y, ly);
        struct rec r = {.kind = K_RENAME, .fd = -1};
        emit_locked(&r, both, lx + 1 + ly, NULL, 0, 0);
        /* Open fds keep their file; their recorded name follows it. */
        for (int fd = 0; fd < MAXFD; fd++)
            if (fdpath[fd] && ra && strcmp(fdpath[fd], ra) == 0) {
                free(fdpath[fd]);
                fdpath[fd] = rb ? strdup(rb) : NULL;
            }
    }
    pthread_mutex_unlock(&lock);
    errno = e;
    return rc;
}

int rename(const char *o, const char *n) { ensure(); return traced_rename(AT_FDCWD, o, AT_FDCWD, n, 0, 0); }
int renameat(int od, const char *o, int nd, const char *n) { ensure(); return traced_rename(od, o, nd, n, 0, 1); }
int renameat2(int od, const char *o, int nd, const char *n, unsigned f) { ensure(); return traced_rename(od, o, nd, n, f, 2); }

static int traced_unlink(int dirfd, const char *path, int flags, int which) {
    char a[PATH_MAX];
    const char *ra = NULL;
    if (dirlen && resolve_at(dirfd, path, a) == 0) ra = relative(a);
    if (!ra) return which == 0 ? r_unlink(path) : r_unlinkat(dirfd, path, flags);
    pthread_mutex_lock(&lock);
    int rc = which == 0 ? r_unlink(path) : r_unlinkat(dirfd, path, flags);
    int e = errno;
    if (rc == 0) {
        struct rec r = {.kind = K_UNLINK, .fd = -1, .flags = flags};
        emit_locked(&r, ra, strlen(ra), NULL, 0, 0);
    }
    pthread_mutex_unlock(&lock);
    errno = e;
    return rc;
}

int unlink(const char *path) { ensure(); return traced_unlink(AT_FDCWD, path, 0, 0); }
int unlinkat(int dirfd, const char *path, int flags) { ensure(); return traced_unlink(dirfd, path, flags, 1); }
