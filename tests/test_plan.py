"""Planning an ingest from content hashes: pure, table-driven."""
from qa.ingest.plan import FileState, plan_changes
from qa.store.base import KnownDocument

ROOT = "/corpus"
KNOWN = {"a": KnownDocument("a", "h-a", ROOT), "b": KnownDocument("b", "h-b", ROOT),
         "other": KnownDocument("other", "h-o", "/elsewhere")}


def _ids(states):
    return [s.doc_id for s in states]


def test_new_changed_unchanged_and_gone():
    files = [FileState("a", "h-a", ROOT), FileState("b", "h-b2", ROOT), FileState("c", "h-c", ROOT)]
    plan = plan_changes(files, {**KNOWN, "gone": KnownDocument("gone", "h-g", ROOT)}, {ROOT})
    assert (plan.added, plan.updated, plan.unchanged) == (1, 1, 1)
    assert _ids(plan.to_index) == ["b", "c"] and plan.to_remove == ["gone"] and plan.removed == 1


def test_other_roots_and_unreadable_files_are_left_alone():
    plan = plan_changes([FileState("a", "h-a", ROOT)], KNOWN, {ROOT}, unreadable=frozenset({"b"}))
    assert plan.to_remove == [] and not plan.changes


def test_a_single_file_never_removes_its_folder_mates():
    plan = plan_changes([FileState("a", "h-a2", ROOT)], KNOWN, roots=set())
    assert _ids(plan.to_index) == ["a"] and plan.to_remove == []


def test_changed_chunking_reindexes_everything():
    plan = plan_changes([FileState("a", "h-a", ROOT), FileState("b", "h-b", ROOT)], KNOWN, {ROOT}, rechunk_all=True)
    assert plan.updated == 2 and _ids(plan.to_index) == ["a", "b"]


def test_a_second_file_claiming_an_id_is_a_duplicate():
    plan = plan_changes([FileState("c", "1", ROOT, "c.txt"), FileState("c", "2", ROOT, "c.md")], {}, {ROOT})
    assert plan.added == 1 and [d.path for d in plan.duplicates] == ["c.md"]


def test_a_known_document_found_again_under_a_parent_folder_keeps_its_id():
    from qa.ingest.plan import same_files

    known = {"a": KnownDocument("a", "h-a", "/corpus/sub"), "b": KnownDocument("b", "h-b", "/corpus/sub")}
    found = same_files([FileState("sub/a", "h-a", ROOT, "/corpus/sub/a.txt"),
                        FileState("sub/b", "h-b2", ROOT, "/corpus/sub/b.md"),
                        FileState("c", "h-c", ROOT, "/corpus/c.txt")], known)
    assert [(s.doc_id, s.root) for s in found] == [("a", "/corpus/sub"), ("b", "/corpus/sub"), ("c", ROOT)]
    plan = plan_changes(found, known, {ROOT})
    assert (plan.added, plan.updated, plan.unchanged, plan.to_remove) == (1, 1, 1, [])
    # a document of the folder inside whose file is gone is removed with the parent's
    assert plan_changes(found[2:], known, {ROOT}).to_remove == ["a", "b"]
