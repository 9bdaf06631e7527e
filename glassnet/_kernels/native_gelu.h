/* GELU for float32 with AVX2 and FMA, 8 values at a time: y = x Phi(x) and, when asked
 * for, dy/dx = Phi(x) + x phi(x) in the same pass.
 *
 * Why: NumPy runs ops/activation.py's formula as about 30 separate passes over the array
 * (Horner's rule alone is 18), each reading and writing all of it; in the cifar-fast
 * training step that was a fifth of the time. Here every value is read once and y (and
 * the slope) written once.
 *
 * The same formulas as the NumPy path: Phi(x) = erfc(|x| / sqrt 2) / 2 taken from the
 * left (1 - that for x >= 0), erfc(z) = t e^(P(t) - z^2) with t = 2 / (2 + z) and
 * glassnet's float32 fit P (activation.py's _ERFC_FIT, passed in as `coef`, constant
 * term first), z clamped at z_max, where erfc is below every float; the normal density
 * phi(x) = e^(-x^2/2) / sqrt(2 pi) from x clamped to +-40. e^v is computed here:
 * v = k ln 2 + r with k = round(v / ln 2), |r| <= ln2 / 2, e^r by its Taylor series to
 * r^7 (truncation below 2e-8 relative), and 2^k applied as two factors 2^(k/2) so that
 * results down in the subnormal range come out right; below v = -110 the result is 0.
 * NaN in x gives NaN in y and the slope (through the final products with x). */
#if defined(__x86_64__) && defined(__GNUC__)

static inline __attribute__((target("avx2,fma"), always_inline)) __m256 exp_ps(__m256 v)
{
    v = _mm256_max_ps(_mm256_min_ps(v, _mm256_set1_ps(88.f)), _mm256_set1_ps(-110.f));
    const __m256 k = _mm256_round_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.44269504f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    /* ln 2 = 0.693359375 - 2.12194440e-4: k * 0.693359375 is exact for |k| < 2^15 */
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), v);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
    static const float taylor[8] = {1.f / 5040, 1.f / 720, 1.f / 120, 1.f / 24, 1.f / 6,
                                    0.5f, 1.f, 1.f};
    __m256 p = _mm256_set1_ps(taylor[0]);
    for (int i = 1; i < 8; i++)
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(taylor[i]));
    const __m256i ki = _mm256_cvtps_epi32(k);
    const __m256i half = _mm256_srai_epi32(ki, 1), rest = _mm256_sub_epi32(ki, half);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(rest, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

/* values [i0, i1) of x; slope may be NULL; coef: the 10 coefficients of P */
__attribute__((target("avx2,fma")))
void gelu_f32(const float *x, float *y, float *slope, const float *coef, float z_max,
              i64 i0, i64 i1)
{
    const __m256 sign = _mm256_set1_ps(-0.f), half = _mm256_set1_ps(0.5f);
    const __m256 one = _mm256_set1_ps(1.f), two = _mm256_set1_ps(2.f);
    const __m256 root_half = _mm256_set1_ps(0.70710678f), zmax = _mm256_set1_ps(z_max);
    const __m256 lim = _mm256_set1_ps(40.f), inv_root_2pi = _mm256_set1_ps(0.39894228f);
    for (i64 i = i0; i < i1; i += 8) {
        const i64 n = i1 - i < 8 ? i1 - i : 8;
        float in[8] = {0}, out[8], d[8];
        const float *src = x + i;
        if (n < 8) {                      /* the last few values go through a buffer */
            memcpy(in, x + i, n * sizeof(float));
            src = in;
        }
        const __m256 xv = _mm256_loadu_ps(src);
        __m256 z = _mm256_mul_ps(_mm256_andnot_ps(sign, xv), root_half);
        z = _mm256_min_ps(z, zmax);
        const __m256 t = _mm256_div_ps(two, _mm256_add_ps(two, z));
        __m256 p = _mm256_set1_ps(coef[9]);
        for (int c = 8; c >= 0; c--)
            p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(coef[c]));
        p = _mm256_fnmadd_ps(z, z, p);
        const __m256 tail = _mm256_mul_ps(_mm256_mul_ps(t, exp_ps(p)), half);
        const __m256 left = _mm256_cmp_ps(xv, _mm256_setzero_ps(), _CMP_LT_OQ);
        const __m256 cdf = _mm256_blendv_ps(_mm256_sub_ps(one, tail), tail, left);
        _mm256_storeu_ps(n < 8 ? out : y + i, _mm256_mul_ps(xv, cdf));
        if (slope) {
            const __m256 xc = _mm256_max_ps(_mm256_min_ps(xv, lim), _mm256_sub_ps(
                _mm256_setzero_ps(), lim));
            const __m256 pdf = _mm256_mul_ps(exp_ps(_mm256_mul_ps(_mm256_mul_ps(xc, xc),
                                                                  _mm256_set1_ps(-0.5f))),
                                             inv_root_2pi);
            _mm256_storeu_ps(n < 8 ? d : slope + i, _mm256_fmadd_ps(xv, pdf, cdf));
        }
        if (n < 8) {
            memcpy(y + i, out, n * sizeof(float));
            if (slope)
                memcpy(slope + i, d, n * sizeof(float));
        }
    }
}

#else   /* not x86-64 with GCC or Clang: native.py keeps GELU in NumPy */

void gelu_f32(void) {}

#endif
