"""The authors' own release of SpineBench (Hugging Face `Silversorrow/SpineBench`): question files plus images.

What is known of it (spec/paper-facts.md §8, from a public third-party loader): `evaluation/test.json` (the Sub
split) and one or more `all/*.json`, each a list of records beside its images. A record has `image` (a relative
path; or `image_path`), `question` (or `query`), `task` (`spine_disease_classification` /
`spine_lesion_localization`) and `answers` (or `answer`): option text, not letters; a string or a one-element list
for diagnosis, a list of levels for localization; label casing varies. Where the options live is not known, so
every plausible shape is read (`options_of`), and a diagnosis record without any stops the import: mining our own
distractors would silently make another benchmark.

Each record becomes a `ReleaseQuestion` (letters in the release's order, labels in the canonical vocabulary) or a
`Skip` with its reason. Images are found relative to the JSON file, then relative to the release folder.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import SourceFormatError
from ..labels import CLASS_NAMES, LEVELS, canonical_levels
from ..prompts import LETTERS
from ..schema import UNKNOWN
from ..errors import ImageError
from ..imaging import check_decodes
from .archive import MEMBER_READ_ERRORS, FolderTree, unsafe_reason
from .records import CORRUPT_IMAGE, MISSING_IMAGE, UNKNOWN_LABEL, UNSAFE_MEMBER, Skip

SOURCE = "release"
FOLDERS = ("evaluation", "all")  # evaluation (the Sub split) first: a record in both is kept there
TASKS = {"spine_disease_classification": "diagnosis", "spine_lesion_localization": "localization",
         "diagnosis": "diagnosis", "localization": "localization"}
LIST_FIELDS = ("options", "choices", "candidates")
UNKNOWN_TASK = "unknown-task"
BAD_RECORD = "bad-record"
ANSWER_NOT_AN_OPTION = "answer-not-an-option"
DUPLICATE_RECORD = "duplicate-record"

_DISEASE_BY_KEY = {name.lower(): name for name in CLASS_NAMES}
# an option's letter where options are written into the question: "A: text", "A. text", "A) text", "(A) text"
_LETTER_MARK = re.compile(r"(?<![A-Za-z0-9])(?:\(([A-E])\)|([A-E])[:.)])\s*")


class ReleaseFormatError(SourceFormatError):
    """A release file that cannot be read as one: malformed JSON, or a diagnosis record without options."""


@dataclass(frozen=True)
class ReleaseQuestion:
    id: str
    image_id: str
    image: Path
    folder: str  # "evaluation" (the Sub split) or "all"
    task: str
    question: str
    options: tuple[str, ...]  # canonical names, in the release's order
    answer: tuple[str, ...]  # letters, A.. order
    disease: str | None  # diagnosis: the answer; localization: the condition the question names, if one
    levels: tuple[str, ...]

    def row(self) -> dict:
        """The dataset row (schema.features()) with the image file and the Sub flag."""
        answer_text = [self.options[LETTERS.index(letter)] for letter in self.answer]
        return {
            "id": self.id, "image_id": self.image_id, "task": self.task, "question": self.question,
            "options": list(self.options), "answer": list(self.answer), "answer_text": answer_text,
            "disease": self.disease if self.disease is not None else -1,
            "diseases": [self.disease] if self.disease is not None else [],
            "levels": list(self.levels), "source": UNKNOWN, "modality": UNKNOWN, "view": UNKNOWN,
            "patient_id": "", "study_id": "", "option_similarity": [],
            "sub": self.folder == "evaluation", "image_path": str(self.image),
        }


def json_files(tree: FolderTree) -> dict[str, list[str]]:
    """The question files of each folder; fails at once when the tree is not the release."""
    found = {folder: [m for m in tree.files() if m.startswith(folder + "/") and m.endswith(".json")] for folder in FOLDERS}
    found = {folder: members for folder, members in found.items() if members}
    if not found:
        raise SourceFormatError(
            f"{tree.location}: not the SpineBench release: expected evaluation/test.json and all/*.json (as `hf download "
            "Silversorrow/SpineBench --repo-type dataset --local-dir PATH` writes them)")
    return found


def load_records(tree: FolderTree, member: str) -> list:
    path = tree.display(member)
    try:
        data = json.loads(tree.read_bytes(member).decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ReleaseFormatError(f"{path}: not UTF-8 text ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ReleaseFormatError(f"{path}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ReleaseFormatError(f"{path}: JSON nested too deeply to be a list of question records") from None
    if isinstance(data, dict):  # {"data": [...]}: one list of records under a key
        lists = [value for value in data.values() if isinstance(value, list)]
        data = lists[0] if len(lists) == 1 else data
    if not isinstance(data, list):
        raise ReleaseFormatError(f"{path}: expected a JSON list of question records, found {type(data).__name__}")
    return data


def canonical_label(text: object, task: str) -> str | None:
    """A disease (diagnosis) or level (localization) name in the canonical vocabulary, matched case-insensitively."""
    if not isinstance(text, str):
        return None
    if task == "diagnosis":
        return _DISEASE_BY_KEY.get(" ".join(text.lower().split()))
    key = re.sub(r"\s+", "", text).upper().replace("-", "/").replace("_", "/").replace("–", "/")
    return key if key in LEVELS else None


def options_in_text(question: str) -> tuple[str, list[str]] | None:
    """(the question without them, the options) where options are written into the question: A.., in order."""
    marks = list(_LETTER_MARK.finditer(question))
    for start, first in enumerate(marks):
        if (first.group(1) or first.group(2)) != "A":
            continue
        chosen = [first]
        for mark in marks[start + 1:]:
            if (mark.group(1) or mark.group(2)) == LETTERS[len(chosen)]:
                chosen.append(mark)
            if len(chosen) == len(LETTERS):
                break
        if len(chosen) < 2:
            continue
        ends = [mark.start() for mark in chosen[1:]] + [len(question)]
        options = [question[mark.end():end].strip(" \t\n,;]").rstrip(".") for mark, end in zip(chosen, ends)]
        stem = question[:first.start()].rstrip(" \t\n[(:")
        stem = re.sub(r"(?i)\b(?:the\s+)?(?:candidate\s+)?(?:options|choices)\s*(?:are|is)?\s*:?\s*$", "", stem).rstrip(" .:")
        return stem, options
    return None


def options_of(record: Mapping, question: str) -> tuple[str, list[str]] | None:
    """(question, option texts in the release's letter order) from the first shape the record has, or None."""
    for field in LIST_FIELDS:
        value = record.get(field)
        if isinstance(value, list):
            return question, [str(v) for v in value]
        if isinstance(value, dict):
            return question, [str(value[key]) for key in sorted(value)]
        if isinstance(value, str) and (found := options_in_text(value)):
            return question, found[1]
    for prefix in ("", "option_", "option ", "Option_", "Option "):
        for case in (str.upper, str.lower):
            lettered = [record.get(prefix + case(letter)) for letter in LETTERS]
            if lettered[0] is not None and lettered[1] is not None:
                return question, [str(text) for text in lettered if text is not None]
    return options_in_text(question)


class ReleaseReader:
    """The release folder → `ReleaseQuestion`s and `Skip`s, evaluation/ first, files and records in order.

    Files are read through the folder's `FolderTree`: a question file or an image that is a link leading out of the
    folder is never read (an `unsafe-member` skip), and every image is decoded once to check it (`corrupt-image`)."""

    name = SOURCE

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise SourceFormatError(f"{self.root}: no such folder (give the folder the release was downloaded to)")
        self.tree = FolderTree(self.root)
        self.files = json_files(self.tree)
        self._seen: set[str] = set()
        self._images: dict[str, tuple[str, str] | Skip] = {}  # member -> (its image id, digest), or why not usable
        self._image_ids: dict[str, str] = {}  # image content digest -> the image id its first record gave it

    def fingerprint(self) -> str:
        """sha256 over every question file's path and content: which release was imported."""
        digest = hashlib.sha256()
        for folder in FOLDERS:
            for member in self.files.get(folder, ()):
                digest.update(member.encode() + b"\0" + self.tree.read_bytes(member))
        return digest.hexdigest()

    def read(self) -> Iterator[ReleaseQuestion | Skip]:
        for member, reason in self.tree.rejected:
            if member.endswith((".json", "/")):  # a question file or folder behind a link out: never read
                yield self.skip(member, UNSAFE_MEMBER, reason)
        for folder in FOLDERS:
            for member in self.files.get(folder, ()):
                for number, record in enumerate(load_records(self.tree, member), start=1):
                    yield self._question(member, number, record, folder)

    def skip(self, key: str, kind: str, reason: str) -> Skip:
        return Skip(SOURCE, key, kind, reason)

    def _question(self, file: str, number: int, record: object, folder: str) -> ReleaseQuestion | Skip:
        key = f"{file}#{number}"
        if not isinstance(record, dict):
            return self.skip(key, BAD_RECORD, f"record {number} is a {type(record).__name__}, not an object")
        task = TASKS.get(str(record.get("task", "")).strip().lower())
        if task is None:
            return self.skip(key, UNKNOWN_TASK, f"task {record.get('task')!r} is not one of {sorted(TASKS)}")
        question, answers, image = (next((record[f] for f in fields if f in record), None) for fields in
                                    (("question", "query"), ("answers", "answer"), ("image", "image_path")))
        if not isinstance(question, str) or answers is None or not isinstance(image, str):
            return self.skip(key, BAD_RECORD, f"needs question/query, answers/answer and image/image_path; has {sorted(record)}")
        located = self._image(file, image, key)
        if isinstance(located, Skip):
            return located
        found = options_of(record, question)
        if found is None and task == "localization":
            found = question, list(LEVELS)  # the five levels, in order, when the release gives none
        if found is None:
            raise ReleaseFormatError(
                f"{self.root / file}, record {number}: a diagnosis question without options; looked for a list in "
                f"{'/'.join(LIST_FIELDS)}, fields A-E or option_A-option_E, and 'A: ...' in the question; the "
                f"record has {sorted(record)}. The paper's questions need their own options: none are invented.")
        return self._resolved(key, record, folder, task, found, answers, located)

    def _image(self, file: str, image: str, key: str) -> tuple[Path, str] | Skip:
        """(the file, its image id): one id per image content, the first path it was met under (evaluation/ first),
        so the same picture published in all/ and evaluation/ is one image."""
        name = image.replace("\\", "/")
        if unsafe_reason(name):
            return self.skip(key, UNSAFE_MEMBER, f"image path {image!r} leaves the release folder")
        for base in (PurePosixPath(file).parent, PurePosixPath()):
            member = (base / name).as_posix()
            link = next((reason for rejected, reason in self.tree.rejected
                         if member == rejected or rejected.endswith("/") and member.startswith(rejected)), None)
            if link:
                return self.skip(key, UNSAFE_MEMBER, link)
            if self.tree.exists(member):
                found = self._checked(member)
                if isinstance(found, Skip):
                    return Skip(SOURCE, key, found.kind, found.reason)
                return self.root / member, found[0]
        return self.skip(key, MISSING_IMAGE, f"image {image!r} found neither beside {file} nor in {self.root}")

    def _checked(self, member: str) -> tuple[str, str] | Skip:
        """(image id, digest) of an image file that decodes, or why it cannot be used; each file is read once."""
        if member not in self._images:
            try:
                data = self.tree.read_bytes(member)
                check_decodes(data, self.tree.display(member))
            except ImageError as exc:
                self._images[member] = self.skip(member, CORRUPT_IMAGE, str(exc))
            except MEMBER_READ_ERRORS as exc:
                self._images[member] = self.skip(member, CORRUPT_IMAGE, f"{self.tree.display(member)}: cannot read: {exc}")
            else:
                digest = hashlib.sha256(data).hexdigest()
                self._images[member] = (self._image_ids.setdefault(digest, f"{SOURCE}/{member}"), digest)
        return self._images[member]

    def _resolved(self, key: str, record: dict, folder: str, task: str, found: tuple[str, list[str]], answers: object,
                  located: tuple[Path, str]) -> ReleaseQuestion | Skip:
        question, texts = found
        options = [canonical_label(text, task) for text in texts]
        if None in options:
            bad = [text for text, option in zip(texts, options) if option is None]
            return self.skip(key, UNKNOWN_LABEL, f"option(s) {bad} are not {'levels' if task == 'localization' else 'SpineBench labels'}")
        if not 2 <= len(options) <= len(LETTERS) or len(set(options)) != len(options):
            return self.skip(key, BAD_RECORD, f"options {texts} are not 2 to {len(LETTERS)} different labels")
        letters = self._letters(answers, options, task)
        if isinstance(letters, str):
            return self.skip(key, ANSWER_NOT_AN_OPTION, letters)
        content = json.dumps([task, located[1], question, options, letters], ensure_ascii=False)
        digest = hashlib.sha256(content.encode()).hexdigest()
        if digest in self._seen:
            return self.skip(key, DUPLICATE_RECORD, "the same image, question, options and answer as an earlier record")
        self._seen.add(digest)
        answer_labels = [options[LETTERS.index(letter)] for letter in letters]
        return ReleaseQuestion(
            id=f"{SOURCE}/{key.split('#')[0].removesuffix('.json')}/{located[0].name}/{task}-{digest[:12]}",
            image_id=located[1], image=located[0], folder=folder, task=task, question=question,
            options=tuple(options), answer=letters,
            disease=answer_labels[0] if task == "diagnosis" else named_condition(question),
            levels=canonical_levels(answer_labels) if task == "localization" else ())

    @staticmethod
    def _letters(answers: object, options: list[str], task: str) -> tuple[str, ...] | str:
        """The answer's letters, or why they cannot be read."""
        if isinstance(answers, list):
            values = answers
        else:
            values = str(answers).split(",") if task == "localization" else [answers]
        if task == "diagnosis" and len(values) != 1:
            return f"a diagnosis needs one answer, found {answers!r}"
        letters = []
        for value in values:
            label = canonical_label(value, task)
            if label in options:
                letters.append(LETTERS[options.index(label)])
            elif isinstance(value, str) and value.strip().upper() in LETTERS[: len(options)]:
                letters.append(value.strip().upper())  # a letter is unambiguous: option texts are labels
            else:
                return f"answer {value!r} is not among the options {options}"
        if not letters:
            return f"no answer in {answers!r}"
        return tuple(sorted(set(letters)))


def named_condition(question: str) -> str | None:
    """The one SpineBench disease a localization question names, if it names exactly one."""
    text = " ".join(question.lower().split())
    named = [name for name in CLASS_NAMES if name.lower() in text]
    return named[0] if len(named) == 1 else None
