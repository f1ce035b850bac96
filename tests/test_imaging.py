"""Tests for spinebench_hf.imaging: real pydicom / pydicom-data files, synthetic DICOMs, JPEG/PNG, fuzzing."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

from spinebench_hf.errors import ImageError
from spinebench_hf.imaging import (
    DEFAULT_MAX_SIDE,
    MAX_PIXELS,
    StandardImage,
    encode_png,
    load_dicom,
    load_raster,
    standardize_dicom,
    standardize_image,
)

CR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.1"


# ---------------------------------------------------------------------------------------------------- helpers


def data_file(name: str) -> str:
    """Path of a pydicom or pydicom-data test file; a missing one fails (pydicom-data is a test dependency)."""
    path = get_testdata_file(name)
    assert path is not None, f"{name} is not available offline: install the test dependency pydicom-data"
    return path


def gray(image: Image.Image) -> np.ndarray:
    """The single channel of a standardized grey image (all three RGB channels must be equal)."""
    assert image.mode == "RGB"
    arr = np.asarray(image).astype(np.int16)
    assert (arr[..., 0] == arr[..., 1]).all() and (arr[..., 0] == arr[..., 2]).all()
    return arr[..., 0]


def max_diff(a: Image.Image, b: Image.Image) -> int:
    assert a.size == b.size
    return int(np.abs(np.asarray(a).astype(int) - np.asarray(b).astype(int)).max())


def make_dicom(
    arr: np.ndarray,
    photometric: str = "MONOCHROME2",
    bits_stored: int = 12,
    signed: bool = False,
    **tags: object,
) -> Dataset:
    """A single-frame CR dataset (explicit VR little endian, 16 bits allocated) holding `arr`."""
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = CR_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CR_IMAGE_STORAGE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CR"
    ds.BodyPartExamined = "LSPINE"
    ds.Rows, ds.Columns = arr.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = int(signed)
    for key, value in tags.items():
        setattr(ds, key, value)
    ds.PixelData = arr.astype(np.int16 if signed else np.uint16).tobytes()
    return ds


def dicom_bytes(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def spine_phantom(rows: int = 96, cols: int = 64) -> np.ndarray:
    """12-bit MONOCHROME2 "anatomy": a dark soft-tissue gradient, a bright vertebral column, brighter endplates."""
    y, x = np.mgrid[0:rows, 0:cols]
    arr = 600 + 8 * x + 4 * y
    arr[:, cols // 3 : 2 * cols // 3] += 1800
    arr[::12, cols // 3 : 2 * cols // 3] += 800
    return np.clip(arr, 0, 4095).astype(np.uint16)


def raster_bytes(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------- real DICOM files


def test_mr_small_renders_the_same_with_every_codec():
    reference = load_dicom(data_file("MR_small.dcm"))
    assert reference.image.size == (64, 64) and reference.notes == ()
    assert gray(reference.image).min() == 0 and gray(reference.image).max() == 255
    for name in ("MR_small_RLE.dcm", "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm"):
        assert max_diff(load_dicom(data_file(name)).image, reference.image) <= 1, name


def test_ct_small_uses_rescale_and_full_range():
    result = load_dicom(data_file("CT_small.dcm"))
    pixels = gray(result.image)
    assert result.image.size == (128, 128) and result.notes == ()
    assert pixels.min() == 0 and pixels.max() == 255


def test_jpeg_extended_12_bit_decodes():
    result = load_dicom(data_file("JPGExtended.dcm"))  # needs pylibjpeg-libjpeg: Pillow cannot do 12-bit JPEG
    assert result.image.size == (256, 1024)
    assert gray(result.image).max() == 255


def test_colour_jpeg_lossless_keeps_colours():
    compressed = load_dicom(data_file("SC_rgb_jpeg_gdcm.dcm")).image
    uncompressed = load_dicom(data_file("SC_rgb.dcm")).image
    assert compressed.mode == "RGB" and compressed.size == (100, 100)
    assert max_diff(compressed, uncompressed) <= 1
    assert compressed.getpixel((50, 0)) == (255, 0, 0)
    assert compressed.getpixel((50, 20)) == (0, 255, 0)
    assert compressed.getpixel((50, 40)) == (0, 0, 255)


def test_colour_ybr_is_converted_to_rgb():
    ybr = load_dicom(data_file("SC_rgb_dcmtk_+eb+cy+np.dcm")).image  # JPEG baseline YBR_FULL_422
    for y, colour in ((5, (255, 0, 0)), (25, (0, 255, 0)), (45, (0, 0, 255)), (85, (192, 192, 192))):
        assert np.abs(np.subtract(ybr.getpixel((50, y)), colour)).max() <= 8  # lossy, chroma subsampled


def test_mr_truncated_is_an_image_error():
    path = data_file("MR_truncated.dcm")
    with pytest.raises(ImageError) as caught:
        load_dicom(path)
    assert caught.value.name == path
    assert "pixel data" in caught.value.reason and "less than expected" in caught.value.reason


def test_multi_frame_is_refused():
    with pytest.raises(ImageError, match=r"multi-frame DICOM \(10 frames\)"):
        load_dicom(data_file("emri_small.dcm"))


def test_palette_colour_is_refused():
    with pytest.raises(ImageError, match="unsupported photometric interpretation 'PALETTE COLOR'"):
        load_dicom(data_file("examples_palette.dcm"))


@pytest.fixture(scope="module")
def chest() -> StandardImage:
    """pydicom-data's real CR chest radiograph: MONOCHROME1, 15-bit, 1955 x 1841, WC 15000 / WW 30000."""
    return load_dicom(data_file("RG1_UNCR.dcm"))


