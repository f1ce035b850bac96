import numpy as np
import pytest

from spinebench_hf.embedding.mining import disease_similarity, rank_distractors, sample_library
from spinebench_hf.labels import DISEASES

# Seed Table 6, SigLIP2 rows (columns in Table 5 order, which is labels.DISEASES): four Spondylolisthesis images
TABLE6_SIGLIP2 = [
    [0.966, 0.939, 0.867, 0.964, 0.892, 0.973, 0.940, 0.969, 0.937, 0.944, 0.940],
    [0.967, 0.921, 0.840, 0.969, 0.864, 0.979, 0.924, 0.964, 0.919, 0.921, 0.923],
    [0.961, 0.912, 0.852, 0.956, 0.882, 0.965, 0.916, 0.963, 0.903, 0.913, 0.911],
    [0.975, 0.926, 0.850, 0.977, 0.881, 0.978, 0.921, 0.972, 0.914, 0.917, 0.919],
]


def test_paper_table6_gives_the_paper_distractors():
    assert DISEASES[5] == "Spondylolisthesis" and DISEASES[7] == "Vertebral collapse"
    picked = [
        [d for d, _ in rank_distractors(np.array(row), {"Spondylolisthesis", "Healthy"}, 3, 0, f"img{i}")]
        for i, row in enumerate(TABLE6_SIGLIP2)
    ]
    assert picked[0] == ["Vertebral collapse", "Disc space narrowing", "Osteophytes"]  # the paper's teaser options
    assert all(set(p) == {"Vertebral collapse", "Disc space narrowing", "Osteophytes"} for p in picked)
    assert picked[1] == ["Osteophytes", "Disc space narrowing", "Vertebral collapse"]


def test_present_diseases_are_never_distractors():
    row = np.array(TABLE6_SIGLIP2[0])
    picked = [d for d, _ in rank_distractors(row, {"Spondylolisthesis", "Healthy", "Vertebral collapse"}, 3, 0, "x")]
    assert picked == ["Disc space narrowing", "Osteophytes", "Cervical lordosis"]


def test_diseases_without_library_come_last_in_a_seeded_order():
    row = np.full(len(DISEASES), np.nan)
    row[3] = 0.5

    def names(item_id):
        return [d for d, _ in rank_distractors(row, {"Healthy"}, 4, 7, item_id)]

    first = rank_distractors(row, {"Healthy"}, 4, 7, "item-1")
    assert first[0] == ("Osteophytes", 0.5) and all(np.isnan(s) for _, s in first[1:])
    assert names("item-1") == [d for d, _ in first]
    assert len({tuple(names(f"item-{i}")) for i in range(20)}) > 1


def brute_force(ids, vectors, diseases_by_image, library):
    expected = np.full((len(ids), len(DISEASES)), np.nan)
    for i, image_id in enumerate(ids):
        for d, disease in enumerate(DISEASES):
            others = [ids.index(m) for m in library.members.get(disease, ()) if m != image_id]
            if others:
                expected[i, d] = np.mean([float(vectors[i] @ vectors[j]) for j in others])
    return expected


@pytest.mark.parametrize("size", [3, 200])
def test_similarity_matches_a_direct_computation(size):
    rng = np.random.default_rng(0)
    ids = [f"img{i}" for i in range(40)]
    labels = {image_id: (DISEASES[i % 4],) + ((DISEASES[6],) if i % 5 == 0 else ()) for i, image_id in enumerate(ids)}
    vectors = rng.normal(size=(40, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    library = sample_library(labels, seed=1, size=size)
    assert set(library.members) == {DISEASES[0], DISEASES[1], DISEASES[2], DISEASES[3], DISEASES[6]}
    assert all(len(m) == min(size, 10 if d != DISEASES[6] else 8) for d, m in library.members.items())
    got = disease_similarity(ids, vectors, library)
    np.testing.assert_allclose(got, brute_force(ids, vectors, labels, library), rtol=1e-5, atol=1e-6)
    assert np.isnan(got[:, 4]).all()  # no image of that disease: no library


def test_library_is_seeded_per_disease():
    labels = {f"a{i}": ("Osteophytes",) for i in range(300)}
    library = sample_library(labels, seed=5)
    assert len(library.members["Osteophytes"]) == 200
    assert sample_library(labels, seed=5) == library != sample_library(labels, seed=6)
    more = labels | {f"b{i}": ("Vertebral collapse",) for i in range(300)}
    assert sample_library(more, seed=5).members["Osteophytes"] == library.members["Osteophytes"]
