// Checks one kernel family of Sources/CRecurrentKernels against straightforward double-precision C
// references: GEMM (transA both ways, beta 0 and 1, ldc > n), the batch-1 products, the activations
// (against libm), the LSTM rows (against the scalar formulas), the bf16/int8 products and the
// bandwidth probe. Every output sits between guard zones filled with a sentinel that must survive,
// and every input ends right before an inaccessible page, so that reads and writes out of bounds are
// caught. Prints one line per check and ends with "N passed, M failed"; exits 1 on any failure.
//
// Built by scripts/kernels/check-family.sh together with portable.c, dispatch.c and the family's files:
//   check_family FAMILY [--time]     FAMILY: reference | avx2 | avx512 | neon (or 0 | 1 | 2 | 3)
#include "kernels_internal.h"
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

// MARK: - Weak stand-ins for the families not linked in

// dispatch.c names every family of the architecture; the script links only the family under test, so
// the others resolve to these (a real definition, when linked, takes precedence).
#define CF_WEAK __attribute__((weak))
#define CF_ABSENT(name) { fprintf(stderr, "check_family: %s is not linked into this checker\n", name); abort(); }
#define CF_WEAK_FAMILY(F) \
    CF_WEAK void rk_##F##_sgemm(int transA, long m, long n, long k, const float *a, long lda, const float *packedB, \
                                float beta, float *c, long ldc) { \
        (void)transA; (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packedB; (void)beta; (void)c; (void)ldc; \
        CF_ABSENT(#F "_sgemm") } \
    CF_WEAK void rk_##F##_gemv_packed(long n, long k, const float *packed, const float *x, float beta, float *y) { \
        (void)n; (void)k; (void)packed; (void)x; (void)beta; (void)y; CF_ABSENT(#F "_gemv_packed") } \
    CF_WEAK void rk_##F##_gemv_rows(long n, long k, const float *w, long ldw, const float *x, float beta, float *y) { \
        (void)n; (void)k; (void)w; (void)ldw; (void)x; (void)beta; (void)y; CF_ABSENT(#F "_gemv_rows") } \
    CF_WEAK void rk_##F##_gemv_columns(long n, long k, const float *w, long ldw, const float *x, float beta, float *y) { \
        (void)n; (void)k; (void)w; (void)ldw; (void)x; (void)beta; (void)y; CF_ABSENT(#F "_gemv_columns") } \
    CF_WEAK void rk_##F##_activation(int kind, const float *source, float *destination, long count) { \
        (void)kind; (void)source; (void)destination; (void)count; CF_ABSENT(#F "_activation") } \
    CF_WEAK void rk_##F##_lstm_forward_row(long H, float *gates, const float *cPrev, float *c, float *h) { \
        (void)H; (void)gates; (void)cPrev; (void)c; (void)h; CF_ABSENT(#F "_lstm_forward_row") } \
    CF_WEAK void rk_##F##_lstm_backward_row(long H, const float *gates, const float *c, const float *cPrev, \
                                            const float *dh, float *dc, float *dGates) { \
        (void)H; (void)gates; (void)c; (void)cPrev; (void)dh; (void)dc; (void)dGates; CF_ABSENT(#F "_lstm_backward_row") } \
    CF_WEAK float rk_##F##_read_sum(const float *p, long n, long passes) { \
        (void)p; (void)n; (void)passes; CF_ABSENT(#F "_read_sum") } \
    CF_WEAK void rk_##F##_gemv_packed_bf16(long n, long k, const uint16_t *packed, const float *x, float beta, float *y) { \
        (void)n; (void)k; (void)packed; (void)x; (void)beta; (void)y; CF_ABSENT(#F "_gemv_packed_bf16") } \
    CF_WEAK void rk_##F##_gemv_packed_int8(long n, long k, const int8_t *packed, const float *scales, const float *x, \
                                           float beta, float *y) { \
        (void)n; (void)k; (void)packed; (void)scales; (void)x; (void)beta; (void)y; CF_ABSENT(#F "_gemv_packed_int8") }

#if defined(__x86_64__)
CF_WEAK_FAMILY(avx2)
CF_WEAK_FAMILY(avx512)
#endif
#if defined(__aarch64__)
CF_WEAK_FAMILY(neon)
#endif

// MARK: - Bookkeeping

static int family;
static long passed, failed;

static void report(int ok, const char *format, ...) {
    va_list args;
    va_start(args, format);
    printf("%s  ", ok ? "ok  " : "FAIL");
    vprintf(format, args);
    printf("\n");
    va_end(args);
    if (ok) passed++; else failed++;
    fflush(stdout);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_random(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return rng_state;
}
/// Uniform in [lo, hi).
static float uniform(float lo, float hi) {
    return lo + (hi - lo) * (float)((next_random() >> 40) * (1.0 / 16777216.0));
}

/// `count` elements of `size` bytes ending exactly where an inaccessible page starts (a read past the
/// end faults). Freed with guarded_free.
static void *guarded_alloc(size_t count, size_t size) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t bytes = count * size;
    size_t body = (bytes + page - 1) / page * page;
    char *base = mmap(NULL, body + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) { perror("mmap"); exit(2); }
    if (mprotect(base + body, page, PROT_NONE) != 0) { perror("mprotect"); exit(2); }
    return base + body - bytes;
}
static void guarded_free(void *p, size_t count, size_t size) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t bytes = count * size;
    size_t body = (bytes + page - 1) / page * page;
    munmap((char *)p + bytes - body, body + page);
}

/// An output array of `count` floats between two guard zones of GUARD floats, all set to SENTINEL.
#define GUARD 67
static const float SENTINEL = -7.3125e11f;
typedef struct { float *base, *p; long count; } Guarded;
static Guarded guarded_output(long count) {
    Guarded g;
    g.count = count;
    g.base = malloc(sizeof(float) * (size_t)(count + 2 * GUARD));
    for (long i = 0; i < count + 2 * GUARD; i++) g.base[i] = SENTINEL;
    g.p = g.base + GUARD;
    return g;
}
static int guards_intact(const Guarded *g) {
    for (long i = 0; i < GUARD; i++)
        if (g->base[i] != SENTINEL || g->p[g->count + i] != SENTINEL) return 0;
    return 1;
}

/// A fault (an access out of bounds reaching a guard page) ends the run as one more failed check, so
/// that the last line keeps its form.
static void on_fault(int signal) {
    char line[160];
    int length = snprintf(line, sizeof line,
                          "FAIL  signal %d (an access out of bounds?) in the check after the last line printed\n"
                          "%ld passed, %ld failed\n", signal, passed, failed + 1);
    if (length > 0) { ssize_t written = write(1, line, (size_t)length); (void)written; }
    _exit(1);
}

static const char *family_name(int f) {
    switch (f) { case RK_REFERENCE: return "reference"; case RK_AVX2: return "avx2";
                 case RK_AVX512: return "avx512"; case RK_NEON: return "neon"; default: return "?"; }
}

/// The error bound of a sum of `k` products whose absolute values sum to `magnitude`, in Float.
static double sum_tolerance(long k, double magnitude) {
    return (double)(k + 4) * 1.2e-7 * magnitude + 1e-30;
}

// MARK: - Packing

static void check_pack(long k, long n, int transB) {
    long ldb = transB ? k + 2 : n + 3;
    long rows = transB ? n : k;
    float *b = guarded_alloc((size_t)(rows * ldb), sizeof(float));
    for (long i = 0; i < rows * ldb; i++) b[i] = uniform(-1, 1);
    size_t count = rk_packed_count(k, n);
    float *packed = guarded_alloc(count, sizeof(float));
    rk_pack_b(transB, k, n, b, ldb, packed);
    long bad = 0;
    for (long p = 0; p < (n + RK_PANEL - 1) / RK_PANEL; p++)
        for (long kk = 0; kk < k; kk++)
            for (long j = 0; j < RK_PANEL; j++) {
                long col = p * RK_PANEL + j;
                float expected = col < n ? (transB ? b[col * ldb + kk] : b[kk * ldb + col]) : 0.0f;
                if (packed[p * k * RK_PANEL + kk * RK_PANEL + j] != expected) bad++;
            }
    report(bad == 0 && count == (size_t)((n + 31) / 32 * 32 * k), "pack_b k=%ld n=%ld transB=%d: %ld wrong elements", k, n,
           transB, bad);
    guarded_free(b, (size_t)(rows * ldb), sizeof(float));
    guarded_free(packed, count, sizeof(float));
}

// MARK: - GEMM

static void check_sgemm(long m, long n, long k, int transA, float beta, long ldcExtra) {
    long lda = transA ? m + 3 : k + 5;
    long aCount = transA ? (k > 0 ? (k - 1) * lda + m : 0) : (m - 1) * lda + k;
    if (aCount < 1) aCount = 1;
    float *a = guarded_alloc((size_t)aCount, sizeof(float));
    for (long i = 0; i < aCount; i++) a[i] = uniform(-1, 1);
    float *b = malloc(sizeof(float) * (size_t)(k * n + 1));
    for (long i = 0; i < k * n; i++) b[i] = uniform(-1, 1);
    size_t packedCount = rk_packed_count(k, n);
    float *packed = guarded_alloc(packedCount > 0 ? packedCount : 1, sizeof(float));
    rk_pack_b(0, k, n, b, n, packed);
    long ldc = n + ldcExtra;
    long cCount = (m - 1) * ldc + n;
    Guarded c = guarded_output(cCount);
    float *c0 = malloc(sizeof(float) * (size_t)cCount);
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++)
            // beta 0 must not read C: a NaN there would show.
            c.p[i * ldc + j] = c0[i * ldc + j] = beta != 0.0f ? uniform(-1, 1) : NAN;
    rk_sgemm(family, transA, m, n, k, a, lda, packed, beta, c.p, ldc);
    double worst = 0;
    int ok = guards_intact(&c);
    for (long i = 0; i < m && ok; i++) {
        for (long j = 0; j < n; j++) {
            double sum = 0, magnitude = 0;
            for (long kk = 0; kk < k; kk++) {
                double av = transA ? a[kk * lda + i] : a[i * lda + kk];
                double t = av * (double)b[kk * n + j];
                sum += t; magnitude += fabs(t);
            }
            if (beta != 0.0f) { sum += c0[i * ldc + j]; magnitude += fabs(c0[i * ldc + j]); }
            double err = fabs((double)c.p[i * ldc + j] - sum);
            if (!(err <= sum_tolerance(k, magnitude))) ok = 0;
            double rel = err / (magnitude + 1e-30);
            if (rel > worst) worst = rel;
        }
        for (long j = n; j < ldc && i + 1 < m; j++)
            if (c.p[i * ldc + j] != SENTINEL) ok = 0;  // the gap between rows of C stays untouched
    }
    report(ok, "sgemm m=%ld n=%ld k=%ld transA=%d beta=%g ldc=%ld: max error/Σ|terms| %.2e", m, n, k, transA, beta, ldc,
           worst);
    guarded_free(a, (size_t)aCount, sizeof(float));
    guarded_free(packed, packedCount > 0 ? packedCount : 1, sizeof(float));
    free(b); free(c0); free(c.base);
}

// MARK: - Batch-1 products

/// kind 0: packed, 1: rows (W n × k), 2: columns (W k × n).
static void check_gemv(int kind, long n, long k, float beta) {
    static const char *names[] = {"gemv_packed", "gemv_rows", "gemv_columns"};
    long ldw = kind == 1 ? k + 3 : n + 5;
    float *w = malloc(sizeof(float) * (size_t)(k * n + 1));  // W(j, kk) as w[kk * n + j]
    for (long i = 0; i < k * n; i++) w[i] = uniform(-1, 1);
    float *x = guarded_alloc((size_t)(k > 0 ? k : 1), sizeof(float));
    for (long i = 0; i < k; i++) x[i] = uniform(-1, 1);
    Guarded y = guarded_output(n);
    float *y0 = malloc(sizeof(float) * (size_t)(n + 1));
    for (long j = 0; j < n; j++) y.p[j] = y0[j] = beta != 0.0f ? uniform(-1, 1) : NAN;
    float *stored = NULL;
    size_t storedCount = 0;
    if (kind == 0) {
        storedCount = rk_packed_count(k, n);
        stored = guarded_alloc(storedCount > 0 ? storedCount : 1, sizeof(float));
        rk_pack_b(0, k, n, w, n, stored);
        rk_gemv_packed(family, n, k, stored, x, beta, y.p);
    } else if (kind == 1) {
        storedCount = (size_t)(n > 0 ? (n - 1) * ldw + k : 0);
        stored = guarded_alloc(storedCount > 0 ? storedCount : 1, sizeof(float));
        for (long j = 0; j < n; j++) for (long kk = 0; kk < k; kk++) stored[j * ldw + kk] = w[kk * n + j];
        rk_gemv_rows(family, n, k, stored, ldw, x, beta, y.p);
    } else {
        storedCount = (size_t)(k > 0 ? (k - 1) * ldw + n : 0);
        stored = guarded_alloc(storedCount > 0 ? storedCount : 1, sizeof(float));
        for (long kk = 0; kk < k; kk++) for (long j = 0; j < n; j++) stored[kk * ldw + j] = w[kk * n + j];
        rk_gemv_columns(family, n, k, stored, ldw, x, beta, y.p);
    }
    int ok = guards_intact(&y);
    double worst = 0;
    for (long j = 0; j < n && ok; j++) {
        double sum = 0, magnitude = 0;
        for (long kk = 0; kk < k; kk++) { double t = (double)x[kk] * w[kk * n + j]; sum += t; magnitude += fabs(t); }
        if (beta != 0.0f) { sum += y0[j]; magnitude += fabs(y0[j]); }
        double err = fabs((double)y.p[j] - sum);
        if (!(err <= sum_tolerance(k, magnitude))) ok = 0;
        if (err / (magnitude + 1e-30) > worst) worst = err / (magnitude + 1e-30);
    }
    report(ok, "%s n=%ld k=%ld beta=%g: max error/Σ|terms| %.2e", names[kind], n, k, beta, worst);
    guarded_free(stored, storedCount > 0 ? storedCount : 1, sizeof(float));
    guarded_free(x, (size_t)(k > 0 ? k : 1), sizeof(float));
    free(w); free(y0); free(y.base);
}

/// The bf16 (lowp 0) or int8 (1) product against a double sum over the packed values and against the
/// reference family.
static void check_gemv_lowp(int lowp, long n, long k, float beta) {
    float *w = malloc(sizeof(float) * (size_t)(k * n + 1));
    for (long i = 0; i < k * n; i++) w[i] = uniform(-1, 1);
    float *x = guarded_alloc((size_t)(k > 0 ? k : 1), sizeof(float));
    for (long i = 0; i < k; i++) x[i] = uniform(-1, 1);
    size_t count = rk_packed_count(k, n);
    long scaleCount = (n + RK_PANEL - 1) / RK_PANEL * RK_PANEL;
    uint16_t *pb = NULL; int8_t *pi = NULL; float *scales = NULL;
    if (lowp == 0) {
        pb = guarded_alloc(count > 0 ? count : 1, sizeof(uint16_t));
        rk_pack_b_bf16(0, k, n, w, n, pb);
    } else {
        pi = guarded_alloc(count > 0 ? count : 1, sizeof(int8_t));
        scales = guarded_alloc((size_t)(scaleCount > 0 ? scaleCount : 1), sizeof(float));
        rk_pack_b_int8(0, k, n, w, n, pi, scales);
    }
    Guarded y = guarded_output(n);
    float *y0 = malloc(sizeof(float) * (size_t)(n + 1)), *yr = malloc(sizeof(float) * (size_t)(n + 1));
    for (long j = 0; j < n; j++) y.p[j] = y0[j] = yr[j] = beta != 0.0f ? uniform(-1, 1) : NAN;
    if (lowp == 0) {
        rk_gemv_packed_bf16(family, n, k, pb, x, beta, y.p);
        rk_reference_gemv_packed_bf16(n, k, pb, x, beta, yr);
    } else {
        rk_gemv_packed_int8(family, n, k, pi, scales, x, beta, y.p);
        rk_reference_gemv_packed_int8(n, k, pi, scales, x, beta, yr);
    }
    int ok = guards_intact(&y);
    double worst = 0, worstReference = 0;
    for (long j = 0; j < n && ok; j++) {
        long p = j / RK_PANEL, jj = j % RK_PANEL;
        double sum = 0, magnitude = 0;
        for (long kk = 0; kk < k; kk++) {
            size_t at = (size_t)(p * k * RK_PANEL + kk * RK_PANEL + jj);
            double wv = lowp == 0 ? (double)rk_bf16_to_float(pb[at]) : (double)pi[at];
            double t = (double)x[kk] * wv;
            sum += t; magnitude += fabs(t);
        }
        if (lowp == 1) { sum *= scales[j]; magnitude *= scales[j]; }
        if (beta != 0.0f) { sum += y0[j]; magnitude += fabs(y0[j]); }
        double err = fabs((double)y.p[j] - sum);
        if (!(err <= sum_tolerance(k, magnitude))) ok = 0;
        if (err / (magnitude + 1e-30) > worst) worst = err / (magnitude + 1e-30);
        double d = fabs((double)y.p[j] - yr[j]) / (magnitude + 1e-30);
        if (d > worstReference) worstReference = d;
    }
    report(ok, "gemv_packed_%s n=%ld k=%ld beta=%g: max error/Σ|terms| %.2e (vs reference family %.2e)",
           lowp == 0 ? "bf16" : "int8", n, k, beta, worst, worstReference);
    if (lowp == 0) guarded_free(pb, count > 0 ? count : 1, sizeof(uint16_t));
    else {
        guarded_free(pi, count > 0 ? count : 1, sizeof(int8_t));
        guarded_free(scales, (size_t)(scaleCount > 0 ? scaleCount : 1), sizeof(float));
    }
    guarded_free(x, (size_t)(k > 0 ? k : 1), sizeof(float));
    free(w); free(y0); free(yr); free(y.base);
}

// MARK: - Activations

static double exact_activation(int kind, double x) {
    return kind == 0 ? exp(x) : kind == 1 ? 1.0 / (1.0 + exp(-x)) : tanh(x);
}

/// A dense grid over [lo, hi] (count points, count not a multiple of 4): exp by relative error, the
/// others by absolute error; in place or into another array.
static void check_activation_range(int kind, double lo, double hi, long count, int inPlace, double bound) {
    static const char *names[] = {"exp", "sigmoid", "tanh"};
    float *source = guarded_alloc((size_t)count, sizeof(float));
    for (long i = 0; i < count; i++) source[i] = (float)(lo + (hi - lo) * (double)i / (double)(count - 1));
    float *copy = malloc(sizeof(float) * (size_t)count);
    memcpy(copy, source, sizeof(float) * (size_t)count);
    Guarded out = guarded_output(count);
    float *destination = inPlace ? source : out.p;
    rk_activation(family, kind, source, destination, count);
    double worst = 0, at = 0;
    for (long i = 0; i < count; i++) {
        double e = exact_activation(kind, copy[i]);
        double err = kind == 0 ? fabs(destination[i] - e) / e : fabs(destination[i] - e);
        if (!(err <= worst)) { worst = err; at = copy[i]; }  // a NaN counts as the worst
        if (isnan(err)) { worst = INFINITY; at = copy[i]; break; }
    }
    int ok = worst <= bound && guards_intact(&out);
    report(ok, "activation %s on [%g, %g] (%ld points, %s): max %s error %.3e at x = %.6g (bound %.0e)", names[kind], lo,
           hi, count, inPlace ? "in place" : "out of place", kind == 0 ? "relative" : "absolute", worst, at, bound);
    guarded_free(source, (size_t)count, sizeof(float));
    free(copy); free(out.base);
}

/// Short lengths (the tails) with guard zones, and saturating arguments for sigmoid/tanh.
static void check_activation_tails(int kind) {
    static const char *names[] = {"exp", "sigmoid", "tanh"};
    int ok = 1;
    for (long count = 0; count <= 37 && ok; count++) {
        float *source = guarded_alloc((size_t)(count > 0 ? count : 1), sizeof(float));
        for (long i = 0; i < count; i++) source[i] = uniform(-10, 10);
        Guarded out = guarded_output(count);
        rk_activation(family, kind, source, out.p, count);
        ok = guards_intact(&out);
        for (long i = 0; i < count; i++) {
            double e = exact_activation(kind, source[i]);
            double err = kind == 0 ? fabs(out.p[i] - e) / e : fabs(out.p[i] - e);
            if (!(err <= 2e-6)) ok = 0;
        }
        guarded_free(source, (size_t)(count > 0 ? count : 1), sizeof(float));
        free(out.base);
    }
    report(ok, "activation %s lengths 0...37: guards intact, values within 2e-6", names[kind]);
    if (kind == 0) return;
    float extremes[] = {-1e30f, -1000.0f, -100.0f, -88.0f, -50.0f, 50.0f, 88.0f, 100.0f, 1000.0f, 1e30f, INFINITY, -INFINITY};
    long count = (long)(sizeof extremes / sizeof extremes[0]);
    float out[16];
    rk_activation(family, kind, extremes, out, count);
    double worst = 0;
    for (long i = 0; i < count; i++) {
        double e = exact_activation(kind, extremes[i]);
        double err = fabs(out[i] - e);
        if (!(err <= worst)) worst = isnan(err) ? INFINITY : err;
    }
    report(worst <= 1e-6, "activation %s at saturating arguments (±50…±inf): max absolute error %.3e", names[kind], worst);
}

// MARK: - LSTM rows

static double sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }

static void check_lstm_forward(long H) {
    Guarded gates = guarded_output(4 * H), c = guarded_output(H), h = guarded_output(H);
    float *pre = malloc(sizeof(float) * (size_t)(4 * H));
    float *cPrev = guarded_alloc((size_t)H, sizeof(float));
    for (long i = 0; i < 4 * H; i++) gates.p[i] = pre[i] = uniform(-6, 6);
    for (long i = 0; i < H; i++) cPrev[i] = uniform(-2, 2);
    rk_lstm_forward_row(family, H, gates.p, cPrev, c.p, h.p);
    int ok = guards_intact(&gates) && guards_intact(&c) && guards_intact(&h);
    double worst = 0;
    for (long j = 0; j < H; j++) {
        double i = sigmoid_d(pre[j]), f = sigmoid_d(pre[H + j]), g = tanh(pre[2 * H + j]), o = sigmoid_d(pre[3 * H + j]);
        double cn = f * cPrev[j] + i * g, hn = o * tanh(cn);
        double errs[6] = {fabs(gates.p[j] - i), fabs(gates.p[H + j] - f), fabs(gates.p[2 * H + j] - g),
                          fabs(gates.p[3 * H + j] - o), fabs(c.p[j] - cn) / (1 + fabs(cn)), fabs(h.p[j] - hn)};
        for (int q = 0; q < 6; q++) {
            if (!(errs[q] <= 4e-6)) ok = 0;
            if (errs[q] > worst) worst = errs[q];
        }
    }
    report(ok, "lstm_forward_row H=%ld: max error %.3e (gates, c, h)", H, worst);
    guarded_free(cPrev, (size_t)H, sizeof(float));
    free(pre); free(gates.base); free(c.base); free(h.base);
}

static void check_lstm_backward(long H) {
    float *gates = guarded_alloc((size_t)(4 * H), sizeof(float));
    float *c = guarded_alloc((size_t)H, sizeof(float)), *cPrev = guarded_alloc((size_t)H, sizeof(float));
    float *dh = guarded_alloc((size_t)H, sizeof(float));
    for (long j = 0; j < H; j++) {
        gates[j] = (float)sigmoid_d(uniform(-4, 4));
        gates[H + j] = (float)sigmoid_d(uniform(-4, 4));
        gates[2 * H + j] = (float)tanh(uniform(-4, 4));
        gates[3 * H + j] = (float)sigmoid_d(uniform(-4, 4));
        c[j] = uniform(-3, 3); cPrev[j] = uniform(-3, 3); dh[j] = uniform(-1, 1);
    }
    Guarded dc = guarded_output(H), dGates = guarded_output(4 * H);
    float *dc0 = malloc(sizeof(float) * (size_t)(H + 1));
    for (long j = 0; j < H; j++) dc.p[j] = dc0[j] = uniform(-1, 1);
    rk_lstm_backward_row(family, H, gates, c, cPrev, dh, dc.p, dGates.p);
    int ok = guards_intact(&dc) && guards_intact(&dGates);
    double worst = 0;
    for (long j = 0; j < H; j++) {
        double i = gates[j], f = gates[H + j], g = gates[2 * H + j], o = gates[3 * H + j];
        double tc = tanh(c[j]);
        double dO = dh[j] * tc * o * (1 - o);
        double dcj = dc0[j] + dh[j] * o * (1 - tc * tc);
        double expected[5] = {dcj * g * i * (1 - i), dcj * cPrev[j] * f * (1 - f), dcj * i * (1 - g * g), dO, dcj * f};
        double got[5] = {dGates.p[j], dGates.p[H + j], dGates.p[2 * H + j], dGates.p[3 * H + j], dc.p[j]};
        for (int q = 0; q < 5; q++) {
            double err = fabs(got[q] - expected[q]);
            if (!(err <= 4e-6)) ok = 0;
            if (err > worst) worst = err;
        }
    }
    report(ok, "lstm_backward_row H=%ld: max error %.3e (dGates, dc)", H, worst);
    guarded_free(gates, (size_t)(4 * H), sizeof(float));
    guarded_free(c, (size_t)H, sizeof(float)); guarded_free(cPrev, (size_t)H, sizeof(float));
    guarded_free(dh, (size_t)H, sizeof(float));
    free(dc0); free(dc.base); free(dGates.base);
}

// MARK: - Bandwidth probe

static void check_read_sum(long n, long passes) {
    float *p = NULL;
    if (posix_memalign((void **)&p, 64, sizeof(float) * (size_t)(n > 0 ? n : 1)) != 0) exit(2);
    double expected = 0;
    for (long i = 0; i < n; i++) { p[i] = (float)((i * 7) % 11) - 5.0f; expected += p[i]; }
    float got = rk_read_sum(family, p, n, passes);
    expected *= (double)passes;  // small integers: every order of the additions is exact
    report((double)got == expected, "read_sum n=%ld passes=%ld: %.1f (expected %.1f)", n, passes, got, expected);
    free(p);
}

// MARK: - Timing (optional)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void time_kernels(void) {
    long m = 64, n = 1024, k = 256;
    float *a = malloc(sizeof(float) * (size_t)(m * k)), *b = malloc(sizeof(float) * (size_t)(k * n));
    float *c = malloc(sizeof(float) * (size_t)(m * n)), *packed = malloc(sizeof(float) * rk_packed_count(k, n));
    for (long i = 0; i < m * k; i++) a[i] = uniform(-1, 1);
    for (long i = 0; i < k * n; i++) b[i] = uniform(-1, 1);
    rk_pack_b(0, k, n, b, n, packed);
    int simd = family != RK_REFERENCE;
    if (simd) {
        for (int transA = 0; transA < 2; transA++) {
            int reps = 20;
            double t0 = now();
            for (int r = 0; r < reps; r++) rk_sgemm(family, transA, m, n, k, a, transA ? m : k, packed, 0.0f, c, n);
            double t = (now() - t0) / reps;
            printf("time  sgemm %ldx%ldx%ld transA=%d: %.1f us (%.1f GFLOP/s)\n", m, n, k, transA, t * 1e6,
                   2.0 * m * n * k / t * 1e-9);
        }
    }
    {
        int reps = 200;
        double t0 = now();
        for (int r = 0; r < reps; r++) rk_gemv_packed(family, n, k, packed, a, 0.0f, c);
        double t = (now() - t0) / reps;
        printf("time  gemv_packed n=%ld k=%ld: %.2f us (%.1f GFLOP/s)\n", n, k, t * 1e6, 2.0 * n * k / t * 1e-9);
    }
    if (simd) {
        long count = 1 << 16;
        float *x = malloc(sizeof(float) * (size_t)count);
        for (long i = 0; i < count; i++) x[i] = uniform(-10, 10);
        static const char *names[] = {"exp", "sigmoid", "tanh"};
        for (int kind = 0; kind < 3; kind++) {
            int reps = 50;
            double t0 = now();
            for (int r = 0; r < reps; r++) rk_activation(family, kind, x, c, count);
            double t = (now() - t0) / reps;
            printf("time  activation %s x%ld: %.1f us (%.2f ns/value)\n", names[kind], count, t * 1e6, t * 1e9 / count);
        }
        free(x);
    }
    free(a); free(b); free(c); free(packed);
}

// MARK: - Main

static int parse_family(const char *s) {
    if (!strcmp(s, "reference") || !strcmp(s, "0")) return RK_REFERENCE;
    if (!strcmp(s, "avx2") || !strcmp(s, "1")) return RK_AVX2;
    if (!strcmp(s, "avx512") || !strcmp(s, "2")) return RK_AVX512;
    if (!strcmp(s, "neon") || !strcmp(s, "3")) return RK_NEON;
    return -1;
}

int main(int argc, char **argv) {
    if (argc < 2 || (family = parse_family(argv[1])) < 0) {
        fprintf(stderr, "usage: %s reference|avx2|avx512|neon [--time]\n", argv[0]);
        return 2;
    }
    int timing = argc > 2 && !strcmp(argv[2], "--time");
    signal(SIGSEGV, on_fault);
    signal(SIGBUS, on_fault);
    if (!rk_family_supported(family)) {
        printf("family %s is not supported on this CPU: skipped\n0 passed, 0 failed\n", family_name(family));
        return 3;
    }
    printf("checking family %s (%d)\n", family_name(family), family);
    int simd = family != RK_REFERENCE;

    // Packing (shared by every family).
    long packSizes[][2] = {{1, 1}, {3, 31}, {5, 32}, {7, 33}, {16, 64}, {9, 100}, {1, 200}};
    for (size_t s = 0; s < sizeof packSizes / sizeof packSizes[0]; s++)
        for (int t = 0; t < 2; t++) check_pack(packSizes[s][0], packSizes[s][1], t);

    if (simd) {
        // Small shapes exhaustively around the tile edges, then larger ones across the blocking
        // boundaries (row blocks, k blocks of 256, panels of 32).
        long ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 17, 25};
        long ns[] = {1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 47, 65};
        long ks[] = {0, 1, 3, 4, 5, 8, 9, 17};
        for (size_t im = 0; im < sizeof ms / sizeof ms[0]; im++)
            for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++) {
                long m = ms[im], n = ns[in], k = ks[(im + in) % (sizeof ks / sizeof ks[0])];
                for (int transA = 0; transA < 2; transA++)
                    for (int b = 0; b < 2; b++) check_sgemm(m, n, k, transA, (float)b, (im + in) % 2 ? 7 : 0);
            }
        long big[][3] = {{1, 300, 257}, {7, 97, 300}, {24, 64, 256}, {50, 50, 513}, {96, 33, 129}, {97, 96, 100},
                         {100, 131, 260}, {131, 17, 77}, {193, 70, 35}, {257, 45, 300}, {300, 300, 300}, {13, 1, 600}};
        for (size_t s = 0; s < sizeof big / sizeof big[0]; s++)
            for (int transA = 0; transA < 2; transA++)
                for (int b = 0; b < 2; b++) check_sgemm(big[s][0], big[s][1], big[s][2], transA, (float)b, 3);
    }

    long gv[][2] = {{1, 1}, {1, 0}, {3, 5}, {4, 4}, {5, 7}, {7, 9}, {8, 16}, {13, 3}, {16, 17}, {31, 33}, {32, 32},
                    {33, 31}, {63, 64}, {64, 63}, {65, 100}, {95, 129}, {96, 96}, {97, 1}, {100, 257}, {129, 300},
                    {300, 300}, {257, 11}};
    for (size_t s = 0; s < sizeof gv / sizeof gv[0]; s++)
        for (int b = 0; b < 2; b++) {
            check_gemv(0, gv[s][0], gv[s][1], (float)b);
            if (simd) { check_gemv(1, gv[s][0], gv[s][1], (float)b); check_gemv(2, gv[s][0], gv[s][1], (float)b); }
            check_gemv_lowp(0, gv[s][0], gv[s][1], (float)b);
            check_gemv_lowp(1, gv[s][0], gv[s][1], (float)b);
        }

    if (simd) {
        check_activation_range(0, -80, 80, 200003, 0, 2e-6);
        check_activation_range(0, -80, 80, 100001, 1, 2e-6);
        check_activation_range(0, -1, 1, 65537, 0, 2e-6);
        for (int kind = 1; kind <= 2; kind++) {
            check_activation_range(kind, -20, 20, 200003, 0, 1e-6);
            check_activation_range(kind, -20, 20, 100001, 1, 1e-6);
            check_activation_range(kind, -0.5, 0.5, 65537, 0, 1e-6);
        }
        for (int kind = 0; kind < 3; kind++) check_activation_tails(kind);
        {   // The top of the clamp range: finite and within the polynomial's error of libm (k ≤ 127).
            float probe[3] = {88.0f, 88.37f, 1000.0f}, out[3];
            rk_activation(family, 0, probe, out, 3);
            int ok = 1;
            for (int q = 0; q < 2; q++) ok &= isfinite(out[q]) && fabs(out[q] - exp((double)probe[q])) / exp((double)probe[q]) < 2e-6;
            ok &= out[2] == out[1];
            report(ok, "exp at the top of the clamp: exp(88.0) = %.6g, exp(88.37) = %.6g, exp(1000) = %.6g",
                  out[0], out[1], out[2]);
        }
        long hs[] = {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 64, 100, 129, 256, 300};
        for (size_t s = 0; s < sizeof hs / sizeof hs[0]; s++) check_lstm_forward(hs[s]);
        for (size_t s = 0; s < sizeof hs / sizeof hs[0]; s++) check_lstm_backward(hs[s]);
    }

    check_read_sum(64, 1);
    check_read_sum(640, 3);
    check_read_sum(4096, 2);
    check_read_sum(0, 1);

    if (timing) time_kernels();
    printf("%ld passed, %ld failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
