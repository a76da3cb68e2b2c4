"""Kubernetes' CEL extension libraries: strings, lists, regex, URLs, quantities, IPs and CIDRs."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.cel import Environment, types
from kubeward.errors import CELEvaluationError

ENV = Environment({"self": types.DYN})

CASES = [
    # strings
    ("'hello'.charAt(1)", "e"),
    ("'hello'.charAt(5)", ""),
    ("'hello'.indexOf('l')", 2),
    ("'hello'.indexOf('l', 3)", 3),
    ("'hello'.lastIndexOf('l')", 3),
    ("'Hello'.lowerAscii()", "hello"),
    ("'Hello'.upperAscii()", "HELLO"),
    ("'hello'.replace('l', 'L')", "heLLo"),
    ("'hello'.replace('l', 'L', 1)", "heLlo"),
    ("'a,b,c'.split(',')", ["a", "b", "c"]),
    ("'a,b,c'.split(',', 2)", ["a", "b,c"]),
    ("'hello'.substring(1)", "ello"),
    ("'hello'.substring(1, 3)", "el"),
    ("'  x '.trim()", "x"),
    ("['a', 'b'].join()", "ab"),
    ("['a', 'b'].join('-')", "a-b"),
    ("'%s has %d items (%.2f)'.format(['cart', 3, 1.5])", "cart has 3 items (1.50)"),
    # lists
    ("[1, 2, 3].isSorted()", True),
    ("['b', 'a'].isSorted()", False),
    ("[1, 2, 3].sum()", 6),
    ("[1.5, 2.5].sum()", 4.0),
    ("[3, 1, 2].min()", 1),
    ("[3, 1, 2].max()", 3),
    ("[1, 2, 1].indexOf(1)", 0),
    ("[1, 2, 1].lastIndexOf(1)", 2),
    ("['a'].indexOf('b')", -1),
    # regex
    ("'abc 123'.find('[0-9]+')", "123"),
    ("'abc'.find('[0-9]+')", ""),
    ("'1 2 3'.findAll('[0-9]')", ["1", "2", "3"]),
    ("'1 2 3'.findAll('[0-9]', 2)", ["1", "2"]),
    # URLs
    ("isURL('https://example.com:8080/a/b?x=1&x=2')", True),
    ("isURL('not a url')", False),
    ("isURL('/absolute/path')", True),
    ("url('https://user@example.com:8080/a').getScheme()", "https"),
    ("url('https://example.com:8080/a').getHost()", "example.com:8080"),
    ("url('https://[::1]:80/a').getHostname()", "::1"),
    ("url('https://example.com:8080/a').getPort()", "8080"),
    ("url('https://example.com/a%20b').getEscapedPath()", "/a%20b"),
    ("url('https://example.com/?x=1&x=2&y=').getQuery()", {"x": ["1", "2"], "y": [""]}),
    # quantities
    ("isQuantity('1.5Gi')", True),
    ("isQuantity('1.5GB')", False),
    ("quantity('1k') == quantity('1000')", True),
    ("quantity('1Gi').isGreaterThan(quantity('1G'))", True),
    ("quantity('500m').isLessThan(quantity('1'))", True),
    ("quantity('2').compareTo(quantity('2000m'))", 0),
    ("quantity('1').add(quantity('500m')) == quantity('1.5')", True),
    ("quantity('1').add(2) == quantity('3')", True),
    ("quantity('1').sub(quantity('2')).sign()", -1),
    ("quantity('1e3').asInteger()", 1000),
    ("quantity('1.5').isInteger()", False),
    ("quantity('250m').asApproximateFloat()", 0.25),
    # IPs and CIDRs
    ("isIP('10.0.0.1')", True),
    ("isIP('010.0.0.1')", False),
    ("isIP('::ffff:1.2.3.4')", False),
    ("ip('10.0.0.1').family()", 4),
    ("ip('::1').isLoopback()", True),
    ("ip('0.0.0.0').isUnspecified()", True),
    ("ip('8.8.8.8').isGlobalUnicast()", True),
    ("ip.isCanonical('2001:db8::1')", True),
    ("ip.isCanonical('2001:DB8::1')", False),
    ("isCIDR('10.0.0.0/8')", True),
    ("cidr('10.0.0.0/8').containsIP('10.1.2.3')", True),
    ("cidr('10.0.0.0/8').containsIP(ip('11.0.0.1'))", False),
    ("cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16')", True),
    ("cidr('10.1.2.3/8').masked() == cidr('10.0.0.0/8')", True),
    ("cidr('10.1.2.3/8').ip() == ip('10.1.2.3')", True),
    ("cidr('10.0.0.0/8').prefixLength()", 8),
]  # fmt: skip


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_extension_functions(source: str, expected: Any) -> None:
    assert ENV.compile(source).evaluate({"self": {}}) == expected


ERRORS = [
    ("'hello'.charAt(9)", "index out of range: 9"),
    ("[].min()", "min called on empty list"),
    ("[1, 'a'].isSorted()", "no such overload"),
    ("url('nope')", 'URL parse error during conversion from string: parse "nope": invalid URI for request'),
    ("quantity('1GB')", "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ("quantity('1.5').asInteger()", "cannot convert value to integer"),
    ("ip('1.2.3')", 'IP Address "1.2.3" parse error during conversion from string'),
    ("'x'.find('(')", "error parsing regexp: missing ), unterminated subpattern at position 0: `(`"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "message"), ERRORS, ids=[c[0] for c in ERRORS])
def test_extension_errors(source: str, message: str) -> None:
    with pytest.raises(CELEvaluationError) as caught:
        ENV.compile(source).evaluate({"self": {}})
    assert str(caught.value) == message


def test_a_list_function_on_a_field_of_unknown_type() -> None:
    program = ENV.compile("self.ports.isSorted() && self.ports.indexOf(443) == 1")
    assert program.evaluate({"self": {"ports": [80, 443]}}) is True
