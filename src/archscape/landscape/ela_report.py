"""What ``archscape landscape ela`` and ``archscape landscape bbob`` compute and write.

:func:`ela_report` runs the ELA study of NAS problems (van Stein et al.
2020) with the optional BBOB comparison and design-variable correlations,
returns everything the command shows, and with ``out`` writes
``ela_features.csv``, ``ela_table.md``, ``ela_violins.png``, the BBOB map
and dendrogram, ``parameter_correlations.csv`` and ``ela_summary.json``.
:func:`bbob_report` does the same for the 24 BBOB functions alone.  Both
import scikit-learn and ioh when called (seconds), not when imported.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from archscape.errors import ArchscapeError
from archscape.util import atomic_path


def _finite(v):
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def _write_json(path: Path, obj) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1) + "\n")


def _write_csv(path: Path, header: list[str], rows) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def output_dir(out: Path | None) -> Path | None:
    """``out`` created (with its parents); None stays None; a folder that cannot be made is one error line."""
    if out is None:
        return None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchscapeError(f"cannot create the output folder {out}: {exc.strerror}") from None
    return out


def ela_report(*, csv_file: Path | None = None, datasets=(), space: str = "cnn-broad", reps: int = 30, size: int = 800,
               seed: int = 0, objective: str = "perf", legacy_adj_r2: bool = False, with_bbob: bool = True,
               instances: int = 5, all_features: bool = False, out: Path | None = None) -> dict[str, Any]:
    """ELA features of the published tables (or of ``csv_file``), their nearest BBOB functions and correlations.

    Returns ``summary`` (the JSON object), ``results`` ({label: (names,
    values)}), ``table`` (:func:`~archscape.landscape.lfnas.summary_table`
    rows), ``paper`` (whether the settings are the paper's), ``comparison``
    and ``correlations`` (None when not computed).
    """
    from archscape.landscape import bbob as _bbob, lfnas as _lfnas

    if csv_file is not None and datasets:
        raise ArchscapeError("give either --csv FILE or --dataset NAME, not both")
    out = output_dir(out)
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
    return {"summary": summary, "results": results, "table": table, "paper": paper, "comparison": comparison,
            "correlations": correlations}


def bbob_report(*, dim: int = 23, n: int = 800, instances: int = 5, seed: int = 0, k: int = 1,
                out: Path | None = None) -> dict[str, Any]:
    """ELA features of the 24 BBOB functions and a leave-one-out k-NN check over the instances.

    Returns ``summary`` (the JSON object) and ``loo``; with ``out`` writes
    ``bbob_features.csv``, ``bbob_map.png``, ``bbob_dendrogram.png`` and ``bbob_summary.json``.
    """
    from archscape.landscape import bbob as _bbob, lfnas as _lfnas

    out = output_dir(out)
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
    return {"summary": summary, "loo": loo}


__all__ = ["bbob_report", "ela_report", "output_dir"]
