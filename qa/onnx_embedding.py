"""all-MiniLM-L6-v2 through ONNX Runtime with int8 dynamic quantization, made offline from the
shipped weights on first use (sentence-transformers 6 cannot use backend="onnx" here)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from qa.errors import QAError

ONNX_SUFFIX = "-onnx-int8"


def cache_dir() -> Path:
    return Path(os.environ.get("QA_CACHE_DIR", Path.home() / ".cache" / "corpus-qa"))


def build_quantized(model, target: Path) -> None:
    """Export the transformer to ONNX, then quantize its weights to int8 per channel."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    fp32 = target.with_name(target.stem + "-fp32.onnx")
    class ByName(torch.nn.Module):
        """Calls the transformer with keyword inputs: its positional order changes between versions."""

        def __init__(self, inner, names):
            super().__init__()
            self.inner, self.names = inner, names

        def forward(self, *inputs):
            return self.inner(**dict(zip(self.names, inputs))).last_hidden_state

    sample = model.tokenizer(["a sample sentence"], return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    transformer = ByName(model[0].auto_model.eval(), names)
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    with torch.no_grad():
        torch.onnx.export(transformer, tuple(sample[n] for n in names), str(fp32), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes={**axes, "last_hidden_state": {0: "batch", 1: "sequence"}},
                          opset_version=17, dynamo=False)
    partial = target.with_suffix(".partial")
    quantize_dynamic(str(fp32), str(partial), per_channel=True, weight_type=QuantType.QInt8)
    os.replace(partial, target)  # atomic: a half-written model is never loaded
    fp32.unlink(missing_ok=True)


class OnnxEmbedder:
    """Same tokenizer, pooling and normalization as the torch model; batches sorted by length."""

    def __init__(self, name: str, batch_size: int = 32):
        import onnxruntime as ort

        from qa.embedding import SentenceTransformerEmbedder

        base_name = name.removesuffix(ONNX_SUFFIX)
        base = SentenceTransformerEmbedder(base_name, batch_size)
        target = cache_dir() / f"{base_name}{ONNX_SUFFIX}.onnx"
        if not target.exists():
            try:
                build_quantized(base.model, target)
            except Exception as exc:  # export failures come in many kinds; one line for the user
                raise QAError(f"cannot build the ONNX model for {base_name!r}: {str(exc).splitlines()[0]}") from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        self.session = ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = base.model.tokenizer
        self.name, self.dim, self.max_tokens = name, base.dim, base.max_tokens
        self.batch_size = batch_size
        self.count_tokens = base.count_tokens

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths: little padding
        for first in range(0, len(order), self.batch_size):
            rows = order[first:first + self.batch_size]
            out[rows] = self._embed_batch([texts[i] for i in rows])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encoded = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="np")
        feed = {k: v.astype(np.int64) for k, v in encoded.items() if k in self.inputs}
        hidden = self.session.run(None, feed)[0]
        mask = encoded["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
