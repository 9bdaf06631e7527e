"""glassnet.vision.transforms' geometry and colour: the Tensor path against the torch ops
torchvision's own tensor path calls (torch.flip, F.pad, F.interpolate, F.grid_sample
over torchvision's affine grid), the PIL path against Pillow and the two paths against
each other where torchvision documents them to agree."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from PIL import Image

import glassnet as gn
from glassnet.vision import transforms as T
from glassnet.vision.transforms import functional as F

IM = T.InterpolationMode
rng = np.random.default_rng(1)


def _floats(*shape):
    return rng.random(shape).astype(np.float32)


def _tensor(array):
    return gn.from_numpy(np.ascontiguousarray(array))


# --------------------------------------------------------- torch's reference computation

def _torch_affine_grid(matrix, w, h, ow, oh, dtype):
    """torchvision's grid: output pixel centres about the output centre, mapped by the
    inverse matrix, normalised by the input's half size (its _gen_affine_grid)."""
    theta = torch.tensor(matrix, dtype=dtype).reshape(1, 2, 3)
    base = torch.empty(1, oh, ow, 3, dtype=dtype)
    base[..., 0].copy_(torch.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, steps=ow))
    base[..., 1].copy_(torch.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, steps=oh).unsqueeze(-1))
    base[..., 2].fill_(1)
    scaled = theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h], dtype=dtype)
    return base.view(1, oh * ow, 3).bmm(scaled).view(1, oh, ow, 2)


def _torch_warp(array, matrix, mode, fill, out_size=None):
    """grid_sample(padding_mode='zeros', align_corners=False) of the image and a ones mask;
    where the mask says outside, fill (nearest: mask < 0.5; bilinear: blended)."""
    img = torch.from_numpy(np.array(array))
    dtype, squeeze = img.dtype, img.ndim < 4
    img = img.unsqueeze(0) if squeeze else img
    work = img if img.is_floating_point() else img.to(torch.float32)
    h, w = work.shape[-2:]
    oh, ow = out_size or (h, w)
    grid = _torch_affine_grid(matrix, w, h, ow, oh, work.dtype).expand(len(work), oh, ow, 2)
    if fill is not None:
        work = torch.cat([work, torch.ones_like(work[:, :1])], 1)
    out = TF.grid_sample(work, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        mask, out = out[:, -1:].expand_as(out[:, :-1]), out[:, :-1]
        values = torch.tensor(fill, dtype=out.dtype).view(1, -1, 1, 1).expand_as(out)
        out = torch.where(mask < 0.5, values, out) if mode == "nearest" else \
            out * mask + (1.0 - mask) * values
    out = out.squeeze(0) if squeeze else out
    return (out if dtype.is_floating_point else torch.round(out).to(dtype)).numpy()


# ----------------------------------------------------------------- flips, crops, pads

def test_flips_match_torch_flip_and_pillow():
    x = _floats(2, 3, 5, 7)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(_tensor(x)).numpy(),
                                  torch.flip(torch.from_numpy(x), [-1]).numpy())
    flipped = F.vflip(_tensor(x)).numpy()
    np.testing.assert_array_equal(flipped, torch.flip(torch.from_numpy(x), [-2]).numpy())
    assert not np.shares_memory(flipped, x)          # a copy, as torch.flip's
    rgb = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    pil = Image.fromarray(rgb)
    np.testing.assert_array_equal(np.array(F.hflip(pil)), rgb[:, ::-1])
    np.testing.assert_array_equal(np.array(T.RandomVerticalFlip(1.0)(pil)), rgb[::-1])
    assert T.RandomHorizontalFlip(0.0)(pil) is pil


@pytest.mark.parametrize("padding", [2, (1, 3), (0, 1, 2, 3), (2, -1, 1, -2)])
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_tensor_matches_torch_and_pil(padding, mode):
    x = rng.integers(0, 256, (3, 5, 6), dtype=np.uint8)
    out = F.pad(_tensor(x), padding, fill=7, padding_mode=mode).numpy()
    left, top, right, bottom = F._parse_padding(padding, "test")
    if mode == "symmetric":    # torchvision's definition: np.pad's 'symmetric', after cropping
        cut = x[:, max(-top, 0):5 - max(-bottom, 0), max(-left, 0):6 - max(-right, 0)]
        want = np.pad(cut, ((0, 0), (max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))),
                      mode="symmetric")
    else:
        t = torch.from_numpy(x).float()
        want = TF.pad(t, (left, right, top, bottom), mode={"edge": "replicate"}.get(mode, mode),
                      **({"value": 7.0} if mode == "constant" else {})).to(torch.uint8).numpy()
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, want)
    if min(left, top, right, bottom) >= 0:        # Pillow's path gives the same pixels
        pil = F.pad(Image.fromarray(x.transpose(1, 2, 0)), padding, fill=7, padding_mode=mode)
        np.testing.assert_array_equal(np.array(pil).transpose(2, 0, 1), want)


