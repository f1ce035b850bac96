"""The authors' own release of SpineBench (Hugging Face `Silversorrow/SpineBench`): question files plus images.

What is known of it (docs/paper.md §8, from a public third-party loader and the authors' figures):
`evaluation/test.json` (the Sub split: 2,128 records, 1,128 diagnosis + 1,000 localization) and `all/train.json`
(62,026 records), each a list of records. A record has `image` (a path relative to the JSON's folder, e.g.
`rsna/1525303131/3825715372/44.jpg`; or `image_path`), `question` (or `query`), `task`
(`spine_disease_classification` / `spine_lesion_localization`) and `answers` (or `answer`): option text, not
letters, in the release's casing (`cervical Lordosis`); a string or a list. Where the options live is not public, so
every plausible shape is read (`options_of`): a list or dict field (also JSON-encoded in a string), fields `A`..,
`option A`.., or options written into the question (`A: "Healthy",` with straight or curly quotes, `A.`, `(A)`,
`option A:`). A diagnosis record without any stops the import: mining our own distractors would silently make
another benchmark.

Each record becomes a `ReleaseQuestion` or a `Skip` with its reason. The options keep the release's own text and
order (they are what the model is shown); the canonical label is kept beside them for statistics. Images are found
relative to the JSON file, then to the release folder, then inside the release's `.zip` files (read in place, with
the archive layer's rules for links and `..`). Every file is read through that layer: nothing outside the folder
the user named is read, and every image is decoded once to check it.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

import ijson
from ijson.common import ObjectBuilder

from ..errors import ImageError, SourceFormatError
from ..imaging import check_decodes
from ..labels import CLASS_NAMES, LEVELS, canonical_label, canonical_levels, clean_option_text
from ..prompts import LETTERS
from ..schema import UNKNOWN
from .archive import MEMBER_READ_ERRORS, FolderTree, SourceTree, ZipTree, unsafe_reason
from .records import CORRUPT_IMAGE, MISSING_IMAGE, UNKNOWN_LABEL, UNSAFE_MEMBER, Skip

SOURCE = "release"
FOLDERS = ("evaluation", "all")  # evaluation (the Sub split) first: a record in both is kept there
TASKS = {
    "spine_disease_classification": "diagnosis",
    "spine_lesion_localization": "localization",
    "diagnosis": "diagnosis",
    "localization": "localization",
}
LIST_FIELDS = ("options", "choices", "candidates")
UNKNOWN_TASK = "unknown-task"
BAD_RECORD = "bad-record"
ANSWER_NOT_AN_OPTION = "answer-not-an-option"
DUPLICATE_RECORD = "duplicate-record"

# an option's letter where options are written into the question: "A: text", "A. text", "A) text", "(A) text",
# "option A: text"
_LETTER_MARK = re.compile(r"(?<![A-Za-z0-9])(?:option\s*)?(?:\(([A-E])\)|([A-E])[:.)])\s*", re.IGNORECASE)
_OPTION_KEY = re.compile(r"(?:option[\s_-]*)?([A-E])", re.IGNORECASE)  # dict keys: "A", "a", "option A", "option_b"


class ReleaseFormatError(SourceFormatError):
    """A release file that cannot be read as one: malformed JSON, or a diagnosis record without options."""


@dataclass(frozen=True, slots=True)
class ReleaseImage:
    """An image file of the release: a file of the folder, or a member of one of its zip archives."""

    tree: SourceTree
    member: str
    image_id: str  # one per image content: the first path it was met under (evaluation/ first)
    digest: bytes  # sha256 of its bytes (raw: a release has 40,000 images, and this is kept for each)
    size: int  # bytes

    def reference(self) -> dict:
        """Where the dataset writer reads its bytes: `image_path`, plus `image_member` inside a zip archive."""
        if isinstance(self.tree, ZipTree):
            return {"image_path": str(self.tree.location), "image_member": self.tree.name_in_zip(self.member)}
        return {"image_path": str(self.tree.location / self.member)}


@dataclass(frozen=True)
class ReleaseQuestion:
    """One question of the release: its image, its own options, and its answer as letters of those options."""

    id: str
    image: ReleaseImage
    folder: str  # "evaluation" (the Sub split) or "all"
    task: str
    question: str
    options: tuple[str, ...]  # the release's own option texts, in its order: what the model is shown
    answer: tuple[str, ...]  # letters, A.. order
    disease: str | None  # canonical: diagnosis: the answer; localization: the condition the question names, if one
    levels: tuple[str, ...]  # canonical

    @property
    def image_id(self) -> str:
        """The id of its image (one per image content)."""
        return self.image.image_id

    def row(self) -> dict:
        """The dataset row (schema.features()) with where its image lies and the Sub flag."""
        answer_text = [self.options[LETTERS.index(letter)] for letter in self.answer]
        return {
            "id": self.id,
            "image_id": self.image_id,
            "task": self.task,
            "question": self.question,
            "options": list(self.options),
            "answer": list(self.answer),
            "answer_text": answer_text,
            "disease": self.disease if self.disease is not None else -1,
            "diseases": [self.disease] if self.disease is not None else [],
            "levels": list(self.levels),
            "source": UNKNOWN,
            "modality": UNKNOWN,
            "view": UNKNOWN,
            "patient_id": "",
            "study_id": "",
            "option_similarity": [],
            "sub": self.folder == "evaluation",
            **self.image.reference(),
        }


def json_files(tree: FolderTree) -> dict[str, list[str]]:
    """The question files of each folder; fails at once when the tree is not the release."""
    found = {
        folder: [m for m in tree.files() if m.startswith(folder + "/") and m.endswith(".json")] for folder in FOLDERS
    }
    found = {folder: members for folder, members in found.items() if members}
    if not found:
        raise SourceFormatError(
            f"{tree.location}: not the SpineBench release: expected evaluation/test.json and all/*.json (as "
            "`hf download Silversorrow/SpineBench --repo-type dataset --local-dir PATH` writes them)"
        )
    return found


def load_records(tree: FolderTree, member: str) -> Iterator[object]:
    """The records of a question file, one at a time: a top-level list is streamed (ijson), so a file of 62,026
    records is never held whole; another shape (`{"data": [...]}`) is read at once. Malformed JSON is an error naming
    the file, line and column."""
    with tree.open(member) as handle:
        head = handle.read(64)
        bom = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
        if head[bom:].lstrip()[:1] != b"[":
            yield from whole_file_records(tree, member)
            return
        handle.seek(bom)
        try:
            yield from list_items(ijson.basic_parse(handle, use_float=True), tree.display(member))
        except (ijson.JSONError, UnicodeDecodeError, ValueError) as exc:
            whole_file_records(tree, member)  # raises with the line and column where the text goes wrong
            raise ReleaseFormatError(
                f"{tree.display(member)}: not valid JSON: {' '.join(str(exc).split())[:200]}"
            ) from None


MAX_DEPTH = 64  # a record is a few levels deep; ijson's own `items` would spend memory quadratic in the depth


def list_items(events: Iterator[tuple[str, object]], shown: str) -> Iterator[object]:
    """The items of the top-level JSON list that ijson's `basic_parse` events describe, built one at a time."""
    next(events)  # the list's start_array
    depth, builder = 1, None
    for event, value in events:
        if event in ("start_map", "start_array"):
            depth += 1
            if depth > MAX_DEPTH:
                raise ReleaseFormatError(f"{shown}: JSON nested deeper than {MAX_DEPTH} levels: not question records")
        elif event in ("end_map", "end_array"):
            depth -= 1
        if depth == 0:  # the list's end_array
            return
        if builder is None:
            if event not in ("start_map", "start_array"):
                yield value  # a bare value in the list: the reader skips it as a bad record
                continue
            builder = ObjectBuilder()
        builder.event(event, value)
        if depth == 1:
            yield builder.value
            builder = None