def regions(pixels: np.ndarray) -> dict[str, float]:
    """Mean brightness of regions chosen by looking at the rendered RG1_UNCR.dcm (964 x 1024)."""
    h, w = pixels.shape
    boxes = {
        "spine": (0.46, 0.25, 0.54, 0.60),  # thoracic spine / mediastinum strip
        "right lung": (0.18, 0.15, 0.34, 0.30),  # upper zones, clear of the nodules
        "left lung": (0.62, 0.17, 0.80, 0.32),
    }
    return {
        key: float(pixels[int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)].mean())
        for key, (x0, y0, x1, y1) in boxes.items()
    }


def test_monochrome1_chest_has_bright_bones(chest):
    assert chest.image.size == (964, 1024)  # 1841 x 1955 shrunk to longest side 1024, aspect kept
    assert chest.notes == ()
    mean = regions(gray(chest.image))
    assert mean["spine"] > 200
    assert mean["spine"] > mean["right lung"] + 60
    assert mean["spine"] > mean["left lung"] + 60


def test_monochrome1_is_the_inverse_of_the_uninverted_rendering(chest):
    ds = pydicom.dcmread(data_file("RG1_UNCR.dcm"))
    ds.PhotometricInterpretation = "MONOCHROME2"  # same values, no inversion step
    negative = gray(load_dicom(dicom_bytes(ds)).image)
    assert np.abs(gray(chest.image) + negative - 255).max() <= 1
    mean = regions(negative)
    assert mean["spine"] < mean["right lung"] - 60  # without the MONOCHROME1 step it is a negative


def test_monochrome1_jpeg2000_lossless_twin_matches(chest):
    assert max_diff(load_dicom(data_file("RG1_J2KR.dcm")).image, chest.image) <= 1


def correlation(a: Image.Image, b: Image.Image) -> float:
    return float(np.corrcoef(gray(a).ravel().astype(float), gray(b).ravel().astype(float))[0, 1])


