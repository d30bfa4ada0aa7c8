/* LD_PRELOAD shim: a fake IPVS generic-netlink "kernel" for running the real
 * ipvsadm without IPVS.  Listings come from $FAKEIPVS_STATE; every other
 * request is decoded and appended to $FAKEIPVS_LOG; $FAKEIPVS_ERRNO makes
 * every non-GET request fail with that errno. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <linux/ip_vs.h>

#define FAMILY 0x42
struct fake_sock { nl_recvmsg_msg_cb_t valid; void *varg; nl_recvmsg_err_cb_t err; void *earg; struct nl_msg *replies[256]; int nreplies; int error; struct nlmsghdr req; };

struct nl_sock *nl_socket_alloc(void) { return (struct nl_sock *)calloc(1, sizeof(struct fake_sock)); }
void nl_socket_free(struct nl_sock *s) { free(s); }
int genl_connect(struct nl_sock *s) { (void)s; return 0; }
int genl_ctrl_resolve(struct nl_sock *s, const char *name) { (void)s; (void)name; return getenv("FAKEIPVS_ABSENT") ? -NLE_OBJ_NOTFOUND : FAMILY; }
int nl_socket_modify_cb(struct nl_sock *s, enum nl_cb_type t, enum nl_cb_kind k, nl_recvmsg_msg_cb_t f, void *a) {
	(void)k; if (t == NL_CB_VALID) { ((struct fake_sock *)s)->valid = f; ((struct fake_sock *)s)->varg = a; } return 0; }
int nl_socket_modify_err_cb(struct nl_sock *s, enum nl_cb_kind k, nl_recvmsg_err_cb_t f, void *a) {
	(void)k; ((struct fake_sock *)s)->err = f; ((struct fake_sock *)s)->earg = a; return 0; }

/* ---- state ---- */
struct stats { unsigned long long v[10]; };
struct dest { int af; unsigned char addr[16]; unsigned port, fwd, weight, u, l, active, inact, persist, tuntype, tunport, tunflags; struct stats st; };
struct svc { int af; unsigned proto; unsigned char addr[16]; unsigned port, fwmark; char sched[32], pe[32]; unsigned flags, timeout, netmask; struct stats st; struct dest d[64]; int nd; };
static struct svc svcs[64]; static int nsvc;
static unsigned tcp = 900, tcpfin = 120, udp = 300, version = 0x010201, tabsize = 4096;
struct daemon { unsigned state; char ifn[32]; unsigned syncid, maxlen, port, ttl; int gaf; unsigned char group[16]; };
static struct daemon daemons[2]; static int ndaemons;

static void parse_addr(const char *s, int *af, unsigned char *a) {
	memset(a, 0, 16);
	if (strchr(s, ':')) { inet_pton(AF_INET6, s, a); *af = AF_INET6; } else { inet_pton(AF_INET, s, a); *af = AF_INET; }
}
static void parse_stats(const char *s, struct stats *st) { memset(st, 0, sizeof *st); if (s) sscanf(s, "%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu", &st->v[0], &st->v[1], &st->v[2], &st->v[3], &st->v[4], &st->v[5], &st->v[6], &st->v[7], &st->v[8], &st->v[9]); }
static const char *kv(char *line, const char *key) {
	static char buf[8][256]; static int slot; char pat[64]; snprintf(pat, sizeof pat, " %s=", key);
	char *p = strstr(line, pat); if (!p) return NULL; p += strlen(pat);
	char *b = buf[slot++ & 7]; int i = 0; while (*p && *p != ' ' && *p != '\n' && i < 255) b[i++] = *p++; b[i] = 0; return b;
}
static unsigned kvu(char *line, const char *key, unsigned def) { const char *v = kv(line, key); return v ? (unsigned)strtoul(v, NULL, 0) : def; }

