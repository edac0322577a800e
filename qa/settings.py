"""One validated settings object, in groups (store, ingest, embedding, retrieval, reader, answer,
llm, server): defaults < settings file (qa.toml) < QA_* environment < CLI flags.

Every setting keeps one name across the groups, so each is set the same way wherever it is given:
`QA_SEARCH_K=3`, `search_k = 3` in qa.toml (or `[retrieval]` then `search_k = 3`), `--k 3`, or
`Settings(search_k=3)`; code reads it where it belongs: `settings.retrieval.search_k`.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from qa.embedding import DEFAULT_EMBEDDING
from qa.errors import InputError


class Rule(StrEnum):
    """A hand rule of the extractive answerer, each switchable so that each can be measured on its
    own (bench/results/rules.md); QA_ANSWER_RULES names them by their values."""

    KINDS = "kinds"
    SPEAKER = "speaker"
    COMPLETE = "complete"
    CONTEXT = "context"
    QUOTES = "quotes"
    EXTRAS = "extras"
    NOT_PROSE = "not_prose"
    TYPED = "typed"
    NAMED = "named"


ANSWER_RULES = {
    Rule.KINDS: "a when / how-many / what-is-the-name question abstains unless its extract has a date, number or name",
    Rule.SPEAKER: "a what-did-X-say question's extract quotes X or names X as its speaker",
    Rule.COMPLETE: "an extract lacking the asked-for kind takes in the next sentence when that one has it",
    Rule.CONTEXT: "an extract that points back (it, he, this) takes in the sentence before, and the next one that does",
    Rule.QUOTES: "a quotation takes in the sentence introducing its speaker, and an introduction its quotation",
    Rule.EXTRAS: "more sentences join the answer above a share of the best sentence's score",
    Rule.NOT_PROSE: "menus, bylines and title-case headlines are never cited",
    Rule.TYPED: "a who / where / which-X question abstains unless its extract names an entity of the asked-for type",
    Rule.NAMED: "a question that names someone or something is answered only from documents that mention them",
}
DEFAULT_RULES = frozenset(Rule) - {Rule.TYPED}  # "typed": measured, not on by default


def _settings_file() -> Path:
    return Path(os.environ.get("QA_SETTINGS_FILE", "qa.toml"))


def _empty_is_unset(value):
    return None if isinstance(value, str) and not value.strip() else value


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreSettings(_Group):
    """Where the index lives and how it is searched there."""

    store_dir: Path = Field(Path("vectorstore"), description="Folder holding the built index.")
    store_url: str | None = Field(
        None, pattern=r"^postgres(ql)?://", description="postgresql://... : keep the index in PostgreSQL + pgvector "
        "(shared by several servers) instead of store_dir. Needs the [postgres] extra.")
    pg_ef_search: int = Field(
        400, ge=10, le=1000, description="HNSW candidates per dense query on the Postgres store: recall@10 against "
        "exact search 0.92 at 10^5 synthetic chunks with 400, 0.60 with 100 (bench/results/scale.md); ~3 ms.")
    exact_search_max: int = Field(
        200_000, ge=1, description="Up to this many chunks search is exact; above, an IVF index (fp16).")
    seeds_dir: Path = Field(Path("seeds"), description="Corpus ingested by default and by `serve`.")
    uploads_dir: Path | None = Field(None, description="Where uploaded files are kept (default: <store_dir>/uploads).")

    _unset_url = field_validator("store_url", mode="before")(_empty_is_unset)


class IngestSettings(_Group):
    """How files become documents, chunks and stories."""

    chunk_tokens: int = Field(200, ge=16, le=2048, description="Target chunk size in cl100k tokens.")
    chunk_overlap: int = Field(40, ge=0, le=1024, description="Tokens of trailing sentences repeated.")
    fold_duplicates: bool = Field(
        True, description="Find near-duplicate articles at ingest (one story from several outlets, updated versions) "
        "and fold them: one search hit or citation per story, the others in also_reported_by.")
    duplicate_similarity: float = Field(
        0.7, ge=0.3, le=1.0, description="Articles whose word 5-gram sets overlap at least this much (MinHash "
        "Jaccard estimate, found at ingest) are one story: search results and citations fold them into one.")
    max_file_bytes: int = Field(50_000_000, ge=1, description="Larger files are skipped at ingest.")
    max_document_chars: int = Field(
        2_000_000, ge=1_000, description="A file whose extracted text is longer is refused (never truncated).")
    max_pdf_pages: int = Field(2_000, ge=1, description="PDFs with more pages are refused.")
    max_inflated_mb: int = Field(
        128, ge=1, description="An archive (DOCX) whose parts inflate to more MB in all is refused before inflating.")
    extract_seconds: float = Field(
        30.0, gt=0, le=3600, description="Extraction of one file (HTML, PDF, DOCX, Markdown) is killed and the "
        "file refused after this many seconds; it runs in a worker process.")
    extract_memory_mb: int = Field(
        1024, ge=256, description="Address-space cap of the extraction worker process, in MB.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> IngestSettings:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError("chunk_overlap must be smaller than chunk_tokens")
        return self


class EmbeddingSettings(_Group):
    """The model that embeds passages, sentences and questions."""

    embedding_model: str = Field(
        DEFAULT_EMBEDDING,
        description="all-MiniLM-L6-v2-onnx-int8 (default), all-MiniLM-L6-v2 (torch; both shipped offline), "
        "'hash' (tiny test embedder), or any sentence-transformers model name or path.",
    )
    sentence_vectors: Literal["pooled", "separate"] = Field(
        "pooled", description="How sentence vectors are made at ingest: 'pooled' from the chunk's own pass "
        "(no extra model runs) or 'separate' (each sentence embedded alone; slower ingest).")
    embed_batch_size: int = Field(32, ge=1, le=1024, description="Texts per embedding batch.")
    embed_threads: int = Field(0, ge=0, le=256, description="Threads of the ONNX embedder (0: every core). "
                               "Ray actors set theirs to share the cores.")
    cache_dir: Path = Field(Path.home() / ".cache" / "corpus-qa", description="Where the ONNX models built offline "
                            "from the shipped torch model at the first ingest are kept.")


class RetrievalSettings(_Group):
    """How passages are found and ranked, time included."""

    search_k: int = Field(5, ge=1, le=50, description="Results returned by search by default.")
    answer_k: int = Field(8, ge=1, le=50, description="Chunks read to compose an answer.")
    rerank_candidates: int = Field(
        20, ge=0, le=200,
        description="Fused candidates re-scored by their best sentence before answering (0 = off); "
        "it wins on every set in bench/results/quality.md.")
    rerank_search: bool = Field(
        False, description="Rerank plain searches too (better ranking, about 4x slower per query).")
    term_weights: Literal["english", "corpus"] = Field(
        "english", description="How the question's words are weighed in a sentence's relevance (which sentence "
        "answers, and whether any is relevant enough to answer): 'english', by how rare each word is in English "
        "(wordfreq), the same whatever the corpus holds; or 'corpus', by the corpus's own IDF, which moves as "
        "documents are added (seeds + 50 unrelated articles moved seed answers: bench/results/growth.md).")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    dense_weight: float = Field(1.0, ge=0.0, description="Weight of the dense ranking in RRF.")
    bm25_weight: float = Field(1.0, ge=0.0, description="Weight of the BM25 ranking in RRF.")
    time_window_weight: float = Field(
        0.7, ge=0.0, le=1.0, description="A passage dated outside the window a question's time words point to "
        "(\"this week\" as of as_of) keeps this share of its score: a prior, never a filter. Chosen with "
        "recency_weight on half of news dev (python -m bench.timely --sweep --every 2: bench/results/timely-sweep.md).")
    recency_weight: float = Field(
        0.5, ge=0.0, le=1.0, description="For a question about the present (no time words placing it in the past), "
        "the share of a passage's score that fades with its age before as_of (0: no recency prior); only when "
        "as_of is given or is today (an archive asked without as_of gets none).")
    recency_half_life_days: float = Field(
        14.0, gt=0, le=3650, description="Days before as_of at which the fading share of a passage's score "
        "has halved (recency_weight).")


class ReaderSettings(_Group):
    """The learned readers: which sentence answers, and its short answer."""

    reader: str = Field(
        "news-reader", pattern=r"^(minilm-reader|news-reader|none|.+\.onnx)$",
        description="Learned reader that judges whether a sentence answers the question "
        "(qa/models/, trained by bench/train_reader.py): 'news-reader' (XQuAD/COVID-QA plus news, the default), "
        "'minilm-reader' (XQuAD/COVID-QA only) or 'none'; or the path of a candidate model file (*.onnx, with its "
        "card *.json beside it, as bench/train_reader.py --out writes them), to measure a candidate against the "
        "shipped one without replacing it. It reorders the most relevant sentences of an answer; "
        "it does not decide abstention unless reader_threshold is set (bench/results/news.md).")
    reader_weight: float = Field(
        0.3, ge=0.0, le=1.0, description="Share of the reader's probability in a sentence's score "
        "(the rest is relevance); chosen on news dev with XQuAD/COVID-QA dev no worse (bench/results/news.md).")
    reader_sentences: int = Field(
        12, ge=1, le=50, description="The most relevant sentences of an answer's passages that the reader reads "
        "(bench/results/reader-window.md: 16 put the answer inside the cited extracts for 213 of 375 news dev "
        "questions against 204 at 8; with the span check of the best 4, 12 do as well as 16 did without it, for "
        "the CPU 16 cost: bench/results/span-check.md).")
    reader_skip_margin: float = Field(
        1.0, ge=0.0, le=1.0, description="The reader is skipped when relevance alone is decisive: the best sentence "
        "leads the next by at least this much of its score (1: always read, the default). At 0.04 (chosen on half "
        "of news dev) news dev stays within its intervals and an answer costs 5% less CPU, but our seed "
        "questions fall from 76 to 70 of 95 turns, follow-ups most (bench/results/cascade.md): off by default.")
    reader_threshold: float = Field(
        0.0, ge=0.0, le=1.0, description="Below this reader probability for the best sentence, the answer "
        "abstains. 0 (off): on the dev splits it trades answers for abstentions, and on our news seed questions "
        "it abstained on answerable questions as often as it caught unanswerable ones.")
    span_check_sentences: int = Field(
        4, ge=0, le=16, description="The best sentences, after the reader, that the span reader also reads: its "
        "chance that the sentence holds an answer (1 - P(no answer)) is added to their score, span_check_weight "
        "times (0: off), for questions that ask for a thing (not why or how). Chosen on news dev "
        "(bench/results/span-check.md): the first extract holds the answer for 0.445 of the questions against 0.408.")
    span_check_weight: float = Field(
        0.3, ge=0.0, le=1.0, description="How much the span reader's judgement adds to a sentence's score "
        "(span_check_sentences).")
    short_answers: bool = Field(
        True, description="Give an answer its short answer when the question asks for a thing: the words of a cited "
        "extract that answer (qa/models/span-int8.onnx, trained by bench/train_span.py).")
    short_answer_corroborators: int = Field(
        0, ge=0, le=10, description="Best sentences of the passages read, beyond the cited extracts, whose readings "
        "may agree with a short answer (never shown themselves): more agreement, one span reading each.")
    short_answer_threshold: float = Field(
        0.9, ge=0.0, le=1.0, description="A short answer is shown only when the readings of the cited extracts agree "
        "at least this much (chosen on news dev for precision >= 0.85 among at least 20 short answers shown: "
        "23 at precision 0.913; 0.85 showed 34 at 0.824 once the span check changed the extracts: "
        "bench/results/span-check.md, bench/results/short-answers.md).")

    @property
    def span_checks(self) -> bool:
        """Whether the span reader checks the sentence reader's best sentences (it has none to check
        without the sentence reader, and adds nothing at weight 0)."""
        return self.reader != "none" and self.span_check_sentences > 0 and self.span_check_weight > 0


class AnswerSettings(_Group):
    """How an extractive answer is chosen and when it abstains."""

    answerer: Literal["extractive", "llm"] = Field(
        "extractive", description="What writes answers: 'extractive' (cited sentences of the corpus) or 'llm' "
        "(prose from an OpenAI-compatible server at llm_url, every citation grounded; extractive on failure).")
    answer_type_check: bool = Field(
        True, description="Abstain when a when/how-many/what-did-X-say question's best sentence has no date, "
        "number or quotation (it is then about the same things but cannot be the answer).")
    answer_rules: str = Field(
        ",".join(r for r in Rule if r in DEFAULT_RULES),
        description="The hand rules an extractive answer applies (comma-separated; "
        "bench/results/rules.md measures each on the dev splits): "
        + "; ".join(f"{k}: {v}" for k, v in ANSWER_RULES.items()))
    answer_type_weight: float = Field(
        0.7, ge=0.0, le=1.0, description="A sentence with no entity of the type the question asks for (a date for "
        "'when', a person for 'which official') keeps this share of its score (1: types are not weighed). Chosen on "
        "news dev: the first sentence holds the answer for 0.376 at 0.2-0.9 against 0.355 at 1 "
        "(python -m bench.news --sweep-types).")
    typed_sentences: int = Field(
        8, ge=0, le=50, description="The best sentences of an answer whose entities are read to weigh types "
        "(spaCy, about 3 ms a sentence the first time it is read; bench/results/reader-window.md).")
    max_answer_sentences: int = Field(3, ge=1, le=10, description="Most cited extracts per answer.")
    abstain_threshold: float = Field(
        0.40, ge=0.0, le=1.0,
        description="Below this relevance of the best sentence the answer abstains.",
    )
    max_question_chars: int = Field(2000, ge=1, description="Longer questions are refused.")

    @field_validator("answer_rules")
    @classmethod
    def _known_rules(cls, value: str) -> str:
        rules = [r.strip() for r in value.split(",") if r.strip()]
        unknown = [r for r in rules if r not in ANSWER_RULES]
        if unknown:
            raise ValueError(f"unknown answer rule {unknown[0]!r} (known: {', '.join(ANSWER_RULES)})")
        return ",".join(rules)

    @property
    def rules(self) -> frozenset[Rule]:
        return frozenset(Rule(r) for r in self.answer_rules.split(",") if r)


class LlmSettings(_Group):
    """The optional LLM server that writes prose answers."""

    llm_url: str | None = Field(None, description="Base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:11434/v1.")
    llm_model: str = Field("default", description="Model name sent to the LLM server.")
    llm_api_key: str | None = Field(None, description="Bearer token for the LLM server, if it wants one.")
    llm_timeout: float = Field(30.0, gt=0, le=600, description="Seconds to wait for the LLM server before "
                               "answering extractively.")

    _unset = field_validator("llm_url", "llm_api_key", mode="before")(_empty_is_unset)


class ServerSettings(_Group):
    """The web server: address, access, upload size."""

    host: str = Field("127.0.0.1", description="Address the server binds.")
    port: int = Field(7860, ge=0, le=65535, description="Port the server listens on.")
    api_key: str | None = Field(None, description="When set, the REST API requires this bearer token.")
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="A browser sign-in (with api_key set) lasts "
                                 "this long, or until /logout.")
    max_upload_bytes: int = Field(20_000_000, ge=1, description="Larger uploads (per file) are refused with 413.")
    key_tries_per_minute: int = Field(10, ge=1, description="Wrong keys (at /login or as a bearer token) one "
                                      "client address may send in a minute; past that it gets 429 with Retry-After "
                                      "until the oldest is a minute old. Other addresses are not affected.")

    _unset = field_validator("api_key", mode="before")(_empty_is_unset)


GROUPS: dict[str, type[_Group]] = {
    "store": StoreSettings, "ingest": IngestSettings, "embedding": EmbeddingSettings, "retrieval": RetrievalSettings,
    "reader": ReaderSettings, "answer": AnswerSettings, "llm": LlmSettings, "server": ServerSettings}
GROUP_OF = {name: group for group, model in GROUPS.items() for name in model.model_fields}


def nested(values: dict[str, Any]) -> dict[str, Any]:
    """Settings given by their names (`search_k`) or by group (`retrieval: {search_k}`), in groups;
    an unknown name is left for validation to refuse."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in GROUPS and isinstance(value, dict):
            out.setdefault(key, {}).update(value)
        elif key in GROUP_OF:
            out.setdefault(GROUP_OF[key], {})[key] = value
        else:
            out[key] = value
    return out