@pytest.mark.parametrize("max_side, reduce", [(512, 1), (400, 2), (200, 3)])
def test_jpeg2000_is_decoded_at_the_resolution_needed(max_side, reduce, monkeypatch):
    """The real RG1_J2KR.dcm (1841 x 1955, 15-bit, JPEG 2000 lossless) against its uncompressed twin RG1_UNCR.dcm,
    decoded in full: the same picture at the reduced level that keeps the longest side >= max_side."""
    from spinebench_hf import imaging

    levels = []
    real = imaging._reduction
    monkeypatch.setattr(imaging, "_reduction", lambda *args: levels.append(real(*args)) or levels[-1])
    reduced = load_dicom(data_file("RG1_J2KR.dcm"), max_side=max_side)
    full = load_dicom(data_file("RG1_UNCR.dcm"), max_side=max_side)
    assert levels == [(reduce, 15)] and reduced.notes == ()
    assert reduced.image.size == full.image.size and max(reduced.image.size) == max_side
    assert correlation(reduced.image, full.image) >= 0.995
    assert load_dicom(data_file("RG1_J2KR.dcm"), max_side=max_side).image.tobytes() == reduced.image.tobytes()


def test_jpeg2000_needs_no_reduction_when_the_image_is_small():
    from spinebench_hf.imaging import _reduction
    from spinebench_hf.sources.synthetic import dicom_bytes as synthetic_dicom
    from spinebench_hf.sources.synthetic import draw_spine, to_uint

    data = synthetic_dicom(to_uint(draw_spine(0, "j", (250, 200)), 12), "j", modality="CR", compress="jpeg2000")
    frame = next(pydicom.encaps.generate_frames(pydicom.dcmread(io.BytesIO(data)).PixelData, number_of_frames=1))
    assert _reduction(frame, 250, 200) is None and _reduction(frame, 250, 125) == (1, 12)
    assert _reduction(frame, 250, 20) == (3, 12)  # 32 px; 4 levels would give 16 < 20
    assert _reduction(b"not a codestream", 250, 20) is None
    small, full = load_dicom(data, max_side=100), load_dicom(data, max_side=250)
    # a tiny drawing with pixel noise: the wavelet's low-pass and LANCZOS smooth that noise a little differently
    assert correlation(small.image, full.image.resize(small.image.size, Image.Resampling.LANCZOS)) >= 0.99


def test_jpeg2000_values_beyond_bits_stored_are_noted():
    """The VinDr quirk on the reduced path: 16-bit data under a header that says 12 bits stored."""
    from spinebench_hf.sources.synthetic import dicom_bytes as synthetic_dicom
    from spinebench_hf.sources.synthetic import draw_spine, to_uint

    data = synthetic_dicom(
        to_uint(draw_spine(0, "q", (400, 300)), 16), "q", modality="CR", bits_stored=16, compress="jpeg2000"
    )
    ds = pydicom.dcmread(io.BytesIO(data))
    ds.BitsStored, ds.HighBit = 12, 11
    result = load_dicom(dicom_bytes(ds), max_side=100)
    assert result.notes == ("pixel values exceed BitsStored 12; decoded as 16-bit",)
    honest = load_dicom(data, max_side=100)
    assert max_diff(result.image, honest.image) == 0


@pytest.mark.parametrize("name", ["vlut_04.dcm", "mlut_18.dcm"])
def test_lut_sequences_render_over_the_full_range(name):
    result = load_dicom(data_file(name))
    pixels = gray(result.image)
    assert result.notes == ()
    assert pixels.min() == 0 and pixels.max() == 255
    assert len(np.unique(pixels)) > 64


def test_input_kinds_and_names_agree():
    path = Path(data_file("CT_small.dcm"))
    expected = load_dicom(path).image
    raw = path.read_bytes()
    with path.open("rb") as handle:
        from_handle = load_dicom(handle).image
    for image in (load_dicom(str(path)).image, load_dicom(raw).image, from_handle, standardize_dicom(raw)):
        assert max_diff(image, expected) == 0
    with pytest.raises(ImageError) as caught:
        load_dicom(raw[:2000])
    assert caught.value.name == "<bytes>"
    with pytest.raises(ImageError) as caught:
        load_dicom(raw[:2000], name="study/1.dcm")
    assert str(caught.value).startswith("study/1.dcm: ")


