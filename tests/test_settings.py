"""One validated settings object: a typo or a bad value is an error, never silently ignored."""
import pytest

from qa.errors import InputError
from qa.settings import load_settings


def _settings_file(tmp_path, monkeypatch, text: str) -> None:
    """A qa.toml holding `text`, the one the settings read."""
    toml = tmp_path / "qa.toml"
    toml.write_text(text)
    monkeypatch.setenv("QA_SETTINGS_FILE", str(toml))


def test_a_typo_in_the_settings_file_is_an_error(tmp_path, monkeypatch):
    _settings_file(tmp_path, monkeypatch, 'abstain_treshold = 0.3\n')
    with pytest.raises(InputError, match="abstain_treshold"):
        load_settings()


def test_file_then_environment_then_flags(tmp_path, monkeypatch):
    _settings_file(tmp_path, monkeypatch, 'search_k = 7\nanswer_k = 9\nrrf_k = 30\n')
    monkeypatch.setenv("QA_ANSWER_K", "11")
    settings = load_settings(rrf_k=12)
    assert (settings.retrieval.search_k, settings.retrieval.answer_k, settings.retrieval.rrf_k) == (7, 11, 12)


@pytest.mark.parametrize("name, value", [("QA_ANSWERER", "oracle"), ("QA_CHUNK_OVERLAP", "900"),
                                         ("QA_ABSTAIN_THRESHOLD", "2"), ("QA_ANSWER_RULES", "kinds,regexes")])
def test_bad_values_name_the_setting(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv("QA_SETTINGS_FILE", str(tmp_path / "absent.toml"))
    monkeypatch.setenv(name, value)
    with pytest.raises(InputError, match="invalid setting"):
        load_settings()


def test_unrelated_environment_variables_are_not_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("QA_SETTINGS_FILE", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("QA_TEST_RUN", "nowhere")  # a variable with the prefix that no setting has
    load_settings()


def test_answer_rules_switch_one_rule_off(monkeypatch, tmp_path):
    """Each hand rule can be switched off on its own (bench/results/rules.md measured them that way)."""
    monkeypatch.setenv("QA_SETTINGS_FILE", str(tmp_path / "absent.toml"))
    from qa.answering.extractive import Tuning
    from qa.settings import ANSWER_RULES, DEFAULT_RULES

    assert load_settings().answer.rules == frozenset(DEFAULT_RULES) == frozenset(ANSWER_RULES) - {"typed"}
    monkeypatch.setenv("QA_ANSWER_RULES", "kinds, quotes")
    assert Tuning.from_settings(load_settings()).rules == {"kinds", "quotes"}


def test_settings_nest_in_groups_and_each_keeps_one_name(tmp_path, monkeypatch):
    """A setting is given by its name anywhere (flag, QA_<NAME>, qa.toml, a [group] table of
    qa.toml) and read in its group; the same precedence holds across the two spellings."""
    _settings_file(tmp_path, monkeypatch, '[retrieval]\nsearch_k = 7\nanswer_k = 9\n\n[server]\nport = 8123\n')
    monkeypatch.setenv("QA_ANSWER_K", "11")
    monkeypatch.setenv("QA_EMBED_THREADS", "1")
    settings = load_settings(search_k=3)
    assert (settings.retrieval.search_k, settings.retrieval.answer_k, settings.server.port) == (3, 11, 8123)
    assert settings.embedding.embed_threads == 1
    changed = settings.updated(answer_k=4, reader="none")
    assert (changed.retrieval.answer_k, changed.reader.reader, changed.retrieval.search_k) == (4, "none", 3)
    assert settings.retrieval.answer_k == 11  # settings never change: updated() makes new ones
    with pytest.raises(InputError, match="invalid setting answer_k"):
        settings.updated(answer_k=0)


def test_a_setting_in_the_wrong_group_is_an_error(tmp_path, monkeypatch):
    _settings_file(tmp_path, monkeypatch, '[server]\nsearch_k = 7\n')
    with pytest.raises(InputError, match="search_k"):
        load_settings()


def test_every_setting_is_documented_by_its_name():
    from pathlib import Path

    from qa.settings import GROUP_OF

    documented = (Path(__file__).resolve().parent.parent / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [name for name in GROUP_OF if f"`{name.upper()}`" not in documented
               and f"{name.upper()}`" not in documented and f"`{name.upper()}" not in documented]
    assert missing == []
