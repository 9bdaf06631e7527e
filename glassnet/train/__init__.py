"""Training: fit / evaluate / predict, History, callbacks and the progress line."""
from .loop import fit, evaluate, predict, History  # noqa: F401
from .callbacks import (Callback, EarlyStopping, ModelCheckpoint, LearningRateScheduler,  # noqa: F401
                        CSVLogger, StepSchedule, TimeBudget, Lookahead, FreezeAfter,
                        schedule_factor)