class _Nested(PydanticBaseSettingsSource):
    """A source (the init arguments, QA_* variables, qa.toml) whose flat names are put in their groups."""

    def __init__(self, settings_cls: type[BaseSettings], read: Callable[[], dict[str, Any]]):
        super().__init__(settings_cls)
        self.read = read

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ is what is used
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return nested(self.read())


def _environment() -> dict[str, Any]:
    """QA_<NAME> for every setting, whatever its group (QA_SEARCH_K, QA_API_KEY)."""
    return {name: os.environ[f"QA_{name.upper()}"] for name in GROUP_OF if f"QA_{name.upper()}" in os.environ}


class Settings(BaseSettings):
    """Every knob of the product, in groups, documented field by field."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    reader: ReaderSettings = Field(default_factory=ReaderSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)

    @model_validator(mode="before")
    @classmethod
    def _in_groups(cls, values):
        return nested(values) if isinstance(values, dict) else values

    @model_validator(mode="after")
    def _llm_has_a_server(self) -> Settings:
        if self.answer.answerer == "llm" and not self.llm.llm_url:
            raise ValueError("the llm answerer needs llm_url (QA_LLM_URL), e.g. http://127.0.0.1:11434/v1")
        return self

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_settings_file())
        return (_Nested(settings_cls, init_settings), _Nested(settings_cls, _environment), _Nested(settings_cls, toml))

    def updated(self, **changes: Any) -> Settings:
        """These settings with some changed (by name, as anywhere else), validated; the environment
        and qa.toml are not read again."""
        values = self.model_dump()
        for group, given in nested(changes).items():
            values[group] = {**values.get(group, {}), **given} if isinstance(given, dict) else given
        try:
            return type(self).model_validate(values)
        except ValidationError as exc:
            raise InputError(_first_error(exc)) from None

    def flat(self) -> dict[str, Any]:
        """Every setting by its name: what a worker process is given (QA_<NAME>) to make the same."""
        return {name: value for group in self.model_dump().values() for name, value in group.items()}


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"]]
    where = ".".join(loc[1:] if len(loc) > 1 and loc[0] in GROUPS else loc) or "settings"  # the name it was given by
    return f"invalid setting {where}: {first['msg']}"


def load_settings(**overrides) -> Settings:
    """Settings with CLI overrides (None means 'not given'); invalid values are an InputError."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise InputError(_first_error(exc)) from None
