// The AVX2 family (x86-64 with AVX2 and FMA): 8 lanes, 16 vector registers. Compiled for AVX2 by a
// per-function target attribute whatever the flags of the target, so it must only run where
// `rk_family_supported(RK_AVX2)` is true (the dispatcher guarantees it).
//
// GEMM: the packed op(B) panels of 32 columns are read as two halves of 16 columns (two registers);
// a register tile is up to 6 rows × 16 columns (12 accumulators, two B registers, one broadcast of A).
// Activations: the algorithm and constants of the AVX-512 family and of the portable Swift path
// (range reduction, Cephes' expf polynomial, 2^k in the exponent bits, argument clamped to
// [−87.3, 88.37]; sigmoid = 1/(1 + e^−x), tanh = 1 − 2/(e^2x + 1)).
#include "kernels_internal.h"

#if defined(__x86_64__)
#include "avx2_common.h"

#define R2_MR_MAX 6
#define R2_HALF 16
#define R2_AHEAD 24
#define R2_PACK_ROWS_HALVES 8
#define R2_PACK_ROWS_K 384

// MARK: - GEMM

#define R2_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define R2_DECL(i) __m256 c##i##a = _mm256_setzero_ps(), c##i##b = _mm256_setzero_ps();
#define R2_FMA(i, value) if (R > i) { __m256 x = (value); \
    c##i##a = _mm256_fmadd_ps(x, b0, c##i##a); c##i##b = _mm256_fmadd_ps(x, b1, c##i##b); }
