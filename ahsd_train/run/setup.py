"""From the command line to a prepared run, before any torch work: the ONE wrapper, `Prepared`.

    RunOptions   what `ahsd-train run` was asked for (the CLI's flags, as data)
    prepare()    `ahsd_config.api.load_config` (load -> --set overrides -> validate) -> Prepared,
                 plus the behind-head warning; error findings refuse the run unless --force
    make_plan()  run length and data size: the config, shortened by --quick / --epochs / --max-steps
    resolve_device()

Configuration flows once: `Prepared.config` is the validated, frozen `TrainingConfig` that the
constructors take. Run-length options do not change the config; they are the `Plan`, recorded next
to it (run.json) and, for what shapes the data, in every checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ahsd_config.errors import ConfigInvalid
from ahsd_train.errors import DeviceUnavailable

if TYPE_CHECKING:
    import torch

    from ahsd_config.schema import TrainingConfig
    from ahsd_train.run.distributed import DistContext

DEFAULT_CONFIG = Path("configs/enhanced_training.yaml")
QUICK_SCENARIOS = 384  # --quick: a few hundred scenarios ...
QUICK_EPOCHS = 2  # ... for 2 epochs: under a minute on two CPU cores
FINDING_FIELDS = ("code", "severity", "message", "key", "line", "column", "hint")  # run.json's order


@dataclass(frozen=True)
class RunOptions:
    """Everything `ahsd-train run` was asked for (the CLI's flags, as data)."""

    config_path: Path = DEFAULT_CONFIG
    overrides: tuple[str, ...] = ()
    device: str | None = None  # auto | cuda | cpu; None = the config's `device`
    out: Path | None = None
    resume: bool = False
    quick: bool = False
    force: bool = False
    data_dir: Path | None = None
    create_overlaps: bool | None = None
    epochs: int | None = None
    max_steps: int | None = None
    checkpoint_every_steps: int | None = None
    argv: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prepared:
    """A config that may run: the frozen model plus where it came from (run.json's header)."""

    config: TrainingConfig
    path: str
    sha256: str
    revision: str | None
    findings: list[dict[str, Any]]  # warnings/info kept for run.json (errors too when forced)
    warnings: list[str]
    forced: bool


def prepare(opts: RunOptions) -> Prepared:
    """Validate the config before anything touches a model, data or device.

    Error findings raise `ConfigInvalid` (the CLI prints them, exit 2) unless `opts.force`; with
    `force`, a config with error findings is still built (when the schema accepts it) so the run
    can go ahead and record that it did."""
    from ahsd_config.api import load_config

    overrides = list(opts.overrides)
    if opts.create_overlaps is not None:
        overrides.append(f"data.synthetic.create_overlaps={'true' if opts.create_overlaps else 'false'}")
    path = str(opts.config_path)
    loaded = load_config(opts.config_path, tuple(overrides), refuse_errors=not opts.force)
    warnings = [w for w in [behind_head_warning(path, loaded.revision)] if w]
    findings = [{k: getattr(f, k, None) for k in FINDING_FIELDS} for f in loaded.report.findings]
    errors = [f for f in findings if f["severity"] == "error"]
    config = loaded.config
    if config is None:  # --force cannot build a config the schema rejects
        raise ConfigInvalid(f"{opts.config_path}: the schema rejects it, so even --force cannot run it",
                            [loaded.report])
    if errors:
        warnings.append(f"--force: running despite {len(errors)} error finding(s); recorded in run.json")
    warnings += [f"{path}:{f['line']}:{f['column']} {f['code']} {f['severity']} {f['message']}"
                 for f in findings if f["severity"] == "warning"]
    return Prepared(config, path, loaded.sha256, loaded.revision or config.revision,
                    findings, warnings, forced=bool(errors))


def behind_head_warning(path: str, revision: str | None) -> str | None:
    """"Config at revision X, head is Y": a warning, never an error. None when the migrations
    package or its chain cannot tell (absent, empty, several heads) or the file has no stamp
    (that is the validator's AHSD001 warning)."""
    if revision is None:
        return None
    try:
        from ahsd_config.migrate.store import load_map

        head = load_map().head
    except Exception:  # no chain, a broken one, or no migrations package: `ahsd-config ci` reports it
        return None
    if revision == head:
        return None
    return (f"{path}: the config is at revision {revision}, the head is {head}; "
            f"run `ahsd-config migrate {path} --to head` (running it as it is)")


@dataclass(frozen=True)
class Plan:
    """Run length and data size: from the config, shortened by --quick / --epochs / --max-steps."""

    n_scenarios: int
    n_test: int  # synthetic test scenarios (their own seed); --data shards split instead
    epochs: int
    max_steps: int | None
    quick: bool
    data_dir: str | None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    def data_json(self) -> str:
        """What makes the data: a resume must see the same (run length may change: --epochs)."""
        return json.dumps({"n_scenarios": self.n_scenarios, "data_dir": self.data_dir}, sort_keys=True)


def make_plan(config: TrainingConfig, opts: RunOptions) -> Plan:
    from ahsd_train.engine.benchmark import QUICK_TEST_SCENARIOS

    n, n_test = config.data.synthetic.n_scenarios, config.data.synthetic.test_scenarios
    epochs = config.priority_net.epochs
    if opts.quick:
        n, epochs = min(n, QUICK_SCENARIOS), min(epochs, QUICK_EPOCHS)
        n_test = min(n_test, QUICK_TEST_SCENARIOS)
    if opts.epochs is not None:
        epochs = opts.epochs
    return Plan(n, n_test, epochs, opts.max_steps, opts.quick, str(opts.data_dir) if opts.data_dir else None)


def resolve_device(requested: str, ctx: DistContext) -> torch.device:
    import torch

    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "mps":
        raise DeviceUnavailable("device 'mps' is not supported by ahsd-train; use --device cpu or cuda")
    if requested == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailable("--device cuda: no CUDA device is available; use --device cpu or auto")
        return torch.device("cuda", ctx.local_rank)
    return torch.device("cpu")
