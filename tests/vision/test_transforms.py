"""glassnet.vision.transforms: conversions, Normalize, the batched path, randomness and
errors, against torch's own arithmetic and torchvision's documented behaviour."""
import numpy as np
import pytest
import torch
from PIL import Image

import glassnet as gn
import glassnet.vision as torchvision
from glassnet.vision import transforms as T
from glassnet.vision.transforms import functional as F

rng = np.random.default_rng(0)


def _bytes(*shape):
    return rng.integers(0, 256, shape, dtype=np.uint8)


def _torch_to_tensor(array):
    """torchvision's rule for an (H, W, C) array, written with torch."""
    t = torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))
    return t.float().div(255).numpy() if t.dtype == torch.uint8 else t.numpy()


# ----------------------------------------------------------------- conversion

def test_import_forms():
    assert torchvision.transforms.ToTensor is T.ToTensor
    assert T.functional is F and T.InterpolationMode.BILINEAR.value == "bilinear"


@pytest.mark.parametrize("mode,bands", [("L", 1), ("RGB", 3), ("RGBA", 4), ("LA", 2),
                                        ("CMYK", 4), ("YCbCr", 3)])
def test_to_tensor_byte_modes_scale_by_255(mode, bands):
    img = Image.fromarray(_bytes(5, 7, 3), "RGB").convert(mode)
    x = T.ToTensor()(img)
    pixels = np.array(img).reshape(5, 7, bands)
    assert x.shape == (bands, 5, 7) and x.dtype == np.float32
    np.testing.assert_array_equal(x.numpy(), _torch_to_tensor(pixels))
    assert 0.0 <= x.numpy().min() and x.numpy().max() <= 1.0


def test_to_tensor_special_pil_modes():
    ints = rng.integers(-1000, 100000, (4, 6)).astype(np.int32)
    x = F.to_tensor(Image.fromarray(ints, "I"))
    assert x.dtype == np.int32 and x.shape == (1, 4, 6)
    np.testing.assert_array_equal(x.numpy()[0], ints)          # not scaled
    floats = rng.normal(size=(4, 6)).astype(np.float32) * 300
    np.testing.assert_array_equal(F.to_tensor(Image.fromarray(floats, "F")).numpy()[0], floats)
    words = rng.integers(0, 30000, (4, 6)).astype(np.uint16)
    x16 = F.to_tensor(Image.fromarray(words))                   # mode I;16
    assert x16.dtype == np.int16
    np.testing.assert_array_equal(x16.numpy()[0], words)
    bits = Image.fromarray(_bytes(4, 6) > 127)                  # mode '1': 0/255 -> 0/1
    np.testing.assert_array_equal(F.to_tensor(bits).numpy()[0], np.array(bits, np.float32))
    pal = Image.fromarray(_bytes(4, 6), "L").convert("P")       # palette indices, scaled
    np.testing.assert_array_equal(F.to_tensor(pal).numpy()[0], np.array(pal) / np.float32(255))


def test_to_tensor_ndarrays():
    hw = _bytes(5, 6)
    np.testing.assert_array_equal(F.to_tensor(hw).numpy(), _torch_to_tensor(hw[:, :, None]))
    hwc = _bytes(5, 6, 3)
    x = F.to_tensor(hwc)
    assert x.numpy().flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(x.numpy(), _torch_to_tensor(hwc))
    floats = rng.random((5, 6, 2)) * 7                          # other dtypes: not divided
    y = F.to_tensor(floats)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y.numpy(), floats.transpose(2, 0, 1))


def test_pil_to_tensor_and_back():
    rgb = Image.fromarray(_bytes(6, 5, 3), "RGB")
    x = T.PILToTensor()(rgb)
    assert x.dtype == np.uint8 and x.shape == (3, 6, 5)
    np.testing.assert_array_equal(x.numpy(), np.array(rgb).transpose(2, 0, 1))
    back = T.ToPILImage()(x)
    assert back.mode == "RGB" and back.tobytes() == rgb.tobytes()
    # floats are scaled by 255 and truncated; one channel of each dtype picks its mode
    f = T.ToPILImage()(F.to_tensor(rgb))
    np.testing.assert_array_equal(np.array(f), (np.array(rgb) / np.float32(255) * 255)
                                  .astype(np.uint8))
    assert T.ToPILImage()(gn.zeros(1, 3, 4)).mode == "L"
    assert F.to_pil_image(np.zeros((3, 4), np.float32), mode="F").mode == "F"
    assert F.to_pil_image(np.zeros((3, 4), np.int32)).mode == "I"
    assert F.to_pil_image(np.arange(12, dtype=np.int16).reshape(3, 4)).mode == "I;16"
    assert F.to_pil_image(np.zeros((3, 4, 2), np.uint8)).mode == "LA"
    assert F.to_pil_image(np.zeros((3, 4, 4), np.uint8)).mode == "RGBA"
    assert F.to_pil_image(np.zeros((3, 4, 3), np.uint8), mode="YCbCr").mode == "YCbCr"


