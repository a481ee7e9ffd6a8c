"""The tiny corpus: built from real recordings, deterministic, split by series, and its truth is where the
intro audio really is (found again by cross-correlating the decoded file with the source excerpt)."""

import json
import shutil
from fractions import Fraction

import numpy as np
import pytest
import scipy.signal
from conftest import CACHE
from introdetect_eval.corpus import build_corpus
from introdetect_eval.corpus.build import episode_path
from introdetect_eval.corpus.plan import SIZES, plan_corpus
from introdetect_eval.corpus.sources import MIX_RATE_HZ, SourceLibrary, build_catalog

from introdetect.labels import read_labels
from introdetect.media import decode_audio, probe
from introdetect.metrics import read_truth
from introdetect.settings import AudioOptions


@pytest.fixture(scope="module")
def corpus(tiny_corpus_build):
    return tiny_corpus_build


@pytest.fixture(scope="module")
def plans():
    size = SIZES["tiny"]
    catalog = build_catalog(size.packages, CACHE)
    library = SourceLibrary(catalog)
    series, episodes = plan_corpus(size, catalog, library, 0)
    return catalog, library, series, episodes


def test_builds_every_episode_and_resumes(corpus):
    folder, result = corpus
    assert result.rendered == result.episodes == 17
    assert result.summary["without_dialogue"] == 0  # every episode speaks (a season whose lines ran out would not)
    again = build_corpus(folder, "tiny", seed=0, cache=CACHE)
    assert again.rendered == 0 and again.up_to_date == 17


def test_deterministic_from_seed(plans):
    catalog, library, _, episodes = plans
    _, same = plan_corpus(SIZES["tiny"], catalog, library, 0)
    _, other = plan_corpus(SIZES["tiny"], catalog, library, 1)
    assert [e.plan_hash() for e in same] == [e.plan_hash() for e in episodes]
    assert [e.plan_hash() for e in other] != [e.plan_hash() for e in episodes]


def test_splits_by_series(corpus, plans):
    folder, _ = corpus
    _, _, series, episodes = plans
    splits = {s.slug: s.split for s in series}
    for split in ("train", "validation", "test"):
        truth = json.loads((folder / f"truth_{split}.json").read_text())
        assert {splits[vid.split("_")[0]] for vid in truth} == {split}
        assert any(row["start"] is None for row in truth.values())  # each split has a no-intro episode
    seen = json.loads((folder / "truth_seen.json").read_text())
    assert seen and {splits[vid.split("_")[0]] for vid in seen} == {"train"}
    # the series' intros come from different tracks (no theme shared between splits)
    themes = {s.intro.source.path for s in series}
    assert len(themes) == len(series)


def test_truth_files_read_cleanly(corpus):
    folder, _ = corpus
    for split in ("train", "validation", "test", "seen"):
        path = folder / f"truth_{split}.json"
        labels = read_labels(path)
        assert not [d for d in labels.defects if d.severity == "error"], labels.defects
        assert all(label.episode is not None for label in labels)  # "Сериал 01. 1 сезон, 2 серия"
        answers = read_truth(path)
        assert all(a.duration_s and a.duration_s > 60 for a in answers.values())


def test_manifest_names_every_source_with_licence(corpus, plans):
    folder, _ = corpus
    manifest = json.loads((folder / "corpus.json").read_text())
    assert set(manifest["packages"]) == {"singularity-music", "asterisk-core-sounds-en-wav", "sonic-pi-samples"}
    assert all(p["licence"] and p["licence"] != "see copyright file" for p in manifest["packages"].values())
    used = {(s["package"], s["path"]) for s in manifest["sources"]}
    _, _, _, episodes = plans
    assert {(ev.source.package, ev.source.path) for e in episodes for ev in e.events} == used
    assert all(s["licence"] for s in manifest["sources"])


def test_files_decode_with_their_codecs(corpus, plans):
    folder, _ = corpus
    _, _, _, episodes = plans
    codecs = set()
    for plan in episodes:
        info = probe(episode_path(folder, plan))
        assert info.duration_s == pytest.approx(plan.file_duration_s, abs=0.3)  # a picture frame is 0.25 s
        codecs.add(info.audio_streams[0].codec)
    assert len(codecs) >= 3  # the tiny corpus already mixes containers and codecs


