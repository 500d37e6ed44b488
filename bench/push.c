/*
 * push.c - bench-push: the lead source of `make bench`.
 *
 * Sends N synthetic leads (leadgen.h) to intake over a DEALER socket,
 * keeping a window of requests in flight, and watches the notifier's file
 * sink until it holds one line for every customer the leads created (the
 * scheduler fires a speed-to-lead reminder per new customer). It prints
 * leads per second end to end, the latency of each lead from its send to
 * the moment its line appeared in the sink, and the CPU time the client
 * and each service used meanwhile (see bench/README.md). With --rate it
 * paces the leads evenly instead of sending as fast as the window allows.
 *
 *     bench-push run --intake EP --sink PATH [--leads N] [--first SEQ]
 *                    [--window W] [--rate LEADS_PER_S] [--timeout S]
 *                    [--pids name:pid,...] [--label NAME]
 *     bench-push ready EP [TIMEOUT_S]   exit 0 once EP answers a status
 *     bench-push free-port              print a free loopback TCP port
 *
 * Latency is measured per customer: the intake reply names the customer a
 * request created, the sink line names it too. The sink is watched with
 * inotify on its directory, so a line is seen as soon as it is written.
 */
#include "leadgen.h"

#include "clock.h"
#include "err.h"
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define PUSH_MAX_PIDS 8
#define PUSH_REPLY_MAX 65536
#define PUSH_SINK_CHUNK 65536
#define PUSH_CHECK_NS 1000000000LL

typedef struct options {
    const char *intake; /* intake's endpoint */
    const char *sink;   /* the notifier's sink file */
    uint64_t leads;     /* how many to send */
    uint64_t first;     /* seq of the first lead */
    uint64_t window;    /* requests in flight, at most */
    double rate;        /* leads per second; 0: as fast as possible */
    int64_t timeout_s;  /* give up after this long */
    const char *label;  /* first word of the report line */
    int npids;
    char pid_name[PUSH_MAX_PIDS][32];
    int pid[PUSH_MAX_PIDS];
} options_t;

/* A customer created by one of our leads, found by its id. */
typedef struct cust {
    uint64_t id;     /* 0: free slot */
    int64_t sent_ns; /* when its lead was sent; 0: no reply yet */
    int64_t seen_ns; /* when its sink line appeared; 0: not yet */
} cust_t;

/* The sink file, read as it grows. */
typedef struct tail {
    int fd;         /* -1 until the file exists */
    int inotify;    /* watches the sink's directory */
    uint64_t start; /* size before this run: older lines skipped */
    char *buf;      /* an incomplete last line is kept here */
    size_t len;
} tail_t;

typedef struct run {
    const options_t *opt;
    void *zctx, *dealer;
    tail_t tail;
    int64_t *sent_ns; /* per request, by request_id - 1 */
    cust_t *custs;    /* open addressing, cap slots */
    size_t cap, used;
    double *lat_ms; /* one per customer delivered */
    uint64_t sent, replies, accepted, rejected, not_created, delivered;
    int64_t t0, last_reply_ns, last_line_ns, next_check;
    unsigned checks;
    struct rusage ru0;
    double cpu0[PUSH_MAX_PIDS];
    double wchar0[PUSH_MAX_PIDS];
} run_t;

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- CPU time of processes ---------------------------------------------- */

/*
 * Reads the state letter and the user + system seconds of process pid
 * from /proc/PID/stat. Returns 0, or -1 when there is no such process.
 */
static int proc_stat(int pid, char *state, double *cpu_s)
{
    char path[64], buf[1024], *p;
    unsigned long long utime, stime;
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (p == NULL || sscanf(p + 2,
                            "%c %*d %*d %*d %*d %*d %*u %*u %*u "
                            "%*u %*u %llu %llu",
                            state, &utime, &stime) != 3)
        return -1;
    *cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
    return 0;
}

/* CPU seconds of pid; -1 when it is gone. */
static double proc_cpu_s(int pid)
{
    char state;
    double s;

    return proc_stat(pid, &state, &s) == 0 ? s : -1;
}

/* False once pid has exited (a zombie its parent did not reap counts). */
static bool proc_alive(int pid)
{
    char state;
    double s;

    return proc_stat(pid, &state, &s) == 0 && state != 'Z' && state != 'X';
}

/*
 * Bytes pid has written with write(2) and its kin (wchar in /proc/PID/io):
 * for a service, its LMDB pages and sink lines. -1 when unreadable.
 */
static double proc_wchar(int pid)
{
    char path[64], line[128];
    double bytes = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/io", pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "wchar: %lf", &bytes) == 1)
            break;
    fclose(f);
    return bytes;
}

