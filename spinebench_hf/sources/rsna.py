"""RSNA 2024 Lumbar Spine Degenerative Classification (Kaggle): lumbar MRI studies graded per condition and level.

Dataset paper: "The RSNA Lumbar Degenerative Imaging Spine Classification (LumbarDISC) Dataset".
Layout and quirks: docs/sources.md §3.

An image is a labelled slice: an instance named in train_label_coordinates.csv (docs/building.md). Its diseases are the
conditions of the rows annotated on that slice graded Moderate or Severe in train.csv; a slice whose annotated rows
are all Normal/Mild is Healthy; a missing grade is never read as Normal/Mild. One truth per image: a sagittal slice
gets a localization question for canal stenosis or for left/right foraminal narrowing only if a level of that
condition (and side) annotated on the slice itself is Moderate or Severe; the answer is then that condition's
positive levels in the whole study (its levels are often annotated on different slices). The unlabelled test
studies are not used.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..labels import HEALTHY, LEVELS, MODALITY_MRI, canonical_diseases
from .base import SourceReader, as_int, clean
from .records import (
    BAD_ANNOTATION,
    MISSING_IMAGE,
    MISSING_ROW,
    MISSING_SEVERITY,
    UNKNOWN_LABEL,
    LevelFinding,
    Record,
    Skip,
)

COORDINATES = "train_label_coordinates.csv"
GRADES = "train.csv"
SERIES = "train_series_descriptions.csv"


@dataclass(frozen=True)
class Condition:
    """How one RSNA condition maps to SpineBench: its train.csv columns, its disease and side, whether it localizes."""

    column: str  # prefix of the train.csv columns, e.g. left_neural_foraminal_narrowing
    disease: str
    side: str | None
    localized: bool  # feeds localization questions when annotated on a sagittal slice


CONDITIONS = {
    "Spinal Canal Stenosis": Condition("spinal_canal_stenosis", "Spinal canal stenosis", None, True),
    "Left Neural Foraminal Narrowing": Condition(
        "left_neural_foraminal_narrowing", "Foraminal stenosis", "left", True
    ),
    "Right Neural Foraminal Narrowing": Condition(
        "right_neural_foraminal_narrowing", "Foraminal stenosis", "right", True
    ),
    "Left Subarticular Stenosis": Condition("left_subarticular_stenosis", "Subarticular stenosis", "left", False),
    "Right Subarticular Stenosis": Condition("right_subarticular_stenosis", "Subarticular stenosis", "right", False),
}
CONDITION_NAMES = {name.lower(): name for name in CONDITIONS}
LEVEL_BY_KEY = {level.lower().replace("/", "_"): level for level in LEVELS} | {
    level.lower(): level for level in LEVELS
}
PRESENT, ABSENT = ("Moderate", "Severe"), ("Normal/Mild",)


def grade_column(condition: Condition, level: str) -> str:
    """The train.csv column grading `condition` at `level`, e.g. spinal_canal_stenosis_l4_l5."""
    return f"{condition.column}_{level.lower().replace('/', '_')}"


GRADE_COLUMNS = [grade_column(c, level) for c in CONDITIONS.values() for level in LEVELS]


@dataclass
class Slice:
    """One annotated slice (a DICOM instance) and the (condition, level) pairs annotated on it."""

    study: str
    series: str
    instance: int
    annotations: set[tuple[str, str]]  # (condition name, level)

    @property
    def key(self) -> str:
        """The record's key: `study/series/instance`."""
        return f"{self.study}/{self.series}/{self.instance}"


