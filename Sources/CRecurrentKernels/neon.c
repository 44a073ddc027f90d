// The NEON family (arm64 Advanced SIMD: Linux arm64 and Apple Silicon): 4 lanes, 32 vector registers.
// Advanced SIMD is part of every arm64 CPU, so nothing here needs a run-time check.
//
// The algorithms, constants and layouts of the AVX-512 family (avx512.c), four lanes wide:
// GEMM: the packed op(B) panels of 32 columns taken as two halves of 16 columns (four registers),
// against up to 6 rows of A at a time (24 accumulators), A read in place; the k steps of every
// element are added in the same order as in avx512.c (ascending k within a block of 256, then into C).
// Activations: exp by range reduction x = k·ln2 + r, a degree-6 polynomial for e^r (Cephes' expf
// coefficients) and 2^k built in the exponent bits; the argument clamped to [−87.3, 88.37];
// sigmoid(x) = 1 / (1 + e^−x), tanh(x) = 1 − 2 / (e^2x + 1), with true divisions.
// Tails (sizes not a multiple of 4) go through small zero-padded buffers or scalar code: no load or
// store ever leaves the caller's arrays.
#include "kernels_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#define RN_NR RK_PANEL
#define RN_HALF 16
#define RN_MR_MAX 6

// MARK: - Tail helpers

