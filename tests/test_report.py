"""Reports from known per-sample results: every number checked against a direct computation."""

import math

import numpy as np
import pandas as pd
import pytest
from conftest import DIAG_OPTIONS, RECORDS, diag

from spinebench_hf.report.statistics import clustered_mean, paired_comparison
from spinebench_hf.report.tables import (
    breakdown,
    comparisons,
    confusion,
    level_breakdown,
    paper_rows,
    paper_table,
    write_report,
)


def wilson_by_hand(successes: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson's score interval written out from its textbook form (Wilson 1927; Agresti & Coull 1998)."""
    p = successes / n
    root = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return ((p + z**2 / (2 * n) - root) / (1 + z**2 / n), (p + z**2 / (2 * n) + root) / (1 + z**2 / n))


def test_clustered_standard_error_matches_the_formula():
    values, clusters = [1, 0, 1, 1, 0, 0], ["a", "a", "b", "c", "c", "c"]
    mean = 0.5
    expected = math.sqrt(((1 - mean) + (0 - mean)) ** 2 + (1 - mean) ** 2 + (1 - mean + 0 - mean + 0 - mean) ** 2) / 6
    estimate = clustered_mean(values, clusters)
    assert (estimate.mean, estimate.n, estimate.clusters) == (0.5, 6, 3)
    assert estimate.se == pytest.approx(expected)
    singletons = clustered_mean(values, list("abcdef"))
    assert singletons.se == pytest.approx(np.std(values) / math.sqrt(6))  # no clustering: the plain SE


@pytest.mark.parametrize(
    "values, clusters, n_effective",
    [
        ([1, 1, 1, 1, 1], list("abcde"), 5),  # 5 of 5: the lower bound is well below 1
        ([1, 0, 0, 0], list("abcd"), 4),  # 1 of 4: Wald gave [-0.17, 0.67]
        ([0, 0, 0], list("abc"), 3),
        ([1, 1, 0, 0], list("aabb"), 2),  # two studies, each all right or all wrong: worth 2 questions, not 4
        ([1, 1, 1, 1], list("aabb"), 2),  # all right: the design effect is unknown, so the studies count
    ],
)
def test_intervals_are_wilson_at_the_effective_size(values, clusters, n_effective):
    estimate = clustered_mean(values, clusters)
    low, high = wilson_by_hand(sum(values) * n_effective / len(values), n_effective)
    assert estimate.n_effective == pytest.approx(n_effective)
    assert (estimate.low, estimate.high) == pytest.approx((low, high))
    assert 0 <= estimate.low < estimate.mean or estimate.mean == 0
    assert estimate.high <= 1 and estimate.high > estimate.low


def test_known_intervals():
    five_of_five = clustered_mean([1] * 5, list("abcde"))
    assert five_of_five.low == pytest.approx(0.5655, abs=1e-4) and five_of_five.high == 1.0
    one_of_four = clustered_mean([1, 0, 0, 0], list("abcd"))
    assert (one_of_four.low, one_of_four.high) == pytest.approx((0.0456, 0.6994), abs=1e-4)


def test_paired_comparison():
    result = paired_comparison([1, 1, 0, 1], [0, 1, 0, 0], ["a", "b", "c", "d"])
    d = np.array([1, 0, 0, 1])
    assert result.difference.mean == 0.5 and result.difference.se == pytest.approx(np.std(d) / 2)
    # on [-1, 1] the differences are (d + 1) / 2 on [0, 1]: 0.75 over n_eff = 0.1875 / (se/2)^2
    n_effective = 0.75 * 0.25 / (np.std(d) / 4) ** 2
    n_effective = min(4, n_effective)
    low, high = wilson_by_hand(0.75 * n_effective, n_effective)
    assert (result.difference.low, result.difference.high) == pytest.approx((2 * low - 1, 2 * high - 1))
    # sign flips of the 4 study sums (1, 0, 0, 1): |sum| >= 2 in 8 of the 16 patterns
    assert result.p_value == pytest.approx(8 / 16)
    same = paired_comparison([1, 0], [1, 0], ["a", "b"])
    assert same.p_value == 1.0 and same.difference.low < 0 < same.difference.high  # not a zero-width interval
    always = paired_comparison([1, 1, 1], [0, 0, 0], ["a", "b", "c"])
    assert always.p_value == pytest.approx(2 / 8) and always.difference.high == 1.0 and always.difference.low < 1


def test_many_studies_use_seeded_sign_flips():
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 2, 60), rng.integers(0, 2, 60)
    clusters = [f"s{i // 2}" for i in range(60)]  # 30 studies: drawn, not enumerated
    first, second = paired_comparison(a, b, clusters), paired_comparison(a, b, clusters)
    assert first.p_value == second.p_value and 0 < first.p_value <= 1


