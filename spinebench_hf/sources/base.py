"""The interface every source reader implements, and the table-reading helpers they share."""

from __future__ import annotations

import io
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import ClassVar, TypeVar

import pandas as pd

from ..errors import SourceFormatError
from ..source_catalog import CATALOG
from .archive import MEMBER_READ_ERRORS, SourceTree, find_prefixes, open_tree
from .records import ORPHAN_ANNOTATION, ORPHAN_IMAGE, UNSAFE_MEMBER, ImageRef, LevelFinding, Record, Skip

File = TypeVar("File")


class SourceReader(ABC):
    """One source archive → `Record`s and `Skip`s, in a deterministic order.

    Subclasses set the class attributes and implement `find_root` and `_read`. The constructor fails at once
    with `SourceFormatError` when the path is not recognisably this source.
    """

    name: ClassVar[str]  # short id: buu, csxa, rsna, vindr
    title: ClassVar[str]
    homepage: ClassVar[str]
    licence: ClassVar[str]
    citation: ClassVar[str]
    redistributable: ClassVar[bool]  # may derived images be published (docs/sources.md §5)?
    layout: ClassVar[str]  # the expected layout, shown when a path is not this source

    def __init_subclass__(cls, **kwargs):
        """A reader sets `name`; its title, homepage, licence, citation and redistributability come from the
        catalog (one place, readable without importing any reader)."""
        super().__init_subclass__(**kwargs)
        info = CATALOG.get(getattr(cls, "name", ""))
        if info is None:  # a reader not (yet) in the catalog sets these itself
            return
        cls.title, cls.homepage, cls.licence = info.title, info.homepage, info.licence
        cls.citation, cls.redistributable = info.citation, info.redistributable

    def __init__(self, path: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None):
        self.tree: SourceTree = open_tree(path, cache_dir)
        self.root: str = self.find_root()

    @abstractmethod
    def find_root(self) -> str:
        """The prefix of the source's top folder inside the tree ('' or 'wrapper/')."""

    @abstractmethod
    def _read(self) -> Iterator[Record | Skip]: ...

    def read(self) -> Iterator[Record | Skip]:
        """Yield the source's records and skips: a skip per unsafe member of the tree first, then the reader's own.

        No image is decoded here: a `Record` holds an `ImageRef`, which the build's standardization stage loads.

        Yields:
            A `Record` per usable image, and a `Skip` per member, row, image or condition that could not be used;
            in a deterministic order.

        Raises:
            SourceFormatError: a table the source needs is missing, unreadable or lacks a required column, or an
                archive inside the source cannot be opened.
        """
        for member, reason in self.tree.rejected:
            yield self.skip(member, UNSAFE_MEMBER, reason)
        yield from self._read()

    # --- helpers for subclasses -------------------------------------------------------------------------
    def not_this_source(self, detail: str) -> SourceFormatError:
        """The error saying the tree is not this source (for the caller to raise): `detail` and the expected layout."""
        return SourceFormatError(
            f"{self.tree.location} is not a {self.title} source: {detail}.\nExpected layout:\n{self.layout}"
        )

    def root_with(self, marker: str, *companions: str) -> str:
        """The shallowest prefix holding `marker` and every companion; a clear error when there is none."""
        prefixes = find_prefixes(self.tree, marker)
        if not prefixes:
            raise self.not_this_source(f"no '{marker}' found at any depth")
        for prefix in prefixes:
            missing = [c for c in companions if not self._has(prefix + c)]
            if not missing:
                return prefix
        raise self.not_this_source(f"'{prefixes[0]}{marker}' found, but not {', '.join(map(repr, missing))} beside it")

    def _has(self, member: str) -> bool:
        return (member in self.tree.dirs()) if member.endswith("/") else self.tree.exists(member)

    def files_under(self, folder: str) -> list[str]:
        """Files below root/folder (relative to the tree), sorted."""
        start = self.root + folder
        return [f for f in self.tree.files() if f.startswith(start)]

    def read_table(self, member: str, required: Iterable[str], **read_kwargs) -> pd.DataFrame:
        """A CSV or XLSX as strings (no type guessing), with a clear error for bad files or missing columns."""
        shown = self.tree.display(member)
        read_kwargs = {"dtype": str, "keep_default_na": False, "na_values": [""], **read_kwargs}  # keep 'n/a' as text
        try:
            raw = self.tree.read_bytes(member)
            if member.lower().endswith(".xlsx"):
                frame = pd.read_excel(io.BytesIO(raw), **read_kwargs)
            else:
                frame = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", **read_kwargs)
        except KeyError as exc:
            raise SourceFormatError(f"{shown}: file not found") from exc
        except (*MEMBER_READ_ERRORS, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise SourceFormatError(f"{shown}: cannot be read as a table: {exc}") from exc
        frame.columns = [str(c).strip() for c in frame.columns]
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise SourceFormatError(f"{shown}: missing columns {missing}; found {list(frame.columns)}")
        return frame

    def skip(self, key: str, kind: str, reason: str, *, image: bool = True) -> Skip:
        """A `Skip` of this source; `image`: whether an image is lost, not only a table row or a condition."""
        return Skip(self.name, key, kind, reason, image)

    def pairs_by_stem(
        self,
        found: Mapping[str, Mapping[str, File]],
        image: str,
        annotation: str,
        name: Callable[[File], str],
        key_prefix: str = "",
    ) -> Iterator[tuple[str, Mapping[str, File]] | Skip]:
        """Files grouped by stem (`found`: stem -> {suffix: file}) → each complete (image, annotation) pair, in stem
        order; a file without its partner becomes an orphan Skip naming it."""
        for stem in sorted(found):
            pair, key = found[stem], key_prefix + stem
            if annotation not in pair:
                yield self.skip(
                    key, ORPHAN_IMAGE, f"{name(pair[image])}: image without its annotation {stem}{annotation}"
                )
            elif image not in pair:
                yield self.skip(
                    key, ORPHAN_ANNOTATION, f"{name(pair[annotation])}: annotation without its image {stem}{image}"
                )
            else:
                yield stem, pair

    def ref(self, member: str, kind: str) -> ImageRef:
        """An `ImageRef` to `member` of this source's tree; `kind`: "dicom" or "raster"."""
        return ImageRef(self.tree, member, kind)

    def record(
        self,
        key: str,
        image: ImageRef,
        *,
        patient_id: str,
        study_id: str,
        modality: str,
        view: str,
        diseases: tuple[str, ...],
        findings: tuple[LevelFinding, ...] = (),
    ) -> Record:
        """A `Record` of this source; AssertionError (a reader bug) for a finding of a disease the image lacks."""
        unlabelled = sorted({f.condition for f in findings} - set(diseases))
        # one truth per image (docs/building.md): never ask where a lesion is on an image not labelled with it
        if unlabelled:
            raise AssertionError(f"{self.name} reader: {key} localizes {unlabelled} but its diseases are {diseases}")
        return Record(
            source=self.name,
            key=key,
            patient_id=patient_id,
            study_id=study_id,
            modality=modality,
            view=view,
            diseases=diseases,
            findings=findings,
            image=image,
        )


def clean(value: object) -> str:
    """A table cell as a stripped string; '' for NaN/None."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def as_int(value: object) -> int | None:
    """An integer written as '12', '12.0' or 12; None for anything else (junk, NaN, fractions, huge)."""
    text = clean(value)
    try:
        number = float(text)
    except ValueError:
        return None
    if not number.is_integer() or abs(number) > 2**53:
        return None
    return int(number)
