/* The LSTM and GRU layers' loops over time, float32 with AVX2 and FMA: one call runs the
 * whole sequence, forward or backward (ops/recurrent.py's LSTMLayer and GRULayer, whose
 * docstring has the formulas and the internal gate orders -- LSTM o, i, f, g; GRU r, z, n
 * -- with the sigmoid gates' weights halved: sig(z) = (1 + tanh(z / 2)) / 2).
 *
 * Why: in NumPy each time step is a small product (h W_hh^T, ~1M multiply-adds at batch
 * 64, hidden 64) and ten elementwise calls on 4,096-value arrays; at 28 steps the calls'
 * fixed costs were most of the layer's time. Here the step's product is OpenBLAS's sgemm
 * (its address comes from Python, found in the library NumPy loaded), called in row
 * blocks small enough to stay on this thread, and the gate arithmetic is one vectorised
 * pass per step. The same float operations as the NumPy loop except tanh, computed here
 * as -expm1(-2|x|) / (2 + expm1(-2|x|)) with the sign put back (expm1 by its Taylor
 * series below |v| = 0.5, else exp - 1, exp_ps from native_gelu.h): within a few ulp of
 * NumPy's. */
#if defined(__x86_64__) && defined(__GNUC__)

/* cblas_sgemm with 64-bit or 32-bit integers (ILP64 or LP64 builds of OpenBLAS) */
typedef void (*sgemm64_t)(int, int, int, i64, i64, i64, float, const float *, i64,
                          const float *, i64, float, float *, i64);
typedef void (*sgemm32_t)(int, int, int, int, int, int, float, const float *, int,
                          const float *, int, float, float *, int);
enum { ROW_MAJOR = 101, NO_TRANS = 111 };

/* C (m, n) = A (m, k) @ B (k, n), all row-major and contiguous, in blocks of `rows` rows */
static void sgemm_rows(const void *fn, int ilp64, i64 m, i64 n, i64 k, const float *A,
                       const float *B, float *C, i64 rows)
{
    for (i64 r0 = 0; r0 < m; r0 += rows) {
        const i64 mr = m - r0 < rows ? m - r0 : rows;
        if (ilp64)
            ((sgemm64_t)fn)(ROW_MAJOR, NO_TRANS, NO_TRANS, mr, n, k, 1.f, A + r0 * k, k, B, n,
                            0.f, C + r0 * n, n);
        else
            ((sgemm32_t)fn)(ROW_MAJOR, NO_TRANS, NO_TRANS, (int)mr, (int)n, (int)k, 1.f,
                            A + r0 * k, (int)k, B, (int)n, 0.f, C + r0 * n, (int)n);
    }
}

static inline __attribute__((target("avx2,fma"), always_inline)) __m256 tanh_ps(__m256 x)
{
    const __m256 sign = _mm256_set1_ps(-0.f);
    const __m256 v = _mm256_mul_ps(_mm256_or_ps(x, sign), _mm256_set1_ps(2.f));  /* -2|x| */
    __m256 p = _mm256_set1_ps(1.f / 40320);                  /* expm1: v + v^2/2 + ... v^8/8! */
    static const float inv[7] = {1.f / 5040, 1.f / 720, 1.f / 120, 1.f / 24, 1.f / 6, 0.5f, 1.f};
    for (int i = 0; i < 7; i++)
        p = _mm256_fmadd_ps(p, v, _mm256_set1_ps(inv[i]));
    const __m256 small = _mm256_mul_ps(p, v);
    const __m256 large = _mm256_sub_ps(exp_ps(v), _mm256_set1_ps(1.f));
    const __m256 m = _mm256_blendv_ps(large, small,
                                      _mm256_cmp_ps(v, _mm256_set1_ps(-0.5f), _CMP_GT_OQ));
    const __m256 t = _mm256_div_ps(_mm256_xor_ps(m, sign),
                                   _mm256_add_ps(_mm256_set1_ps(2.f), m));   /* tanh|x| */
    const __m256 signed_t = _mm256_or_ps(t, _mm256_and_ps(x, sign));
    return _mm256_blendv_ps(signed_t, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));   /* NaN */
}

/* One step's gates for n values (the rows of a (B, 4, H) block are walked by the caller):
 * z[k] + r[k] are the pre-activations of gate k; activations go back into z, and
 * c = f c_prev + i g, tc = tanh(c), h = o tc. */
