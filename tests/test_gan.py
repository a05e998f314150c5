"""The conditional GAN on a tiny preset: training mechanics, checkpoints, generation, bad input."""

import json
import shutil
import signal
import subprocess

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from ogan_vcf.cli import app
from ogan_vcf.errors import InputError
from ogan_vcf.model.encoding import decode, encode

pytest.importorskip("tensorflow")
runner = CliRunner()
TINY = {"epochs": 1, "batch_size": 30}  # 60 genomes: two generator steps per epoch


@pytest.fixture(scope="module")
def trained(tmp_path_factory, sim_files):
    from ogan_vcf.training import train

    d = tmp_path_factory.mktemp("gan")
    summary = train(sim_files["vcf_gz"], d / "model", panel=sim_files["panel"], preset="tiny", seed=7,
                    overrides=TINY)
    return d / "model", summary


def weights(model_dir, which="last") -> dict:
    """Every array of a checkpoint (networks, optimizers, seed states) by its Keras path."""
    out = {}
    with h5py.File(model_dir / "checkpoints" / f"{which}.weights.h5", "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[...]) if isinstance(obj, h5py.Dataset) else None)
    return out


def assert_same_weights(a: dict, b: dict):
    assert a.keys() == b.keys() and len(a) > 10
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("phased", [True, False])
def test_encode_decode_round_trip(sim, phased):
    g = sim.genotypes.copy()
    if not phased:
        g = np.sort(g, axis=2)  # unphased heterozygotes are written 0/1
    classes = encode(g, phased)
    assert classes.shape == (60, 200) and classes.max() == (3 if phased else 2)
    np.testing.assert_array_equal(decode(classes, phased), g)
    assert set(np.unique(encode(np.array([[[0, 1], [1, 0]]], np.int8), True)).tolist()) == {1, 2}


def test_encode_refuses_missing_calls(sim):
    g = sim.genotypes.copy()
    g[3, 4, 1] = -1
    with pytest.raises(InputError, match="missing calls .* variant 4, sample 5.*impute"):
        encode(g, True)


def test_two_steps_train_finite_losses_and_a_keras_checkpoint(trained):
    model_dir, summary = trained
    assert summary.steps == 2 and summary.epochs == 1
    history = (model_dir / "history.csv").read_text().splitlines()
    header, row = history[0].split(","), history[1].split(",")
    for column in ("d_loss", "g_loss", "quality"):
        assert np.isfinite(float(row[header.index(column)]))
    config = json.loads((model_dir / "config.json").read_text())
    assert config["labels"] == ["AFR", "EUR", "EAS"] and config["n_classes"] == 4 and config["format"] == 2
    assert len(config["variants"]["position"]) == 200 and config["preset"]["architecture"] == "haplotypes"
    saved = weights(model_dir)
    for part in ("generator/", "critic/", "d_optimizer/", "g_optimizer/"):
        assert any(key.startswith(part) for key in saved), part
    assert {"vars/noise", "vars/generator.MatchedMarkovChoice_0.0", "vars/generator.MatchedMarkovChoice_0.1",
            "vars/critic.Dropout_0.0"} <= saved.keys()  # seed states: choices, switch points, dropout
    assert not list(model_dir.rglob("*.npz"))


def test_critic_clipping_bounds_the_conv_kernels(sim_cohort):
    from ogan_vcf.model.networks import clipped_kernels
    from ogan_vcf.model.presets import make_preset
    from ogan_vcf.model.store import build_gan

    preset = make_preset("tiny", "offspring", clip=0.05, spectral_norm=False, batch_size=20)
    config = {"labels": ["AFR", "EUR", "EAS"], "n_classes": 4, "seed": 3, "network_blocks": [0, 50, 100, 150, 200],
              "variants": {"position": list(range(200))}}
    gan = build_gan(config, preset)
    kernels = clipped_kernels(gan.critic)
    for k in kernels:
        k.assign(np.full(k.shape, 0.5, dtype="float32"))  # far outside the bound
    from ogan_vcf.model.networks import padded_length

    classes = np.pad(encode(sim_cohort.genotypes, True)[:20], ((0, 0), (0, padded_length(200, preset) - 200)))
    import tensorflow as tf

    gan.train_step((tf.constant(classes), tf.zeros(20, dtype=tf.int32)))
    assert kernels and all(np.abs(np.asarray(k)).max() <= 0.05 + 1e-7 for k in kernels)


def test_same_seed_same_weights_and_resume_continues(tmp_path, sim_files, trained):
    from ogan_vcf.training import train

    model_dir, _ = trained
    again = tmp_path / "again"
    train(sim_files["vcf_gz"], again, panel=sim_files["panel"], preset="tiny", seed=7, overrides=TINY)
    assert_same_weights(weights(model_dir), weights(again))
    for options in ({"overrides": {"lr": 0.1}}, {"model": "ppo"}, {"seed": 8}, {"preset": "cpu"}):
        with pytest.raises(InputError, match="only the number of epochs may change"):
            train(sim_files["vcf_gz"], again, panel=sim_files["panel"], resume=True, **options)
    resumed = train(sim_files["vcf_gz"], again, panel=sim_files["panel"], resume=True, overrides={"epochs": 2})
    assert resumed.steps == 4 and resumed.epochs == 2
    config = json.loads((again / "config.json").read_text())
    assert config["preset"]["epochs"] == 2 and config["mixed_precision"] is False
    assert len((again / "history.csv").read_text().splitlines()) == 3
    unbroken = tmp_path / "unbroken"  # two epochs in one go: the same weights, optimizer and seed states
    train(sim_files["vcf_gz"], unbroken, panel=sim_files["panel"], preset="tiny", seed=7, overrides={**TINY, "epochs": 2})
    assert_same_weights(weights(unbroken), weights(again))
    assert_same_weights(weights(unbroken, "first"), weights(model_dir))  # first: the epoch-1 state, kept
    assert json.loads((unbroken / "checkpoints" / "first.json").read_text())["epoch"] == 1
    inode = {(d.name, w): (d / "checkpoints" / f"{w}.weights.h5").stat().st_ino
             for d in (model_dir, unbroken) for w in ("first", "best", "last")}
    assert inode[model_dir.name, "first"] == inode[model_dir.name, "best"] == inode[model_dir.name, "last"]
    assert inode[unbroken.name, "first"] != inode[unbroken.name, "last"]  # epoch 2 wrote last anew
    assert any(not np.array_equal(a, b) for a, b in zip(weights(model_dir).values(), weights(again).values()))


def test_ctrl_c_inside_fit_keeps_the_checkpoint_and_resumes_exactly(tmp_path, sim_files, monkeypatch):
    """A real SIGINT during fit (after epoch 1's checkpoint): exit 130, then --resume = an unbroken run."""
    import ogan_vcf.training as training

    real_save, real_link = training.save_checkpoint, training.link_checkpoint

    def sigint_after_last(which, state):
        if which == "last" and state["epoch"] == 1:
            signal.raise_signal(signal.SIGINT)  # KeyboardInterrupt in the main thread, inside gan.fit

    def save_then_sigint(gan, model_dir, which, state):
        real_save(gan, model_dir, which, state)
        sigint_after_last(which, state)

    def link_then_sigint(model_dir, source, which, state):  # epoch 1's last links to its first
        real_link(model_dir, source, which, state)
        sigint_after_last(which, state)

    monkeypatch.setattr(training, "save_checkpoint", save_then_sigint)
    monkeypatch.setattr(training, "link_checkpoint", link_then_sigint)
    common = [sim_files["vcf_gz"], "-p", sim_files["panel"], "--preset", "tiny", "--seed", "7", "--batch-size", "30",
              "--no-progress"]
    stopped = tmp_path / "stopped"
    r = runner.invoke(app, ["train", *map(str, common), "--epochs", "3", "-o", str(stopped)])
    assert r.exit_code == 130 and "the last checkpoint (epoch 1) stands" in r.output, r.output
    assert len((stopped / "history.csv").read_text().splitlines()) == 2
    monkeypatch.undo()
    r = runner.invoke(app, ["train", *map(str, common), "--epochs", "3", "-o", str(stopped), "--resume"])
    assert r.exit_code == 0, r.output + r.stderr
    unbroken = tmp_path / "unbroken"
    r = runner.invoke(app, ["train", *map(str, common), "--epochs", "3", "-o", str(unbroken)])
    assert r.exit_code == 0, r.output + r.stderr
    assert_same_weights(weights(unbroken), weights(stopped))
    assert (stopped / "history.csv").read_text().splitlines()[1:] != []
    assert [line.split(",")[0] for line in (stopped / "history.csv").read_text().splitlines()[1:]] == ["1", "2", "3"]


def test_an_old_npz_model_directory_gets_a_retrain_line(tmp_path, trained):
    model_dir, _ = trained
    old = tmp_path / "old"
    shutil.copytree(model_dir, old)
    config = json.loads((old / "config.json").read_text())
    config["format"] = 1
    (old / "config.json").write_text(json.dumps(config))
    r = runner.invoke(app, ["generate", str(old), "-o", str(tmp_path / "o.vcf.gz"), "--no-progress"])
    assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1
    assert "format 1, .npz checkpoints" in r.stderr and "retrain it, or convert it" in r.stderr


def test_generate_writes_a_vcf_bcftools_reads(tmp_path, trained, sim):
    model_dir, _ = trained
    out = tmp_path / "synth.vcf.gz"
    r = runner.invoke(app, ["generate", str(model_dir), "--n", "5", "--pop", "EAS,AFR", "--seed", "1",
                            "-o", str(out), "--no-progress"])
    assert r.exit_code == 0, r.output
    import cyvcf2

    vcf = cyvcf2.VCF(str(out))
    assert vcf.samples == [f"SYN_EAS_{i:06d}" for i in range(1, 6)] + [f"SYN_AFR_{i:06d}" for i in range(1, 6)]
    positions = [v.POS for v in vcf]
    assert positions == sim.positions.tolist()
    panel = (tmp_path / "synth.panel").read_text().splitlines()
    assert panel[1].split("\t") == ["SYN_EAS_000001", "EAS"]
    from ogan_vcf.generation import synthesize

    a, _, _ = synthesize(model_dir, n=4, seed=3)
    b, _, _ = synthesize(model_dir, n=4, seed=3)
    np.testing.assert_array_equal(a.genotypes, b.genotypes)
    c, _, _ = synthesize(model_dir, n=7, populations=["EUR"], hybridize_factor=3, seed=3)
    assert c.samples.population_counts() == {"EUR": 7}


def test_another_seed_draws_other_genomes(trained):
    """The copying model's randomness is mostly in its layers' draws (choices, switch points), whose seed
    state a checkpoint stores: generation restarts it from ``--seed``, else every seed would repeat the
    checkpoint's draws (a near-copy of the same synthetic cohort under another seed)."""
    from ogan_vcf.generation import synthesize

    model_dir, _ = trained
    a, _, _ = synthesize(model_dir, n=20, populations=["AFR"], seed=1)
    b, _, _ = synthesize(model_dir, n=20, populations=["AFR"], seed=2)
    same = (a.genotypes == b.genotypes).all(axis=(0, 2))  # per genome, at the same rank
    assert same.mean() < 0.2


@pytest.mark.tools("bcftools")
def test_bcftools_reads_the_generated_vcf(tmp_path, trained):
    model_dir, _ = trained
    out = tmp_path / "synth.vcf.gz"
    r = runner.invoke(app, ["generate", str(model_dir), "--n", "5", "--seed", "1", "-o", str(out), "--no-progress"])
    assert r.exit_code == 0, r.output
    view = subprocess.run(["bcftools", "view", "-H", str(out)], capture_output=True, text=True, check=True)
    lines = view.stdout.splitlines()
    assert len(lines) == 200 and all(len(line.split("\t")) == 9 + 15 for line in lines) and "|" in view.stdout


def test_generate_bad_input_is_one_line(tmp_path, trained):
    model_dir, _ = trained
    out = tmp_path / "o.vcf.gz"
    bad_version = tmp_path / "old"
    shutil.copytree(model_dir, bad_version)
    config = json.loads((bad_version / "config.json").read_text())
    config["format"] = 99
    (bad_version / "config.json").write_text(json.dumps(config))
    cases = {
        (str(tmp_path / "nope"),): "not a model directory (no config.json)",
        (str(bad_version),): "model format 99 is not supported",
        (str(model_dir), "--pop", "XYZ"): "unknown population 'XYZ'; the model knows AFR, EUR, EAS",
        (str(model_dir), "--n", "0"): "the number of people per population must be a whole number >= 1, got 0",
        (str(model_dir), "--checkpoint", "worst"): "checkpoint must be one of best, last, first, got 'worst'",
    }
    for args, message in cases.items():
        r = runner.invoke(app, ["generate", *args, "-o", str(out), "--no-progress"])
        assert r.exit_code == 1, (args, r.output)
        assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr, r.stderr
        assert not out.exists()


def test_train_refuses_missing_calls_and_unknown_preset(tmp_path, data_dir):
    r = runner.invoke(app, ["train", str(data_dir / "missing.vcf"), "-p", str(data_dir / "three.panel"),
                            "-o", str(tmp_path / "m"), "--preset", "tiny"])
    assert r.exit_code == 1 and "cannot be used for training" in r.stderr
    r = runner.invoke(app, ["train", str(data_dir / "unphased.vcf"), "-p", str(data_dir / "three.panel"),
                            "-o", str(tmp_path / "m"), "--preset", "huge"])
    assert r.exit_code == 1 and "preset must be one of paper, cpu, tiny, got 'huge'" in r.stderr
    assert not (tmp_path / "m").exists()


def test_template_generator_starts_from_its_populations_blocks(sim_cohort):
    """Before training, every generated block is one training genome's block of the same label."""
    from ogan_vcf.hybridizer.blocks import BlockSpec, ld_blocks
    from ogan_vcf.model.presets import make_preset
    from ogan_vcf.model.store import build_gan
    from ogan_vcf.training import init_templates

    preset = make_preset("tiny", "offspring", architecture="templates", codebook="shared")
    classes = encode(sim_cohort.genotypes, True)
    labels = np.array([["AFR", "EUR", "EAS"].index(p) for p in sim_cohort.samples.populations], dtype=np.int32)
    starts = ld_blocks(sim_cohort.genotypes, sim_cohort.variant_contig, BlockSpec(min_snps=12, max_snps=50))
    config = {"labels": ["AFR", "EUR", "EAS"], "n_classes": 4, "seed": 3, "network_blocks": starts.tolist(),
              "variants": {"position": list(range(200))}}
    gan = build_gan(config, preset)
    init_templates(gan.generator, classes, labels, 3, preset.templates, seed=3)
    want = np.repeat(np.arange(3), 10).astype(np.int32)
    noise = np.random.default_rng(0).normal(size=(30, preset.noise_dim)).astype("float32")
    made = np.asarray(gan.generator([noise, want])).argmax(axis=-1)[:, :200]
    for row, label in zip(made, want):
        for a, b in zip(starts[:-1], starts[1:]):
            members = classes[labels == label, a:b]
            assert (members == row[a:b]).all(axis=1).any()


def _tiny_haplotype_gan(sim_cohort, **overrides):
    """A tiny copying GAN over the simulated cohort: (preset, labels, block starts, gan), before any start."""
    from ogan_vcf.hybridizer.blocks import BlockSpec, ld_blocks
    from ogan_vcf.model.presets import make_preset
    from ogan_vcf.model.store import build_gan

    preset = make_preset("tiny", "offspring", templates=30, **overrides)
    names = ["AFR", "EUR", "EAS"]
    labels = np.array([names.index(p) for p in sim_cohort.samples.populations], dtype=np.int32)
    starts = ld_blocks(sim_cohort.genotypes, sim_cohort.variant_contig, BlockSpec(min_snps=12, max_snps=50))
    config = {"labels": names, "n_classes": 4, "seed": 3, "network_blocks": starts.tolist(),
              "variants": {"position": list(range(200))}}
    return preset, labels, starts, build_gan(config, preset)


def _choices(generator):
    """The template choices (batch, 2, blocks, K) of a copying generator (a matched one returns [choices, points])."""
    out = generator.get_layer("template_choice").output
    return out[0] if isinstance(out, (list, tuple)) else out


def test_haplotype_generator_starts_as_a_mosaic_of_its_populations_haplotypes(sim_cohort):
    """Before training: each block of each generated haplotype is a training haplotype of the same
    label, and a haplotype stays on its codebook haplotype at a block edge as often as set (the
    block-edge layout of models written before ``switch_inside``)."""
    import keras

    from ogan_vcf.training import init_haplotypes, template_owners

    preset, labels, starts, gan = _tiny_haplotype_gan(sim_cohort, switch_inside=False)
    generations = 20000.0
    init_haplotypes(gan.generator, sim_cohort.genotypes, labels, 3, preset.templates, 3, preset.codebook,
                    sim_cohort.variant_contig, sim_cohort.variant_position, generations=generations)
    want = np.repeat(np.arange(3), 100).astype(np.int32)
    noise = np.random.default_rng(0).normal(size=(300, preset.noise_dim)).astype("float32")
    probe = keras.Model(gan.generator.inputs, [gan.generator.output, _choices(gan.generator)])
    logits, choice = (np.asarray(x) for x in probe([noise, want]))
    made = decode(logits.argmax(axis=-1)[:, :200], True)  # (V, n, 2)
    for j, label in enumerate(want[::7]):
        own = sim_cohort.genotypes[:, labels == label].reshape(200, -1)
        for h in range(2):
            for a, b in zip(starts[:-1], starts[1:]):
                assert (own[a:b] == made[a:b, 7 * j, h][:, None]).all(axis=0).any()
    picked = choice.argmax(axis=-1)  # (n, 2, blocks)
    owner = template_owners(preset.templates, np.bincount(labels, minlength=3), preset.codebook)
    assert (owner[picked] == want[:, None, None]).all()  # a label copies its own codebook only
    middle = (sim_cohort.variant_position[starts[:-1]] + sim_cohort.variant_position[starts[1:] - 1]) / 2
    expected_stay = np.exp(-generations * np.diff(middle) / 1e8)
    stays = (picked[:, :, 1:] == picked[:, :, :-1]).mean(axis=(0, 1))
    assert expected_stay.min() < 0.9 and np.abs(stays - expected_stay).max() < 0.08


def test_haplotype_codebook_takes_real_haplotypes_before_offspring(sim_cohort):
    """An offspring haplotype is a mosaic of real ones: the codebook holds real haplotypes while there are enough."""
    from ogan_vcf.hybridizer.blocks import BlockSpec, ld_blocks
    from ogan_vcf.model.presets import make_preset
    from ogan_vcf.model.store import build_gan
    from ogan_vcf.training import init_haplotypes, template_owners, training_cohort

    data = training_cohort(sim_cohort.take_samples(np.arange(0, 20, 3).tolist() + list(range(20, 60))), "offspring",
                           BlockSpec(), seed=2)  # AFR: 7 real genomes, balanced up to 20 with offspring
    names = ["AFR", "EUR", "EAS"]
    labels = np.array([names.index(p) for p in data.samples.populations], dtype=np.int32)
    real = ~np.char.startswith(data.samples.ids.astype(str), "AFR_off")
    preset = make_preset("tiny", "offspring", templates=60)  # 20 codebook haplotypes per population
    starts = ld_blocks(data.genotypes, data.variant_contig, BlockSpec(min_snps=12, max_snps=50))
    gan = build_gan({"labels": names, "n_classes": 4, "seed": 3, "network_blocks": starts.tolist(),
                     "variants": {"position": list(range(200))}}, preset)
    init_haplotypes(gan.generator, data.genotypes, labels, 3, preset.templates, 3, preset.codebook,
                    data.variant_contig, data.variant_position, real=real)
    table = np.asarray(gan.generator.get_layer("logits").templates)  # (blocks, K, longest)
    codebook = np.concatenate([table[b, :, :z - a] for b, (a, z) in enumerate(zip(starts[:-1], starts[1:]))],
                              axis=1) > 0  # (K, V) alleles
    afr = template_owners(preset.templates, np.bincount(labels, minlength=3), preset.codebook) == 0
    real_afr = data.genotypes[:, (labels == 0) & real].transpose(1, 2, 0).reshape(-1, 200).astype(bool)
    from_real = [(real_afr == h).all(axis=1).any() for h in codebook[afr]]
    assert sum(from_real) >= len(np.unique(real_afr, axis=0))  # every distinct real AFR haplotype is in it


def test_water_fill_keeps_every_small_population_whole():
    """The "real" codebook's shares: a population keeps all its haplotypes while they fit under the
    level; larger ones share what is left equally; past the total, the extra follows the counts."""
    from ogan_vcf.training import template_owners, water_fill

    counts = np.array([200, 1000, 200, 200, 1000])
    assert water_fill(1000, counts).tolist() == [200] * 5
    assert water_fill(2000, counts).tolist() == [200, 700, 200, 200, 700]
    assert water_fill(2600, counts).tolist() == counts.tolist()
    assert water_fill(2001, counts).tolist() in ([200, 701, 200, 200, 700], [200, 700, 200, 200, 701])
    assert water_fill(999, counts).sum() == 999 and water_fill(999, counts).min() >= 199
    big = water_fill(3000, counts)
    assert big.sum() == 3000 and (big >= counts).all()
    assert water_fill(3, np.array([0, 5, 9])).tolist() == [1, 1, 1]  # one each at least
    assert np.bincount(template_owners(2000, counts, "real")).tolist() == [200, 700, 200, 200, 700]


def test_the_real_codebook_holds_every_distinct_real_haplotype(tmp_path, sim_files, sim_cohort):
    """codebook "real" (the cpu preset): the codebook is as large as the real haplotypes are (under the
    cap), and every one of them is in it, while the offspring that balance the populations are not."""
    from ogan_vcf.cohort import write_cohort
    from ogan_vcf.model.presets import preset_from_dict
    from ogan_vcf.model.store import build_gan, load_checkpoint
    from ogan_vcf.training import template_owners, train

    small = sim_cohort.take_samples(list(range(0, 20, 4)) + list(range(20, 60)))  # AFR: 5 real genomes
    path = tmp_path / "small.h5"
    write_cohort(path, small)
    train(path, tmp_path / "model", preset="tiny", seed=4,
          overrides={**TINY, "codebook": "real", "templates": 10_000})
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    haplotypes = [np.unique(small.genotypes[:, small.samples.populations == p].transpose(1, 2, 0)
                            .reshape(-1, small.n_variants), axis=0).astype(bool) for p in config["labels"]]
    k = config["preset"]["templates"]
    assert k == sum(len(h) for h in haplotypes) < 10_000
    gan = build_gan(config, preset_from_dict(config["preset"]), training=False)
    load_checkpoint(gan, tmp_path / "model", "last", training=False)
    layer = gan.generator.get_layer("logits")
    table = np.asarray(layer.templates)
    starts = layer.starts
    codebook = np.concatenate([table[b, :, :z - a] for b, (a, z) in enumerate(zip(starts[:-1], starts[1:]))],
                              axis=1) > 0
    owner = template_owners(k, np.array([len(h) for h in haplotypes]), "real")
    for label, own in enumerate(haplotypes):  # exactly the population's distinct real haplotypes
        rows = codebook[owner == label]
        assert len(rows) == len(own)
        np.testing.assert_array_equal(np.unique(rows, axis=0), own)


def test_low_rank_choice_starts_at_zero_learns_and_is_far_smaller():
    """The factorised choice layer: zero logits before training (prior and stay bonus decide step 0),
    gradients reach both factors after a step, and its weights are a small part of the dense layer's."""
    import keras
    import tensorflow as tf

    from ogan_vcf.model.networks import build_generator
    from ogan_vcf.model.presets import make_preset

    starts = list(range(0, 401, 20))  # 20 blocks
    dense, low = (build_generator(make_preset("tiny", "offspring", templates=200, hidden=32, choice_rank=r), 400, 3,
                                  4, starts=starts, seed=1) for r in (0, 4))  # 0: dense
    count = lambda g: sum(int(np.prod(w.shape)) for w in g.trainable_weights)  # noqa: E731
    assert count(low) < count(dense) / 5
    choice_logits = keras.Model(low.inputs, low.get_layer("choice_keys").output)
    noise = np.random.default_rng(0).normal(size=(6, 8)).astype("float32")
    label = np.array([0, 1, 2, 0, 1, 2], dtype=np.int32)
    assert np.abs(np.asarray(choice_logits([noise, label]))).max() == 0.0
    rng = np.random.default_rng(1)  # a codebook of random haplotypes: the logits depend on the choices
    low.get_layer("logits").set_haplotypes(rng.integers(0, 2, size=(50, 400)).astype(np.int8), rng.integers(0, 50, 200))
    keys = low.get_layer("choice_keys").keys
    initial_keys = keys.numpy().copy()
    optimizer = keras.optimizers.Adam(1e-2)
    for _ in range(2):  # the first step moves the codes' layer (keys get no gradient from zero codes), the second the keys
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.nn.log_softmax(low([noise, label], training=True), axis=-1)[:, :, 0])
        optimizer.apply_gradients(zip(tape.gradient(loss, low.trainable_weights), low.trainable_weights))
    assert np.abs(np.asarray(choice_logits([noise, label]))).max() > 0
    assert not np.array_equal(initial_keys, keys.numpy())


