// Reduced-precision batch-1 products of the avx2 family (bf16 and int8 weights, Float32 accumulation).
//
// Both read the packed panels of recurrent_kernels.h (32 columns per panel, zero-padded past n), two
// panels (64 columns, eight 8-lane accumulators) per pass and a lone last panel on its own.
//
// bf16: a 32-byte load holds 16 elements of a panel row; seen as 8 32-bit lanes, lane i holds column
// 2i in its low half and 2i+1 in its high half, so `lane << 16` and `lane & 0xFFFF0000` are the even
// and odd columns as floats (no shuffle in the loop). They are put back in column order at the end.
// int8: 8 elements at a time sign-extended to 32 bits (vpmovsxbd) and converted to float; the sum is
// multiplied by the column scale at the end.
#include "kernels_internal.h"

#if defined(__x86_64__)
#include "avx2_common.h"

#define RL2_TARGET R2_TARGET

/// The columns j0 ..< j0 + 8 of y: `v` (plus y when beta ≠ 0), stored only below n.
static inline __attribute__((always_inline)) RL2_TARGET
void rl2_store(float *y, long j0, long n, __m256 v, float beta) {
    long left = n - j0;
    if (left <= 0) return;
    if (beta != 0.0f) v = _mm256_add_ps(v, r2_load(y + j0, left));
    r2_store(y + j0, v, left);
}

/// Even columns (0, 2, …, 14) in `even`, odd ones in `odd` → columns 0 ..< 8 in `*low`, 8 ..< 16 in `*high`.
static inline __attribute__((always_inline)) RL2_TARGET
void rl2_interleave(__m256 even, __m256 odd, __m256 *low, __m256 *high) {
    __m256 a = _mm256_unpacklo_ps(even, odd);  // columns 0–3 | 8–11
    __m256 b = _mm256_unpackhi_ps(even, odd);  // columns 4–7 | 12–15
    *low = _mm256_permute2f128_ps(a, b, 0x20);
    *high = _mm256_permute2f128_ps(a, b, 0x31);
}

/// 16 bf16 elements at `q` → their even and odd columns as floats, accumulated times `xv`.
#define RL2_BF16_STEP(q, xv, even, odd) do { \
        __m256i r_ = _mm256_loadu_si256((const __m256i *)(q)); \
        even = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(r_, 16)), xv, even); \
        odd = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(r_, oddMask)), xv, odd); \
    } while (0)

/// Stores the 32 columns of one panel from its four even/odd accumulators.
static inline __attribute__((always_inline)) RL2_TARGET
void rl2_store_bf16_panel(float *y, long j0, long n, __m256 e0, __m256 o0, __m256 e1, __m256 o1, float beta) {
    __m256 a, b, c, d;
    rl2_interleave(e0, o0, &a, &b);
    rl2_interleave(e1, o1, &c, &d);
    rl2_store(y, j0, n, a, beta);
    rl2_store(y, j0 + 8, n, b, beta);
    rl2_store(y, j0 + 16, n, c, beta);
    rl2_store(y, j0 + 24, n, d, beta);
}