def test_symmetric_pad_documented_example_and_gradient():
    row = gn.tensor([[[1.0, 2.0, 3.0, 4.0]]], requires_grad=True)
    out = F.pad(row, [2, 0], padding_mode="symmetric")
    assert out.detach().numpy().ravel().tolist() == [2, 1, 1, 2, 3, 4, 4, 3]
    out.backward(gn.arange(8.0).reshape(1, 1, 8))
    # each input gathers the gradient of its own place and of its copy in the padding
    assert row.grad.numpy().ravel().tolist() == [1 + 2, 0 + 3, 4 + 7, 5 + 6]


def test_crop_outside_the_image_reads_zero_on_both_paths():
    x = rng.integers(1, 256, (4, 5), dtype=np.uint8)
    want = np.zeros((6, 4), np.uint8)
    want[2:6, 0:3] = x[0:4, 2:5]
    np.testing.assert_array_equal(F.crop(_tensor(x[None]), -2, 2, 6, 4).numpy()[0], want)
    np.testing.assert_array_equal(np.array(F.crop(Image.fromarray(x), -2, 2, 6, 4)), want)
    assert F.crop(_tensor(x[None]), 10, 10, 2, 3).numpy().sum() == 0


@pytest.mark.parametrize("size", [3, (4, 2), (7, 8), (5, 9)])
def test_center_crop_pads_like_torchvision(size):
    x = rng.integers(1, 256, (1, 5, 6), dtype=np.uint8)
    out = T.CenterCrop(size)(_tensor(x)).numpy()
    h, w = (size, size) if isinstance(size, int) else size
    ph, pw = max(h - 5, 0), max(w - 6, 0)
    padded = np.pad(x, ((0, 0), (ph // 2, (ph + 1) // 2), (pw // 2, (pw + 1) // 2)))
    top, left = int(round((padded.shape[1] - h) / 2)), int(round((padded.shape[2] - w) / 2))
    np.testing.assert_array_equal(out, padded[:, top:top + h, left:left + w])
    pil = T.CenterCrop(size)(Image.fromarray(x[0]))
    np.testing.assert_array_equal(np.array(pil), out[0])


# ----------------------------------------------------------------- resize

@pytest.mark.parametrize("hw,size,max_size,want", [
    ((30, 20), 10, None, (15, 10)), ((20, 30), 10, None, (10, 15)),
    ((29, 20), 10, None, (14, 10)), ((20, 20), [12], None, (12, 12)),
    ((20, 50), 10, 20, (8, 20)), ((30, 20), (7, 9), None, (7, 9))])
def test_resize_output_size_rules(hw, size, max_size, want):
    x = _tensor(_floats(1, *hw))
    assert T.Resize(size, max_size=max_size)(x).shape[-2:] == want
    assert T.Resize(size, max_size=max_size)(Image.new("L", hw[::-1])).size == want[::-1]


@pytest.mark.parametrize("mode,antialias", [("bilinear", True), ("bilinear", False),
                                            ("nearest", True), ("nearest-exact", False)])
@pytest.mark.parametrize("size", [(14, 9), (40, 31), (7, 50)])
def test_resize_tensor_matches_interpolate(mode, antialias, size):
    x = _floats(2, 3, 28, 25)
    out = F.resize(_tensor(x), list(size), IM(mode), antialias=antialias).numpy()
    want = TF.interpolate(torch.from_numpy(x), size=size, mode=mode,
                          align_corners=False if mode == "bilinear" else None,
                          antialias=antialias and mode == "bilinear").numpy()
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-6)
    u8 = rng.integers(0, 256, (3, 28, 25), dtype=np.uint8)    # in float32, rounded back
    got = F.resize(_tensor(u8), list(size), IM(mode), antialias=antialias).numpy()
    ref = TF.interpolate(torch.from_numpy(u8)[None].float(), size=size, mode=mode,
                         align_corners=False if mode == "bilinear" else None,
                         antialias=antialias and mode == "bilinear")
    assert got.dtype == np.uint8
    assert np.abs(got.astype(int) - torch.round(ref)[0].numpy().astype(int)).max() <= 1


def test_interpolate_antialias_is_bilinear_only():
    with pytest.raises(ValueError, match="interpolate: antialias .*'nearest'"):
        gn.nn.functional.interpolate(_tensor(_floats(1, 1, 4, 4)), size=2, mode="nearest",
                                     antialias=True)


def test_resize_pil_is_pillow_and_same_size_is_identity():
    pil = Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8))
    for mode, pil_filter in ((IM.BILINEAR, Image.Resampling.BILINEAR),
                             (IM.NEAREST, Image.Resampling.NEAREST),
                             (IM.LANCZOS, Image.Resampling.LANCZOS)):
        assert T.Resize((9, 13), mode)(pil).tobytes() == pil.resize((13, 9), pil_filter).tobytes()
    x = _tensor(_floats(3, 20, 30))
    assert T.Resize(20)(x) is x and T.Resize(20)(pil) is pil


