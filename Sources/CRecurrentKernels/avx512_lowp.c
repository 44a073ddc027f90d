// Reduced-precision batch-1 products of the avx512 family (bf16 and int8 weights, Float32 accumulation).
//
// Both read the packed panels of recurrent_kernels.h (32 columns per panel, zero-padded past n), two
// panels (64 columns) per pass and a lone last panel on its own, and keep Float32 accumulators.
//
// bf16: one 64-byte load is a whole panel row (32 elements). Seen as 16 32-bit lanes, lane i holds
// column 2i in its low half and column 2i+1 in its high half, so `lane << 16` is column 2i as a float
// and `lane & 0xFFFF0000` is column 2i+1: no shuffle in the loop. The even and odd accumulators are
// interleaved back into column order once, at the end.
// int8: 16 elements at a time sign-extended to 32 bits (vpmovsxbd) and converted to float; the sum is
// multiplied by the column scale at the end.
#include "kernels_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define RL512_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

/// The columns j0 ..< j0 + 16 of y: `v` (plus y when beta ≠ 0), stored only below n.
static inline __attribute__((always_inline)) RL512_TARGET
void rl512_store(float *y, long j0, long n, __m512 v, float beta) {
    long left = n - j0;
    if (left <= 0) return;
    __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
    if (beta != 0.0f) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, y + j0));
    _mm512_mask_storeu_ps(y + j0, m, v);
}

/// Even columns (0, 2, …, 30) in `even` and odd columns in `odd` → columns 0 ..< 16 in `*low` and
/// 16 ..< 32 in `*high`.
static inline __attribute__((always_inline)) RL512_TARGET
void rl512_interleave(__m512 even, __m512 odd, __m512 *low, __m512 *high) {
    const __m512i lowIndex = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i highIndex = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    *low = _mm512_permutex2var_ps(even, lowIndex, odd);
    *high = _mm512_permutex2var_ps(even, highIndex, odd);
}

/// y (n) = beta·y + x (k) · packed bf16 op(B), beta 0 or 1.
RL512_TARGET void rk_avx512_gemv_packed_bf16(long n, long k, const uint16_t *packed, const float *x, float beta,
                                             float *y) {
    long panels = (n + RK_PANEL - 1) / RK_PANEL;
    const __m512i oddMask = _mm512_set1_epi32((int)0xFFFF0000u);
    long p = 0;
    for (; p + 2 <= panels; p += 2) {
        const uint16_t *p0 = packed + p * k * RK_PANEL, *p1 = p0 + k * RK_PANEL;
        __m512 e0 = _mm512_setzero_ps(), o0 = _mm512_setzero_ps(), e1 = _mm512_setzero_ps(), o1 = _mm512_setzero_ps();
        for (long kk = 0; kk < k; kk++) {
            __m512 xv = _mm512_set1_ps(x[kk]);
            __m512i r0 = _mm512_loadu_si512((const void *)(p0 + kk * RK_PANEL));
            __m512i r1 = _mm512_loadu_si512((const void *)(p1 + kk * RK_PANEL));
            e0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(r0, 16)), xv, e0);
            o0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(r0, oddMask)), xv, o0);
            e1 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(r1, 16)), xv, e1);
            o1 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(r1, oddMask)), xv, o1);
        }
        __m512 a, b, c, d;
        rl512_interleave(e0, o0, &a, &b);
        rl512_interleave(e1, o1, &c, &d);
        long j0 = p * RK_PANEL;
        rl512_store(y, j0, n, a, beta);
        rl512_store(y, j0 + 16, n, b, beta);
        rl512_store(y, j0 + 32, n, c, beta);
        rl512_store(y, j0 + 48, n, d, beta);
    }
    if (p < panels) {
        const uint16_t *p0 = packed + p * k * RK_PANEL;
        // Two k steps interleaved so that four chains of FMAs are in flight.
        __m512 e0 = _mm512_setzero_ps(), o0 = _mm512_setzero_ps(), e1 = _mm512_setzero_ps(), o1 = _mm512_setzero_ps();
        long kk = 0;
        for (; kk + 2 <= k; kk += 2) {
            __m512 x0 = _mm512_set1_ps(x[kk]), x1 = _mm512_set1_ps(x[kk + 1]);
            __m512i r0 = _mm512_loadu_si512((const void *)(p0 + kk * RK_PANEL));
            __m512i r1 = _mm512_loadu_si512((const void *)(p0 + (kk + 1) * RK_PANEL));
            e0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(r0, 16)), x0, e0);
            o0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(r0, oddMask)), x0, o0);
            e1 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(r1, 16)), x1, e1);
            o1 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(r1, oddMask)), x1, o1);
        }
        if (kk < k) {
            __m512 x0 = _mm512_set1_ps(x[kk]);
            __m512i r0 = _mm512_loadu_si512((const void *)(p0 + kk * RK_PANEL));
            e0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(r0, 16)), x0, e0);
            o0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(r0, oddMask)), x0, o0);
        }
        __m512 a, b;
        rl512_interleave(_mm512_add_ps(e0, e1), _mm512_add_ps(o0, o1), &a, &b);
        long j0 = p * RK_PANEL;
        rl512_store(y, j0, n, a, beta);
        rl512_store(y, j0 + 16, n, b, beta);
    }
}

