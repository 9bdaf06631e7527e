/* The LSTM and GRU layers' loops over time, float32 with AVX2 and FMA: one call runs the
 * whole sequence, forward or backward (ops/recurrent.py's LSTMLayer and GRULayer, whose
 * docstring has the formulas and the internal gate orders -- LSTM o, i, f, g; GRU r, z, n
 * -- with the sigmoid gates' weights halved: sig(z) = (1 + tanh(z / 2)) / 2).
 *
 * Why: in NumPy each time step is a small product (h W_hh^T, ~1M multiply-adds at batch
 * 64, hidden 64) and ten elementwise calls on 4,096-value arrays; at 28 steps the calls'
 * fixed costs were most of the layer's time. Here the step's product is OpenBLAS's sgemm
 * (its address comes from Python, found in the library NumPy loaded), run on the calling
 * thread (OpenBLAS held to one thread, or in row blocks below its threading threshold
 * where that cannot be set), and the gate arithmetic is one vectorised
 * pass per step. Every walk takes the batch rows b0..b1 of the arrays (of B rows): the rows
 * of a recurrence are independent of each other, so native.py runs a batch as two halves
 * on two threads at once, each with its own single-threaded products and no step-by-step
 * synchronisation. The same float operations as the NumPy loop except tanh, computed here
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

/* sig(2u) = 1 / (1 + exp(-2u)) for the halved pre-activations u of the sigmoid gates:
 * one exp and a division, where (1 + tanh(u)) / 2 takes the longer tanh_ps; no
 * cancellation (1 + exp >= 1), within 2-3 ulp. NaN stays NaN. */
static inline __attribute__((target("avx2,fma"), always_inline)) __m256 sigmoid2_ps(__m256 u)
{
    const __m256 e = exp_ps(_mm256_mul_ps(u, _mm256_set1_ps(-2.f)));
    const __m256 s = _mm256_div_ps(_mm256_set1_ps(1.f), _mm256_add_ps(_mm256_set1_ps(1.f), e));
    return _mm256_blendv_ps(s, u, _mm256_cmp_ps(u, u, _CMP_UNORD_Q));
}

/* One step's gates for n values (the rows of a (B, 4, H) block are walked by the caller):
 * z[k] + r[k] are the pre-activations of gate k; activations go back into z, and
 * c = f c_prev + i g, tc = tanh(c), h = o tc. */