def test_resize_keeps_the_graph():
    x = _floats(1, 9, 8)
    g = _floats(1, 4, 3)
    ours = gn.tensor(x, requires_grad=True)
    T.Resize((4, 3))(ours).backward(gn.from_numpy(g))
    theirs = torch.from_numpy(x).requires_grad_()
    TF.interpolate(theirs[None], size=(4, 3), mode="bilinear", antialias=True).backward(
        torch.from_numpy(g)[None])
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-6)


# ----------------------------------------------------------------- rotate and affine

@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("shape", [(3, 17, 23), (2, 1, 16, 16)])
@pytest.mark.parametrize("angle,translate,scale,shear", [
    (30.0, (2, -3), 1.1, (5.0, 0.0)), (-47.3, (1, 1), 0.8, (-10.0, 7.0)),
    (12.5, (0, 0), 1.3, (0.0, 0.0))])
def test_affine_tensor_matches_grid_sample(mode, shape, angle, translate, scale, shear):
    x = _floats(*shape)
    for fill in (None, [0.5]):
        out = F.affine(_tensor(x), angle, list(translate), scale, list(shear), IM(mode),
                       fill=fill).numpy()
        matrix = F._get_inverse_affine_matrix([0.0, 0.0], angle, list(map(float, translate)),
                                              scale, list(shear))
        np.testing.assert_allclose(out, _torch_warp(x, matrix, mode, fill), rtol=0, atol=1e-5)


def test_affine_nearest_rounds_halfway_to_even_as_grid_sample():
    # a half-pixel shift of a 16 x 16 image puts every source exactly between two pixels,
    # in torch's float32 arithmetic too; grid_sample rounds those halves to even
    x = _floats(1, 16, 16)
    out = F.affine(_tensor(x), 0.0, [0.5, -1.5], 1.0, [0.0, 0.0], fill=[0.25]).numpy()
    matrix = F._get_inverse_affine_matrix([0.0, 0.0], 0.0, [0.5, -1.5], 1.0, [0.0, 0.0])
    np.testing.assert_array_equal(out, _torch_warp(x, matrix, "nearest", [0.25]))


@pytest.mark.parametrize("expand", [False, True])
@pytest.mark.parametrize("center", [None, (3, 4)])
def test_rotate_tensor_matches_grid_sample(expand, center):
    x = rng.integers(0, 256, (3, 11, 14), dtype=np.uint8)
    fill = [10.0, 20.0, 30.0]
    out = F.rotate(_tensor(x), 33.0, IM.BILINEAR, expand=expand, center=center, fill=fill)
    offset = [0.0, 0.0] if center is None else [center[0] - 7.0, center[1] - 5.5]
    matrix = F._get_inverse_affine_matrix(offset, -33.0, [0.0, 0.0], 1.0, [0.0, 0.0])
    size = None
    if expand:    # torchvision's bound: the mapped corners' extent, in float32
        corners = torch.tensor([[-7.0, -5.5, 1.0], [-7.0, 5.5, 1.0], [7.0, 5.5, 1.0],
                                [7.0, -5.5, 1.0]])
        mapped = corners @ torch.tensor(matrix, dtype=torch.float32).view(2, 3).T
        hi = mapped.max(0).values + torch.tensor([7.0, 5.5])
        lo = mapped.min(0).values + torch.tensor([7.0, 5.5])
        ow, oh = (torch.ceil((hi / 1e-4).trunc() * 1e-4) - torch.floor((lo / 1e-4).trunc() * 1e-4)
                  ).int().tolist()
        size = (oh, ow)
        assert out.shape == (3, oh, ow) and (oh, ow) != (11, 14)
    want = _torch_warp(x, matrix, "bilinear", fill, size)
    assert out.dtype == np.uint8
    assert np.abs(out.numpy().astype(int) - want.astype(int)).max() <= 1


