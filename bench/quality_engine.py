"""Data-quality engine on 1,000,000 captured tumor rows: rows per second and peak memory.

The rows are the breast-cancer features the sandbox's tumor model serves, with 2%
multiplicative noise (16 noisy renderings of each of the 569 rows, drawn at random), written
as SageMaker data-capture JSON lines on the fly (a generator: the lines never exist all at
once). Most requests are CSV, one in ten JSON and one in ten BASE64, and every fourth request
carries four rows, as batched clients send them.

Measured: the generator alone, ``profile()`` and ``check()`` each fed through
``rows_from_capture()``, so the figures include decoding the capture files. The check runs on
traffic with one feature shifted by three standard deviations and must flag that feature only.
Memory: traced peaks on two smaller runs (the same at four times the rows shows it does not
grow with them), and the growth of the process's peak RSS over the full runs, both against
the size of the capture data read.
"""

from __future__ import annotations

import base64
import json
import random
import resource
import time
import tracemalloc
from collections.abc import Iterator

from dataquality import (
    CaptureCounts,
    check,
    profile,
    rows_from_capture,
    suggest_constraints,
)

ROWS = 1_000_000
TRACED_ROWS = 100_000
DRIFTED = "mean_texture"
NOISE = 0.02
VARIANTS = 16


def _dataset() -> tuple[list[str], list[list[float]]]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    # The sandbox's tumor model names its features this way (sandbox.models).
    names = [str(name).replace(" ", "_") for name in data.feature_names]
    return names, data.data.tolist()


def _event(number: int, payload: dict[str, str]) -> str:
    return json.dumps(
        {
            "captureData": {
                "endpointInput": payload,
                "endpointOutput": {
                    "observedContentType": "text/csv; charset=utf-8",
                    "mode": "OUTPUT",
                    "data": "0.5",
                    "encoding": "CSV",
                },
            },
            "eventMetadata": {
                "eventId": f"00000000-0000-4000-8000-{number:012d}",
                "inferenceTime": "2026-11-27T10:00:00Z",
            },
            "eventVersion": "0",
        }
    )


def noisy_rows(data: list[list[float]], *, shift: tuple[int, float] | None = None) -> list[str]:
    """``VARIANTS`` noisy CSV renderings of every dataset row (about 5 MB), made once so that
    producing a million capture lines costs little next to reading them."""
    generator = random.Random(11)
    rendered = []
    for row in data:
        for _ in range(VARIANTS):
            values = [value * generator.gauss(1.0, NOISE) for value in row]
            if shift is not None:
                values[shift[0]] += shift[1]
            rendered.append(",".join(map(repr, values)))
    return rendered


def capture_lines(rows: int, *, variants: list[str]) -> Iterator[str]:
    """``rows`` rows drawn at random from ``variants`` as capture JSON lines, made lazily."""
    pick = random.Random(5).random
    count = len(variants)
    made = request = 0
    while made < rows:
        size = min(4 if request % 4 == 3 else 1, rows - made)
        batch = [variants[int(pick() * count)] for _ in range(size)]
        made += size
        kind = request % 10
        if kind == 1:
            # CSV renderings of floats are valid JSON numbers.
            text = f"[{batch[0]}]" if size == 1 else "[" + ",".join(f"[{r}]" for r in batch) + "]"
            payload = {"observedContentType": "application/json", "data": text, "encoding": "JSON"}
        elif kind == 2:
            encoded = base64.b64encode("\n".join(batch).encode()).decode()
            payload = {"observedContentType": "text/csv", "data": encoded, "encoding": "BASE64"}
        else:
            payload = {
                "observedContentType": "text/csv",
                "data": "\n".join(batch),
                "encoding": "CSV",
            }
        payload["mode"] = "INPUT"
        yield _event(request, payload)
        request += 1


