"""Small synthetic archives in the exact on-disk formats of the four sources (docs/sources.md).

Used by the tests and by `spinebench demo`. The images are drawn (a column of vertebrae whose shape follows the
labels), not real anatomy. Everything is deterministic: same cases and seed → same bytes, archives included.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import json
import re
import shutil
import tarfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom import uid
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, RLELossless, generate_uid

from ..labels import LEVELS
from ..seeding import rng_for

ZIP_DATE = (1980, 1, 1, 0, 0, 0)


# --- drawing --------------------------------------------------------------------------------------------
def draw_spine(
    seed: int,
    key: str,
    size: tuple[int, int],
    *,
    shift: int = -1,
    bend: float = 0.0,
    narrow: bool = False,
    collapse: int = -1,
) -> np.ndarray:
    """A float image in [0, 1] (height, width): soft tissue band and 6 vertebral bodies along a curve.

    `shift` moves one vertebra forward (listhesis), `bend` curves the column (−1 kyphotic … +1 lordotic),
    `narrow` shrinks the disc spaces, `collapse` flattens one vertebra.
    """
    height, width = size
    rng = rng_for(seed, "draw", key)
    rows, cols = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    image = 0.15 + 0.25 * np.exp(-(((cols - 0.5) / 0.3) ** 2))
    gap = 0.03 if narrow else 0.06
    body = (1.0 - 7 * gap) / 6
    for v in range(6):
        top = gap + v * (body + gap)
        bottom = top + (body * 0.45 if v == collapse else body)
        t = (top + bottom) / 2
        centre = 0.5 + 0.12 * bend * np.sin(np.pi * t) + (0.06 if v == shift else 0.0)
        inside = (rows >= top) & (rows <= bottom) & (np.abs(cols - centre) <= 0.12)
        image[inside] = 0.8
    image += rng.normal(0, 0.03, size=image.shape)
    return np.clip(image, 0, 1)


def to_uint(image: np.ndarray, bits: int) -> np.ndarray:
    """`image` in [0, 1] scaled to `bits`-bit integers (uint8 up to 8 bits, uint16 above)."""
    return np.round(image * (2**bits - 1)).astype(np.uint16 if bits > 8 else np.uint8)


def encode(image: np.ndarray, fmt: str) -> bytes:
    """`image` as a file of Pillow format `fmt` (JPEG at quality 90)."""
    out = io.BytesIO()
    Image.fromarray(image).save(out, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


SOP_CLASSES = {
    "CR": uid.ComputedRadiographyImageStorage,
    "DX": uid.DigitalXRayImageStorageForPresentation,
    "MR": uid.MRImageStorage,
}
COMPRESSION = {"rle": (RLELossless, {}), "jpeg2000": (JPEG2000Lossless, {"encoding_plugin": "pylibjpeg"})}


def dicom_bytes(
    pixels: np.ndarray,
    key: str,
    *,
    modality: str,
    photometric: str = "MONOCHROME2",
    bits_stored: int = 12,
    window: tuple[float, float] | None = None,
    compress: str | None = None,
    uids: dict[str, str] | None = None,
    stripped: bool = False,
    **tags,
) -> bytes:
    """A single-frame grayscale DICOM file (CR, DX or MR) holding `pixels` (uint16).

    UIDs are derived from `key`, or given (`uids`: Study/Series/SOPInstanceUID; VinDr's are 32-hex strings, which
    are not valid UIDs). `compress`: None, "rle" or "jpeg2000" (lossless). `stripped`: as VinDr's anonymised files,
    without Modality, SOPClassUID and the patient tags.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's complaints about the hex UIDs written on purpose
        return _dicom(pixels, key, modality, photometric, bits_stored, window, compress, uids, stripped, tags)