class RsnaReader(SourceReader):
    """RSNA 2024: a record per labelled slice, graded from train.csv by the rules above."""

    name = "rsna"  # title, homepage, licence, citation: catalog.CATALOG["rsna"]
    layout = (
        "  train.csv, train_label_coordinates.csv, train_series_descriptions.csv\n"
        "  train_images/<study_id>/<series_id>/<instance_number>.dcm"
    )

    def find_root(self) -> str:
        """The shallowest prefix holding the three CSV files and train_images/."""
        return self.root_with(COORDINATES, GRADES, SERIES, "train_images/")

    def _read(self) -> Iterator[Record | Skip]:
        grades = self._read_grades()
        series = self._read_series()
        slices, skips = self._read_slices()
        yield from skips
        for item in slices:
            yield from self._slice(item, grades, series)

    def _read_grades(self) -> dict[str, dict[str, str]]:
        frame = self.read_table(self.root + GRADES, ["study_id", *GRADE_COLUMNS])
        return {clean(row["study_id"]): {c: clean(row[c]) for c in GRADE_COLUMNS} for _, row in frame.iterrows()}

    def _read_series(self) -> dict[tuple[str, str], str]:
        frame = self.read_table(self.root + SERIES, ["study_id", "series_id", "series_description"])
        return {
            (clean(s), clean(r)): clean(d)
            for s, r, d in zip(frame["study_id"], frame["series_id"], frame["series_description"])
        }

    def _read_slices(self) -> tuple[list[Slice], list[Skip]]:
        columns = ["study_id", "series_id", "instance_number", "condition", "level"]
        frame = self.read_table(self.root + COORDINATES, columns)
        slices: dict[tuple[int, int, int], Slice] = {}
        skips = []
        for row, values in enumerate(zip(*(frame[c] for c in columns)), start=2):
            study, series, instance, condition, level = values
            ids = [as_int(study), as_int(series), as_int(instance)]
            key = f"{COORDINATES}:row {row}"
            if any(i is None or i < 0 for i in ids):
                skips.append(
                    self.skip(key, BAD_ANNOTATION, f"study/series/instance {values[:3]} are not integers", image=False)
                )
                continue
            known_condition = CONDITION_NAMES.get(clean(condition).lower())
            known_level = LEVEL_BY_KEY.get(clean(level).lower())
            if known_condition is None or known_level is None:
                unknown = f"condition {clean(condition)!r}" if known_condition is None else f"level {clean(level)!r}"
                skips.append(self.skip(key, UNKNOWN_LABEL, f"unknown {unknown}", image=False))
                continue
            item = slices.setdefault(tuple(ids), Slice(*(str(i) for i in ids[:2]), ids[2], set()))
            item.annotations.add((known_condition, known_level))
        return [slices[k] for k in sorted(slices)], skips

    def _slice(self, item: Slice, grades: dict[str, dict[str, str]], series: dict) -> Iterator[Record | Skip]:
        member = f"{self.root}train_images/{item.study}/{item.series}/{item.instance}.dcm"
        view = series.get((item.study, item.series))
        if item.study not in grades:
            yield self.skip(item.key, MISSING_ROW, f"study {item.study} has no row in {GRADES}")
        elif not view:
            yield self.skip(
                item.key, MISSING_ROW, f"series {item.series} of study {item.study} has no row in {SERIES}"
            )
        elif not self.tree.exists(member):
            yield self.skip(item.key, MISSING_IMAGE, f"{self.tree.display(member)}: annotated slice not found")
        else:
            yield from self._labelled_slice(item, member, grades[item.study], view)

    def _labelled_slice(self, item: Slice, member: str, study: dict[str, str], view: str) -> Iterator[Record | Skip]:
        present, missing = set(), []
        for name, level in sorted(item.annotations):
            column = grade_column(CONDITIONS[name], level)
            grade = study[column]
            if grade in PRESENT:
                present.add(CONDITIONS[name].disease)
            elif grade not in ABSENT:
                missing.append(f"{column}={grade!r}")
        if not present and missing:
            yield self.skip(item.key, MISSING_SEVERITY, f"grade missing or unknown in {GRADES}: {', '.join(missing)}")
            return
        findings = []
        for condition, levels in self._localizations(item, study, view):
            if levels is None:
                reason = f"{condition.column} has a missing or unknown grade in {GRADES}: no localization question"
                yield self.skip(f"{item.key}#{condition.column}", MISSING_SEVERITY, reason, image=False)
            elif levels:
                findings.append(LevelFinding(condition.disease, condition.side, levels))
        yield self.record(
            item.key,
            self.ref(member, "dicom"),
            patient_id=item.study,
            study_id=item.study,
            modality=MODALITY_MRI,
            view=view,
            diseases=canonical_diseases(present) if present else (HEALTHY,),
            findings=tuple(findings),
        )

    def _localizations(
        self, item: Slice, study: dict[str, str], view: str
    ) -> Iterator[tuple[Condition, tuple | None]]:
        """(condition, its positive levels in the study, or None if a grade is unknown) for each localizable
        condition that this slice shows: one of the slice's own annotated levels of it is Moderate or Severe. Only
        sagittal slices localize."""
        if not view.lower().startswith("sagittal"):
            return
        for name in sorted({name for name, _ in item.annotations}):
            condition = CONDITIONS[name]
            on_slice = [study[grade_column(condition, level)] for n, level in item.annotations if n == name]
            if condition.localized and any(grade in PRESENT for grade in on_slice):
                grades = [study[grade_column(condition, level)] for level in LEVELS]
                known = all(g in PRESENT + ABSENT for g in grades)
                yield condition, tuple(lv for lv, g in zip(LEVELS, grades) if g in PRESENT) if known else None
