"""Coverage-guided fuzzing (``make fuzz``) and its corpus, which ``tests/unit/test_fuzz_corpus.py`` replays.

Nothing here is imported at package level: the libFuzzer entry (:mod:`tests.fuzz.libfuzzer`) must import
``passport`` for the first time inside atheris's instrumentation, or the fuzzer would be blind to its branches.
"""
