"""The mosaic unit: member haplotypes copied in segments that switch at per-haplotype points along a map."""

import numpy as np
import pytest

from ogan_vcf.errors import InputError
from ogan_vcf.hybridizer import BlockSpec, hybridize
from ogan_vcf.hybridizer.mosaic import (draw_segments, genetic_positions, match_sources, mosaic_genomes,
                                        switch_intervals, window_classes)


def segments_of(seg_ptr, seg_start, seg_stop, seg_source, h):
    s = slice(seg_ptr[h], seg_ptr[h + 1])
    return seg_start[s], seg_stop[s], seg_source[s]


def test_segments_tile_each_haplotype_switch_source_and_restart_at_contigs():
    rng = np.random.default_rng(1)
    contig = np.repeat([0, 1], [300, 200]).astype(np.int32)
    cm = np.concatenate([np.linspace(0, 5, 300), np.linspace(0, 3, 200)])
    seg_ptr, start, stop, source = draw_segments(rng, cm, contig, n_haplotypes=50, n_sources=6, generations=200)
    for h in range(50):
        a, z, src = segments_of(seg_ptr, start, stop, source, h)
        assert a[0] == 0 and z[-1] == 500 and (a[1:] == z[:-1]).all() and (z > a).all()  # a tiling
        assert 300 in a  # the second contig opens a segment of its own
        inside = a[1:] != 300
        assert (src[1:][inside] != src[:-1][inside]).all()  # a switch changes source
        assert ((0 <= src) & (src < 6)).all()


def test_switch_counts_follow_the_genetic_distance():
    """Poisson with mean generations x Morgans, and switch points dense where the map is steep."""
    rng = np.random.default_rng(2)
    contig = np.zeros(1000, dtype=np.int32)
    cm = np.concatenate([np.linspace(0, 1, 500), np.linspace(1.05, 9, 500)])  # 1 cM, then 8 cM
    seg_ptr, start, _, _ = draw_segments(rng, cm, contig, n_haplotypes=4000, n_sources=50, generations=50)
    switches = np.diff(seg_ptr) - 1
    assert switches.mean() == pytest.approx(50 * 0.09, rel=0.05)
    assert switches.var() == pytest.approx(50 * 0.09, rel=0.1)  # Poisson (distinct sources: no lost switch)
    inner = start[start > 0]
    assert (inner >= 500).mean() == pytest.approx(7.95 / 9, abs=0.02)


def test_interval_switches_fall_inside_their_intervals_at_most_once_each():
    """The copying generator's process: at most one switch per interval between block middles, with
    probability 1 - exp(-g x length), uniform inside it; none across a contig edge (a fresh draw there)."""
    rng = np.random.default_rng(3)
    contig = np.repeat([0, 1], [600, 400]).astype(np.int32)
    cm = np.concatenate([np.linspace(0, 3, 600), np.linspace(0, 2, 400)])
    middles = np.array([50, 150, 300, 450, 550, 700, 900])  # the interval 550-700 crosses the contig edge
    intervals = switch_intervals(middles, cm, contig)
    assert intervals[0].tolist() == [0, 0, 0, 0, 1]
    generations = 150.0
    seg_ptr, start, _, _ = draw_segments(rng, cm, contig, n_haplotypes=3000, n_sources=40, generations=generations,
                                         intervals=intervals)
    switch_at = [start[seg_ptr[h] + 1:seg_ptr[h + 1]] for h in range(3000)]
    switch_at = [a[a != 600] for a in switch_at]  # the contig start is not a switch
    bounds = list(zip(middles[:-1], middles[1:]))
    bounds.remove((550, 700))
    for (lo, hi), length in zip(bounds, intervals[2] - intervals[1]):
        hits = np.array([((a > lo) & (a <= hi)).sum() for a in switch_at])
        assert hits.max() <= 1
        assert hits.mean() == pytest.approx(1 - np.exp(-generations * length / 100), abs=0.03)
        if lo == 50:  # uniform inside: the two halves of the first interval get about as many
            points = np.concatenate([a[(a > lo) & (a <= hi)] for a in switch_at])
            assert abs((points <= 100).mean() - 0.5) < 0.05
    everywhere = np.concatenate(switch_at)
    inside = np.zeros(len(everywhere), dtype=bool)
    for lo, hi in bounds:
        inside |= (everywhere > lo) & (everywhere <= hi)
    assert inside.all()  # no switch outside the intervals (before the first middle, across the edge...)


