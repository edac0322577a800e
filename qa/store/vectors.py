"""FAISS index helpers: exact inner-product search with ids, or IVF over fp16 codes when large."""
from __future__ import annotations

import importlib
import os
from contextlib import contextmanager
from typing import Any

import numpy as np

# Above Settings.exact_search_max chunks the index becomes IVF with fp16 codes: half the memory
# per vector and sub-linear search; nprobe keeps recall@10 against exact search >= 0.95
# (measured in bench/results/perf.md).
DEFAULT_NPROBE = 48


def faiss_module() -> Any:
    """FAISS, imported when first needed (a cold start that only answers from an open index pays
    for it once). Typed Any: its bundled stubs are SWIG's and miss most of what is called here."""
    return importlib.import_module("faiss")


def one_thread_per_query() -> None:
    """Queries run FAISS on one thread. A single query over a few thousand chunks takes 0.15 ms
    of CPU on one thread against 1-3 ms on two (the threads' start-up and spinning cost more than
    the search), and a server runs its queries side by side anyway (bench/results/stages.md)."""
    faiss = faiss_module()

    faiss.omp_set_num_threads(1)


@contextmanager
def all_cores():
    """Every core for building an index (training IVF, adding vectors in bulk), then as before."""
    faiss = faiss_module()

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def flat_index(dim: int):
    faiss = faiss_module()

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def approximate_index(flat, nprobe: int = DEFAULT_NPROBE):
    """IVF over fp16 codes built from a flat IDMap2 index; keeps ids, removal and reconstruction."""
    faiss = faiss_module()

    n, dim = flat.ntotal, flat.d
    vectors = faiss.rev_swig_ptr(faiss.downcast_index(flat.index).get_xb(), n * dim).reshape(n, dim)
    ids = faiss.vector_to_array(flat.id_map)
    nlist = 1 << max(4, int(np.log2(4 * np.sqrt(n))))  # ~4 sqrt(n) lists, a power of two
    ivf = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_fp16,
                                        faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(n, size=min(n, 64 * nlist), replace=False)
    with all_cores():
        ivf.train(np.ascontiguousarray(vectors[np.sort(sample)]))
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        for first in range(0, n, 100_000):
            ivf.add_with_ids(np.ascontiguousarray(vectors[first:first + 100_000]), ids[first:first + 100_000])
    ivf.nprobe = nprobe
    return ivf


def index_ids(index) -> np.ndarray:
    """Every id an index holds, whatever its type."""
    faiss = faiss_module()

    if not index.ntotal:
        return np.array([], dtype=np.int64)
    if hasattr(index, "id_map"):
        return faiss.vector_to_array(index.id_map)
    ivf = faiss.extract_index_ivf(index)
    lists = ivf.invlists
    parts = [faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
             for i in range(ivf.nlist) if lists.list_size(i)]
    return np.concatenate(parts).astype(np.int64)


def describe_index(index) -> str:
    faiss = faiss_module()

    if hasattr(index, "id_map"):
        return "IndexIDMap2(IndexFlatIP) exact"
    ivf = faiss.extract_index_ivf(index)
    return f"IndexIVFScalarQuantizer(fp16, nlist={ivf.nlist}, nprobe={ivf.nprobe})"


def set_nprobe(index, nprobe: int) -> None:
    faiss = faiss_module()

    if not hasattr(index, "id_map"):
        faiss.extract_index_ivf(index).nprobe = nprobe


def search_params(index, allowed: np.ndarray):
    """Search parameters restricting a search to the given ids (and keeping the index's nprobe)."""
    faiss = faiss_module()

    selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
    inner = faiss.downcast_index(index)
    if isinstance(inner, faiss.IndexIVF):
        return faiss.SearchParametersIVF(sel=selector, nprobe=inner.nprobe)
    return faiss.SearchParameters(sel=selector)
