/* The loops of native.c for one element type. native.c includes this file once
 * per type, with T the C type and NAME(f) the function's name for that type
 * (im2col_f32, im2col_f64, ...).
 *
 * (and SQRT the square root of that type).
 *
 * Conventions shared by every function here:
 *   - sizes, strides and indices are int64; strides count elements, not bytes;
 *   - an image batch is seen as (A, B, H, W): two leading axes (channels and
 *     batch for convolution, batch and channels for pooling) with any strides;
 *   - [a0, a1) and [b0, b1) select the part of the leading axes this call does, so
 *     that the caller can give disjoint parts to different threads;
 *   - arrays that these functions write are C-contiguous unless strides are given.
 */

/* One (Ho, W) block of the patch matrix in the common case of a stride-1 convolution
 * whose output is as wide as its input ('same' padding) over rows stored back to back:
 * then every row inside the image is the image row shifted by `off`, and all of them
 * together are ONE shifted copy of the plane, out[i*W + t] = image[(i + top)*W + off + t].
 * That copy brings the neighbouring row's values into the |off| places at the ends of
 * each row that lie in the padding, which are then set to zero; the rows above and below
 * the image are zero. Copying 14-value rows one by one cost more than the copy itself. */
static inline void NAME(shifted_plane)(const T *image, i64 H, i64 W, i64 top, i64 off,
                                       i64 lo, i64 hi, i64 Ho, T *out)
{
    const i64 i0 = first_inside(top, 1, Ho), i1 = end_inside(top, 1, H, Ho);
    memset(out, 0, i0 * W * sizeof(T));
    memset(out + i1 * W, 0, (Ho - i1) * W * sizeof(T));
    if (i1 <= i0)
        return;
    i64 from = (i0 + top) * W + off, to = (i1 + top) * W + off;   /* in the image */
    i64 skip = from < 0 ? -from : 0, cut = to > H * W ? to - H * W : 0;
    memcpy(out + i0 * W + skip, image + from + skip, (to - from - skip - cut) * sizeof(T));
    for (i64 i = i0; i < i1; i++) {
        T *row = out + i * W;
        for (i64 j = 0; j < lo; j++)
            row[j] = 0;
        for (i64 j = hi; j < W; j++)
            row[j] = 0;
    }
}

/* Convolution's patch matrix, the padding fused in.
 *
 *   cols[c, p, q, n, i, j] = x[c, n, i*sh + p*dh - pt, j*sw + q*dw - pl]   (0 outside x)
 *
 * x is (C, N, H, W) with strides (xc, xn, xh, xw); cols is (C, kh, kw, N, Ho, Wo)
 * C-contiguous, whose reshape to (C*kh*kw, N*Ho*Wo) is the GEMM operand. */
void NAME(im2col)(const T *x, i64 xc, i64 xn, i64 xh, i64 xw,
                  i64 N, i64 H, i64 W, i64 kh, i64 kw, i64 sh, i64 sw, i64 dh, i64 dw,
                  i64 pt, i64 pl, i64 Ho, i64 Wo, T *cols,
                  i64 c0, i64 c1, i64 n0, i64 n1)
{
    const i64 plane = Ho * Wo;
    for (i64 c = c0; c < c1; c++)
        for (i64 p = 0; p < kh; p++)
            for (i64 q = 0; q < kw; q++) {
                const i64 off = q * dw - pl;              /* input column of output column 0 */
                const i64 lo = first_inside(off, sw, Wo), hi = end_inside(off, sw, W, Wo);
                T *block = cols + ((c * kh + p) * kw + q) * N * plane;
                for (i64 n = n0; n < n1; n++) {
                    const T *image = x + c * xc + n * xn;
                    T *out = block + n * plane;
                    if (sh == 1 && sw == 1 && xw == 1 && xh == W && Wo == W) {
                        NAME(shifted_plane)(image, H, W, p * dh - pt, off, lo, hi, Ho, out);
                        continue;
                    }
                    for (i64 i = 0; i < Ho; i++, out += Wo) {
                        const i64 ih = i * sh + p * dh - pt;
                        if (ih < 0 || ih >= H) {
                            memset(out, 0, Wo * sizeof(T));
                            continue;
                        }
                        const T *row = image + ih * xh;
                        for (i64 j = 0; j < lo; j++)
                            out[j] = 0;
                        if (sw == 1 && xw == 1)
                            memcpy(out + lo, row + lo + off, (hi - lo) * sizeof(T));
                        else
                            for (i64 j = lo; j < hi; j++)
                                out[j] = row[(j * sw + off) * xw];
                        for (i64 j = hi; j < Wo; j++)
                            out[j] = 0;
                    }
                }
            }
}

