"""One-off: draft the revision chain in migrations/ from the user's corpus (../shared/corpus).

The corpus is read, never copied: each committed revision file holds only keys, values and our
rationales. Rationales are written here by hand, per revision and for the keys that matter; the
seed note's story between v13 and v15 is spelled out as explicit steps. Run from the repo root:

    .venv/bin/python tools/build_chain.py [--force]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from ahsd_config.input.loader import load_file
from ahsd_config.migrate import keys
from ahsd_config.migrate.build import changes_between
from ahsd_config.migrate.graph import RevisionMap
from ahsd_config.migrate.model import Change, Revision
from ahsd_config.migrate.store import dump_revision, file_name

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "posteriflow"
OUT = ROOT / "migrations"
PN = "priority_net."
NP = "neural_posterior."

# (id, corpus file, title, default rationale, {key: rationale})
CORPUS_REVS = [
    ("v11", "2025-11-11T1554_0116d04.yaml", "Base layout: the config as of Nov 11 2025",
     "Base of the chain: the user's file at commit 0116d04 ('Fix SNR distribution bias in overlapping "
     "signal generation'), the oldest layout ahsd supports; every later revision starts from it.", {}),
    ("v12", "2025-11-12T2152_84b97ac.yaml", "Nov 12 PriorityNet refactor: retuned optimiser and loss",
     "Commit 84b97ac retuned PriorityNet together with its refactor and the richer data pipeline.",
     {PN + "batch_size": "Raised to 48 with the refactor so each step sees more overlapping scenarios.",
      PN + "loss_scale_factor": "Doubled to 0.002: the Nov 12 fix that lifted the scaled loss terms out of the noise.",
      PN + "uncertainty_weight": "Raised 0.05 -> 0.10 so the uncertainty head receives a usable gradient.",
      PN + "ranking_weight": "Lowered to 0.70 to make room for a larger MSE share (0.20).",
      PN + "mse_weight": "Raised to 0.20: ranking alone left the predicted priorities poorly scaled.",
      PN + "scheduler_threshold": "New: the plateau scheduler only counts improvements larger than 5e-3."}),
    ("v13a", "2025-11-13T1828_0e1f892.yaml", "Nov 13: calibration block, flow matching, geocent bounds fix",
     "Commit 0e1f892 (the geocent_time/luminosity_distance bounds fix) also introduced the output "
     "calibration terms that fight prediction saturation and switched the posterior flow to flow matching.",
     {PN + "calib_max_weight": "New calibration penalty pushing the maximum prediction towards the target range (0.75).",
      PN + "calib_range_weight": "New penalty rewarding a wider spread of predictions (0.45), against saturation.",
      PN + "output_bias_init": "Output bias initialised at the dataset mean (0.5) so predictions do not start saturated.",
      NP + "flow_type": "The posterior flow moved from RealNVP to flow matching (OT-CFM), chosen in one place.",
      PN + "patience": "Back to 15 epochs: the Nov 12 value of 5 stopped runs before the warm-up ended.",
      PN + "warmup_epochs": "Warm-up back to 6 epochs; 1 epoch gave the new loss terms no time to settle."}),
    ("v13b", "2025-11-13T1959_f5cbace.yaml", "Nov 13: physics loss rebalanced, sample loss introduced",
     "Commit f5cbace: the physics loss had grown to 99.8% of the posterior's total loss, so its weight "
     "was cut and a sample-level bounds loss took over; epochs cut to 2 for quick tests.", {}),
    ("v13", "2025-11-13T2009_6dbce3f.yaml", "Nov 13 evening: sample_loss_weight 2.0 -> 0.3",
     "Commit 6dbce3f: with sample_loss_weight 2.0 the NLL stayed stuck at 8.3; the sample loss should "
     "regularise the bounds, not dominate the likelihood, so it drops to 0.3.", {}),
    ("v15a", "2025-11-15T0828_b218e34.yaml", "Nov 15 morning: training stages and component switches",
     "Commit b218e34 ('RL controller and Inference') split training into stages: stage 1A trains the "
     "posterior with PriorityNet disabled, and a components block switches each part on or off.", {}),
]
LATER_REVS = [
    ("v19", "2025-11-19T1312_9b6aae6.yaml", "Nov 19: no hard clipping, loss weights rebalanced for output range",
     "Commit 9b6aae6 removed hard clipping of the outputs and rebalanced the loss so predictions could "
     "spread over the whole range; the bias corrector came back on.", {}),
    ("v20", "2025-11-20T1620_b6b2d74.yaml", "Nov 20: spins in the posterior, bias-corrector loss terms",
     "Commit b6b2d74 fine-tuned the bias corrector, PriorityNet and the posterior: the posterior now "
     "also infers the two spin magnitudes and the bias corrector got explicit loss components.", {}),
    ("v25", "2025-11-25T1503_0862ec8.yaml", "Nov 25: stage 1B, PriorityNet trained again",
     "Commit 0862ec8 moved to stage 1B (PriorityNet and the RL controller trained, transformer encoder "
     "off for CPU inference) and retuned PriorityNet's batch and loss shares.",
     {PN + "batch_size": "32 per step for the CPU-oriented stage 1B runs (between the 24 of the Nov 15 fix and later 64)."}),
    ("v251227", "2025-12-27T1324_997d8f4.yaml", "Dec 27: stages removed, neural spline flow, context regularisers",
     "Commit 997d8f4 ('Complete training pipeline updates'): the stage/components switches were dropped "
     "(every part trains again), the posterior moved to a neural spline flow, and keys only the "
     "flow-matching model read went with it; context-collapse regularisers were added.", {}),
    ("v260106", "2026-01-06T0508_e493f84.yaml", "Jan 6: distance in log space, calibration losses",
     "Commit e493f84 switched luminosity distance to a log-space parameterisation and added calibration "
     "losses (PIT, endpoint, distance prior) plus augmentation that boosts low-SNR and high-mass-ratio cases.", {}),
    ("v260108", "2026-01-08T1649_d8bf5b5.yaml", "Jan 8: multi-noise data, SNR conditioning, extra losses off",
     "Commit d8bf5b5 moved to multi-noise data generation and SNR-conditioned posteriors; the Jan 6 "
     "calibration losses and augmentation were switched off (weights 0) while the new data was evaluated.", {}),
    ("v260118", "2026-01-18T0415_aafeb6e.yaml", "Jan 18: flow dropout back to 0.1",
     "Commit aafeb6e (codebase cleanup): flow dropout 0.0 -> 0.1 to regularise the spline flow again.", {}),
    ("v260120", "2026-01-20T1505_090a2fd.yaml", "Jan 20: per-parameter spline tail bounds",
     "Commit 090a2fd: one global tail bound did not fit all parameters, so each parameter index gets "
     "its own spline tail bound (distance widest) and the global bound returns to 3.0.", {}),
    ("v260128", "2026-01-28T1639_eaf6bc4.yaml", "Jan 28: wider distance tail bound",
     "Commit eaf6bc4: the distance parameter (index 2) needed a wider tail bound, 5.5 -> 7.0.", {}),
    ("v260203", "2026-02-03T2213_146aeb0.yaml", "Feb 3: distance scale factorised; longer PriorityNet schedule",
     "Commit 146aeb0 factorised the distance scale out of the flow, so distance's tail bound shrinks to "
     "1.0; PriorityNet trains longer with a longer warm-up and stronger calibration terms.", {}),
    ("v260206", "2026-02-06T2251_d7bd80c.yaml", "Feb 6: distance head bias fix",
     "Commit d7bd80c fixed the distance head's bias: a lower posterior learning rate and an explicit, "
     "disabled direct-distance loss weight.", {}),
    ("v260207", "2026-02-07T2209_f0b9025.yaml", "Feb 7: distance tail bound 0.8",
     "Commit f0b9025 removed destructive sample clamping; distance's tail bound tightened to 0.8.", {}),
    ("v260702", "2026-07-02T2301_e0c7dcf.yaml", "Jul 2: bilby dataset pipeline, tail bounds widened",
     "Commit e0c7dcf rewrote the dataset pipeline (bilby physics, proper priors, real noise): the "
     "parameter ranges changed, so the spline tail bounds were widened to match.", {}),
    ("v260707", "2026-07-07T1404_380b413.yaml", "Jul 7: LeanNPE replaces OverlapNeuralPE",
     "Commit 380b413 replaced OverlapNeuralPE with a calibrated 6M-parameter LeanNPE: the keys only the "
     "old estimator read were removed, distance comes first in the parameter order, and batches grew to 64.",
     {PN + "batch_size": "64 scenarios per step with the remix pipeline: BatchNorm statistics are stable well above 16."}),
]


BA = "bias_corrector."
DA = NP + "data_augmentation."
FC = NP + "flow_config."
MORE = {
    "v19": {PN + "mse_weight": "Lowered to 0.15 to balance absolute accuracy against ranking.",
            PN + "uncertainty_weight": "Raised to 0.15, matched to the MSE share so confidence tracks error.",
            PN + "calib_max_weight": "0.40, about 2.7x the MSE weight: enough to lift the prediction ceiling once hard clipping was gone.",
            PN + "epochs": "50 epochs: the rebalanced loss converged well before 200.",
            BA + "enabled": "Back on: the bias corrector trains after the posterior converges on the validation set.",
            BA + "context_dim": "768 to match the context encoder's output (neural_posterior.context_dim).",
            BA + "batch_size": "16: smaller memory footprint and faster iterations on a small set of scenarios.",
            BA + "epochs": "30 epochs are enough for the ~100 scenarios it trains on."},
    "v20": {PN + "uncertainty_weight": "Raised to 0.25 alongside a new correlation penalty between confidence and error.",
            NP + "param_names": "Spin magnitudes a1 and a2 joined the inferred parameters.",
            BA + "loss_components": "The bias corrector's loss is now an explicit mix: NLL, relative error, entropy and quality.",
            BA + "learning_rate": "Doubled to 2e-4: the larger corrector needed stronger updates.",
            BA + "batch_size": "32 for steadier batch statistics."},
    "v25": {"stage": "Stage 1B: the RL controller trains while PriorityNet is trained again.",
            PN + "use_transformer_encoder": "Off: the lighter encoder suits CPU-based inference.",
            PN + "ranking_weight": "Raised to 0.80 to put pairwise ordering first (target accuracy 0.85+).",
            PN + "mse_weight": "Cut to 0.05 so absolute accuracy does not compete with ranking.",
            PN + "uncertainty_weight": "Lowered to 0.15 for the same ranking focus."},
    "v251227": {FC + "num_blocks_per_layer": "Only RealNVP read it; the flow is a neural spline flow now.",
                FC + "solver_steps": "Only the flow-matching ODE solver read it; gone with flow matching.",
                NP + "sample_loss_weight": "The spline flow trains on NLL alone; the sample regulariser was dropped.",
                NP + "physics_loss_weight": "Dropped with the move to NLL-only training of the spline flow.",
                NP + "jacobian_reg_weight": "Dropped with the move to NLL-only training of the spline flow.",
                NP + "flow_type": "Switched from flow matching to a neural spline flow (decided Dec 24).",
                NP + "flow_loss_weight": "The NLL term is the only loss the spline flow needs; weight 1.",
                NP + "context_variance_weight": "New penalty against a collapsing context (low variance).",
                NP + "context_noise_scale": "Noise injected into the context when its std falls below the collapse threshold.",
                NP + "flow_config.dropout": "Stronger flow dropout (0.4) for stability of the new flow.",
                "stage": "Stages were dropped: every component trains in one pipeline again.",
                "components": "The per-stage component switches went with the stages."},
    "v260106": {NP + "context_dim": "Back to 768 (phase 3A): more context capacity for distance sensitivity.",
                FC + "num_bins": "12 bins instead of 16: faster spline evaluation.",
                FC + "dropout": "Lowered to 0.15: 0.4 biased the posterior mean.",
                NP + "gradient_clip": "Raised: the spline flow has larger gradients and needed room.",
                NP + "pit_loss_weight": "New: pushes the PIT distribution towards uniform (calibration).",
                NP + "auxiliary_distance_loss_weight": "New direct supervision of distance.",
                NP + "distance_prior_weight": "New: guides distance towards its prior.",
                DA + "boost_low_snr": "Repeat low-SNR samples (SNR < 15) so the flow sees more of them.",
                DA + "boost_high_mass_ratio": "Repeat high-mass-ratio samples (q > 5) for coverage."},
    "v260108": {NP + "learning_rate": "Lowered to 1e-5 for stability with multi-noise data.",
                NP + "gradient_clip": "Tightened back to 5.0 to stop large parameter jumps.",
                NP + "pit_loss_weight": "Disabled (0): it made training oscillate once the distance losses were off.",
                NP + "auxiliary_distance_loss_weight": "Disabled (0): its gradients conflicted with the flow's.",
                NP + "distance_endpoint_loss_weight": "Disabled (0): a source of oscillation.",
                DA + "enabled": "Augmentation off: multi-noise data already augments naturally.",
                NP + "snr_conditioning": "New: the network SNR is an explicit context feature.",
                FC + "tail_bound": "Widened to 5.0 to reject fewer samples.",
                FC + "dropout": "Off: dropout noise made training oscillate."},
    "v260120": {FC + "per_param_tail_bounds": "Per-parameter tail bounds: tight for bounded angles and spins, wide for distance."},
    "v260203": {PN + "calib_max_weight": "Raised to 0.60 (moderately) to stop predictions collapsing.",
                PN + "calib_range_weight": "Raised to 0.60 with calib_max_weight, same reason.",
                PN + "calib_mean_weight": "Nudged to 0.35 with the other calibration terms.",
                PN + "epochs": "100 epochs with a 10-epoch warm-up for the stronger calibration terms."},
    "v260707": {NP + "context_variance_weight": "LeanNPE has no context-collapse regulariser; the key went with OverlapNeuralPE.",
                NP + "snr_conditioning": "LeanNPE does not take SNR as a separate context feature.",
                NP + "param_names": "Distance first: LeanNPE orders its outputs with luminosity_distance leading.",
                NP + "max_iterations": "One pass: LeanNPE does no adaptive refinement.",
                NP + "aux_context_loss_weight": "New auxiliary context loss of LeanNPE (0.3)."},
}

SEED = "seed note 000 (Nov 15 2025, 'Gradient Explosion Fixes Applied')"
STORY = [
    ("v15b", "2025-11-15T09:00:00+00:00", "Nov 13 uncertainty raise 0.10 -> 0.35 (working tree)", [
        Change("set", f"The Nov 13 fix raised the uncertainty loss 3.5x so the uncertainty head would stop "
               f"collapsing ({SEED}: 'raised 3.5x two days before'). Inferred placement: the committed files "
               "6dbce3f and b218e34 both hold 0.10 under a comment announcing the raise, so 0.35 lived only in "
               "the working tree; it is recorded after b218e34 so both commits keep their exact states.",
               key=PN + "uncertainty_weight", old=0.10, new=0.35)]),
    ("v15c", "2025-11-15T10:00:00+00:00", "Nov 15 calibration raise: 2.50 / 2.00, min-variance penalty 10x", [
        Change("set", f"Raised from 0.75 to fight saturated predictions harder ({SEED}: 'Nov 15 increases "
               "(from 0.75 and 0.45)'); later judged over-tuned.", key=PN + "calib_max_weight", old=0.75, new=2.50),
        Change("set", f"Raised from 0.45 with calib_max_weight, same aim ({SEED}).",
               key=PN + "calib_range_weight", old=0.45, new=2.00),
        Change("add", "The min-variance penalty was a constant in priority_net.py (10.0 * relu(...)); it is a "
               "config key from here on so its weight is visible and versioned. A file without the key ran "
               "with the code's value, hence implicit.",
               key=PN + "min_variance_penalty_weight", value=10.0, after="affine_bias_max", implicit=True),
    ]),
    ("v15d", "2025-11-15T11:00:00+00:00", "Batch size 48 -> 6 before the exploding run (inferred)", [
        Change("set", f"Inferred step: 6dbce3f and b218e34 commit 48, yet the run that hit Grad=28.9 at epoch 3 "
               f"used batch_size 6 ({SEED}, fix 1: 6 -> 24). The reason for the cut is not recorded; it is "
               "kept here so the fix has the value it replaced.", key=PN + "batch_size", old=48, new=6),
    ]),
    ("v15e", "2025-11-15T20:00:00+00:00", "The five fixes for the epoch-3 gradient explosion (Grad=28.9)", [
        Change("set", "Fix 1: BatchNorm with n=6 has unreliable batch statistics; n=24 normalises stably and "
               "cuts gradient variance several-fold.", key=PN + "batch_size", old=6, new=24),
        Change("set", "Fix 2: a clip norm of 2.0 is too tight for a loss with six components and suppressed "
               "legitimate gradients; 5.0 still stops extreme spikes.", key=PN + "gradient_clip_norm", old=2.0, new=5.0),
        Change("set", "Fix 3: the 10x min-variance penalty dominated the loss landscape and made it sharp; 2x "
               "keeps the penalty effective without dominating.", key=PN + "min_variance_penalty_weight", old=10.0, new=2.0),
        Change("set", "Fix 4: the Nov 15 raise to 2.50 was over-tuned and drove the explosion; 1.00 (-60%).",
               key=PN + "calib_max_weight", old=2.50, new=1.00),
        Change("set", "Fix 4: the Nov 15 raise to 2.00 was over-tuned as well; 0.75 (-62%).",
               key=PN + "calib_range_weight", old=2.00, new=0.75),
        Change("set", "Fix 5: revert the Nov 13 3.5x raise; sensible then, overkill once the other fixes landed, "
               "and it interfered with the other loss terms.", key=PN + "uncertainty_weight", old=0.35, new=0.10),
    ]),
]
V15 = ("v15", "2025-11-15T2110_876dba0.yaml", "Nov 15 evening: calibration 0.50 / 0.40, validation pipeline",
       "Commit 876dba0 ('Fix PriorityNet validation pipeline and GWTC-3 real event testing').",
       {PN + "calib_max_weight": "Reduced again from the fix's 1.00: overlapping signals naturally have lower SNR, "
        "so a strong max-range penalty suppresses useful gradients.",
        PN + "calib_range_weight": "Reduced from 0.75 for the same reason; lets the network widen its range on "
        "single-signal cases.",
        PN + "learning_rate": "Lowered to 3e-5 with the new calibration settings to keep the steps small.",
        PN + "importance_hidden_dim": "Cross-signal importance network width, now explicit because the "
        "checkpoint's shape must match it.",
        PN + "affine_gain_min": "Raised to 1.2 so the output affine layer cannot collapse the range below 1.2x.",
        PN + "affine_gain_max": "Raised to 2.5 to allow an aggressive expansion of the output range."})


def manifest() -> dict[str, dict]:
    with open(CORPUS / "MANIFEST.tsv", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


def corpus(name: str) -> dict:
    return load_file(CORPUS / "enhanced_training" / name, roundtrip=True).data


def drafted(rid, parent, date, title, default, overrides, before, after_state, implicit) -> Revision:
    a = {k: v for k, v in before.items()}
    changes = changes_between(_drop(a, implicit), _drop(after_state, implicit), default, renames=False)
    out = []
    for c in changes:
        why = next((overrides[k] for k in c.keys if k in overrides), default)
        out.append(Change(**{**c.__dict__, "rationale": why}))
    return Revision(rid, (parent,) if parent else (), date, title, tuple(out))


def _drop(data: dict, implicit: frozenset) -> dict:
    import copy
    data = copy.deepcopy(data)
    for k in implicit:
        found = keys.resolve(data, k)
        if found and found[1] in found[0]:
            del found[0][found[1]]
    return data


def main() -> None:
    meta = manifest()
    revs: list[Revision] = []
    parent = None
    implicit = frozenset({PN + "min_variance_penalty_weight"})

    def state() -> dict:
        return RevisionMap(list(revs)).state(parent) if parent else {}

    for rid, name, title, default, over in CORPUS_REVS:
        revs.append(drafted(rid, parent, meta[name]["date"], title, default, over, state(), corpus(name), implicit))
        parent = rid
    for rid, date, title, changes in STORY:
        revs.append(Revision(rid, (parent,), date, title, tuple(changes)))
        parent = rid
    rid, name, title, default, over = V15
    revs.append(drafted(rid, parent, meta[name]["date"], title, default, over, state(), corpus(name), implicit))
    parent = rid
    for rid, name, title, default, over in LATER_REVS:
        over = {**MORE.get(rid, {}), **over}
        revs.append(drafted(rid, parent, meta[name]["date"], title, default, over, state(), corpus(name), implicit))
        parent = rid
    OUT.mkdir(exist_ok=True)
    force = "--force" in sys.argv
    for rev in revs:
        path = OUT / file_name(rev)
        if path.exists() and not force:
            continue
        path.write_text(dump_revision(rev), encoding="utf-8")
    print(f"{len(revs)} revisions; head {parent}")


if __name__ == "__main__":
    main()
