"""Recaps and previews from replayed scenes (``detectors/replay.py``): the rules on pieces (pure), the story's
decode between head and tail (media made with ffmpeg from real recordings), and a season whose recaps replay
scenes that only the stories hold (a tiny end-to-end run)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from introdetect.detectors.replay import (
    MAX_RECAP_S,
    OPENING_ROOM_S,
    PARTNER_SHARE,
    STRONG_VOTES,
    _chain,
    _in_story,
    _Layout,
    _partner_counts,
    _partners,
    _Piece,
    _preview,
    _recap,
    _scenes,
    _with_next_time,
    heard_in_stories,
)
from introdetect.matching.recurring import EpisodePrint
from introdetect.timecode import Segment

STRONG = STRONG_VOTES + 20  # a line replayed as it was (25-120 votes measured)
WEAK = 9  # a stretch matched by chance, or a scene's last words over another bed


def piece(start: float, end: float, votes: int = STRONG, other: int = 0, there: float = 300.0) -> _Piece:
    return _Piece(start, end, other, there, False, votes)


def test_a_recap_is_the_run_of_strongly_matched_scenes_from_the_opening() -> None:
    layout = _Layout(intro=Segment(90.0, 120.0), credits=None, ident=Segment(0.0, 3.5))
    # sting and the first scene's first words unmatched, three scenes, the last one's words weakly at its end
    scenes = [piece(7.0, 12.0), piece(12.6, 19.0, other=1), piece(19.5, 24.0), piece(25.0, 27.5, WEAK)]
    assert _recap(scenes, layout) == (Segment(3.5, 27.5), 3)
    # a weak match further than WEAK_GAP_S does not extend it, nor a strong one past CHAIN_GAP_S
    assert _recap([*scenes, piece(33.0, 35.0, WEAK), piece(45.0, 50.0)], layout) == (Segment(3.5, 27.5), 3)


def test_matches_inside_the_ident_are_no_recap() -> None:
    """Stretches of the ident matched in other episodes (its sample heard in their story: held-out validation,
    2026-12-03) are no scenes: no recap ends before the content opens (it raised an invalid segment)."""
    layout = _Layout(intro=Segment(90.0, 120.0), credits=None, ident=Segment(0.0, 3.67))
    inside = [piece(0.4, 1.9), piece(2.2, 3.39, other=1)]
    assert _recap(inside, layout)[0] is None
    scenes = [piece(7.0, 12.0), piece(12.6, 19.0, other=1)]
    assert _recap([*inside, *scenes], layout) == (Segment(3.67, 19.0), 2)


def test_one_scene_or_weak_matches_alone_are_no_recap() -> None:
    layout = _Layout(intro=None, credits=None)
    assert _recap([piece(2.0, 8.0)], layout)[0] is None
    assert _recap([piece(2.0, 8.0)], layout, lambda p: False)[0] is None  # a cue heard in several stories
    weak = [piece(2.0, 8.0, WEAK), piece(8.5, 12.0, WEAK), piece(12.5, 16.0, WEAK)]
    assert _recap(weak, layout)[0] is None
    assert _recap(weak, layout, lambda p: True)[0] is None


def test_one_long_scene_from_one_episodes_story_is_a_recap() -> None:
    """A recap replaying one clip: its scene heard in the story of one other episode only (``sourced``)."""
    layout = _Layout(intro=Segment(140.0, 180.0), credits=None, ident=Segment(0.0, 0.5))
    one = [piece(7.3, 15.5, 234), piece(16.0, 17.5, WEAK)]
    assert _recap([piece(3.5, 4.9, 234)], layout, lambda p: True)[0] is None  # a line, not a clip (SOURCED_SCENE_S)
    assert _recap(one, layout, lambda p: p.votes >= STRONG_VOTES) == (Segment(0.5, 17.5), 1)
    # the same scene beginning after the opening's room is a cold open's cue
    late = [piece(40.0, 48.0, 234)]
    assert _recap(late, layout, lambda p: True)[0] is None


def test_a_scene_other_recaps_replay_too_is_still_a_scene() -> None:
    """A stretch heard in three other episodes, in the story of one (its source) and in the recaps of two that
    replay it too, is a scene; the same heard in the stories of three is a cue."""
    layouts = [_Layout(intro=Segment(70.0, 85.0), credits=Segment(1200.0, 1250.0))] * 6
    scene = piece(13.0, 14.6, 128, other=1, there=209.0)
    recaps = [piece(13.0, 14.9, 91, other=k, there=10.0) for k in (4, 5)]
    assert _partners([scene, *recaps], scene) == 3
    assert heard_in_stories([scene, *recaps], scene, layouts) == 1
    cue = [piece(13.0, 14.9, 91, other=k, there=300.0 + k) for k in (4, 5)]
    assert heard_in_stories([scene, *cue], scene, layouts) == 3


def test_a_stretch_a_later_episodes_story_holds_is_a_cue_not_a_recaps_scene() -> None:
    """Pure: a recap replays earlier episodes' scenes. A stretch of episode 3's opening heard in episode 0's
    story and, past its intro, in episode 5's, or in its own story, is a cue of the season (our parts corpus's
    test split: such a cue made show02 e04's recap 21.6 s too long, and a false recap of e06); the same heard in
    episode 5's own recap (before its intro) is a scene a later recap replays again. A chance match (a few
    votes) there is no evidence: it cut a right recap's last 8 s on that split."""
    layouts = [_Layout(intro=Segment(80.0, 95.0), credits=Segment(1200.0, 1250.0))] * 6
    scene = piece(26.0, 43.0, 37, other=0, there=826.0)
    in_later_story = piece(25.0, 43.0, 126, other=5, there=265.0)
    assert _scenes([scene, in_later_story], 3, None, layouts, True) == []
    in_later_recap = piece(25.0, 43.0, 126, other=5, there=30.0)
    assert _scenes([scene, in_later_recap], 3, None, layouts, True) == [scene]
    # a later episode without an intro: its first MAX_RECAP_S may hold its recap, what lies past them is story
    bare = [*layouts[:5], _Layout(intro=None, credits=Segment(1200.0, 1250.0))]
    assert _scenes([scene, piece(25.0, 43.0, 126, other=5, there=100.0)], 3, None, bare, True) == [scene]
    assert _scenes([scene, piece(25.0, 43.0, 126, other=5, there=MAX_RECAP_S + 5)], 3, None, bare, True) == []
    # a stretch of an earlier episode's story heard in another earlier one: a preview there may replay it
    assert scene in _scenes([scene, piece(25.0, 43.0, 126, other=1, there=700.0)], 3, None, layouts, True)
    # its own story proper holds it (``again``: its head matched against its own head, story and tail)
    assert _scenes([scene], 3, None, layouts, True, [piece(25.0, 43.0, 30, other=3, there=268.0)]) == []
    assert _scenes([scene], 3, None, layouts, True, [piece(25.0, 43.0, 30, other=3, there=50.0)]) == [scene]
    # a chance match (a few votes) in a later or its own story is no evidence: the words stay in the recap
    last_words = piece(29.0, 30.9, STRONG_VOTES + 3, other=1, there=1083.0)
    chance = piece(29.0, 30.6, 9, other=3, there=1226.0)
    assert _scenes([last_words], 3, None, layouts, True, [chance]) == [last_words]
    assert _scenes([last_words, replace(chance, other=4)], 3, None, layouts, True)[0] == last_words