static inline __attribute__((target("avx2,fma"), always_inline)) void
lstm_gates8(float *z0, float *z1, float *z2, float *z3, const float *r0, const float *r1,
            const float *r2, const float *r3, const float *c_prev, float *c, float *tc,
            float *h)
{
    const __m256 o = sigmoid2_ps(_mm256_add_ps(_mm256_loadu_ps(z0), _mm256_loadu_ps(r0)));
    const __m256 i = sigmoid2_ps(_mm256_add_ps(_mm256_loadu_ps(z1), _mm256_loadu_ps(r1)));
    const __m256 f = sigmoid2_ps(_mm256_add_ps(_mm256_loadu_ps(z2), _mm256_loadu_ps(r2)));
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
                      float *tc, const float *wh_t, float *tmp, i64 T, i64 B, i64 H, i64 r,
                      i64 b0, i64 b1)
{
    const i64 BH = B * H, G = 4 * H;
    for (i64 s = 0; s < T; s++) {
        const i64 t = r ? T - 1 - s : s;
        const float *h_prev = hs + (t + r) * BH, *c_prev = cs + (t + r) * BH;
        float *h = hs + (t + 1 - r) * BH, *c = cs + (t + 1 - r) * BH, *tct = tc + t * BH;
        sgemm_rows(sgemm, ilp64, b1 - b0, G, H, h_prev + b0 * H, wh_t, tmp + b0 * G, rows);
        for (i64 b = b0; b < b1; b++) {
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

/* One BPTT step's gradients for 8 values of an LSTM layer: from dL/dh_t = gt + dh_rec and
 * dL/dc_t's part from step t+1 (dc), the saved activations a0..a3 (o, i, f, g), tanh(c_t)
 * and c_{t-1}, write dL/dz of the four gates into d0..d3 and dL/dc_{t-1} into dc; returns
 * dL/dh_t (for its norm). The products in the order of LSTMLayer._bptt's NumPy loop. */
static inline __attribute__((target("avx2,fma"), always_inline)) __m256
lstm_grads8(float *d0, float *d1, float *d2, float *d3, const float *a0, const float *a1,
            const float *a2, const float *a3, const float *tc, const float *cp,
            const float *gt, const float *dhr, float *dc)
{
    const __m256 one = _mm256_set1_ps(1.f);
    const __m256 dh = _mm256_add_ps(_mm256_loadu_ps(gt), _mm256_loadu_ps(dhr));
    const __m256 o = _mm256_loadu_ps(a0), i = _mm256_loadu_ps(a1);
    const __m256 f = _mm256_loadu_ps(a2), g = _mm256_loadu_ps(a3);
    const __m256 t = _mm256_loadu_ps(tc);
    /* dz_o = dh tanh(c) o (1 - o);  dL/dc_t = dc + dh o (1 - tanh(c)^2) */
    _mm256_storeu_ps(d0, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(one, o), o),
                                                     t), dh));
    const __m256 q = _mm256_mul_ps(_mm256_sub_ps(one, _mm256_mul_ps(t, t)), o);
    const __m256 dcv = _mm256_add_ps(_mm256_loadu_ps(dc), _mm256_mul_ps(dh, q));
    /* dz_i = dc g i (1 - i), dz_f = dc c_{t-1} f (1 - f), dz_g = dc i (1 - g^2) */
    _mm256_storeu_ps(d1, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(one, i), i),
                                                     g), dcv));
    _mm256_storeu_ps(d2, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(one, f), f),
                                                     _mm256_loadu_ps(cp)), dcv));
    _mm256_storeu_ps(d3, _mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(one, _mm256_mul_ps(g, g)),
                                                     i), dcv));
    _mm256_storeu_ps(dc, _mm256_mul_ps(dcv, f));          /* dL/dc_{t-1} = dL/dc_t f */
    return dh;
}

/* Adds the squares of v's 8 values to the 4 double sums in acc. */
static inline __attribute__((target("avx2,fma"), always_inline)) __m256d
sum_squares8(__m256d acc, __m256 v)
{
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    return _mm256_fmadd_pd(hi, hi, _mm256_fmadd_pd(lo, lo, acc));
}

static inline __attribute__((target("avx2,fma"), always_inline)) double
sum4(__m256d v)
{
    double s[4];
    _mm256_storeu_pd(s, v);
    return (s[0] + s[1]) + (s[2] + s[3]);
}

/* The backward walk (BPTT), the gate derivatives formed step by step while the step's
 * values are in cache (the NumPy version forms them for all steps first, in whole-array
 * passes). dz (T, B, 4, H) gets dL/dz of every gate; act (T, B, 4, H): the activations o,
 * i, f, g; tc (T, B, H): tanh(c_t); cs (T+1, B, H): c_t in hs's rows (c_{t-1} at row
 * t+r); g (T+2, B, H): dL/d(packed output), row t+1-r for h_t; dc (B, H) comes as
 * dL/dc_n and leaves as dL/dc_0; dh_rec (B, H) leaves as dL/dh_0; wh (4H, H) is W_hh
 * (not halved: dz is the gradient of the true pre-activations); norms (T) or NULL gets
 * the square of ||dL/dh_t|| over rows b0..b1. */
