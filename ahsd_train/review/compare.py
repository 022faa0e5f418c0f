"""`ahsd-train compare A B`: two configs trained on the same data, seed and budget, side by side.

A and B are what `ahsd-config diff` takes — revision ids (`v15d`, `head`), files, or `REV:path`
(the file at a git revision) — resolved by the same library (`ahsd_config.api.migrations`).
Each side is written as a YAML file into the output folder and trained with `trainer.run`:

    random_seed                  A's seed for both (one data draw, one initialisation stream)
    data.synthetic.n_scenarios   --scenarios for both
    epochs                       --epochs for both (a run option: the configs stay as written)
    --force                      always: a pre-fix config must run to be compared

The result holds both reports (checklist and metrics), the keys `ahsd-config diff` lists, and one
PNG that overlays the unit-scale gradient norms (log axis, each clip marked) and the training loss
(divided by each side's loss scale, so a 0.002-scaled loss is comparable).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ahsd_config.errors import ConfigInvalid
from ahsd_config.input.files import atomic_write
from ahsd_train.errors import AhsdTrainError
from ahsd_train.run import runlog
from ahsd_train.run.records import Record, StepRecord, finite_steps

DEFAULT_EPOCHS = 5
DEFAULT_SCENARIOS = 2048  # with 5 epochs: v15d vs head in about 2 minutes on 2 CPU cores


@dataclass(frozen=True)
class Side:
    """One resolved argument: its label as given, the YAML to train and the revision it is at."""

    spec: str
    text: str
    revision: str | None


@dataclass
class SideResult:
    side: Side
    config_path: Path
    run_dir: Path
    report: dict[str, Any]
    records: list[Record]
    loss_scale: float
    clip: float

    def summary(self) -> dict[str, Any]:
        """Per-epoch gradient figures at unit loss scale (what the README's replay table shows)."""
        steps = finite_steps(self.records)
        by_epoch: dict[int, list[StepRecord]] = {}
        for r in steps:
            by_epoch.setdefault(r.epoch, []).append(r)
        return {
            "grad_norm_epoch_mean_unit": [round(statistics.fmean(r.grad_norm for r in rs) / self.loss_scale, 4)
                                          for _, rs in sorted(by_epoch.items())],
            "clipped_fraction_by_epoch": [round(sum(r.clipped for r in rs) / len(rs), 4)
                                          for _, rs in sorted(by_epoch.items())],
            "spikes": sum(r.spike for r in steps),
            "steps": len(steps),
            "loss_scale_factor": self.loss_scale,
            "gradient_clip_norm": self.clip,
        }

    def to_json(self) -> dict[str, Any]:
        return {"config": self.side.spec, "revision": self.side.revision,
                "passed": bool(self.report.get("passed")),
                "checklist": [{k: item[k] for k in ("name", "passed", "value", "threshold")}
                              for item in self.report.get("checklist", [])],
                "metrics": {**self.report.get("metrics", {}), **self.summary()},
                "run_dir": str(self.run_dir)}


@dataclass
class Comparison:
    a: SideResult
    b: SideResult
    changes: list[dict[str, Any]]  # from `ahsd-config diff`: key, kind, old, new
    same_data: bool
    plot: Path | None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"runs": [self.a.to_json(), self.b.to_json()],
                "differing_keys": [c["key"] for c in self.changes],
                "changes": self.changes, "same_data": self.same_data,
                "plot": str(self.plot) if self.plot else None, "notes": self.notes}


def resolve(spec: str) -> Side:
    """A revision, a file or REV:path, as `ahsd-config diff` reads it (its `endpoint`), as YAML text.
    Neither a file nor a revision is `ahsd_config`'s UsageError (exit 2)."""
    from ahsd_config.api import migrations as commands
    from ahsd_config.gate.git import show_at_commit
    from ahsd_config.migrate.store import load_map

    rmap = load_map()
    end = commands.endpoint(spec, rmap, show_at_commit)
    if spec in ("head", "base") or spec in rmap:
        text = commands.show_text(end.revision, rmap)
    elif Path(spec).is_file():
        text = Path(spec).read_text(encoding="utf-8")  # the file as written: its findings keep their lines
    else:
        text = runlog.dump_yaml(end.data)  # REV:path: the file at a git commit
    return Side(spec, text, end.revision)


