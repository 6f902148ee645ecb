// SPDX-License-Identifier: GPL-2.0
/*
 * udpbench - the UDP sender and receiver of make bench.
 *
 *   udpbench send ADDR PORT SIZES COUNT SECS
 *	send UDP datagrams to ADDR:PORT as fast as one socket can, in
 *	batches of sendmmsg(), until COUNT were sent (COUNT > 0) or SECS
 *	seconds passed (COUNT 0). SIZES is the payload size cycle, e.g.
 *	"64" or "40*7,576*4,1500" (the simple IMIX). Prints
 *	"sent N OCTETS START_NS END_NS ERRORS" (CLOCK_MONOTONIC).
 *
 *   udpbench recv ADDR PORT IDLE_MS [EXPECT]
 *	receive on ADDR:PORT (a 16 MiB socket buffer) until EXPECT datagrams
 *	came (when given), or IDLE_MS passed without a datagram once one came
 *	(or 10 s with none), then print
 *	"recv N OCTETS FIRST_NS LAST_NS" (CLOCK_MONOTONIC arrival times).
 *	It prints "ready" once it listens.
 *
 * Both ends run in the same guest, so their clocks are one: a burst's
 * receiving time is the receiver's LAST_NS less the sender's START_NS.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH		64
#define MAX_SIZES	64
#define MAX_PAYLOAD	65507

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* parse_sizes - "A*n,B,..." into sizes[], each repeated n times; count */
static int parse_sizes(const char *arg, int *sizes)
{
	char *copy = strdup(arg), *tok, *save = NULL, *star;
	int n = 0;

	if (!copy)
		die("strdup");
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		long size = strtol(tok, &star, 10), rep = 1;

		if (*star == '*')
			rep = strtol(star + 1, NULL, 10);
		else if (*star)
			rep = 0;
		if (size < 1 || size > MAX_PAYLOAD || rep < 1 ||
		    n + rep > MAX_SIZES) {
			fprintf(stderr, "udpbench: bad size list '%s'\n", arg);
			exit(2);
		}
		while (rep--)
			sizes[n++] = size;
	}
	free(copy);
	return n;
}

static int make_socket(const char *addr, int port,
		       struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	int fd;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
	} else {
		fprintf(stderr, "udpbench: bad address '%s'\n", addr);
		exit(2);
	}
	fd = socket(ss->ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket");
	return fd;
}

static int do_send(int argc, char **argv)
{
	static char payload[MAX_PAYLOAD];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage ss;
	uint64_t start, end, sent = 0, octets = 0, errors = 0;
	int sizes[MAX_SIZES], nsizes, fd, i, k = 0;
	long count, secs;
	socklen_t len;

	if (argc != 7)
		return 2;
	nsizes = parse_sizes(argv[4], sizes);
	count = strtol(argv[5], NULL, 10);
	secs = strtol(argv[6], NULL, 10);
	fd = make_socket(argv[2], atoi(argv[3]), &ss, &len);
	if (connect(fd, (struct sockaddr *)&ss, len))
		die("connect");
	memset(payload, 0xa5, sizeof(payload));
	memset(msgs, 0, sizeof(msgs));
	start = now_ns();
	end = start + (uint64_t)secs * 1000000000ull;
	while (count ? sent < (uint64_t)count : now_ns() < end) {
		int n = BATCH, r;

		if (count && (uint64_t)count - sent < BATCH)
			n = count - sent;
		for (i = 0; i < n; i++) {
			iov[i].iov_base = payload;
			iov[i].iov_len = sizes[(k + i) % nsizes];
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			/* A full queue on the way (ENOBUFS) loses the
			 * datagram at the head of the batch: count it as
			 * sent and lost, as the delivered count will show.
			 */
			if (errno != ENOBUFS && errno != EAGAIN &&
			    errno != ECONNREFUSED)
				die("sendmmsg");
			errors++;
			r = 1;
		}
		for (i = 0; i < r; i++)
			octets += iov[i].iov_len;
		sent += r;
		k = (k + r) % nsizes;
	}
	printf("sent %llu %llu %llu %llu %llu\n", (unsigned long long)sent,
	       (unsigned long long)octets, (unsigned long long)start,
	       (unsigned long long)now_ns(), (unsigned long long)errors);
	return 0;
}

static int do_recv(int argc, char **argv)
{
	static char bufs[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage ss;
	uint64_t got = 0, octets = 0, first = 0, last = 0, expect = 0;
	int fd, i, idle_ms, rcvbuf = 16 << 20;
	struct pollfd pfd;
	socklen_t len;

	if (argc != 5 && argc != 6)
		return 2;
	idle_ms = atoi(argv[4]);
	if (argc == 6)
		expect = strtoull(argv[5], NULL, 10);
	fd = make_socket(argv[2], atoi(argv[3]), &ss, &len);
	/* Root may exceed rmem_max; others get what it allows. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		die("SO_RCVBUF");
	if (bind(fd, (struct sockaddr *)&ss, len))
		die("bind");
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!expect || got < expect) {
		int r = poll(&pfd, 1, got ? idle_ms : 10000);

		if (r < 0 && errno != EINTR)
			die("poll");
		if (r == 0)
			break;
		r = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("recvmmsg");
		}
		last = now_ns();
		if (!got)
			first = last;
		got += r;
		for (i = 0; i < r; i++)
			octets += msgs[i].msg_len;
	}
	printf("recv %llu %llu %llu %llu\n", (unsigned long long)got,
	       (unsigned long long)octets, (unsigned long long)first,
	       (unsigned long long)last);
	return 0;
}

int main(int argc, char **argv)
{
	int r = 2;

	if (argc > 1 && !strcmp(argv[1], "send"))
		r = do_send(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "recv"))
		r = do_recv(argc, argv);
	if (r == 2)
		fprintf(stderr,
			"usage: udpbench send ADDR PORT SIZES COUNT SECS\n"
			"       udpbench recv ADDR PORT IDLE_MS [EXPECT]\n");
	return r;
}
