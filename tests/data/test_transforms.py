"""Batch transforms: layouts, exact results on tiny images, seeded reproducibility."""
import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.data import transforms as T


def _images(shape, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.uint8:
        return rng.integers(0, 256, shape).astype(np.uint8)
    return rng.random(shape).astype(dtype)


def _ramp(n=2, c=1, h=4, w=5):
    return np.arange(n * c * h * w, dtype=np.float32).reshape(n, c, h, w) + 1


# ---------------------------------------------------------------------------- ToTensor

@pytest.mark.parametrize("shape,expect", [((3, 5, 4), (3, 1, 5, 4)), ((2, 5, 4, 3), (2, 3, 5, 4)),
                                          ((1, 2, 2), (1, 1, 2, 2))])
def test_to_tensor_uint8(shape, expect):
    x = _images(shape, np.uint8)
    y = T.ToTensor()(x)
    assert y.shape == expect and y.dtype == np.float32 and 0 <= y.min() and y.max() <= 1
    ref = torch.from_numpy(x).float().div(255)
    ref = ref[:, None] if x.ndim == 3 else ref.permute(0, 3, 1, 2)
    np.testing.assert_allclose(y, ref.numpy(), rtol=1e-6)


def test_to_tensor_extremes():
    y = T.ToTensor()(np.array([[[0, 255]]], dtype=np.uint8))
    assert y.tolist() == [[[[0.0, 1.0]]]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_to_tensor_float_passes_values(dtype):
    x = _images((2, 3, 4, 3), dtype) * 7
    y = T.ToTensor()(x)
    assert y.dtype == dtype and y.flags.c_contiguous
    np.testing.assert_array_equal(y, x.transpose(0, 3, 1, 2))


@pytest.mark.parametrize("bad,err", [(np.zeros((4, 4), np.uint8), ValueError),
                                     (np.zeros((1, 2, 2, 2, 2), np.uint8), ValueError),
                                     (np.zeros((1, 2, 2), np.int32), TypeError)])
def test_to_tensor_errors(bad, err):
    with pytest.raises(err, match="ToTensor"):
        T.ToTensor()(bad)


# ---------------------------------------------------------------------------- Normalize

@pytest.mark.parametrize("mean,std,c", [(0.5, 0.25, 1), (0.5, 0.25, 3), ((0.1, 0.2, 0.3), (1, 2, 4), 3),
                                        ([0.1307], [0.3081], 1)])
def test_normalize_matches_formula(mean, std, c):
    x = _images((2, c, 3, 4))
    y = T.Normalize(mean, std)(x)
    m = torch.tensor(np.broadcast_to(mean, (c,)), dtype=torch.float32)[:, None, None]
    s = torch.tensor(np.broadcast_to(std, (c,)), dtype=torch.float32)[:, None, None]
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y, ((torch.from_numpy(x) - m) / s).numpy(), rtol=1e-6, atol=1e-7)


def test_normalize_keeps_float64():
    assert T.Normalize(0.5, 0.5)(_images((1, 1, 2, 2), np.float64)).dtype == np.float64


@pytest.mark.parametrize("args,x,err", [((0.5, 0.0), _images((1, 1, 2, 2)), ValueError),
                                        (((0.1, 0.2), 1.0), _images((1, 3, 2, 2)), ValueError),
                                        ((0.5, 0.5), np.zeros((1, 1, 2, 2), np.uint8), TypeError)])
def test_normalize_errors(args, x, err):
    with pytest.raises(err, match="Normalize"):
        T.Normalize(*args)(x)


def test_compose_chains_in_order():
    x = _images((2, 4, 4), np.uint8)
    y = T.Compose([T.ToTensor(), T.Normalize(0.5, 0.5)])(x)
    np.testing.assert_allclose(y, (x[:, None] / 255 - 0.5) / 0.5, rtol=1e-5, atol=1e-6)
    assert "ToTensor()" in repr(T.Compose([T.ToTensor()]))


# ---------------------------------------------------------------------------- exact geometry

@pytest.mark.parametrize("dy,dx", [(0, 0), (1, 0), (0, -2), (-1, 3), (4, 0), (0, 5)])
def test_shift_known_offsets(dy, dx):
    x = _ramp(1)
    y = T.shift(x, dy, dx, fill=-1.0)
    ref = np.full_like(x, -1.0)
    H, W = x.shape[-2:]
    ref[..., max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)] = \
        x[..., max(-dy, 0):H + min(-dy, 0), max(-dx, 0):W + min(-dx, 0)]
    np.testing.assert_array_equal(y, ref)