/// Loads `count` (0 ≤ count < 4) floats into the low lanes, zeros above.
static inline float32x4_t rn_load_partial(const float *p, long count) {
    float buffer[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (long q = 0; q < count; q++) buffer[q] = p[q];
    return vld1q_f32(buffer);
}

/// Stores the low `count` (0 ≤ count < 4) lanes of `v`.
static inline void rn_store_partial(float *p, float32x4_t v, long count) {
    float buffer[4];
    vst1q_f32(buffer, v);
    for (long q = 0; q < count; q++) p[q] = buffer[q];
}

/// Loads min(count, 4) floats (zero-padded) starting at p.
static inline float32x4_t rn_load(const float *p, long count) {
    return count >= 4 ? vld1q_f32(p) : rn_load_partial(p, count);
}

/// Stores min(count, 4) lanes of v at p.
static inline void rn_store(float *p, float32x4_t v, long count) {
    if (count >= 4) vst1q_f32(p, v);
    else rn_store_partial(p, v, count);
}

// MARK: - GEMM

/// Writes an (R × 16) block of accumulators (row i in c##i##0..3) into C: `width` (1…16) columns,
/// added to the current C when `accumulate`.
#define RN_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define RN_DECL(i) float32x4_t c##i##0 = vdupq_n_f32(0.0f), c##i##1 = c##i##0, c##i##2 = c##i##0, c##i##3 = c##i##0;
#define RN_FMA_N(i, s) { float32x4_t x_ = vdupq_n_f32(s); \
    c##i##0 = vfmaq_f32(c##i##0, b0, x_); c##i##1 = vfmaq_f32(c##i##1, b1, x_); \
    c##i##2 = vfmaq_f32(c##i##2, b2, x_); c##i##3 = vfmaq_f32(c##i##3, b3, x_); }
#define RN_FMA_LANE(i, v, lane) { \
    c##i##0 = vfmaq_laneq_f32(c##i##0, b0, v, lane); c##i##1 = vfmaq_laneq_f32(c##i##1, b1, v, lane); \
    c##i##2 = vfmaq_laneq_f32(c##i##2, b2, v, lane); c##i##3 = vfmaq_laneq_f32(c##i##3, b3, v, lane); }
#define RN_STORE(i) if (R > i) rn_store_row(c + i * ldc, width, accumulate, c##i##0, c##i##1, c##i##2, c##i##3);

static inline __attribute__((always_inline))
void rn_store_row(float *ci, long width, int accumulate, float32x4_t v0, float32x4_t v1, float32x4_t v2, float32x4_t v3) {
    if (width == RN_HALF) {
        if (accumulate) {
            v0 = vaddq_f32(v0, vld1q_f32(ci));
            v1 = vaddq_f32(v1, vld1q_f32(ci + 4));
            v2 = vaddq_f32(v2, vld1q_f32(ci + 8));
            v3 = vaddq_f32(v3, vld1q_f32(ci + 12));
        }
        vst1q_f32(ci, v0); vst1q_f32(ci + 4, v1); vst1q_f32(ci + 8, v2); vst1q_f32(ci + 12, v3);
        return;
    }
    float32x4_t v[4] = {v0, v1, v2, v3};
    for (int q = 0; q < 4; q++) {
        long left = width - 4 * q;
        if (left <= 0) break;
        float32x4_t s = v[q];
        if (accumulate) s = vaddq_f32(s, rn_load(ci + 4 * q, left));
        rn_store(ci + 4 * q, s, left);
    }
}

/// The register-blocked core reading A in place from its rows (row stride lda, k contiguous): an
/// (R × 16) tile of C over `k` steps, R ≤ 6 a compile-time constant after inlining. Four k steps at a
/// time take one vector per row of A and multiply by its lanes; `pb` holds 32 floats per k step (the
/// tile uses 16 of them).
static inline __attribute__((always_inline))
void rn_tile_rows(const long R, long k, const float *a, long lda, const float *pb,
                  float *c, long ldc, long width, int accumulate) {
    RN_ROWS(RN_DECL)
    const float *a0 = a, *a1 = a + (R > 1 ? 1 : 0) * lda, *a2 = a + (R > 2 ? 2 : 0) * lda;
    const float *a3 = a + (R > 3 ? 3 : 0) * lda, *a4 = a + (R > 4 ? 4 : 0) * lda, *a5 = a + (R > 5 ? 5 : 0) * lda;
    long kk = 0;
    for (; kk + 4 <= k; kk += 4) {
        float32x4_t v0 = vld1q_f32(a0 + kk), v1 = v0, v2 = v0, v3 = v0, v4 = v0, v5 = v0;
        if (R > 1) v1 = vld1q_f32(a1 + kk);
        if (R > 2) v2 = vld1q_f32(a2 + kk);
        if (R > 3) v3 = vld1q_f32(a3 + kk);
        if (R > 4) v4 = vld1q_f32(a4 + kk);
        if (R > 5) v5 = vld1q_f32(a5 + kk);
        // One B vector at a time against every row: 24 accumulators, 6 A vectors and the B vector
        // in flight fit the 32 registers.
#define RN_LANE_COLUMN(lane, q) { \
        float32x4_t b = vld1q_f32(pb + (kk + lane) * RN_NR + 4 * q); \
        c0##q = vfmaq_laneq_f32(c0##q, b, v0, lane); \
        if (R > 1) c1##q = vfmaq_laneq_f32(c1##q, b, v1, lane); \
        if (R > 2) c2##q = vfmaq_laneq_f32(c2##q, b, v2, lane); \
        if (R > 3) c3##q = vfmaq_laneq_f32(c3##q, b, v3, lane); \
        if (R > 4) c4##q = vfmaq_laneq_f32(c4##q, b, v4, lane); \
        if (R > 5) c5##q = vfmaq_laneq_f32(c5##q, b, v5, lane); }
#define RN_LANE_STEP(lane) RN_LANE_COLUMN(lane, 0) RN_LANE_COLUMN(lane, 1) RN_LANE_COLUMN(lane, 2) RN_LANE_COLUMN(lane, 3)
        RN_LANE_STEP(0) RN_LANE_STEP(1) RN_LANE_STEP(2) RN_LANE_STEP(3)
#undef RN_LANE_STEP
#undef RN_LANE_COLUMN
    }
    for (; kk < k; kk++) {
        const float *bk = pb + kk * RN_NR;
        float32x4_t b0 = vld1q_f32(bk), b1 = vld1q_f32(bk + 4), b2 = vld1q_f32(bk + 8), b3 = vld1q_f32(bk + 12);
        RN_FMA_N(0, a0[kk])
        if (R > 1) RN_FMA_N(1, a1[kk])
        if (R > 2) RN_FMA_N(2, a2[kk])
        if (R > 3) RN_FMA_N(3, a3[kk])
        if (R > 4) RN_FMA_N(4, a4[kk])
        if (R > 5) RN_FMA_N(5, a5[kk])
    }
    RN_ROWS(RN_STORE)
}

/// The same tile for a transposed A (stored k × m): the R values of one k step are contiguous, the
/// k steps `h` (= lda) apart. Rows 0–3 come as one vector when R ≥ 4, rows 4–5 as a pair when R = 6;
/// the others one float at a time (never reading past the R values of a step).
static inline __attribute__((always_inline))
void rn_tile_columns(const long R, long k, long h, const float *pa, const float *pb,
                     float *c, long ldc, long width, int accumulate) {
    RN_ROWS(RN_DECL)
    for (long kk = 0; kk < k; kk++) {
        const float *bk = pb + kk * RN_NR;
        const float *ak = pa + kk * h;
        float32x4_t b0 = vld1q_f32(bk), b1 = vld1q_f32(bk + 4), b2 = vld1q_f32(bk + 8), b3 = vld1q_f32(bk + 12);
        if (R >= 4) {
            float32x4_t v = vld1q_f32(ak);
            RN_FMA_LANE(0, v, 0) RN_FMA_LANE(1, v, 1) RN_FMA_LANE(2, v, 2) RN_FMA_LANE(3, v, 3)
            if (R == 6) {
                float32x2_t u = vld1_f32(ak + 4);
                c40 = vfmaq_lane_f32(c40, b0, u, 0); c41 = vfmaq_lane_f32(c41, b1, u, 0);
                c42 = vfmaq_lane_f32(c42, b2, u, 0); c43 = vfmaq_lane_f32(c43, b3, u, 0);
                c50 = vfmaq_lane_f32(c50, b0, u, 1); c51 = vfmaq_lane_f32(c51, b1, u, 1);
                c52 = vfmaq_lane_f32(c52, b2, u, 1); c53 = vfmaq_lane_f32(c53, b3, u, 1);
            } else if (R == 5) RN_FMA_N(4, ak[4])
        } else {
            RN_FMA_N(0, ak[0])
            if (R > 1) RN_FMA_N(1, ak[1])
            if (R > 2) RN_FMA_N(2, ak[2])
        }
    }
    RN_ROWS(RN_STORE)
}

#define RN_ROWS_CASE(R) case R: rn_tile_rows(R, k, a, lda, pb, c, ldc, width, accumulate); break;
#define RN_COLUMNS_CASE(R) case R: rn_tile_columns(R, k, lda, a, pb, c, ldc, width, accumulate); break;

static void rn_tile_dispatch(int transA, long mr, long k, const float *a, long lda, const float *pb,
                             float *c, long ldc, long width, int accumulate) {
    if (transA) {
        switch (mr) {
            RN_COLUMNS_CASE(1) RN_COLUMNS_CASE(2) RN_COLUMNS_CASE(3)
            RN_COLUMNS_CASE(4) RN_COLUMNS_CASE(5) RN_COLUMNS_CASE(6)
            default: break;
        }
    } else {
        switch (mr) {
            RN_ROWS_CASE(1) RN_ROWS_CASE(2) RN_ROWS_CASE(3) RN_ROWS_CASE(4) RN_ROWS_CASE(5) RN_ROWS_CASE(6)
            default: break;
        }
    }
}

/// C (m × n) = beta·C + op(A) · packedB (beta 0 or 1): A stored (m × k) with row stride lda and read in
/// place, or (k × m) when `transA` and then packed per block (rk_pack_a_transposed: a tile's values of
/// one k step contiguous, the k steps h apart). Blocking as in avx512.c: rows by up to 16 tiles (≤ 96 rows) and k by 256, so that
/// a block of A stays in L2 while each 16 KiB half-panel block of B is reused from L1 across the row
/// tiles.
void rk_neon_sgemm(int transA, long m, long n, long k, const float *a, long lda, const float *packedB,
                   float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    long h = rk_panel_height(m, RN_MR_MAX);
    long panels = (n + RN_NR - 1) / RN_NR;
    enum { KC = 256 };
    const long MC = 16 * h;
    float packedA[transA ? 16 * RN_MR_MAX * KC : 1];
    for (long ib = 0; ib < m; ib += MC) {
        long iEnd = m - ib < MC ? m : ib + MC;
        for (long k0 = 0; k0 < k; k0 += KC) {
            long kc = k - k0 < KC ? k - k0 : KC;
            int accumulate = k0 > 0 || beta != 0.0f;
            if (transA) rk_pack_a_transposed(a, lda, ib, rk_uniform_tiles(iEnd - ib, h), k0, kc, packedA);
            for (long p = 0; p < panels; p++) {
                for (long half = 0; half < 2; half++) {
                    long j0 = p * RN_NR + half * RN_HALF;
                    if (j0 >= n) break;
                    long width = n - j0 < RN_HALF ? n - j0 : RN_HALF;
                    const float *pb = packedB + p * k * RN_NR + k0 * RN_NR + half * RN_HALF;
                    for (long i0 = ib; i0 < iEnd; i0 += h) {
                        long mr = iEnd - i0 < h ? iEnd - i0 : h;
                        if (transA)
                            rn_tile_dispatch(1, mr, kc, packedA + (i0 - ib) * kc, h, pb, c + i0 * ldc + j0, ldc, width, accumulate);
                        else
                            rn_tile_dispatch(0, mr, kc, a + i0 * lda + k0, lda, pb, c + i0 * ldc + j0, ldc, width, accumulate);
                    }
                }
            }
        }
    }
}

// MARK: - Batch-1 products

/// y (n) = beta·y + W·x for W stored (n × k) with row stride ldw (beta 0 or 1). Four rows at a time,
/// two 4-lane accumulators per row, reduced at the end; the k tail (k mod 4) in scalar code.
void rk_neon_gemv_rows(long n, long k, const float *w, long ldw, const float *x, float beta, float *y) {
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *w0 = w + i * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
        long j = 0;
        for (; j + 8 <= k; j += 8) {
            float32x4_t xa = vld1q_f32(x + j), xb = vld1q_f32(x + j + 4);
            s0 = vfmaq_f32(s0, vld1q_f32(w0 + j), xa); t0 = vfmaq_f32(t0, vld1q_f32(w0 + j + 4), xb);
            s1 = vfmaq_f32(s1, vld1q_f32(w1 + j), xa); t1 = vfmaq_f32(t1, vld1q_f32(w1 + j + 4), xb);
            s2 = vfmaq_f32(s2, vld1q_f32(w2 + j), xa); t2 = vfmaq_f32(t2, vld1q_f32(w2 + j + 4), xb);
            s3 = vfmaq_f32(s3, vld1q_f32(w3 + j), xa); t3 = vfmaq_f32(t3, vld1q_f32(w3 + j + 4), xb);
        }
        if (j + 4 <= k) {
            float32x4_t xa = vld1q_f32(x + j);
            s0 = vfmaq_f32(s0, vld1q_f32(w0 + j), xa);
            s1 = vfmaq_f32(s1, vld1q_f32(w1 + j), xa);
            s2 = vfmaq_f32(s2, vld1q_f32(w2 + j), xa);
            s3 = vfmaq_f32(s3, vld1q_f32(w3 + j), xa);
            j += 4;
        }
        float r0 = vaddvq_f32(vaddq_f32(s0, t0)), r1 = vaddvq_f32(vaddq_f32(s1, t1));
        float r2 = vaddvq_f32(vaddq_f32(s2, t2)), r3 = vaddvq_f32(vaddq_f32(s3, t3));
        for (; j < k; j++) {
            float xv = x[j];
            r0 += w0[j] * xv; r1 += w1[j] * xv; r2 += w2[j] * xv; r3 += w3[j] * xv;
        }
        if (beta != 0.0f) { r0 += y[i]; r1 += y[i + 1]; r2 += y[i + 2]; r3 += y[i + 3]; }
        y[i] = r0; y[i + 1] = r1; y[i + 2] = r2; y[i + 3] = r3;
    }
    for (; i < n; i++) {
        const float *wi = w + i * ldw;
        float32x4_t s = vdupq_n_f32(0.0f);
        long j = 0;
        for (; j + 4 <= k; j += 4) s = vfmaq_f32(s, vld1q_f32(wi + j), vld1q_f32(x + j));
        float r = vaddvq_f32(s);
        for (; j < k; j++) r += wi[j] * x[j];
        y[i] = beta != 0.0f ? r + y[i] : r;
    }
}

