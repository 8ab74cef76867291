#include "CGatewayLinux.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <assert.h>
#include <time.h>

_Static_assert(sizeof(gw_epoll_event) == 16, "gw_epoll_event layout");

const uint32_t GW_EPOLLIN = EPOLLIN, GW_EPOLLOUT = EPOLLOUT, GW_EPOLLRDHUP = EPOLLRDHUP,
    GW_EPOLLHUP = EPOLLHUP, GW_EPOLLERR = EPOLLERR, GW_EPOLLET = EPOLLET;

int gw_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int gw_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}
int gw_epoll_add(int epfd, int fd, uint32_t events, uint64_t data) { return gw_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, events, data); }
int gw_epoll_mod(int epfd, int fd, uint32_t events, uint64_t data) { return gw_epoll_ctl(epfd, EPOLL_CTL_MOD, fd, events, data); }
int gw_epoll_del(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, 0); }

int gw_epoll_wait(int epfd, gw_epoll_event *out, int max, int timeout_ms) {
    struct epoll_event evs[512];
    if (max > 512) max = 512;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        out[i].events = evs[i].events;
        out[i].data = evs[i].data.u64;
    }
    return n;
}

int gw_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int gw_accept4(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int gw_thread_join_within(pthread_t thread, int timeout_ms) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000000000L;
    }
    return pthread_timedjoin_np(thread, NULL, &deadline);
}