def test_haplotype_templates_gather_equals_the_product_for_one_hot_choices():
    """Generation gathers the chosen codebook blocks; training multiplies by the choices: same logits."""
    from ogan_vcf.model.networks import HaplotypeTemplates

    rng = np.random.default_rng(2)
    starts, k = [0, 3, 7, 10], 5
    layer = HaplotypeTemplates(starts, k, 12)
    layer.build((None, 2, 3, k))
    layer.set_haplotypes(rng.integers(0, 2, size=(9, 10)).astype(np.int8), rng.integers(0, 9, size=k))
    choice = np.eye(k, dtype="float32")[rng.integers(0, k, size=(6, 2, 3))]  # (batch, 2, blocks, K) one-hot
    gathered = np.asarray(layer(choice, training=False))
    product = np.asarray(layer(choice, training=True))
    assert gathered.shape == (6, 12, 4)
    np.testing.assert_allclose(gathered, product, rtol=1e-6, atol=1e-6)


def test_switches_between_blocks_fall_anywhere_between_their_middles(sim_cohort):
    """``switch_inside`` (the cpu preset): a haplotype that changes codebook haplotype between blocks
    b-1 and b copies the first on a prefix of the interval between their middle SNPs and the second
    on the rest, and the switch point varies between haplotypes (block edges alone: it never does)."""
    import keras

    from ogan_vcf.model.networks import switch_middles
    from ogan_vcf.training import init_haplotypes

    preset, labels, starts, gan = _tiny_haplotype_gan(sim_cohort, match_window=0)  # a switch to any haplotype
    init_haplotypes(gan.generator, sim_cohort.genotypes, labels, 3, preset.templates, 3, preset.codebook,
                    sim_cohort.variant_contig, sim_cohort.variant_position, generations=20000.0)
    table = np.asarray(gan.generator.get_layer("logits").templates)  # (blocks, K, longest)
    codebook = np.concatenate([table[b, :, :z - a] for b, (a, z) in enumerate(zip(starts[:-1], starts[1:]))],
                              axis=1) > 0  # (K, V) alleles
    want = np.repeat(np.arange(3), 100).astype(np.int32)
    noise = np.random.default_rng(0).normal(size=(300, preset.noise_dim)).astype("float32")
    probe = keras.Model(gan.generator.inputs, [gan.generator.output, _choices(gan.generator)])
    logits, choice = (np.asarray(x) for x in probe([noise, want]))
    made = decode(logits.argmax(axis=-1)[:, :200], True).transpose(1, 2, 0).astype(bool)  # (n, 2, V)
    picked = choice.argmax(axis=-1)  # (n, 2, blocks)
    middle = switch_middles(starts)
    points = {b: set() for b in range(1, len(middle))}
    for i, h in np.ndindex(picked.shape[:2]):
        for b in range(1, len(middle)):
            lo, hi = middle[b - 1], middle[b]
            before, after = codebook[picked[i, h, b - 1], lo:hi], codebook[picked[i, h, b], lo:hi]
            got = made[i, h, lo:hi]
            fits = [p for p in range(hi - lo + 1) if (got[:p] == before[:p]).all() and (got[p:] == after[p:]).all()]
            assert fits, (i, h, b)  # a prefix from block b-1's haplotype, the rest from block b's
            if picked[i, h, b - 1] != picked[i, h, b] and len(fits) == 1:
                points[b].add(lo + fits[0])
    edge = np.asarray(starts[1:-1])
    spread = [b for b, p in points.items() if len(p) >= 3 and min(p) < edge[b - 1] < max(p)]
    assert len(spread) >= len(points) // 2  # switch points on both sides of most block edges


