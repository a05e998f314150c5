"""Simulate the example cohort shipped in ``example_data/``.

Writes, next to this script (or to ``--out-dir``):

* ``cohort.vcf.gz`` + ``cohort.vcf.gz.tbi`` -- about 6,400 phased, common
  (cohort-wide MAF >= 1 %) biallelic SNPs for 2,500 diploid people on a
  3 Mb stretch of chromosome 6 (positions offset to start at 29,700,000,
  i.e. around the HLA region on 6p21.31), array-like as in the 7,160 HLA
  SNPs from 1000 Genomes that the paper used;
* ``cohort.panel`` -- a 1000 Genomes style panel
  (``sample  pop  super_pop  gender``, tab separated).

Demography (msprime coalescent, times in generations of 25 years): the
Gravel et al. (2011) Out-of-Africa model -- ancestral size 7,310 growing to
14,474 in Africa 5,920 generations ago; an out-of-Africa bottleneck (1,861)
2,040 generations ago; the European/East-Asian split 920 generations ago
followed by exponential growth (0.38 %/0.48 % per generation), with the
published continental migration rates -- extended with

* SAS: splits off the European branch 800 generations ago and grows 0.4 %
  per generation;
* NAT: an unsampled Native-American-like population that splits off the
  East-Asian branch 600 generations ago and stays small (3,000);
* two 1000G-like sub-populations per super-population, splitting recently
  (YRI/LWK 200, CEU/TSI 100, CHB/JPT 120, GIH/PJL 150 generations ago);
* AMR: MXL and PUR founded 14 and 12 generations ago by admixture of
  YRI-, TSI- and NAT-like sources (MXL 5/45/50 %, PUR 15/65/20 %).

The genome is discrete, recombination averages 1e-8 per bp per generation
with 60 % of it in 2 kb hotspots (one per ~75 kb, seeded positions and
strengths), which gives LD-block structure; the mutation rate is 1.7e-8
under an HKY model (kappa 4, 41 % GC, so Ts/Tv is about 2; 13 % of its
jumps are silent, so SNPs arise at about 1.5e-8 per bp per generation --
above pedigree estimates but below the 2.36e-8 the Gravel et al. sizes were
fitted with, and HLA is more diverse than the genome average); REF is the
ancestral and ALT the derived base.

Site selection: sites hit by more than one mutation are dropped; of the
remaining biallelic SNPs (about 46,000, most of them rare) only those with
cohort-wide minor allele frequency >= ``--min-maf`` (default 0.01, i.e. at
least 50 of the 5,000 haplotypes) are kept -- about 6,400 with the default
seed, 6,350-6,700 with seeds 1-5 -- and if more than ``--n-snps``
(default 7,000) remain they are thinned to that many with the seeded RNG.

Everything is driven by ``--seed`` (default 2022): the same seed and
msprime/tskit/pysam versions give byte-identical files.  Regenerate with::

    python example_data/make_example.py
"""

import argparse
import os

import msprime
import numpy as np
import pysam

CHROM = "6"
CHROM_LENGTH = 170_805_979
OFFSET = 29_700_000
SEQ_LENGTH = 3_000_000
MU = 1.7e-8
MEAN_RECOMB = 1e-8
N_PER_POP = 250
MIN_MAF = 0.01  # keep only common SNPs (cohort-wide minor allele frequency)
N_SNPS = 7000  # thin to at most this many

# sub-population -> (super-population, sample-name prefix, first number)
SUBPOPS = {
    "YRI": ("AFR", "NA", 18500), "LWK": ("AFR", "NA", 19300),
    "CEU": ("EUR", "NA", 12000), "TSI": ("EUR", "NA", 20500),
    "CHB": ("EAS", "NA", 18000), "JPT": ("EAS", "NA", 18900),
    "GIH": ("SAS", "NA", 20800), "PJL": ("SAS", "HG", 2400),
    "MXL": ("AMR", "NA", 19600), "PUR": ("AMR", "HG", 1000),
}


def add_populations(d):
    """Sampled sub-populations and ancestral/unsampled ones.  Sizes are at
    time 0 (msprime's growth reference), so e.g. EUR is 1,032 at 920 gen."""
    for name, size, rate in [
        ("YRI", 12_000, 0), ("LWK", 12_000, 0),
        ("CEU", 17_000, 0.0038), ("TSI", 17_000, 0.0038),
        ("CHB", 23_000, 0.0048), ("JPT", 23_000, 0.0048),
        ("GIH", 15_000, 0.004), ("PJL", 15_000, 0.004),
        ("MXL", 20_000, 0), ("PUR", 20_000, 0),
        # ancestral / unsampled populations
        ("AFR", 14_474, 0), ("EUR", 33_900, 0.0038), ("EAS", 45_900, 0.0048),
        ("SAS", 30_000, 0.004), ("NAT", 3_000, 0), ("OOA", 1_861, 0),
    ]:
        d.add_population(name=name, initial_size=size, growth_rate=rate)


