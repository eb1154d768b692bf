"""Small pure functions that turn anomaly score maps into pictures.

Every function takes and returns ``numpy`` arrays (images are ``uint8``
H x W x 3 in RGB order) and never modifies its inputs. Matplotlib gives the
colormap tables and renders text (colour-bar ticks, titles) with its Agg
canvas; it never opens a window, so everything runs headless.
"""
from typing import List, Optional, Sequence, Tuple

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


def nice_ticks(vmin: float, vmax: float,
               max_ticks: int = 5) -> Tuple[np.ndarray, List[str]]:
    """Few round tick values inside ``[vmin, vmax]`` and their labels.

    The step is 1, 2 or 5 times a power of ten (matplotlib's
    ``MaxNLocator``); labels carry just enough decimals for that step, so
    neighbours never read alike and none is longer than it needs to be.

    Args:
        vmin: Lowest value of the range.
        vmax: Highest value of the range.
        max_ticks: Most ticks to return.

    Returns:
        tuple: ``(values, labels)``, ascending; one tick when the range is
        empty.
    """
    from matplotlib.ticker import MaxNLocator
    if not (np.isfinite(vmin) and np.isfinite(vmax)) or vmax <= vmin:
        value = float(vmin) if np.isfinite(vmin) else 0.0
        return np.array([value]), [f'{value:.4g}']
    span = vmax - vmin
    for nbins in range(max(1, max_ticks), 0, -1):
        locator = MaxNLocator(nbins=nbins, steps=[1, 2, 5, 10])
        values = np.asarray(locator.tick_values(vmin, vmax), np.float64)
        values = values[(values >= vmin - 1e-9 * span)
                        & (values <= vmax + 1e-9 * span)]
        if len(values) <= max_ticks:
            break
    if len(values) > max(2, max_ticks):  # even one bin gives too many
        values = values[[0, -1]]
    if len(values) < 2:  # a range narrower than one round step
        values = np.array([vmin, vmax], dtype=np.float64)
        step = span
    else:
        step = float(np.min(np.diff(values)))
    decimals = int(max(0, -np.floor(np.log10(step) + 1e-9)))
    if max(abs(values[0]), abs(values[-1])) >= 1e5 or decimals > 6:
        labels = [f'{v:.3g}' for v in values]
    else:
        labels = [f'{v:.{decimals}f}' for v in values]
    # '-0.0' reads as a different number from '0.0'.
    labels = [label.lstrip('-') if float(label) == 0 else label
              for label in labels]
    return values, labels


def colorbar_figure(height: int,
                    vmin: float,
                    vmax: float,
                    cmap: str = 'inferno',
                    width: int = 64,
                    max_ticks: int = 5,
                    fontsize: Optional[float] = None):
    """The colour bar as a matplotlib figure of ``width x height`` pixels.

    The bar runs from ``vmin`` (bottom) to ``vmax`` (top) with labelled round
    ticks (:func:`nice_ticks`) on its right. The bar is inset by half a line
    of text at both ends, the tick count drops until labels are at least 1.4
    lines apart, and the font shrinks until the drawn labels' boxes all lie
    inside the picture and apart: labels never overlap or get cut.

    Returns:
        matplotlib.figure.Figure: Drawn (text extents are final).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if cmap not in COLORMAPS:
        raise ValueError(f'Unknown colormap {cmap!r}; use one of {COLORMAPS}.')
    dpi = 100.0
    px_per_pt = dpi / 72.0
    size = fontsize or float(np.clip(height / 22.0, 6.0, 12.0))
    bar_w = max(4, min(width // 3, 24))
    while True:
        fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi,
                     facecolor='white')
        FigureCanvasAgg(fig)
        line = size * px_per_pt * 1.25
        margin = line / 2 + 2
        usable = max(height - 2 * margin, 1.0)
        ticks, labels = nice_ticks(vmin, vmax, max_ticks)
        # Fewer ticks until neighbouring labels keep 1.4 lines apart.
        while len(ticks) > 2 and vmax > vmin and usable * np.min(
                np.diff(ticks)) / (vmax - vmin) < 1.4 * line:
            fewer = nice_ticks(vmin, vmax, len(ticks) - 1)
            if len(fewer[0]) >= len(ticks):
                break
            ticks, labels = fewer
        ax = fig.add_axes([2 / width, margin / height, bar_w / width,
                           usable / height])
        ramp = np.linspace(0.0, 1.0, 256)[:, None]
        ax.imshow(ramp, cmap=cmap, aspect='auto', origin='lower',
                  extent=(0, 1, vmin, vmax if vmax > vmin else vmin + 1))
        ax.set_xticks([])
        ax.yaxis.tick_right()
        ax.set_yticks(ticks)
        ax.set_yticklabels(labels, fontsize=size)
        ax.tick_params(axis='y', length=3, pad=2)
        for spine in ax.spines.values():
            spine.set_linewidth(0.6)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        boxes = [t.get_window_extent(renderer)
                 for t in ax.get_yticklabels() if t.get_text()]
        # Measured, not estimated: every label inside, none overlapping.
        inside = all(b.x0 >= 0 and b.y0 >= 0 and b.x1 <= width - 1
                     and b.y1 <= height - 1 for b in boxes)
        apart = all(a.y1 <= b.y0 or b.y1 <= a.y0
                    for i, a in enumerate(boxes) for b in boxes[i + 1:])
        if (inside and apart) or size <= 3:
            return fig
        size *= 0.9


def figure_to_array(fig) -> np.ndarray:
    """The RGB pixels of a drawn matplotlib figure (Agg canvas)."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def draw_colorbar(height: int,
                  vmin: float,
                  vmax: float,
                  cmap: str = 'inferno',
                  width: int = 64,
                  num_ticks: int = 5) -> np.ndarray:
    """A vertical colour bar with round tick labels, highest value on top.

    Rendered by matplotlib (:func:`colorbar_figure`): real font, few round
    ticks, no label overlapping another or cut at the edge.

    Args:
        height: Height in pixels (that of the panels it stands beside).
        vmin: Value at the bottom.
        vmax: Value at the top.
        cmap: One of :data:`COLORMAPS`.
        width: Total width in pixels (bar plus labels).
        num_ticks: Most labelled ticks.

    Returns:
        np.ndarray: ``(height, width, 3)`` uint8 RGB picture on white.
    """
    picture = figure_to_array(colorbar_figure(height, vmin, vmax, cmap,
                                              width, num_ticks))
    return picture[:height, :width]