/* The adjoint of im2col: every column value added back onto the pixel it was copied
 * from; values copied from the padding are dropped.
 *
 *   dx[c, n, ih, iw] = sum over (p, q, i, j) that read (ih, iw) of cols[c, p, q, n, i, j]
 *
 * cols is (C, kh, kw, N, Ho, Wo) C-contiguous, dx (C, N, H, W) C-contiguous; the planes
 * [c0, c1) x [n0, n1) of dx are overwritten. One plane is summed at a time, so it stays
 * in the L1 cache while the columns stream past. */
void NAME(col2im)(const T *cols, i64 N, i64 H, i64 W, i64 kh, i64 kw,
                  i64 sh, i64 sw, i64 dh, i64 dw, i64 pt, i64 pl, i64 Ho, i64 Wo,
                  T *dx, i64 c0, i64 c1, i64 n0, i64 n1)
{
    const i64 plane = Ho * Wo;
    for (i64 c = c0; c < c1; c++)
        for (i64 n = n0; n < n1; n++) {
            T *image = dx + (c * N + n) * H * W;
            memset(image, 0, H * W * sizeof(T));
            for (i64 p = 0; p < kh; p++)
                for (i64 q = 0; q < kw; q++) {
                    const i64 off = q * dw - pl;
                    const i64 lo = first_inside(off, sw, Wo), hi = end_inside(off, sw, W, Wo);
                    const T *src = cols + (((c * kh + p) * kw + q) * N + n) * plane;
                    for (i64 i = 0; i < Ho; i++, src += Wo) {
                        const i64 ih = i * sh + p * dh - pt;
                        if (ih < 0 || ih >= H)
                            continue;
                        T *row = image + ih * W;
                        if (sw == 1) {
                            T *shifted = row + off;
                            for (i64 j = lo; j < hi; j++)
                                shifted[j] += src[j];
                        } else {
                            for (i64 j = lo; j < hi; j++)
                                row[j * sw + off] += src[j];
                        }
                    }
                }
        }
}

/* One tap of a row of pooling windows: window j reads row[(j*sw + off)*xw], which
 * replaces its running max if strictly greater or NaN. Inlined with sw and xw as
 * constants where they are, so that the compiler can vectorise the loop. */
static inline __attribute__((always_inline)) void
NAME(max_tap)(const T *row, i64 sw, i64 xw, i64 off, i64 row_start, i64 lo, i64 hi,
              T *best, int32_t *at)
{
    for (i64 j = lo; j < hi; j++) {
        const i64 iw = j * sw + off;
        const T v = row[iw * xw];
        const int take = (v > best[j]) | (v != v);
        best[j] = take ? v : best[j];
        at[j] = take ? (int32_t)(row_start + iw) : at[j];
    }
}

/* Max pooling, forward. Each window's maximum over the taps that lie inside x (the
 * padding is never a candidate), and where it is: its flat index ih*W + iw in the
 * plane. As in PyTorch, a later tap wins only if strictly greater or NaN, so ties go
 * to the first maximum and NaN windows to their last NaN; a window of -inf points at
 * its first tap inside x.
 *
 * One row of windows at a time, tap by tap (p, then q, PyTorch's order within a
 * window), each tap over the whole row: the choice is then a select, not a branch
 * that random data mispredicts half the time.
 *
 * x is (A, B, H, W) with strides (xa, xb, xh, xw); y and arg have planes of Ho*Wo
 * contiguous values at strides (ya, yb) for the leading axes (arg may be NULL). */
