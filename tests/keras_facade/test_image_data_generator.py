"""ImageDataGenerator: exact results where the transform is exact (rescale, flips, whole-pixel
shifts, right-angle turns), the iterator's batches and epochs, the errors, and agreement with
real Keras (fit statistics, standardize, flow, apply_transform) where it is installed."""
import math
import os
import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet.keras.preprocessing.image import ImageDataGenerator, NumpyArrayIterator
from glassnet.keras.utils import Sequence


@pytest.fixture(scope="module")
def KerasGenerator():
    """Keras's own ImageDataGenerator (Keras 3 keeps it under tf.keras's names)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    pytest.importorskip("keras")
    return pytest.importorskip("keras._tf_keras.keras.preprocessing.image").ImageDataGenerator


def _images(shape=(20, 8, 8, 3), seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


def _epoch(it):
    return [it[i] for i in range(len(it))]


# ---------------------------------------------------------------------------- exact results

def test_zero_ranges_and_rescale_give_exactly_x_times_rescale():
    x = _images()
    batches = _epoch(ImageDataGenerator(rescale=1 / 255).flow(x, batch_size=8, shuffle=False))
    got = np.concatenate(batches)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, x.astype(np.float32) * np.float32(1 / 255))


@pytest.mark.parametrize("flag, axis", [("horizontal_flip", 1), ("vertical_flip", 0)])
def test_flips_are_exact_and_chosen_per_image(flag, axis):
    x = _images((64, 5, 7, 3))
    out = ImageDataGenerator(**{flag: True}).random_transform(x.astype(np.float32), seed=3)
    flipped = [np.array_equal(o, np.flip(i, axis)) for o, i in zip(out, x)]
    kept = [np.array_equal(o, i) for o, i in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 16 < sum(flipped) < 48                   # about half, each image on its own


@pytest.mark.parametrize("fill_mode, pad_mode", [("nearest", "edge"), ("reflect", "symmetric"),
                                                 ("wrap", "wrap"), ("constant", "constant")])
@pytest.mark.parametrize("tx, ty", [(2, -1), (-3, 4), (9, 0)])
def test_whole_pixel_shift_is_a_padded_window(fill_mode, pad_mode, tx, ty):
    """Keras's tx moves columns, ty rows: output (r, c) reads source (r + ty, c + tx)."""
    x = _images((6, 7, 2)).astype(np.float32)
    kw = {"constant_values": 5.0} if pad_mode == "constant" else {}
    padded = np.pad(x, [(10, 10), (10, 10), (0, 0)], mode=pad_mode, **kw)
    want = padded[10 + ty:10 + ty + 6, 10 + tx:10 + tx + 7]
    gen = ImageDataGenerator(fill_mode=fill_mode, cval=5.0)
    np.testing.assert_array_equal(gen.apply_transform(x, {"tx": tx, "ty": ty}), want)
    if fill_mode == "wrap":
        np.testing.assert_array_equal(want, np.roll(x, (-ty, -tx), axis=(0, 1)))


def test_rotation_by_right_angles_and_identity_parameters():
    x = _images((6, 6, 3)).astype(np.float32)
    gen = ImageDataGenerator()
    for k in range(4):      # positive angles turn counter-clockwise, as np.rot90
        np.testing.assert_allclose(gen.apply_transform(x, {"theta": 90 * k}),
                                   np.rot90(x, k, axes=(0, 1)), atol=1e-4)
    np.testing.assert_array_equal(gen.apply_transform(x, {"zx": 1, "zy": 1, "shear": 0}), x)


def test_width_shift_moves_columns_and_height_shift_rows():
    """As Keras documents it (Keras 3.15 itself swaps the two, keras-team/keras#17398)."""
    x = np.zeros((6, 10, 1), np.float32)
    x[2, 3] = 1
    moved = set()
    for seed in range(20):
        for kw, axis in (({"width_shift_range": [3]}, 1), ({"height_shift_range": [2]}, 0)):
            out = ImageDataGenerator(fill_mode="constant", **kw).random_transform(x, seed=seed)
            where = np.argwhere(out[..., 0] == 1)[0]
            fixed = 1 - axis
            assert where[fixed] == (2, 3)[fixed]
            moved.add((axis, int(where[axis] - (2, 3)[axis])))
    assert moved == {(1, 3), (1, -3), (0, 2), (0, -2)}


