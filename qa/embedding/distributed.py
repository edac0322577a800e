"""Embedding on a Ray cluster (`qa ingest --ray-address ADDR|local`): the same passages and
sentence spans, embedded by a pool of actors, each holding one copy of the model.

Each text's vector is independent of its batch (tests/test_embedding_contract.py), so where it is
embedded does not change it: a Ray ingest stores the same chunks and vectors as an in-process one.
On one machine this is slower than in-process embedding (bench/results/ray.md); it pays when the
cluster has more cores than the machine running the ingest. Every node needs this package and
the model package installed (the workers load the model themselves, offline).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

ACTOR_CPUS = 0.5  # fractional: the read and write tasks still find a CPU, so a 2-core machine cannot deadlock
ROWS_PER_BATCH = 32


class _EmbedActor:
    """One model per actor, its ONNX/torch threads pinned so actors do not oversubscribe cores."""

    def __init__(self, model: str, mode: str, threads: int, cache: str | None = None):
        try:
            import torch

            torch.set_num_threads(threads)
        except ImportError:
            pass
        from qa.embedding import load_embedder

        self.embedder = load_embedder(model, threads=threads, cache=Path(cache) if cache else None)
        self.mode = mode

    def __call__(self, batch: dict) -> dict:
        from qa.embedding import embed_passages

        texts = [str(t) for t in batch["text"]]
        spans = [[(int(a), int(b)) for a, b in np.asarray(s, dtype=np.int64).reshape(-1, 2)] for s in batch["spans"]]
        vectors, span_vectors = embed_passages(self.embedder, texts, spans, self.mode)
        return {"i": np.asarray(batch["i"]), "vector": np.asarray(vectors, dtype=np.float32),
                "span_vectors": [np.asarray(v, dtype=np.float32).tobytes() for v in span_vectors]}


class RayPassageEmbedder:
    """embed_passages() on Ray: `address` is a cluster's address, or "local" for a Ray started
    (and stopped) by this process on this machine."""

    def __init__(self, address: str, model: str, mode: str = "pooled", actors: int | None = None,
                 threads_per_actor: int = 1, cache: Path | None = None):
        try:
            import ray
            import ray.data  # noqa: F401
        except ImportError as exc:
            from qa.errors import missing_extra

            raise (missing_extra(exc) or exc) from None

        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline: no usage report
        self.model, self.mode, self.threads = model, mode, threads_per_actor
        self.cache = str(cache) if cache else None  # where actors find the ONNX model (Settings.embedding.cache_dir)
        self._started_here = address == "local"
        if self._started_here:
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        import logging

        import ray.data

        logging.getLogger("ray.data").setLevel(logging.WARNING)  # the ingest's own progress is enough
        ray.data.DataContext.get_current().enable_progress_bars = False
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.actors = actors or max(1, cpus)

    def embed_passages(self, texts: list[str], spans: list[list[tuple[int, int]]]):
        import ray.data
        from ray.data import ActorPoolStrategy

        if not texts:
            return np.zeros((0, 0), dtype=np.float32), []
        items = [{"i": i, "text": t, "spans": np.asarray(s, dtype=np.int64).reshape(-1).tolist()}
                 for i, (t, s) in enumerate(zip(texts, spans))]
        rows = ray.data.from_items(items).map_batches(
            _EmbedActor, fn_constructor_kwargs={"model": self.model, "mode": self.mode, "threads": self.threads,
                                               "cache": self.cache},
            batch_size=ROWS_PER_BATCH, compute=ActorPoolStrategy(size=self.actors), num_cpus=ACTOR_CPUS,
            batch_format="numpy",
        ).take_all()
        rows.sort(key=lambda r: int(r["i"]))
        vectors = np.vstack([r["vector"] for r in rows]).astype(np.float32)
        dim = vectors.shape[1]
        span_vectors = [np.frombuffer(r["span_vectors"], dtype=np.float32).reshape(-1, dim) for r in rows]
        return vectors, span_vectors

    def close(self) -> None:
        """Stop the Ray this process started (never other Ray processes on the host)."""
        import ray

        if ray.is_initialized():
            ray.shutdown()