void NAME(max_pool)(const T *x, i64 xa, i64 xb, i64 xh, i64 xw, i64 H, i64 W,
                    i64 kh, i64 kw, i64 sh, i64 sw, i64 dh, i64 dw, i64 ph, i64 pw,
                    i64 Ho, i64 Wo, T *y, int32_t *arg, i64 ya, i64 yb,
                    i64 a0, i64 a1, i64 b0, i64 b1)
{
    /* the outputs j that tap q reads inside x, [lo[q], hi[q]): computed once (a division
     * per row and tap would cost more than the row's comparisons) */
    i64 *lo = malloc(2 * kw * sizeof(i64)), *hi = lo + kw;
    int32_t *scratch = arg ? NULL : malloc(Wo * sizeof(int32_t));
    if (!lo || (!arg && !scratch)) {  /* cannot happen for any image that fits in memory */
        free(lo);
        free(scratch);
        return;
    }
    for (i64 q = 0; q < kw; q++) {
        lo[q] = first_inside(q * dw - pw, sw, Wo);
        hi[q] = end_inside(q * dw - pw, sw, W, Wo);
    }
    for (i64 a = a0; a < a1; a++)
        for (i64 b = b0; b < b1; b++) {
            const T *image = x + a * xa + b * xb;
            for (i64 i = 0; i < Ho; i++) {
                T *best = y + a * ya + b * yb + i * Wo;
                int32_t *at = arg ? arg + a * ya + b * yb + i * Wo : scratch;
                const i64 top = i * sh - ph;
                const i64 p0 = first_inside(top, dh, kh), p1 = end_inside(top, dh, H, kh);
                for (i64 j = 0; j < Wo; j++) {
                    best[j] = -INFINITY;
                    at[j] = -1;
                }
                for (i64 p = p0; p < p1; p++) {
                    const i64 ih = top + p * dh;
                    const T *row = image + ih * xh;
                    for (i64 q = 0; q < kw; q++) {
                        const i64 off = q * dw - pw;
                        if (sw == 2 && xw == 1)     /* the common 2x2 pool: a constant stride */
                            NAME(max_tap)(row, 2, 1, off, ih * W, lo[q], hi[q], best, at);
                        else if (sw == 1 && xw == 1)
                            NAME(max_tap)(row, 1, 1, off, ih * W, lo[q], hi[q], best, at);
                        else
                            NAME(max_tap)(row, sw, xw, off, ih * W, lo[q], hi[q], best, at);
                    }
                }
                for (i64 j = 0; j < Wo; j++)
                    if (at[j] < 0) {        /* every tap was -inf: the first one inside x */
                        const i64 left = j * sw - pw;
                        at[j] = (int32_t)((top + p0 * dh) * W + left
                                          + first_inside(left, dw, kw) * dw);
                    }
            }
        }
    free(lo);
    free(scratch);
}

/* Max pooling, backward: each window's gradient goes to the element that was its
 * maximum, dx[arg] += dy (windows may overlap). dx's planes of H*W contiguous values
 * sit at strides (da, db) and are overwritten; dy is (A, B, Ho, Wo) with strides
 * (ga, gb, gh, gw); arg is laid out as in the forward (strides (ya, yb)). */
void NAME(max_pool_backward)(const T *dy, i64 ga, i64 gb, i64 gh, i64 gw,
                             const int32_t *arg, i64 ya, i64 yb, i64 Ho, i64 Wo,
                             T *dx, i64 da, i64 db, i64 H, i64 W,
                             i64 a0, i64 a1, i64 b0, i64 b1)
{
    for (i64 a = a0; a < a1; a++)
        for (i64 b = b0; b < b1; b++) {
            const T *g = dy + a * ga + b * gb;
            const int32_t *where = arg + a * ya + b * yb;
            T *image = dx + a * da + b * db;
            memset(image, 0, H * W * sizeof(T));
            for (i64 i = 0; i < Ho; i++)
                for (i64 j = 0; j < Wo; j++)
                    image[where[i * Wo + j]] += g[i * gh + j * gw];
        }
}

/* col2im from position-major columns: cols is (N, Ho, Wo, C, kh, kw) C-contiguous, the
 * layout of dL/dY^T W (one GEMM whose output rows are positions, which OpenBLAS runs
 * faster on these shapes than W^T dL/dY). dx (C, N, H, W) C-contiguous; its images
 * [n0, n1) are overwritten, from `cols` holding exactly those images (n0 is row 0).
 * For one row of positions, the Wo*C*kh*kw values sit together in the L1 cache and
 * are added onto the C image rows they touch. */
