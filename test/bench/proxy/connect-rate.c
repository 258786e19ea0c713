// New TCP connections per second from a pod, for the proxy bench's data-plane figure: for
// SECONDS, one connection after the other to HOST:PORT, each reading the backend's greeting
// ("backend\n", so a connection that the network outside accepted does not count) and closing.
// Each connection's first packet walks the proxy's NAT chains, which is where a rule layout costs
// what pods feel. Prints one JSON line: {"connections", "failed", "seconds"}. Bench-only.
//
//   connect-rate HOST PORT SECONDS
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

// One connection: 1 when the greeting came back whole, 0 otherwise.
static int one(const struct sockaddr_in *to) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  struct timeval limit = {.tv_sec = 1};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  // Closed with a reset: neither end keeps the connection in TIME_WAIT, so a later connection
  // from the same port (the direct run follows the Service run) meets no leftover of this one.
  struct linger reset = {.l_onoff = 1, .l_linger = 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  int ok = 0;
  if (connect(fd, (const struct sockaddr *)to, sizeof *to) == 0) {
    char buf[16];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf && (n = read(fd, buf + got, sizeof buf - got)) > 0) got += (size_t)n;
    ok = got == 8 && memcmp(buf, "backend\n", 8) == 0;
  }
  close(fd);
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s HOST PORT SECONDS\n", argv[0]);
    return 2;
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
    fprintf(stderr, "connect-rate: %s is not an IPv4 address\n", argv[1]);
    return 2;
  }
  double seconds = atof(argv[3]);
  long connections = 0, failed = 0;
  double start = now(), end = start;
  while ((end = now()) - start < seconds) {
    if (one(&to)) connections++;
    else failed++;
  }
  printf("{\"connections\":%ld,\"failed\":%ld,\"seconds\":%.6f}\n", connections, failed, end - start);
  return 0;
}
