"""Decode DICOM, JPEG and PNG files into standardized 8-bit RGB images.

DICOM, in this order (pydicom 3's own functions throughout):

1. read the dataset once (``dcmread``, ``force=False``) and check the header before touching pixels: one frame,
   Rows x Columns within the pixel limit, a supported photometric interpretation;
2. decode ``pixel_array`` and check that the values fit BitsStored (the VinDr quirk, see ``_decode``). A JPEG 2000
   image larger than needed is decoded at a reduced resolution instead (``_decode_reduced``): the wavelet level
   whose longest side is still >= max_side, about 4x faster per level, then the same steps;
3. modality LUT (rescale slope/intercept or Modality LUT Sequence);
4. VOI LUT Sequence, else window centre/width, else nothing; if it fails, the modality output is used and noted;
5. min-max scale to [0, 1] (a constant image becomes 0), then invert once if MONOCHROME1; the presentation LUT is
   not applied as well, because for MONOCHROME1 it is the same inversion;
6. x255, round, uint8; resize the single channel (LANCZOS, aspect kept, longest side <= max_side, never upscaled);
   convert to RGB.

Colour DICOMs (3 samples; pydicom has already converted YBR to RGB) skip steps 3-5 and are scaled from their bit
depth to 8 bits. JPEG/PNG: open lazily, check the pixel count, load, apply the EXIF orientation, min-max scale
16-bit and float grey to 8 bits, convert other modes to RGB, resize, RGB.

Every failure raises ``ImageError(name, reason)``; non-fatal events come back as ``StandardImage.notes``. pydicom's
warnings about a file (real VinDr UIDs are 32-hex strings it warns about, in every file) are collected the same
way, as notes starting with ``DECODER_NOTE``, with quoted values and numbers taken out so that they can be
counted; they are not printed once per file.
"""

from __future__ import annotations

import io
import logging
import os
import re
import struct
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pydicom
from PIL import Image, ImageOps, UnidentifiedImageError
from pydicom import uid
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames
from pydicom.errors import BytesLengthException, InvalidDicomError
from pydicom.pixels import apply_modality_lut, apply_voi_lut, pixel_array

from .errors import ImageError
from .settings import DEFAULT_MAX_SIDE  # noqa: F401  (the standardization's default, defined once)

DECODER_NOTE = "pydicom: "
MAX_PIXELS = 100_000_000

Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO

_MONOCHROME = ("MONOCHROME1", "MONOCHROME2")
_COLOUR = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT")  # pydicom's decoders return these as RGB
_RASTER_FORMATS = ("JPEG", "PNG")
# What pydicom, its codecs, Pillow and numpy raise on malformed input by design (found by the property tests) ...
_DECODE_ERRORS = (
    InvalidDicomError, BytesLengthException, OSError, EOFError, ValueError, struct.error, OverflowError,
    NotImplementedError, RuntimeError, SyntaxError, Image.DecompressionBombError,
)  # fmt: skip
# ... and what they also raise on some malformed files, but only counts as the file's fault when raised inside them:
# the same error raised by a line of this package is a bug of ours, never a skipped image.
_DECODER_BUGS = (TypeError, KeyError, IndexError, AttributeError)
_PACKAGE = str(Path(__file__).resolve().parent)


def decode_failure(exc: BaseException) -> bool:
    """Whether `exc` is a decoder's verdict on a malformed file (an ImageError, then), not a bug of this package."""
    if isinstance(exc, _DECODE_ERRORS):
        return True
    if not isinstance(exc, _DECODER_BUGS):
        return False
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and not str(Path(frames[-1].filename).resolve()).startswith(_PACKAGE)


@dataclass(frozen=True)
class StandardImage:
    """A standardized image and the non-fatal events met while making it.

    Attributes:
        image: mode "RGB", 8-bit, longest side <= max_side, aspect ratio kept.
        notes: e.g. "VOI LUT failed (...); used min-max scaling".
    """

    image: Image.Image
    notes: tuple[str, ...] = ()