__attribute__((target("avx2,fma")))
void lstm_backward_f32(const void *sgemm, int ilp64, i64 rows, float *dz, const float *act,
                       const float *tc, const float *cs, const float *g, float *dc,
                       float *dh_rec, const float *wh, double *norms, i64 T, i64 B, i64 H,
                       i64 r, i64 b0, i64 b1)
{
    const i64 BH = B * H, G = 4 * H;
    memset(dh_rec + b0 * H, 0, (b1 - b0) * H * sizeof(float));
    for (i64 s = 0; s < T; s++) {
        const i64 t = r ? s : T - 1 - s;
        const float *gt = g + (t + 1 - r) * BH, *tct = tc + t * BH, *cp = cs + (t + r) * BH;
        __m256d acc = _mm256_setzero_pd();
        for (i64 b = b0; b < b1; b++) {
            float *d = dz + (t * B + b) * G;
            const float *a = act + (t * B + b) * G;
            const i64 o = b * H;
            i64 j = 0;
            for (; j + 8 <= H; j += 8)
                acc = sum_squares8(acc, lstm_grads8(
                    d + j, d + H + j, d + 2 * H + j, d + 3 * H + j, a + j, a + H + j,
                    a + 2 * H + j, a + 3 * H + j, tct + o + j, cp + o + j, gt + o + j,
                    dh_rec + o + j, dc + o + j));
            if (j < H) {                       /* the last few through 8-wide buffers */
                float db[4][8], ab[4][8] = {{0}}, tb[8] = {0}, cb[8] = {0}, gb[8] = {0},
                      hb[8] = {0}, dcb[8] = {0};
                const i64 n = H - j;
                for (int k = 0; k < 4; k++)
                    memcpy(ab[k], a + k * H + j, n * sizeof(float));
                memcpy(tb, tct + o + j, n * sizeof(float));
                memcpy(cb, cp + o + j, n * sizeof(float));
                memcpy(gb, gt + o + j, n * sizeof(float));
                memcpy(hb, dh_rec + o + j, n * sizeof(float));
                memcpy(dcb, dc + o + j, n * sizeof(float));
                acc = sum_squares8(acc, lstm_grads8(db[0], db[1], db[2], db[3], ab[0], ab[1],
                                                    ab[2], ab[3], tb, cb, gb, hb, dcb));
                for (int k = 0; k < 4; k++)
                    memcpy(d + k * H + j, db[k], n * sizeof(float));
                memcpy(dc + o + j, dcb, n * sizeof(float));
            }
        }
        if (norms)
            norms[t] = sum4(acc);
        sgemm_rows(sgemm, ilp64, b1 - b0, H, G, dz + (t * B + b0) * G, wh, dh_rec + b0 * H,
                   rows);
    }
}

/* One GRU step's gates for 8 values: r, z = sig(x_rz + rec_rz) into z0, z1; hn = rec_n +
 * b_hn; n = tanh(x_n + r hn) into z2; h = n + z (h_prev - n). */
static inline __attribute__((target("avx2,fma"), always_inline)) void
gru_gates8(float *z0, float *z1, float *z2, const float *r0, const float *r1,
           const float *r2, const float *b_hn, const float *h_prev, float *hn, float *h)
{
    const __m256 rg = sigmoid2_ps(_mm256_add_ps(_mm256_loadu_ps(z0), _mm256_loadu_ps(r0)));
    const __m256 zg = sigmoid2_ps(_mm256_add_ps(_mm256_loadu_ps(z1), _mm256_loadu_ps(r1)));
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
                     i64 r, i64 b0, i64 b1)
{
    const i64 BH = B * H, G = 3 * H;
    for (i64 s = 0; s < T; s++) {
        const i64 t = r ? T - 1 - s : s;
        const float *h_prev = hs + (t + r) * BH;
        float *h = hs + (t + 1 - r) * BH, *hnt = hn + t * BH;
        sgemm_rows(sgemm, ilp64, b1 - b0, G, H, h_prev + b0 * H, wh_t, tmp + b0 * G, rows);
        for (i64 b = b0; b < b1; b++) {
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

/* One GRU BPTT step for 8 values: dL/dh_t = gt + dhr goes to dh (and is returned); from
 * the activations a0..a2 (r, z, n), h_{t-1} and hn = W_hn h_{t-1} + b_hn: dL/dz_n into
 * dn, and the hidden path's dL/dz into d0 (r), d1 (z), d2 (W_hn h + b_hn, = dz_n r). */
static inline __attribute__((target("avx2,fma"), always_inline)) __m256
gru_grads8(float *d0, float *d1, float *d2, const float *a0, const float *a1,
           const float *a2, const float *hp, const float *hn, const float *gt,
           const float *dhr, float *dn, float *dh)
{
    const __m256 one = _mm256_set1_ps(1.f);
    const __m256 dhv = _mm256_add_ps(_mm256_loadu_ps(gt), _mm256_loadu_ps(dhr));
    const __m256 rg = _mm256_loadu_ps(a0), zg = _mm256_loadu_ps(a1), n = _mm256_loadu_ps(a2);
    /* dz_n = dh (1 - n^2) (1 - z) */
    const __m256 dnv = _mm256_mul_ps(dhv, _mm256_mul_ps(_mm256_sub_ps(one, _mm256_mul_ps(n, n)),
                                                        _mm256_sub_ps(one, zg)));
    _mm256_storeu_ps(dh, dhv);
    _mm256_storeu_ps(dn, dnv);
    /* dz_r = dz_n hn r (1 - r),  dz_z = dh (h_{t-1} - n) z (1 - z) */
    _mm256_storeu_ps(d0, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(one, rg), rg),
                                                     _mm256_loadu_ps(hn)), dnv));
    _mm256_storeu_ps(d1, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(one, zg), zg),
                                                     _mm256_sub_ps(_mm256_loadu_ps(hp), n)),
                                       dhv));
    _mm256_storeu_ps(d2, _mm256_mul_ps(dnv, rg));
    return dhv;
}

