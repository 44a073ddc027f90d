// The family switch: each public function calls the implementation of the family it is given.
// A family that cannot run here (another architecture, or a kernel it does not have) aborts with a
// message: the Swift side only passes families that `rk_family_supported` accepted.
#include "kernels_internal.h"
#include <stdio.h>
#include <stdlib.h>

int rk_family_supported(int family) {
    switch (family) {
    case RK_REFERENCE: return 1;
#if defined(__x86_64__)
    case RK_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case RK_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")
            && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("fma");
#endif
#if defined(__aarch64__)
    case RK_NEON: return 1;  // Advanced SIMD is part of every arm64 CPU
#endif
    default: return 0;
    }
}

int rk_best_family(void) {
    if (rk_family_supported(RK_AVX512)) return RK_AVX512;
    if (rk_family_supported(RK_AVX2)) return RK_AVX2;
    if (rk_family_supported(RK_NEON)) return RK_NEON;
    return RK_REFERENCE;
}

static void rk_unavailable(const char *kernel, int family) {
    fprintf(stderr, "recurrent kernels: %s has no implementation for family %d on this machine\n", kernel, family);
    abort();
}

#if defined(__x86_64__)
#define RK_X86_CASES(call) case RK_AVX2: rk_avx2_##call; return; case RK_AVX512: rk_avx512_##call; return;
#define RK_X86_RETURN_CASES(call) case RK_AVX2: return rk_avx2_##call; case RK_AVX512: return rk_avx512_##call;
#else
#define RK_X86_CASES(call)
#define RK_X86_RETURN_CASES(call)
#endif
#if defined(__aarch64__)
#define RK_ARM_CASES(call) case RK_NEON: rk_neon_##call; return;
#define RK_ARM_RETURN_CASES(call) case RK_NEON: return rk_neon_##call;
#else
#define RK_ARM_CASES(call)
#define RK_ARM_RETURN_CASES(call)
#endif
/// A switch over the SIMD families; `reference` is the statement for RK_REFERENCE.
#define RK_DISPATCH(name, call, reference) \
    switch (family) { RK_X86_CASES(call) RK_ARM_CASES(call) \
    case RK_REFERENCE: reference; return; default: rk_unavailable(name, family); }

void rk_sgemm(int family, int transA, long m, long n, long k, const float *a, long lda, const float *packedB,
              float beta, float *c, long ldc) {
    RK_DISPATCH("sgemm", sgemm(transA, m, n, k, a, lda, packedB, beta, c, ldc), rk_unavailable("sgemm", family))
}

void rk_gemv_packed(int family, long n, long k, const float *packed, const float *x, float beta, float *y) {
    RK_DISPATCH("gemv_packed", gemv_packed(n, k, packed, x, beta, y), rk_reference_gemv_packed(n, k, packed, x, beta, y))
}

void rk_gemv_rows(int family, long n, long k, const float *w, long ldw, const float *x, float beta, float *y) {
    RK_DISPATCH("gemv_rows", gemv_rows(n, k, w, ldw, x, beta, y), rk_unavailable("gemv_rows", family))
}

void rk_gemv_columns(int family, long n, long k, const float *w, long ldw, const float *x, float beta, float *y) {
    RK_DISPATCH("gemv_columns", gemv_columns(n, k, w, ldw, x, beta, y), rk_unavailable("gemv_columns", family))
}

void rk_activation(int family, int kind, const float *source, float *destination, long count) {
    RK_DISPATCH("activation", activation(kind, source, destination, count), rk_unavailable("activation", family))
}

void rk_lstm_forward_row(int family, long H, float *gates, const float *cPrev, float *c, float *h) {
    RK_DISPATCH("lstm_forward_row", lstm_forward_row(H, gates, cPrev, c, h), rk_unavailable("lstm_forward_row", family))
}

void rk_lstm_backward_row(int family, long H, const float *gates, const float *c, const float *cPrev,
                          const float *dh, float *dc, float *dGates) {
    RK_DISPATCH("lstm_backward_row", lstm_backward_row(H, gates, c, cPrev, dh, dc, dGates),
                rk_unavailable("lstm_backward_row", family))
}

void rk_gemv_packed_bf16(int family, long n, long k, const uint16_t *packed, const float *x, float beta, float *y) {
    RK_DISPATCH("gemv_packed_bf16", gemv_packed_bf16(n, k, packed, x, beta, y),
                rk_reference_gemv_packed_bf16(n, k, packed, x, beta, y))
}

void rk_gemv_packed_int8(int family, long n, long k, const int8_t *packed, const float *scales, const float *x,
                         float beta, float *y) {
    RK_DISPATCH("gemv_packed_int8", gemv_packed_int8(n, k, packed, scales, x, beta, y),
                rk_reference_gemv_packed_int8(n, k, packed, scales, x, beta, y))
}

float rk_read_sum(int family, const float *p, long n, long passes) {
    switch (family) {
    RK_X86_RETURN_CASES(read_sum(p, n, passes))
    RK_ARM_RETURN_CASES(read_sum(p, n, passes))
    case RK_REFERENCE: return rk_reference_read_sum(p, n, passes);
    default: rk_unavailable("read_sum", family); return 0.0f;
    }
}