def test_a_matched_switch_moves_to_a_haplotype_that_agrees_around_its_point(sim_cohort):
    """``match_window`` (the cpu preset): where any codebook haplotype of the label agrees with the one a
    haplotype leaves on the window around the switch point, the switch goes to one that does; the
    generated haplotype is the first up to that point and the second after it; and the chance to stay
    is the network's (``test_haplotype_start_switches_at_each_populations_own_rate`` checks it too)."""
    import keras

    from ogan_vcf.model.networks import switch_middles, switch_places
    from ogan_vcf.training import init_haplotypes, template_owners

    preset, labels, starts, gan = _tiny_haplotype_gan(sim_cohort)
    assert preset.match_window == 4
    init_haplotypes(gan.generator, sim_cohort.genotypes, labels, 3, preset.templates, 3, preset.codebook,
                    sim_cohort.variant_contig, sim_cohort.variant_position, generations=20000.0)
    table = np.asarray(gan.generator.get_layer("logits").templates)
    codebook = np.concatenate([table[b, :, :z - a] for b, (a, z) in enumerate(zip(starts[:-1], starts[1:]))],
                              axis=1) > 0  # (K, V) alleles
    owner = template_owners(preset.templates, np.bincount(labels, minlength=3), preset.codebook)
    want = np.repeat(np.arange(3), 100).astype(np.int32)
    noise = np.random.default_rng(0).normal(size=(300, preset.noise_dim)).astype("float32")
    choice_out = gan.generator.get_layer("template_choice").output
    logits, choice, at = (np.asarray(x) for x in keras.Model(gan.generator.inputs, [gan.generator.output,
                                                                                    *choice_out])([noise, want]))
    made = decode(logits.argmax(axis=-1)[:, :200], True).transpose(1, 2, 0).astype(bool)  # (n, 2, V)
    picked = choice.argmax(axis=-1)
    middle = switch_middles(starts)
    places, _ = switch_places(starts, sim_cohort.variant_position, np.zeros(len(starts) - 2, bool))
    w, matched, could, switches = preset.match_window, 0, 0, 0
    for i, h in np.ndindex(picked.shape[:2]):
        for b in range(1, len(middle)):
            left, right = picked[i, h, b - 1], picked[i, h, b]
            j = middle[b - 1] + int((places[b - 1] < at[i, h, b]).sum())  # first SNP from block b's choice
            lo, hi = middle[b - 1], middle[b]
            assert (made[i, h, lo:j] == codebook[left, lo:j]).all() and (made[i, h, j:hi] == codebook[right, j:hi]).all()
            if left == right:
                continue
            switches += 1
            window = slice(max(0, j - w), min(200, j + w))
            agree = (codebook[:, window] == codebook[left, window]).all(axis=1) & (owner == want[i])
            agree[left] = False
            could += agree.any()
            matched += agree[right]
            assert agree[right] or not agree.any(), (i, h, b)
    assert switches > 300 and could > 100 and matched == could  # many switches, most of them matched


