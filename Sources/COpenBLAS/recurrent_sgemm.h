// A small single-precision GEMM for the shapes of recurrent layers, written for AVX-512 (x86_64).
//
// Why: the system OpenBLAS is often configured (OPENBLAS_CORETYPE) for an older core and then runs
// an AVX2 kernel on AVX-512 machines; its small-M products (the per-step recurrent GEMM, M = batch)
// also pay packing and threading costs on every call. This kernel packs the weight matrix once per
// call of a layer and reuses it for every time step.
//
// The functions are `static inline` with a per-function target attribute, so they are compiled for
// AVX-512 regardless of the flags of the including module; callers must check
// `recurrent_sgemm_available()` first (a CPUID test) and use BLAS otherwise.
//
// Layouts (all row-major):
//   op(B) is (k × n). Packed B: ceil(n/32) panels, panel p holding columns 32p ..< 32p+32 for all k:
//   element (kk, j) of panel p at p·k·32 + kk·32 + j, zero-padded past n.
//   op(A) is (m × k) and read in place (A changes every call; packing it costs more than it saves).
//   C (m × n, ldc) = beta·C + op(A)·op(B), beta 0 (C not read) or 1.
#ifndef RECURRENT_SGEMM_H
#define RECURRENT_SGEMM_H

#include <stddef.h>

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#define RSG_X86 1
#define RSG_TARGET __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
#else
#define RSG_X86 0
#endif

#define RSG_NR 32
#define RSG_MR_MAX 12