def differing(a: str, b: str) -> list[dict[str, Any]]:
    """The keys `ahsd-config diff A B` lists, as plain data."""
    from ahsd_config.api.migrations import diff
    from ahsd_config.gate.git import show_at_commit

    return [{k: c[k] for k in ("key", "kind", "old", "new")}
            for c in diff(a, b, rules=False, git_show=show_at_commit).to_json()["changes"]]


def default_out(a: str, b: str) -> Path:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    safe = "-".join("".join(ch if ch.isalnum() else "_" for ch in s)[:24] for s in (a, b))
    return Path("runs") / f"compare-{safe}-{stamp}"


def compare(a: str, b: str, *, epochs: int = DEFAULT_EPOCHS, scenarios: int = DEFAULT_SCENARIOS,
            out: Path | None = None, device: str | None = "cpu", observer=None,
            overrides: tuple[str, ...] = ()) -> Comparison:
    """Train A and B on identical data, seed and budget; raises AhsdTrainError / AhsdConfigError."""
    if epochs < 1 or scenarios < 8:
        raise AhsdTrainError(f"--epochs {epochs} / --scenarios {scenarios}: need >= 1 epoch and >= 8 scenarios")
    sides = [resolve(a), resolve(b)]
    changes = differing(a, b)
    out = Path(out) if out is not None else default_out(a, b)
    if (out / "compare.json").exists():
        raise AhsdTrainError(f"{out} already holds a comparison; pass another --out")
    with taken_back_on_failure(out) as ledger:
        return _compare(sides, changes, a, b, epochs, scenarios, out, device, observer, overrides, ledger)


def _compare(sides: list[Side], changes: list[dict[str, Any]], a: str, b: str, epochs: int, scenarios: int,
             out: Path, device: str | None, observer, overrides: tuple[str, ...], ledger: "Ledger") -> Comparison:
    from ahsd_train.run import trainer
    from ahsd_train.run.observer import Silent
    from ahsd_train.run.setup import RunOptions, prepare

    ledger.mkdir(out)
    seed = _seed_of(sides[0])
    results = []
    for label, side in zip("AB", sides):
        path = out / f"{label}.yaml"
        ledger.write(path, side.text)
        ledger.run_dir(out / f"run-{label}")
        opts = RunOptions(
            config_path=path, overrides=(f"random_seed={seed}", f"data.synthetic.n_scenarios={scenarios}",
                                         *overrides),
            device=device, out=out / f"run-{label}", force=True, epochs=epochs,
            argv=("ahsd-train", "compare", a, b))
        try:
            result = trainer.run(opts, observer or Silent())
        except ConfigInvalid as exc:  # its lines name out/A.yaml, which a failed comparison takes back
            raise AhsdTrainError(f"{label} = {side.spec}: {first_error(exc)}") from None
        prepared = prepare(opts)
        results.append((side, path, result, prepared.config))
    same_data = results[0][3].data == results[1][3].data
    notes = [] if same_data else ["the data sections differ, so the two runs saw different scenarios "
                                  "(same seed and count): see the differing data.* keys"]
    side_results = [
        SideResult(side, path, res.run_dir, res.report, runlog.read_metrics(res.run_dir),
                   cfg.priority_net.loss_scale_factor, cfg.priority_net.gradient_clip_norm)
        for side, path, res, cfg in results]
    comparison = Comparison(side_results[0], side_results[1], changes, same_data, None, notes)
    comparison.plot = write_overlay(out / "compare.png", comparison)
    runlog.write_json(out / "compare.json", comparison.to_json())
    return comparison


def first_error(exc: ConfigInvalid) -> str:
    """One line for a side whose config may not run even forced: its first error and how many more."""
    errors = [f.message for r in exc.reports for f in getattr(r, "findings", ()) if f.severity == "error"]
    errors += [r.error.message for r in exc.reports if getattr(r, "error", None) is not None]
    if not errors:
        return str(exc)
    more = f" (and {len(errors) - 1} more: `ahsd-config validate` lists them)" if len(errors) > 1 else ""
    return f"the config cannot run, even forced: {errors[0]}{more}"