def load_dicom(
    data: Source, *, max_side: int = DEFAULT_MAX_SIDE, name: str | None = None, max_pixels: int = MAX_PIXELS
) -> StandardImage:
    """Standardize a single-frame DICOM (path, bytes or binary file); raises ImageError on any failure.

    Args:
        data: a file path, the file's bytes, or a binary file object (read to its end).
        max_side: the longest side of the result, in pixels (at least 1); smaller images are never enlarged.
        name: the name error messages give the image (default: the path, the stream's name, or "<bytes>").
        max_pixels: the most pixels (Rows x Columns) a file may declare before it is refused undecoded.

    Returns:
        The RGB 8-bit image and the non-fatal notes met while making it (VOI LUT fallbacks, BitsStored fixes, pydicom's
        warnings as `DECODER_NOTE` lines).

    Raises:
        ImageError: the input cannot be read, is not a DICOM, declares more than one frame, too many pixels or an
            unsupported photometric interpretation, or its pixel data cannot be decoded; also when max_side < 1.
    """
    raw, name = _read(data, name, max_side)
    notes: list[str] = []
    with _decoder_messages(notes):
        ds = _read_dataset(raw, name)
        with _failure(name, "corrupt DICOM header"):
            photometric = _check_header(ds, name, max_pixels)
        arr = _decode_reduced(ds, name, notes, max_side) if photometric in _MONOCHROME else None
        if arr is None:
            arr = _decode(ds, name, notes)
    if photometric in _MONOCHROME:
        if arr.ndim != 2:
            raise ImageError(name, f"expected a 2-D image, decoded an array of shape {arr.shape}")
        pixels = _mono_to_uint8(arr, ds, name, notes, invert=photometric == "MONOCHROME1")
    else:
        if arr.ndim != 3 or arr.shape[-1] != 3:
            raise ImageError(name, f"expected an RGB image, decoded an array of shape {arr.shape}")
        pixels = _colour_to_uint8(arr, ds.BitsStored)
    return StandardImage(_finish(Image.fromarray(pixels), max_side), tuple(notes))


def load_raster(
    data: Source, *, max_side: int = DEFAULT_MAX_SIDE, name: str | None = None, max_pixels: int = MAX_PIXELS
) -> StandardImage:
    """Standardize a JPEG or PNG (path, bytes or binary file); raises ImageError on any failure.

    Args:
        data: a file path, the file's bytes, or a binary file object (read to its end).
        max_side: the longest side of the result, in pixels (at least 1); smaller images are never enlarged.
        name: the name error messages give the image (default: the path, the stream's name, or "<bytes>").
        max_pixels: the most pixels (Rows x Columns) a file may declare before it is refused undecoded.

    Returns:
        The RGB 8-bit image and the non-fatal notes met while making it (always empty for a raster image).

    Raises:
        ImageError: the input cannot be read, is not a JPEG or PNG, has too many pixels (or trips Pillow's
            decompression-bomb guard), is truncated or corrupt, or has an unsupported mode; also when max_side < 1.
    """
    raw, name = _read(data, name, max_side)
    try:
        with Image.open(io.BytesIO(raw), formats=_RASTER_FORMATS) as im:
            _check_pixels(im.width, im.height, max_pixels, name)
            im.load()  # raises on truncated data as long as ImageFile.LOAD_TRUNCATED_IMAGES keeps its default
            image = ImageOps.exif_transpose(im)
    except UnidentifiedImageError as exc:
        raise ImageError(name, "not a JPEG or PNG image") from exc
    except Image.DecompressionBombError as exc:
        raise ImageError(name, f"image is too large for Pillow's decompression-bomb guard: {exc}") from exc
    except Exception as exc:
        if not decode_failure(exc):
            raise
        raise ImageError(name, f"truncated or corrupt image: {_why(exc)}") from exc
    return StandardImage(_finish(_raster_to_8bit(image, name), max_side))


