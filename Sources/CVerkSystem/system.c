#define _GNU_SOURCE
#include "CVerkSystem.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
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

int verk_spawn_child(const char *path, char *const argv[], char *const envp[], int child_fd, pid_t *pid_out) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    int rc;
    // dup2(3, 3) is a no-op that would leave CLOEXEC set on some libcs: move the fd off 3 first.
    int fd = child_fd;
    int moved = -1;
    if (fd == 3) {
        moved = fcntl(fd, F_DUPFD_CLOEXEC, 10);
        if (moved < 0) return errno;
        fd = moved;
    }
    if ((rc = posix_spawn_file_actions_init(&actions)) != 0) goto out;
    if ((rc = posix_spawn_file_actions_adddup2(&actions, fd, 3)) != 0) goto out_actions;
    // hiredis sockets and inherited fds are not close-on-exec: close everything above the socket.
    if ((rc = posix_spawn_file_actions_addclosefrom_np(&actions, 4)) != 0) goto out_actions;
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
    if (moved >= 0) close(moved);
    return rc;
}
