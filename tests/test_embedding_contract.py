"""The embedder contract, for every embedder: a text's vector does not depend on what else is in
its batch, vectors are unit length, and the ONNX embedder agrees with the torch reference."""
from __future__ import annotations

import numpy as np
import pytest

from qa.embedding import embed_passages, load_embedder
from tests_support import SEED_TEXTS

TEXTS = [
    "Why didn't Putin meet Qalibaf?",
    "Qalibaf instead delivered the letter to his Russian counterpart.",
    "A much longer passage about a parliamentary speaker who travelled to Moscow carrying a letter "
    "from the Supreme Leader, was kept waiting, and in the end handed it over to someone else while "
    "state media at home argued about whether the trip had been a failure or a success. " * 2,
    "Short.",
    "",
]
EMBEDDERS = ["hash", pytest.param("all-MiniLM-L6-v2-onnx-int8", marks=pytest.mark.slow),
             pytest.param("all-MiniLM-L6-v2", marks=pytest.mark.slow)]


@pytest.fixture(scope="module")
def embedders():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = load_embedder(name)
        return cache[name]

    return get


@pytest.mark.parametrize("name", EMBEDDERS)
def test_a_text_embeds_the_same_alone_and_in_any_batch(embedders, name):
    embedder = embedders(name)
    batch = embedder.embed(TEXTS + SEED_TEXTS[:20])
    reversed_batch = embedder.embed(list(reversed(TEXTS + SEED_TEXTS[:20])))[::-1]
    for i, text in enumerate(TEXTS):
        alone = embedder.embed([text])[0]
        if not np.any(alone):
            continue  # the hash embedder gives the empty text no direction
        assert float(alone @ batch[i]) >= 0.9999, (name, text[:40])
        assert float(alone @ reversed_batch[i]) >= 0.9999, (name, text[:40])
    norms = np.linalg.norm(batch[:4], axis=1)
    assert np.allclose(norms, 1.0, atol=1e-4) and batch.shape[1] == embedder.dim


@pytest.mark.slow
def test_onnx_agrees_with_the_torch_reference(embedders):
    reference = embedders("all-MiniLM-L6-v2").embed(SEED_TEXTS)
    onnx = embedders("all-MiniLM-L6-v2-onnx-int8")
    cosines = np.sum(onnx.embed(SEED_TEXTS) * reference, axis=1)
    assert cosines.min() >= 0.98 and cosines.mean() >= 0.99
    torch_model = embedders("all-MiniLM-L6-v2")
    for text in SEED_TEXTS[:10]:
        assert onnx.count_tokens(text) == torch_model.count_tokens(text)


@pytest.mark.slow
def test_the_torch_embedder_matches_sentence_transformers_encode(embedders):
    embedder = embedders("all-MiniLM-L6-v2")
    reference = embedder.model.encode(SEED_TEXTS[:16], normalize_embeddings=True, convert_to_numpy=True)
    assert np.sum(embedder.embed(SEED_TEXTS[:16]) * reference, axis=1).min() >= 0.9999


@pytest.mark.parametrize("name", EMBEDDERS)
def test_sentence_vectors_from_a_passage_pass_are_unit_vectors_about_their_sentence(embedders, name):
    embedder = embedders(name)
    sentences = SEED_TEXTS[5:40:15]  # three unrelated sentences
    passage = " ".join(sentences)
    spans, cursor = [], 0
    for text in sentences:
        spans.append((cursor, cursor + len(text)))
        cursor += len(text) + 1
    vectors, pooled = embed_passages(embedder, [passage], [spans])
    alone = embedder.embed(sentences)
    assert pooled[0].shape == (3, embedder.dim)
    assert np.allclose(np.linalg.norm(pooled[0], axis=1), 1.0, atol=1e-4)
    similarity = pooled[0] @ alone.T
    # read in context, a sentence's vector also carries its neighbours, but it stays about itself:
    # pooling the wrong tokens (offsets off) would break both of these
    assert np.diag(similarity).min() >= 0.6
    assert np.diag(similarity).mean() > similarity[~np.eye(3, dtype=bool)].mean() + 0.15


@pytest.mark.slow
def test_the_shipped_int8_model_is_what_the_shipped_weights_make(tmp_path):
    """qa/models/embedding-int8.onnx spares a fresh install's first ingest the export (about 20 s
    of torch): it must be byte for byte the model that ingest would have built."""
    from qa.embedding.onnx import SHIPPED, build_quantized

    built = tmp_path / "built.onnx"
    build_quantized("all-MiniLM-L6-v2", built)
    assert built.read_bytes() == SHIPPED["all-MiniLM-L6-v2"].read_bytes()

