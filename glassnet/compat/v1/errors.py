"""tf.errors: the exception classes TF1 programs catch."""
from ...graph.executor import FailedPreconditionError as _GraphFailedPrecondition


class OpError(Exception):
    pass


class FailedPreconditionError(OpError, _GraphFailedPrecondition):
    """A variable was read before it had a value."""


class InvalidArgumentError(OpError, ValueError):
    """An argument an op cannot take (e.g. a placeholder that was not fed)."""


class NotFoundError(OpError, KeyError):
    """A checkpoint lacks a variable."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""