void NAME(col2im_rows)(const T *cols, i64 C, i64 N, i64 H, i64 W, i64 kh, i64 kw,
                       i64 sh, i64 sw, i64 dh, i64 dw, i64 pt, i64 pl, i64 Ho, i64 Wo,
                       T *dx, i64 n0, i64 n1)
{
    const i64 K = C * kh * kw;
    i64 *lo = malloc(2 * kw * sizeof(i64)), *hi = lo + kw;
    if (!lo)
        return;                     /* cannot happen for any kernel that fits in memory */
    for (i64 q = 0; q < kw; q++) {
        lo[q] = first_inside(q * dw - pl, sw, Wo);
        hi[q] = end_inside(q * dw - pl, sw, W, Wo);
    }
    for (i64 n = n0; n < n1; n++) {
        for (i64 c = 0; c < C; c++)
            memset(dx + (c * N + n) * H * W, 0, H * W * sizeof(T));
        for (i64 i = 0; i < Ho; i++) {
            const T *block = cols + ((n - n0) * Ho + i) * Wo * K;
            for (i64 c = 0; c < C; c++) {
                T *image = dx + (c * N + n) * H * W;
                for (i64 p = 0; p < kh; p++) {
                    const i64 ih = i * sh + p * dh - pt;
                    if (ih < 0 || ih >= H)
                        continue;
                    T *row = image + ih * W;
                    for (i64 q = 0; q < kw; q++) {
                        const i64 off = q * dw - pl;
                        const T *src = block + (c * kh + p) * kw + q;
                        for (i64 j = lo[q]; j < hi[q]; j++)
                            row[j * sw + off] += src[j * K];
                    }
                }
            }
        }
    }
    free(lo);
}

/* x (C, N, H, W), strides (xc, xn, xh, xw), copied into the middle of xp (C, N, Hp, Wp)
 * C-contiguous, whose border (top rows, left columns, and the rest) is zeroed: a
 * padded copy in one pass, whatever x's layout (NumPy's strided copy of short rows
 * costs ~70 ns a row). Planes [c0, c1) x [n0, n1) are written. */
void NAME(pad_copy)(const T *x, i64 xc, i64 xn, i64 xh, i64 xw, i64 N, i64 H, i64 W,
                    i64 top, i64 left, i64 Hp, i64 Wp, T *xp,
                    i64 c0, i64 c1, i64 n0, i64 n1)
{
    for (i64 c = c0; c < c1; c++)
        for (i64 n = n0; n < n1; n++) {
            const T *image = x + c * xc + n * xn;
            T *out = xp + (c * N + n) * Hp * Wp;
            memset(out, 0, top * Wp * sizeof(T));
            for (i64 i = 0; i < H; i++) {
                T *row = out + (top + i) * Wp;
                const T *src = image + i * xh;
                for (i64 j = 0; j < left; j++)        /* loops, not calls: rows are short */
                    row[j] = 0;
                for (i64 j = 0; j < W; j++)
                    row[left + j] = src[j * xw];
                for (i64 j = left + W; j < Wp; j++)
                    row[j] = 0;
            }
            memset(out + (top + H) * Wp, 0, (Hp - top - H) * Wp * sizeof(T));
        }
}

/* y[r, :] = max(y[r, :] + b, 0) for rows [r0, r1) of y (rows, cols) C-contiguous: a
 * Linear layer's bias and the ReLU after it in one pass (b may be NULL). `v < 0 ? 0 : v`
 * keeps NaN, as np.maximum(v, 0) does. */
void NAME(bias_relu)(T *y, const T *b, i64 cols, i64 r0, i64 r1)
{
    for (i64 r = r0; r < r1; r++) {
        T *row = y + r * cols;
        for (i64 c = 0; c < cols; c++) {
            const T v = row[c] + (b ? b[c] : 0);
            row[c] = v < 0 ? 0 : v;
        }
    }
}

/* One Adam step over elements [i0, i1), the same float operations in the same order as
 * optim/adam.py's NumPy passes (so both give the same bits), in one pass instead of
 * twelve:
 *   m += (g - m) * s1;  v = v * b2 + (g * s2) * g;  (amsgrad: vmax = max(vmax, v), used as v)
 *   w -= m / (sqrt(v) / c2 + eps) * step
 * with s1 = 1 - b1, s2 = 1 - b2, c2 = sqrt(1 - b2^t), step = lr / (1 - b1^t), all
 * already rounded to T by the caller, as NumPy rounds a Python float against a T array. */
