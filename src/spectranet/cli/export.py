"""``spectranet export``: a trained run's model as a file that runs without spectranet."""

from __future__ import annotations

import json

import click

__all__ = ["export"]


@click.command("export")
@click.argument("run", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["onnx", "torchscript"]), default="onnx",
              show_default=True, help="ONNX (onnxruntime) or TorchScript (torch.jit.load).")
@click.option("--out", type=click.Path(),
              help="Model file [default: RUN/model.onnx or RUN/model.pt]; sidecar: OUT.json.")
@click.option("--seed", type=int, help="This seed's model [default: the best on validation].")
@click.option("--force", is_flag=True,
              help="Replace an existing --out file that is not an earlier export.")
def export(run: str, fmt: str, out: str | None, seed: int | None, force: bool) -> None:
    """A run's model as one file, with a JSON sidecar of its inputs and preprocessing.

    The sidecar holds the input shape, the class names in output order (outputs are logits)
    and the preprocessing as plain numbers; docs/export.md shows how to compute the inputs
    with numpy and librosa only.

    \b
    Example:
      spectranet export runs/ip --format onnx --out runs/ip.onnx
    """
    from spectranet.export import export_run, sidecar_path

    path = export_run(run, out, format=fmt, seed=seed, force=force)
    click.echo(f"model: {path}\nsidecar: {sidecar_path(path)}")
    mix = json.loads(sidecar_path(path).read_text()).get("svm_mix")
    if mix is not None:
        click.echo(f"note: the run mixes a spectral SVM into the CNN (weight {mix['weight']}); "
                   "the exported file is the CNN alone (see the sidecar's svm_mix)")
