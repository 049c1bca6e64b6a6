"""``make bench``: the figures of docs/performance.md, measured in one run on loopback only.

Run it as ``python -m bench`` from the repository root. It prints one row per figure (measured value, target,
PASS/FAIL), then how each figure was measured. Time is measured with timeit-style loops (min of repeats);
DynamoDB round trips are counted, not timed, through botocore's ``before-send`` hook on the process's shared
client. Last, a bounded load run against the real local server and, for comparison, a minimal authlib token
endpoint (``python -m bench load`` runs only that part). The exit status is 0 whether or not targets are met;
1 only when the harness itself failed.
"""
