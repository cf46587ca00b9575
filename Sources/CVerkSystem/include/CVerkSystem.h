#ifndef CVERK_SYSTEM_H
#define CVERK_SYSTEM_H
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

/// Arms PR_SET_PDEATHSIG (prctl is variadic, so Swift cannot call it).
int verk_set_parent_death_signal(int signal);

/// pidfd_open(2) through syscall(2); -1 with errno on failure.
int verk_pidfd_open(pid_t pid);

/// Spawns `path` with `argv`/`envp` so that `child_fd` becomes fd 3 in the child, `shared_fd` (if not -1)
/// fd 4, and every other fd above 2 is closed, the signal mask is empty and common signals are at their
/// default disposition. The child gets its own session so a terminal's Ctrl-C reaches only the
/// supervisor, which drains it. Returns 0 and stores the pid, or an errno value.
int verk_spawn_child(const char *path, char *const argv[], char *const envp[], int child_fd, int shared_fd, pid_t *pid_out);

/// pthread_setname_np(3) on the calling thread (a _GNU_SOURCE function): `name` must be under 16 bytes.
int verk_set_thread_name(const char *name);

/// memfd_create(2) with MFD_CLOEXEC; -1 with errno on failure.
int verk_memfd(const char *name);

/// Atomic 64-bit store (release) and load (acquire) on memory shared between processes.
void verk_store_release_u64(uint64_t *address, uint64_t value);
uint64_t verk_load_acquire_u64(const uint64_t *address);

/// getrandom(2): fills `buf` with up to `length` bytes from the kernel's cryptographic source; the count,
/// or -1 with errno.
long verk_getrandom(void *buf, size_t length);

#endif
