"""Plain-text tables and field lists for people; scripts read ``--json`` instead."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Column = tuple[str, Callable[[dict[str, Any]], Any]]
NOTHING = "-"


def cell(value: Any) -> str:
    """One line of text for a value: no newlines or tabs to break the columns, a dash for
    nothing, numbers without a needless ``.0``."""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return " ".join(str(value).split())


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> str:
    """Columns aligned on the widest cell, two spaces apart, headers in capitals and no
    trailing blanks."""
    header = [title.upper() for title, _ in columns]
    body = [[cell(read(row)) for _, read in columns] for row in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(columns))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *body]
    )


def fields(pairs: Sequence[tuple[str, Any]]) -> str:
    """``label: value`` lines with the values aligned."""
    width = max((len(label) for label, _ in pairs), default=0) + 1
    return "\n".join(f"{label + ':':<{width}} {cell(value)}".rstrip() for label, value in pairs)


def shares(variants: Sequence[dict[str, Any]], key: str = "current_weight") -> str:
    """``A 80%, B 20%``: each variant's share of the endpoint's traffic (SageMaker's weights
    are relative), or its weight as is when the weights do not add up to anything. Shadow
    variants serve copies of the traffic, not a share of it, so they are left out."""
    variants = [v for v in variants if not v.get("is_shadow")]
    weights = [v.get(key) for v in variants]
    known = [w for w in weights if isinstance(w, int | float)]
    total = sum(known)
    said = []
    for variant, weight in zip(variants, weights, strict=True):
        name = cell(variant.get("name"))
        if not isinstance(weight, int | float):
            said.append(name)
        elif total > 0:
            said.append(f"{name} {100 * weight / total:.4g}%")
        else:
            said.append(f"{name} {cell(float(weight))}")
    return ", ".join(said)
