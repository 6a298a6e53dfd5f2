/* How buffered writes to one file scale with threads, with nothing computed: the floor under
 * `torch-rng init` on a host (README, "Whole models").
 *
 * Writes a new file of SIZE_MB (default 500) in 1 MiB pieces, each thread taking the next piece and writing it
 * at its offset with pwrite, after reserving the bytes with fallocate (KEEP_SIZE) as `init` does.
 * Prints wall-clock, user and system time.
 *
 *   cc -O2 -pthread tools/write_scaling.c -o /tmp/write_scaling
 *   for t in 1 2; do sync; /tmp/write_scaling $t /tmp/ws.bin; done; rm /tmp/ws.bin
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PIECE (1u << 20)

static size_t total;
static int fd;
static long next_piece;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *writer(void *arg) {
    (void)arg;
    unsigned *buf = malloc(PIECE);
    if (!buf) return (void *)1;
    for (;;) {
        pthread_mutex_lock(&mu);
        long p = next_piece++;
        pthread_mutex_unlock(&mu);
        size_t off = (size_t)p * PIECE;
        if (off >= total) break;
        size_t n = total - off < PIECE ? total - off : PIECE;
        for (size_t i = 0; i < n / 4; i++) buf[i] = (unsigned)(i * 2654435761u + p);
        for (size_t done = 0; done < n;) {
            ssize_t w = pwrite(fd, (char *)buf + done, n - done, (off_t)(off + done));
            if (w <= 0) { perror("pwrite"); exit(1); }
            done += (size_t)w;
        }
    }
    free(buf);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s THREADS FILE [SIZE_MB]\n", argv[0]); return 2; }
    int threads = atoi(argv[1]);
    total = (size_t)(argc > 3 ? atol(argv[3]) : 500) << 20;
    if (threads < 1 || threads > 256) { fprintf(stderr, "THREADS: 1 to 256\n"); return 2; }
    /* A new file, as `init` makes one; dropping an old one's pages is not timed. */
    unlink(argv[2]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) { perror(argv[2]); return 1; }
    fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)total);
    pthread_t th[256];
    for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, writer, NULL);
    for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
    close(fd);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%d threads: wall %.3f s, user %.3f s, sys %.3f s\n", threads,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
           (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    return 0;
}