# ---------------------------------------------------------------------------------------------------- synthetic DICOMs


@pytest.mark.parametrize("window", [None, (2048, 4096), (2400, 1200)])
def test_monochrome1_and_monochrome2_twins_render_the_same(window):
    arr = spine_phantom()
    tags1: dict[str, object] = {}
    tags2: dict[str, object] = {}
    if window:
        centre, width = window
        tags2 = {"WindowCenter": centre, "WindowWidth": width}
        tags1 = {"WindowCenter": 4095 - centre, "WindowWidth": width}
    mono2 = load_dicom(dicom_bytes(make_dicom(arr, "MONOCHROME2", **tags2)))
    mono1 = load_dicom(dicom_bytes(make_dicom(4095 - arr, "MONOCHROME1", **tags1)))
    assert max_diff(mono1.image, mono2.image) <= 1
    pixels = gray(mono2.image)
    assert pixels[:, 32].mean() > pixels[:, 5].mean() + 60  # the column is bright in both


def test_window_is_applied_after_the_rescale():
    arr = np.tile(np.arange(0, 4096, 16, dtype=np.uint16), (8, 1))  # 0..4080 along x
    ds = make_dicom(arr, RescaleSlope=1, RescaleIntercept=-1000, WindowCenter=0, WindowWidth=200)
    pixels = gray(load_dicom(dicom_bytes(ds)).image)[0]
    stored = arr[0]
    assert (pixels[stored < 890] == 0).all()  # below the window in modality units (-110 HU and less)
    assert (pixels[stored > 1110] == 255).all()
    assert pixels[(stored > 950) & (stored < 1050)].min() > 0


def test_linear_rescale_without_window_does_not_change_the_rendering():
    arr = spine_phantom()
    plain = load_dicom(dicom_bytes(make_dicom(arr))).image
    rescaled = load_dicom(dicom_bytes(make_dicom(arr, RescaleSlope=2.5, RescaleIntercept=-1024))).image
    assert max_diff(plain, rescaled) <= 1


def test_constant_image_is_black_without_division_by_zero():
    result = load_dicom(dicom_bytes(make_dicom(np.full((10, 12), 700, dtype=np.uint16))))
    assert result.image.size == (12, 10)
    assert gray(result.image).max() == 0


def test_large_image_is_shrunk_with_its_aspect_ratio():
    arr = np.zeros((2000, 2500), dtype=np.uint16)
    arr[:, 1000:1500] = 4000
    data = dicom_bytes(make_dicom(arr))
    assert load_dicom(data).image.size == (1024, 819)
    small = load_dicom(data, max_side=250).image
    assert small.size == (250, 200)
    assert gray(small)[:, 125].min() == 255 and gray(small)[:, 10].max() == 0


def test_small_dicom_is_not_upscaled():
    assert load_dicom(dicom_bytes(make_dicom(spine_phantom(30, 20)))).image.size == (20, 30)


def test_pixel_limit_is_checked_from_the_header_before_decoding():
    ds = make_dicom(np.zeros((4, 4), dtype=np.uint16))
    ds.Rows, ds.Columns = 10_001, 10_000  # only 32 bytes of pixel data: decoding would fail differently
    with pytest.raises(ImageError) as caught:
        load_dicom(dicom_bytes(ds), name="bomb.dcm")
    assert caught.value.reason == "image has 100,010,000 pixels, more than the limit of 100,000,000"
    assert MAX_PIXELS == 100_000_000
    ds.Rows, ds.Columns = 4, 4
    with pytest.raises(ImageError, match="image has 16 pixels, more than the limit of 15"):
        load_dicom(dicom_bytes(ds), max_pixels=15)


