// The CBLAS interface of the system OpenBLAS (Debian: libopenblas-dev).
#include <cblas.h>

// glibc's allocator switches, for AllocatorTuning.reuseFreedMemory() (not exported to Swift by Glibc).
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#include <limits.h>
static inline void recurrent_keep_freed_memory(void) {
#ifdef M_MMAP_MAX
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}
#else
static inline void recurrent_keep_freed_memory(void) {}
#endif