#define R2_FMA_PANEL(i) R2_FMA(i, _mm256_broadcast_ss(ak + i))
#define R2_FMA_ROW(i) R2_FMA(i, _mm256_broadcast_ss(a##i + kk))
#define R2_ROWPTR(i) const float *a##i = a + (R > i ? i : 0) * lda;
// Full tiles store directly; a tile cut by n (width < 16) stores columns < width only.
#define R2_STORE(i) if (R > i) { float *ci = c + i * ldc; \
    if (full) { \
        if (accumulate) { c##i##a = _mm256_add_ps(c##i##a, _mm256_loadu_ps(ci)); \
                          c##i##b = _mm256_add_ps(c##i##b, _mm256_loadu_ps(ci + 8)); } \
        _mm256_storeu_ps(ci, c##i##a); _mm256_storeu_ps(ci + 8, c##i##b); \
    } else { \
        if (accumulate) { c##i##a = _mm256_add_ps(c##i##a, r2_load(ci, width)); \
                          c##i##b = _mm256_add_ps(c##i##b, r2_load(ci + 8, width - 8)); } \
        r2_store(ci, c##i##a, width); if (width > 8) r2_store(ci + 8, c##i##b, width - 8); } }

/// An (R × 16) tile of C over `k` steps, R ≤ 6 a compile-time constant after inlining. `pa`: a
/// transposed A, h floats per k step; `pb`: the half panel, RK_PANEL floats per k step (16 used).
/// `prefetch` (the first row tile of a block): ask for B's rows R2_AHEAD steps ahead, as the block
/// usually comes from L3 (a step's W_hh does not fit L2 from hidden 512 on) and the half panels'
/// 128-byte stride is not followed by the hardware prefetchers.
static inline __attribute__((always_inline)) R2_TARGET
void r2_tile_panel(const long R, long k, long h, const float *pa, const float *pb, float *c, long ldc,
                   int accumulate, int full, long width, int prefetch) {
    R2_ROWS(R2_DECL)
    const float *ak = pa, *bk = pb;
    long kk = 0;
    // Pointer steps and a loop of its own for the prefetching part: with 12 FMAs per step the index
    // arithmetic and the per-step prefetch test were as many instructions as the front end could spare.
    if (prefetch) {
#pragma GCC unroll 2
        for (; kk + R2_AHEAD < k; kk++, ak += h, bk += RK_PANEL) {
            _mm_prefetch((const char *)(bk + R2_AHEAD * RK_PANEL), _MM_HINT_T0);
            __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps(bk + 8);
            R2_ROWS(R2_FMA_PANEL)
        }
    }
#pragma GCC unroll 2
    for (; kk < k; kk++, ak += h, bk += RK_PANEL) {
        __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps(bk + 8);
        R2_ROWS(R2_FMA_PANEL)
    }
    R2_ROWS(R2_STORE)
}

/// The same tile reading A straight from its rows (row stride lda, k contiguous).
static inline __attribute__((always_inline)) R2_TARGET
void r2_tile_rows(const long R, long k, const float *a, long lda, const float *pb, float *c, long ldc,
                  int accumulate, int full, long width, int prefetch) {
    R2_ROWS(R2_DECL)
    R2_ROWS(R2_ROWPTR)
    const float *bk = pb;
    long kk = 0;
    if (prefetch) {
#pragma GCC unroll 2
        for (; kk + R2_AHEAD < k; kk++, bk += RK_PANEL) {
            _mm_prefetch((const char *)(bk + R2_AHEAD * RK_PANEL), _MM_HINT_T0);
            __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps(bk + 8);
            R2_ROWS(R2_FMA_ROW)
        }
    }
#pragma GCC unroll 2
    for (; kk < k; kk++, bk += RK_PANEL) {
        __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps(bk + 8);
        R2_ROWS(R2_FMA_ROW)
    }
    R2_ROWS(R2_STORE)
}

#define R2_PANEL_CASE(R) case R: r2_tile_panel(R, k, h, pa, pb, c, ldc, accumulate, full, width, prefetch); break;
#define R2_ROWS_CASE(R) case R: r2_tile_rows(R, k, a, lda, pb, c, ldc, accumulate, full, width, prefetch); break;

static R2_TARGET void r2_tile_panel_dispatch(long mr, long k, long h, const float *pa, const float *pb, float *c,
                                             long ldc, int accumulate, int full, long width, int prefetch) {
    switch (mr) {
        R2_PANEL_CASE(1) R2_PANEL_CASE(2) R2_PANEL_CASE(3) R2_PANEL_CASE(4) R2_PANEL_CASE(5) R2_PANEL_CASE(6)
        default: break;
    }
}

static R2_TARGET void r2_tile_rows_dispatch(long mr, long k, const float *a, long lda, const float *pb, float *c,
                                            long ldc, int accumulate, int full, long width, int prefetch) {
    switch (mr) {
        R2_ROWS_CASE(1) R2_ROWS_CASE(2) R2_ROWS_CASE(3) R2_ROWS_CASE(4) R2_ROWS_CASE(5) R2_ROWS_CASE(6)
        default: break;
    }
}

/// C (m × n) = beta·C + op(A) · packedB (beta 0 or 1), blocked like the AVX-512 family: rows by
/// up to 16 tiles (96 rows) and k by 256 (a 16 KiB block of a half panel stays in L1 across the row
/// tiles; with 8 tiles, B was streamed again for every 48 rows and two threads reached 140 instead of
/// 210 GFLOP/s); a transposed A is packed per block (rk_pack_a_transposed). The blocks are as equal as
/// possible and so are their tiles (32 rows: 6, 6, 5, 5, 5, 5 rather than five 6s and a 2-row tile,
/// whose 4 accumulators leave the FMA units half idle).
R2_TARGET void rk_avx2_sgemm(int transA, long m, long n, long k, const float *a, long lda,
                             const float *packedB, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    if (k == 0) {
        for (long i = 0; i < m; i++) for (long j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : c[i * ldc + j];
        return;
    }
    long halves = (n + R2_HALF - 1) / R2_HALF;
    enum { KC = 256, MC = 16 * R2_MR_MAX };
    const long blocks = (m + MC - 1) / MC;
    // A is packed per block when transposed, and also from rows when many column halves reuse a long
    // block (measured, W6b on one thread: +6 to +14 % at k = 512; at k = 128, W5, it cost 2–8 %).
    const int packA = transA || (halves >= R2_PACK_ROWS_HALVES && k >= R2_PACK_ROWS_K);
    float packedA[packA ? MC * KC : 1];
    for (long block = 0; block < blocks; block++) {
        long ib = block * m / blocks;
        rk_row_tiles tiles = rk_balanced_tiles((block + 1) * m / blocks - ib, R2_MR_MAX);
        long h = tiles.height;
        for (long k0 = 0; k0 < k; k0 += KC) {
            long kc = k - k0 < KC ? k - k0 : KC;
            int accumulate = k0 > 0 || beta != 0.0f;
            if (transA) rk_pack_a_transposed(a, lda, ib, tiles, k0, kc, packedA);
            else if (packA) rk_pack_a_rows(a, lda, ib, tiles, k0, kc, packedA);
            for (long q = 0; q < halves; q++) {
                long j0 = q * R2_HALF, width = n - j0 < R2_HALF ? n - j0 : R2_HALF;
                int full = width == R2_HALF;
                // Half q is columns 16(q mod 2) ..< +16 of panel q/2.
                const float *pb = packedB + (q / 2) * k * RK_PANEL + k0 * RK_PANEL + (q % 2) * R2_HALF;
                for (long t = 0, r0 = 0; r0 < tiles.rows; t++) {
                    long r1 = rk_tile_start(tiles, t + 1), i0 = ib + r0;
                    if (packA)
                        r2_tile_panel_dispatch(r1 - r0, kc, h, packedA + t * kc * h, pb, c + i0 * ldc + j0, ldc, accumulate, full, width, t == 0);
                    else
                        r2_tile_rows_dispatch(r1 - r0, kc, a + i0 * lda + k0, lda, pb, c + i0 * ldc + j0, ldc, accumulate, full, width, t == 0);
                    r0 = r1;
                }
            }
        }
    }
}

// MARK: - Batch-1 products

/// y (n) = beta·y + W·x for W stored (n × k), row stride ldw: four rows at a time, 8 lanes per row.
R2_TARGET void rk_avx2_gemv_rows(long n, long k, const float *w, long ldw, const float *x, float beta, float *y) {
    long i = 0;
    long kFull = k / 8 * 8;
    __m256i tail = r2_mask(k - kFull);
    for (; i + 4 <= n; i += 4) {
        const float *w0 = w + i * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
        long j = 0;
        for (; j < kFull; j += 8) {
            __m256 xv = _mm256_loadu_ps(x + j);
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + j), xv, s0);
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + j), xv, s1);
            s2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + j), xv, s2);
            s3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + j), xv, s3);
        }
        if (j < k) {
            __m256 xv = _mm256_maskload_ps(x + j, tail);
            s0 = _mm256_fmadd_ps(_mm256_maskload_ps(w0 + j, tail), xv, s0);
            s1 = _mm256_fmadd_ps(_mm256_maskload_ps(w1 + j, tail), xv, s1);
            s2 = _mm256_fmadd_ps(_mm256_maskload_ps(w2 + j, tail), xv, s2);
            s3 = _mm256_fmadd_ps(_mm256_maskload_ps(w3 + j, tail), xv, s3);
        }
        float r0 = r2_sum(s0), r1 = r2_sum(s1), r2 = r2_sum(s2), r3 = r2_sum(s3);
        if (beta != 0.0f) { r0 += y[i]; r1 += y[i + 1]; r2 += y[i + 2]; r3 += y[i + 3]; }
        y[i] = r0; y[i + 1] = r1; y[i + 2] = r2; y[i + 3] = r3;
    }
    for (; i < n; i++) {
        const float *wi = w + i * ldw;
        __m256 s = _mm256_setzero_ps();
        long j = 0;
        for (; j < kFull; j += 8) s = _mm256_fmadd_ps(_mm256_loadu_ps(wi + j), _mm256_loadu_ps(x + j), s);
        if (j < k) s = _mm256_fmadd_ps(_mm256_maskload_ps(wi + j, tail), _mm256_maskload_ps(x + j, tail), s);
        float r = r2_sum(s);
        y[i] = beta != 0.0f ? r + y[i] : r;
    }
}

