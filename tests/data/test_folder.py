"""ImageFolder on PNG, JPEG, BMP and GIF files written here with Pillow."""
import numpy as np
import pytest
from PIL import Image

from glassnet.data import DataFormatError, DataLoader, ImageFolder, transforms


def _save(path, array, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=fmt)
    return array


def _rgb(h, w, seed):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def folder(tmp_path):
    """cat/ (two RGB PNGs), dog/ (an RGB BMP and a nested PNG), plus files to skip."""
    made = {
        "cat/b.png": _save(tmp_path / "cat" / "b.png", _rgb(8, 6, 1)),
        "cat/a.PNG": _save(tmp_path / "cat" / "a.PNG", _rgb(8, 6, 2), "PNG"),
        "dog/x.bmp": _save(tmp_path / "dog" / "x.bmp", _rgb(8, 6, 3)),
        "dog/sub/y.png": _save(tmp_path / "dog" / "sub" / "y.png", _rgb(8, 6, 4)),
    }
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "README").write_text("a file, not a class folder")
    return tmp_path, made


def test_classes_samples_and_lossless_decoding(folder):
    root, made = folder
    ds = ImageFolder(root)
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert [p[len(str(root)) + 1:] for p, _ in ds.samples] == \
        ["cat/a.PNG", "cat/b.png", "dog/x.bmp", "dog/sub/y.png"]
    assert ds.targets.tolist() == [0, 0, 1, 1] and len(ds) == 4
    image, label = ds[1]
    assert image.dtype == np.uint8 and image.shape == (8, 6, 3) and label == 0
    np.testing.assert_array_equal(image, made["cat/b.png"])
    np.testing.assert_array_equal(ds[2][0], made["dog/x.bmp"])
    assert ds.input_shape == (3, 8, 6) and ds.num_classes == 2


def test_batches_through_the_loader_with_to_tensor(folder):
    root, made = folder
    ds = ImageFolder(root, transform=transforms.ToTensor())
    x, y = ds.get_batch(np.array([3, 0]))
    assert x.shape == (2, 3, 8, 6) and x.dtype == np.float32 and y.tolist() == [1, 0]
    np.testing.assert_allclose(x[0] * 255, made["dog/sub/y.png"].transpose(2, 0, 1), atol=1e-3)
    batches = list(DataLoader(ds, batch_size=3))
    assert [tuple(b[0].shape) for b in batches] == [(3, 3, 8, 6), (1, 3, 8, 6)]


def test_gray_stays_hw_and_mixed_sizes_need_size(tmp_path):
    gray = np.arange(20, dtype=np.uint8).reshape(4, 5) * 12
    _save(tmp_path / "a" / "g.png", gray)
    _save(tmp_path / "b" / "big.png", np.full((9, 7), 200, np.uint8))
    ds = ImageFolder(tmp_path)
    np.testing.assert_array_equal(ds[0][0], gray)
    assert ds.input_shape == (1, 4, 5)
    with pytest.raises(ValueError, match=r"different shapes \[\(4, 5\), \(9, 7\)\].*size=\(h, w\)"):
        ds.get_batch(np.array([0, 1]))
    resized = ImageFolder(tmp_path, size=(6, 3))
    x, _ = resized.get_batch(np.array([0, 1]))
    assert x.shape == (2, 6, 3) and x.dtype == np.uint8 and (x[1] == 200).all()
    assert ImageFolder(tmp_path, size=4)[1][0].shape == (4, 4)


def test_modes_jpeg_and_gif(tmp_path):
    smooth = np.tile(np.linspace(0, 255, 16, dtype=np.uint8)[None, :, None], (16, 1, 3))
    _save(tmp_path / "photo" / "p.jpg", smooth, "JPEG")
    palette = Image.fromarray(_rgb(5, 5, 0)).convert("P")
    (tmp_path / "anim").mkdir()
    palette.save(tmp_path / "anim" / "g.gif")
    ds = ImageFolder(tmp_path)
    jpeg, gif = ds[1][0], ds[0][0]
    assert jpeg.shape == (16, 16, 3) and np.abs(jpeg.astype(int) - smooth).max() <= 8  # lossy
    assert gif.shape == (5, 5, 3)                 # palette images become RGB
    np.testing.assert_array_equal(gif, np.asarray(palette.convert("RGB")))
    gray = ImageFolder(tmp_path, mode="L")
    assert gray[1][0].shape == (16, 16) and gray.input_shape == (1, 5, 5)
    with pytest.raises(ValueError, match="mode must be one of"):
        ImageFolder(tmp_path, mode="CMYK")


def test_custom_loader_and_extensions(tmp_path):
    for name in ("a/1.npy", "a/2.npy", "b/3.npy"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        np.save(tmp_path / name, np.full((2, 2), int(name[2]), np.uint8))
    ds = ImageFolder(tmp_path, extensions=(".npy",), loader=np.load)
    assert ds.get_batch(np.array([2, 0]))[0][:, 0, 0].tolist() == [3, 1]


def test_errors_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="ImageFolder: .*missing is not a folder"):
        ImageFolder(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="has no class folders"):
        ImageFolder(tmp_path)
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "x.txt").write_text("text")
    with pytest.raises(FileNotFoundError, match=r"no images \(.png, .jpg.*in the class folders"):
        ImageFolder(tmp_path)
    (tmp_path / "cat" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataFormatError,
                       match="broken.png is not a readable image: not an image in a format"):
        ImageFolder(tmp_path)[0]


def test_train_and_download_follow_the_other_data_sets(tmp_path):
    from PIL import Image
    from glassnet.data import ImageFolder
    for split, colour in (("train", 10), ("test", 200)):
        (tmp_path / split / "a").mkdir(parents=True)
        Image.fromarray(np.full((4, 4), colour, np.uint8)).save(tmp_path / split / "a" / "x.png")
    assert ImageFolder(tmp_path, train=True)[0][0][0, 0] == 10
    assert ImageFolder(tmp_path, train=False)[0][0][0, 0] == 200
    with pytest.raises(ValueError, match="cannot be downloaded"):
        ImageFolder(tmp_path, download=True)
