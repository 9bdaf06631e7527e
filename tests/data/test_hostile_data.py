"""Hostile data files: bombs, garbage and lies in IDX, CIFAR pickles and images.

Each crafted file (`hostile_files`) must end in one DataFormatError naming it, its cause
chained; the bombs are read in a child process whose peak resident memory is measured
(VmHWM, else ru_maxrss, before and after), so that a reader that inflates what it is
given fails here rather than on a user's machine.
"""
import gzip
import os
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from glassnet.cli import main
from glassnet.data import (DataFormatError, DataLoader, ImageFolder, images, read_idx,
                           set_max_image_pixels)
from glassnet.data.cifar import (CIFAR10, MAX_PICKLE_BYTES, MAX_PICKLE_OPS, load_pickle,
                                 read_label_names)
from glassnet.data.mnist import IMAGES, MAX_IDX_BYTES
from glassnet.vision import datasets, transforms

from .hostile_files import (HOSTILE, Crafted, MiB, numpy_reconstruct, assert_refused_within,
                            crafted_array, crafted_dtype, crafted_pickle, gzip_zeros,
                            hostile_folder, idx_header, many_text_chunks,
                            memo_reference_pickle, nested_tuple_key_pickle, peak_rise, png,
                            png_with_garbage_in_idat, text_chunk_bomb, truncated_jpeg, write)


def assert_data_format_error(call, path, *fragments, cause=None):
    """call() raises one DataFormatError naming `path` and saying `fragments`, with an
    exception of type `cause` chained when given."""
    with pytest.raises(DataFormatError) as info:
        call()
    message = str(info.value)
    assert str(path) in message, message
    for f in fragments:
        assert f in message, message
    if cause is not None:
        assert isinstance(info.value.__cause__, cause), repr(info.value.__cause__)
    return info.value


@pytest.fixture
def pixel_limit():
    """Restores glassnet's pixel limit after a test that changes it."""
    previous = images.max_image_pixels()
    yield
    set_max_image_pixels(previous)


# ----------------------------------------------------------------------------- IDX
def test_gzip_bomb_idx_is_read_only_as_far_as_its_header_declares(tmp_path):
    # declares 60000 28x28 images (47 MB) but inflates to 256 MiB: reading stops one byte
    # past the declared size
    bomb = write(tmp_path / "train-images-idx3-ubyte.gz",
                 gzip_zeros(idx_header((60000, 28, 28)), 256 * MiB))
    assert len(bomb.read_bytes()) < 300_000
    rise = assert_refused_within(f"read_idx({str(bomb)!r}, 2051, 3)", 47 + 16,
                                 str(bomb), "more than the 47040000 data bytes")
    print(f"gzip bomb idx: peak rise {rise:.0f} MiB")


def test_absurd_idx_dims_are_refused_before_allocating(tmp_path):
    huge = write(tmp_path / "a.gz", gzip.compress(idx_header((60000, 60000, 60000))))
    assert_refused_within(f"read_idx({str(huge)!r}, 2051, 3)", 10, str(huge),
                          f"more than the limit of {MAX_IDX_BYTES:,}")
    # within the cap, but no 1 KB gzip file can inflate to 9 MB
    liar = write(tmp_path / "b.gz", gzip.compress(idx_header((3000, 56, 56)) + bytes(800)))
    assert_data_format_error(lambda: read_idx(liar, IMAGES, 3), liar,
                             "more than a", "gzip file can hold")
    raw = write(tmp_path / "c", idx_header((60000, 60000, 60000)) + bytes(100))
    assert_data_format_error(lambda: read_idx(raw, IMAGES, 3), raw,
                             "more than the limit")
    small = write(tmp_path / "d", idx_header((10, 28, 28)) + bytes(100))
    assert_data_format_error(lambda: read_idx(small, IMAGES, 3), small,
                             "100 data bytes, but the header promises [10, 28, 28] = 7840")
    with pytest.raises(DataFormatError, match="more than the limit of 7,000"):
        read_idx(small, IMAGES, 3, max_bytes=7000)