/// y (n) = beta·y + Wᵀ·x for W stored (k × n), row stride ldw: rows of W scaled by x, 32 columns at a time.
R2_TARGET void rk_avx2_gemv_columns(long n, long k, const float *w, long ldw, const float *x, float beta, float *y) {
    for (long j = 0; j < n; j += 32) {
        __m256i m[4];
        for (int q = 0; q < 4; q++) m[q] = r2_mask(n - j - 8 * q);
        int full = n - j >= 32;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
        if (full) {
            for (long kk = 0; kk < k; kk++) {
                const float *wr = w + kk * ldw + j;
                __m256 xv = _mm256_broadcast_ss(x + kk);
                s0 = _mm256_fmadd_ps(_mm256_loadu_ps(wr), xv, s0);
                s1 = _mm256_fmadd_ps(_mm256_loadu_ps(wr + 8), xv, s1);
                s2 = _mm256_fmadd_ps(_mm256_loadu_ps(wr + 16), xv, s2);
                s3 = _mm256_fmadd_ps(_mm256_loadu_ps(wr + 24), xv, s3);
            }
        } else {
            for (long kk = 0; kk < k; kk++) {
                const float *wr = w + kk * ldw + j;
                __m256 xv = _mm256_broadcast_ss(x + kk);
                s0 = _mm256_fmadd_ps(_mm256_maskload_ps(wr, m[0]), xv, s0);
                s1 = _mm256_fmadd_ps(_mm256_maskload_ps(wr + 8, m[1]), xv, s1);
                s2 = _mm256_fmadd_ps(_mm256_maskload_ps(wr + 16, m[2]), xv, s2);
                s3 = _mm256_fmadd_ps(_mm256_maskload_ps(wr + 24, m[3]), xv, s3);
            }
        }
        __m256 s[4] = {s0, s1, s2, s3};
        for (int q = 0; q < 4; q++) {
            long left = n - j - 8 * q;
            if (left <= 0) break;
            if (beta != 0.0f) s[q] = _mm256_add_ps(s[q], r2_load(y + j + 8 * q, left));
            r2_store(y + j + 8 * q, s[q], left);
        }
    }
}