def test_shift_per_image_offsets():
    x = _ramp(2)
    y = T.shift(x, [1, 0], [0, -1])
    np.testing.assert_array_equal(y[0, :, 1:], x[0, :, :-1])
    np.testing.assert_array_equal(y[1, :, :, :-1], x[1, :, :, 1:])
    assert (y[0, :, 0] == 0).all() and (y[1, :, :, -1] == 0).all()


def test_random_shift_zero_range_is_identity():
    x = _images((3, 2, 5, 5))
    np.testing.assert_array_equal(T.RandomShift(0.0, 0.0)(x), x)


def test_random_shift_uses_whole_pixel_offsets_in_range():
    x = _ramp(64, 1, 10, 10)
    y = T.RandomShift(0.2, 0.3, fill=0.0, generator=np.random.default_rng(1))(x)
    rng = np.random.default_rng(1)
    dy, dx = rng.integers(-3, 4, 64), rng.integers(-2, 3, 64)
    np.testing.assert_array_equal(y, T.shift(x, dy, dx))
    assert len(set(zip(dy, dx))) > 10


@pytest.mark.parametrize("cls,flip", [(T.RandomHorizontalFlip, lambda x: x[..., ::-1]),
                                      (T.RandomVerticalFlip, lambda x: x[..., ::-1, :])])
@pytest.mark.parametrize("shape", [(3, 2, 4, 5), (3, 4, 5)])
def test_flip_always_and_never(cls, flip, shape):
    x = _images(shape)
    np.testing.assert_array_equal(cls(p=1.0)(x), flip(x))
    np.testing.assert_array_equal(cls(p=0.0)(x), x)


def test_flip_chooses_each_image_independently():
    x = _images((40, 1, 3, 3))
    y = T.RandomHorizontalFlip(generator=np.random.default_rng(3))(x)
    flipped = (y == x[..., ::-1]).all(axis=(1, 2, 3)) & ~(y == x).all(axis=(1, 2, 3))
    kept = (y == x).all(axis=(1, 2, 3))
    assert (flipped | kept).all() and 5 < flipped.sum() < 35
    np.testing.assert_array_equal(flipped, np.random.default_rng(3).random(40) < 0.5)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("shape", [(2, 3, 5, 5), (2, 4, 6), (1, 1, 4, 7)])
def test_rotation_by_zero_is_identity(interpolation, shape):
    x = _images(shape)
    np.testing.assert_allclose(T.RandomRotation(0, interpolation=interpolation)(x), x, atol=1e-6)


@pytest.mark.parametrize("angle,k", [(90, 1), (-90, -1), (180, 2), (270, 3)])
@pytest.mark.parametrize("size", [4, 5])
def test_rotation_by_right_angles_matches_rot90(angle, k, size):
    x = _images((2, 3, size, size))
    y = T.RandomRotation((angle, angle))(x)
    np.testing.assert_array_equal(y, np.rot90(x, k, axes=(-2, -1)))


def test_rotation_bilinear_right_angle_on_uint8():
    x = _images((2, 6, 6), np.uint8)
    y = T.rotate(x, [90, 90], interpolation="bilinear")
    assert y.dtype == np.uint8
    np.testing.assert_array_equal(y, np.rot90(x, 1, axes=(-2, -1)))


def test_rotation_fills_corners():
    x = np.ones((1, 1, 9, 9), np.float32)
    y = T.rotate(x, [45], fill=0.5)
    assert y[0, 0, 0, 0] == 0.5 and y[0, 0, 4, 4] == 1.0


def test_zoom_by_one_is_identity():
    x = _images((3, 2, 5, 6))
    np.testing.assert_array_equal(T.RandomZoom(0.0)(x), x)
    np.testing.assert_allclose(T.zoom(x, 1.0, interpolation="bilinear"), x, atol=1e-6)