/// y (n) = beta·y + Wᵀ·x for W stored (k × n) with row stride ldw (beta 0 or 1): accumulates rows of
/// W scaled by x, 32 columns (eight registers) at a time, then 4 at a time, the last n mod 4 columns
/// through a zero-padded row copy.
void rk_neon_gemv_columns(long n, long k, const float *w, long ldw, const float *x, float beta, float *y) {
    long j = 0;
    for (; j + 32 <= n; j += 32) {
        float32x4_t s[8];
        for (int q = 0; q < 8; q++) s[q] = vdupq_n_f32(0.0f);
        for (long kk = 0; kk < k; kk++) {
            const float *wr = w + kk * ldw + j;
            float xv = x[kk];
            for (int q = 0; q < 8; q++) s[q] = vfmaq_n_f32(s[q], vld1q_f32(wr + 4 * q), xv);
        }
        for (int q = 0; q < 8; q++) {
            float32x4_t v = s[q];
            if (beta != 0.0f) v = vaddq_f32(v, vld1q_f32(y + j + 4 * q));
            vst1q_f32(y + j + 4 * q, v);
        }
    }
    for (; j < n; j += 4) {
        long left = n - j;
        float32x4_t s = vdupq_n_f32(0.0f);
        for (long kk = 0; kk < k; kk++) s = vfmaq_n_f32(s, rn_load(w + kk * ldw + j, left), x[kk]);
        if (beta != 0.0f) s = vaddq_f32(s, rn_load(y + j, left));
        rn_store(y + j, s, left);
    }
}

