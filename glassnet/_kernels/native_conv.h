/* Direct convolution for float32 with AVX2 and FMA: stride 1, dilation 1, one group.
 *
 * Why: im2col + GEMM copies every input value kh*kw times into a patch matrix (20 MB
 * for the MNIST CNN's 16->32 layer) and then reads it back; the GEMM is on a skinny
 * (32-row) matrix. Here the products are formed straight from the padded input,
 * 16 output columns x 6 output channels at a time in twelve 8-lane registers, so the
 * only memory traffic is the input, the weights (a few KB, in L1) and the output.
 * Measured on one core: 87 GFLOP/s on the 16->32 layer, 66 on the 1->16 layer.
 *
 * Compiled for AVX2+FMA through the target attribute whatever the build flags are;
 * native.py calls these only when glassnet_direct_conv() says the CPU has both.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define OB 6    /* output channels per register block */
#define TB 3    /* taps per register block of the weight gradient */

int glassnet_direct_conv(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* y[o, n, i, j] = b[o] + sum_{c,p,q} w[o, c, p, q] * xp[c, n, i + p, j + q]
 *
 * xp (C, N, Hp, Wp) C-contiguous, already padded, followed by at least 16 readable
 * floats (the last block of columns reads past its row; those lanes are dropped).
 * wp: the weight packed as (ceil(O/6), C, kh, kw, 6), zero beyond O. b may be NULL.
 * y (O, N, Ho, Wo) C-contiguous; images [n0, n1) are written.
 *
 * A row of output goes in blocks of 16 columns x 6 channels, twelve accumulators with
 * each x vector used 6 times; its last 8 or fewer columns in a block of 8 x 6, so that
 * an 8- or 24-wide row computes no lanes it drops; rows of 8 or fewer go two at a time
 * (2 rows x 8 columns x 6 channels), so that short rows also keep twelve accumulators
 * busy (32->64 channels on 8x8 images, batch 32: 0.34 ms against 0.44 one row at a
 * time). The blocks are written out in
 * this one function (FOR_EACH_TAP is their shared loop): as separate functions GCC
 * stored every accumulator back to the stack after each multiply-add, at half the
 * speed. */

/* BODY for every tap (c, p, q) of the block at (n, i, j0): xq points at its first
 * input value, wq at its 6 packed weights. */
#define FOR_EACH_TAP(BODY)                                                        \
    for (i64 c = 0; c < C; c++) {                                                 \
        const float *xc = xp + ((c * N + n) * Hp + i) * Wp + j0;                  \
        const float *wc = wb + c * taps * OB;                                     \
        for (i64 p = 0; p < kh; p++)                                              \
            for (i64 q = 0; q < kw; q++) {                                        \
                const float *xq = xc + p * Wp + q, *wq = wc + (p * kw + q) * OB;  \
                BODY                                                              \
            }                                                                     \
    }

/* The 6 x 2 block: two 8-lane x vectors SECOND floats apart (8: 16 columns of a row;
 * Wp: 8 columns of two rows), each times 6 channels' weights, into rows[o][0..15]. */
#define TWO_VECTORS(SECOND)                                                       \
    {                                                                             \
        __m256 a[OB][2];                                                          \
        for (int o = 0; o < OB; o++)                                              \
            a[o][0] = a[o][1] = _mm256_set1_ps(b && o < no ? b[o0 + o] : 0.f);    \
        FOR_EACH_TAP({                                                            \
            const __m256 x0 = _mm256_loadu_ps(xq);                                \
            const __m256 x1 = _mm256_loadu_ps(xq + (SECOND));                     \
            for (int o = 0; o < OB; o++) {                                        \
                const __m256 w = _mm256_broadcast_ss(wq + o);                     \
                a[o][0] = _mm256_fmadd_ps(w, x0, a[o][0]);                        \
                a[o][1] = _mm256_fmadd_ps(w, x1, a[o][1]);                        \
            }                                                                     \
        })                                                                        \
        for (int o = 0; o < OB; o++) {                                            \
            _mm256_storeu_ps(rows[o], a[o][0]);                                   \
            _mm256_storeu_ps(rows[o] + 8, a[o][1]);                               \
        }                                                                         \
    }

__attribute__((target("avx2,fma")))
void conv_direct_f32(const float *xp, i64 C, i64 N, i64 Hp, i64 Wp, const float *wp,
                     const float *b, i64 O, i64 kh, i64 kw, i64 Ho, i64 Wo, float *y,
                     i64 n0, i64 n1)
{
    const i64 blocks = (O + OB - 1) / OB, taps = kh * kw;
    for (i64 n = n0; n < n1; n++)
        for (i64 ob = 0; ob < blocks; ob++) {
            const float *wb = wp + ob * C * taps * OB;
            const i64 o0 = ob * OB, no = O - o0 < OB ? O - o0 : OB;
            for (i64 i = 0; i < Ho; i++) {
                if (Wo <= 8 && i + 1 < Ho) {    /* two short rows: 2 x 8 x 6 accumulators */
                    const i64 j0 = 0;
                    float rows[OB][16];
                    TWO_VECTORS(Wp)     /* the same columns of rows i and i + 1 */
                    for (i64 o = 0; o < no; o++) {
                        float *yo = y + (((o0 + o) * N + n) * Ho + i) * Wo;
                        memcpy(yo, rows[o], Wo * sizeof(float));
                        memcpy(yo + Wo, rows[o] + 8, Wo * sizeof(float));
                    }
                    i++;
                    continue;
                }
                for (i64 j0 = 0; j0 < Wo; j0 += 16) {
                    float rows[OB][16];
                    const i64 left = Wo - j0 < 16 ? Wo - j0 : 16;
                    if (left > 8) {
                        TWO_VECTORS(8)  /* columns j0..j0+15 of row i */
                    } else {
                        __m256 a[OB];
                        for (int o = 0; o < OB; o++)
                            a[o] = _mm256_set1_ps(b && o < no ? b[o0 + o] : 0.f);
                        FOR_EACH_TAP({
                            const __m256 x0 = _mm256_loadu_ps(xq);
                            for (int o = 0; o < OB; o++)
                                a[o] = _mm256_fmadd_ps(_mm256_broadcast_ss(wq + o), x0, a[o]);
                        })
                        for (int o = 0; o < OB; o++)
                            _mm256_storeu_ps(rows[o], a[o]);
                    }
                    for (i64 o = 0; o < no; o++)
                        memcpy(y + (((o0 + o) * N + n) * Ho + i) * Wo + j0, rows[o],
                               left * sizeof(float));
                }
            }
        }
}

/* dL/dW[o, c, p, q] = sum_{n,i,j} gy[o, n, i, j] * xp[c, n, i + p, j + q]
 *
 * dL/dY comes as gw: (O, N) images S floats apart, each holding P = Ho*Wp values, its
 * rows widened to the padded width Wp with zeros (a widened copy, or dL/dY padded for
 * dL/dx when that has rows of Wp too). Then output position f = i*Wp + j reads xp at
 * f + p*Wp + q: one long contiguous run per image and tap, 8 positions per step (the
 * zero columns add nothing; the last step of an image loads gw through a mask). xp
 * (C, N, Hp, Wp) C-contiguous, followed by kw + 6 zeros that the last steps read.
 * dw (O, C*kh*kw) C-contiguous; rows [o0, o1) are written. Four output channels x
 * three taps in twelve registers; the images NCH at a time, every block over them,
 * so that what the blocks read stays in cache; each block's sum is added to dw. */
#define NCH 4

/* One step of 8 positions: four channels' dL/dY times three taps' inputs. */
static inline __attribute__((target("avx2,fma"), always_inline)) void
weight_grad_step(__m256 acc[4][TB], __m256 g0, __m256 g1, __m256 g2, __m256 g3,
                 const float *x, const i64 *off)
{
    for (int k = 0; k < TB; k++) {
        const __m256 xv = _mm256_loadu_ps(x + off[k]);
        acc[0][k] = _mm256_fmadd_ps(g0, xv, acc[0][k]);
        acc[1][k] = _mm256_fmadd_ps(g1, xv, acc[1][k]);
        acc[2][k] = _mm256_fmadd_ps(g2, xv, acc[2][k]);
        acc[3][k] = _mm256_fmadd_ps(g3, xv, acc[3][k]);
    }
}

__attribute__((target("avx2,fma")))
void conv_weight_grad_f32(const float *gw, i64 S, i64 P, const float *xp, i64 C, i64 N,
                          i64 Hp, i64 Wp, i64 kh, i64 kw, float *dw, i64 o0, i64 o1)
{
    const i64 taps = C * kh * kw, image = Hp * Wp, tail = P % 8 ? P % 8 : 8;
    const int bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    const __m256i mask = _mm256_loadu_si256((const __m256i *)(bits + 8 - tail));
    memset(dw + o0 * taps, 0, (o1 - o0) * taps * sizeof(float));
    for (i64 na = 0; na < N; na += NCH) {
        const i64 nb = N - na < NCH ? N : na + NCH;
        for (i64 oa = o0; oa < o1; oa += 4) {
            const int no = o1 - oa < 4 ? (int)(o1 - oa) : 4;
            for (i64 t0 = 0; t0 < taps; t0 += TB) {
                const int nt = taps - t0 < TB ? (int)(taps - t0) : TB;
                i64 off[TB];          /* where tap t0 + k starts in an image of xp */
                for (int k = 0; k < TB; k++) {
                    const i64 t = t0 + (k < nt ? k : 0);
                    const i64 c = t / (kh * kw), p = t / kw % kh, q = t % kw;
                    off[k] = c * N * image + p * Wp + q;
                }
                __m256 acc[4][TB];
                for (int o = 0; o < 4; o++)
                    for (int k = 0; k < TB; k++)
                        acc[o][k] = _mm256_setzero_ps();
                for (i64 n = na; n < nb; n++) {
                    const float *x = xp + n * image;
                    const float *g[4];
                    for (int o = 0; o < 4; o++)
                        g[o] = gw + ((oa + (o < no ? o : 0)) * N + n) * S;
                    i64 f = 0;
                    for (; f + 8 <= P; f += 8)
                        weight_grad_step(acc, _mm256_loadu_ps(g[0] + f),
                                         _mm256_loadu_ps(g[1] + f), _mm256_loadu_ps(g[2] + f),
                                         _mm256_loadu_ps(g[3] + f), x + f, off);
                    if (f < P)        /* the image's last positions: the rest of gw is masked */
                        weight_grad_step(acc, _mm256_maskload_ps(g[0] + f, mask),
                                         _mm256_maskload_ps(g[1] + f, mask),
                                         _mm256_maskload_ps(g[2] + f, mask),
                                         _mm256_maskload_ps(g[3] + f, mask), x + f, off);
                }
                for (int o = 0; o < no; o++)
                    for (int k = 0; k < nt; k++) {
                        float lanes[8];
                        _mm256_storeu_ps(lanes, acc[o][k]);
                        float sum = 0;
                        for (int l = 0; l < 8; l++)
                            sum += lanes[l];
                        dw[(oa + o) * taps + t0 + k] += sum;
                    }
            }
        }
    }
}

/* Max pooling 2x2, stride 2, no padding, float32, with the argmax (the max_pool of
 * native_loops.h for its commonest case). 8 windows per step: 16 values of each of the
 * two input rows, split into even and odd columns, give the 4 taps of 8 windows; each
 * later tap replaces the running max where strictly greater or NaN, as in PyTorch.
 * x (A, B, H, W) with strides (xa, xb, xh, 1), every window inside it (2*Ho <= H,
 * 2*Wo <= W: no ceil_mode windows); y and arg as in max_pool. */
__attribute__((target("avx2,fma")))
void max_pool2x2_f32(const float *x, i64 xa, i64 xb, i64 xh, i64 W, i64 Ho, i64 Wo,
                     float *y, int32_t *arg, i64 ya, i64 yb, i64 a0, i64 a1, i64 b0, i64 b1)
{
    const __m256i lanes = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    for (i64 a = a0; a < a1; a++)
        for (i64 b = b0; b < b1; b++) {
            const float *image = x + a * xa + b * xb;
            for (i64 i = 0; i < Ho; i++) {
                const float *r0 = image + 2 * i * xh, *r1 = r0 + xh;
                float *best = y + a * ya + b * yb + i * Wo;
                int32_t *at = arg + a * ya + b * yb + i * Wo;
                const int32_t top = (int32_t)(2 * i * W);
                i64 j = 0;
                for (; j + 8 <= Wo; j += 8) {
                    __m256 t[4];
                    for (int p = 0; p < 2; p++) {
                        const float *r = (p ? r1 : r0) + 2 * j;
                        const __m256 lo = _mm256_loadu_ps(r), hi = _mm256_loadu_ps(r + 8);
                        const __m256 even = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
                        const __m256 odd = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
                        t[2 * p] = _mm256_castpd_ps(_mm256_permute4x64_pd(
                            _mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0)));
                        t[2 * p + 1] = _mm256_castpd_ps(_mm256_permute4x64_pd(
                            _mm256_castps_pd(odd), _MM_SHUFFLE(3, 1, 2, 0)));
                    }
                    const __m256i first = _mm256_add_epi32(
                        lanes, _mm256_set1_epi32(top + 2 * (int32_t)j));
                    const int32_t offset[4] = {0, 1, (int32_t)W, (int32_t)W + 1};
                    __m256 m = t[0];
                    __m256i where = first;
                    for (int k = 1; k < 4; k++) {
                        const __m256 take = _mm256_or_ps(_mm256_cmp_ps(t[k], m, _CMP_GT_OQ),
                                                         _mm256_cmp_ps(t[k], t[k], _CMP_UNORD_Q));
                        m = _mm256_blendv_ps(m, t[k], take);
                        where = _mm256_castps_si256(_mm256_blendv_ps(
                            _mm256_castsi256_ps(where),
                            _mm256_castsi256_ps(_mm256_add_epi32(first,
                                                                 _mm256_set1_epi32(offset[k]))),
                            take));
                    }
                    _mm256_storeu_ps(best + j, m);
                    _mm256_storeu_si256((__m256i *)(at + j), where);
                }
                for (; j < Wo; j++) {          /* the row's last windows, one at a time */
                    const float v[4] = {r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1]};
                    const int32_t off[4] = {0, 1, (int32_t)W, (int32_t)W + 1};
                    float m = v[0];
                    int32_t where = top + 2 * (int32_t)j;
                    for (int k = 1; k < 4; k++)
                        if (v[k] > m || v[k] != v[k]) {
                            m = v[k];
                            where = top + 2 * (int32_t)j + off[k];
                        }
                    best[j] = m;
                    at[j] = where;
                }
            }
        }
}

#else   /* not x86-64 with GCC or Clang: no direct convolution, native.py uses im2col */

int glassnet_direct_conv(void) { return 0; }

void conv_direct_f32(void) {}

void conv_weight_grad_f32(void) {}

void max_pool2x2_f32(void) {}

#endif
