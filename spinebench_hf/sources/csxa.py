"""CSXA, the Cervical Spine X-ray Atlas: 4,963 lateral cervical radiographs with curvature classes.

Ran Y, et al., "A high-quality dataset featuring classified and annotated cervical spine X-ray atlas",
Scientific Data 2024, doi:10.1038/s41597-024-03383-0. Layout and quirks: docs/sources.md §2.

The original download is three files: datasets.xlsx, datasets-PNG.zip and datasets-JSON.zip. The two zips may be
given extracted or as they are, beside the workbook. An image joins its workbook row on the first 4 digits of its
7-digit stem (the case `Number`). Only the curvature class is used (docs/building.md); the LabelMe JSON is checked for
a repeated landmark (one real file, 2548130.json, has `C3 top right` twice): such an image is skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from ..errors import ImageError, SourceFormatError
from ..labels import MODALITY_XRAY
from .archive import FolderTree, SourceTree, ZipTree
from .base import SourceReader, as_int, clean
from .records import (
    AMBIGUOUS_LABEL,
    BAD_ANNOTATION,
    DUPLICATE_LANDMARK,
    MISSING_IMAGE,
    MISSING_ROW,
    UNKNOWN_LABEL,
    UNSAFE_MEMBER,
    ImageRef,
    Record,
    Skip,
)

WORKBOOK = "datasets.xlsx"
STEM = re.compile(r"^\d{7}$")
CURVATURE = {
    1: "Cervical lordosis",
    2: "Straight cervical vertebrae",
    3: "Sigmoid cervical vertebrae",
    4: "Sigmoid cervical vertebrae",
    5: "Cervical kyphosis",
}


def landmark_problem(raw: bytes) -> tuple[str, str] | None:
    """(skip kind, reason) when a LabelMe JSON is unreadable or repeats a landmark; None when it is fine."""
    try:
        shapes = json.loads(raw)["shapes"]
        labels = [" ".join(str(shape["label"]).lower().split()) for shape in shapes]
    except (ValueError, KeyError, TypeError) as exc:
        return BAD_ANNOTATION, f"not a LabelMe JSON with 'shapes' and their 'label's ({type(exc).__name__}: {exc})"
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        return DUPLICATE_LANDMARK, f"landmark {', '.join(map(repr, repeated))} appears more than once"
    return None


class CsxaReader(SourceReader):
    """CSXA: a record per image with a workbook row and a sound LabelMe JSON, labelled by its curvature class."""

    name = "csxa"  # title, homepage, licence, citation: catalog.CATALOG["csxa"]
    layout = (
        "  datasets.xlsx                      (Sheet1, header on row 2: Number, Curvature: 1.Lordotic, ...)\n"
        "  datasets-PNG/NNNNNNN.png           (or datasets-PNG.zip as downloaded)\n"
        "  datasets-JSON/NNNNNNN.json         (or datasets-JSON.zip as downloaded)"
    )

    def find_root(self) -> str:
        """The shallowest prefix holding datasets.xlsx."""
        return self.root_with(WORKBOOK)

    def _read(self) -> Iterator[Record | Skip]:
        cases, skips = self._read_workbook()
        yield from skips
        files, skips = self._pair_files()
        yield from skips
        for stem in sorted(files):
            yield self._image(stem, files[stem], cases.get(stem[:4]))
        with_files = {skip.key[:4] for skip in skips} | {stem[:4] for stem in files}
        for case in sorted(set(cases) - with_files):
            yield self.skip(f"{WORKBOOK}:Number={case}", MISSING_IMAGE, f"workbook row Number={case} has no image")

    def _read_workbook(self) -> tuple[dict[str, str | Skip], list[Skip]]:
        """case number → canonical disease, or the Skip that any image of that case gets."""
        member = self.root + WORKBOOK
        frame = self.read_table(member, ["Number"], header=1, sheet_name=0)
        curvature = [c for c in frame.columns if c.lower().startswith("curvature")]
        if not curvature:
            raise SourceFormatError(
                f"{self.tree.display(member)}: no column starting with 'Curvature'; found {list(frame.columns)}"
            )
        cases: dict[str, str | Skip] = {}
        skips = []
        for row, (number, value) in enumerate(zip(frame["Number"], frame[curvature[0]]), start=3):
            number_int = as_int(number)
            if number_int is None or not 0 <= number_int <= 9999:
                skips.append(
                    self.skip(
                        f"{WORKBOOK}:row {row}",
                        BAD_ANNOTATION,
                        f"Number {clean(number)!r} is not a case number",
                        image=False,
                    )
                )
                continue
            case = f"{number_int:04d}"
            if case in cases:
                cases[case] = self.skip(
                    f"{WORKBOOK}:Number={case}",
                    AMBIGUOUS_LABEL,
                    f"case Number={case} appears in more than one workbook row",
                )
                continue
            code = as_int(value)
            cases[case] = CURVATURE.get(code) or self.skip(
                f"{WORKBOOK}:Number={case}",
                UNKNOWN_LABEL,
                f"curvature {clean(value)!r} is not one of 1-5 (case {case})",
            )
        return cases, skips

    def _pair_files(self) -> tuple[dict[str, dict[str, ImageRef]], list[Skip]]:
        """7-digit stem → {'.png': ref, '.json': ref} for complete pairs; orphans and unsafe members as skips."""
        found: dict[str, dict[str, ImageRef]] = {}
        skips = []
        for tree in self._trees():
            skips.extend(
                self.skip(name, UNSAFE_MEMBER, reason) for name, reason in tree.rejected if tree is not self.tree
            )
            for member in tree.files() if tree is not self.tree else self.files_under(""):
                path = PurePosixPath(member)
                if path.suffix.lower() in (".png", ".json") and STEM.match(path.stem):
                    kind = "raster" if path.suffix.lower() == ".png" else "json"
                    found.setdefault(path.stem, {})[path.suffix.lower()] = ImageRef(tree, member, kind)
        pairs = {}
        for paired in self.pairs_by_stem(found, ".png", ".json", lambda ref: ref.name):
            if isinstance(paired, Skip):
                skips.append(paired)
            else:
                pairs[paired[0]] = paired[1]
        return pairs, skips

    def _trees(self) -> list[SourceTree]:
        """The source tree, plus each zip found below the root (the downloads datasets-PNG/JSON.zip)."""
        zips = [m for m in self.files_under("") if m.lower().endswith(".zip")]
        if zips and not isinstance(self.tree, FolderTree):
            raise SourceFormatError(
                f"{self.tree.display(zips[0])}: a zip inside a zip archive; extract the outer archive first"
            )
        return [self.tree] + [ZipTree(self.tree.location / member) for member in zips]

    def _image(self, stem: str, pair: dict[str, ImageRef], case: str | Skip | None) -> Record | Skip:
        if case is None:
            return self.skip(stem, MISSING_ROW, f"{pair['.png'].name}: no row with Number={stem[:4]} in {WORKBOOK}")
        if isinstance(case, Skip):
            return Skip(self.name, stem, case.kind, f"{pair['.png'].name}: {case.reason}")
        try:
            problem = landmark_problem(pair[".json"].read_bytes())
        except ImageError as exc:  # the JSON member itself cannot be read
            problem = BAD_ANNOTATION, exc.reason
        if problem:
            return self.skip(stem, problem[0], f"{pair['.json'].name}: {problem[1]}")
        return self.record(
            stem,
            pair[".png"],
            patient_id=stem[:4],
            study_id=stem[:4],
            modality=MODALITY_XRAY,
            view="lateral",
            diseases=(case,),
        )
