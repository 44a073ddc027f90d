// The AVX-512 family (x86-64 with AVX-512 F/DQ and FMA): 16 lanes. Compiled for AVX-512 by a
// per-function target attribute whatever the flags of the target, so it must only run where
// `rk_family_supported(RK_AVX512)` is true (the dispatcher guarantees it).
//
// GEMM: the packed op(B) panels of 32 columns (two registers) against up to 12 rows of A at a time
// (24 accumulators), A read in place (it changes every call; packing it costs more than it saves).
// Activations: exp by range reduction x = k·ln2 + r, a degree-6 polynomial for e^r (Cephes' expf
// coefficients) and 2^k built in the exponent bits; the argument clamped to [−87.3, 88.37];
// sigmoid(x) = 1 / (1 + e^−x), tanh(x) = 1 − 2 / (e^2x + 1): the algorithm and constants of the
// portable Swift path (SequenceKernels+Activation.swift), so results differ from it only in the last bit.
#include "kernels_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define RSG_TARGET __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
#define RSG_NR RK_PANEL
#define RSG_MR_MAX 12

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

/// C (m × n) = beta·C + op(A) · packedB (beta 0 or 1): A stored (m × k) with row stride lda and read in
/// place, or (k × m) when `transA` and then packed per block (rk_pack_a_transposed).
/// Blocking: rows by up to 96 and k by 256, so that a block of A stays in L2 while each 32 KiB block of
/// a B panel is reused from L1 across the row tiles.
RSG_TARGET void rk_avx512_sgemm(int transA, long m, long n, long k, const float *a, long lda,
                                              const float *packedB, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    long h = rk_panel_height(m, RSG_MR_MAX);
    long panels = (n + RSG_NR - 1) / RSG_NR;
    enum { KC = 256 };
    const long MC = 8 * h;
    float packedA[transA ? 8 * RSG_MR_MAX * KC : 1];
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
            if (transA) rk_pack_a_transposed(a, lda, ib, rk_uniform_tiles(iEnd - ib, h), k0, kc, packedA);
            for (long p = 0; p < panels; p++) {
                long j0 = p * RSG_NR, width = n - j0 < RSG_NR ? n - j0 : RSG_NR;
                __mmask16 m0 = width >= 16 ? 0xFFFF : (__mmask16)((1u << width) - 1);
                __mmask16 m1 = width >= 32 ? 0xFFFF : (width <= 16 ? 0 : (__mmask16)((1u << (width - 16)) - 1));
                const float *pb = packedB + p * k * RSG_NR + k0 * RSG_NR;
                for (long i0 = ib; i0 < iEnd; i0 += h) {
                    long mr = m - i0 < h ? m - i0 : h;
                    if (transA)
                        recurrent_sgemm_tile_dispatch(mr, kc, h, packedA + (i0 - ib) * kc, pb, c + i0 * ldc + j0, ldc, accumulate, m0, m1);
                    else
                        recurrent_sgemm_tile_rows_dispatch(mr, kc, a + i0 * lda + k0, lda, pb, c + i0 * ldc + j0, ldc, accumulate, m0, m1);
                }
            }
        }
    }
}

/// y (n) = beta·y + W·x for W stored (n × k) row-major with row stride ldw (beta 0 or 1): one row of
/// a batch-1 product `x · Wᵀ`. Four rows at a time, 16 lanes per row, reduced at the end.
RSG_TARGET void rk_avx512_gemv_rows(long n, long k, const float *w, long ldw, const float *x,
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
RSG_TARGET void rk_avx512_gemv_columns(long n, long k, const float *w, long ldw, const float *x,
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
RSG_TARGET void rk_avx512_gemv_packed(long n, long k, const float *packed, const float *x,
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
RSG_TARGET float rk_avx512_read_sum(const float *p, long n, long passes) {
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

static inline __attribute__((always_inline)) RSG_TARGET __m512 recurrent_exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.37f));
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    __m512 k = _mm512_sub_ps(_mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504f), magic), magic);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fmadd_ps(k, _mm512_set1_ps(2.1219444e-4f), r);
    __m512 p = _mm512_set1_ps(1.98756915e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.39819995e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.16657959e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.66666655e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.00000012e-1f));
    __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    __m512i bits = _mm512_slli_epi32(_mm512_castps_si512(_mm512_add_ps(k, _mm512_set1_ps(8388735.0f))), 23);
    return _mm512_mul_ps(y, _mm512_castsi512_ps(bits));
}

static inline __attribute__((always_inline)) RSG_TARGET __m512 recurrent_sigmoid16(__m512 x) {
    __m512 one = _mm512_set1_ps(1.0f);
    __m512 s = _mm512_div_ps(one, _mm512_add_ps(one, recurrent_exp16(_mm512_sub_ps(_mm512_setzero_ps(), x))));
    // Below the smallest normal Float (x < −87.3) the result is 0: no subnormal gates.
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(s, _mm512_set1_ps(1.17549435e-38f), _CMP_GE_OQ), s);
}