def greedy_pieces(haplotype, parents):
    """How many verbatim member-haplotype pieces tile ``haplotype`` (greedy longest match)."""
    v, pieces = 0, 0
    while v < len(haplotype):
        same = parents[v:] == haplotype[v:, None]
        reach = np.where(same.all(axis=0), len(same), np.argmin(same, axis=0))
        v += max(1, int(reach.max()))  # an allele no member carries: a piece of its own
        pieces += 1
    return pieces


def _clustered_haplotypes(rng, n_snps=400, n=60, clades=4, noise=0.02):
    """int8 (V, n) haplotypes from a few clades with private noise: windows often agree within a clade."""
    base = rng.integers(0, 2, size=(clades, n_snps))
    haps = base[rng.integers(0, clades, size=n)] ^ (rng.random((n, n_snps)) < noise)
    return np.ascontiguousarray(haps.T.astype(np.int8))


def test_a_matched_switch_moves_to_a_source_that_agrees_around_it():
    """``match_sources``: at every switch where another source carries the previous one's alleles on the
    window around it, the new source is one of those; otherwise a different source as drawn. Contig
    starts and switch points are unchanged; the same draws give the same segments."""
    rng = np.random.default_rng(4)
    sources = _clustered_haplotypes(rng)
    contig = np.repeat([0, 1], [250, 150]).astype(np.int32)
    cm = np.concatenate([np.linspace(0, 2, 250), np.linspace(0, 1, 150)])
    segments = draw_segments(rng, cm, contig, n_haplotypes=300, n_sources=60, generations=800)
    state = rng.bit_generator.state
    seg_ptr, start, stop, source = match_sources(rng, sources, segments, contig, 6)
    rng.bit_generator.state = state
    assert np.array_equal(match_sources(rng, sources, segments, contig, 6)[3], source)
    assert np.array_equal(start, segments[1]) and np.array_equal(stop, segments[2])
    matched = could = 0
    for h in range(300):
        a, _, src = segments_of(seg_ptr, start, stop, source, h)
        old = segments_of(*segments, h)[2]
        for s in range(len(a)):
            if a[s] in (0, 250):  # a haplotype's or a contig's first segment: a fresh draw, kept
                assert src[s] == old[s]
                continue
            assert src[s] != src[s - 1]
            lo, hi = max(0 if a[s] < 250 else 250, a[s] - 6), min(250 if a[s] < 250 else 400, a[s] + 6)
            agree = (sources[lo:hi] == sources[lo:hi, src[s - 1]][:, None]).all(axis=0)
            agree[src[s - 1]] = False
            could += agree.any()
            matched += agree[src[s]]
            assert agree[src[s]] or not agree.any()
    assert could > 500 and matched == could


