// Reduced-precision batch-1 products of the NEON family (bf16 and int8 weights, Float32 accumulation),
// plain Advanced SIMD: no bf16 or dot-product extension needed. The semantics of
// rk_reference_gemv_packed_bf16/int8 (portable.c): bf16 → Float by moving the 16 bits into the high
// half, int8 → Float by widening, products accumulated in Float per column in ascending k, the int8
// column scale applied once at the end.
#include "kernels_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

/// Adds beta·y (beta 0 or 1) and stores the first `count` of the 4-lane sums `s` (count ≤ 4·groups)
/// at y, scaling by `scales` first when it is not NULL.
static inline void rn_lowp_store(const float32x4_t *s, long groups, long count, const float *scales, float beta,
                                 float *y) {
    for (long q = 0; q < groups; q++) {
        long left = count - 4 * q;
        if (left <= 0) break;
        float32x4_t v = s[q];
        if (left >= 4) {
            if (scales) v = vmulq_f32(v, vld1q_f32(scales + 4 * q));
            if (beta != 0.0f) v = vaddq_f32(v, vld1q_f32(y + 4 * q));
            vst1q_f32(y + 4 * q, v);
        } else {
            float lanes[4];
            vst1q_f32(lanes, v);
            for (long j = 0; j < left; j++) {
                float value = scales ? lanes[j] * scales[4 * q + j] : lanes[j];
                y[4 * q + j] = beta != 0.0f ? y[4 * q + j] + value : value;
            }
        }
    }
}

/// Eight bf16 values → two Float vectors (exact: the bits move into the high half).
static inline void rn_bf16x8(uint16x8_t v, float32x4_t *lo, float32x4_t *hi) {
    *lo = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(v), 16));
    *hi = vreinterpretq_f32_u32(vshll_high_n_u16(v, 16));
}

/// Sixteen int8 values → four Float vectors (exact).
static inline void rn_int8x16(int8x16_t v, float32x4_t *f) {
    int16x8_t lo = vmovl_s8(vget_low_s8(v)), hi = vmovl_high_s8(v);
    f[0] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo)));
    f[1] = vcvtq_f32_s32(vmovl_high_s16(lo));
    f[2] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi)));
    f[3] = vcvtq_f32_s32(vmovl_high_s16(hi));
}

/// y (n) = beta·y + x (k) · packed bf16 op(B) (beta 0 or 1): two 32-column panels at a time (16
/// accumulators), each panel one contiguous stream of k·32 bf16 values.
void rk_neon_gemv_packed_bf16(long n, long k, const uint16_t *packed, const float *x, float beta, float *y) {
    long panels = (n + RK_PANEL - 1) / RK_PANEL;
    for (long p = 0; p < panels; p += 2) {
        int two = p + 1 < panels;
        const uint16_t *p0 = packed + p * k * RK_PANEL;
        const uint16_t *p1 = two ? p0 + k * RK_PANEL : p0;
        float32x4_t s[16];
        for (int q = 0; q < 16; q++) s[q] = vdupq_n_f32(0.0f);
        for (long kk = 0; kk < k; kk++) {
            float32x4_t xv = vdupq_n_f32(x[kk]);
            const uint16_t *r0 = p0 + kk * RK_PANEL, *r1 = p1 + kk * RK_PANEL;
            for (int q = 0; q < 4; q++) {
                float32x4_t lo, hi;
                rn_bf16x8(vld1q_u16(r0 + 8 * q), &lo, &hi);
                s[2 * q] = vfmaq_f32(s[2 * q], lo, xv);
                s[2 * q + 1] = vfmaq_f32(s[2 * q + 1], hi, xv);
            }
            for (int q = 0; q < 4; q++) {
                float32x4_t lo, hi;
                rn_bf16x8(vld1q_u16(r1 + 8 * q), &lo, &hi);
                s[8 + 2 * q] = vfmaq_f32(s[8 + 2 * q], lo, xv);
                s[8 + 2 * q + 1] = vfmaq_f32(s[8 + 2 * q + 1], hi, xv);
            }
        }
        long j0 = p * RK_PANEL;
        rn_lowp_store(s, two ? 16 : 8, n - j0, NULL, beta, y + j0);
    }
}

/// y (n) = beta·y + scale ⊙ (x (k) · packed int8 op(B)) (beta 0 or 1): two 32-column panels at a time
/// (16 accumulators); `scales` holds ceil(n/32)·32 floats.
void rk_neon_gemv_packed_int8(long n, long k, const int8_t *packed, const float *scales, const float *x,
                              float beta, float *y) {
    long panels = (n + RK_PANEL - 1) / RK_PANEL;
    for (long p = 0; p < panels; p += 2) {
        int two = p + 1 < panels;
        const int8_t *p0 = packed + p * k * RK_PANEL;
        const int8_t *p1 = two ? p0 + k * RK_PANEL : p0;
        float32x4_t s[16];
        for (int q = 0; q < 16; q++) s[q] = vdupq_n_f32(0.0f);
        for (long kk = 0; kk < k; kk++) {
            float32x4_t xv = vdupq_n_f32(x[kk]);
            const int8_t *r0 = p0 + kk * RK_PANEL, *r1 = p1 + kk * RK_PANEL;
            float32x4_t f[4];
            rn_int8x16(vld1q_s8(r0), f);
            for (int q = 0; q < 4; q++) s[q] = vfmaq_f32(s[q], f[q], xv);
            rn_int8x16(vld1q_s8(r0 + 16), f);
            for (int q = 0; q < 4; q++) s[4 + q] = vfmaq_f32(s[4 + q], f[q], xv);
            rn_int8x16(vld1q_s8(r1), f);
            for (int q = 0; q < 4; q++) s[8 + q] = vfmaq_f32(s[8 + q], f[q], xv);
            rn_int8x16(vld1q_s8(r1 + 16), f);
            for (int q = 0; q < 4; q++) s[12 + q] = vfmaq_f32(s[12 + q], f[q], xv);
        }
        long j0 = p * RK_PANEL;
        rn_lowp_store(s, two ? 16 : 8, n - j0, scales + j0, beta, y + j0);
    }
}

#endif