static void load(void) {
	static int loaded; if (loaded) return; loaded = 1;
	const char *path = getenv("FAKEIPVS_STATE"); if (!path) return;
	FILE *f = fopen(path, "r"); if (!f) return;
	char line[1024];
	while (fgets(line, sizeof line, f)) {
		char l2[1030]; snprintf(l2, sizeof l2, " %s", line);
		if (!strncmp(line, "svc", 3)) {
			struct svc *s = &svcs[nsvc++]; memset(s, 0, sizeof *s);
			const char *a = kv(l2, "addr"); s->fwmark = kvu(l2, "fwmark", 0);
			if (a) parse_addr(a, &s->af, s->addr); else s->af = kvu(l2, "af", 2);
			s->proto = kvu(l2, "proto", 6); s->port = kvu(l2, "port", 0);
			snprintf(s->sched, 32, "%s", kv(l2, "sched") ? kv(l2, "sched") : "wlc");
			if (kv(l2, "pe")) snprintf(s->pe, 32, "%s", kv(l2, "pe"));
			s->flags = kvu(l2, "flags", 2); s->timeout = kvu(l2, "timeout", 0);
			s->netmask = kvu(l2, "netmask", s->af == AF_INET6 ? 128 : 0xffffffff);
			parse_stats(kv(l2, "stats"), &s->st);
		} else if (!strncmp(line, "dest", 4)) {
			struct svc *s = &svcs[nsvc - 1]; struct dest *d = &s->d[s->nd++]; memset(d, 0, sizeof *d);
			parse_addr(kv(l2, "addr"), &d->af, d->addr); d->port = kvu(l2, "port", 0); d->fwd = kvu(l2, "fwd", 3);
			d->weight = kvu(l2, "weight", 1); d->u = kvu(l2, "u", 0); d->l = kvu(l2, "l", 0);
			d->active = kvu(l2, "active", 0); d->inact = kvu(l2, "inact", 0); d->persist = kvu(l2, "persist", 0);
			d->tuntype = kvu(l2, "tuntype", 0); d->tunport = kvu(l2, "tunport", 0); d->tunflags = kvu(l2, "tunflags", 0);
			parse_stats(kv(l2, "stats"), &d->st);
		} else if (!strncmp(line, "timeout", 7)) {
			sscanf(line, "timeout %u %u %u", &tcp, &tcpfin, &udp);
		} else if (!strncmp(line, "info", 4)) {
			sscanf(line, "info %i %u", &version, &tabsize);
		} else if (!strncmp(line, "daemon", 6)) {
			struct daemon *d = &daemons[ndaemons++]; memset(d, 0, sizeof *d);
			d->state = kvu(l2, "state", 1); snprintf(d->ifn, 32, "%s", kv(l2, "ifn") ? kv(l2, "ifn") : "eth0");
			d->syncid = kvu(l2, "syncid", 0); d->maxlen = kvu(l2, "maxlen", 0); d->port = kvu(l2, "port", 0); d->ttl = kvu(l2, "ttl", 0);
			if (kv(l2, "group")) parse_addr(kv(l2, "group"), &d->gaf, d->group);
		}
	}
	fclose(f);
}

