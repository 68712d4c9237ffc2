import pytest
import torch
from torch import nn

from spectranet.audio.models import (
    PAPER_SPECS,
    LayerToken,
    PiczakCNN,
    build_model,
    canonical_spec,
    default_filters,
    from_spec,
    list_models,
    parse_spec,
)
from spectranet.errors import ConfigError


def _n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_parse_spec_tokens():
    tokens = parse_spec("Cov1 + Cov2+Max-pooling + DilaCov1(3) + DilaCov2")
    assert [t.kind for t in tokens] == ["conv", "conv", "pool", "dilated", "dilated"]
    assert [t.dilation for t in tokens] == [1, 1, 1, 3, 2]  # bare DilaCov: rate 2 (Table 1)
    assert tokens[3] == LayerToken("dilated", 1, 3, "DilaCov1(3)")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("Cov1 + Covv2", r"unknown layer 'Covv2' at position 2 in spec 'Cov1 \+ Covv2'; "
                         r"expected Cov<n>, DilaCov<n>\(r\) or Max-pooling"),
        ("Cov1 + Avg-pooling", r"unknown layer 'Avg-pooling' at position 2"),
        ("Cov1 + Cov3", r"'Cov3' at position 2 .* out of order; expected Cov2"),
        ("Cov1 + DilaCov2(2)", r"'DilaCov2\(2\)' at position 2 .* expected DilaCov1"),
        ("Cov1(2)", r"'Cov1\(2\)' at position 1 .* takes no dilation rate"),
        ("Cov1 + DilaCov1(0)", r"dilation rate of 'DilaCov1\(0\)' .* must be >= 1, got 0"),
        ("Max-pooling + Cov1", r"must start with a convolution"),
        ("Cov1 + + Cov2", r"unknown layer '' at position 2"),
        ("", r"spec must be a non-empty layer string"),
    ],
)  # fmt: skip
def test_parse_spec_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        parse_spec(spec)


# Chen et al. 2019, Tables 1-3, as printed (Table 3 Test 2 prints "Cov3++DilaCov1").
PRINTED = {
    1: ["Cov1 + Cov2 + Cov3 + DilaCov1", "Cov1 + Cov2 + Cov3 + Max-pooling + Cov4",
        "Cov1 + Cov2 + DilaCov1 + DilaCov2", "Cov1 + Cov2 + Max-pooling + Cov3 + Cov4",
        "Cov1 + DilaCov1 + DilaCov2 + DilaCov3", "Cov1 + Max-pooling + Cov2 + Cov3 + Cov4"],
    2: ["Cov1 + Cov2 + Cov3 + DilaCov1(2)", "Cov1 + Cov2 + Cov3 + DilaCov1(3)",
        "Cov1 + Cov2 + DilaCov1(2) + DilaCov2(2)", "Cov1 + Cov2 + DilaCov1(3) + DilaCov2(3)",
        "Cov1 + DilaCov1(2) + DilaCov2(2) + DilaCov3(2)",
        "Cov1 + DilaCov1(3) + DilaCov2(3) + DilaCov3(3)"],
    3: ["Cov1 + Cov2 + Cov3 + DilaCov1", "Cov1 + Cov2 + Cov3++DilaCov1 + DilaCov2",
        "Cov1 + Cov2 + DilaCov1 + DilaCov2", "Cov1 + Cov2 + DilaCov1 + DilaCov2 + DilaCov3",
        "Cov1 + DilaCov1 + DilaCov2 + DilaCov3",
        "Cov1 + DilaCov1 + DilaCov2 + DilaCov3 + DilaCov4"],
}


@pytest.mark.parametrize(("table", "test"), [(t, n) for t in (1, 2, 3) for n in range(1, 7)])
def test_paper_specs_are_the_printed_tables(table, test):
    printed = PRINTED[table][test - 1].replace("++", " + ")
    assert PAPER_SPECS[f"table{table}_test{test}"] == printed


def test_paper_specs_structure():
    assert len(PAPER_SPECS) == 18
    distinct = {canonical_spec(s) for s in PAPER_SPECS.values()}
    assert len(distinct) == 12  # Tables 2 and 3 share six models with Table 1
    for g in (1, 2, 3):
        dilated, pooled = PAPER_SPECS[f"table1_test{2 * g - 1}"], PAPER_SPECS[f"table1_test{2 * g}"]
        assert sum(t.kind == "dilated" for t in parse_spec(dilated)) == g
        assert len(parse_spec(dilated)) == len(parse_spec(pooled)) - 1  # pooling step replaced
        rate2, rate3 = PAPER_SPECS[f"table2_test{2 * g - 1}"], PAPER_SPECS[f"table2_test{2 * g}"]
        assert canonical_spec(rate2) == canonical_spec(dilated)
        assert rate3 == rate2.replace("(2)", "(3)")
        base, more = PAPER_SPECS[f"table3_test{2 * g - 1}"], PAPER_SPECS[f"table3_test{2 * g}"]
        assert base == dilated
        assert sum(t.kind == "dilated" for t in parse_spec(more)) == g + 1


