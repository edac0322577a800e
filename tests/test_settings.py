"""One validated settings object: a typo or a bad value is an error, never silently ignored."""
import pytest

from qa.errors import InputError
from qa.settings import load_settings


def test_a_typo_in_the_settings_file_is_an_error(tmp_path, monkeypatch):
    toml = tmp_path / "qa.toml"
    toml.write_text('abstain_treshold = 0.3\n')
    monkeypatch.setenv("QA_SETTINGS_FILE", str(toml))
    with pytest.raises(InputError, match="abstain_treshold"):
        load_settings()


def test_file_then_environment_then_flags(tmp_path, monkeypatch):
    toml = tmp_path / "qa.toml"
    toml.write_text('search_k = 7\nanswer_k = 9\nrrf_k = 30\n')
    monkeypatch.setenv("QA_SETTINGS_FILE", str(toml))
    monkeypatch.setenv("QA_ANSWER_K", "11")
    settings = load_settings(rrf_k=12)
    assert (settings.search_k, settings.answer_k, settings.rrf_k) == (7, 11, 12)


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
    """Each hand rule can be switched off on its own (bench/rules.py measures them that way)."""
    monkeypatch.setenv("QA_SETTINGS_FILE", str(tmp_path / "absent.toml"))
    from qa.answering.extractive import Tuning
    from qa.settings import ANSWER_RULES, DEFAULT_RULES

    assert load_settings().rules == frozenset(DEFAULT_RULES) == frozenset(ANSWER_RULES) - {"typed"}
    monkeypatch.setenv("QA_ANSWER_RULES", "kinds, quotes")
    assert Tuning.from_settings(load_settings()).rules == {"kinds", "quotes"}