/// y (n) = beta·y + x · packed op(B) for batch 1 (beta 0 or 1): y_j = Σ_kk x_kk · B(kk, j). Each
/// 32-column panel is one contiguous stream of k·32 floats read once; two panels at a time keep 16
/// independent accumulators.
void rk_neon_gemv_packed(long n, long k, const float *packed, const float *x, float beta, float *y) {
    long panels = (n + RN_NR - 1) / RN_NR;
    for (long p = 0; p < panels; p += 2) {
        int two = p + 1 < panels;
        const float *p0 = packed + p * k * RN_NR;
        const float *p1 = two ? p0 + k * RN_NR : p0;
        float32x4_t s[16];
        for (int q = 0; q < 16; q++) s[q] = vdupq_n_f32(0.0f);
        for (long kk = 0; kk < k; kk++) {
            float xv = x[kk];
            const float *r0 = p0 + kk * RN_NR, *r1 = p1 + kk * RN_NR;
            for (int q = 0; q < 8; q++) s[q] = vfmaq_n_f32(s[q], vld1q_f32(r0 + 4 * q), xv);
            for (int q = 0; q < 8; q++) s[8 + q] = vfmaq_n_f32(s[8 + q], vld1q_f32(r1 + 4 * q), xv);
        }
        long groups = two ? 16 : 8;
        for (long q = 0; q < groups; q++) {
            long j0 = p * RN_NR + 4 * q, left = n - j0;
            if (left <= 0) break;
            float32x4_t v = s[q];
            if (beta != 0.0f) v = vaddq_f32(v, rn_load(y + j0, left));
            rn_store(y + j0, v, left);
        }
    }
}