static inline __attribute__((target("avx2,fma"), always_inline)) void
lstm_gates8(float *z0, float *z1, float *z2, float *z3, const float *r0, const float *r1,
            const float *r2, const float *r3, const float *c_prev, float *c, float *tc,
            float *h)
{
    const __m256 half = _mm256_set1_ps(0.5f);
    const __m256 o = _mm256_fmadd_ps(tanh_ps(_mm256_add_ps(_mm256_loadu_ps(z0),
                                                           _mm256_loadu_ps(r0))), half, half);
    const __m256 i = _mm256_fmadd_ps(tanh_ps(_mm256_add_ps(_mm256_loadu_ps(z1),
                                                           _mm256_loadu_ps(r1))), half, half);
    const __m256 f = _mm256_fmadd_ps(tanh_ps(_mm256_add_ps(_mm256_loadu_ps(z2),
                                                           _mm256_loadu_ps(r2))), half, half);
    const __m256 g = tanh_ps(_mm256_add_ps(_mm256_loadu_ps(z3), _mm256_loadu_ps(r3)));
    const __m256 cv = _mm256_add_ps(_mm256_mul_ps(f, _mm256_loadu_ps(c_prev)),
                                    _mm256_mul_ps(i, g));
    const __m256 t = tanh_ps(cv);
    _mm256_storeu_ps(z0, o);
    _mm256_storeu_ps(z1, i);
    _mm256_storeu_ps(z2, f);
    _mm256_storeu_ps(z3, g);
    _mm256_storeu_ps(c, cv);
    _mm256_storeu_ps(tc, t);
    _mm256_storeu_ps(h, _mm256_mul_ps(o, t));
}

/* The forward walk. a (T, B, 4, H): the input path's pre-activations (bias included,
 * sigmoid gates halved), overwritten with the activations; hs (T+2, B, H) and cs (T+1,
 * B, H) hold h_0 / c_0 at row T*r and get h_t / c_t; tc (T, B, H) gets tanh(c_t); wh_t
 * (H, 4H) is W_hh^T, halved like a; tmp (B, 4H) scratch. r = 1 walks t = T-1 .. 0. */
__attribute__((target("avx2,fma")))
void lstm_forward_f32(const void *sgemm, int ilp64, i64 rows, float *a, float *hs, float *cs,
                      float *tc, const float *wh_t, float *tmp, i64 T, i64 B, i64 H, i64 r)
{
    const i64 BH = B * H, G = 4 * H;
    for (i64 s = 0; s < T; s++) {
        const i64 t = r ? T - 1 - s : s;
        const float *h_prev = hs + (t + r) * BH, *c_prev = cs + (t + r) * BH;
        float *h = hs + (t + 1 - r) * BH, *c = cs + (t + 1 - r) * BH, *tct = tc + t * BH;
        sgemm_rows(sgemm, ilp64, B, G, H, h_prev, wh_t, tmp, rows);
        for (i64 b = 0; b < B; b++) {
            float *z = a + (t * B + b) * G;
            const float *rec = tmp + b * G;
            const i64 o = b * H;
            i64 j = 0;
            for (; j + 8 <= H; j += 8)
                lstm_gates8(z + j, z + H + j, z + 2 * H + j, z + 3 * H + j, rec + j,
                            rec + H + j, rec + 2 * H + j, rec + 3 * H + j, c_prev + o + j,
                            c + o + j, tct + o + j, h + o + j);
            if (j < H) {                       /* the last few through 8-wide buffers */
                float zb[4][8] = {{0}}, rb[4][8] = {{0}}, cp[8] = {0}, cb[8], tb[8], hb[8];
                const i64 n = H - j;
                for (int k = 0; k < 4; k++) {
                    memcpy(zb[k], z + k * H + j, n * sizeof(float));
                    memcpy(rb[k], rec + k * H + j, n * sizeof(float));
                }
                memcpy(cp, c_prev + o + j, n * sizeof(float));
                lstm_gates8(zb[0], zb[1], zb[2], zb[3], rb[0], rb[1], rb[2], rb[3], cp, cb, tb,
                            hb);
                for (int k = 0; k < 4; k++)
                    memcpy(z + k * H + j, zb[k], n * sizeof(float));
                memcpy(c + o + j, cb, n * sizeof(float));
                memcpy(tct + o + j, tb, n * sizeof(float));
                memcpy(h + o + j, hb, n * sizeof(float));
            }
        }
    }
}