@pytest.mark.parametrize("value, size, allowed", [
    (0.25, 8, lambda t: abs(t) <= 2.0),                           # a fraction of the width
    (3, 8, lambda t: t in (-2, -1, 0, 1, 2)),                     # whole pixels in (-3, 3)
    (2.5, 8, lambda t: abs(t) <= 2.5 and t != round(t)),          # pixels, uniform
    ([0.25, 0.5], 8, lambda t: abs(t) in (2.0, 4.0)),             # listed fractions, either sign
])
def test_shift_ranges_draw_as_keras_documents(value, size, allowed):
    gen = ImageDataGenerator(width_shift_range=value)
    draws = [gen.get_random_transform((4, size, 3), seed=s) for s in range(40)]
    assert all(allowed(d["tx"]) and d["ty"] == 0 for d in draws)
    assert len({d["tx"] for d in draws}) > 2


def test_rotation_zoom_and_channel_shift_ranges():
    gen = ImageDataGenerator(rotation_range=20, zoom_range=[0.5, 0.8], channel_shift_range=10)
    draws = [gen.get_random_transform((8, 8, 3), seed=s) for s in range(50)]
    assert all(abs(d["theta"]) <= 20 and 0.5 <= d["zx"] <= 0.8 and 0.5 <= d["zy"] <= 0.8
               for d in draws)
    assert any(d["zx"] != d["zy"] for d in draws)
    assert all(abs(d["channel_shift_intensity"]) <= 10 for d in draws)
    x = _images((8, 8, 3)).astype(np.float32)
    out = ImageDataGenerator().apply_transform(x, {"channel_shift_intensity": 30.0})
    np.testing.assert_array_equal(out, np.clip(x + 30, x.min(), x.max()))


def test_channels_first_layout():
    x = _images((3, 3, 5, 6)).astype(np.float32)            # (N, C, H, W)
    gen = ImageDataGenerator(data_format="channels_first", fill_mode="wrap")
    out = gen.apply_transform(x[0], {"tx": 1, "flip_vertical": True})
    np.testing.assert_array_equal(out, np.flip(np.roll(x[0], -1, axis=2), 1))
    assert np.concatenate(_epoch(gen.flow(x, batch_size=2))).shape == (3, 3, 5, 6)


# ---------------------------------------------------------------------------- flow

def test_flow_is_a_sequence_of_paired_batches_covering_each_sample_once():
    n = 37
    x = np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None, None], (n, 4, 4, 1))
    y = np.arange(n)
    it = ImageDataGenerator(horizontal_flip=True, vertical_flip=True).flow(
        x, y, batch_size=8, seed=0)
    assert isinstance(it, Sequence) and isinstance(it, NumpyArrayIterator)
    assert len(it) == math.ceil(n / 8) == 5 and it.x.dtype == np.uint8
    batches = _epoch(it)
    assert [len(b[0]) for b in batches] == [8, 8, 8, 8, 5]
    assert all(b[0].dtype == np.float32 and b[0].shape[1:] == (4, 4, 1) for b in batches)
    order = np.concatenate([b[1] for b in batches])
    assert sorted(order) == list(range(n)) and list(order) != list(range(n))
    for bx, by in batches:          # every image (constant = its index) keeps its label
        np.testing.assert_array_equal(bx[:, 0, 0, 0], by)
    it.on_epoch_end()
    assert list(np.concatenate([b[1] for b in _epoch(it)])) != list(order)
    with pytest.raises(ValueError, match="asked for batch 5, but an epoch has 5 batches"):
        it[5]


def test_next_cycles_forever_reshuffling_each_epoch():
    x, y = _images((10, 4, 4, 1)), np.arange(10)
    it = ImageDataGenerator().flow(x, y, batch_size=4, seed=1)
    epochs = []
    for _ in range(3):
        sizes, labels = [], []
        for _ in range(3):
            bx, by = next(it) if sizes else it.next()
            sizes.append(len(bx))
            labels.extend(by)
        assert sizes == [4, 4, 2] and sorted(labels) == list(range(10))
        epochs.append(labels)
    assert epochs[0] != epochs[1] or epochs[1] != epochs[2]
    assert iter(it) is it