def test_truncated_pixel_data_names_the_file(tmp_path):
    path = tmp_path / "L1_lateral.dcm"
    path.write_bytes(dicom_bytes(make_dicom(spine_phantom()))[:-1000])
    with pytest.raises(ImageError) as caught:
        load_dicom(path)
    assert caught.value.name == str(path)
    assert str(path) in str(caught.value)
    assert "pixel data is less than expected" in caught.value.reason


def test_random_bytes_are_not_a_dicom():
    noise = np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    with pytest.raises(ImageError, match="not a DICOM file") as caught:
        load_dicom(noise)
    assert "force=True" not in caught.value.reason


def test_missing_file_and_missing_pixels(tmp_path):
    with pytest.raises(ImageError, match="cannot read file"):
        load_dicom(tmp_path / "absent.dcm")
    ds = make_dicom(np.zeros((4, 4), dtype=np.uint16))
    del ds.PixelData
    with pytest.raises(ImageError, match="no pixel data"):
        load_dicom(dicom_bytes(ds))


def test_max_side_must_be_positive():
    with pytest.raises(ImageError, match="max_side must be at least 1, got 0"):
        load_dicom(dicom_bytes(make_dicom(spine_phantom())), max_side=0)


def test_bits_stored_smaller_than_the_data_is_decoded_with_bits_allocated():
    # pydicom 3 does not fail here: it silently masks the bits above BitsStored (native, RLE, JPEG), which
    # garbles an image whose values really use 16 bits (the VinDr quirk). Check both encodings.
    arr = (spine_phantom().astype(np.uint32) * 16).astype(np.uint16)  # uses bits 4..15
    honest = load_dicom(dicom_bytes(make_dicom(arr, bits_stored=16)))
    assert honest.notes == ()
    for compress in (False, True):
        ds = make_dicom(arr, bits_stored=12)
        assert int(ds.pixel_array.max()) < 4096  # the masking that would garble it
        if compress:
            ds.compress(RLELossless)
        quirk = load_dicom(dicom_bytes(ds))
        assert quirk.notes == ("pixel values exceed BitsStored 12; decoded as 16-bit",)
        assert max_diff(quirk.image, honest.image) == 0


def test_invalid_bits_stored_is_replaced_by_bits_allocated():
    arr = spine_phantom()
    ds = make_dicom(arr)
    ds.BitsStored = 20  # pydicom refuses to decode this
    result = load_dicom(dicom_bytes(ds))
    assert result.notes == ("BitsStored 20 is invalid for BitsAllocated 16; decoded as 16-bit",)
    assert max_diff(result.image, load_dicom(dicom_bytes(make_dicom(arr))).image) == 0


def test_signed_values_without_sign_extension_are_left_to_pydicom():
    values = spine_phantom().astype(np.int32) - 2048  # signed 12-bit range
    extended = load_dicom(dicom_bytes(make_dicom(values, signed=True)))
    zero_padded = make_dicom(values, signed=True)
    zero_padded.PixelData = (values & 0x0FFF).astype(np.uint16).tobytes()  # upper 4 bits left at zero
    result = load_dicom(dicom_bytes(zero_padded))
    assert result.notes == () and extended.notes == ()
    assert max_diff(result.image, extended.image) == 0


def test_overlay_bits_above_bits_stored_are_masked():
    arr = spine_phantom()
    ds = make_dicom(arr)
    overlay = np.zeros(arr.shape, dtype=np.uint16)
    overlay[40:50, 10:20] = 1 << 12  # retired embedded overlay plane in bit 12
    ds.PixelData = (arr | overlay).tobytes()
    ds.add_new(0x60000100, "US", 16)  # Overlay Bits Allocated
    ds.add_new(0x60000102, "US", 12)  # Overlay Bit Position
    result = load_dicom(dicom_bytes(ds))
    assert result.notes == ()
    assert max_diff(result.image, load_dicom(dicom_bytes(make_dicom(arr))).image) == 0


