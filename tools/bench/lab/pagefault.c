/* What the first touch of a page costs in this guest, printed by checks.sh with the run's figures: a
 * daemon's reload pays it for every page of heap it touches afresh (each reload ends with malloc_trim,
 * which gives free pages back). In user-mode-linux a page's first touch is a host-level fault that
 * the guest kernel serves; MADV_POPULATE_WRITE fills the guest's page tables, not the host's mapping,
 * so the touch after it costs the same (both are printed, to show it).
 * Usage: pagefault [PAGES] (default 1000). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* Milliseconds to write one byte of each page of a block malloc took from trimmed heap. */
static double touch(size_t pages, int populate, double *populating) {
    size_t size = pages * 4096;
    malloc_trim(0);
    volatile char *p = malloc(size);
    if (!p) { perror("malloc"); exit(1); }
    double t0 = now();
    if (populate) {
        char *aligned = (char *)(((unsigned long)p + 4095) & ~4095UL);
        madvise(aligned, size - 4096, MADV_POPULATE_WRITE);
    }
    double t1 = now();
    for (size_t i = 0; i < size; i += 4096) p[i] = 1;
    double t2 = now();
    free((void *)p);
    *populating = (t1 - t0) * 1e3;
    return (t2 - t1) * 1e3;
}

int main(int argc, char **argv) {
    size_t pages = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
    /* lvsh's settings: big blocks on the heap, no trim but malloc_trim's. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    double populating, plain = touch(pages, 0, &populating);
    double after = touch(pages, 1, &populating);
    printf("page faults: %zu pages first touched in %.1f ms (%.1f us a page); after MADV_POPULATE_WRITE (%.1f ms) in %.1f ms\n",
           pages, plain, plain * 1e3 / pages, populating, after);
    return 0;
}