/// Whether the AVX-512 kernels can run on this CPU.
static inline int recurrent_sgemm_available(void) {
#if RSG_X86
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/// Floats needed by a packed op(B) of (k × n).
static inline size_t recurrent_sgemm_packed_b_count(long k, long n) {
    return (size_t)((n + RSG_NR - 1) / RSG_NR) * RSG_NR * (size_t)k;
}

/// The panel height used for `m` rows: panels as equal as possible, at most RSG_MR_MAX rows.
static inline long recurrent_sgemm_panel_height(long m) {
    long panels = (m + RSG_MR_MAX - 1) / RSG_MR_MAX;
    if (panels < 1) panels = 1;
    return (m + panels - 1) / panels;
}

#if RSG_X86

/// Packs op(B) (k × n): B stored (k × n) with row stride ldb, or (n × k) when `transB`.
static inline RSG_TARGET void recurrent_sgemm_pack_b(int transB, long k, long n, const float *b, long ldb, float *dst) {
    long panels = (n + RSG_NR - 1) / RSG_NR;
    for (long p = 0; p < panels; p++) {
        float *d = dst + p * k * RSG_NR;
        long j0 = p * RSG_NR, width = n - j0 < RSG_NR ? n - j0 : RSG_NR;
        if (!transB) {
            __mmask16 m0 = width >= 16 ? 0xFFFF : (__mmask16)((1u << width) - 1);
            __mmask16 m1 = width >= 32 ? 0xFFFF : (width <= 16 ? 0 : (__mmask16)((1u << (width - 16)) - 1));
            for (long kk = 0; kk < k; kk++) {
                const float *s = b + kk * ldb + j0;
                _mm512_storeu_ps(d + kk * RSG_NR, _mm512_maskz_loadu_ps(m0, s));
                _mm512_storeu_ps(d + kk * RSG_NR + 16, _mm512_maskz_loadu_ps(m1, s + 16));
            }
        } else {
            // Column j of op(B) is row j0 + j of the stored (n × k) matrix: a strided gather per column.
            // Read each stored row once, in order; the writes stay inside this panel (k·128 bytes).
            for (long j = 0; j < RSG_NR; j++) {
                const float *source = b + (j0 + j) * ldb;
                if (j < width) for (long kk = 0; kk < k; kk++) d[kk * RSG_NR + j] = source[kk];
                else for (long kk = 0; kk < k; kk++) d[kk * RSG_NR + j] = 0.0f;
            }
        }
    }
}

/// The register-blocked core: an (R × 32) tile of C over `k` steps, R ≤ 12 a compile-time constant
/// after inlining (the accumulators are named variables, not an array, so they live in registers).
/// `pa` holds h floats per k step (h ≥ R), `pb` 32 floats per k step.
#define RSG_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define RSG_DECL(i) __m512 c##i##a = _mm512_setzero_ps(), c##i##b = _mm512_setzero_ps();
#define RSG_FMA(i) if (R > i) { __m512 x = _mm512_set1_ps(ak[i]); \
    c##i##a = _mm512_fmadd_ps(x, b0, c##i##a); c##i##b = _mm512_fmadd_ps(x, b1, c##i##b); }
#define RSG_STORE(i) if (R > i) { float *ci = c + i * ldc; \
    if (accumulate) { c##i##a = _mm512_add_ps(c##i##a, _mm512_maskz_loadu_ps(m0, ci)); \
                      c##i##b = _mm512_add_ps(c##i##b, _mm512_maskz_loadu_ps(m1, ci + 16)); } \
    _mm512_mask_storeu_ps(ci, m0, c##i##a); _mm512_mask_storeu_ps(ci + 16, m1, c##i##b); }

static inline __attribute__((always_inline)) RSG_TARGET
void recurrent_sgemm_tile(const long R, long k, long h, const float *pa, const float *pb,
                          float *c, long ldc, int accumulate, __mmask16 m0, __mmask16 m1) {
    RSG_ROWS(RSG_DECL)
    for (long kk = 0; kk < k; kk++) {
        __m512 b0 = _mm512_loadu_ps(pb + kk * RSG_NR);
        __m512 b1 = _mm512_loadu_ps(pb + kk * RSG_NR + 16);
        const float *ak = pa + kk * h;
        RSG_ROWS(RSG_FMA)
    }
    RSG_ROWS(RSG_STORE)
}

#define RSG_TILE_CASE(R) case R: recurrent_sgemm_tile(R, k, h, pa, pb, c, ldc, accumulate, m0, m1); break;

static inline RSG_TARGET void recurrent_sgemm_tile_dispatch(long mr, long k, long h, const float *pa, const float *pb,
                                                           float *c, long ldc, int accumulate, __mmask16 m0, __mmask16 m1) {
    switch (mr) {
        RSG_TILE_CASE(1) RSG_TILE_CASE(2) RSG_TILE_CASE(3) RSG_TILE_CASE(4) RSG_TILE_CASE(5) RSG_TILE_CASE(6)
        RSG_TILE_CASE(7) RSG_TILE_CASE(8) RSG_TILE_CASE(9) RSG_TILE_CASE(10) RSG_TILE_CASE(11) RSG_TILE_CASE(12)
        default: break;
    }
}

/// The same tile reading A straight from its rows (row stride lda, k contiguous) instead of a packed
/// panel: for products whose A changes every call (the per-step recurrent products), where packing
/// A would cost as much as a large part of the product.
#define RSG_ROWPTR(i) const float *a##i = a + (R > i ? i : 0) * lda;
#define RSG_FMA_ROW(i) if (R > i) { __m512 x = _mm512_set1_ps(a##i[kk]); \
    c##i##a = _mm512_fmadd_ps(x, b0, c##i##a); c##i##b = _mm512_fmadd_ps(x, b1, c##i##b); }

static inline __attribute__((always_inline)) RSG_TARGET
void recurrent_sgemm_tile_rows(const long R, long k, const float *a, long lda, const float *pb,
                               float *c, long ldc, int accumulate, __mmask16 m0, __mmask16 m1) {
    RSG_ROWS(RSG_DECL)
    RSG_ROWS(RSG_ROWPTR)
    for (long kk = 0; kk < k; kk++) {
        __m512 b0 = _mm512_loadu_ps(pb + kk * RSG_NR);
        __m512 b1 = _mm512_loadu_ps(pb + kk * RSG_NR + 16);
        RSG_ROWS(RSG_FMA_ROW)
    }
    RSG_ROWS(RSG_STORE)
}

#define RSG_TILE_ROWS_CASE(R) case R: recurrent_sgemm_tile_rows(R, k, a, lda, pb, c, ldc, accumulate, m0, m1); break;

static inline RSG_TARGET void recurrent_sgemm_tile_rows_dispatch(long mr, long k, const float *a, long lda, const float *pb,
                                                                float *c, long ldc, int accumulate, __mmask16 m0, __mmask16 m1) {
    switch (mr) {
        RSG_TILE_ROWS_CASE(1) RSG_TILE_ROWS_CASE(2) RSG_TILE_ROWS_CASE(3) RSG_TILE_ROWS_CASE(4) RSG_TILE_ROWS_CASE(5)
        RSG_TILE_ROWS_CASE(6) RSG_TILE_ROWS_CASE(7) RSG_TILE_ROWS_CASE(8) RSG_TILE_ROWS_CASE(9) RSG_TILE_ROWS_CASE(10)
        RSG_TILE_ROWS_CASE(11) RSG_TILE_ROWS_CASE(12)
        default: break;
    }
}

/// C (m × n) = beta·C + op(A) · packedB with A read in place (beta 0 or 1): A stored (m × k) with row
/// stride lda, or (k × m) when `transA` (then the tile's h values of one k step are contiguous and the
/// k steps lda apart, which the packed-panel tile reads directly with h = lda).
/// Blocking: rows by up to 96 and k by 256, so that a block of A stays in L2 while each 32 KiB block of
/// a B panel is reused from L1 across the row tiles.
static inline RSG_TARGET void recurrent_sgemm(int transA, long m, long n, long k, const float *a, long lda,
                                              const float *packedB, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    long h = recurrent_sgemm_panel_height(m);
    long panels = (n + RSG_NR - 1) / RSG_NR;
    const long KC = 256;
    const long MC = 8 * h;
    if (k == 0) {
        for (long i = 0; i < m; i++) for (long j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    // Row blocks outermost: a block's C tiles stay in cache while every k block adds into them (the
    // order of the additions per element, k blocks ascending, is the same either way).
    for (long ib = 0; ib < m; ib += MC) {
        long iEnd = m - ib < MC ? m : ib + MC;
        for (long k0 = 0; k0 < k; k0 += KC) {
            long kc = k - k0 < KC ? k - k0 : KC;
            int accumulate = k0 > 0 || beta != 0.0f;
            for (long p = 0; p < panels; p++) {
                long j0 = p * RSG_NR, width = n - j0 < RSG_NR ? n - j0 : RSG_NR;
                __mmask16 m0 = width >= 16 ? 0xFFFF : (__mmask16)((1u << width) - 1);
                __mmask16 m1 = width >= 32 ? 0xFFFF : (width <= 16 ? 0 : (__mmask16)((1u << (width - 16)) - 1));
                const float *pb = packedB + p * k * RSG_NR + k0 * RSG_NR;
                for (long i0 = ib; i0 < iEnd; i0 += h) {
                    long mr = m - i0 < h ? m - i0 : h;
                    if (transA)
                        recurrent_sgemm_tile_dispatch(mr, kc, lda, a + k0 * lda + i0, pb, c + i0 * ldc + j0, ldc, accumulate, m0, m1);
                    else
                        recurrent_sgemm_tile_rows_dispatch(mr, kc, a + i0 * lda + k0, lda, pb, c + i0 * ldc + j0, ldc, accumulate, m0, m1);
                }
            }
        }
    }
}

/// y (n) = beta·y + W·x for W stored (n × k) row-major with row stride ldw (beta 0 or 1): one row of
/// a batch-1 product `x · Wᵀ`. Four rows at a time, 16 lanes per row, reduced at the end.
static inline RSG_TARGET void recurrent_gemv_rows(long n, long k, const float *w, long ldw, const float *x,
                                                  float beta, float *y) {
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *w0 = w + i * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
        for (long j = 0; j < k; j += 16) {
            __mmask16 m = k - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (k - j)) - 1);
            __m512 xv = _mm512_maskz_loadu_ps(m, x + j);
            s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w0 + j), xv, s0);
            s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w1 + j), xv, s1);
            s2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w2 + j), xv, s2);
            s3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w3 + j), xv, s3);
        }
        float r0 = _mm512_reduce_add_ps(s0), r1 = _mm512_reduce_add_ps(s1);
        float r2 = _mm512_reduce_add_ps(s2), r3 = _mm512_reduce_add_ps(s3);
        if (beta != 0.0f) { r0 += y[i]; r1 += y[i + 1]; r2 += y[i + 2]; r3 += y[i + 3]; }
        y[i] = r0; y[i + 1] = r1; y[i + 2] = r2; y[i + 3] = r3;
    }
    for (; i < n; i++) {
        const float *wi = w + i * ldw;
        __m512 s = _mm512_setzero_ps();
        for (long j = 0; j < k; j += 16) {
            __mmask16 m = k - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (k - j)) - 1);
            s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, wi + j), _mm512_maskz_loadu_ps(m, x + j), s);
        }
        float r = _mm512_reduce_add_ps(s);
        y[i] = beta != 0.0f ? r + y[i] : r;
    }
}

