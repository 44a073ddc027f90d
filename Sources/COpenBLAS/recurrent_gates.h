// AVX-512 versions of the fused recurrent kernels' elementwise work: exp, sigmoid and tanh over
// spans, and one batch row of the LSTM gate update (forward) and gate derivative (backward).
//
// Same algorithm and constants as the portable Swift versions (SequenceKernels+Activation.swift):
// exp by range reduction x = k·ln2 + r, a degree-6 polynomial for e^r (Cephes' expf coefficients)
// and 2^k built in the exponent bits, the argument clamped to [−87.3, 88.7];
// sigmoid(x) = 1 / (1 + e^−x), tanh(x) = 1 − 2 / (e^2x + 1). Sixteen lanes per instruction and fused
// multiply-adds, so results may differ from the Swift path in the last bit; the error bound against
// libm is tested the same way for both.
//
// Like recurrent_sgemm.h: `static inline` with a per-function target attribute; call only when
// `recurrent_sgemm_available()` is true.
#ifndef RECURRENT_GATES_H
#define RECURRENT_GATES_H

#include "recurrent_sgemm.h"

#if RSG_X86

static inline __attribute__((always_inline)) RSG_TARGET __m512 recurrent_exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.7f));
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
    return _mm512_div_ps(one, _mm512_add_ps(one, recurrent_exp16(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

static inline __attribute__((always_inline)) RSG_TARGET __m512 recurrent_tanh16(__m512 x) {
    __m512 one = _mm512_set1_ps(1.0f);
    __m512 e = recurrent_exp16(_mm512_add_ps(x, x));
    return _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one)));
}

#define RG_MASK(n, j) ((n) - (j) >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << ((n) - (j))) - 1))

/// kind 0: exp, 1: sigmoid, 2: tanh, over `count` floats (source and destination may alias).
static inline RSG_TARGET void recurrent_activation(int kind, const float *source, float *destination, long count) {
    for (long j = 0; j < count; j += 16) {
        __mmask16 m = RG_MASK(count, j);
        __m512 x = _mm512_maskz_loadu_ps(m, source + j);
        __m512 y = kind == 0 ? recurrent_exp16(x) : kind == 1 ? recurrent_sigmoid16(x) : recurrent_tanh16(x);
        _mm512_mask_storeu_ps(destination + j, m, y);
    }
}

/// One batch row of the LSTM forward step (no peepholes): `gates` (4H, order i, f, g, o) holds the
/// pre-activations and receives the activations; writes c_t = f·c_{t−1} + i·g and h_t = o·tanh(c_t).
static inline RSG_TARGET void recurrent_lstm_forward_row(long H, float *gates, const float *cPrev, float *c, float *h) {
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
static inline RSG_TARGET void recurrent_lstm_backward_row(long H, const float *gates, const float *c, const float *cPrev,
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

#else

static inline void recurrent_activation(int kind, const float *source, float *destination, long count) {}
static inline void recurrent_lstm_forward_row(long H, float *gates, const float *cPrev, float *c, float *h) {}
static inline void recurrent_lstm_backward_row(long H, const float *gates, const float *c, const float *cPrev,
                                               const float *dh, float *dc, float *dGates) {}

#endif
#endif
