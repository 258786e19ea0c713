// The machine's UDP ceiling for the DNS bench: a responder that does the least a DNS server can
// do. It answers every query with the query's own header and question followed by one A record
// that points back at the question name (0xc00c), prepared once at start, so nothing is looked
// up, allocated or parsed beyond the question's length. It reads and writes in batches of up to
// BATCH datagrams (recvmmsg/sendmmsg), one thread, so dnsperf against it measures what the
// kernel, the loopback path and dnsperf itself allow on this core. Bench-only; never shipped.
//
//   udp-ceiling ADDRESS PORT      (IPv4; runs until killed)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BATCH = 64, MAX_QUERY = 512, MAX_REPLY = MAX_QUERY + 16 };

// TYPE A, CLASS IN, TTL 30, RDLENGTH 4, 192.0.2.1 (TEST-NET-1): never routed, never contacted.
static const unsigned char answer_rr[] = {0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1e, 0x00, 0x04, 192, 0, 2, 1};

// The end of the question section (header + QNAME + QTYPE + QCLASS), or 0 when the datagram
// is not a query with exactly one uncompressed question that fits.
static size_t question_end(const unsigned char *q, size_t n) {
  if (n < 12 || (q[2] & 0x80) != 0 || q[4] != 0 || q[5] != 1) return 0;
  size_t at = 12;
  while (at < n && q[at] != 0) {
    if ((q[at] & 0xc0) != 0) return 0;
    at += 1 + q[at];
  }
  at += 1 + 4;
  return at <= n ? at : 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s ADDRESS PORT\n", argv[0]);
    return 2;
  }
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
    fprintf(stderr, "udp-ceiling: %s is not an IPv4 address\n", argv[1]);
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int size = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    perror("udp-ceiling: bind");
    return 1;
  }
  static unsigned char in[BATCH][MAX_QUERY], out[BATCH][MAX_REPLY];
  static struct sockaddr_in peers[BATCH];
  static struct iovec in_iov[BATCH], out_iov[BATCH];
  static struct mmsghdr in_msgs[BATCH], out_msgs[BATCH];
  for (int i = 0; i < BATCH; i++) {
    in_iov[i] = (struct iovec){.iov_base = in[i], .iov_len = MAX_QUERY};
    in_msgs[i].msg_hdr = (struct msghdr){.msg_name = &peers[i], .msg_namelen = sizeof peers[i], .msg_iov = &in_iov[i], .msg_iovlen = 1};
  }
  fprintf(stderr, "udp-ceiling: answering on %s:%s\n", argv[1], argv[2]);
  for (;;) {
    for (int i = 0; i < BATCH; i++) in_msgs[i].msg_hdr.msg_namelen = sizeof peers[i];
    int got = recvmmsg(fd, in_msgs, BATCH, MSG_WAITFORONE, NULL);
    if (got < 0) continue;
    int replies = 0;
    for (int i = 0; i < got; i++) {
      size_t end = question_end(in[i], in_msgs[i].msg_len);
      if (end == 0) continue;
      unsigned char *r = out[replies];
      memcpy(r, in[i], end);
      r[2] = 0x84 | (in[i][2] & 0x01); // QR, AA, the client's RD
      r[3] = 0x80;                     // RA, NOERROR
      r[6] = 0, r[7] = 1;              // ANCOUNT 1
      r[8] = r[9] = r[10] = r[11] = 0; // no authority, no additional (the client's OPT is dropped)
      memcpy(r + end, answer_rr, sizeof answer_rr);
      out_iov[replies] = (struct iovec){.iov_base = r, .iov_len = end + sizeof answer_rr};
      out_msgs[replies].msg_hdr = (struct msghdr){.msg_name = &peers[i], .msg_namelen = in_msgs[i].msg_hdr.msg_namelen, .msg_iov = &out_iov[replies], .msg_iovlen = 1};
      replies++;
    }
    for (int sent = 0; sent < replies;) {
      int n = sendmmsg(fd, out_msgs + sent, (unsigned)(replies - sent), 0);
      if (n <= 0) break;
      sent += n;
    }
  }
}
