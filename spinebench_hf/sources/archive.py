"""A source given as a folder or as its original archive (.zip, .tar, .tar.gz/.tgz), seen as one file tree.

Zip archives are read in place (random access, nothing is written). Tar archives are extracted once into a
cache folder, because a compressed tar has no random access. Either way, a member whose path is absolute,
contains `..` or is a link is never read nor written: it is listed in `SourceTree.rejected` with the reason,
and the readers turn those into recorded skips. In a folder, a link whose target lies outside the folder the user
named (or is missing) is likewise never read: nothing outside that folder ends up in a dataset.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tarfile
import zipfile
import zlib
from abc import ABC, abstractmethod
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .. import settings
from ..errors import SourceFormatError

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
_EXTRACTED_MARKER = ".spinebench-extracted.json"
# Errors that a damaged archive member raises while it is being read.
MEMBER_READ_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, tarfile.TarError)


def unsafe_reason(name: str) -> str | None:
    """Why an archive member name must not be used, or None when it is a plain relative path."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return f"archive member {name!r} has an absolute path; it was not extracted"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return f"archive member {name!r} points outside the archive ('..'); it was not extracted"
    return None


class SourceTree(ABC):
    """Read-only view of a file tree: posix paths relative to the tree's top."""

    def __init__(self, location: Path):
        self.location = location
        self.rejected: list[tuple[str, str]] = []  # (member name, reason)

    @abstractmethod
    def files(self) -> list[str]:
        """Every regular file, sorted."""

    @abstractmethod
    def open(self, member: str) -> BinaryIO:
        """`member` opened for reading in binary mode; KeyError when the tree has no such file."""

    def read_bytes(self, member: str) -> bytes:
        """The whole content of `member`."""
        with self.open(member) as handle:
            return handle.read()

    def exists(self, member: str) -> bool:
        """Whether `member` is a file of the tree."""
        return member in self._file_set()

    @abstractmethod
    def fingerprint(self, member: str) -> str:
        """Cheap identity of a member's content (size + mtime, or zip CRC), for caches of derived work."""

    def display(self, member: str) -> str:
        """The name shown to users for a member: the real file, or `archive.zip!member`."""
        return f"{self.location}!{member}"

    def dirs(self) -> set[str]:
        """Every directory that holds at least one file, as `a/b/` (the top itself is '')."""
        found = {""}
        for name in self.files():
            parts = name.split("/")[:-1]
            found.update("".join(part + "/" for part in parts[: i + 1]) for i in range(len(parts)))
        return found

    def _file_set(self) -> frozenset[str]:
        cached = self.__dict__.get("_files_cache")
        if cached is None:
            cached = self.__dict__["_files_cache"] = frozenset(self.files())
        return cached

    def __getstate__(self) -> dict:
        # Trees travel to worker processes; handles and caches are rebuilt there.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}


def link_out_reason(top: Path, path: Path) -> str | None:
    """Why `path` (below the folder `top`) must not be read: a link whose target is outside `top`, or missing."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link or a loop
        return f"{path} is a link to a missing file; it was not read"
    if not target.is_relative_to(top.resolve()):
        return f"{path} is a link to {target}, outside {top}; it was not read"
    return None


class FolderTree(SourceTree):
    """A source given as a folder, or a tar archive extracted into the cache; links leading out of it are rejected."""

    def __init__(self, location: Path, extracted_from: Path | None = None):
        super().__init__(location)
        self.extracted_from = extracted_from  # the tar archive this folder was extracted from, if any

    def files(self) -> list[str]:
        """Every file below the folder, sorted (walked once, then cached)."""
        cached = self.__dict__.get("_listing")
        if cached is None:
            cached = self.__dict__["_listing"] = self._walk()
        return list(cached)

    def _walk(self) -> list[str]:
        """Every file below the folder; links that lead out of it go to `rejected` (links to folders are not
        followed: what they point to inside the folder is listed under its own path)."""
        found = []
        for top, dirnames, filenames in os.walk(self.location):
            rel = Path(top).relative_to(self.location).as_posix()
            prefix = "" if rel == "." else rel + "/"
            for name in sorted(dirnames):
                if (Path(top) / name).is_symlink() and (reason := link_out_reason(self.location, Path(top) / name)):
                    self.rejected.append((prefix + name + "/", reason))
            dirnames.sort()
            for name in sorted(filenames):
                if name == _EXTRACTED_MARKER:
                    continue
                path = Path(top) / name
                reason = link_out_reason(self.location, path) if path.is_symlink() else None
                if reason:
                    self.rejected.append((prefix + name, reason))
                else:
                    found.append(prefix + name)
        return sorted(found)

    def open(self, member: str) -> BinaryIO:
        """`member` opened for reading; KeyError for a file the listing does not hold (such as a link leading out)."""
        if not self.exists(member):  # never a path the listing left out (a link out of the folder)
            raise KeyError(member)
        return open(self.location / member, "rb")

    def exists(self, member: str) -> bool:
        """Whether `member` is in the folder's listing."""
        return member in self._file_set()

    def fingerprint(self, member: str) -> str:
        """The file's size and modification time (ns)."""
        stat = (self.location / member).stat()
        return f"{stat.st_size}:{stat.st_mtime_ns}"

    def display(self, member: str) -> str:
        """The file's path, or `archive!member` for a folder extracted from a tar archive."""
        if self.extracted_from is not None:
            return f"{self.extracted_from}!{member}"
        return str(self.location / member)


