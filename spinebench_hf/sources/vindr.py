"""VinDr-SpineXR (PhysioNet): spine radiographs with radiologist-drawn lesion boxes.

Nguyen HT, et al., "VinDr-SpineXR: A deep learning framework for spinal lesions detection and classification from
radiographs", MICCAI 2021; PhysioNet doi:10.13026/q45h-5h59. Layout and quirks: docs/sources.md §4.

Both annotations/train.csv and annotations/test.csv are used (docs/building.md). An image's label is the set of its
rows' lesion types; boxes are not needed, so a NaN box never drops a label ("No finding" rows always have NaN boxes).
Images carrying "Surgical implant" or "Other lesions" are dropped, as in the paper; an image with both "No finding"
and a lesion is ambiguous and skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from ..labels import HEALTHY, MODALITY_XRAY, canonical_diseases
from .base import SourceReader, clean
from .records import AMBIGUOUS_LABEL, DROPPED_LABEL, MISSING_IMAGE, ORPHAN_IMAGE, UNKNOWN_LABEL, Record, Skip

SPLITS = ("train", "test")
NO_FINDING = "No finding"
LESIONS = {
    "Osteophytes": "Osteophytes",
    "Disc space narrowing": "Disc space narrowing",
    "Foraminal stenosis": "Foraminal stenosis",
    "Vertebral collapse": "Vertebral collapse",
    "Spondylolysthesis": "Spondylolisthesis",  # the source's spelling
    "Spondylolisthesis": "Spondylolisthesis",
    NO_FINDING: HEALTHY,
}
DROPPED = ("Surgical implant", "Other lesions")
KNOWN = sorted([*LESIONS, *DROPPED])


class VindrReader(SourceReader):
    """VinDr-SpineXR: a record per image of annotations/train.csv and test.csv, labelled by its lesion types."""

    name = "vindr"  # title, homepage, licence, citation: catalog.CATALOG["vindr"]
    layout = (
        "  annotations/train.csv, annotations/test.csv   "
        "(study_id, series_id, image_id, rad_id, lesion_type, xmin..)\n"
        "  train_images/<image_id>.dicom, test_images/<image_id>.dicom\n"
        "e.g. physionet.org/files/vindr-spinexr/1.0.0/ as a recursive download leaves it"
    )

    def find_root(self) -> str:
        """The shallowest prefix holding annotations/train.csv and train_images/."""
        return self.root_with("annotations/train.csv", "train_images/")

    def _read(self) -> Iterator[Record | Skip]:
        for split in SPLITS:
            table = f"{self.root}annotations/{split}.csv"
            if split == "train" or self.tree.exists(table):
                yield from self._read_split(split, table)

    def _read_split(self, split: str, table: str) -> Iterator[Record | Skip]:
        frame = self.read_table(table, ["study_id", "image_id", "lesion_type"])
        images: dict[str, tuple[str, set[str]]] = {}
        for study, image_id, lesion in zip(frame["study_id"], frame["image_id"], frame["lesion_type"]):
            images.setdefault(clean(image_id), (clean(study), set()))[1].add(clean(lesion))
        folder = f"{self.root}{split}_images/"
        for image_id in sorted(images):
            study, lesions = images[image_id]
            yield self._image(split, image_id, study, lesions, f"{folder}{image_id}.dicom")
        for member in self.files_under(f"{split}_images/"):
            if PurePosixPath(member).stem not in images and member.lower().endswith(".dicom"):
                yield self.skip(
                    f"{split}/{PurePosixPath(member).stem}",
                    ORPHAN_IMAGE,
                    f"{self.tree.display(member)}: image without rows in annotations/{split}.csv",
                )

    def _image(self, split: str, image_id: str, study: str, lesions: set[str], member: str) -> Record | Skip:
        key = f"{split}/{image_id}"
        unknown = sorted(lesion for lesion in lesions if lesion not in LESIONS and lesion not in DROPPED)
        if unknown:
            return self.skip(
                key,
                UNKNOWN_LABEL,
                f"unknown lesion_type {unknown} in annotations/{split}.csv; expected one of {KNOWN}",
            )
        dropped = sorted(lesions.intersection(DROPPED))
        if dropped:
            return self.skip(
                key, DROPPED_LABEL, f"carries {dropped}: images with these labels are dropped, as in the paper"
            )
        diseases = canonical_diseases(LESIONS[lesion] for lesion in lesions)
        if HEALTHY in diseases and len(diseases) > 1:
            return self.skip(key, AMBIGUOUS_LABEL, f"both 'No finding' and lesions {sorted(lesions - {NO_FINDING})}")
        if not self.tree.exists(member):
            return self.skip(
                key, MISSING_IMAGE, f"{self.tree.display(member)}: image named in annotations/{split}.csv not found"
            )
        return self.record(
            key,
            self.ref(member, "dicom"),
            patient_id=study,
            study_id=study,
            modality=MODALITY_XRAY,
            view="unspecified",
            diseases=diseases,
        )