static inline __attribute__((always_inline)) RSG_TARGET __m512 recurrent_tanh16(__m512 x) {
    __m512 one = _mm512_set1_ps(1.0f);
    __m512 e = recurrent_exp16(_mm512_add_ps(x, x));
    return _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one)));
}

#define RG_MASK(n, j) ((n) - (j) >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << ((n) - (j))) - 1))

/// kind 0: exp, 1: sigmoid, 2: tanh, over `count` floats (source and destination may alias).
RSG_TARGET void rk_avx512_activation(int kind, const float *source, float *destination, long count) {
    for (long j = 0; j < count; j += 16) {
        __mmask16 m = RG_MASK(count, j);
        __m512 x = _mm512_maskz_loadu_ps(m, source + j);
        __m512 y = kind == 0 ? recurrent_exp16(x) : kind == 1 ? recurrent_sigmoid16(x) : recurrent_tanh16(x);
        _mm512_mask_storeu_ps(destination + j, m, y);
    }
}

/// One batch row of the LSTM forward step (no peepholes): `gates` (4H, order i, f, g, o) holds the
/// pre-activations and receives the activations; writes c_t = f·c_{t−1} + i·g and h_t = o·tanh(c_t).
RSG_TARGET void rk_avx512_lstm_forward_row(long H, float *gates, const float *cPrev, float *c, float *h) {
    for (long j = 0; j < H; j += 16) {
        __mmask16 m = RG_MASK(H, j);
        __m512 i = recurrent_sigmoid16(_mm512_maskz_loadu_ps(m, gates + j));
        __m512 f = recurrent_sigmoid16(_mm512_maskz_loadu_ps(m, gates + H + j));
        __m512 g = recurrent_tanh16(_mm512_maskz_loadu_ps(m, gates + 2 * H + j));
        __m512 o = recurrent_sigmoid16(_mm512_maskz_loadu_ps(m, gates + 3 * H + j));
        __m512 cp = _mm512_maskz_loadu_ps(m, cPrev + j);
        __m512 cn = _mm512_add_ps(_mm512_mul_ps(f, cp), _mm512_mul_ps(i, g));
        _mm512_mask_storeu_ps(gates + j, m, i);
        _mm512_mask_storeu_ps(gates + H + j, m, f);
        _mm512_mask_storeu_ps(gates + 2 * H + j, m, g);
        _mm512_mask_storeu_ps(gates + 3 * H + j, m, o);
        _mm512_mask_storeu_ps(c + j, m, cn);
        _mm512_mask_storeu_ps(h + j, m, _mm512_mul_ps(recurrent_tanh16(cn), o));
    }
}

/// One batch row of the LSTM backward step (no peepholes). Reads the activations `gates` (i, f, g, o),
/// c_t, c_{t−1} and dh (the gradient of h_t); `dc` holds the gradient of c_t on entry and of c_{t−1}
/// on return; writes the pre-activation gradients `dGates` (4H).
RSG_TARGET void rk_avx512_lstm_backward_row(long H, const float *gates, const float *c, const float *cPrev,
                                                          const float *dh, float *dc, float *dGates) {
    __m512 one = _mm512_set1_ps(1.0f);
    for (long j = 0; j < H; j += 16) {
        __mmask16 m = RG_MASK(H, j);
        __m512 i = _mm512_maskz_loadu_ps(m, gates + j);
        __m512 f = _mm512_maskz_loadu_ps(m, gates + H + j);
        __m512 g = _mm512_maskz_loadu_ps(m, gates + 2 * H + j);
        __m512 o = _mm512_maskz_loadu_ps(m, gates + 3 * H + j);
        __m512 tc = recurrent_tanh16(_mm512_maskz_loadu_ps(m, c + j));
        __m512 dhj = _mm512_maskz_loadu_ps(m, dh + j);
        __m512 cp = _mm512_maskz_loadu_ps(m, cPrev + j);
        __m512 dO = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dhj, tc), o), _mm512_sub_ps(one, o));
        __m512 dcj = _mm512_add_ps(_mm512_maskz_loadu_ps(m, dc + j),
                                   _mm512_mul_ps(_mm512_mul_ps(dhj, o), _mm512_sub_ps(one, _mm512_mul_ps(tc, tc))));
        __m512 di = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dcj, g), i), _mm512_sub_ps(one, i));
        __m512 df = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dcj, cp), f), _mm512_sub_ps(one, f));
        __m512 dg = _mm512_mul_ps(_mm512_mul_ps(dcj, i), _mm512_sub_ps(one, _mm512_mul_ps(g, g)));
        _mm512_mask_storeu_ps(dGates + j, m, di);
        _mm512_mask_storeu_ps(dGates + H + j, m, df);
        _mm512_mask_storeu_ps(dGates + 2 * H + j, m, dg);
        _mm512_mask_storeu_ps(dGates + 3 * H + j, m, dO);
        _mm512_mask_storeu_ps(dc + j, m, _mm512_mul_ps(dcj, f));
    }
}

#endif