/* The backward walk (BPTT). dz (T, B, 4, H) comes holding each gate's factor (see
 * LSTMLayer._bptt: for o the one multiplied by dL/dh, for i, f, g the ones multiplied by
 * dL/dc) and leaves holding dL/dz; q (T, B, H) = o (1 - tanh(c)^2); f (T, B, 4, H): the
 * activations (the f gate is block 2); g (T+2, B, H): dL/d(packed output), row t+1-r for
 * h_t; dc (B, H) comes as dL/dc_n and leaves as dL/dc_0; dh_rec (B, H) leaves as dL/dh_0;
 * wh (4H, H) is W_hh (not halved: dz is the gradient of the true pre-activations);
 * norms (T) or NULL gets ||dL/dh_t||. */
__attribute__((target("avx2,fma")))
void lstm_backward_f32(const void *sgemm, int ilp64, i64 rows, float *dz, const float *q,
                       const float *act, const float *g, float *dc, float *dh_rec,
                       const float *wh, float *norms, i64 T, i64 B, i64 H, i64 r)
{
    const i64 BH = B * H, G = 4 * H;
    memset(dh_rec, 0, BH * sizeof(float));
    for (i64 s = 0; s < T; s++) {
        const i64 t = r ? s : T - 1 - s;
        const float *gt = g + (t + 1 - r) * BH, *qt = q + t * BH;
        double norm = 0;
        for (i64 b = 0; b < B; b++) {
            float *d = dz + (t * B + b) * G;
            const float *f = act + (t * B + b) * G + 2 * H;
            for (i64 j = 0; j < H; j++) {
                const i64 k = b * H + j;
                const float dhv = gt[k] + dh_rec[k];       /* dL/dh_t */
                norm += (double)dhv * dhv;
                d[j] *= dhv;                                /* dz_o */
                const float dcv = dc[k] + dhv * qt[k];      /* dL/dc_t */
                d[H + j] *= dcv;
                d[2 * H + j] *= dcv;
                d[3 * H + j] *= dcv;
                dc[k] = dcv * f[j];                         /* dL/dc_{t-1} */
            }
        }
        if (norms)
            norms[t] = (float)sqrt(norm);
        sgemm_rows(sgemm, ilp64, B, H, G, dz + t * B * G, wh, dh_rec, rows);
    }
}

/* One GRU step's gates for 8 values: r, z = sig(x_rz + rec_rz) into z0, z1; hn = rec_n +
 * b_hn; n = tanh(x_n + r hn) into z2; h = n + z (h_prev - n). */
static inline __attribute__((target("avx2,fma"), always_inline)) void
gru_gates8(float *z0, float *z1, float *z2, const float *r0, const float *r1,
           const float *r2, const float *b_hn, const float *h_prev, float *hn, float *h)
{
    const __m256 half = _mm256_set1_ps(0.5f);
    const __m256 rg = _mm256_fmadd_ps(tanh_ps(_mm256_add_ps(_mm256_loadu_ps(z0),
                                                            _mm256_loadu_ps(r0))), half, half);
    const __m256 zg = _mm256_fmadd_ps(tanh_ps(_mm256_add_ps(_mm256_loadu_ps(z1),
                                                            _mm256_loadu_ps(r1))), half, half);
    const __m256 hv = _mm256_add_ps(_mm256_loadu_ps(r2), _mm256_loadu_ps(b_hn));
    const __m256 n = tanh_ps(_mm256_add_ps(_mm256_loadu_ps(z2), _mm256_mul_ps(rg, hv)));
    const __m256 hp = _mm256_loadu_ps(h_prev);
    _mm256_storeu_ps(z0, rg);
    _mm256_storeu_ps(z1, zg);
    _mm256_storeu_ps(z2, n);
    _mm256_storeu_ps(hn, hv);
    _mm256_storeu_ps(h, _mm256_add_ps(n, _mm256_mul_ps(zg, _mm256_sub_ps(hp, n))));
}

/* GRU's forward walk: a (T, B, 3, H) in the order r, z, n (r and z halved), overwritten
 * with r, z, n; hs (T+1, B, H) with h_0 at row T*r; hn (T, B, H) gets W_hn h_{t-1} + b_hn;
 * wh_t (H, 3H); b_hn (H); tmp (B, 3H) scratch. */
