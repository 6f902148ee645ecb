// SPDX-License-Identifier: GPL-2.0
/*
 * xtfs - create and inspect IP-TFS (RFC 9347) XFRM states and policies
 *
 * Stock iproute2 can neither create "mode iptfs" SAs nor put "mode iptfs"
 * into policy templates; xtfs does both over NETLINK_XFRM, with words that
 * follow "ip xfrm state" and "ip xfrm policy".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xtfs.h"

struct xtfs_opts opts;
FILE *out;

static const char usage_text[] =
"Usage: xtfs [-j] [-s] OBJECT COMMAND [ARGS]\n"
"       xtfs -V | --version\n"
"\n"
"  xtfs state add src ADDR dst ADDR proto esp spi SPI [reqid N]\n"
"          [dir in|out] [mode iptfs|tunnel|transport|beet]\n"
"          [aead NAME KEY ICV-BITS |\n"
"           enc NAME KEY [auth NAME KEY | auth-trunc NAME KEY BITS]]\n"
"          [replay-window N] [replay-seq N] [replay-seq-hi N]\n"
"          [replay-oseq N] [replay-oseq-hi N]\n"
"          [flag FLAG...|flag 0xHEX] [sel SELECTOR]\n"
"          [if_id N] [mark MARK [mask MASK]]\n"
"          [pkt-size BYTES] [init-delay USEC] [dont-frag]\n"
"          [max-queue-size BYTES]                  (IP-TFS, dir out)\n"
"          [drop-time USEC] [reorder-window N]      (IP-TFS, dir in)\n"
"          [iiv]                                    (IP-TFS, implicit IV)\n"
"          [payload aggfrag|tunnel]                 (IP-TFS, ESP payload)\n"
"          [send demand | send fixed rate PPS [reverse-spi SPI] |\n"
"           send cc rate PPS [rate-min PPS] reverse-spi SPI]\n"
"          [breaker LOSS-PPM TIME-MS]               (IP-TFS, dir out)\n"
"  xtfs state del [src ADDR] dst ADDR proto esp spi SPI [mark MARK [mask MASK]]\n"
"  xtfs state get [src ADDR] dst ADDR proto esp spi SPI [mark MARK [mask MASK]]\n"
"  xtfs state list [src PFX] [dst PFX] [proto esp|ah|comp] [spi SPI]\n"
"          [mode MODE] [reqid N]\n"
"  xtfs state flush [proto esp]\n"
"  xtfs policy add SELECTOR dir in|out|fwd [priority N]\n"
"          [action allow|block] [if_id N] [mark MARK [mask MASK]]\n"
"          [flag localok|icmp...|flag 0xHEX]\n"
"          [tmpl [src ADDR] [dst ADDR] [proto esp] [spi SPI] [reqid N]\n"
"                [mode iptfs|tunnel|transport|beet] [level required|use]]...\n"
"  xtfs policy del SELECTOR dir in|out|fwd [if_id N] [mark MARK [mask MASK]]\n"
"  xtfs policy list\n"
"  xtfs policy flush\n"
"  xtfs stats [show] [src ADDR] [dst ADDR] [proto esp] [spi SPI] [mark N]\n"
"  xtfs monitor\n"
"  xtfs help | -h | --help\n"
"\n"
"Options:\n"
"  -j, --json   print get/list output (monitor: each line) as JSON\n"
"  -s, --stats  state get/list: add the xtfs counters of IP-TFS SAs\n"
"  -V, --version  the helper's version and the loaded xfrm_xtfs module's\n"
"\n"
"ADDR is an IPv4 or IPv6 address, PFX is ADDR[/LEN]. SPI and numbers are\n"
"decimal or 0x-hex. SELECTOR is src PFX dst PFX [dev DEV] [proto PROTO\n"
"[sport PORT] [dport PORT] | [type N] [code N] | [key GREKEY]].\n"
"KEY is 0x-hex, any other word as text (the key in quotes), or \"\" for\n"
"none (cipher_null, digest_null). mode defaults to iptfs, which needs\n"
"dir. FLAG is one of esn, af-unspec, noecn, decap-dscp, nopmtudisc,\n"
"wildrecv, icmp, align4.\n"
"iiv sends ESP with implicit IV (RFC 8750), for aead rfc4106(gcm(aes)) 128\n"
"(aes-gcm-16), rfc4309(ccm(aes)) 64 (aes-ccm-8) or\n"
"rfc7539esp(chacha20,poly1305) 128 (chacha20-poly1305); it needs the\n"
"xfrm_xtfs module.\n"
"payload tunnel makes an iptfs SA carry one inner packet per ESP packet\n"
"(next header 4/41, the wire format of tunnel mode) instead of AGGFRAG\n"
"payloads (payload aggfrag, the default); the IP-TFS parameters do not\n"
"apply to it, and it needs the xfrm_xtfs module. Policies keep mode iptfs.\n"
"Without iiv it interoperates with a stock \"mode tunnel\" SA; with iiv it\n"
"is a plain tunnel with implicit IV:\n"
"  xtfs state add ... mode iptfs dir out aead 'rfc4106(gcm(aes))' KEY 128 \\\n"
"          iiv payload tunnel\n"
"\"stats\" shows the xtfs counters of the SA named by dst and spi, or of\n"
"every IP-TFS SA served by xtfs that matches the words given.\n"
"\"monitor\" prints a line for each SA whose circuit breaker trips, until\n"
"killed.\n"
"Exit status: 0 success, 1 failure (kernel error), 2 bad usage.\n";

/* usage - print the help text and exit. */
static void __noreturn usage(FILE *f, int status)
{
	fputs(usage_text, f);
	exit(status);
}

