"""The processor line of runs and benchmarks: cpuinfo's first block, the features, the allocator."""

import pathlib

import pytest

from fusion_tf import machine

SELF_MAPS = pathlib.Path("/proc/self/maps")

ZEN4_BLOCK = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC 9R14
flags\t\t: fpu sse avx2 avx512f avx512_bf16

processor\t: 1
model name\t: another block that must not be read
"""


def test_reads_model_family_and_features_from_the_first_block():
    processor = machine.read_processor(ZEN4_BLOCK)
    assert processor == {
        "model_name": "AMD EPYC 9R14",
        "family": "25",
        "model": "17",
        "features": ["avx2", "avx512f", "avx512_bf16"],
    }


def test_describe_names_the_processor_and_says_when_no_feature_is_present(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("cpu family\t: 6\nmodel\t\t: 143\nmodel name\t: Old Xeon\nflags\t\t: sse\n")
    line = machine.describe(str(cpuinfo), maps_path=str(tmp_path / "no maps"))
    assert line.startswith("processor: Old Xeon (family 6, model 143); none of avx2")
    assert line.endswith("logical cores; malloc: not known")


ZEN3_BLOCK = """cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse avx2
"""


@pytest.mark.parametrize(
    "block, warned",
    [
        (ZEN4_BLOCK, False),  # avx512_bf16
        (ZEN3_BLOCK.replace("avx2", "avx2 avx512f amx_bf16 amx_tile"), False),
        (ZEN3_BLOCK, True),  # AVX2 only: bfloat16 ran 6.3x slower there
        (ZEN3_BLOCK.replace("avx2", "avx2 avx512f"), True),
    ],
)
def test_bfloat16_warning_where_the_processor_has_no_bfloat16_units(tmp_path, block, warned):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(block)
    warning = machine.bfloat16_warning(str(cpuinfo))
    assert (warning is not None) == warned
    if warned:
        assert warning.startswith("--mixed_precision=bfloat16 on AMD EPYC (family 25, model 1)")
        assert "neither avx512_bf16 nor amx_bf16" in warning


MAPS = """7f01-7f02 r--p 00000000 08:01 123 /usr/lib/x86_64-linux-gnu/libc.so.6
7f03-7f04 r-xp 00001000 08:01 456 /usr/lib/x86_64-linux-gnu/{library}
7f05-7f06 rw-p 00000000 00:00 0
7ffd-7ffe rw-p 00000000 00:00 0 [stack]
"""


def test_names_a_preloaded_allocator_and_otherwise_glibc():
    assert machine.read_allocator(MAPS.format(library="libtcmalloc.so.4.5.10")) == (
        "tcmalloc (libtcmalloc.so.4.5.10)"
    )
    assert machine.read_allocator(MAPS.format(library="libjemalloc.so.2")) == (
        "jemalloc (libjemalloc.so.2)"
    )
    assert machine.read_allocator(MAPS.format(library="libm.so.6")) == "glibc malloc"


@pytest.mark.skipif(not SELF_MAPS.is_file(), reason="no /proc/self/maps (not Linux)")
def test_describe_reads_this_process_allocator():
    line = machine.describe()
    assert line.split("; malloc: ")[1] == machine.read_allocator(SELF_MAPS.read_text())