@pytest.mark.parametrize("src,dst", [(np.uint8, np.float32), (np.float32, np.uint8),
                                     (np.uint8, np.int32), (np.int32, np.uint8),
                                     (np.float64, np.float32), (np.int16, np.float64)])
def test_convert_image_dtype_matches_torchvision_rules(src, dst):
    if np.issubdtype(src, np.integer):
        a = rng.integers(0, np.iinfo(src).max, (2, 4, 5), dtype=src)
    else:
        a = rng.random((2, 4, 5)).astype(src)
    out = T.ConvertImageDtype(dst)(gn.from_numpy(a)).numpy()
    t = torch.from_numpy(a)
    tdst = {np.float32: torch.float32, np.float64: torch.float64, np.uint8: torch.uint8,
            np.int32: torch.int32}[dst]
    if np.issubdtype(src, np.floating) and np.issubdtype(dst, np.floating):
        want = t.to(tdst)
    elif np.issubdtype(src, np.floating):
        want = t.mul(float(np.iinfo(dst).max) + 1.0 - 1e-3).to(tdst)
    elif np.issubdtype(dst, np.floating):
        want = t.to(tdst) / float(np.iinfo(src).max)
    elif np.iinfo(src).max > np.iinfo(dst).max:
        want = torch.div(t, (np.iinfo(src).max + 1) // (np.iinfo(dst).max + 1),
                         rounding_mode="floor").to(tdst)
    else:
        want = t.to(tdst) * ((np.iinfo(dst).max + 1) // (np.iinfo(src).max + 1))
    assert out.dtype == dst
    np.testing.assert_array_equal(out, want.numpy())


# ----------------------------------------------------------------- Normalize

@pytest.mark.parametrize("shape,mean,std", [((1, 8, 9), (0.1307,), (0.3081,)),
                                            ((3, 5, 4), (0.485, 0.456, 0.406),
                                             (0.229, 0.224, 0.225)),
                                            ((2, 3, 4, 4), 0.5, 0.25)])
def test_normalize_matches_torch_sub_div(shape, mean, std):
    x = rng.random(shape).astype(np.float32)
    t = torch.from_numpy(x.copy())
    m = torch.as_tensor(mean, dtype=torch.float32)
    s = torch.as_tensor(std, dtype=torch.float32)
    want = t.sub_(m.view(-1, 1, 1) if m.ndim else m).div_(s.view(-1, 1, 1) if s.ndim else s)
    got = T.Normalize(mean, std)(gn.from_numpy(x))
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert not np.shares_memory(got.numpy(), x)
    same = gn.from_numpy(x)
    assert T.Normalize(mean, std, inplace=True)(same) is same
    np.testing.assert_array_equal(x, want.numpy())


def test_normalize_keeps_the_graph():
    x = gn.tensor(rng.random((3, 4, 4)).astype(np.float32), requires_grad=True)
    T.Normalize((0.5, 0.4, 0.3), (0.5, 0.25, 2.0))(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[:, 0, 0], [2.0, 4.0, 0.5])


# ----------------------------------------------------------------- batches

def test_to_tensor_normalize_batch_equals_per_image():
    for images in (_bytes(6, 28, 28), _bytes(5, 8, 7, 3)):
        channels = 1 if images.ndim == 3 else 3
        chain = T.Compose([T.ToTensor(), T.Normalize([0.3] * channels, [0.7] * channels)])
        assert chain.batchable and T.ToTensor().batchable and T.Normalize(0, 1).batchable
        batch = chain.apply_batch(images)
        assert batch.dtype == np.float32 and batch.shape == (len(images), channels) + \
            images.shape[1:3] and batch.flags["C_CONTIGUOUS"]
        per_image = np.stack([chain(Image.fromarray(im)).numpy() for im in images])
        np.testing.assert_array_equal(batch, per_image)
        np.testing.assert_array_equal(T.ToTensor().apply_batch(images),
                                      np.stack([F.to_tensor(im).numpy() for im in images]))


def test_batchable_flags_and_refusal():
    assert not T.Compose([T.ToTensor(), T.RandomRotation(10)]).batchable
    assert not T.Resize(10).batchable and not T.Lambda(lambda x: x).batchable
    # flips and crops run on batches only where per-image calls would give tensors
    assert T.Compose([T.RandomHorizontalFlip(), T.RandomCrop(3), T.ToTensor()]).batchable
    assert T.Compose([T.PILToTensor(), T.RandomVerticalFlip()]).batchable
    assert not T.RandomHorizontalFlip().batchable
    assert not T.Compose([T.RandomHorizontalFlip()]).batchable
    assert not T.Compose([T.RandomCrop(4, padding=1, padding_mode="edge"),
                          T.ToTensor()]).batchable
    with pytest.raises(TypeError, match="Compose: .*RandomRotation"):
        T.Compose([T.ToTensor(), T.RandomRotation(10)]).apply_batch(_bytes(2, 5, 5))
    with pytest.raises(TypeError, match="Normalize: .*float"):
        T.Normalize(0.5, 0.5).apply_batch(_bytes(2, 1, 5, 5))


@pytest.mark.parametrize("flip,axis", [(T.RandomHorizontalFlip, -1), (T.RandomVerticalFlip, -2)])
def test_random_flips_batch_repeats_per_image_draws(flip, axis):
    images = _bytes(40, 5, 6, 3)
    gn.manual_seed(7)
    per_image = np.stack([np.array(flip()(Image.fromarray(im))) for im in images])
    flipped = [not np.array_equal(a, b) for a, b in zip(per_image, images)]
    assert 8 < sum(flipped) < 32                              # p = 0.5, not all or none
    gn.manual_seed(7)
    batch = T.Compose([flip(), T.PILToTensor()]).apply_batch(images)
    np.testing.assert_array_equal(batch, per_image.transpose(0, 3, 1, 2))
    tensors = rng.random((9, 2, 4, 5)).astype(np.float32)
    gn.manual_seed(3)
    one_by_one = np.stack([flip(p=0.5)(gn.from_numpy(x)).numpy() for x in tensors])
    gn.manual_seed(3)
    np.testing.assert_array_equal(flip(p=0.5).apply_batch(tensors), one_by_one)
    np.testing.assert_array_equal(flip(p=1.0).apply_batch(tensors), np.flip(tensors, axis))


def test_random_crop_batch_repeats_per_image_draws():
    images = _bytes(12, 6, 7)
    crop = T.RandomCrop((5, 8), padding=(1, 2), fill=9, pad_if_needed=True)
    gn.manual_seed(11)
    per_image = np.stack([np.array(crop(Image.fromarray(im))) for im in images])
    gn.manual_seed(11)
    batch = crop.apply_batch(images, channels_last=True)
    np.testing.assert_array_equal(batch, per_image)
    assert len({b.tobytes() for b in batch}) > 3                # the boxes differ
    chain = T.Compose([T.ToTensor(), T.RandomCrop(4, padding=2)])
    gn.manual_seed(5)
    tensor_batch = chain.apply_batch(images)
    gn.manual_seed(5)
    want = np.stack([chain.transforms[1](F.to_tensor(im)).numpy() for im in images])
    np.testing.assert_array_equal(tensor_batch, want)


def test_nested_compose_batches_in_the_right_layout():
    images = _bytes(4, 5, 6, 3)
    chain = T.Compose([T.Compose([T.RandomHorizontalFlip(1.0)]), T.ToTensor(),
                       T.Compose([T.RandomVerticalFlip(1.0), T.Normalize(0.5, 0.5)])])
    assert chain.batchable
    np.testing.assert_array_equal(chain.apply_batch(images),
                                  np.stack([chain(Image.fromarray(im)).numpy() for im in images]))


# ----------------------------------------------------------------- randomness

@pytest.mark.parametrize("make", [lambda: T.RandomRotation(40),
                                  lambda: T.RandomAffine(20, (0.2, 0.1), (0.8, 1.2), (5, 10)),
                                  lambda: T.RandomCrop(5, padding=2),
                                  lambda: T.RandomResizedCrop(6),
                                  lambda: T.RandomHorizontalFlip()])
def test_seeded_random_transforms_repeat(make):
    img = gn.from_numpy(rng.random((3, 9, 9)).astype(np.float32))
    outs = []
    for _ in range(2):
        gn.manual_seed(123)
        t = make()
        outs.append([t(img).numpy() for _ in range(4)])
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(outs[0][0], o) for o in outs[0][1:])