/// y (n) = beta·y + x (k) · packed op(B): each 32-column panel is one contiguous stream of k·32
/// floats; one panel at a time in four accumulators, two k steps interleaved (eight accumulators).
R2_TARGET void rk_avx2_gemv_packed(long n, long k, const float *packed, const float *x, float beta, float *y) {
    long panels = (n + RK_PANEL - 1) / RK_PANEL;
    for (long p = 0; p < panels; p++) {
        const float *pp = packed + p * k * RK_PANEL;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        __m256 e0 = _mm256_setzero_ps(), e1 = _mm256_setzero_ps(), e2 = _mm256_setzero_ps(), e3 = _mm256_setzero_ps();
        long kk = 0;
        for (; kk + 2 <= k; kk += 2) {
            const float *r = pp + kk * RK_PANEL;
            __m256 x0 = _mm256_broadcast_ss(x + kk), x1 = _mm256_broadcast_ss(x + kk + 1);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r), x0, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 8), x0, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 16), x0, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 24), x0, a3);
            e0 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 32), x1, e0);
            e1 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 40), x1, e1);
            e2 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 48), x1, e2);
            e3 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 56), x1, e3);
        }
        if (kk < k) {
            const float *r = pp + kk * RK_PANEL;
            __m256 x0 = _mm256_broadcast_ss(x + kk);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r), x0, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 8), x0, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 16), x0, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 24), x0, a3);
        }
        __m256 acc[4] = {_mm256_add_ps(a0, e0), _mm256_add_ps(a1, e1), _mm256_add_ps(a2, e2), _mm256_add_ps(a3, e3)};
        long j0 = p * RK_PANEL;
        for (int q = 0; q < 4; q++) {
            long left = n - j0 - 8 * q;
            if (left <= 0) break;
            __m256 v = acc[q];
            if (beta != 0.0f) v = _mm256_add_ps(v, r2_load(y + j0 + 8 * q, left));
            r2_store(y + j0 + 8 * q, v, left);
        }
    }
}

/// The sum of `n` floats (n a multiple of 64, `p` 32-byte aligned) read `passes` times.
R2_TARGET float rk_avx2_read_sum(const float *p, long n, long passes) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    for (long pass = 0; pass < passes; pass++) {
        __asm__ volatile("" ::: "memory");  // every pass really reads the buffer
        for (long i = 0; i + 32 <= n; i += 32) {
            s0 = _mm256_add_ps(s0, _mm256_load_ps(p + i));
            s1 = _mm256_add_ps(s1, _mm256_load_ps(p + i + 8));
            s2 = _mm256_add_ps(s2, _mm256_load_ps(p + i + 16));
            s3 = _mm256_add_ps(s3, _mm256_load_ps(p + i + 24));
        }
    }
    return r2_sum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

// MARK: - Activations and gates