class ZipTree(SourceTree):
    """A zip archive, read in place; members with an absolute path, `..` or a link are rejected, never read."""

    def __init__(self, location: Path):
        super().__init__(location)
        self._scan_members(record_rejected=True)

    def _scan_members(self, record_rejected: bool) -> None:
        self._members: dict[str, str] = {}  # normalized name -> name in the zip
        for info in self._zip().infolist():
            name = info.filename
            reason = unsafe_reason(name)
            if reason is None and stat.S_ISLNK(info.external_attr >> 16):  # its data is the link's target path
                reason = f"archive member {name!r} is a link; it was not read"
            if reason and record_rejected:
                self.rejected.append((name, reason))
            elif not reason and not name.endswith("/"):
                self._members[name.replace("\\", "/")] = name

    def _zip(self) -> zipfile.ZipFile:
        handle = self.__dict__.get("_handle")
        if handle is None:
            try:
                handle = self.__dict__["_handle"] = zipfile.ZipFile(self.location)
            except (zipfile.BadZipFile, OSError) as exc:
                raise SourceFormatError(
                    f"{self.location}: not a readable zip archive (truncated or damaged?): {exc}"
                ) from exc
        return handle

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._scan_members(record_rejected=False)

    def files(self) -> list[str]:
        """Every safe member that is not a folder, with `/` separators, sorted."""
        return sorted(self._members)

    def name_in_zip(self, member: str) -> str:
        """The member's name as the zip file stores it (a backslash kept), for reading it with zipfile directly."""
        return self._members[member]

    def open(self, member: str) -> BinaryIO:
        """`member` opened from the zip for reading; KeyError when the zip has no such safe member."""
        return self._zip().open(self._members[member])

    def exists(self, member: str) -> bool:
        """Whether `member` is a safe file member of the zip."""
        return member in self._members

    def fingerprint(self, member: str) -> str:
        """The member's uncompressed size and CRC-32, as the zip records them."""
        info = self._zip().getinfo(self._members[member])
        return f"{info.file_size}:{info.CRC:08x}"


def _tar_cache_folder(archive: Path, cache_dir: Path) -> Path:
    stat = archive.stat()
    ident = hashlib.sha256(f"{archive.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return cache_dir / "extracted" / f"{archive.name}-{ident}"


def extract_tar(archive: Path, dest: Path) -> list[tuple[str, str]]:
    """Extract the regular files of a tar archive below `dest`; return the rejected members."""
    rejected: list[tuple[str, str]] = []
    if dest.exists():
        shutil.rmtree(dest)  # a previous extraction that did not finish
    dest.mkdir(parents=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                reason = unsafe_reason(member.name)
                if reason is None and (member.issym() or member.islnk() or member.isdev()):
                    reason = f"archive member {member.name!r} is a link or device; it was not extracted"
                if reason:
                    rejected.append((member.name, reason))
                    continue
                if not member.isfile():
                    continue
                target = dest / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise SourceFormatError(f"{archive}: not a readable tar archive (truncated or damaged?): {exc}") from exc
    (dest / _EXTRACTED_MARKER).write_text(json.dumps({"archive": str(archive), "rejected": rejected}))
    return rejected


def open_tree(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> SourceTree:
    """Open a source folder or archive file. Tar archives are extracted under `cache_dir` once.

    Args:
        path: a folder, or a .zip, .tar, .tar.gz or .tgz file.
        cache_dir: the cache folder a tar archive is extracted under (default: the settings' cache folder); unused
            for a folder or a zip.

    Returns:
        A `FolderTree` (the folder, or the tar archive's extraction) or a `ZipTree`. Its `rejected` lists the
        members that are never read (a folder's once it has been listed).

    Raises:
        SourceFormatError: `path` does not exist, is a file of another kind, or is a damaged archive.
    """
    path = Path(path)
    if path.is_dir():
        return FolderTree(path)
    if not path.is_file():
        raise SourceFormatError(f"{path}: no such file or folder")
    name = path.name.lower()
    if name.endswith(".zip"):
        return ZipTree(path)
    if name.endswith((".tar", ".tar.gz", ".tgz")):
        dest = _tar_cache_folder(path, Path(cache_dir) if cache_dir else settings.cache_dir())
        marker = dest / _EXTRACTED_MARKER
        rejected = json.loads(marker.read_text())["rejected"] if marker.exists() else extract_tar(path, dest)
        tree = FolderTree(dest, extracted_from=path)
        tree.rejected = [tuple(item) for item in rejected]
        return tree
    raise SourceFormatError(f"{path}: expected a folder or an archive ending in {', '.join(ARCHIVE_SUFFIXES)}")


def find_prefixes(tree: SourceTree, marker: str) -> list[str]:
    """Every prefix P (shallowest first) such that P + marker is a file, or a folder when marker ends in '/'."""
    if marker.endswith("/"):
        candidates = [d[: -len(marker)] for d in tree.dirs() if d == marker or d.endswith("/" + marker)]
    else:
        candidates = [f[: -len(marker)] for f in tree.files() if f == marker or f.endswith("/" + marker)]
    return sorted(set(candidates), key=lambda p: (p.count("/"), p))