def _dicom(pixels, key, modality, photometric, bits_stored, window, compress, uids, stripped, tags) -> bytes:
    uids = uids or {
        name: generate_uid(entropy_srcs=[key, name])
        for name in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
    }
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SOP_CLASSES[modality]
    meta.MediaStorageSOPInstanceUID = uids["SOPInstanceUID"]
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    for name, value in uids.items():
        setattr(ds, name, value)
    if not stripped:
        ds.SOPClassUID, ds.Modality, ds.PatientID = meta.MediaStorageSOPClassUID, modality, "anonymous"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, bits_stored, bits_stored - 1, 0
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    if window:
        ds.WindowCenter, ds.WindowWidth = window
    for name, value in tags.items():
        setattr(ds, name, value)
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    if compress:
        syntax, options = COMPRESSION[compress]
        ds.compress(syntax, generate_instance_uid=False, **options)
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def write(path: Path, data: bytes | str) -> None:
    """Write bytes, or text as UTF-8, to `path`, creating its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def csv_text(header: list[str] | None, rows: list[list]) -> str:
    """CSV text with LF line ends: the header row, if any, then `rows`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


# --- BUU-LSPINE -----------------------------------------------------------------------------------------
@dataclass
class BuuCase:
    """One BUU-LSPINE patient: an AP and a lateral image, each with the codes of its endplate rows."""

    patient: int
    sex: str = "F"
    age: int = 45
    ap_codes: tuple[int, ...] = (0,) * 10  # 5th-column code per endplate row L1a .. L5b
    la_codes: tuple[int, ...] = (0,) * 11  # L1a .. L5b, S1a

    def stem(self, view: int) -> str:
        """The file stem of its image of `view` (0: AP, 1: lateral): NNNN-S-AAAYV."""
        return f"{self.patient:04d}-{self.sex}-{self.age:03d}Y{view}"


def endplate_rows(codes: tuple[int, ...], size: tuple[int, int]) -> list[list[str]]:
    """Headerless `x1,y1,x2,y2,label` rows, one per code, spaced down an image of `size` (height, width)."""
    height, width = size
    rows = []
    for i, code in enumerate(codes):
        y = height * (0.06 + 0.08 * i)
        rows.append([f"{width * 0.38:.4f}", f"{y:.4f}", f"{width * 0.62:.4f}", f"{y + 1.5:.4f}", str(code)])
    return rows


