"""``spectranet experiment``: the papers' experiments as resumable grids with reports."""

from __future__ import annotations

import click

from spectranet.config import PRESETS

__all__ = ["experiment"]


class _ExperimentCommand(click.Command):
    """Lists every paper's experiments in its help (imported only when help is shown)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from spectranet.experiments import list_experiments

        with formatter.section("Experiments (PAPER NAME)"):
            formatter.write_dl([(f"{paper} {name}", text)
                                for paper, names in list_experiments().items()
                                for name, text in names.items()])
        super().format_epilog(ctx, formatter)


@click.command("experiment", cls=_ExperimentCommand)
@click.argument("paper", type=click.Choice(["chen2019", "ahmad2020"]))
@click.argument("name")
@click.option("--scale", type=click.Choice(PRESETS), default="quick", show_default=True,
              help="paper: the paper's settings; standard: our recommended recipe (chen2019); "
                   "quick: minutes to hours on a 2-core CPU, every cut stated in the report.")
@click.option("--jobs", type=int, default=1, show_default=True, help="Runs trained at once.")
@click.option("--out", type=click.Path(), required=True,
              help="Grid folder; rerunning the command resumes it.")
@click.option("--reuse", type=click.Path(exists=True, file_okay=False), multiple=True,
              help="Another experiment's folder: its identical finished runs are copied.")
@click.option("--device", default=None,
              help="cpu, cuda or cuda:<index> for every run [default: the presets', cpu]; "
                   "with cuda and --jobs N each run trains on its own GPU.")
@click.option("--share-gpus", is_flag=True,
              help="Allow more --jobs than GPUs (several runs on one GPU at once).")
def experiment(paper: str, name: str, scale: str, jobs: int, out: str,
               reuse: tuple[str, ...], device: str | None, share_gpus: bool) -> None:
    """Run one of the papers' experiments as a resumable grid and write its report.

    Prints one line per run started, finished or reused, and each run's epochs.

    \b
    Example (Ahmad's Table IV at the paper's 50 epochs, 3 seeds; about an hour here):
      spectranet experiment ahmad2020 table4 --scale paper --jobs 2 --out results/ahmad_table4
    """
    from spectranet.experiments import run_experiment

    report = run_experiment(paper, name, scale=scale, jobs=jobs, out=out, reuse=reuse,
                            device=device, share_gpus=share_gpus)
    click.echo(f"report: {report}")
