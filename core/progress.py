"""Progress of long commands (imports, refreshes), where operators can see it.

On a terminal: a live bar (tqdm) with the total, percentage, rate and ETA. Elsewhere (docker,
Kubernetes, cron, a pipe): a log line (logger "progress", JSON in PRODUCTION) at least every 10%
of the total and at least every 10 seconds, so a one-hour import is never silent until the end.
"""

from __future__ import annotations

import logging
import time

logger = logging.getLogger("progress")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    hours, rest = divmod(round(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{seconds:02d}s"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


class Progress:
    """`update(done)` with the absolute count so far; `close()` at the end (or use `with`)."""

    def __init__(
        self,
        label: str,
        *,
        total: int | None,
        unit: str = "rows",
        terminal: bool,
        enabled: bool = True,
        every_seconds: float = 10.0,
        every_fraction: float = 0.10,
        clock=time.monotonic,
    ):
        self.label, self.total, self.unit = label, total, unit
        self.enabled = enabled
        self.every_seconds, self.every_fraction = every_seconds, every_fraction
        self.clock = clock
        self.started = clock()
        self.done = 0
        self._logged_at = self.started
        self._logged_done = 0
        self._bar = None
        if enabled and terminal:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit=f" {unit}", desc=label, dynamic_ncols=True, smoothing=0.1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def rate(self) -> float:
        elapsed = self.clock() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        rate = self.rate()
        if self.total is None or rate <= 0:
            return None
        return max(0.0, (self.total - self.done) / rate)

    def line(self) -> str:
        rate = self.rate()
        if self.total:
            share = f"{self.done:,}/{self.total:,} {self.unit} ({100 * self.done / self.total:.0f}%)"
        else:
            share = f"{self.done:,} {self.unit}"
        return f"{self.label}: {share}, {rate:,.0f} {self.unit}/s, ETA {duration(self.eta())}"

    def update(self, done: int, detail: str = "") -> None:
        if not self.enabled:
            return
        step, self.done = done - self.done, done
        if self._bar is not None:
            self._bar.update(step)
            if detail:
                self._bar.set_postfix_str(detail, refresh=False)
            return
        now = self.clock()
        fraction_step = (self.total or 0) * self.every_fraction
        # A line whenever a new tenth (every_fraction) of the total is reached.
        due_by_share = fraction_step > 0 and self.done // fraction_step > self._logged_done // fraction_step
        if due_by_share or now - self._logged_at >= self.every_seconds:
            self._log(detail)

    def _log(self, detail: str = "") -> None:
        self._logged_at, self._logged_done = self.clock(), self.done
        percent = round(100 * self.done / self.total, 1) if self.total else None
        logger.info(
            "%s%s",
            self.line(),
            f" ({detail})" if detail else "",
            extra={
                "done": self.done, "total": self.total, "percent": percent,
                "rate_per_second": round(self.rate(), 1), "eta_seconds": self.eta(),
            },
        )

    def write(self, text: str, stream) -> None:
        """A line of output that keeps the bar (if any) below it."""
        if self._bar is not None:
            self._bar.write(text)
        else:
            stream.write(text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled and self.done != self._logged_done:
            self._log()


def count_lines(path) -> int:
    """Lines in a file, read in binary blocks (about a second per GB)."""
    lines = 0
    last = b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (0 if last == b"\n" else 1)