def test_matched_mosaics_keep_their_switch_rate_and_junctions_carry_real_window_haplotypes():
    """The match window changes which source a switch goes to, not how many switches there are; and every
    8-SNP window of a matched mosaic is far more often one its sources carry than with any source."""
    rng = np.random.default_rng(5)
    sources = _clustered_haplotypes(rng, n=40)
    genotypes = sources.reshape(400, 20, 2)
    contig = np.zeros(400, dtype=np.int32)
    cm = np.linspace(0, 4, 400)

    def novel_windows(window):
        made = mosaic_genomes(genotypes, cm, contig, n_genomes=300, generations=300,
                              rng=np.random.default_rng(9), match_window=window).reshape(400, -1)
        seen = [set(map(bytes, sources[v:v + 8].T)) for v in range(0, 392)]
        return np.mean([bytes(made[v:v + 8, h]) not in seen[v] for v in range(0, 392, 4) for h in range(600)])

    plain = draw_segments(np.random.default_rng(9), cm, contig, n_haplotypes=600, n_sources=40, generations=300)
    assert novel_windows(6) < novel_windows(0) / 3
    rng = np.random.default_rng(9)
    matched = match_sources(rng, sources, draw_segments(rng, cm, contig, n_haplotypes=600, n_sources=40,
                                                        generations=300), contig, 6)
    assert np.array_equal(np.diff(matched[0]), np.diff(plain[0]))  # the same switches, per haplotype


def test_window_classes_tell_which_haplotypes_agree_around_each_variant():
    """Equal classes: the same population and the same alleles on the window, or, for haplotypes that no
    other of their population matches there, the same population (they switch among themselves)."""
    rng = np.random.default_rng(6)
    alleles = np.ascontiguousarray(_clustered_haplotypes(rng, n_snps=120, n=25, noise=0.05).T)  # (K, V)
    owner = np.repeat([0, 1], [15, 10])
    contig = np.repeat([0, 1], [70, 50]).astype(np.int32)
    classes = window_classes(alleles, owner, contig, 5)
    assert classes.shape == (120, 25) and classes.dtype == np.int16
    singletons = 0
    for j in range(120):
        lo, hi = (0, 70) if j < 70 else (70, 120)
        window = alleles[:, max(lo, j - 5):min(hi, j + 5)]
        same = (window[:, None] == window[None, :]).all(axis=2) & (owner[:, None] == owner[None, :])
        alone = same.sum(axis=1) == 1
        singletons += alone.sum()
        want = same | (alone[:, None] & alone[None, :] & (owner[:, None] == owner[None, :]))
        assert np.array_equal(classes[j][:, None] == classes[j][None, :], want), j
    assert singletons > 50  # the singleton rule is exercised


def test_matched_mosaics_copy_every_source_as_often_as_unmatched_ones():
    """Each window class's members switch uniformly among one another, so the sources' copying shares stay
    even: a rare haplotype is copied as often as a common one (a switch only to agreeing sources, with
    the rare ones free to go anywhere, would drain them)."""
    rng = np.random.default_rng(8)
    sources = _clustered_haplotypes(rng, n_snps=300, n=40, clades=3, noise=0.03)
    sources[:, :4] = rng.integers(0, 2, size=(300, 4))  # four rare haplotypes, like no other
    contig = np.zeros(300, dtype=np.int32)
    cm = np.linspace(0, 3, 300)
    segments = match_sources(rng, sources, draw_segments(rng, cm, contig, n_haplotypes=4000, n_sources=40,
                                                         generations=1500), contig, 6)
    copied = np.zeros(40)
    for start, stop, source in zip(segments[1], segments[2], segments[3]):
        copied[source] += stop - start
    share = copied / copied.sum() * 40
    assert np.abs(share - 1).max() < 0.2 and share[:4].min() > 0.8