static struct nl_msg *reply(int cmd) {
	struct nl_msg *m = nlmsg_alloc();
	genlmsg_put(m, 0, 0, FAMILY, 0, 0, cmd, 1);
	return m;
}
static void put_stats(struct nl_msg *m, int type, struct stats *st, int is64) {
	struct nlattr *n = nla_nest_start(m, type);
	for (int i = 0; i < 10; i++) {
		int a = i + 1;
		if (is64 || a == IPVS_STATS_ATTR_INBYTES || a == IPVS_STATS_ATTR_OUTBYTES) nla_put_u64(m, a, st->v[i]);
		else nla_put_u32(m, a, (unsigned)st->v[i]);
	}
	nla_nest_end(m, n);
}
static void put_svc(struct nl_msg *m, struct svc *s) {
	struct nlattr *n = nla_nest_start(m, IPVS_CMD_ATTR_SERVICE);
	nla_put_u16(m, IPVS_SVC_ATTR_AF, s->af);
	if (s->fwmark) nla_put_u32(m, IPVS_SVC_ATTR_FWMARK, s->fwmark);
	else { nla_put_u16(m, IPVS_SVC_ATTR_PROTOCOL, s->proto); nla_put(m, IPVS_SVC_ATTR_ADDR, 16, s->addr); nla_put_u16(m, IPVS_SVC_ATTR_PORT, htons(s->port)); }
	nla_put_string(m, IPVS_SVC_ATTR_SCHED_NAME, s->sched);
	if (s->pe[0]) nla_put_string(m, IPVS_SVC_ATTR_PE_NAME, s->pe);
	struct ip_vs_flags fl = { s->flags, ~0U }; nla_put(m, IPVS_SVC_ATTR_FLAGS, sizeof fl, &fl);
	nla_put_u32(m, IPVS_SVC_ATTR_TIMEOUT, s->timeout);
	nla_put_u32(m, IPVS_SVC_ATTR_NETMASK, s->af == AF_INET ? htonl(s->netmask) : s->netmask);
	put_stats(m, IPVS_SVC_ATTR_STATS, &s->st, 0); put_stats(m, IPVS_SVC_ATTR_STATS64, &s->st, 1);
	nla_nest_end(m, n);
}
static void put_dest(struct nl_msg *m, struct dest *d) {
	struct nlattr *n = nla_nest_start(m, IPVS_CMD_ATTR_DEST);
	nla_put(m, IPVS_DEST_ATTR_ADDR, 16, d->addr); nla_put_u16(m, IPVS_DEST_ATTR_ADDR_FAMILY, d->af);
	nla_put_u16(m, IPVS_DEST_ATTR_PORT, htons(d->port)); nla_put_u32(m, IPVS_DEST_ATTR_FWD_METHOD, d->fwd);
	nla_put_u32(m, IPVS_DEST_ATTR_WEIGHT, d->weight);
	nla_put_u8(m, IPVS_DEST_ATTR_TUN_TYPE, d->tuntype); nla_put_u16(m, IPVS_DEST_ATTR_TUN_PORT, htons(d->tunport)); nla_put_u16(m, IPVS_DEST_ATTR_TUN_FLAGS, d->tunflags);
	nla_put_u32(m, IPVS_DEST_ATTR_U_THRESH, d->u); nla_put_u32(m, IPVS_DEST_ATTR_L_THRESH, d->l);
	nla_put_u32(m, IPVS_DEST_ATTR_ACTIVE_CONNS, d->active); nla_put_u32(m, IPVS_DEST_ATTR_INACT_CONNS, d->inact); nla_put_u32(m, IPVS_DEST_ATTR_PERSIST_CONNS, d->persist);
	put_stats(m, IPVS_DEST_ATTR_STATS, &d->st, 0); put_stats(m, IPVS_DEST_ATTR_STATS64, &d->st, 1);
	nla_nest_end(m, n);
}

static struct svc *find_svc(struct nlattr *nest) {
	struct nlattr *a[IPVS_SVC_ATTR_MAX + 1];
	if (!nest || nla_parse_nested(a, IPVS_SVC_ATTR_MAX, nest, NULL)) return NULL;
	int af = a[IPVS_SVC_ATTR_AF] ? nla_get_u16(a[IPVS_SVC_ATTR_AF]) : 0;
	for (int i = 0; i < nsvc; i++) {
		struct svc *s = &svcs[i]; if (s->af != af) continue;
		if (a[IPVS_SVC_ATTR_FWMARK]) { if (s->fwmark == nla_get_u32(a[IPVS_SVC_ATTR_FWMARK])) return s; continue; }
		if (s->fwmark) continue;
		if (s->proto == nla_get_u16(a[IPVS_SVC_ATTR_PROTOCOL]) && !memcmp(s->addr, nla_data(a[IPVS_SVC_ATTR_ADDR]), af == AF_INET ? 4 : 16)
		    && htons(s->port) == nla_get_u16(a[IPVS_SVC_ATTR_PORT])) return s;
	}
	return NULL;
}

