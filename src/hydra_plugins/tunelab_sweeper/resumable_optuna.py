"""Hydra's Optuna sweeper, made to finish a search rather than extend it.

The plugin runs `n_trials` new trials every time it is started, even on a stored study that already
holds some. Here `n_trials` is the study's total: a search stopped after 7 of 20 trials runs the
13 left when the same command is given again, and nothing once all 20 are done. Trials that
failed or were cut off while running (state FAIL or RUNNING) do not count and are run again.
"""

from __future__ import annotations

import logging

from hydra_plugins.hydra_optuna_sweeper.optuna_sweeper import OptunaSweeper

log = logging.getLogger(__name__)


def finished_trials(study_name: str | None, storage: str | None) -> int:
    """Completed or pruned trials of a stored study; 0 when there is none yet."""
    import optuna

    if storage is None or study_name is None:
        return 0
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:  # no such study in this storage yet
        return 0
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return sum(trial.state in done for trial in study.trials)


class ResumableOptunaSweeper(OptunaSweeper):
    def sweep(self, arguments: list[str]) -> None:
        impl = self.sweeper
        done = finished_trials(impl.study_name, impl.storage)
        if done:
            left = max(impl.n_trials - done, 0)
            log.info(
                "study %r holds %d finished trial(s) of n_trials=%d: running %d more",
                impl.study_name,
                done,
                impl.n_trials,
                left,
            )
            impl.n_trials = left
        if impl.n_trials == 0:
            return None
        return super().sweep(arguments)