void NAME(adam)(T *w, const T *g, T *m, T *v, T *vmax, T s1, T b2, T s2, T c2, T eps,
                T step, i64 i0, i64 i1)
{
    if (vmax) {
        for (i64 i = i0; i < i1; i++) {
            const T gi = g[i], mi = m[i] + (g[i] - m[i]) * s1;
            const T vi = v[i] * b2 + (gi * s2) * gi, a = vmax[i];
            const T vm = (a > vi || a != a) ? a : vi;    /* np.maximum: NaN wins */
            m[i] = mi;
            v[i] = vi;
            vmax[i] = vm;
            w[i] -= (mi / (SQRT(vm) / c2 + eps)) * step;
        }
        return;
    }
    for (i64 i = i0; i < i1; i++) {     /* a loop apart, so that it vectorises */
        const T gi = g[i], mi = m[i] + (g[i] - m[i]) * s1;
        const T vi = v[i] * b2 + (gi * s2) * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] -= (mi / (SQRT(vi) / c2 + eps)) * step;
    }
}

/* One RMSprop step (not centered) over elements [i0, i1), the same float operations in
 * the same order as optim/rmsprop.py's NumPy passes (so both give the same bits):
 *   s = s * a + (g * a1) * g;   d = sqrt(s) + eps  (eps_inside, Keras: sqrt(s + eps));
 *   u = g / d;   w -= u * lr,  or with momentum (buf != NULL): buf = buf * mu + u, w -= buf * lr
 * with a1 = 1 - a rounded to T by the caller. */
void NAME(rmsprop)(T *w, const T *g, T *s, T *buf, T a, T a1, T eps, T lr, T mu,
                   int eps_inside, i64 i0, i64 i1)
{
    for (i64 i = i0; i < i1; i++) {
        const T gi = g[i], si = s[i] * a + (gi * a1) * gi;
        const T d = eps_inside ? SQRT(si + eps) : SQRT(si) + eps;
        const T u = gi / d;
        s[i] = si;
        if (buf) {
            const T b = buf[i] * mu + u;
            buf[i] = b;
            w[i] -= b * lr;
        } else {
            w[i] -= u * lr;
        }
    }
}

/* ReLU's backward over [i0, i1) of three arrays laid out alike: dx = dy where y > 0,
 * else 0 (y is ReLU's output; NaN > 0 is false) — one pass, no mask array. */
void NAME(relu_backward)(const T *dy, const T *y, T *dx, i64 i0, i64 i1)
{
    for (i64 i = i0; i < i1; i++) {
        const T d = dy[i];          /* loaded either way, so the choice is a select */
        dx[i] = y[i] > 0 ? d : 0;
    }
}

/* Hardtanh (ReLU6 = Hardtanh on [0, 6]) in one pass each way: y = min(max(x, lo), hi),
 * NaN staying NaN as with np.clip; backward dx = dy where lo < y < hi, else 0 -- the same
 * as lo < x < hi (PyTorch's slope, 0 on the bounds), read from the output that the next
 * layer keeps anyway. Elements [i0, i1) of flat runs laid out alike. */
void NAME(clamp)(const T *x, T *y, T lo, T hi, i64 i0, i64 i1)
{
    for (i64 i = i0; i < i1; i++) {
        const T v = x[i], low = v < lo ? lo : v;      /* NaN compares false: kept */
        y[i] = low > hi ? hi : low;
    }
}

void NAME(clamp_backward)(const T *dy, const T *y, T lo, T hi, T *dx, i64 i0, i64 i1)
{
    for (i64 i = i0; i < i1; i++) {
        const T d = dy[i], v = y[i];
        dx[i] = (v > lo && v < hi) ? d : 0;
    }
}

/* Batch normalisation, x seen as (N, C, L): channel c's values are the rows
 * x[n, c, 0:L] (strides xn, xc; each row contiguous). Channels [c0, c1) are done.
 * Sums go 8 at a time into float partial sums per row (which vectorise) and from rows
 * into double totals, so a channel of millions of values loses no precision. */
static inline double NAME(row_sum)(const T *r, i64 L)
{
    T part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    i64 l = 0;
    for (; l + 8 <= L; l += 8)
        for (int k = 0; k < 8; k++)
            part[k] += r[l + k];
    double s = 0;
    for (int k = 0; k < 8; k++)
        s += part[k];
    for (; l < L; l++)
        s += r[l];
    return s;
}

/* mean[c] and the biased variance var[c] (two passes: the mean, then the squares of
 * the centred values) */