def check_decodes(data: bytes, name: str, max_pixels: int = MAX_PIXELS) -> None:
    """Raise ImageError unless `data` is an image file Pillow decodes whole (any format it reads), as published."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            _check_pixels(im.width, im.height, max_pixels, name)
            im.load()
    except UnidentifiedImageError as exc:
        raise ImageError(name, f"not an image file ({len(data)} bytes)") from exc
    except Image.DecompressionBombError as exc:
        raise ImageError(name, f"image is too large for Pillow's decompression-bomb guard: {exc}") from exc
    except Exception as exc:
        if not decode_failure(exc):
            raise
        raise ImageError(name, f"truncated or corrupt image: {_why(exc)}") from exc


def standardize_dicom(path_or_bytes: Source, max_side: int = DEFAULT_MAX_SIDE) -> Image.Image:
    """The RGB 8-bit image of a DICOM (the public API of docs/design.md; see ``load_dicom``).

    Args:
        path_or_bytes: a file path, the file's bytes, or a binary file object.
        max_side: the longest side of the result, in pixels; smaller images are never enlarged.

    Returns:
        The standardized image, mode "RGB"; the notes of ``load_dicom`` are dropped.

    Raises:
        ImageError: the file cannot be read or decoded (see ``load_dicom``).
    """
    return load_dicom(path_or_bytes, max_side=max_side).image


def standardize_image(path_or_bytes: Source, max_side: int = DEFAULT_MAX_SIDE) -> Image.Image:
    """The RGB 8-bit image of a JPEG or PNG (see ``load_raster``)."""
    return load_raster(path_or_bytes, max_side=max_side).image


def encode_png(image: Image.Image) -> bytes:
    """PNG bytes that depend on the pixels only: metadata (ICC profile, EXIF, text...) is dropped."""
    bare = image.copy()
    bare.info = {}
    buffer = io.BytesIO()
    bare.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


class _Collect(logging.Filter):
    """Keeps pydicom's log records of one file and stops them there (each also comes as a warning)."""

    def __init__(self, messages: list[str]):
        super().__init__()
        self.messages = messages

    def filter(self, record: logging.LogRecord) -> bool:
        self.messages.append(record.getMessage())
        return False


@contextmanager
def _decoder_messages(notes: list[str]) -> Iterator[None]:
    """pydicom's warnings and log messages while one file is read, added to `notes` once each, values removed."""
    messages: list[str] = []
    logger, collect = logging.getLogger("pydicom"), _Collect(messages)
    logger.addFilter(collect)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        logger.removeFilter(collect)
    messages += [str(warning.message) for warning in caught]
    general = (
        re.sub(r"\d+", "N", re.sub(r"'[^']*'", "'…'", message.split(". Please see")[0])) for message in messages
    )
    notes.extend(DECODER_NOTE + message for message in dict.fromkeys(general))


