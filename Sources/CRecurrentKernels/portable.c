// Packing (shared by every family) and the portable family: plain C, no intrinsics.
#include "kernels_internal.h"
#include <math.h>

size_t rk_packed_count(long k, long n) {
    return (size_t)((n + RK_PANEL - 1) / RK_PANEL) * RK_PANEL * (size_t)k;
}

/// Element (kk, j) of op(B).
static inline float rk_op_b(int transB, const float *b, long ldb, long kk, long j) {
    return transB ? b[j * ldb + kk] : b[kk * ldb + j];
}

void rk_pack_b(int transB, long k, long n, const float *b, long ldb, float *dst) {
    long panels = (n + RK_PANEL - 1) / RK_PANEL;
    for (long p = 0; p < panels; p++) {
        float *d = dst + p * k * RK_PANEL;
        long j0 = p * RK_PANEL, width = n - j0 < RK_PANEL ? n - j0 : RK_PANEL;
        if (!transB) {
            for (long kk = 0; kk < k; kk++) {
                const float *s = b + kk * ldb + j0;
                float *row = d + kk * RK_PANEL;
                for (long j = 0; j < width; j++) row[j] = s[j];
                for (long j = width; j < RK_PANEL; j++) row[j] = 0.0f;
            }
        } else {
            // Column j of op(B) is row j0 + j of the stored (n × k) matrix: read each stored row once, in
            // order; the writes stay inside this panel.
            for (long j = 0; j < RK_PANEL; j++) {
                if (j < width) {
                    const float *source = b + (j0 + j) * ldb;
                    for (long kk = 0; kk < k; kk++) d[kk * RK_PANEL + j] = source[kk];
                } else {
                    for (long kk = 0; kk < k; kk++) d[kk * RK_PANEL + j] = 0.0f;
                }
            }
        }
    }
}

/// Copies `count` floats; a constant count (the usual tile heights) becomes a few vector moves.
static inline void rk_copy_floats(float *restrict d, const float *restrict s, long count) {
    switch (count) {
        case 4: for (int r = 0; r < 4; r++) d[r] = s[r]; break;
        case 5: for (int r = 0; r < 5; r++) d[r] = s[r]; break;
        case 6: for (int r = 0; r < 6; r++) d[r] = s[r]; break;
        case 11: for (int r = 0; r < 11; r++) d[r] = s[r]; break;
        case 12: for (int r = 0; r < 12; r++) d[r] = s[r]; break;
        case 16: for (int r = 0; r < 16; r++) d[r] = s[r]; break;
        default: for (long r = 0; r < count; r++) d[r] = s[r]; break;
    }
}

void rk_pack_a_transposed(const float *a, long lda, long ib, rk_row_tiles tiles, long k0, long kc, float *packed) {
    // The block's rows are `lda` floats apart in memory: ask for each row's lines a few rows ahead, which
    // the hardware prefetchers do not do for this stride (the copy was bound by L3 latency).
    enum { AHEAD = 6 };
    long iEnd = ib + tiles.rows, h = tiles.height;
    for (long kk = 0; kk < kc; kk++) {
        const float *source = a + (k0 + kk) * lda;
        if (kk + AHEAD < kc) {
            const float *next = source + AHEAD * lda;
            for (long i = ib; i < iEnd; i += 16) __builtin_prefetch(next + i);
            __builtin_prefetch(next + iEnd - 1);
        }
        for (long t = 0, i0 = 0; i0 < tiles.rows; t++) {
            long i1 = rk_tile_start(tiles, t + 1);
            rk_copy_floats(packed + t * kc * h + kk * h, source + ib + i0, i1 - i0);
            i0 = i1;
        }
    }
}

void rk_pack_a_rows(const float *a, long lda, long ib, rk_row_tiles tiles, long k0, long kc, float *packed) {
    long h = tiles.height;
    for (long t = 0, i0 = 0; i0 < tiles.rows; t++) {
        long i1 = rk_tile_start(tiles, t + 1);
        float *tile = packed + t * kc * h;
        for (long r = 0; r < i1 - i0; r++) {
            const float *row = a + (ib + i0 + r) * lda + k0;
            for (long kk = 0; kk < kc; kk++) tile[kk * h + r] = row[kk];
        }
        i0 = i1;
    }
}