def test_get_params_ranges():
    gn.manual_seed(0)
    angles = [T.RandomRotation.get_params([-10.0, 30.0]) for _ in range(300)]
    assert -10 <= min(angles) < -8 and 28 < max(angles) <= 30
    for _ in range(50):
        angle, (tx, ty), scale, (sx, sy) = T.RandomAffine.get_params(
            [-5.0, 5.0], (0.1, 0.2), (0.9, 1.1), [-3.0, 3.0, 1.0, 2.0], [40, 20])
        assert abs(angle) <= 5 and abs(tx) <= 4 and abs(ty) <= 4 and isinstance(tx, int)
        assert 0.9 <= scale <= 1.1 and abs(sx) <= 3 and 1 <= sy <= 2
    img = Image.new("RGB", (30, 20))
    for _ in range(50):
        i, j, h, w = T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= i <= 20 - h and 0 <= j <= 30 - w and h > 0 and w > 0
    # a ratio no box can have falls back to the central box of the nearest allowed ratio
    assert T.RandomResizedCrop.get_params(img, (1.0, 1.0), (5.0, 6.0)) == (7, 0, 6, 30)
    assert T.RandomCrop.get_params(img, (20, 30)) == (0, 0, 20, 30)


# ----------------------------------------------------------------- errors

