"""Whole libraries: the content cache (a re-run decodes nothing; a new episode costs one decode and its series'
matching), and the same work on a Dask cluster (a LocalCluster of 2 worker processes), with a worker lost
mid-run."""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import threading
from pathlib import Path

import pytest

from introdetect import detect
from introdetect.analysis import analysis_key
from introdetect.cache import AnalysisCache, EpisodeKey
from introdetect.detectors import DEFAULT_MODEL, SERIES_DETECTORS, ChapterDetector, ModelDetector
from introdetect.settings import AudioOptions

analysis_module = importlib.import_module("introdetect.analysis")


def _answers(found) -> dict:
    return {d.id: d.parts for d in found}


@pytest.fixture
def library(tiny_corpus: Path, tmp_path: Path) -> Path:
    """Two seasons of the tiny corpus's test split, copied (the test adds an episode to one)."""
    root = tmp_path / "library"
    shutil.copytree(tiny_corpus / "test", root)
    return root


def _videos(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in {".mp4", ".mkv", ".webm", ".mka", ".ogg", ".avi", ".mov"})


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every decode (in this process: workers=1 runs the tasks here)."""
    calls: list[str] = []
    real = analysis_module.analyse_episode

    def counted(path, *args, **kwargs):
        calls.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(analysis_module, "analyse_episode", counted)
    return calls


def test_a_rerun_decodes_nothing_and_a_new_episode_costs_one(
    library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = AnalysisCache(tmp_path / "cache")
    calls = _counting(monkeypatch)
    videos = _videos(library)
    shows = sorted({v.parent.name for v in videos})
    held_back = next(v for v in videos if v.parent.name == shows[0] and v.stem.endswith("e03"))
    first = detect([v for v in videos if v != held_back], workers=1, cache=cache)
    assert len(calls) == len(videos) - 1 and not first.failures
    calls.clear()
    again = detect([v for v in videos if v != held_back], workers=1, cache=cache)
    assert calls == [] and _answers(again) == _answers(first)  # no decoding, the same answers
    assert cache.hits >= len(videos) - 1 + len(shows)  # every episode and every series read back
    # the season gains its third episode: one decode, that season matched again, the other read back
    cache.hits = cache.misses = 0
    grown = detect(videos, workers=1, cache=cache)
    assert calls == [held_back.name]
    remote = sum(d.remote for d in SERIES_DETECTORS)  # each matches the season again: recurring, credits
    # the new episode, its season's versions compared again, and its series once per series detector
    assert cache.misses == 1 + 1 + remote
    uncached = detect(videos, workers=1)
    assert _answers(grown) == _answers(uncached)


def test_a_changed_file_or_setting_is_analysed_again_and_a_broken_entry_is_a_miss(
    library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = AnalysisCache(tmp_path / "cache")
    videos = _videos(library)[:3]
    detect(videos, workers=1, cache=cache)
    calls = _counting(monkeypatch)
    assert len(list((tmp_path / "cache" / "episodes").rglob("*.pkl"))) == 3
    detectors = [ModelDetector(DEFAULT_MODEL), ChapterDetector()]  # detect's episode detectors (EPISODE_DETECTORS)
    key = EpisodeKey.of(videos[1], analysis_key(AudioOptions(), detectors))
    broken = next((tmp_path / "cache" / "episodes").rglob(f"{key.digest}.pkl"))
    broken.write_bytes(broken.read_bytes()[:1000])  # a truncated entry (a kill mid-write elsewhere)
    os.utime(videos[0], ns=(videos[0].stat().st_atime_ns, videos[0].stat().st_mtime_ns + 10**9))  # touched
    detect(videos, workers=1, cache=cache)
    assert sorted(calls) == sorted([videos[0].name, videos[1].name])  # the touched file, and the broken entry's
    calls.clear()
    detect(videos, workers=1, cache=cache, use="matching")  # other settings (no model): other keys
    assert len(calls) == 3


def test_an_unwritable_cache_costs_speed_not_the_run(library: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x", encoding="utf-8")
    found = detect(_videos(library)[:3], workers=1, cache=AnalysisCache(blocker / "cache"))
    assert len(found) == 3 and not found.failures


# --- Dask ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():  # a LocalCluster of 2 single-threaded worker processes
    distributed = pytest.importorskip("distributed")  # the dask extra is in the test extra: present in CI
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        ) as local,
        distributed.Client(local) as client,
    ):
        yield local, client


def test_the_same_answers_on_a_dask_cluster(library: Path, cluster) -> None:
    local, _ = cluster
    videos = _videos(library)
    here = detect(videos, workers=1)
    there = detect(videos, scheduler=local.scheduler_address)  # by address, as `--scheduler tcp://…` does
    assert _answers(there) == _answers(here)


def test_a_worker_lost_mid_run_is_survived(library: Path, cluster) -> None:
    _, client = cluster
    videos = _videos(library)
    expected = _answers(detect(videos, workers=1))
    killed = threading.Event()

    def kill_a_worker() -> None:  # once tasks are running, one worker process dies (its nanny starts another)
        client.wait_for_workers(2, timeout=60)
        for _ in range(200):
            processing = client.processing()
            busy = [w for w, tasks in processing.items() if tasks]
            if busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.set()
                return
            threading.Event().wait(0.05)

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    found = detect(videos, scheduler=client)
    killer.join()
    assert killed.is_set()
    assert _answers(found) == expected
    client.wait_for_workers(2, timeout=60)  # the nanny brought it back for the next test


def test_the_cache_is_pruned_least_recently_used_first(library: Path, tmp_path: Path) -> None:
    import time

    from typer.testing import CliRunner

    from introdetect._cli import app
    from introdetect.cache import parse_size

    cache = AnalysisCache(tmp_path / "cache")
    videos = _videos(library)[:3]
    detect(videos, workers=1, cache=cache, use="model")
    entries, size = cache.usage()
    assert entries == 3 and size > 0
    time.sleep(0.05)
    detect(videos[2:], workers=1, cache=cache, use="model")  # the third used again: the most recent
    newest = max(cache._entries())[1]
    runner = CliRunner()
    result = runner.invoke(app, ["cache", "prune", "--max-size", str(newest), "--cache", str(tmp_path / "cache")])
    assert result.exit_code == 0 and "removed 2 entries" in " ".join(result.output.split()), result.output
    hits = cache.hits
    detect(videos[2:], workers=1, cache=cache, use="model")
    assert cache.hits == hits + 1  # the one kept is the one used last
    assert "1 entries" in " ".join(
        runner.invoke(app, ["cache", "info", "--cache", str(tmp_path / "cache")]).output.split()
    )
    assert parse_size("5G") == 5 << 30 and parse_size("1.5M") == int(1.5 * (1 << 20)) and parse_size("123") == 123
    assert runner.invoke(app, ["cache", "prune", "--max-size", "lots"]).exit_code == 2


def test_every_setting_that_shapes_an_answer_is_in_the_cache_key(
    library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tuned matching constant, or a new package version, is never answered from an old entry: a rule's
    constant matches the series again from the cached prints (the tuned constant really changes the answer), a
    constant that shapes the prints (``PRINT_FIELDS``) decodes the episodes again, and so does a new version."""
    from introdetect.settings import MatchingOptions

    cache = AnalysisCache(tmp_path / "cache")
    videos = _videos(library)[:3]  # one season
    before = detect(videos, workers=1, cache=cache, use="matching")
    assert any(d.intro is not None for d in before)
    calls = _counting(monkeypatch)
    strict = MatchingOptions(min_votes=10_000)  # no shared segment can have that many votes: nothing recurs
    after = detect(videos, workers=1, cache=cache, use="matching", matching=strict)
    assert calls == [] and all(d.intro is None for d in after)
    sparse = MatchingOptions(peaks_per_second=20)
    detect(videos, workers=1, cache=cache, use="matching", matching=sparse)
    assert sorted(calls) == sorted(v.name for v in videos)
    calls.clear()
    monkeypatch.setattr(analysis_module, "__version__", "999.0.0")  # as a release that changes answers
    detect(videos, workers=1, cache=cache, use="matching")
    assert sorted(calls) == sorted(v.name for v in videos)


def test_matching_options_are_checked_where_they_are_made() -> None:
    from introdetect.errors import SettingsError
    from introdetect.settings import MatchingOptions

    for bad in ({"min_votes": 0}, {"max_gap_s": float("nan")}, {"match_level": 1.5}, {"speeds": ()}):
        with pytest.raises(SettingsError):
            MatchingOptions(**bad)
    assert MatchingOptions().settings_hash != MatchingOptions(dbscan_eps=1.3).settings_hash