def add_events(d):
    """Admixture, splits and migration changes, backwards in time."""
    d.add_admixture(14, derived="MXL", ancestral=["YRI", "TSI", "NAT"],
                    proportions=[0.05, 0.45, 0.50])
    d.add_admixture(12, derived="PUR", ancestral=["YRI", "TSI", "NAT"],
                    proportions=[0.15, 0.65, 0.20])
    d.add_population_split(100, derived=["CEU", "TSI"], ancestral="EUR")
    d.add_population_split(120, derived=["CHB", "JPT"], ancestral="EAS")
    d.add_population_split(150, derived=["GIH", "PJL"], ancestral="SAS")
    d.add_population_split(200, derived=["YRI", "LWK"], ancestral="AFR")
    # Gravel et al. continental migration, once all ancestors are active
    for a, b, m in [("AFR", "EUR", 2.5e-5), ("AFR", "EAS", 0.78e-5),
                    ("EUR", "EAS", 3.11e-5), ("AFR", "SAS", 0.78e-5),
                    ("EUR", "SAS", 3e-5), ("EAS", "SAS", 3e-5)]:
        d.add_symmetric_migration_rate_change(200, [a, b], m)
    d.add_population_split(600, derived=["NAT"], ancestral="EAS")
    d.add_population_split(800, derived=["SAS"], ancestral="EUR")
    d.add_population_split(920, derived=["EUR", "EAS"], ancestral="OOA")
    d.add_symmetric_migration_rate_change(920, ["AFR", "OOA"], 15e-5)
    d.add_population_split(2040, derived=["OOA"], ancestral="AFR")
    d.add_population_parameters_change(5920, initial_size=7_310,
                                       population="AFR")


def build_demography():
    d = msprime.Demography()
    add_populations(d)
    add_events(d)
    d.sort_events()
    return d


def recombination_map(rng, n_hot=40, width=2_000, hot_frac=0.6):
    """Background rate plus ``n_hot`` hotspots carrying ``hot_frac`` of it."""
    spacing = SEQ_LENGTH / n_hot
    jitter = rng.uniform(-0.3, 0.3, n_hot)
    starts = ((np.arange(n_hot) + 0.5 + jitter) * spacing).astype(int)
    weights = rng.exponential(1.0, n_hot)
    hot_total = hot_frac * MEAN_RECOMB * SEQ_LENGTH
    hot_rates = hot_total * weights / weights.sum() / width
    background = (1 - hot_frac) * MEAN_RECOMB * SEQ_LENGTH / (
        SEQ_LENGTH - n_hot * width)
    edges = np.stack([starts, starts + width], axis=1).ravel()
    position = np.concatenate([[0], edges, [SEQ_LENGTH]])
    rate = np.empty(2 * n_hot + 1)
    rate[0::2] = background
    rate[1::2] = hot_rates
    return msprime.RateMap(position=position, rate=rate)


def simulate(rng):
    seeds = rng.integers(1, 2**31 - 1, size=2)
    ts = msprime.sim_ancestry(
        samples={pop: N_PER_POP for pop in SUBPOPS},
        demography=build_demography(),
        recombination_rate=recombination_map(rng),
        ploidy=2, random_seed=seeds[0])
    # HKY with kappa 4 and 41 % GC gives a human-like Ts/Tv of about 2
    model = msprime.HKY(kappa=4.0,
                        equilibrium_frequencies=[0.295, 0.205, 0.205, 0.295])
    return msprime.sim_mutations(ts, rate=MU, model=model,
                                 random_seed=seeds[1])


def derived_counts(ts):
    """Sample haplotypes below each site's first mutation; for a site with a
    single mutation this is its derived-allele count."""
    counts = np.zeros(ts.num_sites, dtype=np.int64)
    for tree in ts.trees():
        for site in tree.sites():
            if site.mutations:
                counts[site.id] = tree.num_samples(site.mutations[0].node)
    return counts