/// The sum of `n` floats (n a multiple of 64) read `passes` times, with eight independent
/// accumulators: a memory read-bandwidth probe.
float rk_neon_read_sum(const float *p, long n, long passes) {
    float32x4_t s[8];
    for (int q = 0; q < 8; q++) s[q] = vdupq_n_f32(0.0f);
    for (long pass = 0; pass < passes; pass++) {
        __asm__ volatile("" ::: "memory");  // every pass really reads the buffer
        for (long i = 0; i + 64 <= n; i += 64) {
            for (int q = 0; q < 8; q++) s[q] = vaddq_f32(s[q], vld1q_f32(p + i + 4 * q));
            for (int q = 0; q < 8; q++) s[q] = vaddq_f32(s[q], vld1q_f32(p + i + 32 + 4 * q));
        }
    }
    float32x4_t t = vaddq_f32(vaddq_f32(vaddq_f32(s[0], s[1]), vaddq_f32(s[2], s[3])),
                              vaddq_f32(vaddq_f32(s[4], s[5]), vaddq_f32(s[6], s[7])));
    return vaddvq_f32(t);
}

// MARK: - Activations

/// e^x on four lanes: the algorithm and constants of avx512.c's recurrent_exp16. The clamp uses the
/// "number" min/max so that a NaN argument behaves as on x86 (the bound is taken).
static inline __attribute__((always_inline)) float32x4_t rn_exp4(float32x4_t x) {
    x = vminnmq_f32(vmaxnmq_f32(x, vdupq_n_f32(-87.3f)), vdupq_n_f32(88.37f));
    const float32x4_t magic = vdupq_n_f32(12582912.0f);
    float32x4_t k = vsubq_f32(vfmaq_f32(magic, x, vdupq_n_f32(1.44269504f)), magic);
    float32x4_t r = vfmsq_f32(x, k, vdupq_n_f32(0.693359375f));
    r = vfmaq_f32(r, k, vdupq_n_f32(2.1219444e-4f));
    float32x4_t p = vdupq_n_f32(1.98756915e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.39819995e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.16657959e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.66666655e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.00000012e-1f), p, r);
    float32x4_t y = vaddq_f32(vfmaq_f32(r, p, vmulq_f32(r, r)), vdupq_n_f32(1.0f));
    uint32x4_t bits = vshlq_n_u32(vreinterpretq_u32_f32(vaddq_f32(k, vdupq_n_f32(8388735.0f))), 23);
    return vmulq_f32(y, vreinterpretq_f32_u32(bits));
}