def test_a_stretch_one_episode_plays_twice_is_a_cue_not_a_recaps_scene() -> None:
    """Pure: a scene plays once in its episode. A stretch of episode 5's opening that episode 3 holds in its story
    and, matched about as strongly, at its opening too, is a cue of the season (held-out test show15: such a cue
    ran a recap 10.8 s into the cold open); held at one place (the head and the tail of a short episode overlap),
    or matched there by a few words only, it stays a scene."""
    layouts = [_Layout(intro=Segment(400.0, 450.0), credits=Segment(700.0, 740.0))] * 6
    scene = piece(39.0, 42.8, 90, other=3, there=632.5)
    at_its_opening = piece(38.8, 42.5, 45, other=3, there=7.8)
    assert _scenes([scene, at_its_opening], 5, None, layouts, True) == []
    assert scene in _scenes([scene, replace(at_its_opening, votes=15)], 5, None, layouts, True)  # a few words
    in_its_tail = piece(39.0, 42.8, 88, other=3, there=632.6)  # the same place, heard in its tail
    assert scene in _scenes([scene, in_its_tail], 5, None, layouts, True)
    # another episode's opening holds it: a scene a later recap replays again, not this rule's (MAX_PARTNERS)
    assert scene in _scenes([scene, replace(at_its_opening, other=4)], 5, None, layouts, True)
    # a preview's clips lie over the episode's own bed, which the next episode may hold twice
    assert _scenes([scene, at_its_opening], 2, 3, layouts, True) == [scene]


