"""The `spinebench` command: a thin layer over the library; errors are printed, never a traceback."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from dataclasses import asdict
from pathlib import Path

from .errors import SpineBenchError
from .settings import DEFAULT_DATA, DEFAULT_ENCODER, DEFAULT_ENCODER_WEIGHTS, DEFAULT_MAX_SIDE, DEFAULT_SEED, VARIABLES


# --- option values: checked where they are read, so a bad one is a usage error, never an empty result ----------
def count(text: str) -> int:
    """A whole number >= 1 (sizes, limits, processes)."""
    return _whole(text, 1)


def seed_value(text: str) -> int:
    """A whole number >= 0 (the --seed value)."""
    return _whole(text, 0)


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {least}, got {value}")
    return value


class Once(argparse.Action):
    """An option that may be given once: `--buu A --buu B` is an error, not B silently."""

    def __call__(self, parser, namespace, values, option_string=None):
        """Store the value, or stop with a usage error if this option was already given."""
        given = namespace.__dict__.setdefault("_given_once", set())
        if self.dest in given:
            parser.error(f"{option_string} given twice ({getattr(namespace, self.dest)} and {values}); give it once")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


# --- options shared by several commands: each declared once -------------------------------------------------
def source_options() -> argparse.ArgumentParser:
    """--buu/--csxa/--rsna/--vindr and --cache-dir, for every command that reads the archives."""
    from .source_catalog import CATALOG

    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("sources (at least one; a folder or the original archive file)")
    for name, info in CATALOG.items():
        group.add_argument(f"--{name}", metavar="PATH", action=Once, help=f"{info.title} ({info.homepage})")
    parent.add_argument(
        "--cache-dir",
        metavar="DIR",
        action=Once,
        help="where tar archives are extracted and images and "
        "embeddings are cached (default ~/.cache/spinebench, or SPINEBENCH_CACHE)",
    )
    return parent


def add_seed(parser: argparse.ArgumentParser) -> None:
    """Declare --seed, from which every random choice derives."""
    parser.add_argument(
        "--seed", type=seed_value, default=DEFAULT_SEED, help=f"every random choice derives from it ({DEFAULT_SEED})"
    )


def add_output(parser: argparse.ArgumentParser, default: str, what: str) -> None:
    """Declare --output DIR (given once), described by `what`, defaulting to `default`."""
    parser.add_argument("--output", default=default, metavar="DIR", action=Once, help=f"{what} (default ./{default})")


def add_max_side(parser: argparse.ArgumentParser) -> None:
    """Declare --max-side, the longest side of a standardized image."""
    parser.add_argument(
        "--max-side",
        type=count,
        default=DEFAULT_MAX_SIDE,
        help=f"longest side of a standardized image ({DEFAULT_MAX_SIDE})",
    )


def add_num_proc(parser: argparse.ArgumentParser) -> None:
    """Declare --num-proc, the processes standardizing images (and, in a build, threads preprocessing them)."""
    parser.add_argument(
        "--num-proc",
        type=count,
        default=1,
        help="processes standardizing images (then, in a build, threads preprocessing them for the encoder)",
    )


def add_per_source(parser: argparse.ArgumentParser) -> None:
    """Declare --per-source, the synthetic images written per source."""
    parser.add_argument("--per-source", type=count, default=24, help="synthetic images per source (24)")


def add_lighteval_outputs(parser: argparse.ArgumentParser) -> None:
    """Declare the positional run outputs: lighteval, lmms-eval and sweep folders or files, in any mix."""
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="RUN",
        help="run outputs, in any mix: lighteval output folders, results_*.json or details parquet files; "
        "lmms-eval output folders (--log_samples) or samples jsonl files; `spinebench sweep` output folders",
    )


def add_restricted_images(parser: argparse.ArgumentParser) -> None:
    """Declare --allow-restricted-sources for what shows case images to others."""
    parser.add_argument(
        "--allow-restricted-sources",
        action="store_true",
        help="show the images of BUU-LSPINE, RSNA 2024 and VinDr-SpineXR cases (and of an imported release) too; "
        "their licences forbid redistribution, so they are withheld unless you hold that right",
    )


def given_sources(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, str]:
    """The source paths given, by source name; a usage error if none is."""
    from .source_catalog import CATALOG

    paths = {name: getattr(args, name) for name in CATALOG if getattr(args, name, None)}
    if not paths:
        parser.error("give at least one source: " + ", ".join(f"--{name} PATH" for name in CATALOG))
    return paths


# --- commands -----------------------------------------------------------------------------------------------
def cmd_scan(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`scan`: print each source's images used, by disease, and skipped, by kind; --report writes every skip."""
    from .settings import cache_dir
    from .sources.scan import scan

    report = scan(given_sources(args, parser), cache_dir=args.cache_dir)
    if args.decode:  # the build's own standardization stage: a later build finds these images cached
        from .construction.standardize import standardize_all

        images = (Path(args.cache_dir) if args.cache_dir else cache_dir()) / "images"
        standardize_all(report, images, args.max_side, args.num_proc, progress=True)
    diseases = report.disease_counts()
    for source in sorted({r.source for r in report.records} | {s.source for s in report.skips}):
        used, skipped = report.image_counts(source)
        print(f"{source}: {used} images used, {sum(skipped.values())} skipped")
        for disease, count in sorted(diseases.get(source, {}).items()):
            print(f"  {disease:<30} {count}")
        for image, label in ((True, "image skipped"), (False, "row skipped")):
            for kind, count in sorted(report.skip_counts(image).get(source, {}).items()):
                print(f"  {label} {kind:<22} {count}   e.g. {report.example(source, kind, image).reason}")
    if args.report:
        Path(args.report).write_text(
            json.dumps({"skips": [asdict(s) for s in report.skips], "notes": report.notes}, indent=1)
        )
        print(f"every skip with its reason: {args.report}")
    return 0


