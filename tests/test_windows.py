"""Whole chromosomes: the window plan, stitching, the BGZF join, windowed train/generate on Dask, resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pysam
import pytest

from ogan_vcf.errors import InputError
from ogan_vcf.windowed import BGZF_EOF, join_bgzf, longest_true_runs, stitch_junction
from ogan_vcf.windows import plan_windows

from util import bgzip_and_index, simulate_cohort, write_panel_text, write_vcf_text

WINDOWS = {"window_snps": 120, "overlap_snps": 30}
TINY = {"epochs": 1, "batch_size": 30}


# ---------------------------------------------------------------- the plan

def test_a_cohort_that_fits_one_window_is_one_window():
    (w,) = plan_windows(np.zeros(1200, dtype=np.int32), window_snps=800)
    assert (w.start, w.stop, w.core_start, w.core_stop) == (0, 1200, 0, 1200)


def test_cores_tile_each_contig_and_windows_never_cross_one():
    contig = np.repeat([0, 1, 2], [1000, 130, 2600]).astype(np.int32)
    windows = plan_windows(contig, window_snps=300, overlap_snps=40)
    assert windows[0].core_start == 0 and windows[-1].core_stop == len(contig)
    for a, b in zip(windows[:-1], windows[1:]):
        assert a.core_stop == b.core_start  # no gap, no overlap between cores
    for w in windows:
        assert len(set(contig[w.start:w.stop])) == 1 and contig[w.start] == w.contig
        assert w.start <= w.core_start < w.core_stop <= w.stop
        first, last = np.flatnonzero(contig == w.contig)[[0, -1]]
        assert w.start == max(first, w.core_start - 40) and w.stop == min(last + 1, w.core_stop + 40)
    assert [sum(w.contig == c for w in windows) for c in range(3)] == [3, 1, 9]


def test_cuts_fall_at_the_weakest_ld_or_the_largest_map_step():
    rng = np.random.default_rng(1)
    # 4 LD blocks of 150 SNPs: every SNP in a block copies one haplotype pattern (r^2 = 1 inside)
    patterns = rng.integers(0, 2, size=(4, 200, 2)).astype(np.int8)
    genotypes = np.repeat(patterns, 150, axis=0)
    contig = np.zeros(600, dtype=np.int32)
    genotypes[:, :100] = 0  # the block edges no longer sit on the even target (300)
    genotypes[:330, :100] = 1
    cm = np.linspace(0, 1, 600)
    cm[350:] += 5.0  # a hotspot between SNP 349 and 350, within a quarter window of the target 300
    plans = {cut: [w.core_start for w in plan_windows(contig, window_snps=300, overlap_snps=0, cut=cut,
                                                      genotypes=genotypes, genetic_cm=cm)]
             for cut in ("even", "ld", "map")}
    assert plans == {"even": [0, 300], "ld": [0, 330], "map": [0, 350]}
    with pytest.raises(InputError, match="needs a genetic map"):
        plan_windows(contig, window_snps=300, cut="map")


def test_bad_window_sizes_are_refused():
    with pytest.raises(InputError, match="at least 100 SNPs"):
        plan_windows(np.zeros(10, dtype=np.int32), window_snps=50)
    with pytest.raises(InputError, match="overlap"):
        plan_windows(np.zeros(10, dtype=np.int32), window_snps=200, overlap_snps=150)


# ---------------------------------------------------------------- stitching

def test_longest_true_runs_finds_the_first_longest_run():
    agree = np.array([[1, 1, 0, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0], [1, 1, 0, 1, 1, 0, 1]], dtype=bool)
    start, length = longest_true_runs(agree)
    assert start.tolist() == [3, 0, 0] and length.tolist() == [3, 0, 2]


def test_stitching_recovers_who_continues_whom_within_each_population():
    rng = np.random.default_rng(3)
    groups = np.repeat([0, 1], 30)
    left = rng.integers(0, 2, size=(80, 60)).astype(np.int8)  # 80 shared SNPs, 60 distinct haplotypes
    truth = np.concatenate([rng.permutation(30), 30 + rng.permutation(30)])  # right's unit of left unit h
    right = np.empty_like(left)
    right[:, truth] = left
    order, switch = stitch_junction(left, right, groups)
    assert (order == truth).all()
    assert (switch == 40).all()  # they agree everywhere: switch in the middle
    # one disagreement near the start moves the switch to the middle of the longer agreeing run
    right[5, truth[0]] ^= 1
    order, switch = stitch_junction(left, right, groups)
    assert order[0] == truth[0] and switch[0] == 6 + 74 // 2


def test_matches_stay_within_a_population():
    rng = np.random.default_rng(4)
    groups = np.repeat([0, 1], 10)
    left = rng.integers(0, 2, size=(50, 20)).astype(np.int8)
    right = left[:, ::-1].copy()  # each left unit's twin is in the other population
    order, _ = stitch_junction(left, right, groups)
    assert (groups[order] == groups).all() and sorted(order.tolist()) == list(range(20))


def test_bgzf_parts_join_into_one_valid_indexed_vcf(tmp_path):
    header = b"##fileformat=VCFv4.2\n##contig=<ID=1>\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\n"
    parts = []
    for k in range(3):
        part = tmp_path / f"p{k}.bgz"
        with pysam.BGZFile(str(part), "wb") as fh:
            fh.write(b"".join(f"1\t{100 * k + i + 1}\t.\tA\tC\t.\t.\t.\tGT\t0|1\n".encode() for i in range(50)))
        parts.append(part)
    out = tmp_path / "joined.vcf.gz"
    join_bgzf(header, parts, out)
    data = out.read_bytes()
    assert data.endswith(BGZF_EOF) and data.count(BGZF_EOF) == 1  # one EOF marker, at the end
    pysam.tabix_index(str(out), preset="vcf", force=True)
    with pysam.VariantFile(str(out)) as vf:
        positions = [r.pos for r in vf]
        assert positions == [100 * k + i + 1 for k in range(3) for i in range(50)]
        assert [r.pos for r in vf.fetch("1", 100, 110)] == list(range(101, 111))
    bad = tmp_path / "bad.bgz"
    bad.write_bytes(parts[0].read_bytes()[:-len(BGZF_EOF)])
    with pytest.raises(InputError, match="not a complete BGZF part"):
        join_bgzf(header, [bad], tmp_path / "never.vcf.gz")


# ---------------------------------------------------------------- windowed train and generate

@pytest.fixture(scope="module")
def chromosome(tmp_path_factory):
    """400 SNPs over 1 Mb, 60 people: three windows of 120 SNPs (30 overlap)."""
    d = tmp_path_factory.mktemp("chromosome")
    sim = simulate_cohort(length=1e6, max_snps=400, seed=11)
    vcf = bgzip_and_index(write_vcf_text(d / "chr.vcf", sim))
    return sim, vcf, write_panel_text(d / "chr.panel", sim.samples, sim.populations)


@pytest.fixture(scope="module")
def windowed(tmp_path_factory, chromosome):
    pytest.importorskip("tensorflow")
    from ogan_vcf.training import train

    _, vcf, panel = chromosome
    d = tmp_path_factory.mktemp("windowed")
    summary = train(vcf, d / "model", panel=panel, preset="tiny", seed=5, overrides=TINY, synchronous=True,
                    **WINDOWS)
    return d / "model", summary


def test_windowed_training_writes_one_model_per_window(windowed):
    model_dir, summary = windowed
    config = json.loads((model_dir / "config.json").read_text())
    assert config["layout"] == "windows" and summary.windows == len(config["windows"]) == 3
    assert summary.windows_trained == 3 and summary.windows_skipped == 0
    for w in config["windows"]:
        sub = model_dir / "windows" / f"w{w['index']:04d}"
        sub_config = json.loads((sub / "config.json").read_text())
        assert len(sub_config["variants"]["position"]) == w["stop"] - w["start"]  # its window, overlaps included
        assert json.loads((sub / "done.json").read_text())["digest"] == summary.window_digests[sub.name]


def test_windowed_generation_is_one_indexed_vcf_of_whole_people(windowed, chromosome, tmp_path):
    from ogan_vcf.generation import generate
    from ogan_vcf.io import read_cohort

    model_dir, _ = windowed
    sim, _, _ = chromosome
    out = tmp_path / "syn.vcf.gz"
    summary = generate(model_dir, out, n=12, seed=3, synchronous=True)
    assert (tmp_path / "syn.vcf.gz.tbi").is_file() and (tmp_path / "syn.panel").is_file()
    syn = read_cohort(out, panel=tmp_path / "syn.panel")
    assert syn.variant_position.tolist() == sim.positions.tolist()  # every site once, in order
    assert syn.n_samples == 36 and summary.counts == {"AFR": 12, "EUR": 12, "EAS": 12}
    assert syn.phase_state == "phased" and (syn.genotypes >= 0).all()
    record = [p for p in syn.provenance if "windows" in p.get("parameters", {})][-1]
    cores = record["parameters"]["windows"]
    assert len(cores) == 3 and cores[0]["start"] == sim.positions[0] and cores[-1]["stop"] == sim.positions[-1]
    again = tmp_path / "again.vcf.gz"
    generate(model_dir, again, n=12, seed=3, synchronous=True)
    assert read_cohort(again, panel=tmp_path / "again.panel").genotypes.tobytes() == syn.genotypes.tobytes()
    h5 = tmp_path / "syn.h5"  # other formats stream the same parts through the writer
    generate(model_dir, h5, n=12, seed=3, synchronous=True)
    assert read_cohort(h5).genotypes.tobytes() == syn.genotypes.tobytes()


def test_two_worker_local_cluster_trains_and_generates(chromosome, tmp_path):
    pytest.importorskip("tensorflow")
    pytest.importorskip("distributed")
    from ogan_vcf.generation import generate
    from ogan_vcf.io import read_cohort
    from ogan_vcf.training import train

    _, vcf, panel = chromosome
    summary = train(vcf, tmp_path / "model", panel=panel, preset="tiny", seed=5, overrides=TINY, workers=2,
                    **WINDOWS)
    assert summary.windows_trained == 3 and "LocalCluster, 2 worker" in summary.engine
    generate(tmp_path / "model", tmp_path / "syn.vcf.gz", n=6, seed=3, workers=2)
    assert read_cohort(tmp_path / "syn.vcf.gz", panel=tmp_path / "syn.panel").n_variants == 400


def test_a_killed_run_resumes_without_redoing_finished_windows(chromosome, tmp_path):
    pytest.importorskip("tensorflow")
    _, vcf, panel = chromosome
    model = tmp_path / "model"
    ogan = Path(sys.executable).with_name("ogan")
    command = [str(ogan), "train", str(vcf), "-p", str(panel), "-o", str(model),
               "--preset", "tiny", "--seed", "5", "--epochs", "1", "--batch-size", "30", "--window-snps", "120",
               "--overlap-snps", "30", "--synchronous", "--no-progress"]
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=env)
    first = model / "windows" / "w0000" / "done.json"
    deadline = time.time() + 600
    while not first.is_file() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert first.is_file(), "the first window never finished"
    kept = first.stat().st_mtime_ns, first.read_text()
    assert not (model / "windows" / "w0002" / "done.json").is_file()
    done = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    assert (first.stat().st_mtime_ns, first.read_text()) == kept  # untouched: not trained again
    assert "already done (kept)" in done.stdout
    assert all((model / "windows" / f"w{k:04d}" / "done.json").is_file() for k in range(3))
