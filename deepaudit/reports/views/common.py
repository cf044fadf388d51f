"""Views every family shares: findings, metrics, cost and provenance tables, image grids."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from deepaudit.reports.views.base import Section, TableView, TextView

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from deepaudit.results import AuditBundle, FamilyResult


def findings_frame(bundle: AuditBundle) -> pd.DataFrame:
    """Every finding, worst first: severity, family, check, sentence and evidence."""
    rows = []
    for f in bundle.findings:
        ev = f.evidence
        rows.append(
            {
                "severity": f.severity,
                "family": f.family,
                "check": f.check,
                "message": f.message,
                "metric": ev.metric,
                "value": ev.value,
                "interval_low": None if ev.interval is None else ev.interval[0],
                "interval_high": None if ev.interval is None else ev.interval[1],
                "threshold": ev.threshold,
                "group": ev.group,
                "evidence": ev.view,
            }
        )
    columns = [
        "severity", "family", "check", "message", "metric", "value",
        "interval_low", "interval_high", "threshold", "group", "evidence",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def metrics_frame(result: FamilyResult) -> pd.DataFrame:
    """A family's scalar metrics as a two-column table (nested values are left out)."""
    rows = [
        {"metric": k, "value": v}
        for k, v in result.metrics.items()
        if v is None or isinstance(v, bool | int | float | str | np.number)
    ]
    return pd.DataFrame(rows, columns=["metric", "value"])


def cost_table(bundle: AuditBundle) -> pd.DataFrame:
    """Seconds and model evaluations per family."""
    rows = [
        {"family": name, "seconds": r.seconds, "model_evaluations": r.model_evaluations}
        for name, r in bundle.families.items()
    ]
    return pd.DataFrame(rows, columns=["family", "seconds", "model_evaluations"])


def provenance_frame(bundle: AuditBundle) -> pd.DataFrame:
    """The model-card facts: what was audited, on what, with which versions and seed."""
    rows = []
    for _where, data in (("target", bundle.target), ("provenance", bundle.provenance)):
        for key, value in data.items():
            if isinstance(value, dict):
                for sub, subvalue in value.items():
                    rows.append({"field": f"{key}.{sub}", "value": _plain(subvalue)})
            else:
                rows.append({"field": key, "value": _plain(value)})
    return pd.DataFrame(rows, columns=["field", "value"])


def generic_section(bundle: AuditBundle, result: FamilyResult) -> Section:
    """A family without its own view: its metrics and each of its tables."""
    items = [TableView("metrics", "Metrics", metrics_frame(result))]
    for name, rows in result.tables.items():
        items.append(TableView(name, name.replace("_", " ").capitalize(), pd.DataFrame(rows)))
    for note in result.notes:
        items.append(TextView(f"note-{len(items)}", "Note", note))
    return Section(
        family=result.family,
        title=result.family.capitalize(),
        items=items,
        findings=list(result.findings),
        cost={"seconds": result.seconds, "model_evaluations": result.model_evaluations},
        notes=list(result.notes),
    )


def method_cost_frame(bundle: AuditBundle) -> pd.DataFrame:
    """Seconds and model evaluations per method, from every family that timed its methods.

    A family reports per-method cost as a table named ``cost`` (or ending in ``_cost``)
    whose rows hold ``method`` and ``seconds`` (``model_evaluations`` when it counted them;
    other columns are kept). Families without such a table contribute no rows.
    """
    rows = []
    for name, result in bundle.families.items():
        for table, table_rows in result.tables.items():
            if table != "cost" and not table.endswith("_cost"):
                continue
            for row in table_rows:
                if isinstance(row, dict) and "method" in row and "seconds" in row:
                    rows.append({"family": name, **row})
    frame = pd.DataFrame(rows)
    leading = ["family", "method", "seconds", "model_evaluations"]
    for column in leading:
        if column not in frame.columns:
            frame[column] = pd.Series(dtype=object)
    return frame[leading + [c for c in frame.columns if c not in leading]]


def image_grid(
    images: np.ndarray,
    value_range: tuple[float, float] = (0.0, 1.0),
    n_columns: int = 8,
    padding: int = 2,
) -> np.ndarray:
    """Tile images ``(N, C, H, W)`` or ``(N, H, W)`` into one ``(rows*H, cols*W, 3)`` uint8 grid.

    Values are mapped from ``value_range`` to 0..255 (and clipped); one channel is shown
    as grey. The grid is what :func:`image_figure` draws.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 3:
        images = images[:, None]
    n, channels, height, width = images.shape
    if channels == 1:
        images = np.repeat(images, 3, axis=1)
    lo, hi = value_range
    scaled = np.clip((images - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    pixels = np.round(scaled * 255).astype(np.uint8).transpose(0, 2, 3, 1)[..., :3]
    n_columns = max(1, min(n_columns, n))
    n_rows = -(-n // n_columns)
    grid = np.full(
        (n_rows * (height + padding) - padding, n_columns * (width + padding) - padding, 3),
        255,
        dtype=np.uint8,
    )
    for i in range(n):
        r, c = divmod(i, n_columns)
        top, left = r * (height + padding), c * (width + padding)
        grid[top : top + height, left : left + width] = pixels[i]
    return grid


def png_data_uri(pixels: np.ndarray) -> str:
    """One uint8 RGB image (H×W×3) as a PNG data URI, encoded by Pillow: a fraction of
    the size of its pixels written out as numbers."""
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def image_figure(pixels: np.ndarray, height: int | None = None) -> go.Figure:
    """A plotly figure of one uint8 RGB image, embedded as a PNG data URI (compact, offline).

    The PNG is encoded by Pillow; the figure has no axes, and its height follows the
    image's aspect ratio unless given.
    """
    import plotly.graph_objects as go

    rows, cols = pixels.shape[:2]
    figure = go.Figure(go.Image(source=png_data_uri(pixels), hoverinfo="skip"))
    figure.update_xaxes(visible=False, range=[-0.5, cols - 0.5])
    figure.update_yaxes(visible=False, range=[rows - 0.5, -0.5], scaleanchor="x")
    figure.update_layout(
        height=height or int(min(640, max(240, 560 * rows / max(cols, 1)))),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
    )
    return figure


def _plain(value):
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return value