def test_canonical_spec():
    assert canonical_spec("Cov1+DilaCov1 + max-pooling") == "Cov1 + DilaCov1(2) + Max-pooling"
    assert canonical_spec("Cov1 + DilaCov1(3)") == "Cov1 + DilaCov1(3)"


@pytest.mark.parametrize("name", list(PAPER_SPECS))
def test_every_paper_spec_builds_and_keeps_size(name):
    spec = PAPER_SPECS[name]
    model = from_spec(spec, n_classes=10).eval()
    x = torch.zeros(3, 2, 64, 41)
    n_pool = spec.count("Max-pooling")
    feats = model.features(x)
    assert feats.shape[2:] == ((64, 41) if n_pool == 0 else (32, 20))
    size = (64, 41)  # every conv keeps the size, every pooling halves it
    h = x
    for layer in model.features:
        h = layer(h)
        if isinstance(layer, nn.Conv2d):
            assert h.shape[2:] == size
        if isinstance(layer, nn.MaxPool2d):
            size = (size[0] // 2, size[1] // 2)
            assert h.shape[2:] == size
    assert model(x).shape == (3, 10)
    dil = [m.dilation for m in model.features if isinstance(m, nn.Conv2d)]
    assert dil == [(t.dilation, t.dilation) for t in parse_spec(spec) if t.kind != "pool"]
    assert [m.out_channels for m in model.features if isinstance(m, nn.Conv2d)][:4] == [
        32, 32, 64, 64,
    ]  # fmt: skip


def test_dilated_and_pooled_twins_have_equal_parameters():
    for g in (1, 2, 3):
        dilated = from_spec(PAPER_SPECS[f"table1_test{2 * g - 1}"], 10)
        pooled = from_spec(PAPER_SPECS[f"table1_test{2 * g}"], 10)
        assert _n_params(dilated) == _n_params(pooled) == 65930


def test_filters_override_and_validation():
    model = from_spec("Cov1 + DilaCov1(2)", 5, filters=[8, 16], dropout=0.25, in_channels=1)
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16] and convs[0].in_channels == 1
    assert model.classifier.in_features == 16 and model.dropout.p == 0.25
    deep = from_spec("Cov1 + Cov2 + Cov3 + Cov4 + Cov5", 3)
    assert [m.out_channels for m in deep.features if isinstance(m, nn.Conv2d)][-1] == 64
    short = from_spec("Cov1 + Cov2 + Cov3", 5, filters=[8, 12])  # extended with the last width
    assert [m.out_channels for m in short.features if isinstance(m, nn.Conv2d)] == [8, 12, 12]
    with pytest.raises(ConfigError, match=r"filters must be 2 positive integers .* got \[8, 0\]"):
        from_spec("Cov1 + Cov2", 5, filters=[8, 0])
    with pytest.raises(ConfigError, match=r"filters must be 1 positive integers .* got \[8, 8\]"):
        from_spec("Cov1", 5, filters=[8, 8])
    with pytest.raises(ConfigError, match="n_classes must be an integer >= 2, got 1"):
        from_spec("Cov1", 1)


def test_piczak_shapes_and_parameters():
    model = PiczakCNN(10).eval()
    assert model(torch.zeros(2, 2, 64, 41)).shape == (2, 10)
    assert model.classifier[1].in_features == 80 * 5 * 3  # (64-57+1-4+1) x ((41-6+1-3)//3+1-3)//3+1
    expected = (
        (2 * 57 * 6 * 80 + 80)
        + (80 * 3 * 80 + 80)
        + (1200 * 5000 + 5000)
        + (5000 * 5000 + 5000)
        + (5000 * 10 + 10)
    )
    assert _n_params(model) == expected
    with pytest.raises(ConfigError, match="n_mels >= 60"):
        PiczakCNN(10, n_mels=40)


@pytest.mark.parametrize("name", list_models())
def test_registry_builds_every_model(name):
    model = build_model(name, 10)
    assert model(torch.zeros(1, 2, 64, 41)).shape == (1, 10)


def test_build_model_spec_and_unknown():
    assert "piczak" in list_models() and set(PAPER_SPECS) <= set(list_models())
    assert isinstance(build_model("Cov1 + DilaCov1(3)", 4), nn.Module)
    with pytest.raises(ConfigError, match="filters must be None for 'piczak'"):
        build_model("piczak", 10, filters=[8, 8])
    assert isinstance(build_model("piczak", 10, filters=None, dropout=0.3), PiczakCNN)
    with pytest.raises(ConfigError, match="model must be one of"):
        build_model("resnet", 10)
    with pytest.raises(ConfigError, match="unknown layer 'Cvo2'"):
        build_model("Cov1 + Cvo2", 10)


def test_default_filters_are_the_models_default():
    spec = "Cov1 + Cov2 + Max-pooling + Cov3 + DilaCov1(2) + DilaCov2(2)"
    assert default_filters(spec) == [32, 32, 64, 64, 64]
    convs = [m for m in from_spec(spec, n_classes=10).modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == default_filters(spec)