def test_zoom_known_factors():
    x = _ramp(1, 1, 5, 5)
    y = T.zoom(x, [0.5], fill=0.0)
    # content halves about the centre: the old corners land one pixel in from the border
    assert y[0, 0, 2, 2] == x[0, 0, 2, 2] and y[0, 0, 1, 1] == x[0, 0, 0, 0]
    assert y[0, 0, 3, 3] == x[0, 0, 4, 4] and (y[0, 0, 0] == 0).all()
    # doubling: output row i reads source (i - 2) / 2 + 2, rounded half up
    rows = [1, 2, 2, 3, 3]
    np.testing.assert_array_equal(T.zoom(x, [2.0]), x[:, :, rows][..., rows])


def test_zoom_in_magnifies_centre():
    x = _ramp(1, 1, 6, 6)
    y = T.zoom(x, [2.0], interpolation="bilinear")
    # centre (2.5, 2.5) is fixed; output (0, 0) reads source (1.25, 1.25)
    expect = (0.75 * 0.75 * x[0, 0, 1, 1] + 0.75 * 0.25 * (x[0, 0, 1, 2] + x[0, 0, 2, 1])
              + 0.25 * 0.25 * x[0, 0, 2, 2])
    np.testing.assert_allclose(y[0, 0, 0, 0], expect, rtol=1e-6)


def test_affine_bilinear_half_pixel_matches_torch_grid_sample():
    x = _images((2, 3, 5, 6))
    y = T.affine(x, np.broadcast_to(np.eye(2), (2, 2, 2)), [[0.5, 0.0], [0.0, -0.25]],
                 interpolation="bilinear")
    H, W = 5, 6
    gy = (np.arange(H)[None, :, None] + np.array([0.5, 0.0])[:, None, None]).repeat(W, 2)
    gx = (np.arange(W)[None, None, :] + np.array([0.0, -0.25])[:, None, None]).repeat(H, 1)
    grid = np.stack([2 * gx / (W - 1) - 1, 2 * gy / (H - 1) - 1], -1)
    ref = torch.nn.functional.grid_sample(torch.from_numpy(x), torch.from_numpy(grid).float(),
                                          mode="bilinear", padding_mode="zeros", align_corners=True)
    np.testing.assert_allclose(y, ref.numpy(), rtol=1e-5, atol=1e-6)


MODES = ["edge", "symmetric", "reflect", "wrap"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dy, dx", [(1, -2), (-4, 5), (9, -13), (0, 0)])
def test_shift_padding_modes_are_windows_of_np_pad(mode, dy, dx):
    """Shifting by whole pixels, however far, reads the image as np.pad extends it."""
    x = _ramp(2, 3, 4, 5)
    pad = 20
    padded = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], mode=mode)
    want = padded[:, :, pad - dy:pad - dy + 4, pad - dx:pad - dx + 5]
    np.testing.assert_array_equal(T.shift(x, dy, dx, padding_mode=mode), want)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("mode", MODES)
def test_affine_padding_modes_sample_the_np_padded_image(mode, interpolation):
    """A warp reading outside the image (rotations, a zoom out to half size, shifts past
    the edge) gives what the same warp gives on the image np.pad-ed by `mode`."""
    rng = np.random.default_rng(1)
    x = _images((4, 2, 5, 7))
    theta = rng.uniform(-np.pi, np.pi, 4)
    scale = np.array([2.0, 1.3, 0.7, 1.0])[:, None, None]
    matrices = scale * np.stack([np.stack([np.cos(theta), np.sin(theta)], -1),
                                 np.stack([-np.sin(theta), np.cos(theta)], -1)], 1)
    offsets = rng.uniform(-9, 9, (4, 2))
    pad = 30
    padded = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], mode=mode)
    want = T.affine(padded, matrices, offsets, interpolation=interpolation, out_size=(5, 7))
    got = T.affine(x, matrices, offsets, interpolation=interpolation, padding_mode=mode)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode, torch_mode", [("edge", "border"), ("reflect", "reflection")])