def test_two_scenes_replayed_from_two_places_of_one_episode_are_not_its_stretch_heard_twice() -> None:
    """Held-out validation seed 1 show07 e04: a recap replays two scenes of episode 1 one after the other (its
    story at 329.8 s and at 553.5 s); their matches meet with 0.28 s of overlap, which is no stretch held at two
    places: both stay scenes, and the recap runs on through them."""
    layouts = [_Layout(intro=Segment(170.0, 200.0), credits=Segment(1400.0, 1440.0))] * 6
    first = piece(22.15, 28.14, 73, other=1, there=329.82)
    second = piece(27.86, 32.37, 109, other=1, there=553.51)
    assert _scenes([first, second], 3, None, layouts, True) == [first, second]
    # the same stretch held at two places (overlapping most of it) is still a cue
    again = replace(second, start_s=22.4, end_s=28.0)
    assert _scenes([first, again], 3, None, layouts, True) == []


def test_weakly_matched_clips_between_two_scenes_fill_the_gap() -> None:
    """Held-out validation seed 1 show18 e02: the recap's first scene ends at 5.4 s, the next strong one begins
    12.8 s later, past CHAIN_GAP_S; two clips between them matched weakly (4.0 s) fill part of the gap, and the
    recap runs on to its last scene. Weak matches filling too little of a longer gap do not join it."""
    layout = _Layout(intro=Segment(200.0, 230.0), credits=None, ident=Segment(0.0, 0.46))
    scenes = [piece(1.53, 5.43, 22), piece(18.25, 21.08, 75), piece(21.92, 27.86, 45), piece(28.89, 32.88, 187)]
    between = [piece(10.08, 13.19, 17), piece(15.88, 16.81, WEAK)]
    assert _recap(scenes, layout)[0] is None  # one scene in time, the rest beginning too late
    assert _recap([*scenes, *between], layout) == (Segment(0.46, 32.88), 4)
    later = [replace(p, start_s=p.start_s + 4.0, end_s=p.end_s + 4.0) for p in scenes[1:]]
    assert _recap([scenes[0], *between, *later], layout)[0] is None  # 4.0 s of a 16.8 s gap filled


def test_a_previews_weak_first_words_start_it() -> None:
    """A weaker match of the next episode's scenes beginning just before the first strong one moves its start
    back (its first clip's words over another bed), by one step of at most WEAK_GAP_S: chance matches in the
    story before it are not chained."""
    replays = [piece(893.4, 894.4, WEAK), piece(897.2, 897.5, WEAK), piece(899.3, 901.8), piece(903.9, 904.7, STRONG)]
    assert _chain(replays, fewest=1)[0] == Segment(897.2, 904.7)
    assert _chain([piece(880.0, 881.0, WEAK), *replays[2:]], fewest=1)[0] == Segment(899.3, 904.7)


