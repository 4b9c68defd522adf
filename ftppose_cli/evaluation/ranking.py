"""The order poseval ranks detections in, on any numpy: its classic introsort, tie order included.

poseval (and the PoseTrack21 kit) rank a joint's detections with
``scores.argsort()[::-1]``: numpy's default, unstable quicksort. Tied scores
(missing scores, all -9999; quantised or constant scores) are common, and
where a tie mixes true and false positives its order moves the AP. That order
is not numpy's to keep: numpy 1.25+ on AVX-512 CPUs (2.x also on AVX2 ones)
sorts with a vectorised algorithm that breaks ties differently
from the introsort of every earlier numpy, which is what poseval was written
against, what the PoseTrack21 kit pins (numpy 1.22) and what published
numbers were computed with. Calling the installed ``argsort`` therefore gave
poseval's numbers only where both ran on the same numpy and CPU; on the
official setups AP was off by up to a few points per joint.

So the ranking is emulated: :func:`classic_argsort` reproduces numpy's
classic ``aquicksort`` (median-of-three quicksort, insertion sort for 16
elements or fewer, heapsort past a depth of 2 log2 n) permutation for
permutation, with each quicksort level vectorised over all the level's
partitions. Where no tie mixes labels any sort gives the same ranked labels,
so :func:`ranked_labels` takes numpy's own sort then.
"""

from __future__ import annotations

import numpy as np

SMALL_QUICKSORT = 15  # numpy: a partition with high - low <= 15 (16 elements or fewer) is insertion-sorted