def test_rotate_quarter_turn_is_rot90_on_both_paths():
    x = _floats(2, 6, 6)
    out = F.rotate(_tensor(x), 90.0).numpy()
    np.testing.assert_array_equal(out, torch.rot90(torch.from_numpy(x), 1, dims=(-2, -1)).numpy())
    pil = Image.fromarray(rng.integers(0, 256, (6, 6), dtype=np.uint8))
    turned = T.RandomRotation((90, 90))(pil)
    assert turned.tobytes() == pil.transpose(Image.Transpose.ROTATE_90).tobytes()
    # a shift by whole pixels moves content right/down and fills the rest
    moved = F.affine(pil, 0.0, [2, 1], 1.0, 0.0, fill=5)
    want = np.full((6, 6), 5, np.uint8)
    want[1:, 2:] = np.array(pil)[:-1, :-2]
    np.testing.assert_array_equal(np.array(moved), want)
    np.testing.assert_array_equal(
        F.affine(F.pil_to_tensor(pil), 0.0, [2, 1], 1.0, 0.0, fill=[5.0]).numpy()[0], want)


def test_random_affine_on_pil_uses_pillow_transform():
    pil = Image.fromarray(rng.integers(0, 256, (9, 12, 3), dtype=np.uint8))
    gn.manual_seed(4)
    out = T.RandomAffine(15, translate=(0.1, 0.1), fill=(1, 2, 3))(pil)
    gn.manual_seed(4)
    angle, translate, scale, shear = T.RandomAffine.get_params([-15.0, 15.0], (0.1, 0.1),
                                                               None, None, [12, 9])
    matrix = F._get_inverse_affine_matrix([6.0, 4.5], angle, translate, scale, shear)
    want = pil.transform((12, 9), Image.Transform.AFFINE, matrix, Image.Resampling.NEAREST,
                         fillcolor=(1, 2, 3))
    assert out.tobytes() == want.tobytes()


def test_inverse_affine_matrix_inverts_the_forward_one():
    args = ([3.0, -2.0], 25.0, [4.0, 1.0], 1.3, [10.0, -5.0])
    inv = np.vstack([np.reshape(F._get_inverse_affine_matrix(*args), (2, 3)), [0, 0, 1]])
    fwd = np.vstack([np.reshape(F._get_inverse_affine_matrix(*args, inverted=False), (2, 3)),
                     [0, 0, 1]])
    np.testing.assert_allclose(inv @ fwd, np.eye(3), atol=1e-12)
    assert math.isclose(np.linalg.det(fwd[:2, :2]), 1.3 ** 2)


# ----------------------------------------------------------------- grayscale, resized crop

def test_grayscale_pil_and_tensor_rules():
    rgb = rng.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    gray = np.array(T.Grayscale()(Image.fromarray(rgb))).astype(int)
    r, g, b = rgb.astype(int).transpose(2, 0, 1)
    luma = (299 * r + 587 * g + 114 * b) / 1000
    assert np.abs(gray - luma).max() <= 0.5 + 1e-9          # Pillow rounds ITU-R 601-2
    three = T.Grayscale(3)(Image.fromarray(rgb))
    assert three.mode == "RGB" and (np.array(three) == gray[..., None]).all()
    for x in (rgb.transpose(2, 0, 1), rgb.transpose(2, 0, 1) / np.float32(255)):
        t = torch.from_numpy(np.ascontiguousarray(x))
        r, g, b = (t.float() if not t.is_floating_point() else t).unbind(-3)
        want = (0.2989 * r + 0.587 * g + 0.114 * b).to(t.dtype).unsqueeze(-3).numpy()
        np.testing.assert_array_equal(T.Grayscale()(_tensor(x)).numpy(), want)
        np.testing.assert_array_equal(T.Grayscale(3)(_tensor(x)).numpy(),
                                      np.concatenate([want] * 3, axis=-3))


def test_random_resized_crop_is_crop_then_resize():
    x = _tensor(_floats(3, 30, 40))
    gn.manual_seed(2)
    out = T.RandomResizedCrop((12, 10))(x)
    gn.manual_seed(2)
    top, left, h, w = T.RandomResizedCrop.get_params(x, (0.08, 1.0), (3 / 4, 4 / 3))
    want = F.resize(F.crop(x, top, left, h, w), [12, 10])
    assert out.shape == (3, 12, 10)
    np.testing.assert_array_equal(out.numpy(), want.numpy())
    assert T.RandomResizedCrop(8)(Image.new("RGB", (30, 20))).size == (8, 8)
