#ifndef CVERK_SYSTEM_H
#define CVERK_SYSTEM_H
#include <sys/types.h>

/// Arms PR_SET_PDEATHSIG (prctl is variadic, so Swift cannot call it).
int verk_set_parent_death_signal(int signal);

/// pidfd_open(2) through syscall(2); -1 with errno on failure.
int verk_pidfd_open(pid_t pid);

/// Spawns `path` with `argv`/`envp` so that `child_fd` becomes fd 3 in the child and every other fd
/// above 2 is closed, the signal mask is empty and common signals are at their default disposition.
/// The child gets its own session so a terminal's Ctrl-C reaches only the supervisor, which drains it.
/// Returns 0 and stores the pid, or an errno value.
int verk_spawn_child(const char *path, char *const argv[], char *const envp[], int child_fd, pid_t *pid_out);

#endif