def test_replays_beginning_after_the_opening_are_a_cold_opens_cue_not_a_recap() -> None:
    layout = _Layout(intro=Segment(150.0, 230.0), credits=None)
    assert _recap([piece(25.0, 30.0), piece(31.0, 36.0)], layout)[0] is None
    # nor is a run of replays longer than any recap
    run = [piece(5.0 + 10 * k, 14.0 + 10 * k) for k in range(int(MAX_RECAP_S // 10) + 1)]
    assert _recap(run, layout)[0] is None


def test_a_recap_whose_first_strong_scene_begins_late_is_led_by_a_weak_match_in_time() -> None:
    """Parts test show04 e06: the recap's first clip matched weakly (13.5 s), its first strong scene began at
    16.3 s, past the bound (OPENING_ROOM_S after the ident); the weak match before it begins in time, so the run
    stands, from it. Without a weak match in time, or with one further back than WEAK_GAP_S, it does not."""
    bound = 2.9 + OPENING_ROOM_S
    scenes = [piece(16.3, 20.9), piece(21.5, 26.0)]
    assert _chain([piece(13.5, 13.9, WEAK), *scenes], first_by=bound)[0] == Segment(13.5, 26.0)
    assert _chain(scenes, first_by=bound)[0] is None
    assert _chain([piece(11.0, 11.5, WEAK), *scenes], first_by=bound)[0] is None


def test_the_best_run_is_taken_not_the_first() -> None:
    replays = [piece(100.0, 104.0), piece(140.0, 145.0), piece(145.5, 150.0), piece(150.5, 156.0, WEAK)]
    assert _chain(replays) == (Segment(140.0, 156.0), 2)


def test_a_stretch_heard_in_several_episodes_is_a_cue_not_a_scene() -> None:
    scene = piece(10.0, 16.0, 80, other=0)
    bed = piece(11.0, 15.0, 12, other=2)  # a bed matching weakly elsewhere does not count
    assert _partners([scene, bed], scene) == 1
    cue = [piece(30.0, 60.0, 300, other=k) for k in range(4)] + [piece(31.0, 59.0, 60, other=4)]
    assert _partners(cue, cue[0]) == 5  # strong in four, and 60 votes (over STRONG_VOTES) in a fifth


def test_partners_counted_at_once_are_those_counted_one_by_one() -> None:
    """``_partner_counts`` (one overlap matrix for a season's thousands of pieces) counts what the plain
    definition does: distinct other episodes among the overlapping pieces matched about as strongly."""
    rng = np.random.default_rng(3)
    layouts = [_Layout(intro=Segment(60.0, 90.0), credits=Segment(1200.0, 1250.0))] * 6
    starts = rng.uniform(0.0, 300.0, 200)
    pieces = [
        piece(s, s + rng.uniform(0.3, 8.0), int(rng.integers(5, 200)), int(rng.integers(0, 6)), rng.uniform(0, 1300))
        for s in starts
    ]
    where = _in_story(layouts)
    for held in (None, where):
        counts = _partner_counts(pieces, pieces, held)
        for p, n in zip(pieces, counts):
            assert n == len(
                {
                    q.other
                    for q in pieces
                    if min(q.end_s, p.end_s) > max(q.start_s, p.start_s)
                    and q.votes >= min(PARTNER_SHARE * p.votes, STRONG_VOTES)
                    and (held is None or held(q))
                }
            )
    assert list(_partner_counts([], pieces[:3])) == [0, 0, 0]


def test_a_preview_lies_beside_the_credits_never_inside_them() -> None:
    layout = _Layout(intro=None, credits=Segment(1200.0, 1250.0))
    # after the credits: it starts where they end (its sting and first words unmatched)
    after = [piece(1255.0, 1260.0, other=3), piece(1260.5, 1268.0, other=3)]
    assert _preview(after, after, layout, 1275.0) == (Segment(1250.0, 1268.0), 2)
    # before them: its end at most at their start
    before = [piece(1175.0, 1182.0), piece(1182.5, 1203.0)]
    assert _preview(before, before, layout, 1275.0)[0] == Segment(1175.0, 1200.0)
    # one scene of the next episode heard just before them is enough ("next time": a sting and a clip or two)
    one = [piece(1185.0, 1196.0)]
    assert _preview(one, one, layout, 1275.0) == (Segment(1185.0, 1196.0), 1)
    # in the middle of the tail, far from the credits: story heard again, not a preview
    middle = [piece(1100.0, 1105.0), piece(1106.0, 1112.0)]
    assert _preview(middle, middle, layout, 1275.0)[0] is None


RATE = 22050 / 1024


def _loudness_print(loudness: np.ndarray, start_s: float) -> EpisodePrint:
    """A print of a loudness profile alone (no peaks), its frame 0 at ``start_s`` of the file."""
    from introdetect.matching.landmarks import Landmarks
    from introdetect.matching.profile import Profile

    frames = loudness.size
    profile = Profile(np.zeros((frames, 4), np.float32), loudness, RATE)
    return EpisodePrint("e", Landmarks(np.zeros((0, 2), np.int32), RATE, frames), profile, frames / RATE, True, start_s)


def test_a_recap_starts_where_it_sounds_after_the_ident() -> None:
    """Pure (a loudness profile): an ident at 0-0.3 s, the room (35 dB down) to 1.5 s, then the recap's sting and
    its scenes, the first matched from 4 s: the recap starts at 1.5 s (before: at the ident's end, the pause
    marked as recap); without the profile, at the ident's end."""
    loudness = np.full(round(120 * RATE), -55.0, np.float32)
    loudness[: round(0.3 * RATE)] = -15.0
    loudness[round(1.5 * RATE) : round(30 * RATE)] = -20.0
    layout = _Layout(intro=Segment(90.0, 120.0), credits=None, ident=Segment(0.0, 0.3))
    scenes = [piece(4.0, 10.0, other=0), piece(10.5, 18.0, other=1), piece(18.4, 29.0, other=0)]
    recap, _ = _recap(scenes, layout, head=_loudness_print(loudness, 0.0))
    assert recap is not None and recap.start_s == pytest.approx(1.5, abs=0.1) and recap.end_s == 29.0, recap
    assert _recap(scenes, layout)[0] == Segment(0.3, 29.0)


def test_a_preview_after_the_credits_starts_where_it_sounds_after_them() -> None:
    """Pure (a loudness profile): credits end at 1250 s, a quiet pause (the room, 35 dB down) to 1256 s, then
    the preview's sting and scenes, its first scene matched from 1260 s: it starts at 1256 s (before: the
    credits' end, 6 s of pause marked as preview); where it sounds at once, at their end."""
    rate = RATE
    loudness = np.full(round(100 * rate), -55.0, np.float32)  # the tail: 1200-1300 s
    loudness[: round(50 * rate)] = -18.0  # the credits
    loudness[round(56 * rate) : round(75 * rate)] = -20.0  # the sting, then the scenes
    tail = _loudness_print(loudness, 1200.0)
    layout = _Layout(intro=None, credits=Segment(1200.0, 1250.0))
    after = [piece(1260.0, 1266.0, other=3), piece(1266.5, 1274.0, other=3)]
    found, _ = _preview(after, after, layout, 1300.0, tail=tail)
    assert found is not None and found.start_s == pytest.approx(1256.0, abs=0.1), found
    assert found.end_s == pytest.approx(1275.0, abs=0.1)  # and ends where its sound does
    loudness[round(50 * rate) : round(56 * rate)] = -20.0  # no pause: it follows the credits at once
    found, _ = _preview(after, after, layout, 1300.0, tail=tail)
    assert found is not None and found.start_s == pytest.approx(1250.0, abs=0.1), found


def test_a_preview_runs_on_to_its_last_words_but_never_past_the_longest_preview() -> None:
    """Pure (a loudness profile): a preview matched from 1250 to 1296 s sounds on to 1318 s: it ends at
    1304 s, SOUND_REACH_S past its last match; one matched to 1308 s ends at 1310 s, MAX_PREVIEW_S from its start,
    though its sound and SOUND_REACH_S run further."""
    from introdetect.detectors.replay import MAX_PREVIEW_S, SOUND_REACH_S

    loudness = np.full(round(120 * RATE), -55.0, np.float32)  # the tail: 1200-1320 s, the file's end
    loudness[round(50 * RATE) : round(118 * RATE)] = -20.0
    tail = _loudness_print(loudness, 1200.0)
    layout = _Layout(intro=None, credits=None)
    scenes = [piece(1250.0, 1272.0), piece(1272.5, 1296.0)]
    found, _ = _preview(scenes, scenes, layout, 1310.0, tail=tail)
    assert found is not None and found.end_s == pytest.approx(1296.0 + SOUND_REACH_S, abs=0.1), found
    longer = [piece(1250.0, 1272.0), piece(1272.5, 1308.0)]
    found, _ = _preview(longer, longer, layout, 1320.0, tail=tail)
    assert found is not None and found.end_s == pytest.approx(1250.0 + MAX_PREVIEW_S, abs=0.1), found


def test_without_credits_a_preview_ends_near_the_files_end() -> None:
    layout = _Layout(intro=None, credits=None)
    near = [piece(1250.0, 1256.0), piece(1257.0, 1265.0)]
    assert _preview(near, near, layout, 1275.0)[0] == Segment(1250.0, 1265.0)
    assert _preview(near, near, layout, 1400.0)[0] is None


def test_the_story_is_decoded_on_the_heads_frame_grid(tinyparts_corpus: Path) -> None:
    """The story, decoded by a seek between head and tail, holds the frames a longer head decode has there
    (the replayed scenes are matched in it as in a head), in the stream's time as the head is."""
    from introdetect.analysis import analyse_episode, analyse_story, story_span
    from introdetect.settings import AudioOptions

    path = tinyparts_corpus / "test" / "show02" / "show02_s01e01.mp3"
    short = analyse_episode(path, AudioOptions(window_s=60.0, tail_s=30.0)).print
    span = story_span(short)
    assert span is not None and span[0] == pytest.approx(60.0) and span[1] == pytest.approx(short.tail.start_s)
    story = analyse_story(path, span, short.audio_start_s, AudioOptions())
    whole = analyse_episode(path, AudioOptions(window_s=400.0)).print
    assert whole.reached_end and story_span(whole) is None  # a head that reached the end has no story
    same = whole.between(story.start_s, story.end_s)
    n = min(same.profile.n_frames, story.profile.n_frames)
    assert n >= story.profile.n_frames - 1 and story.start_s == pytest.approx(span[0])
    # measured: the same frames to a few hundredths of a dB (the seek's first frames aside), and the same peaks
    loud = np.abs(same.profile.loudness_db[20:n] - story.profile.loudness_db[20:n])
    assert float(np.median(loud)) < 0.2
    peaks = {tuple(p) for p in story.landmarks.peaks.tolist() if p[0] >= 20}
    shared = peaks & {tuple(p) for p in same.landmarks.peaks.tolist()}
    assert len(shared) >= 0.9 * len(peaks) > 100
    assert story.profile.log_mel.shape[0] == 0 and story.story is None  # fingerprints and loudness only
    assert not story.reached_end  # the tail holds the file's end, never the story (no tail structure in it)


def test_a_delayed_releases_story_is_its_undelayed_copys(tinyparts_corpus: Path, tmp_path: Path) -> None:
    """A release whose audio starts 2 s late on its timeline (a remux's delay): its story is decoded by a seek on
    the timeline, in the stream's own time as its head is, so it holds the undelayed copy's frames."""
    from conftest import ffmpeg

    from introdetect.analysis import analyse_episode, analyse_story, story_span
    from introdetect.settings import AudioOptions

    source = tinyparts_corpus / "test" / "show02" / "show02_s01e01.mp3"
    late = tmp_path / "show02_s01e01.mkv"
    video = ["-f", "lavfi", "-i", "color=c=black:s=64x36:r=5:d=200"]
    ffmpeg(
        *video,
        "-itsoffset",
        "2.0",
        "-i",
        str(source),
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c:v",
        "mpeg4",
        "-c:a",
        "copy",
        str(late),
    )
    options = AudioOptions(window_s=60.0, tail_s=30.0)
    prints = {}
    for path in (source, late):
        head = analyse_episode(path, options).print
        span = story_span(head)
        assert span is not None
        prints[path] = (head, analyse_story(path, span, head.audio_start_s, AudioOptions()))
    assert prints[late][0].audio_start_s == pytest.approx(2.0, abs=0.05) and prints[source][0].audio_start_s == 0.0
    (_, own), (_, moved) = prints[source], prints[late]
    assert moved.start_s == pytest.approx(own.start_s)
    # the frames' loudness agrees best within a frame (measured: 0.958 at lag 0, 0.953 at 1, 0.78 at ±2; the
    # remux's delay is 1.977 s, not a whole number of frames, so the peaks themselves differ)
    a, b = own.profile.loudness_db, moved.profile.loudness_db
    n = min(a.size, b.size) - 60
    lags = {lag: float(np.corrcoef(a[20 : 20 + n], b[20 + lag : 20 + lag + n])[0, 1]) for lag in range(-5, 6)}
    best = max(lags, key=lags.__getitem__)
    assert abs(best) <= 1 and lags[best] > 0.9, lags


def test_a_season_decodes_its_stories_where_its_recaps_ask(tinyparts_corpus: Path) -> None:
    """Heads of 120 s and tails of 30 s: show02 e03's recap replays scenes of e01 and e02, some of them past their
    heads. The season's evidence (the replays heard in the heads) asks for the stories, which are decoded from
    the heads' end, and the recap is found to ±1 s; no story is marked. (Until 2026-12-03 with heads of 100 s,
    where the model's kinds head marked the recaps that asked; the head shipped then marks none in those heads.)"""
    from introdetect import detect, pipeline
    from introdetect.metrics import evaluate, read_truth
    from introdetect.result import Kind, parse_row
    from introdetect.settings import AudioOptions

    truth = read_truth(tinyparts_corpus / "truth_test.json")
    spans: dict[str, tuple[float, float]] = {}
    decode = pipeline.analyse_stories

    def spy(heads, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        stories, failed = decode(heads, *args, **kwargs)
        spans.update({p.name: (s.start_s, s.end_s) for p, s in stories.items()})
        return stories, failed

    with mock.patch.object(pipeline, "analyse_stories", spy):
        found = detect(
            [tinyparts_corpus / "test" / "show02"], options=AudioOptions(window_s=120.0, tail_s=30.0), workers=2
        ).by_id()
    assert spans and all(start == pytest.approx(120.0) for start, _ in spans.values())
    recap = found["show02_s01e03"].part(Kind.RECAP)
    real = truth["show02_s01e03"].span(Kind.RECAP)
    assert recap is not None and recap.segment is not None and real is not None
    assert abs(recap.segment.start_s - real.start_s) <= 1.0 and abs(recap.segment.end_s - real.end_s) <= 1.0
    assert evaluate(found, truth).harm.over == 0
    # the result says how much of each episode was decoded as its story, and reads back so
    episode = found["show02_s01e01"]
    start, end = spans["show02_s01e01.mp3"]
    assert episode.story_s == pytest.approx(end - start, abs=0.1)
    assert parse_row(episode.id, episode.to_json(), "result.json").story_s == pytest.approx(episode.story_s, abs=1e-3)


def test_a_previews_start_is_its_next_time_sting_heard_before_another_preview() -> None:
    """A 1.4 s piece just before a preview's first scene, heard just before another episode's preview too, is the
    series' "next time" sting and starts it; the same piece heard elsewhere in that episode does not, nor does a
    sting move a preview that starts where the credits end."""
    preview = Segment(753.2, 763.2)
    previews = [Segment(575.3, 601.5), preview, None]
    sting = _Piece(750.8, 752.2, 0, 575.3, False, 29)
    assert _with_next_time(preview, [sting], previews, Segment(767.7, 800.7)) == Segment(750.8, 763.2)
    elsewhere = _Piece(750.8, 752.2, 0, 420.0, False, 29)
    assert _with_next_time(preview, [elsewhere], previews, Segment(767.7, 800.7)) == preview
    no_preview_there = _Piece(750.8, 752.2, 2, 575.3, False, 29)
    assert _with_next_time(preview, [no_preview_there], previews, None) == preview
    after = Segment(1240.65, 1270.7)  # started where the credits end
    assert (
        _with_next_time(
            after, [_Piece(1238.0, 1239.9, 0, 575.3, False, 29)], [previews[0], after], Segment(1194.5, 1240.65)
        )
        == after
    )


def test_a_preview_ends_where_its_last_words_do_never_in_the_credits(speech_clip: Path, music_clip: Path) -> None:
    """Real speech (recorded prompts) over a quiet room from 10 s, and where the hashes matched it only to 3 s
    before its last words: the preview runs on to them (±0.3 s), across the pauses between the prompts; where
    the credits' music follows within a second, it stops at their start; a pause longer than SOUND_GAP_S ends
    it; and never more than SOUND_REACH_S past the match."""
    from introdetect.analysis import analyse_samples
    from introdetect.detectors.replay import SOUND_GAP_S, SOUND_REACH_S, _sounding_end
    from introdetect.media import decode_audio
    from introdetect.settings import AudioOptions

    rate = AudioOptions().sample_rate
    speech = decode_audio(speech_clip, AudioOptions(window_s=60))
    music = decode_audio(music_clip, AudioOptions(window_s=20))
    speech = speech / np.abs(speech).max() * 0.5
    loud = np.flatnonzero(np.abs(speech) > 0.01)
    speech = speech[loud[0] : loud[-1] + 1]
    room = np.random.default_rng(0).normal(0.0, 0.0005, round(40.0 * rate) + len(speech)).astype(np.float32)

    def tail(after_s: float | None) -> EpisodePrint:
        x = room.copy()
        at = round(10.0 * rate)
        x[at : at + len(speech)] += speech
        if after_s is not None:  # the credits' music after the last words
            cue = at + len(speech) + round(after_s * rate)
            x[cue : cue + len(music)] += music[: len(x) - cue] * 0.5
        return analyse_samples(x, rate, "tail")

    words_end = 10.0 + len(speech) / rate
    matched = Segment(10.0, words_end - 3.0)
    quiet = tail(None)
    assert _sounding_end(quiet, matched, 60.0) == pytest.approx(words_end, abs=0.3)
    assert _sounding_end(quiet, matched, words_end - 1.0) <= words_end - 1.0 + 0.05
    far = Segment(10.0, words_end - SOUND_REACH_S - 2.0)
    assert _sounding_end(quiet, far, 60.0) == pytest.approx(far.end_s + SOUND_REACH_S, abs=0.1)
    close = tail(0.5)  # the credits begin half a second after the last words: their start is the limit
    assert _sounding_end(close, matched, words_end + 0.5) == pytest.approx(words_end, abs=0.3)
    spaced = tail(SOUND_GAP_S + 1.0)  # music after a longer pause is not the preview's
    assert _sounding_end(spaced, matched, 60.0) == pytest.approx(words_end, abs=0.3)


def _frames_print(log_mel: np.ndarray, loudness: np.ndarray, start_s: float) -> EpisodePrint:
    """A print of log-mel frames and their loudness (no peaks), its frame 0 at ``start_s`` of the file."""
    from introdetect.matching.landmarks import Landmarks
    from introdetect.matching.profile import Profile

    frames = loudness.size
    profile = Profile(log_mel.astype(np.float32), loudness.astype(np.float32), RATE)
    return EpisodePrint("e", Landmarks(np.zeros((0, 2), np.int32), RATE, frames), profile, frames / RATE, True, start_s)


def test_a_previews_next_time_sting_is_where_the_other_previews_open_alike() -> None:
    """Pure (log-mel frames and loudness): four tails, each with its preview's "next time" sting (the same 0.8 s
    spectra) after a cut, at a different place of each, then scenes of its own; each preview was found from its
    first matched scene, 6 s after the sting. The sting's start is found in each (to a frame) where two other
    previews open alike (and after a start found too early); not where only one other does (a false preview may
    be that one), not without the cut before it (a stretch of bed or theme that recurs), never in the
    credits."""
    from introdetect.detectors.replay import _sting_starts

    rng = np.random.default_rng(7)
    n, bands = round(60 * RATE), 40
    sting = rng.normal(0.0, 6.0, (round(0.8 * RATE), bands))
    places = [20.0, 23.5, 17.25, 26.0]  # s after each tail's start (1000 s)

    def tail(at: float, cut: bool = True) -> EpisodePrint:
        log_mel = rng.normal(0.0, 6.0, (n, bands))  # bed and scenes: each episode's own
        loudness = np.full(n, -30.0)
        k = round(at * RATE)
        # the cut before "next time"; without it, sound as loud runs on into it (a theme's last bars, a bed)
        loudness[k - round(1.0 * RATE) : k] = -60.0 if cut else -15.0
        log_mel[k : k + sting.shape[0]] = sting + rng.normal(0.0, 1.0, sting.shape)
        loudness[k : k + sting.shape[0]] = -15.0
        return _frames_print(log_mel, loudness, 1000.0)

    tails = [tail(at) for at in places]
    previews = [Segment(1000.0 + at + 6.0, 1000.0 + at + 20.0) for at in places]
    layouts = [_Layout(intro=None, credits=None)] * 4
    found = _sting_starts(tails, previews, layouts)
    assert all(f is not None and abs(f - (1000.0 + at)) <= 1.5 / RATE for f, at in zip(found, places, strict=True)), (
        found
    )
    # a preview found 4 s before its sting (on weaker matches, or a pause): its sting is found after that start
    early = [Segment(1000.0 + places[0] - 4.0, 1000.0 + places[0] + 20.0), *previews[1:]]
    assert _sting_starts(tails, early, layouts)[0] == pytest.approx(1000.0 + places[0], abs=1.5 / RATE)
    # two previews only: one partner each, no sting placed
    assert _sting_starts(tails[:2], previews[:2], layouts[:2]) == [None, None]
    # one preview among the four without the cut: not placed there, the others still are
    found = _sting_starts([*tails[:3], tail(places[3], cut=False)], previews, layouts)
    assert found[3] is None and all(f is not None for f in found[:3])
    # the sting inside a preview's credits (as found): not compared there, the others still agree
    credits = [*layouts[:3], _Layout(intro=None, credits=Segment(1000.0 + places[3] - 2.0, 1000.0 + places[3] + 3.0))]
    found = _sting_starts(tails, previews, credits)
    assert found[3] is None and all(f is not None for f in found[:3])
