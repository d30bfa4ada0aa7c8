#ifndef LVSH_CNETLINK_SHIM_H
#define LVSH_CNETLINK_SHIM_H

#include <sys/socket.h>
#include <malloc.h>
#include <linux/netlink.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <libmnl/libmnl.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/batch.h>
#include <libnftnl/gen.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <sys/uio.h>

// setns(2) is declared by <sched.h> only under _GNU_SOURCE, which Swift's Glibc module does not set.
extern int setns(int fd, int nstype);
static inline int lvsh_setns(int fd, int nstype) { return setns(fd, nstype); }

// io_uring_setup(2), io_uring_enter(2) and io_uring_register(2) have no C library wrappers, and
// Swift cannot call the variadic syscall(2): IOURing calls them through these.
#include <unistd.h>
#include <sys/syscall.h>
static inline int lvsh_io_uring_setup(unsigned entries, void *params) {
    return (int)syscall(__NR_io_uring_setup, entries, params);
}
static inline int lvsh_io_uring_enter(int fd, unsigned submit, unsigned complete, unsigned flags, void *arg, unsigned long size) {
    return (int)syscall(__NR_io_uring_enter, fd, submit, complete, flags, arg, size);
}
// The rings' heads and tails are shared with the kernel, which may write them from another thread
// (io-wq workers post completions): acquire and release, which Swift has no way to say on raw memory.
static inline unsigned lvsh_load_acquire(const void *p) { return __atomic_load_n((const unsigned *)p, __ATOMIC_ACQUIRE); }
static inline void lvsh_store_release(void *p, unsigned v) { __atomic_store_n((unsigned *)p, v, __ATOMIC_RELEASE); }
#include <sys/eventfd.h>
static inline int lvsh_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }
static inline int lvsh_io_uring_register(int fd, unsigned opcode, void *arg, unsigned count) {
    return (int)syscall(__NR_io_uring_register, fd, opcode, arg, count);
}

#endif
