"""What a source reader yields: one `Record` per usable image, one `Skip` per row or file it could not use."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ImageError
from ..imaging import DEFAULT_MAX_SIDE, StandardImage, load_dicom, load_raster
from .archive import MEMBER_READ_ERRORS, SourceTree

# Why something was skipped: short, stable codes counted in build_report.json; the reason says the details.
UNSAFE_MEMBER = "unsafe-member"
ORPHAN_IMAGE = "orphan-image"
ORPHAN_ANNOTATION = "orphan-annotation"
MISSING_IMAGE = "missing-image"
MISSING_ROW = "missing-row"
BAD_NAME = "bad-name"
BAD_ANNOTATION = "bad-annotation"
UNKNOWN_LABEL = "unknown-label"
DROPPED_LABEL = "dropped-label"
AMBIGUOUS_LABEL = "ambiguous-label"
DUPLICATE_LANDMARK = "duplicate-landmark"
MISSING_SEVERITY = "missing-severity"
CORRUPT_IMAGE = "corrupt-image"


@dataclass(frozen=True)
class Skip:
    """One row, file, image or condition a reader could not use: a stable `kind` code and a reason naming it."""

    source: str
    key: str  # the file or row it concerns, as the user can find it in the archive
    kind: str  # one of the codes above
    reason: str
    # True when an image the source names (or holds) is lost; False for a table row or a single condition, whose
    # image may still be used. The build counts image skips against the records to find mostly-skipped sources.
    image: bool = True


@dataclass(frozen=True)
class LevelFinding:
    """Ground truth for a localization question: the positive disc levels of one condition (and side)."""

    condition: str  # canonical disease name
    side: str | None  # "left" / "right" where the source distinguishes sides
    levels: tuple[str, ...]  # non-empty, canonical order


@dataclass(frozen=True)
class ImageRef:
    """Where a record's image lies; decoded and standardized only when `load` is called."""

    tree: SourceTree
    member: str
    kind: str  # "dicom" or "raster"

    @property
    def name(self) -> str:
        """The file as users are shown it: its path, or `archive!member`."""
        return self.tree.display(self.member)

    def read_bytes(self) -> bytes:
        """The file's bytes; ImageError when it is missing or cannot be read."""
        try:
            return self.tree.read_bytes(self.member)
        except KeyError as exc:
            raise ImageError(self.name, "file not found in the source") from exc
        except MEMBER_READ_ERRORS as exc:
            raise ImageError(self.name, f"cannot read the file: {exc}") from exc

    def load(self, max_side: int = DEFAULT_MAX_SIDE) -> StandardImage:
        """Read and standardize the image (see `standardize`); raises ImageError."""
        return self.standardize(self.read_bytes(), max_side)

    def standardize(self, data: bytes, max_side: int = DEFAULT_MAX_SIDE) -> StandardImage:
        """The standardized image of this file's bytes (read with `read_bytes`); raises ImageError."""
        load = load_dicom if self.kind == "dicom" else load_raster
        return load(data, max_side=max_side, name=self.name)


@dataclass(frozen=True)
class Record:
    """One usable image of a source and its truth: the diseases it shows and, where known, their positive levels."""

    source: str  # buu, csxa, rsna, vindr
    key: str  # stable original key inside the source (file stem, image id, study/series/instance)
    patient_id: str
    study_id: str
    modality: str  # labels.MODALITY_XRAY / MODALITY_MRI
    view: str
    diseases: tuple[str, ...]  # canonical names in vocabulary order; ("Healthy",) for a normal image
    findings: tuple[LevelFinding, ...]
    image: ImageRef

    @property
    def image_id(self) -> str:
        """The image's id in the dataset: `<source>/<key>`."""
        return f"{self.source}/{self.key}"
