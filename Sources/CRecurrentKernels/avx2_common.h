// Helpers shared by the AVX2 family's files (avx2.c, avx2_lowp.c): masks, loads and stores of the first
// `left` lanes, and the horizontal sum. Include only inside `#if defined(__x86_64__)`.
#ifndef RECURRENT_AVX2_COMMON_H
#define RECURRENT_AVX2_COMMON_H

#include <immintrin.h>

#define R2_TARGET __attribute__((target("avx2,fma")))

/// Lanes j < count of 8 set (count clamped to 0...8), as a mask for maskload.
static inline __attribute__((always_inline)) R2_TARGET __m256i r2_mask(long count) {
    if (count >= 8) return _mm256_set1_epi32(-1);
    if (count <= 0) return _mm256_setzero_si256();
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// The first `left` floats at p (all 8 when left ≥ 8), zeros past them.
static inline __attribute__((always_inline)) R2_TARGET __m256 r2_load(const float *p, long left) {
    return left >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, r2_mask(left));
}

/// Stores the first `left` lanes of v at p (all 8 when left ≥ 8). A partial store goes through a
/// buffer: vmaskmovps stores are microcoded and slow on AMD's cores.
static inline __attribute__((always_inline)) R2_TARGET void r2_store(float *p, __m256 v, long left) {
    if (left >= 8) { _mm256_storeu_ps(p, v); return; }
    float lanes[8];
    _mm256_storeu_ps(lanes, v);
    for (long i = 0; i < left; i++) p[i] = lanes[i];
}

/// The sum of the 8 lanes.
static inline __attribute__((always_inline)) R2_TARGET float r2_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#endif