def test_flow_without_shuffle_sample_weight_and_x_only():
    x, w = _images((5, 4, 4, 3)), np.linspace(0, 1, 5)
    it = ImageDataGenerator().flow(x, np.arange(5), sample_weight=w, batch_size=2,
                                   shuffle=False)
    bx, by, bw = it[2]
    assert by.tolist() == [4] and bw.tolist() == [1.0]
    only = ImageDataGenerator().flow(x, batch_size=5, shuffle=False)[0]
    assert isinstance(only, np.ndarray)
    np.testing.assert_array_equal(only, x.astype(np.float32))


def test_seeds_repeat_batches():
    x, y = _images(), np.arange(20)

    def batches(seed=None):
        gen = ImageDataGenerator(rotation_range=30, width_shift_range=0.2, zoom_range=0.1,
                                 horizontal_flip=True)
        it = gen.flow(x, y, batch_size=6, seed=seed)
        return [next(it) for _ in range(5)]
    for a, b in zip(batches(4), batches(4)):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    gn.manual_seed(0)
    first = batches()
    gn.manual_seed(0)
    np.testing.assert_array_equal(first[-1][0], batches()[-1][0])


def test_validation_split_subsets():
    x, y = _images((10, 4, 4, 1)), np.array([0, 1] * 5)
    gen = ImageDataGenerator(validation_split=0.3)
    val = gen.flow(x, y, batch_size=10, shuffle=False, subset="validation")[0]
    train = gen.flow(x, y, batch_size=10, shuffle=False, subset="training")[0]
    assert val[1].tolist() == [0, 1, 0] and len(train[1]) == 7
    with pytest.raises(ValueError, match="hold different classes"):
        gen.flow(x, np.arange(10), subset="training")
    assert len(gen.flow(x, np.arange(10), subset="training", ignore_class_split=True)) == 1
    with pytest.raises(ValueError, match="subset must be 'training' or 'validation'"):
        gen.flow(x, y, subset="test")


# ---------------------------------------------------------------------------- standardize

def test_preprocessing_function_gets_one_image_before_rescale():
    shapes = []

    def plus_one(image):
        shapes.append(image.shape)
        return image + 1
    x = _images((4, 3, 3, 1))
    got = ImageDataGenerator(preprocessing_function=plus_one, rescale=0.5).flow(
        x, batch_size=4, shuffle=False)[0]
    assert shapes == [(3, 3, 1)] * 4
    np.testing.assert_allclose(got, (x + 1.0) * 0.5)


def test_featurewise_settings_warn_and_fit_keeps_x():
    with pytest.warns(UserWarning, match="also sets featurewise_center=True"):
        gen = ImageDataGenerator(featurewise_std_normalization=True)
    assert gen.featurewise_center
    with pytest.warns(UserWarning, match="has not been fit"):
        gen.standardize(np.ones((2, 2, 1)))
    x = _images((30, 4, 4, 3)).astype(np.float32)
    before = x.copy()
    ImageDataGenerator(featurewise_center=True, rescale=0.1).fit(x)
    np.testing.assert_array_equal(x, before)
    aug = ImageDataGenerator(featurewise_center=True, rotation_range=10, horizontal_flip=True)
    aug.fit(x, augment=True, rounds=2, seed=0)
    assert aug.mean.shape == (1, 1, 3) and aug.mean.dtype == np.float32


# ---------------------------------------------------------------------------- errors

def test_unknown_argument_suggests_the_real_one():
    with pytest.raises(TypeError, match=r"'width_shift' \(did you mean width_shift_range\?\)"):
        ImageDataGenerator(width_shift=0.1, height_shift_range=0.1, horizontal_flip=True)
    with pytest.raises(TypeError) as caught:
        ImageDataGenerator(colour=True)
    assert "'colour'" in str(caught.value) and "did you mean" not in str(caught.value)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"zca_whitening": True}, NotImplementedError, "zca_whitening=True is not supported"),
    ({"brightness_range": [0.5, 1.5]}, NotImplementedError, "brightness_range"),
    ({"interpolation_order": 3}, NotImplementedError, "interpolation_order=3"),
    ({"fill_mode": "mirror"}, ValueError, "fill_mode must be one of"),
    ({"zoom_range": [0.5]}, ValueError, "zoom_range must be a number or a pair"),
    ({"rotation_range": -5}, ValueError, "rotation_range must be a number >= 0, got -5"),
    ({"width_shift_range": "a"}, ValueError, "width_shift_range must be a number"),
    ({"data_format": "NHWC"}, ValueError, "data_format must be"),
    ({"validation_split": 1.5}, ValueError, "validation_split must be strictly between"),
])
def test_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        ImageDataGenerator(**kwargs)


