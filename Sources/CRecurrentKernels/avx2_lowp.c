// Reduced-precision batch-1 products of the avx2 family (bf16 and int8 weights, Float32 accumulation).
#include "kernels_internal.h"

#if defined(__x86_64__)

void rk_avx2_gemv_packed_bf16(long n, long k, const uint16_t *packed, const float *x, float beta, float *y) {
    rk_reference_gemv_packed_bf16(n, k, packed, x, beta, y);
}

void rk_avx2_gemv_packed_int8(long n, long k, const int8_t *packed, const float *scales, const float *x,
                              float beta, float *y) {
    rk_reference_gemv_packed_int8(n, k, packed, scales, x, beta, y);
}

#endif