def test_failing_voi_lut_falls_back_to_min_max_with_a_note():
    arr = spine_phantom()
    result = load_dicom(dicom_bytes(make_dicom(arr, WindowCenter=1000, WindowWidth=0)))
    (note,) = result.notes
    assert note.startswith("VOI LUT failed (") and note.endswith("); used min-max scaling")
    assert "Window Width" in note
    assert max_diff(result.image, load_dicom(dicom_bytes(make_dicom(arr))).image) == 0


# ---------------------------------------------------------------------------------------------------- JPEG / PNG


def test_gray_jpeg():
    source = Image.fromarray(np.tile(np.arange(0, 250, 2, dtype=np.uint8), (40, 1)))
    result = load_raster(raster_bytes(source, "JPEG", quality=95))
    assert result.image.size == (125, 40) and result.notes == ()
    assert np.abs(gray(result.image).astype(int) - np.asarray(source)).max() <= 4
    assert max_diff(standardize_image(raster_bytes(source, "JPEG", quality=95)), result.image) == 0


def test_16_bit_png_is_min_max_scaled_not_clipped():
    arr = np.tile(np.linspace(1000, 3000, 101).astype(np.uint16), (5, 1))
    data = raster_bytes(Image.fromarray(arr), "PNG")
    opened = Image.open(io.BytesIO(data))
    assert opened.mode == "I;16"
    assert set(np.unique(np.asarray(opened.convert("L")))) == {255}  # the trap: PIL clips instead of scaling
    pixels = gray(load_raster(data).image)
    assert pixels[0, 0] == 0 and pixels[0, -1] == 255 and pixels[0, 50] in (127, 128)
    assert (np.diff(pixels[0]) >= 0).all()


def test_rgba_and_palette_pngs_become_rgb():
    rgba = Image.new("RGBA", (8, 6), (200, 30, 10, 128))
    assert load_raster(raster_bytes(rgba, "PNG")).image.getpixel((3, 3)) == (200, 30, 10)
    palette = Image.new("P", (8, 6), 1)
    palette.putpalette([0, 0, 0, 10, 120, 250] + [0] * 762)
    result = load_raster(raster_bytes(palette, "PNG")).image
    assert result.mode == "RGB" and result.getpixel((0, 0)) == (10, 120, 250)


def test_truncated_jpeg_is_an_image_error(tmp_path):
    noise = np.random.default_rng(1).integers(0, 256, (200, 200), dtype=np.uint8)
    data = raster_bytes(Image.fromarray(noise), "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated") as caught:
        load_raster(path)
    assert caught.value.name == str(path)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # relied on, never changed


def test_raster_pixel_limit_is_checked_before_loading():
    data = raster_bytes(Image.new("L", (300, 200)), "PNG")
    with pytest.raises(ImageError, match="image has 60,000 pixels, more than the limit of 59,999"):
        load_raster(data, max_pixels=59_999)


def test_raster_resize_never_upscales_and_keeps_the_aspect():
    assert load_raster(raster_bytes(Image.new("L", (100, 50)), "PNG")).image.size == (100, 50)
    assert load_raster(raster_bytes(Image.new("L", (3000, 1000)), "PNG")).image.size == (DEFAULT_MAX_SIDE, 341)
    assert load_raster(raster_bytes(Image.new("RGB", (50, 200)), "JPEG"), max_side=20).image.size == (5, 20)


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = raster_bytes(Image.new("L", (40, 10), 128), "JPEG", exif=exif)
    assert load_raster(data).image.size == (10, 40)


def test_non_raster_input_is_refused():
    with pytest.raises(ImageError, match="not a JPEG or PNG image"):
        load_raster(raster_bytes(Image.new("L", (4, 4)), "GIF"))
    with pytest.raises(ImageError, match="cannot read file"):
        load_raster("/nonexistent/x.png")