/// y (n) = beta·y + Wᵀ·x for W stored (k × n) row-major with row stride ldw (beta 0 or 1): one row of
/// a batch-1 product `x · W`. Accumulates rows of W scaled by x, 64 columns at a time.
static inline RSG_TARGET void recurrent_gemv_columns(long n, long k, const float *w, long ldw, const float *x,
                                                     float beta, float *y) {
    for (long j = 0; j < n; j += 64) {
        __mmask16 m[4];
        for (int q = 0; q < 4; q++) {
            long left = n - j - 16 * q;
            m[q] = left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
        }
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
        for (long kk = 0; kk < k; kk++) {
            const float *wr = w + kk * ldw + j;
            __m512 xv = _mm512_set1_ps(x[kk]);
            s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m[0], wr), xv, s0);
            s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m[1], wr + 16), xv, s1);
            s2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m[2], wr + 32), xv, s2);
            s3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m[3], wr + 48), xv, s3);
        }
        if (beta != 0.0f) {
            s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(m[0], y + j));
            s1 = _mm512_add_ps(s1, _mm512_maskz_loadu_ps(m[1], y + j + 16));
            s2 = _mm512_add_ps(s2, _mm512_maskz_loadu_ps(m[2], y + j + 32));
            s3 = _mm512_add_ps(s3, _mm512_maskz_loadu_ps(m[3], y + j + 48));
        }
        _mm512_mask_storeu_ps(y + j, m[0], s0);
        _mm512_mask_storeu_ps(y + j + 16, m[1], s1);
        _mm512_mask_storeu_ps(y + j + 32, m[2], s2);
        _mm512_mask_storeu_ps(y + j + 48, m[3], s3);
    }
}