void NAME(bn_stats)(const T *x, i64 xn, i64 xc, i64 N, i64 L, T *mean, T *var,
                    i64 c0, i64 c1)
{
    for (i64 c = c0; c < c1; c++) {
        double s = 0;
        for (i64 n = 0; n < N; n++)
            s += NAME(row_sum)(x + n * xn + c * xc, L);
        const double m = s / (double)(N * L);
        double q = 0;
        const T mt = (T)m;
        for (i64 n = 0; n < N; n++) {
            const T *r = x + n * xn + c * xc;
            T part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            i64 l = 0;
            for (; l + 8 <= L; l += 8)
                for (int k = 0; k < 8; k++) {
                    const T d = r[l + k] - mt;
                    part[k] += d * d;
                }
            for (int k = 0; k < 8; k++)
                q += part[k];
            for (; l < L; l++) {
                const T d = r[l] - mt;
                q += (double)d * d;
            }
        }
        mean[c] = mt;
        var[c] = (T)(q / (double)(N * L));
    }
}

/* y = (x - mean) * invstd * w + b per channel (w, b may be NULL: 1 and 0); y's rows
 * at strides (yn, yc). */
void NAME(bn_apply)(const T *x, i64 xn, i64 xc, i64 N, i64 L, const T *mean,
                    const T *invstd, const T *w, const T *b, T *y, i64 yn, i64 yc,
                    i64 c0, i64 c1)
{
    for (i64 c = c0; c < c1; c++) {
        const T m = mean[c], scale = invstd[c] * (w ? w[c] : 1), shift = b ? b[c] : 0;
        for (i64 n = 0; n < N; n++) {
            const T *r = x + n * xn + c * xc;
            T *out = y + n * yn + c * yc;
            for (i64 l = 0; l < L; l++)
                out[l] = (r[l] - m) * scale + shift;
        }
    }
}

/* Backward. With x_hat = (x - mean) * invstd and g_hat = dy * w:
 *   db[c] = sum dy,  dw[c] = sum dy * x_hat,
 *   dx = invstd * (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat))  (batch statistics)
 *   dx = g_hat * invstd                                                (fixed statistics)
 * dy's rows at strides (gn, gc), dx's at (dn, dc); dx may be NULL (not wanted). */