def select_sites(ts, rng, n_snps, min_maf):
    """Sites with exactly one, non-silent mutation (biallelic SNPs) whose
    cohort-wide minor allele frequency is at least ``min_maf``, thinned to
    ``n_snps`` with the seeded RNG if there are more."""
    sites, muts = ts.tables.sites, ts.tables.mutations
    anc, der = sites.ancestral_state, muts.derived_state  # one byte each
    assert len(anc) == ts.num_sites and len(der) == ts.num_mutations
    n_muts = np.bincount(muts.site, minlength=ts.num_sites)
    first_mut = np.searchsorted(muts.site, np.arange(ts.num_sites))
    single = n_muts == 1
    single[single] = der[first_mut[single]] != anc[single]
    derived = derived_counts(ts)
    maf = np.minimum(derived, ts.num_samples - derived) / ts.num_samples
    keep = np.flatnonzero(single & (maf >= min_maf))
    if len(keep) > n_snps:
        keep = np.sort(rng.choice(keep, size=n_snps, replace=False))
    return keep


def haplotypes(ts, site_ids):
    """(sites, haplotypes) int8 matrix, each person's two haplotypes adjacent,
    plus the REF/ALT alleles and 1-based VCF positions."""
    nodes = np.concatenate([ind.nodes for ind in ts.individuals()])
    assert np.array_equal(nodes, ts.samples())
    sub = ts.delete_sites(np.setdiff1d(np.arange(ts.num_sites), site_ids))
    hap = np.empty((sub.num_sites, len(nodes)), dtype=np.int8)
    alleles = []
    for var in sub.variants():
        hap[var.site.id] = var.genotypes
        alleles.append(var.alleles)
    pos = sub.tables.sites.position.astype(np.int64) + OFFSET
    assert np.all(np.diff(pos) > 0)
    return hap, alleles, pos


def sample_table(ts, rng):
    """Rows (sample, pop, super_pop, gender) in VCF column order."""
    pops = [ts.population(ts.node(ind.nodes[0]).population).metadata["name"]
            for ind in ts.individuals()]
    sexes = rng.choice(["male", "female"], size=len(pops))
    rows, seen = [], {}
    for pop, sex in zip(pops, sexes):
        sup, prefix, start = SUBPOPS[pop]
        seen[pop] = seen.get(pop, -1) + 1
        rows.append((f"{prefix}{start + seen[pop]:05d}", pop, sup, str(sex)))
    assert len({r[0] for r in rows}) == len(rows)
    return rows


def vcf_header(samples, seed):
    return "".join([
        "##fileformat=VCFv4.2\n",
        f"##source=example_data/make_example.py (msprime {msprime.__version__}"
        f", seed={seed})\n",
        f"##contig=<ID={CHROM},length={CHROM_LENGTH}>\n",
        '##FILTER=<ID=PASS,Description="All filters passed">\n',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t",
        "\t".join(s[0] for s in samples), "\n"]).encode()


def genotype_text(hap):
    """Vectorised 'a|b\\t' per person; the last tab becomes a newline."""
    text = np.empty((hap.shape[0], 2 * hap.shape[1]), dtype=np.uint8)
    text[:, 0::2] = hap + ord("0")
    text[:, 1::4] = ord("|")
    text[:, 3::4] = ord("\t")
    text[:, -1] = ord("\n")
    return text


def write_vcf(path, header, hap, alleles, pos):
    text = genotype_text(hap)
    with pysam.BGZFile(path, "wb") as fh:
        fh.write(header)
        for i, (p, (ref, alt)) in enumerate(zip(pos, alleles)):
            fixed = f"{CHROM}\t{p}\t{CHROM}:{p}\t{ref}\t{alt}\t.\tPASS\t.\tGT"
            fh.write(f"{fixed}\t".encode() + text[i].tobytes())
    pysam.tabix_index(path, preset="vcf", force=True)


def write_panel(path, samples):
    with open(path, "w") as fh:
        fh.write("sample\tpop\tsuper_pop\tgender\n")
        fh.writelines("\t".join(row) + "\n" for row in samples)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument("--out-dir", default=here)
    ap.add_argument("--n-snps", type=int, default=N_SNPS,
                    help="thin to at most this many SNPs (default %(default)s)")
    ap.add_argument("--min-maf", type=float, default=MIN_MAF,
                    help="keep SNPs with cohort-wide minor allele frequency "
                         "at least this (default %(default)s)")
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    ts = simulate(rng)
    site_ids = select_sites(ts, rng, args.n_snps, args.min_maf)
    hap, alleles, pos = haplotypes(ts, site_ids)
    samples = sample_table(ts, rng)
    os.makedirs(args.out_dir, exist_ok=True)
    write_vcf(os.path.join(args.out_dir, "cohort.vcf.gz"),
              vcf_header(samples, args.seed), hap, alleles, pos)
    write_panel(os.path.join(args.out_dir, "cohort.panel"), samples)
    print(f"{ts.num_sites} simulated sites -> {len(pos)} SNPs with MAF >= "
          f"{args.min_maf:g} x "
          f"{len(samples)} samples written to {args.out_dir}")


if __name__ == "__main__":
    main()