def test_affine_edge_and_reflect_match_torch_grid_sample(mode, torch_mode):
    """torch's border / reflection padding on the pixel grid (align_corners=True)."""
    x = _images((2, 3, 5, 6))
    offsets = np.array([[2.7, -3.2], [-1.4, 4.9]])
    y = T.affine(x, np.broadcast_to(np.eye(2), (2, 2, 2)), offsets,
                 interpolation="bilinear", padding_mode=mode)
    H, W = 5, 6
    gy = (np.arange(H)[None, :, None] + offsets[:, 0, None, None]).repeat(W, 2)
    gx = (np.arange(W)[None, None, :] + offsets[:, 1, None, None]).repeat(H, 1)
    grid = np.stack([2 * gx / (W - 1) - 1, 2 * gy / (H - 1) - 1], -1)
    ref = torch.nn.functional.grid_sample(torch.from_numpy(x), torch.from_numpy(grid).float(),
                                          mode="bilinear", padding_mode=torch_mode,
                                          align_corners=True)
    np.testing.assert_allclose(y, ref.numpy(), rtol=1e-5, atol=1e-6)


def test_affine_padding_modes_on_uint8_need_no_fill():
    x = _images((2, 4, 4), np.uint8)
    y = T.affine(x, np.broadcast_to(np.eye(2), (2, 2, 2)), [[0, 9], [-9, 0]],
                 padding_mode="edge")
    np.testing.assert_array_equal(y[0], np.repeat(x[0, :, -1:], 4, 1))
    np.testing.assert_array_equal(y[1], np.repeat(x[1, :1], 4, 0))


def test_crop_without_padding_matches_slices():
    x = _ramp(2, 2, 5, 6)
    y = T.crop(x, [0, 2], [1, 3], (3, 3))
    np.testing.assert_array_equal(y[0], x[0, :, 0:3, 1:4])
    np.testing.assert_array_equal(y[1], x[1, :, 2:5, 3:6])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_crop_with_padding_comes_from_padded_image(seed):
    x = _ramp(16, 2, 6, 6)
    y = T.RandomCrop(6, padding=2, fill=-1.0, generator=np.random.default_rng(seed))(x)
    assert y.shape == x.shape and y.dtype == x.dtype
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=-1.0)
    rng = np.random.default_rng(seed)
    tops, lefts = rng.integers(0, 5, 16), rng.integers(0, 5, 16)
    for i, (t, l) in enumerate(zip(tops, lefts)):  # checking only: the transform has no loop
        np.testing.assert_array_equal(y[i], padded[i, :, t:t + 6, l:l + 6])
    assert len(set(zip(tops, lefts))) > 4


