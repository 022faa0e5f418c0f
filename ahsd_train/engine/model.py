"""PriorityNet: ranks the overlapping signals of a scenario by extraction priority.

The whole model in one file, nanoGPT-style. Input is a padded batch of scenarios: features
``(B, S, F)`` with a signal mask ``(B, S)``; there is no Python loop over scenarios or pairs.

    features --> metadata extractor (residual MLP over hidden_dims) --------> 64 --+
             --> physics encoder (chirp mass, q, eta, SNR, f_ISCO, ...) ----> 32 --+
             --> overlap analyzer (9 features per ordered pair, importance -> 16 --+--> fusion 64
    strain   --> strain encoder (Conv1d+BN -> BiLSTM|Transformer -> pool) -> 64 --+    (attention
    edge     --> edge-type embedding (padding id 0) ------------------------> 16 --+    across the
    snr est. --> SNR embedding 1 -> 16 -> 32 -----------------------------> 32 --+    scenario's
                                                                                         signals)
    fusion --> priority head (linear, clamped affine calibration) + softplus uncertainty head

The fusion input is sized from what is enabled: a metadata-only model has no strain columns.
Every hyper-parameter comes from the validated ``priority_net`` config section.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ahsd_train.engine import normalization as nz
from ahsd_train.engine import observation as obs
from ahsd_train.errors import ModelInputError

FUSION_DIM = 64  # attention width across signals; priority_net.attention_num_heads must divide it
EXTRACTOR_DIM = 64
PHYSICS_DIM = 32
OVERLAP_DIM = 16
STRAIN_DIM = 64
EDGE_DIM = 16
SNR_DIM = 32
N_PAIR_FEATURES = 9
# The priority head starts from "sort by the SNR estimate": raw = head(h) + SNR_SKIP_INIT x snr_log
# (with priority_net.snr_skip_input = effective_snr: the SNR the search expects to be left once the
# louder overlapping partners are subtracted, observation.effective_snr_estimate).
# The label is about log(SNR) / 3 above threshold, so 0.2 (x the calibration gain >= 1.2) is close to
# its slope; the network then learns corrections (overlaps, bonuses) instead of re-learning a
# monotone function of one input to the precision that ranking close signals needs.
SNR_SKIP_INIT = 0.2
MIN_STRAIN_SAMPLES = 8  # three pooling halvings leave at least one time step
PAIR_FEATURE_NAMES = (
    "time_separation",  # |dt| in s
    "sky_separation",  # great-circle angle / pi
    "chirp_mass_similarity",  # min(Mc) / max(Mc)
    "frequency_overlap",  # min(f_ISCO) / max(f_ISCO)
    "log_distance_ratio",  # log(d_partner / d_self), from physical distances
    "polarisation_difference",  # |dpsi| folded to [0, pi/2], / (pi/2)
    "abs_delta_ra",  # wrapped to [0, pi], / pi
    "abs_delta_dec",  # / pi
    "log_snr_ratio",  # log(snr_partner / snr_self), from the SNR estimates: is the partner extracted first?
)


@dataclass
class PriorityOutput:
    priority: torch.Tensor  # (B, S) calibrated priority; 0 at padded slots
    uncertainty: torch.Tensor  # (B, S) softplus >= 0; 0 at padded slots
    raw: torch.Tensor  # (B, S) priority head before the affine calibration


def pair_features(features: torch.Tensor) -> torch.Tensor:
    """The 9 overlap features of every ordered pair (i, j): ``(B, S, F) -> (B, S, S, 9)``.

    Row i describes partner j as seen from signal i. Diagonal and padded entries are computed too
    (they are finite) and masked by the caller.
    """
    col = lambda name: nz.column(features, name)  # noqa: E731  (B, S)
    t, ra, dec, psi, dist = col("geocent_time"), col("ra"), col("dec"), col("psi"), col("luminosity_distance")
    m1, m2 = col("mass_1").clamp_min(nz.LOG_FLOOR), col("mass_2").clamp_min(nz.LOG_FLOOR)
    log_mc = torch.log(nz.chirp_mass(m1, m2))  # (B, S)
    log_fisco = torch.log(nz.f_isco(m1 + m2))  # (B, S)
    pair = lambda x: (x[:, :, None], x[:, None, :])  # noqa: E731  (B, S, 1), (B, 1, S)
    (ti, tj), (rai, raj), (di, dj) = pair(t), pair(ra), pair(dec)
    cos_sep = torch.sin(di) * torch.sin(dj) + torch.cos(di) * torch.cos(dj) * torch.cos(rai - raj)
    sky = torch.arccos(cos_sep.clamp(-1.0, 1.0)) / math.pi  # (B, S, S)
    mci, mcj = pair(log_mc)
    fi, fj = pair(log_fisco)
    ldi, ldj = pair(torch.log(dist.clamp_min(nz.LOG_FLOOR)))
    pi_, pj = pair(psi)
    lsi, lsj = pair(torch.log(col("snr_estimate").clamp_min(nz.LOG_FLOOR)))
    dpsi = torch.remainder((pi_ - pj).abs(), math.pi)
    dra = torch.remainder((rai - raj).abs(), 2 * math.pi)
    feats = (
        (ti - tj).abs(),
        sky,
        torch.exp(-(mci - mcj).abs()),
        torch.exp(-(fi - fj).abs()),
        ldj - ldi,
        torch.minimum(dpsi, math.pi - dpsi) / (math.pi / 2),
        torch.minimum(dra, 2 * math.pi - dra) / math.pi,
        (di - dj).abs() / math.pi,
        lsj - lsi,
    )
    return torch.stack(feats, dim=-1)  # (B, S, S, 9)


def partner_mask(mask: torch.Tensor) -> torch.Tensor:
    """``(B, S) -> (B, S, S)``: True where j is a real partner of real signal i (i != j)."""
    eye = torch.eye(mask.shape[1], dtype=torch.bool, device=mask.device)
    return mask[:, :, None] & mask[:, None, :] & ~eye  # (B, S, S)


class Dropout(nn.Dropout):
    """``nn.Dropout`` whose CPU mask costs a quarter of ``bernoulli_``: one 32-bit draw gives two
    16-bit uniforms (keep probability resolved to 1/65536). On other devices: ``F.dropout``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if x.device.type != "cpu":
            return F.dropout(x, self.p, True)
        n = x.numel()
        bits = torch.empty((n + 1) // 2, dtype=torch.int32).random_(-(2**31), 2**31 - 1).view(torch.int16)[:n]
        drop = round(self.p * 65536)  # how many of the 65536 values drop
        keep = (bits >= drop - 32768).view(x.shape).to(x.dtype)
        return x * keep * (65536 / (65536 - drop))


class SignalAttention(nn.Module):
    """Masked multi-head self-attention across the signals of each scenario: ``(B, S, D) -> (B, S, D)``.

    Written out (not ``nn.MultiheadAttention``): at S <= 64 the plain matmuls are cheaper than the
    fused kernels' set-up, and the graph stays simple for ``torch.compile`` / CUDA graphs.
    """

    def __init__(self, dim: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.drop = Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, S, D = x.shape
        H = self.n_heads
        q, k, v = self.qkv(x).view(B, S, 3, H, D // H).permute(2, 0, 3, 1, 4)  # 3 x (B, H, S, hd)
        att = (q @ k.transpose(-2, -1)) * (D // H) ** -0.5  # (B, H, S, S)
        att = self.drop(masked_softmax(att, mask[:, None, None, :]))  # (B, H, S, S)
        y = (att @ v).transpose(1, 2).reshape(B, S, D)  # (B, S, D)
        return self.proj(y)


def masked_softmax(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dim restricted to ``mask``; a row with nothing allowed is all zeros.

    Written out: over a last dim of a few signals it is ~5x faster than ``torch.softmax`` on CPU,
    and an all-masked row gives 0 instead of NaN. Subtracting the (detached) row max keeps it exact.
    """
    logits = logits.masked_fill(~mask, torch.finfo(logits.dtype).min)
    e = torch.exp(logits - logits.amax(-1, keepdim=True).detach()) * mask  # (..., S)
    return e / e.sum(-1, keepdim=True).clamp_min(torch.finfo(e.dtype).tiny)


def mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.GELU(), nn.Linear(d_hidden, d_out))


class ResidualBlock(nn.Module):
    """Pre-LN residual block ``d_in -> d_out``: ``h = W LN(x); y = h + dropout(GELU(h))``.

    The projection ``W`` is shared by the skip path and the branch, so a block costs one matmul:
    the extractor does the work of a bare MLP of the same widths (the benchmark's compute floor).
    """

    def __init__(self, d_in: int, d_out: int, dropout: float) -> None:
        super().__init__()
        self.ln = nn.LayerNorm(d_in)
        self.proj = nn.Linear(d_in, d_out)
        self.drop = Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.proj(self.ln(x))  # (..., d_out)
        return h + self.drop(F.gelu(h))


class MetadataExtractor(nn.Module):
    def __init__(self, n_features: int, hidden_dims: list[int], dropout: float) -> None:
        super().__init__()
        self.embed = nn.Linear(n_features, hidden_dims[0])
        self.blocks = nn.ModuleList(ResidualBlock(a, b, dropout) for a, b in zip(hidden_dims[:-1], hidden_dims[1:]))
        self.ln_f = nn.LayerNorm(hidden_dims[-1])
        self.out = nn.Linear(hidden_dims[-1], EXTRACTOR_DIM)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.gelu(self.embed(x))  # (B, S, H0)
        for block in self.blocks:
            h = block(h)  # (B, S, Hk)
        return self.out(self.ln_f(h))  # (B, S, 64)


class OverlapAnalyzer(nn.Module):
    """Cross-signal context: a learned importance per ordered pair, softmax over partners, -> 16.

    With ``overlap_use_attention: false`` partners are averaged instead. A signal without partners
    (a single-signal scenario) gets exactly zeros — no softmax over an empty set, no NaN.
    """

    def __init__(self, importance_hidden_dim: int, use_attention: bool) -> None:
        super().__init__()
        self.use_attention = use_attention
        self.importance = mlp(N_PAIR_FEATURES, importance_hidden_dim, 1)
        self.encode = mlp(N_PAIR_FEATURES, 2 * OVERLAP_DIM, OVERLAP_DIM)

    def pair_weights(self, pairs: torch.Tensor, partners: torch.Tensor) -> torch.Tensor:
        """``pairs (B, S, S, 9)``, ``partners (B, S, S)`` -> weights ``(B, S, S)``, rows sum to 1 or 0."""
        if not self.use_attention:
            return partners.to(pairs.dtype) / partners.sum(-1, keepdim=True).clamp_min(1)  # (B, S, S)
        logits = self.importance(pairs).squeeze(-1)  # (B, S, S)
        return masked_softmax(logits, partners)  # (B, S, S); all-masked rows -> 0

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        pairs = pair_features(features)  # (B, S, S, 9)
        partners = partner_mask(mask)  # (B, S, S)
        w = self.pair_weights(pairs, partners)  # (B, S, S)
        pooled = torch.einsum("bij,bijk->bik", w, pairs)  # (B, S, 9)
        has_partner = partners.any(-1, keepdim=True)  # (B, S, 1)
        return self.encode(pooled) * has_partner  # (B, S, 16)


class StrainEncoder(nn.Module):
    """Whitened segments ``(N, D, T)`` -> ``(N, 64)``: Conv1d+BatchNorm blocks, BiLSTM or Transformer, mean pool."""

    def __init__(self, n_detectors: int, use_transformer: bool, n_heads: int, dropout: float) -> None:
        super().__init__()

        def conv(c_in: int, c_out: int, k: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv1d(c_in, c_out, k, padding=k // 2), nn.BatchNorm1d(c_out), nn.GELU(), nn.MaxPool1d(2))

        # Three blocks halve the time axis each: the sequence model sees T/8 steps (cost is linear in it).
        self.cnn = nn.Sequential(conv(n_detectors, 16, 7), conv(16, 32, 5), conv(32, STRAIN_DIM, 3))
        self.use_transformer = use_transformer
        if use_transformer:
            layer = nn.TransformerEncoderLayer(STRAIN_DIM, n_heads, 2 * STRAIN_DIM, dropout, batch_first=True, norm_first=True)
            self.seq = nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)
        else:
            self.seq = nn.LSTM(STRAIN_DIM, STRAIN_DIM // 2, batch_first=True, bidirectional=True)
        self.out = nn.Linear(STRAIN_DIM, STRAIN_DIM)

    def forward(self, strain: torch.Tensor) -> torch.Tensor:
        h = self.cnn(strain).transpose(1, 2)  # (N, T/8, 64)
        h = self.seq(h) if self.use_transformer else self.seq(h)[0]  # (N, T/8, 64)
        return self.out(h.mean(dim=1))  # (N, 64)


class PriorityNet(nn.Module):
    def __init__(self, cfg, n_features: int, strain_shape: tuple[int, int] | None = None) -> None:
        """``cfg`` is the validated ``priority_net`` section; ``strain_shape`` is ``(D, T)`` when ``cfg.use_strain``."""
        super().__init__()
        if FUSION_DIM % cfg.attention_num_heads:
            raise ModelInputError(f"priority_net.attention_num_heads = {cfg.attention_num_heads} does not divide the fusion width {FUSION_DIM}")
        if cfg.use_strain and strain_shape is None:
            raise ModelInputError("priority_net.use_strain is true but no strain shape (detectors, samples) was given")
        if cfg.use_strain and strain_shape[1] < MIN_STRAIN_SAMPLES:
            raise ModelInputError(f"strain has {strain_shape[1]} samples per detector; the strain encoder halves the time axis three times and needs >= {MIN_STRAIN_SAMPLES} (data.synthetic.strain_samples)")
        self.cfg = cfg
        self.n_features = n_features
        self.strain_shape = tuple(strain_shape) if cfg.use_strain else None
        self.extractor = MetadataExtractor(n_features, list(cfg.hidden_dims), cfg.dropout)
        self.physics = mlp(len(nz.PHYSICS_NAMES), PHYSICS_DIM, PHYSICS_DIM)
        self.overlap = OverlapAnalyzer(cfg.pair_importance_width, cfg.overlap_use_attention)
        self.snr_embed = mlp(1, 16, SNR_DIM)
        fused = EXTRACTOR_DIM + PHYSICS_DIM + OVERLAP_DIM + SNR_DIM
        self.strain = None
        if cfg.use_strain:
            self.strain = StrainEncoder(self.strain_shape[0], cfg.use_transformer_encoder, cfg.attention_num_heads, cfg.attention_dropout)
            fused += STRAIN_DIM
        self.edge = nn.Embedding(cfg.n_edge_types, EDGE_DIM, padding_idx=0) if cfg.use_edge_conditioning else None
        fused += EDGE_DIM if cfg.use_edge_conditioning else 0
        self.fuse = nn.Sequential(nn.Linear(fused, FUSION_DIM), nn.LayerNorm(FUSION_DIM))
        self.ln_attn = nn.LayerNorm(FUSION_DIM)
        self.attn = SignalAttention(FUSION_DIM, cfg.attention_num_heads, cfg.attention_dropout)
        self.ln_ffn = nn.LayerNorm(FUSION_DIM)
        self.ffn = nn.Sequential(nn.Linear(FUSION_DIM, 2 * FUSION_DIM), nn.GELU(), Dropout(cfg.dropout), nn.Linear(2 * FUSION_DIM, FUSION_DIM))
        self.head = nn.Sequential(nn.Linear(FUSION_DIM, 32), nn.GELU(), Dropout(cfg.dropout), nn.Linear(32, 1))
        self.uncertainty_head = mlp(FUSION_DIM, 32, 1)
        self.snr_skip = nn.Parameter(torch.tensor(SNR_SKIP_INIT))
        # Clamped affine calibration; starts at the identity pulled into its allowed range.
        self.gain = nn.Parameter(torch.tensor(min(max(1.0, cfg.affine_gain_min), cfg.affine_gain_max)))
        self.bias = nn.Parameter(torch.tensor(min(max(0.0, cfg.affine_bias_min), cfg.affine_bias_max)))
        nn.init.normal_(self.head[-1].weight, std=cfg.output_weight_std)
        nn.init.constant_(self.head[-1].bias, cfg.output_bias_init)

    def has_batchnorm(self) -> bool:
        return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in self.modules())

    def check_batch(self, batch) -> None:
        """Shape checks that make a mismatch an error naming the cause (cheap, no device sync)."""
        if batch.features.shape[-1] != self.n_features:
            raise ModelInputError(f"batch has {batch.features.shape[-1]} feature columns, the model was built for {self.n_features}")
        if self.strain is not None:
            if batch.strain is None:
                raise ModelInputError("priority_net.use_strain is true but the batch carries no strain")
            if tuple(batch.strain.shape[2:]) != self.strain_shape:
                raise ModelInputError(f"strain shape {tuple(batch.strain.shape[2:])} differs from the model's (detectors, samples) {self.strain_shape}")

    def encode_strain(self, strain: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Encode only real signals so BatchNorm statistics never see padding: ``(B, S, D, T) -> (B, S, 64)``."""
        if strain.device.type == "meta":  # shape-only preflight: no data-dependent indexing there
            return self.strain(strain.flatten(0, 1)).view(*mask.shape, STRAIN_DIM)
        rows = self.strain(strain[mask])  # (N, 64)
        out = rows.new_zeros(*mask.shape, STRAIN_DIM)  # (B, S, 64)
        out[mask] = rows
        return out

    def _overlap(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The overlap analyzer's ``(B, S, 16)``; zeros when ``use_pair_features`` is off (ablation)."""
        if not self.cfg.use_pair_features:
            return x.new_zeros(*mask.shape, OVERLAP_DIM)
        return self.overlap(x, mask)

    def skip_snr(self, batch) -> torch.Tensor:
        """``(B, S)`` the SNR the priority head starts from (``priority_net.snr_skip_input``): the SNR
        estimate, or what the search expects to be left of it once the louder overlapping partners
        are subtracted (``observation.effective_snr_estimate``)."""
        if self.cfg.snr_skip_input == "effective_snr":
            return obs.effective_snr_estimate(batch.features, batch.snr_estimate, batch.mask)
        return batch.snr_estimate

    def forward(self, batch, overlap: torch.Tensor | None = None) -> PriorityOutput:
        """``overlap (B, S, 16)`` replaces the overlap analyzer's output (the naive reference passes its own)."""
        self.check_batch(batch)
        x, mask = batch.features, batch.mask  # (B, S, F), (B, S)
        parts = [
            self.extractor(x),  # (B, S, 64)
            self.physics(nz.physics_features(x)),  # (B, S, 32)
            self._overlap(x, mask) if overlap is None else overlap,  # (B, S, 16)
            self.snr_embed(nz.snr_log(batch.snr_estimate).unsqueeze(-1).to(x.dtype)),  # (B, S, 32)
        ]
        if self.strain is not None:
            parts.append(self.encode_strain(batch.strain, mask))  # (B, S, 64)
        if self.edge is not None:
            parts.append(self.edge(batch.edge_type))  # (B, S, 16)
        h = self.fuse(torch.cat(parts, dim=-1))  # (B, S, 64)
        h = h + self.attn(self.ln_attn(h), mask)  # (B, S, 64)
        h = h + self.ffn(self.ln_ffn(h))  # (B, S, 64)
        # Heads leave autocast's bf16 here: calibration and loss run in the input dtype (float32).
        snr_in = nz.snr_log(self.skip_snr(batch)).to(x.dtype)  # (B, S)
        raw = self.head(h).squeeze(-1).to(x.dtype) + self.snr_skip * snr_in  # (B, S)
        gain = self.gain.clamp(self.cfg.affine_gain_min, self.cfg.affine_gain_max)
        bias = self.bias.clamp(self.cfg.affine_bias_min, self.cfg.affine_bias_max)
        priority = (gain * raw + bias).masked_fill(~mask, 0.0)  # (B, S)
        uncertainty = F.softplus(self.uncertainty_head(h).squeeze(-1).to(x.dtype)).masked_fill(~mask, 0.0)  # (B, S)
        return PriorityOutput(priority=priority, uncertainty=uncertainty, raw=raw.masked_fill(~mask, 0.0))