/*
 * version - "xtfs VERSION", then the version of the xfrm_xtfs module
 * that the helper talks to, if it is loaded (its MODULE_VERSION).
 */
static void __noreturn version(void)
{
	char v[64] = "";
	FILE *f;

	printf("xtfs %s\n", XTFS_VERSION);
	f = fopen("/sys/module/xfrm_xtfs/version", "r");
	if (f) {
		if (fgets(v, sizeof(v), f))
			v[strcspn(v, "\n")] = '\0';
		fclose(f);
		printf("xfrm_xtfs %s\n", *v ? v : "(version unknown)");
	} else if (errno == ENOENT && !access("/sys/module/xfrm_xtfs", F_OK)) {
		puts("xfrm_xtfs (loaded, no version)");
	} else {
		puts("xfrm_xtfs not loaded");
	}
	exit(fflush(stdout) ? XTFS_EXIT_FAIL : 0);
}

/* The commands: OBJECT VERB, with aliases in the style of ip. */
static const struct {
	const char *obj;
	const char *verb;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "state", "add", state_add },
	{ "state", "del", state_del },
	{ "state", "delete", state_del },
	{ "state", "get", state_get },
	{ "state", "list", state_list },
	{ "state", "show", state_list },
	{ "state", "flush", state_flush },
	{ "policy", "add", policy_add },
	{ "policy", "del", policy_del },
	{ "policy", "delete", policy_del },
	{ "policy", "list", policy_list },
	{ "policy", "show", policy_list },
	{ "policy", "flush", policy_flush },
	{ "stats", "show", stats_show },
	{ "stats", "list", stats_show },
};

/* parse_options - the global options before OBJECT; returns argv index. */
static int parse_options(int argc, char **argv)
{
	const char *env = getenv("XTFS_DUMP");
	int i;

	if (env && *env && strcmp(env, "0"))
		opts.dry_run = true;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "--"))
			return i + 1;
		if (!strcmp(o, "-j") || !strcmp(o, "--json"))
			opts.json = true;
		else if (!strcmp(o, "-s") || !strcmp(o, "--stats"))
			opts.stats = true;
		else if (!strcmp(o, "-js") || !strcmp(o, "-sj"))
			opts.json = opts.stats = true;
		else if (!strcmp(o, "-h") || !strcmp(o, "--help"))
			usage(stdout, 0);
		else if (!strcmp(o, "-V") || !strcmp(o, "--version"))
			version();
		else if (!strcmp(o, "--dry-run"))
			opts.dry_run = true;	/* hidden: hex-dump requests */
		else
			usage_error("unknown option \"%s\"", o);
	}
	return i;
}

/* run - find and run the command named by argv[0] and argv[1]. */
static int run(int argc, char **argv)
{
	bool known_obj = false;
	size_t i;

	if (!argc) {
		fputs("xtfs: missing command\n", stderr);
		usage(stderr, XTFS_EXIT_USAGE);
	}
	if (!strcmp(argv[0], "help"))
		usage(stdout, 0);
	if (!strcmp(argv[0], "monitor")) {
		if (argc > 1 && !strcmp(argv[1], "help"))
			usage(stdout, 0);
		return monitor_events(argc - 1, argv + 1);
	}
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].obj, argv[0]))
			known_obj = true;
	if (!known_obj)
		usage_error("unknown object \"%s\" (expected state, policy, stats or monitor)",
			    argv[0]);
	/* "stats" alone, or followed by its words, means "stats show". */
	if (!strcmp(argv[0], "stats") &&
	    (argc < 2 || (strcmp(argv[1], "show") && strcmp(argv[1], "list") &&
			  strcmp(argv[1], "help"))))
		return stats_show(argc - 1, argv + 1);
	if (argc < 2)
		usage_error("missing command after \"%s\"", argv[0]);
	if (!strcmp(argv[1], "help"))
		usage(stdout, 0);
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].obj, argv[0]) &&
		    !strcmp(cmds[i].verb, argv[1]))
			return cmds[i].fn(argc - 2, argv + 2);
	usage_error("unknown command \"%s\" for \"%s\"", argv[1], argv[0]);
}

/*
 * main - output is collected in memory and written to stdout only on
 * success, so that a failing get/list never leaves partial (JSON) output.
 */
int main(int argc, char **argv)
{
	char *buf = NULL;
	size_t len = 0;
	int first, ret;

	first = parse_options(argc, argv);
	out = open_memstream(&buf, &len);
	if (!out) {
		perror("xtfs: open_memstream");
		return XTFS_EXIT_FAIL;
	}
	ret = run(argc - first, argv + first);
	if (fclose(out)) {
		perror("xtfs: output");
		return XTFS_EXIT_FAIL;
	}
	if (!ret && !opts.dry_run && len &&
	    (fwrite(buf, 1, len, stdout) != len || fflush(stdout))) {
		perror("xtfs: stdout");
		ret = -1;
	}
	free(buf);
	return ret ? XTFS_EXIT_FAIL : 0;
}
