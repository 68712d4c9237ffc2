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
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local",
              show_default=True,
              help="local: --jobs processes here; ray: each run a Ray task on a Ray cluster "
                   "(--out on storage every node sees at the same path).")
@click.option("--address", default=None,
              help="Ray cluster to use (HEAD:6379, or auto) [default: a local Ray for this "
                   "command].")
@click.option("--cpus-per-run", type=float, default=1, show_default=True,
              help="Ray: CPUs each run asks for (also its torch threads).")
@click.option("--gpus-per-run", type=float, default=0, show_default=True,
              help="Ray: GPUs each run asks for (use with --device cuda).")
@click.option("--retries", type=int, default=2, show_default=True,
              help="Ray: restarts of a run whose worker or node died (it resumes from its "
                   "checkpoints).")
def experiment(paper: str, name: str, scale: str, jobs: int, out: str,
               reuse: tuple[str, ...], device: str | None, share_gpus: bool, backend: str,
               address: str | None, cpus_per_run: float, gpus_per_run: float,
               retries: int) -> None:
    """Run one of the papers' experiments as a resumable grid and write its report.

    Prints one line per run started, finished or reused, and each run's epochs.

    \b
    Across machines (--backend ray): the runs are Ray tasks on the cluster that `ray start`
    built (docs/across_machines.md); --out must be on a shared file system.

    \b
    Example (Ahmad's Table IV at the paper's 50 epochs, 3 seeds; about an hour here):
      spectranet experiment ahmad2020 table4 --scale paper --jobs 2 --out results/ahmad_table4
    """
    from spectranet.errors import ConfigError
    from spectranet.experiments import run_experiment

    if address is not None and backend != "ray":
        raise ConfigError("--address needs --backend ray")
    report = run_experiment(paper, name, scale=scale, jobs=jobs, out=out, reuse=reuse,
                            device=device, share_gpus=share_gpus, backend=backend,
                            address=address, cpus_per_run=cpus_per_run,
                            gpus_per_run=gpus_per_run, retries=retries)
    click.echo(f"report: {report}")