def test_idx_corruption_is_one_error_with_its_cause(tmp_path):
    good = gzip.compress(idx_header((2, 28, 28)) + bytes(range(256)) * 6 + bytes(32))
    cut = write(tmp_path / "cut.gz", good[:len(good) // 2])
    assert_data_format_error(lambda: read_idx(cut, IMAGES, 3), cut, "corrupt or truncated",
                             cause=EOFError)
    flipped = bytearray(good)
    flipped[14:20] = b"\xff" * 6                    # inside the deflate stream
    bad = write(tmp_path / "bad.gz", bytes(flipped))
    assert_data_format_error(lambda: read_idx(bad, IMAGES, 3), bad,
                             "the gzip data cannot be read", cause=(zlib.error, OSError))
    crc = bytearray(good)
    crc[-8] ^= 1                                     # the trailer's CRC-32
    bad_crc = write(tmp_path / "crc.gz", bytes(crc))
    assert_data_format_error(lambda: read_idx(bad_crc, IMAGES, 3), bad_crc, "CRC",
                             cause=OSError)
    extra = write(tmp_path / "extra.gz", good + gzip.compress(b"more"))   # a second member
    assert_data_format_error(lambda: read_idx(extra, IMAGES, 3), extra,
                             "more than the 1568 data bytes")


def test_idx_is_recognised_by_content_not_name(tmp_path):
    data = np.arange(2 * 28 * 28, dtype=np.uint64).astype(np.uint8).reshape(2, 28, 28)
    payload = idx_header((2, 28, 28)) + data.tobytes()
    for name, body in (("gz-without-suffix", gzip.compress(payload)), ("raw.gz", payload)):
        got = read_idx(write(tmp_path / name, body), IMAGES, 3)
        np.testing.assert_array_equal(got, data)
        assert got.flags.writeable


def test_idx_path_problems_keep_their_type(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing.gz", IMAGES, 3)
    with pytest.raises(IsADirectoryError):
        read_idx(tmp_path, IMAGES, 3)


def test_readers_out_of_memory_say_so(tmp_path):
    # files within every limit, read with 40 MiB of address space to spare
    idx = tmp_path / "big-idx"
    with open(idx, "wb") as f:
        f.write(idx_header((200, 1000, 1000)))
        f.truncate(16 + 200_000_000)                 # sparse
    assert_refused_within(f"read_idx({str(idx)!r}, 2051, 3)", 50, str(idx),
                          "200,000,000 bytes do not fit in the memory available",
                          headroom_mib=40)
    image = write(tmp_path / "big.png", png(5000, 5000))
    assert_refused_within(f"glassnet.data.pil_loader({str(image)!r})", 50, str(image),
                          "too large to decode in the memory available", headroom_mib=40)


# --------------------------------------------------------------------- CIFAR pickles
def test_oversized_cifar_file_is_refused_unread(tmp_path):
    big = tmp_path / "data_batch_1"
    with open(big, "wb") as f:
        f.truncate(MAX_PICKLE_BYTES + MiB)           # sparse: costs no disk
    rise = assert_refused_within(f"glassnet.data.cifar.load_pickle({str(big)!r})", 10,
                                 str(big), "more than the 67,108,864")
    print(f"oversized CIFAR file: peak rise {rise:.0f} MiB")


def test_cifar_pickle_of_most_opcodes_stays_small(tmp_path):
    # every opcode an empty set (216 bytes each, the largest object one opcode makes)
    sets = write(tmp_path / "sets", b"\x80\x04](" + b"\x8f" * (MAX_PICKLE_OPS - 6) + b"e.")
    rise = assert_refused_within(f"glassnet.data.cifar.read_batch({str(sets)!r})", 80,
                                 str(sets), "expected a pickled dict, got list")
    print(f"CIFAR pickle of {MAX_PICKLE_OPS:,} empty sets: peak rise {rise:.0f} MiB")


def test_deeply_nested_cifar_pickle_is_refused_not_a_crash(tmp_path):
    # a million-deep tuple as a dict key, 1 MB: hashing it overflows the C stack
    deep = write(tmp_path / "test_batch", nested_tuple_key_pickle(1_000_000))
    rise = assert_refused_within(f"glassnet.data.cifar.load_pickle({str(deep)!r})", 40,
                                 str(deep), "nests deeper than 32 levels")
    print(f"nested CIFAR pickle: peak rise {rise:.0f} MiB")


def test_cifar_pickle_shape_limits(tmp_path):
    refs = write(tmp_path / "refs", memo_reference_pickle(MAX_PICKLE_OPS))
    assert_data_format_error(lambda: load_pickle(refs), refs,
                             f"more than {MAX_PICKLE_OPS:,} pickle opcodes")
    # LONG_BINPUT 2**31: CPython's unpickler would allocate and zero a 32 GiB memo table
    far = write(tmp_path / "far", b"\x80\x02Nr\x00\x00\x00\x80.")
    assert_data_format_error(lambda: load_pickle(far), far, "it stores memo entry 2,147,483,648")
    # BINBYTES8 declaring 1 TiB: the unpickler would allocate it before reading
    huge = write(tmp_path / "huge", b"\x80\x04\x8e" + struct.pack("<Q", 1 << 40) + b"abc.")
    assert_data_format_error(lambda: load_pickle(huge), huge, "truncated or corrupt")
    assert load_pickle(write(tmp_path / "few", memo_reference_pickle(10))) == {b"labels": [7] * 11}
    for name, junk in (("empty", b""), ("cut", memo_reference_pickle(10)[:-3]),
                       ("underflow", b"\x80\x02e."), ("memo", b"\x80\x02h\x09.")):
        path = write(tmp_path / name, junk)
        assert_data_format_error(lambda: load_pickle(path), path,
                                 "not a readable CIFAR pickle, truncated or corrupt")


def test_numpy_names_in_a_cifar_pickle_are_stand_ins(tmp_path):
    def refused(name, obj, *fragments):
        path = write(tmp_path / name, crafted_pickle(obj))
        assert_data_format_error(lambda: load_pickle(path), path, *fragments)

    # numpy.ndarray((10**8,), 'O') would fill 800 MB with None
    refused("call", Crafted(np.ndarray, ((10**8,), "O")), "numpy.ndarray is called")
    # _reconstruct's shape is only numpy's placeholder: the array comes from BUILD's state
    refused("unbuilt", {"data": Crafted(numpy_reconstruct, (np.ndarray, (10**8,), "O"))},
            "an array without its state")
    refused("objects", {"data": crafted_array((1,), crafted_dtype("O"), b"12345678")},
            "refusing dtype object")
    with_fields = crafted_dtype("u1", names=("a",), fields={"a": (crafted_dtype("u1"), 0)})
    refused("fields", {"data": crafted_array((3,), with_fields, b"abc")},
            "a dtype's state may set only its byte order")
    refused("short", {"data": crafted_array((10**8,), crafted_dtype("u1"), b"abc")},
            "an array of shape (100000000,) and dtype uint8 comes with 3 bytes")
    refused("lying state", {"data": crafted_array("(3,)", crafted_dtype("u1"), b"abc")},
            "a shape of sizes, a numeric dtype and its bytes")
    refused("os.system", Crafted(os.system, ("true",)), "refusing to load posix.system")
    good = write(tmp_path / "good", crafted_pickle({
        "data": crafted_array((3,), crafted_dtype("u1"), b"abc"),
        "big": crafted_array((2,), crafted_dtype("i4", ">"), b"\x00\x00\x01\x02\x00\x00\x00\x01"),
        "fortran": crafted_array((2, 2), crafted_dtype("u1"), b"\x01\x02\x03\x04", fortran=True)}))
    arrays = load_pickle(good)
    assert arrays["data"].dtype == np.uint8 and arrays["data"].tolist() == [97, 98, 99]
    assert arrays["data"].flags.writeable
    assert arrays["big"].tolist() == [258, 1]
    assert arrays["fortran"].tolist() == [[1, 3], [2, 4]]


def test_cifar_reader_errors_are_data_format_errors_naming_the_file(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    deep = write(folder / "test_batch", nested_tuple_key_pickle(50))
    assert_data_format_error(lambda: CIFAR10(tmp_path, train=False), deep, "nests deeper")
    # found by the fuzzer: class names that are not UTF-8 (UnicodeDecodeError escaped)
    meta = write(folder / "batches.meta", crafted_pickle({b"label_names": [b"cat\xe1\x80"]}))
    assert_data_format_error(lambda: read_label_names(meta), meta,
                             "a label name is not UTF-8 text", cause=UnicodeDecodeError)
    with pytest.raises(FileNotFoundError):
        load_pickle(tmp_path / "missing")
    with pytest.raises(IsADirectoryError):
        load_pickle(folder)


# --------------------------------------------------------------------------- images
def _open_in_child(path):
    return f"glassnet.data.pil_loader({str(path)!r})"


def test_png_declaring_60000x60000_pixels_is_refused(tmp_path):
    bomb = write(tmp_path / "huge.png", png(60000, 60000, idat=zlib.compress(b"")))
    assert len(bomb.read_bytes()) < 100
    assert_data_format_error(lambda: images.image_array(bomb), bomb,
                             "it has 3,600,000,000 pixels, more than the limit of 33,554,432",
                             "--max-image-pixels", cause=Image.DecompressionBombError)
    rise = assert_refused_within(_open_in_child(bomb), 10, str(bomb), "decompression bomb")
    print(f"60000x60000 PNG: peak rise {rise:.0f} MiB")


def test_png_image_data_bomb_is_refused_before_decoding(tmp_path):
    # 8192x8192 RGB zeros: 200 KB of file, 256 MiB in Pillow's memory, more converted
    bomb = write(tmp_path / "zeros.png", png(8192, 8192))
    assert len(bomb.read_bytes()) < 250_000
    rise = assert_refused_within(_open_in_child(bomb), 20, str(bomb), "it has 67,108,864 pixels")
    print(f"8192x8192 PNG of zeros: peak rise {rise:.0f} MiB")


def test_pillow_warning_zone_is_a_refusal_and_the_limit_can_be_raised(tmp_path, pixel_limit):
    path = write(tmp_path / "a.png", png(20, 10))
    assert set_max_image_pixels(100) == 2**25
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # Pillow warns between 1x and 2x its limit
        assert_data_format_error(lambda: images.image_array(path), path,
                                 "it has 200 pixels, more than the limit of 100",
                                 cause=Image.DecompressionBombWarning)
        set_max_image_pixels(200)
        assert images.image_array(path).shape == (10, 20, 3)
    assert images.max_image_pixels() == 200
    for bad in (0, -5, 2.5, True, "100", None):
        with pytest.raises(ValueError, match="set_max_image_pixels: the limit must be a "
                                             "positive integer"):
            set_max_image_pixels(bad)
    assert images.max_image_pixels() == 200


def test_png_garbage_in_image_data_is_a_data_format_error(tmp_path):
    bad = write(tmp_path / "garbage.png", png_with_garbage_in_idat())
    assert_data_format_error(lambda: images.image_array(bad), bad, "contents are corrupt",
                             "broken PNG file", cause=SyntaxError)


@pytest.mark.parametrize("kind", [b"zTXt", b"iTXt", b"iCCP"])
def test_png_text_chunk_bomb_is_refused(tmp_path, kind):
    bomb = write(tmp_path / f"{kind.decode()}.png", text_chunk_bomb(kind))
    assert len(bomb.read_bytes()) < 100_000
    rise = assert_refused_within(_open_in_child(bomb), 20, str(bomb), "text chunks are larger")
    print(f"{kind.decode()} bomb (64 MiB inflated): peak rise {rise:.0f} MiB")


def test_png_text_chunks_are_limited_together(tmp_path):
    many = write(tmp_path / "many.png", many_text_chunks(count=12))
    assert_data_format_error(lambda: images.image_array(many), many, "text chunks are larger",
                             "8 MiB together", cause=ValueError)
    # 60 chunks of just under 1 MiB each, 60 KB of file: Pillow alone keeps all 60 MiB
    bomb = write(tmp_path / "sixty.png", many_text_chunks(count=60))
    assert len(bomb.read_bytes()) < 100_000
    rise = assert_refused_within(_open_in_child(bomb), 30, str(bomb), "8 MiB together")
    print(f"60 text chunks (60 MiB inflated): peak rise {rise:.0f} MiB")
    assert images.image_array(write(tmp_path / "some.png", many_text_chunks(count=4))).shape \
        == (4, 4, 3)


def test_a_declared_chunk_length_reserves_no_memory(tmp_path):
    # found by the fuzzer: an IDAT chunk whose length says 4 GiB after the image data is
    # complete; Pillow skips the rest in one read of the declared length
    data = bytearray(png(16, 12))
    at = data.index(b"IDAT") - 4
    data[at:at + 4] = b"\xff\xff\xff\xff"
    path = write(tmp_path / "long-idat.png", bytes(data))
    rise, outcome, rc = peak_rise(f"glassnet.data.pil_loader({str(path)!r})", headroom_mib=200)
    assert (rc, outcome) == (0, "ok") and rise < 20, (rc, outcome, rise)


def test_truncated_jpeg_is_refused_not_padded(tmp_path):
    cut = truncated_jpeg(tmp_path / "cut.jpg")
    assert_data_format_error(lambda: images.image_array(cut), cut, "the file is truncated",
                             cause=OSError)


def test_only_glassnets_formats_are_decoded(tmp_path):
    rgb = np.zeros((4, 4, 3), np.uint8)
    for fmt in ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM"):
        Image.fromarray(rgb).save(tmp_path / f"x.{fmt.lower()}", format=fmt)
        assert images.image_array(tmp_path / f"x.{fmt.lower()}").shape == (4, 4, 3)
    Image.fromarray(rgb).save(tmp_path / "x.tga", format="TGA")
    Image.fromarray(rgb).save(tmp_path / "x.ico", format="ICO")
    for name in ("x.tga", "x.ico"):
        assert_data_format_error(lambda: images.image_array(tmp_path / name), tmp_path / name,
                                 "not an image in a format glassnet reads (PNG, JPEG")
    with pytest.raises(FileNotFoundError):
        images.image_array(tmp_path / "missing.png")
    with pytest.raises(IsADirectoryError):
        images.image_array(tmp_path)
    with pytest.raises(ValueError, match="open_image: mode must be one of"):
        images.open_image(tmp_path / "x.png", "RGBQ")


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_image_folders_samples_and_batches_funnel_into_data_format_error(tmp_path, kind):
    bad = hostile_folder(tmp_path, "b/07x.png", HOSTILE[kind])
    ours = ImageFolder(tmp_path)
    index = [p for p, _ in ours.samples].index(str(bad))
    assert_data_format_error(lambda: ours[index], bad)
    loader = DataLoader(ours, batch_size=4, num_workers=2)
    assert_data_format_error(lambda: list(loader), bad)
    theirs = datasets.ImageFolder(tmp_path, transform=transforms.ToTensor())
    assert_data_format_error(lambda: theirs[index], bad)
    assert_data_format_error(lambda: theirs.get_batch(np.arange(len(theirs))), bad)
    loader = DataLoader(theirs, batch_size=4, num_workers=2)
    assert_data_format_error(lambda: list(loader), bad)


def _one_line(capsys, *fragments):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for f in fragments:
        assert f in err, err


def test_the_command_reports_hostile_images_in_one_line(tmp_path, capsys):
    good = tmp_path / "good"
    hostile_folder(good, "b/extra.png", HOSTILE["garbage"]).unlink()
    run = tmp_path / "run"
    assert main(["train", "softmax-regression", "--dataset", "imagefolder", "--data-dir",
                 str(good), "--epochs", "1", "--out", str(run), "--quiet"]) == 0
    capsys.readouterr()
    for kind, says in (("bomb", "more than the limit of 33,554,432"),
                       ("garbage", "its contents are corrupt (SyntaxError")):
        for name in ("a/0.png", "b/07x.png"):   # the image that sets the input size; a later one
            folder = tmp_path / f"{kind}-{name[0]}"
            bad = hostile_folder(folder, name, HOSTILE[kind])
            assert main(["train", "softmax-regression", "--dataset", "imagefolder",
                         "--data-dir", str(folder), "--epochs", "1", "--out",
                         str(tmp_path / "never"), "--quiet"]) == 2
            _one_line(capsys, "glassnet train: ", f"{bad} is not a readable image", says)
        assert main(["predict", str(run), str(bad)]) == 2
        _one_line(capsys, "glassnet predict: ", f"{bad} is not a readable image", says)
    cut = truncated_jpeg(tmp_path / "cut.jpg")
    assert main(["predict", str(run), str(cut)]) == 2
    _one_line(capsys, f"{cut} is not a readable image: the file is truncated")