def _measure(lines: Iterator[str]) -> tuple[int, int]:
    """(lines, bytes) of a stream of JSON lines, reading it once."""
    tally = [0, 0]
    for line in lines:
        tally[0] += 1
        tally[1] += len(line) + 1
    return tally[0], tally[1]


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run() -> None:
    names, data = _dataset()
    baseline = profile(rows=[[repr(v) for v in row] for row in data], columns=names)
    constraints = suggest_constraints(statistics=baseline)
    target = names.index(DRIFTED)
    drifted = next(f for f in baseline["features"] if f["name"] == DRIFTED)
    spread = drifted["numerical_statistics"]["std_dev"]
    plain = noisy_rows(data)
    shifted = noisy_rows(data, shift=(target, 3 * spread))

    started = time.perf_counter()
    line_count, data_bytes = _measure(capture_lines(ROWS, variants=plain))
    generate_s = time.perf_counter() - started

    rss_before = _max_rss_mb()
    counts = CaptureCounts()
    started = time.perf_counter()
    statistics = profile(
        rows=rows_from_capture(lines=capture_lines(ROWS, variants=plain), counts=counts),
        columns=names,
    )
    profile_s = time.perf_counter() - started

    started = time.perf_counter()
    result = check(
        rows=rows_from_capture(lines=capture_lines(ROWS, variants=shifted)),
        columns=names,
        baseline_statistics=baseline,
        constraints=constraints,
    )
    check_s = time.perf_counter() - started
    rss_growth = _max_rss_mb() - rss_before

    traced = {}
    for name, rows in (
        ("profile", TRACED_ROWS // 4),
        ("profile", TRACED_ROWS),
        ("check", TRACED_ROWS),
    ):
        stream = capture_lines(rows, variants=shifted)
        tracemalloc.start()
        if name == "profile":
            profile(rows=rows_from_capture(lines=stream), columns=names)
        else:
            check(
                rows=rows_from_capture(lines=stream),
                columns=names,
                baseline_statistics=baseline,
                constraints=constraints,
            )
        traced[name, rows] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    traced_mb = _measure(capture_lines(TRACED_ROWS, variants=plain))[1] / 1e6

    others = max(d for feature, d in result.drift.items() if feature != DRIFTED)
    found = sorted({(v.feature_name, v.constraint_check_type) for v in result.violations})
    mb = data_bytes / 1e6
    print(
        f"== Quality engine: {ROWS:,} captured tumor rows × {len(names)} features "
        f"({line_count:,} capture lines, {mb:,.0f} MB of JSON) =="
    )
    print(
        f"generating the capture lines alone: {generate_s:.1f} s ({ROWS / generate_s:,.0f} rows/s)"
    )
    for label, seconds in (("profile()", profile_s), ("check()  ", check_s)):
        engine = max(seconds - generate_s, 1e-9)
        print(
            f"{label} through rows_from_capture(): {seconds:.1f} s end to end "
            f"({ROWS / seconds:,.0f} rows/s); engine alone ≈ {ROWS / engine:,.0f} rows/s "
            f"({ROWS * len(names) / engine / 1e6:.2f} M values/s)"
        )
    print(
        f"profile read {counts.events:,} events, {counts.rows:,} rows "
        f"(item_count {statistics['dataset']['item_count']:,}), {counts.malformed} malformed"
    )
    print(
        f"check on traffic with {DRIFTED} +3 std: violations {found} "
        f"(target: only ({DRIFTED!r}, 'baseline_drift_check')); drift {DRIFTED} "
        f"{result.drift[DRIFTED]:.3f}, largest other {others:.3f} (threshold 0.1)"
    )
    quarter = TRACED_ROWS // 4
    print(
        f"memory: traced peak {traced['profile', quarter]:.1f} MB (profile, {quarter:,} rows), "
        f"{traced['profile', TRACED_ROWS]:.1f} MB (profile, {TRACED_ROWS:,} rows), "
        f"{traced['check', TRACED_ROWS]:.1f} MB (check, {TRACED_ROWS:,} rows) against "
        f"{traced_mb:.0f} MB of capture for {TRACED_ROWS:,} rows; peak RSS grew "
        f"{rss_growth:.1f} MB over the {ROWS:,}-row runs, which read {mb:,.0f} MB each"
    )