void NAME(bn_backward)(const T *dy, i64 gn, i64 gc, const T *x, i64 xn, i64 xc, i64 N,
                       i64 L, const T *mean, const T *invstd, const T *w, int batch,
                       T *dx, i64 dn, i64 dc, T *dw, T *db, i64 c0, i64 c1)
{
    for (i64 c = c0; c < c1; c++) {
        const T m = mean[c], is = invstd[c], wc = w ? w[c] : 1;
        double sg = 0, sgx = 0;
        for (i64 n = 0; n < N; n++) {
            const T *g = dy + n * gn + c * gc, *r = x + n * xn + c * xc;
            T pg[8] = {0, 0, 0, 0, 0, 0, 0, 0}, px[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            i64 l = 0;
            for (; l + 8 <= L; l += 8)
                for (int k = 0; k < 8; k++) {
                    pg[k] += g[l + k];
                    px[k] += g[l + k] * (r[l + k] - m);
                }
            for (int k = 0; k < 8; k++) {
                sg += pg[k];
                sgx += px[k];
            }
            for (; l < L; l++) {
                sg += g[l];
                sgx += (double)g[l] * (r[l] - m);
            }
        }
        const double count = (double)(N * L);
        db[c] = (T)sg;
        dw[c] = (T)(sgx * is);
        if (!dx)
            continue;
        /* dx = a * dy - b0 - b1 * (x - mean), the constants folded per channel */
        const T a = wc * is;
        const T b0 = batch ? (T)(wc * is * sg / count) : 0;
        const T b1 = batch ? (T)(wc * is * is * is * sgx / count) : 0;
        for (i64 n = 0; n < N; n++) {
            const T *g = dy + n * gn + c * gc, *r = x + n * xn + c * xc;
            T *out = dx + n * dn + c * dc;
            for (i64 l = 0; l < L; l++)
                out[l] = a * g[l] - b0 - b1 * (r[l] - m);
        }
    }
}

/* Depthwise convolution: one filter per channel (groups = in = out channels), as in
 * MobileNet. im2col + GEMM does it as thousands of 1-row products over a patch matrix
 * kh*kw times the input; here each channel's plane is convolved directly, tap by tap
 * (a row of outputs += weight * a shifted row of inputs), so the work is the kh*kw
 * multiply-adds per output and the input and output planes stay in cache.
 *
 * x (C, N, H, W) with strides (xc, xn, xh, xw); w (C, kh, kw) C-contiguous; channels
 * [c0, c1). Output position (i, j) reads input (i*sh + p*dh - pt, j*sw + q*dw - pl).
 * Built twice (DEPTHWISE_CLONES, native.c): for AVX2 and for any x86-64, chosen when the
 * library loads; their inner loops are plain C that the compiler vectorises. */

#ifndef FOR_EACH_TAP_INSIDE
/* The depthwise loops' walk over one output row i: for every tap (p, q) whose input row
 * ih lies inside the image, the outputs [lo, hi) whose input column j*sw + off does too;
 * the statements given run with those names set. */
#define FOR_EACH_TAP_INSIDE(...)                                                        \
    for (i64 p = 0; p < kh; p++) {                                                      \
        const i64 ih = i * sh + p * dh - pt;                                            \
        if (ih < 0 || ih >= H)                                                          \
            continue;                                                                   \
        for (i64 q = 0; q < kw; q++) {                                                  \
            const i64 off = q * dw - pl;                                                \
            const i64 lo = first_inside(off, sw, Wo), hi = end_inside(off, sw, W, Wo);  \
            __VA_ARGS__                                                                 \
        }                                                                               \
    }
#endif

/* y (C, N, Ho, Wo) C-contiguous = b[c] (b may be NULL) + the taps' sum */
DEPTHWISE_CLONES
void NAME(depthwise)(const T *x, i64 xc, i64 xn, i64 xh, i64 xw, i64 N, i64 H, i64 W,
                     const T *w, const T *b, i64 kh, i64 kw, i64 sh, i64 sw, i64 dh, i64 dw,
                     i64 pt, i64 pl, i64 Ho, i64 Wo, T *y, i64 c0, i64 c1)
{
    const int three = kh == 3 && kw == 3 && sh == 1 && sw == 1 && dh == 1 && dw == 1 &&
                      xw == 1 && pt == 0 && pl == 0 && Ho + 2 <= H && Wo + 2 <= W;
    for (i64 c = c0; c < c1; c++)
        for (i64 n = 0; n < N; n++) {
            const T *image = x + c * xc + n * xn;
            if (three) {      /* 3x3, stride 1, on a padded input: the nine taps at once */
                const T *k = w + c * 9, start = b ? b[c] : 0;
                for (i64 i = 0; i < Ho; i++) {
                    T *out = y + ((c * N + n) * Ho + i) * Wo;
                    const T *r0 = image + i * xh, *r1 = r0 + xh, *r2 = r1 + xh;
                    for (i64 j = 0; j < Wo; j++)
                        out[j] = start + k[0] * r0[j] + k[1] * r0[j + 1] + k[2] * r0[j + 2]
                                 + k[3] * r1[j] + k[4] * r1[j + 1] + k[5] * r1[j + 2]
                                 + k[6] * r2[j] + k[7] * r2[j + 1] + k[8] * r2[j + 2];
                }
                continue;
            }
            for (i64 i = 0; i < Ho; i++) {
                T *out = y + ((c * N + n) * Ho + i) * Wo;
                const T start = b ? b[c] : 0;
                for (i64 j = 0; j < Wo; j++)
                    out[j] = start;
                FOR_EACH_TAP_INSIDE({
                    const T *row = image + ih * xh;
                    const T wv = w[(c * kh + p) * kw + q];
                    if (sw == 1 && xw == 1) {
                        const T *r = row + off;
                        for (i64 j = lo; j < hi; j++)
                            out[j] += wv * r[j];
                    } else {
                        for (i64 j = lo; j < hi; j++)
                            out[j] += wv * row[(j * sw + off) * xw];
                    }
                })
            }
        }
}

/* dL/dx (C, N, H, W) C-contiguous, written whole for the channels, from dL/dY (C, N, Ho,
 * Wo) with strides (gc, gn, gh) and unit steps along its rows: every output's gradient
 * times each tap's weight, added onto the input it read. */
DEPTHWISE_CLONES
void NAME(depthwise_input_grad)(const T *gy, i64 gc, i64 gn, i64 gh, const T *w,
                                i64 N, i64 H, i64 W, i64 kh, i64 kw, i64 sh, i64 sw, i64 dh,
                                i64 dw, i64 pt, i64 pl, i64 Ho, i64 Wo, T *dx, i64 c0, i64 c1)
{
    for (i64 c = c0; c < c1; c++)
        for (i64 n = 0; n < N; n++) {
            T *plane = dx + (c * N + n) * H * W;
            memset(plane, 0, H * W * sizeof(T));
            for (i64 i = 0; i < Ho; i++) {
                const T *grow = gy + c * gc + n * gn + i * gh;
                FOR_EACH_TAP_INSIDE({
                    T *drow = plane + ih * W;
                    const T wv = w[(c * kh + p) * kw + q];
                    if (sw == 1) {
                        T *d = drow + off;
                        for (i64 j = lo; j < hi; j++)
                            d[j] += wv * grow[j];
                    } else {
                        for (i64 j = lo; j < hi; j++)
                            drow[j * sw + off] += wv * grow[j];
                    }
                })
            }
        }
}

/* dL/dW (C, kh, kw) C-contiguous, channels [c0, c1): per tap, the sum over images and
 * output positions of dL/dY times the input the tap read. Each tap's products go into 8
 * partial sums of T (which vectorise) over one image, the images' totals into doubles. */
DEPTHWISE_CLONES
void NAME(depthwise_weight_grad)(const T *x, i64 xc, i64 xn, i64 xh, i64 xw, const T *gy,
                                 i64 gc, i64 gn, i64 gh, i64 N, i64 H, i64 W, i64 kh, i64 kw,
                                 i64 sh, i64 sw, i64 dh, i64 dw, i64 pt, i64 pl, i64 Ho,
                                 i64 Wo, T *dwt, i64 c0, i64 c1)
{
    const i64 taps = kh * kw;        /* native.py sends kernels of at most 1024 taps */
    const int three = kh == 3 && kw == 3 && sh == 1 && sw == 1 && dh == 1 && dw == 1 &&
                      xw == 1 && pt == 0 && pl == 0 && Ho + 2 <= H && Wo + 2 <= W;
    double total[taps];
    T part[taps][8];
    for (i64 c = c0; c < c1; c++) {
        for (i64 t = 0; t < taps; t++)
            total[t] = 0;
        for (i64 n = 0; n < N; n++) {
            const T *image = x + c * xc + n * xn;
            memset(part, 0, sizeof(part));
            if (three) {      /* 3x3, stride 1, padded input: all nine taps in one pass */
                T a[9][8];
                memset(a, 0, sizeof(a));
                for (i64 i = 0; i < Ho; i++) {
                    const T *g = gy + c * gc + n * gn + i * gh;
                    const T *r0 = image + i * xh, *r1 = r0 + xh, *r2 = r1 + xh;
                    i64 j = 0;
                    for (; j + 8 <= Wo; j += 8)
                        for (int k = 0; k < 8; k++) {
                            const T v = g[j + k];
                            a[0][k] += v * r0[j + k];
                            a[1][k] += v * r0[j + k + 1];
                            a[2][k] += v * r0[j + k + 2];
                            a[3][k] += v * r1[j + k];
                            a[4][k] += v * r1[j + k + 1];
                            a[5][k] += v * r1[j + k + 2];
                            a[6][k] += v * r2[j + k];
                            a[7][k] += v * r2[j + k + 1];
                            a[8][k] += v * r2[j + k + 2];
                        }
                    for (; j < Wo; j++)
                        for (int t = 0; t < 9; t++)
                            a[t][0] += g[j] * (t < 3 ? r0 : t < 6 ? r1 : r2)[j + t % 3];
                }
                memcpy(part, a, sizeof(a));
            } else {
                for (i64 i = 0; i < Ho; i++) {
                    const T *grow = gy + c * gc + n * gn + i * gh;
                    FOR_EACH_TAP_INSIDE({
                        const T *row = image + ih * xh;
                        T acc[8];        /* a local copy: stays in a register */
                        memcpy(acc, part[p * kw + q], sizeof(acc));
                        i64 j = lo;
                        if (sw == 1 && xw == 1) {
                            const T *r = row + off;
                            for (; j + 8 <= hi; j += 8)
                                for (int k = 0; k < 8; k++)
                                    acc[k] += grow[j + k] * r[j + k];
                            for (; j < hi; j++)
                                acc[0] += grow[j] * r[j];
                        } else {
                            for (; j < hi; j++)
                                acc[0] += grow[j] * row[(j * sw + off) * xw];
                        }
                        memcpy(part[p * kw + q], acc, sizeof(acc));
                    })
                }
            }
            for (i64 t = 0; t < taps; t++)
                for (int k = 0; k < 8; k++)
                    total[t] += part[t][k];
        }
        for (i64 t = 0; t < taps; t++)
            dwt[c * taps + t] = (T)total[t];
    }
}