def _locate(y: np.ndarray, template: np.ndarray, around_s: float, rate: int) -> tuple[float, float]:
    """Where ``template`` best matches ``y`` within ±1 s of ``around_s`` (normalised cross-correlation)."""
    first = max(int((around_s - 1.0) * rate), 0)
    segment = y[first : int((around_s + 1.0) * rate) + template.size]
    corr = scipy.signal.correlate(segment, template, mode="valid", method="fft")
    energy = scipy.signal.correlate(segment**2, np.ones_like(template), mode="valid", method="fft")
    ncc = corr / np.maximum(np.sqrt(np.maximum(energy, 0)) * np.linalg.norm(template), 1e-9)
    best = int(np.argmax(ncc))
    return (first + best) / rate, float(ncc[best])


def test_truth_is_where_the_intro_plays(corpus, plans):
    folder, _ = corpus
    _, library, _, episodes = plans
    rate = 22050
    checked = 0
    for plan in episodes:
        if plan.truth is None:
            continue
        intro = next(e for e in plan.events if e.kind == "intro")
        excerpt = library.audio(intro.source, intro.offset_s, intro.length_s)
        ratio = Fraction(rate * 1000, round(MIX_RATE_HZ * plan.speed * 1000)).limit_denominator(2000)
        excerpt = scipy.signal.resample_poly(excerpt, ratio.numerator, ratio.denominator)
        template = excerpt[int(0.1 * rate) : int(min(3.0, intro.length_s / plan.speed) * rate)]
        y = decode_audio(episode_path(folder, plan), AudioOptions(window_s=plan.truth.end_s + 5))
        found, score = _locate(y, template, plan.truth.start_s + 0.1, rate)
        assert found - 0.1 == pytest.approx(plan.truth.start_s, abs=0.02), (plan.id, found, score)
        checked += 1
    assert checked >= 10


