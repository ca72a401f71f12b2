"""Let the C allocator keep the memory of large freed arrays for reuse.

The update rules are pure functions: every step returns new arrays (the next weights and the
new state) and frees the old ones. glibc hands each array above 128 KiB to the kernel with
mmap and takes it back with munmap, so every step pays for fresh, zero-filled pages again:
on a 1M-parameter Adam step that is three times the cost of the arithmetic. Raising
glibc's mmap and trim thresholds makes those arrays come from, and go back to, the heap.

This is a process-wide allocator setting, applied when ``course_lib`` is imported, on glibc
only (elsewhere it does nothing). Set ``COURSE_MALLOC=system`` to leave the allocator alone.
"""

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 * 2**20     # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 256 * 2**20    # free memory kept before any is given back to the system


def reuse_freed_memory():
    """Apply the thresholds; returns True when the allocator took them."""
    if os.environ.get("COURSE_MALLOC") == "system":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):   # not glibc: nothing to tune
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
