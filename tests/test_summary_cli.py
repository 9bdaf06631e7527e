"""`glassnet summary MODEL --set/--compare` and `glassnet summary --savings`: builder
arguments from the command line, and the notes' savings counted on built modules."""
import json

import pytest

from glassnet import models
from glassnet.cli import main
from glassnet.summary import parse_assignments, summary


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def _one_line_error(capsys, argv, *fragments):
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("glassnet summary: "), captured.err
    assert captured.out == ""
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def _params(name, **kwargs):
    return sum(p.numel() for p in models.get(name, **kwargs).parameters())


def test_values_are_python_literals_where_they_are_one():
    assert parse_assignments(["a=None", "b=3", "c=True", "d=3x3", "e=0.5", "f=(1, 2)",
                              "g='x'", "h=false"]) == {
        "a": None, "b": 3, "c": True, "d": "3x3", "e": 0.5, "f": (1, 2), "g": "x",
        "h": "false"}


def test_set_passes_builder_arguments(capsys):
    result = _json(capsys, ["summary", "inception", "--set", "factorize=asymmetric",
                            "--set", "num_classes=100", "--json"])
    assert result["arguments"] == {"factorize": "asymmetric", "num_classes": 100}
    assert result["total_params"] == _params("inception", factorize="asymmetric",
                                             num_classes=100)
    assert result["layers"][-1]["output_shape"] == [-1, 100]
    assert "comparison" not in result
    plain = _json(capsys, ["summary", "mobilenetv2", "--set", "project_shortcut=False",
                           "--json"])
    assert plain["total_params"] == _params("mobilenetv2", project_shortcut=False)
    assert plain["total_params"] < _params("mobilenetv2")


def test_compare_against_the_default_build(capsys):
    result = _json(capsys, ["summary", "inception", "--compare", "factorize=asymmetric",
                            "--json"])
    c = result["comparison"]
    base, variant = _params("inception"), _params("inception", factorize="asymmetric")
    assert c["baseline"] == {"arguments": {}, "params": base,
                             "mult_adds": summary(models.get("inception"), (3, 32, 32)).mult_adds}
    assert c["variant"]["arguments"] == {"factorize": "asymmetric"}
    assert result["total_params"] == c["variant"]["params"] == variant
    assert c["params_change"] == pytest.approx(variant / base - 1)
    assert c["mult_adds_change"] == pytest.approx(
        c["variant"]["mult_adds"] / c["baseline"]["mult_adds"] - 1)
    assert c["mult_adds_change"] < c["params_change"] < 0

    assert main(["summary", "inception", "--compare", "factorize=asymmetric"]) == 0
    out = capsys.readouterr().out
    assert "Total params: " + f"{variant:,}" in out             # the table is the variant's
    assert f"change: {100 * (variant / base - 1):+.1f}% parameters" in out


def test_set_is_the_baseline_of_compare(capsys):
    c = _json(capsys, ["summary", "inception", "--set", "num_classes=100", "--compare",
                       "factorize=3x3", "--json"])["comparison"]
    assert c["baseline"]["arguments"] == {"num_classes": 100}
    assert c["variant"]["arguments"] == {"num_classes": 100, "factorize": "3x3"}
    assert c["baseline"]["params"] == _params("inception", num_classes=100)
    assert c["variant"]["params"] == _params("inception", num_classes=100, factorize="3x3")


@pytest.mark.parametrize("argv, fragments", [
    (["inception", "--set", "kernel=5"],
     ["inception has no argument kernel", "accepts: num_classes=10, factorize=None"]),
    (["mobilenetv2", "--compare", "factorize=3x3"],
     ["mobilenetv2 has no argument factorize", "project_shortcut=True"]),
    (["inception", "--set", "factorize=5x5"],
     ["inception cannot be built with factorize='5x5'", "must be one of",
      "accepts: num_classes=10, factorize=None"]),
    (["inception", "--set", "factorize"], ["--set expects KEY=VALUE, got 'factorize'"]),
    (["inception", "--compare", "=3"], ["--compare expects KEY=VALUE"]),
    (["--set", "factorize=3x3"], ["name a MODEL"]),
    (["resnet20", "--savings"], ["--savings takes no MODEL"]),
])
def test_bad_arguments_are_one_line_errors(capsys, argv, fragments):
    _one_line_error(capsys, ["summary"] + argv, *fragments)