/// Float → bfloat16 bits, rounding to nearest even (NaN kept a quiet NaN).
static inline uint16_t rk_float_to_bf16(float value) {
    union { float f; uint32_t u; } x = { value };
    if ((x.u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((x.u >> 16) | 0x40u);
    uint32_t rounding = 0x7FFFu + ((x.u >> 16) & 1u);
    return (uint16_t)((x.u + rounding) >> 16);
}

void rk_pack_b_bf16(int transB, long k, long n, const float *b, long ldb, uint16_t *dst) {
    long panels = (n + RK_PANEL - 1) / RK_PANEL;
    for (long p = 0; p < panels; p++) {
        uint16_t *d = dst + p * k * RK_PANEL;
        long j0 = p * RK_PANEL, width = n - j0 < RK_PANEL ? n - j0 : RK_PANEL;
        for (long kk = 0; kk < k; kk++)
            for (long j = 0; j < RK_PANEL; j++)
                d[kk * RK_PANEL + j] = j < width ? rk_float_to_bf16(rk_op_b(transB, b, ldb, kk, j0 + j)) : 0;
    }
}

void rk_pack_b_int8(int transB, long k, long n, const float *b, long ldb, int8_t *dst, float *scales) {
    long panels = (n + RK_PANEL - 1) / RK_PANEL;
    for (long p = 0; p < panels; p++) {
        int8_t *d = dst + p * k * RK_PANEL;
        long j0 = p * RK_PANEL, width = n - j0 < RK_PANEL ? n - j0 : RK_PANEL;
        for (long j = 0; j < RK_PANEL; j++) {
            float largest = 0.0f;
            if (j < width) for (long kk = 0; kk < k; kk++) {
                float v = fabsf(rk_op_b(transB, b, ldb, kk, j0 + j));
                if (v > largest) largest = v;
            }
            float scale = largest > 0.0f ? largest / 127.0f : 0.0f;
            scales[j0 + j] = scale;
            for (long kk = 0; kk < k; kk++) {
                float q = scale > 0.0f && j < width ? nearbyintf(rk_op_b(transB, b, ldb, kk, j0 + j) / scale) : 0.0f;
                if (q > 127.0f) q = 127.0f;
                if (q < -127.0f) q = -127.0f;
                d[kk * RK_PANEL + j] = (int8_t)q;
            }
        }
    }
}

/// Element `index` of a packed panel of 4-byte floats (kind 0), bfloat16 (1) or int8 (2).
static inline float rk_packed_element(int kind, const void *packed, long index) {
    switch (kind) {
    case 1: return rk_bf16_to_float(((const uint16_t *)packed)[index]);
    case 2: return (float)((const int8_t *)packed)[index];
    default: return ((const float *)packed)[index];
    }
}

/// The three portable batch-1 products in one: y = beta·y + (scale ⊙) x · packed op(B), one panel of
/// 32 accumulators at a time (scales: int8 only, else NULL). `kind` is a constant at each call, so
/// the compiler specialises the inner loop.
static inline void rk_reference_gemv_kind(int kind, long n, long k, const void *packed, const float *scales,
                                          const float *x, float beta, float *y) {
    long panels = (n + RK_PANEL - 1) / RK_PANEL;
    for (long p = 0; p < panels; p++) {
        float acc[RK_PANEL] = {0};
        for (long kk = 0; kk < k; kk++) {
            float xv = x[kk];
            long row = (p * k + kk) * RK_PANEL;
            for (int j = 0; j < RK_PANEL; j++) acc[j] += xv * rk_packed_element(kind, packed, row + j);
        }
        long j0 = p * RK_PANEL, width = n - j0 < RK_PANEL ? n - j0 : RK_PANEL;
        for (long j = 0; j < width; j++) {
            float v = scales ? acc[j] * scales[j0 + j] : acc[j];
            y[j0 + j] = beta != 0.0f ? y[j0 + j] + v : v;
        }
    }
}

void rk_reference_gemv_packed(long n, long k, const float *packed, const float *x, float beta, float *y) {
    rk_reference_gemv_kind(0, n, k, packed, 0, x, beta, y);
}

void rk_reference_gemv_packed_bf16(long n, long k, const uint16_t *packed, const float *x, float beta, float *y) {
    rk_reference_gemv_kind(1, n, k, packed, 0, x, beta, y);
}

void rk_reference_gemv_packed_int8(long n, long k, const int8_t *packed, const float *scales, const float *x,
                                   float beta, float *y) {
    rk_reference_gemv_kind(2, n, k, packed, scales, x, beta, y);
}

float rk_reference_read_sum(const float *p, long n, long passes) {
    float s[8] = {0};
    for (long pass = 0; pass < passes; pass++) {
        __asm__ volatile("" ::: "memory");  // every pass really reads the buffer
        for (long i = 0; i + 8 <= n; i += 8)
            for (int q = 0; q < 8; q++) s[q] += p[i + q];
    }
    return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}
