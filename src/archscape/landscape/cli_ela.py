"""``archscape landscape ela`` and ``archscape landscape bbob``: ELA of NAS problems and of BBOB.

Two plain click commands (:data:`ela_cmd`, :data:`bbob_cmd`) that the
``landscape`` group registers.  Bad input raises
:class:`~archscape.errors.ArchscapeError`, which the entry point prints as one
line.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import click
import numpy as np

from archscape.errors import ArchscapeError



def _finite(v):
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def _write_json(path: Path, obj) -> None:
    from archscape.util import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1) + "\n")


def _write_csv(path: Path, header: list[str], rows) -> None:
    from archscape.util import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def _out_dir(out: Path | None) -> Path | None:
    if out is None:
        return None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchscapeError(f"cannot create the output folder {out}: {exc.strerror}") from None
    return out


@click.command("ela")
@click.option("--csv", "csv_file", type=click.Path(path_type=Path), help="a Learning-from-NAS results table (CSV)")
@click.option("--dataset", "datasets", multiple=True, type=click.Choice(["mnist", "fashion", "cifar"]),
              help="published table(s) from the data registry (repeatable; default: all three)")
@click.option("--space", type=click.Choice(["cnn-broad", "cnn-narrow"]), default="cnn-broad", show_default=True,
              help="the CNN space whose bounds map the design variables to [-5, 5]")
@click.option("--bootstrap", "reps", type=click.IntRange(min=1), default=30, show_default=True, help="bootstrap samples")
@click.option("--size", type=click.IntRange(min=10), default=800, show_default=True, help="rows per bootstrap sample")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--objective", type=click.Choice(["perf", "error"]), default="perf", show_default=True,
              help="y to minimise: perf as published (the paper's choice) or 1 - perf")
@click.option("--legacy-adj-r2", is_flag=True, help="flacco's adjusted R^2 of 2020, as the paper's table reports")
@click.option("--bbob/--no-bbob", "with_bbob", default=True, show_default=True, help="compare with the 24 BBOB functions")
@click.option("--instances", type=click.IntRange(min=1), default=5, show_default=True, help="BBOB instances per function")
@click.option("--all-features", is_flag=True, help="show every feature, not only the paper's 20")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--out", type=click.Path(path_type=Path), help="folder for tables and figures")
def ela_cmd(csv_file, datasets, space, reps, size, seed, objective, legacy_adj_r2, with_bbob, instances,
            all_features, as_json, out):
    """ELA features of NAS problems, as in "Learning from NAS" (van Stein et al. 2020).

    Maps the 23 numeric design variables to [-5, 5], minimises y = perf as the
    paper does, and computes ela_distr, ela_meta, disp, nbc and ic on
    bootstrap samples; prints mean +- sd per feature and data set, the
    nearest BBOB functions, and the correlation of each design variable with
    perf across data sets.
    """
    # Imported here: scikit-learn and ioh take seconds to import, and `archscape --help` should not wait.
    from archscape.landscape import bbob as _bbob, lfnas as _lfnas

    if csv_file is not None and datasets:
        raise ArchscapeError("give either --csv FILE or --dataset NAME, not both")
    out = _out_dir(out)
    if csv_file is not None:
        problem = _lfnas.load_problem(csv_file, space=space, objective=objective)
        problems = {problem.name: problem}
    else:
        problems = {ds: _lfnas.load_problem(dataset=ds, space=space, objective=objective)
                    for ds in (datasets or ("mnist", "fashion", "cifar"))}
    for p in problems.values():
        if size > len(p.y):
            raise ArchscapeError(f"--size {size} exceeds the {len(p.y)} rows of {p.name}")
    results = {
        label: _lfnas.bootstrap_features(p, size=size, reps=reps, seed=seed, legacy_adj_r2=legacy_adj_r2)
        for label, p in problems.items()
    }
    shown = None if all_features else _lfnas.PAPER_FEATURES
    table = _lfnas.summary_table(results, shown)
    paper = (space == "cnn-broad" and csv_file is None and objective == "perf" and size == 800 and not all_features)

    comparison = None
    if with_bbob:
        comparison = _lfnas.bbob_comparison(problems, size=size, reps=reps, seed=seed, instances=instances)
    correlations = None
    if csv_file is None and len(problems) > 1:
        correlations = _lfnas.parameter_correlations(tuple(problems), space=space)

    summary = {
        "settings": {"space": space, "bootstrap": reps, "size": size, "seed": seed, "objective": objective,
                     "legacy_adj_r2": legacy_adj_r2, "sets": list(_lfnas.LFNAS_SETS), "bbob_instances": instances},
        "features": {ds: {row["feature"]: {"mean": _finite(row[ds][0]), "sd": _finite(row[ds][1])} for row in table}
                     for ds in results},
    }
    if comparison is not None:
        summary["bbob"] = {ds: {"nearest": comparison["nearest"][ds], "knn_votes": comparison["knn"][ds],
                                "k": comparison["k"]} for ds in results}
    if correlations is not None:
        summary["correlations"] = {
            "method": correlations["method"],
            "per_variable": {c: dict(zip(correlations["datasets"], map(_finite, map(float, row))))
                             for c, row in zip(correlations["columns"], correlations["correlation"])},
            "agreement": {a: dict(zip(correlations["datasets"], map(float, row)))
                          for a, row in zip(correlations["datasets"], correlations["agreement"])},
            "sign_agreement": {a: dict(zip(correlations["datasets"], map(float, row)))
                               for a, row in zip(correlations["datasets"], correlations["sign_agreement"])},
        }

    if out is not None:
        names = next(iter(results.values()))[0]
        _write_csv(out / "ela_features.csv", ["dataset", "rep", *names],
                   [[ds, r, *vals] for ds, (_, V) in results.items() for r, vals in enumerate(V.tolist())])
        (out / "ela_table.md").write_text(_lfnas.format_table(table, list(results), paper=paper) + "\n")
        _lfnas.plot_violins(results, out / "ela_violins.png", features=shown or names)
        if comparison is not None:
            _bbob.plot_map(comparison["reference"], {_lfnas.LABELS.get(k, k): v for k, v in comparison["nas"].items()},
                           out / "bbob_map.png", features=_lfnas.PAPER_FEATURES, seed=seed)
            _bbob.plot_dendrogram(comparison["clustering"], out / "bbob_dendrogram.png")
        if correlations is not None:
            _write_csv(out / "parameter_correlations.csv", ["variable", *correlations["datasets"]],
                       [[c, *row] for c, row in zip(correlations["columns"], correlations["correlation"].tolist())])
        _write_json(out / "ela_summary.json", summary)

    if as_json:
        click.echo(json.dumps(summary, indent=1))
        return
    click.echo(f"ELA features ({reps} bootstrap samples of {size} rows, space {space}, y = {objective} minimised)\n")
    click.echo(_lfnas.format_table(table, list(results), paper=paper))
    if comparison is not None:
        click.echo(f"\nNearest BBOB functions (d={comparison['reference'].dim}, n={size}, "
                   f"{instances} instances; y scaled to [0, 1]; standardised paper features):")
        for ds in results:
            near = ", ".join(f"f{n['fid']} {n['name']} ({n['distance']:.2f})" for n in comparison["nearest"][ds])
            votes = ", ".join(f"f{f}: {v:.0%}" for f, v in sorted(comparison["knn"][ds].items(), key=lambda t: -t[1]))
            click.echo(f"  {_lfnas.LABELS.get(ds, ds)}: {near}")
            click.echo(f"    {comparison['k']}-NN votes over the bootstrap samples: {votes}")
    if correlations is not None:
        ds = correlations["datasets"]
        click.echo(f"\nCorrelation ({correlations['method']}) of each design variable with perf:")
        click.echo("  " + f"{'variable':<14}" + "".join(f"{_lfnas.LABELS.get(d, d):>10}" for d in ds))
        for c, row in zip(correlations["columns"], correlations["correlation"]):
            click.echo("  " + f"{c:<14}" + "".join(f"{v:>10.3f}" for v in row))
        click.echo("  agreement between data sets (correlation of the columns above):")
        for a, row in zip(ds, correlations["agreement"]):
            click.echo("  " + f"{_lfnas.LABELS.get(a, a):<14}" + "".join(f"{v:>10.3f}" for v in row))
    if out is not None:
        click.echo(f"\nwrote {out}")


@click.command("bbob")
@click.option("--dim", type=click.IntRange(min=2), default=23, show_default=True, help="dimension (23: the LfNAS CNN space)")
@click.option("--n", "n", type=click.IntRange(min=10), default=800, show_default=True, help="sample size per instance")
@click.option("--instances", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--k", type=click.IntRange(min=1), default=1, show_default=True, help="neighbours of the leave-one-out k-NN")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--out", type=click.Path(path_type=Path), help="folder for the features CSV and the figures")
def bbob_cmd(dim, n, instances, seed, k, as_json, out):
    """ELA features of the 24 BBOB functions (via ioh) and how well they tell the functions apart.

    Computes ela_distr, ela_meta, disp, nbc and ic (y scaled to [0, 1]) on
    uniform samples of every function and instance, then checks a
    leave-one-out k-NN classifier over the instances.
    """
    # Imported here: scikit-learn and ioh take seconds to import, and `archscape --help` should not wait.
    from archscape.landscape import bbob as _bbob, lfnas as _lfnas

    out = _out_dir(out)
    if instances < 2:
        raise ArchscapeError("the leave-one-out check needs --instances >= 2")
    ref = _bbob.bbob_reference(dim=dim, n=n, instances=instances, seed=seed)
    loo = _bbob.knn_loo(ref, features=_lfnas.PAPER_FEATURES, k=k)
    summary = {"dim": dim, "n": n, "instances": instances, "seed": seed, "k": k,
               "features": loo["features"], "loo_accuracy": loo["accuracy"],
               "per_function": {str(f): a for f, a in loo["per_function"].items()}}
    if out is not None:
        _write_csv(out / "bbob_features.csv", ["fid", "instance", *ref.names],
                   [[int(f), int(i), *v] for f, i, v in zip(ref.fids, ref.instances, ref.values.tolist())])
        _bbob.plot_map(ref, None, out / "bbob_map.png", features=_lfnas.PAPER_FEATURES, seed=seed)
        _bbob.plot_dendrogram(_bbob.cluster(ref, None, features=_lfnas.PAPER_FEATURES), out / "bbob_dendrogram.png")
        _write_json(out / "bbob_summary.json", summary)
    if as_json:
        click.echo(json.dumps(summary, indent=1))
        return
    click.echo(f"BBOB d={dim} n={n}, {instances} instances, {len(loo['features'])} features; "
               f"leave-one-out {k}-NN accuracy {loo['accuracy']:.2f}")
    for f, a in loo["per_function"].items():
        click.echo(f"  f{f:<3}{_bbob.NAMES[f]:<26}{a:>6.2f}")
    if out is not None:
        click.echo(f"wrote {out}")