def test_encoding_is_deterministic_and_ignores_metadata():
    noise = np.random.default_rng(2).integers(0, 256, (64, 48), dtype=np.uint8)
    data = raster_bytes(Image.fromarray(noise), "PNG")
    first, second = load_raster(data).image, load_raster(data).image
    assert encode_png(first) == encode_png(second)
    tagged = first.copy()
    tagged.info["icc_profile"] = b"not really a profile"
    assert encode_png(tagged) == encode_png(first)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(encode_png(first)))), np.asarray(first))
    dicom = dicom_bytes(make_dicom(spine_phantom()))
    assert encode_png(load_dicom(dicom).image) == encode_png(load_dicom(dicom).image)


# ---------------------------------------------------------------------------------------------------- properties


def _mutations(seed_bytes: bytes) -> st.SearchStrategy[bytes]:
    """Truncations and byte overwrites of a valid file, so the fuzzing gets past the format's magic number."""

    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        data = bytearray(seed_bytes)
        for _ in range(draw(st.integers(0, 8))):
            position = draw(st.integers(0, len(data) - 1))
            data[position] = draw(st.integers(0, 255))
        return bytes(data[: draw(st.integers(0, len(data)))])

    return mutate()


_SMALL_DICOM = dicom_bytes(make_dicom(spine_phantom(12, 10), WindowCenter=2000, WindowWidth=3000))
_SMALL_RLE = make_dicom(spine_phantom(12, 10))
_SMALL_RLE.compress(RLELossless)
_SMALL_RLE_DICOM = dicom_bytes(_SMALL_RLE)
_SMALL_PNG = raster_bytes(Image.fromarray(spine_phantom(12, 10)), "PNG")
_SMALL_JPEG = raster_bytes(Image.fromarray((spine_phantom(12, 10) // 16).astype(np.uint8)), "JPEG")

_FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _rgb_or_image_error(loader, data: bytes) -> None:
    try:
        result = loader(data, max_side=16, max_pixels=1_000_000)
    except ImageError as exc:
        assert exc.name == "<bytes>" and exc.reason
    else:
        assert result.image.mode == "RGB" and max(result.image.size) <= 16


@pytest.mark.filterwarnings("ignore")
@_FUZZ
@given(st.binary(max_size=2000) | _mutations(_SMALL_DICOM) | _mutations(_SMALL_RLE_DICOM))
def test_load_dicom_returns_rgb_or_raises_image_error(data):
    _rgb_or_image_error(load_dicom, data)


@pytest.mark.filterwarnings("ignore")
@_FUZZ
@given(st.binary(max_size=2000) | _mutations(_SMALL_PNG) | _mutations(_SMALL_JPEG))
def test_load_raster_returns_rgb_or_raises_image_error(data):
    _rgb_or_image_error(load_raster, data)


def test_a_bug_of_ours_is_raised_not_recorded_as_a_bad_image(monkeypatch):
    """A TypeError from a line of this package is a bug and propagates; the same error from inside a decoder (any
    code outside the package) is the file's fault and becomes an ImageError naming it."""
    from spinebench_hf import imaging

    buffer = io.BytesIO()
    Image.new("L", (8, 8)).save(buffer, "PNG")

    def decoder_check(*args):  # defined outside the package, as Pillow's code is
        raise KeyError("a decoder's own error")

    monkeypatch.setattr(imaging, "_check_pixels", decoder_check)
    with pytest.raises(ImageError, match="x.png: truncated or corrupt image"):
        imaging.load_raster(buffer.getvalue(), name="x.png")
    try:
        imaging.__dict__["_scale_to_uint8"](None, "x.png")  # a TypeError raised by a line of the package
    except Exception as exc:  # noqa: BLE001
        ours = exc
    assert isinstance(ours, (TypeError, AttributeError)) and not imaging.decode_failure(ours)
    monkeypatch.setattr(imaging, "_check_pixels", lambda *args: imaging._scale_to_uint8(None, "x.png"))
    with pytest.raises((TypeError, AttributeError)):
        imaging.load_raster(buffer.getvalue(), name="x.png")
