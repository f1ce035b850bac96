"""(d) Harness overhead per sample against the tiny VLM's generate time, and parser throughput.

Overhead = what the harness adds around the model for one sample: the row → Doc (`spinebench_doc`: the verbatim
prompt, gold letters) and the scoring (`SpineBenchScore.compute`: reply → parsed letters → metrics), with no judge.
The model side is the tiny random LLaVA of the tests (tests/tiny_vlm.py) run the way lighteval's VLM backend runs
it: chat template + processor + `generate`, greedy, for a short and for a typical reply length; its time is the
smallest a real model could take, so the ratio is an upper bound. Goals: overhead < 1% of generate time; the
parser >= 100,000 replies/s.

    python bench/harness.py [--replies 20000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import record, seconds, table, verdict  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import tiny_vlm  # noqa: E402

os.environ.pop("SPINEBENCH_JUDGE", None)  # the rules only: a judge is a model call, not harness overhead
from lighteval.models.model_output import ModelResponse  # noqa: E402

from spinebench_hf.construction.questions import DIAGNOSIS_QUESTIONS, LOCALIZATION_QUESTIONS  # noqa: E402
from spinebench_hf.evaluation.lighteval_task import SpineBenchScore, spinebench_doc  # noqa: E402
from spinebench_hf.parsing import extract_answer, parse_final_options  # noqa: E402

OVERHEAD_GOAL, PARSER_GOAL = 0.01, 100_000
DIAGNOSIS_OPTIONS = ["Osteophytes", "Healthy", "Spondylolisthesis", "Disc space narrowing", "Foraminal stenosis"]
LEVEL_OPTIONS = ["L3/L4", "L1/L2", "L5/S1", "L2/L3", "L4/L5"]
REASONING = (
    "The lateral radiograph shows the lumbar column with preserved alignment of the posterior vertebral "
    "line at most levels. There is marginal lipping at the anterior endplates and the disc heights look "
    "reduced at the lower segments, while the foramina are partly obscured by the facet joints. "
) * 3
ENDINGS = [
    "My final option: [C]",
    "**My final option:** [A]",
    "My final options: [B, E]",
    "My final option: C",
    "My Final Options: [A, C, D]",
    "The most likely answer is Spondylolisthesis.",
    "I cannot tell.",
    "<think>Option A or C... My final option: [A]</think>\nMy final option: [C]",
    "Ｍｙ ｆｉｎａｌ ｏｐｔｉｏｎ：［Ｂ］",
]


def replies(count: int) -> list[str]:
    """Realistic replies: about 100 words of reasoning, then one of several endings, contract kept or not."""
    return [f"{REASONING}\n{ENDINGS[i % len(ENDINGS)]}" for i in range(count)]


def rows() -> list[dict]:
    image = Image.new("RGB", (820, 1024), (90, 90, 90))
    common = dict(image=image, image_id="vindr/x", source="vindr", modality="X-ray", study_id="s", disease=3)
    return [
        dict(
            common,
            id="vindr/x/diagnosis",
            task="diagnosis",
            question=DIAGNOSIS_QUESTIONS[0],
            options=DIAGNOSIS_OPTIONS,
            answer=["C"],
        ),
        dict(
            common,
            id="vindr/x/localization/spondylolisthesis",
            task="localization",
            question=LOCALIZATION_QUESTIONS[0],
            options=LEVEL_OPTIONS,
            answer=["C", "E"],
        ),
    ]


def harness_per_sample(all_replies: list[str]) -> float:
    """Seconds per sample for Doc building + scoring, cycling through the replies and both tasks."""
    lines, scorers = (
        rows(),
        {"diagnosis": SpineBenchScore("diagnosis"), "localization": SpineBenchScore("localization")},
    )
    start = time.perf_counter()
    for i, reply in enumerate(all_replies):
        line = lines[i % 2]
        doc = spinebench_doc(line, f"spinebench:{line['task']}")
        scorers[line["task"]].compute(doc, ModelResponse(text=[reply]))
    return (time.perf_counter() - start) / len(all_replies)


class TinyVLM:
    def __init__(self, folder: str):
        from transformers import AutoModelForImageTextToText, AutoProcessor

        tiny_vlm.build(folder)
        self.processor = AutoProcessor.from_pretrained(folder, padding_side="left")
        self.model = AutoModelForImageTextToText.from_pretrained(folder).eval()

    def generate(self, doc, new_tokens: int) -> None:
        messages = [{"role": "user", "content": [{"type": "text", "text": doc.query}, {"type": "image"}]}]
        prompt = self.processor.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = self.processor(text=[prompt], images=[doc.images], return_tensors="pt", padding="longest")
        with torch.inference_mode():
            self.model.generate(**inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=20_000)
    args = parser.parse_args()
    corpus = replies(args.replies)
    options = DIAGNOSIS_OPTIONS
    parse_s = min(seconds(lambda: [parse_final_options(r) for r in corpus]) for _ in range(3))
    extract_s = min(seconds(lambda: [extract_answer(r, options) for r in corpus]) for _ in range(3))
    overhead_s = min(harness_per_sample(corpus[:5000]) for _ in range(3))
    doc = spinebench_doc(rows()[0], "spinebench:diagnosis")
    with tempfile.TemporaryDirectory() as folder:
        vlm = TinyVLM(folder)
        vlm.generate(doc, 4)  # warm-up
        generate_s = {n: min(seconds(lambda n=n: vlm.generate(doc, n)) for _ in range(3)) for n in (16, 256)}
    parser_rate, extract_rate = len(corpus) / parse_s, len(corpus) / extract_s
    worst = overhead_s / generate_s[16]
    rows_out = [["harness per sample (Doc + parse + metrics)", overhead_s * 1e6, "", ""]]
    rows_out += [
        [f"tiny VLM generate, {n} new tokens", s * 1e6, f"{overhead_s / s:.4%}", ""] for n, s in generate_s.items()
    ]
    rows_out += [
        ["`parse_final_options`", parse_s / len(corpus) * 1e6, "", f"{parser_rate:,.0f}"],
        ["`extract_answer` (marker, then option text)", extract_s / len(corpus) * 1e6, "", f"{extract_rate:,.0f}"],
    ]
    body = (
        f"{args.replies:,} replies of about 100 words with {len(ENDINGS)} kinds of ending (contract kept, "
        "markdown, multi-letter, no brackets, option text only, no answer, `<think>` drafts, full-width); best "
        "of 3. The tiny VLM (2-layer Llama, 1-layer CLIP) is forced to exactly N new tokens.\n\n"
        + table(["", "µs per sample", "harness / generate", "replies/s"], rows_out)
        + f"\n\nGoal harness overhead < 1% of generate time: {verdict(worst < OVERHEAD_GOAL)} "
        + f"({worst:.3%} against the shortest generation).\n"
        + f"Goal parser >= {PARSER_GOAL:,} replies/s: {verdict(parser_rate >= PARSER_GOAL)} ({parser_rate:,.0f})."
    )
    record(
        "harness",
        "(d) Harness overhead and parser throughput",
        body,
        {
            "overhead_s": overhead_s,
            "generate_s": {str(k): v for k, v in generate_s.items()},
            "parser_per_s": parser_rate,
            "extract_per_s": extract_rate,
            "met": worst < OVERHEAD_GOAL and parser_rate >= PARSER_GOAL,
        },
        ("lighteval", "transformers", "torch"),
    )


if __name__ == "__main__":
    main()
