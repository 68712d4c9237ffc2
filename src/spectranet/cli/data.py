"""``spectranet data``: list, download and verify the registered datasets."""

from __future__ import annotations

import click

__all__ = ["data"]


@click.group()
def data() -> None:
    """List, download and verify datasets under $SPECTRANET_DATA."""


@data.command("list")
def data_list() -> None:
    """Registered datasets and whether their files are present and verified.

    \b
    Example:
      spectranet data list
    """
    from spectranet.data import list_datasets
    from spectranet.datahome import data_home

    click.echo(f"data root: {data_home()}")
    for row in list_datasets():
        click.echo(f"{row['name']:<18} {row['domain']:<6} {row['status']}")


@data.command("download")
@click.argument("name")
def data_download(name: str) -> None:
    """Fetch a dataset from its official address and check its sha256.

    Files already present and verified are not fetched again. Without a network, the error
    says which file to put where by hand, and the sha256 it must have.

    \b
    Example:
      spectranet data download indian_pines
    """
    from spectranet.data import download_dataset

    for path in download_dataset(name):
        click.echo(str(path))


@data.command("verify")
@click.argument("name")
def data_verify(name: str) -> None:
    """Check a dataset's files against the registered sha256 sums (exit 1 when any fails).

    \b
    Example:
      spectranet data verify indian_pines
    """
    from spectranet.data import verify_dataset

    result = verify_dataset(name)
    for file, status in result.items():
        click.echo(f"{file}: {status}")
    failed = [f for f, status in result.items() if status not in ("ok", "unverified", "extracted")]
    if failed:
        click.echo(f"FAIL: {name}: {len(failed)} of {len(result)} files missing or with another "
                   "sha256", err=True)
        raise SystemExit(1)
    unverified = sum(status == "unverified" for status in result.values())
    click.echo(f"PASS: {name}: {len(result) - unverified} of {len(result)} files match their "
               "sha256" + (f", {unverified} have no registered sum" if unverified else ""))