class Ledger:
    """What a comparison created, so a failed one can take it back (see `taken_back_on_failure`)."""

    def __init__(self) -> None:
        self.folders: list[Path] = []  # made here, removed when empty again
        self.files: dict[Path, bytes | None] = {}  # path -> the bytes it held before (None: absent)
        self.runs: list[Path] = []  # run folders that did not exist before

    def mkdir(self, folder: Path) -> None:
        missing = [p for p in (folder, *folder.parents) if not p.exists() and not p.is_symlink()]
        folder.mkdir(parents=True, exist_ok=True)
        self.folders += missing  # deepest first

    def write(self, path: Path, text: str) -> None:
        from ahsd_config.input.files import MAX_SET_FILE, read_bounded

        if path not in self.files:  # a config a few kB long: MAX_SET_FILE only bounds a planted one
            self.files[path] = read_bounded(path, MAX_SET_FILE) if path.is_file() and not path.is_symlink() else None
        atomic_write(path, text)

    def run_dir(self, path: Path) -> None:
        if not path.exists() and not path.is_symlink():
            self.runs.append(path)

    def take_back(self) -> list[Path]:
        """Restore every file, remove every run folder that holds no run.json and every folder made
        here that is empty again; return the run folders kept (a side's run that started)."""
        import shutil

        from ahsd_config.input.files import atomic_write_bytes

        for path, old in self.files.items():
            if old is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write_bytes(path, old)
        kept = [run for run in self.runs if (run / "run.json").exists()]
        for run in self.runs:
            if run not in kept and run.is_dir() and not run.is_symlink():
                shutil.rmtree(run)
        for folder in self.folders:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        return kept


@contextlib.contextmanager
def taken_back_on_failure(out: Path) -> Iterator[Ledger]:
    """A comparison that fails leaves the file system as it was, except a side's run that started
    (its run folder says how it ended), and the error names what it kept. A failure while taking
    back is secondary: the first error is the one reported."""
    ledger = Ledger()
    try:
        yield ledger
    except BaseException as exc:
        try:
            kept = ledger.take_back()
        except OSError:
            raise exc from None
        if kept and isinstance(exc, (AhsdTrainError, OSError)):
            from ahsd_config.errors import from_os_error

            first = from_os_error(exc) if isinstance(exc, OSError) else exc
            raise AhsdTrainError(f"{first}; kept {', '.join(map(str, kept))} (a run that started: its run.json "
                                 "says how it ended)", exit_code=getattr(exc, "exit_code", 2)) from exc
        raise


def _seed_of(side: Side) -> int:
    from ahsd_config.input.loader import load_text

    data = load_text(side.text, side.spec).plain()
    seed = data.get("random_seed") if isinstance(data, dict) else None
    return int(seed) if isinstance(seed, int) else 42


def epoch_positions(steps: list[StepRecord]) -> list[float]:
    """Each step's place in epochs: epoch + batch / batches in that epoch."""
    per_epoch: dict[int, int] = {}
    for r in steps:
        per_epoch[r.epoch] = max(per_epoch.get(r.epoch, 0), r.batch + 1)
    return [r.epoch + (r.batch + 1) / per_epoch[r.epoch] for r in steps]


def write_overlay(path: Path, comparison: Comparison) -> Path:
    """Gradient norms (top, log, clips marked) and training loss at unit scale (bottom) of A and B."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ahsd_config.input.files import atomic_write_bytes
    from ahsd_train.run.plots import draw_grad_norm

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), layout="constrained")
    for label, res, color in (("A", comparison.a, "C3"), ("B", comparison.b, "C0")):
        steps = finite_steps(res.records)
        x = epoch_positions(steps)  # batch sizes differ: compare by epochs (scenarios seen), not steps
        name = f"{label} {res.side.spec}"
        draw_grad_norm(top, steps, res.clip, res.loss_scale, label=f"{name}: grad norm", color=color,
                       clip_label=f"{label} ", x=x, xlabel="epoch")
        bottom.plot(x, [r.loss / res.loss_scale for r in steps],
                    color=color, lw=1, label=f"{name}: train loss / loss_scale_factor")
    top.set(title="Gradient norm before clipping (unit loss scale)")
    bottom.set(yscale="log", xlabel="epoch", ylabel="loss at unit scale", title="Training loss")
    for ax in (top, bottom):
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path