def test_mosaic_offspring_are_verbatim_member_haplotype_segments(sim_cohort):
    r = hybridize(sim_cohort, factor=3, populations=["EAS"], unit="mosaic", generations=500, seed=4)
    members = np.flatnonzero(sim_cohort.samples.populations == "EAS")
    parents = sim_cohort.genotypes[:, members].reshape(sim_cohort.n_variants, -1)
    out = r.cohort.genotypes
    n = len(members)
    np.testing.assert_array_equal(out[:, :n], sim_cohort.genotypes[:, members])  # offspring mode: parents first
    offspring = out[:, n:].reshape(out.shape[0], -1)
    assert offspring.shape[1] == 2 * 2 * n
    # 0.2 Mb at 500 per Morgan: 1 switch per haplotype expected, so few verbatim pieces tile each one
    pieces = np.array([greedy_pieces(offspring[:, h], parents) for h in range(offspring.shape[1])])
    assert pieces.mean() <= 2.2 and pieces.max() <= 6
    shuffled = np.random.default_rng(0).permuted(offspring[:, :10], axis=0)  # what the test would see if wrong
    assert np.mean([greedy_pieces(shuffled[:, h], parents) for h in range(10)]) > 10
    assert r.cohort.phased.all() and r.populations[0].segment_snps > 0
    assert r.cohort.samples.ids[n].startswith("EAS_off")


def test_fewer_generations_copy_longer_segments(sim_cohort):
    """Long-range identity with one member haplotype grows as generations drop (switches to any source:
    a matched switch often moves to a haplotype that goes on agreeing with the one left, so on this
    small low-diversity region identity falls more slowly with the rate; the audit measures what it leaks)."""
    members = np.flatnonzero(sim_cohort.samples.populations == "AFR")
    parents = sim_cohort.genotypes[:, members].reshape(sim_cohort.n_variants, -1)

    def longest_match(generations):
        r = hybridize(sim_cohort, sizes={"AFR": 40}, mode="ppo", unit="mosaic", generations=generations, seed=6,
                      match_window=0)
        hap = r.cohort.genotypes.reshape(sim_cohort.n_variants, -1)
        runs = []
        for h in range(hap.shape[1]):
            same = parents == hap[:, h][:, None]
            best = 0
            for j in range(same.shape[1]):
                edges = np.flatnonzero(np.diff(np.concatenate([[0], same[:, j].astype(int), [0]])))
                best = max(best, int(np.max(edges[1::2] - edges[::2])))
            runs.append(best)
        return np.mean(runs)

    assert longest_match(100) > 1.5 * longest_match(20_000)


def test_mosaic_ppo_emits_no_parent_and_is_seeded(sim_cohort):
    kw = dict(sizes={"EAS": 60}, mode="ppo", unit="mosaic", generations=1.0)  # few switches: copies likely
    a, b = hybridize(sim_cohort, seed=9, **kw), hybridize(sim_cohort, seed=9, **kw)
    np.testing.assert_array_equal(a.cohort.genotypes, b.cohort.genotypes)
    assert a.populations[0].redraws > 0
    members = sim_cohort.genotypes[:, sim_cohort.samples.populations == "EAS"]
    for j in range(60):
        assert not (members == a.cohort.genotypes[:, j][:, None]).all(axis=(0, 2)).any()
    c = hybridize(sim_cohort, seed=10, **kw)
    assert not np.array_equal(a.cohort.genotypes, c.cohort.genotypes)


def test_mosaic_refuses_unphased_and_bad_generations(sim_cohort):
    from dataclasses import replace

    unphased = replace(sim_cohort, phased=np.zeros_like(sim_cohort.phased))
    with pytest.raises(InputError, match="the mosaic unit needs phased genotypes"):
        hybridize(unphased, factor=2, populations=["AFR"], unit="mosaic", seed=1)
    with pytest.raises(InputError, match="generations must be a positive number, got -3"):
        hybridize(sim_cohort, factor=2, populations=["AFR"], unit="mosaic", generations=-3, seed=1)
    with pytest.raises(InputError, match="use them with unit mosaic"):
        hybridize(sim_cohort, factor=2, populations=["AFR"], generations=10, seed=1)
    with pytest.raises(InputError, match="match window is a whole number of variants >= 0, got -2"):
        hybridize(sim_cohort, factor=2, populations=["AFR"], unit="mosaic", match_window=-2, seed=1)


