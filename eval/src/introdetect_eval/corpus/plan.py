"""The corpus design: series and episodes as plain data, decided by a seeded random generator.

Nothing here touches audio: a plan says which excerpt of which source plays where, how loud, and which
real-world variations an episode has. ``render.py`` turns a plan into a media file. The same seed, size
and catalog give the same plans.

Where the numbers come from: intro lengths of title stings are drawn from the real VK labels' durations
(2–15 s, median 9 s); classic theme songs are 15–90 s; cold-open lengths are drawn from the real labels'
start times (0 s to 12:48), scaled to the episode length of the corpus size.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from introdetect.labels import read_labels
from introdetect.resources import vk_label_files
from introdetect.timecode import Segment

from .sources import MIX_RATE_HZ, Catalog, SourceFile, SourceLibrary, speaker_of

PAL_SPEEDUP = 25 / 24
"""Film at 24 fps shown at PAL's 25 fps: everything 4.17 % faster and higher (the issue's '+4 %')."""

LEVEL_DB = {
    "dialogue": -20.0,
    "intro": -16.0,
    "credits": -17.0,
    "score": -28.0,
    "ambience": -40.0,
    "effect": -24.0,
    "logo": -17.0,
    "recap": -18.0,
    "preview": -18.0,
}
"""RMS level of each kind of sound in the mix, dBFS: dialogue on top, score well under it, ambience as a bed;
the intro is mixed louder than the score, as broadcasts do, but not far above the dialogue."""

RENDER_VERSION = 4
"""Bump when render.py changes what it writes, so that a rebuild re-renders every episode."""

VARIATIONS = (
    "no_intro",
    "trimmed_intro",
    "dialogue_over_intro",
    "effects_over_intro",
    "pal_speedup",
    "volume_change",
    "eq_change",
    "recap",
    "preview",
    "post_credits",
    "dialogue_over_credits",
    "new_intro_version",
)
STRUCTURE_VARIATIONS = ("preview", "post_credits", "dialogue_over_credits", "new_intro_version")
"""The variations only a corpus with structure has (CorpusSize.structure)."""

SWITCHES = (*VARIATIONS, "codecs")

PART_KINDS = ("ident", "recap", "credits", "preview")
"""The parts other than the intro whose truth every episode states (the label format's ``<kind>_start``)."""
"""What can be switched off for a corpus (``--without``): each variation, and the mix of codecs (then every
episode is H.264/AAC mp4 at 48 kHz)."""


@dataclass(frozen=True)
class CorpusSize:
    name: str
    series: dict[str, int]  # split → number of series
    episodes_per_series: tuple[int, int]
    seen_episodes_per_train_series: int
    episode_s: tuple[float, float]
    packages: tuple[str, ...]
    max_cold_open_share: float  # cold opens at most this share of the episode
    theme_s: tuple[float, float]
    structure: bool = False
    """Episodes with the structure of TV beyond the intro: recaps that replay earlier episodes' scenes, previews
    whose scenes recur in the next episode, post-credits scenes, dialogue over the credits' start, end themes
    other than the intro, an intro whose version changes half-way through the season."""
    split_packages: dict[str, tuple[str, ...]] | None = None
    """Splits that hold out whole source packages: split → the packages its series take music, dialogue and
    effects from (no package in two splits). The stings and ambience beds of every split come from
    sonic-pi-samples, the only package that has them (in every split's list). None: every split draws from
    every package of ``packages``."""
    audible_sources: bool = False
    """Themes that sound throughout: silent tracks left out of the music, an intro or end theme drawn where its
    source has no rests (``quiet_share``). Off for the sizes built before it, whose plans it would change."""
    sparse_speech: tuple[str, ...] = ()
    """Splits of a structured size whose series keep to their own share of the pool's dialogue groups
    (``_Pool.per_series``), as every structured series did before ``LINE_USES``: their seasons speak little
    (the held-out train split: median story 7 % speech, where the others speak 80-90 %), so the model's structured
    training series are stories of ambience and score as much as of dialogue. Trained on them (with the full
    corpus, whose stories speak throughout), the model found lone episodes of held-out packages far better than
    trained on the same series speaking throughout (docs/MODEL.md, "The spread between trainings")."""
    spoken_lines: tuple[str, ...] = ()
    """Splits whose scenes are lines people say: the telephone prompts' spelled alphabets, digits and phonetic
    alphabets (SPELLED_GROUPS: 0.3-1.4 s single words, "r", "s", "slash", "h-27") left out of their dialogue, and
    each use of a line kept SPOKEN_MARGIN (4 %) from its earlier ones on the files' own timeline (its rate times
    the episode's PAL speed-up: a line said at 1.013 in one episode and 1.097 in a PAL one of the same season
    matched itself at the matcher's 25/24, a recurrence no series has). Found on the held-out splits' recaps and
    previews (docs/CORPUS.md). Off for the splits the shipped model trained on, whose plans it would change."""


def _sizes() -> dict[str, CorpusSize]:
    from .sources import ALL_PACKAGES, FIRST_PACKAGES, HELDOUT_SPLIT_PACKAGES, TINY_PACKAGES

    parts = CorpusSize(
        "parts",
        {"train": 2, "validation": 2, "test": 8},
        (6, 6),
        0,
        (600.0, 1500.0),
        ALL_PACKAGES,
        0.5,
        (15.0, 90.0),
        structure=True,
    )

    return {
        "tiny": CorpusSize(
            "tiny",
            {"train": 2, "validation": 1, "test": 2},
            (3, 3),
            1,
            (100.0, 150.0),
            TINY_PACKAGES,
            0.35,
            (15.0, 30.0),
        ),
        "small": CorpusSize(
            "small",
            {"train": 6, "validation": 3, "test": 4},
            (4, 5),
            1,
            (300.0, 720.0),
            FIRST_PACKAGES,
            0.5,
            (15.0, 90.0),
        ),
        "full": CorpusSize(
            "full",
            {"train": 24, "validation": 8, "test": 10},
            (6, 7),
            2,
            (600.0, 2700.0),
            FIRST_PACKAGES,
            0.6,
            (15.0, 90.0),
        ),
        # one long season, for measuring how the cost of matching grows with the number of episodes
        "season": CorpusSize("season", {"test": 1}, (40, 40), 0, (1200.0, 1560.0), FIRST_PACKAGES, 0.6, (15.0, 90.0)),
        # the parts of an episode: a season of each series, structured, over every development package
        "parts": replace(parts, spoken_lines=("train", "validation", "test")),
        # validation that resembles real use (trust issue): splits that hold out whole source packages.
        # Training keeps the nine first packages (those the shipped model and every fitted threshold saw); the
        # validation split (where confidences and thresholds are fitted) and the test split each take music,
        # speech and effects from packages that neither the other split nor any training ever used.
        "heldout": replace(
            parts,
            name="heldout",
            series={"train": 6, "validation": 6, "test": 6},
            split_packages=HELDOUT_SPLIT_PACKAGES,
            audible_sources=True,
            sparse_speech=("train",),
            spoken_lines=("validation", "test"),
        ),
        # the same structure in two short seasons, for the tests
        "tinyparts": CorpusSize(
            "tinyparts", {"test": 2}, (4, 4), 0, (150.0, 200.0), TINY_PACKAGES, 0.3, (12.0, 20.0), structure=True
        ),
    }


SIZES = _sizes()


@dataclass(frozen=True)
class Event:
    """One sound placed in an episode's mix (times in seconds of the mix, before any speed-up)."""

    kind: str  # a LEVEL_DB key
    start_s: float
    source: SourceFile
    offset_s: float
    length_s: float
    gain_db: float = 0.0  # on top of the kind's level (per-episode variations)
    fade_in_s: float = 0.01
    fade_out_s: float = 0.05
    loop: bool = False
    rate: float = 1.0  # playback speed (and pitch) factor: a dialogue line is never said twice the same way

    @property
    def end_s(self) -> float:
        return self.start_s + self.length_s


@dataclass(frozen=True)
class Excerpt:
    source: SourceFile
    offset_s: float
    length_s: float


@dataclass(frozen=True)
class SeriesPlan:
    slug: str
    name: str
    split: str
    intro_kind: str  # "sting" or "theme"
    intro: Excerpt
    cues: tuple[Excerpt, ...]
    ambience: SourceFile
    logo: Excerpt | None  # the network's logo sound, shared with the network's other series
    recap_sting: Excerpt
    dialogue_groups: tuple[str, ...]
    cold_open_s: float  # typical start of the intro in this series
    episode_s: tuple[float, float]  # the series' format: its episodes' length range
    credits_theme: Excerpt | None = None  # an end theme of its own (None: the credits replay the intro's theme)
    preview_sting: Excerpt | None = None  # the "next time" sting
    intro_v2: Excerpt | None = None  # the intro's new version, from episode ``v2_from`` on
    v2_from: int = 0


@dataclass(frozen=True)
class Encoding:
    container: str  # file extension: mp4, mkv, mp3
    audio_codec: str
    sample_rate: int
    bitrate: str
    channels: int
    video: bool


@dataclass(frozen=True)
class EpisodePlan:
    id: str
    series: str
    split: str
    season: int
    episode: int
    name: str
    duration_s: float  # of the mix; the file is shorter by PAL_SPEEDUP when sped up
    intro: Segment | None  # in mix time, where its music sounds (``heard_extent``)
    variations: dict[str, float | bool | str]
    encoding: Encoding
    events: tuple[Event, ...] = field(repr=False)
    others: dict[str, Segment | None] = field(default_factory=dict, repr=False)
    """The parts other than the intro, in mix time (PART_KINDS; None: the episode has none of that kind). Not
    part of the plan's hash: they describe the events, they do not change them."""
    story: Segment | None = field(default=None, repr=False)
    """The episode's own story after the intro (mix time): where a recap or a preview of another episode takes
    its scenes from."""
    preview_slot: Segment | None = field(default=None, repr=False)
    """Where its preview's scenes go (mix time), filled from the next episode's story once that is planned."""

    @property
    def part_truth(self) -> dict[str, Segment | None]:
        """The other parts in the file's own time."""
        return {
            kind: None if span is None else Segment(span.start_s / self.speed, span.end_s / self.speed)
            for kind, span in self.others.items()
        }

    @property
    def speed(self) -> float:
        return PAL_SPEEDUP if self.variations.get("pal_speedup") else 1.0

    @property
    def truth(self) -> Segment | None:
        """The intro in the file's own time."""
        if self.intro is None:
            return None
        return Segment(self.intro.start_s / self.speed, self.intro.end_s / self.speed)

    @property
    def file_duration_s(self) -> float:
        return self.duration_s / self.speed

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(k for k in VARIATIONS if self.variations.get(k) is True)

    def plan_hash(self) -> str:
        """Changes when anything about the file would: its events, variations, encoding, or the renderer. (The
        variations of structure, where off, are left out: a corpus without structure hashes as it did.)"""
        variations = {k: v for k, v in self.variations.items() if k not in STRUCTURE_VARIATIONS or v}
        payload = json.dumps(
            [asdict(e) for e in self.events] + [variations, asdict(self.encoding), RENDER_VERSION],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _real_label_stats() -> tuple[np.ndarray, np.ndarray]:
    """Durations of the real labelled intros and the starts of all real labels (packaged copy)."""

    labels = read_labels(vk_label_files())
    durations = np.array([lb.segment.duration_s for lb in labels if lb.segment is not None])
    starts = np.array([lb.start_s for lb in labels if lb.start_s is not None])
    return durations, starts


def _excerpt(
    rng: np.random.Generator, library: SourceLibrary, source: SourceFile, length_s: float, audible: bool = False
) -> Excerpt:
    """An excerpt of ``length_s`` at a random offset; ``audible``: one that sounds throughout (``quiet_share``
    at most AUDIBLE_QUIET_SHARE, its first and last block sounding), the best of AUDIBLE_TRIES offsets."""
    total = library.duration(source)
    length_s = min(length_s, max(total - 0.5, 0.5))
    # avoid the first seconds of a track, which are often silence or a slow fade-in
    lead = min(5.0, max(total - length_s, 0.0) / 2)
    best: tuple[float, float] | None = None
    for _ in range(AUDIBLE_TRIES if audible else 1):
        offset = float(rng.uniform(lead, max(lead, total - length_s)))
        if not audible:
            return Excerpt(source, round(offset, 3), round(length_s, 3))
        quiet = quiet_share(library.audio(source, offset, length_s))
        if best is None or quiet < best[1]:
            best = (offset, quiet)
        if quiet <= AUDIBLE_QUIET_SHARE:
            break
    assert best is not None
    offset = best[0]
    if best[1] > AUDIBLE_QUIET_SHARE:  # no offset sounds throughout (a short track's rests): keep what sounds
        offset, length_s = _sounding(library.audio(source, offset, length_s), offset, length_s)
    return Excerpt(source, round(offset, 3), round(length_s, 3))


def _sounding(audio: np.ndarray, offset_s: float, length_s: float) -> tuple[float, float]:
    """The excerpt's offset and length trimmed to its first and last sounding QUIET_BLOCK_S block (the
    whole excerpt when nothing or everything sounds)."""
    levels, overall = _block_levels(audio)
    sounding = np.flatnonzero(levels >= overall * 10.0 ** (-QUIET_DB / 20.0))
    if overall < SILENT_SOURCE_RMS or sounding.size == 0:
        return offset_s, length_s
    first, last = int(sounding[0]), int(sounding[-1]) + 1
    return offset_s + first * QUIET_BLOCK_S, min(length_s, (last - first) * QUIET_BLOCK_S)


AUDIBLE_TRIES = 20
"""Offsets tried for an excerpt that must sound throughout (a track with long rests has some)."""

AUDIBLE_QUIET_SHARE = 0.1
"""At most this share of an intro's or an end theme's blocks may be quiet: its truth is where it is heard."""

QUIET_BLOCK_S = 0.25
QUIET_DB = 30.0
"""A block of QUIET_BLOCK_S whose level lies QUIET_DB under the excerpt's is quiet: a rest no one hears under
dialogue and beds (tracker modules have whole seconds of it; one renders as digital silence)."""

SILENT_SOURCE_RMS = 1e-3
"""A music track quieter than this over its whole length (−60 dBFS) is silence, never a theme (a tracker module
whose samples ffmpeg renders silent; wesnoth's ``silence.ogg``): sizes with ``audible_sources`` leave it out."""


def _block_levels(
    audio: np.ndarray, rate: int = MIX_RATE_HZ, block_s: float = QUIET_BLOCK_S
) -> tuple[np.ndarray, float]:
    """The RMS of each ``block_s`` block of ``audio`` and of the whole."""
    block = max(1, int(block_s * rate))
    n = audio.size // block
    levels = np.sqrt(np.mean(np.square(audio[: n * block].reshape(n, block), dtype=np.float64), axis=1))
    return levels, float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0


def quiet_share(audio: np.ndarray, rate: int = MIX_RATE_HZ) -> float:
    """The share of QUIET_BLOCK_S blocks of ``audio`` that are quiet (QUIET_DB under its level); 1.0 for a
    silent excerpt, and an excerpt whose first or last block is quiet counts as all quiet at its ends too."""
    levels, overall = _block_levels(audio, rate)
    if levels.size == 0 or overall < SILENT_SOURCE_RMS:
        return 1.0
    quiet = levels < overall * 10.0 ** (-QUIET_DB / 20.0)
    if quiet[0] or quiet[-1]:
        return 1.0
    return float(quiet.mean())


HEARD_BLOCK_S = 0.05
"""s: the grain at which a part's truth is trimmed to where its music sounds (``heard_extent``)."""


def heard_extent(audio: np.ndarray, length_s: float, rate: int = MIX_RATE_HZ) -> tuple[float, float]:
    """Where the first ``length_s`` of ``audio`` sound (s into it): from its first to its last HEARD_BLOCK_S
    block within QUIET_DB of its level (to ``length_s`` itself where its last block sounds). A part's truth is
    where it is heard: end credits that replay a 6.5 s sting for as long as its file lasts hold its 2 s of
    digital silence (pingus' ``success_1.it``), which no one hears as credits and no detector can place. The
    whole span where nothing or everything sounds."""
    block = max(1, int(HEARD_BLOCK_S * rate))
    levels, overall = _block_levels(audio[: round(length_s * rate)], rate, HEARD_BLOCK_S)
    sounding = np.flatnonzero(levels >= overall * 10.0 ** (-QUIET_DB / 20.0))
    if overall < SILENT_SOURCE_RMS or sounding.size == 0:
        return 0.0, length_s
    last = length_s if sounding[-1] == levels.size - 1 else (sounding[-1] + 1) * block / rate
    return sounding[0] * block / rate, min(length_s, last)


def _heard_span(library: SourceLibrary, excerpt: Excerpt, start_s: float) -> Segment:
    """The truth of a part that plays ``excerpt`` from ``start_s`` (mix time): where it sounds."""
    first, last = heard_extent(library.audio(excerpt.source, excerpt.offset_s, excerpt.length_s), excerpt.length_s)
    return Segment(round(start_s + first, 3), round(start_s + last, 3))


def _encoding(rng: np.random.Generator) -> Encoding:
    choice = rng.choice(4, p=[0.35, 0.3, 0.2, 0.15])
    if choice == 0:
        return Encoding(
            "mp4", "aac", int(rng.choice([44100, 48000])), str(rng.choice(["96k", "128k", "192k"])), 2, True
        )
    if choice == 1:
        return Encoding("mkv", "libopus", 48000, str(rng.choice(["64k", "96k", "128k"])), 2, True)
    if choice == 2:
        return Encoding(
            "mp3", "libmp3lame", int(rng.choice([44100, 48000])), str(rng.choice(["128k", "192k"])), 2, False
        )
    return Encoding("mkv", "ac3", 48000, "384k", 6, True)


def _series_format(rng: np.random.Generator, size: CorpusSize) -> tuple[float, float]:
    """A series' episode length: TV comes in formats (a half-hour show runs 20–26 min, an hour show 38–45),
    so episodes of one series are alike in length; sizes whose range is narrower keep their own range."""
    low, high = size.episode_s
    if high - low < 1200:
        return size.episode_s
    formats = [(1200.0, 1560.0), (2280.0, 2700.0), (600.0, 900.0)]
    chosen = formats[int(rng.choice(3, p=[0.6, 0.15, 0.25]))]
    return (max(low, chosen[0]), min(high, chosen[1]))


def plan_corpus(
    size: CorpusSize, catalog: Catalog, library: SourceLibrary, seed: int, without: frozenset[str] = frozenset()
) -> tuple[list[SeriesPlan], list[EpisodePlan]]:
    """Design every series and episode of a corpus; ``without`` switches variations off (see SWITCHES)."""
    unknown = set(without) - set(SWITCHES)
    if unknown:
        raise ValueError(f"unknown variation {sorted(unknown)[0]!r}; known: {', '.join(SWITCHES)}")
    rng = np.random.default_rng([seed, 1])
    durations, starts = _real_label_stats()
    music = list(catalog.by_role("music"))
    rng.shuffle(music)  # type: ignore[arg-type]
    dialogue_groups = [g for g, files in catalog.groups("dialogue").items() if len(files) >= 4]
    rng.shuffle(dialogue_groups)
    stings = catalog.by_role("sting")
    ambiences = catalog.by_role("ambience")
    n_series = sum(size.series.values())
    splits = [split for split, count in size.series.items() for _ in range(count)]
    rng.shuffle(splits)
    # a few networks, each with its logo sound, shared by its series: a hard negative that recurs everywhere
    networks = [Excerpt(s, 0.0, 0.0) for s in rng.choice(stings, size=max(2, n_series // 6), replace=False)]  # type: ignore[arg-type]
    pools = _pools(size, catalog, library, music, dialogue_groups)
    drawn: dict[str | None, int] = defaultdict(int)  # series drawn so far from each pool
    series: list[SeriesPlan] = []
    for index in range(n_series):
        srng = np.random.default_rng([seed, 2, index])
        pool = pools[splits[index] if size.split_packages else None]
        nth = drawn[pool.split]
        drawn[pool.split] += 1
        tracks_per_series = pool.per_series[0]
        own_tracks = pool.music[nth * tracks_per_series : (nth + 1) * tracks_per_series] or [
            pool.music[nth % len(pool.music)]
        ]
        kind = "sting" if srng.random() < 0.6 else "theme"
        if kind == "sting":
            length = float(np.clip(srng.choice(durations) + srng.uniform(-0.5, 0.5), 2.0, 15.0))
        else:
            length = float(srng.uniform(*size.theme_s))
        intro = _excerpt(srng, library, own_tracks[0], length, audible=size.audible_sources)
        cue_tracks = own_tracks[1:] or own_tracks
        cues = tuple(
            _excerpt(srng, library, cue_tracks[i % len(cue_tracks)], float(srng.uniform(15, 45))) for i in range(3)
        )
        logo_source = networks[index % len(networks)].source if srng.random() < 0.7 else None
        logo = None
        if logo_source is not None:
            logo = Excerpt(logo_source, 0.0, round(min(library.duration(logo_source), 3.0), 3))
        recap_source = stings[int(srng.integers(len(stings)))]
        recap = Excerpt(recap_source, 0.0, round(min(library.duration(recap_source), 2.0), 3))
        speaks_through = size.structure and pool.split not in size.sparse_speech
        season_s = size.episodes_per_series[1] * size.episode_s[1] if speaks_through else 0.0
        groups = pool.speaking(nth, library, season_s)
        style = srng.random()
        if style < 0.3:
            cold_open = 0.0  # the intro opens the episode (after the logo, if any)
        else:
            cold_open = float(srng.choice(starts[starts > 20])) * float(srng.uniform(0.8, 1.2))
        slug = f"show{index + 1:02d}"
        plan = SeriesPlan(
            slug=slug,
            name=f"Сериал {index + 1:02d}",
            split=splits[index],
            intro_kind=kind,
            intro=intro,
            cues=cues,
            ambience=ambiences[int(srng.integers(len(ambiences)))],
            logo=logo,
            recap_sting=recap,
            dialogue_groups=groups,
            cold_open_s=cold_open,
            episode_s=_series_format(srng, size),
        )
        if size.structure:
            plan = _structure(np.random.default_rng([seed, 6, index]), plan, own_tracks, stings, library, size)
        series.append(plan)

    episodes: list[EpisodePlan] = []
    # every split gets at least one episode without an intro, however small the corpus
    forced = {next(i for i, s in enumerate(series) if s.split == split) for split in size.series}
    for s_index, plan in enumerate(series):
        erng = np.random.default_rng([seed, 3, s_index])
        count = int(erng.integers(size.episodes_per_series[0], size.episodes_per_series[1] + 1))
        seen = size.seen_episodes_per_train_series if plan.split == "train" else 0
        season: list[EpisodePlan] = []
        used: dict[str, list[float]] = {}
        for number in range(1, count + seen + 1):
            split = "seen" if number > count else plan.split
            season.append(
                _plan_episode(
                    np.random.default_rng([seed, 4, s_index, number]),
                    size,
                    plan,
                    split,
                    number,
                    pools[plan.split if size.split_packages else None].catalog,
                    library,
                    force_no_intro=s_index in forced and number == count,
                    without=without,
                    earlier=season,
                    xrng=np.random.default_rng([seed, 5, s_index, number]),
                    last=number == count + seen,
                    used=used,
                )
            )
        episodes += _fill_previews(season, np.random.default_rng([seed, 7, s_index]), used, size.spoken_lines)
    return series, episodes


def _silent(library: SourceLibrary, source: SourceFile) -> bool:
    return _block_levels(library.audio(source))[1] < SILENT_SOURCE_RMS


LINE_USES = 4
"""How many times a structured series can say one recorded line (about: ``_scenes`` draws each use a rate
DISTINCT_RATES apart from the line's earlier ones, and the range holds four to six such rates): a season needs
recorded speech of its length over this (``_Pool.speaking``). The four groups of a few lines each that
``_Pool.per_series`` gives left held-out seasons a third without any speech (docs/CORPUS.md)."""


@dataclass(frozen=True)
class _Pool:
    """What a split's series draw their sources from: the whole catalog, or (held-out packages) the split's."""

    split: str | None  # None: shared by every split
    catalog: Catalog  # for the effects and dialogue lines of its episodes
    music: list[SourceFile]
    groups: list[str]
    series: int  # how many series draw from it

    @property
    def per_series(self) -> tuple[int, int]:
        """Music tracks and dialogue groups each series gets (as many as the pool allows, at most 3 and 4)."""
        return (
            max(1, min(3, len(self.music) // self.series)),
            max(1, min(4, len(self.groups) // self.series)),
        )

    def speaking(self, nth: int, library: SourceLibrary, season_s: float = 0.0) -> tuple[str, ...]:
        """The dialogue groups of the pool's ``nth`` series: ``per_series``' share, from the series' own place in
        the pool on; and in a structured corpus, whose season lasts up to ``season_s``, the groups after them too
        until their recorded lines last ``season_s / LINE_USES`` (every group where the pool holds less). Series
        of one pool then share voices, as a network's shows share actors; a series never says a line twice alike
        (``_scenes``' ``used``)."""
        grouped = self.catalog.groups("dialogue")
        share = self.per_series[1]
        chosen: list[str] = []
        speech_s = 0.0
        for i in range(len(self.groups)):
            if i >= share and speech_s >= season_s / LINE_USES:
                break
            group = self.groups[(nth * share + i) % len(self.groups)]
            chosen.append(group)
            speech_s += sum(library.duration(line) for line in grouped[group])
        return tuple(chosen)


SPELLED_GROUPS = frozenset({"letters", "digits", "phonetic", "ICAO"})
"""Folders of the telephone prompts that hold single spelled words (an alphabet, numbers, a phonetic alphabet: 0.7-1.3
s median each), not sentences: a scene of them ("r", "s", "slash", "space", "t") is no dialogue any series has,
and a recap clip of them gives a fingerprint no more than a few separate words."""


def spelled(group: str) -> bool:
    """Whether a dialogue group (``sources._group``: 'package:folder/…') holds spelled words (SPELLED_GROUPS)."""
    return bool(SPELLED_GROUPS & set(group.split(":")[-1].split("/")))


def _pools(
    size: CorpusSize, catalog: Catalog, library: SourceLibrary, music: list[SourceFile], groups: list[str]
) -> dict[str | None, _Pool]:
    """One pool for all splits, or one per split of the packages ``size.split_packages`` gives it (in the
    shuffled order of ``music`` and ``groups``); a split whose packages lack music or dialogue is an error."""
    if not size.split_packages:
        if size.spoken_lines and set(size.spoken_lines) != set(size.series):
            # one pool serves every split: its groups cannot be spoken lines for some splits only
            raise ValueError(f"size {size.name!r}: spoken_lines names some of its splits, but one pool serves all")
        if size.spoken_lines:
            groups = [g for g in groups if not spelled(g)]
        return {None: _Pool(None, catalog, music, groups, sum(size.series.values()))}
    grouped = catalog.groups("dialogue")
    pools: dict[str | None, _Pool] = {}
    for split, count in size.series.items():
        packages = set(size.split_packages[split])
        view = catalog.only(packages)
        own_music = [m for m in music if m.package in packages]
        if size.audible_sources:
            own_music = [m for m in own_music if not _silent(library, m)]
        own_groups = [g for g in groups if grouped[g][0].package in packages]
        if split in size.spoken_lines:
            own_groups = [g for g in own_groups if not spelled(g)]
        if not own_music or not own_groups or not view.by_role("effect"):
            raise ValueError(f"split {split!r}: its packages lack music, dialogue or effects")
        pools[split] = _Pool(split, view, own_music, own_groups, count)
    return pools


def _structure(
    rng: np.random.Generator,
    plan: SeriesPlan,
    own_tracks: list[SourceFile],
    stings: list[SourceFile],
    library: SourceLibrary,
    size: CorpusSize,
) -> SeriesPlan:
    """A series' structure beyond the intro (CorpusSize.structure): an end theme of its own for some, a preview
    sting, and for some a new version of the intro from half-way through the season."""
    credits_theme = None
    if rng.random() < 0.4:
        track = own_tracks[-1] if len(own_tracks) > 1 else own_tracks[0]
        credits_theme = _excerpt(rng, library, track, float(rng.uniform(30, 60)), audible=size.audible_sources)
    source = stings[int(rng.integers(len(stings)))]
    preview = Excerpt(source, 0.0, round(min(library.duration(source), 2.0), 3))
    intro_v2, v2_from = None, 0
    if rng.random() < 0.25 and size.episodes_per_series[0] >= 4:
        length = float(np.clip(plan.intro.length_s * rng.uniform(0.7, 1.3), 2.0, size.theme_s[1]))
        intro_v2 = _excerpt(rng, library, plan.intro.source, length, audible=size.audible_sources)
        v2_from = size.episodes_per_series[0] // 2 + 1
    return replace(plan, credits_theme=credits_theme, preview_sting=preview, intro_v2=intro_v2, v2_from=v2_from)


def _story_lines(plan: EpisodePlan) -> list[Event]:
    story = plan.story
    if story is None:
        return []
    return [e for e in plan.events if e.kind == "dialogue" and story.start_s <= e.start_s and e.end_s <= story.end_s]


def _clips(
    rng: np.random.Generator,
    sources: list[EpisodePlan],
    start_s: float,
    end_s: float,
    used: dict[str, list[float]] | None = None,
    speed: float = 1.0,
) -> tuple[list[Event], float]:
    """Scenes of other episodes replayed in [start_s, end_s): clips of 4–10 s of their story's lines, each clip's
    lines at their own spacing and delivery (the same recording: a fingerprint finds them in that episode).
    ``used`` (CorpusSize.spoken_lines): each line's rates so far in the series as its files play them; a clip is
    replayed only where each of its lines, played at this episode's ``speed``, stays SPOKEN_MARGIN from every
    other delivery of it (``_replayable``), and its rates as played here are added. Returns the events and where
    the last one ends."""
    events: list[Event] = []
    t, reach = start_s, start_s
    pools = [lines for lines in (_story_lines(p) for p in sources) if lines]
    tries = 0
    while pools and t < end_s - 3.0:
        lines = pools[int(rng.integers(len(pools)))]
        first = int(rng.integers(len(lines)))
        length = float(rng.uniform(4.0, 10.0))
        clip = [e for e in lines[first:] if e.end_s - lines[first].start_s <= length] or [lines[first]]
        if used is not None and not all(_replayable(e, used, speed) for e in clip):
            tries += 1
            if tries >= REPLAY_TRIES:
                break
            continue
        shift = t - clip[0].start_s
        if clip[-1].end_s + shift > end_s:
            break
        events += [replace(e, start_s=round(e.start_s + shift, 3)) for e in clip]
        if used is not None:
            for e in clip:
                used.setdefault(e.source.path, []).append(e.rate * speed)
        reach = clip[-1].end_s + shift
        t = reach + float(rng.uniform(0.3, 0.8))
    return events, reach


REPLAY_TRIES = 50
"""Clips drawn for one recap or preview before it settles for the scenes it has (``_clips``)."""


def _replayable(line: Event, used: dict[str, list[float]], speed: float) -> bool:
    """Whether a story line (its rate: its delivery) replayed in an episode at ``speed`` stays SPOKEN_MARGIN, as
    the file plays it, from each other delivery of that recording in the series (``used``: their rates as played).
    The deliveries of this one (its story's use, its other replays: its rate at either speed) may match it: they
    are the scene replayed. Without it a recap at one speed of a scene at the other came within PAL's ratio of
    another episode's use of the same recording: 58 of the 265 replayed lines of the parts corpus (both splits'
    plans, seed 0), in 22 of its 46 recaps and previews, whose scenes were then heard in a later story as well
    (a cue of the season, never a recap's scene: ``detectors/replay._scenes``); the parts test split's four
    recaps never found were among them."""
    played = line.rate * speed
    own = [line.rate * s for s in (1.0, PAL_SPEEDUP)]
    others = [r for r in used.get(line.source.path, []) if all(abs(r / o - 1.0) > 1e-3 for o in own)]
    return all(abs(played / r - s) > SPOKEN_MARGIN for r in others for s in MATCHED_SPEEDS)


def _fill_previews(
    season: list[EpisodePlan],
    rng: np.random.Generator,
    used: dict[str, list[float]] | None = None,
    spoken_lines: tuple[str, ...] = (),
) -> list[EpisodePlan]:
    """Each episode's preview slot filled with scenes of the next episode's story (its truth set to them).
    ``used``: the series' lines' rates as played, kept distinct in the episodes of the ``spoken_lines`` splits
    (``_clips``)."""
    out = []
    for k, plan in enumerate(season):
        slot = plan.preview_slot
        if slot is None or k + 1 >= len(season):
            out.append(plan)
            continue
        distinct = used if plan.split in spoken_lines else None
        clips, reach = _clips(rng, [season[k + 1]], slot.start_s, slot.end_s, distinct, plan.speed)
        if not clips:
            out.append(plan)
            continue
        events = tuple(sorted((*plan.events, *clips), key=lambda e: (e.start_s, e.kind)))
        start = next(e.start_s for e in plan.events if e.kind == "preview")
        others = {**plan.others, "preview": Segment(start, round(reach, 3))}
        out.append(replace(plan, events=events, others=others))
    return out


DISTINCT_RATES = (0.88, 1.14)
"""The delivery rates a structured corpus draws each use of a line from: within it, every two uses of one line in a
series differ by a rate ratio at least DISTINCT_MARGIN away from each speed the matcher tries (1 and PAL's
±4 %), so that a reused recording never matches itself: real dialogue is never said twice the same way, and only
what is truly replayed (a recap, a preview) recurs."""

DISTINCT_MARGIN = 0.015
"""How far (as a ratio) two uses of a line stay from a speed the matcher tries: a 2 s line drifting 1.5 % moves
30 ms, beyond the offset voting's tolerance once the line is long enough to vote."""

MATCHED_SPEEDS = (1.0, 25 / 24, 24 / 25)

SPOKEN_MARGIN = 0.04
"""DISTINCT_MARGIN where lines are kept distinct as the file plays them (CorpusSize.spoken_lines). 1.5 % was not
enough: twelve real sentences (asterisk-prompt-fr-armelle, 2-8 s) said again at a rate ratio of 1.015 matched
the first saying with 58 hash votes, 1.02 with 43, 1.03 with 43 (at 25/24), 1.06 with 48, 1.07 with 17 and
1.08 with 10 (the matcher's floor is 8, a strong scene 20: ``detectors/replay.STRONG_VOTES``; ``python
bench/reused_lines.py``, 2026-12-04). 4 % keeps every two uses a ratio of 1.08 or
more from each other and from PAL's 25/24 either way; DISTINCT_RATES' span (1.30) still holds four uses of a
line (LINE_USES)."""


def _distinct_rate(
    rng: np.random.Generator, earlier: list[float], speed: float = 1.0, margin: float = DISTINCT_MARGIN
) -> float | None:
    """A rate for a new use of a line whose ``earlier`` uses had these rates (DISTINCT_RATES), None if none fits;
    ``speed``: the episode's own, ``margin``: SPOKEN_MARGIN (CorpusSize.spoken_lines: the rates compared as the
    file plays them)."""
    for _ in range(16):
        rate = float(rng.uniform(*DISTINCT_RATES))
        if all(abs(rate * speed / r - s) > margin for r in earlier for s in MATCHED_SPEEDS):
            return rate
    return None


def _scenes(
    rng: np.random.Generator,
    catalog: Catalog,
    library: SourceLibrary,
    groups: tuple[str, ...],
    start_s: float,
    end_s: float,
    gain_db: float = 0.0,
    used: dict[str, list[float]] | None = None,
    speed: float = 1.0,
    margin: float = DISTINCT_MARGIN,
) -> list[Event]:
    """Dialogue filling [start_s, end_s): scenes of consecutive lines of one group, with natural gaps. ``used``
    (a structured corpus): each line's rates so far in the series, kept distinct (DISTINCT_RATES); a line with no
    distinct rate left is passed over. ``speed``: the episode's speed-up where the rates are kept distinct as the
    file plays them (CorpusSize.spoken_lines), else 1; ``margin``: how far apart (SPOKEN_MARGIN there)."""
    grouped = catalog.groups("dialogue")
    events: list[Event] = []
    t = max(0.0, start_s) + float(rng.uniform(0.3, 1.5))
    while t < end_s - 1.0:
        lines = grouped[groups[int(rng.integers(len(groups)))]]
        first = int(rng.integers(len(lines)))
        scene_lines = int(rng.integers(4, 14))
        previous_speaker = None
        for k in range(scene_lines):
            line = lines[(first + k) % len(lines)]
            length = library.duration(line)
            if t + length > end_s - 0.2:
                return events
            speaker = speaker_of(line)
            # a change of speaker leaves a longer gap than one speaker's next sentence
            gap = float(rng.uniform(0.25, 0.9) if speaker != previous_speaker else rng.uniform(0.1, 0.4))
            if used is None:
                # the corpus reuses its few hours of recorded lines across episodes; real dialogue never repeats,
                # so each use is delivered a little faster or slower and higher or lower (±3–7 %)
                rate = float(rng.choice([-1, 1]) * rng.uniform(0.03, 0.07) + 1.0)
            else:
                found = _distinct_rate(rng, used.setdefault(line.path, []), speed, margin)
                if found is None:
                    continue
                rate = found
                used[line.path].append(rate * speed)
            length = length / rate
            if t + length > end_s - 0.2:
                return events
            events.append(Event("dialogue", round(t, 3), line, 0.0, round(length, 3), gain_db, rate=round(rate, 4)))
            previous_speaker = speaker
            t += length + gap
        t += float(rng.uniform(1.5, 5.0))  # between scenes
    return events


def _plan_episode(
    rng: np.random.Generator,
    size: CorpusSize,
    series: SeriesPlan,
    split: str,
    number: int,
    catalog: Catalog,
    library: SourceLibrary,
    force_no_intro: bool = False,
    without: frozenset[str] = frozenset(),
    earlier: list[EpisodePlan] | None = None,
    xrng: np.random.Generator | None = None,
    last: bool = False,
    used: dict[str, list[float]] | None = None,
) -> EpisodePlan:
    """One episode. ``rng`` draws what every corpus has; ``xrng`` the structure of ``size.structure`` corpora
    (``earlier``: the season's episodes before it, whose scenes its recap replays; ``last``: no next episode
    to preview), so that a corpus without structure draws exactly as it did."""
    structured = size.structure
    xrng = xrng if xrng is not None else np.random.default_rng(0)
    used = used if structured else None  # the series' lines and the rates they were said at
    duration = round(float(rng.uniform(*series.episode_s)), 2)
    variations: dict[str, float | bool | str] = {k: False for k in VARIATIONS}
    variations["no_intro"] = (number > 1 and rng.random() < 0.08) or force_no_intro
    variations["trimmed_intro"] = not variations["no_intro"] and series.intro.length_s >= 4 and rng.random() < 0.15
    variations["dialogue_over_intro"] = not variations["no_intro"] and rng.random() < 0.2
    variations["effects_over_intro"] = not variations["no_intro"] and rng.random() < 0.15
    variations["pal_speedup"] = rng.random() < 0.15
    variations["recap"] = number > 1 and rng.random() < 0.4
    if rng.random() < 0.4:
        variations["volume_change"] = True
        variations["gain_db"] = round(float(rng.uniform(-9.0, 5.0)), 1)
    if rng.random() < 0.3:
        variations["eq_change"] = True
        variations["eq"] = str(
            rng.choice(
                ["lowpass=f=6500", "highpass=f=250", "equalizer=f=120:t=q:w=1:g=6", "equalizer=f=3000:t=q:w=1.5:g=-6"]
            )
        )
    if structured:
        variations["preview"] = not last and xrng.random() < 0.4
        variations["post_credits"] = xrng.random() < 0.3
        variations["dialogue_over_credits"] = xrng.random() < 0.3
        variations["new_intro_version"] = series.intro_v2 is not None and number >= series.v2_from
    # switched-off variations are drawn all the same, so that the rest of the corpus stays as it was
    for name in without & set(VARIATIONS):
        variations[name] = False
        variations.pop({"volume_change": "gain_db", "eq_change": "eq"}.get(name, ""), None)
    theme = series.intro_v2 if variations["new_intro_version"] and series.intro_v2 is not None else series.intro
    # where lines are kept distinct as the file plays them (CorpusSize.spoken_lines), the episode's speed counts
    spoken = split in size.spoken_lines
    line_speed = PAL_SPEEDUP if variations["pal_speedup"] and spoken else 1.0
    margin = SPOKEN_MARGIN if spoken else DISTINCT_MARGIN

    # the series' ambience bed, entered at a different point of its loop in every episode
    bed_phase = round(float(rng.uniform(0.0, library.duration(series.ambience))), 3)
    events: list[Event] = [
        Event("ambience", 0.0, series.ambience, bed_phase, duration, loop=True, fade_in_s=1.0, fade_out_s=1.0)
    ]
    t = 0.0
    others: dict[str, Segment | None] = {kind: None for kind in PART_KINDS}
    if series.logo is not None:
        events.append(Event("logo", 0.0, series.logo.source, 0.0, series.logo.length_s))
        others["ident"] = Segment(0.0, series.logo.length_s)
        t = series.logo.length_s + float(rng.uniform(0.3, 1.2))
    if variations["recap"]:
        recap_start = round(t, 3)
        events.append(Event("recap", recap_start, series.recap_sting.source, 0.0, series.recap_sting.length_s))
        t += series.recap_sting.length_s + 0.5
        recap_end = t + float(rng.uniform(15, 40))
        if structured and earlier:
            # "previously on": scenes of the earlier episodes' story, as they were
            scenes, reach = _clips(xrng, list(earlier), t, recap_end, used if spoken else None, line_speed)
        else:
            scenes = _scenes(
                rng, catalog, library, series.dialogue_groups, t, recap_end, used=used, speed=line_speed, margin=margin
            )
            reach = max([e.end_s for e in scenes], default=0.0)
        events += scenes
        # the recap ends with its last line: what follows until the cold open's first line is the bed alone
        heard = max(reach, recap_start + series.recap_sting.length_s)
        others["recap"] = Segment(recap_start, round(heard, 3))
        t = recap_end

    intro_length = theme.length_s
    if variations["trimmed_intro"]:
        intro_length = round(intro_length * float(rng.uniform(0.5, 0.85)), 3)
    cold_open = series.cold_open_s * float(rng.uniform(0.8, 1.2))
    cold_open = min(cold_open, size.max_cold_open_share * duration)
    intro_start = round(max(t, cold_open), 3)
    credits_length = round(min(float(rng.uniform(30, 60)), 0.15 * duration), 3)
    intro: Segment | None = None
    if not variations["no_intro"]:
        intro = Segment(intro_start, round(intro_start + intro_length, 3))
        events += _scenes(
            rng, catalog, library, series.dialogue_groups, t, intro_start, used=used, speed=line_speed, margin=margin
        )
        fade_out = min(0.4, intro_length / 6) if not variations["trimmed_intro"] else min(0.8, intro_length / 4)
        events.append(
            Event(
                "intro",
                intro.start_s,
                theme.source,
                theme.offset_s,
                intro_length,
                fade_in_s=0.02,
                fade_out_s=round(fade_out, 3),
            )
        )
        if variations["dialogue_over_intro"]:
            events += _scenes(
                rng,
                catalog,
                library,
                series.dialogue_groups,
                intro.start_s - 0.5,
                intro.end_s,
                used=used,
                speed=line_speed,
                margin=margin,
            )
        if variations["effects_over_intro"]:
            for _ in range(int(rng.integers(1, 4))):
                effect = catalog.by_role("effect")[int(rng.integers(len(catalog.by_role("effect"))))]
                at = float(rng.uniform(intro.start_s, intro.end_s))
                events.append(Event("effect", round(at, 3), effect, 0.0, round(min(library.duration(effect), 4.0), 3)))
        content_start = intro.end_s + float(rng.uniform(0.5, 2.0))
    else:
        content_start = t

    # the end: [story][preview?][credits][post-credits scene?][preview?]
    post_s = round(float(xrng.uniform(10, 40)), 3) if variations["post_credits"] else 0.0
    preview_s = round(float(xrng.uniform(15, 30)), 3) if variations["preview"] else 0.0
    preview_after = bool(variations["preview"]) and xrng.random() < 0.5
    credits_end = duration - post_s - (preview_s if preview_after else 0.0)
    credits_start = round(credits_end - credits_length, 3)
    story_end = credits_start - 1.0
    slot: tuple[float, float] | None = None
    if variations["preview"]:
        slot = (credits_end, duration) if preview_after else (credits_start - 1.0 - preview_s, credits_start - 1.0)
        if post_s and preview_after:
            slot = (duration - preview_s, duration)
        if not preview_after:
            story_end = slot[0] - 1.0
    if variations["dialogue_over_credits"] and not (variations["preview"] and not preview_after):
        story_end = credits_start + float(xrng.uniform(2.0, 6.0))  # the last scene runs over the credits' start
    events += _scenes(
        rng,
        catalog,
        library,
        series.dialogue_groups,
        content_start,
        story_end,
        used=used,
        speed=line_speed,
        margin=margin,
    )
    # score cues, the same excerpts in every episode of the series, at other times: recurring non-intro music
    cue_end = min(credits_start, story_end) if structured else credits_start
    for cue in series.cues:
        if rng.random() < 0.7:
            at = float(rng.uniform(content_start, max(content_start, cue_end - cue.length_s)))
            if at + cue.length_s < cue_end:
                events.append(
                    Event("score", round(at, 3), cue.source, cue.offset_s, cue.length_s, fade_in_s=1.5, fade_out_s=2.0)
                )
    if intro is None or intro.start_s > 30 and rng.random() < 0.5:
        cue = series.cues[0]
        length = min(cue.length_s, max(intro_start - t, 0.0))
        if length > 5:
            events.append(
                Event("score", round(t, 3), cue.source, cue.offset_s, round(length, 3), fade_in_s=1.5, fade_out_s=1.5)
            )
    # end credits: the theme again, from the intro's excerpt on, or the series' own end theme
    ending = series.credits_theme if structured and series.credits_theme is not None else theme
    credits = Event(
        "credits",
        credits_start,
        ending.source,
        ending.offset_s,
        round(min(credits_length, library.duration(ending.source) - ending.offset_s), 3),
        fade_in_s=0.5,
        fade_out_s=2.0,
    )
    events.append(credits)
    heard = _heard_span(library, replace(ending, length_s=credits.length_s), credits.start_s)
    others["credits"] = Segment(heard.start_s, round(min(heard.end_s, duration), 3))
    if post_s:
        post_start = round(credits_end + 0.5, 3)
        post_end = duration - (preview_s if preview_after else 0.0) - 0.3
        events += _scenes(
            xrng,
            catalog,
            library,
            series.dialogue_groups,
            post_start,
            post_end,
            used=used,
            speed=line_speed,
            margin=margin,
        )
    preview_slot = None
    if slot is not None and series.preview_sting is not None:
        sting = series.preview_sting
        events.append(Event("preview", round(slot[0] + 0.3, 3), sting.source, 0.0, sting.length_s))
        preview_slot = Segment(round(slot[0] + 0.3 + sting.length_s + 0.4, 3), round(slot[1] - 0.3, 3))
    episode_id = f"{series.slug}_s01e{number:02d}"
    name = f"{series.name}. 1 сезон, {number} серия"
    events.sort(key=lambda e: (e.start_s, e.kind))
    encoding = _encoding(rng)
    if "codecs" in without:
        encoding = Encoding("mp4", "aac", 48000, "128k", 2, True)
    return EpisodePlan(
        episode_id,
        series.slug,
        split,
        1,
        number,
        name,
        duration,
        None if intro is None else _heard_span(library, replace(theme, length_s=intro_length), intro.start_s),
        variations,
        encoding,
        tuple(events),
        others,
        story=Segment(round(content_start, 3), round(max(story_end, content_start + 0.001), 3)),
        preview_slot=preview_slot,
    )


def plan_summary(episodes: list[EpisodePlan]) -> dict[str, object]:
    """Counts a person checks against the intended statistics (printed by the builder)."""
    with_intro = [e for e in episodes if e.truth is not None]
    lengths = np.array([e.truth.duration_s for e in with_intro]) if with_intro else np.zeros(0)  # type: ignore[union-attr]
    starts = np.array([e.truth.start_s for e in with_intro]) if with_intro else np.zeros(0)  # type: ignore[union-attr]
    return {
        "episodes": len(episodes),
        "no_intro": len(episodes) - len(with_intro),
        "short_intros_le_15s": int(np.sum(lengths <= 15)),
        "long_intros": int(np.sum(lengths > 15)),
        "starts_past_300s": int(np.sum(starts > 300)),
        "median_intro_s": float(np.median(lengths)) if lengths.size else math.nan,
        # a structured season says each line once per delivery (``used``): a series whose lines run out goes on
        # without speech, which no real episode does
        "without_dialogue": sum(not any(ev.kind == "dialogue" for ev in e.events) for e in episodes),
        "variations": {k: sum(bool(e.variations.get(k)) for e in episodes) for k in VARIATIONS},
    }
