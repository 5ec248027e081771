"""The processor and allocator a run or benchmark ran on, logged first: hosts of one kind differ 2.5x."""

import os
import pathlib
import platform

# The instruction-set features that change the figures: full-width AVX-512, bfloat16 arithmetic
# (AVX512_BF16) and Intel's matrix tiles (AMX), which oneDNN uses for bfloat16 convolutions.
FEATURES_THAT_MATTER = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
# Allocators that replace glibc's malloc when preloaded (LD_PRELOAD); TensorFlow's CPU steps run
# 2-10% faster under the first two here (BENCHMARKS.md), so a figure names the one it ran with.
ALLOCATORS = ("tcmalloc", "jemalloc", "mimalloc")
# Where the processor is read from; tests point it at a file of their own.
CPUINFO = "/proc/cpuinfo"
# The units that compute in bfloat16. Without either, bfloat16 layers run far slower than float32
# on a CPU: 6.3x slower for the faithful step on an AVX2-only AMD EPYC (BENCHMARKS.md).
BFLOAT16_UNITS = ("avx512_bf16", "amx_bf16")


def read_processor(cpuinfo: str) -> dict:
    """Model name, family, model and the features that matter, from /proc/cpuinfo's text."""
    fields = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if not key:
            break  # the first processor's block is enough: the cores of one host match
        fields.setdefault(key, value.strip())
    flags = set(fields.get("flags", "").split())
    return {
        "model_name": fields.get("model name", platform.processor() or "unknown"),
        "family": fields.get("cpu family", "?"),
        "model": fields.get("model", "?"),
        "features": [name for name in FEATURES_THAT_MATTER if name in flags],
    }


def read_allocator(maps: str) -> str:
    """The malloc this process uses, from /proc/self/maps' text: a loaded library of ALLOCATORS
    (named with its file), else glibc's."""
    for line in maps.splitlines():
        fields = line.split()  # address, permissions, offset, device, inode, then the path if any
        library = pathlib.PurePath(fields[-1]).name if len(fields) > 5 else ""
        for name in ALLOCATORS:
            if library.startswith(f"lib{name}"):
                return f"{name} ({library})"
    return "glibc malloc"


def _this_processor(cpuinfo_path: str | None) -> dict:
    path = pathlib.Path(cpuinfo_path or CPUINFO)
    return read_processor(path.read_text() if path.is_file() else "")


def describe(cpuinfo_path: str | None = None, maps_path: str = "/proc/self/maps") -> str:
    """One line naming the processor, its family/model, features that matter, core count and
    the allocator."""
    processor = _this_processor(cpuinfo_path)
    features = ", ".join(processor["features"]) or "none of " + ", ".join(FEATURES_THAT_MATTER)
    maps = pathlib.Path(maps_path)
    allocator = read_allocator(maps.read_text()) if maps.is_file() else "not known"
    return (
        f"processor: {processor['model_name']} (family {processor['family']}, model "
        f"{processor['model']}); {features}; {os.cpu_count()} logical cores; malloc: {allocator}"
    )


def bfloat16_warning(cpuinfo_path: str | None = None) -> str | None:
    """Why bfloat16 layers would slow a CPU run on this processor, or None where it has the units."""
    processor = _this_processor(cpuinfo_path)
    if any(unit in processor["features"] for unit in BFLOAT16_UNITS):
        return None
    return (
        f"--mixed_precision=bfloat16 on {processor['model_name']} (family {processor['family']}, "
        f"model {processor['model']}), which has neither {' nor '.join(BFLOAT16_UNITS)}: "
        "bfloat16 runs far slower than float32 on such a CPU (the faithful step 6.3x slower on "
        "an AVX2-only AMD EPYC, BENCHMARKS.md); --mixed_precision=none trains faster here"
    )