def write_buu(root: Path, cases: list[BuuCase], *, seed: int = 0, size: tuple[int, int] = (96, 64)) -> Path:
    """root/AP/NNNN-S-AAAY0.jpg+.csv and root/LA/NNNN-S-AAAY1.jpg+.csv."""
    for case in cases:
        for folder, view, codes in (("AP", 0, case.ap_codes), ("LA", 1, case.la_codes)):
            stem = case.stem(view)
            slipped = [i // 2 for i, code in enumerate(codes) if code]
            pixels = draw_spine(seed, stem, size, shift=slipped[0] if slipped else -1)
            write(root / folder / f"{stem}.jpg", encode(to_uint(pixels, 8), "JPEG"))
            write(root / folder / f"{stem}.csv", csv_text(None, endplate_rows(codes, size)))
    return root


# --- CSXA -----------------------------------------------------------------------------------------------
CSXA_LANDMARKS = ["C2 centroid", "C2 bottom left", "C2 bottom right"] + [
    f"C{v} {corner}" for v in range(3, 8) for corner in ("top left", "top right", "bottom left", "bottom right")
]
CSXA_CURVATURE_HEADER = "Curvature: 1.Lordotic, 2.Straight, 3.Sigmoid1, 4.Sigmoid2, 5.Kyphotic"
CSXA_BEND = {1: 1.0, 2: 0.0, 3: 0.6, 4: -0.6, 5: -1.0}


@dataclass
class CsxaCase:
    """One CSXA case: its image's stem, its workbook curvature cell and its LabelMe landmarks."""

    number: int
    curvature: object = 1  # the workbook cell: 1-5, or junk for bad-input tests
    tail: str = "035"  # the last 3 digits of the 7-digit file stem
    landmarks: list[str] = field(default_factory=lambda: list(CSXA_LANDMARKS))
    in_workbook: bool = True

    @property
    def stem(self) -> str:
        """The 7-digit file stem: the 4-digit case number, then `tail`."""
        return f"{self.number:04d}{self.tail}"


def labelme_json(case: CsxaCase, png: bytes, size: tuple[int, int], seed: int = 0) -> str:
    """As the real files: the landmarks in a non-canonical order, as `point` or single-point `polygon` shapes."""
    height, width = size
    order = rng_for(seed, "csxa-order", case.stem).permutation(len(case.landmarks))
    shapes = [
        {
            "label": case.landmarks[i],
            "points": [[width * 0.5, height * (0.1 + 0.035 * i)]],
            "group_id": None,
            "description": "",
            "shape_type": "polygon" if i % 3 == 1 else "point",
            "flags": {},
        }
        for i in order.tolist()
    ]
    return json.dumps(
        {
            "version": "5.2.1",
            "flags": {},
            "shapes": shapes,
            "imagePath": f"..\\datasets-PNG\\{case.stem}.png",
            "imageData": base64.b64encode(png).decode(),
            "imageHeight": height,
            "imageWidth": width,
        },
        indent=2,
    )


def write_csxa_workbook(path: Path, rows: list[tuple[object, object]]) -> None:
    """datasets.xlsx: Sheet1, a title on row 1, the header on row 2 (pandas header=1), then (Number, curvature)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    sheet.append(["Cervical Spine X-ray Atlas (CSXA)"])
    sheet.append(["Number", "Gender", "Age", "Pixel equivalent", "Disease", CSXA_CURVATURE_HEADER, "C2-C7 Cobb"])
    for number, curvature in rows:
        sheet.append([number, "F", 45, 0.1, "spondylosis", curvature, 12.5])
    book.properties.creator = "synthetic"
    buffer = io.BytesIO()
    book.save(buffer)  # stamps the time of saving in docProps/core.xml and on every zip member: fixed below
    with zipfile.ZipFile(buffer) as saved:
        members = {name: saved.read(name) for name in saved.namelist()}
    members["docProps/core.xml"] = re.sub(
        rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z", members["docProps/core.xml"]
    )
    write_zip(path, members)


def write_csxa(
    root: Path,
    cases: list[CsxaCase],
    *,
    extra_rows: list[tuple[object, object]] = (),
    zipped: bool = False,
    seed: int = 0,
    size: tuple[int, int] = (80, 64),
) -> Path:
    """root/datasets.xlsx + datasets-PNG/*.png + datasets-JSON/*.json (or the two download zips)."""
    files: dict[str, bytes] = {}
    for case in cases:
        bend = CSXA_BEND.get(case.curvature if isinstance(case.curvature, int) else 0, 0.0)
        png = encode(to_uint(draw_spine(seed, case.stem, size, bend=bend), 8), "PNG")
        files[f"datasets-PNG/{case.stem}.png"] = png
        files[f"datasets-JSON/{case.stem}.json"] = labelme_json(case, png, size, seed).encode()
    rows = [(c.number, c.curvature) for c in cases if c.in_workbook] + list(extra_rows)
    write_csxa_workbook(root / "datasets.xlsx", rows)
    for folder in ("datasets-PNG", "datasets-JSON"):
        members = {name: data for name, data in files.items() if name.startswith(folder + "/")}
        if zipped:
            write_zip(root / f"{folder}.zip", members)
        else:
            for name, data in members.items():
                write(root / name, data)
    return root


# --- RSNA 2024 LSDC -------------------------------------------------------------------------------------
RSNA_CONDITIONS = [
    "Spinal Canal Stenosis",
    "Left Neural Foraminal Narrowing",
    "Right Neural Foraminal Narrowing",
    "Left Subarticular Stenosis",
    "Right Subarticular Stenosis",
]
RSNA_COLUMNS = [
    f"{c.lower().replace(' ', '_')}_{lv.lower().replace('/', '_')}" for c in RSNA_CONDITIONS for lv in LEVELS
]


@dataclass
class RsnaSeries:
    """One series of an RSNA study: its id, its description and its instance numbers."""

    series_id: int
    description: str  # Sagittal T1, Sagittal T2/STIR, Axial T2
    instances: tuple[int, ...]


@dataclass
class RsnaStudy:
    """One RSNA study: its series, its rows of train_label_coordinates.csv and its train.csv grades."""

    study_id: int
    series: list[RsnaSeries]
    coordinates: list[tuple[int, int, str, str]]  # (series_id, instance, condition, level) as in the CSV
    grades: dict[str, str | None] = field(default_factory=dict)  # train.csv column -> grade; others Normal/Mild


def write_rsna(root: Path, studies: list[RsnaStudy], *, seed: int = 0, size: tuple[int, int] = (48, 48)) -> Path:
    """train.csv, train_label_coordinates.csv, *_series_descriptions.csv, sample_submission.csv, DICOM trees."""
    grades = [[s.study_id] + [s.grades.get(c, "Normal/Mild") for c in RSNA_COLUMNS] for s in studies]
    write(
        root / "train.csv",
        csv_text(["study_id"] + RSNA_COLUMNS, [[v if v is not None else "" for v in r] for r in grades]),
    )
    coordinates = [
        [s.study_id, series, instance, condition, level, f"{size[1] * 0.5:.6f}", f"{size[0] * 0.4:.6f}"]
        for s in studies
        for series, instance, condition, level in s.coordinates
    ]
    write(
        root / "train_label_coordinates.csv",
        csv_text(["study_id", "series_id", "instance_number", "condition", "level", "x", "y"], coordinates),
    )
    series_rows = [[s.study_id, r.series_id, r.description] for s in studies for r in s.series]
    write(
        root / "train_series_descriptions.csv", csv_text(["study_id", "series_id", "series_description"], series_rows)
    )
    test = RsnaStudy(44036939, [RsnaSeries(3844393089, "Sagittal T2/STIR", (12,))], [])
    write(
        root / "test_series_descriptions.csv",
        csv_text(["study_id", "series_id", "series_description"], [[test.study_id, 3844393089, "Sagittal T2/STIR"]]),
    )
    write(
        root / "sample_submission.csv",
        csv_text(
            ["row_id", "normal_mild", "moderate", "severe"],
            [[f"{test.study_id}_{c}", 0.333333, 0.333333, 0.333333] for c in RSNA_COLUMNS],
        ),
    )
    for folder, study in [("train_images", s) for s in studies] + [("test_images", test)]:
        for series in study.series:
            for instance in series.instances:
                key = f"{study.study_id}/{series.series_id}/{instance}"
                pixels = to_uint(draw_spine(seed, key, size, narrow=bool(instance % 2)), 12)
                data = dicom_bytes(
                    pixels,
                    key,
                    modality="MR",
                    window=(2048, 4096),
                    InstanceNumber=instance,
                    SeriesDescription=series.description,
                    compress="rle" if instance % 3 == 0 else None,
                    **rsna_geometry(series.description, instance),
                )
                write(root / folder / str(study.study_id) / str(series.series_id) / f"{instance}.dcm", data)
    return root


def rsna_geometry(description: str, instance: int) -> dict:
    """The geometry tags every real RSNA slice carries: where the slice lies, how it is oriented, its spacing."""
    sagittal = description.lower().startswith("sagittal")
    position = [-40.0 + 4.0 * instance, -120.5, 60.25] if sagittal else [-120.5, -80.0, 40.0 - 4.0 * instance]
    orientation = [0, 1, 0, 0, 0, -1] if sagittal else [1, 0, 0, 0, 1, 0]
    return {
        "ImagePositionPatient": position,
        "ImageOrientationPatient": orientation,
        "PixelSpacing": [0.625, 0.625],
        "SliceThickness": 4.0 if sagittal else 3.5,
    }


# --- VinDr-SpineXR --------------------------------------------------------------------------------------
@dataclass
class VindrImage:
    """One VinDr-SpineXR image: its id, split and lesion rows, and how its DICOM file is written (if at all)."""

    image_id: str  # 32 hex characters
    split: str = "train"
    lesions: tuple[str, ...] = ("No finding",)  # raw lesion_type strings, one annotation row each
    study_id: str = ""
    photometric: str = "MONOCHROME2"
    write_file: bool = True


def write_vindr(root: Path, images: list[VindrImage], *, seed: int = 0, size: tuple[int, int] = (100, 80)) -> Path:
    """annotations/{train,test}.csv and {train,test}_images/<image_id>.dicom, as the real files are: JPEG 2000
    Lossless, 12 bits stored in 16, windowed, headers stripped, 32-hex UIDs, and some box rows written twice."""
    header = ["study_id", "series_id", "image_id", "rad_id", "lesion_type", "xmin", "ymin", "xmax", "ymax"]
    for split in ("train", "test"):
        rows = []
        for image in (i for i in images if i.split == split):
            uids = {
                "StudyInstanceUID": image.study_id or vindr_hex(image.image_id, "study"),
                "SeriesInstanceUID": vindr_hex(image.image_id, "series"),
                "SOPInstanceUID": image.image_id,
            }
            for n, lesion in enumerate(image.lesions):
                box = ["", "", "", ""] if lesion == "No finding" else [10.5 + n, 12.0, 40.25, 52.0]
                row = [uids["StudyInstanceUID"], uids["SeriesInstanceUID"], image.image_id, "rad1", lesion, *box]
                rows += (
                    [row, row] if lesion != "No finding" and image.image_id[-1] in "02468" else [row]
                )  # real duplicates
            if image.write_file:
                pixels = to_uint(
                    draw_spine(seed, image.image_id, size, narrow="Disc space narrowing" in image.lesions), 12
                )
                if image.photometric == "MONOCHROME1":
                    pixels = 4095 - pixels
                data = dicom_bytes(
                    pixels,
                    image.image_id,
                    modality="DX" if image.image_id[0] in "89abcdef" else "CR",
                    photometric=image.photometric,
                    window=(2048, 4096),
                    compress="jpeg2000",
                    uids=uids,
                    stripped=True,
                )
                write(root / f"{split}_images" / f"{image.image_id}.dicom", data)
        write(root / "annotations" / f"{split}.csv", csv_text(header, rows))
    return root


def vindr_hex(image_id: str, kind: str) -> str:
    """A 32-hex id, as VinDr's study and series ids are."""
    return hashlib.md5(f"{kind}:{image_id}".encode()).hexdigest()


# --- the authors' release (Silversorrow/SpineBench) ------------------------------------------------------
def write_release(
    root: Path, files: dict[str, list[dict]], *, seed: int = 0, size: tuple[int, int] = (64, 48)
) -> Path:
    """`root/<folder>/<name>.json` (each a list of the given records) with a JPEG for every `image`/`image_path`
    they name, beside the JSON file, as the release is laid out (docs/paper.md §8)."""
    for name, records in files.items():
        json_path = root / name
        write(json_path, json.dumps(records, indent=1))
        for record in records:
            image = record.get("image", record.get("image_path")) if isinstance(record, dict) else None
            if isinstance(image, str) and not (json_path.parent / image).exists():
                write(json_path.parent / image, encode(to_uint(draw_spine(seed, image, size), 8), "JPEG"))
    return root


IMAGES_PER_RECORD = 0.62  # 40,263 images for 64,878 questions in the paper
LARGE_DISEASES = ["Healthy", "Osteophytes", "cervical Lordosis", "Disc space narrowing", "Spinal Canal Stenosis"]
LARGE_LEVELS = ["L3/L4", "L1/L2", "L5/S1", "L2/L3", "L4/L5"]


def write_large_release(root: Path, records: int) -> Path:
    """A release of the real shape and any size: evaluation/test.json (1/30 of the images) and all/train.json,
    `records` records in all on IMAGES_PER_RECORD images (16×16 JPEGs, one per image); diagnosis records with quoted
    options in the question text, then localization records with lettered `option A` fields (unsorted levels)."""
    rng = np.random.default_rng(0)
    images = max(1, int(records * IMAGES_PER_RECORD))
    for index in range(images):
        folder = root / ("evaluation" if index < images // 30 else "all") / "rsna" / str(index // 100)
        folder.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8)).save(buffer, "JPEG")
        (folder / f"{index}.jpg").write_bytes(buffer.getvalue())
    files: dict[str, list] = {"evaluation": [], "all": []}
    for number in range(records):
        image = number % images
        folder = "evaluation" if image < images // 30 else "all"
        path = f"rsna/{image // 100}/{image}.jpg"
        if number < images:  # every image a diagnosis question, quoted options in the text
            answer = LARGE_DISEASES[image % 5]
            text = "\n".join(f'{letter}: "{name}",' for letter, name in zip("ABCDE", LARGE_DISEASES))
            files[folder].append(
                {
                    "image": path,
                    "task": "spine_disease_classification",
                    "answers": answer,
                    "question": f"What spinal disease does this patient have?\nOptions:\n{text}",
                }
            )
        else:  # then localization questions, lettered fields with unsorted levels
            files[folder].append(
                {
                    "image": path,
                    "task": "spine_lesion_localization",
                    "answers": [LARGE_LEVELS[image % 5]],
                    "question": "Where is the spinal canal stenosis?",
                    **{f"option {letter}": level for letter, level in zip("ABCDE", LARGE_LEVELS)},
                }
            )
    for folder, name in (("evaluation", "test.json"), ("all", "train.json")):
        (root / folder / name).write_text(json.dumps(files[folder]))
    return root


# --- archives -------------------------------------------------------------------------------------------
def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    """A reproducible zip of `members` (name -> bytes): sorted, deflated, with a fixed date and mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.external_attr = 0o644 << 16
            archive.writestr(info, members[name], zipfile.ZIP_DEFLATED)
    return path


def write_tar(path: Path, members: dict[str, bytes]) -> Path:
    """A reproducible tar of `members` (gzip-compressed for .gz/.tgz): sorted, with mtime 0 and mode 644."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(members[name]), 0o644, 0
            archive.addfile(info, io.BytesIO(members[name]))
    data = raw.getvalue()
    if path.name.endswith((".gz", ".tgz")):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


def pack(folder: Path, archive: Path, *, wrapper: str = "") -> Path:
    """Pack a folder as .zip / .tar / .tar.gz (by suffix), optionally under wrapper folder(s) like 'a/' or 'a/a/'."""
    members = {
        wrapper + p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
    return write_zip(archive, members) if archive.name.endswith(".zip") else write_tar(archive, members)


# --- a ready-made sample of all four sources (spinebench samples / demo) ----------------------------------
VINDR_SAMPLE_LESIONS = [
    ("Osteophytes",),
    ("Disc space narrowing",),
    ("Foraminal stenosis",),
    ("Vertebral collapse",),
    ("Spondylolysthesis",),
    ("No finding",),
    ("Osteophytes", "Disc space narrowing"),
    ("Surgical implant",),
]


def sample_cases(seed: int, per_source: int) -> dict[str, list]:
    """Deterministic, label-varied cases for each source; `per_source` ≈ images per source."""
    rng = rng_for(seed, "sample-cases")
    buu = [
        BuuCase(
            p,
            "FM"[p % 2],
            30 + p % 50,
            la_codes=tuple(int(i == 2 * (p % 5) and p % 3 == 0) for i in range(11)),
            ap_codes=tuple(int(i == 2 * (p % 5) and p % 3 == 0) for i in range(10)),
        )
        for p in range(1, per_source // 2 + 2)
    ]
    csxa = [CsxaCase(n, 1 + n % 5, tail=f"{int(rng.integers(0, 1000)):03d}") for n in range(1, per_source + 1)]
    rsna = []
    for s in range(per_source // 6 + 1):
        study = 1000000 + 7919 * s
        grades = {
            f"spinal_canal_stenosis_{lv}": ("Moderate" if (s + i) % 3 == 0 else "Normal/Mild")
            for i, lv in enumerate(["l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1"])
        }
        grades["left_neural_foraminal_narrowing_l4_l5"] = "Severe" if s % 2 else "Normal/Mild"
        grades["left_neural_foraminal_narrowing_l3_l4"] = "Moderate" if s % 3 == 0 else "Normal/Mild"
        grades["right_subarticular_stenosis_l4_l5"] = "Moderate" if s % 2 == 0 else "Normal/Mild"
        series = [
            RsnaSeries(10 * study + 1, "Sagittal T1", (3, 5, 8)),
            RsnaSeries(10 * study + 2, "Sagittal T2/STIR", (4, 9)),
            RsnaSeries(10 * study + 3, "Axial T2", (2, 11)),
        ]
        coordinates = [(10 * study + 2, 9, "Spinal Canal Stenosis", lv) for lv in LEVELS] + [
            (10 * study + 1, 5, "Left Neural Foraminal Narrowing", "L4/L5"),
            (10 * study + 1, 3, "Left Neural Foraminal Narrowing", "L3/L4"),  # one condition over two slices, as real
            (10 * study + 1, 8, "Left Neural Foraminal Narrowing", "L1/L2"),
            (10 * study + 3, 11, "Right Subarticular Stenosis", "L4/L5"),
        ]
        rsna.append(RsnaStudy(study, series, coordinates, grades))
    vindr = [
        VindrImage(
            f"{int(rng.integers(0, 2**63)):016x}{i:016x}",
            "train" if i % 4 else "test",
            VINDR_SAMPLE_LESIONS[i % len(VINDR_SAMPLE_LESIONS)],
        )
        for i in range(per_source)
    ]
    return {"buu": buu, "csxa": csxa, "rsna": rsna, "vindr": vindr}


SAMPLE_ARCHIVES = {  # source -> (archive name, wrapper folder), as the real downloads are named
    "buu": ("BUU-LSPINE_400.zip", "BUU-LSPINE_400/"),
    "csxa": ("CSXA", ""),  # three files: datasets.xlsx + datasets-PNG.zip + datasets-JSON.zip
    "rsna": ("rsna-2024-lumbar-spine-degenerative-classification.zip", ""),
    "vindr": ("vindr-spinexr-1.0.0.tar.gz", "physionet.org/files/vindr-spinexr/1.0.0/"),
}


def write_samples(
    output: Path, *, seed: int = 0, per_source: int = 24, size: tuple[int, int] | None = None
) -> dict[str, Path]:
    """Write one sample of each source as the user downloads it; returns source -> path to give the reader.
    `size` (rows, columns) replaces every source's small default image size."""
    output = Path(output)
    cases = sample_cases(seed, per_source)
    sized = {"size": size} if size else {}
    writers = {"buu": write_buu, "csxa": write_csxa, "rsna": write_rsna, "vindr": write_vindr}
    paths = {}
    for source, (name, wrapper) in SAMPLE_ARCHIVES.items():
        if source == "csxa":
            paths[source] = write_csxa(output / name, cases["csxa"], zipped=True, seed=seed, **sized)
            continue
        staging = output / f".{source}-staging"
        writers[source](staging, cases[source], seed=seed, **sized)
        paths[source] = pack(staging, output / name, wrapper=wrapper)
        shutil.rmtree(staging)
    return paths
