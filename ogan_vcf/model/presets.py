"""Network and training sizes: the paper's notebook ("paper") and a CPU design ("cpu").

Every field can be overridden from the command line (``--epochs``, ``--batch-size``...).
The model choice sets the loss and optimizer: Offspring/PPO use hinge + Adam, PG-cGAN
(the baseline) Wasserstein + RMSprop, as in the papers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from ..errors import InputError

MODELS = ("offspring", "ppo", "pgcgan")
UNPHASED_TEMPLATES = 1000  # at most this many genotype templates where phased data would copy haplotypes


@dataclass(frozen=True)
class Preset:
    """Architecture and schedule. ``architecture`` is "paper" (conv generator, dense first layer
    of L/4*256 units), "templates" (a codebook of block templates) or "haplotypes" (a copying
    model over a codebook of training haplotypes; phased data only), see networks.py."""

    name: str
    architecture: str
    noise_dim: int = 100
    label_dim: int = 100
    batch_size: int = 32
    epochs: int = 850
    d_steps: int = 4
    lr: float = 1e-4
    critic_lr: float | None = None  # None: the same as lr
    beta_1: float = 0.5
    beta_2: float = 0.9
    loss: str = "hinge"
    optimizer: str = "adam"
    clip: float | None = 0.01  # critic conv kernels clipped to +-clip after each update
    spectral_norm: bool = False
    output: str = "softmax"  # what the critic sees from the generator: "softmax" or "gumbel" (straight-through)
    temperature: float = 1.0
    dropout: float = 0.3
    # "templates" architecture: LD-aware blocks of at most block_snps SNPs, each decoded from
    # a codebook of ``templates`` learned block patterns; an MLP of ``hidden`` units picks them;
    # the critic reads patches of ``critic_patch`` SNPs through two strided convs
    block_snps: int = 400
    hidden: int = 256
    critic_patch: int = 8
    critic_filters: tuple[int, int] = (32, 64)
    templates: int = 320
    # "shared": one codebook, each population's share proportional to its training genomes (one
    # network whose capacity follows the data, as the paper's); "per_population": equal shares;
    # "real" (copying model): every distinct real training haplotype of every population, the codebook
    # as large as they are up to ``templates``; past it, each population keeps all of its own up to an
    # equal share (water filling), so a minority's codebook never shrinks for a large population's
    codebook: str = "shared"
    # the template choice's last layer: dense (None or 0) or factorised at this rank (per-block template keys)
    choice_rank: int | None = None
    # "haplotypes": each population's stay bonus starts at the mosaic switch rate whose membership AUC,
    # measured inside its training genomes, stays under this budget (hybridizer.calibrate); None: the
    # hybridizer's one default rate for every population
    membership_budget: float | None = None
    # "haplotypes": a switch between blocks falls anywhere between their middle SNPs (True), as a
    # mosaic's do, or at the block edge (False: models written before the field existed)
    switch_inside: bool = False
    # "haplotypes" with switch_inside: a switch moves only to a codebook haplotype that agrees with the one
    # it leaves on this many SNPs each side of the switch point (the mosaic's match window); 0: to any
    match_window: int = 0
    # bookkeeping
    steps_per_epoch: int | None = None  # None: one pass over the training genomes; else at most this many batches
    eval_every: int = 1  # epochs between quality evaluations (and checkpoints)
    eval_samples: int = 200  # generated per population for the quality score

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def samples(self) -> bool:
        """Networks trained on straight-through Gumbel draws are sampled; the paper's take the argmax,
        and so does the copying model, whose randomness is in its choices (its SNP logits are a
        codebook haplotype's alleles: a draw would only add mutations the critic never saw)."""
        return self.output == "gumbel" and self.architecture != "haplotypes"


PRESETS = {
    "paper": Preset("paper", "paper", eval_every=10),
    # phased data: the copying model ("haplotypes"); unphased data falls back to genotype "templates"
    "cpu": Preset("cpu", "haplotypes", noise_dim=64, label_dim=32, batch_size=64, epochs=8, lr=2e-4,
                  critic_lr=1e-4, clip=None, spectral_norm=True, output="gumbel", temperature=0.5, dropout=0.3,
                  block_snps=200, templates=2000, codebook="real", choice_rank=16,
                  membership_budget=0.62, switch_inside=True, match_window=10),
    # the cpu preset's architecture in a size for tests
    "tiny": Preset("tiny", "haplotypes", noise_dim=8, label_dim=4, batch_size=8, epochs=2, lr=1e-3, critic_lr=1e-3,
                   clip=None, spectral_norm=True, output="gumbel", temperature=0.5, block_snps=50, hidden=16,
                   critic_patch=4, critic_filters=(4, 8), templates=12, codebook="shared", choice_rank=4,
                   switch_inside=True, match_window=4, eval_samples=8),
}


def make_preset(name: str, model: str, **overrides) -> Preset:
    """The named preset with the model's loss/optimizer and any non-None overrides applied."""
    if name not in PRESETS:
        raise InputError(f"preset must be one of {', '.join(PRESETS)}, got {name!r}")
    if model not in MODELS:
        raise InputError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    preset = PRESETS[name]
    if model == "pgcgan":
        preset = replace(preset, loss="wasserstein", optimizer="rmsprop", lr=5e-5, critic_lr=None)
    known = {f.name for f in fields(Preset)}
    unknown = set(overrides) - known
    if unknown:
        raise InputError(f"unknown preset field(s): {', '.join(sorted(unknown))}")
    preset = replace(preset, **{k: v for k, v in overrides.items() if v is not None})
    if preset.steps_per_epoch is not None and preset.steps_per_epoch < 1:
        raise InputError(f"steps_per_epoch must be at least 1, got {preset.steps_per_epoch}")
    for field_name in ("batch_size", "epochs", "d_steps", "noise_dim"):
        if getattr(preset, field_name) < 1:
            raise InputError(f"{field_name} must be at least 1, got {getattr(preset, field_name)}")
    return preset


def preset_from_dict(values: dict) -> Preset:
    values = dict(values)
    values["critic_filters"] = tuple(values["critic_filters"])
    values.setdefault("steps_per_epoch", None)  # models written before the field existed
    return Preset(**values)
