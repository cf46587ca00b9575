#define _GNU_SOURCE
#include "CVerkSystem.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

int verk_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0);
}

int verk_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int verk_set_thread_name(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}

long verk_getrandom(void *buf, size_t length) {
    return (long)getrandom(buf, length, 0);
}

int verk_memfd(const char *name) {
    return memfd_create(name, MFD_CLOEXEC);
}

void verk_store_release_u64(uint64_t *address, uint64_t value) {
    __atomic_store_n(address, value, __ATOMIC_RELEASE);
}

uint64_t verk_load_acquire_u64(const uint64_t *address) {
    return __atomic_load_n(address, __ATOMIC_ACQUIRE);
}

int verk_spawn_child(const char *path, char *const argv[], char *const envp[], int child_fd, int shared_fd, pid_t *pid_out) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    int rc;
    // dup2(n, n) is a no-op that would leave CLOEXEC set on some libcs, and the second dup2 must not
    // clobber the first's source: move both fds above the targets first.
    int fd = fcntl(child_fd, F_DUPFD_CLOEXEC, 10);
    if (fd < 0) return errno;
    int shared = -1;
    if (shared_fd >= 0 && (shared = fcntl(shared_fd, F_DUPFD_CLOEXEC, 10)) < 0) {
        rc = errno;
        close(fd);
        return rc;
    }
    int moved = fd;
    if ((rc = posix_spawn_file_actions_init(&actions)) != 0) goto out;
    if ((rc = posix_spawn_file_actions_adddup2(&actions, fd, 3)) != 0) goto out_actions;
    if (shared >= 0 && (rc = posix_spawn_file_actions_adddup2(&actions, shared, 4)) != 0) goto out_actions;
    // hiredis sockets and inherited fds are not close-on-exec: close everything above the ones passed.
    if ((rc = posix_spawn_file_actions_addclosefrom_np(&actions, shared >= 0 ? 5 : 4)) != 0) goto out_actions;
    if ((rc = posix_spawnattr_init(&attr)) != 0) goto out_actions;
    sigset_t empty, defaults;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    int sigs[] = {SIGPIPE, SIGTERM, SIGINT, SIGCHLD, SIGHUP, SIGUSR1, SIGUSR2, SIGTSTP, SIGQUIT};
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) sigaddset(&defaults, sigs[i]);
    // The supervisor blocks and ignores signals; a child must start clean or it would ignore SIGTERM.
    if ((rc = posix_spawnattr_setsigmask(&attr, &empty)) != 0) goto out_attr;
    if ((rc = posix_spawnattr_setsigdefault(&attr, &defaults)) != 0) goto out_attr;
    if ((rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID)) != 0)
        goto out_attr;
    rc = posix_spawn(pid_out, path, &actions, &attr, argv, envp);
out_attr:
    posix_spawnattr_destroy(&attr);
out_actions:
    posix_spawn_file_actions_destroy(&actions);
out:
    close(moved);
    if (shared >= 0) close(shared);
    return rc;
}
