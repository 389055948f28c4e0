"""Verdicts on a reproduced number that a referee accepts: intervals, not a wide tolerance.

A value of the paper is one training run; ours is the mean of k seeded runs with sample standard
deviation s. Three intervals, all at ``LEVEL`` (95 %):

* ``mean_interval``: where the mean of all such trainings lies, m ± t(k-1) · s / √k;
* ``prediction_interval``: where one more run lies, m ± t(k-1) · s · √(1 + 1/k): the paper's
  single run, if it is a draw of the same training, falls inside it with probability ``LEVEL``;
* ``clopper_pearson``: the exact binomial interval of a rate the paper measured on n test images
  (how precisely its own number is known).

``verdict`` turns them into one of three words: **differs** (the paper's value lies outside our
prediction interval), **consistent** (inside, and the interval's half-width is within the
``margin`` a reviewer accepts, and one test image moves the rate by no more than that margin),
**inconclusive** (inside, but the interval is wider than the margin or the class has too few test
images: the training is too noisy, or the test set too small, to tell). ``decimals`` says how many
digits an interval supports. No I/O here: the report (``reproduction``) calls these.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["LEVEL", "MARGIN", "STATUSES", "t_quantile", "mean_interval", "prediction_interval", "clopper_pearson",
           "rate_interval", "half_unit", "verdict", "decimals", "fmt", "span", "with_interval"]

LEVEL = 0.95
# the half-width of a prediction interval a reviewer accepts as "reproduced": 3 points of
# accuracy, 0.03 of a per-class precision, recall or F1
MARGIN = {"accuracy %": 3.0, "fraction": 0.03}
STATUSES = ("consistent", "differs", "inconclusive")


def t_quantile(k: int, level: float = LEVEL) -> float:
    """The two-sided ``level`` quantile of Student's t with k - 1 degrees of freedom.

    Args:
        k: the number of runs (seeds).
        level: the two-sided coverage (0.95).

    Returns:
        t such that P(|T| <= t) = ``level``.

    Raises:
        ValueError: fewer than 2 runs.
    """
    if k < 2:
        raise ValueError(f"an interval over seeds needs at least 2 of them, got {k}")
    return float(stats.t.ppf(0.5 + level / 2, k - 1))


def mean_interval(mean: float, sd: float, k: int, level: float = LEVEL) -> tuple[float, float]:
    """t-based interval of the mean of k runs: m ± t(k-1) s / √k.

    Args:
        mean: the mean m over the runs.
        sd: their sample standard deviation s, in the unit of ``mean``.
        k: the number of runs.
        level: the two-sided coverage (0.95).

    Returns:
        (low, high), in the unit of ``mean``.

    Raises:
        ValueError: fewer than 2 runs.
    """
    h = t_quantile(k, level) * sd / math.sqrt(k)
    return mean - h, mean + h


def prediction_interval(mean: float, sd: float, k: int, level: float = LEVEL) -> tuple[float, float]:
    """Where one more run falls with probability ``level``: m ± t(k-1) s √(1 + 1/k).

    Args:
        mean: the mean m over the runs.
        sd: their sample standard deviation s, in the unit of ``mean``.
        k: the number of runs.
        level: the probability (0.95).

    Returns:
        (low, high), in the unit of ``mean``.

    Raises:
        ValueError: fewer than 2 runs.
    """
    h = t_quantile(k, level) * sd * math.sqrt(1.0 + 1.0 / k)
    return mean - h, mean + h


def clopper_pearson(successes: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a binomial rate ``successes / n``, as fractions.

    Args:
        successes: the count of successes (e.g. correctly classified test images).
        n: the number of trials (test images).
        level: the two-sided coverage (0.95).

    Returns:
        (low, high) as fractions in [0, 1]; 0 and 1 are exact at the ends.

    Raises:
        ValueError: ``n`` <= 0, or ``successes`` outside 0..n.
    """
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes} of {n}")
    alpha = 1.0 - level
    lo = 0.0 if successes == 0 else float(stats.beta.ppf(alpha / 2, successes, n - successes + 1))
    hi = 1.0 if successes == n else float(stats.beta.ppf(1 - alpha / 2, successes + 1, n - successes))
    return lo, hi


def rate_interval(rate: float, n: int, scale: float = 1.0, level: float = LEVEL) -> tuple[float, float]:
    """Clopper-Pearson interval of a rate published as a number (``scale`` 100 for a percentage)
    measured on ``n`` test images: the count is the nearest whole number of images.

    Args:
        rate: the published rate, in units of ``scale`` (e.g. 81.6 for a percentage).
        n: the test images it was measured on.
        scale: the rate's unit: 1 for a fraction, 100 for a percentage.
        level: the two-sided coverage (0.95).

    Returns:
        (low, high), in the unit of ``rate``.

    Raises:
        ValueError: ``n`` <= 0, or a rate whose count of images falls outside 0..n.
    """
    lo, hi = clopper_pearson(int(round(rate / scale * n)), n, level)
    return lo * scale, hi * scale


