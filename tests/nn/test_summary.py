"""The Keras-style summary: the notes' parameter counts and output shapes, exactly."""
import glassnet as gn
import glassnet.nn as nn


def notes_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 10))


def test_notes_mlp_has_669706_parameters():
    s = gn.summary(notes_mlp(), (1, 28, 28))
    assert s.total_params == s.trainable_params == 669_706
    assert [r.params for r in s.layers] == [0, 401_920, 0, 0, 262_656, 0, 0, 5_130]
    assert [r.output_shape for r in s.layers] == [(-1, 784), (-1, 512), (-1, 512), (-1, 512),
                                                  (-1, 512), (-1, 512), (-1, 512), (-1, 10)]
    text = str(s)
    assert "Total params: 669,706" in text and "Non-trainable params: 0" in text
    assert "1 (Linear)" in text and "[-1, 784]" in text
    assert s.mult_adds == 784 * 512 + 512 * 512 + 512 * 10


def test_strided_conv_shape_and_params():
    s = gn.summary(nn.Conv2d(1, 16, kernel_size=2, stride=2), (1, 200, 200))
    (row,) = s.layers
    assert row.output_shape == (-1, 16, 100, 100) and row.params == 80 and s.total_params == 80


def test_max_pool_shape_and_no_params():
    s = gn.summary(nn.Sequential(nn.MaxPool2d(2, 2)), (15, 100, 100))
    assert s.layers[0].output_shape == (-1, 15, 50, 50) and s.total_params == 0


def test_frozen_parameters_are_non_trainable_and_modes_are_restored():
    model = notes_mlp()
    model[1].requires_grad_(False)
    s = gn.summary(model, (784,))
    assert s.non_trainable_params == 401_920 and s.trainable_params == 669_706 - 401_920
    assert model.training and "Non-trainable params: 401,920" in str(s)


def test_summary_without_input_size_counts_parameters():
    s = gn.summary(notes_mlp())
    assert s.total_params == 669_706 and all(r.output_shape is None for r in s.layers)
    assert "Linear(in_features=784, out_features=512, bias=True)" in repr(notes_mlp())


def test_summary_reports_a_failing_forward_plainly():
    import pytest
    with pytest.raises(ValueError, match=r"summary: a forward pass of Sequential on input of "
                                         r"size \(3, 28, 28\) failed"):
        gn.summary(nn.Sequential(nn.Conv2d(1, 4, 3)), (3, 28, 28))


def test_notes_cnn_output_shapes():
    model = nn.Sequential(nn.Conv2d(1, 16, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(1568, 10))
    s = gn.summary(model, (1, 28, 28))
    assert [r.output_shape for r in s.layers] == [
        (-1, 16, 28, 28), (-1, 16, 28, 28), (-1, 16, 14, 14), (-1, 32, 14, 14),
        (-1, 32, 14, 14), (-1, 32, 7, 7), (-1, 1568), (-1, 10)]
    assert s.total_params == 416 + 12_832 + 15_690
    assert s.mult_adds == 16 * 28 * 28 * 25 + 32 * 14 * 14 * 400 + 1568 * 10