def test_mosaic_switches_follow_a_genetic_map(sim_cohort, tmp_path):
    """All the map's distance in the second half: every switch lands there."""
    pos = sim_cohort.variant_position
    mid = int(pos[len(pos) // 2])
    path = tmp_path / "map.txt"
    path.write_text(f"position cM\n{pos[0] - 1} 0\n{mid} 0\n{pos[-1] + 1} 5\n")
    r = hybridize(sim_cohort, sizes={"EUR": 40}, mode="ppo", unit="mosaic", generations=200,
                  blocks=BlockSpec(genetic_map=str(path)), seed=2)
    members = sim_cohort.genotypes[:, sim_cohort.samples.populations == "EUR"].reshape(len(pos), -1)
    first = pos <= mid
    hap = r.cohort.genotypes.reshape(len(pos), -1)
    whole = (members[first][:, :, None] == hap[first][:, None, :]).all(axis=0).any(axis=0)
    assert whole.all()  # no switch in the first half: each haplotype copies one member there
    cm = genetic_positions(sim_cohort.variant_contig, pos, sim_cohort.contig_id, None)
    assert cm[-1] == pytest.approx(pos[-1] / 1e6)


def pysam_header_lines(path):
    import pysam

    with pysam.VariantFile(str(path)) as f:
        return [str(r) for r in f.header.records]


def test_cli_mosaic_unit_writes_phased_offspring_and_says_the_rate(sim_files, tmp_path):
    from typer.testing import CliRunner

    from ogan_vcf.cli import app
    from ogan_vcf.io import read_cohort

    out = tmp_path / "mosaic.vcf.gz"
    r = CliRunner().invoke(app, ["hybridize", str(sim_files["vcf_gz"]), "-p", str(sim_files["panel"]), "--pop",
                                 "EAS", "--factor", "3", "--mode", "ppo", "--unit", "mosaic", "--generations",
                                 "800", "-o", str(out), "--seed", "3", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "unit mosaic, 800 switches per Morgan, match window 10" in r.output and "no genetic map" in r.output
    made = read_cohort(out, panel=tmp_path / "mosaic.panel")
    assert made.n_samples == 60 and made.phase_state == "phased"
    assert '"generations": 800.0' in "".join(pysam_header_lines(out))
    assert '"match_window": 10' in "".join(pysam_header_lines(out))
    r = CliRunner().invoke(app, ["hybridize", str(sim_files["vcf_gz"]), "-p", str(sim_files["panel"]), "--pop",
                                 "EAS", "--factor", "3", "--generations", "800", "-o", str(tmp_path / "x.h5")])
    assert r.exit_code == 1 and "use them with unit mosaic" in r.stderr and not (tmp_path / "x.h5").exists()


def test_training_data_uses_mosaic_offspring_along_the_map_and_genotype_blocks_when_unphased(sim_cohort, tmp_path):
    from dataclasses import replace

    from ogan_vcf.hybridizer import default_unit
    from ogan_vcf.training import training_cohort

    pos = sim_cohort.variant_position
    mid = int(pos[len(pos) // 2])
    path = tmp_path / "map.txt"
    path.write_text(f"position cM\n{pos[0] - 1} 0\n{mid} 0\n{pos[-1] + 1} 5\n")
    data = training_cohort(sim_cohort, "ppo", BlockSpec(genetic_map=str(path)), seed=1)
    first = pos <= mid
    for pop in ("AFR", "EAS"):
        members = sim_cohort.genotypes[:, sim_cohort.samples.populations == pop].reshape(len(pos), -1)
        hap = data.genotypes[:, data.samples.populations == pop].reshape(len(pos), -1)
        assert (members[first][:, :, None] == hap[first][:, None, :]).all(axis=0).any(axis=0).all()
    assert default_unit(sim_cohort) == "mosaic" and default_unit(sim_cohort, BlockSpec(size=50)) == "genotype"
    assert default_unit(replace(sim_cohort, phased=np.zeros_like(sim_cohort.phased))) == "genotype"
