"""ImageEncoder (open_clip image tower, SigLIP preprocess) and the embedding cache, offline and fast.

Every test but one uses the tiny CLIP of tiny_clip.py; `test_siglip2_preprocess_is_squash_without_crop` builds the
real ViT-B-16-SigLIP2 once with random weights (about 8 s) to pin the preprocess.
"""

import io
import json
import threading
from itertools import islice
from pathlib import Path

import numpy as np
import open_clip
import open_clip.pretrained
import pytest
import safetensors.torch
import torch
from huggingface_hub import constants as hub_constants
from PIL import Image
from tiny_clip import register_tiny_model

from spinebench_hf.embedding.encoder import (
    EmbeddingCache,
    EncoderError,
    ImageEncoder,
    RandomWeightsWarning,
    content_digest,
    embed,
)
from spinebench_hf.errors import SpineBenchError

TINY = register_tiny_model()
pytestmark = pytest.mark.filterwarnings("ignore::spinebench_hf.embedding.encoder.RandomWeightsWarning")


def picture(seed: int, size: tuple[int, int] = (40, 24), mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def siglip_by_hand(image: Image.Image, side: int) -> np.ndarray:
    """Squash to side x side (bicubic, no crop), scale to [0, 1], normalise with mean = std = 0.5; CHW."""
    pixels = np.asarray(image.convert("RGB").resize((side, side), Image.BICUBIC), dtype=np.float32) / 255
    return ((pixels - 0.5) / 0.5).transpose(2, 0, 1)


def counting(encoder: ImageEncoder, monkeypatch) -> list[int]:
    """Spy on encoder.encode; the returned list receives the size of every call."""
    calls, original = [], encoder.encode
    monkeypatch.setattr(encoder, "encode", lambda images: calls.append(len(images)) or original(images))
    return calls


@pytest.fixture(scope="module")
def tiny() -> ImageEncoder:
    return ImageEncoder(TINY, weights="random", seed=0, batch_size=4)


def test_encode_gives_unit_float32_rows(tiny):
    images = [picture(1), picture(2, (17, 50), "L"), picture(3, (300, 90)), picture(4), picture(5, mode="L")]
    vectors = tiny.encode(images)
    assert vectors.shape == (5, tiny.dim) and tiny.dim == 32
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert tiny.encode([]).shape == (0, tiny.dim) and tiny.encode([]).dtype == np.float32


def test_grayscale_encodes_like_its_rgb_copy(tiny):
    gray = picture(6, (33, 21), "L")
    np.testing.assert_allclose(tiny.encode([gray]), tiny.encode([gray.convert("RGB")]), atol=1e-6)


def test_same_seed_same_weights_and_bytes_other_seed_differs(tiny):
    images = [picture(i) for i in range(6)]
    twin = ImageEncoder(TINY, weights="random", seed=0, batch_size=4)
    assert twin.weight_hash == tiny.weight_hash and len(tiny.weight_hash) == 64
    assert twin.encode(images).tobytes() == tiny.encode(images).tobytes() == tiny.encode(images).tobytes()
    other = ImageEncoder(TINY, weights="random", seed=1)
    assert other.weight_hash != tiny.weight_hash
    assert not np.allclose(other.encode(images), tiny.encode(images))
    assert tiny.identity == f"{TINY}|random|{tiny.weight_hash[:16]}" and tiny.name == TINY and tiny.weights == "random"


def test_threaded_preprocessing_gives_the_same_bytes_as_one_thread(tiny, monkeypatch):
    images = [picture(i, (50 + 7 * i, 30)) for i in range(8)]
    encoded = [png(image) for image in images]
    threaded = ImageEncoder(TINY, weights="random", seed=0, batch_size=4, threads=3)
    workers, prepare = set(), threaded._prepare
    monkeypatch.setattr(
        threaded, "_prepare", lambda image: workers.add(threading.current_thread().name) or prepare(image)
    )
    assert threaded.encode(encoded).tobytes() == tiny.encode(encoded).tobytes() == tiny.encode(images).tobytes()
    assert workers and all(name.startswith("spinebench-preprocess") for name in workers)


def test_seeding_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ImageEncoder(TINY, weights="random", seed=7)
    assert torch.equal(torch.rand(3), expected)


def test_random_weights_warn_loudly_and_once(caplog):
    with pytest.warns(RandomWeightsWarning, match="RANDOM weights .* NOT meaningful") as caught:
        ImageEncoder(TINY, weights="random")
    assert len(caught) == 1 and not [r for r in caplog.records if "RANDOM" in r.getMessage()]  # not logged again


def test_tiny_model_gets_the_siglip_preprocess(tiny):
    image = picture(8, (70, 30))
    np.testing.assert_allclose(tiny.transform(image).numpy(), siglip_by_hand(image, 32), atol=1e-6)


def test_siglip2_preprocess_is_squash_without_crop():
    encoder = ImageEncoder("ViT-B-16-SigLIP2", weights="random", batch_size=2)
    assert encoder.dim == 768
    assert not any("Crop" in type(step).__name__ for step in encoder.transform.transforms)
    wide, tall = picture(9, (300, 120)), picture(10, (50, 260), "L")
    for image in (wide, tall):
        np.testing.assert_allclose(encoder.transform(image).numpy(), siglip_by_hand(image, 224), atol=1e-6)
    vectors = encoder.encode([wide, tall])
    assert vectors.shape == (2, 768)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def offline(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)  # huggingface_hub reads the variable at import


def test_webli_not_cached_offline_says_what_to_do(tmp_path, monkeypatch):
    offline(monkeypatch)
    with pytest.raises(EncoderError) as caught:
        ImageEncoder("ViT-B-16-SigLIP2", weights="webli", cache_dir=str(tmp_path))
    message = str(caught.value)
    assert isinstance(caught.value, SpineBenchError) and caught.value.__suppress_context__
    for part in (
        "open_clip_model.safetensors",
        "open_clip_pytorch_model.bin",
        "models--timm--ViT-B-16-SigLIP2",
        "offline",
        f"hf download timm/ViT-B-16-SigLIP2 --cache-dir {tmp_path}",
        "huggingface-cli download timm/ViT-B-16-SigLIP2",
        "--encoder-weights random",
        "--encoder-weights FILE",
    ):
        assert part in message


def full_tiny_model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return open_clip.create_model(TINY)


def save_tower_only(path: Path, seed: int) -> None:
    safetensors.torch.save_model(full_tiny_model(seed).visual, str(path))


def save_prefixed_tower(path: Path, seed: int) -> None:
    state = {f"visual.{k}": v.contiguous() for k, v in full_tiny_model(seed).visual.state_dict().items()}
    safetensors.torch.save_file(state, str(path))


def save_full_checkpoint(path: Path, seed: int) -> None:
    torch.save({"state_dict": full_tiny_model(seed).state_dict()}, path)


@pytest.mark.parametrize(
    "filename, save",
    [
        ("tower.safetensors", save_tower_only),
        ("prefixed.safetensors", save_prefixed_tower),
        ("full.pt", save_full_checkpoint),
    ],
)
def test_weights_file_round_trips(tmp_path, filename, save):
    save(tmp_path / filename, seed=5)
    images = [picture(i, (40 + i, 30)) for i in range(3)]
    reference = ImageEncoder(TINY, weights="random", seed=5)
    loaded = ImageEncoder(TINY, weights=str(tmp_path / filename), seed=99)
    assert loaded.weight_hash == reference.weight_hash
    assert loaded.encode(images).tobytes() == reference.encode(images).tobytes()
    assert loaded.identity == f"{TINY}|{filename}|{reference.weight_hash[:16]}"
    assert str(tmp_path) not in loaded.identity


def test_weights_file_with_wrong_keys_is_refused(tmp_path):
    bad = tmp_path / "other-model.safetensors"
    safetensors.torch.save_file({"encoder.layer0.weight": torch.zeros(2, 2)}, str(bad))
    with pytest.raises(
        EncoderError,
        match=r"other-model\.safetensors: not weights of this image tower.*"
        r"missing keys.*encoder\.layer0\.weight",
    ):
        ImageEncoder(TINY, weights=str(bad))


def test_weights_file_with_wrong_shapes_is_refused(tmp_path):
    state = dict(full_tiny_model(0).visual.state_dict())
    state["proj"] = torch.zeros(16, 32)
    path = tmp_path / "reshaped.safetensors"
    safetensors.torch.save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    with pytest.raises(EncoderError, match=r"reshaped\.safetensors: tensor shapes do not match.*proj"):
        ImageEncoder(TINY, weights=str(path))


def test_unreadable_or_missing_weights_file(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(EncoderError, match=r"junk\.bin: cannot read weights"):
        ImageEncoder(TINY, weights=str(junk))
    with pytest.raises(EncoderError, match=r"nowhere\.safetensors': no such file.*neither 'random'"):
        ImageEncoder(TINY, weights=str(tmp_path / "nowhere.safetensors"))


def test_unknown_model_name_suggests_close_ones():
    with pytest.raises(EncoderError, match=r"unknown open_clip model 'ViT-B-16-SigLIP3' .*ViT-B-16-SigLIP2"):
        ImageEncoder("ViT-B-16-SigLIP3", weights="random")


def fake_hub_cache(cache: Path, repo: str, seed: int) -> None:
    """A cache laid out exactly as `hf download` leaves it."""
    folder, revision = cache / f"models--{repo.replace('/', '--')}", "0123456789abcdef0123456789abcdef01234567"
    snapshot = folder / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(revision)
    safetensors.torch.save_model(full_tiny_model(seed), str(snapshot / "open_clip_model.safetensors"))
    preprocess = {"mean": [0.5] * 3, "std": [0.5] * 3, "interpolation": "bicubic", "resize_mode": "squash"}
    config = {"model_cfg": open_clip.get_model_config(TINY), "preprocess_cfg": preprocess}
    (snapshot / "open_clip_config.json").write_text(json.dumps(config))


@pytest.mark.parametrize("hub_offline", [True, False])
def test_prepopulated_hub_cache_is_used_without_network(tmp_path, monkeypatch, hub_offline):
    # open_clip has no public call to add a pretrained tag: its registry is the module dict `_PRETRAINED`.
    tag_cfg = {"webli": open_clip.pretrained._slpcfg(hf_hub=f"timm/{TINY}/")}
    monkeypatch.setitem(open_clip.pretrained._PRETRAINED, TINY, tag_cfg)
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", hub_offline)
    monkeypatch.setattr(open_clip, "download_pretrained", lambda *a, **k: pytest.fail("went to the Hub"))
    fake_hub_cache(tmp_path, f"timm/{TINY}", seed=4)
    encoder = ImageEncoder(TINY, weights="webli", cache_dir=str(tmp_path))
    reference = ImageEncoder(TINY, weights="random", seed=4)
    images = [picture(20, (64, 20))]
    assert encoder.weight_hash == reference.weight_hash and encoder.identity.startswith(f"{TINY}|webli|")
    assert encoder.encode(images).tobytes() == reference.encode(images).tobytes()


def dataset(n: int, start: int = 0) -> list[tuple[str, bytes]]:
    return [(f"img-{i}", png(picture(100 + i, (30 + i, 20)))) for i in range(start, start + n)]


def test_embed_yields_the_right_vectors_in_order(tiny):
    items = dataset(5)
    got = list(embed(tiny, None, items))
    assert [image_id for image_id, _ in got] == [image_id for image_id, _ in items]
    expected = tiny.encode([Image.open(io.BytesIO(data)) for _, data in items])
    np.testing.assert_allclose(np.stack([v for _, v in got]), expected, atol=1e-6)


def test_second_embed_encodes_nothing_and_reopening_keeps_entries(tiny, tmp_path, monkeypatch):
    items, path = dataset(5), tmp_path / "cache" / "embeddings.sqlite"
    calls = counting(tiny, monkeypatch)
    cache = EmbeddingCache(path)
    first = dict(embed(tiny, cache, items))
    assert sum(calls) == 5
    second = dict(embed(tiny, cache, items))
    assert sum(calls) == 5 and all(second[k].tobytes() == first[k].tobytes() for k in first)
    cache.close()
    reopened = EmbeddingCache(path)
    assert len(reopened) == 5
    third = dict(embed(tiny, reopened, items))
    assert sum(calls) == 5 and all(third[k].tobytes() == first[k].tobytes() for k in first)


def test_another_encoder_identity_misses(tiny, tmp_path, monkeypatch):
    items, cache = dataset(5), EmbeddingCache(tmp_path / "e.sqlite")
    list(embed(tiny, cache, items))
    other = ImageEncoder(TINY, weights="random", seed=3)
    calls = counting(other, monkeypatch)
    list(embed(other, cache, items))
    assert sum(calls) == 5 and len(cache) == 10


def test_duplicates_in_a_batch_are_encoded_once(tiny, monkeypatch):
    items = dataset(3)
    items = items + [("copy-of-0", items[0][1]), ("copy-of-2", items[2][1])]
    calls = counting(tiny, monkeypatch)
    got = list(embed(tiny, None, items, batch_size=5))
    assert calls == [3]
    assert [k for k, _ in got] == ["img-0", "img-1", "img-2", "copy-of-0", "copy-of-2"]
    assert got[3][1].tobytes() == got[0][1].tobytes() and got[4][1].tobytes() == got[2][1].tobytes()


def test_cached_vectors_are_those_of_the_same_batch(tiny, tmp_path, monkeypatch):
    """A cache filled with other batches (another build) is not mixed in: the output equals a fresh run."""
    items, cache = dataset(6), EmbeddingCache(tmp_path / "e.sqlite")
    list(embed(tiny, cache, items[:3], batch_size=3))  # an earlier, smaller build
    calls = counting(tiny, monkeypatch)
    cached_run = [v.tobytes() for _, v in embed(tiny, cache, items[1:], batch_size=3)]
    fresh_run = [v.tobytes() for _, v in embed(tiny, None, items[1:], batch_size=3)]
    assert cached_run == fresh_run and calls == [3, 2, 3, 2]  # both batches of the new build encoded whole
    assert [v.tobytes() for _, v in embed(tiny, cache, items[1:], batch_size=3)] == cached_run
    assert calls == [3, 2, 3, 2]  # the same build again: nothing encoded


def test_embed_streams_and_an_interrupted_run_keeps_its_batches(tiny, tmp_path):
    pulled, path = [], tmp_path / "e.sqlite"

    def stream():
        for item in dataset(7):
            pulled.append(item[0])
            yield item

    results = embed(tiny, EmbeddingCache(path), stream(), batch_size=2)
    list(islice(results, 3))  # then the run is "killed"
    assert len(pulled) <= 4
    results.close()
    assert len(EmbeddingCache(path)) == 4


def test_cache_round_trips_float32_exactly(tmp_path):
    cache = EmbeddingCache(tmp_path / "e.sqlite")
    vectors = {content_digest(b"a"): np.array([0.1, -2.5, 3e-8], np.float32), content_digest(b"b"): np.ones(3)}
    cache.put_many("id", vectors)
    got = cache.get_many("id", [content_digest(b"b"), content_digest(b"a"), content_digest(b"c")])
    assert set(got) == set(vectors) and got[content_digest(b"a")].tobytes() == vectors[content_digest(b"a")].tobytes()
    assert got[content_digest(b"b")].dtype == np.float32 and cache.get_many("other", list(vectors)) == {}
    assert content_digest(b"a") == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
