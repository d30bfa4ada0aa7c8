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

#endif
