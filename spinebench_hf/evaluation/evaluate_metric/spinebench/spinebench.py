"""SpineBench's scores as a Hugging Face `evaluate` metric, for scoring in your own loop.

    import evaluate
    metric = evaluate.load(path)          # path: `spinebench metric-path`; offline, from the installed package
    metric.add_batch(predictions=replies, references=[{"answer": row["answer"], "options": row["options"]}, ...])
    metric.compute(task="diagnosis")      # or "localization"

A prediction is a model's raw reply; a reference is the dataset row's gold letters and its options (the parser needs
them: letters outside the options are refused, and an option named in words is read). The answer is read by the same
parser as the lighteval task (the last "My final option(s):" marker, then one option's text; never a guess), and
scored by the same metrics: diagnosis `acc`; localization `acc` (exact set), `precision`, `recall`, `f1`,
`jaccard`; both `format_compliance`. Without a judge, so these are the lighteval task's `acc_rules`.
"""

import datasets
import evaluate

from spinebench_hf.metrics import score_reply

_CITATION = """@inproceedings{zhang2025spinebench,
  title = {SpineBench: Benchmarking Multimodal LLMs for Spinal Pathology Analysis},
  author = {Zhang, Chenghanyu and others},
  booktitle = {Proceedings of the 33rd ACM International Conference on Multimedia},
  year = {2025}
}"""
TASKS = ("diagnosis", "localization")


class SpineBench(evaluate.Metric):
    """SpineBench's rule-based scores of raw replies (no judge), averaged over the batch (module docstring)."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=__doc__,
            citation=_CITATION,
            inputs_description=(
                "predictions: raw replies; references: {'answer': gold letters, 'options': option texts}"
            ),
            features=datasets.Features(
                {
                    "predictions": datasets.Value("string"),
                    "references": {
                        "answer": datasets.Sequence(datasets.Value("string")),
                        "options": datasets.Sequence(datasets.Value("string")),
                    },
                }
            ),
        )

    def _compute(self, predictions, references, task: str = "diagnosis"):
        if task not in TASKS:
            raise ValueError(f"task {task!r}: expected one of {TASKS}")
        scores = [
            score_reply(reply, task, ref["options"], ref["answer"]).rule_scores(task)
            for reply, ref in zip(predictions, references)
        ]
        if not scores:
            return {}
        return {name: sum(s[name] for s in scores) / len(scores) for name in scores[0]}
