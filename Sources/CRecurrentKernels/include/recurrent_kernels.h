// Recurrent's own compute kernels, one family per instruction set, behind one C interface.
//
// Families (the `family` argument of every dispatching function):
//   RK_REFERENCE  portable C only (packing and the batch-1 products); the layers use the system BLAS
//   RK_AVX2       x86-64 with AVX2 + FMA, 8 lanes
//   RK_AVX512     x86-64 with AVX-512 F/DQ, 16 lanes
//   RK_NEON       arm64 Advanced SIMD, 4 lanes
// Every family implements the same algorithms on the same data layouts; results differ only in the
// order of the Float additions (and the last bit of the activations). The Swift side
// (RecurrentCore/KernelFamily.swift) picks the family once at run time from the CPU, or from the
// environment variable RECURRENT_KERNELS.
//
// Packed layout of a right operand op(B) (k × n), shared by every family: ceil(n/32) panels, panel p
// holding columns 32p ..< 32p+32 for all k: element (kk, j) of panel p at p·k·32 + kk·32 + j,
// zero-padded past n. Reduced-precision copies (bf16, int8) use the same layout with 2- or 1-byte
// elements; int8 adds one Float scale per column (w ≈ scale_j · q).
#ifndef RECURRENT_KERNELS_H
#define RECURRENT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#define RK_REFERENCE 0
#define RK_AVX2 1
#define RK_AVX512 2
#define RK_NEON 3

/// Panel width of the packed layout (columns).
#define RK_PANEL 32

/// Whether `family` can run on this CPU (RK_REFERENCE always can).
int rk_family_supported(int family);
/// The fastest family this CPU supports.
int rk_best_family(void);

/// Floats (or elements) needed by a packed op(B) of (k × n).
size_t rk_packed_count(long k, long n);

/// Packs op(B) (k × n): B stored (k × n) with row stride ldb, or (n × k) when `transB`.
void rk_pack_b(int transB, long k, long n, const float *b, long ldb, float *dst);

/// C (m × n) = beta·C + op(A)·packedB (beta 0 or 1): A stored (m × k) with row stride lda, or (k × m)
/// when `transA`. Not for RK_REFERENCE (the layers call the BLAS there).
void rk_sgemm(int family, int transA, long m, long n, long k, const float *a, long lda, const float *packedB,
              float beta, float *c, long ldc);

/// y (n) = beta·y + x (k) · packedB (beta 0 or 1): a batch-1 product reading each panel as one stream.
/// Every family, RK_REFERENCE included.
void rk_gemv_packed(int family, long n, long k, const float *packed, const float *x, float beta, float *y);

/// y (n) = beta·y + W·x for W stored (n × k) with row stride ldw (beta 0 or 1). Not for RK_REFERENCE.
void rk_gemv_rows(int family, long n, long k, const float *w, long ldw, const float *x, float beta, float *y);

/// y (n) = beta·y + Wᵀ·x for W stored (k × n) with row stride ldw (beta 0 or 1). Not for RK_REFERENCE.
void rk_gemv_columns(int family, long n, long k, const float *w, long ldw, const float *x, float beta, float *y);

/// kind 0: exp, 1: sigmoid, 2: tanh, over `count` floats (source and destination may alias). Exp by
/// range reduction and a degree-6 polynomial (the constants of RecurrentLayers' fastExp), argument
/// clamped to [−87.3, 88.37]; sigmoid = 1/(1 + e^−x) (0 below the smallest normal Float), tanh = 1 − 2/(e^2x + 1). Not for RK_REFERENCE.
void rk_activation(int family, int kind, const float *source, float *destination, long count);

/// One batch row of the LSTM forward step (no peepholes): `gates` (4H, order i, f, g, o) holds the
/// pre-activations and receives the activations; writes c = f·cPrev + i·g and h = o·tanh(c).
void rk_lstm_forward_row(int family, long H, float *gates, const float *cPrev, float *c, float *h);

/// One batch row of the LSTM backward step (no peepholes): from the activations `gates`, c_t, c_{t−1}
/// and dh, writes the pre-activation gradients `dGates` (4H); `dc` holds the gradient of c_t on entry
/// and of c_{t−1} on return.
void rk_lstm_backward_row(int family, long H, const float *gates, const float *c, const float *cPrev,
                          const float *dh, float *dc, float *dGates);

/// The sum of `n` floats (n a multiple of 64, `p` 64-byte aligned) read `passes` times: a memory
/// read-bandwidth probe.
float rk_read_sum(int family, const float *p, long n, long passes);

// Reduced-precision weights for inference (batch-1 products), Float32 accumulation.

/// Packs op(B) like rk_pack_b into bfloat16 (round to nearest even).
void rk_pack_b_bf16(int transB, long k, long n, const float *b, long ldb, uint16_t *dst);
/// Packs op(B) like rk_pack_b into int8 with one scale per column j: scale_j = max_kk |B(kk, j)| / 127,
/// q = round(B / scale_j). `scales` holds ceil(n/32)·32 floats (zero past n).
void rk_pack_b_int8(int transB, long k, long n, const float *b, long ldb, int8_t *dst, float *scales);
/// y (n) = beta·y + x (k) · packed bf16 op(B) (beta 0 or 1). Every family.
void rk_gemv_packed_bf16(int family, long n, long k, const uint16_t *packed, const float *x, float beta, float *y);
/// y (n) = beta·y + scale ⊙ (x (k) · packed int8 op(B)) (beta 0 or 1). Every family.
void rk_gemv_packed_int8(int family, long n, long k, const int8_t *packed, const float *scales, const float *x,
                         float beta, float *y);

// Persistent worker threads for short parallel jobs (worker.c).

/// One part of a parallel job: `part` in 0 ..< parts.
typedef void (*rk_task)(void *context, long part);
/// Runs task(context, p) for p in 0 ..< parts: part 0 on the calling thread, the others on persistent
/// workers (created on first use, spinning briefly between jobs), and returns 1 when all are done.
/// Returns 0 at once, having run nothing, when the pool cannot take the job: another job is running
/// (from another thread, or a nested call), or parts exceeds 16 — the caller then uses another way.
int rk_parallel(long parts, rk_task task, void *context);

#endif
