"""Small pure functions that turn anomaly score maps into pictures.

Every function takes and returns ``numpy`` arrays (images are ``uint8``
H x W x 3 in RGB order) and never modifies its inputs. Matplotlib is used only
for its colormap tables and never opens a window, so everything runs headless.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

#: Perceptually uniform colormaps whose lightness grows with the value, so a
#: brighter pixel always means a higher anomaly score.
COLORMAPS = ('inferno', 'viridis', 'magma', 'plasma', 'cividis')


def colormap_lut(cmap: str = 'inferno') -> np.ndarray:
    """The 256-entry RGB lookup table of a matplotlib colormap.

    Args:
        cmap: One of :data:`COLORMAPS`.

    Returns:
        np.ndarray: ``(256, 3)`` uint8 table; entry 0 is the lowest value.
    """
    if cmap not in COLORMAPS:
        raise ValueError(f'Unknown colormap {cmap!r}; use one of {COLORMAPS}.')
    from matplotlib import colormaps
    table = colormaps[cmap].resampled(256)(np.arange(256))[:, :3]
    return np.round(table * 255).astype(np.uint8)


def score_range(scores: np.ndarray,
                percentiles: Tuple[float, float] = (0.0, 100.0),
                mask: Optional[np.ndarray] = None) -> Tuple[float, float]:
    """A (vmin, vmax) range for normalising scores, ignoring non-finite values.

    Args:
        scores: Score map (any shape).
        percentiles: Lower and upper percentile; (0, 100) is min-max, (1, 99)
            ignores the most extreme 1% on each side.
        mask: Optional boolean mask of the pixels to use.

    Returns:
        tuple[float, float]: ``vmin <= vmax``.
    """
    values = np.asarray(scores, dtype=np.float64)
    if mask is not None:
        values = values[mask]
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(values, percentiles)
    return float(lo), float(hi)


def normalize_scores(scores: np.ndarray, vmin: float,
                     vmax: float) -> np.ndarray:
    """Scale scores affinely so that vmin -> 0 and vmax -> 1, then clip.

    Args:
        scores: Score map.
        vmin: Score shown with the lowest colour.
        vmax: Score shown with the highest colour.

    Returns:
        np.ndarray: float32 values in [0, 1]; NaN becomes 0. A degenerate range
        (``vmax <= vmin``) maps everything at or above ``vmin`` to 1.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if vmax > vmin:
        norm = (scores - vmin) / (vmax - vmin)
    else:
        norm = (scores >= vmin).astype(np.float64)
    norm = np.nan_to_num(norm, nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(norm, 0.0, 1.0).astype(np.float32)


def apply_colormap(scores: np.ndarray,
                   vmin: float,
                   vmax: float,
                   cmap: str = 'inferno') -> np.ndarray:
    """Colour a score map.

    Args:
        scores: ``(H, W)`` score map (higher = more anomalous).
        vmin: Score given the first colour of the map.
        vmax: Score given the last colour of the map.
        cmap: One of :data:`COLORMAPS`.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB heat map.
    """
    if np.ndim(scores) != 2:
        raise ValueError(f'apply_colormap needs a 2-D score map, got shape '
                         f'{np.shape(scores)}.')
    index = np.round(normalize_scores(scores, vmin, vmax) * 255)
    return colormap_lut(cmap)[index.astype(np.intp)]


def overlay(image: np.ndarray, heat: np.ndarray,
            alpha: float = 0.6) -> np.ndarray:
    """Blend a heat map over an image.

    Args:
        image: ``(H, W, 3)`` uint8 RGB image.
        heat: ``(H, W, 3)`` uint8 RGB heat map of the same size.
        alpha: Weight of the heat map, in [0, 1].

    Returns:
        np.ndarray: ``(1 - alpha) * image + alpha * heat`` as uint8.
    """
    if image.shape != heat.shape:
        raise ValueError(f'overlay needs an image and a heat map of the same '
                         f'shape, got {image.shape} and {heat.shape}.')
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must lie in [0, 1], got {alpha}.')
    blend = (1.0 - alpha) * image.astype(np.float32) + alpha * heat.astype(
        np.float32)
    return np.clip(np.round(blend), 0, 255).astype(np.uint8)


def draw_outline(image: np.ndarray,
                 mask: np.ndarray,
                 color: Sequence[int] = (0, 255, 0),
                 thickness: int = 1) -> np.ndarray:
    """Draw the outline of a binary mask (e.g. the ground-truth anomalies).

    Args:
        image: ``(H, W, 3)`` uint8 RGB image.
        mask: ``(H, W)`` boolean mask.
        color: RGB colour of the outline.
        thickness: Line thickness in pixels.

    Returns:
        np.ndarray: A copy of ``image`` with the outline drawn.
    """
    if mask.shape != image.shape[:2]:
        raise ValueError(f'mask shape {mask.shape} does not match the image '
                         f'{image.shape[:2]}.')
    out = np.ascontiguousarray(image.copy())
    contours, _ = cv2.findContours(
        np.asarray(mask, dtype=np.uint8), cv2.RETR_EXTERNAL,
        cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, tuple(int(c) for c in color),
                     thickness)
    return out


def _format_tick(value: float, step: float) -> str:
    # Enough decimals that neighbouring ticks read differently.
    if step > 0 and np.isfinite(step):
        decimals = int(max(0, min(6, 1 - np.floor(np.log10(step)))))
    else:
        decimals = 2
    if abs(value) >= 1e4 or (value != 0 and abs(value) < 10**-decimals):
        return f'{value:.2e}'
    return f'{value:.{decimals}f}'


def draw_colorbar(height: int,
                  vmin: float,
                  vmax: float,
                  cmap: str = 'inferno',
                  width: int = 64,
                  num_ticks: int = 5) -> np.ndarray:
    """A vertical colour bar with tick labels, highest value at the top.

    Args:
        height: Height in pixels (that of the panels it stands beside).
        vmin: Value at the bottom.
        vmax: Value at the top.
        cmap: One of :data:`COLORMAPS`.
        width: Total width in pixels (bar plus labels).
        num_ticks: Number of labelled ticks, evenly spaced.

    Returns:
        np.ndarray: ``(height, width, 3)`` uint8 RGB picture on white.
    """
    bar_w = max(4, width // 4)
    canvas = np.full((height, width, 3), 255, np.uint8)
    ramp = np.linspace(1.0, 0.0, height)[:, None]  # top row = vmax
    canvas[:, :bar_w] = colormap_lut(cmap)[np.round(ramp * 255).astype(
        np.intp)].repeat(bar_w, axis=1)
    font_scale = min(0.4, max(0.25, height / 600))
    step = (vmax - vmin) / max(1, num_ticks - 1)
    for k in range(num_ticks):
        frac = k / max(1, num_ticks - 1)
        y = int(round((1.0 - frac) * (height - 1)))
        value = vmin + frac * (vmax - vmin)
        canvas[y, bar_w:bar_w + 3] = 0
        # Keep the label inside the canvas at the top and bottom ends.
        text_y = min(max(y + 4, 9), height - 2)
        cv2.putText(canvas, _format_tick(value, step), (bar_w + 4, text_y),
                    cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return canvas


def stack_panels(panels: Sequence[np.ndarray], gap: int = 2) -> np.ndarray:
    """Put panels of equal height side by side with a white gap.

    Args:
        panels: ``(H, W_i, 3)`` uint8 pictures of the same height.
        gap: Width of the white separator in pixels.

    Returns:
        np.ndarray: ``(H, sum(W_i) + gap * (n - 1), 3)`` uint8 picture.
    """
    heights = {p.shape[0] for p in panels}
    if len(heights) != 1:
        raise ValueError(f'panels must share one height, got {heights}.')
    height = heights.pop()
    pieces = []
    for i, panel in enumerate(panels):
        if i:
            pieces.append(np.full((height, gap, 3), 255, np.uint8))
        pieces.append(panel)
    return np.concatenate(pieces, axis=1)