/// 16 int8 weights at `q` as floats.
static inline __attribute__((always_inline)) RL512_TARGET __m512 rl512_int8(const int8_t *q) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)q)));
}

/// The scales of columns j0 ..< j0 + 16 (zero past n: `scales` is only read below n).
static inline __attribute__((always_inline)) RL512_TARGET __m512 rl512_scales(const float *scales, long j0, long n) {
    long left = n - j0;
    if (left <= 0) return _mm512_setzero_ps();
    __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
    return _mm512_maskz_loadu_ps(m, scales + j0);
}

/// y (n) = beta·y + scale ⊙ (x (k) · packed int8 op(B)), beta 0 or 1.
RL512_TARGET void rk_avx512_gemv_packed_int8(long n, long k, const int8_t *packed, const float *scales, const float *x,
                                             float beta, float *y) {
    long panels = (n + RK_PANEL - 1) / RK_PANEL;
    long p = 0;
    for (; p + 2 <= panels; p += 2) {
        const int8_t *p0 = packed + p * k * RK_PANEL, *p1 = p0 + k * RK_PANEL;
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        for (long kk = 0; kk < k; kk++) {
            __m512 xv = _mm512_set1_ps(x[kk]);
            const int8_t *r0 = p0 + kk * RK_PANEL, *r1 = p1 + kk * RK_PANEL;
            a0 = _mm512_fmadd_ps(rl512_int8(r0), xv, a0);
            a1 = _mm512_fmadd_ps(rl512_int8(r0 + 16), xv, a1);
            a2 = _mm512_fmadd_ps(rl512_int8(r1), xv, a2);
            a3 = _mm512_fmadd_ps(rl512_int8(r1 + 16), xv, a3);
        }
        long j0 = p * RK_PANEL;
        rl512_store(y, j0, n, _mm512_mul_ps(a0, rl512_scales(scales, j0, n)), beta);
        rl512_store(y, j0 + 16, n, _mm512_mul_ps(a1, rl512_scales(scales, j0 + 16, n)), beta);
        rl512_store(y, j0 + 32, n, _mm512_mul_ps(a2, rl512_scales(scales, j0 + 32, n)), beta);
        rl512_store(y, j0 + 48, n, _mm512_mul_ps(a3, rl512_scales(scales, j0 + 48, n)), beta);
    }
    if (p < panels) {
        const int8_t *p0 = packed + p * k * RK_PANEL;
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
        long kk = 0;
        for (; kk + 2 <= k; kk += 2) {
            __m512 x0 = _mm512_set1_ps(x[kk]), x1 = _mm512_set1_ps(x[kk + 1]);
            const int8_t *r = p0 + kk * RK_PANEL;
            a0 = _mm512_fmadd_ps(rl512_int8(r), x0, a0);
            a1 = _mm512_fmadd_ps(rl512_int8(r + 16), x0, a1);
            b0 = _mm512_fmadd_ps(rl512_int8(r + 32), x1, b0);
            b1 = _mm512_fmadd_ps(rl512_int8(r + 48), x1, b1);
        }
        if (kk < k) {
            __m512 x0 = _mm512_set1_ps(x[kk]);
            const int8_t *r = p0 + kk * RK_PANEL;
            a0 = _mm512_fmadd_ps(rl512_int8(r), x0, a0);
            a1 = _mm512_fmadd_ps(rl512_int8(r + 16), x0, a1);
        }
        long j0 = p * RK_PANEL;
        rl512_store(y, j0, n, _mm512_mul_ps(_mm512_add_ps(a0, b0), rl512_scales(scales, j0, n)), beta);
        rl512_store(y, j0 + 16, n, _mm512_mul_ps(_mm512_add_ps(a1, b1), rl512_scales(scales, j0 + 16, n)), beta);
    }
}

#endif