def whole_file_records(tree: FolderTree, member: str) -> list:
    """The records of a question file read whole: its list, or the one list under a key of its object; a
    ReleaseFormatError (naming the line and column of a syntax error) when it is not UTF-8 JSON of that shape."""
    path = tree.display(member)
    try:
        data = json.loads(tree.read_bytes(member).decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ReleaseFormatError(f"{path}: not UTF-8 text ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ReleaseFormatError(
            f"{path}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise ReleaseFormatError(f"{path}: JSON nested too deeply to be a list of question records") from None
    if isinstance(data, dict):  # {"data": [...]}: one list of records under a key
        lists = [value for value in data.values() if isinstance(value, list)]
        data = lists[0] if len(lists) == 1 else data
    if not isinstance(data, list):
        raise ReleaseFormatError(f"{path}: expected a JSON list of question records, found {type(data).__name__}")
    return data


def options_in_text(question: str) -> tuple[str, list[str]] | None:
    """(the question without them, the options) where options are written into the question: A.., in order."""
    marks = list(_LETTER_MARK.finditer(question))
    for start, first in enumerate(marks):
        if _mark_letter(first) != "A":
            continue
        chosen = [first]
        for mark in marks[start + 1 :]:
            if _mark_letter(mark) == LETTERS[len(chosen)]:
                chosen.append(mark)
            if len(chosen) == len(LETTERS):
                break
        if len(chosen) < 2:
            continue
        ends = [mark.start() for mark in chosen[1:]] + [len(question)]
        options = [clean_option_text(question[mark.end() : end].rstrip(" \t\n]})")) for mark, end in zip(chosen, ends)]
        stem = question[: first.start()].rstrip(" \t\n[{(:")
        stem = re.sub(r"(?i)\b(?:the\s+)?(?:candidate\s+)?(?:options|choices)\s*(?:are|is)?\s*:?\s*$", "", stem)
        stem = stem.rstrip(" \t\n.:")
        return stem, options
    return None


def _mark_letter(mark: re.Match) -> str:
    return (mark.group(1) or mark.group(2)).upper()


def options_in_value(value: object) -> list[str] | None:
    """Option texts in letter order from a field's value: a list, a dict keyed by letter (`A`, `a`, `option A`), a
    JSON encoding of either in a string, or options written out in a string."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in "[{":
            try:
                value = json.loads(stripped)
            except (ValueError, RecursionError):
                pass
        if isinstance(value, str):
            found = options_in_text(value)
            return found[1] if found else None
    if isinstance(value, list):
        return [clean_option_text(str(v)) for v in value]
    if isinstance(value, dict):
        keyed = {}
        for key, text in value.items():
            letter = _OPTION_KEY.fullmatch(str(key).strip())
            if letter is None:
                return None
            keyed[letter.group(1).upper()] = clean_option_text(str(text))
        return [keyed[letter] for letter in sorted(keyed)]
    return None


def options_of(record: Mapping, question: str) -> tuple[str, list[str]] | None:
    """(question, option texts in the release's letter order) from the first shape the record has, or None."""
    for field in LIST_FIELDS:
        if field in record and (found := options_in_value(record[field])) is not None:
            return question, found
    lettered = {}
    for key, text in record.items():
        letter = _OPTION_KEY.fullmatch(str(key).strip())
        if letter and isinstance(text, (str, int, float)):
            lettered[letter.group(1).upper()] = clean_option_text(str(text))
    if "A" in lettered and "B" in lettered:
        return question, [lettered[letter] for letter in sorted(lettered)]
    return options_in_text(question)


class ReleaseImages:
    """Finds and checks the images a release's records name: files of the folder, then members of its zip files."""

    def __init__(self, tree: FolderTree):
        self.tree = tree
        self.zips = sorted((m for m in tree.files() if m.lower().endswith(".zip")), key=lambda m: (m.count("/"), m))
        self._opened: dict[str, tuple[ZipTree, dict[str, str], set[str]]] = {}
        self._checked: dict[str, ReleaseImage | Skip] = {}  # "member" or "zip!member" -> the image, or why not
        self._ids: dict[bytes, str] = {}  # digest -> image id

    def find(self, file: str, name: str, key: str) -> ReleaseImage | Skip:
        """The image `name` that record `key` of question file `file` names."""
        if unsafe_reason(name):
            return Skip(SOURCE, key, UNSAFE_MEMBER, f"image path {name!r} leaves the release folder")
        folder = PurePosixPath(file).parent
        candidates = [(folder / name).as_posix(), PurePosixPath(name).as_posix()]
        for member in candidates:
            link = next(
                (
                    reason
                    for rejected, reason in self.tree.rejected
                    if member == rejected or rejected.endswith("/") and member.startswith(rejected)
                ),
                None,
            )
            if link:
                return Skip(SOURCE, key, UNSAFE_MEMBER, link)
            if self.tree.exists(member):
                return self._check(key, "", self.tree, member)
        for archive in self.zips:
            tree, index, rejected = self._zip(archive)
            stem = PurePosixPath(archive).name[:-4]
            parts = PurePosixPath(name).parts
            names = [*candidates, *(["/".join(parts[1:])] if len(parts) > 1 and parts[0] == stem else [])]
            for wanted in names:
                if wanted in rejected:
                    return Skip(
                        SOURCE, key, UNSAFE_MEMBER, f"{tree.location}!{wanted} is a link or leaves the archive"
                    )
                if wanted in index:
                    return self._check(key, archive, tree, index[wanted])
        where = f"beside {file} nor in {self.tree.location}" + (f" nor in {', '.join(self.zips)}" if self.zips else "")
        return Skip(SOURCE, key, MISSING_IMAGE, f"image {name!r} found neither {where}")

    def _zip(self, archive: str) -> tuple[ZipTree, dict[str, str], set[str]]:
        """The zip file, its members by name and by name below a top folder, and its rejected names."""
        if archive not in self._opened:
            tree = ZipTree(self.tree.location / archive)
            index: dict[str, str] = {}
            for member in tree.files():
                index.setdefault(member, member)
                if "/" in member:
                    index.setdefault(member.split("/", 1)[1], member)  # a wrapper folder inside the archive
            rejected = {name.replace("\\", "/") for name, _ in tree.rejected}
            self._opened[archive] = tree, index, rejected
        return self._opened[archive]

    def _check(self, key: str, archive: str, tree: SourceTree, member: str) -> ReleaseImage | Skip:
        """The image, read once and decoded to check it, or why it cannot be used."""
        path = f"{archive}!{member}" if archive else member
        if path not in self._checked:
            shown = tree.display(member)
            try:
                data = tree.read_bytes(member)
                check_decodes(data, shown)
            except ImageError as exc:
                self._checked[path] = Skip(SOURCE, key, CORRUPT_IMAGE, str(exc))
            except MEMBER_READ_ERRORS as exc:
                self._checked[path] = Skip(SOURCE, key, CORRUPT_IMAGE, f"{shown}: cannot read: {exc}")
            else:
                digest = hashlib.sha256(data).digest()
                self._checked[path] = ReleaseImage(
                    tree, member, self._ids.setdefault(digest, f"{SOURCE}/{path}"), digest, len(data)
                )
        found = self._checked[path]
        return Skip(SOURCE, key, found.kind, found.reason) if isinstance(found, Skip) else found


class ReleaseReader:
    """The release folder → `ReleaseQuestion`s and `Skip`s, evaluation/ first, files and records in order.

    Files are read through the folder's `FolderTree`: a question file or an image that is a link leading out of the
    folder is never read (an `unsafe-member` skip), and every image is decoded once to check it (`corrupt-image`).

    Args:
        root: the folder the release was downloaded to (`evaluation/` and `all/` inside).

    Raises:
        SourceFormatError: `root` is not a folder, or holds neither evaluation/*.json nor all/*.json.
    """

    name = SOURCE

    def __init__(self, root: str | PurePosixPath):
        from pathlib import Path

        self.root = Path(root)
        if not self.root.is_dir():
            raise SourceFormatError(f"{self.root}: no such folder (give the folder the release was downloaded to)")
        self.tree = FolderTree(self.root)
        self.files = json_files(self.tree)
        self.images = ReleaseImages(self.tree)
        self._seen: set[bytes] = set()  # digests of the records used: a duplicate record is skipped

    def fingerprint(self) -> str:
        """sha256 over every question file's path and content: which release was imported."""
        digest = hashlib.sha256()
        for folder in FOLDERS:
            for member in self.files.get(folder, ()):
                digest.update(member.encode() + b"\0")
                with self.tree.open(member) as handle:
                    for block in iter(lambda: handle.read(2**20), b""):
                        digest.update(block)
        return digest.hexdigest()

    def read(self) -> Iterator[ReleaseQuestion | Skip]:
        """Yield every record of the release as a question or a skip: evaluation/ first, files and records in order.

        Yields:
            A `ReleaseQuestion` per usable record, a `Skip` per record that cannot be used (and per question file,
            zip file or folder behind a link leading out of the release folder).

        Raises:
            ReleaseFormatError: a question file is not valid JSON or not a list of records, or a diagnosis record
                has no options.
        """
        for member, reason in self.tree.rejected:
            if member.endswith((".json", ".zip", "/")):  # a question file, archive or folder behind a link out
                yield self.skip(member, UNSAFE_MEMBER, reason)
        for folder in FOLDERS:
            for member in self.files.get(folder, ()):
                for number, record in enumerate(load_records(self.tree, member), start=1):
                    yield self._question(member, number, record, folder)

    def skip(self, key: str, kind: str, reason: str) -> Skip:
        """A `Skip` of the release for the record or member `key`."""
        return Skip(SOURCE, key, kind, reason)

    def _question(self, file: str, number: int, record: object, folder: str) -> ReleaseQuestion | Skip:
        key = f"{file}#{number}"
        if not isinstance(record, dict):
            return self.skip(key, BAD_RECORD, f"record {number} is a {type(record).__name__}, not an object")
        task = TASKS.get(str(record.get("task", "")).strip().lower())
        if task is None:
            return self.skip(key, UNKNOWN_TASK, f"task {record.get('task')!r} is not one of {sorted(TASKS)}")
        question, answers, image = (
            next((record[f] for f in fields if f in record), None)
            for fields in (("question", "query"), ("answers", "answer"), ("image", "image_path"))
        )
        if not isinstance(question, str) or answers is None or not isinstance(image, str):
            return self.skip(
                key, BAD_RECORD, f"needs question/query, answers/answer and image/image_path; has {sorted(record)}"
            )
        located = self.images.find(file, image.replace("\\", "/"), key)
        if isinstance(located, Skip):
            return located
        found = options_of(record, question)
        if found is None and task == "localization":
            found = question, list(LEVELS)  # the five levels, in order, when the release gives none
        if found is None:
            raise ReleaseFormatError(
                f"{self.tree.display(file)}, record {number}: a diagnosis question without options; looked for a list "
                f"or dict in {'/'.join(LIST_FIELDS)} (also JSON in a string), fields A-E or option A-option E, and "
                f"'A: ...' in the question; the record has {sorted(record)}. The paper's questions need their own "
                "options: none are invented."
            )
        return self._resolved(key, folder, task, found, answers, located)

    def _resolved(
        self, key: str, folder: str, task: str, found: tuple[str, list[str]], answers: object, image: ReleaseImage
    ) -> ReleaseQuestion | Skip:
        question, texts = found
        labels = [canonical_label(text, task) for text in texts]
        if None in labels:
            bad = [text for text, label in zip(texts, labels) if label is None]
            return self.skip(
                key,
                UNKNOWN_LABEL,
                f"option(s) {bad} are not {'levels' if task == 'localization' else 'SpineBench labels'}",
            )
        if not 2 <= len(labels) <= len(LETTERS) or len(set(labels)) != len(labels):
            return self.skip(key, BAD_RECORD, f"options {texts} are not 2 to {len(LETTERS)} different labels")
        letters = self._letters(answers, labels, task)
        if isinstance(letters, str):
            return self.skip(key, ANSWER_NOT_AN_OPTION, letters)
        content = json.dumps([task, image.image_id, question, labels, letters], ensure_ascii=False)
        digest = hashlib.sha256(content.encode()).digest()
        if digest in self._seen:
            return self.skip(
                key, DUPLICATE_RECORD, "the same image, question, options and answer as an earlier record"
            )
        self._seen.add(digest)
        answer_labels = [labels[LETTERS.index(letter)] for letter in letters]
        return ReleaseQuestion(
            id=f"{SOURCE}/{key.split('#')[0].removesuffix('.json')}/{PurePosixPath(image.member).name}/{task}-{digest.hex()[:12]}",
            image=image,
            folder=folder,
            task=task,
            question=question,
            options=tuple(texts),
            answer=letters,
            disease=answer_labels[0] if task == "diagnosis" else named_condition(question),
            levels=canonical_levels(answer_labels) if task == "localization" else (),
        )

    @staticmethod
    def _letters(answers: object, labels: list[str], task: str) -> tuple[str, ...] | str:
        """The answer's letters (answers are label texts, matched to the options' canonical labels), or why they
        cannot be read."""
        if isinstance(answers, list):
            values = answers
        else:
            values = str(answers).split(",") if task == "localization" else [answers]
        if task == "diagnosis" and len(values) != 1:
            return f"a diagnosis needs one answer, found {answers!r}"
        letters = []
        for value in values:
            label = canonical_label(value, task)
            if label in labels:
                letters.append(LETTERS[labels.index(label)])
            elif isinstance(value, str) and value.strip().upper() in LETTERS[: len(labels)]:
                letters.append(value.strip().upper())  # a letter is unambiguous: option texts are labels
            else:
                return f"answer {value!r} is not among the options {labels}"
        if not letters:
            return f"no answer in {answers!r}"
        return tuple(sorted(set(letters)))


def named_condition(question: str) -> str | None:
    """The one SpineBench disease a localization question names, if it names exactly one."""
    text = " ".join(question.lower().split())
    named = [name for name in CLASS_NAMES if name.lower() in text]
    return named[0] if len(named) == 1 else None
