"""ColorJitter and its adjustments: the Tensor formulas against torchvision's, written in
torch (blend with black / mean grey / own grey, clamped) and against colorsys for the hue
turn; the PIL path against Pillow's ImageEnhance."""
import colorsys

import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance

import glassnet as gn
from glassnet.vision import transforms as T
from glassnet.vision.transforms import functional as F

rng = np.random.default_rng(2)


def _torch_blend(t, reference, ratio):
    bound = 1.0 if t.is_floating_point() else 255.0
    return (ratio * t + (1.0 - ratio) * reference).clamp(0, bound).to(t.dtype)


def _torch_grey(t):
    x = t if t.is_floating_point() else t.float()
    return (0.2989 * x[..., 0, :, :] + 0.587 * x[..., 1, :, :]
            + 0.114 * x[..., 2, :, :]).to(t.dtype).unsqueeze(-3)


def _images():
    u8 = rng.integers(0, 256, (2, 3, 5, 6), dtype=np.uint8)
    return u8, u8 / np.float32(255)


@pytest.mark.parametrize("factor", [0.0, 0.6, 1.7])
def test_tensor_adjustments_match_torchvision_formulas(factor):
    for x in _images():
        t = torch.from_numpy(x)
        grey = _torch_grey(t)
        work = grey if grey.is_floating_point() else grey.float()
        want = {F.adjust_brightness: _torch_blend(t, torch.zeros_like(t), factor),
                F.adjust_contrast: _torch_blend(t, work.mean((-3, -2, -1), keepdim=True), factor),
                F.adjust_saturation: _torch_blend(t, grey, factor)}
        for adjust, expected in want.items():
            got = adjust(gn.from_numpy(x), factor).numpy()
            assert got.dtype == x.dtype
            if x.dtype == np.uint8:    # float32 sums may round a truncation boundary apart
                assert np.abs(got.astype(int) - expected.numpy().astype(int)).max() <= 1
            else:
                np.testing.assert_allclose(got, expected.numpy(), atol=1e-6)


@pytest.mark.parametrize("hue", [-0.5, -0.2, 0.0, 0.13, 0.5])
def test_tensor_hue_turn_matches_colorsys(hue):
    x = rng.random((3, 4, 5)).astype(np.float32)
    got = F.adjust_hue(gn.from_numpy(x), hue).numpy()
    want = np.empty_like(x)
    for i in range(4):
        for j in range(5):
            h, s, v = colorsys.rgb_to_hsv(*x[:, i, j])
            want[:, i, j] = colorsys.hsv_to_rgb((h + hue) % 1.0, s, v)
    np.testing.assert_allclose(got, want, atol=1e-5)
    grey = gn.from_numpy(np.repeat(x[:1], 3, axis=0))
    np.testing.assert_allclose(F.adjust_hue(grey, hue).numpy(), grey.numpy(), atol=1e-6)


def test_pil_adjustments_are_pillows():
    pil = Image.fromarray(rng.integers(0, 256, (5, 6, 3), dtype=np.uint8))
    for adjust, kind in ((F.adjust_brightness, "Brightness"), (F.adjust_contrast, "Contrast"),
                         (F.adjust_saturation, "Color")):
        want = getattr(ImageEnhance, kind)(pil).enhance(1.4)
        assert adjust(pil, 1.4).tobytes() == want.tobytes()
    h, s, v = pil.convert("HSV").split()
    turned = Image.merge("HSV", (Image.fromarray(np.array(h) + np.uint8(51)), s, v))
    assert F.adjust_hue(pil, 0.2).tobytes() == turned.convert("RGB").tobytes()
    assert F.adjust_hue(pil.convert("L"), 0.2).tobytes() == pil.convert("L").tobytes()


def test_color_jitter_draws_and_repeats():
    jitter = T.ColorJitter(brightness=0.4, contrast=(0.5, 0.9), saturation=0.3, hue=0.1)
    assert jitter.brightness == (0.6, 1.4) and jitter.contrast == (0.5, 0.9)
    assert jitter.hue == (-0.1, 0.1)
    gn.manual_seed(0)
    for _ in range(20):
        order, b, c, s, h = T.ColorJitter.get_params(jitter.brightness, jitter.contrast,
                                                     jitter.saturation, jitter.hue)
        assert sorted(order) == [0, 1, 2, 3]
        assert 0.6 <= b <= 1.4 and 0.5 <= c <= 0.9 and 0.7 <= s <= 1.3 and abs(h) <= 0.1
    x = gn.from_numpy(rng.random((3, 6, 6)).astype(np.float32))
    gn.manual_seed(9)
    first = [jitter(x).numpy() for _ in range(3)]
    gn.manual_seed(9)
    for a in first:
        np.testing.assert_array_equal(a, jitter(x).numpy())
    assert not np.array_equal(first[0], first[1])
    assert T.ColorJitter()(x) is x                        # nothing to change
    pil = Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8))
    assert jitter(pil).size == (6, 6)


@pytest.mark.parametrize("make,error,words", [
    (lambda: T.ColorJitter(brightness=-0.1), ValueError, "ColorJitter: if brightness"),
    (lambda: T.ColorJitter(hue=0.7), ValueError, "ColorJitter: hue values"),
    (lambda: T.ColorJitter(contrast="high"), TypeError, "ColorJitter: contrast"),
    (lambda: T.ColorJitter(saturation=(2, 1)), ValueError, "ColorJitter: saturation"),
    (lambda: T.ColorJitter(0.5)(gn.zeros(2, 3, 3)), ValueError, r"ColorJitter: .*1 or 3"),
    (lambda: T.ColorJitter(0.5)("img"), TypeError, "ColorJitter: .*str"),
    (lambda: F.adjust_hue(gn.zeros(3, 2, 2), 0.9), ValueError, "adjust_hue: hue_factor"),
    (lambda: F.adjust_contrast(gn.zeros(3, 2, 2), -1), ValueError, "adjust_contrast: .*>= 0"),
])
def test_color_errors(make, error, words):
    with pytest.raises(error, match=words):
        make()