@pytest.fixture(scope="module")
def savings():
    from glassnet.summary import savings
    return savings()


def _block(result, prefix):
    [row] = [r for r in result["blocks"] if r["comparison"].startswith(prefix)]
    return row


def test_savings_follow_from_the_parameter_counts(savings):
    c = savings["channels"]
    assert c == 64 and savings["input_size"] == [64, 32, 32]
    vgg = _block(savings, "VGG: one 5x5 conv vs two stacked 3x3 convs, no bias")
    assert vgg["params"] == [25 * c * c, 2 * 9 * c * c]
    assert vgg["params_change"] == pytest.approx(2 * 9 / 25 - 1)           # -28%
    assert vgg["mult_adds"] == [25 * c * c * 32 * 32, 18 * c * c * 32 * 32]
    biased = _block(savings, "VGG: one 5x5 conv vs two stacked 3x3 convs, with bias")
    assert biased["params"] == [25 * c * c + c, 2 * (9 * c * c + c)]
    assert biased["params_change"] == pytest.approx(biased["params"][1] / biased["params"][0] - 1)
    for prefix in ("VGG: vgg_block", "Inception v2"):
        row = _block(savings, prefix)
        assert row["mult_adds_change"] == pytest.approx(2 * 9 / 25 - 1)
        assert row["params_change"] == pytest.approx(row["params"][1] / row["params"][0] - 1)
    v3 = _block(savings, "Inception v3")
    assert v3["mult_adds_change"] == pytest.approx(2 * 3 / 9 - 1)            # -33%
    assert v3["params"] == [9 * c * c + 2 * c, 2 * 3 * c * c + 4 * c]         # + BatchNorm
    mobile = _block(savings, "MobileNet")
    assert mobile["mult_adds_change"] == pytest.approx(1 / c + 1 / 9 - 1)    # 1/D + 1/k^2
    assert mobile["params"] == [9 * c * c + 2 * c, 9 * c + 2 * c + c * c + 2 * c]


def test_savings_counts_match_torch_modules(savings):
    torch = pytest.importorskip("torch")
    nn, c = torch.nn, savings["channels"]

    def count(*modules):
        return sum(p.numel() for m in modules for p in m.parameters())
    assert _block(savings, "VGG: one 5x5 conv vs two stacked 3x3 convs, with bias")["params"] \
        == [count(nn.Conv2d(c, c, 5)), count(nn.Conv2d(c, c, 3), nn.Conv2d(c, c, 3))]
    assert _block(savings, "MobileNet")["params"] == [
        count(nn.Conv2d(c, c, 3, bias=False), nn.BatchNorm2d(c)),
        count(nn.Conv2d(c, c, 3, groups=c, bias=False), nn.BatchNorm2d(c),
              nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))]


def test_savings_compare_inception_factorizations(savings):
    rows = {r["factorize"]: r for r in savings["inception"]}
    assert list(rows) == [None, "3x3", "asymmetric"]
    for factorize, row in rows.items():
        assert row["params"] == _params("inception", factorize=factorize)
        assert row["params_change"] == pytest.approx(row["params"] / rows[None]["params"] - 1)
    assert rows[None]["params_change"] == 0
    assert rows["asymmetric"]["mult_adds"] < rows[None]["mult_adds"]


def test_savings_command_text_and_json(capsys, savings):
    assert _json(capsys, ["summary", "--savings", "--json"]) == json.loads(json.dumps(savings))
    assert main(["summary", "--savings"]) == 0
    out = capsys.readouterr().out
    assert "no bias" in out and "with bias" in out and "-28.0%" in out and "-33.3%" in out
    assert "'asymmetric'" in out and "inception" in out
