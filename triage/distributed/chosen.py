"""The Celery runner of a run whose broker was chosen by :func:`triage.distributed.setting.choose`.

It is :class:`~triage.distributed.runner.CeleryRunner` plus two things: the run's record says
where the broker came from (``broker_from``: ``--broker`` or ``case setting``, with the setting's
row), and a broker of the case's setting that does not answer is reported as the setting's.
"""

from __future__ import annotations

from typing import Any

from triage.distributed.runner import CeleryRunner
from triage.distributed.setting import FROM_SETTING, Chosen
from triage.errors import DistributedError


class ChosenRunner(CeleryRunner):
    """Reads a run's files on the workers of a chosen broker; see the module's docstring."""

    def __init__(self, chosen: Chosen, **kwargs: Any) -> None:
        super().__init__(chosen.url, queue=chosen.queue, job_files=chosen.job_files, **kwargs)
        self.origin = dict(chosen.origin)

    def check(self) -> None:
        try:
            super().check()
        except DistributedError as exc:
            if self.origin.get("broker_from") != FROM_SETTING:
                raise
            hint, done = (exc.hint or "start the broker"), "; nothing was recorded"
            hint = hint.removesuffix(done)
            more = "'exhibit broker show' shows the case's setting, --local reads on this machine"
            raise DistributedError(
                f"{exc} (the case's broker setting)", hint=f"{hint}; {more}{done}"
            ) from exc

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), **self.origin}
