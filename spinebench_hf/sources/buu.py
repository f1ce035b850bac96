"""BUU-LSPINE: Thai lumbar spine radiographs (AP + lateral) with endplate annotations and listhesis labels.

Klinwichit et al., "BUU-LSPINE: A Thai Open Lumbar Spine Dataset for Spondylolisthesis Detection", Applied
Sciences 13(15):8646, 2023. Layout and quirks: docs/sources.md §1.

Labelling rule (docs/building.md): an image with any non-zero code in the 5th CSV column (a slipped endplate) is
Spondylolisthesis, otherwise Healthy. The code → name map is not documented, so only "non-zero" is used. A code on
an endplate of vertebra V marks V slipped over the one below: level V/V+1 (L5 → L5/S1; the S1 plate → L5/S1).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from ..labels import HEALTHY, LEVELS, MODALITY_XRAY, canonical_levels
from .archive import MEMBER_READ_ERRORS
from .base import SourceReader
from .records import (
    BAD_ANNOTATION,
    BAD_NAME,
    LevelFinding,
    Record,
    Skip,
)

SPONDYLOLISTHESIS = "Spondylolisthesis"
FILE_NAME = re.compile(r"^(?P<patient>\d+)-(?P<sex>[MF])-(?P<age>\d+)Y(?P<view>\d)$")
# folder -> (view digit in the file name, view name, endplate rows: L1a L1b ... L5b [+ S1a])
VIEWS = {"AP": ("0", "AP", 10), "LA": ("1", "lateral", 11)}


def slip_levels(codes: list[int]) -> tuple[str, ...]:
    """Disc levels of the endplate rows with a non-zero code (row i belongs to vertebra i // 2; S1 → L5/S1)."""
    return canonical_levels(LEVELS[min(row // 2, len(LEVELS) - 1)] for row, code in enumerate(codes) if code)


def parse_endplates(raw: bytes, expected_rows: int) -> list[int]:
    """The 5th-column codes of a headerless `x1,y1,x2,y2,label` CSV; ValueError says what is wrong."""
    # newline="": the csv module splits lines itself (a lone \r ends a row instead of failing the whole file)
    lines = io.StringIO(raw.decode("utf-8-sig"), newline="")
    rows = [row for row in csv.reader(lines) if any(cell.strip() for cell in row)]
    if len(rows) != expected_rows:
        raise ValueError(f"expected {expected_rows} endplate rows (x1,y1,x2,y2,label), found {len(rows)}")
    codes = []
    for number, row in enumerate(rows, start=1):
        if len(row) != 5:
            raise ValueError(f"row {number} has {len(row)} values, expected 5 (x1,y1,x2,y2,label)")
        try:
            [float(cell) for cell in row[:4]]
            code = float(row[4])
        except ValueError:
            raise ValueError(f"row {number} is not numeric: {','.join(row)!r}") from None
        if not code.is_integer():
            raise ValueError(f"row {number}: label {row[4]!r} is not an integer code")
        codes.append(int(code))
    return codes


class BuuReader(SourceReader):
    """BUU-LSPINE: a record per AP or lateral image with its endplate CSV, labelled by the rule above."""

    name = "buu"  # title, homepage, licence, citation: catalog.CATALOG["buu"]
    layout = (
        "  AP/NNNN-S-AAAY0.jpg + AP/NNNN-S-AAAY0.csv   (one headerless x1,y1,x2,y2,label CSV per image)\n"
        "  LA/NNNN-S-AAAY1.jpg + LA/NNNN-S-AAAY1.csv\n"
        "possibly inside one or two wrapper folders (e.g. BUU-LSPINE_400/)"
    )

    def find_root(self) -> str:
        """The shallowest prefix holding an AP/ or LA/ folder of .jpg or .csv files."""
        prefixes = sorted(
            {prefix for folder in VIEWS for prefix in self._folder_prefixes(folder)},
            key=lambda p: (p.count("/"), p),
        )
        if not prefixes:
            raise self.not_this_source("no AP/ or LA/ folder holding NNNN-S-AAAYV.jpg/.csv files")
        return prefixes[0]

    def _folder_prefixes(self, folder: str) -> set[str]:
        """Where an AP/ or LA/ folder (in any case: `ap/` too) of .jpg/.csv files lies."""
        marker = re.compile(rf"(?:^|/)({folder})/[^/]+\.(?:jpg|csv)$", re.IGNORECASE)
        return {f[: found.start(1)] for f in self.tree.files() if (found := marker.search(f))}

    def _read(self) -> Iterator[Record | Skip]:
        for folder in VIEWS:
            yield from self._read_folder(folder)

    def _read_folder(self, folder: str) -> Iterator[Record | Skip]:
        by_stem: dict[str, dict[str, str]] = {}
        for member in self.tree.files():
            path = PurePosixPath(member)
            in_folder = path.parent.as_posix().lower() == (self.root + folder).lower()  # AP/ or ap/
            if in_folder and member.startswith(self.root) and path.suffix.lower() in (".jpg", ".csv"):
                by_stem.setdefault(path.stem, {})[path.suffix.lower()] = member
        for found in self.pairs_by_stem(by_stem, ".jpg", ".csv", str, key_prefix=f"{folder}/"):
            yield found if isinstance(found, Skip) else self._pair(folder, *found)

    def _pair(self, folder: str, stem: str, pair: dict[str, str]) -> Record | Skip:
        key = f"{folder}/{stem}"
        view_digit, view, rows = VIEWS[folder]
        match = FILE_NAME.match(stem)
        if not match:
            return self.skip(key, BAD_NAME, f"{pair['.jpg']}: file name does not follow NNNN-S-AAAYV")
        if match["view"] != view_digit:
            return self.skip(key, BAD_NAME, f"{pair['.jpg']}: view digit {match['view']} in folder {folder}/")
        try:
            codes = parse_endplates(self.tree.read_bytes(pair[".csv"]), rows)
        except (ValueError, UnicodeDecodeError, *MEMBER_READ_ERRORS) as exc:
            return self.skip(key, BAD_ANNOTATION, f"{self.tree.display(pair['.csv'])}: {exc}")
        levels = slip_levels(codes)
        return self.record(
            key,
            self.ref(pair[".jpg"], "raster"),
            patient_id=match["patient"],
            study_id=match["patient"],
            modality=MODALITY_XRAY,
            view=view,
            diseases=(SPONDYLOLISTHESIS,) if levels else (HEALTHY,),
            findings=(LevelFinding(SPONDYLOLISTHESIS, None, levels),) if levels else (),
        )
