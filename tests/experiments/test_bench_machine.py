"""The benchmarks' processor line: read from /proc/cpuinfo's first block, features that matter named."""

from experiments.bench import machine

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
    line = machine.describe(str(cpuinfo))
    assert line.startswith("processor: Old Xeon (family 6, model 143); none of avx2")
    assert "logical cores" in line
