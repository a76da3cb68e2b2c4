"""Parsing flag values the way kube-apiserver's flags read them."""

from __future__ import annotations

from kubeward.errors import InputError
from kubeward.pki.duration import parse_duration


def _seconds(flag: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        try:
            return parse_duration(text).total_seconds()
        except InputError as exc:
            raise InputError(f"{flag}: {exc}") from exc


def timeout_seconds(flag: str, text: str) -> float:
    """A timeout flag's value in seconds: a Go duration (``32s``, ``1m30s``) or a number of seconds."""
    seconds = _seconds(flag, text)
    if seconds <= 0:
        raise InputError(f"{flag}: {text!r} must be positive")
    return seconds


def cache_ttl_seconds(flag: str, text: str) -> float:
    """A cache lifetime flag's value in seconds; ``0s`` turns the cache off, as kube-apiserver."""
    seconds = _seconds(flag, text)
    if seconds < 0:
        raise InputError(f"{flag} cannot be negative")
    return seconds