def test_switches_inside_blocks_give_the_same_forward_values_in_training_and_generation():
    """The layer's training path (products, straight-through) and generation path (gathers) agree
    for one-hot choices when they draw the same switch points."""
    from ogan_vcf.model.networks import HaplotypeTemplates

    rng = np.random.default_rng(3)
    starts, k = [0, 4, 9, 13, 16], 6
    layer = HaplotypeTemplates(starts, k, 16, switch_inside=True, seed=5)
    layer.build((None, 2, 4, k))
    layer.set_haplotypes(rng.integers(0, 2, size=(9, 16)).astype(np.int8), rng.integers(0, 9, size=k))
    layer.set_switch_points(np.sort(rng.uniform(0, 1e5, 16)), np.array([False, True, False]))
    choice = np.eye(k, dtype="float32")[rng.integers(0, k, size=(64, 2, 4))]
    state = np.asarray(layer.seed_generator.state.value)
    gathered = np.asarray(layer(choice, training=False))
    layer.seed_generator.state.assign(state)
    product = np.asarray(layer(choice, training=True))
    np.testing.assert_allclose(gathered, product, rtol=1e-6, atol=1e-6)
    assert not np.array_equal(gathered, np.asarray(layer(choice, training=False)))  # new switch points
    after = np.asarray(layer.after_previous)
    assert (after[2] == 2.0).all()  # block 2 starts a contig: its switch is at the edge