__attribute__((target("avx2,fma")))
void gru_forward_f32(const void *sgemm, int ilp64, i64 rows, float *a, float *hs, float *hn,
                     const float *wh_t, const float *b_hn, float *tmp, i64 T, i64 B, i64 H,
                     i64 r)
{
    const i64 BH = B * H, G = 3 * H;
    for (i64 s = 0; s < T; s++) {
        const i64 t = r ? T - 1 - s : s;
        const float *h_prev = hs + (t + r) * BH;
        float *h = hs + (t + 1 - r) * BH, *hnt = hn + t * BH;
        sgemm_rows(sgemm, ilp64, B, G, H, h_prev, wh_t, tmp, rows);
        for (i64 b = 0; b < B; b++) {
            float *z = a + (t * B + b) * G;
            const float *rec = tmp + b * G;
            const i64 o = b * H;
            i64 j = 0;
            for (; j + 8 <= H; j += 8)
                gru_gates8(z + j, z + H + j, z + 2 * H + j, rec + j, rec + H + j,
                           rec + 2 * H + j, b_hn + j, h_prev + o + j, hnt + o + j, h + o + j);
            if (j < H) {
                float zb[3][8] = {{0}}, rb[3][8] = {{0}}, bb[8] = {0}, hp[8] = {0}, nb[8], hb[8];
                const i64 n = H - j;
                for (int k = 0; k < 3; k++) {
                    memcpy(zb[k], z + k * H + j, n * sizeof(float));
                    memcpy(rb[k], rec + k * H + j, n * sizeof(float));
                }
                memcpy(bb, b_hn + j, n * sizeof(float));
                memcpy(hp, h_prev + o + j, n * sizeof(float));
                gru_gates8(zb[0], zb[1], zb[2], rb[0], rb[1], rb[2], bb, hp, nb, hb);
                for (int k = 0; k < 3; k++)
                    memcpy(z + k * H + j, zb[k], n * sizeof(float));
                memcpy(hnt + o + j, nb, n * sizeof(float));
                memcpy(h + o + j, hb, n * sizeof(float));
            }
        }
    }
}

/* GRU's BPTT walk (GRULayer._bptt's loop): dz (T, B, 3, H) comes with the factors for r
 * and z (block 2 is written), pn (T, B, H) = (1 - z)(1 - n^2), act: the activations r, z,
 * n; dn (T, B, H) gets dL/dz_n; g (T+1, B, H); wh (3H, H); dh (B, H) scratch; dh_rec (B,
 * H) leaves as dL/dh_0; norms (T) or NULL. */
__attribute__((target("avx2,fma")))
void gru_backward_f32(const void *sgemm, int ilp64, i64 rows, float *dz, const float *pn,
                      const float *act, float *dn, const float *g, const float *wh, float *dh,
                      float *dh_rec, float *norms, i64 T, i64 B, i64 H, i64 r)
{
    const i64 BH = B * H, G = 3 * H;
    memset(dh_rec, 0, BH * sizeof(float));
    for (i64 s = 0; s < T; s++) {
        const i64 t = r ? s : T - 1 - s;
        const float *gt = g + (t + 1 - r) * BH, *pt = pn + t * BH;
        float *dnt = dn + t * BH;
        double norm = 0;
        for (i64 b = 0; b < B; b++) {
            float *d = dz + (t * B + b) * G;
            const float *rr = act + (t * B + b) * G;
            for (i64 j = 0; j < H; j++) {
                const i64 k = b * H + j;
                const float dhv = gt[k] + dh_rec[k];      /* dL/dh_t */
                norm += (double)dhv * dhv;
                dh[k] = dhv;
                const float dnv = dhv * pt[k];            /* dL/dz_n */
                dnt[k] = dnv;
                d[H + j] *= dhv;                           /* dz_z */
                d[j] *= dnv;                               /* dz_r */
                d[2 * H + j] = dnv * rr[j];                /* dL/d(W_hn h + b_hn) */
            }
        }
        if (norms)
            norms[t] = (float)sqrt(norm);
        sgemm_rows(sgemm, ilp64, B, H, G, dz + t * B * G, wh, dh_rec, rows);
        for (i64 b = 0; b < B; b++) {
            const float *zz = act + (t * B + b) * G + H;
            for (i64 j = 0; j < H; j++)
                dh_rec[b * H + j] += dh[b * H + j] * zz[j];   /* and directly, times z */
        }
    }
}

#else   /* not x86-64 with GCC or Clang: recurrent.py keeps its NumPy loops */

void lstm_forward_f32(void) {}

void lstm_backward_f32(void) {}

void gru_forward_f32(void) {}

void gru_backward_f32(void) {}

#endif