def test_paper_table():
    rows = {row[0]: row[1:] for row in paper_rows(RECORDS)}
    assert rows["m1"] == pytest.approx([0.5, 0.5, 0.75, 1.0, 0.5])  # SDD 2/4, SLL 1/2, Pre, Recall, Overall
    assert rows["m2"] == pytest.approx([0.5, 0.0, 0.5, 0.25, 0.25])
    table = paper_table(RECORDS)
    assert "| m1 | 50.0 | 50.0 | 75.0 | 100.0 | 50.0 |" in table and "| Random (paper) | 20.0 | - |" in table


def test_breakdown_cis_are_clustered_by_study():
    frame = breakdown(RECORDS, "disease").set_index(["model", "task", "disease"])
    healthy = frame.loc[("m1", "diagnosis", "Healthy")]
    direct = clustered_mean([0.0, 1.0], ["s1", "s2"])
    assert healthy.n == 2 and healthy.acc == 0.5 and healthy.ci_low == pytest.approx(direct.low)


def test_levels_and_confusion():
    levels = level_breakdown(RECORDS).set_index(["model", "level"])
    assert levels.loc[("m1", "L4/L5")].recall == 1.0 and levels.loc[("m1", "L3/L4")].precision == 0.5
    assert levels.loc[("m2", "L4/L5")].recall == 0.0 and levels.loc[("m2", "L4/L5")].gold == 2
    assert math.isnan(levels.loc[("m1", "L1/L2")].recall)
    m1, m2 = confusion(RECORDS, "m1"), confusion(RECORDS, "m2")
    assert m1.loc["Healthy", "Osteophytes"] == 1 and m1.loc["Healthy", "Healthy"] == 1
    assert m1.loc["Vertebral collapse", "invalid"] == 1 and m2.loc["Vertebral collapse", "several letters"] == 1
    assert m2.loc["Osteophytes", "Healthy"] == 1 and int(m2.to_numpy().sum()) == 4


