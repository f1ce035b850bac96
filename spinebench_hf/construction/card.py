"""README.md of a built dataset: YAML (`configs`, `dataset_info`) + the dataset_card.md template with real counts."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from datasets import DatasetInfo, SplitDict, SplitInfo
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard, DatasetCardData

from ..schema import CITATION, SPLITS, SUB_SIZES, features


def size_category(rows: int) -> str:
    """The Hub's `size_categories` tag for a dataset of `rows` rows (at most `100K<n<1M`)."""
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if rows < bound:
            return label
    return "100K<n<1M"


def present(report: dict, config: str) -> list[str]:
    """The splits of `config` that hold questions (a small build's `train` may hold none)."""
    return [split for split in SPLITS if report["splits"][config].get(split, {}).get("rows")]


def card_data(report: dict, pretty_name: str = "SpineBench") -> DatasetCardData:
    """The card's YAML: licence and tags, each config's data files, and its `dataset_info` (features, split sizes)."""
    configs = list(report["splits"])
    data = DatasetCardData(
        language=["en"],
        license="other",
        license_name="source-dataset-terms",
        license_details="The terms of each source dataset apply; see the table of sources.",
        task_categories=["visual-question-answering", "multiple-choice"],
        tags=["medical", "radiology", "spine", "x-ray", "mri"],
        size_categories=[size_category(sum(s["full"]["rows"] for s in report["splits"].values()))],
        pretty_name=pretty_name,
    )
    MetadataConfigs(
        {
            config: {
                "data_files": [{"split": split, "path": f"{config}/{split}-*"} for split in present(report, config)],
                **({"default": True} if i == 0 else {}),
            }
            for i, config in enumerate(configs)
        }
    ).to_dataset_card_data(data)
    infos = {}
    for config in configs:
        splits = SplitDict(
            {
                split: SplitInfo(
                    split,
                    num_bytes=report["splits"][config][split]["bytes"],
                    num_examples=report["splits"][config][split]["rows"],
                )
                for split in present(report, config)
            }
        )
        infos[config] = DatasetInfo(features=features(), splits=splits, config_name=config)
    DatasetInfosDict(infos).to_dataset_card_data(data)
    return data


def render_card(report: dict) -> str:
    """README.md of a build: the dataset_card.md template filled in from the build report."""
    sources = report["sources"]
    short = [
        f"{config} sub has {splits['sub']['rows']} of {SUB_SIZES[config]}"
        for config, splits in report["splits"].items()
        if splits["sub"]["rows"] < SUB_SIZES[config]
    ]
    restricted = [s["title"] for s in sources.values() if s["images"] and not s["redistributable"]]
    template = resources.files("spinebench_hf").joinpath("templates/dataset_card.md").read_text(encoding="utf-8")
    card = DatasetCard.from_template(
        card_data(report),
        template_str=template,
        version=report["spinebench_hf"],
        seed=report["seed"],
        max_side=report["max_side"],
        encoder=report["encoder"],
        fingerprint=report["fingerprint"],
        counts=report["splits"],
        source_names=list(sources),
        sources=sources,
        short_sub="; ".join(short),
        restricted=", ".join(restricted),
        train=report["train"],
        citation=CITATION,
    )
    return str(card)


def render_release_card(report: dict) -> str:
    """README.md of an imported release (`spinebench import-release`)."""
    template = resources.files("spinebench_hf").joinpath("templates/release_card.md").read_text(encoding="utf-8")
    card = DatasetCard.from_template(
        card_data(report, pretty_name="SpineBench (the authors' release)"),
        template_str=template,
        version=report["spinebench_hf"],
        release_fingerprint=report["release_fingerprint"],
        fingerprint=report["fingerprint"],
        counts=report["splits"],
        paper_sub=SUB_SIZES,
        skipped=report["skipped"],
        train=report["train"],
        citation=CITATION,
    )
    return str(card)


def write_card(folder: Path, report: dict, render=render_card) -> Path:
    """Write `render(report)` to `folder`/README.md; return its path."""
    path = Path(folder) / "README.md"
    path.write_text(render(report), encoding="utf-8")
    return path