def ranked_labels(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``labels[scores.argsort()[::-1]]`` with poseval's classic tie order, whatever numpy runs this."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    if not _ties_mix_labels(scores, labels):
        return labels[np.argsort(-scores, kind="stable")]
    return labels[classic_argsort(scores)[::-1]]


def _ties_mix_labels(scores: np.ndarray, labels: np.ndarray) -> bool:
    """True when some score is shared by detections with different labels (only then tie order matters)."""
    if scores.size < 2:
        return False
    order = np.lexsort((labels, scores))
    same_score = scores[order][1:] == scores[order][:-1]
    return bool((same_score & (labels[order][1:] != labels[order][:-1])).any())


def classic_argsort(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values)`` exactly as numpy < 1.25 computes it for float64 (its ``aquicksort``).

    Each pass partitions every pending segment longer than 16 elements at once;
    segments are disjoint, so the order they are handled in does not matter.
    A segment numpy would push on its stack is checked against the depth limit
    when popped (heapsort if past it); the one it keeps partitioning in its
    inner loop is not, and both children get the parent's depth minus one.
    """
    v = np.asarray(values, dtype=np.float64)
    n = v.size
    order = np.arange(n, dtype=np.int64)
    if n < 2:
        return order
    if np.isnan(v).any():
        raise ValueError("NaN scores cannot be ranked")
    low = np.array([0], np.int64)
    high = np.array([n - 1], np.int64)
    depth = np.array([2 * (n.bit_length() - 1)], np.int64)
    checked = np.array([True])
    leaf_low, leaf_high = [], []
    while low.size:
        past_limit = checked & (depth < 0)
        for a, b in zip(low[past_limit].tolist(), high[past_limit].tolist()):
            _heapsort(v, order, a, b)
        small = ~past_limit & (high - low <= SMALL_QUICKSORT)
        leaf_low.append(low[small])
        leaf_high.append(high[small])
        split = ~past_limit & ~small
        low, high, depth = low[split], high[split], depth[split]
        if not low.size:
            break
        pivot_at = _partition(v, order, low, high)
        left_smaller = pivot_at - low < high - pivot_at
        low, high = np.concatenate([low, pivot_at + 1]), np.concatenate([pivot_at - 1, high])
        depth = np.concatenate([depth - 1, depth - 1])
        checked = np.concatenate([~left_smaller, left_smaller])  # the larger part goes on the stack
    _insertion_sort(v, order, np.concatenate(leaf_low), np.concatenate(leaf_high))
    return order


def _swap_where(v: np.ndarray, order: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Swap ``order[a]`` and ``order[b]`` where ``v[order[a]] < v[order[b]]`` (one median-of-three step)."""
    swap = v[order[a]] < v[order[b]]
    a, b = a[swap], b[swap]
    order[a], order[b] = order[b], order[a].copy()


def _partition(v: np.ndarray, order: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """One quicksort partition of every segment [low, high]; returns where each pivot ends up.

    numpy's scan moves ``i`` up past values < pivot and ``j`` down past values
    > pivot, swapping until they cross. Positions the two scans visit never
    overlap before the crossing, so the k-th stop of ``i`` is the k-th position
    in (low, high - 1] holding a value >= pivot, the k-th stop of ``j`` the k-th
    from the top in [low, high - 2] holding a value <= pivot, and the pairs are
    swapped while ``i < j``: all of it computable from the values before the scan.
    """
    middle = low + ((high - low) >> 1)
    _swap_where(v, order, middle, low)
    _swap_where(v, order, high, middle)
    _swap_where(v, order, middle, low)
    pivot = v[order[middle]]
    order[middle], order[high - 1] = order[high - 1], order[middle].copy()

    lengths = high - low  # positions low .. high - 1 of each segment
    segment = np.repeat(np.arange(low.size), lengths)
    position = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths) + low[segment]
    value = v[order[position]]
    is_up = (value >= pivot[segment]) & (position != low[segment])  # stops of i, ascending
    is_down = (value <= pivot[segment]) & (position != high[segment] - 1)  # stops of j, ascending here
    up, down_asc = position[is_up], position[is_down]
    up_count = np.bincount(segment[is_up], minlength=low.size)
    down_count = np.bincount(segment[is_down], minlength=low.size)
    up_start = np.cumsum(up_count) - up_count
    down_end = np.cumsum(down_count)  # j's k-th stop is down_asc[down_end - 1 - k]

    pairs = np.minimum(up_count, down_count)
    pair_seg = np.repeat(np.arange(low.size), pairs)
    k = np.arange(pairs.sum()) - np.repeat(np.cumsum(pairs) - pairs, pairs)
    i_stop = up[up_start[pair_seg] + k]
    j_stop = down_asc[down_end[pair_seg] - 1 - k]
    crossed = i_stop >= j_stop  # once crossed, stays crossed (i_stop rises, j_stop falls)
    swaps = np.bincount(pair_seg[~crossed], minlength=low.size)
    i_swap, j_swap = i_stop[~crossed], j_stop[~crossed]
    order[i_swap], order[j_swap] = order[j_swap], order[i_swap].copy()

    # Where i stops after the last swap: its next stop, or the last j swap position (now holding a value >= pivot).
    pivot_at = up[up_start + swaps]
    had_swaps = swaps > 0
    last_j = down_asc[np.where(had_swaps, down_end - swaps, down_end - 1)]
    pivot_at = np.where(had_swaps, np.minimum(pivot_at, last_j), pivot_at)
    order[pivot_at], order[high - 1] = order[high - 1], order[pivot_at].copy()
    return pivot_at


def _insertion_sort(v: np.ndarray, order: np.ndarray, low: np.ndarray, high: np.ndarray) -> None:
    """numpy's insertion sort on every small segment: with a strict ``<`` it is a stable sort."""
    lengths = np.maximum(high - low + 1, 0)
    if not lengths.sum():
        return
    segment = np.repeat(np.arange(low.size), lengths)
    position = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths) + low[segment]
    current = order[position]
    within = np.lexsort((v[current], segment))  # stable: equal values keep their current order
    order[position] = current[within]


def _heapsort(v: np.ndarray, order: np.ndarray, low: int, high: int) -> None:
    """numpy's ``aheapsort`` on order[low..high] (reached only past the depth limit; plain Python)."""
    n = high - low + 1
    if n < 2:
        return
    a = [0] + order[low:high + 1].tolist()  # 1-based, as numpy indexes its heap
    values = v.tolist()

    def sift(start: int, tmp: int, size: int) -> None:
        i, j = start, start << 1
        while j <= size:
            if j < size and values[a[j]] < values[a[j + 1]]:
                j += 1
            if values[tmp] < values[a[j]]:
                a[i] = a[j]
                i, j = j, j + j
            else:
                break
        a[i] = tmp

    for start in range(n >> 1, 0, -1):
        sift(start, a[start], n)
    size = n
    while size > 1:
        tmp = a[size]
        a[size] = a[1]
        size -= 1
        sift(1, tmp, size)
    order[low:high + 1] = a[1:]