@pytest.mark.parametrize("transform,given,error,words", [
    (T.Normalize((0.5,), (0.5,)), Image.new("L", (4, 4)), TypeError, "Normalize: .*PIL image"),
    (T.Normalize((0.5,), (0.5,)), gn.zeros(4, 4), ValueError, r"Normalize: .*\(4, 4\)"),
    (T.Normalize((0.5, 0.5, 0.5), (1, 1, 1)), gn.zeros(1, 4, 4), ValueError,
     "Normalize: mean has 3 values but the image has 1 channel"),
    (T.Normalize(0.5, 0.5), gn.zeros(1, 4, 4, dtype=gn.uint8), TypeError, "Normalize: .*float"),
    (T.ToTensor(), gn.zeros(1, 4, 4), TypeError, "ToTensor: .*got a Tensor"),
    (T.ToTensor(), np.zeros((2, 2, 2, 2)), ValueError, "ToTensor: .*ndarray"),
    (T.Resize(8), "image.png", TypeError, "Resize: .*got str"),
    (T.RandomCrop(10), gn.zeros(1, 4, 4), ValueError, "RandomCrop: .*larger"),
    (T.Grayscale(), gn.zeros(2, 4, 4), ValueError, r"Grayscale: .*1 or 3"),
    (T.RandomRotation(10, interpolation=T.InterpolationMode.BICUBIC), gn.zeros(1, 4, 4),
     ValueError, "RandomRotation: .*bicubic"),
    (T.Pad(2, padding_mode="reflect"), gn.zeros(1, 2, 2), ValueError, "Pad: .*reflect"),
    (T.Pad(1, fill=(1, 2)), gn.zeros(1, 2, 2), TypeError, "Pad: fill"),
    (T.RandomAffine(0, fill=(1, 2)), gn.zeros(3, 2, 2), ValueError, "RandomAffine: fill has 2"),
    (T.PILToTensor(), np.zeros((2, 2)), TypeError, "PILToTensor: .*ndarray"),
    (T.RandomHorizontalFlip(), [1, 2], TypeError, "RandomHorizontalFlip: .*list"),
])
def test_bad_inputs_name_the_transform(transform, given, error, words):
    with pytest.raises(error, match=words):
        transform(given)


@pytest.mark.parametrize("make,error,words", [
    (lambda: T.RandomRotation(-5), ValueError, "RandomRotation: .*>= 0"),
    (lambda: T.RandomRotation((1, 2, 3)), ValueError, "RandomRotation: degrees"),
    (lambda: T.RandomAffine(5, translate=(0.5, 2)), ValueError, "RandomAffine: translation"),
    (lambda: T.RandomAffine(5, scale=(0, 1)), ValueError, "RandomAffine: scale"),
    (lambda: T.Normalize((0.5,), (0.0,)), ValueError, "Normalize: std"),
    (lambda: T.Resize((1, 2, 3)), ValueError, "Resize: .*1 or 2"),
    (lambda: T.Resize(10, interpolation="fast"), TypeError, "Resize: interpolation"),
    (lambda: T.Pad(1, padding_mode="wrap"), ValueError, "Pad: padding_mode"),
    (lambda: T.Pad((1, 2, 3)), ValueError, "Pad: padding"),
    (lambda: T.CenterCrop((0, 3)), ValueError, "CenterCrop: size"),
    (lambda: T.RandomHorizontalFlip(p=1.5), ValueError, "RandomHorizontalFlip: p"),
    (lambda: T.Grayscale(2), ValueError, "Grayscale: num_output_channels"),
    (lambda: T.Lambda(3), TypeError, "Lambda: lambd"),
    (lambda: T.RandomResizedCrop(8, scale=(1.0, 0.5)), ValueError, "RandomResizedCrop: scale"),
])
def test_bad_arguments_name_the_transform(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_functional_errors_name_the_function():
    with pytest.raises(TypeError, match="^hflip: "):
        F.hflip(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="^resize: max_size"):
        F.resize(gn.zeros(1, 4, 6), 4, max_size=3)
    with pytest.raises(ValueError, match="^to_pil_image: "):
        F.to_pil_image(np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(ValueError, match="^convert_image_dtype: .*safely"):
        F.convert_image_dtype(gn.zeros(1, 2, 2), np.int64)
