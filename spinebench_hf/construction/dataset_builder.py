"""The `datasets` builder of SpineBench: configs `diagnosis` and `localization`, splits `full` and `sub`.

datasets ≥ 4 runs no loading scripts, so this builder is instantiated from Python by `spinebench build` (see
`pipeline.py`), which first prepares `data_dir`: one JSON-lines file of items per config (`questions.Item.row()` plus
the path of the image file and the `sub` and `train` flags). Rows are streamed from there, images read one by one.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import datasets

from ..schema import CITATION, CONFIGS, DESCRIPTION, HOMEPAGE, SPLITS, features

VERSION = datasets.Version("1.0.0")


def items_file(data_dir: str | Path, config: str) -> Path:
    """The JSON-lines file of `config`'s items in `data_dir`."""
    return Path(data_dir) / f"{config}.jsonl"


class SpineBench(datasets.GeneratorBasedBuilder):
    """SpineBench questions built from the user's own source archives (see `spinebench build`)."""

    VERSION = VERSION
    BUILDER_CONFIGS = [
        datasets.BuilderConfig(name=name, version=VERSION, description=f"SpineBench {name}") for name in CONFIGS
    ]
    DEFAULT_CONFIG_NAME = "diagnosis"
    DEFAULT_WRITER_BATCH_SIZE = 16  # rows hold images of up to 1024 px: small Arrow batches keep memory flat

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description=DESCRIPTION, features=features(), citation=CITATION, homepage=HOMEPAGE)

    def _split_generators(self, dl_manager):
        if not self.config.data_dir:
            raise ValueError("SpineBench needs data_dir: the items folder prepared by `spinebench build`")
        path = items_file(self.config.data_dir, self.config.name)
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"path": str(path), "split": split}) for split in SPLITS
        ]

    def _generate_examples(self, path: str, split: str):
        archives: dict[str, zipfile.ZipFile] = {}  # a release's zip files, each opened once
        try:
            with open(path, encoding="utf-8") as lines:
                for line in lines:
                    row = json.loads(line)
                    in_split = {name: row.pop(name, False) for name in ("sub", "train")}
                    if split != "full" and not in_split[split]:
                        continue
                    # bytes with no path: datasets keeps a path that exists on disk instead of the bytes (a trap)
                    row["image"] = {
                        "bytes": image_bytes(row.pop("image_path"), row.pop("image_member", None), archives),
                        "path": None,
                    }
                    yield row["id"], row
        finally:
            for archive in archives.values():
                archive.close()


def image_bytes(path: str, member: str | None, archives: dict[str, zipfile.ZipFile]) -> bytes:
    """The image file's bytes as they are: a file, or a member of a zip file."""
    if member is None:
        return Path(path).read_bytes()
    if path not in archives:
        archives[path] = zipfile.ZipFile(path)
    return archives[path].read(member)
