"""The numba kernels against naive NumPy references (run once more with NUMBA_DISABLE_JIT=1)."""

import os
import subprocess
import sys

import numpy as np
import pytest

from ogan_vcf.hybridizer import kernels


def reference_gather(rows, variant_block, sources):
    n_copies, _, n = sources.shape
    out = np.empty((rows.shape[0], n_copies * n), dtype=rows.dtype)
    for v in range(rows.shape[0]):
        for c in range(n_copies):
            out[v, c * n:(c + 1) * n] = rows[v, sources[c, variant_block[v]]]
    return out


@pytest.fixture
def toy():
    rng = np.random.default_rng(0)
    genotypes = rng.integers(-1, 2, size=(37, 6, 2), dtype=np.int8)
    blocks = np.array([0, 10, 11, 30, 37])
    variant_block = np.repeat(np.arange(4), np.diff(blocks))
    perms = np.argsort(rng.random((3, 4, 6)), axis=-1).astype(np.int32)
    return rng, genotypes, variant_block, perms


def test_gather_blocks_matches_reference(toy):
    _, genotypes, variant_block, perms = toy
    rows = genotypes.view(np.int16)[:, :, 0]
    out = np.empty((37, 18), dtype=np.int16)
    kernels.gather_blocks(rows, variant_block, perms, out)
    np.testing.assert_array_equal(out, reference_gather(rows, variant_block, perms))
    as_int8 = out.view(np.int8).reshape(37, 18, 2)
    np.testing.assert_array_equal(as_int8[:, 6 + 2], genotypes[np.arange(37), perms[1, variant_block, 2]])


def test_gather_blocks_works_on_bool_rows(toy):
    rng, _, variant_block, perms = toy
    rows = rng.random((37, 6)) < 0.5
    out = np.empty((37, 18), dtype=bool)
    kernels.gather_blocks(rows, variant_block, perms, out)
    np.testing.assert_array_equal(out, reference_gather(rows, variant_block, perms))


def test_cross_haplotype_blocks_matches_reference(toy):
    rng, genotypes, variant_block, mothers = toy
    fathers = np.roll(mothers, 1, axis=-1)
    mh = rng.integers(0, 2, mothers.shape, dtype=np.uint8)
    fh = rng.integers(0, 2, mothers.shape, dtype=np.uint8)
    out = np.empty((37, 18, 2), dtype=np.int8)
    kernels.cross_haplotype_blocks(genotypes, variant_block, mothers, fathers, mh, fh, out)
    for v in range(37):
        b = variant_block[v]
        for c in range(3):
            for j in range(6):
                assert out[v, c * 6 + j, 0] == genotypes[v, mothers[c, b, j], mh[c, b, j]]
                assert out[v, c * 6 + j, 1] == genotypes[v, fathers[c, b, j], fh[c, b, j]]


def test_column_hashes_are_equal_exactly_for_equal_columns(toy):
    _, genotypes, _, _ = toy
    rows = genotypes.view(np.int16)[:, :, 0]
    doubled = np.ascontiguousarray(np.concatenate([rows, rows[:, ::-1]], axis=1))
    h = kernels.column_hashes(doubled)
    np.testing.assert_array_equal(h[:6], h[6:][::-1])
    assert len(set(h[:6].tolist())) == len({rows[:, j].tobytes() for j in range(6)})


@pytest.mark.parametrize("tile", [1, 5, 256])
def test_band_r2_and_crossing_ld_match_reference(tile):
    from ogan_vcf.hybridizer.blocks import band_r2

    rng = np.random.default_rng(1)
    z = rng.normal(size=(12, 30)).astype(np.float32)
    z -= z.mean(axis=1, keepdims=True)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    band = band_r2(z, 3, tile=tile)
    full = (z @ z.T) ** 2
    for i in range(12):
        for d in range(3):
            expected = full[i, i + d + 1] if i + d + 1 < 12 else 0.0
            assert band[i, d] == pytest.approx(expected, abs=1e-5)
    score = kernels.crossing_ld(band)
    for c in range(1, 12):
        pairs = [full[i, j] for i in range(12) for j in range(i + 1, min(12, i + 4)) if i < c <= j]
        assert score[c] == pytest.approx(max(pairs), abs=1e-5)


def test_copy_segments_matches_reference():
    rng = np.random.default_rng(5)
    haplotypes = rng.integers(-1, 2, size=(23, 8), dtype=np.int8)
    seg_ptr = np.array([0, 1, 3, 6])
    seg_start = np.array([0, 0, 9, 0, 4, 5])
    seg_stop = np.array([23, 9, 23, 4, 5, 23])
    seg_source = np.array([7, 2, 3, 0, 5, 1], dtype=np.int32)
    out = np.zeros((23, 3), dtype=np.int8)
    kernels.copy_segments(haplotypes, seg_ptr, seg_start, seg_stop, seg_source, out)
    expected = np.empty_like(out)
    for h in range(3):
        for s in range(seg_ptr[h], seg_ptr[h + 1]):
            expected[seg_start[s]:seg_stop[s], h] = haplotypes[seg_start[s]:seg_stop[s], seg_source[s]]
    np.testing.assert_array_equal(out, expected)


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="already running without the JIT")
def test_kernels_pass_without_the_jit():
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-2000:]
