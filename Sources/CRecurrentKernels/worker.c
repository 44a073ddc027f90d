// A small pool of persistent worker threads for short parallel jobs (the batch-1 products of
// sampling: a few microseconds each, thousands per second). Worker i runs part i + 1 of a job. The
// caller posts a job to exactly the workers it needs by bumping their own job counters; an idle
// worker spins on its counter for a while (so the next job starts within a microsecond) and then
// sleeps on its own condition variable. GCD's dispatch, by contrast, wakes a thread per job, which
// costs about as long as the job itself.
#include "include/recurrent_kernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define RK_MAX_WORKERS 15
/// Spin iterations before an idle worker sleeps (about 100 µs).
#define RK_SPIN_LIMIT 20000

typedef struct {
    _Atomic unsigned long job;   // bumped by the caller for each job this worker takes part in
    _Atomic int sleeping;        // waiting on `wake`
    pthread_cond_t wake;
} rk_worker;

static struct {
    pthread_mutex_t lock;        // thread creation and sleeping
    rk_worker workers[RK_MAX_WORKERS];
    int started;                 // workers created so far (under `lock`)
    _Atomic long remaining;      // parts still running on workers
    rk_task task;                // of the current job: written before the workers' counters are bumped
    void *context;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

static _Atomic int busy;         // a job is running (jobs never overlap)

static inline void rk_pause(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static void *rk_worker_main(void *argument) {
    long index = (long)argument;
    rk_worker *self = &pool.workers[index];
    unsigned long seen = 0;      // a worker is created before its first job is posted
    for (;;) {
        unsigned long current;
        int spins = 0;
        while ((current = atomic_load_explicit(&self->job, memory_order_acquire)) == seen) {
            if (++spins < RK_SPIN_LIMIT) { rk_pause(); continue; }
            pthread_mutex_lock(&pool.lock);
            atomic_store(&self->sleeping, 1);
            while (atomic_load_explicit(&self->job, memory_order_acquire) == seen) pthread_cond_wait(&self->wake, &pool.lock);
            atomic_store(&self->sleeping, 0);
            pthread_mutex_unlock(&pool.lock);
            spins = 0;
        }
        seen = current;
        pool.task(pool.context, index + 1);
        atomic_fetch_sub_explicit(&pool.remaining, 1, memory_order_release);
    }
    return 0;
}

int rk_parallel(long parts, rk_task task, void *context) {
    if (parts <= 1) { if (parts == 1) task(context, 0); return 1; }
    if (parts > RK_MAX_WORKERS + 1) return 0;
    int idle = 0;
    if (!atomic_compare_exchange_strong(&busy, &idle, 1)) return 0;  // another thread's job, or a nested call
    if (pool.started < parts - 1) {
        pthread_mutex_lock(&pool.lock);
        while (pool.started < parts - 1) {
            rk_worker *worker = &pool.workers[pool.started];
            atomic_store(&worker->job, 0);
            atomic_store(&worker->sleeping, 0);
            pthread_cond_init(&worker->wake, 0);
            pthread_t thread;
            if (pthread_create(&thread, 0, rk_worker_main, (void *)(long)pool.started) != 0) break;
            pthread_detach(thread);
            pool.started++;
        }
        int enough = pool.started >= parts - 1;
        pthread_mutex_unlock(&pool.lock);
        if (!enough) { atomic_store(&busy, 0); return 0; }
    }
    pool.task = task;
    pool.context = context;
    atomic_store_explicit(&pool.remaining, parts - 1, memory_order_relaxed);
    for (long i = 0; i < parts - 1; i++) {
        rk_worker *worker = &pool.workers[i];
        atomic_fetch_add_explicit(&worker->job, 1, memory_order_release);
        if (atomic_load(&worker->sleeping)) {
            pthread_mutex_lock(&pool.lock);
            pthread_cond_signal(&worker->wake);
            pthread_mutex_unlock(&pool.lock);
        }
    }
    task(context, 0);
    // Wait for the workers' parts; yield the core after a while in case a worker is not running
    // (more busy threads than cores).
    for (long spins = 0; atomic_load_explicit(&pool.remaining, memory_order_acquire) > 0; spins++) {
        if (spins < 4096) rk_pause(); else sched_yield();
    }
    atomic_store_explicit(&busy, 0, memory_order_release);
    return 1;
}
