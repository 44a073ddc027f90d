// Declarations shared by the family files and the dispatcher (not part of the public interface).
#ifndef RECURRENT_KERNELS_INTERNAL_H
#define RECURRENT_KERNELS_INTERNAL_H

#include "include/recurrent_kernels.h"

// Every SIMD family F defines these (in F.c, and the reduced-precision products in F_lowp.c).
#define RK_FAMILY_DECLARATIONS(F) \
    void rk_##F##_sgemm(int transA, long m, long n, long k, const float *a, long lda, const float *packedB, \
                        float beta, float *c, long ldc); \
    void rk_##F##_gemv_packed(long n, long k, const float *packed, const float *x, float beta, float *y); \
    void rk_##F##_gemv_rows(long n, long k, const float *w, long ldw, const float *x, float beta, float *y); \
    void rk_##F##_gemv_columns(long n, long k, const float *w, long ldw, const float *x, float beta, float *y); \
    void rk_##F##_activation(int kind, const float *source, float *destination, long count); \
    void rk_##F##_lstm_forward_row(long H, float *gates, const float *cPrev, float *c, float *h); \
    void rk_##F##_lstm_backward_row(long H, const float *gates, const float *c, const float *cPrev, \
                                    const float *dh, float *dc, float *dGates); \
    float rk_##F##_read_sum(const float *p, long n, long passes); \
    void rk_##F##_gemv_packed_bf16(long n, long k, const uint16_t *packed, const float *x, float beta, float *y); \
    void rk_##F##_gemv_packed_int8(long n, long k, const int8_t *packed, const float *scales, const float *x, \
                                   float beta, float *y);

#if defined(__x86_64__)
RK_FAMILY_DECLARATIONS(avx2)
RK_FAMILY_DECLARATIONS(avx512)
#endif
#if defined(__aarch64__)
RK_FAMILY_DECLARATIONS(neon)
#endif

// The portable family: batch-1 products and the bandwidth probe only.
void rk_reference_gemv_packed(long n, long k, const float *packed, const float *x, float beta, float *y);
void rk_reference_gemv_packed_bf16(long n, long k, const uint16_t *packed, const float *x, float beta, float *y);
void rk_reference_gemv_packed_int8(long n, long k, const int8_t *packed, const float *scales, const float *x,
                                   float beta, float *y);
float rk_reference_read_sum(const float *p, long n, long passes);

/// The panel height used for `m` rows with at most `maxRows` rows per register tile: panels as equal
/// as possible.
static inline long rk_panel_height(long m, long maxRows) {
    long panels = (m + maxRows - 1) / maxRows;
    if (panels < 1) panels = 1;
    return (m + panels - 1) / panels;
}

/// The row tiles of one block of `rows` rows: tile t covers the block's rows start(t) ..< start(t + 1)
/// (rk_tile_start), at most `height` of them. The first `big` tiles have `height` rows and the later
/// ones height − 1; with `big` ≥ the tile count every tile has `height` rows but the last, which the
/// block's end cuts. A packed A keeps `height` floats per k step in every tile.
typedef struct { long rows, height, big; } rk_row_tiles;

/// Tiles of at most `maxRows` rows for a block of `rows` rows, as equal as possible (no small last tile:
/// a 2-row tile has too few accumulators to hide the FMA latency).
static inline rk_row_tiles rk_balanced_tiles(long rows, long maxRows) {
    long count = (rows + maxRows - 1) / maxRows;
    if (count < 1) count = 1;
    long height = (rows + count - 1) / count;
    rk_row_tiles t = { rows, height, rows - count * (height - 1) };
    return t;
}

/// Tiles of `height` rows, the last cut by the block's end.
static inline rk_row_tiles rk_uniform_tiles(long rows, long height) {
    rk_row_tiles t = { rows, height, rows };
    return t;
}

/// The first row of tile `t` within its block (the block's row count once t is past the last tile).
static inline long rk_tile_start(rk_row_tiles tiles, long t) {
    long start = t * tiles.height - (t > tiles.big ? t - tiles.big : 0);
    return start < tiles.rows ? start : tiles.rows;
}

/// Copies the rows ib ..< ib + tiles.rows of a transposed A (stored k × m, row stride lda), k steps
/// k0 ..< k0 + kc, into `packed` tile by tile: tile t holds kc steps of tiles.height floats (its rows
/// first), at t · kc · tiles.height. Read in place, the k steps of a tile are lda floats apart — a new
/// cache line and often a new page per step; packed, a tile is one stream reused across all the column
/// panels (portable.c).
void rk_pack_a_transposed(const float *a, long lda, long ib, rk_row_tiles tiles, long k0, long kc, float *packed);

/// The same layout from an A stored as rows (m × k, row stride lda): tile t holds, for each k step, the
/// values of its rows — one stream for the register tile instead of one stream per row.
void rk_pack_a_rows(const float *a, long lda, long ib, rk_row_tiles tiles, long k0, long kc, float *packed);

/// bfloat16 bits → float (exact).
static inline float rk_bf16_to_float(uint16_t v) {
    union { uint32_t u; float f; } x;
    x.u = (uint32_t)v << 16;
    return x.f;
}

#endif
