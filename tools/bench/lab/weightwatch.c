/* When a real server first shows a weight in IPVS: tools/bench/lab/checks.sh's clock for detection and
 * reload times.
 *
 * One process that asks the kernel itself (generic netlink, IPVS_CMD_GET_DEST of one service) every
 * INTERVAL ms. Before 2026-12-04 22:44 each look was an ipvsadm process, and in the user-mode-linux
 * guest a process start costs about 30 ms of the one CPU: looking every 20 ms took half the CPU from
 * the tool being timed. A look here is a few system calls. It is started, and says it is ready, before
 * the event it times.
 *
 * Usage: weightwatch VIP PORT REAL RPORT WEIGHT LOOKS INTERVAL_MS READY_FILE   (TCP, IPv4)
 * Prints the CLOCK_REALTIME nanoseconds of the first look that found REAL:RPORT at WEIGHT in VIP:PORT;
 * exits 1 if LOOKS looks did not. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int sock;
static uint32_t seq;

static struct nlattr *put(char *buf, size_t *len, uint16_t type, const void *data, uint16_t size)
{
	struct nlattr *a = (struct nlattr *)(buf + *len);
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + size;
	if (data)
		memcpy((char *)a + NLA_HDRLEN, data, size);
	*len += NLA_ALIGN(a->nla_len);
	return a;
}

/* Sends one generic netlink request; the caller reads the answer into buf. */
static void request(uint16_t family, uint8_t cmd, uint16_t flags, const char *attrs, size_t attrs_len)
{
	char buf[512];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = NLMSG_DATA(h);
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN;
	memset(buf, 0, len);
	memcpy(buf + len, attrs, attrs_len);
	len += attrs_len;
	h->nlmsg_len = len;
	h->nlmsg_type = family;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = ++seq;
	g->cmd = cmd;
	g->version = family == GENL_ID_CTRL ? 1 : IPVS_GENL_VERSION;
	if (send(sock, buf, len, 0) < 0) {
		perror("weightwatch: send");
		exit(2);
	}
}

static struct nlattr *find(struct nlattr *first, int len, uint16_t type)
{
	for (struct nlattr *a = first; len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len), a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
	return NULL;
}

static void *payload(struct nlattr *a) { return (char *)a + NLA_HDRLEN; }

static uint16_t ipvs_family(void)
{
	char attrs[64];
	size_t len = 0;
	put(attrs, &len, CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME, sizeof IPVS_GENL_NAME);
	request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, attrs, len);
	char buf[8192];
	ssize_t n = recv(sock, buf, sizeof buf, 0);
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	if (n <= 0 || !NLMSG_OK(h, n) || h->nlmsg_type != GENL_ID_CTRL) {
		fprintf(stderr, "weightwatch: no IPVS in this kernel\n");
		exit(2);
	}
	struct nlattr *first = (struct nlattr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);
	struct nlattr *id = find(first, h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, CTRL_ATTR_FAMILY_ID);
	if (!id) {
		fprintf(stderr, "weightwatch: no IPVS family id\n");
		exit(2);
	}
	return *(uint16_t *)payload(id);
}

/* The weight of real:rport in the service, or -1 if it is not there. */
static long weight(uint16_t family, const char *service, size_t service_len, struct in_addr real, uint16_t rport)
{
	request(family, IPVS_CMD_GET_DEST, NLM_F_DUMP, service, service_len);
	long found = -1;
	char buf[16384];
	for (;;) {
		ssize_t n = recv(sock, buf, sizeof buf, 0);
		if (n <= 0)
			return found;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
				return found;
			struct nlattr *first = (struct nlattr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);
			struct nlattr *dest = find(first, h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, IPVS_CMD_ATTR_DEST);
			if (!dest)
				continue;
			int dlen = dest->nla_len - NLA_HDRLEN;
			struct nlattr *addr = find(payload(dest), dlen, IPVS_DEST_ATTR_ADDR);
			struct nlattr *port = find(payload(dest), dlen, IPVS_DEST_ATTR_PORT);
			struct nlattr *w = find(payload(dest), dlen, IPVS_DEST_ATTR_WEIGHT);
			if (addr && port && w && memcmp(payload(addr), &real, 4) == 0 && *(uint16_t *)payload(port) == htons(rport))
				found = *(uint32_t *)payload(w);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 9) {
		fprintf(stderr, "usage: weightwatch VIP PORT REAL RPORT WEIGHT LOOKS INTERVAL_MS READY_FILE\n");
		return 2;
	}
	struct in_addr vip, real;
	if (inet_pton(AF_INET, argv[1], &vip) != 1 || inet_pton(AF_INET, argv[3], &real) != 1) {
		fprintf(stderr, "weightwatch: VIP and REAL are IPv4 addresses\n");
		return 2;
	}
	uint16_t port = htons(atoi(argv[2])), rport = atoi(argv[4]);
	long want = atol(argv[5]), looks = atol(argv[6]), interval_ms = atol(argv[7]);
	sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (sock < 0) {
		perror("weightwatch: socket");
		return 2;
	}
	uint16_t family = ipvs_family();
	char service[128];
	size_t len = 0;
	struct nlattr *nest = put(service, &len, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, NULL, 0);
	uint16_t af = AF_INET, proto = IPPROTO_TCP;
	char addr[16] = { 0 };
	memcpy(addr, &vip, 4);
	put(service, &len, IPVS_SVC_ATTR_AF, &af, 2);
	put(service, &len, IPVS_SVC_ATTR_PROTOCOL, &proto, 2);
	put(service, &len, IPVS_SVC_ATTR_ADDR, addr, 16);
	put(service, &len, IPVS_SVC_ATTR_PORT, &port, 2);
	nest->nla_len = len;
	weight(family, service, len, real, rport); /* the first look's pages, before READY */
	int ready = open(argv[8], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (ready >= 0)
		close(ready);
	struct timespec pause = { interval_ms / 1000, (interval_ms % 1000) * 1000000L };
	for (long i = 0; i < looks; i++) {
		if (weight(family, service, len, real, rport) == want) {
			struct timespec t;
			clock_gettime(CLOCK_REALTIME, &t);
			printf("%lld\n", (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
			return 0;
		}
		nanosleep(&pause, NULL);
	}
	return 1;
}
