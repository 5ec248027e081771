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


def describe(cpuinfo_path: str = "/proc/cpuinfo", maps_path: str = "/proc/self/maps") -> str:
    """One line naming the processor, its family/model, features that matter, core count and
    the allocator."""
    path = pathlib.Path(cpuinfo_path)
    processor = read_processor(path.read_text() if path.is_file() else "")
    features = ", ".join(processor["features"]) or "none of " + ", ".join(FEATURES_THAT_MATTER)
    maps = pathlib.Path(maps_path)
    allocator = read_allocator(maps.read_text()) if maps.is_file() else "not known"
    return (
        f"processor: {processor['model_name']} (family {processor['family']}, model "
        f"{processor['model']}); {features}; {os.cpu_count()} logical cores; malloc: {allocator}"
    )
