#ifndef GW_CGATEWAYLINUX_H
#define GW_CGATEWAYLINUX_H
// Linux syscalls and constants Swift's Glibc module does not import (epoll, eventfd, accept4,
// pthread_timedjoin_np).
// Thin wrappers only; every mirrored struct has a _Static_assert on its size.
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <pthread.h>

/// An epoll event without the packed layout of `struct epoll_event` (x86_64), which Swift
/// cannot import faithfully. `gw_epoll_wait` converts.
typedef struct {
    uint32_t events;
    uint64_t data;
} gw_epoll_event;

extern const uint32_t GW_EPOLLIN, GW_EPOLLOUT, GW_EPOLLRDHUP, GW_EPOLLHUP, GW_EPOLLERR, GW_EPOLLET;

int gw_epoll_create(void);
int gw_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
int gw_epoll_add(int epfd, int fd, uint32_t events, uint64_t data);
int gw_epoll_mod(int epfd, int fd, uint32_t events, uint64_t data);
int gw_epoll_del(int epfd, int fd);
int gw_epoll_wait(int epfd, gw_epoll_event *events, int max, int timeout_ms);
int gw_eventfd(void);
int gw_accept4(int fd, struct sockaddr *addr, socklen_t *len);
/// pthread_timedjoin_np with a relative timeout: 0 when joined, ETIMEDOUT when it is still running.
int gw_thread_join_within(pthread_t thread, int timeout_ms);
#endif