def half_unit(published: float) -> float:
    """Half a unit of the last digit a published number shows (0.005 for 0.29 or 80.65): the
    paper's rounding, within which its value and ours cannot be told apart.

    Args:
        published: the number as published (its ``repr`` gives the digits).

    Returns:
        Half a unit of its last decimal digit, in its unit; 0 for a number written in exponent
        form, NaN or infinite.
    """
    text = repr(float(published))
    if "e" in text or "n" in text:
        return 0.0
    digits = len(text.split(".")[1].rstrip("0")) if "." in text else 0
    return 0.5 * 10.0 ** -digits


def verdict(paper: float, prediction: tuple[float, float], margin: float, n: int | None = None,
            scale: float = 1.0) -> tuple[str, str]:
    """(status, why) of the paper's single-run value against our prediction interval, widened by
    the paper's rounding (``half_unit``); ``n``, the test images a rate is measured on (None: not
    a rate of a known count), ``scale`` the rate's unit (100 for a percentage).

    Args:
        paper: the paper's value.
        prediction: our prediction interval for one more run (``prediction_interval``), (low, high)
            in the unit of ``paper``.
        margin: the half-width a reviewer accepts (``MARGIN``), in the unit of ``paper``.
        n: the test images a rate is measured on; None: not a rate of a known count.
        scale: the rate's unit: 1 for a fraction, 100 for a percentage.

    Returns:
        (status, why): status one of ``STATUSES``, why a sentence for the report.

    Raises:
        ValueError: a value or an end of the interval is not finite.
    """
    lo, hi = prediction
    half = (hi - lo) / 2
    if not (np.isfinite(paper) and np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError("a verdict needs finite values")
    rounding = half_unit(paper)
    if paper < lo - rounding or paper > hi + rounding:
        return "differs", f"the paper's value lies outside our {100 * LEVEL:.0f} % prediction interval"
    if n is not None and scale / n > margin:
        return "inconclusive", (f"inside our prediction interval, but {n} test image(s): one image moves the "
                                f"rate by {scale / n:.3g}, more than the margin {margin:g}")
    if half > margin:
        return "inconclusive", (f"inside our prediction interval, but its half-width {half:.3g} is wider than "
                                f"the margin {margin:g}: the seeds spread too much to tell")
    return "consistent", (f"inside our prediction interval, whose half-width {half:.3g} is within the "
                          f"margin {margin:g}")


def decimals(half_width: float) -> int:
    """Digits after the point that an interval of this half-width supports: its first significant
    digit (two when that digit is 1, so that 0.14 keeps 0.14 and not 0.1).

    Args:
        half_width: the interval's half-width, in the value's unit.

    Returns:
        The number of decimals (>= 0); 3 for a half-width that is not finite and positive.
    """
    if not (np.isfinite(half_width) and half_width > 0):
        return 3
    exponent = math.floor(math.log10(half_width))
    lead = int(half_width / 10 ** exponent)
    return max(0, -exponent + (1 if lead == 1 else 0))


def fmt(value: float, half_width: float) -> str:
    """``value`` to the digits its interval supports.

    Args:
        value: the number.
        half_width: the half-width of its interval, in the value's unit (``decimals``).

    Returns:
        The value as fixed-point text.
    """
    text = f"{value:.{decimals(half_width)}f}"
    # a value that rounds to zero has no sign to show ("-0" would say it is below zero)
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def span(interval, digits_from=None) -> str:
    """'[lo, hi]' to the digits the interval (or ``digits_from``, a narrower one) supports.

    Args:
        interval: (low, high).
        digits_from: another (low, high) whose half-width sets the digits; None: ``interval``'s own.

    Returns:
        The interval as text, "[76, 87]".
    """
    lo, hi = interval
    h = (digits_from[1] - digits_from[0]) / 2 if digits_from is not None else (hi - lo) / 2
    return f"[{fmt(lo, h)}, {fmt(hi, h)}]"


def with_interval(value: float, interval) -> str:
    """A value with its interval, to the digits the interval supports ("82 [76, 87]"); '' without one.

    Args:
        value: the number.
        interval: its (low, high) in the same unit, or None.

    Returns:
        The text; '' when there is no interval or a number is not finite; an interval of zero
        width is written with the digits the numbers have.
    """
    if interval is None or not np.isfinite(value) or not all(np.isfinite(interval)):
        return ""
    if interval[1] == interval[0]:       # no spread at all: the digits the value has
        return f"{value:g} [{interval[0]:g}, {interval[1]:g}]"
    return f"{fmt(value, (interval[1] - interval[0]) / 2)} {span(interval)}"