static inline __attribute__((always_inline)) R2_TARGET __m256 r2_exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.37f));
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 k = _mm256_sub_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504f), magic), magic);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fmadd_ps(k, _mm256_set1_ps(2.1219444e-4f), r);
    __m256 p = _mm256_set1_ps(1.98756915e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.39819995e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.16657959e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.66666655e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.00000012e-1f));
    __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_slli_epi32(_mm256_castps_si256(_mm256_add_ps(k, _mm256_set1_ps(8388735.0f))), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(bits));
}

static inline __attribute__((always_inline)) R2_TARGET __m256 r2_sigmoid8(__m256 x) {
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, r2_exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
    // Below the smallest normal Float (x < −87.3) the result is 0: no subnormal gates.
    return _mm256_and_ps(s, _mm256_cmp_ps(s, _mm256_set1_ps(1.17549435e-38f), _CMP_GE_OQ));
}

static inline __attribute__((always_inline)) R2_TARGET __m256 r2_tanh8(__m256 x) {
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 e = r2_exp8(_mm256_add_ps(x, x));
    return _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
}

/// kind 0: exp, 1: sigmoid, 2: tanh, over `count` floats (source and destination may alias).
R2_TARGET void rk_avx2_activation(int kind, const float *source, float *destination, long count) {
    for (long j = 0; j < count; j += 8) {
        __m256 x = r2_load(source + j, count - j);
        __m256 y = kind == 0 ? r2_exp8(x) : kind == 1 ? r2_sigmoid8(x) : r2_tanh8(x);
        r2_store(destination + j, y, count - j);
    }
}

/// One batch row of the LSTM forward step (no peepholes), like rk_avx512_lstm_forward_row.
R2_TARGET void rk_avx2_lstm_forward_row(long H, float *gates, const float *cPrev, float *c, float *h) {
    for (long j = 0; j < H; j += 8) {
        long left = H - j;
        __m256 i = r2_sigmoid8(r2_load(gates + j, left));
        __m256 f = r2_sigmoid8(r2_load(gates + H + j, left));
        __m256 g = r2_tanh8(r2_load(gates + 2 * H + j, left));
        __m256 o = r2_sigmoid8(r2_load(gates + 3 * H + j, left));
        __m256 cp = r2_load(cPrev + j, left);
        __m256 cn = _mm256_add_ps(_mm256_mul_ps(f, cp), _mm256_mul_ps(i, g));
        r2_store(gates + j, i, left);
        r2_store(gates + H + j, f, left);
        r2_store(gates + 2 * H + j, g, left);
        r2_store(gates + 3 * H + j, o, left);
        r2_store(c + j, cn, left);
        r2_store(h + j, _mm256_mul_ps(r2_tanh8(cn), o), left);
    }
}

/// One batch row of the LSTM backward step (no peepholes), like rk_avx512_lstm_backward_row.
R2_TARGET void rk_avx2_lstm_backward_row(long H, const float *gates, const float *c, const float *cPrev,
                                         const float *dh, float *dc, float *dGates) {
    __m256 one = _mm256_set1_ps(1.0f);
    for (long j = 0; j < H; j += 8) {
        long left = H - j;
        __m256 i = r2_load(gates + j, left);
        __m256 f = r2_load(gates + H + j, left);
        __m256 g = r2_load(gates + 2 * H + j, left);
        __m256 o = r2_load(gates + 3 * H + j, left);
        __m256 tc = r2_tanh8(r2_load(c + j, left));
        __m256 dhj = r2_load(dh + j, left);
        __m256 cp = r2_load(cPrev + j, left);
        __m256 dO = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dhj, tc), o), _mm256_sub_ps(one, o));
        __m256 dcj = _mm256_add_ps(r2_load(dc + j, left),
                                   _mm256_mul_ps(_mm256_mul_ps(dhj, o), _mm256_sub_ps(one, _mm256_mul_ps(tc, tc))));
        __m256 di = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dcj, g), i), _mm256_sub_ps(one, i));
        __m256 df = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dcj, cp), f), _mm256_sub_ps(one, f));
        __m256 dg = _mm256_mul_ps(_mm256_mul_ps(dcj, i), _mm256_sub_ps(one, _mm256_mul_ps(g, g)));
        r2_store(dGates + j, di, left);
        r2_store(dGates + H + j, df, left);
        r2_store(dGates + 2 * H + j, dg, left);
        r2_store(dGates + 3 * H + j, dO, left);
        r2_store(dc + j, _mm256_mul_ps(dcj, f), left);
    }
}

#endif