def test_generation_traces_its_generator_once_for_every_batch_size():
    """Tracing the cpu preset's generator takes seconds per window: one trace serves every batch size."""
    from ogan_vcf.model.networks import _inference_function, build_generator, run_generator
    from ogan_vcf.model.presets import PRESETS

    preset = PRESETS["tiny"]
    generator = build_generator(preset, 30, 2, 4, starts=[0, 10, 20, 30], seed=1)
    rng = np.random.default_rng(0)
    for n in (5, 7, 3):  # batches of 2: sizes 2 and 1
        noise = rng.normal(size=(n, preset.noise_dim)).astype("float32")
        logits = run_generator(generator, noise, np.zeros(n, dtype=np.int32), 30, batch=2)
        assert logits.shape == (n, 30, 4) and np.isfinite(logits).all()
    assert _inference_function(generator).experimental_get_tracing_count() == 1


def test_haplotype_start_switches_at_each_populations_own_rate(sim_cohort):
    """A rate per label: each label's haplotypes stay on their codebook haplotype at a block edge as
    often as its own rate sets (the per-population start of the cpu preset's membership budget)."""
    import keras

    from ogan_vcf.model.networks import switch_middles
    from ogan_vcf.training import init_haplotypes

    preset, labels, starts, gan = _tiny_haplotype_gan(sim_cohort)
    rates = np.array([3000.0, 60000.0, 20000.0])
    init_haplotypes(gan.generator, sim_cohort.genotypes, labels, 3, preset.templates, 3, preset.codebook,
                    sim_cohort.variant_contig, sim_cohort.variant_position, generations=rates)
    want = np.repeat(np.arange(3), 200).astype(np.int32)
    noise = np.random.default_rng(1).normal(size=(600, preset.noise_dim)).astype("float32")
    probe = keras.Model(gan.generator.inputs, _choices(gan.generator))
    picked = np.asarray(probe([noise, want])).argmax(axis=-1)  # (n, 2, blocks)
    middle = sim_cohort.variant_position[switch_middles(starts)]  # a switch falls between blocks' middles
    stays = []
    for label, rate in enumerate(rates):
        own = picked[want == label]
        stay = (own[:, :, 1:] == own[:, :, :-1]).mean(axis=(0, 1))
        expected = np.exp(-rate * np.diff(middle) / 1e8)
        assert np.abs(stay - expected).max() < 0.08
        stays.append(stay.mean())
    assert stays[0] > stays[2] + 0.1 and stays[2] > stays[1] + 0.1  # the rates' order, clearly apart