static const char *cmdname(int c) {
	static const char *n[] = { "unspec", "new-service", "set-service", "del-service", "get-service", "new-dest", "set-dest", "del-dest", "get-dest", "new-daemon", "del-daemon", "get-daemon", "set-config", "get-config", "set-info", "get-info", "zero", "flush" };
	return c >= 0 && c <= 17 ? n[c] : "?";
}
static void addrstr(int af, const void *a, char *out) { inet_ntop(af == AF_INET6 ? AF_INET6 : AF_INET, a, out, 64); }

static void log_request(struct nlmsghdr *h, struct nlattr **t, int cmd) {
	const char *path = getenv("FAKEIPVS_LOG"); if (!path) return;
	FILE *f = fopen(path, "a"); if (!f) return;
	fprintf(f, "%s", cmdname(cmd));
	if (t[IPVS_CMD_ATTR_SERVICE]) {
		struct nlattr *a[IPVS_SVC_ATTR_MAX + 1]; nla_parse_nested(a, IPVS_SVC_ATTR_MAX, t[IPVS_CMD_ATTR_SERVICE], NULL);
		int af = a[IPVS_SVC_ATTR_AF] ? nla_get_u16(a[IPVS_SVC_ATTR_AF]) : 0; char buf[64];
		fprintf(f, " svc[af=%d", af);
		if (a[IPVS_SVC_ATTR_FWMARK]) fprintf(f, " fwmark=%u", nla_get_u32(a[IPVS_SVC_ATTR_FWMARK]));
		if (a[IPVS_SVC_ATTR_PROTOCOL]) fprintf(f, " proto=%u", nla_get_u16(a[IPVS_SVC_ATTR_PROTOCOL]));
		if (a[IPVS_SVC_ATTR_ADDR]) { addrstr(af, nla_data(a[IPVS_SVC_ATTR_ADDR]), buf); fprintf(f, " addr=%s", buf); }
		if (a[IPVS_SVC_ATTR_PORT]) fprintf(f, " port=%u", ntohs(nla_get_u16(a[IPVS_SVC_ATTR_PORT])));
		int full = cmd == IPVS_CMD_NEW_SERVICE || cmd == IPVS_CMD_SET_SERVICE;
		if (full && a[IPVS_SVC_ATTR_SCHED_NAME]) fprintf(f, " sched=%s", nla_get_string(a[IPVS_SVC_ATTR_SCHED_NAME]));
		if (full && a[IPVS_SVC_ATTR_PE_NAME]) fprintf(f, " pe=%s", nla_get_string(a[IPVS_SVC_ATTR_PE_NAME]));
		if (full && a[IPVS_SVC_ATTR_FLAGS]) { struct ip_vs_flags fl; nla_memcpy(&fl, a[IPVS_SVC_ATTR_FLAGS], sizeof fl); fprintf(f, " flags=%#x", fl.flags); }
		if (full && a[IPVS_SVC_ATTR_TIMEOUT]) fprintf(f, " timeout=%u", nla_get_u32(a[IPVS_SVC_ATTR_TIMEOUT]));
		if (full && a[IPVS_SVC_ATTR_NETMASK]) { unsigned nm = nla_get_u32(a[IPVS_SVC_ATTR_NETMASK]); fprintf(f, " netmask=%#x", af == AF_INET6 ? nm : ntohl(nm)); }
		fprintf(f, "]");
	}
	if (t[IPVS_CMD_ATTR_DEST]) {
		struct nlattr *a[IPVS_DEST_ATTR_MAX + 1]; nla_parse_nested(a, IPVS_DEST_ATTR_MAX, t[IPVS_CMD_ATTR_DEST], NULL);
		int af = a[IPVS_DEST_ATTR_ADDR_FAMILY] ? nla_get_u16(a[IPVS_DEST_ATTR_ADDR_FAMILY]) : 0; char buf[64];
		addrstr(af, nla_data(a[IPVS_DEST_ATTR_ADDR]), buf);
		if (cmd == IPVS_CMD_DEL_DEST) { fprintf(f, " dest[af=%d addr=%s port=%u]", af, buf, ntohs(nla_get_u16(a[IPVS_DEST_ATTR_PORT]))); } else
		fprintf(f, " dest[af=%d addr=%s port=%u fwd=%u weight=%u u=%u l=%u tuntype=%u tunport=%u tunflags=%u]", af, buf,
			ntohs(nla_get_u16(a[IPVS_DEST_ATTR_PORT])), nla_get_u32(a[IPVS_DEST_ATTR_FWD_METHOD]), nla_get_u32(a[IPVS_DEST_ATTR_WEIGHT]),
			nla_get_u32(a[IPVS_DEST_ATTR_U_THRESH]), nla_get_u32(a[IPVS_DEST_ATTR_L_THRESH]), nla_get_u8(a[IPVS_DEST_ATTR_TUN_TYPE]),
			ntohs(nla_get_u16(a[IPVS_DEST_ATTR_TUN_PORT])), nla_get_u16(a[IPVS_DEST_ATTR_TUN_FLAGS]));
	}
	if (t[IPVS_CMD_ATTR_DAEMON]) {
		struct nlattr *a[IPVS_DAEMON_ATTR_MAX + 1]; nla_parse_nested(a, IPVS_DAEMON_ATTR_MAX, t[IPVS_CMD_ATTR_DAEMON], NULL);
		if (cmd == IPVS_CMD_DEL_DAEMON) { fprintf(f, " daemon[state=%u]\n", nla_get_u32(a[IPVS_DAEMON_ATTR_STATE])); fclose(f); return; }
		fprintf(f, " daemon[state=%u ifn=%s syncid=%u", nla_get_u32(a[IPVS_DAEMON_ATTR_STATE]), nla_get_string(a[IPVS_DAEMON_ATTR_MCAST_IFN]), nla_get_u32(a[IPVS_DAEMON_ATTR_SYNC_ID]));
		if (a[IPVS_DAEMON_ATTR_SYNC_MAXLEN]) fprintf(f, " maxlen=%u", nla_get_u16(a[IPVS_DAEMON_ATTR_SYNC_MAXLEN]));
		char buf[64];
		if (a[IPVS_DAEMON_ATTR_MCAST_GROUP]) { unsigned g = nla_get_u32(a[IPVS_DAEMON_ATTR_MCAST_GROUP]); addrstr(AF_INET, &g, buf); fprintf(f, " group=%s", buf); }
		if (a[IPVS_DAEMON_ATTR_MCAST_GROUP6]) { addrstr(AF_INET6, nla_data(a[IPVS_DAEMON_ATTR_MCAST_GROUP6]), buf); fprintf(f, " group=%s", buf); }
		if (a[IPVS_DAEMON_ATTR_MCAST_PORT]) fprintf(f, " port=%u", nla_get_u16(a[IPVS_DAEMON_ATTR_MCAST_PORT]));
		if (a[IPVS_DAEMON_ATTR_MCAST_TTL]) fprintf(f, " ttl=%u", nla_get_u8(a[IPVS_DAEMON_ATTR_MCAST_TTL]));
		fprintf(f, "]");
	}
	if (t[IPVS_CMD_ATTR_TIMEOUT_TCP]) fprintf(f, " timeouts[%u %u %u]", nla_get_u32(t[IPVS_CMD_ATTR_TIMEOUT_TCP]), nla_get_u32(t[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN]), nla_get_u32(t[IPVS_CMD_ATTR_TIMEOUT_UDP]));
	fprintf(f, "\n"); fclose(f); (void)h;
}

