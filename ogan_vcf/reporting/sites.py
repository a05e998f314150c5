"""Matching the sites of two cohorts, REF/ALT swaps included.

PLINK 1.9 writes the minor allele as A1 and ogan reads A1 as ALT, so a PLINK-derived cohort
can carry a site with REF and ALT swapped relative to a VCF-derived one. ``match_sites``
pairs such sites too and says which are swapped; ``flip_alleles`` turns the second cohort's
genotypes round to the first cohort's allele order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..cohort import Cohort


@dataclass
class SiteMatch:
    """The sites two cohorts share (``match_sites``).

    a, b : int64 (n,) index of each shared site in the first and in the second cohort, in the
        first cohort's order.
    flip : bool (n,) the second cohort has the site with REF and ALT swapped.
    counts : {shared, flipped, allele_mismatch, unmatched_<first>, unmatched_<second>}; see
        ``match_sites``.
    """

    a: np.ndarray
    b: np.ndarray
    flip: np.ndarray
    counts: dict[str, int]


def site_keys(cohort: Cohort) -> list[str]:
    """CHROM:POS:REF:ALT of every variant."""
    return [f"{c}:{p}:{r}:{a}" for c, p, r, a in zip(*_site_fields(cohort))]


def _site_fields(cohort: Cohort) -> tuple[list, list, list, list]:
    """CHROM, POS, REF and ALT of every variant, as lists."""
    contig = np.asarray(cohort.contig_id, dtype=object)[cohort.variant_contig]
    allele = np.asarray(cohort.variant_allele, dtype=object).reshape(-1, 2)
    return contig.tolist(), cohort.variant_position.tolist(), allele[:, 0].tolist(), allele[:, 1].tolist()


def match_sites(a: Cohort, b: Cohort, *, names: tuple[str, str] = ("a", "b")) -> SiteMatch:
    """Pair every site of ``a`` with the site of ``b`` at the same CHROM:POS with the same alleles.

    A site of ``b`` with REF and ALT swapped matches too (``flip``); a same-order match wins, and
    each site of ``b`` is used once. ``counts`` (keys named after ``names``): shared (all pairs),
    flipped (pairs with swapped alleles), allele_mismatch (unpaired sites of ``a`` at a CHROM:POS
    that ``b`` has, with other alleles), unmatched_<a> and unmatched_<b> (sites at a CHROM:POS
    that the other cohort lacks). So a's site count = shared + allele_mismatch + unmatched_<a>.
    """
    contig_a, pos_a, ref_a, alt_a = _site_fields(a)
    contig_b, pos_b, ref_b, alt_b = _site_fields(b)
    where: dict[tuple, int] = {}
    for j, key in enumerate(zip(contig_b, pos_b, ref_b, alt_b)):
        where.setdefault(key, j)
    pair, flip, used = [-1] * len(pos_a), [False] * len(pos_a), [False] * len(pos_b)  # lists: fast in loops
    for swapped in (False, True):
        for i, (c, p, r, x) in enumerate(zip(contig_a, pos_a, ref_a, alt_a)):
            j = -1 if pair[i] >= 0 else where.get((c, p, x, r) if swapped else (c, p, r, x), -1)
            if j >= 0 and not used[j]:
                pair[i], flip[i], used[j] = j, swapped, True
    pair, flip, used = np.array(pair, dtype=np.int64), np.array(flip, dtype=bool), np.array(used, dtype=bool)
    paired = pair >= 0
    at_a, at_b = set(zip(contig_a, pos_a)), set(zip(contig_b, pos_b))
    mismatch = sum(1 for i in np.flatnonzero(~paired) if (contig_a[i], pos_a[i]) in at_b)
    counts = {"shared": int(paired.sum()), "flipped": int(flip.sum()), "allele_mismatch": mismatch,
              f"unmatched_{names[0]}": int((~paired).sum()) - mismatch,
              f"unmatched_{names[1]}": sum(1 for j in np.flatnonzero(~used) if (contig_b[j], pos_b[j]) not in at_a)}
    return SiteMatch(np.flatnonzero(paired), pair[paired], flip[paired], counts)


def flip_alleles(genotypes: np.ndarray, flip: np.ndarray) -> np.ndarray:
    """A copy of ``genotypes`` with REF and ALT swapped where ``flip``.

    genotypes : int8 (V, S, 2) allele index per haplotype, -1 missing; flip : bool (V,).
    Allele a becomes 1 - a and -1 stays -1, so dosage d becomes 2 - d and phase is kept.
    """
    out = np.array(genotypes, dtype=np.int8)
    rows = out[flip]
    out[flip] = np.where(rows < 0, rows, 1 - rows)
    return out


def align(reference: Cohort, other: Cohort, *, names: tuple[str, str] = ("reference", "other")
          ) -> tuple[Cohort, SiteMatch]:
    """``other`` on the sites it shares with ``reference``: in reference's order and allele order.

    The result has reference's site arrays (contigs, positions, IDs, alleles) and ``other``'s
    samples, with genotypes flipped where other had REF and ALT swapped.
    """
    match = match_sites(reference, other, names=names)
    aligned = replace(reference.take_variants(match.a), contig_id=list(reference.contig_id),
                      contig_length=list(reference.contig_length),
                      genotypes=flip_alleles(other.genotypes[match.b], match.flip), phased=other.phased[match.b],
                      samples=other.samples, provenance=other.provenance, path=other.path)
    return aligned, match


def describe(counts: dict[str, int], names: tuple[str, str]) -> list[str]:
    """Plain-language notes on flipped and unmatched sites (none when every site matched as is)."""
    a, b = names
    notes = []
    if counts["flipped"]:
        notes.append(f"{counts['flipped']} shared sites have REF and ALT swapped in the {b} cohort (e.g. PLINK's "
                     f"minor-allele A1): matched, their genotypes flipped to the {a} cohort's alleles")
    parts = ((counts[f"unmatched_{a}"], f"{a} sites absent from the {b} cohort"),
             (counts[f"unmatched_{b}"], f"{b} sites absent from the {a} cohort"),
             (counts["allele_mismatch"], f"{a} sites whose CHROM:POS the {b} cohort has with other alleles"))
    left = "; ".join(f"{n} {text}" for n, text in parts if n)
    if left:
        notes.append(f"left out of the comparison: {left}")
    return notes