def _white_strip(width: int, height: int):
    """A bare white matplotlib figure of ``width`` x ``height`` pixels (no
    pyplot state) and its dpi."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    dpi = 100.0
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi,
                 facecolor='white')
    FigureCanvasAgg(fig)
    return fig, dpi


def render_text(text: str, width: int, height: int,
                fontsize: Optional[float] = None,
                color: Sequence[float] = (0, 0, 0)) -> np.ndarray:
    """A line of text centred on a white strip (matplotlib's font).

    The font shrinks until the text fits the strip's width.

    Args:
        text: The text.
        width: Strip width in pixels.
        height: Strip height in pixels.
        fontsize: Font size in points; None: fitted to ``height``.
        color: RGB colour in [0, 1].

    Returns:
        np.ndarray: ``(height, width, 3)`` uint8 RGB picture.
    """
    fig, dpi = _white_strip(width, height)
    size = fontsize or height * 0.55 * 72.0 / dpi
    label = fig.text(0.5, 0.5, text, ha='center', va='center',
                     fontsize=size, color=color)
    renderer = fig.canvas.get_renderer()
    while size > 4 and label.get_window_extent(renderer).width > width - 4:
        size *= 0.9
        label.set_fontsize(size)
    return figure_to_array(fig)[:height, :width]


def draw_legend(entries: Sequence[Tuple[str, Sequence[int]]], width: int,
                height: int) -> np.ndarray:
    """A row of colour swatches with their names on a white strip.

    Args:
        entries: (name, RGB colour 0-255) per swatch, left to right.
        width: Strip width in pixels.
        height: Strip height in pixels.

    Returns:
        np.ndarray: ``(height, width, 3)`` uint8 RGB picture.
    """
    from matplotlib.patches import Patch
    fig, dpi = _white_strip(width, height)
    handles = [Patch(facecolor=np.asarray(c, float) / 255.0,
                     edgecolor='0.3', label=name) for name, c in entries]
    size = height * 0.5 * 72.0 / dpi
    renderer = fig.canvas.get_renderer()
    while True:  # the largest font (up to half the height) that fits
        legend = fig.legend(handles=handles, loc='center',
                            ncols=len(handles), frameon=False, fontsize=size,
                            handlelength=1.5, handleheight=1.0,
                            columnspacing=1.2, handletextpad=0.4,
                            borderpad=0.1)
        if size <= 4 or legend.get_window_extent(renderer).width <= width - 4:
            break
        legend.remove()
        size *= 0.9
    return figure_to_array(fig)[:height, :width]


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