/* GRU's BPTT walk, the gate derivatives formed step by step as in lstm_backward_f32: dz
 * (T, B, 3, H) gets the hidden path's dL/dz (r, z, and dz_n r for W_hn h + b_hn); act (T,
 * B, 3, H): the activations r, z, n; hs (T+1, B, H): h_{t-1} at row t+r; hn (T, B, H);
 * dn (T, B, H) gets dL/dz_n; g (T+1, B, H); wh (3H, H); dh (B, H) scratch; dh_rec (B, H)
 * leaves as dL/dh_0; norms (T) or NULL: as in lstm_backward_f32. */
__attribute__((target("avx2,fma")))
void gru_backward_f32(const void *sgemm, int ilp64, i64 rows, float *dz, const float *act,
                      const float *hs, const float *hn, float *dn, const float *g,
                      const float *wh, float *dh, float *dh_rec, double *norms, i64 T, i64 B,
                      i64 H, i64 r, i64 b0, i64 b1)
{
    const i64 BH = B * H, G = 3 * H;
    memset(dh_rec + b0 * H, 0, (b1 - b0) * H * sizeof(float));
    for (i64 s = 0; s < T; s++) {
        const i64 t = r ? s : T - 1 - s;
        const float *gt = g + (t + 1 - r) * BH, *hp = hs + (t + r) * BH, *hnt = hn + t * BH;
        float *dnt = dn + t * BH;
        __m256d acc = _mm256_setzero_pd();
        for (i64 b = b0; b < b1; b++) {
            float *d = dz + (t * B + b) * G;
            const float *a = act + (t * B + b) * G;
            const i64 o = b * H;
            i64 j = 0;
            for (; j + 8 <= H; j += 8)
                acc = sum_squares8(acc, gru_grads8(
                    d + j, d + H + j, d + 2 * H + j, a + j, a + H + j, a + 2 * H + j,
                    hp + o + j, hnt + o + j, gt + o + j, dh_rec + o + j, dnt + o + j,
                    dh + o + j));
            if (j < H) {                       /* the last few through 8-wide buffers */
                float db[3][8], ab[3][8] = {{0}}, pb[8] = {0}, nb[8] = {0}, gb[8] = {0},
                      rb[8] = {0}, dnb[8], dhb[8];
                const i64 n = H - j;
                for (int k = 0; k < 3; k++)
                    memcpy(ab[k], a + k * H + j, n * sizeof(float));
                memcpy(pb, hp + o + j, n * sizeof(float));
                memcpy(nb, hnt + o + j, n * sizeof(float));
                memcpy(gb, gt + o + j, n * sizeof(float));
                memcpy(rb, dh_rec + o + j, n * sizeof(float));
                acc = sum_squares8(acc, gru_grads8(db[0], db[1], db[2], ab[0], ab[1], ab[2],
                                                   pb, nb, gb, rb, dnb, dhb));
                for (int k = 0; k < 3; k++)
                    memcpy(d + k * H + j, db[k], n * sizeof(float));
                memcpy(dnt + o + j, dnb, n * sizeof(float));
                memcpy(dh + o + j, dhb, n * sizeof(float));
            }
        }
        if (norms)
            norms[t] = sum4(acc);
        sgemm_rows(sgemm, ilp64, b1 - b0, H, G, dz + (t * B + b0) * G, wh, dh_rec + b0 * H,
                   rows);
        for (i64 b = b0; b < b1; b++) {
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