def test_a_membership_budget_sets_and_records_each_populations_start(tmp_path, sim_files, sim_cohort):
    """With ``membership_budget`` (the cpu preset's field) training chooses each population's start
    rate on its own genomes, records the audit in config.json and reports the rates."""
    from ogan_vcf.hybridizer.mosaic import genetic_positions
    from ogan_vcf.model.networks import switch_middles
    from ogan_vcf.training import population_switch_rates, train

    summary = train(sim_files["vcf_gz"], tmp_path / "model", panel=sim_files["panel"], preset="tiny", seed=7,
                    overrides={**TINY, "membership_budget": 0.7})
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    cm = genetic_positions(sim_cohort.variant_contig, sim_cohort.variant_position, sim_cohort.contig_id)
    rates, record = population_switch_rates(sim_cohort, cm, 0.7, 7, switch_middles(config["network_blocks"]),
                                            config["preset"]["match_window"])
    assert config["switch_rates"] == json.loads(json.dumps(record))  # the generator's own switch process
    assert {r["switches"] for r in record.values()} == {"between block middles"}
    assert {r["match_window"] for r in record.values()} == {4}  # the tiny preset's matched switches
    assert summary.switch_rates == rates and set(rates) == {"AFR", "EUR", "EAS"}
    for pop, found in record.items():
        assert found["budget"] == 0.7 and found["members"] == 20
        assert found["fitted"][f"{rates[pop]:g}"] <= 0.7 or not found["within_budget"]