int nl_send_auto_complete(struct nl_sock *sk, struct nl_msg *msg) {
	struct fake_sock *s = (struct fake_sock *)sk; load();
	struct nlmsghdr *h = nlmsg_hdr(msg); struct genlmsghdr *g = nlmsg_data(h);
	struct nlattr *t[IPVS_CMD_ATTR_MAX + 1];
	genlmsg_parse(h, 0, t, IPVS_CMD_ATTR_MAX, NULL);
	s->nreplies = 0; s->error = 0; s->req = *h;
	switch (g->cmd) {
	case IPVS_CMD_GET_INFO: { struct nl_msg *m = reply(g->cmd); nla_put_u32(m, IPVS_INFO_ATTR_VERSION, version); nla_put_u32(m, IPVS_INFO_ATTR_CONN_TAB_SIZE, tabsize); s->replies[s->nreplies++] = m; break; }
	case IPVS_CMD_GET_SERVICE:
		if (h->nlmsg_flags & NLM_F_DUMP) { for (int i = 0; i < nsvc; i++) { struct nl_msg *m = reply(g->cmd); put_svc(m, &svcs[i]); s->replies[s->nreplies++] = m; } }
		else { struct svc *sv = find_svc(t[IPVS_CMD_ATTR_SERVICE]); if (!sv) s->error = ESRCH; else { struct nl_msg *m = reply(g->cmd); put_svc(m, sv); s->replies[s->nreplies++] = m; } }
		break;
	case IPVS_CMD_GET_DEST: { struct svc *sv = find_svc(t[IPVS_CMD_ATTR_SERVICE]); if (!sv) { s->error = ESRCH; break; }
		for (int i = 0; i < sv->nd; i++) { struct nl_msg *m = reply(g->cmd); put_dest(m, &sv->d[i]); s->replies[s->nreplies++] = m; } break; }
	case IPVS_CMD_GET_CONFIG: { struct nl_msg *m = reply(g->cmd); nla_put_u32(m, IPVS_CMD_ATTR_TIMEOUT_TCP, tcp); nla_put_u32(m, IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, tcpfin); nla_put_u32(m, IPVS_CMD_ATTR_TIMEOUT_UDP, udp); s->replies[s->nreplies++] = m; break; }
	case IPVS_CMD_GET_DAEMON:
		for (int i = 0; i < ndaemons; i++) { struct daemon *d = &daemons[i]; struct nl_msg *m = reply(g->cmd); struct nlattr *n = nla_nest_start(m, IPVS_CMD_ATTR_DAEMON);
			nla_put_u32(m, IPVS_DAEMON_ATTR_STATE, d->state); nla_put_string(m, IPVS_DAEMON_ATTR_MCAST_IFN, d->ifn); nla_put_u32(m, IPVS_DAEMON_ATTR_SYNC_ID, d->syncid);
			if (d->maxlen) nla_put_u16(m, IPVS_DAEMON_ATTR_SYNC_MAXLEN, d->maxlen);
			if (d->port) nla_put_u16(m, IPVS_DAEMON_ATTR_MCAST_PORT, d->port);
			if (d->ttl) nla_put_u8(m, IPVS_DAEMON_ATTR_MCAST_TTL, d->ttl);
			if (d->gaf == AF_INET) nla_put(m, IPVS_DAEMON_ATTR_MCAST_GROUP, 4, d->group);
			if (d->gaf == AF_INET6) nla_put(m, IPVS_DAEMON_ATTR_MCAST_GROUP6, 16, d->group);
			nla_nest_end(m, n); s->replies[s->nreplies++] = m; }
		break;
	default:
		log_request(h, t, g->cmd);
		if (getenv("FAKEIPVS_ERRNO")) s->error = atoi(getenv("FAKEIPVS_ERRNO"));
	}
	return 0;
}

int nl_recvmsgs_default(struct nl_sock *sk) {
	struct fake_sock *s = (struct fake_sock *)sk;
	for (int i = 0; i < s->nreplies; i++) { if (s->valid) s->valid(s->replies[i], s->varg); nlmsg_free(s->replies[i]); }
	s->nreplies = 0;
	if (s->error) { struct nlmsgerr e; e.error = -s->error; e.msg = s->req; if (s->err) return s->err(NULL, &e, s->earg); return -NLE_FAILURE; }
	return 0;
}

/* /proc/net/ip_vs_conn comes from $FAKEIPVS_CONN. */
#include <dlfcn.h>
FILE *fopen(const char *path, const char *mode) {
	static FILE *(*real)(const char *, const char *);
	if (!real) real = (FILE *(*)(const char *, const char *))dlsym(RTLD_NEXT, "fopen");
	if (!strcmp(path, "/proc/net/ip_vs_conn") && getenv("FAKEIPVS_CONN")) path = getenv("FAKEIPVS_CONN");
	return real(path, mode);
}