/// y (n) = beta·y + x (k) · packed bf16 op(B), beta 0 or 1.
RL2_TARGET void rk_avx2_gemv_packed_bf16(long n, long k, const uint16_t *packed, const float *x, float beta, float *y) {
    long panels = (n + RK_PANEL - 1) / RK_PANEL;
    const __m256i oddMask = _mm256_set1_epi32((int)0xFFFF0000u);
    long p = 0;
    for (; p + 2 <= panels; p += 2) {
        const uint16_t *p0 = packed + p * k * RK_PANEL, *p1 = p0 + k * RK_PANEL;
        __m256 e0 = _mm256_setzero_ps(), o0 = _mm256_setzero_ps(), e1 = _mm256_setzero_ps(), o1 = _mm256_setzero_ps();
        __m256 e2 = _mm256_setzero_ps(), o2 = _mm256_setzero_ps(), e3 = _mm256_setzero_ps(), o3 = _mm256_setzero_ps();
        for (long kk = 0; kk < k; kk++) {
            __m256 xv = _mm256_broadcast_ss(x + kk);
            const uint16_t *r0 = p0 + kk * RK_PANEL, *r1 = p1 + kk * RK_PANEL;
            RL2_BF16_STEP(r0, xv, e0, o0);
            RL2_BF16_STEP(r0 + 16, xv, e1, o1);
            RL2_BF16_STEP(r1, xv, e2, o2);
            RL2_BF16_STEP(r1 + 16, xv, e3, o3);
        }
        rl2_store_bf16_panel(y, p * RK_PANEL, n, e0, o0, e1, o1, beta);
        rl2_store_bf16_panel(y, (p + 1) * RK_PANEL, n, e2, o2, e3, o3, beta);
    }
    if (p < panels) {
        const uint16_t *p0 = packed + p * k * RK_PANEL;
        // Two k steps interleaved so that eight chains of FMAs are in flight.
        __m256 e0 = _mm256_setzero_ps(), o0 = _mm256_setzero_ps(), e1 = _mm256_setzero_ps(), o1 = _mm256_setzero_ps();
        __m256 e2 = _mm256_setzero_ps(), o2 = _mm256_setzero_ps(), e3 = _mm256_setzero_ps(), o3 = _mm256_setzero_ps();
        long kk = 0;
        for (; kk + 2 <= k; kk += 2) {
            __m256 x0 = _mm256_broadcast_ss(x + kk), x1 = _mm256_broadcast_ss(x + kk + 1);
            const uint16_t *r = p0 + kk * RK_PANEL;
            RL2_BF16_STEP(r, x0, e0, o0);
            RL2_BF16_STEP(r + 16, x0, e1, o1);
            RL2_BF16_STEP(r + 32, x1, e2, o2);
            RL2_BF16_STEP(r + 48, x1, e3, o3);
        }
        if (kk < k) {
            __m256 x0 = _mm256_broadcast_ss(x + kk);
            const uint16_t *r = p0 + kk * RK_PANEL;
            RL2_BF16_STEP(r, x0, e0, o0);
            RL2_BF16_STEP(r + 16, x0, e1, o1);
        }
        rl2_store_bf16_panel(y, p * RK_PANEL, n, _mm256_add_ps(e0, e2), _mm256_add_ps(o0, o2),
                             _mm256_add_ps(e1, e3), _mm256_add_ps(o1, o3), beta);
    }
}

/// 8 int8 weights at `q` as floats.
static inline __attribute__((always_inline)) RL2_TARGET __m256 rl2_int8(const int8_t *q) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)q)));
}

/// `acc` (columns j0 ..< j0 + 8) times their scales, stored (scales read only below n).
static inline __attribute__((always_inline)) RL2_TARGET
void rl2_store_scaled(float *y, const float *scales, long j0, long n, __m256 acc, float beta) {
    long left = n - j0;
    if (left <= 0) return;
    __m256 s;
    if (left >= 8) s = _mm256_loadu_ps(scales + j0);
    else s = _mm256_maskload_ps(scales + j0, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)left),
                                                                 _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
    rl2_store(y, j0, n, _mm256_mul_ps(acc, s), beta);
}