def test_bad_flow_calls():
    gen = ImageDataGenerator()
    with pytest.raises(ValueError, match="flow: x should be a batch of images of rank 4"):
        gen.flow(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="flow: x and y should have the same length, got 4 "
                                         "and 3"):
        gen.flow(np.zeros((4, 2, 2, 1)), np.zeros(3))
    with pytest.raises(NotImplementedError, match="save_to_dir"):
        gen.flow(np.zeros((4, 2, 2, 1)), save_to_dir="out")
    with pytest.raises(NotImplementedError, match="ImageFolder"):
        gen.flow_from_directory("data/train")


# ---------------------------------------------------------------------------- against Keras

SETTINGS = [
    {"featurewise_center": True, "featurewise_std_normalization": True, "rescale": 1 / 255},
    {"featurewise_center": True},
    {"samplewise_center": True, "samplewise_std_normalization": True, "rescale": 1 / 255},
    {"featurewise_std_normalization": True, "samplewise_center": True, "rescale": 0.5},
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_fit_standardize_and_flow_match_keras(KerasGenerator, settings):
    x = _images((50, 8, 8, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = ImageDataGenerator(**settings), KerasGenerator(**settings)
        ours.fit(x)
        theirs.fit(x)
        for stat in ("mean", "std"):
            if getattr(theirs, stat) is not None:
                np.testing.assert_allclose(getattr(ours, stat), getattr(theirs, stat),
                                           rtol=1e-5)
        images = x[:5].astype(np.float32)
        for sample in (images[0], images):
            np.testing.assert_allclose(ours.standardize(sample.copy()),
                                       theirs.standardize(sample.copy()), rtol=1e-5, atol=1e-5)
        got = np.concatenate(_epoch(ours.flow(x, batch_size=16, shuffle=False)))
        want = np.concatenate(_epoch(theirs.flow(x, batch_size=16, shuffle=False)))
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


PARAMETERS = [{"theta": 30.0}, {"theta": -75.0}, {"tx": 1.5, "ty": 0.25}, {"ty": -3.0},
              {"shear": 20.0}, {"zx": 1.3}, {"zy": 0.7}, {"theta": -40.0, "zx": 1.5, "zy": 1.5},
              {"theta": 17.0, "tx": 1.2, "ty": -2.1, "shear": 9.0, "zx": 0.8, "zy": 1.2},
              {"flip_horizontal": True, "flip_vertical": True, "theta": 10.0},
              {"channel_shift_intensity": 0.2, "tx": 2.0}]


@pytest.mark.parametrize("fill_mode", ["nearest", "reflect"])
def test_apply_transform_matches_keras_on_square_images(KerasGenerator, fill_mode):
    x = np.random.default_rng(0).random((9, 9, 3)).astype(np.float32)
    ours, theirs = ImageDataGenerator(fill_mode=fill_mode), KerasGenerator(fill_mode=fill_mode)
    for params in PARAMETERS:
        np.testing.assert_allclose(ours.apply_transform(x, params),
                                   theirs.apply_transform(x, params), atol=2e-6,
                                   err_msg=str(params))


def test_constant_fill_matches_keras_for_whole_pixel_moves(KerasGenerator):
    """Only where the source falls on whole pixels: elsewhere scipy fills the rim with cval
    (at 180 degrees even rows whose source is 7 + 1e-15 of an 8-pixel side), while glassnet
    blends across it (and turns by 180 degrees exactly, as np.rot90: see above)."""
    x = np.random.default_rng(1).random((8, 8, 1)).astype(np.float32)
    ours = ImageDataGenerator(fill_mode="constant", cval=0.5)
    theirs = KerasGenerator(fill_mode="constant", cval=0.5)
    for params in ({"tx": 3.0, "ty": -2.0}, {"ty": 9.0}, {"theta": 90.0}):
        np.testing.assert_allclose(ours.apply_transform(x, params),
                                   theirs.apply_transform(x, params), atol=1e-5)