static inline __attribute__((always_inline)) float32x4_t rn_sigmoid4(float32x4_t x) {
    float32x4_t one = vdupq_n_f32(1.0f);
    float32x4_t s = vdivq_f32(one, vaddq_f32(one, rn_exp4(vnegq_f32(x))));
    // Below the smallest normal Float (x < −87.3) the result is 0: no subnormal gates.
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(s), vcgeq_f32(s, vdupq_n_f32(1.17549435e-38f))));
}

static inline __attribute__((always_inline)) float32x4_t rn_tanh4(float32x4_t x) {
    float32x4_t one = vdupq_n_f32(1.0f);
    float32x4_t e = rn_exp4(vaddq_f32(x, x));
    return vsubq_f32(one, vdivq_f32(vdupq_n_f32(2.0f), vaddq_f32(e, one)));
}

static inline __attribute__((always_inline)) float32x4_t rn_activate4(int kind, float32x4_t x) {
    return kind == 0 ? rn_exp4(x) : kind == 1 ? rn_sigmoid4(x) : rn_tanh4(x);
}

/// kind 0: exp, 1: sigmoid, 2: tanh, over `count` floats (source and destination may alias).
void rk_neon_activation(int kind, const float *source, float *destination, long count) {
    long j = 0;
    for (; j + 8 <= count; j += 8) {
        float32x4_t x0 = vld1q_f32(source + j), x1 = vld1q_f32(source + j + 4);
        float32x4_t y0 = rn_activate4(kind, x0), y1 = rn_activate4(kind, x1);
        vst1q_f32(destination + j, y0);
        vst1q_f32(destination + j + 4, y1);
    }
    for (; j < count; j += 4) {
        long left = count - j;
        rn_store(destination + j, rn_activate4(kind, rn_load(source + j, left)), left);
    }
}

