"""What differs between two recorded endpoint states, as small dataclasses.

Pure functions over `EndpointSnapshot` values (no queries), so the page, the timeline and
a Markdown summary for an incident channel all describe a change in the same words, e.g.
"variant B model tumor-model-v2 → tumor-model-v3".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.text import markdown_code, markdown_text
from endpoints.models import EndpointSnapshot

_LABELS = {
    "status": "status",
    "config": "endpoint config",
    "variant_added": "variant added",
    "variant_removed": "variant removed",
    "weight": "weight",
    "desired_weight": "desired weight",
    "share": "traffic share",
    "instance_count": "instances",
    "desired_instance_count": "desired instances",
    "instance_type": "instance type",
    "model": "model",
    "image": "image",
    "serverless": "serverless",
    "shadow": "shadow",
}


@dataclass(frozen=True)
class Change:
    """One difference between two states; `variant` is empty for endpoint-level changes."""

    kind: str
    before: str
    after: str
    variant: str = ""

    @property
    def label(self) -> str:
        return _LABELS.get(self.kind, self.kind)

    @property
    def text(self) -> str:
        """One line, e.g. "variant B model tumor-model-v2 → tumor-model-v3"."""
        if self.kind == "variant_added":
            return f"variant {self.variant} added ({self.after})"
        if self.kind == "variant_removed":
            return f"variant {self.variant} removed (was {self.before})"
        subject = f"variant {self.variant} " if self.variant else ""
        return f"{subject}{self.label} {self.before} → {self.after}"

    @property
    def markdown(self) -> str:
        variant = markdown_text(self.variant)
        if self.kind == "variant_added":
            return f"- variant **{variant}** added ({markdown_text(self.after)})"
        if self.kind == "variant_removed":
            return f"- variant **{variant}** removed (was {markdown_text(self.before)})"
        subject = f"variant **{variant}** " if self.variant else ""
        before, after = markdown_code(self.before), markdown_code(self.after)
        return f"- {subject}{self.label} {before} → {after}"


@dataclass(frozen=True)
class StateDiff:
    """What differs between two snapshots (either may be None: no state recorded)."""

    before: EndpointSnapshot | None
    after: EndpointSnapshot | None
    changes: tuple[Change, ...]

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def markdown(self, *, heading: str = "") -> str:
        lines = [heading] if heading else []
        lines += [c.markdown for c in self.changes] or ["- no change recorded"]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SnapshotVariant:
    """A variant of a snapshot, as a row of the page's state tables."""

    name: str
    is_shadow: bool
    share: float | None
    weight: float | None
    desired_weight: float | None
    current_instance_count: int | None
    desired_instance_count: int | None
    instance_type: str
    serverless: str
    model_name: str
    image: str


def snapshot_rows(*, snapshot: EndpointSnapshot | None) -> list[SnapshotVariant]:
    """A snapshot's variants in display order (production first), with traffic shares."""
    if snapshot is None:
        return []
    variants: dict[str, Any] = dict(snapshot.variants)
    shares = _shares(variants)
    return [
        SnapshotVariant(
            name=name,
            is_shadow=bool(v.get("is_shadow")),
            share=shares.get(name),
            weight=v.get("weight"),
            desired_weight=v.get("desired_weight"),
            current_instance_count=v.get("current_instance_count"),
            desired_instance_count=v.get("desired_instance_count"),
            instance_type=v.get("instance_type") or "",
            serverless="" if not v.get("serverless") else _serverless(v.get("serverless")),
            model_name=v.get("model_name") or "",
            image=v.get("image") or "",
        )
        for name, v in sorted(variants.items(), key=_display_order)
    ]


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _display_order(item: tuple[str, dict[str, Any]]) -> tuple[bool, int, str]:
    name, variant = item
    return (bool(variant.get("is_shadow")), int(variant.get("position") or 0), name)


def _shares(variants: dict[str, Any]) -> dict[str, float]:
    """Each production variant's percent of traffic (weight over the production total)."""
    production = {
        n: float(v.get("weight") or 0.0) for n, v in variants.items() if not v.get("is_shadow")
    }
    total = sum(production.values())
    return {n: (100.0 * w / total if total > 0 else 0.0) for n, w in production.items()}


def _count(variant: dict[str, Any]) -> int | None:
    current = variant.get("current_instance_count")
    return current if current is not None else variant.get("desired_instance_count")