def _read(data: Source, name: str | None, max_side: int) -> tuple[bytes, str]:
    """Return the input's bytes and its display name."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        name = name or "<bytes>"
    elif isinstance(data, (str, os.PathLike)):
        name = name or str(data)
    else:
        name = name or str(getattr(data, "name", "<stream>"))
    if max_side < 1:
        raise ImageError(name, f"max_side must be at least 1, got {max_side}")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), name
    if isinstance(data, (str, os.PathLike)):
        with _failure(name, "cannot read file"), open(data, "rb") as handle:
            return handle.read(), name
    with _failure(name, "cannot read stream"):
        raw = data.read()
    if not isinstance(raw, bytes):
        raise ImageError(name, f"expected a binary stream, read {type(raw).__name__}")
    return raw, name


def _read_dataset(raw: bytes, name: str) -> Dataset:
    try:
        return pydicom.dcmread(io.BytesIO(raw), force=False)
    except InvalidDicomError as exc:
        if "DICM" not in str(exc):
            raise ImageError(name, f"corrupt DICOM: {_why(exc)}") from exc
        raise ImageError(name, "not a DICOM file (no 'DICM' marker after the 128-byte preamble)") from exc
    except Exception as exc:
        if not decode_failure(exc):
            raise
        raise ImageError(name, f"truncated or corrupt DICOM: {_why(exc)}") from exc


def _check_header(ds: Dataset, name: str, max_pixels: int) -> str:
    """Validate what can be known before decoding; return the photometric interpretation."""
    if not any(key in ds for key in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        raise ImageError(name, "no pixel data (not an image)")
    frames = int(ds.get("NumberOfFrames") or 1)
    if frames != 1:
        raise ImageError(name, f"multi-frame DICOM ({frames} frames); only single 2-D images are supported")
    if "Rows" not in ds or "Columns" not in ds:
        raise ImageError(name, "missing Rows or Columns")
    _check_pixels(int(ds.Columns), int(ds.Rows), max_pixels, name)
    samples, photometric = ds.get("SamplesPerPixel", 1), str(ds.get("PhotometricInterpretation", "")).strip()
    if (samples == 1 and photometric in _MONOCHROME) or (samples == 3 and photometric in _COLOUR):
        return photometric
    raise ImageError(name, f"unsupported photometric interpretation {photometric!r} with {samples} sample(s)")


def _check_pixels(width: int, height: int, max_pixels: int, name: str) -> None:
    if width * height > max_pixels:
        raise ImageError(name, f"image has {width * height:,} pixels, more than the limit of {max_pixels:,}")


def _decode(ds: Dataset, name: str, notes: list[str]) -> np.ndarray:
    """Decode the pixels, honouring BitsStored only where the data agrees with it.

    pydicom 3 refuses to decode a missing or impossible BitsStored, and for native, RLE and JPEG data it silently
    masks every bit above BitsStored. A file whose values really use more bits (the VinDr quirk the official
    converter fixes by forcing BitsStored=16) would come out garbled, so decode without masking first and fall
    back to BitsStored = BitsAllocated when the upper bits hold image data.
    """
    syntax = ds.file_meta.get("TransferSyntaxUID", "no transfer syntax")  # already parsed by dcmread
    with _failure(name, f"cannot decode pixel data ({getattr(syntax, 'name', syntax)})"):
        allocated, stored = ds.get("BitsAllocated"), ds.get("BitsStored")
        valid = isinstance(allocated, int) and isinstance(stored, int) and 0 < stored <= allocated
        if isinstance(allocated, int) and allocated > 0 and not valid:
            notes.append(f"BitsStored {stored} is invalid for BitsAllocated {allocated}; decoded as {allocated}-bit")
            ds.BitsStored, ds.HighBit = allocated, allocated - 1
        arr = pixel_array(ds, correct_unused_bits=False)
        stored = ds.BitsStored
        if stored == allocated or arr.dtype.kind not in "iu":
            return arr
        signed = int(ds.get("PixelRepresentation") == 1)
        low, high = int(arr.min()), int(arr.max())
        if low >= -signed << (stored - 1) and high < 1 << (stored - signed):
            return arr  # identical to pydicom's masked output
        # Signed values may be sign-extended or not (both in one file, e.g. mlut_18.dcm): let pydicom fix them.
        if (signed and low >= -1 << (stored - 1) and high < 1 << stored) or _has_embedded_overlay(ds):
            return pixel_array(ds)
        notes.append(f"pixel values exceed BitsStored {stored}; decoded as {allocated}-bit")
        ds.BitsStored, ds.HighBit = allocated, allocated - 1
        return arr


_JPEG2000 = (uid.JPEG2000Lossless, uid.JPEG2000)
_SOC_SIZ = b"\xff\x4f\xff\x51"  # a codestream starts: start of codestream, then the image and tile size segment


def _reduction(codestream: bytes, longest: int, max_side: int) -> tuple[int, int] | None:
    """(wavelet levels to drop, sample precision) for a JPEG 2000 codestream: the most levels whose image keeps its
    longest side >= max_side, within the levels the codestream has; None when nothing can be dropped."""
    start = codestream.find(_SOC_SIZ)
    if start < 0 or len(codestream) < start + 43:
        return None
    signed, precision = codestream[start + 42] & 0x80, (codestream[start + 42] & 0x7F) + 1
    position, levels = start + 2, None  # the main header's segments, each marker + length, until COD or a tile
    while position + 4 <= len(codestream):
        marker = codestream[position : position + 2]
        if marker == b"\xff\x52":  # COD: Lcod, Scod, SGcod (4 bytes), then the number of decomposition levels
            levels = codestream[position + 9] if position + 9 < len(codestream) else None
            break
        if marker[:1] != b"\xff" or marker == b"\xff\x90":  # not a marker, or the first tile: no COD
            return None
        position += 2 + int.from_bytes(codestream[position + 2 : position + 4], "big")
    if levels is None:
        return None
    reduce = 0
    while reduce < levels and -(-longest // 2 ** (reduce + 1)) >= max_side:
        reduce += 1
    if reduce == 0 or signed or not 9 <= precision <= 16:
        return None
    return reduce, precision


def _decode_reduced(ds: Dataset, name: str, notes: list[str], max_side: int) -> np.ndarray | None:
    """A single-frame, unsigned, grey JPEG 2000 at the reduced resolution `_reduction` picks (Pillow's `reduce`,
    OpenJPEG's own partial decoding); None where it does not apply, and the full decode does the work."""
    syntax = ds.file_meta.get("TransferSyntaxUID")
    if syntax not in _JPEG2000 or ds.get("PixelRepresentation", 0) != 0 or ds.get("BitsAllocated") != 16:
        return None
    try:
        codestream = next(generate_frames(ds.PixelData, number_of_frames=1))
        found = _reduction(codestream, max(int(ds.Rows), int(ds.Columns)), max_side)
        if found is None:
            return None
        with Image.open(io.BytesIO(codestream), formats=["JPEG2000"]) as image:
            image.reduce = found[0]
            image.load()
            if not image.mode.startswith("I;16"):
                return None
            arr = np.asarray(image) >> (16 - found[1])  # Pillow scales samples to 16 bits by bit replication
    except Exception as exc:
        if not decode_failure(exc):
            raise
        return None  # the full decode tries, and names the problem if there is one
    stored = ds.get("BitsStored")
    if not isinstance(stored, int) or not 0 < stored <= 16 or int(arr.max()) >= 1 << stored:
        notes.append(f"pixel values exceed BitsStored {stored}; decoded as 16-bit")
        ds.BitsStored, ds.HighBit = 16, 15
    return arr


def _has_embedded_overlay(ds: Dataset) -> bool:
    # Retired but still met: overlay planes kept in unused high bits, flagged by Overlay Bit Position (60xx,0102) > 0.
    positions = [(group, 0x0102) for group in range(0x6000, 0x6020, 2)]
    return any(tag in ds and ds[tag].value for tag in positions)


def _mono_to_uint8(arr: np.ndarray, ds: Dataset, name: str, notes: list[str], invert: bool) -> np.ndarray:
    with _failure(name, "cannot apply the modality LUT"):
        modality = apply_modality_lut(arr, ds)
    try:
        voi = apply_voi_lut(modality, ds)
    except Exception as exc:
        if not decode_failure(exc):
            raise
        notes.append(f"VOI LUT failed ({_why(exc)}); used min-max scaling")
        voi = modality
    return _scale_to_uint8(voi, name, invert)


def _colour_to_uint8(arr: np.ndarray, bits_stored: int) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    return np.rint(np.clip(arr, 0, None) * (255 / ((1 << bits_stored) - 1))).clip(0, 255).astype(np.uint8)


def _scale_to_uint8(arr: np.ndarray, name: str, invert: bool = False) -> np.ndarray:
    """Min-max scale to [0, 1] (a constant image becomes 0), optionally invert, then x255 and round to uint8."""
    unit = arr.astype(np.float64)  # a copy, scaled in place to spare memory on large images
    low, high = float(unit.min()), float(unit.max())
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ImageError(name, "pixel values are not finite (NaN or infinity)")
    unit -= low
    if high > low:
        unit /= high - low
    if invert:
        np.subtract(1.0, unit, out=unit)
    unit *= 255
    return np.rint(unit, out=unit).astype(np.uint8)


def _raster_to_8bit(image: Image.Image, name: str) -> Image.Image:
    """Return an "L" or "RGB" image; 16-bit and float grey are min-max scaled (``convert("L")`` would clip)."""
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        return Image.fromarray(_scale_to_uint8(np.asarray(image), name))
    try:
        return image.convert("RGB")
    except ValueError as exc:
        raise ImageError(name, f"unsupported image mode {image.mode!r}") from exc


def _finish(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink (never enlarge) so the longest side is <= max_side, then make it RGB without metadata."""
    width, height = image.size
    scale = max_side / max(width, height)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    image = image.convert("RGB")
    image.info = {}
    return image


@contextmanager
def _failure(name: str, prefix: str) -> Iterator[None]:
    """Turn a foreign library's exception into ImageError(name, "prefix: detail")."""
    try:
        yield
    except BaseException as exc:
        # Rust codecs (pylibjpeg-rle) panic on some corrupt data; PyO3 raises that as a BaseException subclass.
        if decode_failure(exc):
            raise ImageError(name, f"{prefix}: {_why(exc)}") from exc
        if type(exc).__name__ != "PanicException":
            raise
        raise ImageError(name, f"{prefix}: the decoder crashed ({_why(exc)})") from exc


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if text else type(exc).__name__
