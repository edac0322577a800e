"""Where ingest time goes: pyinstrument over ingesting 40 real news articles with the torch model.

    .venv/bin/python -m bench.profile_ingest   -> bench/results/ingest-profile.txt
"""
import tempfile
from pathlib import Path

from pyinstrument import Profiler
from bench.perf import news_articles, write_corpus
from qa.embedding import load_embedder
from qa.ingest.ingestor import Ingestor
from qa.settings import Settings
work = Path(tempfile.mkdtemp())
corpus = write_corpus(news_articles(40), work / "news")
emb = load_embedder("all-MiniLM-L6-v2")
emb.embed(["warm"] * 4)
p = Profiler()
p.start()
Ingestor(Settings(store_dir=work / "s", embedding_model="all-MiniLM-L6-v2"), lambda: emb).run([corpus])
p.stop()
Path("bench/results/ingest-profile.txt").write_text(p.output_text(unicode=False, color=False, show_all=False))