def test_comparisons_and_written_report(tmp_path):
    pairs = comparisons(RECORDS).set_index("task")
    assert pairs.loc["diagnosis"].difference == 0.0 and pairs.loc["localization"].difference == 0.5
    report = write_report(RECORDS, tmp_path)
    text = report.read_text()
    assert "## Main table" in text and "## Diagnosis confusion: m2" in text and "## Paired comparisons" in text
    for png in ("accuracy_by_disease.png", "models.png", "confusion_m1.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / png).stat().st_size > 5000
    assert pd.read_csv(tmp_path / "table.csv").shape == (2, 6)


def test_robustness_tables():
    from spinebench_hf.evaluation.variants import rotate
    from spinebench_hf.report.robustness import blind_scores, circular_scores, position_bias

    row = {"id": "q", "options": DIAG_OPTIONS, "answer": ["B"], "option_similarity": [0.1, None, 0.3, 0.4, 0.5]}
    rotations = [rotate(row, k) for k in range(5)]
    assert [r["answer"] for r in rotations] == [["B"], ["C"], ["D"], ["E"], ["A"]]
    assert all(r["options"]["ABCDE".index(r["answer"][0])] == "Healthy" for r in rotations)
    # m1 always picks Healthy (right in every rotation); m2 always picks letter A (right once)
    records = []
    for r in rotations:
        for model, letters in (("m1", r["answer"]), ("m2", ["A"])):
            records.append(
                diag(model, r["id"], "s1", "Healthy", letters)
                | {
                    "variant": "circular",
                    "options": r["options"],
                    "answer": r["answer"],
                    "acc": float(letters == r["answer"]),
                }
            )
    circular = circular_scores(pd.DataFrame(records)).set_index("model")
    assert circular.loc["m1"].tolist() == [1, 1.0, 1.0, 1.0]
    assert circular.loc["m2"].tolist() == [1, 0.0, 0.0, 0.0]  # plain: rot0 answer is B, so picking A is wrong
    bias = position_bias(RECORDS).set_index(["model", "letter"])
    assert (
        bias.loc[("m2", "B")].chosen == 3
        and bias.loc[("m2", "-")].chosen == 1
        and bias.loc[("m1", "B")].correct_letter == 2
    )
    blind = pd.concat([RECORDS, RECORDS[RECORDS.model == "m1"].assign(variant="blind", acc=0.0)])
    (row,) = blind_scores(blind).query("task == 'diagnosis'").to_dict("records")
    assert row == {
        "model": "m1",
        "task": "diagnosis",
        "questions": 4,
        "acc_with_image": 0.5,
        "acc_blind": 0.0,
        "right_without_image": 0,
    }


def test_the_report_sets_the_papers_rows_beside_the_users(tmp_path):
    from spinebench_hf.report.tables import beside_the_paper

    text = beside_the_paper(RECORDS)
    assert "| m1 (this run) | 50.0 | 50.0 | 75.0 | 100.0 | 50.0 |" in text
    assert "| Gemini-2.5-pro-exp-03-25 (paper) | 32.4 | 9.3 | 48.6 | 63.5 | 20.9 |" in text  # one format
    assert "do not compare directly" in text
    released = RECORDS.assign(id="release/evaluation/test/" + RECORDS.id)
    assert beside_the_paper(released).startswith("Measured on the authors' release")
    assert "## Beside the paper's published rows" in write_report(RECORDS, tmp_path).read_text()


def test_interval_headings_say_what_they_cluster_by_and_the_counts_stand_beside_the_paper(tmp_path):
    from conftest import RECORDS

    from spinebench_hf.report.tables import beside_the_paper, cluster_unit, write_report

    assert cluster_unit(RECORDS) == "study"
    release = RECORDS.assign(id="release/" + RECORDS.id, study_id=RECORDS.image_id)  # an import: no studies
    assert cluster_unit(release) == "image"
    text = write_report(release, tmp_path / "report").read_text()
    assert "## Diagnosis accuracy by disease (%, 95 % CI clustered by image)" in text
    assert "clustered by study" not in text
    note = beside_the_paper(release)
    assert note.startswith("Measured on the authors' release")
    assert (
        "Questions asked: 4 diagnosis + 2 localization; the paper's Sub: 1,758 diagnosis + 1,000 localization "
        "(not the same number of questions)." in note
    )
    mixed = pd.concat([RECORDS, release.assign(model="m3")])
    assert cluster_unit(mixed) == "study (image where there is none)"


def test_a_question_without_a_study_is_its_images_own_cluster(tmp_path):
    """Details whose study id is missing or null (an import, another harness) cluster by image, never all in one
    "None" study."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from spinebench_hf.report.details import read_details

    rows = [
        {
            "doc": {
                "task_name": "spinebench:diagnosis|0",
                "specific": {
                    "id": f"q{i}",
                    "image_id": f"img{i}",
                    "task": "diagnosis",
                    "study_id": study,
                    "source": 4,
                    "disease": 11,
                    "modality": "unknown",
                    "options": ["Healthy", "Osteophytes"],
                    "answer": ["A"],
                    "reply": "My final option: [A]",
                    "extracted": ["A"],
                    "extraction_stage": "marker",
                },
            },
            "metric": {"acc": 1.0},
        }
        for i, study in enumerate([None, "", None])
    ]
    path = tmp_path / "details" / "m" / "t" / "details_spinebench:diagnosis|0_t.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    assert list(read_details([tmp_path / "details"]).study_id) == ["img0", "img1", "img2"]