/// y (n) = beta·y + op(B)ᵀ-row product for batch 1 on a packed op(B) (k × n, see the layout above):
/// y_j = Σ_kk x_kk · B(kk, j) (beta 0 or 1). Each 32-column panel is one contiguous stream of k·32
/// floats, read once; two panels at a time keep four independent accumulators.
static inline RSG_TARGET void recurrent_gemv_packed(long n, long k, const float *packed, const float *x,
                                                    float beta, float *y) {
    long panels = (n + RSG_NR - 1) / RSG_NR;
    for (long p = 0; p < panels; p += 2) {
        const float *p0 = packed + p * k * RSG_NR;
        const float *p1 = p + 1 < panels ? p0 + k * RSG_NR : p0;
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        for (long kk = 0; kk < k; kk++) {
            __m512 xv = _mm512_set1_ps(x[kk]);
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(p0 + kk * RSG_NR), xv, a0);
            a1 = _mm512_fmadd_ps(_mm512_loadu_ps(p0 + kk * RSG_NR + 16), xv, a1);
            a2 = _mm512_fmadd_ps(_mm512_loadu_ps(p1 + kk * RSG_NR), xv, a2);
            a3 = _mm512_fmadd_ps(_mm512_loadu_ps(p1 + kk * RSG_NR + 16), xv, a3);
        }
        __m512 acc[4] = {a0, a1, a2, a3};
        for (int q = 0; q < 4; q++) {
            long j0 = p * RSG_NR + 16 * q;
            if (q >= 2 && p + 1 >= panels) break;
            long left = n - j0;
            if (left <= 0) break;
            __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
            __m512 v = acc[q];
            if (beta != 0.0f) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, y + j0));
            _mm512_mask_storeu_ps(y + j0, m, v);
        }
    }
}

/// The sum of `n` floats (n a multiple of 64, `p` 64-byte aligned) read `passes` times, with four
/// independent AVX-512 accumulators: a memory read-bandwidth probe for `recurrent bench --peak`.
static inline RSG_TARGET float recurrent_read_sum(const float *p, long n, long passes) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    for (long pass = 0; pass < passes; pass++) {
        __asm__ volatile("" ::: "memory");  // every pass really reads the buffer
        for (long i = 0; i + 64 <= n; i += 64) {
            s0 = _mm512_add_ps(s0, _mm512_load_ps(p + i));
            s1 = _mm512_add_ps(s1, _mm512_load_ps(p + i + 16));
            s2 = _mm512_add_ps(s2, _mm512_load_ps(p + i + 32));
            s3 = _mm512_add_ps(s3, _mm512_load_ps(p + i + 48));
        }
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

#else

static inline void recurrent_sgemm_pack_b(int transB, long k, long n, const float *b, long ldb, float *dst) {}
static inline void recurrent_gemv_rows(long n, long k, const float *w, long ldw, const float *x, float beta, float *y) {}
static inline void recurrent_gemv_columns(long n, long k, const float *w, long ldw, const float *x, float beta, float *y) {}
static inline float recurrent_read_sum(const float *p, long n, long passes) { return 0.0f; }
static inline void recurrent_gemv_packed(long n, long k, const float *packed, const float *x, float beta, float *y) {}
static inline void recurrent_sgemm(int transA, long m, long n, long k, const float *a, long lda, const float *packedB,
                                   float beta, float *c, long ldc) {}

#endif
#endif