/// y (n) = beta·y + scale ⊙ (x (k) · packed int8 op(B)), beta 0 or 1.
RL2_TARGET void rk_avx2_gemv_packed_int8(long n, long k, const int8_t *packed, const float *scales, const float *x,
                                         float beta, float *y) {
    long panels = (n + RK_PANEL - 1) / RK_PANEL;
    long p = 0;
    for (; p + 2 <= panels; p += 2) {
        const int8_t *p0 = packed + p * k * RK_PANEL, *p1 = p0 + k * RK_PANEL;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        __m256 a4 = _mm256_setzero_ps(), a5 = _mm256_setzero_ps(), a6 = _mm256_setzero_ps(), a7 = _mm256_setzero_ps();
        for (long kk = 0; kk < k; kk++) {
            __m256 xv = _mm256_broadcast_ss(x + kk);
            const int8_t *r0 = p0 + kk * RK_PANEL, *r1 = p1 + kk * RK_PANEL;
            a0 = _mm256_fmadd_ps(rl2_int8(r0), xv, a0);
            a1 = _mm256_fmadd_ps(rl2_int8(r0 + 8), xv, a1);
            a2 = _mm256_fmadd_ps(rl2_int8(r0 + 16), xv, a2);
            a3 = _mm256_fmadd_ps(rl2_int8(r0 + 24), xv, a3);
            a4 = _mm256_fmadd_ps(rl2_int8(r1), xv, a4);
            a5 = _mm256_fmadd_ps(rl2_int8(r1 + 8), xv, a5);
            a6 = _mm256_fmadd_ps(rl2_int8(r1 + 16), xv, a6);
            a7 = _mm256_fmadd_ps(rl2_int8(r1 + 24), xv, a7);
        }
        long j0 = p * RK_PANEL;
        rl2_store_scaled(y, scales, j0, n, a0, beta);
        rl2_store_scaled(y, scales, j0 + 8, n, a1, beta);
        rl2_store_scaled(y, scales, j0 + 16, n, a2, beta);
        rl2_store_scaled(y, scales, j0 + 24, n, a3, beta);
        rl2_store_scaled(y, scales, j0 + 32, n, a4, beta);
        rl2_store_scaled(y, scales, j0 + 40, n, a5, beta);
        rl2_store_scaled(y, scales, j0 + 48, n, a6, beta);
        rl2_store_scaled(y, scales, j0 + 56, n, a7, beta);
    }
    if (p < panels) {
        const int8_t *p0 = packed + p * k * RK_PANEL;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps(), b2 = _mm256_setzero_ps(), b3 = _mm256_setzero_ps();
        long kk = 0;
        for (; kk + 2 <= k; kk += 2) {
            __m256 x0 = _mm256_broadcast_ss(x + kk), x1 = _mm256_broadcast_ss(x + kk + 1);
            const int8_t *r = p0 + kk * RK_PANEL;
            a0 = _mm256_fmadd_ps(rl2_int8(r), x0, a0);
            a1 = _mm256_fmadd_ps(rl2_int8(r + 8), x0, a1);
            a2 = _mm256_fmadd_ps(rl2_int8(r + 16), x0, a2);
            a3 = _mm256_fmadd_ps(rl2_int8(r + 24), x0, a3);
            b0 = _mm256_fmadd_ps(rl2_int8(r + 32), x1, b0);
            b1 = _mm256_fmadd_ps(rl2_int8(r + 40), x1, b1);
            b2 = _mm256_fmadd_ps(rl2_int8(r + 48), x1, b2);
            b3 = _mm256_fmadd_ps(rl2_int8(r + 56), x1, b3);
        }
        if (kk < k) {
            __m256 x0 = _mm256_broadcast_ss(x + kk);
            const int8_t *r = p0 + kk * RK_PANEL;
            a0 = _mm256_fmadd_ps(rl2_int8(r), x0, a0);
            a1 = _mm256_fmadd_ps(rl2_int8(r + 8), x0, a1);
            a2 = _mm256_fmadd_ps(rl2_int8(r + 16), x0, a2);
            a3 = _mm256_fmadd_ps(rl2_int8(r + 24), x0, a3);
        }
        long j0 = p * RK_PANEL;
        rl2_store_scaled(y, scales, j0, n, _mm256_add_ps(a0, b0), beta);
        rl2_store_scaled(y, scales, j0 + 8, n, _mm256_add_ps(a1, b1), beta);
        rl2_store_scaled(y, scales, j0 + 16, n, _mm256_add_ps(a2, b2), beta);
        rl2_store_scaled(y, scales, j0 + 24, n, _mm256_add_ps(a3, b3), beta);
    }
}

#endif
