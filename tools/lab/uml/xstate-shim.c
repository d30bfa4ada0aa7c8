/*
 * Preloaded into linux.uml on hosts whose CPUs have AMX (see launcher.sh).
 *
 * user-mode-linux 6.1 saves and restores its processes' FPU state with
 * PTRACE_GETREGSET/PTRACE_SETREGSET NT_X86_XSTATE and a buffer of
 * sizeof(struct _xstate) (legacy area, header, AVX). The host kernel takes a
 * SETREGSET only with the whole XSAVE area it uses (fpu_user_cfg.max_size),
 * which AMX's 8 KiB of tile data makes larger, and answers EFAULT: the guest's
 * init dies at once ("ptrace set fp regs failed, errno = 14").
 *
 * This wrapper keeps UML's view as it is and gives the kernel what it wants:
 * a GETREGSET reads the whole area into a buffer kept per traced process and
 * hands UML its prefix; a SETREGSET lays UML's prefix over that process's last
 * whole area and sets it whole. The state beyond UML's prefix (AVX-512, AMX)
 * is then the process's own as last read, which is right for every process
 * that has one thread; the lab also keeps glibc in the guest off AVX-512.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#define MAX_XSTATE 65536
#define SLOTS 4096

struct area { pid_t pid; size_t size; unsigned char *bytes; };
static struct area areas[SLOTS];
static long (*real_ptrace)(int, pid_t, void *, void *);

/* The area kept for `pid`; UML traces at most a few hundred processes at once. */
static struct area *area_of(pid_t pid) {
    struct area *unused = NULL;
    for (int i = 0; i < SLOTS; i++) {
        if (areas[i].pid == pid) return &areas[i];
        if (!areas[i].pid && !unused) unused = &areas[i];
    }
    if (!unused) unused = &areas[pid % SLOTS];
    unused->pid = pid;
    unused->size = 0;
    if (!unused->bytes) unused->bytes = malloc(MAX_XSTATE);
    return unused;
}

static long read_whole(struct area *a, pid_t pid) {
    struct iovec whole = { a->bytes, MAX_XSTATE };
    long rc = real_ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &whole);
    if (rc == 0) a->size = whole.iov_len;   /* the kernel says how much it wrote */
    return rc;
}

long ptrace(enum __ptrace_request request, ...) {
    va_list ap;
    va_start(ap, request);
    pid_t pid = va_arg(ap, pid_t);
    void *addr = va_arg(ap, void *);
    void *data = va_arg(ap, void *);
    va_end(ap);
    if (!real_ptrace) real_ptrace = (long (*)(int, pid_t, void *, void *))dlsym(RTLD_NEXT, "ptrace");
    if ((long)addr != NT_X86_XSTATE || (request != PTRACE_GETREGSET && request != PTRACE_SETREGSET))
        return real_ptrace(request, pid, addr, data);

    struct iovec *view = data;
    struct area *a = area_of(pid);
    if (request == PTRACE_GETREGSET) {
        long rc = read_whole(a, pid);
        if (rc != 0) return rc;
        size_t n = view->iov_len < a->size ? view->iov_len : a->size;
        memcpy(view->iov_base, a->bytes, n);
        view->iov_len = n;
        return 0;
    }
    if (a->size == 0 && read_whole(a, pid) != 0) return real_ptrace(request, pid, addr, data);
    size_t n = view->iov_len < a->size ? view->iov_len : a->size;
    memcpy(a->bytes, view->iov_base, n);
    struct iovec whole = { a->bytes, a->size };
    return real_ptrace(PTRACE_SETREGSET, pid, (void *)NT_X86_XSTATE, &whole);
}