def cmd_build(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`build`: write the dataset folder; print each split's rows, the skip and warning counts and the fingerprint."""
    from .construction.pipeline import BuildOptions, build

    options = BuildOptions(
        sources=given_sources(args, parser),
        output=Path(args.output),
        seed=args.seed,
        encoder=args.encoder,
        encoder_weights=args.encoder_weights,
        max_side=args.max_side,
        num_proc=args.num_proc,
        limit_per_source=args.limit_per_source,
        cache_dir=Path(args.cache_dir) if args.cache_dir else None,
        batch_size=args.batch_size,
        device=args.device,
        progress=True,
        allow_partial=tuple(args.allow_partial),
    )
    report = build(options)
    for config, splits in report["splits"].items():
        print(f"{config}: " + ", ".join(f"{split} {info['rows']}" for split, info in splits.items()))
    print(
        f"{len(report['skips'])} rows or files skipped, each with its reason in {options.output / 'build_report.json'}"
    )
    warned = report["decoder_warnings"]
    if warned:
        print(f"{sum(warned.values())} pydicom warnings of {len(warned)} kinds, counted in build_report.json")
    print(f"fingerprint {report['fingerprint']}")
    return 0


def cmd_import_release(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`import-release`: write the authors' release as a dataset folder; print its splits, skips and fingerprints."""
    from .construction.release_import import REPORT, import_release

    report = import_release(args.path, args.output)
    for config, splits in report["splits"].items():
        print(f"{config}: " + ", ".join(f"{split} {info['rows']}" for split, info in splits.items()))
    for config, counts in report["paper_sub"].items():
        if counts["release"] != counts["paper"]:
            print(
                f"{config}: the release's evaluation/ holds {counts['release']} questions, the paper's Sub "
                f"{counts['paper']}: scores are on the release's questions"
            )
    skipped = ", ".join(f"{kind} {count}" for kind, count in report["skipped"].items()) or "none"
    print(f"records skipped: {skipped}; each with its reason in {Path(args.output) / REPORT}")
    print(
        f"release fingerprint {report['release_fingerprint'][:16]}, dataset fingerprint {report['fingerprint'][:16]}"
    )
    return 0


def cmd_sweep(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`sweep`: run SWEEP.yaml's models on its tasks, write the report; print the tables; 1 if a run is incomplete."""
    from .evaluation.sweep import SUMMARY_COLUMNS, run_sweep, summary
    from .evaluation.sweep_config import load_sweep

    output = Path(args.output)
    try:
        results = run_sweep(load_sweep(args.sweep), output)
    except KeyboardInterrupt:
        print(
            f"\nspinebench sweep: interrupted; every reply received is kept in {output / 'responses.sqlite'}: "
            "run the same command again to continue",
            file=sys.stderr,
        )
        return 130
    from .report.tables import markdown, paper_table, report_of_runs  # pandas and the plots: after the requests

    print("\n" + markdown(SUMMARY_COLUMNS, summary(results)))
    scored, report = report_of_runs([output / "details"], output / "report")
    print(f"\n{paper_table(scored)}\n\nthe report: {report}")
    incomplete = sorted({run.model for run in results if not run.complete})
    if incomplete:
        print(
            f"spinebench sweep: incomplete (failed requests, retried by the next run): {', '.join(incomplete)}",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_publish(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`publish`: runs to a Hub dataset repo (and the leaderboard to a Space); print where they went."""
    from .report.publish import publish

    done = publish(args.paths, args.repo_id, public=args.public, space=args.space,
                   allow_restricted_sources=args.allow_restricted_sources)  # fmt: skip
    print(f"published {len(done.models)} model(s) to the dataset {args.repo_id}: {done.dataset}")
    if done.space:
        print(f"the leaderboard, as the Space {args.space}: {done.space}")
    return 0


def cmd_leaderboard(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`leaderboard`: the static leaderboard page of the runs, with one report per model; print its path."""
    from .report.details import case_images, scored_questions
    from .report.leaderboard import write_leaderboard
    from .report.licences import withheld_images
    from .report.runs import about_datasets

    scored = scored_questions(args.paths)
    withheld = withheld_images(scored, args.allow_restricted_sources)
    fingerprints, banner = about_datasets(args.paths)
    page = write_leaderboard(scored, args.output, functools.partial(case_images, args.paths), withheld,
                             fingerprints=fingerprints, banner=banner)  # fmt: skip
    print(f"the leaderboard, to open in a browser or upload as a static Space: {page}")
    return 0


def cmd_push(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`push`: upload a dataset folder to the Hugging Face Hub and print the commit URL or id."""
    from .construction.push import push

    print(push(args.folder, args.repo_id, public=args.public, allow_restricted_sources=args.allow_restricted_sources))
    return 0


def run_lighteval(lighteval_args: list[str]) -> int:
    """`spinebench eval ...` = `lighteval ...` with this project's lighteval fixes applied in this process."""
    if "--circular" in lighteval_args:  # ours, not lighteval's: write the rotations, then ask them
        from .evaluation.variants import write_rotations
        from .settings import data_path

        lighteval_args = [a for a in lighteval_args if a != "--circular"]
        print(f"circular evaluation: rotated questions in {write_rotations(data_path())}", file=sys.stderr)
    from .evaluation.lighteval_fixes import fix_vlm_backend, stub_offline_downloads

    stub_offline_downloads()
    fix_vlm_backend()
    from lighteval.__main__ import app

    try:
        app(lighteval_args, prog_name="spinebench eval")
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    return 0


def cmd_eval(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`eval`: run lighteval's CLI with this project's fixes applied; its exit status."""
    return run_lighteval(args.lighteval_args)


def cmd_demo(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`demo`: build and evaluate the baselines on synthetic archives; print the table and the report's path."""
    from .demo import run_demo

    table, page = run_demo(Path(args.output), per_source=args.per_source, seed=args.seed)
    print(f"\nSpineBench-Sub, baselines (lighteval; details and results under {args.output}):\n\n{table}")
    print(f"the report, with a case gallery, to open in a browser: {page}")
    return 0


def cmd_model_file(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`model-file`: print the path of one of this package's lighteval model files."""
    from .evaluation.lighteval_models import model_file

    print(model_file(args.name))
    return 0


def cmd_report(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`report`: write the report from lighteval outputs; print the paper table and the report's paths."""
    from .report.tables import paper_table, report_of_runs

    scored, report = report_of_runs(args.paths, args.output)
    print(paper_table(scored))
    print(f"\nbreakdowns, confidence intervals, confusion matrices and plots: {report}")
    print(f"the same with a case gallery, to open in a browser: {report.with_suffix('.html')}")
    return 0


def cmd_rating_sheet(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`rating-sheet`: write a sheet of sampled replies to rate, its page and its key; print their paths."""
    from .report.details import case_images, read_details
    from .report.rating import rating_rows, sample_replies, write_sheet
    from .report.runs import about_datasets

    sample = sample_replies(rating_rows(read_details(args.paths)), args.per_task, args.seed)
    found = case_images(args.paths, set(sample.id))
    _, banner = about_datasets(args.paths)
    files = write_sheet(sample.assign(image=sample.id.map(lambda item: found.get(item))), args.output, banner)
    print(f"the rating form, to send to each rater (it works offline in a browser): {files['html']}")
    print(f"raters download their CSV from it (or fill a copy of {files['sheet']} by hand); then run")
    print(f"  spinebench rating-summary RATER1.csv RATER2.csv ... --key {files['key']}")
    print(f"keep {files['key']} to yourself: it says which model wrote each reply")
    return 0


def cmd_rating_summary(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`rating-summary`: print the mean ratings and the inter-rater agreement of filled sheets."""
    from .report.rating import read_sheets, summarize
    from .report.tables import frame_markdown

    means, agreement = summarize(read_sheets(args.sheets, args.key))
    print("Mean score (1-5) per model, task and criterion:\n" + frame_markdown(means, scores=False))
    print("\nInter-rater agreement (Krippendorff's alpha, ordinal):\n" + frame_markdown(agreement, scores=False))
    return 0


def cmd_compare_encoders(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`compare-encoders`: write the similarities and separations; print the summary and similarity.csv's path."""
    from .report.encoders import compare_encoders
    from .report.tables import frame_markdown

    summary = compare_encoders(args.data, args.encoder, args.output, limit=args.limit, seed=args.seed)
    print(frame_markdown(summary, scores=False))
    print(f"\nper-image similarities and hard negatives (the paper's Table 6): {Path(args.output) / 'similarity.csv'}")
    return 0


def cmd_lmms_eval_tasks(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`lmms-eval-tasks`: write the lmms-eval tasks for SPINEBENCH_DATA and print their folder."""
    from .dataset_files import dataset_fingerprint
    from .evaluation.lmms_eval_task import write_task_folder
    from .settings import cache_dir, data_path

    data = data_path()
    folder = Path(args.output) if args.output else cache_dir() / "lmms-eval-tasks" / dataset_fingerprint(data)[:16]
    print(write_task_folder(data, folder))
    return 0


def cmd_metric_path(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`metric-path`: print the folder of the Hugging Face `evaluate` metric."""
    from .evaluation.evaluate_metric import metric_path

    print(metric_path())
    return 0


def cmd_samples(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`samples`: write synthetic sample archives; print the `spinebench scan` command that reads them."""
    from .sources.synthetic import write_samples

    paths = write_samples(Path(args.output), seed=args.seed, per_source=args.per_source)
    print("Synthetic sample archives (drawn images, not patient data):")
    print("  spinebench scan " + " ".join(f"--{name} {path}" for name, path in paths.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The `spinebench` argument parser, with every subcommand and its options."""
    parser = argparse.ArgumentParser(
        prog="spinebench",
        description="SpineBench (arXiv 2510.12267) from your own archives",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="environment:\n" + "\n".join(f"  {name:<32} {what}" for name, what in VARIABLES.items()),
    )
    commands = parser.add_subparsers(dest="command", required=True)

    scan = commands.add_parser(
        "scan", parents=[source_options()], help="read the source archives and report what would be used and skipped"
    )
    scan.add_argument(
        "--decode",
        action="store_true",
        help="also decode and standardize every image, as the build does (and into its cache)",
    )
    add_max_side(scan)
    add_num_proc(scan)
    scan.add_argument("--report", metavar="FILE.json", help="write every skip with its reason")
    scan.set_defaults(run=cmd_scan)

    from .source_catalog import CATALOG

    build = commands.add_parser("build", parents=[source_options()], help="build the SpineBench dataset folder")
    add_output(build, DEFAULT_DATA, "the dataset folder to write")
    add_seed(build)
    build.add_argument("--encoder", default=DEFAULT_ENCODER, help="open_clip model for the distractor mining")
    build.add_argument(
        "--encoder-weights",
        default=DEFAULT_ENCODER_WEIGHTS,
        help="webli (Hugging Face cache), random (seeded; offline tests only), or a weights FILE",
    )
    add_max_side(build)
    add_num_proc(build)
    build.add_argument("--limit-per-source", type=count, metavar="N", help="use at most N images per source")
    build.add_argument("--batch-size", type=count, default=32, help="embedding batch size")
    build.add_argument("--device", help="cuda / cpu (default: cuda when available)")
    build.add_argument(
        "--allow-partial",
        action="append",
        default=[],
        choices=list(CATALOG),
        metavar="SOURCE",
        help="build SOURCE even if it yields no usable image or more of its images are skipped than "
        "used (by default such a source stops the build before any image is decoded)",
    )
    build.set_defaults(run=cmd_build)

    release = commands.add_parser("import-release", help="the authors' release (JSON + images) as a dataset folder")
    release.add_argument(
        "path",
        help="the release as `hf download Silversorrow/SpineBench --repo-type dataset --local-dir PATH` wrote it",
    )
    add_output(release, DEFAULT_DATA, "the dataset folder to write")
    release.set_defaults(run=cmd_import_release)

    sweep = commands.add_parser("sweep", help="every model of SWEEP.yaml on every task, resumable, then the report")
    sweep.add_argument(
        "sweep", metavar="SWEEP.yaml", help="the sweep: dataset, tasks, generation and models (README: Sweeps)"
    )
    add_output(sweep, "spinebench-sweep", "replies (responses.sqlite), details, server logs and report/")
    sweep.set_defaults(run=cmd_sweep)

    push = commands.add_parser("push", help="upload a built folder to the Hugging Face Hub (private by default)")
    push.add_argument("folder", help="a folder written by spinebench build or import-release")
    push.add_argument("--repo-id", required=True, metavar="ORG/NAME", help="the dataset repo (made if missing)")
    push.add_argument("--public", action="store_true", help="create the repo public (default: private)")
    push.add_argument(
        "--allow-restricted-sources",
        action="store_true",
        help="allow a public upload holding BUU, RSNA or VinDr images (their licences forbid it)",
    )
    push.set_defaults(run=cmd_push)

    evaluate = commands.add_parser(
        "eval",
        add_help=False,
        help="lighteval's CLI with this project's fixes applied: spinebench eval accelerate ...",
    )
    evaluate.add_argument(
        "lighteval_args", nargs=argparse.REMAINDER, metavar="LIGHTEVAL_ARGS", help="lighteval's own arguments"
    )
    evaluate.set_defaults(run=cmd_eval)

    demo = commands.add_parser(
        "demo", help="offline, on synthetic archives: build, evaluate the baselines, print the table"
    )
    add_output(demo, "spinebench-demo", "archives, dataset, lighteval runs and the table")
    add_per_source(demo)
    add_seed(demo)
    demo.set_defaults(run=cmd_demo)

    publish = commands.add_parser(
        "publish", help="runs to a Hub dataset repo (one config per model, results, report, card); private by default"
    )
    add_lighteval_outputs(publish)
    publish.add_argument("--repo-id", required=True, metavar="ORG/NAME", help="the dataset repo (made if missing)")
    publish.add_argument("--public", action="store_true", help="create the repos public (default: private)")
    publish.add_argument("--space", metavar="ORG/NAME", help="also upload the leaderboard of the repo's models there")
    add_restricted_images(publish)
    publish.set_defaults(run=cmd_publish)

    board = commands.add_parser("leaderboard", help="a static leaderboard page (sortable) with a report per model")
    add_lighteval_outputs(board)
    add_output(board, "spinebench-leaderboard", "the leaderboard folder")
    add_restricted_images(board)
    board.set_defaults(run=cmd_leaderboard)

    report = commands.add_parser(
        "report", help="paper table, breakdowns, CIs, confusion, plots from lighteval, lmms-eval or sweep output"
    )
    add_lighteval_outputs(report)
    add_output(report, "spinebench-report", "the report folder")
    report.set_defaults(run=cmd_report)

    sheet = commands.add_parser("rating-sheet", help="sample replies for clinicians to rate (the paper's appendix D)")
    add_lighteval_outputs(sheet)
    add_output(sheet, "spinebench-rating", "the sheet, its page and the key")
    sheet.add_argument("--per-task", type=count, default=10, help="replies sampled per model and task (10)")
    add_seed(sheet)
    sheet.set_defaults(run=cmd_rating_sheet)

    summary = commands.add_parser("rating-summary", help="mean ratings and inter-rater agreement from filled sheets")
    summary.add_argument("sheets", nargs="+", metavar="SHEET.csv", help="filled rating sheets, one per rater")
    summary.add_argument("--key", required=True, help="key.csv written with the sheet")
    summary.set_defaults(run=cmd_rating_summary)

    compare = commands.add_parser("compare-encoders", help="the paper's Table 6 for any open_clip encoders")
    compare.add_argument("data", help="a folder written by spinebench build")
    compare.add_argument(
        "--encoder",
        action="append",
        required=True,
        metavar="NAME[:WEIGHTS]",
        help="open_clip model and weights (webli, random or a file); repeat to compare",
    )
    add_output(compare, "spinebench-encoders", "similarities, hard negatives and the summary")
    compare.add_argument("--limit", type=count, help="use the first N diagnosis questions")
    add_seed(compare)
    compare.set_defaults(run=cmd_compare_encoders)

    from .evaluation.lighteval_models import MODEL_FILES

    model = commands.add_parser("model-file", help="the file to give `lighteval custom NAME FILE TASKS`")
    model.add_argument("name", choices=MODEL_FILES, help="which model file")
    model.set_defaults(run=cmd_model_file)

    lmms = commands.add_parser(
        "lmms-eval-tasks",
        help="write the lmms-eval tasks for SPINEBENCH_DATA; print their folder (for --include_path)",
    )
    lmms.add_argument("--output", metavar="DIR", help="where to write them (default: the cache, by fingerprint)")
    lmms.set_defaults(run=cmd_lmms_eval_tasks)

    metric = commands.add_parser(
        "metric-path", help="the folder of the Hugging Face `evaluate` metric (evaluate.load)"
    )
    metric.set_defaults(run=cmd_metric_path)

    samples = commands.add_parser("samples", help="write small synthetic archives in the four real formats")
    add_output(samples, "spinebench-samples", "the archives")
    add_seed(samples)
    add_per_source(samples)
    samples.set_defaults(run=cmd_samples)
    helps = {action.dest: action.help for action in commands._choices_actions}
    for name, command in commands.choices.items():  # `spinebench X --help` opens with what X does
        command.description = command.description or DESCRIPTIONS.get(name) or helps[name]
    return parser


DESCRIPTIONS = {
    "import-release": "Import the authors' release (Silversorrow/SpineBench: JSON and images, or images in zip "
    "archives) into a dataset folder like spinebench build's: every option shape, labels matched "
    "case-insensitively, the images as published and checked, a leak-free train split, import_report.json.",
    "report": "Read harness outputs in any mix (lighteval details, lmms-eval --log_samples output, spinebench sweep "
    "output) and write report.md and report.html: the summary, the paper's table beside the published rows, "
    "breakdown matrices with clustered intervals, confusion matrices, robustness, plots and a case gallery.",
    "sweep": "Ask every model of SWEEP.yaml every question of its tasks (one queue per model, replies cached and "
    "resumable), write lighteval-style details per model, and the report over all of them.",
}


# what a command interrupted with Ctrl-C leaves behind, and how to go on
AFTER_INTERRUPT = {
    "build": "the images and embeddings made so far are cached and the output folder is as it was: run the same "
    "command again to continue",
    "import-release": "the output folder is as it was: run the same command again",
    "scan": "the images standardized so far are cached",
}


def os_error(exc: OSError) -> str:
    """An OSError as one line: the file, then what went wrong (`No space left on device`, `Read-only file system`)."""
    what = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    files = [str(name) for name in (exc.filename, exc.filename2) if name is not None]
    return f"{' -> '.join(files)}: {what}" if files else what


def main(argv: list[str] | None = None) -> int:
    """Run `spinebench` with `argv` (default sys.argv[1:]); errors print as one line (exit 2), Ctrl-C exits 130."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["eval"]:  # everything after it is lighteval's, --help included
            return run_lighteval(argv[1:])
        parser = build_parser()
        args = parser.parse_args(argv)
        return args.run(args, parser)
    except SpineBenchError as exc:
        print(f"spinebench: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the machine's state: a full disk, a read-only folder, a path under a file
        print(f"spinebench: error: {os_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        after = AFTER_INTERRUPT.get(argv[0] if argv else "")
        print(f"\nspinebench: interrupted{'; ' + after if after else ''}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