static double rusage_s(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
           (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

static void cpu_start(run_t *r)
{
    getrusage(RUSAGE_SELF, &r->ru0);
    for (int i = 0; i < r->opt->npids; i++) {
        r->cpu0[i] = proc_cpu_s(r->opt->pid[i]);
        r->wchar0[i] = proc_wchar(r->opt->pid[i]);
    }
}

/* The name of a watched service that has exited, or NULL. */
static const char *pids_dead(const run_t *r)
{
    for (int i = 0; i < r->opt->npids; i++)
        if (!proc_alive(r->opt->pid[i]))
            return r->opt->pid_name[i];
    return NULL;
}

static void cpu_print(const run_t *r)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    printf(" cpu_client_s=%.2f", rusage_s(&ru) - rusage_s(&r->ru0));
    for (int i = 0; i < r->opt->npids; i++)
        printf(" cpu_%s_s=%.2f", r->opt->pid_name[i],
               proc_cpu_s(r->opt->pid[i]) - r->cpu0[i]);
    for (int i = 0; i < r->opt->npids; i++)
        printf(" written_%s_bytes=%.0f", r->opt->pid_name[i],
               proc_wchar(r->opt->pid[i]) - r->wchar0[i]);
}

/* ---- customers ---------------------------------------------------------- */

/*
 * The entry of customer id, added when it is new; NULL for id 0 or when
 * the table is full (only lines of customers not ours could fill it).
 */
static cust_t *cust_find(run_t *r, uint64_t id)
{
    size_t i = (size_t)((id * 0x9E3779B97F4A7C15ULL) >> 20) & (r->cap - 1);

    while (r->custs[i].id != 0 && r->custs[i].id != id)
        i = (i + 1) & (r->cap - 1);
    if (id == 0 || (r->custs[i].id == 0 && r->used + 1 >= r->cap))
        return NULL;
    if (r->custs[i].id == 0)
        r->used++;
    r->custs[i].id = id;
    return &r->custs[i];
}

/* Counts customer c delivered once both its send and its line are known. */
static void cust_settle(run_t *r, cust_t *c)
{
    if (c->sent_ns == 0 || c->seen_ns == 0)
        return;
    r->lat_ms[r->delivered++] = (double)(c->seen_ns - c->sent_ns) / 1e6;
    c->sent_ns = -1; /* counted; a second line changes nothing */
}

/* ---- the sink ----------------------------------------------------------- */

static int tail_open(tail_t *t, const char *path)
{
    char dir[4096];
    struct stat st;

    t->fd = -1;
    t->start = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
    t->buf = malloc(PUSH_SINK_CHUNK);
    snprintf(dir, sizeof dir, "%s", path);
    t->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (t->buf == NULL || t->inotify < 0 ||
        inotify_add_watch(t->inotify, dirname(dir), IN_MODIFY | IN_CREATE) < 0)
        return KY_EIO;
    return KY_OK;
}

static void tail_close(tail_t *t)
{
    if (t->fd >= 0)
        close(t->fd);
    if (t->inotify >= 0)
        close(t->inotify);
    free(t->buf);
}

/* One complete sink line: the customer it names, if it is one of ours. */
static void tail_line(run_t *r, const char *line, int64_t ns)
{
    const char *p = strstr(line, " customer=");
    cust_t *c;

    if (p == NULL)
        return;
    c = cust_find(r, strtoull(p + 10, NULL, 10));
    if (c == NULL || c->seen_ns != 0)
        return;
    c->seen_ns = ns;
    r->last_line_ns = ns;
    cust_settle(r, c);
}

/* Handles the complete lines in the buffer; keeps a torn last line. */
static void tail_lines(run_t *r, int64_t ns)
{
    tail_t *t = &r->tail;
    char *line = t->buf, *nl;

    while ((nl = memchr(line, '\n', t->len - (size_t)(line - t->buf)))) {
        *nl = '\0';
        tail_line(r, line, ns);
        line = nl + 1;
    }
    t->len -= (size_t)(line - t->buf);
    memmove(t->buf, line, t->len);
}

/* Reads what the sink gained since the last call. */
static int tail_read(run_t *r)
{
    tail_t *t = &r->tail;
    char ev[4096];
    int64_t ns = now_ns();
    ssize_t n;

    while (read(t->inotify, ev, sizeof ev) > 0)
        ; /* only a wake-up: the file itself says what is new */
    if (t->fd < 0) {
        t->fd = open(r->opt->sink, O_RDONLY | O_CLOEXEC);
        if (t->fd < 0)
            return errno == ENOENT ? KY_OK : KY_EIO;
        lseek(t->fd, (off_t)t->start, SEEK_SET);
    }
    while ((n = read(t->fd, t->buf + t->len, PUSH_SINK_CHUNK - t->len)) > 0) {
        t->len += (size_t)n;
        tail_lines(r, ns);
        if (t->len == PUSH_SINK_CHUNK)
            t->len = 0; /* a line this long is not one of ours */
    }
    return n < 0 ? KY_EIO : KY_OK;
}

/* ---- requests and replies ----------------------------------------------- */

static int send_lead(run_t *r)
{
    static uint8_t buf[4096];
    bench_lead_t bl;
    uint64_t i = r->sent;
    size_t len;

    bench_lead_make(&bl, r->opt->first + i, i + 1, clock_now_ms());
    len = protobuf_c_message_get_packed_size(&bl.env.base);
    if (len > sizeof buf)
        return KY_ERANGE;
    protobuf_c_message_pack(&bl.env.base, buf);
    r->sent_ns[i] = now_ns();
    if (zmq_send(r->dealer, buf, len, ZMQ_DONTWAIT) < 0)
        return zmq_errno() == EAGAIN ? KY_EAGAIN : KY_EZMQ;
    if (r->t0 == 0)
        r->t0 = r->sent_ns[i];
    r->sent++;
    return KY_OK;
}

/* The time lead number i is due when pacing; 0 when not pacing. */
static int64_t due_ns(const run_t *r, uint64_t i)
{
    if (r->opt->rate <= 0 || r->t0 == 0)
        return 0;
    return r->t0 + (int64_t)((double)i * 1e9 / r->opt->rate);
}

/* Sends what the window and the pace allow. */
static int send_some(run_t *r)
{
    int rc = KY_OK;

    while (rc == 0 && r->sent < r->opt->leads &&
           r->sent - r->replies < r->opt->window &&
           due_ns(r, r->sent) <= now_ns())
        rc = send_lead(r);
    return rc == KY_EAGAIN ? KY_OK : rc;
}

static void on_reply(run_t *r, const Envelope *env, int64_t ns)
{
    const Keyuan__V1__Reply *rp = env->reply;
    uint64_t i = env->request_id - 1;
    cust_t *c;

    if (env->body_case != KEYUAN__V1__ENVELOPE__BODY_REPLY ||
        env->request_id == 0 || i >= r->sent)
        return;
    r->replies++;
    r->last_reply_ns = ns;
    if (rp->status == KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED) {
        if (r->rejected++ == 0)
            fprintf(stderr, "bench-push: lead rejected: %s %s\n", rp->code,
                    rp->message);
        return;
    }
    r->accepted++;
    if (!rp->created) { /* no new customer, so no speed-to-lead line */
        r->not_created++;
        return;
    }
    if ((c = cust_find(r, rp->customer_id)) == NULL)
        return;
    c->sent_ns = r->sent_ns[i];
    cust_settle(r, c);
}

static int read_replies(run_t *r)
{
    static uint8_t buf[PUSH_REPLY_MAX];
    int n;

    while ((n = zmq_recv(r->dealer, buf, sizeof buf, ZMQ_DONTWAIT)) >= 0) {
        Envelope *env =
            wire_unpack(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf);

        if (env)
            on_reply(r, env, now_ns());
        wire_free(env);
    }
    return zmq_errno() == EAGAIN ? KY_OK : KY_EZMQ;
}

/* ---- the run ------------------------------------------------------------ */

static bool run_done(const run_t *r)
{
    return r->replies == r->opt->leads &&
           r->delivered == r->accepted - r->not_created;
}

static void progress(run_t *r, FILE *out)
{
    fprintf(out,
            "bench-push: %s sent=%llu replies=%llu rejected=%llu "
            "delivered=%llu\n",
            r->opt->label, (unsigned long long)r->sent,
            (unsigned long long)r->replies, (unsigned long long)r->rejected,
            (unsigned long long)r->delivered);
}

/* Once a second: are the services alive; every ten, how far are we. */
static int check(run_t *r)
{
    const char *dead = pids_dead(r);

    if (dead) {
        fprintf(stderr, "bench-push: %s has exited\n", dead);
        return KY_EIO;
    }
    if (++r->checks % 10 == 0)
        progress(r, stderr);
    r->next_check += PUSH_CHECK_NS;
    return KY_OK;
}

/* How long to wait for a reply or a sink line before sending again. */
static long poll_ms(const run_t *r)
{
    int64_t due;

    if (r->sent >= r->opt->leads || r->sent - r->replies >= r->opt->window)
        return 100;
    due = due_ns(r, r->sent) - now_ns();
    if (due <= 0)
        return 0;
    return (long)((due + 999999) / 1000000); /* sleep, never spin */
}

static int run_loop(run_t *r)
{
    zmq_pollitem_t items[2] = {{r->dealer, 0, ZMQ_POLLIN, 0},
                               {NULL, r->tail.inotify, ZMQ_POLLIN, 0}};
    int64_t deadline = now_ns() + r->opt->timeout_s * 1000000000LL;
    int rc = KY_OK;

    r->next_check = now_ns() + PUSH_CHECK_NS;
    while (rc == 0 && !run_done(r)) {
        if (now_ns() > deadline)
            return KY_EAGAIN;
        if (now_ns() > r->next_check && (rc = check(r)) != 0)
            break;
        if ((rc = send_some(r)) != 0)
            break;
        if (zmq_poll(items, 2, poll_ms(r)) < 0 && zmq_errno() != EINTR)
            return KY_EZMQ;
        if ((rc = read_replies(r)) == 0)
            rc = tail_read(r);
    }
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The nearest-rank percentile p (0..100) of the sorted latencies. */
static double pct(const run_t *r, double p)
{
    size_t i;

    if (r->delivered == 0)
        return 0;
    i = (size_t)(p / 100 * (double)r->delivered + 0.999999);
    return r->lat_ms[(i ? i : 1) - 1];
}

static void report(run_t *r)
{
    double e2e = (double)(r->last_line_ns - r->t0) / 1e9;
    double acc = (double)(r->last_reply_ns - r->t0) / 1e9;

    qsort(r->lat_ms, r->delivered, sizeof *r->lat_ms, cmp_double);
    printf("%s leads=%llu accepted=%llu rejected=%llu delivered=%llu "
           "rate_target=%.0f seconds=%.3f leads_per_s=%.0f "
           "intake_seconds=%.3f intake_per_s=%.0f lat_p50_ms=%.1f "
           "lat_p90_ms=%.1f lat_p99_ms=%.1f lat_max_ms=%.1f",
           r->opt->label, (unsigned long long)r->opt->leads,
           (unsigned long long)r->accepted, (unsigned long long)r->rejected,
           (unsigned long long)r->delivered, r->opt->rate, e2e,
           (double)r->delivered / e2e, acc, (double)r->replies / acc,
           pct(r, 50), pct(r, 90), pct(r, 99), pct(r, 100));
    cpu_print(r);
    printf("\n");
    fflush(stdout);
}

static int run_open(run_t *r)
{
    int zero = 0, linger = 0;

    for (r->cap = 1024; r->cap < 2 * r->opt->leads; r->cap *= 2)
        ;
    r->custs = calloc(r->cap, sizeof *r->custs);
    r->sent_ns = calloc(r->opt->leads, sizeof *r->sent_ns);
    r->lat_ms = calloc(r->opt->leads, sizeof *r->lat_ms);
    if (r->custs == NULL || r->sent_ns == NULL || r->lat_ms == NULL)
        return KY_ENOMEM;
    if (tail_open(&r->tail, r->opt->sink) != 0) {
        perror(r->opt->sink);
        return KY_EIO;
    }
    r->zctx = zmq_ctx_new();
    r->dealer = zmq_socket(r->zctx, ZMQ_DEALER);
    if (r->dealer == NULL)
        return KY_EZMQ;
    /* no high-water marks: the window bounds what is queued, and a full
     * receive queue would make intake's ROUTER drop replies */
    zmq_setsockopt(r->dealer, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(r->dealer, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt(r->dealer, ZMQ_LINGER, &linger, sizeof linger);
    return zmq_connect(r->dealer, r->opt->intake) == 0 ? KY_OK : KY_EZMQ;
}

static void run_close(run_t *r)
{
    if (r->dealer)
        zmq_close(r->dealer);
    if (r->zctx)
        zmq_ctx_term(r->zctx);
    tail_close(&r->tail);
    free(r->custs);
    free(r->sent_ns);
    free(r->lat_ms);
}

static int cmd_run(const options_t *opt)
{
    run_t r = {.opt = opt, .tail = {.fd = -1, .inotify = -1}};
    int rc = run_open(&r);

    if (rc == 0) {
        cpu_start(&r);
        rc = run_loop(&r);
    }
    if (rc == KY_EAGAIN) {
        fprintf(stderr, "bench-push: %s did not finish within %lld s\n",
                opt->label, (long long)opt->timeout_s);
        progress(&r, stderr);
    } else if (rc) {
        fprintf(stderr, "bench-push: %s failed: %s\n", opt->label, err_str(rc));
        progress(&r, stderr);
    } else {
        report(&r);
    }
    run_close(&r);
    return rc ? 1 : 0;
}

/* ---- the small commands ------------------------------------------------- */

/* Sends a StatusRequest to endpoint; 0 once any reply arrives in time. */
static int cmd_ready(const char *endpoint, long timeout_s)
{
    Envelope env = KEYUAN__V1__ENVELOPE__INIT;
    Keyuan__V1__StatusRequest req = KEYUAN__V1__STATUS_REQUEST__INIT;
    uint8_t buf[16], reply[4096];
    int linger = 0, timeout_ms = (int)(timeout_s * 1000), rc = 1;
    void *zctx = zmq_ctx_new(), *s = zmq_socket(zctx, ZMQ_DEALER);
    size_t len;

    env.body_case = KEYUAN__V1__ENVELOPE__BODY_STATUS_REQUEST;
    env.status_request = &req;
    len = protobuf_c_message_pack(&env.base, buf);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    if (zmq_connect(s, endpoint) == 0 && zmq_send(s, buf, len, 0) >= 0 &&
        zmq_recv(s, reply, sizeof reply, 0) >= 0)
        rc = 0;
    zmq_close(s);
    zmq_ctx_term(zctx);
    return rc;
}

/* Prints a loopback TCP port that was free a moment ago. */
static int cmd_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("free-port");
        return 1;
    }
    printf("%d\n", ntohs(a.sin_port));
    close(fd);
    return 0;
}

/* ---- options ------------------------------------------------------------ */

/* Parses "name:pid,name:pid"; false when it is not that. */
static bool parse_pids(options_t *opt, const char *s)
{
    while (*s) {
        int used = 0, i = opt->npids;

        if (i == PUSH_MAX_PIDS || sscanf(s, "%31[^:]:%d%n", opt->pid_name[i],
                                         &opt->pid[i], &used) != 2)
            return false;
        opt->npids++;
        s += used;
        if (*s == ',')
            s++;
    }
    return true;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: bench-push run --intake EP --sink PATH [--leads N] "
            "[--first SEQ]\n"
            "                      [--window W] [--rate LEADS_PER_S] "
            "[--timeout S]\n"
            "                      [--pids name:pid,...] [--label NAME]\n"
            "       bench-push ready EP [TIMEOUT_S]\n"
            "       bench-push free-port\n");
    return 2;
}

static int parse_run(options_t *opt, int argc, char **argv)
{
    static const struct option longs[] = {
        {"intake", 1, 0, 'i'},  {"sink", 1, 0, 's'},
        {"leads", 1, 0, 'n'},   {"first", 1, 0, 'f'},
        {"window", 1, 0, 'w'},  {"rate", 1, 0, 'r'},
        {"timeout", 1, 0, 't'}, {"pids", 1, 0, 'p'},
        {"label", 1, 0, 'l'},   {0, 0, 0, 0}};
    int c;

    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'i':
            opt->intake = optarg;
            break;
        case 's':
            opt->sink = optarg;
            break;
        case 'n':
            opt->leads = strtoull(optarg, NULL, 10);
            break;
        case 'f':
            opt->first = strtoull(optarg, NULL, 10);
            break;
        case 'w':
            opt->window = strtoull(optarg, NULL, 10);
            break;
        case 'r':
            opt->rate = strtod(optarg, NULL);
            break;
        case 't':
            opt->timeout_s = strtoll(optarg, NULL, 10);
            break;
        case 'l':
            opt->label = optarg;
            break;
        case 'p':
            if (!parse_pids(opt, optarg))
                return usage();
            break;
        default:
            return usage();
        }
    }
    if (!opt->intake || !opt->sink || opt->leads == 0 || opt->window == 0 ||
        opt->timeout_s <= 0 || opt->first + opt->leads > BENCH_LEAD_SEQ_MAX)
        return usage();
    return 0;
}

int main(int argc, char **argv)
{
    options_t opt = {
        .leads = 200000, .window = 4096, .timeout_s = 300, .label = "push"};

    if (argc >= 2 && strcmp(argv[1], "free-port") == 0)
        return cmd_free_port();
    if (argc >= 3 && strcmp(argv[1], "ready") == 0)
        return cmd_ready(argv[2], argc > 3 ? strtol(argv[3], NULL, 10) : 10);
    if (argc < 2 || strcmp(argv[1], "run") != 0)
        return usage();
    if (parse_run(&opt, argc - 1, argv + 1) != 0)
        return 2;
    return cmd_run(&opt);
}