def _serverless(value: dict[str, Any] | None) -> str:
    if not value:
        return "–"
    text = f"{value.get('memory_size_mb')} MB, max concurrency {value.get('max_concurrency')}"
    if value.get("provisioned_concurrency"):
        text += f", provisioned {value['provisioned_concurrency']}"
    return text


def _variant_summary(variant: dict[str, Any], share: float | None) -> str:
    compute = (
        f"serverless {_serverless(variant.get('serverless'))}"
        if variant.get("serverless")
        else f"{variant.get('instance_type') or '–'} × {_number(_count(variant))}"
    )
    traffic = (
        "shadow" if share is None else f"weight {_number(variant.get('weight'))}, {share:.1f}%"
    )
    return f"model {variant.get('model_name') or '–'}, {compute}, {traffic}"


def _weight_text(weight: float | None, share: float | None) -> str:
    return _number(weight) if share is None else f"{_number(weight)} ({share:.1f}%)"


def _variant_changes(
    *,
    name: str,
    old: dict[str, Any],
    new: dict[str, Any],
    old_share: float | None,
    new_share: float | None,
) -> list[Change]:
    changes: list[Change] = []

    def add(kind: str, before: str, after: str) -> None:
        if before != after:
            changes.append(Change(kind=kind, before=before, after=after, variant=name))

    if bool(old.get("is_shadow")) != bool(new.get("is_shadow")):
        add(
            "shadow",
            str(bool(old.get("is_shadow"))).lower(),
            str(bool(new.get("is_shadow"))).lower(),
        )
    add("model", old.get("model_name") or "–", new.get("model_name") or "–")
    add("image", old.get("image") or "–", new.get("image") or "–")
    add("instance_type", old.get("instance_type") or "–", new.get("instance_type") or "–")
    add("serverless", _serverless(old.get("serverless")), _serverless(new.get("serverless")))
    weight_changed = old.get("weight") != new.get("weight")
    if weight_changed:
        add(
            "weight",
            _weight_text(old.get("weight"), old_share),
            _weight_text(new.get("weight"), new_share),
        )
    elif (
        old_share is not None
        and new_share is not None
        and round(old_share, 1) != round(new_share, 1)
    ):
        add("share", f"{old_share:.1f}%", f"{new_share:.1f}%")
    # A desired value that differs from the effective one is a change still in progress.
    desired = new.get("desired_weight")
    if old.get("desired_weight") != desired and not (
        weight_changed and desired == new.get("weight")
    ):
        add("desired_weight", _number(old.get("desired_weight")), _number(desired))
    count_changed = _count(old) != _count(new)
    if count_changed:
        add("instance_count", _number(_count(old)), _number(_count(new)))
    desired_count = new.get("desired_instance_count")
    if old.get("desired_instance_count") != desired_count and not (
        count_changed and desired_count == _count(new)
    ):
        add(
            "desired_instance_count",
            _number(old.get("desired_instance_count")),
            _number(desired_count),
        )
    return changes


def state_diff(*, before: EndpointSnapshot | None, after: EndpointSnapshot | None) -> StateDiff:
    """Everything that differs between two states, endpoint-level first, then per variant
    in the newer state's order (removed variants last)."""
    if before is None and after is None:
        return StateDiff(before=None, after=None, changes=())
    changes: list[Change] = []
    old_status = before.status if before else "–"
    new_status = after.status if after else "–"
    if old_status != new_status:
        changes.append(Change(kind="status", before=old_status, after=new_status))
    old_config = (before.config_name if before else "") or "–"
    new_config = (after.config_name if after else "") or "–"
    if old_config != new_config:
        changes.append(Change(kind="config", before=old_config, after=new_config))
    old_variants: dict[str, Any] = dict(before.variants) if before else {}
    new_variants: dict[str, Any] = dict(after.variants) if after else {}
    old_shares, new_shares = _shares(old_variants), _shares(new_variants)
    order = [name for name, _ in sorted(new_variants.items(), key=_display_order)]
    for name in order:
        if name not in old_variants:
            summary = _variant_summary(new_variants[name], new_shares.get(name))
            changes.append(Change(kind="variant_added", before="–", after=summary, variant=name))
            continue
        changes += _variant_changes(
            name=name,
            old=old_variants[name],
            new=new_variants[name],
            old_share=old_shares.get(name),
            new_share=new_shares.get(name),
        )
    for name in sorted(set(old_variants) - set(new_variants)):
        summary = _variant_summary(old_variants[name], old_shares.get(name))
        changes.append(Change(kind="variant_removed", before=summary, after="–", variant=name))
    return StateDiff(before=before, after=after, changes=tuple(changes))
