import pytest

from kubeward.api.selectors import LabelSelector, parse_field_selector, parse_label_selector
from kubeward.errors import BadRequest

LABELS = {"app": "web", "tier": "frontend", "version": "3"}

CASES = [
    ("", True),
    ("app=web", True),
    ("app==web", True),
    ("app!=web", False),
    ("app!=db", True),
    ("missing!=x", True),
    ("app in (web,db)", True),
    ("app notin (web,db)", False),
    ("missing notin (a)", True),
    ("app", True),
    ("!app", False),
    ("!missing", True),
    ("app=web,tier=backend", False),
    ("app=web,tier=frontend", True),
    ("version>2", True),
    ("version<2", False),
    ("missing>1", False),
]


@pytest.mark.parametrize(("text", "matches"), CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_label_selector_strings_match_as_kubernetes(text, matches):
    assert parse_label_selector(text).matches(LABELS) is matches


@pytest.mark.parametrize("text", ["app in (", "=web", "app=web,,", "version>x", "app ~ x"])
def test_malformed_label_selectors_are_bad_requests(text):
    with pytest.raises(BadRequest):
        parse_label_selector(text)


def test_structured_selector_combines_match_labels_and_expressions():
    selector = LabelSelector.from_dict(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["frontend", "edge"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        }
    )
    assert selector.matches(LABELS)
    assert not selector.matches({**LABELS, "legacy": "yes"})
    assert not selector.matches({"app": "web"})


def test_empty_structured_selector_matches_everything():
    assert LabelSelector.from_dict({}).matches({})
    assert LabelSelector.from_dict({}).empty


def test_unknown_operator_is_refused():
    with pytest.raises(BadRequest):
        LabelSelector.from_dict({"matchExpressions": [{"key": "a", "operator": "Near"}]})


def test_field_selectors_with_escapes_and_negation():
    selector = parse_field_selector(r"metadata.name=a\,b,status.phase!=Running")
    assert selector.matches({"metadata.name": "a,b", "status.phase": "Pending"})
    assert not selector.matches({"metadata.name": "a,b", "status.phase": "Running"})
    assert selector.exact_value("metadata.name") == "a,b"


def test_field_selector_without_operator_is_a_bad_request():
    with pytest.raises(BadRequest):
        parse_field_selector("metadata.name")