/// One batch row of the LSTM forward step (no peepholes): `gates` (4H, order i, f, g, o) holds the
/// pre-activations and receives the activations; writes c_t = f·c_{t−1} + i·g and h_t = o·tanh(c_t).
void rk_neon_lstm_forward_row(long H, float *gates, const float *cPrev, float *c, float *h) {
    for (long j = 0; j < H; j += 4) {
        long left = H - j;
        float32x4_t i = rn_sigmoid4(rn_load(gates + j, left));
        float32x4_t f = rn_sigmoid4(rn_load(gates + H + j, left));
        float32x4_t g = rn_tanh4(rn_load(gates + 2 * H + j, left));
        float32x4_t o = rn_sigmoid4(rn_load(gates + 3 * H + j, left));
        float32x4_t cp = rn_load(cPrev + j, left);
        float32x4_t cn = vaddq_f32(vmulq_f32(f, cp), vmulq_f32(i, g));
        rn_store(gates + j, i, left);
        rn_store(gates + H + j, f, left);
        rn_store(gates + 2 * H + j, g, left);
        rn_store(gates + 3 * H + j, o, left);
        rn_store(c + j, cn, left);
        rn_store(h + j, vmulq_f32(rn_tanh4(cn), o), left);
    }
}

/// One batch row of the LSTM backward step (no peepholes). Reads the activations `gates` (i, f, g, o),
/// c_t, c_{t−1} and dh (the gradient of h_t); `dc` holds the gradient of c_t on entry and of c_{t−1}
/// on return; writes the pre-activation gradients `dGates` (4H).
void rk_neon_lstm_backward_row(long H, const float *gates, const float *c, const float *cPrev,
                               const float *dh, float *dc, float *dGates) {
    float32x4_t one = vdupq_n_f32(1.0f);
    for (long j = 0; j < H; j += 4) {
        long left = H - j;
        float32x4_t i = rn_load(gates + j, left);
        float32x4_t f = rn_load(gates + H + j, left);
        float32x4_t g = rn_load(gates + 2 * H + j, left);
        float32x4_t o = rn_load(gates + 3 * H + j, left);
        float32x4_t tc = rn_tanh4(rn_load(c + j, left));
        float32x4_t dhj = rn_load(dh + j, left);
        float32x4_t cp = rn_load(cPrev + j, left);
        float32x4_t dO = vmulq_f32(vmulq_f32(vmulq_f32(dhj, tc), o), vsubq_f32(one, o));
        float32x4_t dcj = vaddq_f32(rn_load(dc + j, left),
                                    vmulq_f32(vmulq_f32(dhj, o), vsubq_f32(one, vmulq_f32(tc, tc))));
        float32x4_t di = vmulq_f32(vmulq_f32(vmulq_f32(dcj, g), i), vsubq_f32(one, i));
        float32x4_t df = vmulq_f32(vmulq_f32(vmulq_f32(dcj, cp), f), vsubq_f32(one, f));
        float32x4_t dg = vmulq_f32(vmulq_f32(dcj, i), vsubq_f32(one, vmulq_f32(g, g)));
        rn_store(dGates + j, di, left);
        rn_store(dGates + H + j, df, left);
        rn_store(dGates + 2 * H + j, dg, left);
        rn_store(dGates + 3 * H + j, dO, left);
        rn_store(dc + j, vmulq_f32(dcj, f), left);
    }
}

#endif
