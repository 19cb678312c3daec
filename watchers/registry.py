"""The registry of sources: one line per source. Everything else asks it, never a source id.

It lists each source package's spec (watchers/<source>/spec.py), not its watcher: asking it
loads no HTTP or parsing code.
"""

from __future__ import annotations

from collections.abc import Iterable

from watchers.ctgov.spec import SPEC as ctgov
from watchers.ctis.spec import SPEC as ctis
from watchers.ema.spec import SPEC as ema
from watchers.federal_register.spec import SPEC as federal_register
from watchers.feeds.spec import SPEC as feeds
from watchers.medrxiv.spec import SPEC as medrxiv
from watchers.model import Observation
from watchers.news.spec import SPEC as news
from watchers.openfda.spec import SPEC as openfda
from watchers.pubmed.spec import SPEC as pubmed
from watchers.sec_edgar.spec import SPEC as sec_edgar
from watchers.spec import RecordHistory, SourceKind, SourceSpec
from watchers.wording import NO_WORDING, Wording

__all__ = [
    "REGISTRY",
    "UnknownSourceError",
    "all_specs",
    "find_spec",
    "history_registries",
    "source_label",
    "spec_for",
    "spec_of",
    "specs_where",
    "trial_registries",
    "wording",
]

# In the order watchers are built and polled.
REGISTRY: tuple[SourceSpec, ...] = (
    ctgov,
    openfda,
    ema,
    feeds,
    news,
    pubmed,
    ctis,
    federal_register,
    sec_edgar,
    medrxiv,
)
_BY_ID = {spec.id: spec for spec in REGISTRY}


class UnknownSourceError(KeyError):
    """A source id no spec declares: a programming error, never a silent default."""

    def __str__(self) -> str:
        return f"no source spec for {self.args[0]!r}: add it to watchers/registry.py"


def find_spec(source: str) -> SourceSpec | None:
    """The spec of a source id (`feed:<name>` -> the feed family), or None if unknown."""
    family, sep, name = source.partition(":")
    spec = _BY_ID.get(family)
    if spec is None or spec.instances != bool(sep and name):
        return None
    return spec


def spec_for(source: str) -> SourceSpec:
    """The spec of a source id; raises UnknownSourceError for one no spec declares."""
    spec = find_spec(source)
    if spec is None:
        raise UnknownSourceError(source)
    return spec


def spec_of(obs: Observation) -> SourceSpec:
    """The spec that applies to one observation (a feed's by the authority it carries)."""
    return spec_for(obs.source).for_fields(obs.fields)


def all_specs() -> Iterable[SourceSpec]:
    """Every spec, each family's per-authority variants included."""
    for spec in REGISTRY:
        yield spec
        yield from spec.by_authority.values()


def specs_where(**traits: object) -> tuple[SourceSpec, ...]:
    """The families any of whose specs (variants included) have all these trait values."""
    found = []
    for spec in REGISTRY:
        variants = (spec, *spec.by_authority.values())
        if any(all(getattr(v, k) == value for k, value in traits.items()) for v in variants):
            found.append(spec)
    return tuple(found)


def source_label(source: str) -> str:
    """A person's name for a source id (`feed:EMA news` -> `EMA news`); unknown ids as they are."""
    family, _, name = source.partition(":")
    if name:
        return name
    spec = _BY_ID.get(family)
    return spec.label if spec is not None else source


def trial_registries() -> tuple[str, ...]:
    """Source ids whose records are trials (status lists them; trial ids resolve topics)."""
    return tuple(s.id for s in REGISTRY if s.kind is SourceKind.TRIAL_REGISTRY)


def history_registries() -> dict[str, RecordHistory]:
    """Source id -> its record history, for the sources that serve one."""
    return {s.id: s.history for s in REGISTRY if s.history is not None}


def _merged_wording() -> Wording:
    merged = NO_WORDING
    for spec in all_specs():
        merged = merged.merge(spec.wording)
    return merged


_WORDING = _merged_wording()


def wording() -> Wording:
    """Every source's field vocabulary in one (registry order first): labels, which fields
    are a trial's status, dates and results clock."""
    return _WORDING
