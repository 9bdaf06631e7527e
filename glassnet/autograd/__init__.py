"""Automatic differentiation: the graph of Functions and its reverse walk."""
from .grad_mode import no_grad, enable_grad, is_grad_enabled, set_grad_enabled
from .function import Function
from .gradcheck import gradcheck, GradcheckError
from .variable import Variable

__all__ = ["Function", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
           "gradcheck", "GradcheckError", "Variable"]
