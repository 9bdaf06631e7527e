"""The reverse walk: accumulation, graph release, no_grad, detach, gradcheck itself."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd import Function, GradcheckError, gradcheck


def test_gradient_of_a_shared_input_sums_over_paths():
    x = gn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x + x * 3  # dy/dx = 2x + 3
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5, 7, 9])


def test_grads_accumulate_across_backward_calls_until_zeroed():
    x = gn.tensor([1.0, -2.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5, 5])
    x.grad = None
    (x * 4).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4, 4])


def test_second_backward_raises_unless_graph_retained():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp([1.0, 2.0]), rtol=1e-6)
    with pytest.raises(RuntimeError, match="already freed"):
        y.backward()


def test_backward_through_a_partly_freed_graph_raises():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    h.sum().backward()
    with pytest.raises(RuntimeError, match=r"graph through Exp was already freed"):
        (h * 2).sum().backward()


def test_saved_buffers_are_released_after_backward():
    x = gn.randn(4, 4, requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    assert node.out is not None
    y.sum().backward()
    assert node.released and node.parents is None and not node.__dict__


def test_only_leaves_keep_grad_unless_retained():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    k = (x * 5).retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(k.grad.numpy(), [3, 6])
    np.testing.assert_allclose(x.grad.numpy(), 30 * x._array)


def test_backward_with_explicit_gradient():
    x = gn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * 2).backward(gn.tensor([1.0, 0.5, 0.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2, 1, 0])


def test_backward_errors_speak_plainly():
    x = gn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar output.*shape \(3,\)"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"gradient has shape \(2,\) but the output has shape \(3,\)"):
        (x * 2).backward(gn.ones(2))
    with pytest.raises(RuntimeError, match="does not require grad"):
        gn.ones(3).sum().backward()
    with pytest.raises(TypeError, match="only floating-point tensors"):
        gn.tensor([1, 2]).requires_grad_()


def test_no_grad_context_and_decorator_record_nothing():
    x = gn.ones(3, requires_grad=True)
    with gn.no_grad():
        y = x * 2
        with gn.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None and z.requires_grad

    @gn.no_grad()
    def f(t):
        return t.exp()
    assert not f(x).requires_grad and gn.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_memory():
    x = gn.ones(3, requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = (x * d).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2])


def test_inplace_rules():
    w = gn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\+=: a tensor that requires grad"):
        w += 1
    with gn.no_grad():
        w -= gn.tensor([0.5, 0.5, 0.5])
    np.testing.assert_allclose(w.detach().numpy(), [0.5, 0.5, 0.5])
    a = gn.zeros(2, 2)
    a += 1
    a *= gn.tensor([2.0, 3.0])
    a /= 2
    np.testing.assert_allclose(a.numpy(), [[1, 1.5], [1, 1.5]])
    with pytest.raises(ValueError, match="in place"):
        a += gn.ones(3)


def test_deep_chain_does_not_hit_the_recursion_limit():
    x = gn.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 5000], rtol=1e-3)


class _WrongSquare(Function):
    def forward(self, a):
        self.a = a
        return a * a

    def backward(self, g):
        return g * self.a  # wrong on purpose: should be 2a


def test_gradcheck_passes_a_correct_function_and_catches_a_wrong_one():
    x = gn.randn(3, 2, dtype=gn.float64, requires_grad=True)
    assert gradcheck(lambda t: t * t, (x,))
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(3, 2\)\) differs"):
        gradcheck(lambda t: _WrongSquare.apply(t), (x,))
    assert gradcheck(lambda t: _WrongSquare.apply(t), (x,), raise_exception=False) is False


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="nothing to check"):
        gradcheck(lambda t: t * 2, (gn.ones(2),))