def test_a_parts_truth_ends_where_its_music_stops_sounding(music_clip):
    """A part's truth is where it is heard (``heard_extent``): a real recording that its file follows with 2 s
    of digital silence (a tracker module rendered to its end) ends where the music does, within a block; music
    that sounds to its end keeps its whole length, to the sample; a silent lead is left out at the start."""
    from introdetect_eval.corpus.plan import HEARD_BLOCK_S, heard_extent

    rate = 48_000
    music = decode_audio(music_clip, AudioOptions(window_s=40, sample_rate=rate))[20 * rate : 24 * rate]
    silence = np.zeros(2 * rate, dtype=np.float32)
    first, last = heard_extent(np.concatenate([music, silence]), 6.0, rate)
    assert first == 0.0 and 4.0 - HEARD_BLOCK_S <= last <= 4.0, (first, last)
    assert heard_extent(music, 4.0, rate) == (0.0, 4.0)
    assert heard_extent(music, 3.33, rate) == (0.0, 3.33)  # the excerpt's own length, not a block's multiple
    first, last = heard_extent(np.concatenate([silence[: rate // 2], music]), 4.5, rate)
    assert first == pytest.approx(0.5, abs=HEARD_BLOCK_S) and last == 4.5
    assert heard_extent(silence, 2.0, rate) == (0.0, 2.0)  # nothing sounds: the whole span


def test_variations_can_be_switched_off(plans):
    catalog, library, _, episodes = plans
    _, plain = plan_corpus(SIZES["tiny"], catalog, library, 0, frozenset({"pal_speedup", "codecs", "no_intro"}))
    assert not any(e.variations["pal_speedup"] or e.variations["no_intro"] for e in plain)
    assert {e.encoding.container for e in plain} == {"mp4"}
    assert any(e.variations["pal_speedup"] for e in episodes)  # on by default
    with pytest.raises(ValueError, match="unknown variation"):
        plan_corpus(SIZES["tiny"], catalog, library, 0, frozenset({"laugh_track"}))


def _halved(catalog):
    """The tiny catalog with each music and dialogue package split in two packages of its own ('…:a', '…:b'),
    the same files on disk: two disjoint sets of sources, as the held-out corpus's splits need."""
    from dataclasses import replace

    from introdetect_eval.corpus.sources import Catalog

    files = {}
    for role, sources in catalog.files.items():
        if role in ("music", "dialogue"):
            files[role] = [replace(f, package=f"{f.package}:{'ab'[i % 2]}") for i, f in enumerate(sources)]
            if role == "dialogue":  # whole groups, so that a scene's lines stay in one package
                groups = sorted({f.group for f in sources})
                half = {g: "ab"[i % 2] for i, g in enumerate(groups)}
                files[role] = [replace(f, package=f"{f.package}:{half[f.group]}") for f in sources]
        else:
            files[role] = list(sources)
    roots = dict(catalog.roots)
    for name in list(catalog.roots):
        roots[f"{name}:a"] = roots[f"{name}:b"] = catalog.roots[name]
    return Catalog(roots, files, dict(catalog.licences))


def test_heldout_splits_take_sources_only_from_their_packages(plans):
    """A split of the held-out kind draws music, dialogue and effects only from its own packages (stings and
    beds from the shared one), so no source a test series plays was heard in training."""
    from dataclasses import replace

    catalog, _, _, _ = plans
    halved = _halved(catalog)
    library = SourceLibrary(halved)
    shared = "sonic-pi-samples"
    layout = {
        "train": ("singularity-music:a", "asterisk-core-sounds-en-wav:a", shared),
        "test": ("singularity-music:b", "asterisk-core-sounds-en-wav:b", shared),
    }
    size = replace(SIZES["tiny"], series={"train": 2, "test": 2}, split_packages=layout)
    series, episodes = plan_corpus(size, halved, library, 0)
    assert {s.split for s in series} == {"train", "test"}
    for episode in episodes:
        split = "train" if episode.split == "seen" else episode.split
        used = {event.source.package for event in episode.events}
        assert used <= set(layout[split]), (episode.id, used - set(layout[split]))
        assert used - {shared}  # music and speech of its own
    missing = replace(size, split_packages={**layout, "test": (shared,)})
    with pytest.raises(ValueError, match="split 'test'"):
        plan_corpus(missing, halved, library, 0)


def _three_speaking_series(catalog, split: str, sparse: tuple[str, ...] = ()):
    """Three structured series of ``split`` over one music package and the halved catalog's groups: one of 1255 s
    of lines, two of under 90 s; their plans and each episode's story's share of speech."""
    from dataclasses import replace

    halved = _halved(catalog)
    layout = {split: ("singularity-music:a", "asterisk-core-sounds-en-wav:a", "sonic-pi-samples")}
    size = replace(
        SIZES["tinyparts"], series={split: 3}, episode_s=(400.0, 450.0), split_packages=layout, sparse_speech=sparse
    )
    series, episodes = plan_corpus(size, halved, SourceLibrary(halved), 0)
    shares = {}
    for episode in episodes:
        assert episode.story is not None
        story_s = episode.story.end_s - episode.story.start_s
        speech_s = sum(
            e.length_s
            for e in episode.events
            if e.kind == "dialogue" and episode.story.start_s <= e.start_s < episode.story.end_s
        )
        shares[episode.id] = speech_s / story_s
    return series, shares


def test_a_structured_season_never_runs_out_of_speech(plans):
    """A structured season says each recorded line only a few times (each use at a distinct rate), so a split
    whose packages hold few dialogue groups for its series must give each series more than its share of them:
    with one group each, held-out seasons went a third without any speech (docs/CORPUS.md)."""
    series, shares = _three_speaking_series(plans[0], "test")
    assert len({s.dialogue_groups for s in series}) == 3  # each series starts at its own place in the pool
    # measured: each story 64-90 % speech (with one group each: two seasons silent from their third episode)
    assert min(shares.values()) > 0.5, shares


def test_a_sparse_speech_split_keeps_its_series_to_their_share(plans):
    """The held-out train split speaks little (CorpusSize.sparse_speech): each series keeps its own share of the
    pool's groups, so the seasons with a short group fall silent, as every structured season did before
    LINE_USES; the model trained on such series finds lone intros of unseen packages better (docs/MODEL.md)."""
    assert SIZES["heldout"].sparse_speech == ("train",)
    series, shares = _three_speaking_series(plans[0], "train", sparse=("train",))
    assert [len(s.dialogue_groups) for s in series] == [1, 1, 1]
    assert min(shares.values()) < 0.1 < max(shares.values()), shares  # a silent story beside a speaking one
    speaking, _ = _three_speaking_series(plans[0], "train")  # the same split, not named: speaks throughout
    assert [len(s.dialogue_groups) for s in speaking] != [1, 1, 1]


def test_a_spoken_lines_split_says_sentences_each_use_distinct_as_the_file_plays(plans):
    """CorpusSize.spoken_lines: no scene of the prompts' spelled words (a recap of "r", "s", "slash" was no
    dialogue and no fingerprint), and two uses of one line in a season never as alike, on the files' timeline (the
    rate times the episode's PAL speed-up), as a speed the matcher tries (within SPOKEN_MARGIN: 4 %): a line at
    1.013 in one episode and 1.097 in a PAL one matched itself at 25/24 in the held-out corpus. Replays (recaps,
    previews) are the same use."""
    from dataclasses import replace

    from introdetect_eval.corpus.plan import MATCHED_SPEEDS, SPOKEN_MARGIN, spelled

    halved = _halved(plans[0])
    layout = {"test": ("singularity-music:a", "asterisk-core-sounds-en-wav:a", "sonic-pi-samples")}
    base = replace(SIZES["tinyparts"], series={"test": 3}, episode_s=(400.0, 450.0), split_packages=layout)
    assert SIZES["heldout"].spoken_lines == ("validation", "test")  # the train split the model learnt from stays

    def lines(size):
        _, episodes = plan_corpus(size, halved, SourceLibrary(halved), 2)  # seed 2: PAL episodes among them
        out = []
        for episode in episodes:
            replays = [s for k, s in episode.others.items() if k in ("recap", "preview") and s is not None]
            out += [
                (episode, event)
                for event in episode.events
                if event.kind == "dialogue" and not any(s.start_s <= event.start_s < s.end_s for s in replays)
            ]
        return out

    before = lines(base)
    assert any(spelled(e.source.group) for _, e in before)  # the split's package has them
    after = lines(replace(base, spoken_lines=("test",)))
    assert not any(spelled(e.source.group) for _, e in after)
    assert any(episode.speed != 1.0 for episode, _ in after)  # PAL episodes among them
    said: dict[tuple[str, str], list[float]] = {}
    for episode, event in after:
        said.setdefault((episode.series, event.source.path), []).append(event.rate * episode.speed)
    pairs = [(a, b) for rates in said.values() for i, a in enumerate(rates) for b in rates[i + 1 :]]
    assert pairs
    # as _distinct_rate compares them: each later use against the earlier ones (the rates are rounded to 0.1 ‰)
    assert all(abs(b / a - s) > SPOKEN_MARGIN * 0.99 for a, b in pairs for s in MATCHED_SPEEDS)
    # one pool serving every split cannot speak sentences in some of them only
    shared = replace(SIZES["tinyparts"], series={"train": 1, "test": 1}, spoken_lines=("test",))
    with pytest.raises(ValueError, match="spoken_lines names some of its splits"):
        plan_corpus(shared, halved, SourceLibrary(halved), 0)


def test_a_spoken_lines_split_replays_a_scene_distinct_from_every_other_delivery_of_its_lines(plans):
    """A recap or a preview replays a scene of another episode as it was (its rate), played at its own episode's
    speed: there it may match that scene (the same delivery, at 1 or PAL's 25/24), never another use of the same
    recording (another rate), which would make the scene heard in a later story too: a cue, never a recap's scene
    (the parts corpus's test split: its four recaps never found). Each two deliveries, as the files play them,
    stay SPOKEN_MARGIN from a speed the matcher tries, as ``_distinct_rate`` compares them (one of the orders)."""
    from dataclasses import replace

    from introdetect_eval.corpus.plan import MATCHED_SPEEDS, SPOKEN_MARGIN

    halved = _halved(plans[0])
    layout = {"test": ("singularity-music:a", "asterisk-core-sounds-en-wav:a", "sonic-pi-samples")}
    size = replace(
        SIZES["tinyparts"], series={"test": 3}, episode_s=(400.0, 450.0), split_packages=layout, spoken_lines=("test",)
    )
    _, episodes = plan_corpus(size, halved, SourceLibrary(halved), 2)
    uses: dict[tuple[str, str], list[tuple[float, float, bool]]] = {}  # (rate, as played, replayed)
    for episode in episodes:
        replays = [s for k, s in episode.others.items() if k in ("recap", "preview") and s is not None]
        for event in episode.events:
            if event.kind == "dialogue":
                replayed = any(s.start_s <= event.start_s < s.end_s for s in replays)
                uses.setdefault((episode.series, event.source.path), []).append(
                    (event.rate, event.rate * episode.speed, replayed)
                )

    def apart(a: float, b: float) -> bool:
        return any(all(abs(x / y - s) > SPOKEN_MARGIN * 0.99 for s in MATCHED_SPEEDS) for x, y in ((a, b), (b, a)))

    pairs = [
        (u, v)
        for rows in uses.values()
        for u in rows
        if u[2]
        for v in rows
        if abs(v[0] / u[0] - 1.0) > 2e-4  # another delivery (rates are rounded to 0.1 ‰)
    ]
    assert pairs and any(u[2] for rows in uses.values() for u in rows)
    assert all(apart(u[1], v[1]) for u, v in pairs), [(u, v) for u, v in pairs if not apart(u[1], v[1])][:3]


def test_heldout_corpus_layout_is_disjoint():
    """The shipped layout: training on the packages every fitted part saw, validation and test on disjoint
    packages opened for diversity, only the stings' package in more than one split."""
    from introdetect_eval.corpus.sources import DIVERSITY_PACKAGES, FIRST_PACKAGES, HELDOUT_SPLIT_PACKAGES

    layout = SIZES["heldout"].split_packages
    assert layout is HELDOUT_SPLIT_PACKAGES
    assert set(layout["train"]) == set(FIRST_PACKAGES)
    for split in ("validation", "test"):
        assert set(layout[split]) - {"sonic-pi-samples"} <= set(DIVERSITY_PACKAGES)
    assert not (set(layout["validation"]) & set(layout["test"])) - {"sonic-pi-samples"}


def test_one_split_is_built_as_the_whole_corpus_has_it(corpus, tmp_path):
    """--split test: the test episodes alone, the same plans (so the files already there are up to date); the
    manifest lists them and the other splits' episodes already there (a split built after another must not hide
    it: a benchmark then found none of the first), not those whose files are gone; an unknown split is refused."""
    import shutil

    from introdetect.settings import SettingsError

    folder, _ = corpus
    copy = tmp_path / "tiny"
    shutil.copytree(folder, copy)
    whole = json.loads((folder / "corpus.json").read_text(encoding="utf-8"))
    splits = {e["split"] for e in whole["episodes"]}
    assert "test" in splits and len(splits) > 1
    gone = min(splits - {"test"})
    shutil.rmtree(copy / gone)
    result = build_corpus(copy, "tiny", seed=0, cache=CACHE, splits={"test"})
    test = {e["id"]: e["plan_hash"] for e in whole["episodes"] if e["split"] == "test"}
    assert test and result.episodes == len(test) and result.up_to_date == len(test) and result.rendered == 0
    manifest = json.loads((copy / "corpus.json").read_text(encoding="utf-8"))
    listed = {e["id"]: e["plan_hash"] for e in manifest["episodes"]}
    assert listed == {e["id"]: e["plan_hash"] for e in whole["episodes"] if e["split"] != gone}
    assert [e["id"] for e in manifest["episodes"]] == [e["id"] for e in whole["episodes"] if e["id"] in listed]
    assert {s["split"] for s in manifest["series"]} == splits - {gone}
    with pytest.raises(SettingsError, match="nope"):
        build_corpus(copy, "tiny", seed=0, cache=CACHE, splits={"nope"})


# --- acoustic variants for training ----------------------------------------------------------------------------


def test_variants_sound_like_another_release_and_their_truth_follows_the_speed(tiny_corpus, tmp_path, monkeypatch):
    """Each train episode's head rendered through a drawn chain: the file lasts the window, its truth is the
    episode's divided by the chain's speed, and a bad source is named while the others are written."""
    from introdetect_eval.corpus import augment

    from introdetect.model.job import VARIANT_MARK

    assert augment.VARIANT_MARK == VARIANT_MARK
    monkeypatch.setattr(augment, "SPEED_SHARE", 1.0)  # every variant changes speed: the truth must follow
    monkeypatch.setattr(augment, "NOISE_SHARE", 1.0)  # and mixes a real noise bed under it
    corpus = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, corpus)
    manifest = json.loads((corpus / "corpus.json").read_text())
    train = [e for e in manifest["episodes"] if e["split"] == "train"]
    (corpus / train[0]["file"]).write_bytes(b"not a media file")
    out = tmp_path / "variants"
    failed = augment.augment_split(corpus, "train", out, window_s=40.0, workers=1, cache=CACHE)
    assert [f.path for f in failed] == [f"{train[0]['id']}{VARIANT_MARK}1"]
    assert train[0]["id"] in failed[0].message
    truth = json.loads((out / "truth_train.json").read_text())
    original = json.loads((corpus / "truth_train.json").read_text())
    listed = {e["id"]: e for e in json.loads((out / "corpus.json").read_text())["episodes"]}
    assert set(truth) == set(listed) == {f"{e['id']}{VARIANT_MARK}1" for e in train[1:]}
    with_intro = 0
    for name, row in truth.items():
        chain = listed[name]["chain"]
        assert "asetrate=" in chain and " at -" in chain  # a speed change and a bed, as forced
        speed = int(chain.split("asetrate=")[1].split(",")[0]) / augment.RATE_HZ
        assert 0.96 <= speed <= 1.04 and speed != 1.0
        source = original[name.split(VARIANT_MARK)[0]]
        if source["start_sec"] is not None:
            with_intro += 1
            assert row["start_sec"] == pytest.approx(source["start_sec"] / speed, abs=2e-4)
            assert row["end_sec"] == pytest.approx(source["end_sec"] / speed, abs=2e-4)
        files = list((out / "train").rglob(f"{name}.*"))
        assert len(files) == 1
        assert probe(files[0]).duration_s == pytest.approx(40.0, abs=0.1)
        sound = decode_audio(files[0], AudioOptions(window_s=40.0))
        assert np.sqrt(np.mean(sound**2)) > 1e-3  # not silent
    assert with_intro >= 2
    # a second run renders nothing again and keeps what was there
    stamp = {f: f.stat().st_mtime_ns for f in (out / "train").rglob("*.*")}
    augment.augment_split(corpus, "train", out, window_s=40.0, workers=1, cache=CACHE)
    assert {f: f.stat().st_mtime_ns for f in (out / "train").rglob("*.*")} == stamp


def test_a_drawn_chain_is_the_same_for_the_same_seed_and_stays_in_range() -> None:
    from introdetect_eval.corpus.augment import CODECS, SPEED_RANGE, draw_chain

    chains = [draw_chain(np.random.default_rng(k), ["bed.flac"]) for k in range(200)]
    assert chains[:5] == [draw_chain(np.random.default_rng(k), ["bed.flac"]) for k in range(5)]
    assert all(SPEED_RANGE[0] <= c.speed <= SPEED_RANGE[1] for c in chains)
    assert {c.codec for c in chains} == set(CODECS)
    assert any(c.bed for c in chains) and any(c.bed is None for c in chains)
    assert any(c.speed == 1.0 for c in chains) and any(c.speed != 1.0 for c in chains)


def test_a_split_that_plays_a_held_out_package_is_found(corpus) -> None:
    """The guard every training script runs: the tiny corpus plays the nine first packages only; an episode or a
    series intro of a package kept for the held-out validation or test series is named, in its split alone."""
    from introdetect_eval.corpus.sources import heldout_packages_played

    folder, _ = corpus
    manifest = json.loads((folder / "corpus.json").read_text(encoding="utf-8"))
    assert all(not heldout_packages_played(manifest, split) for split in ("train", "validation", "test"))
    train = next(e for e in manifest["episodes"] if e["split"] == "train")
    train["events"].append({"kind": "score", "package": "pingus-data", "path": "x.it"})
    series = next(s for s in manifest["series"] if s["split"] == "test")
    series["intro"] = {**series["intro"], "package": "hyperrogue-music"}
    assert heldout_packages_played(manifest, "train") == {"pingus-data"}
    assert heldout_packages_played(manifest, "test") == {"hyperrogue-music"}
    assert not heldout_packages_played(manifest, "validation")
    train["events"].append({"kind": "sting", "package": "sonic-pi-samples", "path": "y.flac"})  # every split's
    assert heldout_packages_played(manifest, "train") == {"pingus-data"}