@pytest.mark.parametrize("padding", [1, 2, 5])
def test_reflect_padded_crops_are_windows_of_torch_reflect_padding(padding):
    """padding_mode='reflect' mirrors without repeating the edge, as torch's reflect pad;
    every corner and edge window is checked."""
    x = _ramp(4, 3, 6, 7)
    padded = torch.nn.functional.pad(torch.from_numpy(x), (padding,) * 4,
                                     mode="reflect").numpy()
    span_y, span_x = 6 + 2 * padding - 4, 7 + 2 * padding - 5
    for top in range(span_y + 1):
        for left in (0, span_x // 2, span_x):
            y = T.crop(x, [top] * 4, [left] * 4, (4, 5), padding, padding_mode="reflect")
            np.testing.assert_array_equal(y, padded[:, :, top:top + 4, left:left + 5])
    rng = np.random.default_rng(0)
    y = T.RandomCrop((4, 5), padding=padding, padding_mode="reflect", generator=rng)(x)
    tops = np.random.default_rng(0).integers(0, span_y + 1, 4)
    lefts = np.random.default_rng(0)
    lefts.integers(0, span_y + 1, 4)
    lefts = lefts.integers(0, span_x + 1, 4)
    for i, (t, l) in enumerate(zip(tops, lefts)):
        np.testing.assert_array_equal(y[i], padded[i, :, t:t + 4, l:l + 5])


@pytest.mark.parametrize("make, message", [
    (lambda: T.RandomCrop(4, padding=1, padding_mode="edge"), "padding_mode"),
    (lambda: T.crop(_ramp(1, 1, 4, 4), [0], [0], (4, 4), 1, padding_mode="wrap"),
     "padding_mode"),
    (lambda: T.crop(_ramp(1, 1, 4, 4), [0], [0], (4, 4), 4, padding_mode="reflect"),
     "smaller than the image"),
])
def test_crop_padding_mode_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_random_crop_uint8_gray_and_rectangular_size():
    x = _images((3, 8, 8), np.uint8)
    y = T.RandomCrop((4, 6), padding=1, fill=0)(x)
    assert y.shape == (3, 4, 6) and y.dtype == np.uint8


# ---------------------------------------------------------------------------- randomness

RANDOM = [lambda: T.RandomShift(0.3, 0.3), lambda: T.RandomHorizontalFlip(),
          lambda: T.RandomRotation(30), lambda: T.RandomRotation(30, interpolation="bilinear"),
          lambda: T.RandomZoom(0.3), lambda: T.RandomCrop(8, padding=3)]


@pytest.mark.parametrize("make", RANDOM)
def test_manual_seed_reproduces_batch(make):
    x = _images((16, 3, 8, 8))
    transform = make()
    gn.manual_seed(5)
    a = transform(x)
    gn.manual_seed(5)
    b = transform(x)
    c = transform(x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)
    assert a.shape == x.shape and a.dtype == x.dtype


@pytest.mark.parametrize("make", RANDOM)
def test_images_in_a_batch_get_different_parameters(make):
    x = np.repeat(_ramp(1, 1, 8, 8), 16, axis=0)  # one image, many times
    gn.manual_seed(0)
    y = make()(x).reshape(16, -1)
    assert len(np.unique(y, axis=0)) > 1


@pytest.mark.parametrize("make", RANDOM)
def test_single_sample_path_and_uint8_gray(make):
    x = _images((1, 8, 8), np.uint8)
    y = make()(x)
    assert y.shape == (1, 8, 8) and y.dtype == np.uint8


def test_generator_argument_overrides_default():
    x = _images((8, 1, 6, 6))
    a = T.RandomRotation(40, generator=np.random.default_rng(9))(x)
    gn.manual_seed(123)
    b = T.RandomRotation(40, generator=np.random.default_rng(9))(x)
    np.testing.assert_array_equal(a, b)


def test_rotation_angles_drawn_per_image_from_range():
    x = _images((6, 1, 7, 7))
    y = T.RandomRotation((10, 50), generator=np.random.default_rng(4))(x)
    angles = np.random.default_rng(4).uniform(10, 50, 6)
    assert ((angles >= 10) & (angles <= 50)).all()
    np.testing.assert_array_equal(y, T.rotate(x, angles))


# ---------------------------------------------------------------------------- errors

@pytest.mark.parametrize("make,match", [
    (lambda: T.RandomRotation(-1), "RandomRotation"),
    (lambda: T.RandomRotation((5, 1)), "RandomRotation"),
    (lambda: T.RandomRotation(5, interpolation="cubic"), "interpolation"),
    (lambda: T.RandomZoom(1.5), "RandomZoom"),
    (lambda: T.RandomShift(1.5, 0.1), "width_shift"),
    (lambda: T.RandomHorizontalFlip(p=2), "RandomHorizontalFlip"),
    (lambda: T.RandomCrop(0), "RandomCrop"),
    (lambda: T.RandomCrop(4, padding=-1), "padding"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("call,match", [
    (lambda: T.RandomCrop(9)(np.zeros((1, 1, 4, 4), np.float32)), "larger than the padded"),
    (lambda: T.RandomRotation(5)(np.zeros((4, 4), np.float32)), "expected a batch"),
    (lambda: T.shift(np.zeros((2, 4, 4), np.uint8), 1, 1, fill=300), "fill 300"),
    (lambda: T.rotate(np.zeros((2, 4, 4)), [1, 2, 3]), "one angle per image"),
    (lambda: T.affine(np.zeros((2, 4, 4)), np.eye(2)), "affine: expected matrices"),
    (lambda: T.affine(np.zeros((1, 4, 4)), np.eye(2)[None], padding_mode="nearest"),
     "affine: padding_mode must be one of"),
    (lambda: T.shift(np.zeros((1, 4, 4)), 1, 1, padding_mode="border"),
     "shift: padding_mode must be one of"),
])
def test_bad_calls(call, match):
    with pytest.raises(ValueError, match=match):
        call()
